"""No look-ahead, for every registered strategy: changing any price after day t changes no
target weight decided up to t and no trade filled up to t. A new strategy is covered by
registering it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Costs, load_prices
from engine.data.panel import Prices
from engine.sim.simulate import simulate
from engine.strategy import params, registry

START, END = "2024-10-01", "2025-06-30"
# a membership file whose members join and leave inside the window (point-in-time universe)
PIT = str(Path(__file__).parent / "membership" / "ai_point_in_time.csv")
CUTS = ["2025-01-24", "2025-01-27", "2025-01-28", "2025-02-12", "2025-04-02"]  # around the shock
# non-default settings that exercise other code paths; every registered strategy also runs
# with its defaults, so a new strategy is covered by registering it
VARIANTS = {
    "oversold_rebound": [
        {"mode": "per_name", "min_drop": 0.05, "hold_days": 11},
        {"exit_on_recovery": True, "stop_loss": 0.1, "weighting": "inverse_vol", "earnings_within": 30},
        {"universe": PIT, "top_k": 4},
        {"universe": PIT, "mode": "per_name", "min_drop": 0.05, "hold_days": 7},
    ],
    "inference_rotation": [{"relative_strength": True, "rebalance_days": 5}],
    "buy_and_hold": [{"hold": "ai", "rebalance_days": 10}, {"hold": "SMH", "weight": -1.0}, {"hold": PIT}],
    "inference_pair": [{"hedge": "beta", "rebalance_days": 5, "lookback": 20}],
}
CASES = [
    (name, overrides)
    for name in sorted(registry.load_builtin())
    for overrides in [{}, *VARIANTS.get(name, [])]
]


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


def check_cut(cfg, name: str, overrides: dict, t: pd.Timestamp, seeds=range(2)) -> None:
    spec = registry.get(name)
    p = params.make(spec.params, overrides)
    prices = load_prices(spec.tickers(p), end=END, config=cfg)
    base_w = spec.weights(prices, p)
    for seed in seeds:
        moved = perturbed(prices, t, seed)
        w = spec.weights(moved, p)
        pd.testing.assert_frame_equal(w.loc[:t], base_w.loc[:t])
        a = simulate(prices, pd.concat({0: base_w}, axis=1), Costs(), START)
        b = simulate(moved, pd.concat({0: w}, axis=1), Costs(), START)
        pd.testing.assert_frame_equal(a.orders[a.orders["date"] <= t], b.orders[b.orders["date"] <= t])
        pd.testing.assert_frame_equal(a.equity.loc[:t], b.equity.loc[:t])


@pytest.mark.parametrize(("name", "overrides"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
@pytest.mark.parametrize("cut", CUTS)
def test_prices_after_t_change_nothing_up_to_t(cfg, name, overrides, cut):
    check_cut(cfg, name, overrides, pd.Timestamp(cut))


@pytest.mark.parametrize(("name", "overrides"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
@settings(max_examples=4, deadline=None, derandomize=True, database=None)
@given(day=st.integers(0, 180), seed=st.integers(0, 2**16))
def test_random_day_t(cfg, name, overrides, day, seed):
    t = pd.bdate_range(START, END)[day]
    check_cut(cfg, name, overrides, t, seeds=[seed])


def test_the_check_can_fail_for_a_peeking_strategy(cfg):
    prices = load_prices(["NVDA", "SPY"], end=END, config=cfg)
    t = pd.Timestamp("2025-01-27")

    def peeking(pr):  # holds NVDA when tomorrow's close is higher: uses the future
        up = pr.close["NVDA"].shift(-1) > pr.close["NVDA"]
        return pd.DataFrame({"NVDA": up.astype(float), "SPY": 0.0})

    seen = [peeking(perturbed(prices, t, seed)).loc[:t] for seed in range(10)]
    assert any(not peeking(prices).loc[:t].equals(w) for w in seen)
