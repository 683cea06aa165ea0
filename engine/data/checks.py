"""Checks of daily bars that parse but may be wrong: the NYSE calendar, OHLC consistency,
one-day spikes and unadjusted splits, gaps, and data that stops early (a delisting).

What is refused outright (a non-positive or infinite price, unsorted dates...) is
`engine.data.validate`; what is here is repaired or only reported, one warning line each,
naming the ticker and the file:

- Rows dated on a day the NYSE was closed (a weekend, an exchange holiday, an unscheduled
  closure such as 2025-01-09), by the XNYS calendar of the `exchange_calendars` package,
  are **dropped**, for every ticker except those whose yfinance symbol names another market
  (see `follows_nyse`).
- A bar whose open lies outside its [low, high] range by more than OPEN_TOLERANCE (1%) of
  that range's bound, or whose high is below its low: the bar's **open is dropped** (NaN),
  so an order filling on that bar fills at its close; the close is kept.
- A close outside its bar's [low, high] by more than the tolerance: reported, kept.
- A close that moves SPIKE (3) times or more, up or down, in one day and comes back the next
  day (undoing at least half of the move): reported as a spike, kept.
- A one-day step by a common split ratio that stays: reported as a possible unadjusted split
  (ticker, date, ratio such as `2:1` or `1:3 reverse`), kept. The ratios (RATIOS) are 2, 3,
  4, 5, 8, 10, 15 and 20, down (a `2:1` split halves the price) or up (a `1:2 reverse`
  split doubles it). A day steps by ratio r when its close, or its open where the bar has
  one, is within RATIO_TOLERANCE (2%) of the previous close divided (or multiplied) by r:
  the open counts because a split happens between two sessions, so the open shows the ratio
  even when the day then moves on (NVDA fell 8.7% on 2025-03-03). It stays when that day's
  close and each of the next PERSIST (5) closes (fewer at the end of the file) are nearer,
  in log terms, to the previous close moved by the ratio than to the previous close.
  3:2 is not among the ratios: real one-day moves of -33% or +50% that hold are common
  (the snapshot has twelve within 2% of 3:2 that hold, DG on 2024-08-29 and TTD on
  2025-02-13 among them, four in close-only files), and prices alone cannot tell them
  from a split.
- Any other one-day move of JUMP (5) times or more that is not a spike: reported as a
  possible unadjusted split, kept.
- More than GAP_SESSIONS (3) consecutive NYSE sessions without a row inside a file:
  reported; the panel carries the last close over them.
- A ticker whose data ends before the panel's last date: reported as delisted (see
  `delisting_warnings`); the engine closes any position at its last close.

Tolerances are wide enough that the 538 real files of the market snapshot raise none of
these (the largest open outside its range there is 0.12%, the largest one-day move 2.2x; the
nearest a close or open comes to a split ratio, 2 and up, is 4% (OXY, x0.48 on 2020-03-09)).
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd

from engine.errors import AishockError

CALENDAR = "XNYS"
OPEN_TOLERANCE = 0.01
SPIKE = 3.0
JUMP = 5.0
RATIOS = (2, 3, 4, 5, 8, 10, 15, 20)
RATIO_TOLERANCE = 0.02
PERSIST = 5
GAP_SESSIONS = 3
SHOWN = 3  # dates listed in one warning before "and N more"

# yfinance suffixes of non-US exchanges (after normalise_symbol, "7203.T" is "7203-T") and
# currency codes of crypto pairs ("BTC-USD"): such symbols do not follow the NYSE calendar.
_FOREIGN = (
    "AX BA BK BO BR CN CO DE F HE HK IL IR JK JO KS KQ L LS MC ME MI MX NS NZ OL PA SA SG SI "
    "SN SR SS ST SW SZ T TA TO TW TWO V VI WA IS AT NE USD EUR GBP JPY USDT BTC ETH"
)
FOREIGN_SUFFIXES = frozenset(_FOREIGN.split(" "))


class DataWarning(UserWarning):
    """Data that loads but looks wrong (one line: ticker, file, dates, what was done)."""


def follows_nyse(ticker: str) -> bool:
    """Whether `ticker` is checked against the NYSE calendar: every symbol except those yfinance
    uses for other markets: currencies and futures (`EURUSD=X`, `GC=F`), indices (`^N225`),
    listings with a foreign exchange suffix (`7203.T`, `SAP.DE`) and crypto pairs (`BTC-USD`)."""
    if "=" in ticker or ticker.startswith("^"):
        return False
    head, sep, suffix = ticker.rpartition("-")
    return not (sep and head and suffix in FOREIGN_SUFFIXES)


_KNOWN: dict[str, pd.DatetimeIndex] = {}


def _build(first_year: int, last_year: int) -> pd.DatetimeIndex:
    try:
        import exchange_calendars
    except ImportError:
        raise AishockError(
            "the NYSE calendar check needs the exchange-calendars package; run `make` or "
            "`.venv/bin/pip install -c constraints.txt exchange-calendars`"
        ) from None

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cal = exchange_calendars.get_calendar(CALENDAR, start=f"{first_year}-01-01", end=f"{last_year}-12-31")
    days = cal.sessions
    days = days.tz_localize(None) if days.tz is not None else days
    return pd.DatetimeIndex(days, freq=None).as_unit("ns")


def sessions(first: pd.Timestamp, last: pd.Timestamp) -> pd.DatetimeIndex:
    """NYSE sessions covering the calendar years from `first` to `last` (at least 2000 to next
    year; clamped to 1886..2200, what the calendar library is asked for). Built once per
    process and widened when a file reaches outside it."""
    lo, hi = max(min(first.year, 2000), 1886), min(max(last.year, pd.Timestamp.now().year + 1), 2200)
    known = _KNOWN.get(CALENDAR)
    if known is not None:
        lo, hi = min(lo, known[0].year), max(hi, known[-1].year)
        if (lo, hi) == (known[0].year, known[-1].year):
            return known
    _KNOWN[CALENDAR] = _build(lo, hi)
    return _KNOWN[CALENDAR]


def _days(dates: Iterable[pd.Timestamp], weekday: bool = False) -> str:
    dates = list(dates)
    fmt = (lambda d: f"{d.date()} ({d.strftime('%a')})") if weekday else (lambda d: str(d.date()))
    shown = ", ".join(fmt(d) for d in dates[:SHOWN])
    return shown + (f" and {len(dates) - SHOWN} more" if len(dates) > SHOWN else "")


def check_bars(ticker: str, where: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """`frame` (validated bars of `ticker` read from `where`) with non-session rows and
    inconsistent opens removed, and the warnings saying so (see the module docstring)."""
    out: list[str] = []
    name = f"{ticker} ({where})"
    index = frame.index
    nyse = follows_nyse(ticker) and len(index) > 0
    open_days = None
    if nyse:
        open_days = sessions(index[0], index[-1])
        days, stamps = open_days.asi8, index.as_unit("ns").asi8
        at = np.minimum(np.searchsorted(days, stamps), len(days) - 1)
        closed = days[at] != stamps
        if closed.all():
            raise AishockError(
                f"{where}: all {len(index)} rows are dated on days the NYSE was closed "
                f"({_days(index, weekday=True)}); check the dates"
            )
        if closed.any():
            out.append(
                f"{name}: {int(closed.sum())} row(s) dated on days the NYSE was closed dropped: "
                f"{_days(index[closed], weekday=True)}"
            )
            frame = frame[~closed]
            index = frame.index
    if {"open", "high", "low"} <= set(frame.columns):
        frame, notes = _ohlc(name, frame)
        out += notes
    out += _moves(name, frame["close"], frame.get("open"))
    if nyse and len(index) > 1:
        out += _gaps(name, index, open_days)
    return frame, out


def _ohlc(name: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    cols = list(frame.columns)
    values = frame.to_numpy(dtype=float)
    o, h, lo, c = (values[:, cols.index(f)] for f in ("open", "high", "low", "close"))
    with np.errstate(invalid="ignore"):
        crossed = h < lo * (1 - OPEN_TOLERANCE)
        open_out = (o < lo * (1 - OPEN_TOLERANCE)) | (o > h * (1 + OPEN_TOLERANCE)) | crossed
        close_out = ((c < lo * (1 - OPEN_TOLERANCE)) | (c > h * (1 + OPEN_TOLERANCE))) & ~crossed
    notes = []
    if crossed.any():
        notes.append(
            f"{name}: high below low on {_days(frame.index[crossed])}; the open of those bars is "
            "not used (orders fill at the close)"
        )
    only_open = open_out & ~crossed
    if only_open.any():
        notes.append(
            f"{name}: open outside the day's low-high range on {_days(frame.index[only_open])}; "
            "those opens are not used (orders fill at the close)"
        )
    if close_out.any():
        notes.append(
            f"{name}: close outside the day's low-high range on {_days(frame.index[close_out])}; "
            "the close is kept"
        )
    if open_out.any():
        frame = frame.copy()
        frame.loc[open_out, "open"] = np.nan
    return frame, notes


def _splits(values: np.ndarray, opens: np.ndarray | None) -> dict[int, str]:
    """{i: what} for the steps from row i to row i+1 of the closes `values` that are by a split
    ratio and stay (the module docstring's rule), `what` naming the ratio and the move."""
    prev = values[:-1]
    moves = [("close", values[1:] / prev)]
    if opens is not None:
        moves.append(("open", opens[1:] / prev))
    found: dict[int, str] = {}
    for kind, x in moves:
        for r in RATIOS:
            for target, label in ((1 / r, f"{r}:1"), (r, f"1:{r} reverse")):
                with np.errstate(invalid="ignore"):
                    near = np.abs(x / target - 1) <= RATIO_TOLERANCE
                for i in np.flatnonzero(near):
                    old, new = np.log(prev[i]), np.log(prev[i] * target)
                    closes = np.log(values[i + 1 : i + 2 + PERSIST])  # that day's and the next
                    stays = bool(np.all(np.abs(closes - new) < np.abs(closes - old)))
                    if stays and i not in found:
                        found[i] = f"{label}, {kind} at {x[i]:.3g}x the previous close"
    return found


def _moves(name: str, close: pd.Series, opens: pd.Series | None = None) -> list[str]:
    values = close.to_numpy()
    if len(values) < 2:
        return []
    step = np.diff(np.log(values))  # step[i]: from row i to row i+1
    split = _splits(values, None if opens is None else opens.to_numpy(dtype=float))
    big = np.abs(step) >= np.log(SPIKE)
    after = np.append(step[1:], 0.0)
    spike = big & (np.abs(step + after) < np.abs(step) / 2) & (np.sign(after) == -np.sign(step))
    spike_rows = np.flatnonzero(spike)
    undone = set(spike_rows + 1)  # the day a spike comes back is not a jump of its own
    split_rows = [i for i in sorted(split) if not spike[i] and i not in undone]
    jump_rows = [
        i
        for i in np.flatnonzero(np.abs(step) >= np.log(JUMP))
        if i not in undone and not spike[i] and i not in split
    ]
    dates = close.index

    def listed(rows, label) -> str:
        shown = ", ".join(f"{dates[i + 1].date()} ({label(i)})" for i in rows[:SHOWN])
        return shown + (f" and {len(rows) - SHOWN} more" if len(rows) > SHOWN else "")

    def times(i) -> str:
        return f"x{np.exp(step[i]):.3g}"

    notes = []
    if len(spike_rows):
        notes.append(
            f"{name}: one-day price spike that reverts the next day on {listed(spike_rows, times)}; "
            "check the file (kept as is)"
        )
    if split_rows:
        notes.append(
            f"{name}: price steps by a split ratio and stays on {listed(split_rows, split.get)}: "
            "an unadjusted split? (kept as is)"
        )
    if jump_rows:
        notes.append(
            f"{name}: close moves {JUMP:g}x or more in one day on {listed(jump_rows, times)} and stays: "
            "an unadjusted split? (kept as is)"
        )
    return notes


def _gaps(name: str, index: pd.DatetimeIndex, open_days: pd.DatetimeIndex) -> list[str]:
    pos = np.searchsorted(open_days.asi8, index.as_unit("ns").asi8)
    missing = np.diff(pos) - 1
    wide = np.flatnonzero(missing > GAP_SESSIONS)
    if not len(wide):
        return []
    what = ", ".join(
        f"{int(missing[i])} sessions between {index[i].date()} and {index[i + 1].date()}"
        for i in wide[:SHOWN]
    )
    more = f" and {len(wide) - SHOWN} more gaps" if len(wide) > SHOWN else ""
    return [f"{name}: no rows for {what}{more}; the last close is carried over the gap"]


def last_dates(close: pd.DataFrame) -> dict[str, pd.Timestamp]:
    """{ticker: date of its last close} for the tickers of `close` whose data ends before the
    frame's last date (NaN after a ticker's last bar, as the panel has it)."""
    if close.empty:
        return {}
    seen = close.notna().to_numpy()
    has = seen.any(axis=0)
    last_row = len(seen) - 1 - np.argmax(seen[::-1], axis=0)
    end = len(seen) - 1
    return {t: close.index[r] for t, r, h in zip(close.columns, last_row, has, strict=True) if h and r < end}


def delisting_warnings(close: pd.DataFrame) -> list[str]:
    """One line per last date shared by tickers whose data ends before `close`'s last date."""
    ended = last_dates(close)
    if not ended:
        return []
    by_day: dict[pd.Timestamp, list[str]] = {}
    for t, day in ended.items():
        by_day.setdefault(day, []).append(t)
    end = close.index[-1].date()
    out = []
    for day, names in sorted(by_day.items()):
        listed = names[: SHOWN * 3]
        shown = ", ".join(listed) + (
            f" and {len(names) - len(listed)} more" if len(names) > len(listed) else ""
        )
        out.append(
            f"{shown}: data ends {day.date()}, before the window ends ({end}); treated as delisted: "
            "any position is closed at its last close"
        )
    return out


def emit(messages: Iterable[str]) -> None:
    """Issue each message as a DataWarning (shown once per message by Python's default filter;
    the application prints them as `aishock: warning: ...`: aishock.cli.warned)."""
    for m in messages:
        warnings.warn(m, DataWarning, stacklevel=3)
