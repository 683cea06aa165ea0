"""Statistics across events, for a strategy run once per event (a group of stocks that had a
one-day shock): a cross-sectional test of the events' abnormal returns that allows for events
sharing dates, a bootstrap interval that resamples dates rather than events, the alpha of a
calendar-time portfolio, a placebo p-value and a plain summary.

Pure functions over numpy/pandas inputs: no I/O, no printing. Units: returns are simple daily
fractions (0.01 = +1 %); a year is `periods` = 252 trading days. Invalid input (NaN where a
value is required, a non-positive sigma, mismatched lengths) raises ValueError with a one-line
message; too little data for a statistic gives NaN statistics, not an exception.

statsmodels (HAC regression) and arch (bootstrap) are imported inside the functions that use
them: both are slow to import.
"""

from __future__ import annotations

import math

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


def average_correlation(est_returns: pd.DataFrame, min_overlap: int = MIN_OVERLAP) -> tuple[float, int]:
    """Mean pairwise Pearson correlation of the columns of `est_returns` (dates x events; NaN
    outside each event's window) and the number of pairs it averages.

    Each pair's correlation is taken over the dates where both columns have values; a pair
    counts only when they share at least `min_overlap` such dates and neither is constant
    over them (otherwise its correlation is undefined). The mean is 0.0 when no pair counts."""
    if min_overlap < 2:
        raise ValueError(f"min_overlap must be at least 2, got {min_overlap}")
    values = np.asarray(est_returns, dtype=float)
    if values.ndim != 2 or values.shape[1] < 2:
        return 0.0, 0
    corr = pd.DataFrame(values).corr(method="pearson", min_periods=min_overlap).to_numpy()
    upper = corr[np.triu_indices(corr.shape[0], k=1)]
    counted = upper[np.isfinite(upper)]
    if len(counted) == 0:
        return 0.0, 0
    return float(counted.mean()), len(counted)


def kp_bmp_test(car, sigma, length, est_returns: pd.DataFrame, *, min_overlap: int = MIN_OVERLAP) -> dict:
    """Standardised cross-sectional test of Boehmer, Musumeci and Poulsen (1991, "BMP") with the
    Kolari and Pynnönen (2010, "KP") adjustment for cross-correlation of events sharing dates.

    Inputs (one entry per event, N events, in the same order everywhere):
      car: (N,) cumulative abnormal return of each event over its event window (fraction).
      sigma: (N,) standard deviation of the event's daily abnormal return over its estimation
        window (fraction per day); must be finite and > 0, else ValueError.
      length: (N,) number of days in each event window (>= 1).
      est_returns: DataFrame, calendar dates x N events (columns by position): each event's
        daily abnormal returns over its estimation window, NaN outside it. Used only for the
        average pairwise correlation r̄ (see `average_correlation`: pairs sharing fewer than
        `min_overlap` dates are not counted; r̄ = 0 when none is).

    Standardised CAR: SCAR_i = car_i / (sigma_i * sqrt(length_i)). This is the
    market-adjusted model (abnormal return = r_i - r_m): no parameters are estimated, so there
    is no forecast-error (prediction-variance) correction of sigma.
    BMP: t_bmp = mean(SCAR) * sqrt(N) / std(SCAR, ddof=1).
    KP: t_kp = t_bmp * sqrt((1 - r̄) / (1 + (N - 1) * r̄)) (NaN if 1 + (N - 1) * r̄ <= 0).
    p-values are two-sided from the standard normal.

    Returns a dict: n, mean_scar, t_bmp, p_bmp, r_bar, n_pairs, t_kp, p_kp. With N < 2 or
    zero dispersion of SCAR, the t statistics and p-values are NaN (mean_scar is NaN for
    N = 0; r_bar and n_pairs are still reported)."""
    car = _vector(car, "car")
    n = len(car)
    sigma = _vector(sigma, "sigma", n)
    length = _vector(length, "length", n)
    if (sigma <= 0).any():
        raise ValueError(f"sigma must be > 0 for every event; {int((sigma <= 0).sum())} are not")
    if (length < 1).any():
        raise ValueError(f"length must be >= 1 for every event; {int((length < 1).sum())} are not")
    if not isinstance(est_returns, pd.DataFrame):
        raise ValueError("est_returns must be a DataFrame (dates x events)")
    if est_returns.shape[1] != n:
        raise ValueError(f"est_returns has {est_returns.shape[1]} event columns, expected {n}")

    r_bar, n_pairs = average_correlation(est_returns, min_overlap)
    scar = car / (sigma * np.sqrt(length))
    mean_scar = float(scar.mean()) if n else math.nan
    t_bmp = math.nan
    if n >= 2:
        sd = float(scar.std(ddof=1))
        if sd > 0:
            t_bmp = mean_scar * math.sqrt(n) / sd
    inflation = 1.0 + (n - 1) * r_bar
    t_kp = t_bmp * math.sqrt((1.0 - r_bar) / inflation) if inflation > 0 else math.nan
    return {
        "n": n,
        "mean_scar": mean_scar,
        "t_bmp": t_bmp,
        "p_bmp": _normal_two_sided(t_bmp),
        "r_bar": r_bar,
        "n_pairs": n_pairs,
        "t_kp": t_kp,
        "p_kp": _normal_two_sided(t_kp),
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


def placebo_p_value(event_mean: float, placebo, n_events: int, n_draws: int = 10_000, seed: int = 0) -> dict:
    """How unusual the events' mean outcome is among means of random placebo outcomes.

    Inputs: event_mean: the mean outcome of the `n_events` events (e.g. the strategy's mean
    excess return, fraction); placebo: (M,) individual placebo outcomes (the same strategy's
    excess return on random non-event days; NaN is a ValueError).

    Null distribution of a mean of `n_events` outcomes: `n_draws` samples of size n_events
    drawn with replacement from `placebo` with numpy's Generator `np.random.default_rng(seed)`
    (deterministic for a given seed), each sample's mean taken. One-sided p-value that placebo
    means reach the event mean: (1 + #{draw mean >= event_mean}) / (n_draws + 1).

    Returns a dict: n (M), mean (placebo mean), std (placebo standard deviation, ddof=1),
    p_value, n_draws, seed, percentile: where the event mean falls among the draw means, 0..100
    (share of draw means below it, ties counted half). With no placebo outcomes, or a NaN
    event_mean, p_value and percentile are NaN."""
    p = _vector(placebo, "placebo")
    if int(n_events) != n_events or n_events < 1:
        raise ValueError(f"n_events must be a positive integer, got {n_events}")
    if n_draws < 1:
        raise ValueError(f"n_draws must be at least 1, got {n_draws}")
    m = len(p)
    out = {
        "n": m,
        "mean": float(p.mean()) if m else math.nan,
        "std": float(p.std(ddof=1)) if m >= 2 else math.nan,
        "p_value": math.nan,
        "n_draws": n_draws,
        "seed": seed,
        "percentile": math.nan,
    }
    if m == 0 or not np.isfinite(event_mean):
        return out
    rng = np.random.default_rng(seed)
    n_events = int(n_events)
    rows = max(1, 2_000_000 // n_events)  # bounds the index block's memory for large n_events
    means = np.concatenate(
        [
            p[rng.integers(0, m, size=(min(rows, n_draws - start), n_events))].mean(axis=1)
            for start in range(0, n_draws, rows)
        ]
    )
    out["p_value"] = (1 + int((means >= event_mean).sum())) / (n_draws + 1)
    below, ties = (means < event_mean).sum(), (means == event_mean).sum()
    out["percentile"] = float(100.0 * (below + 0.5 * ties) / n_draws)
    return out


def summarize(excess, dates) -> dict:
    """Plain summary of per-event outcomes.

    Inputs: excess (N,) each event's excess return (fraction; NaN is a ValueError); dates (N,)
    each event's date (any labels). Returns a dict: n_events, mean_excess, median_excess,
    hit_rate (share of events with excess > 0), n_dates (distinct dates). With no events the
    statistics are NaN and the counts 0."""
    x = _vector(excess, "excess")
    d = pd.Index(np.asarray(dates))
    if len(d) != len(x):
        raise ValueError(f"dates has {len(d)} labels, expected one per event ({len(x)})")
    n = len(x)
    return {
        "n_events": n,
        "mean_excess": float(x.mean()) if n else math.nan,
        "median_excess": float(np.median(x)) if n else math.nan,
        "hit_rate": float((x > 0).mean()) if n else math.nan,
        "n_dates": int(d.nunique(dropna=False)),
    }
