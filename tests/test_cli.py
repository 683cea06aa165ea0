"""The `aishock` command: output shapes, and one-line errors with a non-zero exit."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from aishock.cli import main


def test_list_shows_every_strategy_with_parameter_defaults(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("oversold_rebound", "inference_rotation", "buy_and_hold"):
        assert f"{name}:" in out
    assert "top_k" in out and "= 8" in out


def test_run_json_prints_one_object_and_writes_its_files(out_dir, capsys):
    code = main(
        [
            "run",
            "oversold_rebound",
            "--start",
            "2025-01-02",
            "--end",
            "2025-04-30",
            "--set",
            "top_k=5",
            "--json",
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {
        *("strategy", "params", "start", "end", "metrics", "tearsheet", "equity_csv"),
        *("attribution", "intervals", "relative", "trades", "trades_csv", "run_page"),
    }
    assert out["strategy"] == "oversold_rebound" and out["params"]["top_k"] == 5
    assert (out["start"], out["end"]) == ("2025-01-02", "2025-04-30")
    assert set(out["metrics"]) == {
        *("total_return", "cagr", "sharpe", "sortino", "max_drawdown", "n_trades", "exposure")
    }
    assert out["relative"]["benchmark"] == "SPY" and -1 < out["relative"]["correlation"] < 1
    assert set(out["relative"]) == {"benchmark", "beta", "alpha", "correlation", "tracking_error"} | {
        "information_ratio",
        "up_capture",
        "down_capture",
    }
    trades = pd.read_csv(out["trades_csv"])
    assert out["trades"]["trades"] == (trades["status"] == "closed").sum() == 5  # 10 orders: 5 round trips
    assert out["trades"]["win_rate"] == pytest.approx((trades["pnl"] > 0).mean())
    assert out["metrics"]["n_trades"] == 10 and out["metrics"]["cagr"] is None  # < 1 year: not annualised
    assert -1 < out["metrics"]["total_return"] < 1
    assert "<!DOCTYPE html>" in Path(out["tearsheet"]).read_text()[:200]
    equity = pd.read_csv(out["equity_csv"], index_col=0, parse_dates=True)
    assert equity.index[0] == pd.Timestamp("2025-01-02") and equity.index[-1] == pd.Timestamp("2025-04-30")
    assert equity["equity"].iloc[-1] == pytest.approx(
        100_000 * (1 + out["metrics"]["total_return"]), rel=1e-6
    )


def test_run_table_output(out_dir, capsys):
    assert (
        main(["run", "buy_and_hold", "--set", "hold=QQQ", "--start", "2025-01-02", "--end", "2025-02-28"])
        == 0
    )
    out = capsys.readouterr().out
    assert "Sharpe ratio" in out and "Max drawdown" in out and "tearsheet:" in out
    # every figure rounded and carrying its unit (issue 18: "Total return [%] -3.131807")
    assert re.search(r"Total return +[+-]\d+\.\d{2}%\n", out), out
    assert re.search(r"Sharpe ratio +-?\d+\.\d{3}\n", out), out
    assert re.search(r"Orders +\d+\n", out) and re.search(r"Final equity +[\d,]+\.\d{2}\n", out), out
    assert not re.search(r"\d\.\d{5,}", out), out  # no unrounded number
    assert re.search(r"Trades: 1 closed|Trades: none closed \(1 open\)", out), out  # by trade, not by day
    # the mean of gross exposure over equity, not the tearsheet's "Days with a return" (QuantStats'
    # "Time in Market"): its name says which (issue 18: "Exposure" 5.29% beside "Time in Market" 6.0%)
    assert re.search(r"^Mean gross exposure +\d+\.\d{2}%\n", out, re.M) and "\nExposure" not in out, out


def test_sweep_prints_rounded_figures_with_units_and_whole_numbers_in_json(out_dir, capsys):
    argv = ["sweep", "oversold_rebound", "--grid", "hold_days=5,10", "--grid", "top_k=2,4"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    table = out.split("\n\n")[0]
    assert "Total return" in table and "%" in table and not re.search(r"\d\.\d{5,}", table), table
    assert re.search(r"^ +(5|10) +(2|4) +[+-]\d+\.\d{2}%", table, re.M), table  # parameters as given
    assert main([*argv, "--json"]) == 0
    best = json.loads(capsys.readouterr().out)["best"]
    assert isinstance(best["hold_days"], int) and isinstance(best["top_k"], int)
    assert isinstance(best["n_trades"], int) and isinstance(best["sharpe"], float)


@pytest.fixture
def bad_csv_dir(tmp_path):
    folder = tmp_path / "market"
    folder.mkdir()
    (folder / "SPY.csv").write_text("Date,Close\n2025-01-02,abc\n")
    return folder


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "buy_and_hold", "--set", "hold=ZZZZ"], "unknown ticker ZZZZ"),
        (["run", "oversold_rebond"], "did you mean 'oversold_rebound'"),
        (["run", "oversold_rebound", "--set", "topk=3"], "did you mean 'top_k'"),
        (["run", "oversold_rebound", "--set", "top_k"], "--set takes name=value"),
        (["run", "oversold_rebound", "--start", "2025-03-01", "--end", "2025-01-01"], "is after end"),
        (["run", "oversold_rebound", "--fees", "-0.001"], "fees must be"),
        (["run", "buy_and_hold", "--start", "2031-01-02", "--end", "2031-02-01"], "no prices between"),
        (["frobnicate"], "invalid choice"),
        (["--data", "/no/such/folder", "list"], "does not exist"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(out_dir, capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_malformed_csv_is_one_line_naming_the_file(out_dir, capsys, bad_csv_dir):
    assert main(["--data", str(bad_csv_dir), "run", "buy_and_hold"]) == 2
    err = capsys.readouterr().err
    assert str(bad_csv_dir / "SPY.csv") in err and "non-numeric close 'abc'" in err
    assert err.count("\n") == 1


def test_installed_command_exits_2_without_traceback(bad_csv_dir):
    exe = shutil.which("aishock", path=str(Path(sys.executable).parent))
    assert exe, "the aishock console script is not installed in this environment"
    proc = subprocess.run(
        [exe, "--data", str(bad_csv_dir), "run", "buy_and_hold"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("aishock: error: ") and proc.stderr.count("\n") == 1
    assert proc.stdout == ""


def run_json(argv, capsys) -> dict:
    assert main(["run", *argv, "--no-tearsheet", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_run_json_attribution_and_intervals_equal_the_engines(out_dir, capsys, cfg):
    import engine
    from engine.analytics.intervals import intervals
    from engine.backtest import attribution

    window = ["--start", "2024-10-01", "--end", "2025-06-30"]
    out = run_json(["inference_rotation", *window, "--set", "fraction=0.3", "--intervals"], capsys)
    result = engine.run("inference_rotation", {"fraction": 0.3}, "2024-10-01", "2025-06-30", config=cfg)
    att = out["attribution"]
    assert set(att) == {"convention", "windows", "brinson_fachler"}
    assert list(att["windows"]) == [w[0] for w in cfg.windows]
    table = attribution.contributions(result, config=cfg)
    rets = attribution.window_returns(result, config=cfg)
    for name, w in att["windows"].items():
        assert set(w) == {
            "start",
            "end",
            "days",
            "sum_of_daily_returns",
            "compounded_return",
            "contributions",
        }
        assert list(w["contributions"]) == list(table.index)
        assert w["contributions"] == pytest.approx(table[name].to_dict(), abs=1e-12)
        assert sum(w["contributions"].values()) == pytest.approx(w["sum_of_daily_returns"], abs=1e-12)
        assert w["days"] == rets.loc[name, "days"] and w["start"] == str(rets.loc[name, "start"].date())
    full = att["windows"]["full_span"]  # cut to the run: its compounded return is the run's
    assert (full["start"], full["end"]) == ("2024-10-01", "2025-06-30")
    assert full["compounded_return"] == pytest.approx(out["metrics"]["total_return"], rel=1e-9)
    bf = att["brinson_fachler"]
    assert bf["benchmark"] == "ai"
    frame = attribution.brinson_fachler(result, config=cfg)
    for name, w in bf["windows"].items():
        assert w["allocation"] + w["selection"] == pytest.approx(w["active"], abs=1e-12)
        assert w["active"] == pytest.approx(w["portfolio"] - w["benchmark"], abs=1e-15)
        assert w["allocation"] == pytest.approx(frame[name].loc[attribution.TOTAL, "allocation"], abs=1e-12)
        assert set(w["by_role"]) == set(frame.index) - {attribution.TOTAL}
        assert set(w["by_role"]["inference"]) == set(attribution.BF_MEASURES)
    iv = out["intervals"]
    engine_iv = intervals(result.returns.iloc[:, 0], periods=cfg.trading_days, rf=cfg.risk_free)
    assert set(iv) == set(engine_iv) and iv["block"] == engine_iv["block"]
    for stat in ("sharpe", "total_return", "max_drawdown"):
        assert iv[stat] == pytest.approx(engine_iv[stat], rel=1e-12)
    assert iv["sharpe"]["value"] == pytest.approx(out["metrics"]["sharpe"], rel=1e-9)
    assert iv["max_drawdown"]["value"] == pytest.approx(out["metrics"]["max_drawdown"], rel=1e-9)
    assert iv["sharpe"]["low"] < iv["sharpe"]["value"] < iv["sharpe"]["high"]
    assert (iv["method"], iv["n_boot"], iv["level"], iv["seed"]) == ("stationary bootstrap", 2000, 0.95, 0)


def test_run_json_brinson_fachler_only_for_the_rotation_strategies(out_dir, capsys):
    out = run_json(
        ["buy_and_hold", "--set", "hold=QQQ", "--start", "2025-01-02", "--end", "2025-02-28"], capsys
    )
    att = out["attribution"]
    assert "brinson_fachler" not in att
    assert att["windows"]["before_shock"]["start"] == "2025-01-02"
    assert list(att["windows"]["before_shock"]["contributions"]) == ["other", "cash & costs"]
    rotation = run_json(["inference_rotation", "--start", "2025-01-02", "--end", "2025-03-31"], capsys)
    assert set(rotation["attribution"]["brinson_fachler"]["windows"]) == {
        "before_shock",
        "shock_and_recovery",
        "full_span",
    }
    # the market-neutral pair is not measured against a long-only basket (issue 18)
    pair = run_json(["inference_pair", "--start", "2025-01-02", "--end", "2025-03-31"], capsys)
    assert "brinson_fachler" not in pair["attribution"]


def test_run_json_a_window_outside_the_run_and_a_short_run_are_null_not_errors(out_dir, capsys):
    out = run_json(
        ["buy_and_hold", "--set", "hold=SPY", "--start", "2025-06-02", "--end", "2025-06-06", "--intervals"],
        capsys,
    )
    before = out["attribution"]["windows"]["before_shock"]
    assert before["days"] == 0 and before["start"] is None and before["sum_of_daily_returns"] is None
    assert set(before["contributions"].values()) == {None}
    assert out["intervals"] == {"note": "intervals need at least 10 daily returns, the run has 5", "n_obs": 5}


def test_run_json_leaves_intervals_out_unless_asked(out_dir, capsys):
    import subprocess
    import sys

    out = run_json(
        ["buy_and_hold", "--set", "hold=SPY", "--start", "2025-01-02", "--end", "2025-03-31"], capsys
    )
    assert out["intervals"] == {"note": "not computed: add --intervals (stationary bootstrap)"}
    # a fresh process: `aishock run --json` without --intervals never imports arch (2 s)
    code = (
        "import sys, contextlib, io; from aishock.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['run', 'buy_and_hold', '--set', 'hold=SPY', '--start', '2025-01-02',"
        " '--end', '2025-03-31', '--no-tearsheet', '--json'])\n"
        "print('arch' in sys.modules, 'statsmodels' in sys.modules, 'plotly' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False", "False"]
