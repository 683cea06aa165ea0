"""Dask executor: the same sweep on a LocalCluster of 1 and of 2 worker processes.

Run: .venv/bin/python benchmarks/dask_scaling.py
Prints a markdown table: wall time of each (cluster start-up included, and excluded), the
speed-up, and whether the results are identical to the local run.
"""

from __future__ import annotations

import time

import pandas as pd

from engine.sweeps.search import sweep

GRID = {"top_k": [2, 3, 4, 5, 6, 8, 10, 12], "hold_days": [5, 10, 15, 20, 25, 30, 40, 50]}
WINDOW = ("2024-07-01", "2025-12-31")


def timed(**kw):
    t0 = time.perf_counter()
    result = sweep("oversold_rebound", GRID, WINDOW, keep_returns=False, progress=False, chunk=4, **kw)
    return result, time.perf_counter() - t0


def cluster_startup(workers: int) -> float:
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as c,
        Client(c) as client,
    ):
        client.run(lambda: __import__("engine.backtest"))  # workers import the engine, as a sweep does
    return time.perf_counter() - t0


def main() -> None:
    local, t_local = timed()
    rows = [("local (this process)", t_local, "", "reference")]
    times = {}
    for workers in (1, 2):
        timed(executor="dask", workers=workers)  # warm caches (numba, OS file cache)
        result, t = timed(executor="dask", workers=workers)
        start = cluster_startup(workers)
        times[workers] = t - start
        same = "identical" if result.table.equals(local.table) else "DIFFERENT"
        rows.append((f"dask LocalCluster, {workers} worker(s)", t, f"{t - start:.1f}", same))
    print(
        f"{len(local.table)} combinations of oversold_rebound (basket mode), {WINDOW[0]}..{WINDOW[1]}, "
        "engine path, chunks of 4\n"
    )
    print("| executor | wall time [s] | excluding cluster start-up [s] | results vs local |")
    print("|---|---|---|---|")
    for name, t, excl, same in rows:
        print(f"| {name} | {t:.1f} | {excl} | {same} |")
    print(f"\nspeed-up of 2 workers over 1 (start-up excluded): {times[1] / times[2]:.2f}x")


if __name__ == "__main__":
    pd.set_option("display.width", 200)
    main()
