"""Walk-forward: choose the best combination on each in-sample window, report how it did on
the out-of-sample window that follows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.analytics import metrics
from engine.backtest.run import needed_tickers, run
from engine.config import load_config
from engine.data.panel import load_prices
from engine.errors import AishockError
from engine.sim.simulate import Costs
from engine.strategy import registry
from engine.sweeps.grid import check_metric, check_size, combinations, distinct_grid, resolve_window, sweep


@dataclass(frozen=True)
class WalkForward:
    """folds: one row per fold (in- and out-of-sample dates, chosen parameters, in-sample and
    out-of-sample metric). oos_returns: the stitched out-of-sample daily returns.
    oos_stats: total_return, sharpe, max_drawdown of the stitched returns (floats). notes: the
    repeated grid values dropped (search.distinct_grid)."""

    folds: pd.DataFrame
    oos_returns: pd.Series
    oos_stats: dict
    notes: tuple[str, ...] = ()


def fold_bounds(index: pd.DatetimeIndex, folds: int, anchored: bool) -> list[tuple]:
    """(is_start, is_end, oos_start, oos_end) for `folds` folds over `index` cut into
    folds + 1 equal segments; in-sample is the previous segment (or all before, anchored)."""
    if folds < 1:
        raise AishockError("walk-forward needs at least one fold")
    edges = np.linspace(0, len(index), folds + 2).astype(int)
    if np.diff(edges).min() < 20:
        raise AishockError(
            f"{folds} folds leave fewer than 20 days per segment; use fewer folds or a longer window"
        )
    out = []
    for k in range(1, folds + 1):
        is_lo = 0 if anchored else edges[k - 1]
        out.append((index[is_lo], index[edges[k] - 1], index[edges[k]], index[edges[k + 1] - 1]))
    return out


def walk_forward(
    strategy,
    grid,
    window=None,
    *,
    folds: int = 4,
    anchored: bool = False,
    metric: str = "sharpe",
    where=None,
    fixed=None,
    costs: Costs | None = None,
    warmup: int | None = None,
    progress: bool = False,
    config=None,
    max_combinations: int | None = None,
) -> WalkForward:
    """Sweep `grid` on each in-sample segment, pick the best `metric` (in its direction),
    run it on the next segment; see `sweep` for the other arguments."""
    cfg = config or load_config()
    spec = registry.get(strategy)
    check_metric(metric)
    costs = costs or Costs()
    start, end = resolve_window(window, cfg)
    check_size(spec, grid, fixed, start, end, max_combinations or cfg.max_combinations)
    grid, notes = distinct_grid(spec, grid)
    sets, _ = combinations(spec, grid, fixed, where)
    prices = load_prices(needed_tickers(spec, sets), end=end, config=cfg)
    index = prices.window(start, end).index
    rows, pieces = [], []
    for is_start, is_end, oos_start, oos_end in fold_bounds(index, folds, anchored):
        ins = sweep(
            spec,
            grid,
            (is_start, is_end),
            where=where,
            fixed=fixed,
            costs=costs,
            warmup=warmup,
            metric=metric,
            keep_returns=False,
            progress=progress,
            prices=prices,
            config=cfg,
        )
        chosen = {n: ins.best[n] for n in ins.swept}
        out = run(spec, {**(fixed or {}), **chosen}, oos_start, oos_end, costs, prices, cfg, warmup=warmup)
        pieces.append(out.returns.iloc[:, 0])
        rows.append(
            {
                "is_start": is_start.date(),
                "is_end": is_end.date(),
                "oos_start": oos_start.date(),
                "oos_end": oos_end.date(),
                **chosen,
                f"is_{metric}": ins.best[metric],
                f"oos_{metric}": out.stats[metric].iloc[0],
            }
        )
    oos = pd.concat(pieces)
    stats = {
        "total_return": float(metrics.total_return(oos)),
        "sharpe": float(metrics.sharpe(oos, cfg.risk_free, cfg.trading_days)),
        "max_drawdown": float(metrics.max_drawdown(oos)),
    }
    return WalkForward(pd.DataFrame(rows), oos, stats, tuple(notes))
