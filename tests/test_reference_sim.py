"""The compiled engine against the plain reference simulator (tests/reference_sim.py), which
is written from the rules in engine/sim/simulate.py's docstring. Daily equity must agree to a
relative 1e-9 on real data (the theses, `inference_pair` and leveraged or short
`buy_and_hold`, close-only and OHLC tickers), on hypothesis-generated schedules (NaN and
zero weights, shorts, leverage up to 3x, cash/financing/borrow rates, listings and
delistings mid-window, costs, cash shortfalls, carried decisions, wipe-outs) and on
constructed delistings and wipe-outs; the two convention examples of rule 4 hold to 1e-12 a
day.

`pytest -s` prints the largest relative gap seen per family of cases."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pandas as pd
import pytest
import reference_sim
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from reference_sim import daily_rate, reference_run

from engine.backtest.run import needed_tickers, run
from engine.config import load_config
from engine.data.panel import Prices, load_prices
from engine.sim.simulate import Costs, simulate
from engine.strategy import registry

# load_config() reads this when called: a ticker missing locally is an error, never a download
os.environ.setdefault("AISHOCK_OFFLINE", "1")

START, END = "2024-07-01", "2025-12-31"
RTOL = 1e-9
THESES = ["oversold_rebound", "inference_rotation"]
COSTS = [(0.0, 0.0), (0.0005, 0.0005), (0.01, 0.01)]
GAPS: dict[str, float] = {}  # family -> largest relative equity gap seen


def engine_equity(prices, targets, fees, slippage, init_cash=100_000.0, start=None, fill="open", **rates):
    """Equity of a single run through engine.sim.simulate (`rates`: the other Costs fields)."""
    costs = Costs(fees, slippage, init_cash, fill, **rates)
    sim = simulate(prices, pd.concat({0: targets}, axis=1), costs, start)
    return sim.equity[0]


def gap(engine, reference) -> float:
    """The largest relative difference |engine - reference| / |reference| (0 where both are 0)."""
    e, r = np.asarray(engine, dtype=float), np.asarray(reference, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(e == r, 0.0, np.abs(e - r) / np.abs(r))
    return float(rel.max()) if len(rel) else 0.0


def assert_same_curve(engine: pd.Series, reference: pd.Series, family: str = "other") -> None:
    assert engine.index.equals(reference.index)
    GAPS[family] = max(GAPS.get(family, 0.0), gap(engine, reference))
    np.testing.assert_allclose(engine.to_numpy(), reference.to_numpy(), rtol=RTOL, atol=0)


@pytest.fixture(scope="module", autouse=True)
def report_gaps():
    yield
    for family, worst in sorted(GAPS.items()):
        print(f"\nlargest relative equity gap, {family}: {worst:.3g}")


@pytest.fixture(scope="module")
def market():
    """Prices of every ticker the strategies under test need (default params), from the
    snapshot."""
    registry.load_builtin()
    present = [n for n in [*THESES, "inference_pair"] if n in registry.REGISTRY]
    names = [t for n in present for t in needed_tickers(registry.get(n), [registry.get(n).params()])]
    return load_prices(list(dict.fromkeys([*names, "SPY", "PLTR"])), end=END, config=load_config())


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
    assert_same_curve(engine, ref.equity, "theses")


@pytest.mark.parametrize("name", THESES)
def test_thesis_run_matches_reference(market, name):
    """engine.run (default costs) gives the reference's equity for every parameter set,
    each run with its own cash although all share one call of the kernel."""
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
        assert_same_curve(result.equity[col].rename("equity"), ref.equity, "theses via engine.run")


def test_call_order_decides_which_buy_is_cut(market):
    """With costs, weights summing to 1 leave the bar's last buy short of cash; the engine's
    result depends on which buy is last. Reordering the reference's buys (sells first, then
    buys in column order) moves it far outside the tolerance, so the comparisons above do
    check the order rule."""
    spec = registry.get("inference_rotation")
    prices = market.select(needed_tickers(spec, [spec.params()]))
    targets = spec.weights(prices, spec.params())
    engine = engine_equity(prices, targets, 0.0005, 0.0005, start=START)

    def columns_order(book):
        return sorted(book, key=lambda entry: (entry[0] > 0, entry[1]))  # sells, then columns

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
    assert_same_curve(engine, ref.equity, "real tickers, monthly schedules")


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
        assert_same_curve(sim.equity[0].rename("equity"), ref.equity, "constructed")


# -- hypothesis: synthetic markets and schedules -----------------------------------------


@st.composite
def markets(draw, delistings: bool = False, jumps: bool = False):
    """A synthetic Prices panel: 1-5 tickers, OHLC or close-only, some listing mid-window;
    with `delistings`, the data of some (never T0's) ends before the panel's last day; with
    `jumps`, some close 70 % down or 150 % up one day (leveraged runs get wiped out)."""
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
        end = n
        if delistings and i > 0 and draw(st.booleans()):
            end = draw(st.integers(first + 1, n - 1))  # its last bar is end - 1 < n - 1
        path = 50 * np.exp(np.cumsum(rng.normal(0, 0.03, end - first)))
        if jumps and draw(st.booleans()):
            path[draw(st.integers(0, end - first - 1)) :] *= draw(st.sampled_from([0.3, 2.5]))
        close.iloc[first:end, i] = path
        if draw(st.booleans()):
            close_only.add(t)
        else:
            prev = np.concatenate([[path[0]], path[:-1]])
            open_.iloc[first:end, i] = prev * np.exp(rng.normal(0, 0.01, end - first))
    high = np.maximum(open_, close).where(open_.notna())
    low = np.minimum(open_, close).where(open_.notna())
    volume = (close * 0 + 1e6).where(open_.notna())
    return Prices(close, open_, high, low, volume, close_only=frozenset(close_only))


@st.composite
def schedules(draw, prices: Prices, max_gross: float = 1.0, shorts: bool = False):
    """Target weights on random days: per ticker NaN (no order), 0, or a positive weight
    (or, with `shorts`, a negative one); rows with gross exposure exactly `max_gross` (cash
    runs short once there are costs) or less."""
    index, names = prices.index, prices.tickers
    out = pd.DataFrame(np.nan, index=index, columns=pd.Index(names, name="ticker"))
    days = draw(st.sets(st.integers(0, len(index) - 1), min_size=1, max_size=len(index)))
    kinds_of = "nzws" if shorts else "nzw"
    for d in sorted(days):
        kinds = draw(st.lists(st.sampled_from(kinds_of), min_size=len(names), max_size=len(names)))
        raw = draw(st.lists(st.floats(0.01, 1.0), min_size=len(names), max_size=len(names)))
        sign = {"w": 1.0, "s": -1.0}
        w = np.array([sign.get(c, 0.0) * r for c, r in zip(kinds, raw, strict=True)])
        if np.abs(w).sum() > 0:
            gross = draw(st.one_of(st.just(max_gross), st.floats(0.05, max_gross)))
            w = w / np.abs(w).sum() * gross
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
        assert_same_curve(sim.equity[run_id].rename("equity"), ref.equity, "hypothesis long-only")
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
    assert_same_curve(engine, ref.equity, "constructed")


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
    assert_same_curve(engine, ref.equity, "constructed")


# -- shorts, leverage, interest, delistings, wipe-outs (rules 2, 4, 5, 6, 8) -------------

rates_st = st.one_of(st.just(0.0), st.floats(0.0, 0.2))


def assert_same_run(sim, run_id, ref, init_cash, family):
    """Equity, cash, shares and the number of orders of one engine run against the reference."""
    assert_same_curve(sim.equity[run_id].rename("equity"), ref.equity, family)
    np.testing.assert_allclose(
        sim.cash[run_id].to_numpy(), ref.cash.to_numpy(), rtol=RTOL, atol=1e-6 * init_cash
    )
    shares = sim.shares[run_id][ref.shares.columns].to_numpy()
    scale = max(1.0, float(np.abs(ref.shares.to_numpy()).max()))
    np.testing.assert_allclose(shares, ref.shares.to_numpy(), rtol=RTOL, atol=1e-9 * scale)
    engine_orders = sim.orders[sim.orders["run"] == run_id] if len(sim.orders) else sim.orders
    assert len(engine_orders) == len(ref.orders)


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_random_long_short_leveraged_schedules_match_reference(data):
    """Shorts, leverage up to 3x, cash/financing/borrow rates in [0, 0.2], listings and
    delistings mid-window, open and close fills, fees and slippage up to 1 %."""
    prices = data.draw(markets(delistings=True, jumps=True))
    max_gross = data.draw(st.sampled_from([1.0, 1.0, 2.0, 3.0]))
    runs = [data.draw(schedules(prices, max_gross, shorts=True)) for _ in range(2)]
    fees, slippage = data.draw(costs_st), data.draw(costs_st)
    rates = {name: data.draw(rates_st) for name in ("cash_rate", "financing", "borrow_fee")}
    init_cash = data.draw(st.sampled_from([1_000.0, 100_000.0, 1e7]))
    fill = data.draw(st.sampled_from(["open", "open", "close"]))
    start_at = data.draw(st.integers(0, len(prices.index) - 1))
    start = None if start_at == 0 else prices.index[start_at]
    costs = Costs(fees, slippage, init_cash, fill, max_gross, **rates)
    sim = simulate(prices, pd.concat(dict(enumerate(runs)), axis=1), costs, start)
    for run_id, targets in enumerate(runs):
        ref = reference_run(prices, targets, fees, slippage, init_cash, start, fill, max_gross, **rates)
        assert_same_run(sim, run_id, ref, init_cash, "hypothesis long/short/leveraged")
        # what the examples exercised (pytest --hypothesis-show-statistics)
        if ref.wiped_out:
            event("wiped out")
        if (ref.shares < 0).any().any():
            event("held a short")
        if (ref.cash < 0).any():
            event("borrowed cash")
        delisted = prices.close.index[-1] > prices.close.apply(pd.Series.last_valid_index)
        if (ref.shares.loc[:, delisted[delisted].index].abs().sum() > 0).any():
            event("held a ticker that delists")


def cut_after(prices: Prices, ends: dict[str, str]) -> Prices:
    """`prices` with each ticker of `ends` delisted: no data after its date."""
    fields = {}
    for f in ("close", "open", "high", "low", "volume"):
        frame = getattr(prices, f).copy()
        for t, day in ends.items():
            frame.loc[frame.index > pd.Timestamp(day), t] = np.nan
        fields[f] = frame
    return dataclasses.replace(prices, **fields)


@pytest.mark.parametrize("fill", ["open", "close"])
@pytest.mark.parametrize("max_gross", [1.0, 2.0])
def test_constructed_delistings_match_reference(market, fill, max_gross):
    """Real prices with AMD (OHLC) delisted after 2025-06-13 and MRVL (close-only) after
    2025-03-14, held long and short by a monthly schedule: rule 5 closes each holding on
    its last bar at that bar's close, with slippage and fees; later decisions for them do
    not trade."""
    ends = {"AMD": "2025-06-13", "MRVL": "2025-03-14"}
    prices = cut_after(market.select(["NVDA", "AMD", "SPY", "MRVL"]), ends)
    targets = monthly_schedule(prices, prices.tickers, seed=7)
    targets[["NVDA", "SPY"]] *= max_gross - 0.5  # gross up to max_gross with the two below
    targets["AMD"] = 0.3  # decided every day, also after its delisting (not traded then)
    targets["MRVL"] = -0.2
    fees = slippage = 0.001
    rates = {"cash_rate": 0.04, "financing": 0.08, "borrow_fee": 0.05}
    costs = Costs(fees, slippage, 100_000.0, fill, max_gross, **rates)
    sim = simulate(prices, pd.concat({0: targets}, axis=1), costs, START)
    ref = reference_run(prices, targets, fees, slippage, 100_000.0, START, fill, max_gross, **rates)
    assert_same_run(sim, 0, ref, 100_000.0, "constructed delistings")
    orders = sim.orders
    for t, day in ends.items():
        mine = orders[orders["ticker"] == t]
        assert mine["date"].max() == pd.Timestamp(day)  # nothing traded after its last bar
        closing = mine.iloc[-1]  # after that bar's rule-4 order
        side, sign = ("sell", -1) if t == "AMD" else ("buy", 1)
        assert closing["side"] == side
        assert closing["price"] == pytest.approx(prices.close.loc[day, t] * (1 + sign * slippage), rel=1e-12)
        assert closing["fees"] == pytest.approx(closing["value"] * fees, rel=1e-12)
        assert (sim.shares[0][t].loc[day:] == 0).all()


@pytest.mark.parametrize(
    ("ticker", "weight", "decided"),
    [("NVDA", 3.0, "2025-01-03"), ("PLTR", -3.0, "2024-07-01")],
    ids=["3x_long_through_a_crash", "3x_short_through_a_rally"],
)
def test_wipe_out_matches_reference(market, ticker, weight, decided):
    """One decision, then held: 3x NVDA from January 2025 loses everything before April's
    low; -3x PLTR from July 2024 once PLTR has gained about a third. Rule 8: equity 0 from
    the close it reaches 0 on (that day -100 %, later days 0), no orders after."""
    prices = market.select([ticker, "SPY"])
    targets = pd.DataFrame({ticker: [weight], "SPY": [0.0]}, index=pd.DatetimeIndex([decided]))
    rates = {"cash_rate": 0.0, "financing": 0.2, "borrow_fee": 0.2}
    costs = Costs(0.0005, 0.0005, 100_000.0, "open", 3.0, **rates)
    sim = simulate(prices, pd.concat({0: targets}, axis=1), costs, "2024-06-03")
    ref = reference_run(prices, targets, 0.0005, 0.0005, 100_000.0, "2024-06-03", "open", 3.0, **rates)
    assert ref.wiped_out
    assert_same_run(sim, 0, ref, 100_000.0, "constructed wipe-outs")
    equity = sim.equity[0]
    dead = equity.index[equity.to_numpy() == 0][0]
    assert (equity.loc[dead:] == 0).all() and (equity.loc[:dead].iloc[:-1] > 0).all()
    returns = equity.pct_change()
    assert returns.loc[dead] == -1.0
    assert (sim.orders["date"] < dead).all()


def test_no_order_is_placed_at_an_execution_bar_with_negative_equity():
    """Rule 5: with V <= 0 at an execution bar (a gap through zero at the open, before any
    close is at or below zero) no order is placed; the close then wipes the run out. A 3x
    long on 100,000 buys 3000 shares at 100; the open gaps to 60 (V = -20,000) and the
    close at 70 leaves 3000 * 70 - 200,000 = 10,000; a close at 60 then wipes it out."""
    index = pd.bdate_range("2024-01-01", periods=5, name="date")
    close = pd.DataFrame({"A": [100.0, 100, 70, 70, 60]}, index=index).rename_axis(columns="ticker")
    open_ = pd.DataFrame({"A": [100.0, 100, 60, 70, 50]}, index=index).rename_axis(columns="ticker")
    prices = Prices(close, open_, open_.copy(), open_.copy(), open_ * 0 + 1)
    targets = pd.DataFrame({"A": [3.0, 3.0]}, index=index[:2])
    sim = simulate(prices, pd.concat({0: targets}, axis=1), Costs(0.0, 0.0, max_gross=3.0))
    ref = reference_run(prices, targets, 0.0, 0.0, 100_000.0, None, "open", 3.0)
    assert_same_run(sim, 0, ref, 100_000.0, "constructed wipe-outs")
    assert list(sim.orders["shares"]) == [3000.0]
    assert list(sim.equity[0]) == [100_000.0, 100_000.0, 10_000.0, 10_000.0, 0.0]


# -- the two convention examples of rule 4 -----------------------------------------------

CONVENTIONS = pytest.mark.parametrize(
    ("weight", "rates", "daily_cost"),
    [(2.0, {"financing": 0.05}, daily_rate(0.05)), (-1.0, {"borrow_fee": 0.03}, daily_rate(0.03))],
    ids=["2x_spy_financing_5pct", "short_spy_borrow_3pct"],
)


def convention_case(market, weight, rates):
    """SPY at `weight`, decided every day, filled at the close, no fees or slippage, from
    START (the decision of START's eve is carried into its close)."""
    prices = market.select(["SPY"]).window(None, END)
    targets = pd.DataFrame({"SPY": weight}, index=prices.index)
    costs = Costs(0.0, 0.0, 100_000.0, "close", max_gross=max(1.0, abs(weight)), **rates)
    return prices, targets, costs


def assert_convention(prices, equity: pd.Series, weight: float, daily_cost: float, family: str) -> None:
    """Every day after the first returns weight * r_SPY - daily_cost, to 1e-12."""
    assert equity.iloc[0] == pytest.approx(100_000.0, rel=1e-14)  # trades at the first close
    got = equity.pct_change().iloc[1:]
    expected = weight * prices.close["SPY"].pct_change().loc[got.index] - daily_cost
    GAPS[family] = max(GAPS.get(family, 0.0), float((got - expected).abs().max()))
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-12)


@CONVENTIONS
def test_convention_examples(market, weight, rates, daily_cost):
    """Rule 4: 2x SPY rebalanced daily at the close with no costs and 5 % financing returns
    exactly 2 r_SPY - d(0.05) a day, -1x SPY with a 3 % borrow fee -r_SPY - d(0.03)."""
    prices, targets, costs = convention_case(market, weight, rates)
    equity = simulate(prices, pd.concat({0: targets}, axis=1), costs, START).equity[0]
    assert_convention(prices, equity, weight, daily_cost, "convention examples, engine (absolute a day)")


@CONVENTIONS
def test_convention_cases_match_reference(market, weight, rates, daily_cost):
    """The same runs: engine = reference."""
    prices, targets, costs = convention_case(market, weight, rates)
    sim = simulate(prices, pd.concat({0: targets}, axis=1), costs, START)
    ref = reference_run(prices, targets, 0.0, 0.0, 100_000.0, START, "close", costs.max_gross, **rates)
    assert_same_run(sim, 0, ref, 100_000.0, "convention cases")


# -- long/short and leveraged strategies on real data ------------------------------------

RATES = {"cash_rate": 0.04, "financing": 0.06, "borrow_fee": 0.02}
STRATEGY_CASES = [
    ("inference_pair", {}),
    ("inference_pair", {"hedge": "beta", "rebalance_days": 5}),
    ("inference_pair", {"leg": 1.5}),
    ("buy_and_hold", {"weight": 2.0}),
    ("buy_and_hold", {"weight": 2.0, "hold": "NVDA,AMD,SPY", "rebalance_days": 10}),
    ("buy_and_hold", {"weight": -1.0}),
    ("buy_and_hold", {"weight": -1.0, "hold": "NVDA,AMD,SPY", "rebalance_days": 10}),
]
STRATEGY_IDS = [
    "pair",
    "pair_beta",
    "pair_leg1.5",
    "hold_2x",
    "hold_basket_2x",
    "hold_-1x",
    "hold_basket_-1x",
]


def strategy_or_skip(name: str, params: dict):
    """The registered strategy `name` with `params`, or skip: the lead is adding them."""
    registry.load_builtin()
    spec = registry.REGISTRY.get(name)
    if spec is None:
        pytest.skip(f"strategy {name} is not registered yet")
    fields = {f.name for f in dataclasses.fields(spec.params)}
    if not set(params) <= fields:
        pytest.skip(f"{name} has no parameter(s) {sorted(set(params) - fields)} yet")
    return spec, spec.params(**params)


@pytest.mark.parametrize("fill", ["open", "close"])
@pytest.mark.parametrize(("name", "params"), STRATEGY_CASES, ids=STRATEGY_IDS)
def test_long_short_strategies_match_reference(market, name, params, fill):
    """inference_pair (dollar and beta hedges, legs of 0.5 and 1.5) and buy_and_hold at 2x
    and -1x, with costs and all three rates; max_gross is the schedule's largest gross
    exposure rounded up (1 when it is at most 1)."""
    spec, p = strategy_or_skip(name, params)
    prices = market.select(needed_tickers(spec, [p]))
    targets = spec.weights(prices, p)
    max_gross = max(1.0, float(np.ceil(targets.abs().sum(axis=1).max() - 1e-9)))
    costs = Costs(0.0005, 0.0005, 100_000.0, fill, max_gross, **RATES)
    sim = simulate(prices, pd.concat({0: targets}, axis=1), costs, START)
    ref = reference_run(prices, targets, 0.0005, 0.0005, 100_000.0, START, fill, max_gross, **RATES)
    assert len(ref.orders) > 0
    assert (ref.shares < 0).any().any() == (name == "inference_pair" or params["weight"] < 0)
    if name == "buy_and_hold" and params["weight"] > 1:
        assert (ref.cash < 0).all()  # borrowed from the first day on
    assert_same_run(sim, 0, ref, 100_000.0, "long/short strategies")


# -- edges of rules 4 and 5 --------------------------------------------------------------


def flat_prices(closes: dict[str, list[float]]) -> Prices:
    """A small panel whose opens equal its closes."""
    index = pd.bdate_range("2024-01-01", periods=len(next(iter(closes.values()))), name="date")
    close = pd.DataFrame(closes, index=index, dtype=float).rename_axis(columns="ticker")
    return Prices(close, close.copy(), close.copy(), close.copy(), close * 0 + 1)


@pytest.mark.parametrize(("step", "placed"), [(4, False), (16, True)])
def test_orders_of_at_most_1e12_shares_are_not_placed(step, placed):
    """Rule 4: 500 shares held at 100, then a target `step` ulps above 0.5 asks for
    step * 1.1e-16 * 1000 shares more: 4.4e-13 shares is not placed, 1.8e-12 is."""
    prices = flat_prices({"A": [100.0] * 4})
    w = 0.5
    for _ in range(step):
        w = np.nextafter(w, 1.0)
    targets = pd.DataFrame({"A": [0.5, w]}, index=prices.index[:2])
    sim = simulate(prices, pd.concat({0: targets}, axis=1), Costs(0.0, 0.0))
    ref = reference_run(prices, targets, 0.0, 0.0, 100_000.0)
    assert len(ref.orders) == 1 + placed
    assert_same_run(sim, 0, ref, 100_000.0, "constructed")


def test_delisted_short_is_covered_in_full_without_leverage():
    """Reading of rule 5: without leverage, a short whose cover costs more than the cash left
    is still closed in full at its last close (cash goes negative), not cut as a rule-4 buy
    would be. Long A and short B, 0.5 each; both triple; B's data ends on bar 3 at 300:
    covering 500 B costs 150,000 with 100,000 in cash."""
    nan = np.nan
    prices = flat_prices({"A": [100, 100, 200, 300, 300], "B": [100, 100, 200, 300, nan]})
    targets = pd.DataFrame({"A": [0.5], "B": [-0.5]}, index=prices.index[:1])
    sim = simulate(prices, pd.concat({0: targets}, axis=1), Costs(0.0, 0.0))
    ref = reference_run(prices, targets, 0.0, 0.0, 100_000.0)
    assert_same_run(sim, 0, ref, 100_000.0, "constructed delistings")
    assert sim.cash[0].iloc[-1] == -50_000.0 and sim.shares[0]["B"].iloc[-1] == 0.0
