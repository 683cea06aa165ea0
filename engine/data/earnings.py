"""The earnings calendar: `earnings_calendar.csv` (date, ticker, note) in a data folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from engine.errors import AishockError

FILENAME = "earnings_calendar.csv"
COLUMNS = ["date", "ticker", "note"]


def empty() -> pd.DataFrame:
    return pd.DataFrame(
        {"date": pd.DatetimeIndex([]), "ticker": pd.Series([], dtype=str), "note": pd.Series([], dtype=str)}
    )


def read_earnings(dirs: Sequence[Path]) -> pd.DataFrame:
    """Report dates from the first folder in `dirs` holding FILENAME (empty if none does),
    sorted by date. Refuses a file without date and ticker columns or with a bad date."""
    path = next((d / FILENAME for d in dirs if (d / FILENAME).is_file()), None)
    if path is None:
        return empty()
    raw = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    raw.columns = [c.strip().lower() for c in raw.columns]
    if not {"date", "ticker"} <= set(raw.columns):
        raise AishockError(f"{path}: needs 'date' and 'ticker' columns")
    try:
        dates = pd.to_datetime(raw["date"].str.strip(), format="ISO8601")
    except ValueError:
        raise AishockError(f"{path}: a date is not YYYY-MM-DD") from None
    note = raw.get("note", "")
    frame = pd.DataFrame({"date": dates, "ticker": raw["ticker"].str.strip().str.upper(), "note": note})
    return frame.sort_values(["date", "ticker"], kind="stable").reset_index(drop=True)
