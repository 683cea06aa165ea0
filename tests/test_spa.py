"""Hansen's SPA test of a whole sweep grid against buy-and-hold: arch's p-values, a small p
for a clearly superior combination, a large one for noise."""

from __future__ import annotations

import numpy as np
import pytest
from arch.bootstrap import SPA, optimal_block_length

from engine.analytics.overfit import spa_block_length, spa_test

T = 500


def grid(n: int = 20, seed: int = 0, edge: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(T x n daily returns, benchmark): each combination is the benchmark plus independent
    zero-mean noise; combination 3 also earns `edge` a day more."""
    rng = np.random.default_rng(seed)
    bench = rng.normal(0.0004, 0.012, T)
    models = bench[:, None] + rng.normal(0.0, 0.006, (T, n))
    models[:, 3] += edge
    return models, bench


@pytest.mark.parametrize("block", [4, None])
def test_pvalues_equal_archs_spa_called_directly(block):
    models, bench = grid(n=8, seed=1)
    out = spa_test(models, bench, seed=5, reps=300, block=block)
    used = out["block"]
    spa = SPA(-bench, -models, block_size=used, reps=300, bootstrap="stationary", seed=5)
    spa.compute()
    assert out["pvalues"] == {k: float(spa.pvalues[k]) for k in ("lower", "consistent", "upper")}
    assert (out["reps"], out["seed"], out["n_models"], out["n_days"]) == (300, 5, 8, T)
    assert out["best_excess"] == pytest.approx((models - bench[:, None]).mean(axis=0).max())
    if block is None:
        diffs = models - bench[:, None]
        lengths = optimal_block_length(diffs)["stationary"].to_numpy()
        assert used == max(1, round(float(np.median(lengths)))) == spa_block_length(models, bench)


def test_deterministic_for_a_seed():
    models, bench = grid()
    assert spa_test(models, bench, seed=3) == spa_test(models, bench, seed=3)


def test_one_clearly_superior_combination_gives_a_small_p():
    models, bench = grid(edge=0.002)  # 0.2 % a day over the benchmark, noise sd 0.6 %
    p = spa_test(models, bench)["pvalues"]
    assert p["consistent"] < 0.01 and p["upper"] < 0.01


def test_pure_noise_gives_a_large_p():
    """Under the null the p-value is spread over (0, 1): over six noise grids (fixed seeds)
    none is small and they average well above the usual thresholds."""
    ps = []
    for seed in range(6):
        models, bench = grid(seed=seed)
        p = spa_test(models, bench)["pvalues"]
        assert p["lower"] <= p["consistent"] <= p["upper"]
        ps.append(p["consistent"])
    assert min(ps) > 0.1 and np.mean(ps) > 0.3
    _, bench = grid()
    worse, _ = grid(edge=0.0)
    worse -= 0.001  # every combination loses 0.1 % a day to the benchmark
    assert spa_test(worse, bench)["pvalues"]["consistent"] > 0.9


def test_a_pandas_grid_gives_the_same_answer():
    import pandas as pd

    models, bench = grid(n=5)
    frame = pd.DataFrame(models, index=pd.bdate_range("2024-01-01", periods=T))
    assert spa_test(frame, pd.Series(bench, index=frame.index), reps=100) == spa_test(models, bench, reps=100)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((np.zeros((20, 3)), np.zeros(19)), {}, "19 days"),
        ((np.zeros((5, 3)), np.zeros(5)), {}, "10 days"),
        ((np.full((20, 3), np.nan), np.zeros(20)), {}, "finite"),
        ((np.zeros((20, 3)), np.zeros(20)), {"reps": 0}, "reps"),
        ((np.zeros((20, 3)), np.zeros(20)), {"block": 0}, "block"),
        ((np.zeros((20, 3, 2)), np.zeros(20)), {}, "days x combinations"),
    ],
)
def test_bad_input_is_one_line(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        spa_test(*args, **kwargs)
