"""A sweep as an HTML page: an interactive heatmap of the metric (Plotly, plotly.js as
reports.figures.plotly_js decides;
hover shows both parameter values and the metric), the top combinations, overfitting figures."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from engine.outputs import write_atomic
from reports import figures
from reports.index_page import STYLE

MAX_CELL_TEXT = 400  # cells written in the heatmap up to this many; beyond, hover only


def _labels(values) -> list[str]:
    """Axis labels: floats as %g unless that would merge two values (then in full)."""
    short = [f"{v:g}" if isinstance(v, float) else str(v) for v in values]
    if len(set(short)) == len(short):
        return short
    return [repr(float(v)) if isinstance(v, float) else str(v) for v in values]


def heatmap_figure(grid: pd.DataFrame, title: str, metric: str = "value", better: int = 1) -> go.Figure:
    """Heatmap of `grid` (rows y, columns x; evenly spaced whatever the values, the first row
    at the bottom), red-yellow-green centred on 0 with green on the better side (`better`:
    1 when higher is better, -1 when lower is, engine.analytics.run_stats.BETTER), each cell
    written with its value (up to MAX_CELL_TEXT cells); hover: both parameters' values and
    `metric`. A grid whose index has no name is one row: hover shows only the x parameter."""
    values = grid.to_numpy(dtype=float)
    finite = np.isfinite(values)
    limit = float(np.abs(values[finite]).max()) if finite.any() else 1.0
    limit = limit or 1.0
    xname, yname = str(grid.columns.name), grid.index.name
    where = f"{xname}=%{{x}}" + (f"<br>{yname}=%{{y}}" if yname is not None else "")
    fig = go.Figure(
        go.Heatmap(
            z=values,
            x=_labels(grid.columns),
            y=_labels(grid.index),
            colorscale="RdYlGn" if better > 0 else "RdYlGn_r",
            zmin=-limit,
            zmax=limit,
            colorbar={"title": {"text": metric}},
            texttemplate="%{z:.2f}" if values.size <= MAX_CELL_TEXT else None,
            hovertemplate=f"{where}<br>{metric}=%{{z:.3f}}<extra></extra>",
            hoverongaps=False,
            xgap=1,
            ygap=1,
        )
    )
    fig.update_xaxes(type="category", showgrid=False)
    fig.update_yaxes(type="category", showgrid=False)
    height = int(min(max(120 + 55 * grid.shape[0], 260), 800))
    return figures.layout(fig, title, xname, "" if yname is None else str(yname), height=height, legend=False)


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
    if len(swept) >= 2:
        x, y = swept[0], swept[1]
        fig = heatmap_figure(
            result.heatmap(x, y), f"{result.metric} by {y} and {x}", result.metric, result.better
        )
        parts.append("<h2>Heatmap</h2>" + figures.div(fig, "sweep-heatmap", first=plotlyjs))
    elif len(swept) == 1:
        line = result.table.set_index(swept[0])[[result.metric]].T
        line.index.name = None
        fig = heatmap_figure(line, result.metric, result.metric, result.better)
        parts.append(
            f"<h2>{html.escape(result.metric)} by {html.escape(swept[0])}</h2>"
            + figures.div(fig, "sweep-heatmap", first=plotlyjs)
        )
    best = result.table.sort_values(result.metric, ascending=result.better < 0).head(top)
    parts.append(
        f"<h2>Top {len(best)}</h2><div class=wide>"
        + best.to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0)
        + "</div>"
    )
    page = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Sweep {html.escape(result.strategy)}"
        f"</title><style>{STYLE}</style></head><body>{''.join(parts)}</body></html>\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    return path
