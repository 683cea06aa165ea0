"""The stats table: one row per run, one column per metric, units in UNITS."""

from __future__ import annotations

import pandas as pd

from engine import metrics

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
    "exposure": "mean fraction of equity invested",
    "fees_paid": "currency",
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
    "exposure": "Exposure [%]",
    "fees_paid": "Fees paid [$]",
}
PERCENT = {"total_return", "cagr", "volatility", "max_drawdown", "exposure"}


def daily_returns(equity: pd.DataFrame, init_cash: float) -> pd.DataFrame:
    """Simple returns of each equity column; the first day is measured against `init_cash`
    (so costs of the first fills count)."""
    prev = equity.shift(1)
    prev.iloc[0] = init_cash
    return equity / prev - 1.0


def compute(
    equity: pd.DataFrame,
    init_cash: float,
    orders: pd.DataFrame,
    holdings: pd.DataFrame,
    rf: float = 0.0,
    periods: int = metrics.PERIODS,
) -> pd.DataFrame:
    """Stats of every run (`equity` columns). `orders` is the tidy order frame with a `run`
    column; `holdings` holds the value per (run, ticker)."""
    r = daily_returns(equity, init_cash)
    invested = holdings.T.groupby(level=0, sort=False).sum().T.reindex(columns=equity.columns)
    by_run = orders.groupby("run", sort=False)
    traded = by_run["value"].sum().reindex(equity.columns, fill_value=0.0)
    table = pd.DataFrame(
        {
            "start": equity.index[0].date(),
            "end": equity.index[-1].date(),
            "days": len(equity),
            "final_equity": equity.iloc[-1],
            "total_return": metrics.total_return(r),
            "cagr": metrics.cagr(r, periods),
            "volatility": metrics.volatility(r, periods),
            "sharpe": metrics.sharpe(r, rf, periods),
            "sortino": metrics.sortino(r, rf, periods),
            "max_drawdown": metrics.max_drawdown(r),
            "calmar": metrics.calmar(r, periods),
            "n_trades": by_run.size().reindex(equity.columns, fill_value=0).astype(int),
            "turnover": traded / equity.mean(),
            "exposure": (invested / equity).mean(),
            "fees_paid": by_run["fees"].sum().reindex(equity.columns, fill_value=0.0),
        },
        index=equity.columns,
    )
    return table


def labelled(table: pd.DataFrame) -> pd.DataFrame:
    """The stats table for reading: metrics as rows with unit labels, percentages in percent."""
    shown = table.copy().astype(object)
    for col in PERCENT & set(shown):
        shown[col] = table[col] * 100
    return shown.rename(columns=LABELS).T


WINDOW_METRICS = ("total_return", "sharpe", "max_drawdown", "volatility")


def by_window(
    returns: pd.DataFrame, windows, rf: float = 0.0, periods: int = metrics.PERIODS
) -> pd.DataFrame:
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
