"""Small composable portfolio steps (select, weigh, schedule) that strategies are built from.

Every step is a pure function of data already known at its decision date: a step given
`asof` reads rows up to and including `asof` only.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from engine.data.panel import Prices
from engine.errors import AishockError
from engine.shock import shock_days


def event_dates(
    prices: Prices,
    members: list[str],
    market: str,
    min_drop: float,
    max_market_drop: float,
    event_date: dt.date | None,
) -> pd.DatetimeIndex:
    """Needs: closes of `members` and `market`. Produces: the shock dates (detected, see
    engine.shock) or just `event_date` when one is given (it must be a trading day)."""
    if event_date is None:
        return shock_days(prices.close, members, market, min_drop, max_market_drop)
    day = pd.Timestamp(event_date)
    if day not in prices.index:
        raise AishockError(f"event_date {event_date} is not a trading day in the data")
    return pd.DatetimeIndex([day])


def select_decliners(returns: pd.Series, k: int, prefer: set[str] = frozenset()) -> list[str]:
    """Needs: one day's returns by ticker. Produces: the `k` tickers that fell most (most
    negative first), tickers in `prefer` ahead of the others; tickers without a return are
    skipped."""
    day = returns.dropna()
    order = sorted(day.index, key=lambda t: (t not in prefer, day[t], t))
    return order[:k]


def reporting_within(earnings: pd.DataFrame, asof: pd.Timestamp, days: int) -> set[str]:
    """Needs: the earnings calendar. Produces: tickers reporting after `asof` and at most
    `days` calendar days later (a scheduled date, known in advance)."""
    window = (earnings["date"] > asof) & (earnings["date"] <= asof + pd.Timedelta(days=days))
    return set(earnings.loc[window, "ticker"])


def weigh_equal(names: list[str]) -> pd.Series:
    """Produces: 1/n for each of `names`."""
    return pd.Series(1.0 / len(names), index=names) if names else pd.Series(dtype=float)


def weigh_inverse_vol(close: pd.DataFrame, names: list[str], asof: pd.Timestamp, lookback: int) -> pd.Series:
    """Needs: closes up to `asof`. Produces: weights proportional to 1 / (std of the last
    `lookback` daily returns), summing to 1; a name without enough history gets the median
    volatility of the others (equal weights if none has it)."""
    rets = close.loc[:asof, names].pct_change(fill_method=None).iloc[-lookback:]
    vol = rets.std(ddof=1)
    vol = vol.where(vol > 0).fillna(vol[vol > 0].median())
    if vol.isna().all():
        return weigh_equal(names)
    inv = 1.0 / vol
    return inv / inv.sum()


def equal_weight_listed(close: pd.DataFrame, names: list[str], asof: pd.Timestamp) -> pd.Series:
    """Needs: closes on `asof`. Produces: equal weights over the `names` that have a price
    on `asof` (0 for the others)."""
    listed = [t for t in names if pd.notna(close.at[asof, t])]
    return weigh_equal(listed).reindex(names, fill_value=0.0)


def every(index: pd.DatetimeIndex, first: int, step: int) -> list[int]:
    """Produces: positions first, first + step, ... in `index` (just `first` if step <= 0)."""
    return [first] if step <= 0 else list(range(first, len(index), step))


def blank(index: pd.DatetimeIndex, names: list[str]) -> pd.DataFrame:
    """Produces: an all-NaN weight frame (no orders) to fill rows into."""
    return pd.DataFrame(np.nan, index=index, columns=pd.Index(names, name="ticker"))
