"""The compiled (X, H) sweep kernel against the plain reference (tests/sweep_reference.py), its
stats against engine.stats / engine.metrics on the reference's full equity curves, the issue's
number on the real data, and edge cases on small panels computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sweep_reference import simulate

from engine import load_prices, metrics, stats
from engine.sweeps.kernel import (
    ACC,
    ACC_FIELDS,
    grid,
    stats_from_accumulators,
    sweep_accumulators,
    sweep_kernel,
    sweep_kernel_serial,
)
from engine.universe import resolve

UNIVERSE = resolve("sweep_job")  # the listed order is the buy order
XS = [k / 100 for k in range(3, 13)]  # 0.03, 0.04, ..., 0.12
HS = [1, 4, 7, 11, 14, 17, 20, 24, 27, 30]
FEE = 0.0005
STAT_KEYS = [
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
    "n_trades",
    "turnover",
    "exposure",
    "fees_paid",
]


@pytest.fixture(scope="module")
def close(cfg) -> pd.DataFrame:
    c = load_prices(UNIVERSE, "2022-01-03", "2025-12-31", config=cfg).close
    assert list(c.columns) == UNIVERSE
    return c


@pytest.fixture(scope="module")
def grid_runs(close):
    """The issue's 10 x 10 grid: kernel accumulators and the reference's full runs."""
    xs, hs = grid(XS, HS)
    acc = sweep_accumulators(close, xs, hs, fee=FEE)
    c = close.to_numpy()
    runs = {k: simulate(c, xs[k], int(hs[k]), fee=FEE) for k in range(xs.size)}
    return xs, hs, acc, runs


def reference_stats(runs: dict, index) -> pd.DataFrame:
    """engine.stats.compute (engine.metrics inside) on the reference's equity curves."""
    equity = pd.DataFrame({k: r.equity for k, r in runs.items()}, index=index)
    orders = pd.DataFrame(
        [(k, value, fee) for k, r in runs.items() for (_, _, _, value, fee) in r.orders],
        columns=["run", "value", "fees"],
    )
    holdings = pd.DataFrame({(k, "ALL"): r.invested for k, r in runs.items()}, index=index)
    return stats.compute(equity, 1.0, orders, holdings)


def test_issue_combination_ends_at_1_474927(close):
    acc = sweep_accumulators(close, [0.05], [11], fee=FEE)
    assert acc[ACC["final"], 0] == pytest.approx(1.474927, abs=1e-6)
    assert simulate(close.to_numpy(), 0.05, 11, fee=FEE).equity[-1] == pytest.approx(1.474927, abs=1e-6)
    # The other reading of "equity measured before that day's trades" (after the day's sells,
    # so net of their fees) misses it: 1.4749186; that is what settles the reading.
    assert acc[ACC["n_partial"], 0] == 0


def test_full_grid_equals_reference(grid_runs):
    xs, _, acc, runs = grid_runs
    ref_final = np.array([runs[k].equity[-1] for k in range(xs.size)])
    np.testing.assert_allclose(acc[ACC["final"]], ref_final, rtol=0, atol=1e-8)
    assert acc[ACC["n_orders"]].tolist() == [len(runs[k].orders) for k in range(xs.size)]
    assert acc[ACC["n_partial"]].tolist() == [runs[k].partial for k in range(xs.size)]
    ref_days = [sum(v > 0 for v in runs[k].invested) for k in range(xs.size)]
    assert acc[ACC["days_invested"]].tolist() == ref_days


def test_stats_equal_engine_metrics_on_reference_curves(close, grid_runs):
    _, _, acc, runs = grid_runs
    got = stats_from_accumulators(acc)
    want = reference_stats(runs, close.index)
    assert_stats_equal(got, want)
    np.testing.assert_allclose(got["final_equity"], want["final_equity"], rtol=0, atol=1e-9)


def test_stats_with_risk_free_rate(close, grid_runs):
    xs, hs, _, runs = grid_runs
    rf = 0.04
    acc = sweep_accumulators(close, xs, hs, fee=FEE, rf=rf)
    got = stats_from_accumulators(acc, rf=rf)
    r = stats.daily_returns(pd.DataFrame({k: v.equity for k, v in runs.items()}), 1.0)
    np.testing.assert_allclose(got["sharpe"], metrics.sharpe(r, rf).to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(got["sortino"], metrics.sortino(r, rf).to_numpy(), rtol=1e-9)


def test_ticker_order_listed_and_alphabetical_agree_on_the_grid(close, grid_runs):
    """Buy order decides only which buy is cut when cash runs short. On this grid that happens
    twice (X=0.03 with H=4 and H=20), and the cut buy is the day's last in both orders (QCOM on
    2025-04-07 for H=4), so the issue's number cannot tell the orders apart: listed order is
    the default."""
    xs, hs, acc, _ = grid_runs
    alphabetical = np.argsort(np.array(UNIVERSE))
    acc_alpha = sweep_accumulators(close, xs, hs, fee=FEE, order=alphabetical)
    cut = np.nonzero(acc[ACC["n_partial"]])[0]
    assert [(xs[k], hs[k]) for k in cut] == [(0.03, 4), (0.03, 20)]
    np.testing.assert_array_equal(acc_alpha, acc)


def test_parallel_serial_and_chunks_agree(close):
    xs, hs = grid(np.linspace(0.01, 0.15, 23), [1, 2, 5, 13, 40])
    par = sweep_accumulators(close, xs, hs, fee=FEE)
    ser = sweep_accumulators(close, xs, hs, fee=FEE, parallel=False)
    chunked = sweep_accumulators(close, xs, hs, fee=FEE, chunk=7)
    np.testing.assert_array_equal(par, ser)
    np.testing.assert_array_equal(par, chunked)
    # the raw kernels, as documented
    c = np.ascontiguousarray(close.to_numpy())
    args = (c, xs, hs, FEE, 1 / 30, 0.0, np.arange(30))
    np.testing.assert_array_equal(sweep_kernel(*args), sweep_kernel_serial(*args))


def test_nothing_trades_leaves_equity_exactly_one(close):
    acc = sweep_accumulators(close, [10.0, 1.0], [11, 1], fee=FEE)
    assert acc[ACC["final"]].tolist() == [1.0, 1.0]
    s = stats_from_accumulators(acc)
    assert s["total_return"].tolist() == [0.0, 0.0]
    assert s["n_trades"].tolist() == [0, 0]
    assert s["max_drawdown"].tolist() == [0.0, 0.0]
    assert s["turnover"].tolist() == [0.0, 0.0]
    assert s["exposure"].tolist() == [0.0, 0.0]
    assert np.isnan(s["sharpe"]).all() and np.isnan(s["sortino"]).all()
    assert np.isnan(s["calmar"]).all()
    assert s["cagr"].tolist() == [0.0, 0.0]


def test_hold_one_day_on_real_data(close):
    acc = sweep_accumulators(close, [0.03, 0.07], [1, 1], fee=FEE)
    for k, x in enumerate([0.03, 0.07]):
        run = simulate(close.to_numpy(), x, 1, fee=FEE)
        assert acc[ACC["final"], k] == pytest.approx(run.equity[-1], abs=1e-12)
        # with H=1 every buy is sold the next day, but for the last day's buys
        last = len(run.equity) - 1
        buys = [o for o in run.orders if o[2] == "buy"]
        sells = [o for o in run.orders if o[2] == "sell"]
        assert [(d + 1, j) for d, j, *_ in buys if d < last] == [(d, j) for d, j, *_ in sells]
        assert acc[ACC["n_orders"], k] == len(run.orders)


def test_rule_by_hand():
    """Two names, no fee, half the equity per buy. A drops 10 % on days 1, 3 and 5; B lists on
    day 2 and drops 20 % on day 3. H = 2."""
    nan = np.nan
    close = np.array(
        [
            [100.0, nan],
            [90.0, nan],  # A -10 %: buy A on day 2
            [90.0, 50.0],  # B lists: no return, no signal
            [81.0, 40.0],  # A -10 % (buy day 4 = A's exit day: ignored); B -20 %
            [81.0, 40.0],  # sell A, buy B with half the equity before the sell
            [72.9, 44.0],  # A -10 %: buy A on day 6
            [72.9, 44.0],
        ]
    )  # sell B, buy A; A still open at the end
    acc = sweep_accumulators(close, [0.05], [2], fee=0.0, weight=0.5)
    # day 2: A 0.5 / 90; day 4: E = 0.5 + 0.5 * 81 / 90 = 0.95, B gets 0.475
    # day 6: E = 0.475 + 0.475 * 44 / 40 = 0.9975; A gets 0.49875 at 72.9, marked at 72.9
    assert acc[ACC["final"], 0] == pytest.approx(0.9975, abs=1e-14)
    assert acc[ACC["n_orders"], 0] == 5  # buy A, sell A, buy B, sell B, buy A
    assert acc[ACC["traded"], 0] == pytest.approx(0.5 + 0.45 + 0.475 + 0.5225 + 0.49875)
    assert acc[ACC["days_invested"], 0] == 5
    run = simulate(close, 0.05, 2, fee=0.0, weight=0.5)
    assert run.equity[-1] == acc[ACC["final"], 0]


def test_first_return_is_on_the_second_day():
    """A drop on the window's first day is measured against nothing: no buy on day 1."""
    close = np.array([[100.0], [80.0], [80.0], [80.0]])
    acc = sweep_accumulators(close, [0.05], [1], fee=0.0, weight=1.0)
    # day 1's -20 % is the first return; its buy is on day 2
    assert acc[ACC["n_orders"], 0] == 2
    assert sweep_accumulators(close[1:], [0.05], [1], fee=0.0)[ACC["n_orders"], 0] == 0


def test_partial_fills_when_cash_is_short():
    """Three names fall 10 % on day 1; 40 % each with a 0.1 % fee: the third buy is cut to
    what cash pays, fee included; then cash is 0 and a fourth signal buys nothing, and the
    name stays free for a later signal."""
    fee = 0.001
    close = np.array(
        [
            [100.0, 100.0, 100.0, 100.0],
            [90.0, 90.0, 90.0, 100.0],
            [90.0, 90.0, 90.0, 90.0],  # buy A, B in full, C partly; D falls
            [99.0, 81.0, 90.0, 90.0],  # D's buy: no cash, nothing bought
            [99.0, 81.0, 90.0, 81.0],  # D falls again
            [99.0, 81.0, 90.0, 81.0],  # A, B, C sold (H=3); D bought
            [99.0, 81.0, 90.0, 81.0],
        ]
    )
    acc = sweep_accumulators(close, [0.05], [3], fee=fee, weight=0.4)
    cash_after_two = 1.0 - 2 * 0.4 * (1 + fee)
    third = cash_after_two / (1 + fee)
    assert acc[ACC["n_partial"], 0] == 1
    assert acc[ACC["n_orders"], 0] == 7  # 3 buys, 3 sells, D's buy on day 5
    sold = 0.4 / 90 * 99 + 0.4 / 90 * 81 + third  # = the equity before day 5's trades
    assert acc[ACC["traded"], 0] == pytest.approx(0.8 + third + sold + 0.4 * sold)
    run = simulate(close, 0.05, 3, fee=fee, weight=0.4)
    assert run.partial == 1
    assert min(e - i for e, i in zip(run.equity, run.invested, strict=True)) >= 0.0  # no leverage
    assert acc[ACC["final"], 0] == pytest.approx(run.equity[-1], abs=1e-15)
    s = stats_from_accumulators(acc)
    assert 0.0 < s["exposure"][0] <= 1.0
    # the order of the buys decides which one is cut: reversed, A is cut, C is bought in full
    rev = sweep_accumulators(close, [0.05], [3], fee=fee, weight=0.4, order=[3, 2, 1, 0])
    assert rev[ACC["final"], 0] != acc[ACC["final"], 0]
    assert rev[ACC["final"], 0] == pytest.approx(
        simulate(close, 0.05, 3, fee=fee, weight=0.4, order=[3, 2, 1, 0]).equity[-1], abs=1e-15
    )


def test_random_panels_with_listings_and_gaps_equal_reference():
    rng = np.random.default_rng(7)
    n_days, n_names = 300, 6
    close = 50.0 * np.exp(np.cumsum(rng.normal(0.0, 0.04, (n_days, n_names)), axis=0))
    close[:40, 1] = np.nan  # lists on day 40
    close[:299, 5] = np.nan  # lists on the last day
    close[120:123, 2] = np.nan  # a gap: held positions are marked at the last close
    xs, hs = grid([0.0, 0.02, 0.05, 0.08], [1, 3, 17])
    acc = sweep_accumulators(close, xs, hs, fee=0.002, weight=0.3)
    assert acc[ACC["n_partial"]].sum() > 0
    for k in range(xs.size):
        run = simulate(close, xs[k], int(hs[k]), fee=0.002, weight=0.3)
        assert acc[ACC["final"], k] == pytest.approx(run.equity[-1], abs=1e-12)
        assert acc[ACC["n_orders"], k] == len(run.orders)
        assert acc[ACC["n_partial"], k] == run.partial
    index = pd.bdate_range("2020-01-01", periods=n_days)
    runs = {k: simulate(close, xs[k], int(hs[k]), fee=0.002, weight=0.3) for k in range(xs.size)}
    want = reference_stats(runs, index)
    got = stats_from_accumulators(acc)
    assert_stats_equal(got, want)


def test_grid_order_and_accumulator_shape(close):
    xs, hs = grid([0.05, 0.06], [11, 12])
    assert list(zip(xs, hs, strict=True)) == [(0.05, 11), (0.05, 12), (0.06, 11), (0.06, 12)]
    table = stats_from_accumulators(sweep_accumulators(close, xs, hs))
    assert table["final_equity"][0] == pytest.approx(1.474927, abs=1e-6)
    assert sweep_accumulators(close, [0.05], [11]).shape == (len(ACC_FIELDS), 1)
    # one combination alone: the same numbers as inside a grid
    assert (
        stats_from_accumulators(sweep_accumulators(close, [0.05], [11])[:, 0])["sharpe"] == table["sharpe"][0]
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"xs": [0.05], "hs": [0]}, "holding periods"),
        ({"xs": [0.05], "hs": [1.5]}, "holding periods"),
        ({"xs": [0.05, 0.06], "hs": [1]}, "pair up"),
        ({"xs": [np.nan], "hs": [1]}, "NaN"),
        ({"xs": [0.05], "hs": [1], "order": [0, 0]}, "permutation"),
        ({"xs": [0.05], "hs": [1], "weight": 1.5}, "weight"),
    ],
)
def test_bad_inputs_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sweep_accumulators(np.ones((5, 2)), **kwargs)


def assert_stats_equal(got: dict, want: pd.DataFrame) -> None:
    """Every stat of the kernel equals the reference's, to 1e-9."""
    for key in STAT_KEYS:
        np.testing.assert_allclose(
            np.asarray(got[key], dtype=float),
            want[key].to_numpy(dtype=float),
            rtol=1e-9,
            atol=1e-9,
            err_msg=key,
        )
