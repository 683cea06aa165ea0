"""Online source: download a ticker's daily bars with yfinance into the parquet cache.

Only reached for tickers that no data folder has. The download is adjusted for splits and
dividends (`auto_adjust=True`), like the snapshot's files. Whatever goes wrong (no network,
rate limit, an empty or malformed answer) ends in one AishockError and an unchanged cache.
yfinance reports a failed download by logging it and returning an empty frame; the logged
reason is put in the error (and not printed).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import pandas as pd

from engine.data.cache import UNREADABLE, read_frame, write_frame
from engine.data.validate import FIELDS, validate_bars
from engine.errors import AishockError


def cache_file(cache_dir: Path, ticker: str) -> Path:
    return cache_dir / "yahoo" / f"{ticker}.parquet"


def read_cached(cache_dir: Path, ticker: str) -> pd.DataFrame | None:
    """The cached download of `ticker`, or None if there is none or it cannot be read."""
    path = cache_file(cache_dir, ticker)
    if not path.exists():
        return None
    try:
        frame = read_frame(path)
    except UNREADABLE:
        return None
    frame.index = pd.DatetimeIndex(frame.index, name="date")
    return frame


def normalise(raw: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """yfinance's frame (flat or (Price, Ticker) multi-index columns) as FIELDS columns. A
    time-zone-aware index keeps the date written in its own zone (yfinance stamps a daily bar
    at midnight of the exchange's zone: Tokyo's 2025-01-27 is 2025-01-27, not New York's
    26th), the rule of engine.data.csvfile."""
    if raw is None or raw.empty:
        raise AishockError(f"yfinance returned no data for {ticker}; check the symbol")
    frame = raw
    if isinstance(frame.columns, pd.MultiIndex):
        level = next(
            (i for i in range(frame.columns.nlevels) if ticker in frame.columns.get_level_values(i)), None
        )
        if level is None:
            raise AishockError(f"yfinance answered for other tickers than {ticker}")
        frame = frame.xs(ticker, axis=1, level=level)
    frame = frame.rename(columns=lambda c: str(c).strip().lower()).rename_axis(columns=None)
    if "close" not in frame:
        raise AishockError(
            f"yfinance data for {ticker} has no Close column (got {', '.join(map(str, frame.columns))})"
        )
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise AishockError(f"yfinance data for {ticker} is not indexed by date")
    frame = frame[[f for f in FIELDS if f in frame]].apply(pd.to_numeric, errors="coerce")
    index = frame.index
    if index.tz is not None:
        index = index.tz_localize(None)  # the wall clock of its own zone
    frame.index = pd.DatetimeIndex(index.normalize(), name="date", freq=None)
    frame = frame[frame["close"].notna()].astype(float)
    if frame.empty:
        raise AishockError(f"yfinance returned no Close prices for {ticker}; check the symbol")
    validate_bars(f"yfinance {ticker}", frame)
    return frame


def download(ticker: str, cache_dir: Path, problems: list[str] | None = None) -> pd.DataFrame:
    """Download `ticker` with yfinance, store it in the cache atomically and return it. A cache
    that cannot be written is not an error: the frame is returned uncached, and the reason
    appended to `problems` (one line) when given."""
    logger, errors = logging.getLogger("yfinance"), _Errors()
    logger.addHandler(errors)
    propagate, logger.propagate = logger.propagate, False
    try:
        import yfinance as yf

        with warnings.catch_warnings():  # yfinance's own pandas deprecation warnings are not ours
            warnings.simplefilter("ignore")
            raw = yf.download(
                ticker, period="max", auto_adjust=True, progress=False, threads=False, multi_level_index=True
            )
    except Exception as e:  # yfinance raises many kinds; all mean "could not download"
        raise AishockError(
            f"could not download {ticker} with yfinance: {type(e).__name__}: "
            f"{str(e).strip().splitlines()[0] if str(e).strip() else 'no detail'}"
        ) from None
    finally:
        logger.removeHandler(errors)
        logger.propagate = propagate
    if (raw is None or raw.empty) and errors.reasons:
        raise AishockError(f"could not download {ticker} with yfinance: {errors.reasons[-1]}")
    frame = normalise(raw, ticker)
    try:
        write_frame(cache_file(cache_dir, ticker), frame)
    except OSError as e:
        line = (
            f"cannot write the price cache in {cache_dir} ({e.strerror or type(e).__name__}); "
            "prices are read without caching"
        )
        if problems is not None and line not in problems:
            problems.append(line)
    return frame


class _Errors(logging.Handler):
    """Keeps the first line of each error yfinance logs, without its `['TICKER']: ` prefix."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.reasons: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = record.getMessage().strip().split("\n", 1)[0]
        if line and not line.endswith("Failed download:"):
            self.reasons.append(line.split("]: ", 1)[-1] if line.startswith("[") else line)
