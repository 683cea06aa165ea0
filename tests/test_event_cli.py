"""`aishock event` and `aishock shocks` on the real snapshot: JSON and CSV shapes, figures
against the raw CSVs, timing, and one-line errors."""

from __future__ import annotations

import csv
import json
import re
import time
from pathlib import Path

import pytest
from raw_market import EVENT, SP500_FILE, ai_members, daily_returns, figures, market_dir

from aishock.cli import main

# The CSV's documented columns, in order (README "Event study").
CSV_COLUMNS = [
    "ticker",
    "security",
    "sector",
    "role",
    "status",
    "prev_close",
    "event_close",
    "event_return",
    "runup_ytd",
    "runup_recent",
    "ret_after_5d",
    "ret_after_20d",
    "ret_after_60d",
    "max_drawdown_after",
    "days_to_recover",
    "abnormal_return",
    "car_window",
    "beta",
]
SP500_MISSING = ["ANSS", "DFS", "FI", "HES", "IPG", "JNPR", "K", "MMC", "PARA", "WBA"]


def run_json(capsys, *argv) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_event_json_for_ai_matches_the_raw_csvs(out_dir, capsys, tmp_path):
    started = time.perf_counter()
    out = run_json(capsys, "event", EVENT, "--universe", "ai", "--json", "--csv", str(tmp_path / "ai.csv"))
    assert time.perf_counter() - started < 20  # seconds, loading included
    for key in ("date", "universe_size", "covered", "missing", "advancers", "decliners", "unchanged"):
        assert key in out
    assert (
        out["date"] == EVENT and out["universe_size"] == 35 and out["covered"] == 35 and out["missing"] == []
    )
    raw = {t: figures(t)["event_return"] for t in ai_members()}
    assert (out["advancers"], out["decliners"], out["unchanged"]) == (
        sum(r > 0 for r in raw.values()),
        sum(r < 0 for r in raw.values()),
        sum(r == 0 for r in raw.values()),
    )
    order = sorted(raw, key=lambda t: (raw[t], t))
    assert [b["ticker"] for b in out["bottom"]] == order[:5]
    assert [b["ticker"] for b in out["top"]] == order[::-1][:5]
    for item in out["bottom"] + out["top"]:
        assert item["return"] == pytest.approx(raw[item["ticker"]], rel=1e-12)
    assert set(out["groups"]) == {"universe", "role"}
    assert out["groups"]["role"]["power"]["n"] == 4 and out["groups"]["role"]["power"]["decliners"] == 4
    assert out["shock"]["detected"] is True
    assert out["benchmarks"]["SMH"]["event_return"] == pytest.approx(figures("SMH")["event_return"])
    page = Path(out["html"])  # a report set: event-<universe>-<date>-<key>/ holding the page
    assert page.parent.parent == out_dir and page.parent.name == page.stem and page.is_file()
    assert re.fullmatch(rf"event-ai-{EVENT}-[0-9a-f]{{12}}\.html", page.name)


def test_event_csv_has_the_documented_columns_and_raw_figures(out_dir, capsys, tmp_path):
    path = tmp_path / "sp500.csv"
    membership = str(market_dir() / SP500_FILE)
    started = time.perf_counter()
    assert main(["event", EVENT, "--universe", membership, "--csv", str(path)]) == 0
    assert time.perf_counter() - started < 30
    text = capsys.readouterr().out
    assert "members 503, covered 493, missing 10: ANSS (no data), DFS (no data)" in text
    assert "advancers 345, decliners 148, unchanged 0" in text
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == CSV_COLUMNS
        rows = list(reader)
    assert len(rows) == 503
    assert [r["ticker"] for r in rows if r["status"] == "no data"] == SP500_MISSING
    assert all(r["event_return"] == "" for r in rows if r["status"] != "ok")
    by_ticker = {r["ticker"]: r for r in rows}
    assert by_ticker["BRK-B"]["sector"] == "Financials" and by_ticker["NVDA"]["role"] == "training"
    for t in ("BRK-B", "NVDA", "VST", "AAPL", "KO"):
        raw = figures(t)
        assert float(by_ticker[t]["event_return"]) == pytest.approx(raw["event_return"], rel=1e-12)
        assert float(by_ticker[t]["runup_ytd"]) == pytest.approx(raw["runup_ytd"], rel=1e-12)
        expected_days = raw["days_to_recover"]
        assert by_ticker[t]["days_to_recover"] == ("" if expected_days is None else str(expected_days))


def test_window_given_with_a_space_or_an_equals_sign(out_dir, capsys):
    spaced = run_json(capsys, "event", EVENT, "--universe", "power", "--window", "-5:20", "--json")
    joined = run_json(capsys, "event", EVENT, "--universe", "power", "--window=-5:20", "--json")
    assert spaced["window"] == joined["window"] == [-5, 20]
    assert spaced["groups"] == joined["groups"]


def test_adjusted_model_is_the_return_minus_spy(out_dir, capsys, tmp_path):
    path = tmp_path / "power.csv"
    assert main(["event", EVENT, "--universe", "power", "--model", "adjusted", "--csv", str(path)]) == 0
    spy = daily_returns("SPY")[EVENT]
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            expected = daily_returns(row["ticker"])[EVENT] - spy
            assert float(row["abnormal_return"]) == pytest.approx(expected, rel=1e-10)


def test_shocks_finds_the_deepseek_day_and_not_the_april_sell_off(out_dir, capsys):
    out = run_json(capsys, "shocks", "--universe", "ai", "--json")
    assert [s["date"] for s in out["shocks"]] == [EVENT]
    wide = [s["date"] for s in out["market_wide"]]
    assert "2025-04-03" in wide and "2025-04-04" in wide
    for day in ("2025-01-27", "2025-04-03", "2025-04-04"):
        group = sum(daily_returns(t)[day] for t in ai_members()) / len(ai_members())
        spy = daily_returns("SPY")[day]
        row = next(s for s in out["shocks"] + out["market_wide"] if s["date"] == day)
        assert row["group_return"] == pytest.approx(group, rel=1e-10)
        assert row["market_return"] == pytest.approx(spy, rel=1e-10)
        assert (day == EVENT) == (group <= -0.07 and spy > -0.03)


def test_shocks_table_and_thresholds(out_dir, capsys):
    assert main(["shocks", "--universe", "ai", "--start", "2025-01-01", "--end", "2025-06-30"]) == 0
    text = capsys.readouterr().out
    assert "Sector-specific shocks" in text and "2025-01-27" in text and "2025-04-03" in text
    assert text.index("2025-01-27") < text.index("Market-wide") < text.index("2025-04-03")
    looser = run_json(capsys, "shocks", "--universe", "ai", "--max-market-drop", "0.06", "--json")
    assert "2025-04-03" in [s["date"] for s in looser["shocks"]]  # SPY fell 4.9% that day


@pytest.fixture
def empty_membership(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("Symbol,Security\n")
    return path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["event", "2025-01-25"],
            "(Saturday) is not a trading day; the nearest are 2025-01-24 and 2025-01-27",
        ),
        (["event", "2025-01-09"], "is not a trading day"),  # the unscheduled closure
        (["event", "2031-01-02"], "is outside the data (2020-01-02 .. 2025-12-31)"),
        (["event", "someday"], "is not a date"),
        (["event", EVENT, "--universe", "nuclear"], "unknown universe 'nuclear'"),
        (["event", EVENT, "--universe", "/no/such/members.csv"], "does not exist"),
        (["event", EVENT, "--window", "10:60"], "is not -BEFORE:AFTER"),
        (["event", EVENT, "--top", "0"], "--top must be at least 1"),
        (["shocks", "--universe", "nuclear"], "unknown universe 'nuclear'"),
        (["shocks", "--min-drop", "7"], "--min-drop must be a fraction"),
        (["shocks", "--start", "2025-03-01", "--end", "2025-01-01"], "is after --end"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(out_dir, capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_an_empty_universe_is_one_line(out_dir, capsys, empty_membership):
    for argv in (
        ["event", EVENT, "--universe", str(empty_membership)],
        ["shocks", "--universe", str(empty_membership)],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "the universe is empty" in err and err.count("\n") == 1


def test_a_membership_file_without_symbols_is_one_line(out_dir, capsys, tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("Name,Sector\nApple,IT\n")
    assert main(["event", EVENT, "--universe", str(path)]) == 2
    assert "no 'Symbol' column" in capsys.readouterr().err
