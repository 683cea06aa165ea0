"""Bootstrap confidence intervals on Sharpe, total return and max drawdown: seeded, equal to
arch's own percentile interval, and as wide as the sample is short."""

from __future__ import annotations

import numpy as np
import pytest
from arch.bootstrap import StationaryBootstrap, optimal_block_length

from engine.analytics import metrics
from engine.analytics.intervals import STATS, block_length, for_series, intervals


def series(n: int = 500, seed: int = 1, mean: float = 0.0008, sd: float = 0.015) -> np.ndarray:
    """Daily returns with some autocorrelation (an AR(1) with phi 0.3), like a strategy's."""
    rng = np.random.default_rng(seed)
    e = rng.normal(0.0, sd, n)
    x = np.empty(n)
    x[0] = e[0]
    for t in range(1, n):
        x[t] = 0.3 * x[t - 1] + e[t]
    return mean + x


def test_the_shape_and_the_point_values_are_engine_metrics():
    x = series()
    out = intervals(x, rf=0.02)
    assert set(out) == {*STATS, "level", "n_boot", "block", "seed", "method", "n_obs", "n_undefined"}
    assert out["method"] == "stationary bootstrap" and out["n_boot"] == 2000 and out["level"] == 0.95
    assert out["sharpe"]["value"] == metrics.sharpe(x, rf=0.02)
    assert out["total_return"]["value"] == metrics.total_return(x)
    assert out["max_drawdown"]["value"] == metrics.max_drawdown(x)
    for name in STATS:  # a typical series: the point value lies inside its interval
        s = out[name]
        assert s["low"] < s["value"] < s["high"], name
    assert out["n_undefined"] == dict.fromkeys(STATS, 0)


def test_deterministic_for_a_seed_and_different_for_another():
    x = series()
    assert intervals(x, seed=7) == intervals(x, seed=7)
    assert intervals(x, seed=7)["sharpe"] != intervals(x, seed=8)["sharpe"]


@pytest.mark.parametrize("block", [1, 5, None])
def test_equals_archs_conf_int_called_directly(block):
    x = series(seed=3)
    out = intervals(x, n_boot=500, level=0.9, seed=11, block=block, periods=252)
    used = out["block"]
    bs = StationaryBootstrap(used, x, seed=11)
    ci = bs.conf_int(lambda a: np.array([metrics.sharpe(a)]), reps=500, method="percentile", size=0.9)
    assert out["sharpe"]["low"] == pytest.approx(ci[0, 0], rel=1e-12)
    assert out["sharpe"]["high"] == pytest.approx(ci[1, 0], rel=1e-12)
    bs = StationaryBootstrap(used, x, seed=11)
    both = bs.conf_int(
        lambda a: np.array([metrics.total_return(a), metrics.max_drawdown(a)]),
        reps=500,
        method="percentile",
        size=0.9,
    )
    assert [out["total_return"]["low"], out["max_drawdown"]["low"]] == pytest.approx(both[0], rel=1e-12)
    assert [out["total_return"]["high"], out["max_drawdown"]["high"]] == pytest.approx(both[1], rel=1e-12)


def test_the_block_length_is_archs_optimal_one():
    for seed in (1, 2, 3):
        x = series(seed=seed)
        expected = max(1, round(float(optimal_block_length(x)["stationary"].iloc[0])))
        assert block_length(x) == expected
        assert intervals(x, n_boot=50)["block"] == expected
    assert block_length(np.zeros(40)) == 1  # undefined for a flat series: 1


def test_a_shorter_sample_gives_a_wider_sharpe_interval():
    x = series(n=1000, seed=5)
    full = intervals(x, block=3)
    short = intervals(x[:150], block=3)
    assert short["sharpe"]["high"] - short["sharpe"]["low"] > 1.5 * (
        full["sharpe"]["high"] - full["sharpe"]["low"]
    )


def test_a_run_that_rarely_trades_counts_its_undefined_replications():
    x = np.zeros(300)
    x[100:110] = [0.02, -0.01, 0.015, -0.02, 0.01, 0.005, -0.005, 0.01, 0.0, 0.02]
    out = intervals(x, block=50)
    assert 0 < out["n_undefined"]["sharpe"] < out["n_boot"]
    assert out["n_undefined"]["total_return"] == 0
    assert np.isfinite(out["sharpe"]["low"]) and out["sharpe"]["low"] <= out["sharpe"]["high"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"returns": np.zeros(5)}, "at least 10 daily returns"),
        ({"returns": np.zeros((20, 2))}, "one series"),
        ({"returns": np.r_[np.zeros(20), np.inf]}, "infinite"),
        ({"returns": np.zeros(20), "level": 1.0}, "level"),
        ({"returns": np.zeros(20), "n_boot": 0}, "n_boot"),
        ({"returns": np.zeros(20), "block": 0}, "block"),
    ],
)
def test_bad_input_is_one_line(kwargs, message):
    with pytest.raises(ValueError, match=message):
        intervals(**kwargs)


def test_for_series_notes_a_short_run_instead_of_failing():
    assert for_series(np.zeros(3)) == {
        "note": "intervals need at least 10 daily returns, the run has 3",
        "n_obs": 3,
    }
    assert for_series(series(n=50), n_boot=20)["n_boot"] == 20
