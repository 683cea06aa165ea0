"""Attribution by AI role and Brinson-Fachler: contributions add up to the run's arithmetic
return, equal a hand calculation, and the split is zero when the portfolio is the benchmark."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

import engine
from engine.backtest import attribution as at
from engine.data.panel import Prices
from engine.data.universe import resolve
from engine.errors import AishockError
from engine.sim.simulate import Costs
from engine.strategy.registry import StrategySpec
from engine.strategy.schedule import Schedule

STRATEGIES = ("oversold_rebound", "inference_rotation", "inference_pair", "buy_and_hold")


@pytest.fixture(scope="module")
def demo_runs(cfg):
    """Every built-in strategy with its defaults over the demo span (the default costs:
    fills at the open, 5 bp fees and 5 bp slippage)."""
    start, end = cfg.span
    return {name: engine.run(name, start=start, end=end, config=cfg) for name in STRATEGIES}


def costs_from_orders(r) -> np.ndarray:
    """Commissions plus slippage of each day of a one-run result, from its orders, as a
    fraction of the previous close's equity (no interest: the default costs have none)."""
    o = r.orders
    sign = np.where(o["side"] == "buy", 1.0, -1.0)
    slip = sign * o["shares"] * (o["price"] - o["price"] / (1 + sign * r.costs.slippage))
    per_day = (o["fees"] + slip).groupby(o["date"]).sum().reindex(r.equity.index, fill_value=0.0)
    prev = np.concatenate([[r.costs.init_cash], r.equity.iloc[:-1, 0].to_numpy()])
    return per_day.to_numpy() / prev


@pytest.mark.parametrize("name", STRATEGIES)
def test_contributions_add_up_to_the_runs_arithmetic_return(cfg, demo_runs, name):
    r = demo_runs[name]
    daily = at.daily_contributions(r)
    returns = r.returns.iloc[:, 0]
    np.testing.assert_allclose(daily.sum(axis=1), returns, rtol=0, atol=1e-14)
    table = at.contributions(r, config=cfg)
    windows = at.window_returns(r, config=cfg)
    assert list(table.columns) == [w[0] for w in cfg.windows] == list(windows.index)
    assert table.index[-1] == at.CASH
    for w in table.columns:
        assert windows.loc[w, "days"] > 0
        assert table[w].sum() == pytest.approx(windows.loc[w, "sum_of_daily_returns"], abs=1e-12)
        inside = returns[
            (returns.index >= windows.loc[w, "start"]) & (returns.index <= windows.loc[w, "end"])
        ]
        assert windows.loc[w, "sum_of_daily_returns"] == pytest.approx(inside.sum(), abs=1e-12)
    # the demo span is the last window: its compounded return is the run's total return
    span = windows.iloc[-1]
    assert span["compounded_return"] == pytest.approx(r.stats["total_return"].iloc[0], rel=1e-9)
    assert span["days"] == len(returns)
    # "cash & costs" is exactly the commissions and slippage of the orders: the role P&L is right
    np.testing.assert_allclose(daily[at.CASH], -costs_from_orders(r), rtol=0, atol=1e-14)


def test_roles_follow_the_baskets(demo_runs):
    rotation = at.contributions(demo_runs["inference_rotation"])
    assert list(rotation.index) == ["power", "training", "inference", at.CASH]
    spy = at.contributions(demo_runs["buy_and_hold"])  # SPY belongs to no AI role
    assert list(spy.index) == [at.OTHER, at.CASH]
    mixed = at.contributions(demo_runs["inference_rotation"], roles={"NVDA": "gpus"})
    assert list(mixed.index) == ["gpus", at.OTHER, at.CASH]


# -- a constructed two-role case, by hand ------------------------------------------------

DAYS = pd.bdate_range("2025-01-06", periods=5)  # Mon..Fri
ROLES = {"A1": "alpha", "A2": "alpha", "B1": "beta", "B2": "beta"}
CLOSE = {
    "A1": [10, 10, 11, 12, 11],
    "A2": [20, 20, 19, 21, 22],
    "B1": [50, 50, 55, 50, 52],
    "B2": [5, 5, 5, 6, 6],
}
OPEN = {"A1": [10, 9.5, 10.5, 11.5, 11.5], "A2": [20] * 5, "B1": [50, 48, 52, 52, 51], "B2": [5] * 5}


def panel(**closes) -> Prices:
    """The hand-written prices; `closes` replaces a ticker's closes."""
    cols = pd.Index(list(CLOSE), name="ticker")
    close = pd.DataFrame(CLOSE | closes, index=DAYS, columns=cols, dtype=float)
    open_ = pd.DataFrame(OPEN, index=DAYS, columns=cols, dtype=float)
    return Prices(close, open_, open_.copy(), open_.copy(), close * 0 + 1)


@dataclass(frozen=True)
class Fixed:
    dummy: int = 0


def fixed_weights(rows: dict) -> StrategySpec:
    """An unregistered strategy whose target weights are `rows` {decision date: {ticker: w}}."""

    def schedule(prices, sets):
        frame = pd.DataFrame(rows).T.reindex(columns=list(CLOSE))
        frame.index = pd.DatetimeIndex(frame.index)
        return Schedule.from_frames([frame] * len(sets), prices.index)

    return StrategySpec("fixed_weights", Fixed, schedule, lambda p: list(CLOSE), "fixed weights")


def test_two_roles_at_the_close_equal_a_hand_calculation():
    """Fills at the close, no costs: each day's contribution is the previous close's market
    value of the role / the previous equity x the day's return of those holdings."""
    spec = fixed_weights(
        {
            DAYS[0]: {"A1": 0.25, "A2": 0.25, "B1": 0.3, "B2": 0.2},  # filled at day 1's close
            DAYS[2]: {"A1": 0.5, "A2": 0.0, "B1": 0.5, "B2": 0.0},  # filled at day 3's close
        }
    )
    costs = Costs(fees=0.0, slippage=0.0, init_cash=1000.0, fill="close")
    r = engine.run(spec, start=DAYS[1], end=DAYS[4], costs=costs, prices=panel())
    # by hand: day 1 buys 25 A1, 12.5 A2, 6 B1, 40 B2 at the close (equity 1000)
    # day 2: A1 +1, A2 -1, B1 +5, B2 0 -> alpha 25 - 12.5, beta 30; equity 1042.5
    # day 3: A1 +1, A2 +2, B1 -5, B2 +1 -> alpha 25 + 25, beta -30 + 40; equity 1102.5,
    #        rebalanced at the close into 551.25 / 12 A1 and 551.25 / 50 B1
    # day 4: A1 -1, B1 +2 -> alpha -45.9375, beta 22.05
    alpha = [0.0, 12.5 / 1000, 50 / 1042.5, -45.9375 / 1102.5]
    beta = [0.0, 30 / 1000, 10 / 1042.5, 22.05 / 1102.5]
    daily = at.daily_contributions(r, roles=ROLES)
    assert list(daily.columns) == ["alpha", "beta", at.CASH]
    np.testing.assert_allclose(daily["alpha"], alpha, rtol=0, atol=1e-15)
    np.testing.assert_allclose(daily["beta"], beta, rtol=0, atol=1e-15)
    np.testing.assert_allclose(daily[at.CASH], 0.0, rtol=0, atol=1e-15)
    windows = [
        ("all", DAYS[1], DAYS[4]),
        ("last_two", DAYS[3], DAYS[4]),
        ("before", "2024-01-01", "2024-12-31"),
    ]
    table = at.contributions(r, windows, roles=ROLES)
    assert table.loc["alpha", "all"] == pytest.approx(sum(alpha), abs=1e-15)
    assert table.loc["beta", "last_two"] == pytest.approx(sum(beta[2:]), abs=1e-15)
    assert table["before"].isna().all()
    rets = at.window_returns(r, windows)
    assert rets.loc["all", "sum_of_daily_returns"] == pytest.approx(sum(alpha) + sum(beta), abs=1e-15)
    assert rets.loc["all", "compounded_return"] == pytest.approx(1078.6125 / 1000 - 1, abs=1e-14)
    assert rets.loc["before", "days"] == 0 and np.isnan(rets.loc["before", "sum_of_daily_returns"])


def test_open_fills_split_the_trade_from_its_costs_by_hand():
    """Fills at the open with fees and slippage: the day of the fill, a role earns its shares
    x (close - unslipped open); commissions and slippage go to "cash & costs"."""
    spec = fixed_weights({DAYS[0]: {"A1": 0.25, "B1": 0.25}})
    costs = Costs(fees=0.001, slippage=0.002, init_cash=1000.0, fill="open")
    r = engine.run(spec, start=DAYS[1], end=DAYS[3], costs=costs, prices=panel())
    a1, b1 = 250 / 9.5, 250 / 48  # shares bought at day 1's open (equity 1000, unslipped opens)
    cost = 2 * (250 * 0.002 + 250 * 1.002 * 0.001)  # slippage, then fees on the slipped value
    eq1 = 1000 - cost + a1 * 0.5 + b1 * 2
    eq2 = eq1 + a1 * 1 + b1 * 5
    daily = at.daily_contributions(r, roles=ROLES)
    np.testing.assert_allclose(daily["alpha"], [a1 * 0.5 / 1000, a1 / eq1, a1 / eq2], rtol=0, atol=1e-15)
    np.testing.assert_allclose(
        daily["beta"], [b1 * 2 / 1000, b1 * 5 / eq1, b1 * -5 / eq2], rtol=0, atol=1e-15
    )
    np.testing.assert_allclose(daily[at.CASH], [-cost / 1000, 0, 0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(daily.sum(axis=1), r.returns.iloc[:, 0], rtol=0, atol=1e-15)


def test_impact_is_a_cost_not_a_role_s_return():
    """Rule 9's impact, like slippage, goes to "cash & costs": on the fill day the role earns
    its shares x (close - the open before slippage and impact), and "cash & costs" is minus
    the fees, slippage and impact paid over the previous equity."""
    from test_volume_rules import alternating, one_ticker

    n = 40
    path = alternating(n, 0.02)
    prices = one_ticker(n, 5_000.0, sigma_path=path, open_=path * 0.995)
    rows = {prices.index[24]: {"A": 0.8}}

    def schedule(p, sets):
        frame = pd.DataFrame(rows).T.reindex(columns=["A"])
        return Schedule.from_frames([frame] * len(sets), p.index)

    spec = StrategySpec("one_name", Fixed, schedule, lambda p: ["A"], "one name")
    costs = Costs(fees=0.001, slippage=0.002, init_cash=1e6, fill="open", impact=1.0)
    r = engine.run(spec, costs=costs, prices=prices, benchmark=False)
    (fill,) = r.orders.itertuples()
    assert fill.impact > 0
    day = prices.index.get_loc(fill.date)
    opened, closed = prices.open["A"].iloc[day], prices.close["A"].iloc[day]
    daily = at.daily_contributions(r, roles={"A": "alpha"})
    prev = r.equity.iloc[day - 1, 0]
    assert daily["alpha"].iloc[day] == pytest.approx(fill.shares * (closed - opened) / prev, rel=1e-12)
    paid = fill.fees + fill.shares * opened * 0.002 + fill.impact
    assert daily[at.CASH].iloc[day] == pytest.approx(-paid / prev, rel=1e-12)


def test_a_wipe_out_day_books_the_write_off_below_zero_in_cash_and_costs():
    """Short 1x B2 (1000 of it at 5), which goes to 12: the role loses 1.4 x equity; equity
    would be -400, is written off to 0 (rule 8), the day's return is -100 %: the +0.4
    write-off is in "cash & costs", and nothing moves afterwards."""
    spec = fixed_weights({DAYS[0]: {"B2": -1.0}})
    costs = Costs(fees=0.0, slippage=0.0, init_cash=1000.0, fill="close")
    r = engine.run(spec, start=DAYS[1], end=DAYS[4], costs=costs, prices=panel(B2=[5, 5, 12, 30, 30]))
    assert bool(r.stats["wiped_out"].iloc[0])
    daily = at.daily_contributions(r, roles=ROLES)
    np.testing.assert_allclose(daily["beta"], [0, -1.4, 0, 0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(daily[at.CASH], [0, 0.4, 0, 0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(daily.sum(axis=1), r.returns.iloc[:, 0], rtol=0, atol=1e-15)


# -- Brinson-Fachler ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["inference_rotation", "inference_pair"])
def test_brinson_fachler_allocation_plus_selection_is_the_active_return(cfg, demo_runs, name):
    r = demo_runs[name]
    bf = at.brinson_fachler(r, config=cfg)
    windows = at.window_returns(r, config=cfg)
    names = resolve("ai")
    bench = r.prices.close[names].pct_change(fill_method=None).mean(axis=1)  # equal weight, daily
    for w, _, _ in cfg.windows:
        t = bf[w]
        total = t.loc[at.TOTAL]
        assert total["allocation"] + total["selection"] == pytest.approx(
            total["portfolio"] - total["benchmark"], abs=1e-12
        )
        assert t.drop(at.TOTAL)[["allocation", "selection"]].sum().sum() == pytest.approx(
            total["portfolio"] - total["benchmark"], abs=1e-12
        )
        assert total["portfolio"] == pytest.approx(windows.loc[w, "sum_of_daily_returns"], abs=1e-12)
        days = bench[(bench.index >= windows.loc[w, "start"]) & (bench.index <= windows.loc[w, "end"])]
        assert total["benchmark"] == pytest.approx(days.sum(), abs=1e-12)
        assert t.drop(at.TOTAL)["portfolio"].to_numpy() == pytest.approx(
            at.contributions(r, config=cfg).reindex(t.drop(at.TOTAL).index, fill_value=0.0)[w].to_numpy(),
            abs=1e-12,
        )
        assert total["portfolio_weight"] == pytest.approx(1.0) and total["benchmark_weight"] == pytest.approx(
            1.0
        )
    # the rotation: the portfolio weights only its baskets, the benchmark every AI role
    roles = bf.index.drop(at.TOTAL)
    full = bf[cfg.windows[-1][0]]
    assert set(roles[full.loc[roles, "portfolio_weight"].abs() > 0]) <= {
        "training",
        "power",
        "inference",
        at.CASH,
    }
    assert (full.loc[roles.drop(at.CASH), "benchmark_weight"] > 0).all()


def test_the_benchmark_itself_has_no_allocation_and_no_selection():
    """Equal weight over the four names, rebalanced at every close without costs, *is* the
    daily-rebalanced equal-weight benchmark from the day after the first fill."""
    costs = Costs(fees=0.0, slippage=0.0, init_cash=1000.0, fill="close")
    r = engine.run(
        "buy_and_hold", {"hold": "A1,A2,B1,B2", "rebalance_days": 1}, DAYS[1], DAYS[4], costs, panel()
    )
    bf = at.brinson_fachler(r, [("held", DAYS[2], DAYS[4])], ROLES, benchmark=["A1", "A2", "B1", "B2"])
    t = bf["held"]
    assert list(t.index) == ["alpha", "beta", at.CASH, at.TOTAL]
    np.testing.assert_allclose(t[["allocation", "selection"]].to_numpy(), 0.0, rtol=0, atol=1e-15)
    assert t.loc[at.TOTAL, "portfolio"] == pytest.approx(t.loc[at.TOTAL, "benchmark"], abs=1e-15)
    assert t.loc[at.TOTAL, "portfolio"] != 0
    np.testing.assert_allclose(t.loc[["alpha", "beta"], "portfolio_weight"], 0.5, rtol=1e-12)


def test_the_equal_weight_ai_basket_itself_is_its_own_benchmark(cfg):
    """The same on real prices: the `ai` basket rebalanced at every close, no costs."""
    start, end = cfg.span
    costs = Costs(fees=0.0, slippage=0.0, fill="close")
    r = engine.run("buy_and_hold", {"hold": "ai", "rebalance_days": 1}, start, end, costs, config=cfg)
    second = r.equity.index[1]
    bf = at.brinson_fachler(r, [("held", second, end)], config=cfg)["held"]
    np.testing.assert_allclose(bf[["allocation", "selection"]].to_numpy(), 0.0, rtol=0, atol=1e-12)


def test_a_window_with_no_day_is_nan_and_bad_inputs_are_one_line(demo_runs):
    r = demo_runs["inference_rotation"]
    bf = at.brinson_fachler(r, {"past": ("2019-01-02", "2019-12-31")})
    assert bf["past"].isna().all().all()
    with pytest.raises(AishockError, match="is after end"):
        at.contributions(r, [("w", "2025-03-01", "2025-01-01")])
    with pytest.raises(AishockError, match="needs both a start and an end"):
        at.contributions(r, {"w": (None, "2025-01-01")})
    with pytest.raises(AishockError, match="a window is"):
        at.contributions(r, [("w", "2025-01-01")])
    with pytest.raises(AishockError, match="reserved"):
        at.contributions(r, roles={"NVDA": at.CASH})
    with pytest.raises(AishockError, match="out of range"):
        at.contributions(r, run=3)
    with pytest.raises(AishockError, match="engine Result"):
        at.contributions(r.returns)


def test_summary_is_plain_numbers_and_notes_a_benchmark_without_prices(cfg, demo_runs):
    r = demo_runs["inference_pair"]
    out = at.summary(r, brinson=True, config=cfg)
    assert set(out) == {"convention", "windows", "brinson_fachler"}
    w = out["windows"]["shock_and_recovery"]
    assert (w["start"], w["end"]) == ("2025-01-27", "2025-03-31") and isinstance(w["days"], int)
    assert sum(w["contributions"].values()) == pytest.approx(w["sum_of_daily_returns"], abs=1e-12)
    bf = out["brinson_fachler"]["windows"]["shock_and_recovery"]
    assert bf["allocation"] + bf["selection"] == pytest.approx(bf["active"], abs=1e-12)
    missing = at.summary(r, brinson=True, benchmark="ZZZZ", config=cfg)["brinson_fachler"]
    assert missing["windows"] == {} and "not computed: prices of ZZZZ not found locally" in missing["note"]
