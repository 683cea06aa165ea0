"""Who is in a universe: a membership CSV (a `Symbol` column, optionally `Security`, `GICS
Sector`, `GICS Sub-Industry` and `Date added`), the tickers the data folders hold, and which members have prices at all.

Symbols are matched to price files as yfinance spells them (BRK.B -> BRK-B).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from engine.config import Config
from engine.data import store, yahoo
from engine.symbols import normalise_symbol
from engine.errors import AishockError

COLUMNS = ("security", "sector", "industry", "added", "removed")
_OPTIONAL = {
    "security": ("Security", "Name"),
    "sector": ("GICS Sector", "Sector"),
    "industry": ("GICS Sub-Industry", "Sub-Industry", "Industry"),
    "added": ("Date added", "Added"),
    "removed": ("Date removed", "Removed"),
}


def read_membership(path: str | Path) -> pd.DataFrame:
    """The members listed in the CSV at `path`, in file order, indexed by `ticker` (as yfinance
    spells it), with columns `security`, `sector`, `industry` (GICS Sub-Industry) and `added`
    (the date it joined, YYYY-MM-DD) and `removed` (the date it left), '' where the file has
    no such column or cell.
    A symbol listed twice is kept once. Refuses an unreadable file, one without a `Symbol`
    column, an unparseable symbol, or a file with no members."""
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise AishockError(
            f"membership file {path} does not exist; pass a CSV with a Symbol column"
        ) from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise AishockError(f"cannot read membership file {path}: {str(e).splitlines()[0]}") from None
    by_name = {c.strip().lower(): c for c in raw.columns}
    if "symbol" not in by_name:
        raise AishockError(f"{path}: no 'Symbol' column (columns: {', '.join(raw.columns)}); add one")
    symbols = raw[by_name["symbol"]].str.strip()
    raw = raw[symbols != ""]
    if raw.empty:
        raise AishockError(f"{path}: the universe is empty (no symbols listed)")
    tickers = [_symbol(s, path) for s in raw[by_name["symbol"]]]
    out = pd.DataFrame(index=pd.Index(tickers, name="ticker"))
    for column, names in _OPTIONAL.items():
        source = next((by_name[n.lower()] for n in names if n.lower() in by_name), None)
        out[column] = raw[source].str.strip().to_numpy() if source else ""
    out = out[~out.index.duplicated()]
    for column in ("added", "removed"):
        _dates(out[column], path, _OPTIONAL[column][0])
    return out


def _dates(cells: pd.Series, path: Path, column: str) -> pd.Series:
    """The non-empty `cells` as dates; refuses one that is not YYYY-MM-DD, naming its row."""
    given = cells[cells != ""]
    parsed = pd.to_datetime(given, errors="coerce", format="ISO8601")
    if parsed.isna().any():
        at = parsed.index[parsed.isna()][0]
        raise AishockError(f"{path}: {column} of {at} is {given[at]!r}, not a date; use YYYY-MM-DD")
    return parsed


def windows(path: str | Path) -> dict[str, tuple[pd.Timestamp | None, pd.Timestamp | None]]:
    """{ticker: (added, removed)} of the members of the CSV at `path` (see `dated`)."""
    return dated(read_membership(path), Path(path))


def dated(members: pd.DataFrame, path: Path | str = "membership") -> dict:
    """{ticker: (added, removed)} for the members of a `read_membership` frame whose `added`
    or `removed` cell holds a date: the first day each is a member, and the first day it no
    longer is (None where the cell is empty or the column missing)."""
    parsed = {
        c: _dates(members[c], Path(path), _OPTIONAL[c][0]) if c in members.columns else pd.Series()
        for c in ("added", "removed")
    }
    return {
        t: (parsed["added"].get(t), parsed["removed"].get(t))
        for t in members.index
        if t in parsed["added"].index or t in parsed["removed"].index
    }


def _symbol(symbol: str, path: Path) -> str:
    try:
        return normalise_symbol(symbol)
    except AishockError as e:
        raise AishockError(f"{path}: {e}") from None


def local_tickers(dirs: Sequence[Path]) -> list[str]:
    """Every ticker with a `<TICKER>.csv` in `dirs` (under `prices/` or at the top level),
    sorted. Files whose name is not an upper-case ticker (membership lists, the earnings
    calendar) are not tickers."""
    found = set()
    for d in dirs:
        for path in [*d.glob("prices/*.csv"), *d.glob("*.csv")]:
            stem = path.stem
            try:
                if stem == normalise_symbol(stem):
                    found.add(stem)
            except AishockError:
                continue
    return sorted(found)


def with_prices(tickers: Iterable[str], config: Config) -> list[str]:
    """The tickers that have prices without going online: a CSV in a data folder or an earlier
    yfinance download in the cache. Order kept."""
    return [
        t
        for t in tickers
        if store.find_csv(t, config.data_dirs) or yahoo.cache_file(config.cache_dir, t).exists()
    ]
