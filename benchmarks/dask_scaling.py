"""Dask executor: the same sweeps on 1 and on 2 worker processes, on a LocalCluster and on a
real cluster (`dask scheduler` and `dask worker` processes, started from this virtualenv).

Run (the machine otherwise idle; prints markdown tables for BENCHMARKS.md's Dask section):

    .venv/bin/python benchmarks/dask_scaling.py                  # both parts
    .venv/bin/python benchmarks/dask_scaling.py --part cluster   # only the real cluster
    .venv/bin/python benchmarks/dask_scaling.py --quick          # tiny grids: checks the script runs

LocalCluster part: two jobs on the compiled engine: (1) the issue's per-name job on a
100,000-combination grid (chunks of 250; each worker runs its chunk on one thread); (2) 64
combinations of oversold_rebound's basket mode (chunks of 4). Wall time with and without
cluster start-up (measured separately and subtracted), the speed-up of 2 workers over 1, and
whether the results equal the local run exactly.

Real-cluster part: a `dask scheduler` on 127.0.0.1 and 1, then 2, `dask worker --nworkers 1
--nthreads 1` processes (cwd the repository, so they import the project as installed here),
the way `aishock sweep --executor dask --scheduler tcp://...` uses a cluster. Start-up is not
timed into the sweep: the cluster is started and waited for (all workers registered), then a
tiny sweep with a chunk per worker and more warms every worker (imports, compiled code), then
the long sweep (the per-name job, 200,000 combinations in chunks of 500) is timed, best of
--repeat. Each timed sweep includes connecting a client and scattering the price panel to the
workers, as every `aishock sweep --scheduler` call does.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

import engine
from engine.sweeps.cluster import process_cluster
from engine.sweeps.grid import sweep

COMMAND = ".venv/bin/python benchmarks/dask_scaling.py"
PER_NAME = dict(
    strategy="oversold_rebound",
    window=("2022-01-03", "2025-12-31"),
    keep_returns=False,
    warmup=0,
    fixed={"mode": "per_name", "universe": "sweep_job"},
    costs=engine.Costs(fees=0.0005, slippage=0.0, init_cash=1.0, fill="close"),
)


def per_name(n_drop: int, n_hold: int, chunk: int) -> dict:
    """The per-name job on n_drop x n_hold combinations (min_drop from 0.0002 in steps of 0.0002)."""
    grid = {
        "min_drop": [round(0.0002 * i, 4) for i in range(1, n_drop + 1)],
        "hold_days": list(range(1, n_hold + 1)),
    }
    return dict(PER_NAME, grid=grid, chunk=chunk)


def basket(top_k: list[int], hold_days: list[int], chunk: int) -> dict:
    return dict(
        strategy="oversold_rebound",
        grid={"top_k": top_k, "hold_days": hold_days},
        window=("2024-07-01", "2025-12-31"),
        chunk=chunk,
        keep_returns=False,
    )


def jobs(quick: bool) -> tuple[dict, tuple[str, dict], dict]:
    """(LocalCluster jobs, the real cluster's long job, its warm-up job)."""
    if quick:
        local = {
            "per-name job, 50 combinations (quick)": per_name(10, 5, 10),
            "basket mode, 4 combinations (quick)": basket([3, 5], [10, 20], 1),
        }
        return local, ("per-name job, 100 combinations (quick)", per_name(20, 5, 10)), per_name(4, 4, 1)
    local = {
        "per-name job, 100,000 combinations": per_name(1000, 100, 250),
        "basket mode, 64 combinations": basket(
            [2, 3, 4, 5, 6, 8, 10, 12], [5, 10, 15, 20, 25, 30, 40, 50], 4
        ),
    }
    # warm-up: 16 chunks of 1, so every worker runs some (and loads the compiled code) before timing
    return local, ("per-name job, 200,000 combinations", per_name(1000, 200, 500)), per_name(4, 4, 1)


def timed(job: dict, **kw):
    job = dict(job)
    t0 = time.perf_counter()
    result = sweep(job.pop("strategy"), job.pop("grid"), job.pop("window"), progress=False, **job, **kw)
    return result, time.perf_counter() - t0


def load_average() -> str:
    return ", ".join(Path("/proc/loadavg").read_text().split()[:3])


# --- LocalCluster ---------------------------------------------------------------------------


def cluster_startup(workers: int) -> float:
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
        ) as c,
        Client(c) as client,
    ):
        client.run(lambda: __import__("engine.backtest.run"))  # workers import the engine, as a sweep does
    return time.perf_counter() - t0


def local_cluster_part(local_jobs: dict, repeats: int) -> None:
    print("| job | executor | wall time [s] | excluding start-up [s] | results vs local |")
    print("|---|---|---|---|---|")
    speedups = {}
    for name, job in local_jobs.items():
        local, t_local = timed(job)
        print(f"| {name} | local (this process, numba threads) | {t_local:.1f} | | reference |")
        compute = {}
        for workers in (1, 2):
            result, t = timed(job, executor="dask", workers=workers)
            start = float(np.median([cluster_startup(workers) for _ in range(repeats)]))
            compute[workers] = t - start
            same = "identical" if result.table.equals(local.table) else "DIFFERENT"
            print(f"| {name} | dask LocalCluster, {workers} worker(s) | {t:.1f} | {t - start:.1f} | {same} |")
        speedups[name] = compute[1] / compute[2]
    print()
    for name, s in speedups.items():
        print(f"- {name}: 2 workers over 1, start-up excluded: {s:.2f}x")


# --- a real cluster: dask scheduler + dask worker processes ---------------------------------


def real_cluster_part(name: str, job: dict, warm: dict, repeats: int) -> None:
    local, t_local = timed(job)
    print(f"| job | executor | cluster start-up [s] | warm-up sweep [s] | sweep [s], best of {repeats} | "
          "results vs local |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    print(f"| {name} | local (this process, numba threads) | | | {t_local:.1f} | reference |")
    best = {}
    for workers in (1, 2):
        with process_cluster(workers, name="bench") as (address, startup):
            _, t_warm = timed(warm, executor="dask", scheduler=address)
            runs = [timed(job, executor="dask", scheduler=address) for _ in range(repeats)]
        best[workers] = min(t for _, t in runs)
        same = "identical" if all(r.table.equals(local.table) for r, _ in runs) else "DIFFERENT"
        print(
            f"| {name} | dask scheduler + {workers} `dask worker` process(es) | {startup:.1f} | {t_warm:.1f} "
            f"| {best[workers]:.1f} | {same} |"
        )
    print()
    print(f"- {name}: 2 workers over 1 on the real cluster, start-up and warm-up excluded: "
          f"{best[1] / best[2]:.2f}x")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=("all", "localcluster", "cluster"), default="all")
    ap.add_argument("--repeat", type=int, default=2, help="timed repeats per cell (default 2)")
    ap.add_argument(
        "--quick", action="store_true", help="tiny grids, one repeat: checks the script, measures nothing"
    )
    args = ap.parse_args()
    repeats = 1 if args.quick else max(1, args.repeat)
    local_jobs, (name, job), warm = jobs(args.quick)
    argv = " ".join(sys.argv[1:])
    print(f"Dask benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, load average before "
          f"{load_average()}; command: {COMMAND}{' ' + argv if argv else ''}")  # fmt: skip
    if args.quick:
        print("QUICK CHECK on tiny grids: these figures are not a measurement")
    if args.part in ("all", "localcluster"):
        print("\nLocalCluster:\n")
        local_cluster_part(local_jobs, repeats)
    if args.part in ("all", "cluster"):
        print("\nReal cluster (dask scheduler + dask worker processes on 127.0.0.1):\n")
        real_cluster_part(name, job, warm, repeats)
    print(f"\nload average after {load_average()}")


if __name__ == "__main__":
    main()
