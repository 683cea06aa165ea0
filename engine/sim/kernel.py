"""The compiled simulator: the rules of engine.sim.simulate as one numba loop per run.

Runs are independent (each has its own cash), so they are spread over threads with prange.
A run reads the shared market arrays and its own slice of a Schedule, and writes its
accumulators (always) and, when asked, its daily equity and cash, its daily shares and its
orders. Nothing here allocates per day; per run only small scratch arrays.
"""

from __future__ import annotations

import numba as nb
import numpy as np

# Accumulators, one column per run (rows in this order):
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
    "days_invested",  # days closing with a position
    "fees",  # fees paid
    "n_partial",  # buys cut for lack of cash
    "interest",  # net interest: cash earned, minus financing and borrow fees paid
    "wiped_out",  # 1 if equity reached 0
    "n_delisted",  # positions closed because their ticker's data ended
)
ACC = {name: i for i, name in enumerate(ACC_FIELDS)}
N_ACC = len(ACC_FIELDS)
ORDER_FIELDS = ("bar", "col", "side", "shares", "price", "fees")  # side: 1 buy, -1 sell
MIN_SHARES = 1e-12  # orders of at most this many shares are not placed


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _hold(j, shares, held, where, n_held):
    """Keep the held list in step with shares[j]; returns the new count."""
    if shares[j] != 0.0:
        if where[j] < 0:
            where[j] = n_held
            held[n_held] = j
            n_held += 1
    elif where[j] >= 0:
        n_held -= 1
        last = held[n_held]
        held[where[j]] = last
        where[last] = where[j]
        where[j] = -1
    return n_held


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _trade(j, qty, price, fees, cash, shares, o, orders, bar):
    """Buy (qty > 0) or sell (qty < 0) qty shares of j at price; returns the new cash."""
    value = abs(qty) * price
    fee = value * fees
    cash = cash - qty * price - fee
    shares[j] += qty
    if orders.shape[0] > 0:
        orders[o, 0] = bar
        orders[o, 1] = j
        orders[o, 2] = 1.0 if qty > 0 else -1.0
        orders[o, 3] = abs(qty)
        orders[o, 4] = price
        orders[o, 5] = fee
    return cash


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _call_order(est, m, slots):
    """Positions 0..m-1 sorted by est ascending, ties in position order (stable): an
    insertion sort into `slots` for up to 64 orders, a merge sort beyond."""
    if m > 64:
        return np.argsort(est[:m], kind="mergesort")
    for a in range(m):
        slots[a] = a
        b = a - 1
        while b >= 0 and est[slots[b]] > est[a]:
            slots[b + 1] = slots[b]
            b -= 1
        slots[b + 1] = a
    return slots


@nb.njit(cache=True, nogil=True, error_model="numpy")
def run_one(
    r,
    lo,
    hi,
    bar,
    col,
    weight,
    first,
    fill,
    mark,
    close,
    last_bar,
    delist_day,
    costs,
    shares,
    target,
    touched,
    names,
    est,
    held,
    where,
    slots,
    acc,
    equity_out,
    cash_out,
    shares_out,
    orders_out,
    order_lo,
    order_n,
):
    """Simulate run r (its entries lo[r]:hi[r]) from bar `first`; see engine.sim.simulate.

    costs = [fees, slippage, init_cash, can_borrow, d_cash, d_financing, d_borrow, rf_d].
    Scratch (length n_tickers): shares, target, touched, names, est, held, where, slots.
    Outputs: acc[:, r]; equity_out/cash_out[:, r] and shares_out[:, r, :] when they have
    rows; orders from orders_out[order_lo[r]] on, their count in order_n[r]."""
    n_days = close.shape[0]
    n_tk = close.shape[1]
    fees, slip, init_cash = costs[0], costs[1], costs[2]
    can_borrow = costs[3] > 0.0
    d_cash, d_fin, d_borrow, rf_d = costs[4], costs[5], costs[6], costs[7]
    accrue = d_cash != 0.0 or d_fin != 0.0 or d_borrow != 0.0
    rec_equity = equity_out.shape[0] > 0
    rec_shares = shares_out.shape[0] > 0
    orders = orders_out[order_lo[r] :] if orders_out.shape[0] > 0 else orders_out
    for j in range(n_tk):
        shares[j] = 0.0
        touched[j] = False
        where[j] = -1
    n_held = 0
    n_orders = 0
    cash = init_cash
    prev = init_cash
    prev_cash = init_cash
    prev_short = 0.0
    peak = init_cash
    max_dd = 0.0
    sum_r = 0.0
    sum_r2 = 0.0
    sum_down2 = 0.0
    sum_equity = 0.0
    sum_exposure = 0.0
    days_invested = 0
    traded = 0.0
    fees_paid = 0.0
    n_partial = 0
    interest = 0.0
    wiped = False
    n_delisted = 0
    e = lo[r]
    e_end = hi[r]
    for d in range(first, n_days):
        # rule 4: interest on the previous close's balances, before the day's orders
        if accrue and not wiped:
            paid = prev_cash * (d_cash if prev_cash >= 0.0 else d_fin) - prev_short * d_borrow
            cash += paid
            interest += paid
        # rules 1-3 and 5: the orders executed on this bar
        if not wiped and e < e_end and bar[e] <= d:
            n_names = 0
            while e < e_end and bar[e] <= d:
                j = col[e]
                if not touched[j]:
                    touched[j] = True
                    names[n_names] = j
                    n_names += 1
                target[j] = weight[e]
                e += 1
            if d == first:  # decisions carried into the first bar: column order
                names[:n_names].sort()
            value = cash
            for h in range(n_held):
                j = held[h]
                value += shares[j] * mark[d, j]
            m = 0
            n_names_live = 0 if value <= 0.0 else n_names  # no order at V <= 0
            for i in range(n_names):
                j = names[i]
                touched[j] = False
                p = fill[d, j]
                if i < n_names_live and p == p:  # a ticker without a price at this bar is not traded
                    names[m] = j
                    est[m] = target[j] * value - shares[j] * p
                    m += 1
            order = _call_order(est, m, slots)
            for i in range(m):
                j = names[order[i]]
                p = fill[d, j]
                delta = target[j] * value / p - shares[j]
                if abs(delta) <= MIN_SHARES:
                    continue
                cut = False
                if delta < 0.0:
                    price = p * (1.0 - slip)
                else:
                    price = p * (1.0 + slip)
                    if not can_borrow:
                        if cash <= 0.0:
                            continue
                        if delta * price * (1.0 + fees) > cash:
                            delta = cash / (1.0 + fees) / price
                            cut = True
                            n_partial += 1
                traded += abs(delta) * price
                fees_paid += abs(delta) * price * fees
                cash = _trade(j, delta, price, fees, cash, shares, n_orders, orders, d)
                if cut:
                    cash = 0.0  # a cut buy spends the cash exactly
                n_orders += 1
                n_held = _hold(j, shares, held, where, n_held)
        # rule 6: a holding whose ticker's data ends on this bar is closed at its close
        if delist_day[d] and n_held > 0:
            h = 0
            while h < n_held:
                j = held[h]
                if last_bar[j] == d:
                    qty = -shares[j]
                    price = close[d, j] * ((1.0 + slip) if qty > 0.0 else (1.0 - slip))
                    traded += abs(qty) * price
                    fees_paid += abs(qty) * price * fees
                    cash = _trade(j, qty, price, fees, cash, shares, n_orders, orders, d)
                    shares[j] = 0.0
                    n_orders += 1
                    n_delisted += 1
                    n_held = _hold(j, shares, held, where, n_held)
                else:
                    h += 1
        # rule 7: value the day at the close
        invested = 0.0
        gross = 0.0
        short = 0.0
        for h in range(n_held):
            v = shares[held[h]] * close[d, held[h]]
            invested += v
            gross += abs(v)
            short += min(v, 0.0)
        short = -short
        equity = cash + invested
        # rule 8: equity at or below zero ends the run
        if not wiped and equity <= 0.0:
            wiped = True
            equity = 0.0
            cash = 0.0
            for h in range(n_held):
                shares[held[h]] = 0.0
                where[held[h]] = -1
            n_held = 0
            gross = 0.0
            short = 0.0
        ret = equity / prev - 1.0 if prev > 0.0 else 0.0
        sum_r += ret
        sum_r2 += ret * ret
        ex = ret - rf_d
        if ex < 0.0:
            sum_down2 += ex * ex
        sum_equity += equity
        if equity > 0.0:
            sum_exposure += gross / equity
        if n_held > 0:
            days_invested += 1
        if equity > peak:
            peak = equity
        dd = equity / peak - 1.0
        if dd < max_dd:
            max_dd = dd
        prev = equity
        prev_cash = cash
        prev_short = short
        k = d - first
        if rec_equity:
            equity_out[k, r] = equity
            cash_out[k, r] = cash
        if rec_shares:
            for h in range(n_held):
                j = held[h]
                shares_out[k, r, j] = shares[j]
    acc[0, r] = prev
    acc[1, r] = sum_r
    acc[2, r] = sum_r2
    acc[3, r] = n_days - first
    acc[4, r] = sum_down2
    acc[5, r] = max_dd
    acc[6, r] = n_orders
    acc[7, r] = traded
    acc[8, r] = sum_equity
    acc[9, r] = sum_exposure
    acc[10, r] = days_invested
    acc[11, r] = fees_paid
    acc[12, r] = n_partial
    acc[13, r] = interest
    acc[14, r] = 1.0 if wiped else 0.0
    acc[15, r] = n_delisted
    order_n[r] = n_orders


@nb.njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def simulate(
    n_threads,
    lo,
    hi,
    bar,
    col,
    weight,
    first,
    fill,
    mark,
    close,
    last_bar,
    delist_day,
    costs,
    acc,
    equity_out,
    cash_out,
    shares_out,
    orders_out,
    order_lo,
    order_n,
):
    """Every run, interleaved over the threads (thread b: runs b, b + n_threads, ...), each
    thread with one set of scratch arrays. Runs are independent: the thread count never
    changes a result."""
    n_tk = close.shape[1]
    for b in nb.prange(n_threads):
        shares = np.empty(n_tk)
        target = np.empty(n_tk)
        touched = np.empty(n_tk, dtype=np.bool_)
        names = np.empty(n_tk, dtype=np.int64)
        est = np.empty(n_tk)
        held = np.empty(n_tk, dtype=np.int64)
        where = np.empty(n_tk, dtype=np.int64)
        slots = np.empty(n_tk, dtype=np.int64)
        for r in range(b, lo.size, n_threads):
            run_one(r, lo, hi, bar, col, weight, first, fill, mark, close, last_bar, delist_day, costs,
                    shares, target, touched, names, est, held, where, slots,
                    acc, equity_out, cash_out, shares_out, orders_out, order_lo, order_n)  # fmt: skip
