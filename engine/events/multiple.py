"""Which parameter sets of a rule generalise across events, once the search over many sets is
allowed for, and out of sample.

Input everywhere: X, an S x N matrix, X[s, i] = the abnormal (benchmark already subtracted)
return of parameter set s on event i, a fraction (0.012 = +1.2 %), NaN where set s did not
trade event i; and the events' cluster labels, their event dates (any sortable hashable labels,
e.g. numpy datetime64). Events sharing a date are correlated, so every bootstrap here resamples
whole dates with replacement, never single events, as crossevent.cluster_bootstrap_ci does, and
a set's mean is event-weighted: the sum of its values over the drawn dates (a date drawn twice
counts twice) over their number of events.

- `cluster_table`, `resample_counts`, `cluster_means`: the date-cluster bootstrap core. Per set
  and date, the sum and count of its events (S x C); a B x C matrix of how often each date is
  drawn in each replication; the B x S bootstrap means as one matrix product, in blocks of
  replications so that memory stays bounded.
- `stepm`: Romano & Wolf's (2005) stepwise multiple test: which sets have a positive mean,
  with the family-wise error rate controlled over all S sets (by default studentized in each
  replication, a bootstrap-t; se="fixed" divides by one bootstrap standard error instead).
- `spa`: Hansen's (2005) test for superior predictive ability: does any set have a positive
  mean? (White's 2000 Reality Check is its upper p-value.)
- `walk_forward`: the set chosen on earlier events, scored on later ones only.

Pure functions over numpy/pandas inputs: no I/O, no printing. Invalid input (a wrong shape, an
infinite value, a missing label, an out-of-range option) raises ValueError with a one-line
message; too little data for a statistic gives NaN (or an empty selection), not an exception.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from engine.events import crossevent

BLOCK_BYTES = 64 * 2**20  # largest temporary block of a bootstrap product or statistic (bytes)
ZERO_SE = 1e-10  # a standard error at most this times the set's largest |value| is zero (rounding)
# A set is tested (StepM, SPA) or chosen (walk-forward) only with events on at least this many
# dates: a bootstrap over 2 to 4 dates has 3 to 35 distinct resamples, and its standard error
# is too coarse to studentize by (on the AI roles, sets trading 2 dates made SPA's p 0.0006).
MIN_DATES = 5


# --- the date-cluster bootstrap core ------------------------------------------------------


def _matrix(X) -> np.ndarray:
    """X as a 2-D float array (sets x events), NaN allowed, infinities not."""
    x = np.asarray(X, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"X must be a 2-D sets x events matrix, got shape {x.shape}")
    if np.isinf(x).any():
        raise ValueError(f"X has {int(np.isinf(x).sum())} infinite value(s)")
    return x


def _codes(clusters, n: int, name: str = "clusters") -> tuple[np.ndarray, pd.Index]:
    """Integer codes 0..C-1 of the labels in sorted order, and the C sorted distinct labels."""
    raw = np.asarray(clusters)
    if raw.ndim != 1 or len(raw) != n:
        raise ValueError(f"{name} must have one label per event ({n}), got shape {raw.shape}")
    labels = pd.Index(raw)
    if labels.hasnans:
        raise ValueError(f"{name} has missing labels")
    codes, uniques = pd.factorize(labels, sort=True)
    return codes, uniques


def _positive_int(value, name: str, least: int = 1) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < least:
        raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    return int(value)


def _table(x: np.ndarray, codes: np.ndarray, n_clusters: int) -> tuple[np.ndarray, np.ndarray]:
    """(sums, counts), each S x C: per set and cluster the sum of its non-NaN values and their
    number. Each row's events are summed in the order (cluster, value), so the sums, and all
    that follows from them, are the same bit for bit whatever the input order of the events."""
    n_sets = x.shape[0]
    if n_clusters == 0:
        return np.zeros((n_sets, 0)), np.zeros((n_sets, 0))
    valid = ~np.isnan(x)
    filled = np.where(valid, x, 0.0)
    by_value = np.argsort(filled, axis=1, kind="stable")
    by_cluster = np.argsort(codes[by_value], axis=1, kind="stable")
    order = np.take_along_axis(by_value, by_cluster, axis=1)
    starts = np.searchsorted(np.sort(codes), np.arange(n_clusters))
    sums = np.add.reduceat(np.take_along_axis(filled, order, axis=1), starts, axis=1)
    counts = np.add.reduceat(np.take_along_axis(valid, order, axis=1).astype(float), starts, axis=1)
    return sums, counts


def cluster_table(X, clusters) -> dict:
    """Per-set, per-cluster sums and counts of X, the input of the bootstrap.

    Inputs: X (S x N) values of S sets on N events (fractions; NaN = the set did not trade the
    event; infinite values are a ValueError); clusters (N,) each event's cluster (its date).

    Returns a dict: sums (S x C) the sum of each set's non-NaN values on each cluster's events,
    counts (S x C, float) their number, labels (the C distinct labels, sorted: column c of sums
    and counts is labels[c]), codes (N,) each event's column. Each row is summed in the order
    (cluster, value), so the result does not depend on the input order of the events."""
    x = _matrix(X)
    codes, labels = _codes(clusters, x.shape[1])
    sums, counts = _table(x, codes, len(labels))
    return {"sums": sums, "counts": counts, "labels": labels, "codes": codes}


def resample_counts(n_clusters: int, n_boot: int, seed=0) -> np.ndarray:
    """How often each of `n_clusters` clusters is drawn in each of `n_boot` replications of a
    bootstrap that draws n_clusters clusters with replacement, uniformly (a B x C integer
    matrix whose rows sum to C). Draws: `np.random.default_rng(seed).integers(0, C, size=(B,
    C))`, row b being replication b's draws, so the result is deterministic for a seed."""
    n_clusters = _positive_int(n_clusters, "n_clusters", least=0)
    n_boot = _positive_int(n_boot, "n_boot")
    if n_clusters == 0:
        return np.zeros((n_boot, 0), dtype=np.int64)
    draws = np.random.default_rng(seed).integers(0, n_clusters, size=(n_boot, n_clusters))
    draws += n_clusters * np.arange(n_boot)[:, None]
    return np.bincount(draws.ravel(), minlength=n_boot * n_clusters).reshape(n_boot, n_clusters)


def _blocks(weights: np.ndarray, width: int, chunk_rows: int | None):
    """(rows, float block of weights) per block of replications: `chunk_rows` at a time, by
    default as many as keep a block of `width` float columns under BLOCK_BYTES."""
    rows = chunk_rows or max(1, BLOCK_BYTES // (8 * max(1, width + weights.shape[1])))
    for start in range(0, weights.shape[0], rows):
        yield slice(start, start + rows), weights[start : start + rows].astype(float)


def _means(sums: np.ndarray, counts: np.ndarray, weights: np.ndarray, chunk_rows: int | None) -> np.ndarray:
    """B x S: (weights @ sums.T) / (weights @ counts.T), as one product with [sums; counts]
    per block of replications. NaN where a replication drew none of a set's events."""
    n_sets = sums.shape[0]
    both = np.ascontiguousarray(np.concatenate([sums, counts]).T)  # C x 2S
    out = np.empty((weights.shape[0], n_sets))
    for rows, w in _blocks(weights, 2 * n_sets, chunk_rows):
        product = w @ both
        with np.errstate(invalid="ignore", divide="ignore"):
            np.divide(product[:, :n_sets], product[:, n_sets:], out=out[rows])
    return out


def _residuals(sums: np.ndarray, counts: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """S x C: e[s, c] = sums[s, c] - mean[s] * counts[s, c], each cluster's deviation from the
    set's mean (0 for a set without events)."""
    return sums - np.nan_to_num(mean)[:, None] * counts


def _studentized(sums, counts, mean, size, weights) -> np.ndarray:
    """B x S bootstrap-t statistics (mean*_{s,b} - mean_s) / se*_{s,b}, se* the cluster-robust
    standard error computed from replication b's own draws (see `stepm`); NaN where it is
    undefined (no event of the set drawn, or se* zero up to rounding)."""
    n_sets = sums.shape[0]
    e = _residuals(sums, counts, mean)
    columns = np.ascontiguousarray(np.concatenate([sums, counts, e * e, counts * e, counts * counts]).T)
    out = np.empty((weights.shape[0], n_sets))
    for rows, w in _blocks(weights, 10 * n_sets, None):
        p = np.split(w @ columns, 5, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            d = p[0] / p[1] - mean
            var = (p[2] - 2.0 * d * p[3] + d * d * p[4]) / (p[1] * p[1])
            se = np.sqrt(np.maximum(var, 0.0))
            out[rows] = np.where(se > ZERO_SE * size, d / se, np.nan)
    return out


def cluster_means(X, clusters, weights, *, chunk_rows: int | None = None) -> np.ndarray:
    """Bootstrap means of every set: a B x S matrix, entry (b, s) the event-weighted mean of set
    s over the clusters replication b drew, sum_c w[b, c] * sums[s, c] / sum_c w[b, c] *
    counts[s, c] (see `cluster_table`); NaN when replication b drew none of the set's events.

    Inputs: X (S x N) and clusters (N,) as in `cluster_table`; weights (B x C) how often each
    cluster (in sorted label order) is drawn in each replication, e.g. `resample_counts(C, B,
    seed)`: non-negative. One matrix product per block of `chunk_rows` replications (by default
    as many as keep the block under BLOCK_BYTES), so memory beyond the B x S result is bounded."""
    x = _matrix(X)
    codes, labels = _codes(clusters, x.shape[1])
    w = np.asarray(weights)
    if w.ndim != 2 or w.shape[1] != len(labels):
        raise ValueError(f"weights must be replications x {len(labels)} clusters, got shape {w.shape}")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be finite and non-negative")
    if chunk_rows is not None:
        chunk_rows = _positive_int(chunk_rows, "chunk_rows")
    sums, counts = _table(x, codes, len(labels))
    return _means(sums, counts, w, chunk_rows)


def _column_blocks(n_rows: int, n_cols: int):
    step = max(1, BLOCK_BYTES // (8 * max(n_rows, 1)))
    return (slice(j, min(j + step, n_cols)) for j in range(0, n_cols, step))


def _bootstrap(
    X, clusters, n_boot: int, seed, per_replication: bool = False, min_dates: int = MIN_DATES
) -> dict:
    """The shared first stage of `stepm` and `spa`: each set's mean, its standard error and
    its numbers of events and of dates; the B x S bootstrap means (`per_replication` False:
    se = their standard deviation) or bootstrap-t statistics (True: se = the sample's
    cluster-robust standard error); and which sets are testable: events on at least
    `min_dates` dates (MIN_DATES; at least 2) and a standard error that is finite and not zero up to rounding
    (> ZERO_SE times the set's largest absolute value: the same value on every event gives an
    exactly zero standard error only up to rounding)."""
    x = _matrix(X)
    n_boot = _positive_int(n_boot, "n_boot", least=2)
    codes, labels = _codes(clusters, x.shape[1])
    n_clusters = len(labels)
    sums, counts = _table(x, codes, n_clusters)
    n_events = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums.sum(axis=1) / n_events
    size = np.abs(np.where(np.isnan(x), 0.0, x)).max(axis=1, initial=0.0)
    weights = resample_counts(n_clusters, n_boot, seed)
    if per_replication:
        boot = _studentized(sums, counts, mean, size, weights)
        with np.errstate(invalid="ignore", divide="ignore"):
            se = np.sqrt((_residuals(sums, counts, mean) ** 2).sum(axis=1)) / n_events
    else:
        boot = _means(sums, counts, weights, None)
        se = np.full(x.shape[0], math.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a set with < 2 defined replications
            for cols in _column_blocks(n_boot, x.shape[0]):
                se[cols] = np.nanstd(boot[:, cols], axis=0, ddof=1)
    n_dates = (counts > 0).sum(axis=1)
    eligible = (n_dates >= max(min_dates, 2)) & np.isfinite(se) & (se > ZERO_SE * size)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = mean / se
    return {
        "mean": mean,
        "se": se,
        "t": t,
        "boot": boot,
        "n_events": n_events.astype(int),
        "n_dates": n_dates,
        "eligible": eligible,
        "n_clusters": n_clusters,
    }


def _row_max(boot: np.ndarray, centre: np.ndarray, scale: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """(B,) max over the sets `cols` of (boot[:, s] - centre[s]) / scale[s]; an undefined (NaN)
    bootstrap mean does not count, and a row with none defined gives -inf."""
    out = np.full(boot.shape[0], -np.inf)
    for block in _column_blocks(boot.shape[0], len(cols)):
        c = cols[block]
        z = (boot[:, c] - centre[c]) / scale[c]
        np.fmax(out, np.fmax.reduce(z, axis=1), out=out)
    return np.where(np.isnan(out), -np.inf, out)


# --- Romano-Wolf StepM ----------------------------------------------------------------------


def stepm(
    X,
    clusters,
    alpha: float = 0.05,
    n_boot: int = 10_000,
    seed=0,
    *,
    se: str = "replication",
    min_dates: int = MIN_DATES,
) -> dict:
    """Which sets have a positive mean, with the family-wise error rate (the chance of calling
    any set with a true mean <= 0 positive) held at `alpha` over all S sets: the studentized
    StepM of Romano and Wolf, "Stepwise Multiple Testing as Formalized Data Snooping",
    Econometrica 73(4), 2005, in its basic form, one-sided: one bootstrap, and at each step the
    critical value of a max over the sets not yet rejected (the paper's refinement that also
    runs over subsets of the rejected sets is not implemented).

    Inputs: X (S x N) the abnormal return of set s on event i (fraction; NaN = not traded);
    clusters (N,) each event's date (the bootstrap's cluster); `alpha` in (0, 1); `n_boot`
    replications (>= 2); `seed` of numpy's default_rng; `se`, how the statistics are
    studentized (below).

    Hypotheses H0_s: mean_s <= 0, s = 1..S, where mean_s is the event-weighted mean of set s's
    non-NaN values. Bootstrap: dates drawn with replacement (`resample_counts`), giving
    mean*_{s,b} (`cluster_means`). t_s = mean_s / se_s, and the bootstrap statistic z*_{s,b}:
      se="replication" (default; Romano and Wolf's studentization, a bootstrap-t): se_s is the
        cluster-robust standard error of mean_s, sqrt(sum_c e_c^2) / n_s with e_c = (sum of
        the set's values on date c) - mean_s * (their number) and n_s the set's events (no
        small-sample factor: it would scale t and z* alike); z*_{s,b} = (mean*_{s,b} -
        mean_s) / se*_{s,b}, se* the same formula on replication b's draws (a date drawn twice
        counts as two clusters) about mean*_{s,b};
      se="fixed": se_s = the standard deviation (ddof = 1) of mean*_{s,b} over the
        replications where set s has events, and z*_{s,b} = (mean*_{s,b} - mean_s) / se_s.
    The fixed form over-rejects with few dates or many sets: on pure noise the family-wise
    error was about 8-10 % for S = 10 sets on 30 dates (bootstrap-t: 5 %), and 9 % for
    S = 1000 independent sets on 150 dates (bootstrap-t: 4 %) at alpha = 5 %.
    Step j: over the sets not yet rejected, c_j = the (1 - alpha) quantile (inverted empirical
    distribution, numpy's "inverted_cdf") of max_s z*_{s,b} over b (a replication where a
    set's z* is undefined, no event of it drawn or se* zero, leaves that set out of its max);
    every such set with t_s > c_j is rejected. Steps repeat until one rejects no new set (or
    none is left).

    Sets with fewer than 2 events, or events on only one date, or a standard error that is zero
    (up to rounding: at most ZERO_SE = 1e-10 times the set's largest absolute value, e.g. the
    same value on every event) or undefined, are never rejected and do not enter the max (their
    t is still reported where defined).

    Returns a dict: rejected (S,) bool; step (S,) int, the step that rejected each set (1, 2,
    ...; 0 = not rejected); mean, se, t (S,) floats; n_events, n_dates (S,) ints; eligible (S,)
    bool, the sets tested; critical_values, the c_j of each step in order (the last is that of
    the step that rejected nothing new, unless every eligible set was rejected); alpha;
    se_method (the `se` option); n_boot, seed, n_clusters."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha}")
    if se not in ("replication", "fixed"):
        raise ValueError(f"se must be 'replication' or 'fixed', got {se!r}")
    b = _bootstrap(X, clusters, n_boot, seed, per_replication=se == "replication", min_dates=min_dates)
    mean, t, eligible = b["mean"], b["t"], b["eligible"]
    if se == "replication":
        centre, scale = np.zeros_like(mean), np.ones_like(mean)
    else:
        centre, scale = mean, b["se"]
    step = np.zeros(len(mean), dtype=int)
    critical: list[float] = []
    while True:
        active = np.flatnonzero(eligible & (step == 0))
        if len(active) == 0:
            break
        maxima = _row_max(b["boot"], centre, scale, active)
        c = float(np.quantile(maxima, 1.0 - alpha, method="inverted_cdf"))
        critical.append(c)
        new = active[t[active] > c]
        if len(new) == 0:
            break
        step[new] = len(critical)
    return {
        "rejected": step > 0,
        "step": step,
        "mean": mean,
        "se": b["se"],
        "t": t,
        "n_events": b["n_events"],
        "n_dates": b["n_dates"],
        "eligible": eligible,
        "critical_values": critical,
        "alpha": alpha,
        "se_method": se,
        "n_boot": int(n_boot),
        "seed": seed,
        "n_clusters": b["n_clusters"],
    }


# --- Hansen SPA -----------------------------------------------------------------------------


def spa(
    X, clusters, n_boot: int = 10_000, seed=0, *, studentize: bool = True, min_dates: int = MIN_DATES
) -> dict:
    """Is any set's mean positive, once the search over all S sets is allowed for? Hansen's test
    for Superior Predictive Ability ("A Test for Superior Predictive Ability", Journal of
    Business & Economic Statistics 23(4), 2005), on the date-cluster bootstrap; its upper
    p-value is White's Reality Check ("A Reality Check for Data Snooping", Econometrica 68(5),
    2000). X is already an excess (abnormal) return, so the benchmark is 0.

    Inputs: X (S x N) the abnormal return of set s on event i (fraction; NaN = not traded);
    clusters (N,) each event's date; `n_boot` replications (>= 2); `seed` of numpy's
    default_rng; `studentize`: Hansen's studentized statistic (True) or the plain largest mean
    (False, White's statistic, which is also what arch 8's SPA computes).

    H0: max_s mean_s <= 0. Bootstrap, mean_s, se_s and the sets tested as in `stepm` with
    se="fixed" (Hansen's omega is fixed across replications; the same seed gives the same
    replications). Like that form, the test over-rejects somewhat in finite samples: on pure
    noise the consistent p-value was <= 5 % in about 9-11 % of samples for S = 10 sets on 30
    dates, 7 % on 60 dates (arch's SPA on the same samples: 7 % too), and 9 % for S = 1000
    independent sets on 150 dates (200 samples). Hansen's n and omega when sets have different
    numbers of events: n_s = the number of distinct dates on which set s has events, and omega_s
    = sqrt(n_s) * se_s, so sqrt(n_s) * mean_s / omega_s = mean_s / se_s = t_s. With one event
    per date and no NaN, n_s = N for every set and omega_s^2 = N * se_s^2 is the bootstrap
    variance of sqrt(N) * mean*_s, Hansen's bootstrap estimate of omega^2 except that it is
    taken about the replications' own mean rather than mean_s. n_s enters only the consistent
    p-value's threshold. Statistic: T = max(max_s t_s, 0) (studentized) or
    max(max_s mean_s, 0). Re-centring (his g functions) of the bootstrap means:
      upper: mean*_s - mean_s for every set (the least favourable null, White's Reality Check);
      consistent: mean*_s - mean_s, except for a set with t_s < -sqrt(2 log log n_s), which
        keeps its negative mean: mean*_s - 0 (the threshold is 0 when n_s <= e);
      lower: mean*_s - max(mean_s, 0).
    T*_b = max(max_s Z*_{s,b} / se_s, 0) (studentized; Z*_{s,b} the re-centred mean) or
    max(max_s Z*_{s,b}, 0); a replication that drew none of a set's events leaves that set out.
    p = the share of replications with T*_b >= T. With T = 0 (no set has a positive mean) every
    p-value is 1. arch 8's SPA takes the maxima without the floor at 0 and counts T*_b > T: for
    T > 0 the two agree except on exact ties. By construction lower <= consistent <= upper.

    Returns a dict: pvalues {"lower", "consistent", "upper"}, statistic (T), best (the index
    of the set attaining max_s t_s, or max_s mean_s unstudentized; ties -> lowest index; None
    when no set is tested), best_mean, best_t, mean, se, t (S,), n_dates (S,), eligible (S,),
    n_eligible, n_sets, studentize, n_boot, seed, n_clusters. With no set tested (e.g. fewer
    than 2 dates) the p-values, statistic, best_mean and best_t are NaN."""
    b = _bootstrap(X, clusters, n_boot, seed, min_dates=min_dates)
    mean, se, t, eligible, n_dates = b["mean"], b["se"], b["t"], b["eligible"], b["n_dates"]
    cols = np.flatnonzero(eligible)
    out = {
        "pvalues": dict.fromkeys(("lower", "consistent", "upper"), math.nan),
        "statistic": math.nan,
        "best": None,
        "best_mean": math.nan,
        "best_t": math.nan,
        "mean": mean,
        "se": se,
        "t": t,
        "n_dates": n_dates,
        "eligible": eligible,
        "n_eligible": len(cols),
        "n_sets": len(mean),
        "studentize": bool(studentize),
        "n_boot": int(n_boot),
        "seed": seed,
        "n_clusters": b["n_clusters"],
    }
    if len(cols) == 0:
        return out
    scale = se if studentize else np.ones_like(se)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = mean / scale
    best = int(cols[np.argmax(score[cols])])
    statistic = max(float(score[best]), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        bound = np.sqrt(np.maximum(2.0 * np.log(np.log(np.maximum(n_dates, 1.0))), 0.0))
    centres = {
        "lower": np.maximum(mean, 0.0),
        "consistent": np.where(t < -bound, 0.0, mean),
        "upper": mean,
    }
    for name, centre in centres.items():
        stars = np.maximum(_row_max(b["boot"], centre, scale, cols), 0.0)
        out["pvalues"][name] = float(np.mean(stars >= statistic))
    out |= {"statistic": statistic, "best": best, "best_mean": float(mean[best]), "best_t": float(t[best])}
    return out


# --- walk-forward across event dates --------------------------------------------------------


def walk_forward(
    X,
    dates,
    n_folds: int = 5,
    min_train_dates: int = 20,
    n_boot: int = 10_000,
    seed=0,
    level: float = 0.95,
    min_dates: int = MIN_DATES,
) -> dict:
    """Out of sample across events: the set chosen on earlier events, scored on later ones.

    Inputs: X (S x N) the abnormal return of set s on event i (fraction; NaN = not traded);
    dates (N,) each event's date (sortable labels, e.g. numpy datetime64); `n_folds` (>= 1);
    `min_train_dates` (>= 1); `n_boot`, `seed`, `level` of the pooled interval.

    Method (anchored, expanding window): the K distinct dates are sorted; the first
    `min_train_dates` are in-sample only, and the remaining K - min_train_dates are split into
    min(n_folds, K - min_train_dates) consecutive folds of as equal a number of dates as
    possible (numpy.array_split). A fold's cut-off is its first date. At each cut-off the set
    with the largest event-weighted mean over ALL events dated strictly before the cut-off is
    chosen (a set needs in-sample events on at least `min_dates` dates; ties -> lowest index),
    and it is scored
    on the events of that fold only. An out-of-sample event the chosen set did not trade (NaN)
    contributes nothing and is counted in oos_untraded. The pooled out-of-sample outcomes of all
    folds get a date-cluster bootstrap interval of their mean (crossevent.cluster_bootstrap_ci,
    `n_boot`, `level`, `seed`).

    Returns a dict:
      folds: a list, per fold, of dicts: cutoff (its first date), last (its last date),
        n_fold_dates, chosen (set index, None when no set has an in-sample event), is_mean,
        is_n (the chosen set's in-sample mean and number of events), oos_mean, oos_n,
        oos_untraded (the fold's events the chosen set did not trade);
      oos_values, oos_dates, oos_events (indices into X's columns), oos_sets (N_oos,): the
        pooled out-of-sample outcomes in date order, fold after fold, and which set gave each;
      oos_mean, oos_n, oos_untraded; ci: crossevent.cluster_bootstrap_ci's dict of oos_values
        by oos_dates (low, high, level, n_boot, n_clusters, seed);
      n_dates (K), min_train_dates, n_folds (the number actually made).
    With K <= min_train_dates there is no fold: the lists are empty and oos_mean is NaN."""
    x = _matrix(X)
    codes, labels = _codes(dates, x.shape[1], "dates")
    n_folds = _positive_int(n_folds, "n_folds")
    min_train_dates = _positive_int(min_train_dates, "min_train_dates")
    n_boot = _positive_int(n_boot, "n_boot")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be strictly between 0 and 1, got {level}")
    raw_dates = np.asarray(dates)
    valid = ~np.isnan(x)
    filled = np.where(valid, x, 0.0)
    tested = np.arange(min_train_dates, len(labels))
    pieces = np.array_split(tested, min(n_folds, len(tested))) if len(tested) else []
    folds, events, sets = [], [], []
    untraded = 0
    _, per_date = _table(x, codes, len(labels))
    for piece in pieces:
        before = codes < piece[0]
        is_n = valid[:, before].sum(axis=1)
        is_dates = (per_date[:, : piece[0]] > 0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            is_mean = np.where(is_dates >= max(min_dates, 1), filled[:, before].sum(axis=1) / is_n, -np.inf)
        fold = {"cutoff": labels[piece[0]], "last": labels[piece[-1]], "n_fold_dates": len(piece)}
        inside = np.flatnonzero((codes >= piece[0]) & (codes <= piece[-1]))
        inside = inside[np.argsort(codes[inside], kind="stable")]
        if not np.isfinite(is_mean).any():
            fold |= {"chosen": None, "is_mean": math.nan, "is_n": 0}
            fold |= {"oos_mean": math.nan, "oos_n": 0, "oos_untraded": len(inside)}
            untraded += len(inside)
            folds.append(fold)
            continue
        chosen = int(np.argmax(is_mean))
        traded = inside[valid[chosen, inside]]
        values = x[chosen, traded]
        fold |= {"chosen": chosen, "is_mean": float(is_mean[chosen]), "is_n": int(is_n[chosen])}
        fold |= {
            "oos_mean": float(values.mean()) if len(values) else math.nan,
            "oos_n": len(values),
            "oos_untraded": len(inside) - len(traded),
        }
        untraded += len(inside) - len(traded)
        events.append(traded)
        sets.append(np.full(len(traded), chosen))
        folds.append(fold)
    oos_events = np.concatenate(events) if events else np.zeros(0, dtype=int)
    oos_sets = np.concatenate(sets) if sets else np.zeros(0, dtype=int)
    oos_values = x[oos_sets, oos_events]
    oos_dates = raw_dates[oos_events]
    ci = crossevent.cluster_bootstrap_ci(oos_values, oos_dates, n_boot=n_boot, level=level, seed=seed)
    return {
        "folds": folds,
        "oos_values": oos_values,
        "oos_dates": oos_dates,
        "oos_events": oos_events,
        "oos_sets": oos_sets,
        "oos_mean": float(oos_values.mean()) if len(oos_values) else math.nan,
        "oos_n": len(oos_values),
        "oos_untraded": untraded,
        "ci": ci,
        "n_dates": len(labels),
        "min_train_dates": min_train_dates,
        "n_folds": len(folds),
    }
