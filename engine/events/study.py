"""Event study: what each member of a universe did around one date, and the universe as a whole.

Units and conventions, for every function here:
- returns are simple fractions (0.01 = +1 %), from closes (adjusted, as the panel holds them);
- windows, horizons and look-backs are counted in trading days of the panel's calendar;
- event time k counts trading days from the event day (k = 0); the close of k = -1 (the
  previous trading day) is the pre-event close.
Pure functions over frames: no I/O, no printing. Bad input raises AishockError.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine.data.membership import dated
from engine.data.universe import member_mask
from engine.errors import AishockError
from engine.events import abnormal, shocks

HORIZONS = (5, 20, 60)
BENCHMARKS = ("SPY", "QQQ", "SMH")
OK, NO_DATA, NOT_TRADING, NOT_MEMBER = "ok", "no data", "not trading", "not a member"
ALL_MEMBERS = "all members"


def parse_window(text: str) -> tuple[int, int]:
    """'-10:60' -> (10, 60): trading days before and after the event day."""
    m = re.fullmatch(r"\s*(-?\d+)\s*:\s*\+?(\d+)\s*", str(text))
    if not m or int(m.group(1)) > 0:
        raise AishockError(f"window '{text}' is not -BEFORE:AFTER in trading days, e.g. -10:60")
    return -int(m.group(1)), int(m.group(2))


def event_position(index: pd.DatetimeIndex, date) -> int:
    """Row of `date` in `index` (the trading calendar). Refuses a non-date, a date outside
    the data, a day that is not a trading day, and the first day (no previous close)."""
    try:
        day = pd.Timestamp(date).normalize()
    except (ValueError, TypeError):
        raise AishockError(f"'{date}' is not a date; use YYYY-MM-DD") from None
    first, last = index[0], index[-1]
    if not first <= day <= last:
        raise AishockError(f"{day.date()} is outside the data ({first.date()} .. {last.date()})")
    if day not in index:
        before, after = index[index < day][-1], index[index > day][0]
        raise AishockError(
            f"{day.date()} ({day.day_name()}) is not a trading day; "
            f"the nearest are {before.date()} and {after.date()}"
        )
    i = index.get_loc(day)
    if i == 0:
        raise AishockError(f"{day.date()} is the first day of the data: no previous close to compare with")
    return i


def per_name(close: pd.DataFrame, i: int, post: int, runup_days: int) -> pd.DataFrame:
    """One row per column of `close` for the event at row `i`:
    prev_close, event_close (prices); event_return (event-day close vs the previous trading
    day's close); runup_ytd (previous trading day's close vs the last close of the year before
    the event's year; NaN without one); runup_recent (over the `runup_days` trading days
    ending the previous trading day); ret_after_5d/20d/60d (close k days after the event
    day vs the event-day close; NaN past the data); max_drawdown_after (lowest close of
    days 1..post vs the event-day close, 0 if never below); days_to_recover (first k in
    0..post whose close is at or above the pre-event close; NaN if not within the window)."""
    index = close.index
    prev, now = close.iloc[i - 1], close.iloc[i]
    out = pd.DataFrame({"prev_close": prev, "event_close": now, "event_return": now / prev - 1.0})
    year_end = index < pd.Timestamp(year=index[i].year, month=1, day=1)
    base = close[year_end].iloc[-1] if year_end.any() else pd.Series(np.nan, index=close.columns)
    out["runup_ytd"] = prev / base - 1.0
    recent = close.iloc[i - 1 - runup_days] if i - 1 - runup_days >= 0 else np.nan
    out["runup_recent"] = prev / recent - 1.0
    for h in HORIZONS:
        out[f"ret_after_{h}d"] = close.iloc[i + h] / now - 1.0 if i + h < len(index) else np.nan
    after = close.iloc[i + 1 : i + post + 1]
    out["max_drawdown_after"] = (after.min() / now - 1.0).clip(upper=0.0) if len(after) else np.nan
    path = close.iloc[i : i + post + 1].to_numpy() >= prev.to_numpy()
    first = np.where(path.any(axis=0), path.argmax(axis=0), -1)
    out["days_to_recover"] = np.where(first >= 0, first, np.nan)
    return out


def event_paths(close: pd.DataFrame, i: int, pre: int, post: int) -> pd.DataFrame:
    """Cumulative return from the pre-event close to each close of event days -pre..post
    (rows k, one column per ticker; 0 at k = -1)."""
    rows = close.iloc[i - pre : i + post + 1] / close.iloc[i - 1] - 1.0
    return rows.set_axis(pd.RangeIndex(-pre, post + 1, name="k"))


def breadth(returns: pd.Series) -> dict[str, int]:
    """Advancers (> 0), decliners (< 0) and unchanged (exactly 0) among known `returns`."""
    r = returns.dropna()
    return {
        "advancers": int((r > 0).sum()),
        "decliners": int((r < 0).sum()),
        "unchanged": int((r == 0).sum()),
    }


def recovery_share(days: pd.Series, groups: pd.Series, post: int) -> pd.DataFrame:
    """Share (fraction) of each group's names that have regained the pre-event close by event
    day k = 0..post, from `days` (days_to_recover per ticker, NaN = not within window)."""
    k = np.arange(post + 1)
    out = {}
    for g in dict.fromkeys(groups):
        d = days[groups == g].to_numpy(dtype=float)[:, None]
        out[g] = (d <= k[None, :]).mean(axis=0)
    return pd.DataFrame(out, index=pd.RangeIndex(0, post + 1, name="k"))


@dataclass(frozen=True)
class EventStudy:
    """The result of `study`. `table` has one row per member (status ok / no data / not
    trading, then the columns of `per_name`, abnormal_return, car_window, beta). `groups`
    maps a grouping ('universe', 'role', 'sector') to a summary frame, one row per group;
    `caar`, `paths` and `recovery` map it to frames with one column per group."""

    date: pd.Timestamp
    prev_date: pd.Timestamp
    pre: int
    post: int
    model: str
    market: str
    estimation: int
    runup_days: int
    table: pd.DataFrame
    benchmarks: pd.DataFrame
    shock: dict
    groups: dict[str, pd.DataFrame] = field(default_factory=dict)
    caar: dict[str, pd.DataFrame] = field(default_factory=dict)
    paths: dict[str, pd.DataFrame] = field(default_factory=dict)
    recovery: dict[str, pd.DataFrame] = field(default_factory=dict)
    benchmark_paths: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def covered(self) -> list[str]:
        return list(self.table.index[self.table["status"] == OK])

    @property
    def missing(self) -> list[str]:
        return list(self.table.index[self.table["status"] != OK])

    @property
    def breadth(self) -> dict[str, int]:
        return breadth(self.table["event_return"])

    def ranked(self) -> pd.Series:
        """Event-day returns of the covered names, lowest first (ties by ticker)."""
        r = self.table.loc[self.covered, "event_return"]
        return r[sorted(r.index, key=lambda t: (r[t], t))]


def study(
    close: pd.DataFrame,
    members: pd.DataFrame,
    date,
    *,
    pre: int = 10,
    post: int = 60,
    runup_days: int = 20,
    market: str = "SPY",
    model: str = "market",
    estimation: int = 250,
    min_drop: float = shocks.MIN_DROP,
    max_market_drop: float = shocks.MAX_MARKET_DROP,
) -> EventStudy:
    """The event study of `members` (indexed by ticker; columns role and, optionally, sector)
    on `date`, from `close` (dates x tickers, holding the market and any of BENCHMARKS).
    Members absent from `close` have status 'no data'; members without a close on the event
    day or the previous trading day have status 'not trading'; members that joined after the
    event day or had left by it (`added` / `removed` columns, engine.data.universe) have status
    'not a member' and are not studied. The event window is clipped to the data;
    `pre`/`post` of the result are the days used."""
    if members.empty:
        raise AishockError("the universe is empty: no members to study")
    if market not in close.columns:
        raise AishockError(f"market {market} has no prices; add {market}.csv or choose --market")
    if model not in abnormal.MODELS:
        raise AishockError(f"model '{model}' is unknown; use one of {', '.join(abnormal.MODELS)}")
    i = event_position(close.index, date)
    pre, post = min(pre, i - 1), min(post, len(close.index) - 1 - i)
    present = [t for t in members.index if t in close.columns]
    measures = per_name(close[present], i, post, runup_days)
    status = pd.Series(NO_DATA, index=members.index)
    status[present] = np.where(measures["event_return"].notna(), OK, NOT_TRADING)
    status[~member_mask(close.index[i : i + 1], list(members.index), dated(members))[0]] = NOT_MEMBER
    covered = list(status.index[status == OK])
    if not covered:
        raise AishockError(f"none of the {len(members)} members has a close on {close.index[i].date()}")
    returns = close.pct_change(fill_method=None)
    ar, fit = abnormal.abnormal_returns(returns[covered], returns[market], i, pre, post, model, estimation)
    table = members.assign(status=status).join(measures.where(status[present] == OK, axis=0))
    table["abnormal_return"] = ar.loc[0]
    table["car_window"] = abnormal.car(ar, -pre, post)
    table["beta"] = fit["beta"]
    day_group = shocks.group_returns(close, covered).iloc[i]
    day_market = returns[market].iloc[i]
    detected = close.index[i] in shocks.shock_days(close, covered, market, min_drop, max_market_drop)
    marks = [b for b in dict.fromkeys([market, *BENCHMARKS]) if b in close.columns]
    paths = event_paths(close[covered], i, pre, post)
    by = {"groups": {}, "caar": {}, "paths": {}, "recovery": {}}
    for kind, key in grouping(table.loc[covered]).items():
        by["groups"][kind] = summarise(table.loc[covered], ar, key, pre, post)
        by["caar"][kind] = abnormal.caar(ar, key)
        by["paths"][kind] = pd.DataFrame(
            {g: paths[key.index[key == g]].mean(axis=1) for g in dict.fromkeys(key)}
        )
        by["recovery"][kind] = recovery_share(table.loc[covered, "days_to_recover"], key, post)
    return EventStudy(
        date=close.index[i],
        prev_date=close.index[i - 1],
        pre=pre,
        post=post,
        model=model,
        market=market,
        estimation=estimation,
        runup_days=runup_days,
        table=table,
        benchmarks=per_name(close[marks], i, post, runup_days),
        benchmark_paths=event_paths(close[marks], i, pre, post),
        shock={
            "detected": bool(detected),
            "group_return": float(day_group),
            "market_return": float(day_market),
            "min_drop": min_drop,
            "max_market_drop": max_market_drop,
        },
        **by,
    )


def grouping(covered: pd.DataFrame) -> dict[str, pd.Series]:
    """The groupings of the covered members: the whole universe, the AI role tag, and the
    sector when the membership gives one."""
    out = {"universe": pd.Series(ALL_MEMBERS, index=covered.index), "role": covered["role"]}
    if "sector" in covered and (covered["sector"].fillna("") != "").any():
        out["sector"] = covered["sector"].replace("", "unknown").fillna("unknown")
    return out


def summarise(covered: pd.DataFrame, ar: pd.DataFrame, key: pd.Series, pre: int, post: int) -> pd.DataFrame:
    """One row per group: n, mean_return and median_return (event day), advancers, decliners,
    unchanged, mean_runup_ytd, and the cross-sectional tests of the CAR over the event day
    (car_event, t_event, p_event), days 1..post (car_post, ...) and the whole window
    (car_window, ...): mean CAR (fraction), t statistic, two-sided p-value. Groups are sorted
    by mean event-day return, worst first."""
    intervals = {"event": (0, 0), "post": (1, post), "window": (-pre, post)}
    cars = {name: abnormal.car(ar, a, b) for name, (a, b) in intervals.items()}
    rows = {}
    for g in dict.fromkeys(key):
        names = key.index[key == g]
        r = covered.loc[names, "event_return"]
        row = {"n": len(names), "mean_return": r.mean(), "median_return": r.median(), **breadth(r)}
        row["mean_runup_ytd"] = covered.loc[names, "runup_ytd"].mean()
        for name, values in cars.items():
            test = abnormal.cross_section_test(values[names])
            row.update({f"car_{name}": test["mean"], f"t_{name}": test["t"], f"p_{name}": test["p"]})
        rows[g] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "group"
    return table.sort_values("mean_return", kind="stable")
