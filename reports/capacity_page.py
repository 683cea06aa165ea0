"""A capacity study (engine.backtest.capacity.Capacity) as an HTML page: the Sharpe ratio
against starting capital (log axis) with the level where it halves, total return and cost
drag against capital, the names whose volume cap binds, each level's growth of capital, and
the table of every level. Numbers are formatted here, not computed; plotly.js as
reports.figures.plotly_js decides."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import plotly.graph_objects as go

from engine.outputs import write_atomic
from reports import figures, palette
from reports.index_page import STYLE
from reports.table import SORT_STYLE, table_html

COLUMNS = {
    "total_return": ("Total return", "pct"),
    "cagr": ("CAGR", "pct"),
    "sharpe": ("Sharpe", "num"),
    "max_drawdown": ("Max drawdown", "pct"),
    "cost_drag": ("Cost drag [/yr]", "pct"),
    "impact_paid": ("Impact paid [$]", "money"),
    "fees_paid": ("Fees paid [$]", "money"),
    "partial_fills": ("Partial fills", "count"),
    "max_volume_share": ("Largest volume share", "pct"),
    "longest_wait": ("Longest wait [d]", "count"),
    "liquidation_days": ("Days to liquidate", "num"),
    "binding": ("Binding name", "text"),
}
TOP_NAMES = 8  # the binding chart shows the names held back on the most bars


def money(v: float) -> str:
    """A capital as $1.2M / $35k / $4.5B."""
    for size, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            return f"${v / size:.3g}{unit}"
    return f"${v:,.0f}"


def _log_axis(fig: go.Figure) -> go.Figure:
    return fig.update_xaxes(type="log", title_text="starting capital [$, log scale]")


def sharpe_figure(c) -> go.Figure:
    """Sharpe against capital, half the smallest level's Sharpe dashed, the halving capital marked."""
    t = c.table
    fig = go.Figure(
        go.Scatter(
            x=t.index,
            y=t["sharpe"],
            mode="lines+markers",
            name="Sharpe ratio",
            line={"color": palette.strategy(c.strategy), "width": 2.5},
            customdata=[money(a) for a in t.index],
            hovertemplate="%{customdata}: Sharpe %{y:.2f}<extra></extra>",
        )
    )
    s0 = t["sharpe"].iloc[0]
    if np.isfinite(s0) and s0 > 0:
        fig.add_hline(y=s0 / 2, line={"dash": "dash", "color": "#777"}, annotation_text="half the smallest's")
    if c.half_sharpe_aum is not None:
        fig.add_vline(
            x=c.half_sharpe_aum,
            line={"dash": "dot", "color": "#b22"},
            annotation_text=f"halves at {money(c.half_sharpe_aum)}",
        )
    return _log_axis(figures.layout(fig, "Sharpe ratio against capital", "", "Sharpe ratio", legend=False))


def return_figure(c) -> go.Figure:
    """Total return and annual cost drag against capital (percent)."""
    t = c.table
    fig = go.Figure()
    for col, name, dash in (
        ("total_return", "total return", "solid"),
        ("cost_drag", "cost drag per year", "dot"),
    ):
        fig.add_trace(
            go.Scatter(
                x=t.index,
                y=t[col],
                mode="lines+markers",
                name=name,
                line={
                    "color": palette.strategy(c.strategy) if col == "total_return" else "#b22",
                    "dash": dash,
                },
                customdata=[money(a) for a in t.index],
                hovertemplate=f"%{{customdata}}: {name} %{{y:.1%}}<extra></extra>",
            )
        )
    if c.half_return_aum is not None:
        fig.add_vline(
            x=c.half_return_aum,
            line={"dash": "dot", "color": "#b22"},
            annotation_text=f"return halves at {money(c.half_return_aum)}",
        )
    fig = figures.layout(fig, "Total return and cost drag against capital", "", "fraction")
    return _log_axis(fig.update_yaxes(tickformat=".0%"))


def binding_figure(c) -> go.Figure | None:
    """Bars on which the cap held each of the most-held-back names' orders, against capital;
    None when the cap never bound."""
    total = c.binds.sum(axis=0)
    names = total[total > 0].sort_values(ascending=False).index[:TOP_NAMES]
    if not len(names):
        return None
    fig = go.Figure()
    dashes = ("solid", "dash", "dot", "dashdot")
    for i, name in enumerate(names):
        fig.add_trace(
            go.Scatter(
                x=c.binds.index,
                y=c.binds[name],
                mode="lines+markers",
                name=str(name),
                line={"dash": dashes[i % len(dashes)], "width": 2},
                hovertemplate=f"{html.escape(str(name))}: %{{y:.0f}} bars held back<extra></extra>",
            )
        )
    fig = figures.layout(fig, "Where the volume cap binds: bars an order was held back", "", "bars held back")
    return _log_axis(fig)


def growth_figure(c) -> go.Figure:
    """Each level's equity over its starting capital, the smallest and largest emphasised."""
    fig = go.Figure()
    levels = list(c.equity.columns)
    shades = np.linspace(0.25, 1.0, len(levels))
    for i, (aum, shade) in enumerate(zip(levels, shades, strict=True)):
        edge = i in (0, len(levels) - 1)
        fig.add_trace(
            go.Scatter(
                x=c.equity.index,
                y=c.equity[aum],
                mode="lines",
                name=money(aum),
                line={"color": f"rgba(31,119,180,{shade:.2f})", "width": 2.5 if edge else 1},
                hovertemplate=f"{money(aum)}: %{{y:.3f}}x on %{{x|%Y-%m-%d}}<extra></extra>",
            )
        )
    return figures.layout(
        fig, "Growth of each starting capital", "", "equity / starting capital", hovermode="x"
    )


def headline(c) -> str:
    """The findings in sentences: where the Sharpe halves, the binding name, the settings."""
    p, k = c.costs.participation, c.costs.impact
    items = [
        f"<li>{html.escape(c.note[0].upper() + c.note[1:])}.</li>",
        "<li>Binding name (cap held an order back on the most bars, all levels): "
        + (f"<b>{html.escape(c.binding)}</b>" if c.binding else "none: the cap never bound")
        + "</li>",
        f"<li>Execution: at most {p:.0%} of a bar's volume per name, the rest carried as a working "
        f"order; square-root impact k = {k:g} (k &middot; &sigma; &middot; &radic;(q / ADV), 20-day "
        f"&sigma; and ADV); fees {c.costs.fees:.2%}, slippage {c.costs.slippage:.2%}, fills at the "
        f"{html.escape(c.costs.fill)}.</li>",
    ]
    if c.uncapped:
        items.append(
            "<li><b>Filled without cap or impact</b> (close-only data, no volume): "
            + html.escape(", ".join(c.uncapped))
            + ". Their capacity is not measured here.</li>"
        )
    return "<ul>" + "".join(items) + "</ul>"


def render(c, plotlyjs: bool | str = True) -> str:
    title = f"Capacity: {c.strategy}"
    table = c.table.copy()
    table.index = [money(a) for a in table.index]
    table["binding"] = [b if isinstance(b, str) else "–" for b in table["binding"]]
    charts = [
        figures.div(sharpe_figure(c), "capacity-sharpe", plotlyjs),
        figures.div(return_figure(c), "capacity-return", False),
    ]
    binding = binding_figure(c)
    if binding is not None:
        charts.append(figures.div(binding, "capacity-binding", False))
    charts.append(figures.div(growth_figure(c), "capacity-growth", False))
    conventions = (
        "<p class=sub>Sharpe: mean daily excess return over its standard deviation (ddof 1), x &radic;252. "
        "Cost drag: fees + slippage + impact paid over mean equity, per year. Days to liquidate: the "
        "largest holding over the cap times its 20-day ADV, the most over the run (pyfolio's measure). "
        "The halving capital is interpolated on log capital between the two levels around it.</p>"
    )
    params = ", ".join(f"{k}={v}" for k, v in c.params.items())
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<style>{STYLE}{SORT_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f"<p class=sub>{html.escape(c.start)} → {html.escape(c.end)}; {html.escape(params)}</p>"
        + headline(c)
        + "".join(charts)
        + "<h2>Every capital level</h2><div class=wide>"
        + table_html(table, COLUMNS, first="Capital")
        + "</div>"
        + conventions
        + "</body></html>\n"
    )


def write(c, path: Path | str, shared: Path | None = None) -> Path:
    """Write the page of capacity study `c` at `path` (whole file or nothing); it loads
    plotly.js from the reports folder `shared` when inside it."""
    path = Path(path)
    page = render(c, figures.plotly_js(path, shared))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    return path
