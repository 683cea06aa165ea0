"""Each rule function of the compiled simulator (engine.sim.kernel) on hand-built states, in
vectorbt's style: a few tickers, a book and an account written out by hand, one call, every
number it should produce worked out in the test. The end-to-end checks of the same rules are
the reference simulator's (tests/test_reference_sim.py). Then the one entry point
(engine.sim.simulate.run_schedule): rule 2, and daily returns after a wipe-out in every path. No
market snapshot is needed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

import engine
from engine.config import Config
from engine.data.panel import Prices
from engine.errors import AishockError
from engine.events import runs
from engine.events.generalize import _paths
from engine.sim import kernel
from engine.sim.simulate import Costs, daily_returns, run_schedule
from engine.strategy import registry
from engine.strategy.schedule import Schedule
from engine.sweeps.executors import Job, evaluate

NAN = np.nan


def book(shares) -> tuple[kernel.Book, int]:
    """A book holding `shares` (one per ticker), its held list in column order; and n_held."""
    shares = np.array(shares, dtype=np.float64)
    held = np.full(len(shares), -1, dtype=np.int64)
    where = np.full(len(shares), -1, dtype=np.int64)
    n = 0
    for j, s in enumerate(shares):
        if s != 0.0:
            held[n], where[j] = j, n
            n += 1
    return kernel.Book(shares, held, where), n


def account(cash, n_held=0, n_orders=0, traded=0.0, fees=0.0, interest=0.0) -> kernel.Account:
    """An account with no working orders."""
    return kernel.Account(float(cash), n_held, 0, n_orders, float(traded), float(fees), float(interest))


NO_FILLS = kernel.Fills(0.0, 0.0, 0.0, 0.0, 0, 0, 0)


def frictions(
    fees=0.0,
    slippage=0.0,
    can_borrow=False,
    d_cash=0.0,
    d_financing=0.0,
    d_borrow=0.0,
    participation=0.0,
    impact=0.0,
):
    cash = np.array([100_000.0])
    return kernel.Frictions(
        fees, slippage, cash, can_borrow, d_cash, d_financing, d_borrow, participation, impact
    )


def working(n_tk: int) -> kernel.Working:
    """Rule 9's scratch with no working order."""
    index = np.zeros((4, n_tk), dtype=np.int64)
    index[kernel.AT] = index[kernel.TOOK_BAR] = -1
    return kernel.Working(np.zeros((3, n_tk)), index)


def market(fill, mark=None, close=None, last_bar=None, volume=None) -> kernel.MarketArrays:
    """One or more bars (rows) of `fill`; mark and close default to fill; volume (also
    rule 9's ADV) to 1e6, sigma to 0.02."""
    fill = np.atleast_2d(np.array(fill, dtype=np.float64))
    mark = fill if mark is None else np.atleast_2d(np.array(mark, dtype=np.float64))
    close = fill if close is None else np.atleast_2d(np.array(close, dtype=np.float64))
    n_days, n_tk = fill.shape
    last = np.full(n_tk, n_days, np.int64) if last_bar is None else np.array(last_bar, np.int64)
    delist_day = np.zeros(n_days, dtype=np.bool_)
    delist_day[last[last < n_days]] = True
    vol = np.full_like(fill, 1e6) if volume is None else np.atleast_2d(np.array(volume, dtype=np.float64))
    return kernel.MarketArrays(fill, mark, close, last, delist_day, np.stack([vol, 0.02 / np.sqrt(vol)]))


def pending(n_tk: int, targets: dict[int, float]) -> tuple[kernel.Pending, int]:
    """A bar's orders as collect_targets leaves them: {ticker: weight}, in that order."""
    p = kernel.Pending(
        np.zeros(n_tk),
        np.zeros(n_tk, dtype=np.bool_),
        np.zeros(n_tk, dtype=np.int64),
        np.zeros(n_tk),
        np.zeros(n_tk, dtype=np.int64),
        np.zeros(n_tk, dtype=np.int64),
    )
    for i, (j, w) in enumerate(targets.items()):
        p.target[j], p.touched[j], p.names[i] = w, True, j
    return p, len(targets)


def orders_table(n: int = 16) -> np.ndarray:
    return np.zeros((n, len(kernel.ORDER_FIELDS)))


def execute_bar(d, n, m, c, p, b, a, orders, w=None) -> kernel.Account:
    """Rules 5 and 9 as run_one runs them: size_orders, call_order, execute_orders."""
    w = w or working(len(b.shares))
    k, value, a = kernel.size_orders(
        d,
        n,
        m.fill,
        m.mark,
        p.target,
        p.touched,
        p.names,
        p.est,
        b.shares,
        b.held,
        *w,
        a,
    )
    kernel.call_order(p.est, p.names, k, p.slots, p.spare)
    a, _ = kernel.execute_orders(d, k, value, m.fill, m.vs, c, p.names, p.slots, *b, *w, a, NO_FILLS, orders)
    return a


def test_accumulator_rows_are_named_as_the_stats_read_them():
    assert len(kernel.ACC_FIELDS) == kernel.N_ACC
    for i, name in enumerate(kernel.ACC_FIELDS):
        assert getattr(kernel, name.upper()) == i, name
    assert "rf" not in " ".join(kernel.Frictions._fields)  # the risk-free rate is not a cost


# -- rule 4 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prev_cash", "prev_short", "paid"),
    [(1000.0, 0.0, 1.0), (-1000.0, 0.0, -2.0), (1000.0, 500.0, 1.0 - 1.5), (0.0, 200.0, -0.6)],
    ids=["cash_earns", "borrowed_cash_pays_financing", "shorts_pay_borrow", "zero_cash_earns_nothing"],
)
def test_interest_on_the_previous_close_balances(prev_cash, prev_short, paid):
    c = frictions(d_cash=0.001, d_financing=0.002, d_borrow=0.003)
    a = kernel.accrue_interest(account(50.0, 2, 3, 7.0, 0.5, 10.0), prev_cash, prev_short, c)
    assert a.cash == pytest.approx(50.0 + paid, rel=1e-15)
    assert a.interest == pytest.approx(10.0 + paid, rel=1e-15)
    assert (a.n_held, a.n_orders, a.traded, a.fees) == (2, 3, 7.0, 0.5)


# -- rules 1 and 3 --------------------------------------------------------------------------


def test_collect_targets_takes_the_bar_s_entries_later_entries_winning():
    t = kernel.Targets(
        np.array([0]),
        np.array([6]),
        np.array([0, 0, 1, 3, 3, 4]),
        np.array([1, 2, 0, 0, 0, 2]),
        np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]),
    )
    p, _ = pending(3, {})
    # first simulated bar 2: the decisions executing on bars 0 and 1 are carried into it
    e, n = kernel.collect_targets(2, 0, 6, *t[2:], True, p.target, p.touched, p.names)
    assert (e, n) == (3, 3)
    assert list(p.names[:n]) == [0, 1, 2]  # carried: column order
    assert list(p.target) == [0.3, 0.1, 0.2] and p.touched.all()
    p.touched[:] = False  # execute_bar clears them
    assert kernel.collect_targets(2, 3, 6, *t[2:], False, p.target, p.touched, p.names) == (3, 0)
    e, n = kernel.collect_targets(3, 3, 6, *t[2:], False, p.target, p.touched, p.names)
    assert (e, n) == (5, 1) and p.names[0] == 0 and p.target[0] == 0.5  # the later entry wins
    assert list(p.touched) == [True, False, False]


# -- rule 5 ---------------------------------------------------------------------------------


def test_execute_bar_sells_first_then_buys_from_smallest_with_costs():
    """Cash 100, 10 A at 10 and 2 C at 50: V = 300. Targets A 0 (est -100), B 0.5 (est 150),
    C 0.2 (est -40): A is sold first, then 0.8 C, then 7.5 B are bought."""
    b, n_held = book([10.0, 0.0, 2.0])
    m = market([10.0, 20.0, 50.0])
    p, n = pending(3, {0: 0.0, 1: 0.5, 2: 0.2})
    c = frictions(fees=0.001, slippage=0.01)
    out = orders_table()
    a = execute_bar(0, n, m, c, p, b, account(100.0, n_held), out)
    rows = out[: a.n_orders]
    assert rows[:, 1].tolist() == [0, 2, 1]  # call order
    assert rows[:, 2].tolist() == [-1.0, -1.0, 1.0]
    np.testing.assert_allclose(rows[:, 3], [10.0, 0.8, 7.5], rtol=1e-14)
    np.testing.assert_allclose(rows[:, 4], [9.9, 49.5, 20.2], rtol=1e-15)
    values = np.array([99.0, 39.6, 151.5])
    np.testing.assert_allclose(rows[:, 5], values * 0.001, rtol=1e-12)
    assert a.cash == pytest.approx(100.0 + 99.0 + 39.6 - 151.5 - values.sum() * 0.001, rel=1e-13)
    assert a.traded == pytest.approx(values.sum(), rel=1e-14)
    assert a.fees == pytest.approx(values.sum() * 0.001, rel=1e-12)
    np.testing.assert_allclose(b.shares, [0.0, 7.5, 1.2], rtol=1e-14)
    assert a.n_held == 2 and sorted(b.held[:2]) == [1, 2] and b.where[0] == -1
    assert not p.touched.any()


def test_execute_bar_cuts_a_buy_to_the_cash_and_borrows_only_when_allowed():
    m = market([10.0])
    c = frictions(fees=0.01)
    b, _ = book([0.0])
    p, n = pending(1, {0: 1.0})
    a = execute_bar(0, n, m, c, p, b, account(100.0), orders_table())
    assert a.cash == 0.0  # exactly: the cut buy spends the cash
    assert b.shares[0] == pytest.approx(100.0 / 1.01 / 10.0, rel=1e-15)
    b, _ = book([0.0])
    p, n = pending(1, {0: 1.0})
    a = execute_bar(0, n, m, frictions(fees=0.01, can_borrow=True), p, b, account(100.0), orders_table())
    assert b.shares[0] == 10.0 and a.cash == pytest.approx(-1.0, rel=1e-12)


def test_execute_bar_places_no_buy_without_cash_and_no_order_at_negative_equity():
    m = market([10.0, 10.0])
    b, n_held = book([10.0, 0.0])
    p, n = pending(2, {1: 0.5})  # V = 100, but all of it is in A and A gets no order
    a = execute_bar(0, n, m, frictions(), p, b, account(0.0, n_held), orders_table())
    assert a.n_orders == 0 and list(b.shares) == [10.0, 0.0]
    b, n_held = book([10.0, 0.0])
    p, n = pending(2, {0: 0.0, 1: 0.0})  # V = -200 + 100 <= 0: no order at all
    a = execute_bar(0, n, m, frictions(), p, b, account(-200.0, n_held), orders_table())
    assert a.n_orders == 0 and a.cash == -200.0 and not p.touched.any()


def test_execute_bar_skips_tickers_without_a_price_and_tiny_orders():
    """B has no fill price on this bar (it is valued at its mark, the last close); A is
    already within 1e-12 shares of its target; only C trades."""
    m = market([10.0, NAN, 20.0], mark=[10.0, 30.0, 20.0])
    b, n_held = book([5.0, 1.0, 0.0])  # V = 20 + 50 + 30 = 100
    p, n = pending(3, {0: 0.5 + 1e-15, 1: 0.0, 2: 0.2})
    out = orders_table()
    a = execute_bar(0, n, m, frictions(), p, b, account(20.0, n_held), out)
    assert a.n_orders == 1 and out[0, 1] == 2 and out[0, 3] == pytest.approx(1.0, rel=1e-15)
    assert b.shares[1] == 1.0 and a.cash == pytest.approx(0.0, abs=1e-12)


def test_execute_bar_runs_ties_in_column_order_and_many_orders_by_estimate():
    n_tk = 70  # above 64 orders the call order is a merge sort, still stable
    m = market(np.full(n_tk, 10.0))
    weights = {j: 0.01 if j % 2 else 0.005 for j in range(n_tk)}
    b, _ = book(np.zeros(n_tk))
    p, n = pending(n_tk, weights)
    out = orders_table(n_tk)
    a = execute_bar(0, n, m, frictions(), p, b, account(1000.0), out)
    assert a.n_orders == n_tk
    assert out[:n_tk, 1].tolist() == [*range(0, n_tk, 2), *range(1, n_tk, 2)]
    b, _ = book([0.0, 0.0, 0.0])
    p, n = pending(3, {2: 0.3, 0: 0.3, 1: 0.2})
    out = orders_table()
    execute_bar(0, n, market([10.0, 10.0, 10.0]), frictions(), p, b, account(100.0), out)
    assert out[:3, 1].tolist() == [1, 0, 2]  # smallest first; ties in column order (rule 5)


@pytest.mark.parametrize("k", [0, 1, 2, 64, 65, 128, 500])
def test_call_order_is_a_stable_sort_of_the_estimates(k):
    """Insertion up to 64 orders, merges beyond: both give numpy's stable argsort (ties, which
    a few distinct values make common, in position order)."""
    est = np.random.default_rng(k).integers(-3, 4, size=k).astype(np.float64) * 10.0
    slots, spare = np.full(k, -1, dtype=np.int64), np.full(k, -1, dtype=np.int64)
    kernel.call_order(est, np.arange(k), k, slots, spare)
    assert slots.tolist() == np.argsort(est, kind="stable").tolist()


# -- rule 6 ---------------------------------------------------------------------------------


def test_delist_closes_the_ticker_s_holdings_at_its_last_close():
    """A (long 10) and B (short 5) end on bar 1, C goes on: A is sold at 10 x 0.99, B covered
    at 20 x 1.01 (taking the cash below zero), C is left alone."""
    close = [[11.0, 21.0, 31.0], [10.0, 20.0, 30.0]]
    m = market(close, last_bar=[1, 1, 2])
    b, n_held = book([10.0, -5.0, 3.0])
    out = orders_table()
    c = frictions(fees=0.001, slippage=0.01)
    w = working(3)
    a, _ = kernel.delist(1, m, c, *b, *w, account(0.0, n_held), NO_FILLS, out)
    assert out[:2, 1].tolist() == [0, 1] and out[:2, 2].tolist() == [-1.0, 1.0]
    np.testing.assert_allclose(out[:2, 4], [9.9, 20.2], rtol=1e-15)
    assert a.cash == pytest.approx(99.0 - 101.0 - 0.2 * 0.001 * 1000, rel=1e-12)
    assert a.cash < 0 and a.n_orders == 2 and a.fees == pytest.approx(0.2, rel=1e-12)
    assert list(b.shares) == [0.0, 0.0, 3.0]
    assert a.n_held == 1 and b.held[0] == 2 and list(b.where) == [-1, -1, 0]
    assert kernel.delist(0, m, c, *b, *w, a, NO_FILLS, out) == (a, NO_FILLS)  # nothing ends on bar 0


# -- rules 7 and 8 --------------------------------------------------------------------------


def test_value_at_close_and_wipe_out():
    b, n_held = book([10.0, -5.0, 0.0])
    close = np.array([[10.0, 20.0, NAN]])
    equity, gross, short = kernel.value_at_close(0, close, b.shares, b.held, account(50.0, n_held))
    assert (equity, gross, short) == (50.0, 200.0, 100.0)
    a = kernel.wipe_out(*b, working(3).index, account(-5.0, n_held, 4, 300.0, 1.5, -2.0))
    assert a == account(0.0, 0, 4, 300.0, 1.5, -2.0)  # totals kept, positions written off
    assert list(b.shares) == [0.0, 0.0, 0.0] and list(b.where) == [-1, -1, -1]
    assert kernel.value_at_close(0, close, b.shares, b.held, a) == (0.0, 0.0, 0.0)


def test_tally_close_accumulates_returns_drawdown_and_exposure():
    t = kernel.Tally(100.0, 100.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    t = kernel.tally_close(t, 90.0, 180.0, 0.001)
    ret = 90.0 / 100.0 - 1.0
    ex = ret - 0.001  # below the risk-free rate: a downside day
    assert t == kernel.Tally(90.0, 100.0, ret, ret, ret * ret, ex * ex, 90.0, 2.0)
    t = kernel.tally_close(t, 0.0, 0.0, 0.001)  # wiped out: -100 %, no exposure added
    assert (t.prev, t.max_dd, t.sum_r, t.sum_exposure) == (0.0, -1.0, ret - 1.0, 2.0)
    after = kernel.tally_close(t, 0.0, 0.0, 0.0)  # later days: return 0
    assert after.sum_r == t.sum_r and after.sum_r2 == t.sum_r2 and after.sum_equity == t.sum_equity


# -- the one entry point: rule 2, and returns after a wipe-out in every path ---------------


@dataclass(frozen=True)
class Lever:
    weight: float = 3.0


def _lever(prices, sets) -> Schedule:
    frames = [pd.DataFrame({"A": [p.weight, p.weight]}, index=prices.index[:2]) for p in sets]
    return Schedule.from_frames(frames, prices.index)


LEVER = registry.StrategySpec("lever", Lever, _lever, lambda p: ["A"], "hold A at `weight`")
COSTS = Costs(0.0, 0.0, max_gross=3.0)


@pytest.fixture
def crash():
    """A falls through zero equity for a 3x long: 3000 shares bought at 100 on bar 1 (cash
    -200,000); bar 2 opens at 60 (V < 0: no order) and closes at 70 (equity 10,000); the
    close at 60 on bar 4 wipes the run out; bars 5 and 6 follow."""
    index = pd.bdate_range("2024-01-01", periods=7, name="date")
    close = pd.DataFrame({"A": [100.0, 100, 70, 70, 60, 65, 66]}, index=index).rename_axis(columns="ticker")
    open_ = pd.DataFrame({"A": [100.0, 100, 60, 70, 50, 65, 66]}, index=index).rename_axis(columns="ticker")
    return Prices(close, open_, open_.copy(), open_.copy(), open_ * 0 + 1)


def test_the_entry_point_refuses_a_decision_above_max_gross(crash):
    with pytest.raises(AishockError, match=r"gross exposure 3 .* above max_gross 1"):
        run_schedule(crash, _lever(crash, [Lever()]), Costs(0.0, 0.0))
    assert run_schedule(crash, _lever(crash, [Lever(1.0)]), Costs(0.0, 0.0)).acc.shape == (kernel.N_ACC, 1)


def test_returns_after_a_wipe_out_are_zero_in_every_path(crash, tmp_path):
    raw = run_schedule(crash, _lever(crash, [Lever()]), COSTS, record="equity")
    assert raw.equity[:, 0].tolist() == [100_000.0, 100_000.0, 10_000.0, 10_000.0, 0.0, 0.0, 0.0]
    expected = daily_returns(raw.equity, COSTS.init_cash)[:, 0]
    assert expected.tolist() == pytest.approx([0.0, 0.0, -0.9, 0.0, -1.0, 0.0, 0.0], abs=1e-15)
    assert (raw.returns[:, 0] == expected).all()
    config = Config(data_dirs=(), cache_dir=tmp_path, reports_dir=tmp_path)
    paths = {
        "engine.run (Result.returns)": engine.run(LEVER, [Lever()], costs=COSTS, prices=crash, config=config)
        .returns.iloc[:, 0]
        .to_numpy(),
        "sweep chunks (executors.evaluate)": evaluate(
            Job(LEVER, None, None, COSTS, None, 0.0, 252, True), crash, [Lever()]
        )[1][:, 0],
        "generalize (after the event day)": np.concatenate([expected[:1], _generalize_daily(crash)]),
    }
    for name, returns in paths.items():
        assert np.isfinite(returns).all(), name
        assert (returns == expected).all(), name


def _generalize_daily(prices) -> np.ndarray:
    """The daily returns engine.generalize derives for a run over the whole window (its
    event-time path, engine.events.runs, turned into returns by generalize._paths)."""
    chunk = runs.Chunk(
        [Lever()], (), [()], np.array([0]), np.array([0]), np.array([0]), np.array([len(prices.index)])
    )
    stats = runs.evaluate(runs.Job(LEVER, "A", COSTS, 252, keep_paths=True), prices, chunk)
    return _paths(stats, np.array([0]), prices.index, np.array([True]))[1][0].to_numpy()
