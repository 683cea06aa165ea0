"""Does any combination of a sweep's grid beat a benchmark, once the search over all of them is
accounted for? Hansen's test for Superior Predictive Ability (SPA) on the stationary bootstrap,
computing exactly what arch.bootstrap.SPA computes, at compiled speed.

- Hansen, "A Test for Superior Predictive Ability", Journal of Business & Economic Statistics
  23(4), 2005; White, "A Reality Check for Data Snooping", Econometrica 68(5), 2000.
- Politis & Romano, "The Stationary Bootstrap", Journal of the American Statistical
  Association 89(428), 1994 (engine.analytics.bootstrap).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from engine.analytics.bootstrap import optimal_block_lengths, stationary_indices

# The compiled loops take the columns in blocks of about TILE_BYTES (T x width returns), which
# stay in a core's cache while every replication (or lag) reads them.
TILE_BYTES = 2**20


def _width(t: int) -> int:
    """Columns per block for T days: about TILE_BYTES, a multiple of 8 from 16 to 256."""
    return min(256, max(16, TILE_BYTES // (8 * t) // 8 * 8))


def spa_test(
    returns_grid, benchmark_returns, seed: int = 0, reps: int = 1000, block: int | None = None
) -> dict:
    """Hansen's test for Superior Predictive Ability (SPA) of a whole grid against a benchmark:
    does *any* of the grid's combinations beat the benchmark, once the search over all of
    them is accounted for? (Hansen, "A Test for Superior Predictive Ability", Journal of
    Business & Economic Statistics 23(4), 2005; White's Reality Check, Econometrica 68(5),
    2000; the stationary bootstrap of Politis & Romano, JASA 89(428), 1994.)

    Inputs: `returns_grid`: T x N simple daily returns (fractions), one column per combination
    (array or DataFrame); `benchmark_returns`: the T daily returns of the benchmark on the same
    days (array or Series), e.g. buy-and-hold of the strategy's universe. No NaN or infinite
    value, T >= 10. `seed`: seed of arch's generator (an integer; a numpy Generator or
    RandomState is drawn from as arch would); `reps`: bootstrap replications; `block`: the
    stationary bootstrap's expected block length in days; None estimates it as the median
    over the combinations of arch's `optimal_block_length` (stationary column) of the daily
    return differences r_k - r_benchmark, rounded, at least 1 (`spa_block_length`).

    The test is arch.bootstrap.SPA(-benchmark, -grid, block_size=block, reps=reps,
    bootstrap="stationary", seed=seed) (arch 8, studentize and nested at their defaults), and
    its p-values equal arch's for the same seed (tested): arch takes *losses* (lower is
    better), losses = -returns, so the loss differential d_k = benchmark - model is
    r_k - r_benchmark, positive when combination k did better. The null hypothesis is that no
    combination has a higher expected daily return than the benchmark; a small p-value says at
    least one does. Statistic: max_k mean(d_k), the largest *mean* loss differential (arch 8
    does not studentize the statistic; the variances enter only the consistent p-value's
    bound). Each replication b resamples the days with arch's stationary-bootstrap indices
    (engine.analytics.bootstrap.stationary_indices, the same generator calls) and takes
    max_k (mean*_{b,k} - c_k), where the centre c_k re-centres the bootstrap under the null:
    "upper" c_k = mean(d_k) for every k (White's Reality Check: the least favourable case, the
    largest p); "lower" c_k = max(mean(d_k), 0), so a combination worse than the benchmark
    keeps its negative mean (the smallest p); "consistent" (Hansen's recommended p-value)
    keeps it only for a combination with mean(d_k) < -sqrt(var_k / T * 2 log log T), var_k
    the stationary bootstrap's variance of sqrt(T) mean(d_k) (Politis & Romano's kappa-weighted
    autocovariances, arch's asymptotic form). p = the share of replications whose maximum is
    *strictly* above the statistic (so a grid whose every combination equals the benchmark
    gets p = 0, as from arch: no replication exceeds 0).

    Computed as arrays: the indices are drawn up front (stationary_indices), then the
    resampled means (`bootstrap_maxima`: a direct gather, summed in numpy's order so that
    every mean is arch's to the bit) and the variances (`_variance`, arch's to the bit) in
    compiled loops, parallel over blocks of columns; arch is not imported.

    Returns {"pvalues": {"lower", "consistent", "upper"}, "block" (days, the one used),
    "reps", "seed", "n_models" (N), "n_days" (T), "best_excess" (the largest mean daily
    return over the benchmark among the combinations, fraction per day)}."""
    grid = np.ascontiguousarray(returns_grid, dtype=float)  # C order: the same sums for any input
    if grid.ndim == 1:
        grid = grid[:, None]
    bench = np.ascontiguousarray(benchmark_returns, dtype=float)
    if grid.ndim != 2 or bench.ndim != 1:
        raise ValueError("returns_grid must be days x combinations and benchmark_returns one series")
    if len(bench) != grid.shape[0]:
        raise ValueError(f"benchmark_returns has {len(bench)} days, returns_grid {grid.shape[0]}")
    if grid.shape[1] < 1 or grid.shape[0] < 10:
        raise ValueError(
            f"SPA needs at least 1 combination and 10 days, got {grid.shape[1]} and {grid.shape[0]}"
        )
    if not (np.isfinite(grid).all() and np.isfinite(bench).all()):
        raise ValueError("returns_grid and benchmark_returns must be finite (no NaN or infinite values)")
    if not (isinstance(reps, int | np.integer) and reps >= 1):
        raise ValueError(f"reps must be a positive integer, got {reps}")
    if block is None:
        block = spa_block_length(grid, bench)
    elif not (isinstance(block, int | np.integer) and block >= 1):
        raise ValueError(f"block must be a positive integer (days), got {block}")
    t = grid.shape[0]
    idx = stationary_indices(t, int(reps), int(block), seed)

    d = grid - bench[:, None]  # arch's (-benchmark) - (-grid), to the bit
    mean = d.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = _variance(d - mean, _kappa(t, int(block)))
        bound = -1.0 * np.sqrt((variance / t) * 2 * np.log(np.log(t)))
    lower = np.where(mean < 0, 0.0, mean)
    consistent = np.where(mean >= bound, mean, 0.0)
    top = bootstrap_maxima(d, idx, np.vstack([lower, consistent, mean]))
    p = (top > mean.max()).mean(axis=0)
    return {
        "pvalues": {k: float(v) for k, v in zip(("lower", "consistent", "upper"), p, strict=True)},
        "block": int(block),
        "reps": int(reps),
        "seed": seed,
        "n_models": grid.shape[1],
        "n_days": t,
        "best_excess": float(mean.max()),
    }


def spa_block_length(returns_grid, benchmark_returns) -> int:
    """The default block length of `spa_test`: the median over the columns of arch's
    `optimal_block_length` (stationary column; engine.analytics.bootstrap.optimal_block_lengths)
    of returns_grid[:, k] - benchmark_returns, ignoring undefined estimates (a column equal
    to the benchmark), rounded, at least 1."""
    diff = np.asarray(returns_grid, dtype=float)
    diff = (diff if diff.ndim == 2 else diff[:, None]) - np.asarray(benchmark_returns, dtype=float)[:, None]
    b = optimal_block_lengths(diff)
    b = b[np.isfinite(b)]
    return max(1, round(float(np.median(b)))) if len(b) else 1


def bootstrap_maxima(d: np.ndarray, idx: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """reps x 3: max_k (mean*_{b,k} - centres[j, k]) for each replication b (the rows of
    `idx`, T indices each) and each row j of `centres` (3 x N), where mean*_{b,k} is the mean
    of d[idx[b], k] (d: T x N) summed in numpy's order (a single column pairwise, several
    column by column in the order of the indices), so that each is arch's resampled mean to
    the bit: what arch's SPA keeps of its simulated values (their maximum over the models)."""
    d = np.ascontiguousarray(d, dtype=float)
    centres = np.ascontiguousarray(centres, dtype=float)
    if d.shape[1] == 1:
        return _resampled_max_pairwise(d[:, 0].copy(), idx, centres[:, 0].copy())
    return _resampled_max(d, idx, centres, _width(len(d)))


def _kappa(t: int, block: int) -> np.ndarray:
    """The stationary bootstrap's weight of the lag-i autocovariance in the variance of the
    mean (Politis & Romano 1994), i = 0..T-1 (0 unused), p = 1 / block:
    (1 - i/T) (1 - p)^i + (i/T) (1 - p)^(T - i), in arch's floating-point operations."""
    p = 1.0 / block
    weights = [((1.0 - (i / t)) * ((1 - p) ** i)) + ((i / t) * ((1 - p) ** (t - i))) for i in range(1, t)]
    return np.array([0.0, *weights])


def _variance(e: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    """arch's SPA variance of each column of the demeaned loss differentials `e` (T x N):
    sum(e^2) / T + sum_{i=1..T-1} 2 kappa_i sum_s(e_s e_{s+i}) / T, accumulated lag by lag in
    arch's order, so that the result is arch's to the bit. A lag that cannot change a
    column's running sum (|its term| < 2^-55 of it, bounded by Cauchy-Schwarz without
    computing it) is skipped: with a block of 1 day every kappa is 0 and no lag is summed."""
    e = np.ascontiguousarray(e)
    if e.shape[1] == 1:
        return np.array([_variance_pairwise(e[:, 0].copy(), kappa)])
    return _variance_columns(e, kappa, _width(len(e)))


@nb.njit(cache=True, inline="always")
def _no_change(k2, q, v, t):
    """Whether adding k2 * S / t, |S| <= q (Cauchy-Schwarz, with margin for rounding), to v
    leaves v's bits unchanged."""
    if k2 == 0.0 or q == 0.0:
        return True
    return abs(v) > 1e-290 and abs(k2) * q * (1.0 + 1e-6) / t < abs(v) * 2.0**-55


@nb.njit(cache=True, parallel=True)
def _variance_columns(e, kappa, width):
    t, n = e.shape
    out = np.empty(n)
    tiles = (n + width - 1) // width
    for b in nb.prange(tiles):
        lo = b * width
        w = min(n, lo + width) - lo
        tile = np.ascontiguousarray(e[:, lo : lo + w])
        q = np.zeros(w)
        for s in range(t):
            x = tile[s]
            for c in range(w):
                q[c] += x[c] * x[c]
        v = q / t
        acc = np.empty(w)
        for i in range(1, t):
            k2 = 2 * kappa[i]
            skip = True
            for c in range(w):
                if not _no_change(k2, q[c], v[c], t):
                    skip = False
                    break
            if skip:
                continue
            acc[:] = 0.0
            s = 0
            while s + 4 <= t - i:  # four days' products per pass, added in order
                x0, x1, x2, x3 = tile[s], tile[s + 1], tile[s + 2], tile[s + 3]
                y0, y1, y2, y3 = tile[s + i], tile[s + i + 1], tile[s + i + 2], tile[s + i + 3]
                for c in range(w):
                    acc[c] = (((acc[c] + x0[c] * y0[c]) + x1[c] * y1[c]) + x2[c] * y2[c]) + x3[c] * y3[c]
                s += 4
            while s < t - i:
                x0, y0 = tile[s], tile[s + i]
                for c in range(w):
                    acc[c] += x0[c] * y0[c]
                s += 1
            for c in range(w):
                v[c] += k2 * acc[c] / t
        out[lo : lo + w] = v
    return out


@nb.njit(cache=True)
def _variance_pairwise(e, kappa):
    t = len(e)
    q = _pairwise_sum(e * e)
    v = q / t
    for i in range(1, t):
        k2 = 2 * kappa[i]
        if not _no_change(k2, q, v, t):
            v += k2 * _pairwise_sum(e[: t - i] * e[i:]) / t
    return v


@nb.njit(cache=True)
def _pairwise_sum(a):
    """numpy's sum of a contiguous float64 array (pairwise_sum: blocks of at most 128 in 8
    partial sums, halved at multiples of 8 above), to the bit."""
    n = len(a)
    if n < 8:
        s = 0.0
        for i in range(n):
            s += a[i]
        return s
    if n <= 128:
        r = a[:8].copy()
        i = 8
        while i < n - n % 8:
            for k in range(8):
                r[k] += a[i + k]
            i += 8
        s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        while i < n:
            s += a[i]
            i += 1
        return s
    half = n // 2
    half -= half % 8
    return _pairwise_sum(a[:half]) + _pairwise_sum(a[half:])


@nb.njit(cache=True, parallel=True)
def _resampled_max(d, idx, centres, width):
    """max_k (mean*_{b,k} - centres[j, k]) of every replication b (rows of `idx`) and centre j:
    reps x 3. mean*_{b,k} = (d[idx[b, 0], k] + d[idx[b, 1], k] + ...) / T, summed in that order,
    as numpy's mean over axis 0 of arch's resample is. Parallel over blocks of `width` columns
    (each copied contiguous, read by every replication while in cache); four rows are added
    per pass over a replication's sums, in order."""
    reps, t = idx.shape
    n = d.shape[1]
    tiles = (n + width - 1) // width
    part = np.empty((tiles, reps, 3))
    for b in nb.prange(tiles):
        lo = b * width
        w = min(n, lo + width) - lo
        tile = np.ascontiguousarray(d[:, lo : lo + w])
        acc = np.empty(w)
        for r in range(reps):
            rows = idx[r]
            acc[:] = 0.0
            s = 0
            while s + 4 <= t:
                x0, x1, x2, x3 = tile[rows[s]], tile[rows[s + 1]], tile[rows[s + 2]], tile[rows[s + 3]]
                for c in range(w):
                    acc[c] = (((acc[c] + x0[c]) + x1[c]) + x2[c]) + x3[c]
                s += 4
            while s < t:
                x0 = tile[rows[s]]
                for c in range(w):
                    acc[c] += x0[c]
                s += 1
            for j in range(3):
                top = -np.inf
                for c in range(w):
                    z = acc[c] / t - centres[j, lo + c]
                    if z > top:
                        top = z
                part[b, r, j] = top
    out = part[0].copy()
    for b in range(1, tiles):
        for r in range(reps):
            for j in range(3):
                out[r, j] = max(out[r, j], part[b, r, j])
    return out


@nb.njit(cache=True, parallel=True)
def _resampled_max_pairwise(d, idx, centres):
    """`_resampled_max` of a single column, whose resampled mean numpy sums pairwise."""
    reps, t = idx.shape
    out = np.empty((reps, 3))
    for r in nb.prange(reps):
        m = _pairwise_sum(d[idx[r]]) / t
        for j in range(3):
            out[r, j] = m - centres[j]
    return out
