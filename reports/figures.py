"""Plotly figures in the report pages, done one way for every page:

- `plotly_js(page, shared)`: how the page at `page` gets plotly.js (4.8 MB), decided when it
  is written. A page inside the reports folder `shared` (at its top or in a report set's
  folder below it) loads the folder's one copy, `<shared>/plotly-<version>.min.js`, by a
  relative `<script src>`; the copy is written (atomically) when it is missing or differs.
  A page with no folder to share it with (`shared` None, a page outside that folder, a
  stream such as /dev/stdout, a symlink) has plotly.js inline. Either way nothing is
  fetched from the network: a page works offline from file://;
- `div(fig, div_id, first)`: a figure's HTML, with what `plotly_js` decided before the
  page's first figure only, under a fixed element id (no random id, no date: the same figure
  gives the same bytes in any process);
- `layout(fig, title, xtitle, ytitle, ...)`: the pages' common look (a small template instead
  of Plotly's large default one, title at the left, the legend below the plot);
- `read(text)`: the figures of a written page back as Plotly JSON, typed arrays decoded (to
  check a page, e.g. its trace names and number of points)."""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.offline

from engine.outputs import is_stream, write_atomic
from reports import palette

CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}
DIV_ID = re.compile(r"[a-z][a-z0-9-]*")
_AXIS = {
    "gridcolor": "#ebebeb",
    "linecolor": "#bbb",
    "zerolinecolor": "#ebebeb",
    "ticks": "outside",
    "tickcolor": "#bbb",
    "automargin": True,
    "title": {"standoff": 10},
}
TEMPLATE = go.layout.Template(
    layout={
        "font": {"family": "system-ui, sans-serif", "size": 12, "color": "#222"},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "colorway": list(palette.EXTRA),  # for a series a chart gives no colour of its own
        "hoverlabel": {"align": "left", "namelength": -1},  # whole series names
        "xaxis": _AXIS,
        "yaxis": _AXIS,
    }
)
_NEW_PLOT = re.compile(r'Plotly\.newPlot\(\s*"([a-z][a-z0-9-]*)",\s*')
_SEPARATOR = re.compile(r"\s*,\s*")


def layout(
    fig: go.Figure,
    title: str,
    xtitle: str,
    ytitle: str,
    height: int = 420,
    hovermode: str = "closest",
    legend: bool = True,
) -> go.Figure:
    """`fig` with the pages' look: title at the top left, axis titles, `height` px (the width
    follows the page), the legend (click a series to hide it) below the plot."""
    fig.update_layout(
        template=TEMPLATE,
        title={"text": title, "x": 0.01, "xanchor": "left"},
        height=height,
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        showlegend=legend,
        legend={"orientation": "h", "yanchor": "top", "y": -0.18, "x": 0},
        hovermode=hovermode,
        xaxis_title=xtitle,
        yaxis_title=ytitle,
    )
    return fig


def plotly_js_name() -> str:
    """The file name of the shared copy of plotly.js: `plotly-<its version>.min.js`."""
    return f"plotly-{plotly.offline.get_plotlyjs_version()}.min.js"


def plotly_js(page: Path | str, shared: Path | str | None) -> bool | str:
    """How the page to be written at `page` gets plotly.js (see the module docstring): the
    URL of the shared copy relative to the page's folder (e.g. `../plotly-3.0.1.min.js`),
    after writing `<shared>/plotly_js_name()` if it is missing or differs; or True (inline)
    when there is no folder to share. Pass the result to the page's first `div`."""
    if shared is None or is_stream(page) or Path(page).is_symlink():
        return True
    folder, shared = Path(os.path.abspath(Path(page).parent)), Path(os.path.abspath(shared))
    if not folder.is_relative_to(shared):
        return True
    copy = shared / plotly_js_name()
    bundle = plotly.offline.get_plotlyjs().encode("utf-8")
    if not (copy.is_file() and copy.stat().st_size == len(bundle) and copy.read_bytes() == bundle):
        write_atomic(copy, lambda tmp: tmp.write_bytes(bundle))
    return Path(os.path.relpath(copy, folder)).as_posix()


def div(fig: go.Figure, div_id: str, first: bool | str) -> str:
    """The figure as `<div class="chart">` holding Plotly's div of id `div_id` (lowercase
    letters, digits and '-'; unique within the page) and its script. `first` is given on the
    page's first figure only, as `plotly_js` decided: True puts plotly.js inline before it, a
    URL (ending in .js) a `<script src>` loading it; False (every later figure) neither."""
    if not DIV_ID.fullmatch(div_id):
        raise ValueError(f"bad figure id {div_id!r}: lowercase letters, digits and '-', a letter first")
    if isinstance(first, str) and not first.endswith(".js"):
        raise ValueError(f"bad plotly.js URL {first!r}: it must end in .js")
    plot = fig.to_html(full_html=False, include_plotlyjs=first, div_id=div_id, config=CONFIG)
    return f'<div class="chart">{plot}</div>'


def _decoded(value):
    """Plotly's typed arrays ({dtype, bdata[, shape]}) as (nested) lists, recursively."""
    if isinstance(value, dict):
        if set(value) <= {"dtype", "bdata", "shape"} and {"dtype", "bdata"} <= set(value):
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
            if "shape" in value:
                array = array.reshape([int(n) for n in str(value["shape"]).split(",")])
            return array.tolist()
        return {k: _decoded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    return value


def read(text: str) -> dict[str, dict]:
    """{div id: {"data": [trace, ...], "layout": {...}}} of every figure `div` wrote into the
    page `text`, in page order, typed arrays as lists (NaN stays NaN)."""
    decoder = json.JSONDecoder()
    out = {}
    for match in _NEW_PLOT.finditer(text):
        data, end = decoder.raw_decode(text, match.end())
        end = _SEPARATOR.match(text, end).end()
        fig_layout, _ = decoder.raw_decode(text, end)
        out[match.group(1)] = {"data": _decoded(data), "layout": _decoded(fig_layout)}
    return out
