"""Hansen's SPA test of a whole sweep grid against buy-and-hold: arch's p-values (the compiled
test against arch.bootstrap.SPA itself, case by case), a small p for a clearly superior
combination, a large one for noise; the stationary bootstrap's indices and block lengths
against arch's."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
from arch.bootstrap import SPA, StationaryBootstrap, optimal_block_length

from engine.analytics.bootstrap import optimal_block_lengths, stationary_indices
from engine.analytics.spa import _kappa, _variance, bootstrap_maxima, spa_block_length, spa_test

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
        ((np.zeros((20, 3)), np.zeros(20)), {"seed": "seven"}, "seed must be an integer"),
    ],
)
def test_bad_input_is_one_line(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        spa_test(*args, **kwargs)


def named_case(name: str) -> tuple[np.ndarray, np.ndarray, int | None]:
    """(T x N daily returns, benchmark, block) of a case of the table below."""
    rng = np.random.default_rng(11)
    t = 10 if name == "ten days" else T
    bench = rng.normal(0.0004, 0.012, t)

    def noise(n: int) -> np.ndarray:
        return rng.normal(0.0, 0.006, (t, n))

    if name in ("clear winner", "clear winner, estimated block"):
        models = bench[:, None] + noise(20)
        models[:, 3] += 0.0005  # about 2 standard errors of its mean a day: p of 0.5 to 2 %
        return models, bench, 3 if name == "clear winner" else None
    if name in ("all worse than the benchmark", "all worse, one block"):
        models = bench[:, None] + noise(12) - 0.0005
        return models, bench, 4 if name == "all worse than the benchmark" else t
    if name == "ties with the benchmark":
        return np.repeat(bench[:, None], 6, axis=1), bench, 2
    if name == "duplicate combinations":
        models = bench[:, None] + noise(8)
        models[:, 1:5] = models[:, [0]]
        return models, bench, 3
    if name == "one model":
        return bench[:, None] + noise(1) + 0.0003, bench, 4
    if name == "one model, one block":  # worse than the benchmark: its lower p compares each
        # rotation's mean with the mean of the same returns, decided by the last bit of the sums
        return bench[:, None] + noise(1) - 0.0003, bench, t
    if name == "a block of one day":
        return bench[:, None] + noise(10), bench, 1
    if name == "a block longer than the series":
        return bench[:, None] + noise(10), bench, 3 * t
    if name == "constant columns":
        models = bench[:, None] + noise(6)
        models[:, 0] = 0.001  # a constant return
        models[:, 1] = bench + 0.0002  # a constant difference from the benchmark
        return models, bench, 5
    if name == "many models":
        return bench[:, None] + noise(700), bench, 2  # several blocks of columns, one partial
    if name == "autocorrelated, estimated block":
        e = noise(15)
        for i in range(1, t):
            e[i] += 0.6 * e[i - 1]
        return bench[:, None] + e, bench, None
    if name == "ten days":
        return bench[:, None] + noise(3), bench, 2
    raise KeyError(name)


CASES = (
    "clear winner",
    "clear winner, estimated block",
    "all worse than the benchmark",
    "all worse, one block",
    "ties with the benchmark",
    "duplicate combinations",
    "one model",
    "one model, one block",
    "a block of one day",
    "a block longer than the series",
    "constant columns",
    "many models",
    "autocorrelated, estimated block",
    "ten days",
)


def archs(models, bench, block, reps, seed) -> SPA:
    spa = SPA(-bench, -models, block_size=block, reps=reps, bootstrap="stationary", seed=seed)
    with np.errstate(invalid="ignore", divide="ignore"):
        spa.compute()
    return spa


@pytest.mark.parametrize("name", CASES)
def test_the_compiled_pvalues_equal_archs_spa(name):
    models, bench, block = named_case(name)
    for seed, reps in ((5, 200), (12, 57)):
        out = spa_test(models, bench, seed=seed, reps=reps, block=block)
        spa = archs(models, bench, out["block"], reps, seed)
        assert out["pvalues"] == {k: float(spa.pvalues[k]) for k in ("lower", "consistent", "upper")}, seed
    if block is None:
        assert out["block"] == spa_block_length(models, bench)


@pytest.mark.parametrize("name", CASES)
def test_every_replications_maxima_and_the_variances_are_archs_to_the_bit(name):
    """Not only the p-values: the maximum over the models of each replication's re-centred
    means (what arch counts) and the variances of the consistent bound are arch's exactly, so
    that no comparison with the statistic can come out otherwise."""
    models, bench, block = named_case(name)
    block = block or 3
    spa = archs(models, bench, block, 150, 7)
    d = spa._loss_diff
    mean = d.mean(axis=0)
    centres = np.vstack([np.maximum(mean, 0.0), np.where(spa._valid_columns, mean, 0.0), mean])
    top = bootstrap_maxima(d, stationary_indices(len(d), 150, block, 7), centres)
    assert np.array_equal(top, spa._simulated_vals.max(axis=0))
    assert np.array_equal(_variance(d - mean, _kappa(len(d), block)), spa._loss_diff_var)


@pytest.mark.parametrize(
    "seed", [3, np.int64(9), np.random.default_rng(4), np.random.RandomState(8)], ids=str
)
@pytest.mark.parametrize(("n", "block"), [(10, 1), (57, 3), (300, 12), (40, 200)])
def test_the_stationary_indices_are_archs(seed, n, block):
    import copy

    ours = stationary_indices(n, 25, block, copy.deepcopy(seed))
    bs = StationaryBootstrap(block, np.arange(n), seed=copy.deepcopy(seed))
    assert np.array_equal(ours, np.array([data[0][0] for data in bs.bootstrap(25)]))


def block_case(name: str) -> np.ndarray:
    rng = np.random.default_rng(2)
    t = {"ten days": 10, "eight days": 8}.get(name, 1003)
    e = rng.normal(0.0, 0.01, (t, 6))
    if name.startswith("AR(1)"):
        phi = float(name.split()[-1])
        for i in range(1, t):
            e[i] += phi * e[i - 1]
    elif name == "random walk":
        e = np.cumsum(e, axis=0)
    elif name == "a constant column and a spike":
        e[:, 0] = 0.003
        e[:, 1] = 0.0
        e[500, 1] = 0.05
    elif name == "many columns":
        e = rng.normal(0.0, 0.01, (t, 400)) * rng.uniform(0.1, 10, 400)
    return e


@pytest.mark.parametrize(
    "name",
    [
        "independent",
        "AR(1) 0.3",
        "AR(1) 0.9",
        "AR(1) -0.6",
        "random walk",
        "a constant column and a spike",
        "many columns",
        "ten days",
        "eight days",
    ],
)
def test_the_block_lengths_are_archs_optimal_block_length(name):
    x = block_case(name)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = optimal_block_length(x)["stationary"].to_numpy()
    ours = optimal_block_lengths(x)
    np.testing.assert_allclose(ours, expected, rtol=1e-9, atol=0)  # NaN where arch has NaN
    assert np.array_equal(optimal_block_lengths(x[:, 2]), ours[2:3])  # one series alike


def test_spa_block_length_is_the_median_of_archs():
    for name in ("AR(1) 0.3", "a constant column and a spike", "many columns"):
        x = block_case(name)
        bench = np.random.default_rng(5).normal(0.0, 0.01, len(x))
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            lengths = optimal_block_length(x - bench[:, None])["stationary"].to_numpy()
        expected = max(1, round(float(np.median(lengths[np.isfinite(lengths)]))))
        assert spa_block_length(x, bench) == expected
    assert spa_block_length(np.zeros((50, 2)), np.zeros(50)) == 1  # undefined everywhere: 1


def test_spa_runs_without_arch(monkeypatch):
    """The test is computed by the engine: arch (a 2 s import) is only its check here."""
    models, bench = grid(n=6)
    expected = spa_test(models, bench, reps=100)
    monkeypatch.setitem(sys.modules, "arch", None)
    monkeypatch.setitem(sys.modules, "arch.bootstrap", None)
    assert spa_test(models, bench, reps=100) == expected
    assert spa_test(models, bench, reps=100, block=None)["block"] == expected["block"]


def test_too_few_days_for_a_block_length_is_one_line():
    with pytest.raises(ValueError, match="at least 8 observations"):
        optimal_block_lengths(np.zeros((7, 2)))
