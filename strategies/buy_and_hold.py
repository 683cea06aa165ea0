"""Baseline: buy and hold a ticker or an equal-weight basket, long, leveraged or short."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from engine.data.panel import Prices
from engine.data.universe import resolve
from engine.strategy.params import param
from engine.strategy.registry import register
from engine.strategy.schedule import Schedule
from strategies import steps
from strategies.steps import emit, listed_equal


@dataclass(frozen=True)
class Params:
    """Hold `hold` (tickers and/or baskets) equally weighted, `weight` of equity in all
    (2 = twice the equity, borrowed; -1 = short). Weights are set on the first day and
    again whenever a member starts or stops trading; `rebalance_days` > 0 also resets them
    on that schedule."""

    hold: str = param("SPY", "tickers and/or baskets, comma-separated")
    rebalance_days: int = param(0, "trading days between rebalances (0: never)")
    weight: float = param(1.0, "total exposure over the held names (2 = 2x, -1 = short)")

    def __post_init__(self):
        if self.rebalance_days < 0:
            raise ValueError("rebalance_days must be >= 0")
        if not (math.isfinite(self.weight) and self.weight != 0):
            raise ValueError("weight must be a finite number other than 0")


def tickers(p: Params) -> list[str]:
    return resolve(p.hold)


@register("buy_and_hold", Params, tickers, many=True, universes=("hold",))
def schedule(prices: Prices, sets: list[Params]) -> Schedule:
    """Buy and hold a ticker or an equal-weight basket (SPY, QQQ, SMH, ai, ...)."""
    return steps.by_group(prices, sets, ("hold",), _group)


def _group(prices: Prices, sets: list[Params]) -> Schedule:
    names = resolve(sets[0].hold)
    close = steps.closes(prices, names)
    listed = ~np.isnan(close)
    changed = (listed != np.vstack([np.zeros((1, len(names)), bool), listed[:-1]])).any(axis=1)
    args = (close, changed, steps.column(sets, "rebalance_days", np.int64), steps.column(sets, "weight"))

    def fill(lo, bar, col, weight, write):
        return _hold(steps.threads(len(sets)), *args, lo, bar, col, weight, write)

    return steps.counted(prices, names, len(sets), fill)


@nb.njit(cache=True, nogil=True)
def _hold_one(close, changed, every, total, pos, bar, col, weight, write):
    """Orders of one set: on each row where the listed members change, and every `every`
    rows after the first such row, `total` / n on each of the n listed members."""
    n, m = close.shape
    due = -1  # the next row due for the every-`every` rebalance
    members = np.arange(m)
    w = np.empty(m)
    for i in range(n - 1):
        if changed[i] and due < 0:
            due = i
        scheduled = i == due
        if scheduled and every > 0:
            due += every
        if not (changed[i] or scheduled):
            continue
        if not write:  # counting: every name gets an order on a rebalance row
            pos += m
            continue
        listed_equal(close[i], members, w)
        for j in range(m):
            pos = emit(bar, col, weight, pos, write, i + 1, j, total * w[j])
    return pos


@nb.njit(cache=True, nogil=True, parallel=True)
def _hold(n_threads, close, changed, every, total, lo, bar, col, weight, write):
    counts = np.empty(every.size, np.int64)
    for b in nb.prange(n_threads):
        for k in range(b, every.size, n_threads):
            counts[k] = _hold_one(close, changed, every[k], total[k], lo[k], bar, col, weight, write) - lo[k]
    return counts
