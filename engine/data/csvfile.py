"""Parse one per-ticker price CSV into a validated daily frame.

Layouts accepted (both are what yfinance writes):
- single header: `Date,Open,High,Low,Close,Volume` (any subset containing Close, e.g. `Date,Close`);
- three-line multi-index header from `yfinance.download(...).to_csv()`:
  `Price,Close,High,...` / `Ticker,SPY,...` / `Date,,,...`.
Normalised on the way: column names are case-insensitive and may be padded or quoted, other
columns (`Dividends`, `Stock Splits`) are ignored, a UTF-8 BOM and CRLF line endings are
accepted, blank and all-empty rows are dropped.
Refused with one line naming the file: anything else (see `read_price_csv`).

Dates: a daily bar keeps the session date written in its stamp, whatever its time zone. The
calendar date is taken as written, in the stamp's own offset, and the time of day dropped:
`2025-01-27`, `2025-01-27T00:00:00Z` (midnight UTC), `2025-01-27 00:00:00-05:00` (New York)
and `2025-01-27 00:00:00+09:00` (Tokyo) are all the bar of 2025-01-27. (Converting to New
York time would move a midnight-UTC or an Asian bar to the previous day.)

Adjusted closes: when the file has an Adj Close column (`Adj Close`, `adj_close`, `AdjClose`:
any case, spaces or underscores), it is the close, with or without a Close column beside it;
a row without an Adj Close is then dropped like a row without a Close. With both columns,
each row's open, high and low are multiplied by that row's Adj Close / Close, so the bar
stays consistent with its close (volume is kept as written); without a Close column they
are kept as written. The frame says so in `frame.attrs["adjusted"]` (True, else False);
the panel lists such tickers in `Prices.adjusted` and the run manifest names them.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from engine.data.validate import FIELDS, validate_bars
from engine.errors import AishockError

ADJ = "adj close"  # the name every spelling of the Adj Close column is read as


def _fail(path: Path, problem: str) -> AishockError:
    return AishockError(f"{path}: {problem}")


def _header_rows(path: Path, text: str, ticker: str) -> tuple[list[str], int]:
    """Column names (lower case) and how many header lines to skip."""
    if not text.strip():
        raise _fail(path, "the file is empty; delete it or re-download the ticker")
    rows = [row or [""] for row in csv.reader(text.splitlines()[:3], skipinitialspace=True)]
    first = [c.strip().lower() for c in rows[0]]
    if not any(first):
        raise _fail(path, "line 1 is blank; the header must be the first line")
    if first[0] == "price":  # yfinance multi-index layout
        if (
            len(rows) < 3
            or rows[1][0].strip().lower() != "ticker"
            or rows[2][0].strip().lower() not in ("date", "datetime")
        ):
            raise _fail(path, "multi-index header without its 'Ticker' and 'Date' lines")
        named = {c.strip().upper() for c in rows[1][1:] if c.strip()}
        if named and named != {ticker.upper()}:
            raise _fail(
                path,
                f"header is for {', '.join(sorted(named))}, not {ticker}; rename the file or fix its header",
            )
        return ["date", *first[1:]], 3
    return first, 1


def read_price_csv(path: str | Path, ticker: str | None = None, content: bytes | None = None) -> pd.DataFrame:
    """Read `path` (or `content`, its bytes when already read) into a frame indexed by date
    (datetime64, no time zone, ascending) with float columns among FIELDS (`close` always
    present; from Adj Close when there is one, see the module docstring). Blank or all-empty
    rows (`,,,,,`) and rows without a Close price are dropped; other empty cells are NaN.

    Raises AishockError (one line, naming the file) when the path is not a readable file,
    the file is empty or header-only, has no Date column, no Close or Adj Close column or a
    column twice, a row with more values than the header, a missing or unreadable date, text
    in a numeric column, duplicate or unsorted dates, or a non-positive or infinite price.
    """
    path = Path(path)
    ticker = ticker or path.stem
    if not path.is_file():
        raise _fail(path, "is not a file; expected a per-ticker CSV")
    try:
        text = (path.read_bytes() if content is None else content).decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        problem = f"cannot be read ({type(e).__name__}); check its permissions and encoding"
        raise _fail(path, problem) from None
    names, skip = _header_rows(path, text, ticker)
    names = [ADJ if re.sub(r"[\s_]", "", n) == "adjclose" else n for n in names]
    if names[0] not in ("date", "datetime"):
        raise _fail(path, f"first column is {names[0]!r}, expected 'Date'")
    if "close" not in names and ADJ not in names:
        raise _fail(path, f"no Close column (columns: {', '.join(names[1:])})")
    twice = next((n for i, n in enumerate(names) if n and n in names[:i]), None)
    if twice:
        raise _fail(path, f"column {twice!r} appears twice; keep one")
    names = [n or f"unnamed {i}" for i, n in enumerate(names)]  # trailing commas
    numbered = [(n, line) for n, line in enumerate(text.splitlines()[skip:], skip + 1) if line.strip()]
    raw = _read_rows(path, numbered, names).dropna(how="all")
    if raw.empty:
        raise _fail(path, "has a header but no rows")
    line_of = [n for n, _ in numbered]
    frame = pd.DataFrame(index=parse_dates(path, raw[names[0]], line_of))
    for field in (*FIELDS, ADJ):
        if field in names:
            frame[field] = _parse_numbers(path, field, raw[field], line_of)
    adjusted = ADJ in frame
    if adjusted and "close" not in frame:
        frame = frame.rename(columns={ADJ: "close"})
        frame = frame[[f for f in FIELDS if f in frame]]
    frame = frame[frame[ADJ if ADJ in frame else "close"].notna()]
    if frame.empty:
        raise _fail(path, "has no rows with a Close price")
    validate_bars(str(path), frame)  # Close and Adj Close alike: finite and positive
    if ADJ in frame:
        adj = frame.pop(ADJ)
        factor = adj / frame["close"]  # NaN where the row has no Close: its open, high, low too
        for field in ("open", "high", "low"):
            if field in frame:
                frame[field] = frame[field] * factor
        frame["close"] = adj
    frame.attrs["adjusted"] = adjusted
    return frame


def _read_rows(path: Path, numbered: list[tuple[int, str]], names: list[str]) -> pd.DataFrame:
    """The data lines as a frame with `names` columns, row i being `numbered[i]`: dates as
    text; a column that is all numbers as numbers, else as text (for `_parse_numbers`)."""
    data = io.StringIO("\n".join(line for _, line in numbered))
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)  # pandas drops extra values
        try:
            return pd.read_csv(
                data,
                header=None,
                names=names,
                dtype={names[0]: str},
                skipinitialspace=True,
                skip_blank_lines=False,
                index_col=False,
            )
        except (pd.errors.ParserWarning, pd.errors.ParserError) as e:
            problem = str(e).strip().splitlines()[0]
    for n, line in numbered:
        values = next(csv.reader([line], skipinitialspace=True), [])
        if len(values) > len(names):
            problem = f"line {n} has {len(values)} values but the header names {len(names)} columns"
            break
    raise _fail(path, f"{problem}; fix the row or the header")


def parse_dates(path: Path, col: pd.Series, line_of: list[int]) -> pd.DatetimeIndex:
    """The calendar date written in each stamp of `col` (text; `line_of[i]` is the line of
    row i), in the stamp's own offset when it has one (`Z`, `+09:00`, `-0500`), the time of
    day dropped (the module docstring's rule). Raises AishockError naming `path` and the line
    for a missing or unreadable date."""
    text = col.str.strip()
    missing = text.isna() | (text == "")
    if missing.any():
        raise _fail(path, f"no date on line {line_of[missing.idxmax()]}")
    try:
        stamps = pd.to_datetime(text, utc=True, format="ISO8601")
    except (ValueError, TypeError):
        bad = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601").isna()
        at = bad.idxmax() if bad.any() else text.index[0]
        raise _fail(path, f"unreadable date {text[at]!r} on line {line_of[at]}; use YYYY-MM-DD") from None
    written = stamps.dt.tz_localize(None)  # a stamp without offset was read as UTC: as written
    timed = (text.str.len() > 10).to_numpy()  # a time of day follows the date, maybe an offset
    if timed.any():  # from UTC back to the wall clock of the stamp's own offset
        hh_mm = text[timed].str[10:].str.extract(r"([+-]\d\d):?(\d\d)?$").astype(float).fillna(0.0)
        hours, mins = hh_mm[0].to_numpy(), hh_mm[1].to_numpy()
        shift = pd.to_timedelta(hours * 60 + np.copysign(mins, hours), unit="min")
        written = written.copy()
        written[timed] = written[timed].to_numpy() + shift.to_numpy()
    return pd.DatetimeIndex(written.dt.normalize().to_numpy(), name="date")


def _parse_numbers(path: Path, field: str, col: pd.Series, line_of: list[int]) -> np.ndarray:
    if col.dtype.kind in "fiu":
        return col.to_numpy(dtype=float)
    text = col.astype(str).str.strip()
    values = pd.to_numeric(text, errors="coerce")
    bad = values.isna() & col.notna() & (text != "")
    if bad.any():
        at = bad.idxmax()
        raise _fail(path, f"non-numeric {field} {col[at]!r} on line {line_of[at]}")
    return values.to_numpy(dtype=float)
