"""Big down days of a group, split into sector-specific shocks and market-wide sell-offs.

A day on which the group's equal-weight return is at most -min_drop is a sector-specific
shock when engine.events.shocks says so (the market stayed above -max_market_drop): the same test
the strategies use. Otherwise the market fell too, and the day is a market-wide sell-off
(such as 2025-04-03). Returns are fractions of one trading day.
"""

from __future__ import annotations

import pandas as pd

from engine.events import shocks

SECTOR, MARKET_WIDE = "sector", "market-wide"


def big_drops(
    close: pd.DataFrame,
    members: list[str],
    market: str,
    min_drop: float = shocks.MIN_DROP,
    max_market_drop: float = shocks.MAX_MARKET_DROP,
) -> pd.DataFrame:
    """Every day the group fell by `min_drop` or more, oldest first: group_return,
    market_return, excess (group minus market) and kind (SECTOR or MARKET_WIDE)."""
    group = shocks.group_returns(close, members)
    mkt = close[market].pct_change(fill_method=None)
    table = pd.DataFrame({"group_return": group, "market_return": mkt, "excess": group - mkt})
    table = table[(group <= -min_drop).fillna(False)]
    sector = shocks.shock_days(close, members, market, min_drop, max_market_drop)
    return table.assign(kind=[SECTOR if d in sector else MARKET_WIDE for d in table.index])
