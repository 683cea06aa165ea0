"""Where strategies and views come from, by entry point: the engine never names a strategy
package or a report module.

- Strategies: packages that declare an entry point in the group `aishock.strategies` (this
  project's `strategies` package does, in pyproject.toml). Loading one imports it, and
  importing it registers its strategies (engine.strategy.registry) and its baskets files
  (engine.data.universe.add_baskets).
- Views: the group `aishock.views` names dicts {view name: function} (this project's is
  reports.views.VIEWS). The results' `tearsheet`, `page`, `plot` and `heatmap` methods call
  them, so results can draw themselves while the engine stays below the reports."""

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


VIEWS = "aishock.views"


@cache
def _views() -> dict:
    out: dict = {}
    for ep in entry_points(group=VIEWS):
        out.update(ep.load())
    return out


def view(name: str):
    """The view function registered as `name` in the VIEWS entry points."""
    found = _views()
    if name not in found:
        raise AishockError(
            f"no view '{name}' installed (entry point group {VIEWS}); install the project with "
            "`make` or `.venv/bin/pip install -e .`"
        )
    return found[name]
