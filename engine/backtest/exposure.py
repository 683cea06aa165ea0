"""A run's daily exposure by side and its turnover, from its holdings and orders.

Per run and day (fractions of that day's closing equity, except where said):
    long      sum of the long positions' market value (shares x close) / equity  (>= 0)
    short     sum of the short positions' market value / equity                  (<= 0)
    gross     long - short (sum of |positions|) / equity
    net       long + short
    names     the number of tickers held at the close (shares != 0)
    turnover  the value traded that day (orders' shares x fill price, fees excluded) /
              the previous close's equity (the initial cash on the first day): the capital
              the day's orders were sized on
A day whose equity is 0 (a wiped-out run, engine.sim.simulate rule 8) has 0 exposure. The
engine's `exposure` stat (engine.analytics.run_stats) is the mean of `gross` over the days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MEASURES = ("long", "short", "gross", "net", "names", "turnover")


def daily(
    holdings: pd.DataFrame, equity: pd.DataFrame, orders: pd.DataFrame, init_cash: float
) -> pd.DataFrame:
    """The MEASURES of every run: dates x (run labels..., measure). holdings: dates x (run
    labels..., ticker) market values (Result.holdings); shares: the same frame's share counts;
    equity: dates x runs; orders: Result.orders (run position, date, value)."""
    n_runs = equity.shape[1]
    runs = equity.columns
    run_of = runs.get_indexer(holdings.columns.droplevel(-1)) if n_runs else np.zeros(0, int)
    h = holdings.to_numpy(float)
    eq = equity.to_numpy(float)
    long = np.zeros_like(eq)
    short = np.zeros_like(eq)
    names = np.zeros_like(eq)
    for r in range(n_runs):
        cols = run_of == r
        hr = h[:, cols]
        long[:, r] = np.where(hr > 0, hr, 0.0).sum(axis=1)
        short[:, r] = np.where(hr < 0, hr, 0.0).sum(axis=1)
        names[:, r] = (hr != 0).sum(axis=1)
    traded = np.zeros_like(eq)
    if len(orders):
        day = equity.index.get_indexer(orders["date"])
        np.add.at(traded, (day, orders["run"].to_numpy(int)), orders["value"].to_numpy(float))
    prev = np.vstack([np.full((1, n_runs), init_cash), eq[:-1]])
    with np.errstate(invalid="ignore", divide="ignore"):
        live = eq > 0
        long_f = np.where(live, long / eq, 0.0)
        short_f = np.where(live, short / eq, 0.0)
        turnover = np.where(prev > 0, traded / prev, 0.0)
    parts = {
        "long": long_f,
        "short": short_f,
        "gross": long_f - short_f,
        "net": long_f + short_f,
        "names": names,
        "turnover": turnover,
    }
    labels = runs.to_frame(index=False)
    blocks = []
    for m in MEASURES:
        cols = labels.assign(measure=m)
        blocks.append(pd.DataFrame(parts[m], index=equity.index, columns=pd.MultiIndex.from_frame(cols)))
    out = pd.concat(blocks, axis=1)
    order = [(*((lab,) if not isinstance(lab, tuple) else lab), m) for lab in runs for m in MEASURES]
    return out.reindex(columns=pd.MultiIndex.from_tuples(order, names=out.columns.names))
