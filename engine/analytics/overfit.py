"""How likely is the best cell of a sweep a fluke? Pure functions over returns.

- Probabilistic and Deflated Sharpe Ratio: Bailey & Lopez de Prado, "The Deflated Sharpe
  Ratio: Correcting for Selection Bias, Backtest Overfitting and Non-Normality", Journal of
  Portfolio Management 40(5), 2014.
- Probability of Backtest Overfitting by combinatorially symmetric cross-validation (CSCV):
  Bailey, Borwein, Lopez de Prado & Zhu, "The Probability of Backtest Overfitting", Journal
  of Computational Finance 20(4), 2017 (working paper 2015).

Hansen's test for Superior Predictive Ability of the whole grid is engine.analytics.spa.

Sharpe ratios here are per period (not annualised) unless a docstring says otherwise.
"""

from __future__ import annotations

import itertools
import math

import numba as nb
import numpy as np
from scipy import stats as sps

EULER_GAMMA = 0.5772156649015329


def expected_max_sharpe(n_trials: int, sharpe_variance: float) -> float:
    """E[max SR] of `n_trials` independent trials whose Sharpe ratios have variance
    `sharpe_variance` and mean 0 (the "false strategy" benchmark SR0 of the DSR paper):
    sqrt(V) * ((1 - g) * Z^-1(1 - 1/N) + g * Z^-1(1 - 1/(N e))), g = Euler-Mascheroni.
    Units follow the input (per period or annualised). 0 for a single trial."""
    if n_trials < 1:
        raise ValueError("n_trials must be >= 1")
    if n_trials == 1:
        return 0.0
    z = sps.norm.ppf
    return math.sqrt(sharpe_variance) * (
        (1 - EULER_GAMMA) * z(1 - 1 / n_trials) + EULER_GAMMA * z(1 - 1 / (n_trials * math.e))
    )


def probabilistic_sharpe(sharpe: float, benchmark: float, n_obs: int, skew: float, kurtosis: float) -> float:
    """PSR: probability that the true per-period Sharpe exceeds `benchmark`, given an observed
    per-period `sharpe` over `n_obs` returns with `skew` and (non-excess) `kurtosis`:
    Phi((SR - SR*) sqrt(T - 1) / sqrt(1 - skew SR + (kurtosis - 1) / 4 SR^2))."""
    denom = 1 - skew * sharpe + (kurtosis - 1) / 4 * sharpe**2
    if n_obs < 2 or denom <= 0:
        return float("nan")
    return float(sps.norm.cdf((sharpe - benchmark) * math.sqrt(n_obs - 1) / math.sqrt(denom)))


def deflated_sharpe(returns: np.ndarray, n_trials: int, sharpe_variance: float) -> float:
    """DSR of the selected strategy's per-period `returns`: its PSR against the expected
    maximum Sharpe of `n_trials` trials whose per-period Sharpe ratios have variance
    `sharpe_variance` (measured across the sweep's trials)."""
    r = np.asarray(returns, dtype=float)
    r = r[~np.isnan(r)]
    if len(r) < 3 or r.std(ddof=1) == 0:
        return float("nan")
    sr = r.mean() / r.std(ddof=1)
    sr0 = expected_max_sharpe(n_trials, sharpe_variance)
    return probabilistic_sharpe(sr, sr0, len(r), sps.skew(r), sps.kurtosis(r, fisher=False))


# The ranking metrics (engine.analytics.run_stats.ranking, which tags its scores with
# `metric`, `rf` and `periods`) whose value on a half of the days follows from per-block sums:
# Sharpe, volatility and Sortino from the sums of returns, squared returns and squared
# shortfalls; total return (and cagr, final_equity, which rank a block alike) from the sums of
# log(1 + r). Any other score (max drawdown, Calmar: the order of the days matters; a callable
# of one's own) is called on each half's rows, exactly as before.
BLOCK_METRICS = ("sharpe", "volatility", "sortino", "total_return", "cagr", "final_equity")
# Combinations x trials per step of the array form (about 8 MB per intermediate array).
PBO_CELLS = 2**20


def pbo_cscv(returns: np.ndarray, n_splits: int = 16, score=None) -> tuple[float, np.ndarray]:
    """Probability of Backtest Overfitting of choosing the best of N trials by Sharpe, or by
    `score` (a function of a periods x trials block giving one number per trial, higher
    better: engine.analytics.run_stats.ranking of the metric the trials were chosen by).

    `returns` is T x N (periods x trials). Rows are cut into `n_splits` (even) contiguous
    blocks; for every way of taking half the blocks as in-sample (IS) and the rest as
    out-of-sample (OOS), the trial with the best IS Sharpe is ranked among all trials OOS:
    w = rank / (N + 1) (rank 1 = worst; ties share the mean rank, as scipy's rankdata),
    logit = ln(w / (1 - w)). PBO is the share of splits whose logit <= 0 (the IS winner did
    no better than the OOS median). Returns (pbo, logits), the logits in the order of
    itertools.combinations(range(n_splits), n_splits // 2) (the IS blocks). NaN rows are
    treated as zero returns. The Sharpe here is per period, mean / std (ddof=1), and a half
    whose returns are all equal has none (ranked lowest, -inf).

    Array form: each block's sums (of returns, squared returns, ...) are computed once
    (n_splits x N); a half's sums are then a 0/1 matrix product of the combinations with the
    block sums, and the IS argmax and the OOS rank are taken for many combinations at once.
    The plain Sharpe (score None, a sweep's default) sums the same block statistics in one
    compiled pass per combination (numba, parallel over combinations), without C x N arrays.
    The `score` of a metric in BLOCK_METRICS made by run_stats.ranking goes the same way; any
    other `score` is called on each half's rows (exact, at the old cost of the calls).
    """
    m = np.nan_to_num(np.asarray(returns, dtype=float))
    if m.ndim != 2:
        raise ValueError("returns must be periods x trials")
    t, n = m.shape
    if n_splits % 2 or n_splits < 2:
        raise ValueError("n_splits must be an even number >= 2")
    if n < 2 or t < 2 * n_splits:
        raise ValueError(f"need at least 2 trials and {2 * n_splits} periods, got {n} and {t}")
    sizes = np.array([len(b) for b in np.array_split(np.arange(t), n_splits)])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    chosen = np.array(list(itertools.combinations(range(n_splits), n_splits // 2)), dtype=np.int64)
    ins = np.zeros((len(chosen), n_splits))
    np.put_along_axis(ins, chosen, 1.0, axis=1)
    others = np.argsort(ins, axis=1, kind="stable")[:, : n_splits // 2]  # the OOS blocks, ascending
    metric = "plain" if score is None else getattr(score, "metric", None)
    if metric == "plain" or (metric in BLOCK_METRICS and (metric == "sharpe" or not _wiped(m, metric))):
        half = _BlockStats(m, starts, sizes, metric, score)
    else:
        half = _RowScores(m, starts, sizes, score)
    logits = np.empty(len(chosen))
    if metric == "plain":  # the default: one compiled pass per combination, no C x N arrays
        rank = _plain_sharpe_ranks(m, starts, sizes, chosen, others)
        w = rank / (n + 1)
        return float(np.mean(np.log(w / (1 - w)) <= 0)), np.log(w / (1 - w))
    step = max(1, min(len(chosen), PBO_CELLS // n))
    for lo in range(0, len(chosen), step):
        hi = lo + step
        is_scores = half(ins[lo:hi], chosen[lo:hi])
        oos_scores = half(1.0 - ins[lo:hi], others[lo:hi])
        logits[lo:hi] = _logits(is_scores, oos_scores, n)
    return float(np.mean(logits <= 0)), logits


def _wiped(m: np.ndarray, metric: str) -> bool:
    """Whether log(1 + r) is undefined somewhere (a return of -100 % or worse), for the
    metrics ranked by growth."""
    return metric in ("total_return", "cagr", "final_equity") and bool((m <= -1).any())


def _logits(is_scores: np.ndarray, oos_scores: np.ndarray, n: int) -> np.ndarray:
    """ln(w / (1 - w)), w = rank / (n + 1), of each row's IS argmax among its OOS scores:
    rank = (trials below) + (trials equal + 1) / 2, scipy's rankdata 'average' (NaN when a
    row has a NaN, as rankdata propagates it; np.argmax picks the first NaN as it did)."""
    rows = np.arange(len(is_scores))
    best = np.argmax(is_scores, axis=1)
    v = oos_scores[rows, best][:, None]
    rank = (oos_scores < v).sum(axis=1) + ((oos_scores == v).sum(axis=1) + 1) / 2
    rank = np.where(np.isnan(oos_scores).any(axis=1), np.nan, rank)
    w = rank / (n + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.log(w / (1 - w))


def _plain_sharpe_ranks(m, starts, sizes, chosen, others) -> np.ndarray:
    """OOS rank (average of ties) of the IS-best plain Sharpe for every combination: the
    block sums of `_BlockStats`, then `_sharpe_ranks` (compiled, parallel over combinations)."""
    mu = m.mean(axis=0)
    x = m - mu
    s1 = np.add.reduceat(x, starts, axis=0)
    s2 = np.add.reduceat(x * x, starts, axis=0)
    lo, hi = np.minimum.reduceat(m, starts, axis=0), np.maximum.reduceat(m, starts, axis=0)
    flat = (lo == hi).any(axis=0)
    return _sharpe_ranks(chosen, others, sizes.astype(float), s1, s2, mu, lo, hi, flat)


@nb.njit(cache=True, inline="always")
def _half_sharpe(blocks, n, j, s1, s2, mu, lo, hi, flat):
    a = 0.0
    b = 0.0
    for k in range(len(blocks)):
        a += s1[blocks[k], j]
        b += s2[blocks[k], j]
    var = (b - a * a / n) / (n - 1)
    sd = math.sqrt(var) if var > 0 else 0.0
    if flat[j] and sd > 0:  # all returns of the half equal: no dispersion
        low, high = lo[blocks[0], j], hi[blocks[0], j]
        for k in range(1, len(blocks)):
            low = min(low, lo[blocks[k], j])
            high = max(high, hi[blocks[k], j])
        if low == high:
            sd = 0.0
    return (a / n + mu[j]) / sd if sd > 0 else -np.inf


@nb.njit(cache=True, parallel=True)
def _sharpe_ranks(chosen, others, sizes, s1, s2, mu, lo, hi, flat):
    out = np.empty(len(chosen))
    trials = s1.shape[1]
    for c in nb.prange(len(chosen)):
        n_in = 0.0
        n_out = 0.0
        for k in range(chosen.shape[1]):
            n_in += sizes[chosen[c, k]]
            n_out += sizes[others[c, k]]
        best, top = 0, -np.inf
        for j in range(trials):
            v = _half_sharpe(chosen[c], n_in, j, s1, s2, mu, lo, hi, flat)
            if v > top:
                best, top = j, v
        vb = _half_sharpe(others[c], n_out, best, s1, s2, mu, lo, hi, flat)
        below = 0
        equal = 0
        for j in range(trials):
            v = _half_sharpe(others[c], n_out, j, s1, s2, mu, lo, hi, flat)
            if v < vb:
                below += 1
            elif v == vb:
                equal += 1
        out[c] = below + (equal + 1) / 2
    return out


class _BlockStats:
    """Scores of halves (rows of 0/1 block indicators) from per-block sums."""

    def __init__(self, m, starts, sizes, metric, score):
        self.metric = metric
        self.sign = 1.0
        self.rf_d, self.root = 0.0, 1.0
        if metric != "plain":
            from engine.analytics.run_stats import better

            self.sign = float(better(metric))
            self.rf_d = (1.0 + score.rf) ** (1.0 / score.periods) - 1.0
            self.root = math.sqrt(score.periods)
        self.n = sizes.astype(float)
        if metric in ("total_return", "cagr", "final_equity"):
            self.log_growth = np.add.reduceat(np.log1p(m), starts, axis=0)
            return
        self.mu = m.mean(axis=0)  # the variance from sums of centred returns: less cancellation
        x = m - self.mu
        self.s1 = np.add.reduceat(x, starts, axis=0)
        self.s2 = np.add.reduceat(x * x, starts, axis=0)
        lo, hi = np.minimum.reduceat(m, starts, axis=0), np.maximum.reduceat(m, starts, axis=0)
        self.flat = np.flatnonzero((lo == hi).any(axis=0))  # trials with a block of equal returns
        self.lo, self.hi = lo[:, self.flat], hi[:, self.flat]
        if metric == "sortino":
            self.d2 = np.add.reduceat(np.minimum(m - self.rf_d, 0.0) ** 2, starts, axis=0)

    def __call__(self, h: np.ndarray, blocks: np.ndarray) -> np.ndarray:
        if self.metric in ("total_return", "cagr", "final_equity"):
            return self.sign * (h @ self.log_growth)  # ranks as prod(1 + r) - 1 does
        n = (h @ self.n)[:, None]
        s1 = h @ self.s1
        mean = s1 / n + self.mu - self.rf_d
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.metric == "sortino":
                down = np.sqrt((h @ self.d2) / n)
                return np.where(down > 0, self.sign * mean / down * self.root, -np.inf)
            sd = np.sqrt(np.maximum((h @ self.s2 - s1 * s1 / n) / (n - 1), 0.0))
            if len(self.flat):  # a half whose returns are all equal has no dispersion
                equal = self.lo[blocks].min(axis=1) == self.hi[blocks].max(axis=1)
                sd[:, self.flat] = np.where(equal, 0.0, sd[:, self.flat])
            if self.metric == "volatility":
                return self.sign * sd * self.root
            if self.metric == "plain":
                return np.where(sd > 0, mean / sd, -np.inf)
            ok = sd > 1e-14 * np.maximum(np.abs(mean), 1e-300)  # engine.analytics.metrics.sharpe
            return np.where(ok, self.sign * mean / sd * self.root, -np.inf)


class _RowScores:
    """Scores of halves by calling `score` on each half's rows (any metric)."""

    def __init__(self, m, starts, sizes, score):
        self.m, self.score = m, score
        self.rows = [np.arange(a, a + k) for a, k in zip(starts, sizes, strict=True)]

    def __call__(self, h: np.ndarray, blocks: np.ndarray) -> np.ndarray:
        return np.array(
            [self.score(self.m[np.concatenate([self.rows[b] for b in row])]) for row in blocks], dtype=float
        )
