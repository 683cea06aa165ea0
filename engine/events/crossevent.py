"""Statistics across events, for a strategy run once per event (a group of stocks that had a
one-day shock): a cross-sectional test of the events' abnormal returns that allows for events
sharing days, a bootstrap interval that resamples dates rather than events, the alpha of a
calendar-time portfolio, a placebo p-value from sets that mirror the events' dates, and the
date-clustered mean.

Pure functions over numpy/pandas inputs: no I/O, no printing. Units: returns are simple daily
fractions (0.01 = +1 %); a year is `periods` = 252 trading days. Invalid input (NaN where a
value is required, a non-positive sigma, mismatched lengths) raises ValueError with a one-line
message; too little data for a statistic gives NaN statistics, not an exception.

statsmodels (HAC regression) and arch (bootstrap) are imported inside the functions that use
them: both are slow to import.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
import pandas as pd

MIN_OVERLAP = 30  # dates two events' estimation windows must share for their correlation to count
MIN_CALENDAR_DAYS = 10  # common days calendar_time_alpha needs


def _normal_two_sided(t: float) -> float:
    """Two-sided p-value of `t` under the standard normal (NaN for NaN)."""
    return math.erfc(abs(t) / math.sqrt(2.0)) if np.isfinite(t) else math.nan


def _vector(x, name: str, n: int | None = None) -> np.ndarray:
    """`x` as a 1-D float array without NaN, of length `n` when given."""
    a = np.asarray(x, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {a.shape}")
    if n is not None and len(a) != n:
        raise ValueError(f"{name} has {len(a)} values, expected {n}")
    if np.isnan(a).any():
        raise ValueError(f"{name} has {int(np.isnan(a).sum())} NaN value(s)")
    return a


def scar_correlations(
    resid: np.ndarray, resid_start, first, stop, min_overlap: int = MIN_OVERLAP
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The correlation of the standardized CARs of every pair of events whose event windows
    share a day: (i, j, rho, c) arrays over those pairs (i < j).

    Inputs (N events): resid (N x E) each event's daily estimation-window residuals (NaN
    where none), resid[i, 0] on day position resid_start[i]; first, stop (N,): the event
    window is the days first + 1 .. stop - 1 (L_i = stop - first - 1 days after the event
    day).

    rho_ij: the Pearson correlation of the two events' residuals over the days both have
    (0 when they share fewer than `min_overlap` such days or either is constant there).
    c_ij = rho_ij * o_ij / sqrt(L_i L_j), with o_ij the days the two event windows share: the
    correlation of two CARs summed over o_ij common days of residuals correlated rho_ij
    (Cov = o_ij rho sigma_i sigma_j; Var = L sigma^2). Pairs whose windows share no day have
    c = 0 and are not listed."""
    first = np.asarray(first, dtype=np.int64)
    stop = np.asarray(stop, dtype=np.int64)
    start = np.asarray(resid_start, dtype=np.int64)
    resid = np.ascontiguousarray(resid, dtype=float)
    n = len(first)
    if resid.shape[0] != n or len(stop) != n or len(start) != n:
        raise ValueError(f"resid, resid_start, first and stop need one entry per event ({n})")
    if min_overlap < 2:
        raise ValueError(f"min_overlap must be at least 2, got {min_overlap}")
    order = np.argsort(first, kind="stable")
    i, j, o = _overlapping_pairs(first[order], stop[order])
    i, j = order[i], order[j]
    swap = i > j
    i, j = np.where(swap, j, i), np.where(swap, i, j)
    rho = _pair_rho(resid, start, i, j, min_overlap)
    lengths = (stop - first - 1).astype(float)
    return i, j, rho, rho * o / np.sqrt(lengths[i] * lengths[j])


@nb.njit(cache=True)
def _overlapping_pairs(first, stop):
    """Pairs (a < b, positions in the sorted-by-first arrays) whose day sets first+1..stop-1
    intersect, and the size of the intersection."""
    n = first.size
    ii, jj, oo = [], [], []
    for a in range(n):
        for b in range(a + 1, n):
            if first[b] + 1 >= stop[a]:
                break
            shared = min(stop[a], stop[b]) - max(first[a], first[b]) - 1
            if shared > 0:
                ii.append(a)
                jj.append(b)
                oo.append(shared)
    return np.array(ii, np.int64), np.array(jj, np.int64), np.array(oo, np.float64)


@nb.njit(cache=True)
def _pair_rho(resid, start, i, j, min_overlap):
    out = np.zeros(i.size)
    width = resid.shape[1]
    for k in range(i.size):
        a, b = i[k], j[k]
        lo = max(start[a], start[b])
        hi = min(start[a], start[b]) + width
        n = 0
        sx = sy = sxx = syy = sxy = 0.0
        for d in range(lo, hi):
            x = resid[a, d - start[a]]
            y = resid[b, d - start[b]]
            if x == x and y == y:
                n += 1
                sx += x
                sy += y
        if n < min_overlap:
            continue
        mx, my = sx / n, sy / n
        for d in range(lo, hi):
            x = resid[a, d - start[a]]
            y = resid[b, d - start[b]]
            if x == x and y == y:
                sxx += (x - mx) ** 2
                syy += (y - my) ** 2
                sxy += (x - mx) * (y - my)
        if sxx > 0 and syy > 0:
            out[k] = sxy / np.sqrt(sxx * syy)
    return out


def bmp_test(scar, pair_i=(), pair_j=(), pair_c=()) -> dict:
    """Standardised cross-sectional test of Boehmer, Musumeci and Poulsen (1991, "BMP"),
    adjusted for the correlation of events that share days (Kolari and Pynnönen 2010, "KP",
    generalised to events on different dates).

    Inputs: scar (N,) each event's standardised CAR (CAR / its standard error; finite);
    pair_i, pair_j, pair_c: the correlation c of the SCARs of every pair of events that have
    one (`scar_correlations`); every other pair is taken as uncorrelated.

    BMP: t_bmp = mean(SCAR) sqrt(N) / sd(SCAR, ddof=1). With correlated SCARs (unit variance,
    correlations c_ij), the variance of their mean is (N + 2 sum c_ij) / N^2 and the expected
    cross-sectional variance is 1 - c_bar, with c_bar = 2 sum c_ij / (N (N - 1)) the mean
    correlation over all N (N - 1) / 2 pairs (zeros included). So
        t = t_bmp sqrt((1 - c_bar) / (1 + (N - 1) c_bar)),
    which is KP's formula exactly when every pair shares its whole window (all events on one
    date with one window length: c_ij = rho_ij, c_bar = KP's r_bar), and t_bmp when no pair
    shares a day (c_bar = 0). NaN when 1 + (N - 1) c_bar <= 0. p-values: two-sided, standard
    normal.

    Returns: n, mean_scar, t_bmp, p_bmp, c_bar, n_pairs (pairs with a correlation), t_adj,
    p_adj. With N < 2 or zero dispersion the t statistics and p-values are NaN."""
    scar = _vector(scar, "scar")
    n = len(scar)
    c = _vector(pair_c, "pair_c")
    if len(pair_i) != len(c) or len(pair_j) != len(c):
        raise ValueError("pair_i, pair_j and pair_c must have one entry per pair")
    mean_scar = float(scar.mean()) if n else math.nan
    t_bmp = math.nan
    if n >= 2:
        sd = float(scar.std(ddof=1))
        if sd > 0:
            t_bmp = mean_scar * math.sqrt(n) / sd
    c_bar = float(2.0 * c.sum() / (n * (n - 1))) if n >= 2 else 0.0
    inflation = 1.0 + (n - 1) * c_bar
    t_adj = t_bmp * math.sqrt((1.0 - c_bar) / inflation) if inflation > 0 and c_bar < 1 else math.nan
    return {
        "n": n,
        "mean_scar": mean_scar,
        "t_bmp": t_bmp,
        "p_bmp": _normal_two_sided(t_bmp),
        "c_bar": c_bar,
        "n_pairs": int(np.count_nonzero(c)),
        "t_adj": t_adj,
        "p_adj": _normal_two_sided(t_adj),
    }


def _ratio_of_sums(sums: np.ndarray, counts: np.ndarray) -> float:
    return float(sums.sum() / counts.sum())


def cluster_bootstrap_ci(values, clusters, n_boot: int = 10_000, level: float = 0.95, seed: int = 0) -> dict:
    """Percentile bootstrap interval of the mean of `values` that allows for events sharing a
    date: the clusters (dates) are resampled with replacement, not the events.

    Inputs: values (N,) one outcome per event (e.g. excess return, fraction; NaN is a
    ValueError); clusters (N,) the cluster of each event (its event date; any hashable
    labels). `n_boot` replications, two-sided interval of coverage `level`.

    Method: per cluster, the sum of its values and its count of events; arch's IIDBootstrap
    (seeded with `seed`, so the result is deterministic for a given seed) resamples whole
    clusters, and each replication's statistic is sum(resampled sums) / sum(resampled
    counts), the event-weighted mean of the resampled events. The interval is the
    (1 - level) / 2 and (1 + level) / 2 percentiles of the replications (arch's "percentile").
    Clusters are ordered by sorted label and summed in a fixed order, so the input order of
    the events does not change the result.

    With fewer than two clusters the interval is NaN: every replication would redraw the
    same single cluster, so the bootstrap has no variation to measure and says nothing about
    the uncertainty of the mean.

    Returns a dict: low, high, level, n_boot, n_clusters, seed."""
    v = _vector(values, "values")
    labels = pd.Index(np.asarray(clusters))
    if labels.ndim != 1 or len(labels) != len(v):
        raise ValueError(f"clusters has {len(labels)} labels, expected one per value ({len(v)})")
    if labels.hasnans:
        raise ValueError("clusters has missing labels")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be strictly between 0 and 1, got {level}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    codes, uniques = pd.factorize(labels, sort=True)
    n_clusters = len(uniques)
    out = {"low": math.nan, "high": math.nan, "level": level, "n_boot": n_boot}
    out |= {"n_clusters": n_clusters, "seed": seed}
    if n_clusters < 2:
        return out

    from arch.bootstrap import IIDBootstrap

    order = np.lexsort((v, codes))  # a fixed summation order: the input order of events cannot matter
    sums = np.bincount(codes[order], weights=v[order], minlength=n_clusters)
    counts = np.bincount(codes, minlength=n_clusters).astype(float)
    bs = IIDBootstrap(sums, counts, seed=seed)
    ci = bs.conf_int(_ratio_of_sums, reps=n_boot, method="percentile", size=level)
    out["low"], out["high"] = float(ci[0, 0]), float(ci[1, 0])
    return out


def default_maxlags(n_obs: int) -> int:
    """Newey-West (1994) rule of thumb for the HAC lag truncation: floor(4 * (T / 100)^(2/9))."""
    return math.floor(4.0 * (n_obs / 100.0) ** (2.0 / 9.0))


def calendar_time_alpha(
    portfolio: pd.Series, market: pd.Series, periods: int = 252, maxlags: int | None = None
) -> dict:
    """Alpha and beta of a calendar-time portfolio against the market, with Newey-West (HAC)
    standard errors.

    Inputs: `portfolio`, `market`: daily simple returns (fractions) on a DatetimeIndex. They
    are aligned on their common dates (sorted), and dates where either is NaN are dropped;
    T = the number left. `periods`: trading days a year (252).

    Regression (statsmodels OLS): portfolio_t = alpha + beta * market_t + e_t, with
    cov_type="HAC", cov_kwds={"maxlags": L}: statsmodels' defaults for the rest, i.e. Bartlett
    kernel, no small-sample correction, and p-values from the standard normal (two-sided).
    L = `maxlags`, or by default the Newey-West (1994) rule floor(4 * (T / 100)^(2/9)).

    Returns a dict: alpha_daily (fraction per day), alpha_annual = alpha_daily * periods
    (arithmetic scaling, not compounded), t_alpha, p_alpha, beta, t_beta, n_days (T), maxlags
    (L). With fewer than 10 common days, or a market that does not vary, the statistics are
    NaN (n_days and maxlags still set)."""
    if maxlags is not None and (int(maxlags) != maxlags or maxlags < 0):
        raise ValueError(f"maxlags must be a non-negative integer, got {maxlags}")
    both = pd.concat([portfolio.rename("portfolio"), market.rename("market")], axis=1, join="inner")
    both = both.dropna().sort_index()
    n_days = len(both)
    lags = default_maxlags(n_days) if maxlags is None else int(maxlags)
    out = dict.fromkeys(("alpha_daily", "alpha_annual", "t_alpha", "p_alpha", "beta", "t_beta"), math.nan)
    out |= {"n_days": n_days, "maxlags": lags}
    y = both["portfolio"].to_numpy(dtype=float)
    x = both["market"].to_numpy(dtype=float)
    if n_days < MIN_CALENDAR_DAYS or not np.ptp(x) > 0:
        return out

    import statsmodels.api as sm

    fit = sm.OLS(y, sm.add_constant(x, has_constant="add")).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    params, tvalues, pvalues = np.asarray(fit.params), np.asarray(fit.tvalues), np.asarray(fit.pvalues)
    out["alpha_daily"] = float(params[0])
    out["alpha_annual"] = float(params[0]) * periods
    out["t_alpha"], out["p_alpha"] = float(tvalues[0]), float(pvalues[0])
    out["beta"], out["t_beta"] = float(params[1]), float(tvalues[1])
    return out


def placebo_sets(event_mean, sums, counts, n_sets: int = 10_000, seed: int = 0):
    """How unusual the events' mean outcome is among placebo sets that mirror the events' date
    clustering.

    Inputs: event_mean, the mean outcome of the events (e.g. market-model CAR, fraction);
    sums, counts (D x R): for each of the D event dates, R placebo replays of that date's
    events on one random non-event day: the sum of their outcomes and how many count (a replay
    whose run has no outcome counts 0). A placebo set takes one replay of every date, each
    drawn uniformly (numpy's default_rng(seed).integers(0, R, size=(draws, D)), in blocks), so
    its events share days as the real ones do; its mean is sum(sums) / sum(counts) over the
    replays drawn (a date or replay with no outcome adds nothing). Many parameter sets at
    once: event_mean (S,) and sums, counts (S x D x R); every set gets the same draws.

    One-sided p-value (Davison and Hinkley 1997, eq. 4.11): (1 + #{set mean >= event_mean})
    / (1 + n_sets), with its Monte Carlo standard error sqrt(p (1 - p) / n_sets).

    Returns a dict (a list of them, one per set, for S sets): p_value, mc_se, n_sets, mean
    (mean of the set means), std, seed, n_replays (R), n_dates (D with an outcome). NaN p-value
    when no date has an outcome or event_mean is NaN."""
    sums = np.asarray(sums, dtype=float)
    counts = np.asarray(counts, dtype=float)
    many = sums.ndim == 3
    if sums.shape != counts.shape or sums.ndim not in (2, 3):
        raise ValueError(
            f"sums and counts must be dates x replays of one shape, got {sums.shape} and {counts.shape}"
        )
    if n_sets < 1:
        raise ValueError(f"n_sets must be at least 1, got {n_sets}")
    if not many:
        sums, counts = sums[None], counts[None]
    targets = np.atleast_1d(np.asarray(event_mean, dtype=float))
    n_par, d, r = sums.shape
    means = np.full((n_sets, n_par), np.nan)
    if d and r:
        from scipy import sparse

        both = np.hstack([sums.reshape(n_par, d * r).T, counts.reshape(n_par, d * r).T])  # DR x 2S
        rng = np.random.default_rng(seed)
        step = max(1, min(2_000_000 // d, 4_000_000 // (2 * n_par)))  # draws per block: bounded memory
        for lo in range(0, n_sets, step):
            b = min(step, n_sets - lo)
            cols = (np.arange(d) * r + rng.integers(0, r, size=(b, d))).ravel()
            pick = sparse.csr_matrix((np.ones(b * d), cols, np.arange(0, b * d + 1, d)), shape=(b, d * r))
            drawn = pick @ both
            with np.errstate(invalid="ignore", divide="ignore"):
                means[lo : lo + b] = drawn[:, :n_par] / drawn[:, n_par:]
    out = []
    for k in range(n_par):
        m = means[:, k]
        m = m[np.isfinite(m)]
        one = {"p_value": math.nan, "mc_se": math.nan, "n_sets": len(m), "mean": math.nan, "std": math.nan}
        one |= {"seed": seed, "n_replays": r, "n_dates": int((counts[k].sum(axis=1) > 0).sum())}
        if len(m) and np.isfinite(targets[k if len(targets) > 1 else 0]):
            p = (1 + int((m >= targets[k if len(targets) > 1 else 0]).sum())) / (1 + len(m))
            one |= {"p_value": p, "mc_se": math.sqrt(p * (1 - p) / len(m))}
            one |= {"mean": float(m.mean()), "std": float(m.std(ddof=1)) if len(m) > 1 else math.nan}
        out.append(one)
    return out if many else out[0]


def date_clustered_mean(values, dates) -> float:
    """The mean over distinct dates of each date's mean outcome: every date weighs the same,
    however many events share it (NaN values are left out; NaN with none)."""
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    if not ok.any():
        return math.nan
    return float(pd.Series(v[ok]).groupby(np.asarray(dates)[ok]).mean().mean())
