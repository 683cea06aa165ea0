"""`run`: strategy + parameter sets + window -> Result, all parameter sets in one simulation."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from engine.analytics import relative, run_stats
from engine.backtest.result import Result
from engine.config import Config, load_config
from engine.data.panel import Prices, load_prices
from engine.errors import AishockError
from engine.sim.simulate import Costs, simulate
from engine.strategy import params as params_mod
from engine.strategy import registry


def param_sets(spec: registry.StrategySpec, params: Any) -> list:
    """Normalise `params` (None, an instance, a dict of overrides, or a list of either) to a
    list of params instances."""
    if params is None or isinstance(params, Mapping) or dataclasses.is_dataclass(params):
        params = [params]
    out = []
    for p in params:
        if p is None or isinstance(p, Mapping):
            out.append(params_mod.make(spec.params, p, spec.name))
        elif isinstance(p, spec.params):
            out.append(p)
        else:
            raise AishockError(f"parameters for {spec.name} must be {spec.params.__name__} or a dict")
    if not out:
        raise AishockError("no parameter sets to run")
    return out


def run_labels(strategy: str, sets: list) -> tuple[pd.DataFrame, pd.Index]:
    """The full params frame and the run labels: a MultiIndex of the parameters that vary
    (named after them), or the strategy name when only one set runs."""
    frame = pd.DataFrame([dataclasses.asdict(p) for p in sets])
    varying = [c for c in frame.columns if frame[c].astype(str).nunique() > 1]
    if varying:
        labels = (
            pd.MultiIndex.from_frame(frame[varying])
            if len(varying) > 1
            else pd.Index(frame[varying[0]], name=varying[0])
        )
    else:
        labels = pd.Index([strategy] * len(sets), name="strategy")
    frame.index = labels
    return frame, labels


def needed_tickers(spec: registry.StrategySpec, sets: Iterable, *extra: str) -> list[str]:
    """The tickers the parameter sets `sets` of `spec` read, in the strategy's order, then
    `extra` (a benchmark), each once. A run loads (or is given) exactly these, so the same
    run has the same data, and the same manifest, whoever starts it."""
    return list(dict.fromkeys([*(t for p in sets for t in spec.tickers(p)), *extra]))


def history(prices: Prices, start, end, warmup: int | None) -> Prices:
    """`prices` cut to begin `warmup` trading days before `start` (unchanged when None).
    Refuses an empty [start, end] window or a start after the end."""
    window = prices.window(start, end)
    if warmup is None:
        return prices
    if warmup < 0:
        raise AishockError(f"warmup must be >= 0 trading days, got {warmup}")
    first = prices.index.get_loc(window.index[0])
    return prices.window(prices.index[max(first - warmup, 0)], None)


def run(
    strategy: str | registry.StrategySpec,
    params: Any = None,
    start=None,
    end=None,
    costs: Costs | None = None,
    prices: Prices | None = None,
    config: Config | None = None,
    warmup: int | None = None,
    benchmark: str | None = None,
) -> Result:
    """Backtest `strategy` for one or many parameter sets over [start, end].

    The strategy sees prices up to `end`, from `warmup` trading days before `start` (all
    the history when None, for its lookbacks; 0 = nothing before `start`, so its first
    return is the window's second day). Trading starts at `start`. `prices` may be given
    to skip loading.

    benchmark: the ticker the stats' benchmark-relative figures (beta, alpha, correlation,
    tracking error, information ratio, up and down capture: engine.analytics.relative) are
    measured against, on its close-to-close daily returns; None takes the configured one
    (`benchmark` in aishock.toml, SPY) when its prices are at hand (loaded here, or in the
    `prices` given), else leaves them out; False leaves them out.
    """
    spec = registry.get(strategy)
    cfg = config or load_config()
    costs = costs or Costs()
    sets = param_sets(spec, params)
    bench = cfg.benchmark if benchmark is None else benchmark
    if prices is None:
        wanted = needed_tickers(spec, sets)
        extra = [bench] if bench and bench not in wanted else []
        try:
            prices = load_prices(wanted + extra, end=end, config=cfg)
        except AishockError:
            if benchmark or not extra:
                raise
            prices = load_prices(wanted, end=end, config=cfg)  # the configured one is optional
    else:
        prices = prices.window(None, end)
        if benchmark and benchmark not in prices.close.columns:
            raise AishockError(f"benchmark {benchmark} is not in the prices given; add its prices or drop it")
    prices = history(prices, start, end, warmup)
    schedule = spec.schedule(prices, sets)
    sim = simulate(prices, schedule, costs, start, cfg.trading_days, cfg.risk_free)
    table = run_stats.table(sim.equity.index, sim.acc, costs.init_cash, cfg.risk_free, cfg.trading_days)
    if bench and bench in prices.close.columns:
        returns = run_stats.daily_returns(sim.equity, costs.init_cash)
        b = prices.close[bench].pct_change(fill_method=None)
        table["benchmark"] = bench
        rel = relative.table(returns, b, cfg.risk_free, cfg.trading_days)
        table = pd.concat([table, rel.set_axis(table.index)], axis=1)
    frame, labels = run_labels(spec.name, sets)
    holdings = sim.holdings.copy()
    run_pos = holdings.columns.get_level_values(0).to_numpy()
    tickers = holdings.columns.get_level_values(1)
    label_frame = frame.index.to_frame(index=False).iloc[run_pos].reset_index(drop=True)
    label_frame["ticker"] = tickers
    holdings.columns = pd.MultiIndex.from_frame(label_frame)
    relabel = dict(zip(range(len(sets)), labels, strict=True))
    return Result(
        strategy=spec.name,
        params=frame,
        equity=sim.equity.set_axis(labels, axis=1),
        cash=sim.cash.set_axis(labels, axis=1),
        holdings=holdings,
        orders=sim.orders.assign(label=sim.orders["run"].map(relabel)),
        stats=table.set_axis(labels, axis=0),
        costs=costs,
        risk_free=cfg.risk_free,
        periods=cfg.trading_days,
        schedule=schedule,
        prices=prices,
        uncapped=sim.uncapped,
    )
