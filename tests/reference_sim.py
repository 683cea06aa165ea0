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
9.   volume and impact (with `participation` or `impact`): each order is a number of shares
     fixed when placed; each bar fills what the cap (participation x the bar's volume, less
     what the ticker filled on the bar already; nothing without a volume) and the impact's
     statistics (ADV and sigma over the 20 bars before, from plain loops here) allow; the
     rest works on the next bars until a new decision for the ticker replaces it, its
     ticker delists, or the run is wiped out. Fills move by I = k sigma sqrt(q / ADV) on top
     of the slippage; a buy cut for cash is found by bisection; a capped delisting exit
     leaves the rest held at the last close.

After a wipe-out cash and shares are 0 ("its positions are written off").
"""

from __future__ import annotations

import bisect
import math
import statistics
from dataclasses import dataclass

import pandas as pd

from engine.data.panel import Prices

MIN_ORDER = 1e-12  # rule 5: an order of at most this many shares is not placed
WINDOW = 20  # rule 9: the bars ADV and sigma are taken over


@dataclass
class ReferenceRun:
    equity: pd.Series
    cash: pd.Series
    shares: pd.DataFrame  # dates x tickers, after each day's orders and delistings
    orders: list[dict]  # one dict per fill, in execution order (delistings included)
    wiped_out: bool


def daily_rate(annual: float, periods: int = 252) -> float:
    """d(r) of rule 4."""
    return (1.0 + annual) ** (1.0 / periods) - 1.0


def _floats(frame: pd.DataFrame, tickers: list[str]) -> list[dict[str, float]]:
    """The frame as a list (one per row) of {ticker: float or nan}."""
    frame = frame.reindex(columns=tickers)
    return [{t: float(v) for t, v in zip(tickers, row, strict=True)} for row in frame.itertuples(index=False)]


def _call_order(book: list[tuple]) -> list[tuple]:
    """One bar's orders, (estimated value, column, ticker, shares, bar placed) each, in the
    order vectorbt's call_seq="auto" runs them: ascending estimated value, ties in column
    order."""
    return sorted(book)


def _window_stats(close: list[dict], volume: list[dict], tickers) -> tuple[list[dict], list[dict]]:
    """Rule 9: per bar and ticker, ADV (the mean volume) and sigma (sample standard deviation
    of close-to-close returns) over the WINDOW bars before the bar; NaN when any is missing."""
    n = len(close)
    adv = [dict.fromkeys(tickers, math.nan) for _ in range(n)]
    sigma = [dict.fromkeys(tickers, math.nan) for _ in range(n)]
    for t in tickers:
        for d in range(WINDOW, n):
            vols = [volume[i][t] for i in range(d - WINDOW, d)]
            if not any(math.isnan(v) for v in vols):
                adv[d][t] = sum(vols) / WINDOW
            rets = [close[i][t] / close[i - 1][t] - 1 for i in range(d - WINDOW, d) if i >= 1]
            if len(rets) == WINDOW and not any(math.isnan(r) for r in rets):
                sigma[d][t] = statistics.stdev(rets)
    return adv, sigma


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
    participation: float | None = None,
    impact: float = 0.0,
    no_volume: str = "refuse",
) -> ReferenceRun:
    """Simulate one run: `targets` is dates x tickers (weights decided after each date's
    close; NaN = no order; negative = short), `prices` the panel. Trading starts at `start`
    (None: first bar). `fill` is "open" (the open where the bar has one, else the close) or
    "close". Above max_gross 1 buys are never cut (cash may go negative). The rates are
    annual fractions (rule 4). `participation`, `impact` and `no_volume` are rule 9's."""
    assert fill in ("open", "close")
    tickers = list(targets.columns)
    dates = list(prices.index)
    n = len(dates)
    close = _floats(prices.close, tickers)
    volume = _floats(prices.volume, tickers)
    rule9 = participation is not None or impact > 0
    uncapped = set()
    if rule9:
        uncapped = {t for t in tickers if not any(row[t] > 0 for row in volume)}
        if uncapped and no_volume != "ok":
            raise ValueError(f"no volume: {sorted(uncapped)}")
    adv, sigma = _window_stats(close, volume, tickers) if rule9 else ([], [])
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

    took: dict[str, float] = {}  # rule 9: shares each ticker filled on the current bar
    working: dict[str, list] = {}  # rule 9: ticker -> [rest (signed shares), bar placed]

    def allowed(i: int, t: str, q: float) -> tuple[float, bool, float]:
        """Rule 9: the shares of q bar i allows for t, whether the cap cut them, and I."""
        if not rule9 or t in uncapped:
            return q, False, 0.0
        capped = False
        if participation is not None:
            room = participation * volume[i][t] - took.get(t, 0.0)
            room = room if room > 0 else 0.0  # NaN volume: no room
            if q > room:
                q, capped = room, True
        imp = 0.0
        if impact > 0:
            a, sg = adv[i][t], sigma[i][t]
            if not (a > 0) or math.isnan(sg):
                return 0.0, capped, 0.0
            imp = impact * sg * math.sqrt(q / a)
        return q, capped, imp

    def trade(i: int, t: str, want: float, px: float, cut: bool, placed: int | None) -> float:
        """A fill of the order for `want` shares (signed) of `t` at fill price `px` (rules 5,
        6, 9); `cut`: a buy is reduced to the cash left. Returns what the bar did not offer."""
        nonlocal cash
        q, capped, imp = allowed(i, t, abs(want))
        left = want - q if want > 0 else want + q
        if q <= MIN_ORDER:
            return left
        spent = False
        if want < 0:  # a sale or a short sale: proceeds credited to cash
            price = px * max(1 - slippage - imp, 0.0)
            side = "sell"
        else:  # a buy or a cover
            price = px * (1 + slippage + imp)
            side = "buy"
            if cut and cash <= 0:  # no cash left: not placed
                return left
            if cut and q * price * (1 + fees) > cash:
                if imp == 0:
                    q = cash / (1 + fees) / price
                else:  # the q whose cost at its own impact is the cash: bisection
                    lo, hi = 0.0, q
                    for _ in range(200):
                        mid = (lo + hi) / 2
                        cost = mid * px * (1 + slippage + impact_at(i, t, mid)) * (1 + fees)
                        lo, hi = (mid, hi) if cost <= cash else (lo, mid)
                    q = lo
                    imp = impact_at(i, t, q)
                    price = px * (1 + slippage + imp)
                spent = True  # all the cash left pays for the shares and their fee
        traded = q * price
        fee = traded * fees
        if side == "sell":
            cash += traded - fee
            shares[t] -= q
        else:
            cash -= traded + fee
            shares[t] += q
        if spent:
            cash = 0.0
        took[t] = took.get(t, 0.0) + q
        vol = volume[i][t]
        filled.append(
            {
                "date": dates[i],
                "ticker": t,
                "side": side,
                "shares": q,
                "price": price,
                "fees": fee,
                "impact": q * px * imp,
                "share": q / vol if vol > 0 and not math.isinf(vol) and t not in uncapped else math.nan,
                "partial": capped,
                "wait": None if placed is None else i - placed,
            }
        )
        return left

    def impact_at(i: int, t: str, q: float) -> float:
        return impact * sigma[i][t] * math.sqrt(q / adv[i][t])

    for i in range(first, n):
        if wiped:  # rule 8: nothing happens after a wipe-out
            out_dates.append(dates[i])
            out_equity.append(0.0)
            out_cash.append(0.0)
            out_shares.append(dict(shares))
            continue
        took.clear()

        # rule 4: interest on the previous close's balances, before the day's orders
        cash += interest()

        # rule 1: the fill price is the open of this bar where there is one, else the close
        # (with fill="close", always the close); NaN: the ticker has no price at this bar
        fill_px = {}
        for t in tickers:
            o, c = opens[i][t], close[i][t]
            fill_px[t] = o if not math.isnan(o) else c
        decided = orders_at.get(i, {})
        for t in decided:  # rule 9: a new decision replaces the working order
            working.pop(t, None)
        # rule 5: a ticker with no price at this bar is not traded
        wanted = {t: w for t, w in decided.items() if not math.isnan(fill_px[t])}
        carried = {t: o for t, o in working.items() if not math.isnan(fill_px[t])}

        if wanted or carried:
            # a holding without a fill price today is marked at its last close
            mark = {t: fill_px[t] if not math.isnan(fill_px[t]) else last_close[t] for t in tickers}
            value = cash + sum(shares[t] * mark[t] for t in tickers if shares[t] != 0)
            if value <= 0:  # rule 5: no order at V <= 0 (rule 9: nor a working one)
                wanted, carried = {}, {}
            position = {t: j for j, t in enumerate(tickers)}
            book = []  # (estimated value, column, ticker, signed shares, bar placed)
            for t, w in wanted.items():
                order = w * value / fill_px[t] - shares[t]
                book.append((w * value - shares[t] * mark[t], position[t], t, order, i))
            for t, (rest, placed) in carried.items():
                book.append((rest * fill_px[t], position[t], t, rest, placed))
            for _, _, t, order, placed in _call_order(book):
                working.pop(t, None)
                if abs(order) > MIN_ORDER:
                    left = trade(i, t, order, fill_px[t], not leverage, placed)
                    if abs(left) > MIN_ORDER:
                        working[t] = [left, placed]

        # rule 6: a holding in a ticker on its last bar is closed at that bar's close (rule 9:
        # up to the cap; the rest is held on); its working order is cancelled
        for t in tickers:
            if delisted_at.get(t) == i:
                working.pop(t, None)
                if shares[t] != 0:
                    trade(i, t, -shares[t], close[i][t], False, None)  # a cover is never cut

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
