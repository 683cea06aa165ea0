"""Baseline: buy and hold a ticker or an equal-weight basket."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from engine.data.panel import Prices
from engine.params import param
from engine.registry import register
from engine.universe import resolve
from strategies import steps


@dataclass(frozen=True)
class Params:
    """Hold `hold` (tickers and/or baskets) equally weighted. Weights are set on the first
    day and again whenever a member starts trading; `rebalance_days` > 0 also resets them
    to equal on that schedule."""

    hold: str = param("SPY", "tickers and/or baskets, comma-separated")
    rebalance_days: int = param(0, "trading days between rebalances (0: never)")

    def __post_init__(self):
        if self.rebalance_days < 0:
            raise ValueError("rebalance_days must be >= 0")


def tickers(p: Params) -> list[str]:
    return resolve(p.hold)


@register("buy_and_hold", Params, tickers)
def weights(prices: Prices, p: Params) -> pd.DataFrame:
    """Buy and hold a ticker or an equal-weight basket (SPY, QQQ, SMH, ai, ...)."""
    names = resolve(p.hold)
    close = prices.close[names]
    listed = close.notna()
    changes = listed.ne(listed.shift(fill_value=False)).any(axis=1).to_numpy().nonzero()[0]
    days = set(changes.tolist())
    if p.rebalance_days and len(changes):
        days |= set(steps.every(close.index, int(changes[0]), p.rebalance_days))
    out = steps.blank(close.index, names)
    for i in sorted(days):
        out.iloc[i] = steps.equal_weight_listed(close, names, close.index[i])
    return out
