"""The vectorbt engine against the plain reference simulator (tests/reference_sim.py), which is
written from the rules in engine/simulate.py's docstring. Daily equity must agree to a
relative 1e-9 on real data (both theses, close-only and OHLC tickers) and on
hypothesis-generated schedules (NaN and zero weights, listings mid-window, costs, cash
shortfalls, carried decisions)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
import reference_sim
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_sim import reference_run

from engine import registry
from engine.backtest import needed_tickers, run
from engine.config import load_config
from engine.data.panel import Prices, load_prices
from engine.simulate import Costs, simulate

# load_config() reads this when called: a ticker missing locally is an error, never a download
os.environ.setdefault("AISHOCK_OFFLINE", "1")

START, END = "2024-07-01", "2025-12-31"
RTOL = 1e-9
THESES = ["oversold_rebound", "inference_rotation"]
COSTS = [(0.0, 0.0), (0.0005, 0.0005), (0.01, 0.01)]


def engine_equity(prices, targets, fees, slippage, init_cash=100_000.0, start=None, fill="open"):
    """Equity of a single run through engine.simulate."""
    costs = Costs(fees, slippage, init_cash, fill)
    sim = simulate(prices, pd.concat({0: targets}, axis=1), costs, start)
    return sim.equity[0]


def assert_same_curve(engine: pd.Series, reference: pd.Series) -> None:
    assert engine.index.equals(reference.index)
    np.testing.assert_allclose(engine.to_numpy(), reference.to_numpy(), rtol=RTOL, atol=0)


@pytest.fixture(scope="module")
def market():
    """Prices of every ticker either thesis needs (default params), from the snapshot."""
    names = list(
        dict.fromkeys(t for n in THESES for t in needed_tickers(registry.get(n), [registry.get(n).params()]))
    )
    return load_prices([*names, "SPY"], end=END, config=load_config())


# -- the theses on real data -------------------------------------------------------------


@pytest.mark.parametrize("fill", ["open", "close"])
@pytest.mark.parametrize(("fees", "slippage"), COSTS)
@pytest.mark.parametrize("name", THESES)
def test_thesis_simulate_matches_reference(market, name, fees, slippage, fill):
    spec = registry.get(name)
    prices = market.select(needed_tickers(spec, [spec.params()]))
    targets = spec.weights(prices, spec.params())
    engine = engine_equity(prices, targets, fees, slippage, start=START, fill=fill)
    ref = reference_run(prices, targets, fees, slippage, 100_000.0, START, fill)
    assert len(ref.orders) > 0  # the schedule trades inside the window
    assert_same_curve(engine, ref.equity)


@pytest.mark.parametrize("name", THESES)
def test_thesis_run_matches_reference(market, name):
    """engine.run (default costs) gives the reference's equity for every parameter set,
    each run with its own cash although all share one vectorbt call."""
    spec = registry.get(name)
    sets = (
        [{"fraction": 0.3}, {"fraction": 0.8, "rebalance_days": 10}]
        if name == "inference_rotation"
        else [{}, {"top_k": 3, "hold_days": 40}]
    )
    costs = Costs()
    result = run(name, sets, start=START, end=END, costs=costs, prices=market)
    prices = market.window(None, END)
    for col, p in zip(result.equity.columns, sets, strict=True):
        params = spec.params(**p)
        targets = spec.weights(prices, params)
        ref = reference_run(prices, targets, costs.fees, costs.slippage, costs.init_cash, START)
        assert_same_curve(result.equity[col].rename("equity"), ref.equity)


def test_call_order_decides_which_buy_is_cut(market):
    """With costs, weights summing to 1 leave the bar's last buy short of cash; the engine's
    result depends on which buy is last. Reordering the reference's buys (sells first, then
    buys in column order) moves it far outside the tolerance, so the comparisons above do
    check the order rule."""
    spec = registry.get("inference_rotation")
    prices = market.select(needed_tickers(spec, [spec.params()]))
    targets = spec.weights(prices, spec.params())
    engine = engine_equity(prices, targets, 0.0005, 0.0005, start=START)

    def columns_order(orders, value, shares, price, tickers):
        return sorted(
            orders,
            key=lambda t: (orders[t] * value - shares[t] * price[t] > 0, tickers.index(t)),
        )

    saved = reference_sim._call_order
    try:
        reference_sim._call_order = columns_order
        other = reference_run(prices, targets, 0.0005, 0.0005, 100_000.0, START).equity
    finally:
        reference_sim._call_order = saved
    gap = ((engine - other).abs() / other).max()
    assert gap > 1e-5


# -- real tickers, hand-made schedules ---------------------------------------------------


def monthly_schedule(prices: Prices, tickers: list[str], seed: int) -> pd.DataFrame:
    """Random weights on the first trading day of each month (some NaN, some 0, rows summing
    to 1 or less), including decisions before START to exercise the carry."""
    rng = np.random.default_rng(seed)
    out = pd.DataFrame(np.nan, index=prices.index, columns=pd.Index(tickers, name="ticker"))
    firsts = prices.index.to_series().groupby(prices.index.to_period("M")).first()
    for day in firsts.loc["2024-04-01":]:
        w = rng.uniform(0.05, 1.0, len(tickers))
        w[rng.uniform(size=len(tickers)) < 0.2] = 0.0
        if w.sum() > 0:
            w = w / w.sum() * (1.0 if rng.uniform() < 0.6 else rng.uniform(0.3, 1.0))
        w[rng.uniform(size=len(tickers)) < 0.2] = np.nan
        out.loc[day] = w
    return out


@pytest.mark.parametrize(
    "tickers",
    [["MRVL", "ARM", "TSM"], ["NVDA", "AMD", "AVGO", "SPY"], ["NVDA", "MRVL", "SPY", "ALAB"]],
    ids=["close_only", "ohlc", "mixed"],
)
@pytest.mark.parametrize(("fees", "slippage"), COSTS)
def test_ticker_sets_match_reference(market, tickers, fees, slippage):
    prices = market.select(tickers)
    expect_close_only = {"MRVL", "ARM", "TSM", "ALAB"} & set(tickers)
    assert prices.close_only == expect_close_only  # the fill-price paths under test
    targets = monthly_schedule(prices, tickers, seed=len(tickers))
    engine = engine_equity(prices, targets, fees, slippage, start=START)
    ref = reference_run(prices, targets, fees, slippage, 100_000.0, START)
    assert_same_curve(engine, ref.equity)


def test_bigger_buy_is_the_one_cut_when_cash_is_short(market):
    """Two buys needing 101 % of the cash (1 % fees): the smaller buy fills in full and the
    bigger one is reduced, whatever the column order."""
    day = pd.Timestamp("2025-03-03")
    for tickers in (["NVDA", "AVGO"], ["AVGO", "NVDA"]):
        prices = market.select(tickers).window(None, "2025-03-31")
        targets = pd.DataFrame(np.nan, index=prices.index, columns=tickers)
        targets.loc[day] = {"NVDA": 0.3, "AVGO": 0.7}
        sim = simulate(prices, pd.concat({0: targets}, axis=1), Costs(0.01, 0.0), "2025-03-01")
        orders = sim.orders.set_index("ticker")
        assert orders["value"]["NVDA"] == pytest.approx(30_000.0, rel=1e-12)
        assert orders["value"]["AVGO"] == pytest.approx((100_000 - 30_300) / 1.01, rel=1e-12)
        ref = reference_run(prices, targets, 0.01, 0.0, 100_000.0, "2025-03-01")
        assert_same_curve(sim.equity[0].rename("equity"), ref.equity)


# -- hypothesis: synthetic markets and schedules -----------------------------------------


@st.composite
def markets(draw):
    """A synthetic Prices panel: 1-5 tickers, OHLC or close-only, some listing mid-window."""
    n = draw(st.integers(12, 50))
    k = draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2024-01-01", periods=n, name="date")
    names = [f"T{i}" for i in range(k)]
    close = pd.DataFrame(np.nan, index=index, columns=pd.Index(names, name="ticker"))
    open_ = close.copy()
    close_only = set()
    for i, t in enumerate(names):
        first = draw(st.integers(0, n - 2)) if draw(st.booleans()) else 0
        path = 50 * np.exp(np.cumsum(rng.normal(0, 0.03, n - first)))
        close.iloc[first:, i] = path
        if draw(st.booleans()):
            close_only.add(t)
        else:
            prev = np.concatenate([[path[0]], path[:-1]])
            open_.iloc[first:, i] = prev * np.exp(rng.normal(0, 0.01, n - first))
    high = np.maximum(open_, close).where(open_.notna())
    low = np.minimum(open_, close).where(open_.notna())
    volume = (close * 0 + 1e6).where(open_.notna())
    return Prices(close, open_, high, low, volume, close_only=frozenset(close_only))


@st.composite
def schedules(draw, prices: Prices):
    """Target weights on random days: per ticker NaN (no order), 0, or a positive weight;
    rows summing to exactly 1 (cash runs short once there are costs) or less."""
    index, names = prices.index, prices.tickers
    out = pd.DataFrame(np.nan, index=index, columns=pd.Index(names, name="ticker"))
    days = draw(st.sets(st.integers(0, len(index) - 1), min_size=1, max_size=len(index)))
    for d in sorted(days):
        kinds = draw(st.lists(st.sampled_from("nzw"), min_size=len(names), max_size=len(names)))
        raw = draw(st.lists(st.floats(0.01, 1.0), min_size=len(names), max_size=len(names)))
        w = np.array([r if c == "w" else 0.0 for c, r in zip(kinds, raw, strict=True)])
        if w.sum() > 0:
            gross = draw(st.one_of(st.just(1.0), st.floats(0.05, 1.0)))
            w = w / w.sum() * gross
        w[[c == "n" for c in kinds]] = np.nan
        out.iloc[d] = w
    return out


costs_st = st.one_of(st.just(0.0), st.floats(0.0, 0.01))


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_random_schedules_match_reference(data):
    prices = data.draw(markets())
    first = data.draw(schedules(prices))
    second = data.draw(schedules(prices))
    fees, slippage = data.draw(costs_st), data.draw(costs_st)
    init_cash = data.draw(st.sampled_from([1_000.0, 100_000.0, 1e7]))
    fill = data.draw(st.sampled_from(["open", "open", "close"]))
    start_at = data.draw(st.integers(0, len(prices.index) - 1))
    start = None if start_at == 0 else prices.index[start_at]
    # two runs in one engine call: each must match its own reference (separate cash)
    costs = Costs(fees, slippage, init_cash, fill)
    sim = simulate(prices, pd.concat({0: first, 1: second}, axis=1), costs, start)
    for run_id, targets in ((0, first), (1, second)):
        ref = reference_run(prices, targets, fees, slippage, init_cash, start, fill)
        assert_same_curve(sim.equity[run_id].rename("equity"), ref.equity)
        np.testing.assert_allclose(
            sim.cash[run_id].to_numpy(), ref.cash.to_numpy(), rtol=RTOL, atol=1e-6 * init_cash
        )


# -- holdings of a ticker that stopped trading, decisions on non-trading days ------------


def test_delisted_holding_marked_at_last_close_when_sizing():
    """A holds shares, stops trading after bar 3 (OHLC, its last open 12.5, last close 13);
    B is then rebalanced to 30 % of V. V must count A at its last close, like the daily
    valuation does, so B's new size and the later equity use V = cash + A*13 + B*20."""
    index = pd.bdate_range("2024-01-01", periods=8, name="date")
    cols = pd.Index(["A", "B"], name="ticker")
    nan = np.nan
    close = pd.DataFrame(
        {"A": [10, 11, 12, 13, nan, nan, nan, nan], "B": [20, 20, 20, 20, 20, 20, 20, 30]},
        index=index,
        columns=cols,
        dtype=float,
    )
    open_ = pd.DataFrame(
        {"A": [10, 10.5, 11.5, 12.5, nan, nan, nan, nan], "B": [20] * 8},
        index=index,
        columns=cols,
        dtype=float,
    )
    prices = Prices(close, open_, open_.copy(), open_.copy(), open_ * 0 + 1)
    targets = pd.DataFrame(np.nan, index=index, columns=cols)
    targets.iloc[0] = [0.5, 0.5]
    targets.iloc[5] = [nan, 0.3]
    engine = engine_equity(prices, targets, 0.0, 0.0)
    ref = reference_run(prices, targets, 0.0, 0.0, 100_000.0)
    assert_same_curve(engine, ref.equity)


def test_decision_dated_on_a_non_trading_day_executes_on_the_next_bar(market):
    """Rule 1: a decision dated t executes on the next bar after t. Saturday 2025-02-01's
    decision trades on Monday 2025-02-03 (the reference), it is not lost."""
    prices = market.select(["NVDA", "SPY"]).window(None, "2025-03-31")
    saturday = pd.Timestamp("2025-02-01")
    assert saturday not in prices.index
    targets = pd.DataFrame({"NVDA": [0.5], "SPY": [0.5]}, index=pd.DatetimeIndex([saturday]))
    ref = reference_run(prices, targets, 0.0005, 0.0005, 100_000.0, "2025-01-02")
    assert {o["date"] for o in ref.orders} == {pd.Timestamp("2025-02-03")}
    engine = engine_equity(prices, targets, 0.0005, 0.0005, start="2025-01-02")
    assert_same_curve(engine, ref.equity)
