"""How sure are the headline numbers? Stationary-block-bootstrap confidence intervals on a run's
annualised Sharpe ratio, total return and maximum drawdown.

The resampling is engine.analytics.bootstrap's (arch's draws, as array code): arch is not
imported; the tests compare with it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from engine.analytics import bootstrap, metrics
from engine.config import TRADING_DAYS

MIN_OBS = 10  # fewer daily returns leave the block-length estimate and the bootstrap meaningless
STATS = ("sharpe", "total_return", "max_drawdown")
METHOD = "stationary bootstrap"


def _statistics(returns: np.ndarray, rf: float, periods: int) -> np.ndarray:
    """STATS of each column of `returns` (days x samples): 3 x samples, engine.analytics.metrics'
    functions (the same definitions as the stats table)."""
    return np.vstack(
        [
            np.asarray(metrics.sharpe(returns, rf, periods), dtype=float),
            np.asarray(metrics.total_return(returns), dtype=float),
            np.asarray(metrics.max_drawdown(returns), dtype=float),
        ]
    )


def block_length(returns) -> int:
    """The stationary bootstrap's expected block length for `returns`: arch's
    `optimal_block_length` (Politis & White 2004, with Patton, Politis & White 2009's
    correction), its `stationary` column, computed by engine.analytics.bootstrap (equal to
    arch's, tested there), rounded to the nearest integer, at least 1 (also 1 when the
    estimate is undefined, e.g. for a series that never moves). In trading days."""
    b = float(bootstrap.optimal_block_lengths(np.asarray(returns, dtype=float))[0])
    return max(1, round(b)) if math.isfinite(b) else 1


def intervals(
    returns,
    periods: int = TRADING_DAYS,
    rf: float = 0.0,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
    block: int | None = None,
) -> dict:
    """Percentile confidence intervals on the annualised Sharpe ratio, the total return and
    the maximum drawdown of a daily-return series, by the stationary block bootstrap (Politis
    & Romano 1994; the resamples of arch.bootstrap.StationaryBootstrap with the same seed, drawn
    by engine.analytics.bootstrap).

    Inputs: `returns`: simple daily returns as fractions, oldest first (1-D array or Series;
    NaN entries are dropped, at least MIN_OBS must remain). `periods`: periods per year for
    annualising the Sharpe ratio (252). `rf`: annual risk-free rate (fraction), de-annualised
    geometrically as in engine.analytics.metrics. `n_boot`: bootstrap replications. `level`: the
    two-sided coverage, strictly between 0 and 1. `seed`: the seed of arch's generator
    (numpy default_rng). `block`: the expected block length in days; None estimates it with
    `block_length` (arch's optimal_block_length, stationary column, rounded, at least 1).

    Each replication resamples the series in blocks of geometrically distributed length
    (mean `block`), wrapping around, and recomputes the three statistics with
    engine.analytics.metrics (`sharpe`, `total_return`, `max_drawdown`: the stats table's definitions).
    The interval is the (1 - level)/2 and (1 + level)/2 percentiles of the replications
    (numpy's linear interpolation), exactly arch's `conf_int(method="percentile")` with the
    same seed and block (tested); the replications are drawn once and the statistics computed
    on all of them at once.

    Returns {"sharpe": {"value", "low", "high"} (ratio, annualised), "total_return": {...}
    (fraction), "max_drawdown": {...} (fraction, negative), "level", "n_boot", "block" (days,
    the one used), "seed", "method": "stationary bootstrap", "n_obs" (returns used),
    "n_undefined": {statistic: replications where it is undefined}}. "value" is the statistic
    on the whole series. A statistic can be undefined on a replication: the Sharpe ratio of a
    resample that does not vary (a run that trades on a few days, resampled into its flat
    days). Those replications are left out of that statistic's percentiles and counted in
    n_undefined (an interval from few defined replications says little); with none defined
    the interval is NaN. Where every replication is defined this is arch's interval."""
    x = np.asarray(returns, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"returns must be one series of daily returns, got shape {x.shape}")
    if np.isinf(x).any():
        raise ValueError("returns contain infinite values")
    x = x[~np.isnan(x)]
    if len(x) < MIN_OBS:
        raise ValueError(f"intervals need at least {MIN_OBS} daily returns, got {len(x)}")
    if not (isinstance(n_boot, int | np.integer) and n_boot >= 1):
        raise ValueError(f"n_boot must be a positive integer, got {n_boot}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be strictly between 0 and 1, got {level}")
    if block is None:
        block = block_length(x)
    elif not (isinstance(block, int | np.integer) and block >= 1):
        raise ValueError(f"block must be a positive integer (days), got {block}")

    samples = x[bootstrap.stationary_indices(len(x), int(n_boot), int(block), seed)].T
    reps = _statistics(samples, rf, periods)
    alpha = (1.0 - level) / 2.0
    value = _statistics(x[:, None], rf, periods)[:, 0]
    out: dict = {}
    undefined = {}
    for i, name in enumerate(STATS):
        ok = reps[i][~np.isnan(reps[i])]
        undefined[name] = int(n_boot - len(ok))
        low, high = np.percentile(ok, [100.0 * alpha, 100.0 * (1.0 - alpha)]) if len(ok) else (np.nan, np.nan)
        out[name] = {"value": float(value[i]), "low": float(low), "high": float(high)}
    out |= {"level": level, "n_boot": int(n_boot), "block": int(block), "seed": seed}
    out |= {"method": METHOD, "n_obs": len(x), "n_undefined": undefined}
    return out


def for_series(returns: pd.Series, **kwargs) -> dict:
    """`intervals` of `returns`, or {"note": why not} when the series is too short: for
    reports that should not fail on a short run."""
    n = int(np.isfinite(np.asarray(returns, dtype=float)).sum())
    if n < MIN_OBS:
        return {"note": f"intervals need at least {MIN_OBS} daily returns, the run has {n}", "n_obs": n}
    return intervals(returns, **kwargs)
