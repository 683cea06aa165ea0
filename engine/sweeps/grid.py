"""`sweep`: every combination of a parameter grid, one row of stats each, plus how likely
the best row is a fluke.

Every grid runs the way engine.run does: the strategy computes the target weights of a chunk
of combinations at once, and the compiled simulator (engine.sim.kernel) runs them as columns of
one call, keeping only the stats accumulators (and daily returns when asked), so memory does
not grow with the grid. Chunks run locally or on a Dask cluster (engine.sweeps.executors).
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from engine import plugins
from engine.analytics import run_stats
from engine.analytics.run_stats import from_accumulators
from engine.backtest.run import history, needed_tickers
from engine.config import Config, load_config
from engine.data.panel import Prices, load_prices
from engine.errors import AishockError
from engine.sim.simulate import Costs
from engine.strategy import params as params_mod
from engine.strategy import registry
from engine.sweeps import executors, guards
from engine.sweeps import plateau as plateau_mod

STAT_COLUMNS = (
    "total_return",
    "cagr",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
    "volatility",
    "turnover",
    "n_trades",
    "exposure",
    "fees_paid",
    "final_equity",
)


@dataclass(frozen=True)
class SweepResult:
    """A finished sweep.

    table: one row per combination: the swept parameters as columns, then STAT_COLUMNS
        (units as engine.analytics.run_stats.UNITS).
    n_trials: combinations evaluated (the number of trials for the Deflated Sharpe), each
        distinct parameter set once (`notes` says which repeated grid values were dropped).
    best: the row with the best `metric`: the highest, or the lowest for a metric whose
        lowest is best (`better`, engine.analytics.run_stats.BETTER), as plain Python values
        (`plain_row`: `dict(best)` prints {'top_k': 5, ...}). dsr: its Deflated Sharpe Ratio
        (probability).
    pbo: Probability of Backtest Overfitting by CSCV, ranking the combinations by `metric` in
        the same direction (NaN with `pbo_note` saying why).
    warnings: edge-of-grid and isolated-peak warnings about `best`.
    returns: dates x combinations daily returns when kept, else None.
    prices: the price panel the sweep ran on (for manifests).
    spa: Hansen's SPA test of the whole grid against buy-and-hold of the strategy's
        universe (`spa_benchmark`), the dict of engine.analytics.spa.spa_test plus "benchmark" (what
        it was) and "names"; None with `spa_note` saying why (returns not kept, like PBO).
    """

    strategy: str
    start: str
    end: str
    metric: str
    table: pd.DataFrame
    n_trials: int
    best: pd.Series
    dsr: float
    pbo: float
    pbo_note: str
    warnings: list[str]
    returns: pd.DataFrame | None = field(default=None, repr=False)
    prices: Prices | None = field(default=None, repr=False)
    spa: dict | None = None
    spa_note: str = ""
    notes: list[str] = field(default_factory=list)
    grid: dict = field(default_factory=dict, repr=False)

    @property
    def better(self) -> int:
        """+1 when the highest `metric` is the best, -1 when the lowest is
        (engine.analytics.run_stats.BETTER); for the heatmap's colours."""
        return run_stats.better(self.metric)

    @property
    def swept(self) -> list[str]:
        """The parameters that vary across the grid."""
        return [c for c in self.table.columns if c not in STAT_COLUMNS]

    def cells(self, x: str, y: str, metric: str | None = None, **fixed) -> pd.DataFrame:
        """`metric` (default the sweep's) as a y x x frame, each cell one combination: every
        other swept parameter is fixed at the value `fixed` gives it (name=value). Cells are
        never averaged over combinations, so a grid that sweeps a third parameter needs it
        fixed."""
        others = [name for name in self.swept if name not in (x, y)]
        loose = [name for name in others if name not in fixed]
        if loose:
            fix = ", ".join(f"{name}=VALUE" for name in loose)
            raise AishockError(
                f"the sweep also varies {', '.join(loose)}: fix it ({fix}) "
                "(a heatmap cell is one combination, never an average over combinations)"
            )
        unknown = [name for name in fixed if name not in others]
        if unknown:
            raise AishockError(
                f"{', '.join(map(repr, unknown))} is not another swept parameter of "
                f"this sweep ({', '.join(others) or 'there is none'})"
            )
        rows = self.table
        for name, value in fixed.items():
            rows = rows[rows[name] == value]
        if rows.empty:
            raise AishockError(f"no combination has {fixed}; the sweep's values are in .table")
        return rows.pivot(index=y, columns=x, values=metric or self.metric)

    def heatmap(self, metric: str | None = None, x: str | None = None, y: str | None = None, **fixed):
        """A Plotly heatmap of `metric` (default the sweep's) over the swept parameters `x` and
        `y` (default the first two), each cell one combination (`cells`): every other swept
        parameter at the value `fixed` gives it, else at the best combination's (the title
        says which). One swept parameter: a one-row heatmap."""
        metric = metric or self.metric
        names = self.swept
        x = x or names[0]
        y = y if y is not None else (names[1] if len(names) > 1 and names[1] != x else None)
        best = self.best
        at = {n: fixed.get(n, best[n]) for n in names if n not in (x, y)}
        return plugins.view("sweep_heatmap")(self, metric, x, y, at)

    def plateau(self, metric: str | None = None, radius: int = 1) -> plateau_mod.Plateau:
        """The centre of the best region by `metric` (default the sweep's), not the single best
        cell: engine.sweeps.plateau's rule (the best mean over each cell's neighbourhood of
        `radius` grid steps), with warnings when the chosen set turns the thesis off, never
        trades, has no neighbour, or sits on the grid's edge."""
        metric = metric or self.metric
        spec = registry.get(self.strategy)
        names = self.swept
        base = params_mod.make(spec.params, None, spec.name)

        def edges(i: int) -> list[str]:
            p = dataclasses.replace(base, **{n: self.table.iloc[i][n] for n in names if hasattr(base, n)})
            return guards.warnings_for(self.table, names, metric, i, _allowed(spec, p))

        off = params_mod.off_values(spec.params)
        return plateau_mod.choose(self.table, names, metric, radius, off, edges)


COUNTS = ("n_trades",)  # whole numbers, whatever dtype a table of them ends up with


def plain_row(table: pd.DataFrame, i: int) -> pd.Series:
    """Row `i` of `table` as plain Python values, each as its column holds it (a row of
    columns of mixed types would make every number a numpy float: top_k 5 as np.float64(5.0)):
    an int from an integer column or a count (COUNTS), a bool, a float (NaN kept), a str.
    Named by the row's index label."""

    def value(column: str):
        v = table[column].iat[i]
        v = v.item() if isinstance(v, np.generic) else v
        whole = pd.api.types.is_integer_dtype(table[column]) or column in COUNTS
        return int(v) if whole and isinstance(v, float) and v.is_integer() else v

    return pd.Series({c: value(c) for c in table.columns}, name=table.index[i], dtype=object)


def combinations(
    spec: registry.StrategySpec,
    grid: Mapping[str, Sequence],
    fixed: Mapping | None,
    where: Callable[[Any], bool] | None,
) -> tuple[list, list[str]]:
    """Params instances for every combination of `grid` (+ `fixed` values) that `where`
    accepts, in grid order (the first name varies slowest), and the swept names."""
    if not grid:
        raise AishockError("the grid is empty: give at least one parameter with a list of values")
    names = list(grid)
    empty = [n for n in names if len(list(grid[n])) == 0]
    if empty:
        raise AishockError(f"grid parameter(s) with no values: {', '.join(empty)}")
    clash = set(names) & set(fixed or {})
    if clash:
        raise AishockError(f"parameter(s) both swept and fixed: {', '.join(sorted(clash))}")
    out = params_mod.grid(spec.params, {n: list(grid[n]) for n in names}, where, fixed, spec.name)
    if not out:
        raise AishockError("the constraint rejects every combination of the grid")
    return out, names


# What the size estimate assumes: the compiled engine's speed (BENCHMARKS.md measures 100 to
# 300 M asset-days/s with the stats table on 2 cores), the Python cost of building one
# parameter set and its table row, and their memory (about 200 B per set, measured with
# tracemalloc, plus the row and temporaries).
ASSET_DAYS_PER_S = 100e6
SECONDS_PER_SET = 15e-6
# A sweep's fixed cost, whatever its size: reading the prices from the cache, building the
# strategy's arrays, the first calls into compiled code (0.3-0.4 s for a 300-combination sweep,
# benchmarks/overfit_speed.py, 2026-12-07).
SWEEP_SECONDS = 0.3
BYTES_PER_SET = 1_000


def grid_size(grid: Mapping[str, Sequence]) -> int:
    """The number of combinations of `grid`, counted without building them (a
    params.Range is counted, not built)."""
    return math.prod(params_mod.count(v) for v in grid.values())


def distinct_grid(spec, grid: Mapping[str, Sequence]) -> tuple[dict[str, list], list[str]]:
    """`grid` with each parameter's values converted and each distinct value once
    (params.distinct: `3,3,5` is 3,5), and one note per parameter that had repeats: a
    repeat would count as one more trial in the Deflated Sharpe and PBO."""
    out, notes = {}, []
    for name, values in grid.items():
        kept, dropped = params_mod.distinct(spec.params, name, values, spec.name)
        out[name] = kept
        if dropped:
            shown = ", ".join(map(str, dropped[:5])) + (" ..." if len(dropped) > 5 else "")
            notes.append(
                f"--grid {name}: {len(dropped)} repeated value(s) dropped ({shown}); "
                f"{len(kept)} distinct value(s) swept, each one trial"
            )
    return out, notes


# The overfitting guards (measured on 2 shared cores, issue 18): PBO's compiled pass costs
# about PBO_SECONDS_PER_CELL per combination and combination of halves (C(S, S/2) of them);
# SPA (engine.analytics.spa, compiled) about SPA_SECONDS_PER_CELL per bootstrap replication,
# combination and day (the resampled means), SPA_BLOCK_SECONDS per combination and day (the
# block length, the differences, the variances with a block of a day or so; a long block adds
# lags to the variances, up to about days x days per combination), and SPA_DRAW_SECONDS per
# replication and day (drawing the resampling indices, shared by the combinations).
PBO_SECONDS_PER_CELL = 4e-8
SPA_SECONDS_PER_CELL = 2e-10
SPA_BLOCK_SECONDS = 6e-8
SPA_DRAW_SECONDS = 5e-8


def estimate_terms(
    n: int, names: int, days: int, keep: bool | None = None, pbo_splits: int = 16, spa_reps: int = 1000
) -> dict[str, float]:
    """Seconds of each step of a sweep of n combinations over `names` tickers and `days`
    days: "simulate" (the fixed cost SWEEP_SECONDS, then strategy, simulator, table), "pbo"
    and "spa" (0 when the daily returns are not kept: `keep` None means the sweep's default,
    kept up to 2,000 combinations)."""
    keep = n <= 2_000 if keep is None else keep
    halves = math.comb(pbo_splits, pbo_splits // 2) if pbo_splits >= 2 else 0
    spa = days * (n * (spa_reps * SPA_SECONDS_PER_CELL + SPA_BLOCK_SECONDS) + spa_reps * SPA_DRAW_SECONDS)
    return {
        "simulate": SWEEP_SECONDS + n * (names * days / ASSET_DAYS_PER_S + SECONDS_PER_SET),
        "pbo": n * halves * PBO_SECONDS_PER_CELL if keep and n > 1 else 0.0,
        "spa": spa if keep and spa_reps else 0.0,
    }


def estimate(
    n: int, names: int, days: int, keep: bool | None = None, pbo_splits: int = 16, spa_reps: int = 1000
) -> tuple[float, float]:
    """(seconds, bytes) a sweep of n combinations over `names` tickers and `days` days takes,
    roughly, the overfitting guards included (`estimate_terms`; ASSET_DAYS_PER_S,
    SECONDS_PER_SET, BYTES_PER_SET, PBO_SECONDS_PER_CELL, the SPA_ constants)."""
    seconds = sum(estimate_terms(n, names, days, keep, pbo_splits, spa_reps).values())
    keep = n <= 2_000 if keep is None else keep
    return seconds, n * BYTES_PER_SET + (n * days * 8 if keep else 0)


def _duration(seconds: float) -> str:
    for name, unit, below in (("s", 1, 120), ("min", 60, 7_200), ("h", 3_600, 172_800)):
        if seconds < below:
            return f"{seconds / unit:.0f} {name}"
    return f"{seconds / 86_400:,.0f} days"


def describe_size(n: int, names: int, days: int, **guards) -> str:
    """One line: the grid's size and `estimate` (`guards`: keep, pbo_splits, spa_reps)."""
    seconds, size = estimate(n, names, days, **guards)
    took = _duration(seconds)
    return f"{n:,} combinations x {names} names x {days} days: about {took} and {size / 2**30:.2g} GB"


def check_size(spec, grid, fixed, start, end, limit: int, **guards) -> str:
    """One line describing the grid's size; refuses a grid above `limit` combinations, from
    its count alone (with the estimate when the grid's first set is valid; `guards` as
    `estimate`'s keep, pbo_splits, spa_reps)."""
    n = grid_size(grid)
    if n == 0 or not grid:
        return "an empty grid"  # combinations() says what is wrong with it
    try:
        first = params_mod.make(
            spec.params, {**(fixed or {}), **{k: next(iter(v)) for k, v in grid.items()}}, spec.name
        )
        names = len(spec.tickers(first))
        days = len(pd.bdate_range(start or "2020-01-01", end or pd.Timestamp.today().normalize()))
        line = describe_size(n, names, days, **guards)
    except AishockError:
        if n <= limit:
            raise
        line = f"{n:,} combinations"
    if n > limit:
        raise AishockError(
            f"the grid has {line}, above the limit of {limit:,} combinations; narrow the grid or "
            "raise the limit (max_combinations in [tool.aishock], --max-combinations)"
        )
    return line


def resolve_window(window, cfg: Config) -> tuple[str | None, str | None]:
    """(start, end) from a named window, a (start, end) pair or None (the default span)."""
    if window is None:
        return cfg.span
    if isinstance(window, str):
        named = {n: (a, b) for n, a, b in cfg.windows}
        if window in named:
            return named[window]
        if ":" in window or ".." in window:
            a, b = window.replace("..", ":").split(":", 1)
            return a or None, b or None
        raise AishockError(f"unknown window '{window}'; use {', '.join(named)} or START:END")
    a, b = window
    return a, b


def sweep(
    strategy,
    grid: Mapping[str, Sequence],
    window=None,
    *,
    where=None,
    fixed=None,
    costs: Costs | None = None,
    warmup: int | None = None,
    metric: str = "sharpe",
    executor: str = "local",
    scheduler: str | None = None,
    workers: int | None = None,
    chunk: int | None = None,
    keep_returns: bool | None = None,
    pbo_splits: int = 16,
    progress: bool = True,
    prices: Prices | None = None,
    config: Config | None = None,
    max_combinations: int | None = None,
    spa_reps: int = 1000,
    seed: int = 0,
) -> SweepResult:
    """Evaluate every combination of `grid` ({parameter: values}) for `strategy` over
    `window` (a configured window name, "START:END", a (start, end) pair, or None for the
    default span) and return a SweepResult.

    `where(params) -> bool` drops combinations (e.g. `lambda p: p.hold_days > 5`); `fixed`
    sets non-swept parameters. `executor` is "local" or "dask" (`scheduler` address, or a
    LocalCluster of `workers` when None). `keep_returns` keeps the daily returns of every
    combination (default: when the grid has at most 2,000 combinations); PBO needs them.
    A grid above `max_combinations` (default: the configured limit) is refused before
    anything is built; with `progress`, the grid's size and estimated time go to stderr
    first, then a progress bar. With the daily returns kept, Hansen's SPA test of the whole
    grid against buy-and-hold of the strategy's universe (`spa_benchmark`) runs with `spa_reps`
    stationary-bootstrap replications seeded by `seed` (spa_reps=0 skips it).
    """
    cfg = config or load_config()
    spec = registry.get(strategy)
    check_metric(metric)
    if not (isinstance(spa_reps, int) and spa_reps >= 0):
        raise AishockError(f"spa_reps must be a whole number >= 0 (0 skips SPA), got {spa_reps}")
    costs = costs or Costs()
    start, end = resolve_window(window, cfg)
    limit = max_combinations or cfg.max_combinations
    guard_args = {"keep": keep_returns, "pbo_splits": pbo_splits, "spa_reps": spa_reps}
    size = check_size(spec, grid, fixed, start, end, limit, **guard_args)  # from the count: nothing built yet
    grid, notes = distinct_grid(spec, grid)
    if notes:
        size = check_size(spec, grid, fixed, start, end, limit, **guard_args)
    if progress:
        print(f"sweep {spec.name}: {size}", file=sys.stderr, flush=True)
    sets, names = combinations(spec, grid, fixed, where)
    if prices is None:
        prices = load_prices(needed_tickers(spec, sets), end=end, config=cfg)
    prices = history(prices.window(None, end), start, end, warmup)
    keep = len(sets) <= 2_000 if keep_returns is None else keep_returns
    job = executors.Job(spec.name, start, end, costs, warmup, cfg.risk_free, cfg.trading_days, keep)
    acc, returns, universe = executors.run_chunks(
        job, prices, sets, executor, scheduler, workers, chunk, progress
    )
    stats = from_accumulators(acc, costs.init_cash, cfg.risk_free, cfg.trading_days)
    frame = pd.DataFrame({n: [getattr(p, n) for p in sets] for n in names})
    table = pd.concat([frame, stats[list(STAT_COLUMNS)]], axis=1)
    if returns is not None:
        index = prices.index[prices.index.searchsorted(pd.Timestamp(start)) if start else 0 :]
        returns = pd.DataFrame(returns, index=index)
    result = finish(
        spec,
        sets,
        table,
        names,
        returns,
        metric,
        prices,
        job,
        pbo_splits,
        start,
        end,
        spa_reps,
        seed,
        universe=universe,
    )
    return dataclasses.replace(result, notes=notes, grid=grid)


def check_metric(metric: str) -> None:
    """Refuse a metric that is not a sweep stat or has no better direction (run_stats.better)."""
    if metric not in STAT_COLUMNS:
        raise AishockError(f"metric '{metric}' is not a sweep stat; use one of {', '.join(run_stats.BETTER)}")
    run_stats.better(metric)


def finish(
    spec,
    sets,
    table,
    names,
    returns,
    metric,
    prices,
    job,
    pbo_splits,
    start,
    end,
    spa_reps=1000,
    seed=0,
    universe: list[str] | None = None,
) -> SweepResult:
    """Pick the best row (by `metric` in its direction, engine.analytics.run_stats.BETTER) and attach the
    overfitting guards: the Deflated Sharpe of the best row, PBO ranking by the same metric
    in the same direction, and Hansen's SPA test (both when the daily returns of every
    combination are kept; see `spa_of`). `universe`: the tickers the sweep's schedules named
    (executors.run_chunks), so that SPA's benchmark needs no schedule again; None computes
    them (`universe_names`). The best row's daily returns come from the kept returns; only
    without them is its parameter set run again (`single_returns`) for the Deflated Sharpe."""
    scores = run_stats.better(metric) * table[metric].to_numpy(dtype=float)
    if np.isnan(scores).all():
        raise AishockError(f"no combination has a {metric}: nothing traded, or the window is too short")
    best_i = int(np.nanargmax(scores))
    best = plain_row(table, best_i)
    sharpe_var = float(np.nanvar(table["sharpe"] / np.sqrt(job.periods), ddof=1)) if len(table) > 1 else 0.0
    best_returns = (
        returns.iloc[:, best_i] if returns is not None else single_returns(job, prices, sets[best_i])
    )
    from engine.analytics.overfit import deflated_sharpe, pbo_cscv

    dsr = deflated_sharpe(best_returns.to_numpy(), len(table), sharpe_var)
    pbo, note = float("nan"), ""
    # pbo_cscv ranks by Sharpe itself (its own fast form); another metric ranks by its definition
    rank_by = None if metric == "sharpe" else run_stats.ranking(metric, job.risk_free, job.periods)
    if metric != "sharpe" and rank_by is None:
        note = f"PBO ranks by {metric} on halves of the days, which daily returns do not give"
    elif returns is None:
        note = "daily returns of every combination were not kept (keep_returns=True computes PBO)"
    elif len(table) < 2:
        note = "PBO needs at least two combinations"
    elif len(returns) < 2 * pbo_splits:
        note = f"PBO needs at least {2 * pbo_splits} days for {pbo_splits} splits"
    else:
        pbo = pbo_cscv(returns.to_numpy(), pbo_splits, rank_by)[0]
    warnings = guards.warnings_for(table, names, metric, best_i, _allowed(spec, sets[best_i]))
    spa, spa_note = spa_of(spec, sets, returns, prices, spa_reps, seed, universe)
    window = prices.window(start, end).index
    return SweepResult(
        spec.name,
        str(window[0].date()),
        str(window[-1].date()),
        metric,
        table,
        len(table),
        best,
        dsr,
        pbo,
        note,
        warnings,
        returns,
        prices,
        spa=spa,
        spa_note=spa_note,
    )


def _allowed(spec, p) -> Callable[[str, Any], bool]:
    """Whether parameter set `p` with `name` set to `value` passes the parameters' bounds and
    checks (engine.strategy.params.make): what an edge-of-grid warning may suggest."""

    def allowed(name: str, value) -> bool:
        try:
            params_mod.make(spec.params, {**dataclasses.asdict(p), name: value}, spec.name)
        except AishockError:
            return False
        return True

    return allowed


def universe_names(spec: registry.StrategySpec, prices: Prices, sets: list) -> list[str]:
    """The strategy's universe for `sets`: the union of the tickers of their schedules (the
    names the strategy may trade, held or not; not the series it only reads, such as the
    market a shock is measured against), in the price panel's order. The schedules are
    computed again chunk by chunk."""
    size = executors.chunk_size(prices, len(sets))
    names: set[str] = set()
    for lo in range(0, len(sets), size):
        names.update(spec.schedule(prices, sets[lo : lo + size]).tickers)
    return [t for t in prices.tickers if t in names]


def spa_benchmark(
    spec: registry.StrategySpec,
    prices: Prices,
    sets: list,
    index: pd.DatetimeIndex,
    names: list[str] | None = None,
):
    """(daily returns on `index` or None, names): buy-and-hold of the strategy's universe
    (`names`, the tickers the sweep's schedules named; None computes them again with
    `universe_names`) as the SPA benchmark: the equal-weight basket of those names,
    rebalanced daily over those with a price on the previous and the day's close, without
    costs (engine.backtest.attribution.equal_weight_returns; 0 on a day with no such name)."""
    from engine.backtest.attribution import equal_weight_mean, equal_weight_returns

    names = universe_names(spec, prices, sets) if names is None else names
    if not names:
        return None, names
    return equal_weight_mean(equal_weight_returns(prices, names, index)), names


def spa_of(spec, sets, returns, prices, reps, seed, universe=None) -> tuple[dict | None, str]:
    """(engine.analytics.spa.spa_test of the kept daily returns against `spa_benchmark` of
    `universe` (None: computed from the schedules again), plus "benchmark" and "names"; or
    None) and a note saying why not when None."""
    if returns is None:
        return None, "daily returns of every combination were not kept (keep_returns=True computes SPA)"
    if reps < 1:
        return None, "SPA skipped (spa_reps=0)"
    if len(returns) < 10:
        return None, "SPA needs at least 10 days"
    bench, names = spa_benchmark(spec, prices, sets, returns.index, universe)
    if bench is None:
        return None, "the strategy's schedules name no ticker: no buy-and-hold benchmark"
    from engine.analytics.spa import spa_test

    out = spa_test(returns.to_numpy(), bench.to_numpy(), seed=seed, reps=reps)
    out["benchmark"] = "equal-weight basket of the strategy's universe, rebalanced daily, no costs"
    out["names"] = names
    return out, ""


def single_returns(job: executors.Job, prices: Prices, params) -> pd.Series:
    """Daily returns of one parameter set, evaluated alone the way its chunk was."""
    _, returns, _ = executors.evaluate(dataclasses.replace(job, keep_returns=True), prices, [params])
    return pd.Series(returns[:, 0])
