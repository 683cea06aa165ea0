"""Dask executor: the same sweeps on a LocalCluster of 1 and of 2 worker processes.

Run: .venv/bin/python benchmarks/dask_scaling.py
Two jobs on the compiled engine: (1) the issue's per-name job on a 100,000-combination grid
(chunks of 250; each worker runs its chunk on one thread); (2) 64 combinations of
oversold_rebound's basket mode (chunks of 4). Prints a markdown table: wall
time with and without cluster start-up, the speed-up of 2 workers over 1, and whether the
results equal the local run exactly.
"""

from __future__ import annotations

import time

import numpy as np

import engine
from engine.sweeps.search import sweep

JOBS = {
    "per-name job, 100,000 combinations": dict(
        strategy="oversold_rebound",
        grid={"min_drop": [round(0.0002 * i, 4) for i in range(1, 1001)], "hold_days": list(range(1, 101))},
        window=("2022-01-03", "2025-12-31"),
        chunk=250,
        keep_returns=False,
        warmup=0,
        fixed={"mode": "per_name", "universe": "sweep_job"},
        costs=engine.Costs(fees=0.0005, slippage=0.0, init_cash=1.0, fill="close"),
    ),
    "basket mode, 64 combinations": dict(
        strategy="oversold_rebound",
        grid={"top_k": [2, 3, 4, 5, 6, 8, 10, 12], "hold_days": [5, 10, 15, 20, 25, 30, 40, 50]},
        window=("2024-07-01", "2025-12-31"),
        chunk=4,
        keep_returns=False,
    ),
}


def timed(job: dict, **kw):
    job = dict(job)
    t0 = time.perf_counter()
    result = sweep(job.pop("strategy"), job.pop("grid"), job.pop("window"), progress=False, **job, **kw)
    return result, time.perf_counter() - t0


def cluster_startup(workers: int) -> float:
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
        ) as c,
        Client(c) as client,
    ):
        client.run(lambda: __import__("engine.backtest"))  # workers import the engine, as a sweep does
    return time.perf_counter() - t0


def main() -> None:
    print("| job | executor | wall time [s] | excluding start-up [s] | results vs local |")
    print("|---|---|---|---|---|")
    speedups = {}
    for name, job in JOBS.items():
        local, t_local = timed(job)
        print(f"| {name} | local (this process, numba threads) | {t_local:.1f} | | reference |")
        compute = {}
        for workers in (1, 2):
            result, t = timed(job, executor="dask", workers=workers)
            start = float(np.median([cluster_startup(workers) for _ in range(2)]))
            compute[workers] = t - start
            same = "identical" if result.table.equals(local.table) else "DIFFERENT"
            print(f"| {name} | dask LocalCluster, {workers} worker(s) | {t:.1f} | {t - start:.1f} | {same} |")
        speedups[name] = compute[1] / compute[2]
    print()
    for name, s in speedups.items():
        print(f"- {name}: 2 workers over 1, start-up excluded: {s:.2f}x")


if __name__ == "__main__":
    main()
