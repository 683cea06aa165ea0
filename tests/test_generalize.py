"""engine.generalize and `aishock shocks --by` / `aishock generalize` on the real snapshot:
events across groups, each event equal to a single `aishock run`, placebo days that are never
event days, seeded reproducibility, and the scaled shock rule on constructed data."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from aishock.cli import main
from engine.config import PROJECT_ROOT
from engine.events import shocks
from engine.events.generalize import generalize

SP500 = str(PROJECT_ROOT.parent / "shared" / "market" / "sp500_constituents_2024-12-27.csv")


@pytest.fixture(scope="module")
def roles():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return generalize("oversold_rebound", "ai", "role", placebo=40, seed=7)


def _shocks_json(capsys, *argv) -> dict:
    assert main(["shocks", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_defaults_find_events_in_at_least_five_sectors_or_industries(capsys):
    sectors = _shocks_json(capsys, "--universe", SP500, "--by", "sector")
    industries = _shocks_json(capsys, "--universe", SP500, "--by", "industry")
    assert sectors["groups_with_shocks"] >= 5 or industries["groups_with_shocks"] >= 5
    assert industries["groups_with_shocks"] >= 5
    # groups with too few members are listed, not silently dropped
    assert industries["skipped"] and all(
        n < industries["min_members"] for n in industries["skipped"].values()
    )
    for s in industries["shocks"][:20]:
        assert s["excess"] <= -industries["k"] * s["sd"] + 1e-12
        assert (
            s["group_return"] <= -industries["min_fall"]
            and s["market_return"] > -industries["max_market_drop"]
        )
        assert len(s["members"]) == s["n_members"] >= industries["min_members"]


def test_the_deepseek_day_is_an_ai_role_event(capsys):
    found = _shocks_json(capsys, "--universe", "ai", "--by", "role")
    on_day = {s["group"] for s in found["shocks"] if s["date"] == "2025-01-27"}
    assert {"power", "grid", "networking", "inference"} <= on_day


@pytest.mark.parametrize("pick", [0, 3, 13])
def test_each_event_equals_a_single_aishock_run(roles, pick, out_dir, capsys):
    event = roles.events.iloc[pick]
    argv = [
        "run", "oversold_rebound", "--set", f"universe={','.join(event['members'])}",
        "--set", f"event_date={event['date'].date()}", "--start", str(event["start"].date()),
        "--end", str(event["end"].date()), "--no-tearsheet", "--json",
    ]  # fmt: skip
    assert main(argv) == 0
    single = json.loads(capsys.readouterr().out)
    assert single["metrics"]["total_return"] == pytest.approx(event["strategy_return"], abs=1e-12)
    assert single["end"] == str(event["end"].date())


def test_event_figures_are_consistent(roles):
    e = roles.events
    assert np.allclose(e["excess_market"], e["strategy_return"] - e["market_return_window"])
    assert np.allclose(e["excess_group"], e["strategy_return"] - e["group_return_window"])
    assert (e["days"] <= roles.settings["horizon"]).all() and (e["days"] > 0).all()
    assert roles.settings["horizon"] == 21  # oversold_rebound's hold_days (20) + 1
    assert list(roles.paths.index) == list(range(roles.settings["horizon"] + 1))
    assert roles.paths.iloc[-1].dropna().size >= len(e) - 1  # only an event cut by the data's end is shorter


def test_placebo_days_are_never_event_days_nor_past_the_data(roles):
    p = roles.placebo_events
    assert len(p) == 40
    assert not set(p["date"]) & set(roles.events["date"])
    last = roles.calendar.index.max()
    assert (p["end"] <= last).all()
    assert (p["days"] == roles.settings["horizon"]).all()  # the whole window inside the data
    assert set(p["group"]) <= set(roles.events["group"])
    assert not p.duplicated(["date", "group"]).any()


def test_seeded_runs_are_identical_and_the_seed_matters(roles):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = generalize("oversold_rebound", "ai", "role", placebo=40, seed=7)
        other = generalize("oversold_rebound", "ai", "role", placebo=40, seed=8)
    pd.testing.assert_frame_equal(again.placebo_events, roles.placebo_events)
    assert again.summary == roles.summary and again.placebo == roles.placebo
    assert not other.placebo_events["date"].equals(roles.placebo_events["date"])


def test_calendar_time_holds_every_open_event(roles):
    cal = roles.calendar
    day = roles.events["date"].iloc[0]
    after = cal.index[cal.index > day][0]
    assert cal.loc[after, "n_open"] >= 1
    assert cal["n_open"].max() >= 4  # 2025-01-27: four roles at once
    assert roles.calendar_time["n_days"] == cal["portfolio"].notna().sum()


@pytest.mark.parametrize("strategy", ["inference_pair", "inference_rotation"])
def test_thesis_two_runs_across_role_events(strategy):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = generalize(strategy, "ai", "role", placebo=5, seed=1)
    assert g.settings["horizon"] == 21 and len(g.events) == 19
    assert g.events["strategy_return"].notna().all()


def test_cli_json_csv_and_page(out_dir, tmp_path, capsys):
    csv = tmp_path / "events.csv"
    argv = ["generalize", "oversold_rebound", "--universe", "ai", "--by", "role", "--placebo", "10"]
    assert main([*argv, "--json", "--csv", str(csv)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"events", "summary", "placebo", "calendar_time", "html"} <= set(out)
    assert {"date", "group", "members", "start", "end", "group_return", "market_return", "strategy_return",
            "excess_market", "excess_group"} <= set(out["events"][0])  # fmt: skip
    assert {"n_events", "mean_excess_market", "median_excess_market", "hit_rate", "t_kp", "p_kp", "ci_low",
            "ci_high"} <= set(out["summary"])  # fmt: skip
    assert {"n", "mean", "p_value"} <= set(out["placebo"]) and out["placebo"]["n"] == 10
    assert {"alpha_annual", "t_alpha"} <= set(out["calendar_time"])
    table = pd.read_csv(csv)
    assert len(table) == out["summary"]["n_events"] == len(out["events"])
    assert table["members"].iloc[0].split() == out["events"][0]["members"]
    assert out["html"].endswith(".html") and "generalize-oversold_rebound-ai-role" in out["html"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["generalize", "buy_and_hold"], "no universe/event_date parameters"),
        (["generalize", "oversold_rebound", "--set", "event_date=2025-01-27"], "sets event_date per event"),
        (["generalize", "oversold_rebound", "--set", "hold_dayz=3"], "did you mean"),
        (["generalize", "oversold_rebound", "--k", "0"], "--k must be a positive"),
        (["generalize", "oversold_rebound", "--placebo", "-1"], "--placebo must be >= 0"),
        (["generalize", "oversold_rebound", "--csv", "/nonexistent/dir/x.csv"], "does not exist"),
        (["shocks", "--universe", "ai", "--by", "sector"], "cannot group by sector"),
        (["shocks", "--by", "role", "--min-members", "0"], "--min-members must be at least 1"),
    ],
)
def test_bad_input_is_one_line(out_dir, capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


# -- the scaled rule on constructed data ----------------------------------------------


def _frame(n=100, seed=3):
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2024-01-01", periods=n)
    group = pd.DataFrame({"a": rng.normal(0, 0.01, n), "b": rng.normal(0, 0.01, n)}, index=index)
    market = pd.Series(rng.normal(0, 0.002, n), index=index)
    counts = pd.DataFrame(5, index=index, columns=group.columns)
    return group, counts, market


def test_scaled_rule_flags_a_drop_beyond_k_sd_only_with_the_filters():
    group, counts, market = _frame()
    group.iloc[80, 0] = -0.09  # ~9 sd below a 1% daily sd
    found = shocks.scaled_shocks(group, counts, market)
    assert list(zip(found["group"], found["date"], strict=True)) == [("a", group.index[80])]
    row = found.iloc[0]
    assert row["sd"] == pytest.approx((group["a"] - market).iloc[80 - 63 : 80].std(ddof=1))
    market.iloc[80] = -0.035  # a market-wide sell-off is not a group shock
    assert shocks.scaled_shocks(group, counts, market).empty
    market.iloc[80] = 0.0
    counts.iloc[80, 0] = 2  # too few members that day
    assert shocks.scaled_shocks(group, counts, market).empty
    counts.iloc[80, 0] = 5
    assert shocks.scaled_shocks(group, counts, market, min_fall=0.10).empty


def test_scaled_rule_uses_no_later_data():
    group, counts, market = _frame()
    group.iloc[80, 0] = -0.09
    before = shocks.scaled_shocks(group, counts, market)
    group.iloc[81:, 0] = np.random.default_rng(0).normal(0, 0.2, len(group) - 81)  # wild future
    after = shocks.scaled_shocks(group, counts, market)
    pd.testing.assert_frame_equal(before.iloc[:1], after.iloc[:1])


def test_scaled_rule_needs_enough_history():
    group, counts, market = _frame(n=50)
    group.iloc[30, 0] = -0.2  # 30 days of history < SD_MIN_DAYS
    assert shocks.scaled_shocks(group, counts, market).empty
