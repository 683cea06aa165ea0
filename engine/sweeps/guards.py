"""Warnings about a sweep's best cell: on the edge of the grid, or an isolated peak rather
than a plateau. Pure functions of the sweep table."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from engine.analytics import run_stats


def _beyond(axis: list, side: str):
    """The value one grid step past the smallest or largest of a numeric axis (None for
    others), of the axis's type."""
    a, b = (axis[0], axis[1]) if side == "smallest" else (axis[-1], axis[-2])
    if isinstance(a, bool) or not isinstance(a, int | float | np.integer | np.floating):
        return None
    value = a - (b - a)
    return int(value) if isinstance(a, int | np.integer) else round(float(value), 10)


def _axis(table: pd.DataFrame, name: str) -> list:
    return sorted(table[name].dropna().unique().tolist())


def neighbours(table: pd.DataFrame, names: list[str], i: int) -> pd.DataFrame:
    """Rows one grid step away from row `i` along exactly one swept parameter."""
    row = table.iloc[i]
    picks = []
    for name in names:
        axis = _axis(table, name)
        k = axis.index(row[name])
        for step in (-1, 1):
            if 0 <= k + step < len(axis):
                same = np.ones(len(table), dtype=bool)
                for other in names:
                    target = axis[k + step] if other == name else row[other]
                    same &= (table[other] == target).to_numpy()
                picks.extend(np.flatnonzero(same).tolist())
    return table.iloc[picks]


def warnings_for(
    table: pd.DataFrame,
    names: list[str],
    metric: str,
    best: int,
    allowed: Callable[[str, object], bool] | None = None,
) -> list[str]:
    """Edge: the best value of a parameter swept over >= 3 values is its smallest or largest;
    for a number the warning suggests the next value one grid step past it, unless
    `allowed(name, value)` (the parameter's own bounds and checks) refuses that value: then it
    says the grid cannot go further that way.
    Isolated peak: the median `metric` of the best cell's grid neighbours is worse than the
    midpoint between the best and the median of the whole grid ("worse" in the metric's
    direction, engine.analytics.run_stats.BETTER: below it, or above it when the lowest is the best)."""
    sign = run_stats.BETTER.get(metric, 1)
    out = []
    row = table.iloc[best]
    for name in names:
        axis = _axis(table, name)
        value = table[name].iloc[best]  # the column's own type (a row would upcast ints)
        if len(axis) >= 3 and value in (axis[0], axis[-1]):
            side = "smallest" if value == axis[0] else "largest"
            where = f"best {metric} is at the {side} {name} ({value}) on the edge of the grid"
            beyond = _beyond(axis, side)
            if beyond is None:
                out.append(f"{where}; extend the grid past it")
            elif allowed is not None and not allowed(name, beyond):
                out.append(f"{where}, and {name} allows no value past it ({beyond} is refused)")
            else:
                out.append(f"{where}; extend the grid past it (e.g. {name}={beyond})")
    near = neighbours(table, names, best)[metric].dropna()
    overall = float(table[metric].median())
    top = float(row[metric])
    if len(near) and sign * top > sign * overall and sign * float(near.median()) < sign * (top + overall) / 2:
        out.append(
            f"best {metric} {top:.3g} is an isolated peak: its neighbours' median is "
            f"{float(near.median()):.3g} (grid median {overall:.3g}); prefer a plateau"
        )
    return out
