"""Arrays derived from a price panel, kept while that panel is in use, so the chunks of a
sweep (strategies' closes and returns, the simulator's market arrays) compute them once."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

PANELS = 4  # panels whose arrays are kept at once (a panel and its point-in-time views)
_CACHE: OrderedDict[int, tuple[Any, dict]] = OrderedDict()


def per_panel(prices: Any, key: tuple, make: Callable[[], Any]) -> Any:
    """make(), kept under `key` while `prices` (compared by identity, and held so its identity
    cannot be reused) is among the PANELS most recently used panels; the least recently used
    panel's arrays are dropped. The value is shared: do not write into it."""
    entry = _CACHE.get(id(prices))
    if entry is None or entry[0] is not prices:
        entry = (prices, {})
        _CACHE[id(prices)] = entry
        while len(_CACHE) > PANELS:
            _CACHE.popitem(last=False)
    _CACHE.move_to_end(id(prices))
    values = entry[1]
    if key not in values:
        values[key] = make()
    return values[key]
