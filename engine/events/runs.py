"""Every (parameter set x event window) of a cross-event study in one compiled pass.

A run is one parameter set of a strategy on one window: its `first` bar is the event day t
(the strategy's orders decided after t's close execute from t + 1, rule 1 of
engine.sim.simulate) and its `stop` bar is one past the window's last day. All the runs of a
chunk share one strategy call (StrategySpec.schedule, so every rule of the registry holds,
point in time included) and three simulator calls on the whole price panel, each run on its
own bars (engine.sim.simulate.run_schedule(bars=...)):

- net: the strategy with the study's costs;
- gross: the same schedule without fees or slippage (costs = gross - net);
- market: the market bought (weight 1) on the strategy's first execution bar after t, and
  sold on its last execution bar if every order on that bar is a sale to 0 (the strategy is
  flat after it), else held to the window's close; no costs. So the market is measured over
  the strategy's own holding interval, at the same fill prices (the open where the market
  has opens with the default fill).

A run "trades" when it has an order with a weight other than 0 after t; a run that does not
is not an event of its set (the statistics leave it out and count it).

Market model (MacKinlay 1997, "Event studies in economics and finance", J. Econ. Lit.
35(1); Campbell, Lo and MacKinlay 1997, The Econometrics of Financial Markets, section 4.4):
over the estimation window (EST_DAYS trading days ending EST_GAP days before t; at least
EST_MIN days with returns), the daily close-to-close return of the portfolio the run holds
after its first execution bar (those weights, renormalised each day over the names with a
return that day, times their sum) is regressed on the market's: r_p = alpha + beta r_m + e,
sigma^2 = sum(e^2) / (T - 2). Over the L days after t the cumulative abnormal return is
CAR = sum(r_p,t - alpha - beta r_m,t) with the run's own daily returns (net of costs) and the
market run's, and its variance (prediction error included, CLM eq. 4.4.14 for a sum of L
days) V = sigma^2 (L + L^2 / T + (sum r_m,t - L mean_m)^2 / sum_est (r_m - mean_m)^2).
A run with fewer than EST_MIN estimation days has NaN alpha, beta, CAR and V.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numba as nb
import numpy as np

from engine.data.derived import close_returns
from engine.data.panel import Prices
from engine.sim import kernel
from engine.sim.simulate import Costs, run_schedule
from engine.strategy.params import replaced
from engine.strategy.schedule import Schedule

EST_DAYS, EST_GAP = 120, 10  # estimation window: 120 trading days ending 10 days before t
EST_MIN = 60  # fewer days with returns than this: no market model for the run

# the per-run numbers `evaluate` returns, in this order (rows of RunStats.values)
FIELDS = (
    "net",  # total return of the run with costs (fraction)
    "gross",  # the same without fees or slippage
    "market",  # the market over the run's holding interval, no costs
    "sum_r",  # sum of the run's daily returns (net) after t
    "sum_m",  # sum of the market run's daily returns after t
    "days",  # L: days after t in the window
    "traded",  # 1 if the run ordered a weight other than 0 after t
    "entry",  # its first execution bar (-1 if none)
    "alpha", "beta", "sigma", "n_est", "m_mean", "m_ss",  # market model (module doc)
    "car", "var_car",  # market-model CAR and its variance
)  # fmt: skip
F = {name: i for i, name in enumerate(FIELDS)}


@dataclass(frozen=True)
class Job:
    """What every chunk of one study shares: the strategy, the market ticker, the costs,
    whether to keep the estimation residuals (for the cross-correlation adjustment) and the
    daily paths (for the page), and whether numba may use threads (off on Dask workers)."""

    strategy: str
    market: str
    costs: Costs
    periods: int
    keep_residuals: bool = False
    keep_paths: bool = False
    threads: bool = True


@dataclass(frozen=True)
class Chunk:
    """Runs, as a recipe (the parameter sets are made in `evaluate`, one chunk at a time, so a
    million runs never hold a million Params at once, and a Dask chunk ships small): run k is
    `sets[set_of[k]]` with its `changes` fields set to the values of row `row_of[k]` of
    `values` (params.replaced; the caller has checked one such set), on bars first[k] ..
    stop[k] - 1."""

    sets: list
    changes: tuple[str, ...]
    values: list[tuple]
    set_of: np.ndarray
    row_of: np.ndarray
    first: np.ndarray
    stop: np.ndarray

    def params(self) -> list:
        names = self.changes
        return [
            replaced(self.sets[s], dict(zip(names, self.values[r], strict=True)))
            for s, r in zip(self.set_of.tolist(), self.row_of.tolist(), strict=True)
        ]


@dataclass(frozen=True)
class RunStats:
    """values: FIELDS x runs; residuals: runs x EST_DAYS estimation-window residuals e (NaN
    where none), the first on row `first - EST_GAP - EST_DAYS`, when kept; paths: (runs x
    days of the longest window) cumulative returns of the run (net) and of its market run,
    from t's close (NaN after the run's window), and the tickers each run bought on its entry
    bar (`picked`), when kept."""

    values: np.ndarray
    residuals: np.ndarray | None
    paths: tuple[np.ndarray, np.ndarray] | None
    picked: list[list[str]] | None = None

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[F[name]]


def evaluate(job: Job, prices: Prices, chunk: Chunk) -> RunStats:
    """The numbers of every run of `chunk` (see the module docstring): one strategy call, three
    simulator calls, one compiled market-model pass."""
    from engine.strategy import registry

    if not job.threads:
        nb.set_num_threads(1)
    schedule = registry.get(job.strategy).schedule(prices, chunk.params())
    bars = (chunk.first, chunk.stop)
    record = "equity" if job.keep_paths else "stats"
    net = run_schedule(prices, schedule, job.costs, bars=bars, periods=job.periods, record=record)
    frictionless = replace(job.costs, fees=0.0, slippage=0.0, impact=0.0)  # the cap is no cost: kept
    gross = run_schedule(prices, schedule, frictionless, bars=bars, periods=job.periods)
    entry, exit_, traded = _holding(
        schedule.lo, schedule.hi, schedule.bar, schedule.weight, chunk.first, chunk.stop
    )
    mkt_schedule = _market_schedule(prices.index, job.market, entry, exit_)
    mkt = run_schedule(prices, mkt_schedule, frictionless, bars=bars, periods=job.periods, record=record)

    init = job.costs.init_cash
    n = schedule.n_runs
    values = np.full((len(FIELDS), n), np.nan)
    values[F["net"]] = net.acc[kernel.FINAL] / init - 1.0
    values[F["gross"]] = gross.acc[kernel.FINAL] / init - 1.0
    values[F["market"]] = mkt.acc[kernel.FINAL] / init - 1.0
    values[F["sum_r"]] = net.acc[kernel.SUM_R]
    values[F["sum_m"]] = mkt.acc[kernel.SUM_R]
    values[F["days"]] = chunk.stop - chunk.first - 1
    values[F["traded"]] = traded
    values[F["entry"]] = entry

    tickers = schedule.tickers
    returns = close_returns(prices, tickers)
    market_returns = np.ascontiguousarray(close_returns(prices, [job.market])[:, 0])
    residuals = np.full((n, EST_DAYS if job.keep_residuals else 0), np.nan)
    fit = np.full((6, n), np.nan)
    _market_model(
        schedule.lo, schedule.hi, schedule.bar, schedule.col, schedule.weight, entry, chunk.first,
        returns, market_returns, EST_DAYS, EST_GAP, EST_MIN, fit, residuals,
    )  # fmt: skip
    for k, name in enumerate(("alpha", "beta", "sigma", "n_est", "m_mean", "m_ss")):
        values[F[name]] = fit[k]
    days = values[F["days"]]
    alpha, beta, sigma = fit[0], fit[1], fit[2]
    values[F["car"]] = values[F["sum_r"]] - days * alpha - beta * values[F["sum_m"]]
    with np.errstate(invalid="ignore", divide="ignore"):
        drift = (values[F["sum_m"]] - days * fit[4]) ** 2 / fit[5]
        values[F["var_car"]] = sigma**2 * (days + days**2 / fit[3] + drift)
    paths = picked = None
    if job.keep_paths:
        after = np.arange(net.equity.shape[0])[:, None] >= (chunk.stop - chunk.first)[None, :]
        paths = tuple(np.where(after, np.nan, e / init - 1.0) for e in (net.equity, mkt.equity))
        s = schedule
        picked = [
            [
                tickers[s.col[e]]
                for e in range(s.lo[r], s.hi[r])
                if s.bar[e] == entry[r] and s.weight[e] != 0.0
            ]
            for r in range(n)
        ]
    return RunStats(values, residuals if job.keep_residuals else None, paths, picked)


def join(parts: list[RunStats], order: np.ndarray | None = None) -> RunStats:
    """The runs of `parts`, in order; or, with `order`, run k of the parts (in order) placed at
    position order[k], each part copied once into the result (paths and picks: no order)."""
    n = sum(p.values.shape[1] for p in parts)
    place = np.arange(n) if order is None else np.asarray(order)
    values = np.empty((len(FIELDS), n))
    residuals = np.empty((n, parts[0].residuals.shape[1])) if parts[0].residuals is not None else None
    at = 0
    for p in parts:
        where = place[at : at + p.values.shape[1]]
        values[:, where] = p.values
        if residuals is not None:
            residuals[where] = p.residuals
        at += p.values.shape[1]
    paths = None
    if parts[0].paths is not None:
        width = max(p.paths[0].shape[0] for p in parts)

        def pad(a):
            return np.vstack([a, np.full((width - a.shape[0], a.shape[1]), np.nan)])

        paths = tuple(np.concatenate([pad(p.paths[k]) for p in parts], axis=1) for k in (0, 1))
    picked = [t for p in parts for t in p.picked] if parts[0].picked is not None else None
    return RunStats(values, residuals, paths, picked)


@nb.njit(cache=True, nogil=True)
def _holding(lo, hi, bar, weight, first, stop):
    """Per run: its first execution bar after first[r] (-1 if none), the bar it sells out on
    (its last execution bar inside the window when every order there is to weight 0 and it
    comes after the entry; -1 otherwise) and whether it orders a weight other than 0."""
    n = lo.size
    entry = np.full(n, -1, np.int64)
    exit_ = np.full(n, -1, np.int64)
    traded = np.zeros(n)
    for r in range(n):
        last = -1
        all_zero = True
        for e in range(lo[r], hi[r]):
            b = bar[e]
            if b <= first[r] or b >= stop[r]:
                continue
            if entry[r] < 0:
                entry[r] = b
            if weight[e] != 0.0:
                traded[r] = 1.0
            if b != last:
                last = b
                all_zero = True
            if weight[e] != 0.0:
                all_zero = False
        if last > entry[r] and all_zero:
            exit_[r] = last
    return entry, exit_, traded


def _market_schedule(index, market: str, entry: np.ndarray, exit_: np.ndarray) -> Schedule:
    """One run per run: the market at weight 1 from `entry`, at 0 from `exit_` (when >= 0)."""
    n = len(entry)
    has = entry >= 0
    sells = exit_ >= 0
    sizes = has.astype(np.int64) + (has & sells)
    hi = np.cumsum(sizes)
    lo = hi - sizes
    bar = np.empty(int(hi[-1]) if n else 0, np.int64)
    weight = np.empty_like(bar, dtype=np.float64)
    bar[lo[has]] = entry[has]
    weight[lo[has]] = 1.0
    both = has & sells
    bar[lo[both] + 1] = exit_[both]
    weight[lo[both] + 1] = 0.0
    return Schedule(index, [market], lo, hi, bar, np.zeros_like(bar), weight)


@nb.njit(cache=True, nogil=True, parallel=True)
def _market_model(
    lo, hi, bar, col, weight, entry, first, returns, market, est_days, est_gap, est_min, fit, resid
):
    """Per run with an entry: the market model of the portfolio of its entry bar's orders over
    the estimation window (module doc). fit rows: alpha, beta, sigma, T, mean_m, sum of
    squared market deviations; resid (runs x est_days) when it has columns."""
    keep = resid.shape[1] > 0
    for r in nb.prange(lo.size):
        if entry[r] < 0:
            continue
        a = max(first[r] - est_gap - est_days, 1)
        b = first[r] - est_gap
        if b - a < est_min:
            continue
        total_w = 0.0
        for e in range(lo[r], hi[r]):
            if bar[e] == entry[r]:
                total_w += weight[e]
        if total_w == 0.0:
            continue
        y = np.full(b - a, np.nan)
        for t in range(a, b):
            s = 0.0
            w_seen = 0.0
            for e in range(lo[r], hi[r]):
                if bar[e] == entry[r] and weight[e] != 0.0:
                    x = returns[t, col[e]]
                    if x == x:
                        s += weight[e] * x
                        w_seen += weight[e]
            if w_seen != 0.0 and market[t] == market[t]:
                y[t - a] = s / w_seen * total_w
        n_ok = 0
        sx = 0.0
        sy = 0.0
        for t in range(a, b):
            if y[t - a] == y[t - a]:
                n_ok += 1
                sx += market[t]
                sy += y[t - a]
        if n_ok < est_min:
            continue
        mx = sx / n_ok
        my = sy / n_ok
        sxx = 0.0
        sxy = 0.0
        for t in range(a, b):
            if y[t - a] == y[t - a]:
                sxx += (market[t] - mx) ** 2
                sxy += (market[t] - mx) * (y[t - a] - my)
        if sxx <= 0.0:
            continue
        beta = sxy / sxx
        alpha = my - beta * mx
        sse = 0.0
        for t in range(a, b):
            if y[t - a] == y[t - a]:
                e_t = y[t - a] - alpha - beta * market[t]
                sse += e_t * e_t
                if keep:
                    resid[r, t - (first[r] - est_gap - est_days)] = e_t
        fit[0, r] = alpha
        fit[1, r] = beta
        fit[2, r] = np.sqrt(sse / (n_ok - 2))
        fit[3, r] = n_ok
        fit[4, r] = mx
        fit[5, r] = sxx
