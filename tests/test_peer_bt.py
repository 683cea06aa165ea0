"""Peer check: the engine against the established backtester bt (1.4.1) on the same
target-weight schedules.

bt trades at the price of the bar it is given and values holdings at that same price. So:
- bt is fed the engine's *execution* schedule (`execution_schedule` below, rules 1 and 3 of
  engine.sim.simulate: each decision moved to the bar after it, decisions made before the start
  carried into the first bar), on exactly the bars where something is ordered;
- bt's price data is the engine's fill price (open where a ticker has opens, else close).
  Where that is not the close, bt's own curve is valued at the opens, so the test values
  bt's positions and cash at the close itself (the engine's rule 5);
- only full rows are used (every ticker has a number): bt closes a position whose weight is
  missing, the engine leaves it alone (NaN = no order);
- slippage is 0 (bt has no slippage model); fees are compared separately, see below.
With that, bt and the engine do the same arithmetic and agree to rounding.

Measured (2024-07-01..2025-12-31, 100 000 initial cash, bt integer_positions=False):
- inference_rotation defaults, no costs: final equity 146533.0359 in both, daily curves
  within 4.5e-16 relative;
- MRVL/ARM/TSM quarterly schedule, no costs: final equity 145234.7190 in both, bt's own
  curve within 4.1e-16 relative;
- inference_rotation with fees 5 bp: final 146268.45 (engine) vs 146259.42 (bt), curves
  within 6.4e-5 relative (fees paid 206.11 vs 206.19); with fees 1 %: 141344.93 vs
  141155.96, within 1.4e-3 (fees 4033.94 vs 4047.63).
"""

from __future__ import annotations

import os

import bt
import numpy as np
import pandas as pd
import pytest

from engine.backtest.run import needed_tickers
from engine.config import load_config
from engine.data.panel import Prices, load_prices
from engine.sim.simulate import Costs, simulate
from engine.strategy import registry

# load_config() reads this when called: a ticker missing locally is an error, never a download
os.environ.setdefault("AISHOCK_OFFLINE", "1")

START, END = "2024-07-01", "2025-12-31"
CASH = 100_000.0
RTOL = 1e-9  # both do the same float arithmetic in a different order: rounding only


def execution_schedule(targets: pd.DataFrame, index: pd.DatetimeIndex, start) -> pd.DataFrame:
    """Orders by execution bar: each decision on the first bar after it (later decisions for
    one bar win), and each ticker's last decision before `start` carried into its first bar."""
    bar = index.searchsorted(targets.index, side="right")
    keep = bar < len(index)
    orders = targets[keep].groupby(index[bar[keep]]).last().reindex(index)
    first = index.searchsorted(pd.Timestamp(start))
    carried = orders.iloc[: first + 1].ffill().iloc[-1]
    orders = orders.iloc[first:].copy()
    orders.iloc[0] = carried
    return orders


def run_bt(prices: Prices, targets: pd.DataFrame, fees: float = 0.0):
    """Run `targets` (decisions by date) through bt the way the engine executes them.
    Returns bt's own daily value, and its positions and cash valued at the close."""
    schedule = execution_schedule(targets, prices.index, START).dropna(how="all")
    assert schedule.notna().all().all(), "bt reads a missing weight as 'close the position'"
    fill = prices.fill_price().loc[START:, targets.columns]
    assert fill.notna().all().all()
    strategy = bt.Strategy("s", [bt.algos.WeighTarget(schedule), bt.algos.Rebalance()])
    test = bt.Backtest(
        strategy,
        fill,
        initial_capital=CASH,
        integer_positions=False,
        commissions=(lambda q, p: abs(q) * p * fees) if fees else None,
        progress_bar=False,
    )
    bt.run(test)
    done = test.strategy
    # bt prepends a bar one day before the data, holding the initial capital: drop it
    native = done.values.iloc[1:]
    positions = done.positions.iloc[1:].reindex(columns=targets.columns, fill_value=0.0)
    cash = done.data["cash"].iloc[1:]
    at_close = cash + (positions * prices.close.loc[START:, targets.columns]).sum(axis=1)
    return native, at_close, float(done.data["fees"].sum())


def engine_run(prices: Prices, targets: pd.DataFrame, fees: float = 0.0):
    sim = simulate(prices, pd.concat({0: targets}, axis=1), Costs(fees, 0.0, CASH), START)
    return sim.equity[0], float(sim.orders["fees"].sum())


def rel_gap(a: pd.Series, b: pd.Series) -> float:
    assert a.index.equals(b.index)
    return float(((a - b).abs() / b).max())


@pytest.fixture(scope="module")
def rotation():
    spec = registry.get("inference_rotation")
    params = spec.params()
    prices = load_prices(needed_tickers(spec, [params]), end=END, config=load_config())
    return prices, spec.weights(prices, params)


def test_inference_rotation_matches_bt(rotation):
    prices, targets = rotation
    assert prices.close_only and set(targets.columns) - prices.close_only  # opens and closes
    engine, _ = engine_run(prices, targets)
    _, bt_at_close, _ = run_bt(prices, targets)
    assert engine.iloc[-1] == pytest.approx(bt_at_close.iloc[-1], rel=RTOL)
    assert rel_gap(bt_at_close, engine) < RTOL


def test_simple_schedule_matches_bt_own_curve():
    """Close-only tickers: bt's own daily value is directly comparable (fills and
    valuation both at the close)."""
    tickers = ["MRVL", "ARM", "TSM"]
    prices = load_prices(tickers, end=END, config=load_config())
    assert prices.close_only == set(tickers)
    targets = pd.DataFrame(np.nan, index=prices.index, columns=tickers)
    quarters = prices.index.to_series().groupby(prices.index.to_period("Q")).first()
    mixes = [[0.5, 0.3, 0.2], [0.0, 0.6, 0.4], [0.2, 0.3, 0.5], [0.34, 0.0, 0.66]]
    for i, day in enumerate(quarters.loc["2024-01-01":]):
        targets.loc[day] = mixes[i % len(mixes)]
    engine, _ = engine_run(prices, targets)
    native, _, _ = run_bt(prices, targets)
    assert engine.iloc[-1] == pytest.approx(native.iloc[-1], rel=RTOL)
    assert rel_gap(native, engine) < RTOL


@pytest.mark.parametrize("fees", [0.0005, 0.01])
def test_fees_differ_from_bt_only_through_sizing(rotation, fees):
    """With fees the two differ, by design, in how a trade is sized:
    - bt (Security.allocate) makes a buy's cost *including* its commission equal the weight's
      amount, and a sell raise the amount *net* of commission, so after every rebalance each
      bought name is short of its weight by about fee x trade and sold names are sold a bit
      further;
    - the engine buys the full w * V / price shares and pays the fee on top; the
      fees of a fully invested row then exceed the cash, and the bar's last (biggest) buy is
      reduced instead.
    Both pay nearly the same fees (same turnover); the curves drift apart only through these
    small position differences, so the gap stays a small fraction of the fees paid (measured:
    about 3 % of fees / initial cash, for both fee levels). Bound used: 10 %."""
    prices, targets = rotation
    engine, engine_fees = engine_run(prices, targets, fees)
    _, bt_at_close, bt_fees = run_bt(prices, targets, fees)
    assert bt_fees == pytest.approx(engine_fees, rel=0.01)
    gap = rel_gap(bt_at_close, engine)
    assert 0 < gap < 0.1 * engine_fees / CASH
