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
    "adj_close_only.csv": "no Close column (columns: adj close)",
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
    # spaces, any case, a quoted name; Adj Close and Dividends ignored
    "messy_header.csv": TWO_BARS,
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
    # UTC timestamps become the New York calendar date (04:00 UTC is midnight in New York)
    "tz_utc.csv": bars(["2020-07-27", "2020-07-28", "2020-07-29"], close=[10.5, 10.6, 10.7]),
    # each row's own offset counts: 20:00-05:00 is still the 28th in New York (01:00 UTC on
    # the 29th); rows without an offset keep their date
    "tz_offsets.csv": bars(
        ["2020-01-24", "2020-01-27", "2020-01-28", "2020-07-29"], close=[10.4, 10.5, 10.6, 10.7]
    ),
}

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
    # a 10:1 step that stays: an unadjusted split
    "unadjusted_split.csv": (
        bars(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07"], close=[100, 101, 10.1, 10.2]),
        [
            "close moves 5x or more in one day on 2020-01-06 (x0.1) and stays: an unadjusted split? "
            "(kept as is)"
        ],
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


def test_utc_timestamp_becomes_the_new_york_calendar_date():
    frame = read_price_csv(HOSTILE / "tz_utc.csv", TICKER)
    assert frame.index[0] == pd.Timestamp("2020-07-27")  # from 2020-07-27 04:00:00+00:00
    assert frame.index.tz is None and (frame.index == frame.index.normalize()).all()


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
