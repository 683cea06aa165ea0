"""A deliberately plain reference simulator for target-weight rebalancing.

Written from the rules in the docstring of engine/sim/simulate.py (rules 1-8), not from its code,
with plain floats, dicts and lists (pandas only converts the inputs and the output). It
exists so the compiled engine can be checked against something simple enough to read in one
sitting. Each day, in the docstring's order:

1-3. the day's orders are the latest decision per ticker executing on this bar (a decision
     dated d executes on the first bar after d; decisions executing before the first
     simulated bar are carried into it);
4.   interest on the previous close's cash and short positions, first thing in the day;
5.   orders: V = cash + sum(shares * mark) once (no order at all when V <= 0), each order
     the shares reaching w * V / price, run in ascending order of w * V - shares * price
     (ties in column order: vectorbt's call_seq="auto"), buys at price * (1 + slippage),
     sells at price * (1 - slippage), fees on the traded value; without leverage a buy is
     cut to the cash left;
6.   delisting: a holding in a ticker on its last bar (its data ending before the panel's
     last day) is closed in full at that bar's close, even a cover that takes cash below 0;
7.   valuation at the close (a ticker without a close at its last close);
8.   wipe-out: equity <= 0 at a close ends the run (equity 0 from then on, no orders).

After a wipe-out cash and shares are 0 ("its positions are written off").
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import pandas as pd

from engine.data.panel import Prices

MIN_ORDER = 1e-12  # rule 5: an order of at most this many shares is not placed


@dataclass
class ReferenceRun:
    equity: pd.Series
    cash: pd.Series
    shares: pd.DataFrame  # dates x tickers, after each day's orders and delistings
    orders: list[dict]  # one dict per filled order, in execution order (delistings included)
    wiped_out: bool


def daily_rate(annual: float, periods: int = 252) -> float:
    """d(r) of rule 4."""
    return (1.0 + annual) ** (1.0 / periods) - 1.0


def _floats(frame: pd.DataFrame, tickers: list[str]) -> list[dict[str, float]]:
    """The frame as a list (one per row) of {ticker: float or nan}."""
    frame = frame.reindex(columns=tickers)
    return [{t: float(v) for t, v in zip(tickers, row, strict=True)} for row in frame.itertuples(index=False)]


def _call_order(orders: dict[str, float], value: float, shares, price, tickers) -> list[str]:
    """The tickers of one bar's orders in the order vectorbt's call_seq="auto" runs them:
    ascending estimated order value w*V - shares*price, ties in column order."""
    position = {t: i for i, t in enumerate(tickers)}
    keyed = [(w * value - shares[t] * price[t], position[t], t) for t, w in orders.items()]
    return [t for _, _, t in sorted(keyed)]


def reference_run(
    prices: Prices,
    targets: pd.DataFrame,
    fees: float = 0.0,
    slippage: float = 0.0,
    init_cash: float = 100_000.0,
    start=None,
    fill: str = "open",
    max_gross: float = 1.0,
    cash_rate: float = 0.0,
    financing: float = 0.0,
    borrow_fee: float = 0.0,
    periods: int = 252,
) -> ReferenceRun:
    """Simulate one run: `targets` is dates x tickers (weights decided after each date's
    close; NaN = no order; negative = short), `prices` the panel. Trading starts at `start`
    (None: first bar). `fill` is "open" (the open where the bar has one, else the close) or
    "close". Above max_gross 1 buys are never cut (cash may go negative). The rates are
    annual fractions (rule 4)."""
    assert fill in ("open", "close")
    tickers = list(targets.columns)
    dates = list(prices.index)
    n = len(dates)
    close = _floats(prices.close, tickers)
    opens = _floats(prices.open if fill == "open" else prices.open * math.nan, tickers)
    decisions = _floats(targets.sort_index(), tickers)
    leverage = max_gross > 1.0
    d_cash, d_financing, d_borrow = (daily_rate(r, periods) for r in (cash_rate, financing, borrow_fee))

    # rule 6: a ticker whose data ends before the panel's last day is delisted on its last bar
    delisted_at = {}
    for t in tickers:
        bars = [i for i in range(n) if not math.isnan(close[i][t])]
        if bars and bars[-1] < n - 1:
            delisted_at[t] = bars[-1]

    first = 0
    if start is not None:
        first = bisect.bisect_left(dates, pd.Timestamp(start))

    # rule 1: a decision dated d is executed on the first bar after d (the next trading day,
    # also when d itself is not one); rule 3: every decision executed on or before the first
    # simulated bar is carried into it. Later decisions override earlier ones per ticker.
    orders_at: dict[int, dict[str, float]] = {}
    for day, row in zip(targets.sort_index().index, decisions, strict=True):
        bar = max(bisect.bisect_right(dates, day), first)
        for t, w in row.items():
            if not math.isnan(w):
                orders_at.setdefault(bar, {})[t] = w

    cash = float(init_cash)
    shares = dict.fromkeys(tickers, 0.0)
    last_close = dict.fromkeys(tickers, math.nan)
    wiped = False
    # rule 4: the balances interest is paid on (the previous close's; first day: initial cash)
    prev_cash, prev_short_value = cash, 0.0

    def interest() -> float:
        """Rule 4: a day's interest on the previous close's cash and short positions."""
        rate = d_cash if prev_cash >= 0 else d_financing
        return prev_cash * rate - prev_short_value * d_borrow

    out_dates, out_equity, out_cash, out_shares, filled = [], [], [], [], []

    def trade(i: int, t: str, delta: float, px: float, cut: bool) -> None:
        """Rule 5's order of `delta` shares of `t` at fill price `px` (rule 6 uses it too);
        `cut`: a buy is reduced to the cash left."""
        nonlocal cash
        if delta < 0:  # a sale or a short sale: proceeds credited to cash
            price = px * (1 - slippage)
            qty = -delta
            traded = qty * price
            fee = traded * fees
            cash += traded - fee
            shares[t] -= qty
            side = "sell"
        else:  # a buy or a cover
            price = px * (1 + slippage)
            qty = delta
            if not cut or qty * price * (1 + fees) <= cash:
                traded = qty * price
                fee = traded * fees
                cash -= traded + fee
            elif cash <= 0:  # no cash left: not placed
                return
            else:  # all the cash left pays for the shares and their fee
                traded = cash / (1 + fees)
                qty = traded / price
                fee = cash - traded
                cash = 0.0
            shares[t] += qty
            side = "buy"
        filled.append(
            {"date": dates[i], "ticker": t, "side": side, "shares": qty, "price": price, "fees": fee}
        )

    for i in range(first, n):
        if wiped:  # rule 8: nothing happens after a wipe-out
            out_dates.append(dates[i])
            out_equity.append(0.0)
            out_cash.append(0.0)
            out_shares.append(dict(shares))
            continue

        # rule 4: interest on the previous close's balances, before the day's orders
        cash += interest()

        # rule 1: the fill price is the open of this bar where there is one, else the close
        # (with fill="close", always the close); NaN: the ticker has no price at this bar
        fill_px = {}
        for t in tickers:
            o, c = opens[i][t], close[i][t]
            fill_px[t] = o if not math.isnan(o) else c
        # rule 5: a ticker with no price at this bar is not traded
        wanted = {t: w for t, w in orders_at.get(i, {}).items() if not math.isnan(fill_px[t])}

        if wanted:
            # a holding without a fill price today is marked at its last close
            mark = {t: fill_px[t] if not math.isnan(fill_px[t]) else last_close[t] for t in tickers}
            value = cash + sum(shares[t] * mark[t] for t in tickers if shares[t] != 0)
            if value <= 0:  # rule 5: no order at V <= 0
                wanted = {}
            targets_now = {t: wanted[t] * value / fill_px[t] for t in wanted}
            for t in _call_order(wanted, value, shares, mark, tickers):
                delta = targets_now[t] - shares[t]
                if abs(delta) > MIN_ORDER:
                    trade(i, t, delta, fill_px[t], cut=not leverage)

        # rule 6: a holding in a ticker on its last bar is closed at that bar's close
        for t in tickers:
            if delisted_at.get(t) == i and shares[t] != 0:
                # closed in full: a cover is never cut (see the module docstring)
                trade(i, t, -shares[t], close[i][t], cut=False)
                shares[t] = 0.0

        # rule 7: value the day at the close (the last close for a ticker not trading today)
        for t in tickers:
            if not math.isnan(close[i][t]):
                last_close[t] = close[i][t]
        equity = cash + sum(shares[t] * last_close[t] for t in tickers if shares[t] != 0)

        # rule 8: wiped out at a close with equity at or below zero
        if equity <= 0:
            wiped = True
            equity, cash = 0.0, 0.0
            for t in tickers:
                shares[t] = 0.0

        prev_cash = cash
        prev_short_value = sum(-shares[t] * last_close[t] for t in tickers if shares[t] < 0)
        out_dates.append(dates[i])
        out_equity.append(equity)
        out_cash.append(cash)
        out_shares.append(dict(shares))

    index = pd.DatetimeIndex(out_dates, name=prices.index.name)
    return ReferenceRun(
        equity=pd.Series(out_equity, index=index, name="equity"),
        cash=pd.Series(out_cash, index=index, name="cash"),
        shares=pd.DataFrame(out_shares, index=index, columns=tickers),
        orders=filled,
        wiped_out=wiped,
    )


def reference_equity(prices: Prices, targets: pd.DataFrame, *args, **kwargs) -> pd.Series:
    """Daily equity of one run of `targets` (dates x tickers), see `reference_run`."""
    return reference_run(prices, targets, *args, **kwargs).equity
