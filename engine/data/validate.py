"""Checks every daily bar frame passes, whatever its source (CSV file or yfinance)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.errors import AishockError

FIELDS = ("open", "high", "low", "close", "volume")


def validate_bars(where: str, frame: pd.DataFrame) -> None:
    """Raise AishockError naming `where` unless `frame` has unique ascending dates, a close
    column, finite values, prices > 0 and volumes >= 0. NaN values are allowed (missing bars)."""
    if "close" not in frame:
        raise AishockError(f"{where}: no Close column")
    index = frame.index
    dup = index[index.duplicated()]
    if len(dup):
        raise AishockError(f"{where}: duplicate date {dup[0].date()}; keep one row per day")
    if not index.is_monotonic_increasing:
        at = int(np.argmax(np.diff(index.asi8) < 0))
        raise AishockError(f"{where}: dates out of order at {index[at + 1].date()}; sort by date")
    infinite = np.isinf(frame.to_numpy(dtype=float)).any(axis=1)
    if infinite.any():
        raise AishockError(
            f"{where}: infinite value on {index[infinite.argmax()].date()}; values must be finite numbers"
        )
    prices = frame.drop(columns="volume", errors="ignore")
    bad = (prices <= 0).any(axis=1)
    if bad.any():
        raise AishockError(f"{where}: non-positive price on {bad.idxmax().date()}; prices must be > 0")
    if "volume" in frame and (frame["volume"] < 0).any():
        day = (frame["volume"] < 0).idxmax().date()
        raise AishockError(f"{where}: negative volume on {day}; volumes must be >= 0")
