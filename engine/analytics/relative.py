"""Benchmark-relative figures of daily returns: pure functions of (returns, benchmark).

`returns` is a days x runs array (or one series), `benchmark` the benchmark's simple daily
returns on the same days (fractions). `periods` trading days per year; `rf` an annual rate,
per day d(rf) = (1 + rf) ** (1 / periods) - 1 (engine.analytics.metrics.excess).

- beta, alpha: the CAPM regression of Jensen ("The Performance of Mutual Funds in the Period
  1945-1964", Journal of Finance 23(2), 1968) by ordinary least squares on daily excess returns,
  r_t - d(rf) = a + beta (b_t - d(rf)) + e_t. alpha is annualised arithmetically, a x periods
  (fraction per year), the convention of QuantStats' `greeks` (so the tearsheet and the stats
  table agree at rf = 0).
- correlation: Pearson's correlation of the daily returns.
- tracking error: the standard deviation (ddof 1) of the daily active return r_t - b_t, times
  sqrt(periods) (fraction per year).
- information ratio: the mean daily active return over its standard deviation, times
  sqrt(periods) (Grinold & Kahn, Active Portfolio Management, 2nd ed., 2000, ch. 5, with the
  arithmetic annualisation above).
- up and down capture: Morningstar's capture ratios ("Upside and Downside Capture Ratio",
  Morningstar Investment Glossary and its Risk/Return methodology), on calendar-month returns
  (the daily returns compounded within each month): over the months in which the benchmark
  rose (fell), the strategy's annualised geometric mean return, (prod(1 + r_m)) ** (12 / n)
  - 1, over the benchmark's. A ratio: 1 moves with the benchmark; an up capture above 1 and a
  down capture below 1 is the asymmetry one wants. Months, not days: annualising daily
  geometric means compounds 252 times and inflates the ratio (a beta-2 rotation showed an
  up capture of 6.8 on days, 2.3 on months), which is why Morningstar uses months.
Undefined figures are NaN: a benchmark without variance (beta, alpha, correlation), a run
without variance (correlation), fewer than 2 days, no up (down) month.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.config import TRADING_DAYS

UNITS = {
    "beta": "ratio (OLS slope on the benchmark's daily excess returns)",
    "alpha": "fraction per year (OLS intercept x trading days)",
    "correlation": "ratio (Pearson, daily returns)",
    "tracking_error": "fraction per year (sd of daily active returns x sqrt(trading days))",
    "information_ratio": "ratio, annualised (mean / sd of daily active returns x sqrt(trading days))",
    "up_capture": "ratio (annualised geometric return in the benchmark's up months / the benchmark's)",
    "down_capture": "ratio (annualised geometric return in the benchmark's down months / the benchmark's)",
}


def _pair(returns, benchmark) -> tuple[np.ndarray, np.ndarray]:
    r = np.asarray(returns, dtype=float)
    r = r[:, None] if r.ndim == 1 else r
    b = np.asarray(benchmark, dtype=float).reshape(-1)
    if len(b) != len(r):
        raise ValueError(f"benchmark has {len(b)} days, returns {len(r)}")
    return r, b


def _out(values: np.ndarray, returns):
    if isinstance(returns, pd.DataFrame):
        return pd.Series(values, index=returns.columns)
    return values if np.ndim(returns) == 2 else float(values[0])


def beta_alpha(returns, benchmark, rf: float = 0.0, periods: int = TRADING_DAYS):
    """(beta, alpha per year) of each column (module docstring)."""
    r, b = _pair(returns, benchmark)
    d = (1.0 + rf) ** (1.0 / periods) - 1.0
    x = b - d
    y = r - d
    n = len(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        xc = x - x.mean() if n else x
        sxx = (xc * xc).sum()
        beta = (
            (xc[:, None] * (y - y.mean(axis=0))).sum(axis=0) / sxx
            if n > 1 and sxx > 0
            else np.full(r.shape[1], np.nan)
        )
        alpha = (y.mean(axis=0) - beta * x.mean()) * periods if n > 1 else np.full(r.shape[1], np.nan)
    return _out(beta, returns), _out(alpha, returns)


def correlation(returns, benchmark):
    """Pearson's correlation of each column with the benchmark."""
    r, b = _pair(returns, benchmark)
    with np.errstate(invalid="ignore", divide="ignore"):
        rc = r - r.mean(axis=0)
        bc = b - b.mean()
        den = np.sqrt((rc * rc).sum(axis=0) * (bc * bc).sum())
        out = np.where(den > 0, (rc * bc[:, None]).sum(axis=0) / np.where(den > 0, den, 1.0), np.nan)
    return _out(out if len(b) > 1 else np.full(r.shape[1], np.nan), returns)


def tracking_error(returns, benchmark, periods: int = TRADING_DAYS):
    """Annualised standard deviation of the daily active return (fraction per year)."""
    r, b = _pair(returns, benchmark)
    active = r - b[:, None]
    out = active.std(axis=0, ddof=1) * np.sqrt(periods) if len(b) > 1 else np.full(r.shape[1], np.nan)
    return _out(out, returns)


def information_ratio(returns, benchmark, periods: int = TRADING_DAYS):
    """Mean daily active return over its standard deviation, times sqrt(periods)."""
    r, b = _pair(returns, benchmark)
    active = r - b[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = active.std(axis=0, ddof=1) if len(b) > 1 else np.full(r.shape[1], np.nan)
        mean = active.mean(axis=0)
        ok = sd > 1e-14 * np.maximum(np.abs(mean), 1e-300)
        out = np.where(ok, mean / np.where(ok, sd, 1.0) * np.sqrt(periods), np.nan)
    return _out(out, returns)


def monthly(returns, dates) -> np.ndarray:
    """Daily simple returns (days x columns, or one series) compounded into calendar-month
    returns (months x columns), months in date order."""
    r = np.asarray(returns, dtype=float)
    r = r[:, None] if r.ndim == 1 else r
    month = pd.DatetimeIndex(dates).to_period("M")
    growth = pd.DataFrame(np.log1p(r)).groupby(np.asarray(month)).sum()
    return np.expm1(growth.to_numpy())


def capture(returns, benchmark, side: str, dates):
    """Morningstar's up (side "up") or down ("down") capture ratio over calendar months:
    daily returns compounded into monthly ones (`dates` the days' dates), the months in which
    the benchmark rose (fell), and on those months the strategy's annualised geometric mean
    return over the benchmark's, ((prod(1 + r_m)) ** (12 / n) - 1) / (the same for b)."""
    r = monthly(returns, dates)
    b = monthly(benchmark, dates)[:, 0]
    months = b > 0 if side == "up" else b < 0
    n = int(months.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        if n == 0:
            out = np.full(r.shape[1], np.nan)
        else:
            ours = np.prod(1.0 + r[months], axis=0) ** (12.0 / n) - 1.0
            theirs = np.prod(1.0 + b[months]) ** (12.0 / n) - 1.0
            out = ours / theirs
    return _out(np.where(np.isfinite(out), out, np.nan), returns)


def table(
    returns: pd.DataFrame, benchmark: pd.Series, rf: float = 0.0, periods: int = TRADING_DAYS
) -> pd.DataFrame:
    """Every figure of UNITS for each column of `returns` (rows) against `benchmark`
    (aligned on the dates of `returns`; a day the benchmark has no return counts as 0)."""
    b = benchmark.reindex(returns.index).fillna(0.0).to_numpy(float)
    beta, alpha = beta_alpha(returns, b, rf, periods)
    return pd.DataFrame(
        {
            "beta": beta,
            "alpha": alpha,
            "correlation": correlation(returns, b),
            "tracking_error": tracking_error(returns, b, periods),
            "information_ratio": information_ratio(returns, b, periods),
            "up_capture": capture(returns, b, "up", returns.index),
            "down_capture": capture(returns, b, "down", returns.index),
        },
        index=returns.columns,
    )
