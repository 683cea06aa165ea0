"""Synthetic markets for the unit tier (tests/tiers.py): seeded random walks on NYSE days, as
a price panel or as price files, for the tests that need a few prices but not the market
snapshot's own. Nothing in the package imports this."""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import exchange_calendars
import numpy as np
import pandas as pd

from engine.data.panel import Prices


@functools.cache
def nyse_sessions(start: str, end: str) -> pd.DatetimeIndex:
    """The NYSE's sessions from `start` to `end`, from the exchange-calendars package."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        days = exchange_calendars.get_calendar("XNYS", start=start, end=end).sessions
    return pd.DatetimeIndex(days.tz_localize(None) if days.tz is not None else days, name="date")


def closes(tickers, start: str, end: str, seed: int = 0, moves: dict | None = None) -> pd.DataFrame:
    """Closes (NYSE sessions x tickers) from `start` to `end`: random walks from 50 with 2 %
    daily moves, except `moves` = {date: {ticker: return}}, which set that day's return."""
    index = nyse_sessions(start, end)
    rng = np.random.default_rng(seed)
    returns = pd.DataFrame(rng.normal(0, 0.02, (len(index), len(tickers))), index=index, columns=tickers)
    for day, row in (moves or {}).items():
        for ticker, r in row.items():
            returns.loc[pd.Timestamp(day), ticker] = r
    returns.iloc[0] = 0.0
    return (50 * (1 + returns).cumprod()).rename_axis(columns="ticker")


def panel(tickers, start: str, end: str, close_only=(), seed: int = 0, moves: dict | None = None) -> Prices:
    """A Prices panel of `closes(...)`: each open 0.5 % from the previous close, high and low
    around both, a volume of 1e6; `close_only` tickers have the close alone."""
    close = closes(tickers, start, end, seed, moves)
    rng = np.random.default_rng(seed + 1)
    open_ = close.shift(1).fillna(close) * (1 + rng.normal(0, 0.005, close.shape))
    high, low = np.maximum(open_, close) * 1.01, np.minimum(open_, close) * 0.99
    volume = close * 0 + 1e6
    only = [t for t in tickers if t in set(close_only)]
    for frame in (open_, high, low, volume):
        frame[only] = np.nan
    return Prices(close, open_, high, low, volume, close_only=frozenset(only))


def write_csv(path: Path, close: pd.Series, ohlcv: bool = True) -> Path:
    """`close` written as a price file: `Date,Open,High,Low,Close,Volume` (the open the
    previous close, high and low 1 % around them), or `Date,Close` without `ohlcv`."""
    lines = ["Date,Open,High,Low,Close,Volume" if ohlcv else "Date,Close"]
    prev = close.shift(1).fillna(close)
    for day, c, o in zip(close.index, close.tolist(), prev.tolist(), strict=True):
        d = day.strftime("%Y-%m-%d")
        lines.append(
            f"{d},{o!r},{max(o, c) * 1.01!r},{min(o, c) * 0.99!r},{c!r},1000000" if ohlcv else f"{d},{c!r}"
        )
    path.write_text("\n".join(lines) + "\n")
    return path
