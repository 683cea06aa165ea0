"""Named baskets of tickers: the AI roles of the strategy packages plus the user's,
and the point-in-time membership of a universe.

Baskets come from the installed strategy packages (each declares its file with `add_baskets`;
this project's is strategies/baskets.toml), the project's own `baskets.toml` and the file
AISHOCK_BASKETS names. A basket name, a ticker, a membership CSV (a file ending in .csv with a
Symbol column, such as sp500_constituents_2024-12-27.csv), or a comma-separated mix resolves
to a list of tickers.

Baskets files are read strictly, each problem one line naming the file and the table:
- a table is `[name]` with `tickers = ["A", ...]` and optionally `description = "..."` and
  `in_ai = true|false` (a TOML boolean); no other key;
- names are case-insensitive (`[Nuclear]` is `nuclear`), and a name may not be a ticker
  (one with prices in the data folders, or listed in any basket): `[spy]` would silently
  replace SPY wherever it is named;
- membership in `ai` is explicit: only baskets saying `in_ai = true` belong to it, so adding
  a basket of your own changes no default result.

Point in time: the members of a membership CSV belong to the universe from their `Date
added` on, and up to (not including) their `Date removed` when the file has one.
`point_in_time` hides every price of a member outside those dates from a strategy, and
`outside_membership` finds any order a schedule places on such a day (engine.strategy.registry
applies both to every strategy). Baskets and tickers have no dates: always members.
"""

from __future__ import annotations

import difflib
import os
import tomllib
import warnings
from collections.abc import Iterable
from dataclasses import replace
from functools import cache
from pathlib import Path

import numba as nb
import numpy as np
import pandas as pd

from engine import plugins
from engine.data.derived import per_panel
from engine.data.panel import Prices
from engine.symbols import normalise_symbol
from engine.errors import AishockError

PACKAGE_FILES: list[Path] = []  # baskets files of the installed strategy packages (add_baskets)
ALL_AI = "ai"
KEYS = ("tickers", "description", "in_ai")

Window = tuple[pd.Timestamp | None, pd.Timestamp | None]


def _read(path: Path) -> dict[str, dict]:
    try:
        with path.open("rb") as f:
            table = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise AishockError(f"cannot read baskets file {path}: {e}") from None
    out = {}
    for raw_name, body in table.items():
        name = raw_name.strip().lower()
        where = f"{path}: basket [{raw_name}]"
        if not isinstance(body, dict) or not isinstance(body.get("tickers"), list):
            raise AishockError(f'{where} needs tickers = ["A", "B", ...]')
        unknown = [k for k in body if k not in KEYS]
        if unknown:
            close = difflib.get_close_matches(unknown[0], KEYS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"keys are {', '.join(KEYS)}"
            raise AishockError(f"{where} has an unknown key '{unknown[0]}'; {hint}")
        if not isinstance(body.get("in_ai", False), bool):
            raise AishockError(f"{where}: in_ai = {body['in_ai']!r} is not a boolean; write true or false")
        if not isinstance(body.get("description", ""), str):
            raise AishockError(f"{where}: description must be a string")
        if not body["tickers"] or not all(isinstance(t, str) for t in body["tickers"]):
            raise AishockError(f'{where}: tickers must be a non-empty list of strings, e.g. ["A", "B"]')
        if name in out or name == ALL_AI:
            raise AishockError(f"{where}: the name '{name}' is used twice (names are case-insensitive)")
        try:
            tickers = tuple(normalise_symbol(t) for t in body["tickers"])
        except AishockError as e:
            raise AishockError(f"{where}: {e}") from None
        out[name] = {
            "description": body.get("description", ""),
            "tickers": tickers,
            "in_ai": body.get("in_ai", False),
            "file": str(path),
        }
    return out


def add_baskets(path) -> None:
    """Declare a strategy package's baskets file (a Path, or an importlib.resources file):
    what its strategies name as universes. Read before the project's own baskets.toml."""
    path = Path(str(path))
    if path not in PACKAGE_FILES:
        PACKAGE_FILES.append(path)
        _baskets.cache_clear()
        _resolve.cache_clear()


def _refuse_ticker_names(baskets: dict[str, dict], packaged: set[str]) -> None:
    """A basket named like a ticker would replace that ticker wherever it is named (the
    packages' own baskets are taken as their authors named them)."""
    from engine.config import load_config
    from engine.data.membership import with_prices

    listed = {t for b in baskets.values() for t in b["tickers"]}
    for name, b in baskets.items():
        if b["file"] in packaged:
            continue
        try:
            symbol = normalise_symbol(name)
        except AishockError:
            continue
        if symbol in listed or with_prices([symbol], load_config()):
            raise AishockError(
                f"{b['file']}: basket [{name}] has the name of the ticker {symbol}, which it would "
                f"replace wherever {symbol} is named; rename the basket"
            )


@cache
def _baskets(user_file: str | None, project_file: Path) -> dict[str, dict]:
    baskets: dict[str, dict] = {}
    for path in PACKAGE_FILES:
        baskets.update(_read(path))
    packaged = {str(p) for p in PACKAGE_FILES}
    extra = [project_file] if project_file.is_file() else []
    if user_file:
        path = Path(user_file).expanduser()
        if not path.is_file():
            what = "is a folder" if path.is_dir() else "does not exist"
            raise AishockError(
                f"AISHOCK_BASKETS names {path}, which {what}; point it at a baskets TOML file or unset it"
            )
        extra.append(path)
    for path in extra:
        baskets.update(_read(path))
    _refuse_ticker_names(baskets, packaged)
    ai = [t for b in baskets.values() if b["in_ai"] for t in b["tickers"]]
    baskets[ALL_AI] = {
        "description": "Every AI-infrastructure basket (those with in_ai = true)",
        "tickers": tuple(dict.fromkeys(ai)),
        "in_ai": False,
        "file": "",
    }
    return baskets


def baskets() -> dict[str, dict]:
    """{name: {"description": str, "tickers": tuple, "in_ai": bool, "file": str}} for every
    known basket (names in lower case); `in_ai` says whether the basket's names belong to
    the `ai` universe. Read from the installed strategy packages' files (engine.plugins),
    then the project's `baskets.toml` (beside its configuration, `Config.baskets`), then
    the file AISHOCK_BASKETS names; a later file's basket replaces an earlier one's."""
    from engine.config import load_config

    plugins.load()
    return _baskets(os.environ.get("AISHOCK_BASKETS"), load_config().baskets)


def role_of() -> dict[str, str]:
    """{ticker: basket name} over the role baskets (first basket listing a ticker wins)."""
    out: dict[str, str] = {}
    for name, b in baskets().items():
        if b["in_ai"]:
            for t in b["tickers"]:
                out.setdefault(t, name)
    return out


def _items(spec: str | tuple[str, ...]) -> list[str]:
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    return [i.strip() for i in items if i.strip()]


def resolve(spec: str | tuple[str, ...] | list[str]) -> list[str]:
    """Tickers named by `spec`: basket names, tickers and/or membership CSV paths,
    comma-separated or a sequence. The project's baskets file is that of the configuration
    last loaded (engine.config.current): strategies resolve their universes per parameter set."""
    key = spec if isinstance(spec, str) else tuple(spec)
    from engine.config import current

    return list(_resolve(key, os.environ.get("AISHOCK_BASKETS"), current().baskets))


@cache
def _resolve(spec: str | tuple[str, ...], _user_file: str | None, _project_file: Path) -> tuple[str, ...]:
    known = baskets()
    out: list[str] = []
    for item in _items(spec):
        if item.lower() in known:
            out.extend(known[item.lower()]["tickers"])
        elif item.lower().endswith(".csv"):
            out.extend(_members_with_prices(item))
        else:
            out.append(_ticker(item, known))
    if not out:
        raise AishockError(
            f"universe '{spec}' names no tickers; use a basket ({', '.join(known)}) or tickers"
        )
    return tuple(dict.fromkeys(out))


def _ticker(item: str, known: dict[str, dict]) -> str:
    """`item` as a ticker; a near miss of a basket name without local prices is refused with
    a "did you mean" (rather than going online for a ticker called NUCELAR)."""
    symbol = normalise_symbol(item)
    close = difflib.get_close_matches(item.lower(), list(known), n=1, cutoff=0.8)
    if close:
        from engine.config import load_config
        from engine.data.membership import with_prices

        if not with_prices([symbol], load_config()):
            raise AishockError(
                f"'{item}' is neither a basket nor a ticker with prices; did you mean '{close[0]}'?"
            )
    return symbol


def _members_with_prices(path: str) -> list[str]:
    """The members of the membership CSV at `path` that have prices locally (a CSV in the
    configured data folders, or an earlier download); the others are left out with one
    warning naming them (a strategy cannot trade a name without prices)."""
    from engine.config import load_config
    from engine.data.checks import DataWarning
    from engine.data.membership import read_membership, with_prices

    members = list(read_membership(path).index)
    have = with_prices(members, load_config())
    missing = sorted(set(members) - set(have))
    if missing:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        warnings.warn(
            DataWarning(
                f"{path}: {len(missing)} member(s) without prices are left out of the universe: {shown}"
            ),
            stacklevel=2,
        )
    return have


def windows(specs: Iterable[str]) -> Dated:
    """{ticker: (added, removed)} for the members of the membership CSVs named in `specs`
    (universe specs) whose file gives a date; other tickers are members on every day. A
    ticker in two files keeps the first file's dates."""
    return _windows(tuple(s for s in specs if isinstance(s, str)))


class Dated(dict):
    """What `windows` returns: {ticker: (added, removed)}, with `key`, a hashable summary
    of its items (for keeping what is derived from it). Not to be changed once made."""

    @property
    def key(self) -> tuple:
        if "_key" not in self.__dict__:
            self.__dict__["_key"] = tuple(sorted(self.items()))
        return self.__dict__["_key"]


@cache
def _windows(specs: tuple[str, ...]) -> Dated:
    out = Dated()
    for spec in specs:
        for item in _items(spec):
            if item.lower().endswith(".csv"):
                for t, w in _csv_windows(item).items():
                    out.setdefault(t, w)
    return out


@cache
def _csv_windows(path: str) -> dict[str, Window]:
    from engine.data.membership import windows as read_windows

    return read_windows(path)


def rows(
    index: pd.DatetimeIndex, tickers: list[str], dated: dict[str, Window]
) -> tuple[np.ndarray, np.ndarray]:
    """(first, end): for each of `tickers`, the first row of `index` on which it is a member
    and the row from which it no longer is (0 and len(index) when `dated` has no date)."""
    never = (None, None)
    added = np.array([(dated.get(t, never)[0] or _MIN).value for t in tickers], dtype=np.int64)
    removed = np.array([(dated.get(t, never)[1] or _MAX).value for t in tickers], dtype=np.int64)
    days = index.as_unit("ns").asi8
    return np.searchsorted(days, added, side="left"), np.searchsorted(days, removed, side="left")


_MIN, _MAX = pd.Timestamp.min, pd.Timestamp.max


def member_mask(index: pd.DatetimeIndex, tickers: list[str], dated: dict[str, Window]) -> np.ndarray:
    """days x tickers booleans: True where the ticker is a member on that day (`dated`)."""
    first, end = rows(index, tickers, dated)
    day = np.arange(len(index))[:, None]
    return (day >= first) & (day < end)


def point_in_time(prices: Prices, dated: dict[str, Window]) -> Prices:
    """`prices` with every field NaN for each ticker on the days it is not a member
    (`dated`, see `windows`): what a strategy sees, so it can neither pick a name before it
    joined nor after it left, nor measure a shock with it. `prices` itself when no ticker
    of the panel has dates."""
    names = [t for t in prices.tickers if t in dated]
    if not names:
        return prices
    dated = dated if isinstance(dated, Dated) else Dated(dated)
    key = ("point_in_time", dated.key)
    return per_panel(prices, key, lambda: _masked(prices, names, dated))


def _masked(prices: Prices, names: list[str], dated: dict[str, Window]) -> Prices:
    outside = pd.DataFrame(~member_mask(prices.index, names, dated), index=prices.index, columns=names)
    frames = {}
    for f in ("close", "open", "high", "low", "volume"):
        frame = getattr(prices, f).copy()
        frame[names] = frame[names].mask(outside)
        frames[f] = frame
    return replace(prices, **frames)


def outside_membership(schedule, dated: dict[str, Window]) -> tuple[int, int, int] | None:
    """The first order of `schedule` (engine.strategy.schedule.Schedule) with a weight other than 0
    decided on a day its ticker is not a member (`dated`): (run, entry, decision row), or
    None. Orders to weight 0 (closing a position) are always allowed."""
    if not any(t in dated for t in schedule.tickers):
        return None
    first, end = rows(schedule.index, schedule.tickers, dated)
    run, entry = _first_outside(
        schedule.lo, schedule.hi, schedule.bar, schedule.col, schedule.weight, first, end
    )
    return None if run < 0 else (int(run), int(entry), int(schedule.bar[entry] - 1))


@nb.njit(cache=True, nogil=True)
def _first_outside(lo, hi, bar, col, weight, first, end):
    """(run, entry) of the first entry with weight != 0 whose decision row (bar - 1) is
    outside [first, end) of its column; (-1, -1) if none."""
    for r in range(lo.size):
        for e in range(lo[r], hi[r]):
            decided = bar[e] - 1
            c = col[e]
            if weight[e] != 0.0 and (decided < first[c] or decided >= end[c]):
                return r, e
    return -1, -1
