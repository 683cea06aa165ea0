"""The compiled simulator: the rules of engine.sim.simulate, one small numba function per rule.

A day of one run, in the rules' order (each function's docstring states its part):
    accrue_interest   rule 4: interest on the previous close's balances, before any order
    collect_targets   rules 1 and 3: the targets that execute on this bar (on the first bar,
                      also those carried from before the window)
    size_orders       rules 5 and 9: equity at the mark, the bar's new orders (replacing
                      working ones) and the working orders, each with its estimated value
    call_order        rule 5: the order the bar's orders run in (call_seq="auto")
    execute_orders    rules 5 and 9: the fills, with the volume cap, impact, slippage, fees
                      and the cash limit; what the cap leaves stays working
    delist            rules 6 and 9: holdings whose ticker's data ends on this bar, closed at
                      its close (up to the cap), and its working order cancelled
    value_at_close    rule 7: equity, gross and short exposure at the close
    wipe_out          rule 8: equity at or below zero writes the run off
    tally_close       the day's return and drawdown into the stats accumulators
Rule 2 (a decision's gross exposure) is checked before the kernel runs, by
engine.sim.simulate.run_schedule (Schedule.check); its "NaN means no order" is the sparse
schedule itself.

The inputs are named tuples (numba compiles and caches them; a jitclass could not be cached):
read-only Targets (a Schedule's arrays), MarketArrays and Frictions, per-thread scratch Book,
Working (rule 9's orders) and Pending, and Outputs; run_one unpacks them once per run. The
run's scalar state is an Account, its fill totals Fills and its accumulators a Tally, each
returned anew by the function that changes it. Runs are independent (each has its own cash
and initial cash), so they are spread over threads with prange. Nothing here allocates per
day or per run, beyond the per-thread scratch.
"""

from __future__ import annotations

from collections import namedtuple

import numba as nb
import numpy as np

# -- read-only inputs ---------------------------------------------------------------------
Targets = namedtuple("Targets", ["lo", "hi", "bar", "col", "weight"])
"""A Schedule's arrays: run r's entries lo[r]:hi[r], each setting ticker col[e] to weight[e]
on execution bar bar[e] (sorted by (bar, col) within a run; a later entry wins)."""

MarketArrays = namedtuple("MarketArrays", ["fill", "mark", "close", "last_bar", "delist_day", "vs"])
"""engine.sim.simulate.Market's arrays (days x tickers; last_bar per ticker; delist_day per day;
vs: rule 9's volume, vs[VOLUME], and impact scale sigma / sqrt(ADV), vs[SCALE] (the impact per
unit of k * sqrt(shares), NaN where the ticker may not trade under impact), 2 x days x
tickers: one array, since every array a rule function takes costs reference counting per
call)."""
VOLUME, SCALE = 0, 1

Frictions = namedtuple(
    "Frictions",
    [
        "fees",
        "slippage",
        "init_cash",
        "can_borrow",
        "d_cash",
        "d_financing",
        "d_borrow",
        "participation",
        "impact",
    ],
)
"""engine.sim.simulate.Costs as the kernel reads it: fees and slippage (fractions), the initial
cash of each run (float64 array), whether buys may borrow (max_gross > 1), the interest rates
per period d(r), the volume cap p and the impact coefficient k of rule 9 (0: none)."""

# -- per-thread scratch (length n_tickers), reset at the start of each run -----------------
Book = namedtuple("Book", ["shares", "held", "where"])
"""shares per ticker; held[:n_held] the tickers with shares != 0; where[j] = j's position in
held, or -1."""

Working = namedtuple("Working", ["real", "index"])
"""Rule 9's orders, in two arrays (3 x n_tickers float, 4 x n_tickers int): real[REST, j] the
signed shares j's order still wants, real[TOOK, j] the shares j filled on bar index[TOOK_BAR, j]
(what the cap has left for a later fill on that bar), real[BINDS, j] the bars the cap held j
back; index[PLACED, j] the bar j's order was placed on, index[LISTED, :n_work] the tickers
with a working order, index[AT, j] = j's position there, or -1."""
REST, TOOK, BINDS = 0, 1, 2
PLACED, TOOK_BAR, LISTED, AT = 0, 1, 2, 3

Pending = namedtuple("Pending", ["target", "touched", "names", "est", "slots", "spare"])
"""One bar's orders: target weight per ticker, touched (named on this bar), names (the
tickers named, then those with a price), est (their estimated order values), slots (their
call order), spare (sorting scratch)."""

# -- a run's state, returned anew by each rule that changes it ---------------------------
Account = namedtuple("Account", ["cash", "n_held", "n_work", "n_orders", "traded", "fees", "interest"])
"""cash, the number of holdings and of working orders, and the run's totals so far: fills,
traded value before fees, fees paid, net interest."""

Fills = namedtuple(
    "Fills", ["slipped", "impact", "max_share", "sum_share", "n_share", "n_partial", "max_wait"]
)
"""The run's fill totals so far (only the fills change them): slippage and impact paid (against
the unslipped fill price), the largest and the sum of the shares of a bar's volume a fill took
and the number of such fills (fills of tickers with a volume), fills cut by the cap, and the
most bars a fill came after its order was placed."""

Tally = namedtuple(
    "Tally", ["prev", "peak", "max_dd", "sum_r", "sum_r2", "sum_down2", "sum_equity", "sum_exposure"]
)
"""Per-close accumulators: the previous close's equity, the running peak (the initial cash is
one), the deepest drawdown, sums of returns, squared returns, squared downside excess returns,
equity and gross exposure / equity."""

# -- outputs ------------------------------------------------------------------------------
Outputs = namedtuple(
    "Outputs", ["acc", "equity", "cash", "shares", "orders", "order_lo", "order_cap", "order_n", "binds"]
)
"""acc (N_ACC x runs); equity/cash (days x runs) and shares (days x runs x tickers) when they
have rows; orders (rows ORDER_FIELDS) from orders[order_lo[r]] on, at most order_cap[r] of
them written, their count in order_n[r] (more than order_cap[r]: the caller runs it again with
room); binds (runs x tickers, when it has rows) the bars on which the cap held an order back."""

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
    "slippage",  # slippage paid: shares x unslipped fill price x slippage, summed
    "impact",  # impact paid (rule 9): shares x unslipped fill price x I, summed
    "max_share",  # the largest share of a bar's volume one fill took (fills with a volume)
    "sum_share",  # the sum of those shares
    "n_share",  # the number of those fills
    "n_partial",  # fills cut by the volume cap (rule 9)
    "max_wait",  # the most bars between an order's placement and one of its fills
)
FINAL, SUM_R, SUM_R2, N, SUM_DOWN2, MAX_DD, N_ORDERS, TRADED, SUM_EQUITY, SUM_EXPOSURE, FEES = range(11)
INTEREST, WIPED_OUT, SLIPPAGE, IMPACT, MAX_SHARE, SUM_SHARE, N_SHARE, N_PARTIAL, MAX_WAIT = range(11, 20)
N_ACC = len(ACC_FIELDS)
ORDER_FIELDS = ("bar", "col", "side", "shares", "price", "fees", "impact")  # side: 1 buy, -1 sell
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
    return Account(a.cash + paid, a.n_held, a.n_work, a.n_orders, a.traded, a.fees, a.interest + paid)


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
def unlist(j, wi, n_work):
    """Rule 9: j's working order ends (filled, replaced or cancelled); the last working order
    takes its slot (wi: Working.index). Returns the new number of working orders."""
    n_work -= 1
    last = wi[LISTED, n_work]
    wi[LISTED, wi[AT, j]] = last
    wi[AT, last] = wi[AT, j]
    wi[AT, j] = -1
    return n_work


@nb.njit(inline="always", **_JIT)
def size_orders(d, n, fill, mark, target, touched, names, est, shares, held, wr, wi, a):
    """Rules 5 and 9, sizing: equity V = cash + holdings at the mark price, once, before the
    bar's first order. Each of the n tickers named on this bar (names[:n]) ends its working
    order; with V > 0 those with a fill price on bar d place a new one (Working: wr, wi), its
    rest the shares reaching target * V / fill, placed on d. Then, with V > 0, every working order with a fill
    price joins them. The bar's orders are names[:k], their estimated values (target * V -
    shares * fill for a new order, rest * fill for a working one; unslipped) est[:k]. Clears
    touched. Returns (k, V, the account with the working orders left)."""
    value = a.cash
    for h in range(a.n_held):
        j = held[h]
        value += shares[j] * mark[d, j]
    n_work = a.n_work
    k = 0
    n_live = 0 if value <= 0.0 else n
    for i in range(n):
        j = names[i]
        touched[j] = False
        if wi[AT, j] >= 0:  # a new decision replaces the working order
            n_work = unlist(j, wi, n_work)
        px = fill[d, j]
        if i < n_live and px == px:  # a ticker without a price at this bar is not traded
            names[k] = j
            est[k] = target[j] * value - shares[j] * px
            wr[REST, j] = target[j] * value / px - shares[j]
            wi[PLACED, j] = d
            k += 1
    if value > 0.0:
        for i in range(n_work):
            j = wi[LISTED, i]
            px = fill[d, j]
            if px == px:
                names[k] = j
                est[k] = wr[REST, j] * px
                k += 1
    return k, value, Account(a.cash, a.n_held, n_work, a.n_orders, a.traded, a.fees, a.interest)


@nb.njit(**_JIT)
def call_order(est, names, k, slots, spare):
    """Rule 5, call order: slots[:k] = positions 0..k-1 in ascending est, ties in column
    (names[position]) order: the biggest sell first, the biggest buy last (vectorbt's
    call_seq="auto"). A stable sort: insertion up to 64 orders, bottom-up merges through spare
    beyond."""
    for i in range(k):
        slots[i] = i
    if k <= 64:
        for i in range(1, k):
            b = i - 1
            while b >= 0 and (
                est[slots[b]] > est[i] or (est[slots[b]] == est[i] and names[slots[b]] > names[i])
            ):
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
                if j >= hi or (
                    i < mid
                    and (
                        est[slots[i]] < est[slots[j]]
                        or (est[slots[i]] == est[slots[j]] and names[slots[i]] <= names[slots[j]])
                    )
                ):
                    spare[o] = slots[i]
                    i += 1
                else:
                    spare[o] = slots[j]
                    j += 1
            lo = hi
        slots[:k] = spare[:k]
        width *= 2


@nb.njit(inline="always", **_JIT)
def allowed(d, j, q, vs, wr, wi, c):
    """Rule 9: (the shares of an order for q shares of ticker j that bar d allows, whether the
    cap cut them, the impact fraction I = k * sigma * sqrt(q / ADV) at that quantity). Under
    the cap p, at most p x the bar's volume less what j already filled on d, nothing without
    a volume; with impact k, nothing while ADV or sigma is missing or ADV is 0 (scale NaN)."""
    capped = False
    if c.participation > 0.0:
        room = c.participation * vs[VOLUME, d, j]
        if wi[TOOK_BAR, j] == d:
            room -= wr[TOOK, j]
        if not room > 0.0:  # no volume (NaN or 0), or the cap is used up
            room = 0.0
        if q > room:
            q = room
            capped = True
    impact = 0.0
    if c.impact > 0.0:
        s = vs[SCALE, d, j]
        if s != s:
            q = 0.0
        else:
            impact = c.impact * s * np.sqrt(q)
    return q, capped, impact


@nb.njit(**_JIT)
def cash_cut(q, px, slip, fees, impact, cash):
    """Rule 9's cash limit with impact: the q' <= q whose cost q' x price(q') x (1 + fees) is
    `cash`, price(q') = px * (1 + slip + I(q')), I(q') = impact * sqrt(q' / q) (the impact
    fraction scales with the square root of the quantity). Newton's method on x = sqrt(q'):
    the cost a x^2 + b x^3 is convex and rising, so from above the root it falls to it without
    overshooting. It starts from the smaller of sqrt(q) and the root without impact
    sqrt(cash / a) (both above the root), and stops once a step no longer moves x by more
    than a few units in the last place (rounding then decides the sign of the cost's excess)."""
    a = px * (1.0 + slip) * (1.0 + fees)
    b = px * impact * (1.0 + fees) / np.sqrt(q)
    x = np.sqrt(min(q, cash / a))
    for _ in range(100):
        g = a * x * x + b * x * x * x - cash
        step = g / (2.0 * a * x + 3.0 * b * x * x)
        if not step > 0.0:
            break
        x -= step
        if step <= 4e-16 * x:
            break
    return x * x, impact * x / np.sqrt(q)


@nb.njit(inline="always", **_JIT)
def record(orders, n_orders, d, j, qty, price, fee, impact_paid):
    """One fill as a row of ORDER_FIELDS, when `orders` has room for it (its rows: the run's
    order_cap); qty signed."""
    if n_orders < orders.shape[0]:
        orders[n_orders, 0] = d
        orders[n_orders, 1] = j
        orders[n_orders, 2] = 1.0 if qty > 0 else -1.0
        orders[n_orders, 3] = abs(qty)
        orders[n_orders, 4] = price
        orders[n_orders, 5] = fee
        orders[n_orders, 6] = impact_paid


@nb.njit(inline="always", **_JIT)
def took_share(q, vol, a_max, a_sum, a_n):
    """A fill of q shares on a bar with volume `vol` into the volume-share totals (the largest,
    the sum, the count); a bar without a finite volume above 0 adds nothing."""
    if vol > 0.0 and vol < np.inf:
        share = q / vol
        return (share if share > a_max else a_max), a_sum + share, a_n + 1
    return a_max, a_sum, a_n


@nb.njit(inline="always", **_JIT)
def execute_orders(d, k, value, fill, vs, c, names, slots, shares, held, where, wr, wi, a, f, orders):
    """Rules 5 and 9, fills: the orders of names[:k] (size_orders) in call order (slots). An
    order whose rest is at most MIN_SHARES ends unfilled. Otherwise it offers what the bar
    allows (`allowed`: the cap, and no volume statistics under impact); a cap cut counts in
    wr[BINDS, j]. Buys fill at fill * (1 + slippage + I), sells at
    fill * max(1 - slippage - I, 0), each paying fees on its traded value. Without borrowing
    (c.can_borrow) a buy that needs more than the cash left (fee included) is cut to what the
    cash pays for (`cash_cut`; cash then exactly 0), and none is placed with no cash left; the
    cut part is dropped. What was not offered stays working. Keeps held/where and the working
    list in step and records each fill in `orders`. Returns the account and the fill totals
    (Fills `f`) after the bar."""
    fees, slip = c.fees, c.slippage
    rule9 = c.participation > 0.0 or c.impact > 0.0
    cash, n_held, n_work, n_orders = a.cash, a.n_held, a.n_work, a.n_orders
    traded, fees_paid = a.traded, a.fees
    slipped, impact_paid, max_share, sum_share, n_share, n_partial, max_wait = f
    for i in range(k):
        j = names[slots[i]]
        px = fill[d, j]
        want = wr[REST, j]
        if abs(want) <= MIN_SHARES:
            if wi[AT, j] >= 0:
                n_work = unlist(j, wi, n_work)
            continue
        q, capped, impact = abs(want), False, 0.0
        if rule9:
            q, capped, impact = allowed(d, j, q, vs, wr, wi, c)
            if capped:
                wr[BINDS, j] += 1.0
        left = want - q if want > 0.0 else want + q  # what the bar does not offer stays working
        wr[REST, j] = left
        if abs(left) <= MIN_SHARES:
            if wi[AT, j] >= 0:
                n_work = unlist(j, wi, n_work)
        elif wi[AT, j] < 0:
            wi[AT, j] = n_work
            wi[LISTED, n_work] = j
            n_work += 1
        if q <= MIN_SHARES:
            continue
        cut = False
        if want < 0.0:
            factor = 1.0 - slip - impact
            price = px * (factor if factor > 0.0 else 0.0)
        else:
            price = px * (1.0 + slip + impact)
            if not c.can_borrow:
                if cash <= 0.0:
                    continue
                if q * price * (1.0 + fees) > cash:
                    if impact > 0.0:
                        q, impact = cash_cut(q, px, slip, fees, impact, cash)
                        price = px * (1.0 + slip + impact)
                    else:
                        q = cash / (1.0 + fees) / price
                    cut = True
        worth = q * price
        fee = worth * fees
        traded += worth
        fees_paid += fee
        slipped += q * px * slip
        paid = q * px * impact
        impact_paid += paid
        delta = q if want > 0.0 else -q
        cash = cash - delta * price - fee
        if cut:
            cash = 0.0  # a cut buy spends the cash exactly
        shares[j] += delta
        record(orders, n_orders, d, j, delta, price, fee, paid)
        n_orders += 1
        max_share, sum_share, n_share = took_share(q, vs[VOLUME, d, j], max_share, sum_share, n_share)
        if rule9:
            if capped:
                n_partial += 1
            if d - wi[PLACED, j] > max_wait:
                max_wait = d - wi[PLACED, j]
            if c.participation > 0.0:  # what the cap has left on this bar
                if wi[TOOK_BAR, j] == d:
                    wr[TOOK, j] += q
                else:
                    wi[TOOK_BAR, j] = d
                    wr[TOOK, j] = q
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
    return (
        Account(cash, n_held, n_work, n_orders, traded, fees_paid, a.interest),
        Fills(slipped, impact_paid, max_share, sum_share, n_share, n_partial, max_wait),
    )


@nb.njit(inline="always", **_JIT)
def delist(d, m, c, shares, held, where, wr, wi, a, f, orders):
    """Rules 6 and 9: after bar d's orders, each holding whose ticker's last bar is d
    (last_bar) is closed at d's close, in full or as far as rule 9 allows (`allowed`; the
    rest is held on, valued at its last close): a sale at close * max(1 - slippage - I, 0), or
    a cover of a short at close * (1 + slippage + I), paying fees, even if the cover takes
    cash below zero. Then the working orders of tickers delisted on d are cancelled. Returns
    the account and the fill totals after the closes."""
    close, last_bar = m.close, m.last_bar
    cash, n_held, n_work, n_orders = a.cash, a.n_held, a.n_work, a.n_orders
    traded, fees_paid = a.traded, a.fees
    slipped, impact_paid, max_share, sum_share, n_share, n_partial, max_wait = f
    h = 0
    while h < n_held:
        j = held[h]
        if last_bar[j] != d:
            h += 1
            continue
        qty = -shares[j]
        q, capped, impact = abs(qty), False, 0.0
        if c.participation > 0.0 or c.impact > 0.0:
            q, capped, impact = allowed(d, j, q, m.vs, wr, wi, c)
        if q <= MIN_SHARES:
            h += 1
            continue
        px = close[d, j]
        if qty > 0.0:
            price = px * (1.0 + c.slippage + impact)
        else:
            factor = 1.0 - c.slippage - impact
            price = px * (factor if factor > 0.0 else 0.0)
        worth = q * price
        fee = worth * c.fees
        traded += worth
        fees_paid += fee
        slipped += q * px * c.slippage
        paid = q * px * impact
        impact_paid += paid
        delta = q if qty > 0.0 else -q
        cash = cash - delta * price - fee
        record(orders, n_orders, d, j, delta, price, fee, paid)
        n_orders += 1
        max_share, sum_share, n_share = took_share(q, m.vs[VOLUME, d, j], max_share, sum_share, n_share)
        if capped:
            n_partial += 1
            shares[j] += delta  # held on past its last bar (rule 9)
            h += 1
            continue
        shares[j] = 0.0
        n_held -= 1  # the last holding takes slot h, which is looked at next
        last = held[n_held]
        held[h] = last
        where[last] = h
        where[j] = -1
    i = 0
    while i < n_work:
        j = wi[LISTED, i]
        if last_bar[j] == d:
            n_work = unlist(j, wi, n_work)  # the last one takes slot i
        else:
            i += 1
    return (
        Account(cash, n_held, n_work, n_orders, traded, fees_paid, a.interest),
        Fills(slipped, impact_paid, max_share, sum_share, n_share, n_partial, max_wait),
    )


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
def wipe_out(shares, held, where, wi, a):
    """Rule 8 (the caller has seen equity <= 0 at a close): the positions are written off, the
    working orders cancelled and cash is 0; the run's equity is 0 from this close on and it
    places no more orders (the caller stops executing bars). Returns the emptied account."""
    for h in range(a.n_held):
        shares[held[h]] = 0.0
        where[held[h]] = -1
    for i in range(a.n_work):
        wi[AT, wi[LISTED, i]] = -1
    return Account(0.0, 0, 0, a.n_orders, a.traded, a.fees, a.interest)


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
def run_one(r, first, stop, t, m, c, rf_d, book, w, p, out):
    """Simulate run r (entries t.lo[r]:t.hi[r]) on bars first..stop - 1 of market m with
    frictions c (rf_d: the risk-free rate per period, for the downside accumulator); scratch
    book, w and p; writes out.acc[:, r], its daily rows (row d - first), its orders and its
    cap counts (see Outputs)."""
    n_tk = m.close.shape[1]
    bar, col, weight = t.bar, t.col, t.weight
    close, delist_day = m.close, m.delist_day
    shares, held, where = book.shares, book.held, book.where
    target, touched, names, est, slots, spare = p.target, p.touched, p.names, p.est, p.slots, p.spare
    if out.orders.shape[0] > 0:
        lo = out.order_lo[r]
        orders = out.orders[lo : lo + out.order_cap[r]]
    else:
        orders = out.orders
    wr, wi = w.real, w.index
    equity_out, cash_out, shares_out = out.equity, out.cash, out.shares
    rec_equity = equity_out.shape[0] > 0
    rec_shares = shares_out.shape[0] > 0
    accrue = c.d_cash != 0.0 or c.d_financing != 0.0 or c.d_borrow != 0.0
    for j in range(n_tk):
        shares[j] = 0.0
        where[j] = -1
        touched[j] = False
        wi[AT, j] = -1
        wi[TOOK_BAR, j] = -1
        wr[BINDS, j] = 0.0
    init_cash = c.init_cash[r]
    a = Account(init_cash, 0, 0, 0, 0.0, 0.0, 0.0)
    f = Fills(0.0, 0.0, 0.0, 0.0, 0, 0, 0)
    tally = Tally(init_cash, init_cash, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    prev_cash = init_cash
    prev_short = 0.0
    wiped = False
    e, e_end = t.lo[r], t.hi[r]
    for d in range(first, stop):
        if not wiped:
            if accrue:
                a = accrue_interest(a, prev_cash, prev_short, c)  # rule 4
            new = e < e_end and bar[e] <= d
            if new or a.n_work > 0:  # rules 1, 3, 5 and 9
                n = 0
                if new:
                    e, n = collect_targets(d, e, e_end, bar, col, weight, d == first, target, touched, names)
                k, value, a = size_orders(
                    d,
                    n,
                    m.fill,
                    m.mark,
                    target,
                    touched,
                    names,
                    est,
                    shares,
                    held,
                    wr,
                    wi,
                    a,
                )
                call_order(est, names, k, slots, spare)
                a, f = execute_orders(
                    d, k, value, m.fill, m.vs, c, names, slots, shares, held, where, wr, wi, a, f, orders
                )
        if delist_day[d] and (a.n_held > 0 or a.n_work > 0):
            a, f = delist(d, m, c, shares, held, where, wr, wi, a, f, orders)  # rules 6 and 9
        equity, gross, short = value_at_close(d, close, shares, held, a)  # rule 7
        if not wiped and equity <= 0.0:  # rule 8
            wiped = True
            a = wipe_out(shares, held, where, wi, a)
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
    acc[SLIPPAGE, r] = f.slipped
    acc[IMPACT, r] = f.impact
    acc[MAX_SHARE, r] = f.max_share
    acc[SUM_SHARE, r] = f.sum_share
    acc[N_SHARE, r] = f.n_share
    acc[N_PARTIAL, r] = f.n_partial
    acc[MAX_WAIT, r] = f.max_wait
    out.order_n[r] = a.n_orders
    if out.binds.shape[0] > 0:
        for j in range(n_tk):
            out.binds[r, j] = wr[BINDS, j]


@nb.njit(parallel=True, **_JIT)
def simulate(n_threads, first, stop, t, m, c, rf_d, out):
    """Every run r of t on its own bars first[r]..stop[r] - 1 (int64 arrays), interleaved over
    the threads (thread b: runs b, b + n_threads, ...), each thread with one set of scratch
    arrays. Runs are independent: the thread count never changes a result."""
    n_tk = m.close.shape[1]
    for b in nb.prange(n_threads):
        book = Book(np.empty(n_tk), np.empty(n_tk, dtype=np.int64), np.empty(n_tk, dtype=np.int64))
        w = Working(np.zeros((3, n_tk)), np.zeros((4, n_tk), dtype=np.int64))
        p = Pending(
            np.empty(n_tk),
            np.empty(n_tk, dtype=np.bool_),
            np.empty(n_tk, dtype=np.int64),
            np.empty(n_tk),
            np.empty(n_tk, dtype=np.int64),
            np.empty(n_tk, dtype=np.int64),
        )
        for r in range(b, t.lo.size, n_threads):
            run_one(r, first[r], stop[r], t, m, c, rf_d, book, w, p, out)
