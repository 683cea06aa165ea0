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
from engine.schedule import Schedule


@dataclass(frozen=True)
class StrategySpec:
    """A registered strategy.

    params: frozen dataclass of parameters, every field with a default.
    schedule: (prices, [params, ...]) -> Schedule: the target weights of many parameter
        sets at once (engine.schedule; the rules are engine.simulate's).
    tickers: params -> the tickers whose prices the strategy needs.
    summary: one line for `aishock list`.
    """

    name: str
    params: type
    schedule: Callable[[Any, list], Schedule]
    tickers: Callable[[Any], list[str]]
    summary: str

    def weights(self, prices, params) -> pd.DataFrame:
        """The target weights of one parameter set as a dense frame (dates x tickers,
        NaN = no order), each row on its decision date."""
        return self.schedule(prices, [params]).frame(0)


REGISTRY: dict[str, StrategySpec] = {}


def register(name: str, params: type, tickers: Callable[[Any], list[str]], many: bool = False):
    """Decorator: register the decorated function under `name`. By default it is a plain
    `weights(prices, params) -> DataFrame` (dates x tickers, NaN = no order), called once
    per parameter set; with many=True it is `schedule(prices, [params, ...]) -> Schedule`,
    computing every parameter set at once (how the built-in strategies are written)."""

    def wrap(fn):
        doc = (fn.__doc__ or "").strip().splitlines()
        schedule = fn if many else _one_by_one(fn)
        REGISTRY[name] = StrategySpec(name, params, schedule, tickers, doc[0] if doc else name)
        return fn

    return wrap


def _one_by_one(weights: Callable[[Any, Any], pd.DataFrame]) -> Callable[[Any, list], Schedule]:
    def schedule(prices, sets: list) -> Schedule:
        return Schedule.from_frames([weights(prices, p) for p in sets], prices.index)

    return schedule


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
