"""The event study (engine.events.study) on the real snapshot, against figures recomputed here from
the raw CSVs with the csv module (tests/raw_market.py), plus edge cases on small frames."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from raw_market import (
    EVENT,
    SP500_FILE,
    ai_members,
    closes,
    daily_returns,
    figures,
    market_dir,
    sp500_members,
    sp500_sectors,
)
from scipy import stats

from engine.errors import AishockError
from engine.events import selloffs, shocks
from engine.events import study as event
from engine.events.members import load_universe

SP500_MISSING = ["ANSS", "DFS", "FI", "HES", "IPG", "JNPR", "K", "MMC", "PARA", "WBA"]


@pytest.fixture(scope="module")
def ai(cfg):
    _, members, prices = load_universe("ai", cfg, "SPY", event.BENCHMARKS)
    return event.study(prices.close, members, EVENT)


@pytest.fixture(scope="module")
def sp500(cfg):
    _, members, prices = load_universe(str(market_dir() / SP500_FILE), cfg, "SPY", event.BENCHMARKS)
    return event.study(prices.close, members, EVENT)


def close_enough(a, b, tol=1e-10):
    if b is None:
        return a is None or (isinstance(a, float) and math.isnan(a))
    return a == pytest.approx(b, rel=tol, abs=tol)


def test_ai_per_name_figures_match_the_raw_csvs(ai):
    members = ai_members()
    assert list(ai.table.index) == members and ai.missing == [] and len(ai.covered) == 35
    for t in members:
        raw, row = figures(t), ai.table.loc[t]
        assert close_enough(row["event_return"], raw["event_return"]), t
        assert close_enough(row["runup_ytd"], raw["runup_ytd"]), t
        assert close_enough(row["runup_recent"], raw["runup_20"]), t
        assert close_enough(row["ret_after_5d"], raw["after_5"]), t
        assert close_enough(row["ret_after_20d"], raw["after_20"]), t
        assert close_enough(row["max_drawdown_after"], raw["max_drawdown_after"]), t
        assert close_enough(row["days_to_recover"], raw["days_to_recover"]), t


def test_ai_breadth_and_extremes_match_the_raw_csvs(ai):
    raw = {t: figures(t)["event_return"] for t in ai_members()}
    assert ai.breadth == {
        "advancers": sum(r > 0 for r in raw.values()),
        "decliners": sum(r < 0 for r in raw.values()),
        "unchanged": sum(r == 0 for r in raw.values()),
    }
    assert ai.breadth == {"advancers": 4, "decliners": 31, "unchanged": 0}  # the DeepSeek Monday
    order = sorted(raw, key=lambda t: (raw[t], t))
    assert list(ai.ranked().index[:5]) == order[:5] == ["VRT", "VST", "ALAB", "ANET", "TLN"]
    assert list(ai.ranked().index[-5:]) == order[-5:]


def test_ai_role_means_match_the_raw_csvs(ai):
    import tomllib

    from engine.config import PROJECT_ROOT

    with (PROJECT_ROOT / "strategies" / "baskets.toml").open("rb") as f:
        baskets = tomllib.load(f)
    roles = ai.groups["role"]
    for name, basket in baskets.items():
        if not basket.get("in_ai", False):
            continue
        r = [figures(t)["event_return"] for t in basket["tickers"]]
        assert roles.loc[name, "n"] == len(r)
        assert roles.loc[name, "mean_return"] == pytest.approx(sum(r) / len(r), rel=1e-10)
        assert roles.loc[name, "decliners"] == sum(x < 0 for x in r)
    overall = [figures(t)["event_return"] for t in ai_members()]
    assert ai.groups["universe"]["mean_return"].iloc[0] == pytest.approx(np.mean(overall), rel=1e-10)


def test_sp500_membership_lists_every_missing_member_by_name(sp500):
    members = sp500_members()
    assert len(members) == 503 and "BRK-B" in members and "BF-B" in members
    no_file = [t for t in members if closes(t) is None]
    assert no_file == SP500_MISSING
    assert list(sp500.table.index) == members
    assert sp500.missing == no_file
    assert set(sp500.table.loc[no_file, "status"]) == {event.NO_DATA}
    assert len(sp500.covered) == 493


def test_sp500_returns_breadth_and_ytd_match_the_raw_csvs(sp500):
    raw = {t: f for t in sp500_members() if (f := figures(t)) is not None}
    assert len(raw) == 493
    for t, f in raw.items():
        assert close_enough(sp500.table.at[t, "event_return"], f["event_return"]), t
        assert close_enough(sp500.table.at[t, "runup_ytd"], f["runup_ytd"]), t
    returns = {t: f["event_return"] for t, f in raw.items()}
    expected = {
        "advancers": sum(r > 0 for r in returns.values()),
        "decliners": sum(r < 0 for r in returns.values()),
        "unchanged": sum(r == 0 for r in returns.values()),
    }
    assert sp500.breadth == expected == {"advancers": 345, "decliners": 148, "unchanged": 0}
    order = sorted(returns, key=lambda t: (returns[t], t))
    assert list(sp500.ranked().index[:5]) == order[:5] == ["VST", "ANET", "GEV", "CEG", "PWR"]
    assert list(sp500.ranked().index[::-1][:5]) == order[::-1][:5]


def test_sp500_sector_aggregation_matches_the_raw_csvs(sp500):
    sectors = sp500_sectors()
    by_sector: dict[str, list[float]] = {}
    for t in sp500_members():
        if (f := figures(t)) is not None:
            by_sector.setdefault(sectors[t], []).append(f["event_return"])
    table = sp500.groups["sector"]
    assert set(table.index) == set(by_sector) and len(table) == 11
    for sector, r in by_sector.items():
        assert table.loc[sector, "n"] == len(r)
        assert table.loc[sector, "mean_return"] == pytest.approx(sum(r) / len(r), rel=1e-10)
        assert table.loc[sector, "advancers"] == sum(x > 0 for x in r)
    assert list(table["mean_return"]) == sorted(table["mean_return"])  # worst first


def test_market_and_sector_etfs_on_the_event_day(ai):
    for t in ("SPY", "QQQ", "SMH"):
        assert close_enough(ai.benchmarks.at[t, "event_return"], figures(t)["event_return"]), t
    assert ai.benchmarks.at["SPY", "event_return"] == pytest.approx(-0.0141, abs=5e-5)


def test_market_model_abnormal_returns_match_an_independent_fit(ai):
    """Window -10..60: the estimation window is the 250 returns ending the day before day -10."""
    spy = daily_returns("SPY")
    days = sorted(spy)
    i = days.index(EVENT)
    estimation, window = days[i - 10 - 250 : i - 10], days[i - 10 : i + 61]
    for t in ("NVDA", "VST", "MSFT", "AVGO"):
        r = daily_returns(t)
        beta, alpha = np.polyfit([spy[d] for d in estimation], [r[d] for d in estimation], 1)
        ar = [r[d] - alpha - beta * spy[d] for d in window]
        assert ai.table.at[t, "beta"] == pytest.approx(beta, rel=1e-9)
        assert ai.table.at[t, "abnormal_return"] == pytest.approx(ar[10], rel=1e-9)
        assert ai.table.at[t, "car_window"] == pytest.approx(sum(ar), rel=1e-9)


def test_group_tests_are_the_one_sample_t_test_of_the_cars(ai):
    cars = ai.table["car_window"]
    for role, row in ai.groups["role"].iterrows():
        values = cars[ai.table["role"] == role]
        if len(values) < 2:
            assert math.isnan(row["t_window"]) and math.isnan(row["p_window"])
            continue
        expected = stats.ttest_1samp(values, 0.0)
        assert row["t_window"] == pytest.approx(expected.statistic, rel=1e-9)
        assert row["p_window"] == pytest.approx(expected.pvalue, rel=1e-9)
        assert row["car_window"] == pytest.approx(values.mean(), rel=1e-12)


def test_caar_and_recovery_curves_end_where_the_names_do(ai):
    caar = ai.caar["universe"][event.ALL_MEMBERS]
    assert caar.index[0] == -10 and caar.index[-1] == 60
    assert caar.iloc[-1] == pytest.approx(ai.table["car_window"].mean(), rel=1e-9)
    share = ai.recovery["universe"][event.ALL_MEMBERS]
    days = [figures(t)["days_to_recover"] for t in ai_members()]
    assert share.iloc[-1] == pytest.approx(sum(d is not None for d in days) / len(days))
    assert share.iloc[0] == pytest.approx(sum(d == 0 for d in days) / len(days))
    assert share.is_monotonic_increasing


def test_the_event_study_and_the_strategies_agree_on_the_shock_date(cfg, ai, sp500):
    from engine.data.panel import load_prices
    from engine.data.universe import resolve
    from strategies import steps

    names = resolve("ai")
    prices = load_prices([*names, "SPY"], config=cfg)
    detected = steps.event_dates(prices, names, "SPY", shocks.MIN_DROP, shocks.MAX_MARKET_DROP, None)
    assert list(detected) == [pd.Timestamp(EVENT)]
    drops = selloffs.big_drops(prices.close, names, "SPY")
    assert list(drops.index[drops["kind"] == selloffs.SECTOR]) == list(detected)
    assert ai.shock["detected"] and not sp500.shock["detected"]
    raw = [figures(t)["event_return"] for t in ai_members()]
    assert ai.shock["group_return"] == pytest.approx(sum(raw) / len(raw), rel=1e-10)


# --- small frames: edge cases -------------------------------------------------------------


def frame(columns: dict[str, list[float]], start="2024-12-27") -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame(columns, index=pd.bdate_range(start, periods=n), dtype=float)


def members(*tickers, role="r") -> pd.DataFrame:
    return pd.DataFrame({"security": "", "sector": "", "role": role}, index=pd.Index(tickers, name="ticker"))


def test_statuses_unchanged_names_recovery_and_clipping_on_a_small_frame():
    nan = float("nan")
    close = frame(
        {
            "SPY": [100, 101, 102, 101, 103, 104, 105, 106],
            "DROP": [10, 10, 11, 12, 9, 9.5, 11, 13],  # falls on the event day, regains 12 at k = 3
            "FLAT": [5, 5, 5, 5, 5, 5, 5, 5],
            "NEW": [nan, nan, nan, nan, nan, 7, 8, 9],  # listed after the event
            "SINK": [20, 20, 20, 20, 15, 14, 13, 12],  # never regains 20
        }
    )
    day = close.index[4]  # 2025-01-02: the year's base close is 2024-12-31's
    s = event.study(
        close, members("DROP", "FLAT", "NEW", "SINK", "GONE"), day, pre=2, post=60, model="adjusted"
    )
    assert (s.pre, s.post) == (2, 3)  # clipped to the data
    assert list(s.table["status"]) == ["ok", "ok", "not trading", "ok", "no data"]
    assert s.missing == ["NEW", "GONE"] and s.breadth == {"advancers": 0, "decliners": 2, "unchanged": 1}
    t = s.table
    assert t.at["DROP", "event_return"] == pytest.approx(9 / 12 - 1)
    assert t.at["DROP", "days_to_recover"] == 3 and t.at["FLAT", "days_to_recover"] == 0
    assert math.isnan(t.at["SINK", "days_to_recover"])
    assert t.at["SINK", "max_drawdown_after"] == pytest.approx(12 / 15 - 1)
    assert t.at["DROP", "max_drawdown_after"] == 0.0  # never below its event-day close
    assert math.isnan(t.at["DROP", "ret_after_5d"])  # past the data
    assert t.at["DROP", "runup_ytd"] == pytest.approx(12 / 11 - 1)
    assert t.at["DROP", "abnormal_return"] == pytest.approx((9 / 12 - 1) - (103 / 101 - 1))
    drop = [10, 10, 11, 12, 9, 9.5, 11, 13]
    spy = [100, 101, 102, 101, 103, 104, 105, 106]
    adjusted = [drop[j] / drop[j - 1] - spy[j] / spy[j - 1] for j in range(2, 8)]  # k = -2..3
    assert t.at["DROP", "car_window"] == pytest.approx(sum(adjusted))
    assert t.at["DROP", "beta"] == 1.0
    assert s.recovery["role"]["r"].tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 3, 2 / 3])


def test_market_model_needs_enough_estimation_days():
    rng = np.random.default_rng(0)
    r = rng.normal(0, 0.01, size=(80, 2))
    close = frame({"SPY": 100 * np.cumprod(1 + r[:, 0]), "A": 50 * np.cumprod(1 + r[:, 1])})
    ok = event.study(close, members("A"), close.index[70], pre=5, post=5, estimation=40)
    assert not math.isnan(ok.table.at["A", "beta"])
    short = event.study(close, members("A"), close.index[70], pre=5, post=5, estimation=250)
    assert math.isnan(short.table.at["A", "abnormal_return"])  # 64 returns < 125 needed


@pytest.mark.parametrize(
    ("text", "expected"), [("-10:60", (10, 60)), ("0:5", (0, 5)), (" -3 : +20 ", (3, 20))]
)
def test_parse_window(text, expected):
    assert event.parse_window(text) == expected


@pytest.mark.parametrize("text", ["10:60", "-10", "a:b", "-10:-5", ""])
def test_parse_window_refuses_malformed_windows(text):
    with pytest.raises(AishockError, match="-BEFORE:AFTER"):
        event.parse_window(text)


@pytest.mark.parametrize(
    ("date", "message"),
    [
        ("2025-01-04", "(Saturday) is not a trading day; the nearest are 2025-01-03 and 2025-01-06"),
        ("2030-01-02", "outside the data"),
        ("2024-12-27", "first day of the data"),
        ("27/01/2025x", "is not a date"),
    ],
)
def test_event_position_refusals(date, message):
    close = frame({"SPY": [1.0, 2, 3, 4, 5, 6, 7]})
    with pytest.raises(AishockError) as e:
        event.event_position(close.index, date)
    assert message in str(e.value)
