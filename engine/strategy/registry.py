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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from engine import plugins
from engine.data import universe
from engine.errors import AishockError
from engine.strategy.schedule import Schedule


@dataclass(frozen=True)
class EventParams:
    """The parameters an event sets when a strategy is run on one group shock
    (engine.events.generalize): `universe` (the group's members) and `date` (the event day);
    `hold`, if given, sets the event window (hold + 1 trading days), `market` the market the
    event is measured against, and `threshold` the one-day fall (a fraction) the strategy's
    rule needs: an event whose group fell less is not one of that parameter set's events."""

    universe: str
    date: str
    hold: str | None = None
    market: str | None = None
    threshold: str | None = None

    def names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.universe, self.date, self.hold, self.market, self.threshold) if n)


@dataclass(frozen=True)
class StrategySpec:
    """A registered strategy.

    params: frozen dataclass of parameters, every field with a default.
    schedule: (prices, [params, ...]) -> Schedule: the target weights of many parameter
        sets at once (engine.strategy.schedule; the rules are engine.sim.simulate's).
    tickers: params -> the tickers whose prices the strategy needs.
    summary: one line for `aishock list`.
    universes: the parameters whose values are universe specs (engine.data.universe).
    event: the parameters an event sets (EventParams), or None: not runnable per event.
    attribution_benchmark: a universe spec; reports split the strategy's active return
        against the equal-weight basket of it (Brinson-Fachler), or None.
    """

    name: str
    params: type
    schedule: Callable[[Any, list], Schedule]
    tickers: Callable[[Any], list[str]]
    summary: str
    universes: tuple[str, ...] = ()
    event: EventParams | None = None
    attribution_benchmark: str | None = None

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
    event: EventParams | None = None,
    attribution_benchmark: str | None = None,
):
    """Decorator: register the decorated function under `name`. By default it is a plain
    `weights(prices, params) -> DataFrame` (dates x tickers, NaN = no order), called once
    per parameter set; with many=True it is `schedule(prices, [params, ...]) -> Schedule`,
    computing every parameter set at once (how the built-in strategies are written).
    `universes` names the parameters that hold universe specs (see the module docstring);
    `event` and `attribution_benchmark` are what StrategySpec says."""
    declared = [*universes, *(event.names() if event else ())]
    unknown = [u for u in declared if u not in getattr(params, "__dataclass_fields__", {})]
    if unknown:
        raise AishockError(f"strategy {name}: no parameter called {', '.join(unknown)}")

    def wrap(fn):
        doc = (fn.__doc__ or "").strip().splitlines()
        schedule = _point_in_time(name, fn if many else _one_by_one(fn), tuple(universes))
        summary = doc[0] if doc else name
        REGISTRY[name] = StrategySpec(
            name, params, schedule, tickers, summary, tuple(universes), event, attribution_benchmark
        )
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
    """Every registered strategy, once the installed strategy packages are loaded
    (engine.plugins)."""
    plugins.load()
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
