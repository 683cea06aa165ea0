"""The strategy registry: name -> StrategySpec. Registering a strategy is all it takes for
the CLI, the sweeps and the generic no-look-ahead test to pick it up."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from engine.errors import AishockError


@dataclass(frozen=True)
class StrategySpec:
    """A registered strategy.

    params: frozen dataclass of parameters, every field with a default.
    weights: (prices, params) -> target weights (dates x tickers), see engine.simulate.
    tickers: params -> the tickers whose prices `weights` needs.
    summary: one line for `aishock list`.
    """

    name: str
    params: type
    weights: Callable[[Any, Any], pd.DataFrame]
    tickers: Callable[[Any], list[str]]
    summary: str


REGISTRY: dict[str, StrategySpec] = {}


def register(name: str, params: type, tickers: Callable[[Any], list[str]]):
    """Decorator: register the decorated weights function under `name`."""

    def wrap(fn):
        doc = (fn.__doc__ or "").strip().splitlines()
        REGISTRY[name] = StrategySpec(name, params, fn, tickers, doc[0] if doc else name)
        return fn

    return wrap


def load_builtin() -> dict[str, StrategySpec]:
    """Import the `strategies` package so its modules register themselves."""
    importlib.import_module("strategies")
    return REGISTRY


def get(name: str | StrategySpec) -> StrategySpec:
    """The strategy called `name`; unknown names get a "did you mean" hint."""
    if isinstance(name, StrategySpec):
        return name
    load_builtin()
    if name not in REGISTRY:
        close = difflib.get_close_matches(name, list(REGISTRY), n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known: {', '.join(sorted(REGISTRY))}"
        raise AishockError(f"unknown strategy '{name}'; {hint}")
    return REGISTRY[name]
