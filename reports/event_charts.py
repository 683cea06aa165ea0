"""The event study's charts as Plotly figures: event-time lines by group, the ranked
event-day returns, and the share of names recovered. Inputs are fractions, and the figures
keep them (axes and hover labels show %)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from engine.events.study import ALL_MEMBERS
from reports import figures

RED, GREEN, GREY = "#b22222", "#1b7f3b", "#666"
MAX_LABELS = 60  # name every bar up to this many names; beyond, only the extremes
TAB20 = (
    "#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896", "#9467bd",
    "#c5b0d5", "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f", "#c7c7c7", "#bcbd22", "#dbdb8d",
    "#17becf", "#9edae5",
)  # fmt: skip
BENCHMARK_GREYS = ("#262626", "#595959", "#8c8c8c", "#bfbfbf")


def _lines(fig: go.Figure, frame: pd.DataFrame, shape: str = "linear") -> None:
    """One line per column of `frame` (x: its index); the whole universe (ALL_MEMBERS) in
    thick black, the others in tab20 colours."""
    x = frame.index.to_numpy()
    n = 0
    for col in frame.columns:
        mine = col == ALL_MEMBERS
        colour = "black" if mine else TAB20[n % len(TAB20)]
        n += not mine
        fig.add_trace(
            go.Scatter(
                x=x,
                y=frame[col].to_numpy(dtype=float),
                mode="lines",
                name=str(col),
                line={"color": colour, "width": 3 if mine else 1.6, "shape": shape},
            )
        )


def _percent(fig: go.Figure) -> None:
    fig.update_yaxes(tickformat=".0%", hoverformat="+.1%")


def event_time_chart(
    groups: pd.DataFrame, title: str, ylabel: str, extra: pd.DataFrame | None = None
) -> go.Figure:
    """One line per column of `groups` (rows: event day k), `extra` columns (benchmarks)
    dashed in grey shades; a vertical line at the event day. Hover: every series at day k."""
    fig = go.Figure()
    _lines(fig, groups)
    if extra is not None:
        for n, col in enumerate(extra.columns):
            fig.add_trace(
                go.Scatter(
                    x=extra.index.to_numpy(),
                    y=extra[col].to_numpy(dtype=float),
                    mode="lines",
                    name=str(col),
                    line={"color": BENCHMARK_GREYS[n % len(BENCHMARK_GREYS)], "width": 1.4, "dash": "dash"},
                )
            )
    fig.add_vline(x=0, line={"color": RED, "width": 1})
    fig.add_hline(y=0, line={"color": "#888", "width": 0.8})
    _percent(fig)
    return figures.layout(
        fig, title, "trading days from the event day", ylabel, height=520, hovermode="x unified"
    )


def ranked_bar_chart(returns: pd.Series, title: str, k: int = 5) -> go.Figure:
    """One bar per name, event-day return lowest first (red down, green up; hover: name and
    return). Every bar is named on the axis up to MAX_LABELS names; beyond, the `k` lowest
    and highest are listed in a box."""
    names = [str(t) for t in returns.index]
    values = returns.to_numpy(dtype=float)
    fig = go.Figure(
        go.Bar(
            x=names,
            y=values,
            marker={"color": [RED if r < 0 else GREEN for r in values], "line": {"width": 0}},
            name="event-day return",
            hovertemplate="%{x}: %{y:+.1%}<extra></extra>",
        )
    )
    fig.add_hline(y=0, line={"color": "#888", "width": 0.8})
    fig.update_xaxes(type="category", tickangle=-90, tickfont={"size": 10})
    xtitle = ""
    if len(returns) > MAX_LABELS:
        fig.update_xaxes(showticklabels=False, ticks="")
        xtitle = f"{len(returns)} names, lowest to highest"
        ends = {"lowest": returns.head(k), "highest": returns.tail(k).iloc[::-1]}
        for n, (name, part) in enumerate(ends.items()):
            fig.add_annotation(
                text=f"{name}: " + ", ".join(f"{t} {r:+.1%}" for t, r in part.items()),
                xref="paper",
                yref="paper",
                x=0.01 + 0.98 * n,
                y=0.04 if n == 0 else 0.96,
                xanchor="left" if n == 0 else "right",
                yanchor="bottom" if n == 0 else "top",
                showarrow=False,
                bgcolor="rgba(255,255,255,0.9)",
                bordercolor="#ccc",
                borderpad=4,
                font={"size": 11},
            )
    fig.update_yaxes(tickformat=".0%")
    return figures.layout(fig, title, xtitle, "event-day return", height=480, hovermode="x", legend=False)


def recovery_chart(share: pd.DataFrame, title: str) -> go.Figure:
    """Step lines of the share of each group's names back at or above the pre-event close by
    each trading day after the event."""
    fig = go.Figure()
    _lines(fig, share, shape="hv")
    fig.update_yaxes(range=[-0.02, 1.02], tickformat=".0%", hoverformat=".0%")
    return figures.layout(
        fig, title, "trading days after the event day", "names recovered", height=480, hovermode="x unified"
    )
