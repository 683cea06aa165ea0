"""The built-in strategies (array code, many parameter sets at once) give the same weights as
the pandas implementations they replaced (tests/strategy_oracles.py), set by set, on the
real snapshot; and a set computed among many equals the set computed alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import strategy_oracles as oracle

from engine import load_prices
from engine.data.universe import resolve
from engine.strategy import params, registry

VARIANTS = {
    "oversold_rebound": [
        {},
        {"top_k": 3, "hold_days": 40},
        {"top_k": 5, "exit_on_recovery": True},
        {"stop_loss": 0.05, "hold_days": 60},
        {"exit_on_recovery": True, "stop_loss": 0.1, "top_k": 12},
        {"weighting": "inverse_vol"},
        {"weighting": "inverse_vol", "vol_lookback": 5, "top_k": 20},
        {"earnings_within": 30, "top_k": 5},
        {"earnings_within": 10, "weighting": "inverse_vol"},
        {"min_drop": 0.03},
        {"min_drop": 0.02, "max_market_drop": 0.05, "hold_days": 3, "exit_on_recovery": True},
        {"event_date": "2024-08-05", "top_k": 4},
        {"universe": "power,grid", "min_drop": 0.04},
        {"mode": "per_name", "min_drop": 0.05, "hold_days": 11},
        {"mode": "per_name", "min_drop": 0.02, "hold_days": 1},
        {"mode": "per_name", "min_drop": 0.08, "hold_days": 30, "universe": "sweep_job"},
    ],
    "inference_rotation": [
        {},
        {"fraction": 0.3},
        {"fraction": 0.8, "rebalance_days": 10},
        {"rebalance_days": 0},
        {"relative_strength": True},
        {"relative_strength": True, "lookback": 5, "floor": 0.2, "rebalance_days": 3},
        {"event_date": "2024-08-05", "fraction": 1.0},
        {"min_drop": 0.03, "relative_strength": True},
        {"base": "power", "into": "inference,networking"},
    ],
    "buy_and_hold": [
        {},
        {"hold": "ai"},
        {"hold": "ai", "rebalance_days": 21},
        {"hold": "power,grid", "rebalance_days": 1},
        {"hold": "SMH,ALAB"},
    ],
}


@pytest.fixture(scope="module")
def prices(cfg):
    names = {
        t
        for n in VARIANTS
        for v in VARIANTS[n]
        for t in registry.get(n).tickers(params.make(registry.get(n).params, v))
    }
    return load_prices(sorted(names | {"SPY"}), end="2025-12-31", config=cfg)


def cases():
    return [(n, v) for n in VARIANTS for v in VARIANTS[n]]


@pytest.mark.parametrize(("name", "variant"), cases(), ids=lambda x: str(x))
def test_array_strategy_equals_its_pandas_oracle(prices, name, variant):
    spec = registry.get(name)
    p = params.make(spec.params, variant)
    got = spec.weights(prices, p)
    want = getattr(oracle, name)(prices, p)
    want = want.reindex(columns=got.columns)
    # the last row's decisions have no bar to execute on: a Schedule drops them
    got, want = got.iloc[:-1], want.iloc[:-1]
    assert got.notna().to_numpy().sum() > 0
    np.testing.assert_array_equal(got.isna().to_numpy(), want.isna().to_numpy())
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-12, atol=1e-15, equal_nan=True)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_a_set_among_many_equals_the_set_alone(prices, name):
    spec = registry.get(name)
    sets = [params.make(spec.params, v) for v in VARIANTS[name]]
    many = spec.schedule(prices, sets)
    for k, p in enumerate(sets):
        alone = spec.weights(prices, p)
        together = many.frame(k).reindex(columns=alone.columns)
        pd.testing.assert_frame_equal(together, alone, check_names=False)


def test_per_name_mode_buys_one_slot_per_signal(prices):
    p = params.make(registry.get("oversold_rebound").params, {"mode": "per_name", "universe": "sweep_job"})
    w = registry.get("oversold_rebound").weights(prices, p)
    assert set(np.unique(w.to_numpy()[~np.isnan(w.to_numpy())])) == {0.0, 1 / len(resolve("sweep_job"))}
