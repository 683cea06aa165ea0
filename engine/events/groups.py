"""A universe split into groups (GICS sector, GICS sub-industry or AI role), each group's
members point in time, and the groups' daily equal-weight returns: what `aishock shocks --by`
scans and engine.generalize runs a strategy on.

Point in time as far as the membership file allows: a member counts for its group from its
`Date added` on, and before its `Date removed` (when the file gives them; the rule of
engine.data.universe), and on days it has a close-to-close return. A file
published at one date cannot bring back members that left before it (survivorship).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.data.membership import dated
from engine.data.universe import member_mask
from engine.errors import AishockError

BY = {"sector": "sector", "industry": "industry", "role": "role"}


@dataclass(frozen=True)
class Groups:
    """members: ticker -> group; returns: days x tickers daily returns of the members with
    prices (fraction); live: days x tickers, True where the member counts for its group;
    skipped: {group: members with prices} for groups that never reach min_members."""

    members: pd.Series
    returns: pd.DataFrame
    live: pd.DataFrame
    skipped: dict[str, int]

    def group_returns(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(days x groups equal-weight return over the live members, days x groups count of
        them); NaN return where no member is live."""
        live_returns = self.returns.where(self.live)
        by = self.members.reindex(self.returns.columns)
        sums = live_returns.T.groupby(by).sum(min_count=1).T
        counts = self.live.T.groupby(by).sum().T.astype(int)
        return sums / counts.where(counts > 0), counts

    def on(self, group: str, day: pd.Timestamp) -> list[str]:
        """The members of `group` live on `day`, in listing order."""
        return self.on_days([group], [day])[0]

    def on_days(self, groups, days) -> list[list[str]]:
        """`on` for each (group, day) pair."""
        live = self.live.to_numpy()
        rows = self.live.index.get_indexer(pd.DatetimeIndex(days))
        if (rows < 0).any():
            raise KeyError(f"{pd.DatetimeIndex(days)[rows < 0][0].date()} is not a day of the data")
        at = {t: j for j, t in enumerate(self.live.columns)}
        names: dict[str, tuple[list[str], np.ndarray]] = {}
        out = []
        for g, r in zip(groups, rows, strict=True):
            if g not in names:
                listed = [t for t in self.members.index[self.members == g] if t in at]
                names[g] = (listed, np.array([at[t] for t in listed], dtype=np.int64))
            listed, cols = names[g]
            out.append([t for t, ok in zip(listed, live[r, cols], strict=True) if ok])
        return out


def split(members: pd.DataFrame, by: str, close: pd.DataFrame, min_members: int) -> Groups:
    """Groups of `members` (engine.events.members.resolve_members' frame) by `by` (sector,
    industry or role), over the members with prices in `close`. Members with no group label
    are left out; groups with fewer than `min_members` members with prices are skipped."""
    if by not in BY:
        raise AishockError(f"unknown grouping '{by}'; use {', '.join(BY)}")
    column = BY[by]
    labels = members[column] if column in members.columns else pd.Series("", index=members.index)
    labels = labels[(labels != "") & (labels != "other")]
    if labels.empty:
        what = "a GICS Sector / GICS Sub-Industry column" if by != "role" else "AI-role members"
        raise AishockError(f"cannot group by {by}: the universe has no {what}; pick another --by")
    with_prices = [t for t in labels.index if t in close.columns]
    sizes = labels[with_prices].value_counts()
    skipped = {g: int(sizes.get(g, 0)) for g in dict.fromkeys(labels) if sizes.get(g, 0) < min_members}
    kept = labels[with_prices]
    kept = kept[~kept.isin(list(skipped))]
    returns = close[list(kept.index)].pct_change(fill_method=None)
    live = returns.notna()
    live &= member_mask(live.index, list(kept.index), dated(members.loc[kept.index]))
    return Groups(kept, returns, live, skipped)


def check_by(by: str | None, universe: str) -> str:
    """`by` or a one-line error naming the choices."""
    if by is None:
        return "role" if universe.lower() == "ai" else "sector"
    if by not in BY:
        raise AishockError(f"--by {by}: use sector or industry (membership CSV) or role (AI tags)")
    return by


def members_on(groups: Groups, events: pd.DataFrame) -> list[list[str]]:
    """The live members of each event's group on its date."""
    return groups.on_days(events["group"], events["date"])


def eligible_days(counts: pd.DataFrame, min_members: int, first: int, last: int) -> dict[str, np.ndarray]:
    """{group: positions of days first..last on which it has at least min_members live}."""
    ok = counts.to_numpy() >= min_members
    out = {}
    for j, g in enumerate(counts.columns):
        rows = np.nonzero(ok[:, j])[0]
        out[g] = rows[(rows >= first) & (rows <= last)]
    return out
