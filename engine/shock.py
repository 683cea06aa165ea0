"""Sector-shock detection, shared by the strategies and the event study so both always
agree on the date.

A shock day is a day on which a group's equal-weight close-to-close return is at most
-min_drop while the market's return stays above -max_market_drop: the group fell hard on a
day the market as a whole did not (a market-wide sell-off such as 2025-04-03 is not one).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MIN_DROP = 0.07
MAX_MARKET_DROP = 0.03


def group_returns(close: pd.DataFrame, members: list[str]) -> pd.Series:
    """Equal-weight mean of the members' daily close-to-close returns (fraction), over the
    members that traded on both days; NaN on days when none did."""
    cols = [t for t in members if t in close.columns]
    return close[cols].pct_change(fill_method=None).mean(axis=1, skipna=True)


def check_thresholds(min_drop: float, max_market_drop: float) -> None:
    """Raise ValueError unless 0 < min_drop < 1 and 0 <= max_market_drop < 1 (fractions)."""
    if not 0 < min_drop < 1:
        raise ValueError("min_drop must be a fraction between 0 and 1")
    if not 0 <= max_market_drop < 1:
        raise ValueError("max_market_drop must be a fraction from 0 to below 1")


def shock_mask(group, market, min_drop, max_market_drop):
    """The shock test (broadcasting arrays of returns and thresholds): the group's return is
    at most -min_drop while the market's is above -max_market_drop; False where either
    return is missing."""
    with np.errstate(invalid="ignore"):
        return (np.asarray(group) <= -np.asarray(min_drop)) & (
            np.asarray(market) > -np.asarray(max_market_drop)
        )


def shock_table(
    close: pd.DataFrame,
    members: list[str],
    market: str,
    min_drop: float = MIN_DROP,
    max_market_drop: float = MAX_MARKET_DROP,
) -> pd.DataFrame:
    """Every shock day, oldest first, with columns group_return, market_return and excess
    (group minus market), all fractions."""
    group = group_returns(close, members)
    mkt = close[market].pct_change(fill_method=None)
    hit = shock_mask(group.to_numpy(), mkt.to_numpy(), min_drop, max_market_drop)
    table = pd.DataFrame({"group_return": group, "market_return": mkt, "excess": group - mkt})
    return table[hit]


def shock_days(
    close: pd.DataFrame,
    members: list[str],
    market: str,
    min_drop: float = MIN_DROP,
    max_market_drop: float = MAX_MARKET_DROP,
) -> pd.DatetimeIndex:
    """The dates of `shock_table`. Day t is known at t's close (uses data up to t only)."""
    return shock_table(close, members, market, min_drop, max_market_drop).index
