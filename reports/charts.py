"""The index page's equity chart as a Plotly figure (reports.figures embeds it), each run in
its strategy's colour (reports.palette)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from reports import figures, palette


def equity_chart(
    equity: pd.DataFrame,
    marks: dict[str, str] | None = None,
    title: str = "Growth of 1",
    runs: dict[str, tuple[str, dict]] | None = None,
) -> go.Figure:
    """One line per column of `equity` rebased to 1 on its first day (hover: date, run and
    value; click a legend entry to hide a run; drag to zoom on dates), with dashed vertical
    lines at `marks` ({date: label}), each labelled at the top. `runs` ({column: (strategy,
    parameters)}) styles each run (palette.run_lines: its strategy's colour, baselines dashed
    and thinner); a column it does not name gets a colour of its own. Thicker lines are drawn
    first, so none hides a thinner one; the legend keeps the columns' order."""
    rebased = equity / equity.bfill().iloc[0]
    dates = [d.strftime("%Y-%m-%d") for d in pd.DatetimeIndex(rebased.index)]
    styles = palette.run_lines(runs or {})
    lines = [
        (n, col, styles.get(col) or {"color": palette.strategy(str(col)), "width": palette.WIDTH})
        for n, col in enumerate(rebased.columns)
    ]
    fig = go.Figure()
    for n, col, line in sorted(lines, key=lambda item: -item[2]["width"]):
        fig.add_trace(
            go.Scatter(
                x=dates,
                y=rebased[col].to_numpy(dtype=float),
                mode="lines",
                name=str(col),
                legendrank=1000 + n,
                line=line,
            )
        )
    for day, label in (marks or {}).items():
        day = pd.Timestamp(day).strftime("%Y-%m-%d")
        fig.add_shape(
            type="line",
            xref="x",
            yref="paper",
            x0=day,
            x1=day,
            y0=0,
            y1=1,
            line={"color": palette.MARK, "width": 1.2, "dash": "dash"},
        )
        fig.add_annotation(
            x=day,
            y=1,
            xref="x",
            yref="paper",
            text=label,
            hovertext=f"{label}: {day}",
            showarrow=False,
            textangle=-90,
            xanchor="left",
            yanchor="top",
            font={"color": palette.MARK, "size": 11},
        )
    fig.add_hline(y=1.0, line={"color": "#888", "width": 0.8})
    fig.update_xaxes(type="date", hoverformat="%Y-%m-%d (%a)")
    fig.update_yaxes(hoverformat=".3f")
    return figures.layout(fig, title, "", "growth of 1", height=560, hovermode="x unified")
