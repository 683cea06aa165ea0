"""Capacity (engine.backtest.capacity, `aishock capacity`, its page): capital levels, the halving
capital, days to liquidate, one call for every level equal to separate runs, and the command
on the market snapshot."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from test_volume_rules import alternating, one_ticker

from aishock.cli import main
from engine.backtest import capacity
from engine.data.panel import Prices
from engine.errors import AishockError
from engine.sim.simulate import Costs, run_schedule
from engine.strategy.schedule import Schedule
from reports import figures


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("1e5:1e10:log6", [1e5, 1e6, 1e7, 1e8, 1e9, 1e10]),
        ("1e6:3e6:3", [1e6, 2e6, 3e6]),
        ("5e6,1e5,1e6", [1e5, 1e6, 5e6]),  # sorted, each once
        ([2e5, 1e5, 1e5], [1e5, 2e5]),
    ],
    ids=["log", "linear", "list", "sequence"],
)
def test_capital_levels(spec, expected):
    np.testing.assert_allclose(capacity.levels(spec), expected, rtol=1e-12)


@pytest.mark.parametrize(
    "spec", ["1e5:1e10", "1e10:1e5:log4", "0:1e5:log3", "1e5:1e6:log1", "a,b", "-1e5,1e6", ""]
)
def test_bad_capital_levels_are_refused_in_one_line(spec):
    with pytest.raises(AishockError, match=r"--aum|capital levels"):
        capacity.levels(spec)


AUM = np.array([1e5, 1e6, 1e7, 1e8])


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1.0, 0.9, 0.6, 0.4], 10 ** (7 + (0.5 - 0.6) / (0.4 - 0.6))),  # between 1e7 and 1e8
        ([1.0, 0.5, 0.2, 0.1], 1e6),  # exactly half at a level
        ([1.0, 0.9, 0.8, 0.7], None),  # never halves
        ([-0.2, -0.5, -1.0, -2.0], None),  # no positive start
        ([1.0, np.nan, 0.9, 0.8], 1e6),  # no dispersion left counts as fallen
        ([np.nan, 1.0, 0.5, 0.1], None),
    ],
    ids=["interpolated", "at_a_level", "never", "negative_start", "nan_level", "nan_start"],
)
def test_the_halving_capital(values, expected):
    got = capacity.halving(AUM, np.array(values))
    assert got == (None if expected is None else pytest.approx(expected, rel=1e-12))


def test_days_to_liquidate_are_shares_over_the_cap_times_the_20_day_adv():
    n = 30
    volume = np.arange(1, n + 1) * 1_000.0
    prices = one_ticker(n, volume)
    shares = pd.DataFrame({"A": np.r_[np.zeros(25), [5_000.0, -5_000.0, 0.0, 1e4, 1e4]]}, index=prices.index)
    days = capacity.liquidation_days(shares, prices, 0.1)["A"]
    adv = [np.mean(volume[d - 19 : d + 1]) for d in range(n)]  # the 20 bars up to each day
    assert days.iloc[:25].tolist() == [0.0] * 25
    for d in (25, 26, 28, 29):
        assert days.iloc[d] == pytest.approx(abs(shares["A"].iloc[d]) / (0.1 * adv[d]), rel=1e-12)
    assert days.iloc[27] == 0.0
    early = pd.DataFrame({"A": np.r_[[100.0], np.zeros(n - 1)]}, index=prices.index)
    assert math.isnan(capacity.liquidation_days(early, prices, 0.1)["A"].iloc[0])  # ADV not known yet
    assert (capacity.liquidation_days(early, prices, 0.1, free=("A",))["A"] == 0).all()


def _panel() -> Prices:
    n = 80
    return one_ticker(n, 20_000.0, sigma_path=alternating(n, 0.015) * np.linspace(1, 1.4, n))


def test_every_capital_level_in_one_call_equals_its_own_run():
    prices = _panel()
    weight = pd.DataFrame({"A": [np.nan] * len(prices.index)}, index=prices.index)
    weight.iloc[[22, 40, 60], 0] = [1.0, 0.3, 0.8]
    one = Schedule.from_frames([weight], prices.index)
    cash = np.array([1e4, 1e6, 1e8])
    costs = Costs(0.001, 0.001, participation=0.05, impact=0.5)
    together = run_schedule(prices, one.take([0, 0, 0]), costs, cash=cash, record="equity")
    for r, c in enumerate(cash):
        alone = run_schedule(
            prices, one, Costs(0.001, 0.001, c, participation=0.05, impact=0.5), record="equity"
        )
        np.testing.assert_array_equal(together.equity[:, r], alone.equity[:, 0])
        np.testing.assert_array_equal(together.acc[:, r], alone.acc[:, 0])


@pytest.fixture(scope="module")
def thesis_two(cfg):
    """engine.capacity of inference_rotation, 5 levels, on the snapshot."""
    return capacity.capacity(
        "inference_rotation",
        aum="1e5:1e11:log5",
        start="2024-07-01",
        end="2025-12-31",
        costs=Costs(participation=0.1, impact=1.0, no_volume="ok"),
        config=cfg,
    )


def test_a_capacity_study_on_the_snapshot(thesis_two):
    c = thesis_two
    assert list(c.table.index) == pytest.approx([1e5, 1e6 * 10**0.5, 1e8, 1e9 * 10**0.5, 1e11])
    assert set(c.uncapped) == {"TLN", "MRVL", "ALAB", "ARM"}  # close-only names of its baskets
    # the cap never binds at $100k, it does at $100B, and costs grow with capital
    assert c.table["partial_fills"].iloc[0] == 0 and c.table["partial_fills"].iloc[-1] > 0
    assert (np.diff(c.table["impact_paid"]) > 0).all()
    assert c.table["binding"].iloc[0] is None and c.binding == c.binds.sum().idxmax()
    assert c.binding not in c.uncapped
    # the smallest level equals engine.run with the same costs at that capital
    import engine

    costs = Costs(0.0005, 0.0005, 1e5, participation=0.1, impact=1.0, no_volume="ok")
    run = engine.run("inference_rotation", start=c.start, end=c.end, costs=costs, benchmark=False)
    assert run.stats["sharpe"].iloc[0] == pytest.approx(c.table["sharpe"].iloc[0], rel=1e-12)
    assert run.uncapped == c.uncapped


def test_the_capacity_page_plots_sharpe_and_return_on_a_log_capital_axis(thesis_two, tmp_path):
    path = thesis_two.page(tmp_path / "capacity.html")
    text = path.read_text()
    charts = figures.read(text)
    assert {"capacity-sharpe", "capacity-return", "capacity-growth"} <= set(charts)
    sharpe = charts["capacity-sharpe"]
    assert sharpe["layout"]["xaxis"]["type"] == "log"
    assert sharpe["data"][0]["y"] == pytest.approx(thesis_two.table["sharpe"].tolist())
    if thesis_two.binding:
        assert "capacity-binding" in charts and thesis_two.binding in text
    assert "Filled without cap or impact" in text and "MRVL" in text


def test_capacity_refuses_what_it_cannot_measure(cfg):
    with pytest.raises(AishockError, match="no volume"):
        capacity.capacity("inference_rotation", aum="1e5,1e6", costs=Costs(participation=0.1), config=cfg)
    with pytest.raises(AishockError, match="one parameter set"):
        capacity.capacity("inference_rotation", [{"fraction": 0.2}, {"fraction": 0.3}], config=cfg)
    assert capacity.volume_costs(None).participation == capacity.DEFAULT_PARTICIPATION
    assert capacity.volume_costs(Costs(impact=2.0)).impact == 2.0


def test_capacity_command_prints_the_table_and_writes_the_page(out_dir, capsys):
    argv = [
        "capacity",
        "inference_rotation",
        "--aum",
        "1e5,1e9",
        "--no-volume",
        "ok",
        "--start",
        "2025-01-02",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "$100k" in out and "$1B" in out and "binding name:" in out and "page:" in out
    assert "filled uncapped (close-only, no volume): TLN, MRVL, ALAB, ARM" in out
    assert main([*argv, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [lv["aum"] for lv in doc["levels"]] == [1e5, 1e9]
    assert doc["participation"] == 0.1 and doc["impact"] == 1.0
    manifest = json.loads(next(out_dir.glob("capacity-*/*.manifest.json")).read_text())
    assert manifest["uncapped"] == ["TLN", "MRVL", "ALAB", "ARM"] and manifest["aum"] == [1e5, 1e9]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["capacity", "inference_rotation"], "no volume"),
        (["capacity", "inference_rotation", "--aum", "big"], "--aum 'big'"),
        (
            ["run", "buy_and_hold", "--no-volume", "ok"],
            "--no-volume only applies with --participation or --impact",
        ),
        (["run", "buy_and_hold", "--participation", "2"], "participation must be a fraction"),
        (["run", "buy_and_hold", "--participation", "nan"], "--participation must be a finite number"),
    ],
)
def test_bad_volume_options_are_one_line_errors(argv, message, out_dir, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_finished_runs_days_to_liquidate(cfg):
    import engine

    result = engine.run(
        "buy_and_hold", {"hold": "NVDA"}, start="2025-01-02", end="2025-03-31", config=cfg, benchmark=False
    )
    days = result.liquidation(0.1)
    shares = result.holdings.iloc[:, 0] / engine.load_prices(["NVDA"], config=cfg).close["NVDA"].reindex(
        days.index
    )
    adv = capacity.adv_at_close(result.prices, ["NVDA"])["NVDA"].reindex(days.index)
    np.testing.assert_allclose(days.iloc[:, 0], shares.abs() / (0.1 * adv), rtol=1e-9)


def test_vectorbt_cannot_reproduce_the_volume_rules_and_says_so(cfg):
    import engine

    costs = Costs(participation=0.1, impact=1.0)
    r = engine.run("buy_and_hold", {"hold": "NVDA"}, "2025-01-02", "2025-03-31", costs=costs, config=cfg)
    with pytest.raises(AishockError, match="vectorbt cannot express a volume cap or market impact"):
        r.to_vectorbt()
