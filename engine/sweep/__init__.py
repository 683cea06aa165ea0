"""Parameter sweeps compiled with numba: many combinations of a rule, reduced to their stats."""

from engine.sweep.kernel import (
    ACC_FIELDS,
    grid,
    stats_from_accumulators,
    sweep,
    sweep_accumulators,
    sweep_kernel,
)

__all__ = [
    "ACC_FIELDS",
    "grid",
    "stats_from_accumulators",
    "sweep",
    "sweep_accumulators",
    "sweep_kernel",
]
