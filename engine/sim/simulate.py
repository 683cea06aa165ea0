"""Target weights -> simulated portfolios, on the compiled simulator (engine.sim.kernel).

The rules, in the order they apply each day (the reference simulator in the tests is
written from this text, not from the code):
1. A target dated t is a decision taken after day t's close (or on a non-trading day t).
   It is executed on the next bar after t, at the fill price: with `Costs.fill == "open"`
   (default) that bar's open where the ticker has opens, else its close; with
   `fill == "close"` that bar's close. So a signal computed from day t's close never trades
   at day t's close.
2. NaN means "no order for this ticker" (its shares stay as they are); 0 means "hold none".
   Weights are fractions of equity; a negative weight is a short position. The gross
   exposure of a decision (the sum of |w| over the tickers it sets) may not exceed
   `Costs.max_gross` (default 1: no leverage); a schedule that does is refused.
3. Before the first simulated day, each ticker's latest target decided earlier (if any) is
   carried into the first bar, so a strategy that chose its holdings before `start` holds
   them from `start` on.
4. Interest, first thing each day (before its orders), on the balances of the previous
   close (on the first day: the initial cash): cash >= 0 earns d(cash_rate), cash < 0 pays
   d(financing), and the market value of short positions (|shares| x previous close) pays
   d(borrow_fee), where d(r) = (1 + r) ** (1 / 252) - 1 (the configured trading days).
   So 2x SPY rebalanced daily at the close with no costs and 5% financing returns exactly
   2 r_SPY - d(0.05) a day, and -1x SPY with a 3% borrow fee returns -r_SPY - d(0.03).
5. At an execution bar, equity V = cash + sum(shares_i * price_i), each holding at its fill
   price (at its last close if it has no price at that bar); with V <= 0 no order is placed.
   Each ticker's order is the shares that reach w_i * V / fill_price_i; an order of at most
   1e-12 shares is not placed. Orders execute in ascending order of their estimated value
   w_i * V - shares_i * fill_price_i (V and the estimates taken once, before the bar's first
   order, at the unslipped fill prices; ties in column order): the biggest sell first, then
   the smaller sells, then the buys from the smallest to the biggest (vectorbt's
   call_seq="auto"). A buy (or a cover) fills at fill_price * (1 + slippage), a sell (or a
   short sale) at fill_price * (1 - slippage); each order pays `fees` times its traded
   value. Sale and short-sale proceeds are credited to cash. Without leverage (max_gross <=
   1) a buy that needs more cash than is left, fee included, is cut to what the cash pays
   for, and with no cash left it is not placed; with max_gross > 1 buys are never cut and
   cash may go negative (borrowed). A ticker with no price at that bar (not yet listed, or
   delisted) is not traded.
6. Delisting: a ticker whose data ends before the last day of the price data is delisted
   on its last bar: after that bar's orders, a holding in it is closed in full at that
   bar's close (a sale, or a cover of a short, with slippage and fees as in rule 5, even if
   the cover takes cash below zero).
7. Every day is valued at the close: equity = cash + sum(shares_i * close_i), a ticker
   without a close that day at its last close.
8. Equity at or below zero at a close ends the run: it is wiped out, its positions are
   written off, its equity is 0 from that close on (that day's return is -100%, later
   ones 0) and it places no more orders.
9. Volume and impact, with `Costs.participation` p or `Costs.impact` k set (without either,
   no order is ever carried over and rules 1-8 are all there is). For each ticker and bar d,
   ADV_d is the mean volume and sigma_d the sample standard deviation (ddof 1) of the
   close-to-close returns, both over the 20 bars before d (d-20..d-1; so both are known
   before bar d), missing while any of those bars lacks a volume or a return.
   - Orders. An order's size is fixed when it is placed (rule 5: the shares reaching
     w * V / fill_price). Each bar it fills at most what the bar allows; the rest stays a
     working order on the next bars, filled in turn, until nothing is left. A new decision
     for the ticker replaces its working order (even one that cannot be placed); a run's
     working orders are cancelled when it is wiped out (rule 8), and a ticker's when it is
     delisted (after rule 6). Working orders run with the bar's new orders in rule 5's
     order, their estimated value the rest x the unslipped fill price; at V <= 0 none fills.
   - The cap (p). The fills of a ticker on one bar (its order and a delisting exit together)
     take at most p x that bar's volume; a ticker with no volume, or 0, at a bar fills
     nothing there. A fill cut by the cap is a partial fill.
   - Impact (k). A fill of q shares moves its price against the order by the fraction
     I = k * sigma_d * sqrt(q / ADV_d), on top of the slippage: a buy fills at
     fill_price * (1 + slippage + I), a sale at fill_price * max(1 - slippage - I, 0). A ticker
     whose ADV_d or sigma_d is missing, or ADV_d is 0, fills nothing at d.
   - Cash. Rule 5's cash limit applies to what the bar allows (the capped quantity): a buy
     cut for cash buys the q whose cost q x price(q) x (1 + fees) is the cash left (the price
     with its impact at q), and what the cash cut is dropped, not carried; what the cap cut
     still is.
   - Delisting. Rule 6's exit is capped like any fill: what the cap leaves is held on,
     valued at its last close (rule 7), and can no longer be traded.
   - Close-only tickers have no volume: with p or k set a schedule naming one is refused,
     unless `Costs.no_volume == "ok"`, which fills them without cap and impact.
Every run (parameter set) has its own cash; all runs of a call are simulated together,
spread over the CPU's threads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np
import pandas as pd

from engine.config import TRADING_DAYS
from engine.data.derived import per_panel
from engine.data.panel import Prices
from engine.errors import AishockError
from engine.sim import kernel
from engine.strategy.schedule import Schedule

# The largest initial cash: cash x max_gross (<= 100) x any plausible price move stays far from
# the largest float (1.8e308); a run whose numbers still overflow is refused (`execute`).
MAX_CASH = 1e15


def _fraction(name: str, value, upper: float) -> None:
    if not (isinstance(value, int | float) and 0 <= value < upper):
        raise AishockError(f"{name} must be a fraction from 0 to below {upper:g}, got {value}")


@dataclass(frozen=True)
class Costs:
    """Trading frictions, capital and leverage.

    fees: fraction of each order's traded value paid as commission (0.0005 = 5 bp).
    slippage: fraction by which fills are worse than the fill price (0.0005 = 5 bp).
    init_cash: starting equity in currency units, above 0 and at most MAX_CASH.
    fill: "open" fills at the next bar's open (close for close-only tickers), "close" at the
        next bar's close.
    max_gross: the largest gross exposure (sum of |weights|) a decision may have; above 1
        buys may borrow cash.
    cash_rate, financing, borrow_fee: annual rates (fractions) earned on positive cash, paid
        on borrowed cash, paid on the market value of short positions (rule 4).
    participation: the largest fraction of a bar's volume one ticker's fills may take (rule 9;
        0.1 = 10 %), above 0 and at most 1; None: no cap (rules 1-8 exactly).
    impact: the coefficient k of rule 9's square-root impact, k * sigma * sqrt(q / ADV) as a
        fraction of the fill price; 0: none.
    no_volume: "refuse" (a schedule naming a close-only ticker, which has no volume, is
        refused when participation or impact is set) or "ok" (such tickers fill uncapped and
        without impact; the run lists them).
    """

    fees: float = 0.0005
    slippage: float = 0.0005
    init_cash: float = 100_000.0
    fill: str = "open"
    max_gross: float = 1.0
    cash_rate: float = 0.0
    financing: float = 0.0
    borrow_fee: float = 0.0
    participation: float | None = None
    impact: float = 0.0
    no_volume: str = "refuse"

    def __post_init__(self):
        if self.fill not in ("open", "close"):
            raise AishockError(f"fill must be 'open' or 'close', got '{self.fill}'")
        p = self.participation
        if p is not None and not (isinstance(p, int | float) and not isinstance(p, bool) and 0 < p <= 1):
            raise AishockError(
                f"participation must be a fraction of a bar's volume above 0 and at most 1 "
                f"(0.1 = 10 %), got {p}"
            )
        k = self.impact
        if not (isinstance(k, int | float) and not isinstance(k, bool) and 0 <= k <= 100):
            raise AishockError(f"impact must be a coefficient from 0 to 100 (e.g. 1.0), got {k}")
        if self.no_volume not in ("refuse", "ok"):
            raise AishockError(f"no_volume must be 'refuse' or 'ok', got '{self.no_volume}'")
        for name in ("fees", "slippage"):
            _fraction(name, getattr(self, name), 0.5)
        for name in ("cash_rate", "financing", "borrow_fee"):
            _fraction(name, getattr(self, name), 1.0)
        if not (isinstance(self.init_cash, int | float) and 0 < self.init_cash <= MAX_CASH):
            raise AishockError(
                f"init_cash must be a positive number up to {MAX_CASH:.0e} (--cash; larger sums "
                f"could overflow), got {self.init_cash}"
            )
        if not (isinstance(self.max_gross, int | float) and 0 < self.max_gross <= 100):
            raise AishockError(f"max_gross must be a number above 0 and at most 100, got {self.max_gross}")

    @property
    def volume_aware(self) -> bool:
        """Whether rule 9 applies: a cap or an impact is set."""
        return self.participation is not None or self.impact > 0

    def frictions(self, periods: int, cash: np.ndarray) -> kernel.Frictions:
        """What the kernel reads (engine.sim.kernel.Frictions), the rates per period (rule 4),
        `cash` the initial cash of each run."""
        return kernel.Frictions(
            self.fees,
            self.slippage,
            np.ascontiguousarray(cash, dtype=np.float64),
            self.max_gross > 1.0,
            per_period(self.cash_rate, periods),
            per_period(self.financing, periods),
            per_period(self.borrow_fee, periods),
            float(self.participation or 0.0),
            float(self.impact),
        )


def per_period(rate: float, periods: int) -> float:
    """d(r) of rule 4: an annual rate as a rate per period, (1 + r) ** (1 / periods) - 1."""
    return (1.0 + rate) ** (1.0 / periods) - 1.0


VOLUME_BARS = 20  # rule 9: ADV and sigma are taken over the 20 bars before a bar


def volume_stats(close: pd.DataFrame, volume: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Rule 9's (ADV, sigma) at each bar (days x tickers): the mean volume and the sample
    standard deviation (ddof 1) of the close-to-close returns over the VOLUME_BARS bars before
    it, NaN while any of those bars lacks a volume or a return."""
    returns = close.pct_change(fill_method=None)
    adv = volume.rolling(VOLUME_BARS, min_periods=VOLUME_BARS).mean().shift(1)
    sigma = returns.rolling(VOLUME_BARS, min_periods=VOLUME_BARS).std(ddof=1).shift(1)
    return adv.to_numpy(np.float64, copy=True), sigma.to_numpy(np.float64, copy=True)


@dataclass(frozen=True)
class Market:
    """The arrays the kernel reads for `tickers` (days x tickers, float64): fill (NaN: not
    tradable that bar), mark (sizing price: fill, else last close), close (last close, NaN
    before the first; a delisted ticker keeps its last), last_bar (a delisted ticker's last
    bar, else len(index)), delist_day (any delisting that day), and vs, rule 9's volume and
    impact scale sigma / sqrt(ADV) stacked (2 x days x tickers, as kernel.MarketArrays reads
    them; `volume_stats`; the scale NaN where either is missing or ADV is 0); for the
    `uncapped` tickers (close-only, filled without cap or impact) an infinite volume and a
    scale of 0."""

    index: pd.DatetimeIndex
    tickers: list[str]
    fill: np.ndarray
    mark: np.ndarray
    close: np.ndarray
    last_bar: np.ndarray
    delist_day: np.ndarray
    vs: np.ndarray

    @classmethod
    def of(cls, prices: Prices, tickers: list[str], fill: str, uncapped: tuple[str, ...] = ()) -> Market:
        missing = [t for t in tickers if t not in prices.close.columns]
        if missing:
            raise AishockError(f"weights name tickers with no prices: {', '.join(missing[:5])}")
        close = prices.close[tickers].to_numpy(dtype=np.float64)
        fill_px = (prices.fill_price() if fill == "open" else prices.close)[tickers].to_numpy(np.float64)
        last_close = pd.DataFrame(close).ffill().to_numpy()
        n = len(close)
        has = ~np.isnan(close)
        last = np.where(has.any(axis=0), n - 1 - np.argmax(has[::-1], axis=0), n)
        last_bar = np.where(last < n - 1, last, n).astype(np.int64)
        delist_day = np.zeros(n, dtype=np.bool_)
        delist_day[last_bar[last_bar < n]] = True
        # after a delisting the ticker has no price: it is not traded (what rule 9's cap left
        # held is valued at the last close)
        after = np.arange(n)[:, None] > last_bar[None, :]
        fill_px = np.where(after, np.nan, fill_px)
        mark = np.where(np.isnan(fill_px), last_close, fill_px)
        volume = prices.volume.reindex(columns=tickers)
        adv, sigma = volume_stats(prices.close[tickers], volume)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(adv > 0, sigma / np.sqrt(adv), np.nan)
        volume = volume.to_numpy(np.float64, copy=True)
        free = [i for i, t in enumerate(tickers) if t in set(uncapped)]
        volume[:, free], scale[:, free] = np.inf, 0.0
        return cls(
            prices.index,
            list(tickers),
            *(np.ascontiguousarray(a) for a in (fill_px, mark, last_close)),
            last_bar,
            delist_day,
            np.ascontiguousarray(np.stack([volume, scale])),
        )


@dataclass(frozen=True)
class Raw:
    """What `run_schedule` returns: accumulators (N_ACC x runs, rows kernel.ACC_FIELDS); when
    recorded, equity, cash and daily returns (days x runs), shares (days x runs x tickers) and
    orders (a list per run of rows kernel.ORDER_FIELDS) and the bars on which rule 9's cap held
    an order back (runs x tickers); the market arrays, the first bar the runs were simulated
    from, their initial cash, and the close-only tickers filled without cap (rule 9)."""

    acc: np.ndarray
    equity: np.ndarray | None
    cash: np.ndarray | None
    returns: np.ndarray | None
    shares: np.ndarray | None
    orders: list[np.ndarray] | None
    binds: np.ndarray | None
    market: Market
    first: int
    init_cash: np.ndarray
    uncapped: tuple[str, ...] = ()


def daily_returns(equity: np.ndarray, init_cash: float) -> np.ndarray:
    """Simple daily returns of equity (days x runs): each close against the previous one, the
    first day against `init_cash` (so the first fills' costs count), 0 after a wipe-out (the
    previous close's equity 0, rule 8)."""
    prev = np.empty_like(equity)
    prev[:1] = init_cash
    prev[1:] = equity[:-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(prev > 0, equity / np.where(prev > 0, prev, 1.0) - 1.0, 0.0)


def _returns(equity: np.ndarray, init_cash, lengths: np.ndarray) -> np.ndarray:
    """daily_returns of runs whose rows end at `lengths` (0 after them)."""
    out = daily_returns(equity, init_cash)
    out[np.arange(len(out))[:, None] >= lengths[None, :]] = 0.0
    return out


def run_schedule(
    prices: Prices,
    schedule: Schedule,
    costs: Costs,
    start=None,
    rf: float = 0.0,
    periods: int = TRADING_DAYS,
    record: str = "stats",
    parallel: bool = True,
    bars: tuple[np.ndarray, np.ndarray] | None = None,
    cash: np.ndarray | None = None,
) -> Raw:
    """Simulate every run of `schedule` (built on `prices`) from the first bar on or after
    `start`: the one path from a schedule to a simulation. Refuses a decision above
    costs.max_gross (rule 2; the refusal names a day of the run's window, Schedule.check),
    takes the market arrays of the schedule's tickers (once per panel, engine.data.derived),
    runs the compiled simulator (engine.sim.kernel) and refuses runs whose numbers overflowed.
    record: "stats" (accumulators only), "equity" (+ daily equity, cash and returns) or "full"
    (+ shares and orders). `rf` (annual) is the risk-free rate of the downside accumulator,
    `periods` the trading days per year.

    `bars` = (first, stop), int64 arrays with one entry per run, gives each run its own
    window instead: run r is simulated on bars first[r] .. stop[r] - 1 only, exactly as if the
    data began at first[r] (rule 3 carries its earlier targets in) and ended at stop[r] - 1
    (`start` is then ignored; Raw.first is the smallest first). Its daily rows are rows 0 ..
    stop[r] - first[r] - 1 of the recorded arrays (zeros after them).

    `cash` gives each run its own initial cash (one entry per run; default costs.init_cash for
    every run): the capital of a capacity curve is a run's column like any parameter.
    With rule 9 on, close-only tickers are refused unless costs.no_volume == "ok"."""
    tickers, fill = schedule.tickers, costs.fill
    uncapped = no_volume(prices, tickers, costs)
    market = per_panel(
        prices, ("market", tuple(tickers), fill, uncapped), lambda: Market.of(prices, tickers, fill, uncapped)
    )
    n_runs, n_tk = schedule.n_runs, len(tickers)
    if cash is None:
        init_cash = np.full(n_runs, float(costs.init_cash))  # Costs bounds it
    else:
        init_cash = np.asarray(cash, dtype=np.float64)
        if init_cash.shape != (n_runs,) or not ((init_cash > 0) & (init_cash <= MAX_CASH)).all():
            raise AishockError(
                f"cash needs one initial cash per run ({n_runs}), each above 0 and at most {MAX_CASH:.0e}"
            )
    if bars is None:
        first = first_bar(prices.index, start)
        firsts = np.full(n_runs, first, dtype=np.int64)
        stops = np.full(n_runs, len(market.index), dtype=np.int64)
    else:
        firsts, stops = (np.ascontiguousarray(b, dtype=np.int64) for b in bars)
        if firsts.shape != (n_runs,) or stops.shape != (n_runs,):
            raise AishockError(f"bars need one first and one stop bar per run ({n_runs})")
        if n_runs and not (firsts.min() >= 0 and (firsts < stops).all() and stops.max() <= len(market.index)):
            raise AishockError("every run's bars must satisfy 0 <= first < stop <= the number of days")
        first = int(firsts.min()) if n_runs else 0
    schedule.check(costs.max_gross, firsts)  # the message names a day of each run's window
    n_days = int((stops - firsts).max()) if n_runs else 0
    acc = np.zeros((kernel.N_ACC, n_runs))
    rec_eq = record in ("equity", "full")
    full = record == "full"
    equity = np.zeros((n_days if rec_eq else 0, n_runs))
    cash_out = np.zeros_like(equity)
    shares = np.zeros((n_days if full else 0, n_runs, n_tk))
    binds = np.zeros((n_runs if full else 0, n_tk))
    # rules 1-8 fill at most one order per entry and one delisting per ticker; rule 9's
    # working orders may fill on many bars: a run that outgrows its room runs again with more
    bound = (schedule.hi - schedule.lo + n_tk) if full else np.zeros(n_runs, dtype=np.int64)
    args = (
        max(min(nb.get_num_threads(), n_runs), 1) if parallel else 1,
        firsts,
        stops,
        kernel.Targets(schedule.lo, schedule.hi, schedule.bar, schedule.col, schedule.weight),
        kernel.MarketArrays(*(getattr(market, f) for f in kernel.MarketArrays._fields)),
        costs.frictions(periods, init_cash),
        per_period(rf, periods),
    )
    while True:
        order_lo = np.concatenate([[0], np.cumsum(bound)[:-1]]).astype(np.int64)
        orders = np.zeros((int(bound.sum()), len(kernel.ORDER_FIELDS)))
        order_n = np.zeros(n_runs, dtype=np.int64)
        out = kernel.Outputs(acc, equity, cash_out, shares, orders, order_lo, bound, order_n, binds)
        kernel.simulate(*args, out)
        if not full or (order_n <= bound).all():
            break
        bound = np.maximum(bound, order_n).astype(np.int64)
    overflowed = ~np.isfinite(acc).all(axis=0)
    if overflowed.any():  # never NaN equity reported as a result
        raise AishockError(
            f"{int(overflowed.sum())} of {n_runs} run(s) reached numbers too large to represent "
            f"(equity not finite, first run {int(np.argmax(overflowed))}); lower --cash or "
            "--max-gross, or check the prices for absurd values"
        )
    per_run = [orders[a : a + n] for a, n in zip(order_lo, order_n, strict=True)] if full else None
    return Raw(
        acc,
        equity if rec_eq else None,
        cash_out if rec_eq else None,
        _returns(equity, init_cash, stops - firsts) if rec_eq else None,
        shares if full else None,
        per_run,
        binds if full else None,
        market,
        first,
        init_cash,
        uncapped,
    )


def no_volume(prices: Prices, tickers: list[str], costs: Costs) -> tuple[str, ...]:
    """Rule 9's close-only tickers: with a cap or impact set, the tickers of `tickers` without
    any volume are refused in one line naming them, or, with costs.no_volume == "ok",
    returned (they fill uncapped and without impact). Without rule 9: ()."""
    if not costs.volume_aware:
        return ()
    volume = prices.volume.reindex(columns=tickers)
    missing = tuple(t for t in tickers if t in prices.close_only or not volume[t].gt(0).any())
    if missing and costs.no_volume != "ok":
        names = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        raise AishockError(
            f"{len(missing)} ticker(s) have no volume (close-only data), so the volume cap and impact "
            f"cannot apply: {names}; drop them, or pass --no-volume ok (Costs(no_volume='ok')) to fill "
            "them uncapped"
        )
    return missing


@dataclass(frozen=True)
class Simulation:
    """Daily outputs; columns of `equity`/`cash` are runs, of `shares`/`holdings`
    (run, ticker); `acc` the kernel's accumulators (kernel.ACC_FIELDS x runs)."""

    equity: pd.DataFrame
    cash: pd.DataFrame
    shares: pd.DataFrame
    holdings: pd.DataFrame
    orders: pd.DataFrame
    acc: np.ndarray
    binds: pd.DataFrame | None = None
    uncapped: tuple[str, ...] = ()


def first_bar(index: pd.DatetimeIndex, start) -> int:
    """The position of the first simulated bar: the first bar on or after `start`."""
    first = int(index.searchsorted(pd.Timestamp(start))) if start is not None else 0
    if first >= len(index):
        raise AishockError("no trading days in the window")
    return first


def as_schedule(targets: Schedule | pd.DataFrame, index: pd.DatetimeIndex) -> tuple[Schedule, pd.Index]:
    """A Schedule and run labels from a Schedule or a (run, ticker) weight frame."""
    if isinstance(targets, Schedule):
        return targets, pd.RangeIndex(targets.n_runs, name="run")
    if targets.columns.nlevels != 2:
        raise AishockError("targets need (run, ticker) columns")
    runs = pd.Index(targets.columns.get_level_values(0).unique(), name="run")
    return Schedule.from_frames([targets[r] for r in runs], index), runs


def simulate(
    prices: Prices,
    targets: Schedule | pd.DataFrame,
    costs: Costs = Costs(),
    start=None,
    periods: int = TRADING_DAYS,
    rf: float = 0.0,
) -> Simulation:
    """Simulate `targets` (a Schedule, or dates x (run, ticker) weights) on `prices` from
    `start`, every run with its own cash, and record everything."""
    schedule, runs = as_schedule(targets, prices.index)
    raw = run_schedule(prices, schedule, costs, start, rf, periods, record="full")
    first, market = raw.first, raw.market
    index = prices.index[first:]
    tickers = schedule.tickers
    cols = pd.MultiIndex.from_product([runs, tickers], names=["run", "ticker"])
    shares = pd.DataFrame(raw.shares.reshape(len(index), -1), index=index, columns=cols)
    close = pd.DataFrame(market.close[first:], index=index, columns=tickers)
    holdings = shares * np.tile(np.nan_to_num(close.to_numpy()), len(runs))
    parts = []
    for r, rows in zip(runs, raw.orders, strict=True):
        parts.append(
            pd.DataFrame(
                {
                    "run": r,
                    "date": prices.index[rows[:, 0].astype(np.int64)],
                    "ticker": np.asarray(tickers, dtype=str)[rows[:, 1].astype(np.int64)],
                    "side": np.where(rows[:, 2] > 0, "buy", "sell"),
                    "shares": rows[:, 3],
                    "price": rows[:, 4],
                    "value": rows[:, 3] * rows[:, 4],
                    "fees": rows[:, 5],
                    "impact": rows[:, 6],
                }
            )
        )
    orders = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return Simulation(
        equity=pd.DataFrame(raw.equity, index=index, columns=runs),
        cash=pd.DataFrame(raw.cash, index=index, columns=runs),
        shares=shares,
        holdings=holdings,
        orders=orders,
        acc=raw.acc,
        binds=pd.DataFrame(raw.binds, index=runs, columns=tickers),
        uncapped=raw.uncapped,
    )
