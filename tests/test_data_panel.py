"""The price panel on the real snapshot: layouts, alignment, validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine import AishockError, load_prices
from engine.data.csvfile import read_price_csv


def test_both_layouts_and_close_only_load(cfg):
    spy = read_price_csv(cfg.data_dirs[-1] / "prices" / "SPY.csv")  # three-line yfinance header
    nvda = read_price_csv(cfg.data_dirs[-1] / "prices" / "NVDA.csv")  # single header
    mrvl = read_price_csv(cfg.data_dirs[-1] / "prices" / "MRVL.csv")  # Date,Close only
    assert list(spy.columns) == ["open", "high", "low", "close", "volume"]
    assert list(nvda.columns) == ["open", "high", "low", "close", "volume"]
    assert list(mrvl.columns) == ["close"]
    assert spy.index[0] == pd.Timestamp("2020-01-02")
    assert spy["close"].iloc[0] == pytest.approx(297.6989440917969, rel=1e-15)
    p = load_prices(["SPY", "NVDA", "MRVL"], config=cfg)
    assert p.close_only == {"MRVL"}
    assert p.open["MRVL"].isna().all() and p.open["SPY"].notna().all()


def test_nvda_shock_day_return(cfg):
    p = load_prices(["NVDA"], "2025-01-20", "2025-01-31", config=cfg)
    r = p.close["NVDA"].loc["2025-01-27"] / p.close["NVDA"].loc["2025-01-24"] - 1
    assert r == pytest.approx(-0.17, abs=0.005)
    assert p.returns()["NVDA"].loc["2025-01-27"] == pytest.approx(r, rel=1e-12)


def test_late_listing_is_nan_before_first_bar_not_backfilled(cfg):
    p = load_prices(["GEV", "SPY"], "2024-03-20", "2024-04-05", config=cfg)
    gev = p.close["GEV"]
    assert gev.loc[:"2024-03-26"].isna().all()
    assert gev.first_valid_index() == pd.Timestamp("2024-03-27")
    assert p.fill_price()["GEV"].loc[:"2024-03-26"].isna().all()


def test_calendar_is_the_datas_and_skips_the_2025_01_09_closure(cfg):
    p = load_prices(["SPY", "MRVL"], "2025-01-06", "2025-01-13", config=cfg)
    assert pd.Timestamp("2025-01-09") not in p.index
    assert len(p.index) == 5


def test_fill_price_is_open_with_opens_else_close(cfg):
    p = load_prices(["NVDA", "MRVL"], "2025-01-27", "2025-01-27", config=cfg)
    fill = p.fill_price().iloc[0]
    assert fill["NVDA"] == p.open["NVDA"].iloc[0] != p.close["NVDA"].iloc[0]
    assert fill["MRVL"] == p.close["MRVL"].iloc[0]


def test_all_538_tickers_load_and_reload_identically(tmp_cfg):
    tickers = sorted(p.stem for p in (tmp_cfg.data_dirs[-1] / "prices").glob("*.csv"))
    assert len(tickers) == 538
    first = load_prices(tickers, config=tmp_cfg)
    again = load_prices(tickers, config=tmp_cfg)  # from the parsed cache
    assert list(tmp_cfg.cache_dir.glob("parsed/*.parquet"))
    for field in ("close", "open", "high", "low", "volume"):
        pd.testing.assert_frame_equal(getattr(first, field), getattr(again, field))
    assert first.close_only == again.close_only and len(first.close_only) == 34


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tickers": ["NOPE"]}, "unknown ticker NOPE"),
        ({"tickers": ["SPY"], "start": "2025-02-01", "end": "2025-01-01"}, "is after end"),
        ({"tickers": ["SPY"], "start": "2030-01-01"}, "no prices from 2030-01-01"),
        ({"tickers": ["SPY"], "end": "2019-06-30"}, "no prices up to 2019-06-30"),
        ({"tickers": ["SPY"], "start": "not-a-date"}, "is not a date"),
        ({"tickers": []}, "no tickers given"),
        ({"tickers": ["SP Y"]}, "is not a ticker symbol"),
    ],
)
def test_bad_requests_are_one_line_errors(cfg, kwargs, message):
    with pytest.raises(AishockError, match=message) as info:
        load_prices(config=cfg, **kwargs)
    assert "\n" not in str(info.value)


def test_unknown_ticker_names_the_places_searched(cfg):
    with pytest.raises(AishockError) as info:
        load_prices(["ZZZZ"], config=cfg)
    for folder in cfg.data_dirs:
        assert str(folder) in str(info.value)


def test_symbols_are_spelled_as_yfinance_does(cfg):
    p = load_prices(["brk.b"], "2025-01-02", "2025-01-10", config=cfg)
    assert p.tickers == ["BRK-B"]
    assert np.isfinite(p.close["BRK-B"]).all()


def test_earnings_calendar_comes_with_the_prices(cfg):
    p = load_prices(["NVDA"], config=cfg)
    nvda = p.earnings[p.earnings["ticker"] == "NVDA"]
    assert list(nvda["date"]) == [pd.Timestamp("2025-02-26")]
