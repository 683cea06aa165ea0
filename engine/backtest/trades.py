"""Round trips: a run's orders matched into trades, and the trades summed up.

The matching rule (one rule, for every run):
- Orders are matched per run and per ticker, first in, first out (FIFO): an order that
  reduces a position closes its oldest open lots first.
- A short is a trade like a long: a sale from no position (or beyond a long one) opens a short
  lot, and a later buy closes it.
- A partial close splits the trade: closing q of a lot of Q shares makes a closed trade of q
  shares, and the remaining Q - q shares stay one open lot with the lot's entry date and price.
  Fees are split in proportion to shares: a trade carries q / Q of its lot's entry fees and
  q / n of the closing order's fees (an order of n shares).
- An order that takes a position through zero (long to short, or back) closes every lot and
  opens a lot of the rest in the other direction.
- A trade still open after the last bar is marked open: its exit is the last day at that
  day's close (the last close of the ticker), with no exit fees.

Each trade:
    pnl     = side x shares x (exit price - entry price) - entry fees - exit fees   (currency)
    return  = pnl / (shares x entry price)     (fraction of the trade's entry value, fees
              excluded from it, as vectorbt's trade records)
    bars    = exit bar - entry bar (execution bars, as vectorbt's duration)
    mae/mfe = the maximum adverse and favourable excursion: the lowest and the highest of
              side x (p / entry price - 1) over the prices p the trade was marked at while
              open (the closes of the bars from its entry bar to the bar before its exit, and
              its exit price), bounded by 0 (fractions; mae <= 0 <= mfe).
Prices are fill prices after slippage (the orders'). P&L summed over all trades, closed and
open, equals the run's final equity less its initial cash less its net interest (a run not
wiped out; tested). A position is the trades of one ticker from flat to flat (`position`
numbers them per run and ticker from 0), as vectorbt's position records: their shares-weighted entry and exit
prices and summed P&L equal vectorbt's on every long-only run it can express (tested).
"""

from __future__ import annotations

import numba as nb
import numpy as np
import pandas as pd

COLUMNS = (
    "run",
    "ticker",
    "role",
    "side",
    "status",
    "entry_date",
    "exit_date",
    "entry_price",
    "exit_price",
    "shares",
    "entry_fees",
    "exit_fees",
    "pnl",
    "return",
    "bars",
    "mae",
    "mfe",
    "position",
)
REST = 1e-9  # a lot with at most this share of its shares left is closed (float residue)


@nb.njit(cache=True)
def _match(run, col, bar, qty, price, fee, n_cols):
    """FIFO matching of orders sorted by (run, col), in execution order within each; qty is
    signed (+ buy, - sell). Returns the trades as arrays: order index of entry and exit (exit
    -1 while open), entry bar, exit bar (-1 open), side (+1 long, -1 short), shares, entry
    price, exit price (NaN open), entry fees, exit fees, position number."""
    n = len(run)
    cap = 2 * n + 1
    t_run = np.empty(cap, np.int64)
    t_col = np.empty(cap, np.int64)
    t_ebar = np.empty(cap, np.int64)
    t_xbar = np.empty(cap, np.int64)
    t_side = np.empty(cap, np.int64)
    t_sh = np.empty(cap)
    t_ep = np.empty(cap)
    t_xp = np.empty(cap)
    t_ef = np.empty(cap)
    t_xf = np.empty(cap)
    t_pos = np.empty(cap, np.int64)
    lot_sh = np.empty(n)  # the open lots of the current (run, ticker), a FIFO queue
    lot_full = np.empty(n)
    lot_px = np.empty(n)
    lot_fps = np.empty(n)  # entry fees per share
    lot_bar = np.empty(n, np.int64)
    k = 0
    i = 0
    while i < n:
        r, c = run[i], col[i]
        head = 0
        tail = 0
        side = 0
        pos_id = -1
        while i < n and run[i] == r and col[i] == c:
            q, px, f = qty[i], price[i], fee[i]
            size = abs(q)
            sign = 1 if q > 0 else -1
            left = size
            if side != 0 and sign != side:  # reduces (or reverses) the position: FIFO
                while left > 0.0 and head < tail:
                    take = min(left, lot_sh[head])
                    t_run[k] = r
                    t_col[k] = c
                    t_ebar[k] = lot_bar[head]
                    t_xbar[k] = bar[i]
                    t_side[k] = side
                    t_sh[k] = take
                    t_ep[k] = lot_px[head]
                    t_xp[k] = px
                    t_ef[k] = lot_fps[head] * take
                    t_xf[k] = f * take / size
                    t_pos[k] = pos_id
                    k += 1
                    left -= take
                    lot_sh[head] -= take
                    if lot_sh[head] <= REST * lot_full[head]:
                        head += 1
                if left <= REST * size:
                    left = 0.0
                if head == tail:
                    side = 0
            if left > 0.0:  # opens or adds to a position
                if side == 0:
                    side = sign
                    pos_id += 1
                    head = 0
                    tail = 0
                lot_sh[tail] = left
                lot_full[tail] = left
                lot_px[tail] = px
                lot_fps[tail] = f / size
                lot_bar[tail] = bar[i]
                tail += 1
            i += 1
        for h in range(head, tail):  # still open after the last order
            t_run[k] = r
            t_col[k] = c
            t_ebar[k] = lot_bar[h]
            t_xbar[k] = -1
            t_side[k] = side
            t_sh[k] = lot_sh[h]
            t_ep[k] = lot_px[h]
            t_xp[k] = np.nan
            t_ef[k] = lot_fps[h] * lot_sh[h]
            t_xf[k] = 0.0
            t_pos[k] = pos_id
            k += 1
    return (
        t_run[:k],
        t_col[:k],
        t_ebar[:k],
        t_xbar[:k],
        t_side[:k],
        t_sh[:k],
        t_ep[:k],
        t_xp[:k],
        t_ef[:k],
        t_xf[:k],
        t_pos[:k],
    )


@nb.njit(cache=True)
def _excursions(col, ebar, xbar, side, entry, exit_px, close):
    """mae, mfe of each trade (see the module docstring); xbar is the exit bar (the last bar
    + 1 for an open trade, whose exit price is then its last close)."""
    n = len(col)
    mae = np.zeros(n)
    mfe = np.zeros(n)
    for t in range(n):
        lo = 0.0
        hi = 0.0
        for d in range(ebar[t], xbar[t]):
            p = close[d, col[t]]
            if p == p:
                x = side[t] * (p / entry[t] - 1.0)
                lo = min(lo, x)
                hi = max(hi, x)
        x = side[t] * (exit_px[t] / entry[t] - 1.0)
        mae[t] = min(lo, x)
        mfe[t] = max(hi, x)
    return mae, mfe


def round_trips(
    orders: pd.DataFrame,
    close: pd.DataFrame,
    runs: pd.Index,
    roles: dict[str, str] | None = None,
) -> pd.DataFrame:
    """The trades of `orders` (engine.backtest.result.Result.orders: run position, date,
    ticker, side, shares, price, fees, in execution order) under the module's rule.

    close: the simulated days x tickers closes (forward-filled: a ticker at its last close),
    for the excursions and the open trades' marks. runs: the run labels (the Result's equity
    columns), by position. roles: {ticker: AI role} (engine.data.universe.role_of; tickers
    outside every role are "other"). Returns one row per trade, columns COLUMNS, sorted by
    run, entry date and ticker; `run` holds the run's label."""
    if orders.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    tickers = list(close.columns)
    col = pd.Index(tickers).get_indexer(orders["ticker"])
    bar = close.index.get_indexer(orders["date"])
    if (col < 0).any() or (bar < 0).any():
        raise ValueError("orders name a ticker or a date outside `close`")
    run = orders["run"].to_numpy(np.int64)
    qty = np.where(orders["side"].to_numpy() == "buy", 1.0, -1.0) * orders["shares"].to_numpy(float)
    order = np.lexsort((np.arange(len(orders)), col, run))  # stable: execution order kept
    t = _match(
        run[order],
        col[order].astype(np.int64),
        bar[order].astype(np.int64),
        qty[order],
        orders["price"].to_numpy(float)[order],
        orders["fees"].to_numpy(float)[order],
        len(tickers),
    )
    t_run, t_col, ebar, xbar, side, shares, entry, exit_px, efee, xfee, pos = t
    marks = close.ffill().to_numpy(float)
    is_open = xbar < 0
    last = len(close) - 1
    xbar_mark = np.where(is_open, last + 1, xbar)
    exit_px = np.where(is_open, marks[last, t_col], exit_px)
    mae, mfe = _excursions(t_col, ebar, xbar_mark, side.astype(float), entry, exit_px, marks)
    pnl = side * shares * (exit_px - entry) - efee - xfee
    roles = roles or {}
    names = np.asarray(tickers, dtype=object)[t_col]
    frame = pd.DataFrame(
        {
            "run": np.asarray(runs, dtype=object)[t_run] if len(runs) else t_run,
            "ticker": names,
            "role": [roles.get(n, "other") for n in names],
            "side": np.where(side > 0, "long", "short"),
            "status": np.where(is_open, "open", "closed"),
            "entry_date": close.index[ebar],
            "exit_date": close.index[np.where(is_open, last, xbar)],
            "entry_price": entry,
            "exit_price": exit_px,
            "shares": shares,
            "entry_fees": efee,
            "exit_fees": xfee,
            "pnl": pnl,
            "return": pnl / (shares * entry),
            "bars": np.where(is_open, last, xbar) - ebar,
            "mae": mae,
            "mfe": mfe,
            "position": pos,
            "_run": t_run,
        }
    )
    return (
        frame.sort_values(["_run", "entry_date", "ticker"], kind="stable")
        .drop(columns="_run")
        .reset_index(drop=True)
    )


SUMMARY_UNITS = {
    "trades": "closed trades",
    "open": "trades still open",
    "win_rate": "fraction of closed trades with pnl > 0",
    "profit_factor": "gross profit / gross loss of closed trades (inf: no loss)",
    "avg_win": "currency, mean pnl of winning closed trades",
    "avg_loss": "currency, mean pnl of losing closed trades (negative)",
    "expectancy": "currency, mean pnl per closed trade",
    "median_bars": "bars, median holding of closed trades",
    "longest_bars": "bars, longest holding of closed trades",
    "best": "fraction, best closed trade's return",
    "worst": "fraction, worst closed trade's return",
}


def summary(trades: pd.DataFrame, by: str | list[str] | None = None) -> pd.DataFrame:
    """The trade summary (SUMMARY_UNITS) of `trades` (round_trips' frame) over its closed
    trades, one row per group of `by` (e.g. "run" or ["run", "role"]), or one row "all".
    A group without a closed trade has NaN figures and 0 trades."""

    def one(t: pd.DataFrame) -> pd.Series:
        done = t[t["status"] == "closed"]
        pnl = done["pnl"].to_numpy(float)
        wins, losses = pnl[pnl > 0], pnl[pnl < 0]
        gross_loss = -losses.sum()
        n = len(pnl)
        return pd.Series(
            {
                "trades": n,
                "open": int((t["status"] == "open").sum()),
                "win_rate": len(wins) / n if n else np.nan,
                "profit_factor": (wins.sum() / gross_loss if gross_loss > 0 else np.inf) if n else np.nan,
                "avg_win": wins.mean() if len(wins) else np.nan,
                "avg_loss": losses.mean() if len(losses) else np.nan,
                "expectancy": pnl.mean() if n else np.nan,
                "median_bars": float(np.median(done["bars"])) if n else np.nan,
                "longest_bars": float(done["bars"].max()) if n else np.nan,
                "best": done["return"].max() if n else np.nan,
                "worst": done["return"].min() if n else np.nan,
            }
        )

    if by is None:
        return one(trades).to_frame("all").T
    rows = {key: one(group) for key, group in trades.groupby(by, sort=False, dropna=False)}
    out = pd.DataFrame(rows).T
    out.index.names = [by] if isinstance(by, str) else by
    return out.astype({"trades": int, "open": int})


def by_role(trades: pd.DataFrame) -> pd.DataFrame:
    """`summary` over all the trades (row "all"), then per AI role (one row each)."""
    roles = summary(trades, "role") if len(trades) else summary(trades).iloc[:0]
    return pd.concat([summary(trades), roles])
