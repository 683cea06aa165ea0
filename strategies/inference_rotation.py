"""Thesis 2: test-time compute moves AI demand from training to inference; rotate part of a
training-and-power portfolio into inference/custom-ASIC names when the shock hits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from engine.data.panel import Prices
from engine.params import param
from engine.registry import register
from engine.shock import MAX_MARKET_DROP, MIN_DROP
from engine.universe import resolve
from strategies import steps


@dataclass(frozen=True)
class Params:
    """Hold `base` equally weighted; from the shock day on, move `fraction` of the portfolio
    into `into` (equal weight), rebalancing every `rebalance_days`. With relative_strength,
    each rebalance after the shock keeps the rotation only while `into` beat `base` over the
    last `lookback` days (else the fraction falls back to `floor`)."""

    base: str = param("training,power", "basket(s) held before the rotation")
    into: str = param("inference", "basket(s) rotated into")
    universe: str = param("ai", "basket whose shock triggers the rotation")
    market: str = param("SPY", "market the shock is measured against")
    min_drop: float = param(MIN_DROP, "shock: basket falls at least this (fraction)")
    max_market_drop: float = param(MAX_MARKET_DROP, "...while the market falls less than this")
    event_date: dt.date | None = param(None, "rotate on this date instead of detecting")
    fraction: float = param(0.5, "fraction of equity rotated into `into`")
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


def _basket_return(close: pd.DataFrame, names: list[str], i: int, lookback: int) -> float:
    start = max(i - lookback, 0)
    return float((close[names].iloc[i] / close[names].iloc[start] - 1).mean())


@register("inference_rotation", Params, tickers)
def weights(prices: Prices, p: Params) -> pd.DataFrame:
    """Rotate a fraction of a training/power portfolio into inference/ASIC names at the shock."""
    base, into = resolve(p.base), resolve(p.into)
    names = list(dict.fromkeys([*base, *into]))
    close = prices.close
    index = close.index
    shocks = steps.event_dates(
        prices, resolve(p.universe), p.market, p.min_drop, p.max_market_drop, p.event_date
    )
    rotate_at = index.get_loc(shocks[0]) if len(shocks) else len(index)
    listed = close[base].notna().any(axis=1).to_numpy()
    if not listed.any():
        return steps.blank(index, names)
    first = int(listed.argmax())
    days = sorted(
        {
            *steps.every(index, first, p.rebalance_days),
            *([rotate_at] if rotate_at < len(index) else []),
        }
    )
    out = steps.blank(index, names)
    for i in days:
        frac = 0.0
        if i >= rotate_at:
            frac = p.fraction
            if p.relative_strength and i > rotate_at:
                lead = _basket_return(close, into, i, p.lookback) > _basket_return(close, base, i, p.lookback)
                frac = p.fraction if lead else p.floor
        day = index[i]
        w_base = steps.equal_weight_listed(close, base, day).reindex(names, fill_value=0.0)
        w_into = steps.equal_weight_listed(close, into, day).reindex(names, fill_value=0.0)
        if w_into.sum() == 0:
            frac = 0.0
        out.iloc[i] = (1 - frac) * w_base + frac * w_into
    return out
