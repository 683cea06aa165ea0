"""One colour for each thing a chart draws, the same on every page and in the notebook: each AI
role (the role baskets of strategies/baskets.toml, engine.data.universe) and GICS sector,
each built-in strategy, each benchmark ticker, and the attribution's "other" and "cash &
costs". A name without a fixed colour (a basket of your own, another sector or strategy) gets
one from EXTRA chosen by a checksum of the name, so it too is the same wherever it is drawn.

Colours are full (no pale tints, which hide under their neighbours); lines are told apart by
dash and width as well: a strategy's runs are solid (its second run dotted, and so on), the
benchmarks dashed and thinner, the whole universe black and thick (`run_line`, `group_line`)."""

from __future__ import annotations

import zlib

from engine.backtest.attribution import CASH, OTHER
from engine.events.study import ALL_MEMBERS

# the role baskets of strategies/baskets.toml (in_ai = true), in its order
ROLES = {
    "power": "#ff7f0e",
    "grid": "#8c564b",
    "networking": "#17becf",
    "training": "#2ca02c",
    "memory": "#9467bd",
    "inference": "#1f77b4",
    "foundry": "#bcbd22",
    "hyperscalers": "#d62728",
    "software": "#e377c2",
}
SECTORS = {  # the eleven GICS sectors
    "Information Technology": "#1f77b4",
    "Health Care": "#d62728",
    "Financials": "#2ca02c",
    "Consumer Discretionary": "#ff7f0e",
    "Communication Services": "#9467bd",
    "Industrials": "#8c564b",
    "Consumer Staples": "#e377c2",
    "Energy": "#bcbd22",
    "Utilities": "#17becf",
    "Real Estate": "#e7ba52",
    "Materials": "#637939",
}
SEGMENTS = {  # engine.backtest.attribution's other segments, and the event study's whole universe
    OTHER: "#555555",
    CASH: "#a0a0a0",
    ALL_MEMBERS: "#000000",
}
STRATEGIES = {  # the built-in strategies (strategies/)
    "oversold_rebound": "#c0392b",
    "inference_rotation": "#1f4e9a",
    "inference_pair": "#6a3d9a",
    "buy_and_hold": "#555555",
}
BENCHMARKS = {  # what a baseline holds: strategies/baskets.toml's benchmarks, and the AI basket
    "SPY": "#262626",
    "QQQ": "#7f7f7f",
    "SMH": "#a6761d",
    "ai": "#1b9e77",
}
EXTRA = (  # for names without a fixed colour
    "#393b79", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354", "#756bb1",
    "#636363", "#ad494a", "#5254a3", "#b5cf6b",
)  # fmt: skip
MARK = "#b22222"  # marks on a chart: the shock day, an event mean
NEGATIVE, POSITIVE = "#b22222", "#1b7f3b"  # a bar below / above 0
GREY = "#777777"  # a chart's reference series: the placebo replays
BASELINE = "buy_and_hold"  # the strategy whose runs are benchmarks
WIDTH, BENCHMARK_WIDTH, UNIVERSE_WIDTH = 2.0, 1.5, 3.2
VARIANT_DASHES = ("solid", "dot", "dashdot", "longdashdot")  # a strategy's first, second, ... run


def _extra(name: str) -> str:
    return EXTRA[zlib.crc32(name.encode("utf-8")) % len(EXTRA)]


def translucent(colour: str, alpha: float) -> str:
    """`colour` ('#rrggbb') as an rgba() of opacity `alpha` (a band around its line)."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def group(name: str) -> str:
    """The colour of a group of names: an AI role, a GICS sector, 'other', 'cash & costs' or
    'all members'."""
    name = str(name)
    return ROLES.get(name) or SECTORS.get(name) or SEGMENTS.get(name) or _extra(name)


def strategy(name: str) -> str:
    """The colour of a strategy."""
    return STRATEGIES.get(name) or _extra(name)


def benchmark(name: str) -> str:
    """The colour of a benchmark ticker (or of what a baseline holds)."""
    name = str(name)
    return BENCHMARKS.get(name) or BENCHMARKS.get(name.upper()) or _extra(name)


def group_line(name: str) -> dict:
    """A Plotly line for a group's series: the whole universe black and thick, others full
    colour."""
    if name == ALL_MEMBERS:
        return {"color": group(name), "width": UNIVERSE_WIDTH}
    return {"color": group(name), "width": WIDTH}


def benchmark_line(name: str) -> dict:
    """A Plotly line for a benchmark's series: its colour, dashed, thinner."""
    return {"color": benchmark(name), "width": BENCHMARK_WIDTH, "dash": "dash"}


def run_lines(runs: dict[str, tuple[str, dict]]) -> dict[str, dict]:
    """{label: Plotly line} for runs {label: (strategy, parameters)}: a baseline
    (buy_and_hold) is a benchmark line of what it holds (its `hold`); any other run has its
    strategy's colour, solid for the strategy's first run, then dotted, dash-dotted, ..."""
    seen: dict[str, int] = {}
    out = {}
    for label, (name, params) in runs.items():
        if name == BASELINE:
            out[label] = benchmark_line(str((params or {}).get("hold", "SPY")))
            continue
        n = seen[name] = seen.get(name, -1) + 1
        dash = VARIANT_DASHES[n % len(VARIANT_DASHES)]
        out[label] = {"color": strategy(name), "width": WIDTH, "dash": dash}
    return out
