"""Report sets of `aishock run`: named by everything that determines them, written whole or not
at all (a killed run leaves no partial set and never touches an earlier one), a flat equity
gets its tearsheet, and `--no-tearsheet` leaves QuantStats out."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aishock.cli import main
from reports.figures import plotly_js_name

EXE = Path(sys.executable).parent / "aishock"
WINDOW = ["--start", "2025-01-02", "--end", "2025-03-31"]
BASE = ["run", "buy_and_hold", "--set", "hold=NVDA,AVGO", *WINDOW, "--no-tearsheet", "--json"]


def run_json(capsys, argv: list[str]) -> dict:
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


TABLES = ("equity", "orders", "trades", "weights")  # reports.artifacts.run_tables


def sets_in(folder: Path) -> dict[str, dict[str, bytes]]:
    """{set folder name: {file name: bytes}} of the visible entries of `folder`; asserts each
    visible entry is a complete set (its CSV tables and manifest, plus the tearsheet its manifest
    promises) and nothing else lies about."""
    out = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue  # a killed writer's temporary folder: not a set
        if entry.name == plotly_js_name():
            continue  # the folder's one copy of plotly.js, which the run pages load
        assert entry.is_dir(), f"stray file {entry.name}"
        files = {p.name: p.read_bytes() for p in entry.iterdir()}
        manifest = json.loads(files[f"{entry.name}.manifest.json"])
        wanted = {f"{entry.name}.{t}.csv" for t in TABLES} | {f"{entry.name}.manifest.json"}
        if manifest["tearsheet"]:  # the pages: the tearsheet and the run page
            wanted |= {f"{entry.name}.html", f"{entry.name}.run.html"}
            assert files[f"{entry.name}.html"].rstrip().endswith(b"</html>")
        assert set(files) == wanted, entry.name
        equity = pd.read_csv(entry / f"{entry.name}.equity.csv", index_col=0)
        assert len(equity) > 0 and equity["equity"].notna().all()
        out[entry.name] = files
    return out


# --- names ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def second_data(tmp_path_factory) -> Path:
    """The same prices in another folder."""
    from engine.config import load_config

    market = next(d for d in load_config().data_dirs if (d / "prices").is_dir())
    folder = tmp_path_factory.mktemp("data2")
    for t in ("SPY", "QQQ", "NVDA", "AVGO"):
        shutil.copy(market / "prices" / f"{t}.csv", folder / f"{t}.csv")
    return folder


def test_runs_differing_in_any_input_never_share_a_path(out_dir, capsys, second_data):
    variants = {
        "base": BASE,
        "window": [*BASE[:4], "--start", "2025-01-03", "--end", "2025-03-31", *BASE[8:]],
        "fees": [*BASE, "--fees", "0.001"],
        "slippage": [*BASE, "--slippage", "0"],
        "cash": [*BASE, "--cash", "50000"],
        "fill": [*BASE, "--fill", "close"],
        "warmup": [*BASE, "--warmup", "5"],
        "params": [*BASE, "--set", "rebalance_days=5"],
        "benchmark": [*BASE, "--benchmark", "QQQ"],
        "data folder": ["--data", str(second_data), *BASE],
        "tearsheet": [x for x in BASE if x != "--no-tearsheet"],
    }
    paths = {}
    for name, argv in variants.items():
        out = run_json(capsys, argv)
        paths[name] = Path(out["equity_csv"]).parent
    assert len(set(paths.values())) == len(paths), paths
    found = sets_in(out_dir)
    assert set(found) == {p.name for p in paths.values()}  # every set is still there, whole
    manifest = json.loads(found[paths["warmup"].name][f"{paths['warmup'].name}.manifest.json"])
    assert manifest["warmup"] == 5 and manifest["benchmark"] == "SPY" and manifest["costs"]["fill"] == "open"
    assert manifest["data"]["folders"] and manifest["equity_csv_sha256"]


def test_the_same_run_twice_keeps_one_untouched_set(out_dir, capsys):
    first = run_json(capsys, BASE)
    folder = Path(first["equity_csv"]).parent
    stamps = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    time.sleep(0.01)
    second = run_json(capsys, BASE)
    assert second == first
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == stamps
    assert len(sets_in(out_dir)) == 1


def test_a_set_missing_a_file_is_replaced_whole(out_dir, capsys):
    first = run_json(capsys, BASE)
    csv = Path(first["equity_csv"])
    body = csv.read_bytes()
    csv.unlink()
    assert run_json(capsys, BASE) == first
    assert csv.read_bytes() == body and len(sets_in(out_dir)) == 1
    assert not [p for p in out_dir.iterdir() if p.name.startswith(".")]


# --- a killed run ---------------------------------------------------------------------------------


def test_a_run_killed_at_any_point_leaves_only_complete_sets(tmp_path):
    """Property: `aishock run` killed with SIGKILL after a random delay (seeded; spread over
    the whole run, from start-up to the last file) leaves the reports folder holding only
    complete sets, and every earlier set byte-for-byte as it was."""
    out = tmp_path / "out"
    env = {**os.environ, "AISHOCK_REPORTS": str(out), "AISHOCK_OFFLINE": "1"}

    def argv(k: int) -> list[str]:  # a different run each time: a new set if it finishes
        end = (pd.Timestamp("2025-03-03") + pd.offsets.BDay(k)).date().isoformat()
        return [str(EXE), "run", "buy_and_hold", "--set", "hold=NVDA", "--start", "2025-01-02", "--end", end]

    t0 = time.monotonic()
    done = subprocess.run(argv(0), env=env, capture_output=True, text=True, timeout=300)
    full = time.monotonic() - t0
    assert done.returncode == 0, done.stderr
    earlier = sets_in(out)
    assert len(earlier) == 1
    rng = random.Random(20261123)
    delays = sorted(rng.uniform(0.2, full * 1.1) for _ in range(6))
    finished = 0
    for k, delay in enumerate(delays, start=1):
        proc = subprocess.Popen(argv(k), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
        finished += proc.returncode == 0
        now = sets_in(out)
        for name, files in earlier.items():
            assert now[name] == files, f"earlier set {name} changed (kill after {delay:.2f} s)"
        assert len(now) - len(earlier) in (0, 1)
        earlier = now
    assert finished < len(delays)  # at least one run was really killed mid-way


# --- a flat equity --------------------------------------------------------------------------------


def test_a_strategy_that_never_trades_gets_its_report(out_dir, capsys):
    """oversold_rebound over a calm spring: no shock, no trade, a flat equity. QuantStats cannot
    regress a flat series on SPY; the tearsheet is drawn without the benchmark and says so."""
    out = run_json(
        capsys, ["run", "oversold_rebound", "--start", "2024-03-01", "--end", "2024-05-31", "--json"]
    )
    assert out["metrics"]["n_trades"] == 0 and out["metrics"]["total_return"] == 0
    assert out["metrics"]["sharpe"] is None  # NaN is null, never NaN in the JSON
    page = Path(out["tearsheet"]).read_text()
    assert "never moved over this window" in page and "without the benchmark SPY" in page
    assert len(sets_in(out_dir)) == 1


@pytest.mark.parametrize(
    ("strategy_returns", "benchmark_returns", "note"),
    [
        (np.zeros(40), None, "The strategy's equity never moved"),
        (np.full(40, 0.001), None, "The strategy's equity never moved"),
        (np.full(40, -0.002), None, "The strategy's equity never moved"),
        (None, np.zeros(40), "The benchmark SPY never moved"),
    ],
)
def test_flat_series_give_a_tearsheet_with_a_note(tmp_path, strategy_returns, benchmark_returns, note):
    from reports.tearsheet import write_tearsheet

    idx = pd.bdate_range("2025-01-02", periods=40)
    noise = np.random.default_rng(3).normal(0, 0.01, 40)
    strategy = pd.Series(noise if strategy_returns is None else strategy_returns, idx)
    bench = pd.Series(noise if benchmark_returns is None else benchmark_returns, idx)
    path = write_tearsheet(strategy, tmp_path / "t.html", "flat", bench, "SPY")
    text = path.read_text()
    assert note in text and text.rstrip().endswith("</html>")
    assert [p.name for p in tmp_path.iterdir()] == ["t.html"]


# --- --no-tearsheet -------------------------------------------------------------------------------


def test_no_tearsheet_writes_csv_and_manifest_without_importing_quantstats(tmp_path):
    script = (
        "import json, sys\n"
        "from aishock.cli import main\n"
        "code = main(['run', 'buy_and_hold', '--set', 'hold=SPY', '--start', '2025-01-02', "
        "'--end', '2025-02-28', '--no-tearsheet', '--json'])\n"
        "assert code == 0\n"
        "print(json.dumps(sorted(m for m in ('quantstats', 'reports.tearsheet') if m in sys.modules)))\n"
    )
    env = {**os.environ, "AISHOCK_REPORTS": str(tmp_path / "out"), "AISHOCK_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert json.loads(lines[-1]) == []  # neither module was imported
    out = json.loads("\n".join(lines[:-1]))
    assert out["tearsheet"] is None
    (folder,) = (tmp_path / "out").iterdir()
    kinds = sorted(p.name.split(".", 1)[1] for p in folder.iterdir())
    assert kinds == sorted([*(f"{t}.csv" for t in TABLES), "manifest.json"])
    assert json.loads(next(folder.glob("*.manifest.json")).read_text())["tearsheet"] is False


def test_no_tearsheet_table_output_says_so(out_dir, capsys):
    assert main(["run", "buy_and_hold", "--set", "hold=SPY", *WINDOW, "--no-tearsheet"]) == 0
    assert "tearsheet: none (--no-tearsheet)" in capsys.readouterr().out


def test_the_sets_tables_hold_the_runs_exposure_orders_trades_and_weights(tmp_path):
    import engine
    from reports.artifacts import write_run

    r = engine.run("oversold_rebound", start="2025-01-02", end="2025-06-30")
    paths = write_run(r, tmp_path, r.prices, tearsheet=False)
    equity = pd.read_csv(paths["equity_csv"], index_col=0, parse_dates=True)
    assert list(equity.columns) == ["equity", "long", "short", "gross", "net", "names", "turnover"]
    pd.testing.assert_frame_equal(
        equity.drop(columns="equity"), r.exposure, check_names=False, check_dtype=False, rtol=1e-9
    )
    trades = pd.read_csv(paths["trades_csv"])
    assert len(trades) == len(r.trades) > 0
    np.testing.assert_allclose(trades["pnl"], r.trades["pnl"], rtol=1e-9)
    orders = pd.read_csv(paths["orders_csv"])
    assert list(orders.columns) == ["date", "ticker", "side", "shares", "price", "value", "fees", "impact"]
    assert len(orders) == r.stats.iloc[0]["n_trades"]
    weights = pd.read_csv(paths["weights_csv"], index_col=0)
    assert set(weights.columns) == set(trades["ticker"])
