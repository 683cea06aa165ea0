"""Choosing from a sweep: the centre of the best region, not the single best cell.

The rule (one rule, stated on the sweep page and in the README):
- The swept parameters span a grid; a cell's *neighbourhood* is every cell of the sweep within
  `radius` grid steps of it along each numeric parameter (a box: `radius` = 1 gives up to 3 x
  3 cells for two parameters), and at the same value of each non-numeric one.
- A cell's score is the mean `metric` over its neighbourhood (the cell included; cells whose
  metric is undefined, NaN, are left out of the mean).
- The chosen cell has the best score in the metric's direction (engine.analytics.run_stats.
  BETTER); among equal scores, the best own value; then the first row. A cell whose own metric
  is undefined is never chosen.
So an isolated spike among poor neighbours loses to a cell inside a broad good region.

Warnings about the chosen set (`Plateau.warnings`):
- a parameter at a value that turns the thesis off (`param(..., off=...)` in the strategy's
  parameters, e.g. the rotation's fraction 0: no rotation at all);
- a set that never trades (no order filled);
- a neighbourhood of one cell (nothing around it was swept: the choice is the single cell);
- the sweep's own edge-of-grid warnings for the chosen cell (engine.sweeps.guards).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine.analytics import run_stats


@dataclass(frozen=True)
class Plateau:
    """A sweep's plateau choice. params: the chosen swept values; row: its table row; score:
    the mean metric over its neighbourhood (`cells` cells); value: its own metric; best: the
    single best row, for comparison; rule: the rule in words; warnings: see the module."""

    metric: str
    params: dict
    row: pd.Series
    value: float
    score: float
    cells: int
    radius: int
    best: pd.Series
    rule: str
    warnings: list[str] = field(default_factory=list)


def _numeric(values: list) -> bool:
    return all(
        isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool) for v in values
    )


def _box_sum(a: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Sum of `a` over the box of half-widths `radius` (per axis) around each cell, cells past
    the edges left out: a separable running sum along each axis."""
    out = a
    for axis, r in enumerate(radius):
        if r == 0:
            continue
        n = out.shape[axis]
        c = np.cumsum(out, axis=axis)
        zero = np.zeros_like(np.take(c, [0], axis=axis))
        c = np.concatenate([zero, c], axis=axis)
        hi = np.minimum(np.arange(n) + r + 1, n)
        lo = np.maximum(np.arange(n) - r, 0)
        out = np.take(c, hi, axis=axis) - np.take(c, lo, axis=axis)
    return out


def scores(
    table: pd.DataFrame, names: list[str], metric: str, radius: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """(score, cells) of every row of `table`: the mean `metric` over its neighbourhood and the
    number of cells with a defined metric in it (module docstring)."""
    if not names:
        v = table[metric].to_numpy(float)
        return v.copy(), np.isfinite(v).astype(int)
    axes = [sorted(table[n].dropna().unique().tolist()) for n in names]
    coords = tuple(pd.Index(axis).get_indexer(table[n]) for axis, n in zip(axes, names, strict=True))
    shape = tuple(len(a) for a in axes)
    values = np.zeros(shape)
    counts = np.zeros(shape)
    v = table[metric].to_numpy(float)
    ok = np.isfinite(v)
    np.add.at(values, tuple(c[ok] for c in coords), v[ok])
    np.add.at(counts, tuple(c[ok] for c in coords), 1.0)
    half = np.array([radius if _numeric(a) else 0 for a in axes])
    total, n = _box_sum(values, half), _box_sum(counts, half)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
    return mean[coords], n[coords].astype(int)


def choose(
    table: pd.DataFrame,
    names: list[str],
    metric: str,
    radius: int = 1,
    off: dict | None = None,
    edge_warnings=None,
) -> Plateau:
    """The plateau choice of `table` (a sweep table: the swept `names`, then the metrics) by
    `metric`, under the module's rule. off: {parameter: the value that turns the thesis off};
    edge_warnings: a function of the chosen row's position giving the sweep's edge-of-grid
    warnings (engine.sweeps.guards.warnings_for), or None."""
    if not (isinstance(radius, int) and radius >= 0):
        raise ValueError(f"radius must be a whole number of grid steps >= 0, got {radius}")
    sign = run_stats.better(metric)
    score, cells = scores(table, names, metric, radius)
    own = table[metric].to_numpy(float)
    eligible = np.isfinite(own) & np.isfinite(score)
    if not eligible.any():
        raise ValueError(f"no combination has a defined {metric}: nothing to choose")
    key = np.where(eligible, sign * score, -np.inf)
    top = key == key[eligible].max()
    i = int(np.flatnonzero(top)[np.argmax(np.where(top, sign * own, -np.inf)[top])])
    row = table.iloc[i]
    best_i = int(np.nanargmax(np.where(np.isfinite(own), sign * own, -np.inf)))
    warnings = []
    for name, value in (off or {}).items():
        if name in table.columns and table[name].iloc[i] == value:
            warnings.append(
                f"the chosen set has {name}={_plain(table[name].iloc[i])}, which turns the thesis off: "
                "over this window the sweep prefers not applying it; read that as evidence against "
                "the thesis, not as a setting"
            )
    if "n_trades" in row.index and row["n_trades"] == 0:
        warnings.append("the chosen set never trades (no order filled): it measures cash, not the thesis")
    if names and cells[i] <= 1:
        warnings.append(
            "the chosen cell has no swept neighbour with a defined metric: it is a single cell, not a plateau"
        )
    if edge_warnings is not None:
        warnings.extend(edge_warnings(i))
    rule = (
        f"the cell with the best mean {metric} over its neighbourhood (every cell within {radius} grid "
        f"step(s) along each numeric parameter, itself included)"
    )
    return Plateau(
        metric=metric,
        params={n: _plain(table[n].iloc[i]) for n in names},
        row=row,
        value=float(own[i]),
        score=float(score[i]),
        cells=int(cells[i]),
        radius=radius,
        best=table.iloc[best_i],
        rule=rule,
        warnings=warnings,
    )


def _plain(value):
    """numpy scalars as Python numbers (a whole float stays a float)."""
    return value.item() if isinstance(value, np.generic) else value
