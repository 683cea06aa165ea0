"""Where strategies come from: packages that declare an entry point in the group
`aishock.strategies` (this project's `strategies` package does, in pyproject.toml). Loading
one imports it, and importing it registers its strategies (engine.strategy.registry) and its
baskets files (engine.data.universe.add_baskets). The engine never names a strategy package."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from engine.errors import AishockError

GROUP = "aishock.strategies"


@cache
def load() -> tuple[str, ...]:
    """Import every package of the GROUP entry points, once; their names."""
    found = entry_points(group=GROUP)
    if not found:
        raise AishockError(
            f"no strategies installed (no entry point in the group {GROUP}); install the project "
            "with `make` or `.venv/bin/pip install -e .`"
        )
    for ep in found:
        ep.load()
    return tuple(ep.value for ep in found)
