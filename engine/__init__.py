"""aishock engine: data in, strategies' target weights to a simulated portfolio, stats out.

import engine
result = engine.run("oversold_rebound", {"top_k": 5}, start="2025-01-02", end="2025-06-30")
result.stats_table()
"""

from engine.backtest.capacity import capacity
from engine.backtest.result import Result
from engine.backtest.run import run
from engine.data import Prices, load_prices
from engine.errors import AishockError
from engine.sim.simulate import Costs
from engine.sweeps import sweep, walk_forward

__all__ = [
    "AishockError",
    "Costs",
    "Prices",
    "Result",
    "capacity",
    "generalize",
    "load_prices",
    "run",
    "sweep",
    "walk_forward",
]


def __getattr__(name: str):
    """engine.generalize loads on first use (it imports statsmodels and arch)."""
    if name == "generalize":
        from engine.events.generalize import generalize

        return generalize
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
