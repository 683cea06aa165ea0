"""Point-in-time universes (engine.data.universe, engine.strategy.registry): a strategy never orders a
member of a membership-CSV universe before its `Date added` or from its `Date removed` on, in
every path (run, sweep, generalize's runs, the event study), for built-in and plain strategies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import AishockError, load_prices, sweep
from engine.backtest.run import run
from engine.data.membership import windows
from engine.data.universe import resolve
from engine.events import study
from engine.events.members import resolve_members
from engine.strategy import registry
from engine.strategy.params import param
from engine.strategy.registry import register

PIT = str(Path(__file__).parent / "membership" / "ai_point_in_time.csv")
DATES = windows(PIT)


def sp500(cfg) -> str:
    market = next(d for d in cfg.data_dirs if (d / "prices").is_dir())
    return str(market / "sp500_constituents_2024-12-27.csv")


def buys_outside_membership(orders: pd.DataFrame, index: pd.DatetimeIndex, dated: dict) -> pd.DataFrame:
    """The buy orders of long-only runs whose decision day (the bar before the fill) is
    outside the ticker's membership dates."""
    buys = orders[(orders["side"] == "buy") & orders["ticker"].isin(dated)]
    decided = index[index.get_indexer(pd.DatetimeIndex(buys["date"])) - 1]
    added = buys["ticker"].map(lambda t: dated[t][0] or pd.Timestamp.min)
    removed = buys["ticker"].map(lambda t: dated[t][1] or pd.Timestamp.max)
    outside = (decided < added.to_numpy()) | (decided >= removed.to_numpy())
    return buys[np.asarray(outside)]


def test_membership_file_gives_both_dates():
    assert DATES["PLTR"] == (pd.Timestamp("2025-01-29"), None)
    assert DATES["ANET"] == (pd.Timestamp("2018-08-28"), pd.Timestamp("2025-02-10"))


def test_per_name_rule_on_the_sp500_buys_no_name_before_it_joined(cfg):
    """The issue's case: from 2022 the per-name rule bought PLTR on 2022-02-18 (added
    2024-09-23) and DECK on 2022-03-07 (added 2024-03-18)."""
    universe = sp500(cfg)
    r = run("oversold_rebound", {"mode": "per_name", "universe": universe}, "2022-01-03", "2022-06-30")
    assert not r.orders.empty
    assert r.orders[r.orders["ticker"].isin(["PLTR", "DECK"])].empty
    assert buys_outside_membership(r.orders, r.prices.index, windows(universe)).empty


def test_shock_basket_skips_a_name_that_joined_after_the_shock_and_one_that_left_before():
    def bought(r, day):
        return set(r.orders.loc[(r.orders["side"] == "buy") & (r.orders["date"] == day), "ticker"])

    r = run("oversold_rebound", {"universe": PIT, "top_k": 10}, "2025-01-02", "2025-03-31")
    shock = bought(r, "2025-01-28")  # the 2025-01-27 shock, bought at the next bar
    assert "PLTR" not in shock  # joins 2025-01-29, two days after the shock
    assert "SMCI" not in shock  # left 2025-01-21
    assert {"NVDA", "VST", "CEG", "ANET"} <= shock
    later = bought(r, "2025-03-07")  # the 2025-03-06 shock: PLTR is a member, ANET has left
    assert "PLTR" in later and "ANET" not in later
    # the same basket of tickers without dates buys PLTR and SMCI on the first shock
    plain = run("oversold_rebound", {"universe": ",".join(DATES), "top_k": 10}, "2025-01-02", "2025-03-31")
    assert {"PLTR", "SMCI"} <= bought(plain, "2025-01-28")


def test_buy_and_hold_of_a_membership_file_adds_a_name_when_it_joins():
    r = run("buy_and_hold", {"hold": PIT}, "2025-01-02", "2025-03-31")
    pltr = r.orders[r.orders["ticker"] == "PLTR"]
    assert pltr["date"].min() == pd.Timestamp("2025-01-30")  # decided on 2025-01-29, filled next bar
    assert buys_outside_membership(r.orders, r.prices.index, DATES).empty


@settings(max_examples=12, deadline=None, derandomize=True, database=None)
@given(
    start=st.integers(0, 400),
    length=st.integers(30, 300),
    case=st.sampled_from(
        [
            ("oversold_rebound", {"mode": "per_name", "min_drop": 0.04, "hold_days": 5}),
            ("oversold_rebound", {"min_drop": 0.03, "top_k": 4, "max_market_drop": 0.05}),
            ("buy_and_hold", {"rebalance_days": 7}),
        ]
    ),
)
def test_any_window_orders_no_name_outside_its_membership(cfg, start, length, case):
    """Property: over random windows of 2023-2025, no long-only strategy on the membership
    file buys a name on a decision day outside its dates."""
    name, overrides = case
    days = pd.bdate_range("2023-01-03", "2025-12-31")
    first, last = days[start], days[min(start + length, len(days) - 1)]
    key = "hold" if name == "buy_and_hold" else "universe"
    try:
        r = run(name, {**overrides, key: PIT}, first, last)
    except AishockError as e:  # a window without a trading day of data
        pytest.skip(str(e))
    assert buys_outside_membership(r.orders, r.prices.index, DATES).empty


@dataclass(frozen=True)
class Everything:
    universe: str = param(PIT, "names to hold")


def everything(prices, p):
    """Orders every name of the universe on the first day, whatever it sees."""
    names = resolve(p.universe)
    w = pd.DataFrame(np.nan, index=prices.index, columns=names)
    w.iloc[0] = 1.0 / len(names)
    return w


@pytest.fixture
def registered():
    """The plain strategy `everything`, registered for one test only (registered at import,
    it would join every test that walks the registry)."""
    register(
        "test_everything_from_day_one", Everything, lambda p: resolve(p.universe), universes=("universe",)
    )(everything)
    yield
    registry.REGISTRY.pop("test_everything_from_day_one")


def test_a_plain_strategy_ordering_a_future_member_is_refused_in_run_and_sweep(registered):
    joined = r"ordered VST on 2020-01-02, before it joined the universe on 2024-05-08"
    with pytest.raises(AishockError, match=joined):
        run("test_everything_from_day_one", None, "2025-01-02", "2025-03-31")
    with pytest.raises(AishockError, match="before it joined the universe"):
        sweep("test_everything_from_day_one", {"universe": [PIT]}, "2025-01-02:2025-03-31")


def test_the_strategy_sees_no_price_of_a_name_outside_its_membership(cfg):
    prices = load_prices([*DATES, "SPY"], "2025-01-02", "2025-03-31", config=cfg)
    seen = {}

    @dataclass(frozen=True)
    class Spy:
        universe: str = param(PIT, "names")

    @register("test_sees", Spy, lambda p: resolve(p.universe), universes=("universe",))
    def sees(prices, p):
        seen["close"] = prices.close
        return pd.DataFrame(np.nan, index=prices.index, columns=["NVDA"])

    registry.get("test_sees").weights(prices, Spy())
    registry.REGISTRY.pop("test_sees")
    close = seen["close"]
    assert close.loc[:"2025-01-28", "PLTR"].isna().all() and close.loc["2025-01-29":, "PLTR"].notna().all()
    assert close.loc["2025-01-21":, "SMCI"].isna().all() and close.loc[:"2025-01-17", "SMCI"].notna().all()
    assert close["SPY"].notna().all()  # not in the file: no dates


def test_event_study_leaves_out_a_name_not_yet_a_member(cfg):
    _, members = resolve_members(PIT, cfg)
    close = load_prices([*members.index, "SPY"], config=cfg).close
    s = study.study(close, members, "2025-01-27")
    assert s.table.loc["PLTR", "status"] == study.NOT_MEMBER
    assert s.table.loc["SMCI", "status"] == study.NOT_MEMBER
    assert "PLTR" not in s.covered and "NVDA" in s.covered
