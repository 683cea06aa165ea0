"""A universe named on the command line as a member list: a tag of the AI universe (`ai`,
`power`, `inference`, ... from strategies/baskets.toml), `all` (every ticker the data folders
hold), or a membership CSV with a `Symbol` column (point-in-time membership)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from engine.config import Config
from engine.data import membership, universe
from engine.data.panel import Prices, load_prices
from engine.errors import AishockError

ALL = "all"
OTHER = "other"


def resolve_members(spec: str, config: Config) -> tuple[str, pd.DataFrame]:
    """(label, members) for `spec`. `members` is indexed by ticker, in listing order, with
    columns `security`, `sector` ('' when unknown) and `role` (the AI role tag of the ticker,
    or 'other'). Raises AishockError for an unknown tag, an unreadable file or an empty list."""
    spec = str(spec).strip()
    tags = universe.baskets()
    if spec.lower() in tags:
        label, tickers = spec.lower(), list(tags[spec.lower()]["tickers"])
        frame = pd.DataFrame({c: "" for c in membership.COLUMNS}, index=pd.Index(tickers, name="ticker"))
    elif spec.lower() == ALL:
        label, tickers = ALL, membership.local_tickers(config.data_dirs)
        if not tickers:
            places = ", ".join(str(d) for d in config.data_dirs)
            raise AishockError(f"universe 'all' is empty: no price CSVs in {places}")
        frame = pd.DataFrame({c: "" for c in membership.COLUMNS}, index=pd.Index(tickers, name="ticker"))
    elif spec.lower().endswith(".csv") or _is_file(spec):
        label, frame = Path(spec).stem, membership.read_membership(spec)
    else:
        raise AishockError(
            f"unknown universe '{spec}'; use a tag ({', '.join(tags)}), 'all', or a membership CSV"
        )
    roles = universe.role_of()
    frame["role"] = [roles.get(t, OTHER) for t in frame.index]
    return label, frame


def _is_file(spec: str) -> bool:
    """Whether `spec` names an existing file (a name too long to be one is not)."""
    try:
        return Path(spec).is_file()
    except OSError:
        return False


def load_universe(
    spec: str, cfg: Config, market: str, extra: tuple[str, ...] = ()
) -> tuple[str, pd.DataFrame, Prices]:
    """(label, members, prices) for the universe `spec` (see resolve_members). `prices` holds
    every member with local prices, the `market` (required) and whichever of `extra` have
    prices. Members without prices are left out of `close` (the caller reports them);
    nothing is downloaded, so a large membership list never goes online name by name."""
    label, members = resolve_members(spec, cfg)
    if not membership.with_prices([market], cfg):
        raise AishockError(f"market {market} has no prices in the data folders; add {market}.csv")
    wanted = list(dict.fromkeys([*members.index, market, *extra]))
    have = membership.with_prices(wanted, cfg)
    return label, members, load_prices(have, config=cfg)
