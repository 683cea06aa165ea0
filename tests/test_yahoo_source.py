"""The yfinance source with the network faked: every fault is one AishockError naming the
ticker and leaves the cache as it was; a good download is parsed like a CSV, cached as
parquet and never downloaded twice. Nothing here reaches the network."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yfinance
from yfinance.exceptions import YFRateLimitError

from engine import AishockError, load_prices
from engine.config import load_config
from engine.data import yahoo

TICKER = "ZZZ"
DATES = ["2024-01-02", "2024-01-03", "2024-01-04"]
BARS = {
    "Close": [10.5, 10.6, 10.7],
    "High": [11.0, 11.1, 11.2],
    "Low": [9.0, 9.1, 9.2],
    "Open": [10.0, 10.1, 10.2],
    "Volume": [100, 200, 300],
}
EXPECTED = pd.DataFrame(
    {f.lower(): np.array(BARS[f], dtype=float) for f in ("Open", "High", "Low", "Close", "Volume")},
    index=pd.DatetimeIndex(pd.to_datetime(DATES), name="date"),
)


def answer(columns=("Close", "High", "Low", "Open", "Volume"), ticker=TICKER, index=None):
    """What `yf.download(ticker, multi_level_index=True)` returns: (Price, Ticker) columns."""
    index = pd.DatetimeIndex(pd.to_datetime(DATES), name="Date") if index is None else index
    data = {(c, ticker): BARS[c] for c in columns}
    frame = pd.DataFrame(data, index=index)
    frame.columns = pd.MultiIndex.from_tuples(frame.columns, names=["Price", "Ticker"])
    return frame


def with_column(frame: pd.DataFrame, price: str, values) -> pd.DataFrame:
    frame[(price, TICKER)] = values
    return frame


class FakeYahoo:
    """Stands in for `yfinance.download`: gives `result` (or raises it) and records calls."""

    def __init__(self, result):
        self.result, self.calls = result, []

    def __call__(self, tickers, **kwargs):
        self.calls.append((tickers, kwargs))
        if isinstance(self.result, BaseException):
            raise self.result
        return self.result() if callable(self.result) else self.result


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    """Online, with an empty data folder and a private cache; the real download is replaced
    by one that fails the test, so a test must install its own fake."""
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: pytest.fail("network reached"))
    (tmp_path / "market").mkdir()
    return replace(load_config(data=tmp_path / "market"), cache_dir=tmp_path / "cache", online=True)


def fake(monkeypatch, result) -> FakeYahoo:
    stub = FakeYahoo(result)
    monkeypatch.setattr(yfinance, "download", stub)
    return stub


def cache_files(cfg) -> dict[str, bytes]:
    root = cfg.cache_dir
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def seeded_cache(cfg, monkeypatch) -> dict[str, bytes]:
    """A cache already holding another download (OLD), to show a failure leaves it alone."""
    fake(monkeypatch, lambda: answer(ticker="OLD"))
    load_prices(["OLD"], config=cfg)
    files = cache_files(cfg)
    assert list(files) == ["yahoo/OLD.parquet"]
    return files


def refused(cfg, problem: str) -> str:
    with pytest.raises(AishockError) as info:
        load_prices([TICKER], config=cfg)
    message = str(info.value)
    assert message.splitlines() == [message], f"not one line: {message!r}"
    places = ", ".join(str(d) for d in cfg.data_dirs)
    from engine.data.universe import baskets

    named = f" (if it was meant as a basket: the baskets are {', '.join(baskets())})"
    assert message == f"unknown ticker {TICKER}: no {TICKER}.csv in {places}, and {problem}{named}"
    return message


def logs_and_returns_empty(reason: str):
    """What yfinance 1.x really does when a download fails: it logs the error and returns an
    empty frame with the usual columns."""

    def download():
        log = logging.getLogger("yfinance")
        log.error("\n1 Failed download:")
        log.error(f"['{TICKER}']: {reason}")
        return answer().iloc[:0]

    return download


FAULTS = {
    "connection error": (
        ConnectionError("Failed to establish a new connection\nretries exhausted"),
        "could not download ZZZ with yfinance: ConnectionError: Failed to establish a new connection",
    ),
    "rate limit raised": (
        YFRateLimitError(),
        "could not download ZZZ with yfinance: YFRateLimitError: "
        "Too Many Requests. Rate limited. Try after a while.",
    ),
    "rate limit logged": (
        logs_and_returns_empty("YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')"),
        "could not download ZZZ with yfinance: "
        "YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')",
    ),
    "no network logged": (
        logs_and_returns_empty("DNSError('curl: (6) Could not resolve host')"),
        "could not download ZZZ with yfinance: DNSError('curl: (6) Could not resolve host')",
    ),
    "empty frame": (lambda: answer().iloc[:0], "yfinance returned no data for ZZZ; check the symbol"),
    "None": (lambda: None, "yfinance returned no data for ZZZ; check the symbol"),
    "no Close column": (
        lambda: answer(columns=("High", "Low", "Open")),
        "yfinance data for ZZZ has no Close column (got high, low, open)",
    ),
    "other ticker": (lambda: answer(ticker="AAA"), "yfinance answered for other tickers than ZZZ"),
    "all Close NaN": (
        lambda: with_column(answer(), "Close", np.nan),
        "yfinance returned no Close prices for ZZZ; check the symbol",
    ),
    "negative price": (
        lambda: with_column(answer(), "Low", [9.0, -1.0, 9.2]),
        "yfinance ZZZ: non-positive price on 2024-01-03; prices must be > 0",
    ),
    "duplicate dates": (
        lambda: answer(index=pd.DatetimeIndex(pd.to_datetime(DATES[:2] + DATES[1:2]))),
        "yfinance ZZZ: duplicate date 2024-01-03; keep one row per day",
    ),
    "no dates": (
        lambda: answer(index=pd.RangeIndex(3)),
        "yfinance data for ZZZ is not indexed by date",
    ),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_fault_is_one_line_and_leaves_the_cache_alone(cfg, monkeypatch, fault):
    before = seeded_cache(cfg, monkeypatch)
    result, problem = FAULTS[fault]
    stub = fake(monkeypatch, result)
    refused(cfg, problem)
    assert [t for t, _ in stub.calls] == [TICKER]
    assert cache_files(cfg) == before  # no ZZZ file, no stray temporary, OLD untouched


def test_a_logged_failure_is_not_also_printed(cfg, monkeypatch, capsys):
    fake(monkeypatch, logs_and_returns_empty("YFRateLimitError('Too Many Requests.')"))
    refused(cfg, "could not download ZZZ with yfinance: YFRateLimitError('Too Many Requests.')")
    assert capsys.readouterr().err == ""
    assert logging.getLogger("yfinance").propagate  # restored afterwards


def test_a_download_asks_for_adjusted_daily_bars_of_one_ticker(cfg, monkeypatch):
    stub = fake(monkeypatch, answer)
    load_prices([TICKER], config=cfg)
    ((ticker, kwargs),) = stub.calls
    assert ticker == TICKER and kwargs["auto_adjust"] is True and kwargs["period"] == "max"


def stamped(hour: int, tz: str) -> pd.DatetimeIndex:
    """DATES at `hour` o'clock in `tz`."""
    return pd.DatetimeIndex(pd.to_datetime([f"{d} {hour:02d}:00" for d in DATES])).tz_localize(tz)


@pytest.mark.parametrize(
    ("raw", "days_earlier"),
    [
        pytest.param(answer, 0, id="multi-index (Price, Ticker)"),
        pytest.param(lambda: answer().droplevel("Ticker", axis=1), 0, id="flat columns"),
        pytest.param(lambda: answer().swaplevel(axis=1), 0, id="multi-index (Ticker, Price)"),
        pytest.param(lambda: with_column(answer(), "Adj Close", 1.0), 0, id="Adj Close ignored"),
        pytest.param(lambda: answer(index=stamped(0, "America/New_York")), 0, id="New York midnight"),
        pytest.param(
            lambda: answer(index=stamped(5, "UTC")), 0, id="UTC 05:00 (New York midnight in winter)"
        ),
        pytest.param(lambda: answer(index=stamped(4, "UTC")), 0, id="UTC 04:00 (23:00 in New York)"),
        pytest.param(lambda: answer(index=stamped(0, "UTC")), 0, id="UTC midnight"),
        pytest.param(lambda: answer(index=stamped(0, "Asia/Tokyo")), 0, id="Tokyo midnight"),
    ],
)
def test_good_answers_parse_to_the_same_bars(raw, days_earlier, monkeypatch, tmp_path):
    """Any column layout gives the same bars; a tz-aware index keeps the date written in its
    own zone, whatever the zone (midnight UTC or in Tokyo is not the evening before in New
    York)."""
    fake(monkeypatch, raw)
    frame = yahoo.download(TICKER, tmp_path / "cache")
    expected = EXPECTED.set_axis(EXPECTED.index - pd.Timedelta(days=days_earlier))
    pd.testing.assert_frame_equal(frame, expected, check_exact=True)
    assert frame.index.tz is None
    pd.testing.assert_frame_equal(yahoo.read_cached(tmp_path / "cache", TICKER), frame, check_exact=True)


def test_a_download_is_cached_as_parquet_and_not_repeated(cfg, monkeypatch):
    stub = fake(monkeypatch, answer)
    first = load_prices([TICKER], config=cfg)
    assert len(stub.calls) == 1 and first.sources == {TICKER: "yfinance"}
    cached = cfg.cache_dir / "yahoo" / f"{TICKER}.parquet"
    assert list(cache_files(cfg)) == ["yahoo/ZZZ.parquet"]
    pd.testing.assert_frame_equal(pd.read_parquet(cached), EXPECTED, check_exact=True)

    fake(monkeypatch, ConnectionError("must not be called"))
    for config in (cfg, replace(cfg, online=False)):  # served from the cache, even offline
        again = load_prices([TICKER], config=config)
        for field in ("open", "high", "low", "close", "volume"):
            pd.testing.assert_frame_equal(getattr(again, field), getattr(first, field))


def test_a_corrupt_cached_download_is_downloaded_again(cfg, monkeypatch):
    cached = cfg.cache_dir / "yahoo" / f"{TICKER}.parquet"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"PAR1 this is not parquet")
    stub = fake(monkeypatch, answer)
    p = load_prices([TICKER], config=cfg)
    assert len(stub.calls) == 1
    np.testing.assert_array_equal(p.close[TICKER].to_numpy(), EXPECTED["close"].to_numpy())
    pd.testing.assert_frame_equal(pd.read_parquet(cached), EXPECTED, check_exact=True)


def test_offline_a_missing_ticker_names_itself_and_the_places_searched(cfg, monkeypatch, tmp_path):
    stub = fake(monkeypatch, answer)
    other = tmp_path / "more"
    other.mkdir()
    offline = replace(cfg, online=False, data_dirs=(*cfg.data_dirs, other))
    with pytest.raises(AishockError) as info:
        load_prices(["SPY", TICKER], config=offline)
    message = str(info.value)
    assert message.splitlines() == [message]
    assert message.startswith(f"unknown ticker SPY: no SPY.csv in {cfg.data_dirs[0]}, {other}, and offline")
    assert stub.calls == [] and cache_files(cfg) == {}


def test_a_local_csv_wins_over_the_download(cfg, monkeypatch):
    stub = fake(monkeypatch, answer)
    Path(cfg.data_dirs[0], f"{TICKER}.csv").write_text("Date,Close\n2024-01-02,99.5\n")
    p = load_prices([TICKER], config=cfg)
    assert stub.calls == [] and p.close[TICKER].tolist() == [99.5]
