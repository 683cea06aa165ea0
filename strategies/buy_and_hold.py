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
from engine.strategy.schedule import Schedule, order
from strategies import steps
from strategies.steps import listed_equal


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
    every, total = steps.column(sets, "rebalance_days", np.int64), steps.column(sets, "weight")
    return steps.per_set(prices, names, sets, _hold, close, changed, every, total)


@nb.njit(cache=True, nogil=True)
def _hold(k, close, changed, every, total, out):
    """Orders of set k: on each row where the listed members change, and every `every[k]`
    rows after the first such row, `total[k]` / n on each of the n listed members."""
    n, m = close.shape
    due = -1  # the next row due for the every-`every` rebalance
    members = np.arange(m)
    w = np.empty(m)
    for i in range(n - 1):
        if changed[i] and due < 0:
            due = i
        scheduled = i == due
        if scheduled and every[k] > 0:
            due += every[k]
        if not (changed[i] or scheduled):
            continue
        listed_equal(close[i], members, w)
        for j in range(m):
            order(out, i, j, total[k] * w[j])
