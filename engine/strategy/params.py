"""Strategy parameters: a frozen dataclass per strategy, built from user overrides.

Overrides come as Python values (scripts, notebooks) or strings (`--set name=value`);
strings are converted to the field's declared type. An unknown name is refused with a
"did you mean" hint naming the strategy (callers holding a StrategySpec pass
`strategy=spec.name`; the params class alone knows no strategy name); a value that does not
convert is refused naming the field and its type;
a float that is NaN or infinite is refused for every field (no strategy can mean it), and a
field declared with bounds (`param(..., low=0)`) refuses values outside them. A field named in
TICKER_FIELDS holds one ticker symbol and is spelled as universes spell tickers
(engine.data.panel.normalise_symbol: `spy`, ` SPY ` -> `SPY`, `brk.b` -> `BRK-B`).

Sweep grids (`grid`) take lists or `Range`s (start:stop:step), counted without being built,
and count each distinct value once (`distinct`): `3,3,5` is two values, and so are `true,True`
or `power,POWER`, since a duplicate would be a second trial of the same parameter set.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import functools
import itertools
import math
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence, Sized
from fractions import Fraction
from typing import Any

from engine.errors import AishockError

# Parameters whose value is one ticker symbol (the market a shock is measured against).
TICKER_FIELDS = frozenset({"market"})


_NONE = object()


def param(
    default: Any, help: str, low: float | None = None, high: float | None = None, off: Any = _NONE
) -> Any:
    """A params dataclass field with a default and a one-line help for `aishock list`;
    `low`/`high` (inclusive) bound a number, checked whenever an override is converted; `off`
    is a value at which the parameter turns the thesis off (the rotation's fraction 0: no
    rotation), which a sweep's plateau choice warns about (engine.sweeps.plateau)."""
    meta = {"help": help}
    if off is not _NONE:
        meta["off"] = off
    if low is not None:
        meta["low"] = low
    if high is not None:
        meta["high"] = high
    return dataclasses.field(default=default, metadata=meta)


def fields(cls) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls)}


def off_values(cls) -> dict[str, Any]:
    """{parameter: the value that turns the thesis off} of a params class (`param(off=...)`)."""
    return {f.name: f.metadata["off"] for f in dataclasses.fields(cls) if "off" in f.metadata}


def _hint(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(choices)}"


class _NotFinite(AishockError):
    """A float that is NaN or infinite: refused whatever else the field would accept."""


def _convert(value: Any, kind: Any, name: str) -> Any:
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        is_none = value is None or (isinstance(value, str) and value.lower() in ("none", ""))
        if is_none and type(None) in args:
            return None
        for arg in (a for a in args if a is not type(None)):
            try:
                return _convert(value, arg, name)
            except _NotFinite:
                raise
            except AishockError:
                continue
        raise AishockError(f"parameter {name}={value!r} is not {_a(_typename(kind))}")
    if origin is typing.Literal:
        if value in args:
            return value
        raise AishockError(f"parameter {name}={value!r} must be one of {', '.join(map(repr, args))}")
    if origin is tuple:
        items = value.split(",") if isinstance(value, str) else list(value)
        return tuple(
            _convert(v.strip() if isinstance(v, str) else v, args[0], name) for v in items if v != ""
        )
    try:
        if kind is bool:
            if isinstance(value, str):
                if value.lower() in ("1", "true", "yes", "on"):
                    return True
                if value.lower() in ("0", "false", "no", "off"):
                    return False
                raise ValueError
            return bool(value)
        if kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if kind is float:
            number = float(value)
            if not math.isfinite(number):
                raise _NotFinite(f"parameter {name}={value!r} is not a finite number")
            return number
        if kind is dt.date:
            return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        if kind is str:
            return str(value)
    except (ValueError, TypeError):
        raise AishockError(f"parameter {name}={value!r} is not {_a(_typename(kind))}") from None
    return value


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _typename(kind: Any) -> str:
    if typing.get_origin(kind) is typing.Literal:
        return "|".join(map(str, typing.get_args(kind)))
    return getattr(kind, "__name__", None) or str(kind).replace("typing.", "").replace("datetime.", "")


@functools.cache
def _hints(cls) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def check_names(cls, names: Iterable[str], strategy: str | None = None) -> None:
    """Refuse a name that is not a field of `cls`, with a "did you mean" hint, naming
    `strategy` (the registered strategy whose parameters `cls` holds; every caller that has a
    StrategySpec passes spec.name) or else the class."""
    hints = _hints(cls)
    for name in names:
        if name not in hints:
            owner = strategy or cls.__name__
            raise AishockError(f"unknown parameter '{name}' for {owner}{_hint(name, fields(cls))}")


def convert(cls, name: str, value: Any, strategy: str | None = None) -> Any:
    """`value` converted to the declared type of field `name` of `cls`; an unknown name is
    refused with a "did you mean" hint naming `strategy` (check_names)."""
    check_names(cls, [name], strategy)
    hints = _hints(cls)
    converted = _convert(value, hints[name], name)
    if name in TICKER_FIELDS and isinstance(converted, str):
        from engine.symbols import normalise_symbol

        try:
            converted = normalise_symbol(converted)
        except AishockError:
            raise AishockError(f"parameter {name}={value!r} is not a ticker symbol") from None
    meta = fields(cls)[name].metadata
    if isinstance(converted, int | float) and not isinstance(converted, bool):
        low, high = meta.get("low"), meta.get("high")
        if (low is not None and converted < low) or (high is not None and converted > high):
            bounds = (
                f"at least {low}"
                if high is None
                else f"at most {high}"
                if low is None
                else f"in [{low}, {high}]"
            )
            raise AishockError(f"parameter {name}={value!r} must be {bounds}")
    return converted


def is_number(cls, name: str) -> bool:
    """Whether field `name` of `cls` takes a number (int or float, optionally None)."""
    kind = _hints(cls).get(name)
    kinds = typing.get_args(kind) if typing.get_origin(kind) in (typing.Union, types.UnionType) else (kind,)
    return any(k in (int, float) for k in kinds)


def build(cls, values: Mapping[str, Any]):
    """`cls(**values)` for already converted values, its own checks as AishockError."""
    try:
        return cls(**values)
    except (ValueError, TypeError) as e:
        raise AishockError(f"{cls.__name__}: {e}") from None


def make(cls, overrides: Mapping[str, Any] | None = None, strategy: str | None = None):
    """An instance of the params dataclass `cls` with `overrides` applied and converted
    (`strategy` names the strategy in the refusal of an unknown name)."""
    return build(
        cls, {name: convert(cls, name, value, strategy) for name, value in (overrides or {}).items()}
    )


def parse_assignments(items: Iterable[str], option: str = "--set") -> dict[str, str]:
    """`["k=v", ...]` (from `--set` or `--grid`) as a dict; refuses an item without '=' and a
    name given twice (the second would silently win)."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise AishockError(f"{option} takes name=value, got '{item}'")
        name = name.strip()
        if name in out:
            raise AishockError(
                f"{option} {name} is given twice ({out[name]!r} and {value.strip()!r}); give it once"
            )
        out[name] = value.strip()
    return out


class Range(Sequence):
    """The numbers start, start + step, ... up to stop included (`start:stop:step` of
    `--grid`), as np.arange(start, stop + step / 2, step) rounded to 10 decimals, ints when
    start, stop and step are whole. Counted exactly on construction (`size`) and built only
    when read, so a range too big for any grid is refused from its count, before any array
    exists. Refuses numbers that are NaN or infinite, a step that is not positive and a
    stop before the start."""

    def __init__(self, start: float, stop: float, step: float, text: str | None = None):
        self.text = text or f"{start:g}:{stop:g}:{step:g}"
        if not all(math.isfinite(v) for v in (start, stop, step)):
            raise AishockError(f"range '{self.text}' must be finite numbers (no nan or inf)")
        if step <= 0 or stop < start:
            raise AishockError(f"range '{self.text}' needs step > 0 and stop >= start")
        self.start, self.stop, self.step = float(start), float(stop), float(step)
        self.whole = all(float(v).is_integer() for v in (start, stop, step))
        # exact: floor((stop - start) / step + 1/2) + 1, the length of the arange above
        self.size = math.floor((Fraction(stop) - Fraction(start)) / Fraction(step) + Fraction(1, 2)) + 1

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self.size))]
        if not -self.size <= i < self.size:
            raise IndexError(i)
        value = round(self.start + (i % self.size) * self.step, 10)
        return int(value) if self.whole else value

    def __iter__(self):
        return (self[i] for i in range(self.size))

    def __repr__(self) -> str:
        return f"Range({self.text!r}, {self.size} values)"


def count(values: Iterable[Any]) -> int:
    """How many values a grid axis has, without building a Range."""
    return (
        values.size
        if isinstance(values, Range)
        else len(values if isinstance(values, Sized) else list(values))
    )


def _sameness(kind: Any, value: Any) -> Any:
    """What makes two converted values of a field the same trial: the value itself, except
    for a plain `str` field (ticker symbols, basket names, membership CSV paths, spelled as
    engine.data.universe.resolve reads them): each comma-separated item stripped, a basket name
    or ticker in upper case with '.' and '/' as '-', a .csv path as written."""
    if kind is not str or not isinstance(value, str):
        return value
    items = (item.strip() for item in value.split(","))
    return tuple(
        item if item.lower().endswith(".csv") else item.upper().replace(".", "-").replace("/", "-")
        for item in items
        if item
    )


def distinct(cls, name: str, values: Iterable[Any], strategy: str | None = None) -> tuple[list, list]:
    """(the values of field `name` converted, each distinct value once, in first-seen order;
    the values dropped as repeats, as given). `strategy` as in convert."""
    kind = _hints(cls).get(name)
    seen: dict = {}
    dropped = []
    for v in values:
        converted = convert(cls, name, v, strategy)
        key = _sameness(kind, converted)
        if key in seen:
            dropped.append(v)
        else:
            seen[key] = converted
    return list(seen.values()), dropped


def grid(
    cls,
    lists: Mapping[str, Iterable[Any]],
    where: Callable[[Any], bool] | None = None,
    fixed: Mapping[str, Any] | None = None,
    strategy: str | None = None,
) -> list:
    """Every combination of `lists` ({name: values}), with the `fixed` values, as params
    instances, optionally filtered by `where(params) -> bool`. Order: the first name varies
    slowest. Each value is converted once, not once per combination. `strategy` as in convert."""
    names = list(lists)
    base = {n: convert(cls, n, v, strategy) for n, v in (fixed or {}).items()}
    converted = [[convert(cls, n, v, strategy) for v in lists[n]] for n in names]
    out = (build(cls, {**base, **dict(zip(names, c, strict=True))}) for c in itertools.product(*converted))
    return [p for p in out if where is None or where(p)]


def describe(cls) -> list[tuple[str, str, Any, str]]:
    """(name, type, default, help) for each field; help comes from field metadata."""
    hints = typing.get_type_hints(cls)
    return [
        (f.name, _typename(hints[f.name]), f.default, f.metadata.get("help", ""))
        for f in dataclasses.fields(cls)
    ]


def replaced(p, changes: Mapping[str, Any]):
    """A copy of params instance `p` with `changes` (values already of the fields' types),
    without running the dataclass's checks again: for the many copies engine.generalize makes
    that differ from one checked instance only in the universe and the event date."""
    q = object.__new__(type(p))
    q.__dict__.update(p.__dict__)
    q.__dict__.update(changes)
    return q
