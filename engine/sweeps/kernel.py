"""A compiled parameter sweep of the oversold-rebound rule: many (X, H) combinations over one
close array, each reduced on the fly to the few numbers a sweep reports.

The rule (one combination, equity in multiples of the starting cash, which is 1.0):
- A name is oversold on day t if its one-day return close[t] / close[t-1] - 1 <= -X. Returns
  start inside the window: the first one is on its second day (day 0 has none), so the first
  possible buy is on day 2. A NaN close (before listing) gives no return, hence no signal.
- It is bought at the close of t+1 for weight * E, where E = cash + holdings marked at that
  day's closes *before* that day's trades (before its sells, too). It is sold at the close of
  the day H trading days after entry. A signal whose buy day falls while the name is held
  (its exit day included) is ignored.
- Each day: sells first, then buys in `order` (indices into the columns; default: column
  order). A fee is paid on top of each trade: a buy of value v costs v * (1 + fee), a sell of
  value v yields v * (1 - fee). When cash is short a buy is partly filled with what cash allows,
  fee included (v = cash / (1 + fee)); with no cash at all the signal buys nothing and the name
  stays free for later signals. No leverage, no shorting, fractional shares.
- Positions still open at the end are valued at the last close (no exit fee).
- A holding is marked at its last known close on a day whose close is NaN; a buy needs a close.

Accumulators, per combination (the rows of ACC_FIELDS; combinations are the columns):
    final          equity at the last close / starting cash
    sum_r, sum_r2  sum and sum of squares of the daily returns; day 0's return is measured
                   against the starting cash (as engine.stats.daily_returns does)
    n              number of daily returns (= days in the window)
    sum_down2      sum of min(r - rf_per_period, 0) ** 2 (Sortino's downside)
    max_dd         min over days of equity / running peak - 1, the peak starting at 1.0
    n_orders       orders filled (buys + sells; open positions at the end are not sold)
    traded         traded value, buys + sells, before fees
    sum_equity     sum of the daily equity (turnover = traded / mean equity)
    sum_exposure   sum of invested value / equity at each close (exposure = its mean)
    days_invested  days that closed with any position
    fees           fees paid
    n_partial      buys partly filled because cash was short

`stats_from_accumulators` turns these into the engine's stats (engine/metrics.py and
engine/stats.py conventions); engine.sweep builds the user-facing table on them.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from engine.metrics import PERIODS

ACC_FIELDS = (
    "final",
    "sum_r",
    "sum_r2",
    "n",
    "sum_down2",
    "max_dd",
    "n_orders",
    "traded",
    "sum_equity",
    "sum_exposure",
    "days_invested",
    "fees",
    "n_partial",
)
ACC = {name: i for i, name in enumerate(ACC_FIELDS)}
N_ACC = len(ACC_FIELDS)

# Combinations per kernel call in `sweep_accumulators`; the output of one call is
# N_ACC x CHUNK float64 (13 x 65536 x 8 B = 6.8 MB), and nothing else grows with the grid.
CHUNK = 65_536


@nb.njit(cache=True, nogil=True)
def _prepare(close):
    """Signal returns by buy day (sig[d] = return of day d-1, NaN when undefined), their row
    minimum, and marking prices (close forward-filled, 0.0 before the first close)."""
    n_days, n_names = close.shape
    sig = np.full((n_days, n_names), np.nan)
    px = np.zeros((n_days, n_names))
    min_sig = np.full(n_days, np.inf)
    for j in range(n_names):
        last = 0.0
        for d in range(n_days):
            c = close[d, j]
            if c == c:
                last = c
            px[d, j] = last
            if d >= 2:
                r = close[d - 1, j] / close[d - 2, j] - 1.0
                sig[d, j] = r
                if r < min_sig[d]:
                    min_sig[d] = r
    return sig, px, min_sig


@nb.njit(cache=True, nogil=True)
def _run_one(close, px, sig, min_sig, x, h, fee, weight, rf_per_period, order, shares, exit_day, out, k):
    """Simulate combination k (threshold x, holding h) and write its accumulators to out[:, k].
    `shares` and `exit_day` are scratch arrays of length n_names."""
    n_days, n_names = close.shape
    for j in range(n_names):
        shares[j] = 0.0
        exit_day[j] = -1
    neg_x = -x
    buy_cost = 1.0 + fee
    sell_keep = 1.0 - fee
    cash = 1.0
    n_held = 0
    next_exit = n_days
    prev = 1.0
    peak = 1.0
    max_dd = 0.0
    sum_r = 0.0
    sum_r2 = 0.0
    sum_down2 = 0.0
    sum_equity = 0.0
    sum_exposure = 0.0
    days_invested = 0
    n_orders = 0
    traded = 0.0
    fees = 0.0
    n_partial = 0
    for d in range(n_days):
        invested = 0.0
        if n_held > 0:
            for j in range(n_names):
                invested += shares[j] * px[d, j]
        equity_before = cash + invested
        changed = False
        if next_exit == d:
            nxt = n_days
            for j in range(n_names):
                if shares[j] > 0.0:
                    if exit_day[j] == d:
                        value = shares[j] * px[d, j]
                        cash += value * sell_keep
                        fees += value * fee
                        traded += value
                        n_orders += 1
                        shares[j] = 0.0
                        n_held -= 1
                        changed = True
                    elif exit_day[j] < nxt:
                        nxt = exit_day[j]
            next_exit = nxt
        if min_sig[d] <= neg_x:
            for o in range(n_names):
                j = order[o]
                if sig[d, j] <= neg_x and exit_day[j] < d:
                    price = close[d, j]
                    if not price > 0.0:
                        continue
                    value = weight * equity_before
                    if value * buy_cost > cash:
                        value = cash / buy_cost
                        if not value > 0.0:
                            continue
                        cash = 0.0
                        n_partial += 1
                    else:
                        cash -= value * buy_cost
                    shares[j] = value / price
                    exit_day[j] = d + h
                    if d + h < next_exit:
                        next_exit = d + h
                    fees += value * fee
                    traded += value
                    n_orders += 1
                    n_held += 1
                    changed = True
        if changed:
            invested = 0.0
            if n_held > 0:
                for j in range(n_names):
                    invested += shares[j] * px[d, j]
        equity = cash + invested
        r = equity / prev - 1.0
        sum_r += r
        sum_r2 += r * r
        e = r - rf_per_period
        if e < 0.0:
            sum_down2 += e * e
        sum_equity += equity
        sum_exposure += invested / equity
        if n_held > 0:
            days_invested += 1
        if equity > peak:
            peak = equity
        dd = equity / peak - 1.0
        if dd < max_dd:
            max_dd = dd
        prev = equity
    out[0, k] = prev
    out[1, k] = sum_r
    out[2, k] = sum_r2
    out[3, k] = n_days
    out[4, k] = sum_down2
    out[5, k] = max_dd
    out[6, k] = n_orders
    out[7, k] = traded
    out[8, k] = sum_equity
    out[9, k] = sum_exposure
    out[10, k] = days_invested
    out[11, k] = fees
    out[12, k] = n_partial


@nb.njit(nogil=True, parallel=True)  # not cached: numba cannot cache its prange machinery
def sweep_kernel(close, xs, hs, fee, weight, rf_per_period, order):
    """Accumulators (N_ACC x len(xs)) of every combination (xs[k], hs[k]) over `close`
    (float64, days x names, NaN before listing). Combinations are spread over the threads by
    prange, interleaved (thread b takes k = b, b + n_threads, ...) so that the costly small-X
    combinations of an X-major grid are shared evenly."""
    n_names = close.shape[1]
    n = xs.size
    sig, px, min_sig = _prepare(close)
    out = np.empty((N_ACC, n))
    n_threads = min(nb.get_num_threads(), max(n, 1))
    for b in nb.prange(n_threads):
        shares = np.empty(n_names)
        exit_day = np.empty(n_names, dtype=np.int64)
        for k in range(b, n, n_threads):
            _run_one(
                close,
                px,
                sig,
                min_sig,
                xs[k],
                hs[k],
                fee,
                weight,
                rf_per_period,
                order,
                shares,
                exit_day,
                out,
                k,
            )
    return out


@nb.njit(cache=True, nogil=True)
def sweep_kernel_serial(close, xs, hs, fee, weight, rf_per_period, order):
    """`sweep_kernel` on one thread (same arithmetic, bit-identical results)."""
    n_names = close.shape[1]
    n = xs.size
    sig, px, min_sig = _prepare(close)
    out = np.empty((N_ACC, n))
    shares = np.empty(n_names)
    exit_day = np.empty(n_names, dtype=np.int64)
    for k in range(n):
        _run_one(
            close, px, sig, min_sig, xs[k], hs[k], fee, weight, rf_per_period, order, shares, exit_day, out, k
        )
    return out


def rf_per_period(rf: float, periods: int = PERIODS) -> float:
    """The annual risk-free rate as a per-period rate, geometrically (as engine.metrics)."""
    return (1.0 + rf) ** (1.0 / periods) - 1.0


def grid(xs, hs) -> tuple[np.ndarray, np.ndarray]:
    """Every (X, H) pair, X-major: (X[0], H[0]), (X[0], H[1]), ..."""
    x, h = np.meshgrid(np.asarray(xs, dtype=np.float64), np.asarray(hs, dtype=np.int64), indexing="ij")
    return x.ravel(), h.ravel()


def sweep_accumulators(
    close,
    xs,
    hs,
    *,
    fee: float = 0.0005,
    weight: float | None = None,
    rf: float = 0.0,
    periods: int = PERIODS,
    order=None,
    parallel: bool = True,
    chunk: int = CHUNK,
) -> np.ndarray:
    """Accumulators (N_ACC x n, rows named by ACC_FIELDS) of the combinations (xs[k], hs[k]).

    `close`: days x names (array or DataFrame, NaN before listing). `weight`: fraction of
    equity per buy, default 1 / number of names. `order`: the buy order as column indices,
    default the column order. `rf` (annual) only enters `sum_down2`; pass the same `rf` and
    `periods` to `stats_from_accumulators`. Combinations run `chunk` at a time.
    """
    c = np.ascontiguousarray(np.asarray(close, dtype=np.float64))
    if c.ndim != 2 or c.shape[0] < 1 or c.shape[1] < 1:
        raise ValueError(f"close must be a non-empty days x names array, got shape {c.shape}")
    xs = np.ascontiguousarray(np.asarray(xs, dtype=np.float64).ravel())
    hs_in = np.asarray(hs).ravel()
    hs = np.ascontiguousarray(hs_in.astype(np.int64))
    if xs.shape != hs.shape:
        raise ValueError(f"xs and hs must pair up, got {xs.size} and {hs.size} values")
    if np.any(hs != hs_in) or np.any(hs < 1):
        raise ValueError("holding periods H must be whole numbers of days >= 1")
    if np.any(np.isnan(xs)):
        raise ValueError("thresholds X must not be NaN")
    n_names = c.shape[1]
    weight = 1.0 / n_names if weight is None else float(weight)
    if not 0.0 < weight <= 1.0:
        raise ValueError(f"weight must be in (0, 1], got {weight}")
    if not fee >= 0.0:
        raise ValueError(f"fee must be >= 0, got {fee}")
    order = np.arange(n_names) if order is None else np.asarray(order)
    order = np.ascontiguousarray(order.astype(np.int64))
    if sorted(order.tolist()) != list(range(n_names)):
        raise ValueError("order must be a permutation of the column indices")
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    kernel = sweep_kernel if parallel else sweep_kernel_serial
    rf_d = rf_per_period(rf, periods)
    out = np.empty((N_ACC, xs.size))
    for lo in range(0, xs.size, chunk):
        hi = min(lo + chunk, xs.size)
        out[:, lo:hi] = kernel(c, xs[lo:hi], hs[lo:hi], float(fee), weight, rf_d, order)
    return out


def stats_from_accumulators(
    acc, rf: float = 0.0, periods: int = PERIODS, min_years: float = 1.0
) -> dict[str, np.ndarray]:
    """The stats of each combination from its accumulators (N_ACC x n, or N_ACC), with the
    conventions of engine/metrics.py and engine/stats.py: `periods` per year, `rf` annual and
    de-annualised geometrically (it must be the `rf` the accumulators were made with), Sharpe
    with ddof=1 and NaN without dispersion, Sortino's downside over all n returns, CAGR NaN
    under `min_years`, max drawdown negative, Calmar NaN without a drawdown, turnover = traded
    value / mean equity, exposure = mean invested fraction of equity. Also final_equity (as a
    multiple of the starting cash), volatility, time_in_market (fraction of days closing with a
    position), fees_paid and n_partial. A pure function of its inputs."""
    a = np.asarray(acc, dtype=np.float64)
    if a.shape[0] != N_ACC:
        raise ValueError(f"acc must have {N_ACC} rows ({', '.join(ACC_FIELDS)}), got {a.shape}")
    f = {name: a[i] for i, name in enumerate(ACC_FIELDS)}
    n = f["n"]
    rf_d = rf_per_period(rf, periods)
    with np.errstate(invalid="ignore", divide="ignore"):
        has = n > 0
        final = f["final"]
        years_ok = has & (n / periods >= min_years)
        cagr = np.where(
            years_ok & (final > 0),
            np.where(final > 0, final, np.nan) ** (periods / np.where(has, n, np.nan)) - 1.0,
            np.nan,
        )
        mean_r = f["sum_r"] / n
        var = (f["sum_r2"] - f["sum_r"] * mean_r) / (n - 1)
        sd = np.sqrt(np.maximum(var, 0.0))
        mean_ex = mean_r - rf_d
        ok = (n > 1) & (sd > 1e-14 * np.maximum(np.abs(mean_ex), 1e-300))
        sharpe = np.where(ok, mean_ex / sd * np.sqrt(periods), np.nan)
        down = np.sqrt(f["sum_down2"] / n)
        sortino = np.where(has & (down > 0), mean_ex / down * np.sqrt(periods), np.nan)
        max_dd = np.where(has, f["max_dd"], np.nan)
        calmar = np.where(max_dd < 0, cagr / np.abs(max_dd), np.nan)
        stats = {
            "final_equity": final,
            "total_return": np.where(has, final - 1.0, np.nan),
            "cagr": cagr,
            "volatility": np.where(n > 1, sd * np.sqrt(periods), np.nan),
            "sharpe": sharpe,
            "sortino": sortino,
            "max_drawdown": max_dd,
            "calmar": calmar,
            "n_trades": f["n_orders"].astype(np.int64),
            "turnover": f["traded"] / (f["sum_equity"] / n),
            "exposure": f["sum_exposure"] / n,
            "time_in_market": f["days_invested"] / n,
            "fees_paid": f["fees"],
            "n_partial": f["n_partial"].astype(np.int64),
        }
    return stats
