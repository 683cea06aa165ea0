"""Hostile price files (the corpus in tests/hostile/): each one is either normalised, and the
test shows the frame it becomes, or refused with one line naming the file and the problem,
or (data that parses but looks wrong: engine.data.checks) loaded as the test shows with the
warnings it lists. A refused file never reaches the parsed cache."""

from __future__ import annotations

import os
import string
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import AishockError, load_prices
from engine.config import load_config
from engine.data import checks
from engine.data.checks import DataWarning
from engine.data.csvfile import read_price_csv

HOSTILE = Path(__file__).parent / "hostile"
TICKER = "HOST"

# corpus file -> what the one-line error must say (after "<path>: ")
REFUSED = {
    "empty.csv": "the file is empty; delete it or re-download the ticker",
    "blank_first_line.csv": "line 1 is blank; the header must be the first line",
    "header_only.csv": "has a header but no rows",
    "multiindex_header_only.csv": "has a header but no rows",
    "no_close_column.csv": "no Close column (columns: open, high, low, volume)",
    # every spelling of Adj Close is one column
    "two_adj_close_spellings.csv": "column 'adj close' appears twice; keep one",
    # Adj Close is read (it is the close), so its values are checked like a Close's
    "text_in_adj_close.csv": "non-numeric adj close '10.5 USD' on line 3",
    "no_date_column.csv": "first column is 'close', expected 'Date'",
    "semicolons.csv": "first column is 'date;close', expected 'Date'",
    "duplicate_column.csv": "column 'close' appears twice; keep one",
    "extra_values.csv": "line 3 has 3 values but the header names 2 columns; fix the row or the header",
    "text_in_close.csv": "non-numeric close 'n/a?' on line 3",
    "text_in_volume.csv": "non-numeric volume '1.2M' on line 3",
    "thousands_separator.csv": "non-numeric close '1,234.50' on line 2",
    "missing_date.csv": "no date on line 3",
    "us_date_format.csv": "unreadable date '01/02/2020' on line 2; use YYYY-MM-DD",
    "duplicate_dates.csv": "duplicate date 2020-01-03; keep one row per day",
    "unsorted_dates.csv": "dates out of order at 2020-01-02; sort by date",
    "zero_close.csv": "non-positive price on 2020-01-03; prices must be > 0",
    "negative_low.csv": "non-positive price on 2020-01-03; prices must be > 0",
    "negative_volume.csv": "negative volume on 2020-01-03; volumes must be >= 0",
    "infinite_close.csv": "infinite value on 2020-01-03; values must be finite numbers",
    "overflow_close.csv": "infinite value on 2020-01-02; values must be finite numbers",
    "no_close_values.csv": "has no rows with a Close price",
    "utf16.csv": "cannot be read (UnicodeDecodeError); check its permissions and encoding",
    "multiindex_other_ticker.csv": "header is for QQQ, not HOST; rename the file or fix its header",
    "multiindex_no_date_line.csv": "multi-index header without its 'Ticker' and 'Date' lines",
    "multiindex_no_ticker_line.csv": "multi-index header without its 'Ticker' and 'Date' lines",
}


def bars(dates: list[str], **columns: list[float]) -> pd.DataFrame:
    """The frame `read_price_csv` returns: float columns in FIELDS order, a naive date index."""
    order = [f for f in ("open", "high", "low", "close", "volume") if f in columns]
    return pd.DataFrame(
        {f: np.array(columns[f], dtype=float) for f in order},
        index=pd.DatetimeIndex(pd.to_datetime(dates), name="date"),
    )


TWO_BARS = bars(
    ["2020-01-02", "2020-01-03"],
    open=[10, 10.1],
    high=[11, 11.1],
    low=[9, 9.1],
    close=[10.5, 10.6],
    volume=[100, 200],
)

# corpus file -> the frame it becomes
NORMALISED = {
    # a UTF-8 byte-order mark before the header is dropped
    "bom.csv": bars(["2020-01-02", "2020-01-03"], close=[10.5, 10.6]),
    # Windows line endings
    "crlf.csv": TWO_BARS,
    # yfinance's three-line header for the right ticker, with a BOM and CRLF
    "multiindex_bom_crlf.csv": TWO_BARS,
    # spaces, any case, a quoted name; Dividends ignored; Adj Close is the close, and the open,
    # high and low of each row are scaled by that row's Adj Close / Close
    "messy_header.csv": bars(
        ["2020-01-02", "2020-01-03"],
        open=[10 * (10.4 / 10.5), 10.1 * (10.5 / 10.6)],
        high=[11 * (10.4 / 10.5), 11.1 * (10.5 / 10.6)],
        low=[9 * (10.4 / 10.5), 9.1 * (10.5 / 10.6)],
        close=[10.4, 10.5],
        volume=[100, 200],
    ),
    # Close and Adj Close (spelled adj_close): the adjusted bar; a row without an Adj Close
    # (2020-01-06) is dropped like a row without a Close; volume as written
    "close_and_adj_close.csv": bars(
        ["2020-01-02", "2020-01-03", "2020-01-07"],
        open=[10, 10.5, 11.5],
        high=[11, 11.5, 12.5],
        low=[9, 9.5, 10.5],
        close=[10.5, 11, 12],
        volume=[100, 200, 400],
    ),
    # what yfinance writes without auto_adjust: the three-line header with Adj Close
    "multiindex_adj_close.csv": bars(
        ["2020-01-02", "2020-01-03"],
        open=[10, 10.5],
        high=[11, 11.5],
        low=[9, 9.5],
        close=[10.5, 11],
        volume=[100, 200],
    ),
    # only an Adj Close: it is the close
    "adj_close_only.csv": bars(["2020-01-02"], close=[10.5]),
    # blank lines and spreadsheet rows of empty cells (`,,,,,`) are dropped
    "blank_and_empty_rows.csv": TWO_BARS,
    # rows without a Close (empty or NaN) are dropped; other empty cells stay NaN
    "gaps.csv": bars(
        ["2020-01-02", "2020-01-06", "2020-01-08"],
        open=[10, np.nan, 10.3],
        high=[11, np.nan, 11.3],
        low=[9, np.nan, 9.3],
        close=[10.5, 10.7, 10.8],
        volume=[100, np.nan, 400],
    ),
    # a bar keeps the date written in its stamp, in the stamp's own offset: 04:00 UTC on the 27th
    # is the 27th
    "tz_utc.csv": bars(["2020-07-27", "2020-07-28", "2020-07-29"], close=[10.5, 10.6, 10.7]),
    # each row's own offset counts: 20:00-05:00 on the 28th is the 28th (01:00 UTC on the 29th);
    # rows without an offset keep their date
    "tz_offsets.csv": bars(
        ["2020-01-24", "2020-01-27", "2020-01-28", "2020-07-29"], close=[10.4, 10.5, 10.6, 10.7]
    ),
    # daily bars stamped at midnight UTC keep their session date (in New York time they would
    # fall on the evening before: Monday's bar on Sunday)
    "tz_midnight_utc.csv": bars(
        ["2025-01-24", "2025-01-27", "2025-01-28"],
        open=[10, 10.1, 10.2],
        high=[11, 11.1, 11.2],
        low=[9, 9.1, 9.2],
        close=[10.4, 10.5, 10.6],
        volume=[100, 200, 300],
    ),
    # exchange-local midnights of Tokyo, Paris and Mumbai (+0900 without a colon too): the date
    # written
    "tz_exchange_local.csv": bars(
        ["2025-01-24", "2025-01-27", "2025-01-28", "2025-01-29"], close=[10.4, 10.5, 10.6, 10.7]
    ),
}

# corpus files whose closes come from an Adj Close column (frame.attrs, Prices.adjusted)
ADJUSTED = {"messy_header.csv", "close_and_adj_close.csv", "multiindex_adj_close.csv", "adj_close_only.csv"}

# the first nine NYSE sessions of 2020
SESSIONS = [f"2020-01-{d:02d}" for d in (2, 3, 6, 7, 8, 9, 10, 13, 14)]

# corpus file -> (the bars it loads as, the warnings after "HOST (<path>): "): it parses, the
# data checks repair or only report it (engine.data.checks; rules in the README)
CHECKED = {
    # weekend rows are dropped (NYSE calendar of exchange_calendars, not the data's own)
    "saturday_rows.csv": (
        bars(
            ["2020-01-02", "2020-01-03", "2020-01-06"],
            open=[10, 10.1, 10.3],
            high=[11, 11.1, 11.3],
            low=[9, 9.1, 9.3],
            close=[10.5, 10.6, 10.8],
            volume=[100, 200, 400],
        ),
        ["2 row(s) dated on days the NYSE was closed dropped: 2020-01-04 (Sat), 2020-01-05 (Sun)"],
    ),
    # an exchange holiday
    "new_year_holiday.csv": (
        bars(["2019-12-31", "2020-01-02"], close=[10.4, 10.6]),
        ["1 row(s) dated on days the NYSE was closed dropped: 2020-01-01 (Wed)"],
    ),
    # an unscheduled closure (the national day of mourning of 2025-01-09)
    "unscheduled_closure.csv": (
        bars(["2025-01-08", "2025-01-10"], close=[20.1, 20.3]),
        ["1 row(s) dated on days the NYSE was closed dropped: 2025-01-09 (Thu)"],
    ),
    # an open far outside [low, high]: not used (NaN: an order filling that bar fills at its close)
    "open_outside_range.csv": (
        bars(
            ["2020-01-02", "2020-01-03", "2020-01-06"],
            open=[10, np.nan, 10.3],
            high=[11, 11.1, 11.3],
            low=[9, 9.1, 9.3],
            close=[10.5, 10.6, 10.8],
            volume=[100, 200, 400],
        ),
        [
            "open outside the day's low-high range on 2020-01-03; those opens are not used "
            "(orders fill at the close)"
        ],
    ),
    # 0.45% above the high: within the 1% tolerance (vendor rounding), kept without a word
    "open_within_tolerance.csv": (
        bars(
            ["2020-01-02", "2020-01-03", "2020-01-06"],
            open=[10, 11.15, 10.3],
            high=[11, 11.1, 11.3],
            low=[9, 9.1, 9.3],
            close=[10.5, 10.6, 10.8],
            volume=[100, 200, 400],
        ),
        [],
    ),
    # high below low: the open of that bar is not used either
    "high_below_low.csv": (
        bars(
            ["2020-01-02", "2020-01-03", "2020-01-06"],
            open=[10, np.nan, 10.3],
            high=[11, 9, 11.3],
            low=[9, 11, 9.3],
            close=[10.5, 10.6, 10.8],
            volume=[100, 200, 400],
        ),
        ["high below low on 2020-01-03; the open of those bars is not used (orders fill at the close)"],
    ),
    # a close above the high: reported, kept (the close is what every return is computed from)
    "close_outside_range.csv": (
        bars(
            ["2020-01-02", "2020-01-03", "2020-01-06"],
            open=[10, 10.1, 10.3],
            high=[11, 11.1, 11.3],
            low=[9, 9.1, 9.3],
            close=[10.5, 12, 10.8],
            volume=[100, 200, 400],
        ),
        ["close outside the day's low-high range on 2020-01-03; the close is kept"],
    ),
    # a 1000x one-day spike that reverts, and its mirror image: reported, kept
    "spike_reverts.csv": (
        bars(
            ["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07", "2020-01-08"],
            close=[10, 10.1, 10100, 10.2, 10.3],
        ),
        ["one-day price spike that reverts the next day on 2020-01-06 (x1e+03); check the file (kept as is)"],
    ),
    "spike_down_reverts.csv": (
        bars(
            ["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07", "2020-01-08"],
            close=[10, 10.1, 0.0101, 10.2, 10.3],
        ),
        ["one-day price spike that reverts the next day on 2020-01-06 (x0.001); check the file (kept as is)"],
    ),
    # a 10:1 step that stays: an unadjusted split, named by its ratio
    "unadjusted_split.csv": (
        bars(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07"], close=[100, 101, 10.1, 10.2]),
        [
            "price steps by a split ratio and stays on 2020-01-06 (10:1, close at 0.1x the previous "
            "close): an unadjusted split? (kept as is)"
        ],
    ),
    # a 7x step that stays is no split ratio: reported as a move of 5x or more
    "jump_not_a_ratio.csv": (
        bars(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07"], close=[100, 101, 14.4, 14.5]),
        [
            "close moves 5x or more in one day on 2020-01-06 (x0.143) and stays: an unadjusted split? "
            "(kept as is)"
        ],
    ),
    # a 2:1 split seen in the open (49.8 after a close of 100) on a day that then falls 8% more
    # (the close is 0.46x: no ratio), and stays
    "split_2_for_1_open.csv": (
        bars(
            SESSIONS[:8],
            open=[100, 101, 49.8, 46, 47, 47.5, 46.5, 47.8],
            high=[102, 102, 50, 47.5, 48, 48, 48, 49],
            low=[99, 99, 45.5, 45.5, 46, 46, 46, 47],
            close=[101, 100, 46, 47, 47.5, 46.5, 47.8, 48.2],
            volume=[1000] * 8,
        ),
        [
            "price steps by a split ratio and stays on 2020-01-06 (2:1, open at 0.498x the previous "
            "close): an unadjusted split? (kept as is)"
        ],
    ),
    # a close 3.02x the one before that stays (a 3x move, not a spike: it does not revert)
    "split_reverse_1_for_3.csv": (
        bars(
            SESSIONS[:9],
            close=[10, 10.1, 30.5, 30.4, 30.6, 30.2, 30.8, 30.5, 30.9],
        ),
        [
            "price steps by a split ratio and stays on 2020-01-06 (1:3 reverse, close at 3.02x the "
            "previous close): an unadjusted split? (kept as is)"
        ],
    ),
    # exactly halved, but the fourth session after is nearer the old level than the new: it
    # does not stay, no split
    "halving_that_comes_back.csv": (
        bars(
            SESSIONS[:8],
            close=[100, 101, 50.5, 52, 60, 75, 90, 100],
        ),
        [],
    ),
    # a -33% day that holds is within 2% of 3:2, which is not among the ratios (real moves like
    # it are common: engine.data.checks)
    "three_for_two_that_holds.csv": (
        bars(
            SESSIONS[:8],
            close=[100, 99, 66.2, 66.5, 65.9, 66.8, 66.1, 66.4],
        ),
        [],
    ),
    # 14 NYSE sessions without a row (more than 3): reported
    "gap_weeks.csv": (
        bars(["2020-01-02", "2020-01-03", "2020-01-27", "2020-01-28"], close=[10, 10.1, 10.2, 10.3]),
        ["no rows for 14 sessions between 2020-01-03 and 2020-01-27; the last close is carried over the gap"],
    ),
    # 3 sessions without a row: not reported
    "short_gap.csv": (
        bars(["2020-01-02", "2020-01-03", "2020-01-09", "2020-01-10"], close=[10, 10.1, 10.2, 10.3]),
        [],
    ),
}

# corpus file -> the one-line error of the data checks (it parses, but nothing is left)
CHECK_REFUSED = {
    "all_weekend.csv": "all 3 rows are dated on days the NYSE was closed (2020-01-04 (Sat), "
    "2020-01-05 (Sun), 2020-01-11 (Sat)); check the dates",
}

GOOD_CSV = "Date,Open,High,Low,Close,Volume\n2020-01-02,20,21,19,20.5,1000\n2020-01-03,20,21,19,20.6,1100\n"


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    """A configuration read from a private pyproject: one empty data folder, a private cache,
    offline; yfinance fails the test if anything tries to download."""
    import yfinance

    def no_network(*args, **kwargs):
        pytest.fail(f"yfinance.download reached with {args} {kwargs}")

    monkeypatch.setattr(yfinance, "download", no_network)
    monkeypatch.delenv("AISHOCK_DATA", raising=False)
    (tmp_path / "market" / "prices").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.aishock]\ndata_dirs = ["market"]\ncache_dir = "cache"\n', encoding="utf-8"
    )
    config = replace(load_config(pyproject=tmp_path / "pyproject.toml"), online=False)
    assert config.data_dirs == (tmp_path / "market",) and config.cache_dir == tmp_path / "cache"
    return config


def place(cfg, content: bytes | str, ticker: str = TICKER) -> Path:
    """Put a price file for `ticker` in the data folder; return its path."""
    path = cfg.data_dirs[0] / "prices" / f"{ticker}.csv"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def cache_files(cfg) -> dict[str, bytes]:
    """Every file under the cache folder (stray temporary files included), with its bytes."""
    root = cfg.cache_dir
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def assert_one_line_naming(error: AishockError, path: Path, problem: str) -> None:
    message = str(error)
    assert message.splitlines() == [message], f"not one line: {message!r}"
    assert message == f"{path}: {problem}"


def test_every_corpus_file_has_one_expected_outcome():
    corpus = {p.name for p in HOSTILE.glob("*.csv")}
    outcomes = [set(REFUSED), set(NORMALISED), set(CHECKED), set(CHECK_REFUSED)]
    assert corpus == set().union(*outcomes)
    assert sum(map(len, outcomes)) == len(corpus)  # no file in two of them


def test_corpus_bytes_are_what_the_cases_claim():
    """Guards against an editor or git line-ending conversion quietly defusing the corpus."""
    assert (HOSTILE / "bom.csv").read_bytes().startswith(b"\xef\xbb\xbfDate,")
    assert (HOSTILE / "crlf.csv").read_bytes().count(b"\r\n") == 3
    assert b"\n" not in (HOSTILE / "crlf.csv").read_bytes().replace(b"\r\n", b"")
    mi = (HOSTILE / "multiindex_bom_crlf.csv").read_bytes()
    assert mi.startswith(b"\xef\xbb\xbfPrice,") and mi.count(b"\r\n") == 5
    assert (HOSTILE / "utf16.csv").read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    assert (HOSTILE / "empty.csv").stat().st_size == 0


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_by_the_parser_in_one_line(name):
    with pytest.raises(AishockError) as info:
        read_price_csv(HOSTILE / name, TICKER)
    assert_one_line_naming(info.value, HOSTILE / name, REFUSED[name])


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_through_load_prices_and_never_cached(cfg, name):
    path = place(cfg, (HOSTILE / name).read_bytes())
    with pytest.raises(AishockError) as info:
        load_prices([TICKER], config=cfg)
    assert_one_line_naming(info.value, path, REFUSED[name])
    assert cache_files(cfg) == {}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_file_beside_a_good_one_leaves_the_cache_as_it_was(cfg, name):
    place(cfg, GOOD_CSV, "GOOD")
    good = load_prices(["GOOD"], config=cfg)
    before = cache_files(cfg)
    assert len(before) == 1  # the folder's parsed cache, holding GOOD
    path = place(cfg, (HOSTILE / name).read_bytes())
    with pytest.raises(AishockError) as info:
        load_prices(["GOOD", TICKER], config=cfg)
    assert_one_line_naming(info.value, path, REFUSED[name])
    assert cache_files(cfg) == before
    again = load_prices(["GOOD"], config=cfg)
    pd.testing.assert_frame_equal(again.close, good.close)


@pytest.mark.parametrize("name", sorted(NORMALISED))
def test_normalised_by_the_parser(name):
    frame = read_price_csv(HOSTILE / name, TICKER)
    pd.testing.assert_frame_equal(frame, NORMALISED[name], check_exact=True)
    assert frame.index.tz is None
    assert frame.attrs["adjusted"] is (name in ADJUSTED)


@pytest.mark.parametrize("name", sorted(NORMALISED))
def test_normalised_through_load_prices_and_cached(cfg, name, monkeypatch):
    expected = NORMALISED[name]
    place(cfg, (HOSTILE / name).read_bytes())
    first = load_prices([TICKER], config=cfg)
    assert len(cache_files(cfg)) == 1

    import engine.data.store as store

    monkeypatch.setattr(store, "read_price_csv", lambda *a: pytest.fail("cache not used"))
    again = load_prices([TICKER], config=cfg)
    for p in (first, again):
        pd.testing.assert_index_equal(p.index, expected.index)
        for field in ("open", "high", "low", "close", "volume"):
            want = expected[field] if field in expected else pd.Series(np.nan, index=expected.index)
            np.testing.assert_array_equal(getattr(p, field)[TICKER].to_numpy(), want.to_numpy())
        assert p.close_only == ({TICKER} if "open" not in expected else set())
        assert p.adjusted == ({TICKER} if name in ADJUSTED else set())


def test_utc_timestamp_keeps_the_date_written():
    frame = read_price_csv(HOSTILE / "tz_utc.csv", TICKER)
    assert frame.index[0] == pd.Timestamp("2020-07-27")  # from 2020-07-27 04:00:00+00:00
    assert frame.index.tz is None and (frame.index == frame.index.normalize()).all()


def test_midnight_utc_bars_keep_their_session_dates_through_a_run(cfg):
    """The issue's case: a file dated `...T00:00:00Z` loads on the same sessions, with the same
    closes, as the same file dated plainly; no row lands on a closed day."""
    plain = "".join(
        f"{d},{c}\n" for d, c in [("2025-01-24", 10.4), ("2025-01-27", 10.5), ("2025-01-28", 10.6)]
    )
    place(cfg, "Date,Close\n" + plain, "PLAIN")
    place(cfg, "Date,Close\n" + plain.replace(",", "T00:00:00Z,"), "STAMPED")
    p = load_prices(["PLAIN", "STAMPED"], config=cfg)
    assert p.warnings == ()
    pd.testing.assert_series_equal(p.close["STAMPED"], p.close["PLAIN"], check_names=False)


def test_real_yfinance_file_under_another_tickers_name_is_refused(cfg):
    market = next(d for d in load_config().data_dirs if (d / "prices" / "SPY.csv").is_file())
    path = place(cfg, (market / "prices" / "SPY.csv").read_bytes(), "QQQ")
    with pytest.raises(AishockError) as info:
        load_prices(["QQQ"], config=cfg)
    assert_one_line_naming(info.value, path, "header is for SPY, not QQQ; rename the file or fix its header")
    assert cache_files(cfg) == {}
    place(cfg, (market / "prices" / "SPY.csv").read_bytes(), "SPY")  # under its own name it loads
    assert load_prices(["SPY"], "2020-01-02", "2020-01-02", config=cfg).close.iloc[0, 0] == pytest.approx(
        297.6989440917969, rel=1e-15
    )


def test_a_directory_where_the_csv_should_be_is_refused(cfg):
    folder = cfg.data_dirs[0] / "prices" / f"{TICKER}.csv"
    folder.mkdir()
    (folder / "inside.csv").write_text(GOOD_CSV)
    with pytest.raises(AishockError) as info:
        read_price_csv(folder, TICKER)
    assert_one_line_naming(info.value, folder, "is not a file; expected a per-ticker CSV")
    with pytest.raises(AishockError) as info:  # found, refused; not skipped for a download
        load_prices([TICKER], config=cfg)
    assert_one_line_naming(info.value, folder, "is not a file; expected a per-ticker CSV")
    assert cache_files(cfg) == {}


def test_a_dangling_link_where_the_csv_should_be_is_refused(cfg):
    link = cfg.data_dirs[0] / "prices" / f"{TICKER}.csv"
    link.symlink_to(cfg.data_dirs[0] / "moved-away.csv")
    with pytest.raises(AishockError) as info:  # found, refused; not "unknown ticker"
        load_prices([TICKER], config=cfg)
    assert_one_line_naming(info.value, link, "is not a file; expected a per-ticker CSV")
    assert cache_files(cfg) == {}


def test_an_unreadable_file_is_refused(cfg, monkeypatch):
    path = place(cfg, GOOD_CSV)
    path.chmod(0)
    try:
        if os.geteuid() == 0:
            # root reads a mode-000 file anyway: make the read fail the way it would for a user
            real = Path.read_bytes

            def denied(self):
                if self == path:
                    raise PermissionError(13, "Permission denied", str(self))
                return real(self)

            monkeypatch.setattr(Path, "read_bytes", denied)
        with pytest.raises(AishockError) as info:
            load_prices([TICKER], config=cfg)
    finally:
        path.chmod(0o644)
    problem = "cannot be read (PermissionError); check its permissions and encoding"
    assert_one_line_naming(info.value, path, problem)
    assert cache_files(cfg) == {}


def test_a_ticker_in_no_folder_offline_names_the_ticker_and_folders(cfg):
    with pytest.raises(AishockError) as info:
        load_prices(["NOPE"], config=cfg)
    message = str(info.value)
    assert message.splitlines() == [message]
    assert message.startswith("unknown ticker NOPE: no NOPE.csv in ") and str(cfg.data_dirs[0]) in message


def test_config_data_dirs_may_be_one_string(tmp_path, monkeypatch):
    monkeypatch.delenv("AISHOCK_DATA", raising=False)
    (tmp_path / "market").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.aishock]\ndata_dirs = "market"\n')
    assert load_config(pyproject=tmp_path / "pyproject.toml").data_dirs == (tmp_path / "market",)


def test_config_that_is_not_toml_is_one_line(tmp_path):
    bad = tmp_path / "pyproject.toml"
    bad.write_text('[tool.aishock]\ndata_dirs = ["market"\n')
    with pytest.raises(AishockError) as info:
        load_config(pyproject=bad)
    message = str(info.value)
    assert message.splitlines() == [message] and message.startswith(f"{bad}: not valid TOML (")


HEADERS = [
    "Date,Open,High,Low,Close,Volume\n",
    "Date,Close\n",
    "Price,Close,High,Low,Open,Volume\nTicker,HOST,HOST,HOST,HOST,HOST\nDate,,,,,\n",
    "",
]
CELLS = st.text(alphabet=string.digits + '-+.:eEZT ,"\r\n\tnaif' + "\x00\ufeff\u2028", max_size=20)


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(header=st.sampled_from(HEADERS), rows=st.lists(CELLS, max_size=8))
def test_any_bytes_give_a_valid_frame_or_one_line(tmp_path, header, rows):
    """Fuzz: whatever the body, the parser returns a frame that passes validation or raises
    AishockError with one line naming the file; never another exception."""
    path = tmp_path / f"{TICKER}.csv"
    path.write_text(header + "\n".join(rows), encoding="utf-8")
    try:
        frame = read_price_csv(path, TICKER)
    except AishockError as e:
        message = str(e)
        assert message.splitlines() == [message] and message.startswith(f"{path}: ")
        return
    assert "close" in frame and len(frame) > 0
    assert frame.index.is_monotonic_increasing and frame.index.is_unique and frame.index.tz is None
    values = frame.to_numpy(dtype=float)
    assert not np.isinf(values).any() and (frame["close"] > 0).all()
    assert all(dt == np.float64 for dt in frame.dtypes)


def assert_panel_holds(p, expected: pd.DataFrame) -> None:
    pd.testing.assert_index_equal(p.index, expected.index)
    for field in ("open", "high", "low", "close", "volume"):
        want = expected[field] if field in expected else pd.Series(np.nan, index=expected.index)
        np.testing.assert_array_equal(getattr(p, field)[TICKER].to_numpy(), want.to_numpy())


@pytest.mark.parametrize("name", sorted(CHECKED))
def test_checked_file_loads_repaired_with_its_warnings_also_from_the_cache(cfg, name, monkeypatch):
    expected, problems = CHECKED[name]
    path = place(cfg, (HOSTILE / name).read_bytes())
    want = tuple(f"{TICKER} ({path}): {w}" for w in problems)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = load_prices([TICKER], config=cfg)
    assert first.warnings == want
    assert [str(w.message) for w in caught if w.category is DataWarning] == list(want)
    assert all("\n" not in w for w in first.warnings)
    assert len(cache_files(cfg)) == 1

    import engine.data.store as store

    monkeypatch.setattr(store, "read_price_csv", lambda *a: pytest.fail("cache not used"))
    monkeypatch.setattr(checks, "_build", lambda *a: pytest.fail("calendar rebuilt"))
    again = load_prices([TICKER], config=cfg)  # the checked bars and the warnings are cached
    for p in (first, again):
        assert_panel_holds(p, expected)
    assert again.warnings == want


@pytest.mark.parametrize("name", sorted(CHECK_REFUSED))
def test_refused_by_the_checks_in_one_line_and_never_cached(cfg, name):
    path = place(cfg, (HOSTILE / name).read_bytes())
    read_price_csv(path, TICKER)  # the parser takes it
    with pytest.raises(AishockError) as info:
        load_prices([TICKER], config=cfg)
    assert_one_line_naming(info.value, path, CHECK_REFUSED[name])
    assert cache_files(cfg) == {}


def test_a_cache_entry_from_before_the_checks_is_re_checked(cfg, monkeypatch):
    """An entry written without the checks' results (the old format: a bare stamp) is stale:
    the file is parsed and checked again, so its weekend rows go."""
    import engine.data.store as store
    from engine.data.cache import read_frame, write_frame

    path = place(cfg, (HOSTILE / "saturday_rows.csv").read_bytes())
    load_prices([TICKER], config=cfg)
    (cpath,) = (cfg.cache_dir / "parsed").glob("*.parquet")
    raw = store.widen({TICKER: read_price_csv(path, TICKER)})  # unchecked: Saturday included
    write_frame(cpath, raw, {TICKER: store._stamp(path)})
    assert pd.Timestamp("2020-01-04") in read_frame(cpath).index
    p = load_prices([TICKER], config=cfg)
    assert pd.Timestamp("2020-01-04") not in p.index and len(p.warnings) == 1


# --- the earnings calendar ------------------------------------------------------------------------

# calendar bytes -> what the one-line error must say (after "<path>: "); each once broke every
# command that loads prices with a pandas traceback, or loaded wrong
BAD_CALENDARS = {
    "empty": (
        b"",
        "the file is empty; write the header `date,ticker,note` and a row per report, or delete it",
    ),
    "blank lines only": (
        b"\n \n",
        "the file is empty; write the header `date,ticker,note` and a row per report, or delete it",
    ),
    "header only": (
        b"date,ticker,note\n",
        "has a header but no rows; add a row per report, or delete the file",
    ),
    "extra fields": (
        b"date,ticker,note\n2025-01-28,GLW,reported, late\n",
        "line 2 has 4 values but the header names 3 columns; quote a note that holds commas",
    ),
    "latin-1 bytes": (
        "date,ticker,note\n2025-01-28,GLW,report\u00e9\n".encode("latin-1"),
        "byte 0xe9 on line 2 is not UTF-8; save the file as UTF-8",
    ),
    "bad date": (
        b"date,ticker,note\n2025-01-28,GLW,x\n2025-13-01,NVDA,y\n",
        "unreadable date '2025-13-01' on line 3; use YYYY-MM-DD",
    ),
    "US date": (b"date,ticker\n01/28/2025,GLW\n", "unreadable date '01/28/2025' on line 2; use YYYY-MM-DD"),
    "missing column": (
        b"day,ticker,note\n2025-01-28,GLW,x\n",
        "no 'date' column (columns: day, ticker, note); the header must be `date,ticker,note`",
    ),
    "no date": (b"date,ticker\n,GLW\n", "no date on line 2; fill it in"),
    "no ticker": (b"date,ticker\n2025-01-28, \n", "no ticker on line 2; fill it in"),
    "not a ticker": (b"date,ticker\n2025-01-28,G L W\n", "'G L W' on line 2 is not a ticker symbol; fix it"),
    "column twice": (
        b"date,ticker,date\n2025-01-28,GLW,2025-01-29\n",
        "column 'date' appears twice; keep one",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CALENDARS))
def test_a_malformed_earnings_calendar_is_one_line_naming_it(cfg, case):
    content, problem = BAD_CALENDARS[case]
    place(cfg, GOOD_CSV, "GOOD")
    calendar = cfg.data_dirs[0] / "earnings_calendar.csv"
    calendar.write_bytes(content)
    with pytest.raises(AishockError) as info:
        load_prices(["GOOD"], config=cfg)
    assert_one_line_naming(info.value, calendar, problem)


def test_a_well_formed_earnings_calendar_loads(cfg):
    """Any case in the header, a BOM, CRLF, blank lines, a quoted note with a comma, a missing
    note, a lower-case dotted ticker (spelled as the panel spells it), a time of day."""
    place(cfg, GOOD_CSV, "GOOD")
    (cfg.data_dirs[0] / "earnings_calendar.csv").write_bytes(
        b'\xef\xbb\xbf Date , TICKER ,Note\r\n2025-01-29,msft,"after the close, Wed"\r\n\r\n'
        b"2025-01-28T00:00:00Z,brk.b\r\n"
    )
    got = load_prices(["GOOD"], config=cfg).earnings
    assert got.to_dict("list") == {
        "date": [pd.Timestamp("2025-01-28"), pd.Timestamp("2025-01-29")],
        "ticker": ["BRK-B", "MSFT"],
        "note": ["", "after the close, Wed"],
    }
