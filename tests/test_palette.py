"""One palette (reports/palette.py) for every chart: each AI role of strategies/baskets.toml and
each built-in strategy has a fixed colour of its own, and the charts of the index, the event
study and the generalisation page draw with it (the same role, the same colour, whatever
else is on the chart), full colours, benchmarks dashed and thinner, the thickest line drawn
first so it hides no thinner one."""

from __future__ import annotations

import colorsys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from engine.strategy import registry
from reports import event_charts, palette
from reports.charts import equity_chart
from reports.index_page import attribution_figure

ROOT = Path(__file__).resolve().parents[1]


def _roles() -> list[str]:
    with (ROOT / "strategies" / "baskets.toml").open("rb") as f:
        return [name for name, basket in tomllib.load(f).items() if basket.get("in_ai")]


def test_every_role_and_built_in_strategy_has_a_fixed_colour_of_its_own():
    roles = _roles()
    assert sorted(roles) == sorted(palette.ROLES)
    assert len({palette.group(r) for r in roles}) == len(roles)
    strategies = sorted(registry.load_builtin())
    assert strategies == sorted(palette.STRATEGIES)
    assert len({palette.strategy(s) for s in strategies}) == len(strategies)
    for colour in [*palette.ROLES.values(), *palette.STRATEGIES.values(), *palette.SECTORS.values()]:
        r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        lightness = colorsys.rgb_to_hls(r, g, b)[1]
        assert lightness < 0.75, colour  # no pale tint (tab20's light halves were 0.75 to 0.9)


def test_a_name_without_a_fixed_colour_gets_the_same_one_everywhere():
    assert palette.group("nuclear") == palette.group("nuclear") in palette.EXTRA
    assert palette.strategy("momentum") in palette.EXTRA
    assert palette.benchmark("spy") == palette.benchmark("SPY") == palette.BENCHMARKS["SPY"]


def _frame(columns) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        rng.normal(0, 0.01, (21, len(columns))).cumsum(axis=0), index=range(-5, 16), columns=columns
    )


def test_event_charts_colour_each_group_by_name_and_dash_the_benchmarks():
    """The same role has the same colour whatever the other groups: power is power on a chart
    of every role and on one of power and foundry alone. The universe is drawn first (it is the
    thickest), the benchmarks last, the legend in the frame's order."""
    roles = _roles()
    bench = _frame(["SPY", "QQQ", "SMH"])
    for groups in (["all members", *roles], ["all members", "foundry", "power"]):
        fig = event_charts.event_time_chart(_frame(groups), "t", "y", bench)
        lines = {t.name: t.line for t in fig.data}
        for name in groups:
            assert lines[name].color == palette.group(name) and lines[name].dash is None
        for name in bench:
            assert lines[name].color == palette.benchmark(name) and lines[name].dash == "dash"
            assert lines[name].width < lines["power"].width
        assert fig.data[0].name == "all members" and lines["all members"].width > lines["power"].width
        ranks = [t.legendrank for t in fig.data]
        assert [t.name for _, t in sorted(zip(ranks, fig.data, strict=True))] == [*groups, *bench]
    recovery = event_charts.recovery_chart(_frame(["power", "all members", "grid"]), "t")
    assert recovery.data[0].name == "all members"  # the thickest first, whatever its column
    assert {t.name: t.line.color for t in recovery.data} == {
        n: palette.group(n) for n in ("power", "all members", "grid")
    }


def test_the_attribution_chart_colours_each_segment_by_name():
    windows = [("before", "2025-01-02", "2025-01-24"), ("after", "2025-01-27", "2025-03-31")]
    segments = ["inference", "power", "other", "cash & costs"]
    table = pd.DataFrame(0.01, index=segments, columns=[w[0] for w in windows])
    fig = attribution_figure({"Rotation": table, "SPY": table.loc[["other", "cash & costs"]]}, windows)
    colours = {t.name: t.marker.color for t in fig.data}
    assert colours == {s: palette.group(s) for s in segments}


def test_equity_lines_are_coloured_by_strategy_variants_dotted_baselines_dashed():
    idx = pd.bdate_range("2025-01-02", periods=30)
    runs = {
        "Rebound": ("oversold_rebound", {}),
        "Rebound, earnings-aware": ("oversold_rebound", {"earnings_within": 30}),
        "SPY": ("buy_and_hold", {"hold": "SPY"}),
        "Rotation": ("inference_rotation", {}),
        "AI basket": ("buy_and_hold", {"hold": "ai"}),
    }
    equity = pd.DataFrame(1.0 + np.arange(30)[:, None] / 100 * np.arange(1, 6), index=idx, columns=list(runs))
    fig = equity_chart(equity, {}, runs=runs)
    lines = {t.name: t.line for t in fig.data}
    assert (
        lines["Rebound"].color
        == lines["Rebound, earnings-aware"].color
        == palette.strategy("oversold_rebound")
    )
    assert (lines["Rebound"].dash, lines["Rebound, earnings-aware"].dash) == ("solid", "dot")
    assert lines["Rotation"].color == palette.strategy("inference_rotation")
    assert (lines["SPY"].color, lines["AI basket"].color) == (
        palette.benchmark("SPY"),
        palette.benchmark("ai"),
    )
    assert lines["SPY"].dash == "dash" and lines["SPY"].width < lines["Rebound"].width
    assert [t.name for t in fig.data][-2:] == ["SPY", "AI basket"]  # thinner lines drawn over the thicker
    ranks = sorted((t.legendrank, t.name) for t in fig.data)
    assert [name for _, name in ranks] == list(runs)  # the legend keeps the runs' order
