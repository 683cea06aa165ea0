"""Independent readers of the raw market snapshot for the event-study tests: the csv module and
plain arithmetic over each ticker's own rows, nothing from the code under test."""

from __future__ import annotations

import csv
import functools
import tomllib
from pathlib import Path

from engine.config import PROJECT_ROOT, load_config

EVENT, PREV = "2025-01-27", "2025-01-24"
SP500_FILE = "sp500_constituents_2024-12-27.csv"


def market_dir() -> Path:
    """The snapshot folder (the one holding the S&P 500 membership list)."""
    for d in load_config().data_dirs:
        if (d / SP500_FILE).is_file():
            return d
    raise FileNotFoundError(f"{SP500_FILE} not found beside the checkout")


@functools.cache
def closes(ticker: str) -> tuple[tuple[str, float], ...] | None:
    """[(YYYY-MM-DD, close)] of `ticker` in file order, or None if it has no file. Reads both
    layouts: `Date,...,Close,...` and yfinance's three-line `Price/Ticker/Date` header."""
    path = market_dir() / "prices" / f"{ticker}.csv"
    if not path.is_file():
        return None
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    header, body = (rows[0], rows[3:]) if rows[0][0] == "Price" else (rows[0], rows[1:])
    col = header.index("Close")
    return tuple((r[0], float(r[col])) for r in body if r[col] != "")


def sp500_members() -> list[str]:
    """Symbols of the 2024-12-27 list, spelled as yfinance does (BRK.B -> BRK-B), file order."""
    with (market_dir() / SP500_FILE).open(newline="", encoding="utf-8") as f:
        return [row["Symbol"].strip().replace(".", "-") for row in csv.DictReader(f)]


def sp500_sectors() -> dict[str, str]:
    with (market_dir() / SP500_FILE).open(newline="", encoding="utf-8") as f:
        return {row["Symbol"].strip().replace(".", "-"): row["GICS Sector"] for row in csv.DictReader(f)}


def ai_members() -> list[str]:
    """Every ticker of the role baskets in strategies/baskets.toml (those with in_ai = true)."""
    with (PROJECT_ROOT / "strategies" / "baskets.toml").open("rb") as f:
        table = tomllib.load(f)
    return list(dict.fromkeys(t for b in table.values() if b.get("in_ai", False) for t in b["tickers"]))


def figures(ticker: str, horizon: int = 60) -> dict | None:
    """The event figures of `ticker` around EVENT from its own rows: event_return, runup_ytd,
    runup_20 (previous close vs 20 rows earlier), after_5/after_20 (vs the event close),
    days_to_recover (first row from the event day on with close >= previous close, within
    `horizon` rows; None if none) and max_drawdown_after. None if it did not trade then."""
    rows = closes(ticker)
    if rows is None:
        return None
    dates = [d for d, _ in rows]
    if EVENT not in dates:
        return None
    i = dates.index(EVENT)
    prev, now = rows[i - 1][1], rows[i][1]
    assert rows[i - 1][0] == PREV, f"{ticker}: the row before {EVENT} is {rows[i - 1][0]}"
    year_end = [c for d, c in rows if d < "2025-01-01"]
    after = [c for _, c in rows[i + 1 : i + horizon + 1]]
    recover = next((k for k, (_, c) in enumerate(rows[i : i + horizon + 1]) if c >= prev), None)
    return {
        "event_return": now / prev - 1,
        "runup_ytd": prev / year_end[-1] - 1 if year_end else None,
        "runup_20": prev / rows[i - 21][1] - 1,
        "after_5": rows[i + 5][1] / now - 1,
        "after_20": rows[i + 20][1] / now - 1,
        "days_to_recover": recover,
        "max_drawdown_after": min(0.0, min(after) / now - 1),
    }


def daily_returns(ticker: str) -> dict[str, float]:
    """{date: close-to-close return} over the ticker's own consecutive rows."""
    rows = closes(ticker) or ()
    return {rows[j][0]: rows[j][1] / rows[j - 1][1] - 1 for j in range(1, len(rows))}
