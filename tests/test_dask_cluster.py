"""`aishock sweep --executor dask --scheduler tcp://...` on a real cluster: a `dask scheduler`
and two `dask worker` processes started from this virtualenv on 127.0.0.1 (as on a real
cluster, they import the project themselves), the sweep's table equal to the local run's.

The processes run in their own process group and are killed in the fixture's finalizer,
whether the test passes, fails or the cluster never comes up. If this test process is itself
killed, the scheduler stops after --idle-timeout and the workers after --death-timeout."""

from __future__ import annotations

import json
import time
from collections import Counter

import pandas as pd
import pytest

pytest.importorskip("distributed")

from aishock.cli import main
from engine.errors import AishockError
from engine.sweeps import executors
from engine.sweeps.cluster import DASK, free_port, process_cluster

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


@pytest.fixture(scope="module")
def cluster():
    """The scheduler's address once it reports WORKERS workers (engine.sweeps.cluster);
    everything stopped afterwards, whether the tests pass or fail."""
    if not DASK.exists():
        pytest.skip(f"{DASK} not found: the dask command comes with dask[distributed]")
    try:
        with process_cluster(WORKERS, name="aishock-test", timeout=60) as (address, _):
            yield address
    except AishockError as e:
        pytest.fail(str(e))


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


def test_generalize_grid_on_a_real_cluster_equals_the_local_run(cluster, monkeypatch):
    """engine.generalize's runs in chunks of 50 on the cluster's two workers: the grid table,
    the per-event rows and the multiple-testing results equal the local run's."""
    import numpy as np

    from engine.events import generalize as gen

    monkeypatch.setattr(gen, "CHUNK_RUNS", 50)
    args = ("oversold_rebound", "ai", "role")
    kw = dict(grid={"top_k": [2, 0.5], "hold_days": [5, 10]}, placebo=3, n_boot=500)
    local = gen.generalize(*args, **kw)
    dask = gen.generalize(*args, **kw, executor="dask", scheduler=cluster)
    pd.testing.assert_frame_equal(local.grid, dask.grid, check_exact=False, rtol=1e-12, atol=1e-15)
    pd.testing.assert_frame_equal(local.events, dask.events, check_exact=False, rtol=1e-12, atol=1e-15)
    assert np.array_equal(local.stepm["rejected"], dask.stepm["rejected"])
    assert local.spa["pvalues"] == dask.spa["pvalues"]
