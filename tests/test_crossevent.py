"""Cross-event statistics (engine/events/crossevent.py), checked against independent
recomputations (plain Python / numpy / statsmodels called directly) on constructed cases."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest

from engine.events import crossevent as ce

# --- scar_correlations and bmp_test -----------------------------------------------------


def _events(first, stop, resid_len=120, rho=0.5, seed=0):
    """Residuals for events with windows (first, stop), each estimation window the resid_len
    days ending 10 before first, with a common factor giving correlation about rho where
    they share days."""
    rng = np.random.default_rng(seed)
    first, stop = np.asarray(first), np.asarray(stop)
    start = first - 10 - resid_len
    days = np.arange(start.min(), stop.max() + 1)
    factor = rng.normal(size=len(days))
    resid = np.empty((len(first), resid_len))
    for i, s in enumerate(start):
        common = factor[s - days[0] : s - days[0] + resid_len]
        resid[i] = 0.01 * (math.sqrt(rho) * common + math.sqrt(1 - rho) * rng.normal(size=resid_len))
    return resid, start


def _direct_t(scar, resid, start, first, stop, min_overlap=30):
    """The adjusted t computed straight from the definitions, with plain Python loops: the
    correlation matrix C of the SCARs (C_ii = 1; C_ij = rho_ij o_ij / sqrt(L_i L_j) with rho
    from statistics.correlation over the shared residual days and o_ij from set
    intersection), then mean / sqrt(s^2 / (1 - c_bar) * sum(C) / N^2)."""
    n = len(scar)
    total, off = float(n), 0.0
    for i in range(n):
        for j in range(i + 1, n):
            days_i = set(range(first[i] + 1, stop[i]))
            days_j = set(range(first[j] + 1, stop[j]))
            o = len(days_i & days_j)
            if o == 0:
                continue
            shared = sorted(
                set(range(start[i], start[i] + resid.shape[1]))
                & set(range(start[j], start[j] + resid.shape[1]))
            )
            x = [resid[i, d - start[i]] for d in shared]
            y = [resid[j, d - start[j]] for d in shared]
            rho = statistics.correlation(x, y) if len(shared) >= min_overlap else 0.0
            c = rho * o / math.sqrt((stop[i] - first[i] - 1) * (stop[j] - first[j] - 1))
            total += 2 * c
            off += 2 * c
    c_bar = off / (n * (n - 1))
    s2 = statistics.variance(scar)
    return statistics.fmean(scar) / math.sqrt(s2 / (1 - c_bar) * total / n**2), c_bar


CASES = {
    # name: (first, stop)
    "all on one date": ([200] * 6, [222] * 6),
    "all disjoint": ([200, 240, 280, 320, 360, 400], [222, 262, 302, 342, 382, 422]),
    "mixed": ([200, 200, 205, 230, 260, 261, 300], [222, 215, 227, 252, 282, 283, 322]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_adjusted_t_equals_the_direct_variance_of_the_mean(name):
    first, stop = (np.array(v) for v in CASES[name])
    resid, start = _events(first, stop, seed=3)
    scar = np.random.default_rng(4).normal(0.3, 1.0, len(first))
    i, j, rho, c = ce.scar_correlations(resid, start, first, stop)
    got = ce.bmp_test(scar, i, j, c)
    want, c_bar = _direct_t(scar, resid, start, first, stop)
    assert got["t_adj"] == pytest.approx(want, rel=1e-12)
    assert got["c_bar"] == pytest.approx(c_bar, rel=1e-12, abs=1e-15)
    if name == "all disjoint":
        assert len(i) == 0 and got["t_adj"] == got["t_bmp"]
    if name == "all on one date":
        assert len(i) == 15 and np.allclose(c, rho)  # the whole window shared: c = rho


def test_one_date_reduces_to_kolari_pynnonen():
    """All events on one date with one window: KP (2010): t_kp = t_bmp sqrt((1 - r) / (1 +
    (N - 1) r)), r the mean pairwise correlation of the residuals (np.corrcoef here)."""
    first, stop = np.full(8, 300), np.full(8, 322)
    resid, start = _events(first, stop, rho=0.3, seed=9)
    corr = np.corrcoef(resid)
    r_bar = corr[np.triu_indices(8, 1)].mean()
    scar = np.random.default_rng(5).normal(0.5, 1.0, 8)
    i, j, _, c = ce.scar_correlations(resid, start, first, stop)
    got = ce.bmp_test(scar, i, j, c)
    t_bmp = scar.mean() * math.sqrt(8) / scar.std(ddof=1)
    assert got["t_bmp"] == pytest.approx(t_bmp, rel=1e-12)
    assert got["t_adj"] == pytest.approx(t_bmp * math.sqrt((1 - r_bar) / (1 + 7 * r_bar)), rel=1e-10)


def test_kp_worked_example():
    """N = 10, every pair correlated 0.1, t_bmp = 3: t = 3 sqrt(0.9 / 1.9) = 2.0647..."""
    n = 10
    d = np.random.default_rng(2).normal(size=n)
    scar = (d - d.mean()) / d.std(ddof=1) + 3 / math.sqrt(n)
    i, j = np.triu_indices(n, 1)
    got = ce.bmp_test(scar, i, j, np.full(len(i), 0.1))
    assert got["t_bmp"] == pytest.approx(3.0, rel=1e-12)
    assert got["c_bar"] == pytest.approx(0.1)
    assert got["t_adj"] == pytest.approx(2.064741, abs=1e-6)
    assert got["p_bmp"] == pytest.approx(0.0026997960632601866, rel=1e-9)  # 2 * (1 - Φ(3))


def test_pairs_sharing_too_few_residual_days_are_uncorrelated():
    """Two events whose event windows overlap but whose residuals share fewer than
    min_overlap days: rho = 0."""
    resid = np.full((2, 40), np.nan)
    rng = np.random.default_rng(1)
    common = rng.normal(size=60)
    resid[0] = common[:40]
    resid[1] = common[20:60]
    start, first, stop = np.array([0, 20]), np.array([100, 105]), np.array([120, 125])
    _, _, rho, _ = ce.scar_correlations(resid, start, first, stop, min_overlap=21)
    assert rho.tolist() == [0.0]  # 20 shared days < 21
    _, _, rho, c = ce.scar_correlations(resid, start, first, stop, min_overlap=20)
    assert rho[0] == pytest.approx(1.0) and c[0] == pytest.approx(14 / 19)  # days 106..119 shared


def test_bmp_degenerate_inputs():
    assert math.isnan(ce.bmp_test([0.5])["t_bmp"])
    flat = ce.bmp_test([1.0, 1.0, 1.0])
    assert math.isnan(flat["t_bmp"]) and math.isnan(flat["p_adj"])
    assert ce.bmp_test([])["n"] == 0
    with pytest.raises(ValueError, match="scar"):
        ce.bmp_test([1.0, np.nan])
    with pytest.raises(ValueError, match="one entry per pair"):
        ce.bmp_test([1.0, 2.0], [0], [], [0.1])


# --- cluster_bootstrap_ci -----------------------------------------------------------------


def test_cluster_bootstrap_is_deterministic_and_contains_the_mean():
    rng = np.random.default_rng(0)
    values = rng.normal(0.002, 0.02, 60)
    clusters = np.repeat(pd.date_range("2024-01-01", periods=20).to_numpy(), 3)
    a = ce.cluster_bootstrap_ci(values, clusters, n_boot=2000, seed=42)
    b = ce.cluster_bootstrap_ci(values, clusters, n_boot=2000, seed=42)
    c = ce.cluster_bootstrap_ci(values, clusters, n_boot=2000, seed=43)
    assert a == b
    assert (a["low"], a["high"]) != (c["low"], c["high"])
    assert a["low"] < values.mean() < a["high"]
    assert a["n_clusters"] == 20 and a["n_boot"] == 2000 and a["level"] == 0.95 and a["seed"] == 42
    # The order of the events does not matter (clusters sorted by label, summed in a fixed order).
    order = rng.permutation(60)
    assert ce.cluster_bootstrap_ci(values[order], clusters[order], n_boot=2000, seed=42) == a


def test_cluster_bootstrap_duplicates_within_a_date_do_not_narrow_the_interval():
    from arch.bootstrap import IIDBootstrap

    rng = np.random.default_rng(1)
    per_date = rng.normal(0.001, 0.02, 25)
    dates = pd.bdate_range("2024-03-01", periods=25).to_numpy()
    single = ce.cluster_bootstrap_ci(per_date, dates, n_boot=3000, seed=9)
    copies = ce.cluster_bootstrap_ci(np.repeat(per_date, 3), np.repeat(dates, 3), n_boot=3000, seed=9)
    assert copies["low"] == pytest.approx(single["low"], rel=1e-12)
    assert copies["high"] == pytest.approx(single["high"], rel=1e-12)
    # A naive per-event bootstrap treats the 75 copies as independent: a narrower interval.
    naive = IIDBootstrap(np.repeat(per_date, 3), seed=9).conf_int(
        np.mean, reps=3000, method="percentile", size=0.95
    )
    naive_width = float(naive[1, 0] - naive[0, 0])
    assert naive_width < 0.8 * (copies["high"] - copies["low"])


def test_cluster_bootstrap_statistic_is_event_weighted_mean():
    # Two clusters: d1 holds four events of 1.0, d2 one event of 5.0. A replication draws
    # (d1, d1) -> 1, (d2, d2) -> 5, or one of each (probability 1/2) -> (4 + 5) / (4 + 1) = 1.8,
    # the event-weighted mean (a mean of cluster means would give 3). The 40th and 60th
    # percentiles both fall in the middle mass.
    values = np.array([1.0, 1.0, 1.0, 1.0, 5.0])
    clusters = np.array(["d1", "d1", "d1", "d1", "d2"])
    got = ce.cluster_bootstrap_ci(values, clusters, n_boot=4000, level=0.2, seed=0)
    assert got["low"] == pytest.approx(1.8, rel=1e-12)
    assert got["high"] == pytest.approx(1.8, rel=1e-12)
    assert got["n_clusters"] == 2 and got["level"] == 0.2


def test_cluster_bootstrap_one_cluster_is_nan():
    got = ce.cluster_bootstrap_ci([0.01, 0.02, 0.03], ["2024-01-02"] * 3, n_boot=100)
    assert got["n_clusters"] == 1
    assert math.isnan(got["low"]) and math.isnan(got["high"])
    empty = ce.cluster_bootstrap_ci([], [], n_boot=100)
    assert empty["n_clusters"] == 0 and math.isnan(empty["low"])
    with pytest.raises(ValueError):
        ce.cluster_bootstrap_ci([0.01, np.nan], ["a", "b"])
    with pytest.raises(ValueError):
        ce.cluster_bootstrap_ci([0.01, 0.02], ["a"])


# --- calendar_time_alpha ------------------------------------------------------------------


def _market(t: int, seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(rng.normal(0.0005, 0.01, t), index=pd.bdate_range("2015-01-01", periods=t))


def test_calendar_time_alpha_recovers_alpha_and_beta():
    m = _market(2000, 0)
    noise = np.random.default_rng(1).normal(0.0, 1e-4, 2000)
    port = 0.0004 + 1.3 * m + noise
    got = ce.calendar_time_alpha(port, m)
    assert got["n_days"] == 2000
    assert got["maxlags"] == 7  # floor(4 * 20 ** (2/9)) = floor(7.78)
    assert got["alpha_daily"] == pytest.approx(0.0004, abs=2e-5)
    assert got["alpha_annual"] == pytest.approx(0.0004 * 252, abs=5e-3)
    assert got["alpha_annual"] == got["alpha_daily"] * 252
    assert got["beta"] == pytest.approx(1.3, abs=2e-3)
    assert got["t_alpha"] > 50 and got["p_alpha"] < 1e-10


def test_calendar_time_alpha_equals_statsmodels_hac():
    import statsmodels.api as sm

    m = _market(600, 2)
    rng = np.random.default_rng(3)
    port = 0.0002 + 0.9 * m + pd.Series(rng.normal(0, 0.004, 600), index=m.index)
    # Misaligned inputs: drop a few dates from one, NaN in the other.
    port = port.drop(port.index[[5, 50, 500]])
    m2 = m.copy()
    m2.iloc[[10, 20]] = np.nan
    got = ce.calendar_time_alpha(port, m2, periods=250, maxlags=4)
    both = pd.concat([port, m2], axis=1, join="inner").dropna()
    fit = sm.OLS(both.iloc[:, 0].to_numpy(), sm.add_constant(both.iloc[:, 1].to_numpy())).fit(
        cov_type="HAC", cov_kwds={"maxlags": 4}
    )
    assert got["n_days"] == 595 and got["maxlags"] == 4
    assert got["alpha_daily"] == pytest.approx(fit.params[0], rel=1e-12)
    assert got["alpha_annual"] == pytest.approx(fit.params[0] * 250, rel=1e-12)
    assert got["beta"] == pytest.approx(fit.params[1], rel=1e-12)
    assert got["t_alpha"] == pytest.approx(fit.tvalues[0], rel=1e-12)
    assert got["p_alpha"] == pytest.approx(fit.pvalues[0], rel=1e-10)
    assert got["t_beta"] == pytest.approx(fit.tvalues[1], rel=1e-12)
    # Default lags: the Newey-West rule on T = 595.
    assert ce.calendar_time_alpha(port, m2)["maxlags"] == math.floor(4 * (595 / 100) ** (2 / 9))


def test_calendar_time_alpha_uses_hac_errors():
    import statsmodels.api as sm

    t = 1500
    m = _market(t, 4)
    rng = np.random.default_rng(5)
    e = np.zeros(t)
    shocks = rng.normal(0, 0.002, t)
    for i in range(1, t):
        e[i] = 0.8 * e[i - 1] + shocks[i]  # AR(1) residuals
    port = 0.0003 + 1.1 * m + e
    got = ce.calendar_time_alpha(port, m)
    plain = sm.OLS(port.to_numpy(), sm.add_constant(m.to_numpy())).fit()
    assert got["alpha_daily"] == pytest.approx(plain.params[0], rel=1e-12)  # same point estimate
    assert abs(got["t_alpha"]) < 0.8 * abs(plain.tvalues[0])  # wider HAC standard error


def test_calendar_time_alpha_too_few_days_is_nan():
    m = _market(30, 6)
    port = (1.2 * m).iloc[:9]
    got = ce.calendar_time_alpha(port, m)
    assert got["n_days"] == 9
    for key in ("alpha_daily", "alpha_annual", "t_alpha", "p_alpha", "beta", "t_beta"):
        assert math.isnan(got[key]), key


# --- placebo_sets -------------------------------------------------------------------------


def test_placebo_sets_match_direct_draws_and_report_their_error():
    rng = np.random.default_rng(8)
    sums = rng.normal(0.0, 0.02, (12, 30))
    counts = rng.integers(1, 3, (12, 30)).astype(float)
    a = ce.placebo_sets(0.004, sums, counts, n_sets=4000, seed=3)
    assert a == ce.placebo_sets(0.004, sums, counts, n_sets=4000, seed=3)
    draw = np.random.default_rng(3).integers(0, 30, size=(4000, 12))
    means = np.array([sums[np.arange(12), d].sum() / counts[np.arange(12), d].sum() for d in draw])
    p = (1 + (means >= 0.004).sum()) / 4001
    assert a["p_value"] == pytest.approx(p, rel=1e-12)
    assert a["mc_se"] == pytest.approx(math.sqrt(p * (1 - p) / 4000))
    assert a["mean"] == pytest.approx(means.mean()) and a["n_dates"] == 12 and a["n_replays"] == 30


def test_placebo_sets_extremes_and_dates_without_replays():
    sums, counts = np.zeros((3, 5)), np.ones((3, 5))
    assert ce.placebo_sets(1.0, sums, counts, n_sets=99)["p_value"] == 1 / 100
    assert ce.placebo_sets(0.0, sums, counts, n_sets=99)["p_value"] == 1.0  # ties reach it
    counts[1] = 0  # a date with no replay is left out
    assert ce.placebo_sets(1.0, sums, counts, n_sets=99)["n_dates"] == 2
    assert math.isnan(ce.placebo_sets(1.0, np.zeros((0, 0)), np.zeros((0, 0)))["p_value"])
    assert math.isnan(ce.placebo_sets(np.nan, sums, counts)["p_value"])
    with pytest.raises(ValueError, match="one shape"):
        ce.placebo_sets(0.0, np.zeros((2, 3)), np.zeros((3, 2)))


@pytest.mark.parametrize(
    ("values", "dates", "want"),
    [
        ([1.0, 2.0, 3.0], ["a", "b", "c"], 2.0),  # one event per date: the plain mean
        ([1.0, 1.0, 1.0, 4.0], ["a", "a", "a", "b"], 2.5),  # a crowded date weighs one
        ([1.0, np.nan, 3.0], ["a", "a", "b"], 2.0),  # NaN left out
        ([np.nan], ["a"], math.nan),
    ],
)
def test_date_clustered_mean(values, dates, want):
    got = ce.date_clustered_mean(values, dates)
    assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want)
