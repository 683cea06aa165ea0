"""Thesis 1: the one-day AI-infrastructure crash was an over-reaction; buy the biggest
decliners of the shock day and hold them through the rebound."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from engine.data.panel import Prices
from engine.params import param
from engine.registry import register
from engine.shock import MAX_MARKET_DROP, MIN_DROP
from engine.universe import resolve
from strategies import steps


@dataclass(frozen=True)
class Params:
    """mode="basket": buy the `top_k` worst performers of a detected shock day at the next
    bar; hold them `hold_days` trading days, or less if a name recovers or hits its stop.
    mode="per_name": every name is its own signal: when its one-day return is <= -min_drop,
    buy it at the next bar with 1/N of equity (N = universe size) and sell it `hold_days`
    bars after the buy; a signal whose buy day falls while the name is held (its sell day
    included) is ignored. top_k, weighting, exits and earnings apply to "basket" only."""

    mode: Literal["basket", "per_name"] = param("basket", "one shock for the basket, or per-name signals")
    universe: str = param("ai", "basket(s) or tickers to pick from")
    market: str = param("SPY", "market the shock is measured against")
    min_drop: float = param(MIN_DROP, "oversold: basket (or name) falls at least this (fraction)")
    max_market_drop: float = param(MAX_MARKET_DROP, "...while the market falls less than this")
    event_date: dt.date | None = param(None, "use this shock date instead of detecting")
    top_k: int = param(8, "number of names bought")
    weighting: Literal["equal", "inverse_vol"] = param("equal", "how picks are weighted")
    vol_lookback: int = param(60, "days of returns for inverse_vol")
    hold_days: int = param(20, "trading days held after the shock day (thesis: recovery within weeks)")
    exit_on_recovery: bool = param(False, "sell a name once it regains its pre-shock close")
    stop_loss: float | None = param(None, "sell a name falling this far below its shock-day close")
    earnings_within: int | None = param(None, "prefer names reporting within N calendar days")

    def __post_init__(self):
        if self.top_k < 1:
            raise ValueError("top_k must be at least 1")
        if self.hold_days < 1:
            raise ValueError("hold_days must be at least 1")
        if not 0 < self.min_drop < 1:
            raise ValueError("min_drop must be a fraction between 0 and 1")
        if self.stop_loss is not None and not 0 < self.stop_loss < 1:
            raise ValueError("stop_loss must be a fraction between 0 and 1")
        if self.vol_lookback < 2:
            raise ValueError("vol_lookback must be at least 2")


def tickers(p: Params) -> list[str]:
    return [*resolve(p.universe), p.market]


@register("oversold_rebound", Params, tickers)
def weights(prices: Prices, p: Params) -> pd.DataFrame:
    """Buy the biggest decliners of an AI-specific shock day; hold, or exit on recovery/stop."""
    return _per_name(prices, p) if p.mode == "per_name" else _basket(prices, p)


def _per_name(prices: Prices, p: Params) -> pd.DataFrame:
    names = resolve(p.universe)
    returns = prices.close[names].pct_change(fill_method=None).to_numpy()
    n = len(returns)
    out = np.full(returns.shape, np.nan)
    slot = 1.0 / len(names)
    for j in range(len(names)):
        held_until = -1  # the bar on which the current holding is sold
        for t in np.flatnonzero(returns[:, j] <= -p.min_drop):
            if t + 1 >= n or t + 1 <= held_until:
                continue  # no bar left to buy on, or still held
            out[t, j] = slot
            if t + p.hold_days < n:
                out[t + p.hold_days, j] = 0.0
            held_until = t + 1 + p.hold_days
    return pd.DataFrame(out, index=prices.index, columns=pd.Index(names, name="ticker"))


def _basket(prices: Prices, p: Params) -> pd.DataFrame:
    names = resolve(p.universe)
    close = prices.close
    index = close.index
    returns = close[names].pct_change(fill_method=None)
    out = steps.blank(index, names)
    busy_until = -1
    for day in steps.event_dates(prices, names, p.market, p.min_drop, p.max_market_drop, p.event_date):
        i = index.get_loc(day)
        if i <= busy_until or i == 0:
            continue  # still holding the previous rebound
        prefer = (
            steps.reporting_within(prices.earnings, day, p.earnings_within) if p.earnings_within else set()
        )
        picks = steps.select_decliners(returns.iloc[i], p.top_k, prefer)
        w = (
            steps.weigh_inverse_vol(close, picks, day, p.vol_lookback)
            if p.weighting == "inverse_vol"
            else steps.weigh_equal(picks)
        )
        out.iloc[i] = 0.0
        out.loc[day, picks] = w
        last = min(i + p.hold_days, len(index) - 1)
        held = set(picks)
        for j in range(i + 1, last):
            row = close.iloc[j]
            done = {
                t
                for t in held
                if (p.exit_on_recovery and row[t] >= close.iloc[i - 1][t])
                or (p.stop_loss is not None and row[t] <= close.iloc[i][t] * (1 - p.stop_loss))
            }
            if done:
                out.iloc[j, [names.index(t) for t in done]] = 0.0
                held -= done
        out.iloc[last] = out.iloc[last].where(~out.columns.isin(picks), 0.0)
        busy_until = last
    return out
