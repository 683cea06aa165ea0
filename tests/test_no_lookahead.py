"""No look-ahead, for every registered strategy: changing any price after day t changes no
target weight decided up to t and no trade filled up to t. A new strategy is covered by
registering it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine import Costs, load_prices, registry
from engine.data.panel import Prices
from engine.simulate import simulate

START, END = "2024-10-01", "2025-06-30"
CUTS = ["2025-01-24", "2025-01-27", "2025-01-28", "2025-02-12", "2025-04-02"]


def perturbed(prices: Prices, after: pd.Timestamp, seed: int) -> Prices:
    rng = np.random.default_rng(seed)
    later = prices.index > after
    fields = {}
    for name in ("close", "open", "high", "low"):
        frame = getattr(prices, name).copy()
        shock = np.exp(rng.normal(0, 0.2, size=(int(later.sum()), frame.shape[1])))
        frame.loc[later] = frame.loc[later].to_numpy() * shock
        fields[name] = frame
    return Prices(
        **fields,
        volume=prices.volume,
        close_only=prices.close_only,
        sources=prices.sources,
        earnings=prices.earnings,
    )


@pytest.mark.parametrize("name", sorted(registry.load_builtin()))
@pytest.mark.parametrize("cut", CUTS)
def test_prices_after_t_change_nothing_up_to_t(cfg, name, cut):
    spec = registry.get(name)
    p = spec.params()
    prices = load_prices(spec.tickers(p), end=END, config=cfg)
    t = pd.Timestamp(cut)
    base_w = spec.weights(prices, p)
    for seed in range(2):
        moved = perturbed(prices, t, seed)
        w = spec.weights(moved, p)
        pd.testing.assert_frame_equal(w.loc[:t], base_w.loc[:t])
        a = simulate(prices, pd.concat({0: base_w}, axis=1), Costs(), START)
        b = simulate(moved, pd.concat({0: w}, axis=1), Costs(), START)
        pd.testing.assert_frame_equal(a.orders[a.orders["date"] <= t], b.orders[b.orders["date"] <= t])
        pd.testing.assert_frame_equal(a.equity.loc[:t], b.equity.loc[:t])


def test_the_check_can_fail_for_a_peeking_strategy(cfg):
    prices = load_prices(["NVDA", "SPY"], end=END, config=cfg)
    t = pd.Timestamp("2025-01-27")

    def peeking(pr):  # holds NVDA when tomorrow's close is higher: uses the future
        up = pr.close["NVDA"].shift(-1) > pr.close["NVDA"]
        return pd.DataFrame({"NVDA": up.astype(float), "SPY": 0.0})

    seen = [peeking(perturbed(prices, t, seed)).loc[:t] for seed in range(10)]
    assert any(not peeking(prices).loc[:t].equals(w) for w in seen)
