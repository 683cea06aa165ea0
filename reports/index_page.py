"""The index page: every run's tearsheet link, the comparison table over named windows and
an interactive equity chart (Plotly, plotly.js inline), in one self-contained HTML file."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    import plotly.graph_objects as go

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1200px;color:#222}
h1{font-size:1.6rem;margin-bottom:.2rem} .sub{color:#666;margin-top:0}
table{border-collapse:collapse;margin:1rem 0;font-variant-numeric:tabular-nums}
th,td{padding:.3rem .6rem;border-bottom:1px solid #e3e3e3;text-align:right}
th{background:#f6f6f6} td:first-child,th:first-child{text-align:left}
.neg{color:#b22222} .pos{color:#1b7f3b} .chart{margin:.5rem 0 1.5rem}
"""

FMT = {
    "total_return": "{:+.1%}",
    "sharpe": "{:.2f}",
    "max_drawdown": "{:.1%}",
    "volatility": "{:.1%}",
}
HEAD = {"total_return": "Return", "sharpe": "Sharpe", "max_drawdown": "Max DD", "volatility": "Vol"}


def _cell(metric: str, value: float) -> str:
    if pd.isna(value):
        return "<td>–</td>"
    cls = "neg" if value < 0 and metric != "volatility" else ("pos" if metric == "total_return" else "")
    return f'<td class="{cls}">{FMT[metric].format(value)}</td>'


def comparison_html(table: pd.DataFrame, links: dict[str, str], windows) -> str:
    """`table` from engine.stats.by_window, rows = run labels; `links` label -> href."""
    metrics = list(dict.fromkeys(table.columns.get_level_values("metric")))
    top = "".join(
        f'<th colspan="{len(metrics)}">{html.escape(n)}<br><small>{a} → {b}</small></th>'
        for n, a, b in windows
    )
    sub = "".join(f"<th>{HEAD[m]}</th>" for _ in windows for m in metrics)
    rows = []
    for label, row in table.iterrows():
        name = html.escape(str(label))
        link = f'<a href="{html.escape(links[label])}">{name}</a>' if label in links else name
        cells = "".join(_cell(m, row[(w, m)]) for w, _, _ in windows for m in metrics)
        rows.append(f"<tr><td>{link}</td>{cells}</tr>")
    return (
        f"<table><thead><tr><th rowspan=2>Strategy</th>{top}</tr><tr>{sub}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def events_html(events: dict[str, str]) -> str:
    """Links to the event-study pages ({shock date: href}), or nothing."""
    if not events:
        return ""
    items = "".join(
        f'<li><a href="{html.escape(href)}">Event study of the AI universe around '
        f"{html.escape(day)}</a>: who fell, how far, who recovered</li>"
        for day, href in events.items()
    )
    return f"<h2>The shock itself</h2><ul>{items}</ul>"


def generalize_html(pages: dict[str, str]) -> str:
    """Links to generalisation pages ({label: href}), or nothing."""
    if not pages:
        return ""
    items = "".join(
        f'<li><a href="{html.escape(href)}">{html.escape(label)}</a>: every event, against placebo '
        "days and in calendar time</li>"
        for label, href in pages.items()
    )
    return f"<h2>Does the thesis generalise?</h2><ul>{items}</ul>"


def write_index(
    path: Path,
    title: str,
    subtitle: str,
    table: pd.DataFrame,
    links: dict[str, str],
    windows,
    chart: go.Figure,
    notes: list[str],
    events: dict[str, str] | None = None,
    generalize: dict[str, str] | None = None,
) -> Path:
    """Write the index page to `path` (whole file or nothing) and return it. `chart` is the
    equity figure (reports.charts.equity_chart), the page's only one: div id "index-equity".
    `events` maps a shock date to its event-study page, `generalize` a label to a
    generalisation page."""
    from reports import figures

    body = [
        f"<h1>{html.escape(title)}</h1><p class=sub>{html.escape(subtitle)}</p>",
        "<h2>Comparison over named windows</h2>",
        "<p>Each window is a slice of one continuous backtest (not a fresh start). "
        "Sharpe is annualised over 252 trading days.</p>",
        comparison_html(table, links, windows),
        "<h2>Equity</h2>" + figures.div(chart, "index-equity", first=True),
        events_html(events or {}),
        generalize_html(generalize or {}),
        "<h2>Notes</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>",
    ]
    page = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n"
    )
    tmp = path.with_name(f".{path.name}.tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path
