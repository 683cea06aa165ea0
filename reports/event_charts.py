"""The event study's charts as Plotly figures: event-time lines by group, the ranked
event-day returns, and the share of names recovered. Inputs are fractions, and the figures
keep them (axes and hover labels show %). Colours come from reports.palette: a role or sector
has its colour on every page."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from reports import figures, palette

MAX_LABELS = 60  # name every bar up to this many names; beyond, only the extremes


def _lines(fig: go.Figure, frame: pd.DataFrame, shape: str = "linear") -> None:
    """One line per column of `frame` (x: its index) in its group's colour
    (palette.group_line: the whole universe black and thick). The thickest lines are drawn
    first, so a thinner one is never hidden under them; the legend keeps `frame`'s order."""
    x = frame.index.to_numpy()
    lines = [(n, col, palette.group_line(str(col))) for n, col in enumerate(frame.columns)]
    for n, col, line in sorted(lines, key=lambda item: -item[2]["width"]):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=frame[col].to_numpy(dtype=float),
                mode="lines",
                name=str(col),
                legendrank=1000 + n,
                line={**line, "shape": shape},
            )
        )


def _percent(fig: go.Figure) -> None:
    fig.update_yaxes(tickformat=".0%", hoverformat="+.1%")


def event_time_chart(
    groups: pd.DataFrame, title: str, ylabel: str, extra: pd.DataFrame | None = None
) -> go.Figure:
    """One line per column of `groups` (rows: event day k), `extra` columns (benchmarks)
    dashed and thinner in their own colours, drawn last (on top); a vertical line at the event
    day. Hover: every series at day k."""
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
                    legendrank=2000 + n,
                    line=palette.benchmark_line(str(col)),
                )
            )
    fig.add_vline(x=0, line={"color": palette.MARK, "width": 1})
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
            marker={
                "color": [palette.NEGATIVE if r < 0 else palette.POSITIVE for r in values],
                "line": {"width": 0},
            },
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
