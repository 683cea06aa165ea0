"""Sector-shock detection, shared by the strategies and the event study so both always
agree on the date.

A shock day is a day on which a group's equal-weight close-to-close return is at most
-min_drop while the market's return stays above -max_market_drop: the group fell hard on a
day the market as a whole did not (a market-wide sell-off such as 2025-04-03 is not one).

Scanning many groups of different sizes (`scaled_shocks`, for `aishock shocks --by` and
engine.generalize), one absolute threshold does not fit: an 11-name industry swings more
than a 70-name sector. There a group's shock is scaled to its own volatility: its excess
return over the market is at most -k times the standard deviation of that excess over the
previous `window` days, the group fell at least `min_fall`, the market stayed above
-max_market_drop, and at least `min_members` members had a return that day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MIN_DROP = 0.07
MAX_MARKET_DROP = 0.03
# scaled_shocks' defaults: excess <= -K_SD standard deviations of the last SD_WINDOW days'
# excess (at least SD_MIN_DAYS of them), a fall of at least MIN_FALL, MIN_MEMBERS members
K_SD = 4.0
SD_WINDOW = 63
SD_MIN_DAYS = 40
MIN_FALL = 0.03
MIN_MEMBERS = 3


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


def scaled_shocks(
    group: pd.DataFrame,
    counts: pd.DataFrame,
    market: pd.Series,
    k: float = K_SD,
    min_fall: float = MIN_FALL,
    max_market_drop: float = MAX_MARKET_DROP,
    window: int = SD_WINDOW,
    min_members: int = MIN_MEMBERS,
) -> pd.DataFrame:
    """Shocks scaled to each group's volatility (see the module docstring).

    group: days x groups equal-weight daily returns (fraction); counts: days x groups, the
    members with a return that day; market: the market's daily returns. Day t's test uses
    data up to t only (the standard deviation is of days t - window .. t - 1, ddof=1).
    Returns one row per shock, by date then group: date, group, group_return, market_return,
    excess, sd (of the excess) and n_members."""
    if not k > 0 or not 0 < min_fall < 1 or not 0 <= max_market_drop < 1:
        raise ValueError("k must be > 0, min_fall in (0, 1) and max_market_drop in [0, 1)")
    if window < 2 or min_members < 1:
        raise ValueError("window must be >= 2 days and min_members >= 1")
    mkt = market.reindex(group.index)
    excess = group.sub(mkt, axis=0)
    sd = excess.rolling(window, min_periods=min(SD_MIN_DAYS, window)).std().shift(1)
    hit = (
        (excess <= -k * sd)
        & (group <= -min_fall)
        & (mkt > -max_market_drop).to_numpy()[:, None]
        & (counts >= min_members)
    )
    rows, cols = np.nonzero(hit.fillna(False).to_numpy(dtype=bool))
    out = pd.DataFrame(
        {
            "date": group.index[rows],
            "group": group.columns[cols],
            "group_return": group.to_numpy()[rows, cols],
            "market_return": mkt.to_numpy()[rows],
            "excess": excess.to_numpy()[rows, cols],
            "sd": sd.to_numpy()[rows, cols],
            "n_members": counts.to_numpy()[rows, cols].astype(int),
        }
    )
    return out.sort_values(["date", "group"], kind="stable").reset_index(drop=True)
