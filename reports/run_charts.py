"""A single run's charts as Plotly figures: equity with its trades' entries and exits, the
weights over time stacked by AI role, the exposure by side, and the trades' MAE against MFE.
Inputs are a one-run engine.backtest.result.Result's frames (fractions); the figures keep
fractions and their axes and hover labels show percent. Role colours come from
reports.palette, as on every page."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from reports import figures, palette

ENTRY, EXIT = "#1b7f3b", "#b22222"


def _dates(index) -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in pd.DatetimeIndex(index)]


def _hover(trades: pd.DataFrame, when: str) -> pd.Series:
    """One hover text per day: the trades entered (or exited) that day, one line each."""
    price = "entry_price" if when == "entry_date" else "exit_price"
    lines = (
        trades["side"]
        + " "
        + trades["ticker"]
        + " "
        + trades["shares"].map("{:,.2f}".format)
        + " @ "
        + trades[price].map("{:,.2f}".format)
        + (" (" + trades["return"].map("{:+.2%}".format) + ")" if when == "exit_date" else "")
    )
    return lines.groupby(trades[when]).agg("<br>".join)


def equity_figure(equity: pd.Series, trades: pd.DataFrame, title: str) -> go.Figure:
    """The run's equity (currency) with a marker on each day a trade was entered (green
    triangle up) and each day one was closed (red triangle down; open trades have no exit
    marker); hover lists the day's trades."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=_dates(equity.index), y=equity.to_numpy(float), mode="lines", name="equity", line={"width": 1.8}
        )
    )
    closed = trades[trades["status"] == "closed"]
    for when, name, symbol, colour, subset in (
        ("entry_date", "entries", "triangle-up", ENTRY, trades),
        ("exit_date", "exits", "triangle-down", EXIT, closed),
    ):
        if subset.empty:
            continue
        text = _hover(subset, when)
        days = pd.DatetimeIndex(text.index)
        fig.add_trace(
            go.Scatter(
                x=_dates(days),
                y=equity.reindex(days).to_numpy(float),
                mode="markers",
                name=name,
                marker={
                    "symbol": symbol,
                    "size": 10,
                    "color": colour,
                    "line": {"width": 0.5, "color": "white"},
                },
                text=text.to_list(),
                hovertemplate="%{x}<br>%{text}<extra>" + name + "</extra>",
            )
        )
    fig.update_xaxes(type="date")
    fig.update_yaxes(tickformat=",.0f", hoverformat=",.2f")
    return figures.layout(fig, title, "", "equity [$]", height=460)


def weights_figure(weights: pd.DataFrame, roles: dict[str, str], title: str) -> go.Figure:
    """End-of-day weights (fractions of equity) summed by AI role ("other" outside every
    role), stacked: long weights above 0, short ones below, each role in its palette colour."""
    by_role = weights.T.groupby([roles.get(t, "other") for t in weights.columns]).sum().T
    fig = go.Figure()
    dates = _dates(by_role.index)
    for side, part in (("long", by_role.clip(lower=0)), ("short", by_role.clip(upper=0))):
        for role in by_role.columns:
            values = part[role].to_numpy(float)
            if not values.any():
                continue
            colour = palette.group(role)
            fig.add_trace(
                go.Scatter(
                    x=dates,
                    y=values,
                    mode="lines",
                    name=role if side == "long" else f"{role} (short)",
                    legendgroup=role,
                    stackgroup=side,
                    line={"width": 0.5, "color": colour},
                    fillcolor=palette.translucent(colour, 0.75),
                )
            )
    fig.update_xaxes(type="date")
    fig.update_yaxes(tickformat=".0%", hoverformat=".2%")
    return figures.layout(fig, title, "", "weight [% of equity]", height=420, hovermode="x unified")


def exposure_traces(exposure: pd.DataFrame, visible: bool = True) -> list[go.Scatter]:
    """Daily long and short exposure as areas, gross and net as lines (fractions of equity)."""
    dates = _dates(exposure.index)
    styles = {
        "long": {
            "line": {"width": 1, "color": ENTRY},
            "fill": "tozeroy",
            "fillcolor": palette.translucent(ENTRY, 0.25),
        },
        "short": {
            "line": {"width": 1, "color": EXIT},
            "fill": "tozeroy",
            "fillcolor": palette.translucent(EXIT, 0.25),
        },
        "gross": {"line": {"color": "#222", "width": 1.6}},
        "net": {"line": {"color": "#555", "width": 1.4, "dash": "dash"}},
    }
    return [
        go.Scatter(
            x=dates, y=exposure[name].to_numpy(float), mode="lines", name=name, legendgroup=name,
            visible=visible, **style,
        )
        for name, style in styles.items()
    ]  # fmt: skip


def exposure_figure(exposure: pd.DataFrame, title: str) -> go.Figure:
    """Daily long and short exposure as areas, gross and net as lines (fractions of equity)."""
    fig = go.Figure(exposure_traces(exposure))
    fig.update_xaxes(type="date")
    fig.update_yaxes(tickformat=".0%", hoverformat=".2%")
    return figures.layout(fig, title, "", "exposure [% of equity]", height=380, hovermode="x unified")


def excursion_figure(trades: pd.DataFrame, title: str) -> go.Figure:
    """Each closed trade's maximum adverse excursion (x) against its maximum favourable
    excursion (y), fractions of the entry price, coloured by role; winners are filled
    circles, losers open ones; hover names the trade and its return."""
    done = trades[trades["status"] == "closed"]
    fig = go.Figure()
    for role, part in done.groupby("role", sort=False):
        win = part["pnl"] > 0
        fig.add_trace(
            go.Scatter(
                x=part["mae"].to_numpy(float),
                y=part["mfe"].to_numpy(float),
                mode="markers",
                name=str(role),
                marker={
                    "color": palette.group(role),
                    "size": 9,
                    "symbol": ["circle" if w else "circle-open" for w in win],
                    "line": {"width": 1.5, "color": palette.group(role)},
                },
                text=(
                    part["ticker"]
                    + " "
                    + part["side"]
                    + " "
                    + part["entry_date"].dt.strftime("%Y-%m-%d")
                    + " → "
                    + part["exit_date"].dt.strftime("%Y-%m-%d")
                    + ", return "
                    + part["return"].map("{:+.2%}".format)
                ).to_list(),
                hovertemplate="%{text}<br>MAE %{x:.2%}, MFE %{y:.2%}<extra></extra>",
            )
        )
    fig.update_xaxes(tickformat=".0%", zeroline=True)
    fig.update_yaxes(tickformat=".0%", zeroline=True)
    return figures.layout(
        fig,
        title,
        "maximum adverse excursion",
        "maximum favourable excursion",
        height=440,
        hovermode="closest",
    )
