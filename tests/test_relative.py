"""Benchmark-relative figures (engine.analytics.relative) against independent calculations:
statsmodels OLS for beta and alpha, QuantStats' greeks, numpy for correlation, tracking error
and information ratio, a loop over the days for the capture ratios; a table of named edge
cases; and the stats table of `engine.run`."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import engine
from engine.analytics import relative

P = 252
RF = 0.03


def _pair(seed=0, n=500, beta=1.3, alpha_d=0.0004):
    rng = np.random.default_rng(seed)
    b = rng.normal(0.0003, 0.01, n)
    r = alpha_d + beta * b + rng.normal(0, 0.006, n)
    return r, b


@pytest.mark.parametrize("seed", range(5))
def test_beta_and_alpha_equal_statsmodels_ols_on_excess_returns(seed):
    r, b = _pair(seed)
    d = (1 + RF) ** (1 / P) - 1
    fit = sm.OLS(r - d, sm.add_constant(b - d)).fit()
    beta, alpha = relative.beta_alpha(r, b, RF, P)
    assert beta == pytest.approx(fit.params[1], rel=1e-10)
    assert alpha == pytest.approx(fit.params[0] * P, rel=1e-9)


def test_beta_and_alpha_equal_quantstats_greeks_at_rf_zero():
    import quantstats as qs

    r, b = _pair(7)
    idx = pd.bdate_range("2024-01-01", periods=len(r))
    greeks = qs.stats.greeks(pd.Series(r, idx), pd.Series(b, idx), periods=P)
    beta, alpha = relative.beta_alpha(r, b, 0.0, P)
    assert beta == pytest.approx(greeks["beta"], rel=1e-9)
    assert alpha == pytest.approx(greeks["alpha"], rel=1e-9)


def test_correlation_tracking_error_and_information_ratio_equal_numpy():
    r, b = _pair(3)
    assert relative.correlation(r, b) == pytest.approx(np.corrcoef(r, b)[0, 1], rel=1e-12)
    active = r - b
    te = np.std(active, ddof=1) * math.sqrt(P)
    assert relative.tracking_error(r, b, P) == pytest.approx(te, rel=1e-12)
    assert relative.information_ratio(r, b, P) == pytest.approx(active.mean() * P / te, rel=1e-12)


def test_capture_ratios_equal_a_loop_over_calendar_months():
    r, b = _pair(4)
    dates = pd.bdate_range("2024-01-01", periods=len(r))
    for side, keep in (("up", lambda x: x > 0), ("down", lambda x: x < 0)):
        months = {}
        for day, ri, bi in zip(dates, r, b, strict=True):
            gr, gb = months.get((day.year, day.month), (1.0, 1.0))
            months[(day.year, day.month)] = (gr * (1 + ri), gb * (1 + bi))
        chosen = [(gr - 1, gb - 1) for gr, gb in months.values() if keep(gb - 1)]
        n = len(chosen)
        ours = np.prod([1 + x for x, _ in chosen]) ** (12 / n) - 1
        theirs = np.prod([1 + y for _, y in chosen]) ** (12 / n) - 1
        assert 0 < n < len(months)
        assert relative.capture(r, b, side, dates) == pytest.approx(ours / theirs, rel=1e-10)


EDGE_CASES = {
    # name: (returns, benchmark, expected figures)
    "the benchmark against itself": (
        [0.01, -0.02, 0.015, 0.003, -0.007],
        [0.01, -0.02, 0.015, 0.003, -0.007],
        {"beta": 1.0, "alpha": 0.0, "correlation": 1.0, "tracking_error": 0.0, "up_capture": 1.0},
    ),
    "twice the benchmark": (
        [0.02, -0.04, 0.03, 0.006, -0.014],
        [0.01, -0.02, 0.015, 0.003, -0.007],
        {"beta": 2.0, "correlation": 1.0},
    ),
    "a flat run": (
        [0.0] * 5,
        [0.01, -0.02, 0.015, 0.003, -0.007],
        {"beta": 0.0, "correlation": math.nan, "up_capture": 0.0, "down_capture": math.nan},
    ),
    "a flat benchmark": (
        [0.01, -0.02, 0.015, 0.003, -0.007],
        [0.0] * 5,
        {"beta": math.nan, "alpha": math.nan, "correlation": math.nan, "up_capture": math.nan},
    ),
    "one day": (
        [0.01],
        [0.02],
        {"beta": math.nan, "tracking_error": math.nan, "information_ratio": math.nan},
    ),
    "a benchmark that only rose": ([0.01, 0.02], [0.01, 0.03], {"down_capture": math.nan}),
}


@pytest.mark.parametrize("case", list(EDGE_CASES), ids=list(EDGE_CASES))
def test_edge_cases(case):
    r, b, expected = EDGE_CASES[case]
    idx = pd.bdate_range("2024-01-01", periods=len(r))
    got = relative.table(pd.DataFrame({"x": r}, idx), pd.Series(b, idx), 0.0, P).loc["x"]
    for name, value in expected.items():
        if math.isnan(value):
            assert math.isnan(got[name]), name
        else:
            assert got[name] == pytest.approx(value, abs=1e-12), name
    assert set(got.index) == set(relative.UNITS)


def test_several_columns_at_once_equal_one_at_a_time():
    r1, b = _pair(1)
    r2, _ = _pair(2)
    idx = pd.bdate_range("2024-01-01", periods=len(b))
    both = relative.table(pd.DataFrame({"a": r1, "b": r2}, idx), pd.Series(b, idx), RF, P)
    for name, r in (("a", r1), ("b", r2)):
        one = relative.table(pd.DataFrame({name: r}, idx), pd.Series(b, idx), RF, P)
        pd.testing.assert_series_equal(both.loc[name], one.loc[name], rtol=1e-12)


def test_a_runs_stats_measure_it_against_the_configured_benchmark():
    r = engine.run("oversold_rebound", start="2025-01-02", end="2025-06-30")
    row = r.stats.iloc[0]
    assert row["benchmark"] == "SPY"
    spy = r.prices.close["SPY"].pct_change(fill_method=None).reindex(r.equity.index)
    beta, alpha = relative.beta_alpha(r.returns.iloc[:, 0], spy.to_numpy(), r.risk_free, r.periods)
    assert (row["beta"], row["alpha"]) == (pytest.approx(beta, rel=1e-12), pytest.approx(alpha, rel=1e-12))
    assert "Up capture [x]" in r.stats_table().index
    spy_run = engine.run("buy_and_hold", {"hold": "SPY"}, start="2025-01-02", end="2025-06-30")
    assert spy_run.stats.iloc[0]["beta"] == pytest.approx(1.0, abs=0.02)  # fills at the open, costs
    without = engine.run("oversold_rebound", start="2025-01-02", end="2025-06-30", benchmark=False)
    assert "beta" not in without.stats.columns


def test_a_benchmark_missing_from_the_prices_given_is_refused_in_one_line():
    r = engine.run("oversold_rebound", start="2025-01-02", end="2025-06-30", benchmark=False)
    with pytest.raises(engine.AishockError, match="benchmark QQQ is not in the prices given"):
        engine.run("oversold_rebound", start="2025-01-02", end="2025-06-30", prices=r.prices, benchmark="QQQ")
