"""Arrays derived from one price panel, kept while that panel is in use, so the chunks of a
sweep (strategies' closes and returns, the simulator's market arrays) compute them once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_CACHE: dict = {}


def per_panel(prices: Any, key: tuple, make: Callable[[], Any]) -> Any:
    """make(), kept under `key` while `prices` (compared by identity, and held so its identity
    cannot be reused) is the panel in use; a new panel empties the cache. The value is
    shared: do not write into it."""
    if _CACHE.get("prices") is not prices:
        _CACHE.clear()
        _CACHE["prices"] = prices
    if key not in _CACHE:
        _CACHE[key] = make()
    return _CACHE[key]
