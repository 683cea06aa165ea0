"""The earnings calendar: `earnings_calendar.csv` (date, ticker, note) in a data folder.

The file is UTF-8 text (a byte-order mark is accepted) with a header naming `date` and
`ticker` (any case; `note` optional, other columns ignored) and one report per row; blank
lines are skipped, a note holding commas is quoted. Dates follow the price files' rule
(engine.data.csvfile.parse_dates): YYYY-MM-DD, a time of day dropped; tickers are spelled
as the panel spells them (`brk.b` is BRK-B). Anything else (an empty or header-only file,
other bytes than UTF-8, a missing column, a row with more values than the header, a row
without a date or ticker, an unreadable date or ticker) is refused with one line
`<path>: <problem>; <how to fix it>`, as AishockError: the calendar comes with every price
load, so a broken one must say so, not break the load with a parser's traceback.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from engine.data.csvfile import parse_dates
from engine.errors import AishockError

FILENAME = "earnings_calendar.csv"
COLUMNS = ["date", "ticker", "note"]
HEADER = ",".join(COLUMNS)


def empty() -> pd.DataFrame:
    return pd.DataFrame(
        {"date": pd.DatetimeIndex([]), "ticker": pd.Series([], dtype=str), "note": pd.Series([], dtype=str)}
    )


def read_earnings(dirs: Sequence[Path]) -> pd.DataFrame:
    """Report dates from the first folder in `dirs` holding FILENAME (empty if none does),
    sorted by date, then ticker; the file is checked as the module docstring says."""
    path = next((d / FILENAME for d in dirs if (d / FILENAME).is_file()), None)
    if path is None:
        return empty()
    return parse_calendar(path)


def _fail(path: Path, problem: str) -> AishockError:
    return AishockError(f"{path}: {problem}")


def parse_calendar(path: Path) -> pd.DataFrame:
    """The calendar in `path` as a (date, ticker, note) frame; AishockError (one line naming
    `path`) for anything the module docstring refuses."""
    try:
        data = path.read_bytes()
    except OSError as e:
        problem = f"cannot be read ({e.strerror or type(e).__name__}); check its permissions"
        raise _fail(path, problem) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise _fail(
            path, f"byte 0x{data[e.start]:02x} on line {line} is not UTF-8; save the file as UTF-8"
        ) from None
    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((reader.line_num, row))
    except csv.Error as e:
        raise _fail(path, f"line {reader.line_num}: {e}; fix the row") from None
    if not rows:
        problem = f"the file is empty; write the header `{HEADER}` and a row per report, or delete it"
        raise _fail(path, problem)
    (_, header), body = rows[0], rows[1:]
    names = [c.strip().lower() for c in header]
    missing = [c for c in ("date", "ticker") if c not in names]
    if missing:
        raise _fail(
            path,
            f"no {' or '.join(repr(c) for c in missing)} column (columns: {', '.join(names)}); "
            f"the header must be `{HEADER}`",
        )
    twice = next((n for i, n in enumerate(names) if n and n in names[:i]), None)
    if twice:
        raise _fail(path, f"column {twice!r} appears twice; keep one")
    if not body:
        raise _fail(path, "has a header but no rows; add a row per report, or delete the file")
    for line, row in body:
        if len(row) > len(names):
            raise _fail(
                path,
                f"line {line} has {len(row)} values but the header names {len(names)} columns; "
                "quote a note that holds commas",
            )
    cells = {n: [row[i].strip() if i < len(row) else "" for _, row in body] for i, n in enumerate(names)}
    lines = [line for line, _ in body]
    from engine.symbols import normalise_symbol  # panel imports this module

    tickers = []
    for line, day, name in zip(lines, cells["date"], cells["ticker"], strict=True):
        if not day or not name:
            raise _fail(path, f"no {'date' if not day else 'ticker'} on line {line}; fill it in")
        try:
            tickers.append(normalise_symbol(name))
        except AishockError:
            raise _fail(path, f"{name!r} on line {line} is not a ticker symbol; fix it") from None
    dates = parse_dates(path, pd.Series(cells["date"], dtype=object), lines)
    frame = pd.DataFrame(
        {"date": dates.to_numpy(), "ticker": tickers, "note": cells.get("note", [""] * len(body))}
    )
    return frame.sort_values(["date", "ticker"], kind="stable").reset_index(drop=True)
