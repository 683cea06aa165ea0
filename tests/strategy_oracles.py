"""The pandas implementations the built-in strategies had before they became array code,
kept as test oracles: the array versions (strategies/) must give the same weights for every
parameter set (tests/test_strategy_oracles.py). Written one parameter set at a time, row by
row, for readability; nothing in the package imports this."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.data.universe import resolve
from strategies.steps import blank, event_dates, select_decliners, weigh_equal


def reporting_within(earnings, asof, days):
    window = (earnings["date"] > asof) & (earnings["date"] <= asof + pd.Timedelta(days=days))
    return set(earnings.loc[window, "ticker"])


def weigh_inverse_vol(close, names, asof, lookback):
    rets = close.loc[:asof, names].pct_change(fill_method=None).iloc[-lookback:]
    vol = rets.std(ddof=1)
    vol = vol.where(vol > 0).fillna(vol[vol > 0].median())
    if vol.isna().all():
        return weigh_equal(names)
    inv = 1.0 / vol
    return inv / inv.sum()


def equal_weight_listed(close, names, asof):
    listed = [t for t in names if pd.notna(close.at[asof, t])]
    return weigh_equal(listed).reindex(names, fill_value=0.0)


def every(index, first, step):
    return [first] if step <= 0 else list(range(first, len(index), step))


def oversold_rebound(prices, p):
    return _per_name(prices, p) if p.mode == "per_name" else _basket(prices, p)


def _per_name(prices, p):
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


def _basket(prices, p):
    names = resolve(p.universe)
    close = prices.close
    index = close.index
    returns = close[names].pct_change(fill_method=None)
    out = blank(index, names)
    busy_until = -1
    for day in event_dates(prices, names, p.market, p.min_drop, p.max_market_drop, p.event_date):
        i = index.get_loc(day)
        if i <= busy_until or i == 0:
            continue  # still holding the previous rebound
        prefer = reporting_within(prices.earnings, day, p.earnings_within) if p.earnings_within else set()
        picks = select_decliners(returns.iloc[i], p.top_k, prefer)
        w = (
            weigh_inverse_vol(close, picks, day, p.vol_lookback)
            if p.weighting == "inverse_vol"
            else weigh_equal(picks)
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


def _basket_return(close: pd.DataFrame, names: list[str], i: int, lookback: int) -> float:
    start = max(i - lookback, 0)
    return float((close[names].iloc[i] / close[names].iloc[start] - 1).mean())


def inference_rotation(prices, p):
    """Rotate a fraction of a training/power portfolio into inference/ASIC names at the shock."""
    base, into = resolve(p.base), resolve(p.into)
    names = list(dict.fromkeys([*base, *into]))
    close = prices.close
    index = close.index
    shocks = event_dates(prices, resolve(p.universe), p.market, p.min_drop, p.max_market_drop, p.event_date)
    rotate_at = index.get_loc(shocks[0]) if len(shocks) else len(index)
    listed = close[base].notna().any(axis=1).to_numpy()
    if not listed.any():
        return blank(index, names)
    first = int(listed.argmax())
    days = sorted(
        {
            *every(index, first, p.rebalance_days),
            *([rotate_at] if rotate_at < len(index) else []),
        }
    )
    out = blank(index, names)
    for i in days:
        frac = 0.0
        if i >= rotate_at:
            frac = p.fraction
            if p.relative_strength and i > rotate_at:
                lead = _basket_return(close, into, i, p.lookback) > _basket_return(close, base, i, p.lookback)
                frac = p.fraction if lead else p.floor
        day = index[i]
        w_base = equal_weight_listed(close, base, day).reindex(names, fill_value=0.0)
        w_into = equal_weight_listed(close, into, day).reindex(names, fill_value=0.0)
        if w_into.sum() == 0:
            frac = 0.0
        out.iloc[i] = (1 - frac) * w_base + frac * w_into
    return out


def buy_and_hold(prices, p):
    """Buy and hold a ticker or an equal-weight basket (SPY, QQQ, SMH, ai, ...)."""
    names = resolve(p.hold)
    close = prices.close[names]
    listed = close.notna()
    changes = listed.ne(listed.shift(fill_value=False)).any(axis=1).to_numpy().nonzero()[0]
    days = set(changes.tolist())
    if p.rebalance_days and len(changes):
        days |= set(every(close.index, int(changes[0]), p.rebalance_days))
    out = blank(close.index, names)
    for i in sorted(days):
        out.iloc[i] = equal_weight_listed(close, names, close.index[i])
    return out
