"""Thesis 1: the one-day AI-infrastructure crash was an over-reaction; buy the biggest
decliners of the shock day and hold them through the rebound."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numba as nb
import numpy as np

from engine.data.panel import Prices
from engine.data.universe import resolve
from engine.strategy.params import param
from engine.strategy.registry import EventParams, register
from engine.strategy.schedule import Schedule, order
from strategies import steps
from strategies.steps import shock_params


@dataclass(frozen=True)
@shock_params(
    after="mode",
    universe="basket(s) or tickers to pick from",
    min_drop="oversold: basket (or name) falls at least this (fraction)",
)
class Params:
    """mode="basket": buy the `top_k` worst performers (a count, or a share of the names with
    a return that day) of a detected shock day (steps.SHOCK)
    at the next bar; hold them `hold_days` trading days, or less if a name recovers or hits
    its stop. mode="per_name": every name is its own signal: when its one-day return is <= -min_drop,
    buy it at the next bar with 1/N of equity (N = universe size) and sell it `hold_days`
    bars after the buy; a signal whose buy day falls while the name is held (its sell day
    included) is ignored. top_k, weighting, exits and earnings apply to "basket" only."""

    mode: Literal["basket", "per_name"] = param("basket", "one shock for the basket, or per-name signals")
    top_k: int | float = param(
        8,
        "names bought: a count, or a share of the names with a return (below 1: floor(top_k x n), min 1)",
    )
    weighting: Literal["equal", "inverse_vol"] = param("equal", "how picks are weighted")
    vol_lookback: int = param(60, "days of returns for inverse_vol")
    hold_days: int = param(20, "trading days held after the shock day (thesis: recovery within weeks)")
    exit_on_recovery: bool = param(False, "sell a name once it regains its pre-shock close")
    stop_loss: float | None = param(None, "sell a name falling this far below its shock-day close")
    earnings_within: int | None = param(None, "prefer names reporting within N calendar days")

    def __post_init__(self):
        if not (0 < self.top_k < 1 or (self.top_k >= 1 and float(self.top_k).is_integer())):
            raise ValueError("top_k must be a whole number of names (>= 1) or a share between 0 and 1")
        if self.hold_days < 1:
            raise ValueError("hold_days must be at least 1")
        if self.stop_loss is not None and not 0 < self.stop_loss < 1:
            raise ValueError("stop_loss must be a fraction between 0 and 1")
        if self.vol_lookback < 2:
            raise ValueError("vol_lookback must be at least 2")
        if self.earnings_within is not None and self.earnings_within < 1:
            raise ValueError("earnings_within must be at least 1 calendar day")


def tickers(p: Params) -> list[str]:
    return [*resolve(p.universe), p.market]


@register(
    "oversold_rebound",
    Params,
    tickers,
    many=True,
    universes=("universe",),
    event=EventParams("universe", "event_date", hold="hold_days", market="market", threshold="min_drop"),
)
def schedule(prices: Prices, sets: list[Params]) -> Schedule:
    """Buy the biggest decliners of an AI-specific shock day; hold, or exit on recovery/stop."""
    return steps.by_group(prices, sets, ("mode", "universe", "market"), _group)


def _group(prices: Prices, sets: list[Params]) -> Schedule:
    names = resolve(sets[0].universe)
    close = steps.closes(prices, names)
    rets = steps.close_returns(prices, names)
    hold = steps.column(sets, "hold_days", np.int64)
    if sets[0].mode == "per_name":
        min_drop = steps.column(sets, "min_drop")
        return steps.per_set(prices, names, sets, _per_name, rets, min_drop, hold, 1.0 / len(names))
    hits = steps.shocks(prices, names, sets[0].market, sets)
    e_lo, e_hi, e_days = steps.earnings_days(prices, names)
    data = (
        close,
        rets,
        hits,
        np.argsort(np.argsort(np.array(names))).astype(np.int64),  # rank of each name's symbol
        prices.index.to_numpy("datetime64[D]").astype(np.int64),
        e_lo,
        e_hi,
        e_days,
        steps.column(sets, "top_k"),
        np.array([p.weighting == "inverse_vol" for p in sets]),
        steps.column(sets, "vol_lookback", np.int64),
        hold,
        np.array([p.exit_on_recovery for p in sets]),
        steps.column(sets, "stop_loss"),
        steps.column(sets, "earnings_within", np.int64, -1),
    )
    return steps.per_set(prices, names, sets, _basket, *data)


# -- per_name ----------------------------------------------------------------------------


@nb.njit(cache=True, nogil=True)
def _per_name(k, rets, min_drop, hold, slot, out):
    """Orders of set k: a signal on row t (a return <= -min_drop[k]) buys `slot` on bar t + 1;
    the sale is decided on row t + hold[k]."""
    n, m = rets.shape
    held_until = np.full(m, -1)  # the bar on which the current holding is sold
    exit_row = np.full(m, -1)
    for t in range(n - 1):
        for j in range(m):
            if exit_row[j] == t:
                order(out, t, j, 0.0)
                exit_row[j] = -1
            elif rets[t, j] <= -min_drop[k] and t + 1 > held_until[j]:
                order(out, t, j, slot)
                held_until[j] = t + 1 + hold[k]
                exit_row[j] = t + hold[k]


# -- basket ------------------------------------------------------------------------------


@nb.njit(cache=True, nogil=True)
def _prefer(j, day, within, e_lo, e_hi, e_days):
    """True if name j reports earnings after `day` and at most `within` days later."""
    for e in range(e_lo[j], e_hi[j]):  # noqa: SIM110 (numba: a loop, not a generator)
        if day < e_days[e] <= day + within:
            return True
    return False


@nb.njit(cache=True, nogil=True)
def _inverse_vol(rets, picks, i, lookback, out):
    """Weights proportional to 1 / (sample std of the last `lookback` returns up to row i);
    a name without a positive std gets the median of the others' (equal weights if none)."""
    k = picks.size
    vol = np.full(k, np.nan)
    for a in range(k):
        j = picks[a]
        s = 0.0
        s2 = 0.0
        c = 0
        for t in range(max(i - lookback + 1, 0), i + 1):
            r = rets[t, j]
            if r == r:
                s += r
                c += 1
        if c >= 2:
            mean = s / c
            for t in range(max(i - lookback + 1, 0), i + 1):
                r = rets[t, j]
                if r == r:
                    s2 += (r - mean) ** 2
            v = np.sqrt(s2 / (c - 1))
            if v > 0:
                vol[a] = v
    good = vol[~np.isnan(vol)]
    if good.size == 0:
        out[:k] = 1.0 / k
        return
    med = np.median(good)
    total = 0.0
    for a in range(k):
        if np.isnan(vol[a]):
            vol[a] = med
        total += 1.0 / vol[a]
    for a in range(k):
        out[a] = 1.0 / vol[a] / total


@nb.njit(cache=True, nogil=True)
def _basket(k, close, rets, hits, rank, days, e_lo, e_hi, e_days, top_ks, inv_vols, lookbacks, holds,
            recoveries, stops, withins, out):  # fmt: skip
    """Orders of basket-mode set k. On each shock row i (not while the previous picks are
    held) the top_k decliners of row i are bought (names reporting earnings within `within`
    days first); a name is sold on the first row whose close regains row i - 1's (recovery)
    or falls to row i's x (1 - stop), else on row i + hold (or the last row)."""
    n, m = close.shape
    hit, top_k, inv_vol, lookback = hits[k], top_ks[k], inv_vols[k], lookbacks[k]
    hold, recovery, stop, within = holds[k], recoveries[k], stops[k], withins[k]
    prefer = np.zeros(m, dtype=np.bool_)
    idx = np.empty(m, dtype=np.int64)
    w = np.empty(m)
    chosen = np.zeros(m, dtype=np.bool_)
    held = np.zeros(m, dtype=np.bool_)
    busy_until = -1
    for i in range(1, n):
        if not hit[i] or i <= busy_until:
            continue
        c = 0
        for j in range(m):
            if rets[i, j] == rets[i, j]:
                prefer[j] = within > 0 and _prefer(j, days[i], within, e_lo, e_hi, e_days)
                idx[c] = j
                c += 1
        # order: preferred first, then by return, then by symbol
        for a in range(1, c):
            j = idx[a]
            b = a - 1
            while b >= 0 and _before(j, idx[b], prefer, rets[i], rank):
                idx[b + 1] = idx[b]
                b -= 1
            idx[b + 1] = j
        n_picks = min(int(top_k), c) if top_k >= 1 else max(1, int(top_k * c + 1e-9))
        picks = np.sort(idx[:n_picks])
        if inv_vol and n_picks > 0:
            _inverse_vol(rets, picks, i, lookback, w)
        else:
            w[:n_picks] = 1.0 / n_picks if n_picks > 0 else 0.0
        for j in range(m):
            chosen[j] = False
        for a in range(n_picks):
            chosen[picks[a]] = True
        if i + 1 < n:
            a = 0
            for j in range(m):
                if chosen[j]:
                    order(out, i, j, w[a])
                    a += 1
                else:
                    order(out, i, j, 0.0)
        last = min(i + hold, n - 1)
        for j in range(m):
            held[j] = chosen[j]
        for t in range(i + 1, last):
            for j in range(m):
                if held[j] and (
                    (recovery and close[t, j] >= close[i - 1, j])
                    or (stop == stop and close[t, j] <= close[i, j] * (1.0 - stop))
                ):
                    order(out, t, j, 0.0)
                    held[j] = False
        if last + 1 < n:
            for j in range(m):
                if chosen[j]:
                    order(out, last, j, 0.0)
        busy_until = last


@nb.njit(cache=True, nogil=True, inline="always")
def _before(a, b, prefer, ret, rank):
    """Name a ranks before name b: preferred first, then lower return, then symbol."""
    if prefer[a] != prefer[b]:
        return prefer[a]
    if ret[a] != ret[b]:
        return ret[a] < ret[b]
    return rank[a] < rank[b]
