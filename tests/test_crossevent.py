"""Cross-event statistics (engine/events/crossevent.py), checked against independent
recomputations (plain Python / numpy / statsmodels called directly) on constructed cases."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest

from engine.events import crossevent as ce

# --- kp_bmp_test ------------------------------------------------------------------------


def _shared_factor_case(seed: int = 7):
    """6 events on 3 dates (2 per date). Estimation windows (positions in 400 business days):
    date A [0, 120), date B [90, 210), date C [100, 220): A-B share exactly 30 dates (counted
    with min_overlap=30), A-C share 20 (not counted), B-C share 110. A common factor in every
    event's abnormal returns makes the correlations clearly positive."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2023-01-02", periods=400)
    factor = rng.normal(0.0, 0.01, len(dates))
    windows = [(0, 120), (0, 120), (90, 210), (90, 210), (100, 220), (100, 220)]
    est = pd.DataFrame(np.nan, index=dates, columns=[f"e{i}" for i in range(6)])
    for i, (lo, hi) in enumerate(windows):
        est.iloc[lo:hi, i] = factor[lo:hi] + rng.normal(0.0, 0.01, hi - lo)
    sigma = est.std(ddof=1).to_numpy()
    length = np.array([1, 1, 3, 3, 5, 5])
    car = rng.normal(0.01, 0.02, 6)
    return car, sigma, length, est


def _reference_kp(car, sigma, length, est, min_overlap=30):
    """Plain-Python BMP and KP statistics (statistics module, no numpy/pandas arithmetic)."""
    n = len(car)
    scar = [float(car[i]) / (float(sigma[i]) * math.sqrt(float(length[i]))) for i in range(n)]
    cols = [list(est.iloc[:, i]) for i in range(n)]
    rs = []
    for i in range(n):
        for j in range(i + 1, n):
            pairs = [(a, b) for a, b in zip(cols[i], cols[j], strict=True) if a == a and b == b]
            if len(pairs) >= min_overlap:
                rs.append(statistics.correlation([a for a, _ in pairs], [b for _, b in pairs]))
    r_bar = statistics.fmean(rs) if rs else 0.0
    t = statistics.fmean(scar) * math.sqrt(n) / statistics.stdev(scar)
    t_kp = t * math.sqrt((1 - r_bar) / (1 + (n - 1) * r_bar))
    normal = statistics.NormalDist()
    return {
        "mean_scar": statistics.fmean(scar),
        "t_bmp": t,
        "p_bmp": 2 * (1 - normal.cdf(abs(t))),
        "r_bar": r_bar,
        "n_pairs": len(rs),
        "t_kp": t_kp,
        "p_kp": 2 * (1 - normal.cdf(abs(t_kp))),
    }


def test_kp_bmp_matches_plain_python_recomputation():
    car, sigma, length, est = _shared_factor_case()
    got = ce.kp_bmp_test(car, sigma, length, est)
    want = _reference_kp(car, sigma, length, est)
    assert got["n"] == 6
    assert got["n_pairs"] == want["n_pairs"] == 11  # 3 same-date + 4 A-B + 4 B-C; A-C left out
    for key in ("mean_scar", "t_bmp", "p_bmp", "r_bar", "t_kp", "p_kp"):
        assert got[key] == pytest.approx(want[key], rel=1e-12, abs=1e-12), key


def test_kp_factor_shrinks_t_when_events_are_correlated():
    car, sigma, length, est = _shared_factor_case()
    got = ce.kp_bmp_test(car, sigma, length, est)
    assert got["r_bar"] > 0.2
    assert abs(got["t_kp"]) < abs(got["t_bmp"])
    assert got["p_kp"] > got["p_bmp"]


def test_kp_equals_bmp_when_uncorrelated():
    rng = np.random.default_rng(3)
    n = 6
    est = pd.DataFrame(rng.normal(0.0, 0.01, (5000, n)), index=pd.bdate_range("2000-01-03", periods=5000))
    car = rng.normal(0.01, 0.02, n)
    got = ce.kp_bmp_test(car, np.full(n, 0.01), np.ones(n), est)
    assert got["n_pairs"] == 15
    assert abs(got["r_bar"]) < 0.01
    assert got["t_kp"] == pytest.approx(got["t_bmp"], rel=0.05)
    # No counted pair at all: r̄ = 0 exactly and the KP t is the BMP t.
    got = ce.kp_bmp_test(car, np.full(n, 0.01), np.ones(n), est.iloc[:20])
    assert got["n_pairs"] == 0
    assert got["r_bar"] == 0.0
    assert got["t_kp"] == got["t_bmp"]


def test_kp_min_overlap_counts_only_pairs_sharing_enough_dates():
    rng = np.random.default_rng(11)
    dates = pd.bdate_range("2022-01-03", periods=100)
    common = rng.normal(0.0, 0.01, 100)

    def two_events(shared: int) -> pd.DataFrame:
        est = pd.DataFrame(np.nan, index=dates, columns=["a", "b"])
        est.iloc[0:50, 0] = common[0:50] + rng.normal(0.0, 0.002, 50)
        est.iloc[50 - shared : 100, 1] = common[50 - shared : 100] + rng.normal(0.0, 0.002, 50 + shared)
        return est

    args = (np.array([0.01, 0.02]), np.array([0.01, 0.01]), np.array([1, 1]))
    short = ce.kp_bmp_test(*args, two_events(29))
    assert (short["n_pairs"], short["r_bar"]) == (0, 0.0)
    enough = ce.kp_bmp_test(*args, two_events(30))
    assert enough["n_pairs"] == 1
    assert enough["r_bar"] > 0.8
    # The threshold is a parameter: lowered to 29, the 29-date pair counts.
    assert ce.kp_bmp_test(*args, two_events(29), min_overlap=29)["n_pairs"] == 1
    # And in the 6-event case, lowering it to 20 brings the 4 A-C pairs in.
    car, sigma, length, est = _shared_factor_case()
    assert ce.kp_bmp_test(car, sigma, length, est, min_overlap=20)["n_pairs"] == 15


def _equicorrelated(n: int, rho: float, t: int, seed: int) -> pd.DataFrame:
    """n columns whose pairwise sample correlations all equal rho (to rounding): centred,
    orthonormal columns z_0..z_n, x_i = sqrt(rho) z_0 + sqrt(1 - rho) z_i."""
    z = np.random.default_rng(seed).normal(size=(t, n + 1))
    z -= z.mean(axis=0)
    q, _ = np.linalg.qr(z)
    x = math.sqrt(rho) * q[:, [0]] + math.sqrt(1 - rho) * q[:, 1:]
    return pd.DataFrame(x, index=pd.bdate_range("2010-01-04", periods=t))


def test_kp_adjustment_formula_worked_example():
    """KP (2010): t_kp = t_bmp * sqrt((1 - r̄) / (1 + (N - 1) r̄)). With N = 10, r̄ = 0.1 and
    t_bmp = 3 the adjusted t is 3 * sqrt(0.9 / 1.9) = 2.0647..., built end to end."""
    n = 10
    est = _equicorrelated(n, 0.1, 250, seed=5)
    d = np.random.default_rng(2).normal(size=n)
    d = (d - d.mean()) / d.std(ddof=1)
    scar = d + 3 / math.sqrt(n)  # mean * sqrt(N) / sd = 3 exactly
    got = ce.kp_bmp_test(scar, np.ones(n), np.ones(n), est)
    assert got["t_bmp"] == pytest.approx(3.0, rel=1e-12)
    assert got["r_bar"] == pytest.approx(0.1, rel=1e-12)
    assert got["n_pairs"] == 45
    assert got["t_kp"] == pytest.approx(3 * math.sqrt(0.9 / 1.9), rel=1e-12)
    assert got["t_kp"] == pytest.approx(2.064741, abs=1e-6)
    assert got["p_bmp"] == pytest.approx(0.0026997960632601866, rel=1e-9)  # 2 * (1 - Φ(3))


def test_kp_scar_uses_sigma_times_sqrt_length():
    est = pd.DataFrame(np.nan, index=pd.bdate_range("2020-01-01", periods=5), columns=range(3))
    got = ce.kp_bmp_test([0.04, 0.06, 0.03], [0.01, 0.02, 0.01], [4, 9, 1], est)
    # SCAR = 0.04/(0.01*2) = 2, 0.06/(0.02*3) = 1, 0.03/0.01 = 3 → mean 2, sd 1, t = 2*sqrt(3)
    assert got["mean_scar"] == pytest.approx(2.0)
    assert got["t_bmp"] == pytest.approx(2 * math.sqrt(3))


def test_kp_degenerate_inputs_give_nan_and_bad_sigma_raises():
    est1 = pd.DataFrame({"a": [0.01, -0.01]})
    one = ce.kp_bmp_test([0.02], [0.01], [1], est1)
    assert one["n"] == 1
    assert math.isnan(one["t_bmp"]) and math.isnan(one["t_kp"]) and math.isnan(one["p_kp"])
    est3 = pd.DataFrame(np.zeros((3, 3)))
    flat = ce.kp_bmp_test([0.01, 0.01, 0.01], [0.01, 0.01, 0.01], [1, 1, 1], est3)
    assert flat["n"] == 3
    assert math.isnan(flat["t_bmp"]) and math.isnan(flat["p_bmp"])
    empty = ce.kp_bmp_test([], [], [], pd.DataFrame(index=range(3)))
    assert empty["n"] == 0 and math.isnan(empty["t_bmp"])
    for bad in ([0.01, 0.0, 0.01], [0.01, -0.01, 0.01], [0.01, np.nan, 0.01]):
        with pytest.raises(ValueError, match="sigma"):
            ce.kp_bmp_test([0.01, 0.02, 0.03], bad, [1, 1, 1], est3)
    with pytest.raises(ValueError, match="est_returns"):
        ce.kp_bmp_test([0.01, 0.02], [0.01, 0.01], [1, 1], est3)


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


# --- placebo_p_value ----------------------------------------------------------------------


def test_placebo_p_value_is_deterministic_and_matches_direct_draws():
    placebo = np.random.default_rng(8).normal(0.0, 0.02, 500)
    a = ce.placebo_p_value(0.004, placebo, n_events=12, n_draws=4000, seed=3)
    assert a == ce.placebo_p_value(0.004, placebo, n_events=12, n_draws=4000, seed=3)
    rng = np.random.default_rng(3)
    means = placebo[rng.integers(0, 500, size=(4000, 12))].mean(axis=1)
    assert a["p_value"] == (1 + (means >= 0.004).sum()) / 4001
    assert a["percentile"] == pytest.approx(100 * (means < 0.004).mean())
    assert a["n"] == 500 and a["n_draws"] == 4000 and a["seed"] == 3
    assert a["mean"] == pytest.approx(placebo.mean()) and a["std"] == pytest.approx(placebo.std(ddof=1))
    assert 0 < a["p_value"] < 1


def test_placebo_p_value_extremes():
    placebo = np.random.default_rng(9).normal(0.0, 0.01, 200)
    high = ce.placebo_p_value(1.0, placebo, n_events=5, n_draws=1000)
    assert high["p_value"] == 1 / 1001
    assert high["percentile"] == 100.0
    low = ce.placebo_p_value(-1.0, placebo, n_events=5, n_draws=1000)
    assert low["p_value"] == pytest.approx(1.0)
    assert low["percentile"] == 0.0
    # Ties count as reaching the event mean (>=), and half for the percentile.
    tied = ce.placebo_p_value(0.01, np.full(50, 0.01), n_events=5, n_draws=100)
    assert tied["p_value"] == 1.0
    assert tied["percentile"] == 50.0
    empty = ce.placebo_p_value(0.01, [], n_events=5, n_draws=100)
    assert empty["n"] == 0 and math.isnan(empty["p_value"])


# --- summarize ----------------------------------------------------------------------------


def test_summarize_edge_cases():
    empty = ce.summarize([], [])
    assert empty["n_events"] == 0 and empty["n_dates"] == 0
    assert math.isnan(empty["mean_excess"]) and math.isnan(empty["median_excess"])
    assert math.isnan(empty["hit_rate"])
    neg = ce.summarize([-0.01, -0.03, -0.02], ["2024-01-02", "2024-01-02", "2024-02-05"])
    assert neg == {
        "n_events": 3,
        "mean_excess": pytest.approx(-0.02),
        "median_excess": pytest.approx(-0.02),
        "hit_rate": 0.0,
        "n_dates": 2,
    }
    mixed = ce.summarize([0.01, 0.0, -0.01, 0.03], pd.to_datetime(["2024-01-02"] * 4))
    assert mixed["hit_rate"] == 0.5  # zero is not a hit
    assert mixed["n_dates"] == 1
    with pytest.raises(ValueError):
        ce.summarize([0.01], [])
