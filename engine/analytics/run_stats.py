"""The stats table: one row per run, one column per metric, units in UNITS."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.analytics import metrics, relative
from engine.config import TRADING_DAYS
from engine.sim import simulate
from engine.sim.kernel import ACC_FIELDS

UNITS = {
    "start": "date",
    "end": "date",
    "days": "trading days",
    "final_equity": "currency",
    "total_return": "fraction",
    "cagr": "fraction per year (NaN under 1 year)",
    "volatility": "fraction per year",
    "sharpe": "ratio, annualised",
    "sortino": "ratio, annualised",
    "max_drawdown": "fraction (negative)",
    "calmar": "ratio (NaN under 1 year)",
    "n_trades": "orders filled",
    "turnover": "traded value / mean equity",
    "exposure": "mean gross exposure (sum of |positions|) / equity",
    "fees_paid": "currency",
    "slippage_paid": "currency (shares x unslipped fill price x slippage)",
    "impact_paid": "currency (shares x unslipped fill price x the square-root impact, rule 9)",
    "max_volume_share": "fraction of a bar's volume, the largest one fill took",
    "mean_volume_share": "fraction of a bar's volume, the mean over fills",
    "partial_fills": "fills cut by the volume cap (rule 9)",
    "longest_wait": "trading days from an order's placement to its last fill (rule 9)",
    "interest": "currency (earned on cash, minus financing and borrow fees)",
    "wiped_out": "equity reached 0 (bool)",
    "benchmark": "ticker the relative figures below are measured against",
    **relative.UNITS,
}

LABELS = {
    "start": "Start",
    "end": "End",
    "days": "Days [trading days]",
    "final_equity": "Final equity [$]",
    "total_return": "Total return [%]",
    "cagr": "CAGR [%/yr]",
    "volatility": "Volatility [%/yr]",
    "sharpe": "Sharpe ratio",
    "sortino": "Sortino ratio",
    "max_drawdown": "Max drawdown [%]",
    "calmar": "Calmar ratio",
    "n_trades": "Orders [#]",
    "turnover": "Turnover [x equity]",
    "exposure": "Mean gross exposure [%]",
    "fees_paid": "Fees paid [$]",
    "slippage_paid": "Slippage paid [$]",
    "impact_paid": "Impact paid [$]",
    "max_volume_share": "Largest share of a bar's volume [%]",
    "mean_volume_share": "Mean share of a bar's volume [%]",
    "partial_fills": "Partial fills [#]",
    "longest_wait": "Longest working order [trading days]",
    "interest": "Net interest [$]",
    "wiped_out": "Wiped out",
    "benchmark": "Benchmark",
    "beta": "Beta",
    "alpha": "Alpha [%/yr]",
    "correlation": "Correlation",
    "tracking_error": "Tracking error [%/yr]",
    "information_ratio": "Information ratio",
    "up_capture": "Up capture [x]",
    "down_capture": "Down capture [x]",
}
PERCENT = {
    "total_return",
    "cagr",
    "volatility",
    "max_drawdown",
    "exposure",
    "alpha",
    "tracking_error",
    "max_volume_share",
    "mean_volume_share",
}

# Which way is better, part of each metric's definition (units as UNITS): +1 the highest is
# the best, -1 the lowest. A sweep's best row, its grid warnings, walk-forward's choice, PBO's
# ranking and the heatmap's colours all read it. max_drawdown is a negative fraction, so its
# highest (closest to 0) is the best. A metric without a direction (exposure: more invested is
# neither better nor worse) cannot say which cell of a sweep is best.
BETTER = {
    "total_return": 1,
    "cagr": 1,
    "sharpe": 1,
    "sortino": 1,
    "max_drawdown": 1,
    "calmar": 1,
    "final_equity": 1,
    "volatility": -1,
    "turnover": -1,
    "n_trades": -1,
    "fees_paid": -1,
}


def better(metric: str) -> int:
    """+1 when the highest `metric` is the best, -1 when the lowest is (BETTER); a metric
    without a direction is refused."""
    from engine.errors import AishockError

    if metric not in BETTER:
        raise AishockError(
            f"metric '{metric}' has no better direction, so no cell is best by it; "
            f"use one of {', '.join(BETTER)}"
        )
    return BETTER[metric]


def _calmar(r: np.ndarray, periods: int) -> np.ndarray:
    cagr = metrics.cagr(r, periods, min_years=0.0)
    dd = metrics.max_drawdown(r)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(dd < 0, cagr / np.abs(dd), np.nan)


# Each metric that daily returns alone determine, as a function of a days x runs block of
# them (the costs metrics -- fees, turnover, orders -- need the simulation, not returns).
# total_return, cagr and final_equity rank runs of one block alike.
FROM_RETURNS = {
    "total_return": lambda r, rf, periods: metrics.total_return(r),
    "cagr": lambda r, rf, periods: metrics.total_return(r),
    "final_equity": lambda r, rf, periods: metrics.total_return(r),
    "sharpe": lambda r, rf, periods: metrics.sharpe(r, rf, periods),
    "sortino": lambda r, rf, periods: metrics.sortino(r, rf, periods),
    "volatility": lambda r, rf, periods: metrics.volatility(r, periods),
    "max_drawdown": lambda r, rf, periods: metrics.max_drawdown(r),
    "calmar": lambda r, rf, periods: _calmar(r, periods),
}


def ranking(metric: str, rf: float = 0.0, periods: int = TRADING_DAYS):
    """A function of a days x runs block of daily returns giving each run's `metric` signed
    by BETTER (higher is better; NaN as -inf), for ranking runs on part of the days (PBO);
    None for a metric the returns do not determine (see FROM_RETURNS). The function carries
    `metric`, `rf` and `periods` as attributes."""
    if metric not in FROM_RETURNS:
        return None
    fn, sign = FROM_RETURNS[metric], better(metric)

    def score(block: np.ndarray) -> np.ndarray:
        values = sign * np.asarray(fn(np.asarray(block, dtype=float), rf, periods), dtype=float)
        return np.where(np.isnan(values), -np.inf, values)

    # what it ranks by, for engine.analytics.overfit.pbo_cscv's array form (BLOCK_METRICS)
    score.metric, score.rf, score.periods = metric, rf, periods
    return score


def daily_returns(equity: pd.DataFrame, init_cash: float) -> pd.DataFrame:
    """engine.sim.simulate.daily_returns of each equity column (the first day against `init_cash`,
    0 after a wipe-out), labelled as `equity`."""
    values = simulate.daily_returns(equity.to_numpy(dtype=np.float64), init_cash)
    return pd.DataFrame(values, index=equity.index, columns=equity.columns)


def from_accumulators(
    acc: np.ndarray, init_cash, rf: float = 0.0, periods: int = TRADING_DAYS, min_years: float = 1.0
) -> pd.DataFrame:
    """The stats of each run (rows) from the simulator's accumulators (engine.sim.kernel
    ACC_FIELDS x runs), with the conventions of engine/analytics/metrics.py: `periods` per year, `rf`
    annual and de-annualised geometrically (the `rf` the accumulators were made with),
    Sharpe with ddof=1 and NaN without dispersion, Sortino's downside over all n returns,
    CAGR NaN under `min_years` or after a wipe-out, max drawdown negative (the initial cash
    is a peak), Calmar NaN without a drawdown, turnover = traded value / mean equity,
    exposure = mean gross exposure / equity; the volume shares over the fills of tickers with
    a volume (NaN without one). `init_cash` is one number or one per run. A pure function of
    its inputs."""
    a = np.asarray(acc, dtype=np.float64).reshape(len(ACC_FIELDS), -1)
    f = {name: a[i] for i, name in enumerate(ACC_FIELDS)}
    n = f["n"]
    rf_d = (1.0 + rf) ** (1.0 / periods) - 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        has = n > 0
        growth = f["final"] / init_cash
        years_ok = has & (n / periods >= min_years) & (growth > 0)
        cagr = np.where(
            years_ok, np.where(growth > 0, growth, 1.0) ** (periods / np.maximum(n, 1)) - 1.0, np.nan
        )
        mean_r = f["sum_r"] / n
        var = (f["sum_r2"] - f["sum_r"] * mean_r) / (n - 1)
        sd = np.sqrt(np.maximum(var, 0.0))
        mean_ex = mean_r - rf_d
        ok = (n > 1) & (sd > 1e-14 * np.maximum(np.abs(mean_ex), 1e-300))
        down = np.sqrt(f["sum_down2"] / n)
        max_dd = np.where(has, f["max_dd"], np.nan)
        return pd.DataFrame(
            {
                "final_equity": f["final"],
                "total_return": np.where(has, growth - 1.0, np.nan),
                "cagr": cagr,
                "volatility": np.where(n > 1, sd * np.sqrt(periods), np.nan),
                "sharpe": np.where(ok, mean_ex / sd * np.sqrt(periods), np.nan),
                "sortino": np.where(has & (down > 0), mean_ex / down * np.sqrt(periods), np.nan),
                "max_drawdown": max_dd,
                "calmar": np.where(max_dd < 0, cagr / np.abs(max_dd), np.nan),
                "n_trades": f["n_orders"].astype(np.int64),
                "turnover": f["traded"] / (f["sum_equity"] / n),
                "exposure": f["sum_exposure"] / n,
                "fees_paid": f["fees"],
                "slippage_paid": f["slippage"],
                "impact_paid": f["impact"],
                "max_volume_share": np.where(f["n_share"] > 0, f["max_share"], np.nan),
                "mean_volume_share": f["sum_share"] / f["n_share"],
                "partial_fills": f["n_partial"].astype(np.int64),
                "longest_wait": f["max_wait"].astype(np.int64),
                "interest": f["interest"],
                "wiped_out": f["wiped_out"] > 0,
            }
        )


def table(
    index: pd.DatetimeIndex, acc: np.ndarray, init_cash: float, rf: float, periods: int
) -> pd.DataFrame:
    """The stats table of runs simulated over the days of `index`: start, end, days, then
    `from_accumulators`."""
    out = from_accumulators(acc, init_cash, rf, periods)
    out.insert(0, "days", len(index))
    out.insert(0, "end", index[-1].date())
    out.insert(0, "start", index[0].date())
    return out


def labelled(table: pd.DataFrame) -> pd.DataFrame:
    """The stats table for reading: metrics as rows with unit labels, percentages in percent."""
    shown = table.copy().astype(object)
    for col in PERCENT & set(shown):
        shown[col] = table[col] * 100
    return shown.rename(columns=LABELS).T


WINDOW_METRICS = ("total_return", "sharpe", "max_drawdown", "volatility")


def by_window(returns: pd.DataFrame, windows, rf: float = 0.0, periods: int = TRADING_DAYS) -> pd.DataFrame:
    """Metrics of each column of daily `returns` over each (name, start, end) window:
    rows are the columns of `returns`, columns are (window, metric). A window is a slice of
    the same continuous backtest, not a fresh start."""
    parts = {}
    for name, start, end in windows:
        r = returns.loc[start:end]
        parts[name] = pd.DataFrame(
            {
                "total_return": metrics.total_return(r),
                "sharpe": metrics.sharpe(r, rf, periods),
                "max_drawdown": metrics.max_drawdown(r),
                "volatility": metrics.volatility(r, periods),
            },
            index=returns.columns,
        )
    return pd.concat(parts, axis=1, names=["window", "metric"])
