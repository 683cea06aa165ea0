"""Parameter sweeps: every combination of a grid, one row of stats each, with overfitting
guards (grid.py, guards.py), run locally or on Dask (executors.py), walk-forward (walkforward.py)."""

from engine.sweeps.grid import SweepResult, sweep
from engine.sweeps.walkforward import WalkForward, walk_forward

__all__ = ["SweepResult", "WalkForward", "sweep", "walk_forward"]
