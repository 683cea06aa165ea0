"""Hostile use of the command line (issue 15): every failure is one line, never a traceback or
a hang; no option is silently ignored; grids are counted before they are built and count each
distinct value once; each metric's direction decides what "best" means; nothing overflows
into a NaN result with exit status 0."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engine
from aishock.cli import main
from engine import AishockError, Costs
from engine.strategy import params, registry

AISHOCK = Path(sys.executable).parent / "aishock"
WINDOW = ["--start", "2025-01-02", "--end", "2025-03-31"]
SWEEP_WINDOW = ("2024-10-01", "2025-06-30")


def one_line(capsys, argv: list[str], code: int = 2) -> str:
    got = main(argv)
    err = capsys.readouterr().err
    assert got == code, err
    assert err.startswith("aishock: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


def run_json(capsys, argv: list[str]) -> dict:
    code = main(["run", *argv, "--no-tearsheet", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def cli(argv: list[str], env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """The installed command in a process of its own, killed after `timeout` seconds."""
    return subprocess.run(
        [str(AISHOCK), *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "AISHOCK_OFFLINE": "1", **(env or {})},
    )


@pytest.fixture
def no_work(monkeypatch):
    """Fails the test if a command starts its real work (a backtest, a sweep, a grid being
    built, a study, a generalisation)."""
    import engine.events.generalize as generalization
    import engine.events.study as study
    import engine.sweeps.grid as search

    def fail(*a, **k):
        pytest.fail("the command started working before refusing its options")

    monkeypatch.setattr(engine, "run", fail)
    monkeypatch.setattr(search, "combinations", fail)
    monkeypatch.setattr(search, "load_prices", fail)
    monkeypatch.setattr(params, "grid", fail)
    monkeypatch.setattr(study, "study", fail)
    monkeypatch.setattr(generalization, "generalize", fail)


# --- the last-resort handler -------------------------------------------------------------------


def test_an_unexpected_exception_is_one_line_with_its_traceback_saved(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def broken():
        raise ZeroDivisionError("division by zero\nsecond line")

    monkeypatch.setattr(registry, "load_builtin", broken)
    err = one_line(capsys, ["list"], code=1)
    assert err.startswith("aishock: error: internal error in list: ZeroDivisionError: division by zero;")
    assert err.endswith("; please report it") and "second line" not in err
    saved = Path(err.split("traceback saved to ")[1].split(";")[0])
    assert saved.parent == tmp_path and saved.name.startswith("aishock-traceback-")
    text = saved.read_text()
    assert text.startswith("aishock list\n") and "Traceback" in text and "in broken" in text


def test_an_unexpected_exception_in_the_installed_command_is_one_line(tmp_path):
    code = (
        "import sys, engine.strategy.registry as r\n"
        "from aishock.cli import main\n"
        "def broken(): raise KeyError('no such thing')\n"
        "r.load_builtin = broken\n"
        "sys.exit(main(['list']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("aishock: error: internal error in list: KeyError: 'no such thing'; ")
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert len(list(tmp_path.glob("aishock-traceback-*.txt"))) == 1


@pytest.mark.parametrize(
    ("raised", "message"),
    [
        (OSError(errno.ENOSPC, "No space left on device", "/full/disk/x.html"), "free some space"),
        (OSError(errno.EDQUOT, "Disk quota exceeded", "/full/disk/x.html"), "free some space"),
        (OSError(errno.ENAMETOOLONG, "File name too long", "x" * 306), "use a shorter label or path"),
        (PermissionError(errno.EACCES, "Permission denied", "/locked/x"), "choose a place you can write"),
        (MemoryError(), "ran out of memory"),
    ],
)
def test_what_the_machine_refuses_is_one_line_and_exit_2(capsys, monkeypatch, no_work, raised, message):
    """A full disk (ENOSPC) during `generalize`, a file name too long, no permission, no memory."""
    import engine.events.generalize as generalization

    def refuse(*a, **k):
        raise raised

    monkeypatch.setattr(generalization, "generalize", refuse)
    err = one_line(capsys, ["generalize", "oversold_rebound", "--placebo", "0"])
    assert message in err
    assert len(err) < 400  # a 306-character name is shortened, not pasted whole


LONG_UNIVERSE = ",".join(["NVDA", "AVGO", "AMD", "MU", "ANET", "VST", "CEG", "GEV", "NRG", "PWR"] * 8)[:306]


@pytest.mark.parametrize(
    "argv",
    [
        ["shocks", "--universe", LONG_UNIVERSE],
        ["event", "2025-01-27", "--universe", LONG_UNIVERSE],
    ],
)
def test_a_306_character_label_runs_or_is_one_line(out_dir, capsys, argv):
    assert len(LONG_UNIVERSE) == 306
    code = main(argv)
    err = capsys.readouterr().err
    assert code in (0, 2) and "Traceback" not in err, err
    if code == 2:
        assert err.startswith("aishock: error: ") and err.count("\n") == 1


# --- ticker-like parameters --------------------------------------------------------------------


def test_a_market_parameter_is_spelled_like_a_universe_ticker(out_dir, capsys):
    base = ["oversold_rebound", *WINDOW]
    want = run_json(capsys, base)
    for spelling in ("spy", " SPY ", "Spy"):
        got = run_json(capsys, [*base, "--set", f"market={spelling}"])
        assert got["params"]["market"] == "SPY"
        assert got["metrics"] == want["metrics"]


def test_ticker_parameters_are_normalised_from_python_too():
    from strategies.oversold_rebound import Params

    assert params.make(Params, {"market": " brk.b "}).market == "BRK-B"
    with pytest.raises(AishockError, match=r"parameter market='S&P' is not a ticker symbol"):
        params.make(Params, {"market": "S&P"})


@pytest.mark.parametrize("benchmark", ["spy", " spy ", "brk.b"])
def test_a_benchmark_is_spelled_like_a_universe_ticker(out_dir, capsys, benchmark):
    run_json(capsys, ["buy_and_hold", *WINDOW, "--benchmark", benchmark])


def test_a_configured_benchmark_is_spelled_like_a_ticker(tmp_path):
    from engine.config import load_config

    toml = tmp_path / "pyproject.toml"
    toml.write_text('[tool.aishock]\nbenchmark = " spy "\n')
    assert load_config(pyproject=toml).benchmark == "SPY"
    toml.write_text('[tool.aishock]\nbenchmark = "S&P 500"\n')
    with pytest.raises(AishockError, match="is not a ticker symbol; fix the file"):
        load_config(pyproject=toml)


# --- grids counted before they are built ----------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ("0:nan:1", "range '0:nan:1' must be finite numbers"),
        ("0:inf:1", "range '0:inf:1' must be finite numbers"),
        ("nan:5:1", "must be finite numbers"),
        ("1:5:0", "needs step > 0"),
        ("1:5:-1", "needs step > 0"),
        ("5:1:1", "stop >= start"),
        ("1:1e15:1", "1,000,000,000,000,000 combinations"),
        ("0:1e300:1e-300", "above the limit of 2,000,000 combinations"),
    ],
)
def test_a_grid_range_is_refused_before_any_array_is_built(out_dir, capsys, no_work, values, message):
    for extra in ([], ["--walk-forward", "2"]):
        err = one_line(capsys, ["sweep", "oversold_rebound", "--grid", f"top_k={values}", *extra])
        assert message in err


def test_a_range_is_counted_exactly_and_reads_like_the_arange_it_replaces():
    for a, b, step in [
        (0.03, 0.12, 0.01),
        (1, 30, 1),
        (0.5, 2.0, 0.25),
        (10, 40, 10),
        (0, 1, 0.1),
        (3, 3, 1),
    ]:
        r = params.Range(a, b, step)
        want = np.round(np.arange(a, b + step / 2, step), 10).tolist()
        assert len(r) == r.size == len(want) and list(r) == pytest.approx(want)
        assert r[-1] == r[len(r) - 1] and r[1:3] == list(r)[1:3]
    assert all(isinstance(v, int) for v in params.Range(1, 30, 1))
    assert params.Range(0, 1e300, 1e-300).size > 10**600  # counted, never built
    assert params.count(params.Range(0, 1e15, 1)) == 10**15 + 1


def test_the_python_api_counts_a_range_before_building_it(cfg, no_work):
    from engine.sweeps.grid import sweep

    with pytest.raises(AishockError, match="above the limit of 2,000,000 combinations"):
        sweep(
            "oversold_rebound", {"top_k": params.Range(1, 1e15, 1)}, SWEEP_WINDOW, progress=False, config=cfg
        )


# --- duplicate grid values -----------------------------------------------------------------------


def test_repeated_values_are_one_value_each():
    from strategies.oversold_rebound import Params

    assert params.distinct(Params, "top_k", ["3", "3", 5, 5.0]) == ([3, 5], ["3", 5.0])
    assert params.distinct(Params, "exit_on_recovery", ["true", "True", "1", "false"]) == (
        [True, False],
        ["True", "1"],
    )
    assert params.distinct(Params, "universe", ["power", "POWER", " Power "]) == (
        ["power"],
        ["POWER", " Power "],
    )
    assert params.distinct(Params, "universe", ["NVDA,brk.b", "nvda, BRK-B"])[0] == ["NVDA,brk.b"]
    assert params.distinct(Params, "universe", ["a.csv", "A.csv"])[0] == [
        "a.csv",
        "A.csv",
    ]  # paths: as written
    assert params.distinct(Params, "market", ["SPY", "spy", "QQQ"]) == (["SPY", "QQQ"], ["spy"])
    assert params.distinct(Params, "mode", ["basket", "basket"]) == (["basket"], ["basket"])


def test_a_repeated_grid_value_is_not_a_second_trial(out_dir, capsys):
    base = ["sweep", "buy_and_hold", "--max-gross", "2", "--window", "2025-01-02:2025-06-30", "--json"]
    assert main([*base, "--grid", "weight=1,2"]) == 0
    want = json.loads(capsys.readouterr().out)
    assert main([*base, "--grid", "weight=1,1.0,2,2"]) == 0
    captured = capsys.readouterr()
    got = json.loads(captured.out)
    assert got["trials"] == want["trials"] == 2
    assert got["dsr"] == want["dsr"] and got["pbo"] == want["pbo"]
    assert captured.err.count("aishock: note: --grid weight: 2 repeated value(s) dropped (1.0, 2)") == 1
    assert got["notes"] and not want["notes"]


# --- each metric's direction -------------------------------------------------------------------


@pytest.fixture(scope="module")
def weights_sweep(cfg):
    """buy_and_hold at weights 0.5, 1 and 2: the lowest weight has the lowest volatility and fees."""
    from engine.sweeps.grid import sweep

    def run(metric):
        return sweep(
            "buy_and_hold",
            {"weight": [1.0, 0.5, 2.0]},
            ("2024-07-01", "2025-06-30"),
            costs=Costs(max_gross=2),
            metric=metric,
            progress=False,
            config=cfg,
        )

    return run


@pytest.mark.parametrize("metric", ["volatility", "fees_paid", "turnover"])
def test_the_best_of_a_lower_is_better_metric_is_the_lowest(weights_sweep, metric):
    result = weights_sweep(metric)
    assert result.better == -1
    assert result.best[metric] == result.table[metric].min() < result.table[metric].max()
    assert result.best["weight"] == 0.5


def test_the_best_max_drawdown_is_the_smallest_loss(weights_sweep):
    result = weights_sweep("max_drawdown")
    assert (result.table["max_drawdown"] < 0).all()  # stored as a negative fraction
    assert result.best["max_drawdown"] == result.table["max_drawdown"].max() and result.best["weight"] == 0.5


def test_pbo_ranks_by_the_metric_in_its_direction(weights_sweep):
    from engine.analytics import run_stats
    from engine.analytics.overfit import pbo_cscv

    result = weights_sweep("volatility")
    want = pbo_cscv(result.returns.to_numpy(), 16, run_stats.ranking("volatility"))[0]
    assert result.pbo == want == 0.0  # the lowest volatility in sample is the lowest out of sample
    fees = weights_sweep("fees_paid")
    assert np.isnan(fees.pbo) and "daily returns do not give" in fees.pbo_note


def test_a_metric_without_a_direction_is_refused(out_dir, capsys, no_work):
    err = one_line(capsys, ["sweep", "oversold_rebound", "--grid", "top_k=3,5", "--metric", "exposure"])
    assert "metric 'exposure' has no better direction" in err


def test_an_isolated_low_is_an_isolated_peak_of_a_lower_is_better_metric():
    from engine.sweeps import guards

    table = pd.DataFrame({"x": [1, 2, 3, 4, 5, 6], "volatility": [0.5, 0.5, 0.1, 0.5, 0.5, 0.5]})
    assert any("isolated peak" in w for w in guards.warnings_for(table, ["x"], "volatility", 2))
    plateau = table.assign(volatility=[0.5, 0.11, 0.1, 0.105, 0.5, 0.5])
    assert not any("isolated peak" in w for w in guards.warnings_for(plateau, ["x"], "volatility", 2))


def test_walk_forward_chooses_the_lowest_volatility(cfg):
    from engine.sweeps.walkforward import walk_forward

    wf = walk_forward(
        "buy_and_hold",
        {"weight": [2.0, 0.5, 1.0]},
        ("2024-01-02", "2025-06-30"),
        folds=2,
        metric="volatility",
        costs=Costs(max_gross=2),
        config=cfg,
    )
    assert list(wf.folds["weight"]) == [0.5, 0.5]


def test_the_sweep_table_lists_the_lowest_volatility_first(out_dir, capsys):
    argv = ["sweep", "buy_and_hold", "--grid", "weight=2,0.5,1", "--max-gross", "2", "--metric", "volatility"]
    assert main([*argv, "--window", "2025-01-02:2025-06-30"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split()[0] == "0.5"


# --- seeds, dates, placebo ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["generalize", "oversold_rebound", "--seed", "-1"], "--seed must be a whole number >= 0, got -1"),
        (
            ["generalize", "oversold_rebound", "--placebo", "1000000000"],
            "--placebo must be >= 0 and at most 10,000 replays of each event date",
        ),
        (["generalize", "oversold_rebound", "--placebo", "-5"], "--placebo must be >= 0 and at most 10,000"),
    ],
)
def test_seeds_and_placebo_counts_are_checked_up_front(out_dir, capsys, no_work, argv, message):
    assert message in one_line(capsys, argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "buy_and_hold", "--start", "1600-01-01", "--end", "2020-03-31", "--no-tearsheet"],
        ["run", "buy_and_hold", "--start", "1500-01-01", "--end", "1600-01-01", "--no-tearsheet"],
        [
            "sweep",
            "buy_and_hold",
            "--grid",
            "weight=1,2",
            "--max-gross",
            "2",
            "--window",
            "1600-01-01:2020-06-30",
        ],
        ["shocks", "--start", "1600-01-01", "--end", "2020-06-30"],
        ["event", "1600-01-01"],
    ],
)
def test_dates_before_1677_run_or_are_one_line(out_dir, capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err
    assert code in (0, 2) and "Traceback" not in err, err
    if code == 2:
        assert err.startswith("aishock: error: ") and err.count("\n") == 1


# --- options that would be ignored ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "buy_and_hold", "--intervals"], "--intervals only applies to --json"),
        (["shocks", "--k", "3"], "--k only applies with --by"),
        (["shocks", "--min-members", "2"], "--min-members only applies with --by"),
        (["shocks", "--min-fall", "0.05", "--k", "3"], "--k, --min-fall only apply with --by"),
        (["shocks", "--by", "role", "--min-drop", "0.05"], "--min-drop is the plain scan's fixed fall"),
        (["event", "2025-01-27", "--model", "adjusted", "--estimation", "100"], "--estimation only applies"),
    ],
)
def test_an_option_that_would_be_ignored_is_refused(out_dir, capsys, no_work, monkeypatch, argv, message):
    import aishock.cli.shocks as shocks

    monkeypatch.setattr(shocks, "load_universe", lambda *a, **k: pytest.fail("the scan started"))
    assert message in one_line(capsys, argv)


def test_the_options_each_scan_uses_still_work(out_dir, capsys):
    for argv in (
        ["shocks", "--min-drop", "0.05", "--json"],
        ["shocks", "--by", "role", "--k", "3", "--min-members", "2", "--json"],
        ["event", "2025-01-27", "--universe", "power", "--model", "market", "--estimation", "100", "--json"],
    ):
        assert main(argv) == 0, capsys.readouterr().err
        out = json.loads(capsys.readouterr().out)
        assert (
            out.get("min_drop", 0.05) == 0.05
            and out.get("k", 3) == 3
            and out.get("model", "market") == "market"
        )


# --- Python warnings ---------------------------------------------------------------------------


def _warn_then_list(original):
    def load():
        for _ in range(2):
            warnings.warn("a library changes its mind\n  in two lines", FutureWarning, stacklevel=2)
        warnings.warn("invalid value encountered in divide", RuntimeWarning, stacklevel=2)
        return original()

    return load


def test_python_warnings_become_aishock_warning_lines(capsys, monkeypatch):
    monkeypatch.setattr(registry, "load_builtin", _warn_then_list(registry.load_builtin))
    assert main(["list"]) == 0
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "aishock: warning: a library changes its mind in two lines",
        "aishock: warning: invalid value encountered in divide",
    ]


def test_the_installed_command_prints_no_raw_warning():
    code = (
        "import sys, warnings, engine.strategy.registry as r\n"
        "from aishock.cli import main\n"
        "original = r.load_builtin\n"
        "def load():\n"
        "    warnings.warn('old spelling', FutureWarning)\n"
        "    warnings.warn('old spelling', FutureWarning)\n"
        "    return original()\n"
        "r.load_builtin = load\n"
        "sys.exit(main(['list']))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "aishock: warning: old spelling\n"


# --- overflow ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cash", ["1e308", "1e16"])
def test_a_cash_that_could_overflow_is_refused(out_dir, capsys, no_work, cash):
    err = one_line(capsys, ["run", "buy_and_hold", "--cash", cash, "--max-gross", "2"])
    assert "init_cash must be a positive number up to 1e+15" in err


def test_the_largest_cash_runs(out_dir, capsys):
    out = run_json(
        capsys, ["buy_and_hold", *WINDOW, "--cash", "1e15", "--max-gross", "2", "--set", "weight=2"]
    )
    assert np.isfinite(out["metrics"]["total_return"])


def test_equity_that_overflows_is_refused_not_reported_as_nan(cfg):
    from engine.sim.simulate import simulate

    prices = engine.load_prices(["SPY"], end="2025-03-31", config=cfg)
    costs = Costs(max_gross=2)
    object.__setattr__(costs, "init_cash", 1e308)  # past the check, as a caller could
    w = pd.DataFrame(np.nan, index=prices.index, columns=pd.MultiIndex.from_tuples([(0, "SPY")]))
    w.iloc[-30] = 2.0
    with pytest.raises(AishockError, match="numbers too large to represent"):
        simulate(prices, w, costs)


# --- Dask scheduler addresses ------------------------------------------------------------------


@contextlib.contextmanager
def listener(send: bytes | None, close: bool = False):
    """A TCP server on 127.0.0.1 that accepts every connection, sends `send` (if any) and then
    says nothing more until the block ends (or hangs up at once with `close`); yields its
    address."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()
    held = []

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)
            if send:
                with contextlib.suppress(OSError):
                    conn.sendall(send)
            if close:
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        server.close()


DASK_SWEEP = ["sweep", "oversold_rebound", "--grid", "top_k=3,5", "--window", "2025-01-02:2025-03-31"]


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("tcp://", "has no host"),
        ("foo", "has no port number"),
        ("tcp://host:notaport", "has no port number"),
        ("tcp://127.0.0.1:0", "has no port number"),
        ("tcp://127.0.0.1:99999", "has no port number"),
        ("http://127.0.0.1:8786", "unknown protocol 'http'"),
        ("tcp://:8786", "has no host"),
    ],
)
def test_a_malformed_scheduler_address_is_refused_up_front(out_dir, capsys, no_work, address, message):
    err = one_line(capsys, [*DASK_SWEEP, "--executor", "dask", "--scheduler", address])
    assert message in err and "give it as tcp://HOST:PORT" in err


GARBAGE_FRAME = b"\x10\x00\x00\x00\x00\x00\x00\x00" + b"\x00" * 16  # a plausible length, then zeros


@pytest.mark.parametrize(
    ("send", "close", "message"),
    [
        (None, False, "accepted the connection but did not answer within"),
        (None, True, "is not a Dask scheduler"),
        (b"\x2a\x00\x00\x00", True, "is not a Dask scheduler"),  # half a length, then it hangs up
        (b"\xff" * 64, False, "is not a Dask scheduler"),  # read as a length: 2**64 - 1 bytes
        (b"SSH-2.0-OpenSSH_9.6\r\n", False, "is not a Dask scheduler"),
        (GARBAGE_FRAME, False, "is not a Dask scheduler"),
    ],
)
def test_a_peer_that_is_not_a_dask_scheduler_is_refused_within_the_deadline(send, close, message):
    from engine.sweeps import executors

    with listener(send, close) as address:
        t0 = time.perf_counter()
        with pytest.raises(AishockError, match=message):
            executors.probe(address, timeout=2)
        assert time.perf_counter() - t0 < 5


@pytest.mark.parametrize(
    ("send", "message"),
    [(None, "did not answer within 10 s"), (b"\xff" * 64, "is not a Dask scheduler")],
)
def test_the_sweep_command_fails_in_one_line_on_a_silent_or_foreign_peer(tmp_path, send, message):
    """The real command, in its own process with a hard limit: it used to hang for 140 s on a
    silent peer, and to try to allocate 3 EiB on a foreign one."""
    with listener(send) as address:
        t0 = time.perf_counter()
        try:
            proc = cli(
                [*DASK_SWEEP, "--executor", "dask", "--scheduler", address],
                env={"AISHOCK_REPORTS": str(tmp_path)},
                timeout=45,
            )
        except subprocess.TimeoutExpired:
            pytest.fail("the sweep still waited after 45 s")
        took = time.perf_counter() - t0
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("aishock: error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert message in proc.stderr and took < 40


def test_a_scheduler_without_workers_is_one_line_after_the_deadline(out_dir, capsys):
    from engine.sweeps.cluster import DASK, process_cluster

    if not DASK.exists():
        pytest.skip(f"{DASK} not found: the dask command comes with dask[distributed]")
    with process_cluster(0, timeout=60) as (address, _):
        t0 = time.perf_counter()
        err = one_line(capsys, [*DASK_SWEEP, "--executor", "dask", "--scheduler", address])
        assert time.perf_counter() - t0 < 40
    assert f"the Dask scheduler at {address} has no workers after 10 s" in err


def test_a_real_scheduler_passes_the_probe():
    from engine.sweeps import executors
    from engine.sweeps.cluster import DASK, process_cluster

    if not DASK.exists():
        pytest.skip(f"{DASK} not found: the dask command comes with dask[distributed]")
    with process_cluster(0, timeout=60) as (address, _):
        executors.probe(address, timeout=5)
        executors.probe(address.replace("tcp://", ""), timeout=5)  # the scheme is optional
