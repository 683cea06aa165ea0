"""The index page: every run's tearsheet link, the comparison table over named windows and
an interactive equity chart (Plotly; plotly.js as reports.figures.plotly_js decides), in one
offline HTML file."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from engine.outputs import write_atomic
from reports import palette
from reports.table import SORT_SCRIPT, SORT_STYLE, table_html

if TYPE_CHECKING:
    import plotly.graph_objects as go

INDEX = "index.html"  # the index page's name in the reports folder (aishock demo)
STYLE = (
    """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1200px;color:#222}
h1{font-size:1.6rem;margin-bottom:.2rem} .sub{color:#666;margin-top:0}
table{border-collapse:collapse;margin:1rem 0;font-variant-numeric:tabular-nums}
th,td{padding:.3rem .6rem;border-bottom:1px solid #e3e3e3;text-align:right}
th{background:#f6f6f6;overflow-wrap:break-word} td:first-child,th:first-child{text-align:left}
.chart{margin:.5rem 0 1.5rem} .ci{color:#777} .wide{overflow-x:auto;max-width:100%}
"""
    + f".neg{{color:{palette.NEGATIVE}}} .pos{{color:{palette.POSITIVE}}}\n"
)

FMT = {
    "total_return": "{:+.1%}",
    "sharpe": "{:.2f}",
    "max_drawdown": "{:.1%}",
    "volatility": "{:.1%}",
}
HEAD = {"total_return": "Return", "sharpe": "Sharpe", "max_drawdown": "Max DD", "volatility": "Vol"}


def _cell(metric: str, value: float, band: dict | None = None) -> str:
    if pd.isna(value):
        return "<td>–</td>"
    cls = "neg" if value < 0 and metric != "volatility" else ("pos" if metric == "total_return" else "")
    text = FMT[metric].format(value)
    if band and not (pd.isna(band.get("low")) or pd.isna(band.get("high"))):
        low, high = (FMT[metric].format(band[k]) for k in ("low", "high"))
        text += f"<br><small class=ci>{low} … {high}</small>"
    return f'<td class="{cls}">{text}</td>'


def comparison_html(
    table: pd.DataFrame,
    links: dict[str, str],
    windows,
    intervals=None,
    run_pages: dict[str, str] | None = None,
) -> str:
    """`table` from engine.analytics.run_stats.by_window, rows = run labels; `links` label -> href
    of the tearsheet, `run_pages` label -> href of the run page (a "trades" link beside the name);
    `intervals` label -> engine.analytics.intervals.intervals of the whole run, shown under the last
    window's Return, Sharpe and Max DD (the demo's runs span exactly that window)."""
    intervals = intervals or {}
    run_pages = run_pages or {}
    metrics = list(dict.fromkeys(table.columns.get_level_values("metric")))
    top = "".join(
        f'<th colspan="{len(metrics)}">{html.escape(n)}<br><small>{html.escape(f"{a} → {b}")}</small></th>'
        for n, a, b in windows
    )
    sub = "".join(f"<th>{HEAD[m]}</th>" for _ in windows for m in metrics)
    last = windows[-1][0] if windows else None
    rows = []
    for label, row in table.iterrows():
        name = html.escape(str(label))
        link = f'<a href="{html.escape(links[label])}">{name}</a>' if label in links else name
        if label in run_pages:
            link += f' <small>(<a href="{html.escape(run_pages[label])}">trades</a>)</small>'
        band = intervals.get(label, {})
        cells = "".join(
            _cell(m, row[(w, m)], band.get(m) if w == last else None) for w, _, _ in windows for m in metrics
        )
        rows.append(f"<tr><td>{link}</td>{cells}</tr>")
    return (
        f"<table><thead><tr><th rowspan=2>Strategy</th>{top}</tr><tr>{sub}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def intervals_note(intervals: dict) -> str:
    """One sentence saying how the intervals were made (from any run's intervals dict)."""
    done = [v for v in intervals.values() if "level" in v]
    if not done:
        return ""
    first = done[0]
    blocks = sorted({v["block"] for v in done})
    return (
        f"<p>Under the last window's Return, Sharpe and Max DD: the {first['level']:.0%} interval of the "
        f"whole run, stationary block bootstrap ({first['n_boot']:,} resamples, seed {first['seed']}, "
        f"mean block length {', '.join(map(str, blocks))} days by Politis-White, per run).</p>"
    )


def attribution_figure(roles: dict[str, pd.DataFrame], windows):
    """Stacked horizontal bars, one panel per named window: each run (a row, named once at
    the left) split into the contributions of the AI roles, other names and cash & costs
    (engine.backtest.attribution, arithmetic: the bars of a run add up to the sum of its daily
    returns), each segment in its colour (reports.palette), the legend at the right. The
    margins grow to hold the run names and the legend (automargin), so nothing is cut off."""
    from plotly.subplots import make_subplots

    from reports import figures

    names = [w[0] for w in windows]
    fig = make_subplots(
        rows=1, cols=len(names), shared_yaxes=True, subplot_titles=names, horizontal_spacing=0.03
    )
    segments = list(dict.fromkeys(s for t in roles.values() for s in t.index))
    labels = list(roles)
    for seg in segments:
        for c, w in enumerate(names, start=1):
            values = [100 * roles[lab].loc[seg, w] if seg in roles[lab].index else 0.0 for lab in labels]
            fig.add_bar(
                y=labels, x=values, orientation="h", name=seg, legendgroup=seg, showlegend=c == 1,
                marker_color=palette.group(seg), row=1, col=c,
                hovertemplate=f"%{{y}}<br>{seg}: %{{x:+.2f}}%<extra>{w}</extra>",
            )  # fmt: skip
    height = max(160 + 38 * len(labels), 400)
    figures.layout(fig, "Contribution to return by AI role (%, arithmetic)", "", "", height=height)
    fig.update_layout(
        barmode="relative",
        margin={"t": 80},
        legend={"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top"},
    )
    fig.update_yaxes(autorange="reversed", automargin=True, tickfont={"size": 11})
    fig.update_xaxes(automargin=True, ticksuffix="%", zeroline=True, zerolinecolor="#888")
    return fig


def brinson_html(brinson: dict[str, pd.DataFrame], windows) -> str:
    """Brinson-Fachler against the equal-weight AI basket (engine.backtest.attribution): per run and
    window, portfolio, benchmark, active = allocation + selection (percent, arithmetic)."""
    if not brinson:
        return ""
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "Run",
            "Window",
            "Portfolio (sum of daily returns)",
            "AI basket, rebalanced daily (sum of daily returns)",
            "Active",
            "Allocation",
            "Selection",
        )
    )
    rows = []
    for label, table in brinson.items():
        for w, _, _ in windows:
            t = table[w].loc["total"]
            vals = (
                t["portfolio"],
                t["benchmark"],
                t["portfolio"] - t["benchmark"],
                t["allocation"],
                t["selection"],
            )
            cells = "".join(_cell("total_return", v) for v in vals)
            rows.append(f"<tr><td>{html.escape(label)}</td><td>{html.escape(w)}</td>{cells}</tr>")
    return (
        "<h3>The rotation decision against the equal-weight AI basket (Brinson-Fachler)</h3>"
        "<p>Allocation: holding roles in other weights than the basket (the rotation); selection: the "
        "names within roles (interaction included). Daily, arithmetic, summed over the window: so "
        "these returns are sums of daily returns against a basket rebalanced to equal weights every "
        "day, not the compounded total returns of the comparison table (for the AI basket over the full "
        "span +70.4% here against +89.6% bought and held there). Only the rotation has a long-only "
        "benchmark; the market-neutral pair is split by role above instead.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
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


def capacity_html(pages: dict[str, tuple[str, str]]) -> str:
    """Links to capacity pages ({label: (href, finding)}), or nothing."""
    if not pages:
        return ""
    items = "".join(
        f'<li><a href="{html.escape(href)}">{html.escape(label)}</a>: {html.escape(finding)}</li>'
        for label, (href, finding) in pages.items()
    )
    return (
        "<h2>Can it be traded at size?</h2><p>Each thesis at starting capital from $100k to $10B, "
        "filling at most 10 % of a bar's volume with square-root impact (k = 1).</p>"
        f"<ul>{items}</ul>"
    )


RELATIVE_COLUMNS = {
    "run": ("Run", "text"),
    "beta": ("Beta", "num"),
    "alpha": ("Alpha [%/yr]", "pct"),
    "correlation": ("Correlation", "num"),
    "tracking_error": ("Tracking error [%/yr]", "pct"),
    "information_ratio": ("Information ratio", "num"),
    "up_capture": ("Up capture [x]", "num"),
    "down_capture": ("Down capture [x]", "num"),
    "exposure": ("Mean gross exposure", "pct"),
    "turnover": ("Turnover [x equity]", "num"),
}
TRADE_COLUMNS = {
    "run": ("Run", "text"),
    "role": ("Role", "text"),
    "trades": ("Closed trades", "count"),
    "open": ("Open", "count"),
    "win_rate": ("Win rate", "pct"),
    "profit_factor": ("Profit factor", "num"),
    "expectancy": ("Expectancy [$]", "money"),
    "median_bars": ("Median bars", "count"),
    "best": ("Best", "pct"),
    "worst": ("Worst", "pct"),
}


def relative_html(stats: dict[str, pd.Series]) -> str:
    """Each run's figures against the benchmark (engine.analytics.relative; label -> its stats
    row), with the conventions stated."""
    rows = [row for row in stats.values() if "beta" in row.index]
    if not rows:
        return ""
    frame = pd.DataFrame(rows).assign(run=list(stats))
    bench = html.escape(str(rows[0]["benchmark"]))
    return (
        f"<h2>Against {bench}, whole span</h2><p>Beta and alpha: OLS of the daily excess returns on "
        f"{bench}'s (Jensen); alpha annualised as the daily intercept x 252. Tracking error and "
        "information ratio from the daily active returns, annualised by sqrt(252). Capture: the "
        f"annualised return on {bench}'s up (down) days over {bench}'s own (Morningstar). Exposure "
        "is the mean gross exposure over equity; turnover the value traded over mean equity.</p>"
        f"<div class=wide>{table_html(frame, RELATIVE_COLUMNS)}</div>"
    )


def trades_html(summaries: dict[str, pd.DataFrame]) -> str:
    """Each run's round trips summed up by trade (not by day) for the run and per AI role
    (engine.backtest.trades.summary; label -> its frame by role with an "all" row first)."""
    if not summaries:
        return ""
    frame = pd.concat(
        [t.rename_axis("role").reset_index().assign(run=label) for label, t in summaries.items()],
        ignore_index=True,
    )
    return (
        "<h2>Trades, by trade</h2><p>Round trips matched first in, first out per ticker "
        "(engine/backtest/trades.py); a win is a closed trade with a positive P&amp;L after fees. "
        "Click a column head to sort; each run's trades are on its trades page.</p>"
        f"<div class=rows>{table_html(frame, TRADE_COLUMNS, sortable=True, table_id='index-trades')}</div>"
    )


def exposure_figure(exposures: dict[str, pd.DataFrame]):
    """reports.run_charts' exposure chart of one run at a time (a dropdown chooses the run),
    from Result.exposure."""
    from reports import run_charts

    labels = list(exposures)
    fig = run_charts.exposure_figure(exposures[labels[0]], f"Exposure: {labels[0]}")
    for label in labels[1:]:
        fig.add_traces(run_charts.exposure_traces(exposures[label], visible=False))
    n = len(fig.data) // len(labels)
    buttons = [
        {
            "label": label,
            "method": "update",
            "args": [
                {"visible": [j // n == i for j in range(len(fig.data))]},
                {"title.text": f"Exposure: {label}"},
            ],
        }
        for i, label in enumerate(labels)
    ]
    return fig.update_layout(
        updatemenus=[{"buttons": buttons, "x": 1.0, "xanchor": "right", "y": 1.15, "yanchor": "top"}]
    )


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
    intervals: dict | None = None,
    roles: dict[str, pd.DataFrame] | None = None,
    brinson: dict[str, pd.DataFrame] | None = None,
    shared: Path | None = None,
    run_pages: dict[str, str] | None = None,
    stats: dict[str, pd.Series] | None = None,
    trades: dict[str, pd.DataFrame] | None = None,
    exposures: dict[str, pd.DataFrame] | None = None,
    capacity: dict[str, tuple[str, str]] | None = None,
) -> Path:
    """Write the index page to `path` (whole file or nothing) and return it. `chart` is the
    equity figure (reports.charts.equity_chart), the page's only one: div id "index-equity".
    `events` maps a shock date to its event-study page, `generalize` a label to a
    generalisation page; `intervals`, `roles` and `brinson` (by run label) are each run's
    bootstrap intervals, contributions by role and Brinson-Fachler table (engine.analytics.intervals,
    engine.backtest.attribution); the role chart's div id is "index-roles". The page loads
    plotly.js from the reports folder `shared` when inside it (reports.figures.plotly_js).
    `run_pages`, `stats`, `trades` and `exposures` (by run label) are each run's run page,
    stats row (with its benchmark-relative figures), trade summary by role and daily exposure;
    the exposure chart's div id is "index-exposure". `capacity` maps a label to a capacity
    page and its finding in a sentence."""
    from reports import figures

    body = [
        f"<h1>{html.escape(title)}</h1><p class=sub>{html.escape(subtitle)}</p>",
        "<h2>Comparison over named windows</h2>",
        "<p>Each window is a slice of one continuous backtest (not a fresh start). "
        "Sharpe is annualised over 252 trading days.</p>",
        comparison_html(table, links, windows, intervals, run_pages),
        intervals_note(intervals or {}),
        relative_html(stats or {}),
        "<h2>Equity</h2>" + figures.div(chart, "index-equity", first=figures.plotly_js(path, shared)),
        *(
            [
                "<h2>Attribution by AI role</h2>"
                + figures.div(attribution_figure(roles, windows), "index-roles", first=False)
            ]
            if roles
            else []
        ),
        *(
            ["<h2>Exposure</h2>" + figures.div(exposure_figure(exposures), "index-exposure", first=False)]
            if exposures
            else []
        ),
        trades_html(trades or {}),
        brinson_html(brinson or {}, windows),
        events_html(events or {}),
        generalize_html(generalize or {}),
        capacity_html(capacity or {}),
        "<h2>Notes</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>",
    ]
    page = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<style>{STYLE}{SORT_STYLE}</style></head><body>{''.join(body)}{SORT_SCRIPT if trades else ''}"
        "</body></html>\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, lambda tmp: tmp.write_text(page, encoding="utf-8"))
