"""A sweep as an HTML page: the surface of its metrics over the swept parameters (reports.surface:
dropdowns choose the metric, the two parameters on the axes and the value every other swept
parameter is fixed at; each cell is one combination, never an average over combinations; hover
shows the combination and its value), the top combinations, overfitting figures; plotly.js as
reports.figures.plotly_js decides."""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from engine.analytics import run_stats
from engine.outputs import write_atomic
from engine.sweeps.grid import STAT_COLUMNS
from reports import figures, surface
from reports.index_page import STYLE


def metric(name: str, values, better: int | None = None) -> surface.Metric:
    """A sweep stat as a surface metric: fractions (engine.analytics.run_stats.PERCENT) in
    percent, other figures with 2 decimals (whole numbers from 1,000 up), hover with one more
    digit; coloured in its direction (run_stats.BETTER, or `better`), a stat without one on a
    sequential scale."""
    if name in run_stats.PERCENT:
        text, hover = (lambda v: f"{v:.1%}"), f"{html.escape(name)}=%{{z:.2%}}"
    else:
        text, hover = (
            (lambda v: f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.2f}"),
            f"{html.escape(name)}=%{{z:.3f}}",
        )
    return surface.Metric(
        name=name,
        values=np.asarray(values, dtype=float),
        text=text,
        hover=hover,
        better=run_stats.BETTER.get(name, 0) if better is None else better,
    )


def metrics(table: pd.DataFrame, first: str) -> list[surface.Metric]:
    """The surface's metrics: `first` (the sweep's), then every other stat of `table`
    (engine.sweeps.grid.STAT_COLUMNS, in that order)."""
    names = [first, *(m for m in STAT_COLUMNS if m in table.columns and m != first)]
    return [metric(name, table[name]) for name in names]


def heatmap_figure(grid: pd.DataFrame, title: str, metric_name: str = "value", better: int = 1) -> go.Figure:
    """The surface (reports.surface) of a y x x frame of one metric (rows: the index, named
    by the y parameter; columns named by the x parameter; a missing cell stays a gap), under
    `title`; `better` as surface.Metric's. A frame whose index has no name is one row of the
    x parameter. The figure the notebook shows; the page's surface has more (surface_html)."""
    xname = str(grid.columns.name)
    if grid.index.name is None:
        table = pd.DataFrame({xname: list(grid.columns), metric_name: grid.iloc[0].to_numpy(dtype=float)})
        swept = [xname]
    else:
        table = grid.stack(future_stack=True).rename(metric_name).reset_index()
        swept = [xname, str(grid.index.name)]
    table = table.dropna(subset=[metric_name]).reset_index(drop=True)
    fig, _ = surface.figure(table, swept, [metric(metric_name, table[metric_name], better)], 0)
    return fig.update_layout(title_text=title)


def _spa(result) -> str:
    """The SPA line: Hansen's test of the best cell against buy-and-hold, the whole grid counted."""
    spa = getattr(result, "spa", None)
    if not spa or not spa.get("pvalues"):
        note = getattr(result, "spa_note", "") or "not computed"
        return f"Hansen's SPA test against buy-and-hold of the universe: {html.escape(note)}"
    p = spa["pvalues"]
    return (
        "Hansen's SPA test, best cell against buy-and-hold of the universe "
        f"({html.escape(str(spa['benchmark']))}), accounting for all {spa['n_models']} "
        f"combinations: p = {p['consistent']:.3f} (lower {p['lower']:.3f}, upper {p['upper']:.3f}; "
        f"{spa['reps']:,} stationary-bootstrap resamples, block {spa['block']} days, seed {spa['seed']}). "
        "A small p says the best cell's edge over buy-and-hold is unlikely to be luck of the search."
    )


def _header(name: str) -> str:
    """A column name as a table heading that may break after its underscores."""
    return html.escape(name).replace("_", "_<wbr>")


def _value(v) -> str:
    if isinstance(v, float | np.floating):
        return "–" if math.isnan(v) else f"{v:.4g}"
    return html.escape(str(v))


def top_table(rows: pd.DataFrame) -> str:
    """`rows` (combinations: parameters, then stats) as a table whose headings wrap, so it fits
    the page; numbers to 4 significant digits, '–' for a missing one."""
    head = "".join(f"<th>{_header(str(c))}</th>" for c in rows.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_value(v)}</td>" for v in row) + "</tr>"
        for row in rows.itertuples(index=False, name=None)
    )
    return f"<div class=wide><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def surface_html(result, plotlyjs: bool | str = True) -> str:
    """The sweep's surface: every stat when the page can hold them (surface.MAX_CELLS), else the
    sweep's metric alone, else a sentence; at first the sweep's metric over the first two
    swept parameters, the others at the best combination."""
    swept, table = list(result.swept), result.table
    if not swept:
        return ""
    shown = table.index.get_loc(result.best.name)
    offered = metrics(table, result.metric)
    if surface.cells(table, swept, len(offered)) > surface.MAX_CELLS:
        offered = offered[:1]
    cells = surface.cells(table, swept, len(offered))
    if cells > surface.MAX_CELLS:
        return (
            f"<h2>Heatmap</h2><p>The grid is too large for a heatmap on one page ({cells:,} cells over every "
            "choice of axes); the parquet file has every combination.</p>"
        )
    what = "metric, the " if len(offered) > 1 else ""
    return (
        "<h2>Heatmap</h2><p>Each cell is one combination (never an average over combinations): choose "
        f"the {what}parameters on the axes and the value every other swept parameter is fixed at. At "
        f"first: {html.escape(result.metric)}, the others at the best combination.</p>"
        + surface.surface_html("sweep-heatmap", table, swept, offered, shown, first_figure=plotlyjs)
    )


def write_sweep_page(path: Path, result, top: int = 15, shared: Path | None = None) -> Path:
    """Write the page for a SweepResult; whole file or nothing. It loads plotly.js from the
    reports folder `shared` when inside it (reports.figures.plotly_js)."""
    swept = result.swept
    plotlyjs = figures.plotly_js(path, shared) if swept else False
    parts = [
        f"<h1>Sweep: {html.escape(result.strategy)}</h1>",
        f"<p class=sub>{html.escape(f'{result.start} → {result.end}')}; {result.n_trials} combinations; "
        f"best by {html.escape(result.metric)}</p>",
    ]
    pbo = f"{result.pbo:.2f}" if np.isfinite(result.pbo) else f"not computed ({html.escape(result.pbo_note)})"
    parts.append(
        f"<h2>Overfitting</h2><ul><li>Trials: {result.n_trials}</li>"
        f"<li>Deflated Sharpe Ratio of the best: {result.dsr:.3f} (probability its true Sharpe "
        "beats the best of as many skill-less trials)</li>"
        f"<li>Probability of Backtest Overfitting (CSCV): {pbo}</li>"
        f"<li>{_spa(result)}</li>"
        + "".join(f"<li><b>Warning:</b> {html.escape(w)}</li>" for w in result.warnings)
        + "</ul>"
    )
    parts.append(surface_html(result, plotlyjs))
    best = result.table.sort_values(result.metric, ascending=result.better < 0).head(top)
    parts.append(f"<h2>Top {len(best)}</h2>" + top_table(best))
    page = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Sweep {html.escape(result.strategy)}"
        f"</title><style>{STYLE}{surface.STYLE}</style></head><body>{''.join(parts)}</body></html>\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    return path
