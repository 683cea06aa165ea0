"""The compiled engine against vectorbt 1.2's `Portfolio.from_orders` on every case vectorbt
can express: long-only (direction="longonly") and shorts without leverage (direction="both",
gross exposure <= 1), no delistings and no interest (vectorbt has neither). Daily equity and
cash must agree to a relative 1e-9 and the number of filled orders exactly, on both theses
(and `inference_pair` / short `buy_and_hold` when registered) and on hypothesis schedules.

vectorbt is driven with the engine's rules spelled out: one group sharing cash,
size_type="targetpercent", call_seq="auto", each decision on the bar after it (those before
the first bar carried into it), price = the fill price (the open where the ticker has opens,
else the close; the close with fill="close"), val_price = the fill price where there is one
else the last close, close forward-filled and back-filled before a listing (so vectorbt never
multiplies 0 shares by NaN), fees, slippage and init_cash."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
import vectorbt as vbt
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_reference_sim import markets, schedules

from engine.backtest.run import needed_tickers
from engine.config import load_config
from engine.data.panel import Prices, load_prices
from engine.sim.simulate import Costs, simulate
from engine.strategy import registry

os.environ.setdefault("AISHOCK_OFFLINE", "1")

START, END = "2024-07-01", "2025-12-31"
RTOL = 1e-9
THESES = ["oversold_rebound", "inference_rotation"]
GAPS: dict[str, float] = {}  # family -> largest relative equity gap seen


def vectorbt_portfolio(prices: Prices, targets: pd.DataFrame, costs: Costs, start, direction: str):
    """`targets` (dates x tickers, NaN = no order) simulated by vbt.Portfolio.from_orders
    from the first bar on or after `start`."""
    index, tickers = prices.index, list(targets.columns)
    first = int(index.searchsorted(pd.Timestamp(start))) if start is not None else 0
    close = prices.close[tickers]
    opens = prices.open[tickers]
    fill = opens.where(opens.notna(), close) if costs.fill == "open" else close
    last_close = close.ffill()
    # rule 1: a decision dated d executes on the first bar after d; rule 3: those executing
    # before the first simulated bar are carried into it; a later decision wins
    size = np.full(close.shape, np.nan)
    ordered = targets.sort_index()
    for bar, row in zip(
        index.searchsorted(ordered.index, side="right"), ordered.to_numpy(float), strict=True
    ):
        if bar < len(index):
            size[max(bar, first), ~np.isnan(row)] = row[~np.isnan(row)]
    size[np.isnan(fill.to_numpy())] = np.nan  # no price at the bar: not traded
    val_price = fill.where(fill.notna(), last_close).bfill()
    return vbt.Portfolio.from_orders(
        close=last_close.bfill().iloc[first:],
        size=pd.DataFrame(size, index=index, columns=tickers).iloc[first:],
        size_type="targetpercent",
        direction=direction,
        price=fill.iloc[first:],
        val_price=val_price.iloc[first:],
        fees=costs.fees,
        slippage=costs.slippage,
        init_cash=costs.init_cash,
        cash_sharing=True,
        group_by=True,
        call_seq="auto",
        freq="1D",
    )


def assert_same_as_vectorbt(prices, targets, costs, start, direction, family, drawn=False) -> None:
    """Engine and vectorbt: daily equity and cash to RTOL, the same number of orders.
    `drawn`: a hypothesis example, discarded if the run is ever wiped out (vectorbt has no
    rule 8 and refuses orders at V <= 0)."""
    sim = simulate(prices, pd.concat({0: targets}, axis=1), costs, start)
    alive = bool((sim.equity[0] > 0).all())
    if drawn:
        assume(alive)
    assert alive
    pf = vectorbt_portfolio(prices, targets, costs, start, direction)
    vbt_cash = pf.cash().to_numpy()
    vbt_equity = vbt_cash + pf.asset_value().to_numpy()  # = pf.value(), one cash() call fewer
    equity = sim.equity[0].to_numpy()
    GAPS[family] = max(GAPS.get(family, 0.0), float(np.max(np.abs(equity - vbt_equity) / np.abs(vbt_equity))))
    assert sim.equity.index.equals(pf.wrapper.index)
    np.testing.assert_allclose(equity, vbt_equity, rtol=RTOL, atol=0)
    scale = costs.init_cash + np.abs(vbt_cash).max()
    np.testing.assert_allclose(sim.cash[0].to_numpy(), vbt_cash, rtol=RTOL, atol=1e-9 * scale)
    assert len(sim.orders) == len(pf.orders.values)


@pytest.fixture(scope="module", autouse=True)
def report_gaps():
    yield
    for family, worst in sorted(GAPS.items()):
        print(f"\nlargest relative equity gap against vectorbt, {family}: {worst:.3g}")


@pytest.fixture(scope="module")
def market():
    """Prices of every ticker the strategies under test need (default params)."""
    registry.load_builtin()
    present = [n for n in [*THESES, "inference_pair"] if n in registry.REGISTRY]
    names = [t for n in present for t in needed_tickers(registry.get(n), [registry.get(n).params()])]
    return load_prices(list(dict.fromkeys([*names, "SPY"])), end=END, config=load_config())


# -- strategies on real data -------------------------------------------------------------


@pytest.mark.parametrize("fill", ["open", "close"])
@pytest.mark.parametrize(("fees", "slippage"), [(0.0, 0.0), (0.001, 0.0005)])
@pytest.mark.parametrize("name", THESES)
def test_theses_match_vectorbt(market, name, fees, slippage, fill):
    spec = registry.get(name)
    prices = market.select(needed_tickers(spec, [spec.params()]))
    targets = spec.weights(prices, spec.params())
    costs = Costs(fees, slippage, 100_000.0, fill)
    assert_same_as_vectorbt(prices, targets, costs, START, "longonly", "theses (long-only)")


SHORT_CASES = [
    ("inference_pair", {}),
    ("inference_pair", {"hedge": "beta"}),
    ("buy_and_hold", {"weight": -1.0}),
]


@pytest.mark.parametrize("fill", ["open", "close"])
@pytest.mark.parametrize(("name", "params"), SHORT_CASES, ids=["pair", "pair_beta", "hold_-1x"])
def test_unlevered_short_strategies_match_vectorbt(market, name, params, fill):
    """Long/short strategies with gross exposure <= 1 (direction="both")."""
    registry.load_builtin()
    spec = registry.REGISTRY.get(name)
    if spec is None:
        pytest.skip(f"strategy {name} is not registered yet")
    fields = set(spec.params.__dataclass_fields__)
    if not set(params) <= fields:
        pytest.skip(f"{name} has no parameter(s) {sorted(set(params) - fields)} yet")
    p = spec.params(**params)
    prices = market.select(needed_tickers(spec, [p]))
    targets = spec.weights(prices, p)
    assert targets.abs().sum(axis=1).max() <= 1.0 + 1e-9
    assert (targets < 0).any().any()
    costs = Costs(0.0005, 0.0005, 100_000.0, fill)
    assert_same_as_vectorbt(prices, targets, costs, START, "both", "strategies with shorts")


# -- hypothesis: synthetic markets and schedules -----------------------------------------

# Costs of 0 or at least 1e-6: vectorbt fills a buy in full when its cost exceeds the cash by
# less than a relative 1e-9 (vectorbt.utils.math_.is_close_or_less_nb), where rule 5 cuts it;
# with fees + slippage around 1e-9 a full-cash buy lands in that band, 1e-9 from the engine.
costs_st = st.one_of(st.just(0.0), st.floats(1e-6, 0.01))
HYPOTHESIS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def draw_case(data):
    prices = data.draw(markets())
    fees, slippage = data.draw(costs_st), data.draw(costs_st)
    init_cash = data.draw(st.sampled_from([1_000.0, 100_000.0, 1e7]))
    fill = data.draw(st.sampled_from(["open", "open", "close"]))
    start_at = data.draw(st.integers(0, len(prices.index) - 1))
    start = None if start_at == 0 else prices.index[start_at]
    return prices, Costs(fees, slippage, init_cash, fill), start


@HYPOTHESIS
@given(data=st.data())
def test_random_long_only_schedules_match_vectorbt(data):
    prices, costs, start = draw_case(data)
    targets = data.draw(schedules(prices))
    assert_same_as_vectorbt(prices, targets, costs, start, "longonly", "hypothesis long-only", drawn=True)


@HYPOTHESIS
@given(data=st.data())
def test_random_unlevered_long_short_schedules_match_vectorbt(data):
    prices, costs, start = draw_case(data)
    targets = data.draw(schedules(prices, 1.0, shorts=True))
    assert_same_as_vectorbt(
        prices, targets, costs, start, "both", "hypothesis long/short, gross <= 1", drawn=True
    )
