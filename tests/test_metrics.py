"""Metrics: named edge cases, agreement with QuantStats, and properties."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.analytics import metrics as m

NAN = float("nan")
ONE_YEAR = [0.001] * 252

# name, returns, expected {metric: value}; NaN means "undefined, reported as NaN"
CASES = [
    (
        "empty",
        [],
        {
            "total_return": NAN,
            "cagr": NAN,
            "sharpe": NAN,
            "sortino": NAN,
            "max_drawdown": NAN,
            "volatility": NAN,
        },
    ),
    (
        "one return",
        [0.01],
        {"total_return": 0.01, "sharpe": NAN, "volatility": NAN, "max_drawdown": 0.0, "cagr": NAN},
    ),
    (
        "all zero",
        [0.0] * 300,
        {
            "total_return": 0.0,
            "sharpe": NAN,
            "sortino": NAN,
            "max_drawdown": 0.0,
            "volatility": 0.0,
            "cagr": 0.0,
            "calmar": NAN,
        },
    ),
    (
        "constant gain",
        ONE_YEAR,
        {
            "total_return": 1.001**252 - 1,
            "sharpe": NAN,
            "sortino": NAN,
            "max_drawdown": 0.0,
            "cagr": 1.001**252 - 1,
        },
    ),
    ("contains NaN", [0.01, NAN, -0.01], {"total_return": 1.01 * 0.99 - 1, "max_drawdown": -0.01}),
    ("single crash", [0.0] * 10 + [-0.3] + [0.0] * 10, {"total_return": -0.3, "max_drawdown": -0.3}),
    ("first-day loss is a drawdown", [-0.1, 0.05], {"max_drawdown": -0.1}),
    ("total wipe-out", [0.1, -1.0, 0.0], {"total_return": -1.0, "max_drawdown": -1.0}),
    (
        "shorter than a year: no CAGR",
        [0.01] * 100,
        {"cagr": NAN, "calmar": NAN, "total_return": 1.01**100 - 1},
    ),
    ("exactly one year", ONE_YEAR, {"cagr": 1.001**252 - 1}),
]


def _check(name, value, expected):
    if math.isnan(expected):
        assert math.isnan(value), f"{name}: expected NaN, got {value}"
    else:
        assert value == pytest.approx(expected, rel=1e-12, abs=1e-15), name


@pytest.mark.parametrize(("case", "returns", "expected"), CASES, ids=[c[0] for c in CASES])
def test_named_edge_cases(case, returns, expected):
    r = pd.Series(returns, dtype=float)
    for metric, value in expected.items():
        _check(f"{case}/{metric}", getattr(m, metric)(r), value)


def test_sharpe_and_sortino_worked_example():
    r = np.array([0.01, -0.02, 0.03, -0.01, 0.02])
    mean, sd = r.mean(), r.std(ddof=1)
    assert m.sharpe(r) == pytest.approx(mean / sd * math.sqrt(252), rel=1e-14)
    down = math.sqrt((0.02**2 + 0.01**2) / 5)
    assert m.sortino(r) == pytest.approx(mean / down * math.sqrt(252), rel=1e-14)
    rf = 0.05
    daily = 1.05 ** (1 / 252) - 1
    assert m.sharpe(r, rf) == pytest.approx((mean - daily) / sd * math.sqrt(252), rel=1e-14)


def test_columns_are_independent_runs():
    a = np.random.default_rng(0).normal(0.0005, 0.01, (400, 3))
    frame = pd.DataFrame(a, columns=["x", "y", "z"])
    for fn in (m.total_return, m.cagr, m.sharpe, m.sortino, m.max_drawdown, m.volatility, m.calmar):
        both = fn(frame)
        assert list(both.index) == ["x", "y", "z"]
        for col in frame:
            assert both[col] == pytest.approx(fn(frame[col]), rel=1e-12, nan_ok=True)


@pytest.mark.parametrize("rf", [0.0, 0.03])
def test_agrees_with_quantstats(rf):
    qs = pytest.importorskip("quantstats")
    r = pd.Series(
        np.random.default_rng(7).normal(0.0006, 0.018, 600), index=pd.bdate_range("2022-01-03", periods=600)
    )
    assert m.sharpe(r, rf) == pytest.approx(qs.stats.sharpe(r, rf=rf, periods=252), rel=1e-12)
    assert m.sortino(r, rf) == pytest.approx(qs.stats.sortino(r, rf=rf, periods=252), rel=1e-12)
    assert m.max_drawdown(r) == pytest.approx(qs.stats.max_drawdown(r), rel=1e-12)
    assert m.cagr(r) == pytest.approx(qs.stats.cagr(r, periods=252), rel=1e-12)
    assert m.volatility(r) == pytest.approx(qs.stats.volatility(r, periods=252), rel=1e-12)


# daily returns as markets print them: zero or at least 1e-9 in size (no subnormal floats,
# where scale invariance fails through rounding alone)
daily = st.floats(-0.5, 0.5, allow_nan=False).filter(lambda x: x == 0 or abs(x) > 1e-9)
returns_lists = st.lists(daily, min_size=2, max_size=300)


@settings(max_examples=200, deadline=None)
@given(returns_lists, st.floats(0.1, 10))
def test_properties(rs, scale):
    r = np.array(rs)
    dd = m.max_drawdown(r)
    assert -1 <= dd <= 0
    assert m.total_return(r) >= dd - 1e-12 or m.total_return(r) < 0
    assert np.all(m.drawdown(r) <= 1e-15)
    s = m.sharpe(r)
    if not math.isnan(s):  # Sharpe is scale-invariant and sign-symmetric
        assert m.sharpe(r * scale) == pytest.approx(s, rel=1e-9, abs=1e-9)
        assert m.sharpe(-r) == pytest.approx(-s, rel=1e-9, abs=1e-9)
    assert m.volatility(r * scale) == pytest.approx(m.volatility(r) * scale, rel=1e-9, abs=1e-12)
