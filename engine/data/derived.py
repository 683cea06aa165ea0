"""Arrays derived from a price panel, kept while that panel is in use, so the chunks of a
sweep (strategies' closes and returns, the simulator's market arrays) compute them once."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

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


def closes(prices: Any, names: tuple | list) -> np.ndarray:
    """Closes of `names` as a days x names float64 array (NaN: no price), kept per panel."""
    return per_panel(
        prices,
        ("closes", tuple(names)),
        lambda: np.ascontiguousarray(prices.close[list(names)].to_numpy(dtype=np.float64)),
    )


def close_returns(prices: Any, names: tuple | list) -> np.ndarray:
    """Close-to-close returns (fraction) of `names`, days x names, NaN on the first row and
    wherever either close is missing, kept per panel: the strategies' (strategies.steps) and
    the event runs' (engine.events.runs) one array."""

    def make() -> np.ndarray:
        close = closes(prices, names)
        out = np.full(close.shape, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[1:] = close[1:] / close[:-1] - 1.0
        return out

    return per_panel(prices, ("returns", tuple(names)), make)
