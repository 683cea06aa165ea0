"""Thesis 2 as a relative trade: from the shock on, long inference/custom-ASIC names and
short training compute and power, dollar- or beta-neutral."""

from __future__ import annotations

import warnings
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
from strategies.steps import listed_equal, shock_params


@dataclass(frozen=True)
@shock_params(
    after="short",
    market="market for the shock test and the betas",
    event_date="open the trade on this date instead of detecting",
)
class Params:
    """From the shock (detected on `universe`, or `event_date`: steps.SHOCK) to the end: long `long`
    and short `short`, each equally weighted over its names with a price, rebalanced every
    `rebalance_days`. hedge="dollar": each leg is `leg` of equity. hedge="beta": the legs are
    sized so the portfolio's market beta is zero: each leg's beta is the OLS slope of its
    equal-weight daily return on the market's over the last `lookback` days, the leg with
    the larger beta exposure is `leg` and the other is scaled to match (dollar-neutral when
    a beta is not positive or fewer than `lookback` / 2 days are available)."""

    long: str = param("inference", "basket(s) held long")
    short: str = param("training,power", "basket(s) sold short")
    leg: float = param(0.5, "fraction of equity per leg (gross exposure up to 2 x leg)")
    hedge: Literal["dollar", "beta"] = param("dollar", "dollar-neutral or beta-neutral legs")
    lookback: int = param(63, "trading days of returns for the betas")
    rebalance_days: int = param(21, "trading days between rebalances (0: never)")

    def __post_init__(self):
        if not 0 < self.leg <= 5:
            raise ValueError("leg must be a fraction of equity above 0 and at most 5")
        if self.lookback < 2 or self.rebalance_days < 0:
            raise ValueError("lookback must be >= 2 and rebalance_days >= 0")
        if set(resolve(self.long)) & set(resolve(self.short)):
            raise ValueError("the long and short baskets share names; make them disjoint")


def tickers(p: Params) -> list[str]:
    return list(dict.fromkeys([*resolve(p.long), *resolve(p.short), *resolve(p.universe), p.market]))


@register(
    "inference_pair",
    Params,
    tickers,
    many=True,
    universes=("long", "short", "universe"),
    event=EventParams("universe", "event_date", market="market"),
    # no attribution benchmark: a dollar- or beta-neutral long/short has no long-only basket to
    # be active against (against the AI basket its "active return" was -81.9%, mostly the
    # basket's own rise); its return splits by role (attribution.contributions) instead
)
def schedule(prices: Prices, sets: list[Params]) -> Schedule:
    """Long inference/ASIC, short training+power from the shock on, dollar- or beta-neutral."""
    return steps.by_group(prices, sets, ("long", "short", "universe", "market"), _group)


def _group(prices: Prices, sets: list[Params]) -> Schedule:
    p0 = sets[0]
    long, short = resolve(p0.long), resolve(p0.short)
    names = [*long, *short]
    close = steps.closes(prices, names)
    market = steps.close_returns(prices, [p0.market])[:, 0]
    rets = steps.close_returns(prices, names)
    data = (
        close,
        _sums(rets[:, : len(long)], market),
        _sums(rets[:, len(long) :], market),
        steps.positions(names, long),
        steps.positions(names, short),
        steps.shocks(prices, resolve(p0.universe), p0.market, sets),
        steps.column(sets, "leg"),
        np.array([p.hedge == "beta" for p in sets]),
        steps.column(sets, "lookback", np.int64),
        steps.column(sets, "rebalance_days", np.int64),
    )

    return steps.per_set(prices, names, sets, _pair, *data)


def _sums(rets: np.ndarray, market: np.ndarray) -> np.ndarray:
    """Running sums for a leg's betas: row t + 1 holds, over rows 1..t with both returns,
    the count and the sums of x, y, x * x and x * y, where y is the leg's equal-weight daily
    return (over its names with a return) and x the market's."""
    with warnings.catch_warnings():  # a row where no name has a return is NaN, as meant
        warnings.simplefilter("ignore", RuntimeWarning)
        y = np.nanmean(rets, axis=1)
    ok = ~np.isnan(y) & ~np.isnan(market)
    ok[0] = False
    x, y = np.where(ok, market, 0.0), np.where(ok, y, 0.0)
    parts = np.stack([ok.astype(np.float64), x, y, x * x, x * y], axis=1)
    return np.vstack([np.zeros((1, 5)), np.cumsum(parts, axis=0)])


@nb.njit(cache=True, nogil=True)
def _leg_beta(sums, i, lookback):
    """OLS slope of the leg's equal-weight daily return on the market's over rows
    i - lookback + 1 .. i (from the running sums of `_sums`); NaN with fewer than
    max(lookback // 2, 2) days or no market variance."""
    a = max(i - lookback + 1, 1)
    c = sums[i + 1, 0] - sums[a, 0]
    sx = sums[i + 1, 1] - sums[a, 1]
    sy = sums[i + 1, 2] - sums[a, 2]
    sxx = sums[i + 1, 3] - sums[a, 3]
    sxy = sums[i + 1, 4] - sums[a, 4]
    if c < max(lookback // 2, 2):
        return np.nan
    var = sxx - sx * sx / c
    return (sxy - sx * sy / c) / var if var > 1e-18 else np.nan


@nb.njit(cache=True, nogil=True)
def _pair(k, close, sums_long, sums_short, long, short, hits, leg, beta, lookback, every, out):
    """Orders of set k: from its first shock row on, every `every[k]` rows (once if 0), each
    leg equally weighted over its listed names and sized by `leg[k]` (and the betas)."""
    n, m = close.shape
    start = -1
    for t in range(n):
        if hits[k, t]:
            start = t
            break
    if start < 0:
        return
    w_long = np.empty(long.size)
    w_short = np.empty(short.size)
    row = np.empty(m)
    i = start  # rebalance rows: start, then every `every` rows
    while i < n - 1:
        size_long = leg[k]
        size_short = leg[k]
        if beta[k]:
            b_long = _leg_beta(sums_long, i, lookback[k])
            b_short = _leg_beta(sums_short, i, lookback[k])
            if b_long > 0 and b_short > 0:
                if b_long > b_short:
                    size_long = leg[k] * b_short / b_long
                else:
                    size_short = leg[k] * b_long / b_short
        n_long = listed_equal(close[i], long, w_long)
        n_short = listed_equal(close[i], short, w_short)
        row[:] = 0.0
        if n_long > 0 and n_short > 0:
            for a in range(long.size):
                row[long[a]] = size_long * w_long[a]
            for a in range(short.size):
                row[short[a]] = -size_short * w_short[a]
        for j in range(m):
            order(out, i, j, row[j])
        i = i + every[k] if every[k] > 0 else n
