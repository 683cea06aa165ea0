"""The compiled simulator: the rules of engine.sim.simulate, one small numba function per rule.

A day of one run, in the rules' order (each function's docstring states its part):
    accrue_interest   rule 4: interest on the previous close's balances, before any order
    collect_targets   rules 1 and 3: the targets that execute on this bar (on the first bar,
                      also those carried from before the window)
    size_orders       rule 5: equity at the mark, each order's estimated value
    call_order        rule 5: the order the bar's orders run in (call_seq="auto")
    execute_orders    rule 5: the fills, with slippage, fees and the cash limit
    delist            rule 6: holdings whose ticker's data ends on this bar, closed at its close
    value_at_close    rule 7: equity, gross and short exposure at the close
    wipe_out          rule 8: equity at or below zero writes the run off
    tally_close       the day's return and drawdown into the stats accumulators
Rule 2 (a decision's gross exposure) is checked before the kernel runs, by
engine.sim.simulate.run_schedule (Schedule.check); its "NaN means no order" is the sparse
schedule itself.

The inputs are named tuples (numba compiles and caches them; a jitclass could not be cached):
read-only Targets (a Schedule's arrays), MarketArrays and Frictions, per-thread scratch Book
and Pending, and Outputs; run_one unpacks them once per run. The run's scalar state is an
Account and its accumulators a Tally, each returned anew by the function that changes it.
Runs are independent (each has its own cash), so they are spread over threads with prange.
Nothing here allocates per day; per run only small scratch arrays.
"""

from __future__ import annotations

from collections import namedtuple

import numba as nb
import numpy as np

# -- read-only inputs ---------------------------------------------------------------------
Targets = namedtuple("Targets", ["lo", "hi", "bar", "col", "weight"])
"""A Schedule's arrays: run r's entries lo[r]:hi[r], each setting ticker col[e] to weight[e]
on execution bar bar[e] (sorted by (bar, col) within a run; a later entry wins)."""

MarketArrays = namedtuple("MarketArrays", ["fill", "mark", "close", "last_bar", "delist_day"])
"""engine.sim.simulate.Market's arrays (days x tickers; last_bar per ticker; delist_day per day)."""

Frictions = namedtuple(
    "Frictions", ["fees", "slippage", "init_cash", "can_borrow", "d_cash", "d_financing", "d_borrow"]
)
"""engine.sim.simulate.Costs as the kernel reads it: fees and slippage (fractions), the initial
cash, whether buys may borrow (max_gross > 1), and the interest rates per period d(r)."""

# -- per-thread scratch (length n_tickers), reset at the start of each run -----------------
Book = namedtuple("Book", ["shares", "held", "where"])
"""shares per ticker; held[:n_held] the tickers with shares != 0; where[j] = j's position in
held, or -1."""

Pending = namedtuple("Pending", ["target", "touched", "names", "est", "slots", "spare"])
"""One bar's orders: target weight per ticker, touched (named on this bar), names (the
tickers named, then those with a price), est (their estimated order values), slots (their
call order), spare (sorting scratch)."""

# -- a run's state, returned anew by each rule that changes it ---------------------------
Account = namedtuple("Account", ["cash", "n_held", "n_orders", "traded", "fees", "interest"])
"""cash, the number of holdings, and the run's totals so far: orders filled, traded value
before fees, fees paid, net interest."""

Tally = namedtuple(
    "Tally", ["prev", "peak", "max_dd", "sum_r", "sum_r2", "sum_down2", "sum_equity", "sum_exposure"]
)
"""Per-close accumulators: the previous close's equity, the running peak (the initial cash is
one), the deepest drawdown, sums of returns, squared returns, squared downside excess returns,
equity and gross exposure / equity."""

# -- outputs ------------------------------------------------------------------------------
Outputs = namedtuple("Outputs", ["acc", "equity", "cash", "shares", "orders", "order_lo", "order_n"])
"""acc (N_ACC x runs); equity/cash (days x runs) and shares (days x runs x tickers) when they
have rows; orders (rows ORDER_FIELDS) from orders[order_lo[r]] on, their count in order_n[r]."""

# Accumulators, one column per run, rows in this order (engine.analytics.run_stats reads them by name):
ACC_FIELDS = (
    "final",  # equity at the last close
    "sum_r",  # sum of daily returns (day 0 against the initial cash)
    "sum_r2",  # sum of squared daily returns
    "n",  # number of daily returns (= days simulated)
    "sum_down2",  # sum of min(r - rf_per_period, 0) ** 2
    "max_dd",  # min of equity / running peak - 1 (the initial cash is a peak)
    "n_orders",  # orders filled
    "traded",  # traded value before fees
    "sum_equity",  # sum of daily equity
    "sum_exposure",  # sum of gross exposure / equity at each close
    "fees",  # fees paid
    "interest",  # net interest: cash earned, minus financing and borrow fees paid
    "wiped_out",  # 1 if equity reached 0
)
FINAL, SUM_R, SUM_R2, N, SUM_DOWN2, MAX_DD, N_ORDERS, TRADED, SUM_EQUITY, SUM_EXPOSURE, FEES = range(11)
INTEREST, WIPED_OUT = 11, 12
N_ACC = len(ACC_FIELDS)
ORDER_FIELDS = ("bar", "col", "side", "shares", "price", "fees")  # side: 1 buy, -1 sell
MIN_SHARES = 1e-12  # rule 5: orders of at most this many shares are not placed

_JIT = dict(cache=True, nogil=True, error_model="numpy")


# -- the rules, in the order they apply each day -------------------------------------------
# Speed, measured with benchmarks/kernel_ab.py: numba counts the references of every array
# handed to a function, inlined or not, and on each execution bar those counts made a first
# version of this split (rules taking the named tuples) up to twice as slow as the single
# function it replaced. So a rule function takes arrays, not tuples of arrays, and calls no
# function that takes an array. The rules that run every day or every bar are inlined
# (inline="always"); the two that sort (collect_targets, call_order) are plain calls, since a
# sort inlined into the loops slowed them even on the bars where it never ran.
@nb.njit(inline="always", **_JIT)
def accrue_interest(a, prev_cash, prev_short, c):
    """Rule 4: interest on the previous close's balances (on the first day the initial cash),
    first thing in the day: cash >= 0 earns c.d_cash, cash < 0 pays c.d_financing, and the
    short market value prev_short (>= 0) pays c.d_borrow. Credited to cash and to the net
    interest total."""
    paid = prev_cash * (c.d_cash if prev_cash >= 0.0 else c.d_financing) - prev_short * c.d_borrow
    return Account(a.cash + paid, a.n_held, a.n_orders, a.traded, a.fees, a.interest + paid)


@nb.njit(**_JIT)
def collect_targets(d, e, e_end, bar, col, weight, carried, target, touched, names):
    """Rules 1 and 3: a run's entries from e on (up to e_end) that execute on or before bar d
    (decided before it; on the first simulated bar, `carried`, also those decided before the
    window). Sets target[j] for each ticker named (a later entry wins), marks it touched, and
    lists the tickers in names[:n] in column order (one bar's entries come sorted; carried
    ones are sorted here). Returns (the next entry, n)."""
    n = 0
    while e < e_end and bar[e] <= d:
        j = col[e]
        if not touched[j]:
            touched[j] = True
            names[n] = j
            n += 1
        target[j] = weight[e]
        e += 1
    if carried:
        names[:n].sort()
    return e, n


@nb.njit(inline="always", **_JIT)
def size_orders(d, n, fill, mark, target, touched, names, est, shares, held, a):
    """Rule 5, sizing: equity V = cash + holdings at the mark price, once, before the bar's
    first order. With V > 0, each of the n tickers in names with a fill price on bar d is
    kept in names[:k], its estimated order value target * V - shares * fill (unslipped) in
    est[:k]; with V <= 0 none is (no order is placed). Clears touched. Returns (k, V)."""
    value = a.cash
    for h in range(a.n_held):
        j = held[h]
        value += shares[j] * mark[d, j]
    k = 0
    n_live = 0 if value <= 0.0 else n
    for i in range(n):
        j = names[i]
        touched[j] = False
        px = fill[d, j]
        if i < n_live and px == px:  # a ticker without a price at this bar is not traded
            names[k] = j
            est[k] = target[j] * value - shares[j] * px
            k += 1
    return k, value


@nb.njit(**_JIT)
def call_order(est, k, slots, spare):
    """Rule 5, call order: slots[:k] = positions 0..k-1 in ascending est, ties in position
    (column) order: the biggest sell first, the biggest buy last (vectorbt's call_seq="auto").
    A stable sort: insertion up to 64 orders, bottom-up merges through spare beyond."""
    for i in range(k):
        slots[i] = i
    if k <= 64:
        for i in range(1, k):
            b = i - 1
            while b >= 0 and est[slots[b]] > est[i]:
                slots[b + 1] = slots[b]
                b -= 1
            slots[b + 1] = i
        return
    width = 1
    while width < k:
        lo = 0
        while lo < k:
            mid = min(lo + width, k)
            hi = min(lo + 2 * width, k)
            i, j = lo, mid
            for o in range(lo, hi):
                if j >= hi or (i < mid and est[slots[i]] <= est[slots[j]]):
                    spare[o] = slots[i]
                    i += 1
                else:
                    spare[o] = slots[j]
                    j += 1
            lo = hi
        slots[:k] = spare[:k]
        width *= 2


@nb.njit(inline="always", **_JIT)
def execute_orders(d, k, value, fill, c, target, names, slots, shares, held, where, a, orders):
    """Rule 5, fills: the orders of names[:k] (size_orders) in call order (slots), each the
    shares that reach target * V / fill (V = `value`); an order of at most MIN_SHARES is not
    placed. Buys fill at fill * (1 + slippage), sells at fill * (1 - slippage), each paying
    fees on its traded value. Without borrowing (c.can_borrow) a buy that needs more than the
    cash left (fee included) is cut to what the cash pays for (cash then exactly 0), and none
    is placed with no cash left. Keeps held/where in step with shares and records each order
    in `orders` when it has rows. Returns the account after the bar."""
    fees, slip = c.fees, c.slippage
    cash, n_held, n_orders, traded, fees_paid = a.cash, a.n_held, a.n_orders, a.traded, a.fees
    for i in range(k):
        j = names[slots[i]]
        px = fill[d, j]
        delta = target[j] * value / px - shares[j]
        if abs(delta) <= MIN_SHARES:
            continue
        cut = False
        if delta < 0.0:
            price = px * (1.0 - slip)
        else:
            price = px * (1.0 + slip)
            if not c.can_borrow:
                if cash <= 0.0:
                    continue
                if delta * price * (1.0 + fees) > cash:
                    delta = cash / (1.0 + fees) / price
                    cut = True
        worth = abs(delta) * price
        fee = worth * fees
        traded += worth
        fees_paid += fee
        cash = cash - delta * price - fee
        if cut:
            cash = 0.0  # a cut buy spends the cash exactly
        shares[j] += delta
        if orders.shape[0] > 0:
            orders[n_orders, 0] = d
            orders[n_orders, 1] = j
            orders[n_orders, 2] = 1.0 if delta > 0 else -1.0
            orders[n_orders, 3] = abs(delta)
            orders[n_orders, 4] = price
            orders[n_orders, 5] = fee
        n_orders += 1
        if shares[j] != 0.0:  # held[:n_held]: the tickers with shares, in the order bought
            if where[j] < 0:
                where[j] = n_held
                held[n_held] = j
                n_held += 1
        elif where[j] >= 0:  # the last holding takes the sold one's slot
            n_held -= 1
            last = held[n_held]
            held[where[j]] = last
            where[last] = where[j]
            where[j] = -1
    return Account(cash, n_held, n_orders, traded, fees_paid, a.interest)


@nb.njit(inline="always", **_JIT)
def delist(d, close, last_bar, c, shares, held, where, a, orders):
    """Rule 6: after bar d's orders, each holding whose ticker's last bar is d (last_bar) is
    closed in full at d's close: a sale at close * (1 - slippage), or a cover of a short at
    close * (1 + slippage), paying fees, even if the cover takes cash below zero. Returns the
    account after the closes."""
    cash, n_held, n_orders, traded, fees_paid = a.cash, a.n_held, a.n_orders, a.traded, a.fees
    h = 0
    while h < n_held:
        j = held[h]
        if last_bar[j] != d:
            h += 1
            continue
        qty = -shares[j]
        price = close[d, j] * ((1.0 + c.slippage) if qty > 0.0 else (1.0 - c.slippage))
        worth = abs(qty) * price
        fee = worth * c.fees
        traded += worth
        fees_paid += fee
        cash = cash - qty * price - fee
        shares[j] = 0.0
        if orders.shape[0] > 0:
            orders[n_orders, 0] = d
            orders[n_orders, 1] = j
            orders[n_orders, 2] = 1.0 if qty > 0 else -1.0
            orders[n_orders, 3] = abs(qty)
            orders[n_orders, 4] = price
            orders[n_orders, 5] = fee
        n_orders += 1
        n_held -= 1  # the last holding takes slot h, which is looked at next
        last = held[n_held]
        held[h] = last
        where[last] = h
        where[j] = -1
    return Account(cash, n_held, n_orders, traded, fees_paid, a.interest)


@nb.njit(inline="always", **_JIT)
def value_at_close(d, close, shares, held, a):
    """Rule 7: (equity, gross, short) at bar d's close: equity = cash + sum(shares * close),
    each ticker at its last close (`close` is forward-filled); gross = sum |shares * close|,
    short = the market value of the short positions (>= 0)."""
    invested = 0.0
    gross = 0.0
    short = 0.0
    for h in range(a.n_held):
        j = held[h]
        v = shares[j] * close[d, j]
        invested += v
        gross += abs(v)
        short += min(v, 0.0)
    return a.cash + invested, gross, -short


@nb.njit(inline="always", **_JIT)
def wipe_out(shares, held, where, a):
    """Rule 8 (the caller has seen equity <= 0 at a close): the positions are written off and
    cash is 0; the run's equity is 0 from this close on and it places no more orders (the
    caller stops executing bars). Returns the emptied account."""
    for h in range(a.n_held):
        shares[held[h]] = 0.0
        where[held[h]] = -1
    return Account(0.0, 0, a.n_orders, a.traded, a.fees, a.interest)


@nb.njit(inline="always", **_JIT)
def tally_close(t, equity, gross, rf_d):
    """The day's return (against the previous close's equity, 0 when that was 0: after a
    wipe-out) and drawdown, added to the run's accumulators."""
    ret = equity / t.prev - 1.0 if t.prev > 0.0 else 0.0
    ex = ret - rf_d
    sum_down2 = t.sum_down2 + ex * ex if ex < 0.0 else t.sum_down2
    sum_exposure = t.sum_exposure + gross / equity if equity > 0.0 else t.sum_exposure
    peak = equity if equity > t.peak else t.peak
    dd = equity / peak - 1.0
    max_dd = dd if dd < t.max_dd else t.max_dd
    return Tally(
        equity,
        peak,
        max_dd,
        t.sum_r + ret,
        t.sum_r2 + ret * ret,
        sum_down2,
        t.sum_equity + equity,
        sum_exposure,
    )


# -- a run, and every run ------------------------------------------------------------------
@nb.njit(**_JIT)
def run_one(r, first, stop, t, m, c, rf_d, book, p, out):
    """Simulate run r (entries t.lo[r]:t.hi[r]) on bars first..stop - 1 of market m with
    frictions c (rf_d: the risk-free rate per period, for the downside accumulator); scratch
    book and p; writes out.acc[:, r], its daily rows (row d - first) and its orders (see
    Outputs)."""
    n_tk = m.close.shape[1]
    bar, col, weight = t.bar, t.col, t.weight
    fill, mark, close, last_bar, delist_day = m.fill, m.mark, m.close, m.last_bar, m.delist_day
    shares, held, where = book.shares, book.held, book.where
    target, touched, names, est, slots, spare = p.target, p.touched, p.names, p.est, p.slots, p.spare
    orders = out.orders[out.order_lo[r] :] if out.orders.shape[0] > 0 else out.orders
    equity_out, cash_out, shares_out = out.equity, out.cash, out.shares
    rec_equity = equity_out.shape[0] > 0
    rec_shares = shares_out.shape[0] > 0
    accrue = c.d_cash != 0.0 or c.d_financing != 0.0 or c.d_borrow != 0.0
    for j in range(n_tk):
        shares[j] = 0.0
        where[j] = -1
        touched[j] = False
    a = Account(c.init_cash, 0, 0, 0.0, 0.0, 0.0)
    tally = Tally(c.init_cash, c.init_cash, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    prev_cash = c.init_cash
    prev_short = 0.0
    wiped = False
    e, e_end = t.lo[r], t.hi[r]
    for d in range(first, stop):
        if not wiped:
            if accrue:
                a = accrue_interest(a, prev_cash, prev_short, c)  # rule 4
            if e < e_end and bar[e] <= d:  # rules 1, 3 and 5
                e, n = collect_targets(d, e, e_end, bar, col, weight, d == first, target, touched, names)
                k, value = size_orders(d, n, fill, mark, target, touched, names, est, shares, held, a)
                call_order(est, k, slots, spare)
                a = execute_orders(d, k, value, fill, c, target, names, slots, shares, held, where, a, orders)
        if delist_day[d] and a.n_held > 0:
            a = delist(d, close, last_bar, c, shares, held, where, a, orders)  # rule 6
        equity, gross, short = value_at_close(d, close, shares, held, a)  # rule 7
        if not wiped and equity <= 0.0:  # rule 8
            wiped = True
            a = wipe_out(shares, held, where, a)
            equity, gross, short = 0.0, 0.0, 0.0
        tally = tally_close(tally, equity, gross, rf_d)
        prev_cash = a.cash
        prev_short = short
        k = d - first
        if rec_equity:
            equity_out[k, r] = equity
            cash_out[k, r] = a.cash
        if rec_shares:
            for h in range(a.n_held):
                j = held[h]
                shares_out[k, r, j] = shares[j]
    acc = out.acc
    acc[FINAL, r] = tally.prev
    acc[SUM_R, r] = tally.sum_r
    acc[SUM_R2, r] = tally.sum_r2
    acc[N, r] = stop - first
    acc[SUM_DOWN2, r] = tally.sum_down2
    acc[MAX_DD, r] = tally.max_dd
    acc[N_ORDERS, r] = a.n_orders
    acc[TRADED, r] = a.traded
    acc[SUM_EQUITY, r] = tally.sum_equity
    acc[SUM_EXPOSURE, r] = tally.sum_exposure
    acc[FEES, r] = a.fees
    acc[INTEREST, r] = a.interest
    acc[WIPED_OUT, r] = 1.0 if wiped else 0.0
    out.order_n[r] = a.n_orders


@nb.njit(parallel=True, **_JIT)
def simulate(n_threads, first, stop, t, m, c, rf_d, out):
    """Every run r of t on its own bars first[r]..stop[r] - 1 (int64 arrays), interleaved over
    the threads (thread b: runs b, b + n_threads, ...), each thread with one set of scratch
    arrays. Runs are independent: the thread count never changes a result."""
    n_tk = m.close.shape[1]
    for b in nb.prange(n_threads):
        book = Book(np.empty(n_tk), np.empty(n_tk, dtype=np.int64), np.empty(n_tk, dtype=np.int64))
        p = Pending(
            np.empty(n_tk),
            np.empty(n_tk, dtype=np.bool_),
            np.empty(n_tk, dtype=np.int64),
            np.empty(n_tk),
            np.empty(n_tk, dtype=np.int64),
            np.empty(n_tk, dtype=np.int64),
        )
        for r in range(b, t.lo.size, n_threads):
            run_one(r, first[r], stop[r], t, m, c, rf_d, book, p, out)
