"""Named baskets of tickers: the built-in AI roles (strategies/baskets.toml) plus the user's.

A basket name, a ticker, a membership CSV (a file ending in .csv with a Symbol column, such
as sp500_constituents_2024-12-27.csv), or a comma-separated mix resolves to a list of tickers.
"""

from __future__ import annotations

import os
import tomllib
import warnings
from functools import cache
from pathlib import Path

from engine.config import PROJECT_ROOT
from engine.data.panel import normalise_symbol
from engine.errors import AishockError

BUILTIN = PROJECT_ROOT / "strategies" / "baskets.toml"
USER = PROJECT_ROOT / "baskets.toml"
ALL_AI = "ai"


def _read(path: Path) -> dict[str, dict]:
    try:
        with path.open("rb") as f:
            table = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise AishockError(f"cannot read baskets file {path}: {e}") from None
    out = {}
    for name, body in table.items():
        if not isinstance(body, dict) or not isinstance(body.get("tickers"), list):
            raise AishockError(f'{path}: basket [{name}] needs tickers = ["A", "B", ...]')
        out[name] = {
            "description": str(body.get("description", "")),
            "tickers": tuple(normalise_symbol(t) for t in body["tickers"]),
            "in_ai": bool(body.get("in_ai", True)),
        }
    return out


@cache
def _baskets(user_file: str | None) -> dict[str, dict]:
    baskets = _read(BUILTIN)
    if USER.is_file():
        baskets.update(_read(USER))
    if user_file:
        path = Path(user_file).expanduser()
        if not path.is_file():
            what = "is a folder" if path.is_dir() else "does not exist"
            raise AishockError(
                f"AISHOCK_BASKETS names {path}, which {what}; point it at a baskets TOML file or unset it"
            )
        baskets.update(_read(path))
    ai = [t for b in baskets.values() if b["in_ai"] for t in b["tickers"]]
    baskets.setdefault(
        ALL_AI,
        {
            "description": "Every AI-infrastructure basket",
            "tickers": tuple(dict.fromkeys(ai)),
            "in_ai": False,
        },
    )
    return baskets


def baskets() -> dict[str, dict]:
    """{name: {"description": str, "tickers": tuple, "in_ai": bool}} for every known basket;
    `in_ai` (default true) says whether the basket's names belong to the `ai` universe."""
    return _baskets(os.environ.get("AISHOCK_BASKETS"))


def role_of() -> dict[str, str]:
    """{ticker: basket name} over the role baskets (first basket listing a ticker wins)."""
    out: dict[str, str] = {}
    for name, b in baskets().items():
        if b["in_ai"]:
            for t in b["tickers"]:
                out.setdefault(t, name)
    return out


def resolve(spec: str | tuple[str, ...] | list[str]) -> list[str]:
    """Tickers named by `spec`: basket names, tickers and/or membership CSV paths,
    comma-separated or a sequence."""
    key = spec if isinstance(spec, str) else tuple(spec)
    return list(_resolve(key, os.environ.get("AISHOCK_BASKETS")))


@cache
def _resolve(spec: str | tuple[str, ...], _user_file: str | None) -> tuple[str, ...]:
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    known = baskets()
    out: list[str] = []
    for item in (i.strip() for i in items if i.strip()):
        if item.lower() in known:
            out.extend(known[item.lower()]["tickers"])
        elif item.lower().endswith(".csv"):
            out.extend(_members_with_prices(item))
        else:
            out.append(normalise_symbol(item))
    if not out:
        raise AishockError(
            f"universe '{spec}' names no tickers; use a basket ({', '.join(known)}) or tickers"
        )
    return tuple(dict.fromkeys(out))


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
