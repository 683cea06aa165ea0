"""Small composable pieces the strategies are built from, as array code for many parameter
sets at once.

A built-in strategy is `schedule(prices, sets) -> Schedule` (engine.strategy.schedule): the target
weights of every parameter set in `sets`. `by_group` splits the sets by the parameters that
choose the data (universe, market, ...), so each group's prices are read once; inside a
group, per-set numbers become arrays (`column`) and `per_set` runs one compiled function
that decides the orders of set k (engine.strategy.schedule.decided: the engine counts, places and
threads them).

Every step is a pure function of data known at its decision row: a weight decided on row t
uses closes up to row t only, and executes on bar t + 1 (engine.sim.simulate, rule 1).

`shock_params` declares the parameters of the strategies that act on a shock (engine.events.shocks).

The last section holds pandas steps for strategies written the plain way, one parameter set
at a time (`weights(prices, params) -> DataFrame`, as in the README).
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Sequence

import numba as nb
import numpy as np
import pandas as pd

from engine.data.derived import close_returns, per_panel
from engine.data.derived import closes as closes  # the strategies call steps.closes
from engine.data.panel import Prices
from engine.errors import AishockError
from engine.events.shocks import (
    MAX_MARKET_DROP,
    MIN_DROP,
    check_thresholds,
    group_returns,
    shock_days,
    shock_mask,
)
from engine.strategy.params import param
from engine.strategy.schedule import Schedule, decided


def by_group(
    prices: Prices, sets: Sequence, fields: Sequence[str], build: Callable[[Prices, list], Schedule]
) -> Schedule:
    """Needs: parameter sets. Produces: one Schedule with a run per set, in order, where
    `build(prices, group)` computes each group of sets that agree on `fields`."""
    return Schedule.grouped(
        sets, lambda p: tuple(getattr(p, f) for f in fields), lambda group: build(prices, group)
    )


# closes(prices, names) and close_returns(prices, names): days x names arrays kept per panel
# (engine.data.derived), shared with the engine's event runs.


# The shock parameters: (name, type, default, help). `universe` and `market` choose the data.
SHOCK = (
    ("universe", str, "ai", "basket whose shock opens the trade"),
    ("market", str, "SPY", "market the shock is measured against"),
    ("min_drop", float, MIN_DROP, "shock: basket falls at least this (fraction)"),
    ("max_market_drop", float, MAX_MARKET_DROP, "...while the market falls less than this"),
    ("event_date", dt.date | None, None, "use this shock date instead of detecting"),
)


def shock_params(after: str | None = None, **help: str):
    """Class decorator, under @dataclass: adds the SHOCK parameters to a params class, right
    after its field `after` (first when None), with `help` in place of their help texts
    where given; the dataclass then checks the thresholds (engine.events.shocks.check_thresholds)
    before its own __post_init__."""
    unknown = set(help) - {name for name, *_ in SHOCK}
    if unknown:
        raise TypeError(f"shock_params: no shock parameter {', '.join(sorted(unknown))}")

    def add(cls):
        own = list(inspect.get_annotations(cls).items())
        at = 0 if after is None else [name for name, _ in own].index(after) + 1
        cls.__annotations__ = dict(own[:at] + [(name, kind) for name, kind, *_ in SHOCK] + own[at:])
        for name, _, default, text in SHOCK:
            setattr(cls, name, param(default, help.get(name, text)))
        own_check = cls.__dict__.get("__post_init__")

        def __post_init__(self):
            check_thresholds(self.min_drop, self.max_market_drop)
            if own_check is not None:
                own_check(self)

        cls.__post_init__ = __post_init__
        return cls

    return add


def shocks(prices: Prices, members: Sequence[str], market: str, sets: Sequence) -> np.ndarray:
    """Needs: closes of `members` and `market`; sets with the SHOCK parameters. Produces:
    sets x days booleans, True on each set's shock days (engine.events.shocks) or on its event_date
    alone when it has one (which must be a trading day)."""
    group = per_panel(
        prices, ("group", tuple(members)), lambda: group_returns(prices.close, list(members)).to_numpy()
    )
    mkt = close_returns(prices, [market])[:, 0]
    hit = np.zeros((len(sets), len(prices.index)), dtype=np.bool_)
    detect = [k for k, p in enumerate(sets) if p.event_date is None]
    if detect:
        min_drop = np.array([sets[k].min_drop for k in detect], dtype=np.float64)
        max_mkt = np.array([sets[k].max_market_drop for k in detect], dtype=np.float64)
        hit[detect] = shock_mask(group[None, :], mkt[None, :], min_drop[:, None], max_mkt[:, None])
    dated = [k for k, p in enumerate(sets) if p.event_date is not None]
    if dated:
        days = pd.DatetimeIndex([sets[k].event_date for k in dated])
        rows = prices.index.get_indexer(days)
        if (rows < 0).any():
            bad = days[rows < 0][0].date()
            raise AishockError(f"event_date {bad} is not a trading day in the data")
        hit[dated, rows] = True
    return hit


def earnings_days(prices: Prices, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Needs: the panel's earnings calendar. Produces: (lo, hi, days): the report dates of
    names[j] are days[lo[j]:hi[j]], sorted, as days since 1970-01-01 (int64)."""
    by_ticker = per_panel(prices, ("earnings days",), lambda: _earnings_by_ticker(prices.earnings))
    parts = [by_ticker.get(t, np.empty(0, np.int64)) for t in names]
    hi = np.cumsum([len(d) for d in parts]).astype(np.int64)
    lo = hi - np.array([len(d) for d in parts], dtype=np.int64)
    return lo, hi, np.concatenate(parts) if parts else np.empty(0, np.int64)


def _earnings_by_ticker(earnings: pd.DataFrame) -> dict[str, np.ndarray]:
    days = earnings["date"].to_numpy("datetime64[D]").astype(np.int64)
    tickers = earnings["ticker"].to_numpy()
    return {t: np.sort(days[tickers == t]) for t in pd.unique(tickers)}


def column(sets: Sequence, name: str, dtype=np.float64, none=np.nan) -> np.ndarray:
    """Produces: parameter `name` of every set as an array (`none` where it is None)."""
    return np.array([none if getattr(p, name) is None else getattr(p, name) for p in sets], dtype=dtype)


def positions(names: Sequence[str], within: Sequence[str]) -> np.ndarray:
    """Produces: the positions of `within` in `names`."""
    at = {t: i for i, t in enumerate(names)}
    return np.array([at[t] for t in within], dtype=np.int64)


@nb.njit(cache=True, nogil=True)
def listed_equal(close_row, members, out):
    """Needs: one row of closes. Produces in `out` (by member): 1/n over the n members with a
    price on that row, 0 for the others; returns n."""
    n = 0
    for i in range(members.size):
        if close_row[members[i]] == close_row[members[i]]:
            n += 1
    for i in range(members.size):
        listed = close_row[members[i]] == close_row[members[i]]
        out[i] = 1.0 / n if listed and n > 0 else 0.0
    return n


def per_set(prices: Prices, names: Sequence[str], sets: Sequence, decide, *data) -> Schedule:
    """Produces: the Schedule of `sets` over tickers `names`, where the compiled
    `decide(k, *data, out)` gives the orders of set k with engine.strategy.schedule.order (see
    engine.strategy.schedule.decided)."""
    return decided(prices.index, names, len(sets), decide, data)


# -- for plain strategies: one parameter set, pandas frames ----------------------------


def blank(index: pd.DatetimeIndex, names: Sequence[str]) -> pd.DataFrame:
    """Produces: an all-NaN weight frame (no orders) to fill rows into."""
    return pd.DataFrame(np.nan, index=index, columns=pd.Index(list(names), name="ticker"))


def event_dates(prices: Prices, members, market: str, min_drop: float, max_market_drop: float, event_date):
    """Needs: closes of `members` and `market`. Produces: the shock dates (engine.events.shocks), or
    just `event_date` when one is given (it must be a trading day)."""
    if event_date is None:
        return shock_days(prices.close, list(members), market, min_drop, max_market_drop)
    day = pd.Timestamp(event_date)
    if day not in prices.index:
        raise AishockError(f"event_date {event_date} is not a trading day in the data")
    return pd.DatetimeIndex([day])


def select_decliners(returns: pd.Series, k: int, prefer=frozenset()) -> list[str]:
    """Needs: one day's returns by ticker. Produces: the `k` tickers that fell most (most
    negative first), tickers in `prefer` ahead of the others; tickers without a return are
    skipped."""
    day = returns.dropna()
    return sorted(day.index, key=lambda t: (t not in prefer, day[t], t))[:k]


def weigh_equal(names: Sequence[str]) -> pd.Series:
    """Produces: 1/n for each of `names`."""
    return pd.Series(1.0 / len(names), index=list(names)) if len(names) else pd.Series(dtype=float)
