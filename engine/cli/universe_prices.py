"""Shared by `aishock event` and `aishock shocks`: a universe spec and the closes it needs."""

from __future__ import annotations

import pandas as pd

from engine.config import Config
from engine.data.membership import with_prices
from engine.data.panel import load_prices
from engine.errors import AishockError
from engine.events.members import resolve_members


def load_universe(
    spec: str, cfg: Config, market: str, extra: tuple[str, ...] = ()
) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    """(label, members, close) for the universe `spec` (see engine.events.members). `close` holds
    every member with local prices, the `market` (required) and whichever of `extra` have
    prices. Members without prices are left out of `close` (the caller reports them);
    nothing is downloaded, so a large membership list never goes online name by name."""
    label, members = resolve_members(spec, cfg)
    if not with_prices([market], cfg):
        raise AishockError(f"market {market} has no prices in the data folders; add {market}.csv")
    wanted = list(dict.fromkeys([*members.index, market, *extra]))
    have = with_prices(wanted, cfg)
    return label, members, load_prices(have, config=cfg).close
