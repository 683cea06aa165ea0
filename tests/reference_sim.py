"""A deliberately plain reference simulator for target-weight rebalancing.

Written from the rules in the docstring of engine/simulate.py, not from its code, with plain
floats, dicts and lists (pandas only converts the inputs and the output). It exists so the
vectorbt-based engine can be checked against something simple enough to read in one sitting.

The one thing the docstring does not pin down is the order of the orders inside a bar, which
decides which buy is cut when cash runs short. The engine uses vectorbt 1.2's
`call_seq="auto"` (vectorbt/portfolio/nb.py: `simulate_from_orders_nb` sorts the bar's orders
with `insert_argsort_nb` on `approx_order_value_nb`), which for target-percent orders is:

    estimated value of order i = w_i * V - shares_i * fill_price_i

executed in ascending order of that number: the biggest sell first, ..., the smallest sell,
then the smallest buy, ..., the biggest buy last (so the biggest buy is the one reduced when
cash is short). Ties keep the order of the targets' columns (insertion sort is stable).
V and the estimates are computed once, before the bar's first order, at the fill prices
(the unslipped ones). That rule is `_call_order` below.

Two readings of the docstring where the engine's code could differ (tests/test_reference_sim.py
has a strict xfail for each, as the engine does differ today):
- a decision dated on a day that is not a bar executes on the next bar after it;
- a ticker without a price at a bar (before its first bar, after its last) is not traded,
  and a holding in it is marked at its last known close, for V as for the daily valuation.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import pandas as pd

from engine.data.panel import Prices


@dataclass
class ReferenceRun:
    equity: pd.Series
    cash: pd.Series
    shares: pd.DataFrame  # dates x tickers, after each day's orders
    orders: list[dict]  # one dict per filled order, in execution order


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
) -> ReferenceRun:
    """Simulate one run: `targets` is dates x tickers (weights decided after each date's
    close; NaN = no order), `prices` the panel. Trading starts at `start` (None: first bar).
    `fill` is "open" (the open where the bar has one, else the close) or "close"."""
    assert fill in ("open", "close")
    tickers = list(targets.columns)
    dates = list(prices.index)
    close = _floats(prices.close, tickers)
    opens = _floats(prices.open if fill == "open" else prices.open * math.nan, tickers)
    decisions = _floats(targets.sort_index(), tickers)

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

    out_dates, out_equity, out_cash, out_shares, filled = [], [], [], [], []
    for i in range(first, len(dates)):
        # rule 1: the fill price is the open of this bar where there is one, else the close
        # (with fill="close", always the close)
        fill = {}
        for t in tickers:
            o, c = opens[i][t], close[i][t]
            fill[t] = o if not math.isnan(o) else c
        wanted = orders_at.get(i, {})
        # rule 4: a ticker with no price at this bar is not traded
        wanted = {t: w for t, w in wanted.items() if not math.isnan(fill[t])}

        if wanted:
            # a holding without a fill price today is marked at its last close
            mark = {t: fill[t] if not math.isnan(fill[t]) else last_close[t] for t in tickers}
            value = cash + sum(shares[t] * mark[t] for t in tickers if shares[t] != 0)
            for t in _call_order(wanted, value, shares, mark, tickers):
                px = fill[t]
                delta = wanted[t] * value / px - shares[t]
                if delta < 0:  # sell (never more than held: weights are >= 0)
                    qty = min(-delta, shares[t])
                    price = px * (1 - slippage)
                    traded = qty * price
                    fee = traded * fees
                    cash += traded - fee
                    shares[t] -= qty
                    side = "sell"
                elif delta > 0:  # buy, reduced to what the cash pays for
                    if cash <= 0:
                        continue
                    price = px * (1 + slippage)
                    qty = delta
                    if qty * price * (1 + fees) <= cash:
                        traded = qty * price
                        fee = traded * fees
                        cash -= traded + fee
                    else:  # all the cash left pays for the shares and their fee
                        traded = cash / (1 + fees)
                        qty = traded / price
                        fee = cash - traded
                        cash = 0.0
                    shares[t] += qty
                    side = "buy"
                else:
                    continue
                filled.append(
                    {"date": dates[i], "ticker": t, "side": side, "shares": qty, "price": price, "fees": fee}
                )

        # rule 5: value the day at the close (the last close for a ticker not trading today)
        for t in tickers:
            if not math.isnan(close[i][t]):
                last_close[t] = close[i][t]
        equity = cash + sum(shares[t] * last_close[t] for t in tickers if shares[t] != 0)
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
    )


def reference_equity(
    prices: Prices,
    targets: pd.DataFrame,
    fees: float = 0.0,
    slippage: float = 0.0,
    init_cash: float = 100_000.0,
    start=None,
    fill: str = "open",
) -> pd.Series:
    """Daily equity of one run of `targets` (dates x tickers), see `reference_run`."""
    return reference_run(prices, targets, fees, slippage, init_cash, start, fill).equity
