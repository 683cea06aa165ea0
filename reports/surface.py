"""A parameter surface: one metric of every parameter set of a grid as a heatmap over two swept
parameters, every other swept parameter fixed at a value, all chosen with dropdowns. Used by
the sweep page and the generalisation page.

Each cell is the one grid row with those values (the first, should a value repeat): nothing is
ever averaged over parameter sets. Every (metric, x, y, fixed values) heatmap is precomputed as
a trace of one Plotly figure, and the dropdowns (SURFACE_SCRIPT) only switch which one is
visible, so the page needs no server and no computation in the browser."""

from __future__ import annotations

import html
import itertools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from reports import figures

MAX_CELLS = 250_000  # cells over all of a surface's precomputed heatmaps (page size)
MAX_CELL_TEXT = 400  # a heatmap writes its values in its cells up to this many cells
STYLE = (  # the dropdowns' look, for the page's <style>
    " .controls{display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;margin:.5rem 0}"
    " .controls select{margin-left:.3rem}"
)


@dataclass(frozen=True)
class Metric:
    """What a surface can show: `values` (one per grid row, in the unit shown), `name` (the
    dropdown's option, the one-row heatmap's row), `title` (heatmap titles: "TITLE by y and
    x"), `colorbar` (the colour bar's title), `text` (a cell's written value), `hover` (the
    value's line of the hover label, a Plotly template of %{z}) and `better`: 1 when higher
    is better, -1 when lower is (red-yellow-green centred on 0, green on the better side), 0
    when neither (a sequential scale over the values' range)."""

    name: str
    values: np.ndarray
    text: Callable[[float], str]
    hover: str
    better: int = 1
    title: str = ""
    colorbar: str = ""


def _missing(value) -> bool:
    return value is None or (isinstance(value, float | np.floating) and math.isnan(value))


def value(v):
    """A swept value as a dictionary key: None for a missing one (None or NaN)."""
    return None if _missing(v) else v


def axis_values(column: pd.Series) -> list:
    """A swept parameter's distinct values: sorted when they are all numbers (None first),
    else in grid order."""
    values = list(dict.fromkeys(value(v) for v in column.tolist()))
    numbers = [v for v in values if v is not None]
    if all(isinstance(v, int | float | np.integer | np.floating) for v in numbers):
        return sorted(values, key=lambda v: (v is not None, v if v is not None else 0))
    return values


def labels(values) -> list[str]:
    """Axis labels: floats as %g unless that would merge two values (then in full)."""
    short = [f"{v:g}" if isinstance(v, float) else str(v) for v in values]
    if len(set(short)) == len(short):
        return short
    return [repr(float(v)) if isinstance(v, float) else str(v) for v in values]


def cells(grid: pd.DataFrame, swept: Sequence[str], n_metrics: int = 1) -> int:
    """How many cells the surface's heatmaps hold together (see `traces`)."""
    sizes = [len(axis_values(grid[name])) for name in swept]
    if len(sizes) < 2:
        return (sizes[0] if sizes else 0) * n_metrics
    return math.prod(sizes) * len(sizes) * (len(sizes) - 1) * n_metrics


def _colours(metric: Metric) -> dict:
    z = np.asarray(metric.values, dtype=float)
    finite = z[np.isfinite(z)]
    if metric.better == 0:
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        return {"colorscale": "Viridis", "zmin": low, "zmax": high if high > low else low + 1.0}
    limit = float(np.abs(finite).max()) if finite.size else 1.0
    limit = limit or 1.0
    return {"colorscale": "RdYlGn" if metric.better > 0 else "RdYlGn_r", "zmin": -limit, "zmax": limit}


def traces(
    grid: pd.DataFrame,
    swept: Sequence[str],
    metrics: Sequence[Metric],
    shown: int,
    notes: Sequence[str] | None = None,
    marked: np.ndarray | None = None,
    mark: str = "★",
) -> tuple[list[go.Heatmap], dict[str, int], int]:
    """The surface's heatmaps: for every metric, every ordered pair of swept parameters (x, y)
    and every combination of values of the others, one heatmap of the metric over x and y, the
    others fixed at that combination. Metric m's heatmaps are traces m * len(index) + index[key],
    key "xi|yi|v..." with xi, yi the swept parameters' positions and v the value positions of
    the others in swept order. Returns (traces, index, the trace shown first): the first
    metric, x = the first swept parameter, y = the second, the others at grid row `shown`'s
    values. One swept parameter: one heatmap of one row per metric, key "0|0".

    A cell's hover label gives x, y and the fixed values, the metric and, when `notes` (one
    per grid row, HTML) is given, the row's note; `marked` (booleans, one per grid row) puts
    `mark` in the cells of those rows. x and y are the values' labels (category axes)."""
    swept = list(swept)
    values = {name: axis_values(grid[name]) for name in swept}
    where = {name: {v: i for i, v in enumerate(vals)} for name, vals in values.items()}
    # each row's value positions, one column per swept parameter
    pos = np.array(
        [[where[name][value(v)] for v in grid[name].tolist()] for name in swept], dtype=np.int64
    ).T.reshape(len(grid), len(swept))
    marked = np.zeros(len(grid), bool) if marked is None else np.asarray(marked, dtype=bool)
    start = tuple(int(v) for v in pos[shown])
    pairs = list(itertools.permutations(range(len(swept)), 2)) if len(swept) > 1 else [(0, 0)]
    layout = []  # (key, axes, fixed) of each heatmap of a metric, in trace order
    for xi, yi in pairs:
        others = [p for p in range(len(swept)) if p not in (xi, yi)]
        for fixed in itertools.product(*(range(len(values[swept[p]])) for p in others)):
            layout.append(
                ("|".join(map(str, (xi, yi, *fixed))), (xi, yi), dict(zip(others, fixed, strict=True)))
            )
    index = {key: n for n, (key, _, _) in enumerate(layout)}
    first = next(
        n
        for n, (_, axes, fixed) in enumerate(layout)
        if axes == pairs[0] and all(start[p] == v for p, v in fixed.items())
    )
    out = []
    for metric in metrics:
        colours = _colours(metric)
        for _, axes, fixed in layout:
            out.append(_heatmap(swept, values, pos, axes, fixed, metric, colours, notes, marked, mark))
    for n, t in enumerate(out):
        t.visible = n == first
    return out, index, first


def _heatmap(swept, values, pos, axes, fixed, metric, colours, notes, marked, mark) -> go.Heatmap:
    """One heatmap: the rows with the `fixed` value positions, each at its (y, x) cell (the
    first row of a cell, should a value repeat)."""
    xi, yi = axes
    xname = swept[xi]
    xs = values[xname]
    one_row = xi == yi
    yname = None if one_row else swept[yi]
    ys = [None] if one_row else values[yname]
    keep = np.ones(len(pos), bool)
    for p, v in fixed.items():
        keep &= pos[:, p] == v
    rows = np.flatnonzero(keep)
    a = np.zeros(len(rows), np.int64) if one_row else pos[rows, yi]
    b = pos[rows, xi]
    _, once = np.unique(a * len(xs) + b, return_index=True)
    rows, a, b = rows[once], a[once], b[once]
    all_z = np.asarray(metric.values, dtype=float)
    z = np.full((len(ys), len(xs)), np.nan)
    z[a, b] = all_z[rows]
    write_values = len(xs) * len(ys) <= MAX_CELL_TEXT
    text = None
    if write_values or marked[rows].any():
        text = [["" for _ in xs] for _ in ys]
        for r, i, j in zip(rows, a, b, strict=True):
            shown = (metric.text(all_z[r]) if np.isfinite(all_z[r]) else "–") if write_values else ""
            text[i][j] = f"{shown} {mark}".strip() if marked[r] else shown
    custom = None
    if notes is not None:
        custom = [["" for _ in xs] for _ in ys]
        for r, i, j in zip(rows, a, b, strict=True):
            custom[i][j] = f"<br>{notes[r]}" if notes[r] else ""
    xlabels = [html.escape(s) for s in labels(xs)]
    ylabels = [html.escape(metric.name)] if one_row else [html.escape(s) for s in labels(ys)]
    held = {swept[p]: labels(values[swept[p]])[v] for p, v in fixed.items()}
    title = metric.title or metric.name
    title = (f"{title} by {xname}" if one_row else f"{title} by {yname} and {xname}") + (
        "; " + ", ".join(f"{name}={v}" for name, v in held.items()) if held else ""
    )
    where = [f"{html.escape(xname)}=%{{x}}"] + ([] if one_row else [f"{html.escape(yname)}=%{{y}}"])
    where += [f"{html.escape(name)}={html.escape(v)}" for name, v in held.items()]
    return go.Heatmap(
        z=z,
        x=xlabels,
        y=ylabels,
        text=text,
        texttemplate="%{text}" if text is not None else None,
        customdata=custom,
        **colours,
        colorbar={"title": {"text": html.escape(metric.colorbar or metric.name)}},
        hovertemplate="<br>".join(where)
        + "<br>"
        + metric.hover
        + ("%{customdata}" if custom is not None else "")
        + "<extra></extra>",
        hoverongaps=False,
        xgap=1,
        ygap=1,
        name=html.escape(title),
        meta={
            "x": html.escape(xname),
            "y": None if yname is None else html.escape(yname),
            "fixed": held,
            "xlabels": xlabels,
            "ylabels": ylabels,
            "title": html.escape(title),
        },
    )


def figure(
    grid: pd.DataFrame,
    swept: Sequence[str],
    metrics: Sequence[Metric],
    shown: int,
    notes: Sequence[str] | None = None,
    marked: np.ndarray | None = None,
) -> tuple[go.Figure, dict[str, int]]:
    """The surface as one figure (its first heatmap visible, the axes labelled for it) and the
    index of its traces (see `traces`)."""
    heatmaps, index, first = traces(grid, swept, metrics, shown, notes, marked)
    fig = go.Figure(heatmaps)
    meta = heatmaps[first].meta
    for axis, key in ((fig.update_xaxes, "xlabels"), (fig.update_yaxes, "ylabels")):
        axis(
            type="category",
            categoryorder="array",
            categoryarray=meta[key],
            range=[-0.5, len(meta[key]) - 0.5],
            showgrid=False,
            zeroline=False,
        )
    rows = max(len(axis_values(grid[name])) for name in swept) if len(swept) > 1 else 1
    height = int(min(max(160 + 50 * rows, 320), 800))
    figures.layout(fig, meta["title"], meta["x"], meta["y"] or "", height=height, legend=False)
    return fig, index


SURFACE_SCRIPT = """<script>(function(){
var div=document.getElementById("%s"),box=document.getElementById("%s-controls");
var index=%s,n=%d;
var per=Object.keys(index).length;
function sel(q){return box.querySelector(q);}
function pick(ev){
 var key=[0,0];
 if(n>1){
 var sx=sel('select[data-axis="x"]'),sy=sel('select[data-axis="y"]');
 var x=+sx.value,y=+sy.value;
 if(x===y){y=(ev&&ev.target===sy)?y:(x+1)%%n;if(y===x){x=(y+1)%%n;sx.value=String(x);}sy.value=String(y);}
 key=[x,y];
 for(var p=0;p<n;p++){var free=p!==x&&p!==y;sel('[data-fixed="'+p+'"]').style.display=free?"":"none";
  if(free){key.push(sel('select[data-param="'+p+'"]').value);}}
 }
 var t=index[key.join("|")],m=sel('select[data-metric]');if(t===undefined){return;}
 t+=(m?+m.value:0)*per;
 var d=div.data[t].meta,vis=div.data.map(function(_,i){return i===t;});
 Plotly.update(div,{visible:vis},{"title.text":d.title,"xaxis.title.text":d.x,"yaxis.title.text":d.y,
  "xaxis.categoryarray":d.xlabels,"yaxis.categoryarray":d.ylabels,
  "xaxis.range":[-0.5,d.xlabels.length-0.5],"yaxis.range":[-0.5,d.ylabels.length-0.5]});
}
box.addEventListener("change",pick);
})();</script>"""


def controls(
    div_id: str, grid: pd.DataFrame, swept: Sequence[str], metrics: Sequence[Metric], shown: int
) -> str:
    """The dropdowns of surface `div_id`: the metric (with more than one), the x and y axes and
    the value of every other swept parameter (with two or more), each at the first heatmap's
    choice (the first metric, the first two swept parameters, the others at row `shown`); ''
    when there is nothing to choose."""
    swept = list(swept)
    parts = []
    if len(metrics) > 1:
        options = "".join(
            f'<option value="{m}"{" selected" if m == 0 else ""}>{html.escape(metric.name)}</option>'
            for m, metric in enumerate(metrics)
        )
        parts.append(f"<label>metric<select data-metric>{options}</select></label>")
    if len(swept) > 1:
        xi, yi = 0, 1

        def options(chosen: int) -> str:
            return "".join(
                f'<option value="{i}"{" selected" if i == chosen else ""}>{html.escape(name)}</option>'
                for i, name in enumerate(swept)
            )

        parts.append(f'<label>x axis<select data-axis="x">{options(xi)}</select></label>')
        parts.append(f'<label>y axis<select data-axis="y">{options(yi)}</select></label>')
        for p, name in enumerate(swept):
            vals = axis_values(grid[name])
            at = vals.index(value(grid[name].iloc[shown]))
            opts = "".join(
                f'<option value="{i}"{" selected" if i == at else ""}>{html.escape(label)}</option>'
                for i, label in enumerate(labels(vals))
            )
            hidden = ' style="display:none"' if p in (xi, yi) else ""
            parts.append(
                f'<span data-fixed="{p}"{hidden}><label>{html.escape(name)} fixed at '
                f'<select data-param="{p}">{opts}</select></label></span>'
            )
    if not parts:
        return ""
    return f'<div class=controls id="{div_id}-controls">{"".join(parts)}</div>'


def surface_html(
    div_id: str,
    grid: pd.DataFrame,
    swept: Sequence[str],
    metrics: Sequence[Metric],
    shown: int,
    first_figure: bool,
    notes: Sequence[str] | None = None,
    marked: np.ndarray | None = None,
) -> str:
    """The surface's dropdowns, its figure (Plotly div `div_id`, plotly.js inline when
    `first_figure`) and the script that switches its heatmaps; '' without a swept parameter.
    The caller checks its size first (`cells`, MAX_CELLS)."""
    swept = list(swept)
    if not swept:
        return ""
    fig, index = figure(grid, swept, metrics, shown, notes, marked)
    box = controls(div_id, grid, swept, metrics, shown)
    script = SURFACE_SCRIPT % (div_id, div_id, json.dumps(index), len(swept)) if box else ""
    return box + figures.div(fig, div_id, first_figure) + script
