"""The strategy registry: name -> StrategySpec. Registering a strategy is all it takes for
the CLI, the sweeps and the generic no-look-ahead test to pick it up.

Every registered strategy is point in time (engine.data.universe): the parameters it declares
as universes (`universes=`) name its investable names; where one names a membership CSV,
the strategy sees each member's prices only on the days it is a member, and an order with
a weight other than 0 decided on any other day is refused (AishockError). This holds for
every caller (run, sweep, event runs, generalize), because they all call
`StrategySpec.schedule`."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from engine.data import universe
from engine.errors import AishockError
from engine.strategy.schedule import Schedule


@dataclass(frozen=True)
class StrategySpec:
    """A registered strategy.

    params: frozen dataclass of parameters, every field with a default.
    schedule: (prices, [params, ...]) -> Schedule: the target weights of many parameter
        sets at once (engine.strategy.schedule; the rules are engine.sim.simulate's).
    tickers: params -> the tickers whose prices the strategy needs.
    summary: one line for `aishock list`.
    universes: the parameters whose values are universe specs (engine.data.universe).
    """

    name: str
    params: type
    schedule: Callable[[Any, list], Schedule]
    tickers: Callable[[Any], list[str]]
    summary: str
    universes: tuple[str, ...] = ()

    def weights(self, prices, params) -> pd.DataFrame:
        """The target weights of one parameter set as a dense frame (dates x tickers,
        NaN = no order), each row on its decision date."""
        return self.schedule(prices, [params]).frame(0)


REGISTRY: dict[str, StrategySpec] = {}


def register(
    name: str,
    params: type,
    tickers: Callable[[Any], list[str]],
    many: bool = False,
    universes: tuple[str, ...] = (),
):
    """Decorator: register the decorated function under `name`. By default it is a plain
    `weights(prices, params) -> DataFrame` (dates x tickers, NaN = no order), called once
    per parameter set; with many=True it is `schedule(prices, [params, ...]) -> Schedule`,
    computing every parameter set at once (how the built-in strategies are written).
    `universes` names the parameters that hold universe specs (see the module docstring)."""
    unknown = [u for u in universes if u not in getattr(params, "__dataclass_fields__", {})]
    if unknown:
        raise AishockError(f"strategy {name}: universes= names no parameter {', '.join(unknown)}")

    def wrap(fn):
        doc = (fn.__doc__ or "").strip().splitlines()
        schedule = _point_in_time(name, fn if many else _one_by_one(fn), tuple(universes))
        REGISTRY[name] = StrategySpec(name, params, schedule, tickers, doc[0] if doc else name, universes)
        return fn

    return wrap


def _point_in_time(name: str, schedule: Callable[[Any, list], Schedule], universes: tuple[str, ...]):
    """`schedule`, run on each group of sets sharing their universes with the prices that
    group may see, its orders checked against the membership dates."""
    if not universes:
        return schedule

    def checked(prices, sets: list) -> Schedule:
        def build(group: list) -> Schedule:
            dated = universe.windows([getattr(group[0], u) for u in universes])
            if not dated:
                return schedule(prices, group)
            out = schedule(universe.point_in_time(prices, dated), group)
            bad = universe.outside_membership(out, dated)
            if bad is not None:
                _, entry, row = bad
                ticker = out.tickers[out.col[entry]]
                added, removed = dated[ticker]
                when = (
                    f"before it joined the universe on {added.date()}"
                    if added is not None and (out.index[row] < added)
                    else f"after it left the universe on {removed.date()}"
                )
                raise AishockError(
                    f"strategy {name} ordered {ticker} on {out.index[row].date()}, {when}; "
                    "a strategy may trade a member only while it is one (orders to weight 0 excepted)"
                )
            return out

        return Schedule.grouped(sets, lambda p: tuple(getattr(p, u) for u in universes), build)

    return checked


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
