"""Parse one per-ticker price CSV into a validated daily frame.

Layouts accepted (both are what yfinance writes):
- single header: `Date,Open,High,Low,Close,Volume` (any subset containing Close, e.g. `Date,Close`);
- three-line multi-index header from `yfinance.download(...).to_csv()`:
  `Price,Close,High,...` / `Ticker,SPY,...` / `Date,,,...`.
Normalised on the way: column names are case-insensitive, `Adj Close` is ignored when `Close`
is present, a UTF-8 BOM and CRLF line endings are accepted, timezone-aware timestamps become
the exchange-local (America/New_York) calendar date.
Refused with one line naming the file: anything else (see `read_price_csv`).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from engine.data.validate import FIELDS, validate_bars
from engine.errors import AishockError


EXCHANGE_TZ = "America/New_York"


def _fail(path: Path, problem: str) -> AishockError:
    return AishockError(f"{path}: {problem}")


def _header_rows(path: Path, text: str, ticker: str) -> tuple[list[str], int]:
    """Column names (lower case) and how many header lines to skip."""
    rows = list(csv.reader(io.StringIO("\n".join(text.splitlines()[:3]))))
    if not rows or not any(c.strip() for c in rows[0]):
        raise _fail(path, "the file is empty; delete it or re-download the ticker")
    first = [c.strip().lower() for c in rows[0]]
    if first[0] == "price":  # yfinance multi-index layout
        if len(rows) < 3 or rows[1][0].strip().lower() != "ticker":
            raise _fail(path, "multi-index header without its 'Ticker' and 'Date' lines")
        named = {c.strip().upper() for c in rows[1][1:] if c.strip()}
        if named and named != {ticker.upper()}:
            raise _fail(path, f"header is for {', '.join(sorted(named))}, not {ticker}; "
                              "rename the file or fix its header")
        return ["date", *first[1:]], 3
    return first, 1


def read_price_csv(path: str | Path, ticker: str | None = None) -> pd.DataFrame:
    """Read `path` into a frame indexed by date (datetime64, no time zone, ascending) with
    float columns among FIELDS (`close` always present).

    Raises AishockError (one line, naming the file) when the path is not a readable file,
    the file is empty or header-only, has no Date or Close column, holds text in a numeric
    column, has duplicate or unsorted dates, or a non-positive price.
    """
    path = Path(path)
    ticker = ticker or path.stem
    if not path.is_file():
        raise _fail(path, "is not a file; expected a per-ticker CSV")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise _fail(path, f"cannot be read ({type(e).__name__}); check its permissions and encoding") from None
    names, skip = _header_rows(path, text, ticker)
    if names[0] not in ("date", "datetime"):
        raise _fail(path, f"first column is '{names[0]}', expected 'Date'")
    if "close" not in names:
        raise _fail(path, f"no Close column (columns: {', '.join(names[1:])})")
    lines = text.splitlines()[skip:]
    if not any(line.strip() for line in lines):
        raise _fail(path, "has a header but no rows")
    raw = pd.read_csv(io.StringIO("\n".join(lines)), header=None, names=names, dtype=str,
                      skip_blank_lines=True, index_col=False)
    frame = pd.DataFrame(index=_parse_dates(path, raw[names[0]]))
    for field in FIELDS:
        if field in names:
            frame[field] = _parse_numbers(path, field, raw[field])
    frame = frame[frame["close"].notna()]
    if frame.empty:
        raise _fail(path, "has no rows with a Close price")
    validate_bars(str(path), frame)
    return frame


def _parse_dates(path: Path, col: pd.Series) -> pd.DatetimeIndex:
    try:
        stamps = pd.to_datetime(col.str.strip(), utc=True, format="ISO8601")
    except (ValueError, TypeError):
        bad = col[pd.to_datetime(col, errors="coerce", utc=True, format="ISO8601").isna()]
        raise _fail(path, f"unreadable date '{bad.iloc[0]}'; use YYYY-MM-DD") from None
    naive = "+" not in str(col.iloc[0])[10:] and "Z" not in str(col.iloc[0])
    local = stamps.dt.tz_localize(None) if naive else stamps.dt.tz_convert(EXCHANGE_TZ).dt.tz_localize(None)
    return pd.DatetimeIndex(local.dt.normalize().to_numpy(), name="date")


def _parse_numbers(path: Path, field: str, col: pd.Series) -> np.ndarray:
    values = pd.to_numeric(col.str.strip(), errors="coerce")
    bad = values.isna() & col.notna() & (col.str.strip() != "")
    if bad.any():
        raise _fail(path, f"non-numeric {field} '{col[bad].iloc[0]}' on row {bad.idxmax() + 1}")
    return values.to_numpy(dtype=float)
