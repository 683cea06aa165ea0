"""Performance metrics as small pure functions over simple returns.

Conventions, shared by every function here and by the QuantStats tearsheets
(`reports.tearsheet` passes the same `periods` and `rf`):
- `returns` are simple per-period returns as fractions (0.01 = +1 %), oldest first, as a 1-D
  array/Series or a 2-D array/DataFrame with one column per run (time on axis 0). NaN values
  are ignored (treated as absent periods).
- `periods` is the number of periods per year used for annualisation: 252 trading days.
- `rf` is the annual risk-free rate as a fraction; it is turned into a per-period rate
  geometrically, (1 + rf) ** (1 / periods) - 1, and subtracted from each return.
- Results are fractions (not percent) or plain ratios; NaN when undefined (no returns, zero
  dispersion, annualising a span shorter than `min_years`).
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd

from engine.config import TRADING_DAYS


def _quiet(fn):
    """Silence numpy's empty-slice and degrees-of-freedom warnings: those cases are NaN by
    definition here and documented per function."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return fn(*args, **kwargs)

    return wrapper


def _arr(returns) -> np.ndarray:
    a = np.asarray(returns, dtype=float)
    return a if a.ndim > 1 else a[:, None]


def _out(values: np.ndarray, returns):
    if isinstance(returns, pd.DataFrame):
        return pd.Series(values, index=returns.columns)
    if np.ndim(returns) > 1:
        return values
    return float(values[0])


def _count(a: np.ndarray) -> np.ndarray:
    return np.sum(~np.isnan(a), axis=0)


def excess(returns, rf: float = 0.0, periods: int = TRADING_DAYS) -> np.ndarray:
    """Per-period returns minus the per-period risk-free rate (geometric de-annualisation)."""
    return _arr(returns) - ((1.0 + rf) ** (1.0 / periods) - 1.0)


@_quiet
def total_return(returns):
    """Compounded return over the whole span, as a fraction: prod(1 + r) - 1. NaN if empty."""
    a = _arr(returns)
    growth = np.nanprod(1.0 + a, axis=0) - 1.0
    return _out(np.where(_count(a) > 0, growth, np.nan), returns)


@_quiet
def cagr(returns, periods: int = TRADING_DAYS, min_years: float = 1.0):
    """Compound annual growth rate, fraction per year: (1 + total) ** (periods / n) - 1,
    where n is the number of returns. NaN when n / periods < `min_years` (a short window is
    not extrapolated to a year; pass min_years=0 to force it) or when wealth fell to <= 0."""
    a = _arr(returns)
    n = _count(a)
    wealth = np.nanprod(1.0 + a, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(wealth > 0, wealth, np.nan) ** (periods / np.where(n > 0, n, np.nan)) - 1.0
    return _out(np.where((n > 0) & (n / periods >= min_years), rate, np.nan), returns)


@_quiet
def volatility(returns, periods: int = TRADING_DAYS):
    """Annualised standard deviation of returns (ddof=1), fraction per year. NaN if n < 2."""
    a = _arr(returns)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.nanstd(a, axis=0, ddof=1) if a.size else np.full(a.shape[1], np.nan)
    return _out(np.where(_count(a) > 1, sd * np.sqrt(periods), np.nan), returns)


@_quiet
def sharpe(returns, rf: float = 0.0, periods: int = TRADING_DAYS):
    """Annualised Sharpe ratio: mean(excess) / std(excess, ddof=1) * sqrt(periods).
    NaN if n < 2 or the returns do not vary."""
    ex = excess(returns, rf, periods)
    n = _count(ex)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nanmean(ex, axis=0)
        sd = np.nanstd(ex, axis=0, ddof=1)
        ratio = mean / sd * np.sqrt(periods)
    ok = (n > 1) & (sd > 1e-14 * np.maximum(np.abs(mean), 1e-300))
    return _out(np.where(ok, ratio, np.nan), returns)


@_quiet
def sortino(returns, rf: float = 0.0, periods: int = TRADING_DAYS):
    """Annualised Sortino ratio: mean(excess) / downside * sqrt(periods), where downside =
    sqrt(sum(min(excess, 0) ** 2) / n) over all n returns. NaN if no return is negative."""
    ex = excess(returns, rf, periods)
    n = _count(ex)
    with np.errstate(invalid="ignore", divide="ignore"):
        down = np.sqrt(np.nansum(np.minimum(ex, 0.0) ** 2, axis=0) / n)
        ratio = np.nanmean(ex, axis=0) / down * np.sqrt(periods)
    return _out(np.where((n > 0) & (down > 0), ratio, np.nan), returns)


def drawdown(returns) -> np.ndarray:
    """Drawdown path (<= 0, fraction below the running peak), the peak starting at 1.0 before
    the first return. Same shape as `returns` (2-D: time x runs); NaN returns count as 0."""
    a = np.nan_to_num(_arr(returns), nan=0.0)
    wealth = np.cumprod(1.0 + a, axis=0)
    peak = np.maximum.accumulate(np.vstack([np.ones((1, a.shape[1])), wealth]), axis=0)[1:]
    return wealth / peak - 1.0


@_quiet
def max_drawdown(returns):
    """Largest peak-to-trough fall of compounded wealth, as a negative fraction (0 if none).
    The starting wealth 1.0 counts as a peak, so a first-day loss is a drawdown. NaN if empty."""
    a = _arr(returns)
    dd = drawdown(a)
    worst = dd.min(axis=0) if len(a) else np.zeros(a.shape[1])
    return _out(np.where(_count(a) > 0, worst, np.nan), returns)


@_quiet
def calmar(returns, periods: int = TRADING_DAYS, min_years: float = 1.0):
    """CAGR divided by the magnitude of the maximum drawdown. NaN if either is undefined or
    there was no drawdown."""
    c = np.atleast_1d(np.asarray(cagr(_arr(returns), periods, min_years), dtype=float))
    dd = np.atleast_1d(np.asarray(max_drawdown(_arr(returns)), dtype=float))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = c / np.abs(dd)
    return _out(np.where(dd < 0, ratio, np.nan), returns)
