"""Thesis 2: test-time compute moves AI demand from training to inference; rotate part of a
training-and-power portfolio into inference/custom-ASIC names when the shock hits."""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from engine.data.panel import Prices
from engine.data.universe import resolve
from engine.strategy.params import param
from engine.strategy.registry import EventParams, register
from engine.strategy.schedule import Schedule, order
from strategies import steps
from strategies.steps import listed_equal, shock_params


@dataclass(frozen=True)
@shock_params(
    after="into",
    universe="basket whose shock triggers the rotation",
    event_date="rotate on this date instead of detecting",
)
class Params:
    """Hold `base` equally weighted; from the shock day (steps.SHOCK) on, move `fraction` of
    the portfolio into `into` (equal weight), rebalancing every `rebalance_days`. With relative_strength,
    each rebalance after the shock keeps the rotation only while `into` beat `base` over the
    last `lookback` days (else the fraction falls back to `floor`)."""

    base: str = param("training,power", "basket(s) held before the rotation")
    into: str = param("inference", "basket(s) rotated into")
    fraction: float = param(0.5, "fraction of equity rotated into `into`", off=0.0)
    rebalance_days: int = param(21, "trading days between rebalances (0: never)")
    relative_strength: bool = param(False, "keep the rotation only while `into` leads")
    lookback: int = param(63, "days for the relative-strength comparison")
    floor: float = param(0.0, "rotated fraction while `into` lags")

    def __post_init__(self):
        if not 0 <= self.fraction <= 1 or not 0 <= self.floor <= 1:
            raise ValueError("fraction and floor must be between 0 and 1")
        if self.rebalance_days < 0 or self.lookback < 1:
            raise ValueError("rebalance_days must be >= 0 and lookback >= 1")


def tickers(p: Params) -> list[str]:
    return list(dict.fromkeys([*resolve(p.base), *resolve(p.into), *resolve(p.universe), p.market]))


@register(
    "inference_rotation",
    Params,
    tickers,
    many=True,
    universes=("base", "into", "universe"),
    event=EventParams("universe", "event_date", market="market"),
    attribution_benchmark="ai",
)
def schedule(prices: Prices, sets: list[Params]) -> Schedule:
    """Rotate a fraction of a training/power portfolio into inference/ASIC names at the shock."""
    return steps.by_group(prices, sets, ("base", "into", "universe", "market"), _group)


def _group(prices: Prices, sets: list[Params]) -> Schedule:
    p0 = sets[0]
    base, into = resolve(p0.base), resolve(p0.into)
    names = list(dict.fromkeys([*base, *into]))
    hits = steps.shocks(prices, resolve(p0.universe), p0.market, sets)
    data = (
        steps.closes(prices, names),
        steps.positions(names, base),
        steps.positions(names, into),
        hits,
        steps.column(sets, "fraction"),
        steps.column(sets, "rebalance_days", np.int64),
        np.array([p.relative_strength for p in sets]),
        steps.column(sets, "lookback", np.int64),
        steps.column(sets, "floor"),
    )
    return steps.per_set(prices, names, sets, _rotation, *data)


@nb.njit(cache=True, nogil=True)
def _basket_return(close, members, i, lookback):
    """Mean over members of close[i] / close[max(i - lookback, 0)] - 1 (NaN if none has both)."""
    start = max(i - lookback, 0)
    s = 0.0
    c = 0
    for j in members:
        r = close[i, j] / close[start, j] - 1.0
        if r == r:
            s += r
            c += 1
    return s / c if c > 0 else np.nan


@nb.njit(cache=True, nogil=True)
def _rotation(k, close, base, into, hits, fraction, every, strength, lookback, floor, out):
    """Orders of set k. Rebalance rows: the first row on which a base name has a price,
    every `every[k]` rows after it, and the first shock row."""
    n, m = close.shape
    rotate_at = n
    for t in range(n):
        if hits[k, t]:
            rotate_at = t
            break
    first = -1
    for t in range(n):
        for j in base:
            if close[t, j] == close[t, j]:
                first = t
                break
        if first >= 0:
            break
    if first < 0:
        return
    w_base = np.empty(base.size)
    w_into = np.empty(into.size)
    row = np.empty(m)
    due = first  # the next row of the every-`every` schedule
    i = min(first, rotate_at)
    while i < n - 1:
        frac = 0.0
        if i >= rotate_at:
            frac = fraction[k]
            if strength[k] and i > rotate_at:
                days = lookback[k]
                lead = _basket_return(close, into, i, days) > _basket_return(close, base, i, days)
                frac = fraction[k] if lead else floor[k]
        listed_equal(close[i], base, w_base)
        if listed_equal(close[i], into, w_into) == 0:
            frac = 0.0
        row[:] = 0.0
        for a in range(base.size):
            row[base[a]] += (1.0 - frac) * w_base[a]
        for a in range(into.size):
            row[into[a]] += frac * w_into[a]
        for j in range(m):
            order(out, i, j, row[j])
        if due == i:
            due = due + every[k] if every[k] > 0 else n
        i = min(due, rotate_at) if rotate_at > i else due  # whichever comes first
