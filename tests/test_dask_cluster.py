"""`aishock sweep --executor dask --scheduler tcp://...` on a real cluster: a `dask scheduler`
and two `dask worker` processes started from this virtualenv on 127.0.0.1 (as on a real
cluster, they import the project themselves), the sweep's table equal to the local run's.

The processes run in their own process group and are killed in the fixture's finalizer,
whether the test passes, fails or the cluster never comes up. If this test process is itself
killed, the scheduler stops after --idle-timeout and the workers after --death-timeout."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("distributed")

from engine.cli import main
from engine.sweeps import executors

ROOT = Path(__file__).resolve().parents[1]
DASK = Path(sys.executable).parent / "dask"  # the venv's dask command, beside its python
WORKERS = 2
UNIVERSE = "NVDA,AVGO,AMD,MU,ANET,VST,CEG,GEV,NRG,PWR,SMCI,DELL"
SWEEP = [
    "sweep",
    "oversold_rebound",
    "--grid",
    "min_drop=0.04:0.08:0.02",
    "--grid",
    "hold_days=3,11,20",
    "--set",
    "mode=per_name",
    "--set",
    f"universe={UNIVERSE}",
    "--fill",
    "close",
    "--slippage",
    "0",
    "--warmup",
    "0",
    "--window",
    "2022-01-03:2025-12-31",
    "--json",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (the OS's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """Terminate `proc` and everything it started (its own process group), then reap it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # a nanny's worker left behind, or a hung process
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, request):
    """The scheduler's address once it reports WORKERS workers; everything stopped afterwards."""
    if not DASK.exists():
        pytest.skip(f"{DASK} not found: the dask command comes with dask[distributed]")
    from distributed import Client

    folder = tmp_path_factory.mktemp("dask-cluster")
    address = f"tcp://127.0.0.1:{free_port()}"
    procs: list[tuple[subprocess.Popen, Path]] = []

    def start(name: str, *args: str) -> None:
        log = folder / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [str(DASK), *args],
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the nanny's worker goes with it
            )
        procs.append((proc, log))

    def stop_all() -> None:
        for proc, _ in reversed(procs):  # workers first, then the scheduler
            _stop(proc)

    request.addfinalizer(stop_all)  # registered before anything starts: no leftovers
    port = address.rsplit(":", 1)[1]
    start(
        "scheduler",
        "scheduler",
        "--host", "127.0.0.1",
        "--port", port,
        "--no-dashboard",
        "--dashboard-address", "127.0.0.1:0",  # its HTTP server (health, metrics) on a free port
        "--idle-timeout", "600",
    )  # fmt: skip
    for i in range(WORKERS):
        start(
            f"worker-{i}",
            "worker",
            address,
            "--nworkers", "1",
            "--nthreads", "1",
            "--no-dashboard",
            "--name", f"aishock-test-{i}",
            "--local-directory", str(folder / f"worker-{i}"),
            "--death-timeout", "60",
        )  # fmt: skip

    def logs() -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}" for _, log in procs)

    try:
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(WORKERS, timeout=60)
    except Exception as e:
        dead = [log.stem for proc, log in procs if proc.poll() is not None]
        pytest.fail(f"the Dask cluster at {address} did not come up ({e}); exited: {dead}\n{logs()}")
    return address


def _sweep(argv: list[str], capsys) -> dict:
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def test_sweep_on_a_real_cluster_equals_the_local_run(cluster, tmp_path, capsys, monkeypatch):
    from distributed import Client, get_task_stream

    # 9 combinations in chunks of 2: five tasks, so both workers get some
    monkeypatch.setattr(executors, "MAX_CHUNK", 2)
    local = _sweep([*SWEEP, "--out", str(tmp_path / "local.parquet")], capsys)
    argv = [*SWEEP, "--executor", "dask", "--scheduler", cluster, "--out", str(tmp_path / "dask.parquet")]
    with Client(cluster, timeout="30s") as client:
        with get_task_stream(client) as stream:  # what the scheduler ran, from any client
            dask = _sweep(argv, capsys)
        names = {a: w["name"] for a, w in client.scheduler_info(n_workers=-1)["workers"].items()}
    a, b = pd.read_parquet(local["results"]), pd.read_parquet(dask["results"])
    assert len(a) == 9
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12, atol=1e-12)
    paths = ("results", "heatmap")
    assert {k: v for k, v in dask.items() if k not in paths} == {
        k: v for k, v in local.items() if k not in paths
    }
    chunks = Counter(names[t["worker"]] for t in stream.data if str(t["key"]).startswith("evaluate-"))
    assert sum(chunks.values()) == 5, stream.data
    assert sorted(chunks) == [f"aishock-test-{i}" for i in range(WORKERS)], chunks  # both worked


def test_an_unreachable_scheduler_is_one_line(capsys):
    argv = [*SWEEP, "--executor", "dask", "--scheduler", f"tcp://127.0.0.1:{free_port()}"]
    t0 = time.perf_counter()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("aishock: error: cannot reach the Dask scheduler at tcp://127.0.0.1:"), err
    assert err.count("\n") == 1 and time.perf_counter() - t0 < 60
