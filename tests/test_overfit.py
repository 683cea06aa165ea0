"""Deflated Sharpe Ratio and PBO against published examples and direct computation."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats as sps

from engine.analytics import overfit


def test_dsr_numerical_example_of_bailey_lopez_de_prado_2014():
    # Section "A numerical example": 100 trials, best annualised SR 2.5 over 5 years of daily
    # returns (T = 1250, 250 per year), variance of annualised SRs across trials 0.5,
    # skewness -3, kurtosis 10. The paper reports DSR = 0.9004.
    sr0_annual = overfit.expected_max_sharpe(100, 0.5)
    z = sps.norm.ppf
    direct = math.sqrt(0.5) * ((1 - np.euler_gamma) * z(0.99) + np.euler_gamma * z(1 - 1 / (100 * math.e)))
    assert sr0_annual == pytest.approx(direct, rel=1e-12)
    dsr = overfit.probabilistic_sharpe(2.5 / math.sqrt(250), sr0_annual / math.sqrt(250), 1250, -3, 10)
    assert dsr == pytest.approx(0.9004, abs=5e-5)


def test_expected_max_sharpe_matches_monte_carlo():
    rng = np.random.default_rng(3)
    for n in (10, 100, 1000):
        draws = rng.normal(0, math.sqrt(0.04), size=(4000, n)).max(axis=1).mean()
        assert overfit.expected_max_sharpe(n, 0.04) == pytest.approx(draws, rel=0.03)
    assert overfit.expected_max_sharpe(1, 0.04) == 0.0


def test_psr_direct_formula_and_normal_case():
    # for normal returns (skew 0, kurtosis 3) PSR reduces to Phi((SR - SR*) sqrt(T-1) / sqrt(1 + SR^2/2))
    sr, t = 0.1, 500
    expected = sps.norm.cdf(sr * math.sqrt(t - 1) / math.sqrt(1 + sr**2 / 2))
    assert overfit.probabilistic_sharpe(sr, 0.0, t, 0.0, 3.0) == pytest.approx(expected, rel=1e-12)
    assert overfit.probabilistic_sharpe(sr, sr, t, 0.0, 3.0) == pytest.approx(0.5)


def test_dsr_falls_as_trials_grow():
    r = np.random.default_rng(1).normal(0.001, 0.01, 750)
    values = [overfit.deflated_sharpe(r, n, 0.002) for n in (1, 10, 100, 10_000)]
    assert all(a > b for a, b in itertools.pairwise(values))


def pbo_by_hand(m: np.ndarray, splits: int) -> float:
    """Independent loop: enumerate IS halves, pick the IS best by mean/std, rank it OOS."""
    import itertools

    t, n = m.shape
    size = t // splits
    blocks = [list(range(i * size, (i + 1) * size)) for i in range(splits)]
    below = 0
    combos = list(itertools.combinations(range(splits), splits // 2))
    for chosen in combos:
        ins = [r for b in chosen for r in blocks[b]]
        outs = [r for b in range(splits) if b not in chosen for r in blocks[b]]
        sr_in = [np.mean(m[ins, j]) / np.std(m[ins, j], ddof=1) for j in range(n)]
        sr_out = [np.mean(m[outs, j]) / np.std(m[outs, j], ddof=1) for j in range(n)]
        best = sr_in.index(max(sr_in))
        rank = 1 + sum(s < sr_out[best] for s in sr_out)
        below += rank / (n + 1) <= 0.5
    return below / len(combos)


def test_pbo_equals_direct_computation():
    m = np.random.default_rng(5).normal(0, 0.01, (240, 12))
    pbo, logits = overfit.pbo_cscv(m, n_splits=8)
    assert len(logits) == math.comb(8, 4)
    assert pbo == pytest.approx(pbo_by_hand(m, 8))


def test_pbo_is_zero_when_one_trial_dominates_everywhere():
    rng = np.random.default_rng(0)
    m = rng.normal(0, 0.01, (320, 10))
    m[:, 3] += 0.01  # best in every block
    assert overfit.pbo_cscv(m, 8)[0] == 0.0


def test_pbo_is_near_half_for_pure_noise():
    rng = np.random.default_rng(11)
    values = [overfit.pbo_cscv(rng.normal(0, 0.01, (320, 20)), 8)[0] for _ in range(10)]
    assert 0.3 < np.mean(values) < 0.7


def test_pbo_is_high_when_in_sample_winners_reverse():
    # each trial earns +a in its "lucky" blocks and -a elsewhere: IS winners lose OOS
    t, n, splits = 320, 8, 8
    m = np.random.default_rng(2).normal(0, 0.002, (t, n))
    size = t // splits
    for j in range(n):
        for b in range(splits):
            m[b * size : (b + 1) * size, j] += 0.01 if b == j else -0.001
    assert overfit.pbo_cscv(m, splits)[0] > 0.9


@pytest.mark.parametrize(("shape", "splits"), [((100, 1), 4), ((10, 5), 8), ((100, 5), 3)])
def test_pbo_refuses_unusable_inputs(shape, splits):
    with pytest.raises(ValueError):
        overfit.pbo_cscv(np.zeros(shape), splits)


def awkward_returns(t: int, n: int, seed: int) -> np.ndarray:
    """Random returns with the ties and degenerate trials a real grid has: duplicated trials
    (far apart in the columns), a trial that never trades, one idle for the first half of the
    days, one whose returns are rounded to 0.1 % (ties inside it)."""
    m = np.random.default_rng(seed).normal(0.0005, 0.01, (t, n))
    m[:, 1] = m[:, 0]
    m[:, -1] = m[:, 2]
    m[:, 3] = 0.0
    m[: t // 2, 4] = 0.0
    m[:, 5] = np.round(m[:, 5], 3)
    return m


CASES = [(40, 6, 2), (97, 9, 4), (150, 17, 6), (203, 31, 8), (321, 12, 10), (64, 40, 12)]


@pytest.mark.parametrize(("t", "n", "splits"), CASES)
@pytest.mark.parametrize(
    "metric", [None, "sharpe", "volatility", "sortino", "total_return", "cagr", "max_drawdown", "calmar"]
)
def test_array_pbo_equals_the_loop_it_replaced(t, n, splits, metric):
    """The array form against the old loop (tests/pbo_oracle.py) on random grids with ties,
    for the plain Sharpe and every ranking a sweep may use (block sums for sharpe,
    volatility, sortino and growth; the rows themselves for max_drawdown and calmar)."""
    from pbo_oracle import pbo_cscv_before

    from engine.analytics.run_stats import ranking

    m = awkward_returns(t, n, seed=t * n + splits)
    score = None if metric is None else ranking(metric, 0.02, 252)
    want_pbo, want = pbo_cscv_before(m, splits, score)
    pbo, logits = overfit.pbo_cscv(m, splits, score)
    assert pbo == want_pbo
    np.testing.assert_allclose(logits, want, rtol=0, atol=1e-12)


def test_array_pbo_equals_the_loop_on_noise_grids_and_a_plain_callable():
    from pbo_oracle import pbo_cscv_before

    rng = np.random.default_rng(7)
    for _ in range(5):
        m = rng.normal(0, 0.01, (int(rng.integers(32, 400)), int(rng.integers(2, 60))))
        m[rng.random(m.shape) < 0.2] = 0.0
        want_pbo, want = pbo_cscv_before(m, 8)
        pbo, logits = overfit.pbo_cscv(m, 8)
        assert pbo == want_pbo
        np.testing.assert_allclose(logits, want, rtol=0, atol=1e-12)

    def mean_only(block):  # a score of one's own: called on each half's rows
        return block.mean(axis=0)

    m = awkward_returns(120, 10, 3)
    want_pbo, want = pbo_cscv_before(m, 6, mean_only)
    pbo, logits = overfit.pbo_cscv(m, 6, mean_only)
    assert pbo == want_pbo
    np.testing.assert_allclose(logits, want, rtol=0, atol=1e-12)


def test_array_pbo_handles_wipe_outs_nans_and_all_equal_trials():
    from pbo_oracle import pbo_cscv_before

    from engine.analytics.run_stats import ranking

    m = awkward_returns(96, 8, 1)
    m[10, 6] = -1.0  # wiped out: growth ranks fall back to the rows
    m[20:30, 7] = np.nan  # NaN = no return
    for score in (None, ranking("total_return"), ranking("sortino")):
        want_pbo, want = pbo_cscv_before(m, 8, score)
        pbo, logits = overfit.pbo_cscv(m, 8, score)
        assert pbo == want_pbo
        np.testing.assert_allclose(logits, want, rtol=0, atol=1e-12)
    same = np.zeros((64, 5))  # every trial equal: every rank is the middle one
    assert overfit.pbo_cscv(same, 4)[0] == pbo_cscv_before(same, 4)[0] == 1.0
    np.testing.assert_array_equal(overfit.pbo_cscv(same, 4)[1], 0.0)
