"""Where a sweep's chunks run: in this process, or on a Dask distributed cluster.

Each chunk is a plain function of picklable inputs (`Job`, the price panel, a list of
parameter dicts or kernel inputs), so the same code runs in both places; on Dask the price
panel is scattered to every worker once and chunks refer to it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from tqdm import tqdm

from engine.data.panel import Prices
from engine.errors import AishockError
from engine.simulate import Costs

DEFAULT_ENGINE_CHUNK = 50
DEFAULT_KERNEL_CHUNK = 20_000


@dataclass(frozen=True)
class Job:
    """What every chunk of one sweep shares."""

    strategy: str
    start: str | None
    end: str | None
    costs: Costs
    warmup: int | None
    risk_free: float
    periods: int
    keep_returns: bool
    threads: bool = True  # numba threads inside the kernel; off on Dask, where workers parallelise


def engine_chunk(
    job: Job, prices: Prices, param_dicts: list[dict]
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Stats (and daily returns if kept) of `param_dicts` as columns of one engine run."""

    from engine import registry
    from engine.backtest import run
    from engine.config import load_config

    cfg = replace(load_config(), risk_free=job.risk_free, trading_days=job.periods)
    result = run(
        registry.get(job.strategy), param_dicts, job.start, job.end, job.costs, prices, cfg, warmup=job.warmup
    )
    stats = result.stats.reset_index(drop=True)
    returns = result.returns.T.reset_index(drop=True).T if job.keep_returns else None
    return stats, returns


def kernel_chunk(job: Job, close: np.ndarray, xs: np.ndarray, hs: np.ndarray) -> pd.DataFrame:
    """Stats of the (xs[k], hs[k]) combinations from the compiled kernel."""
    from engine.sweeps.kernel import stats_from_accumulators, sweep_accumulators

    acc = sweep_accumulators(
        close, xs, hs, fee=job.costs.fees, rf=job.risk_free, periods=job.periods, parallel=job.threads
    )
    stats = pd.DataFrame(stats_from_accumulators(acc, rf=job.risk_free, periods=job.periods))
    stats["final_equity"] *= job.costs.init_cash
    stats["fees_paid"] *= job.costs.init_cash
    return stats


def _chunks(n: int, size: int) -> list[slice]:
    return [slice(lo, min(lo + size, n)) for lo in range(0, n, size)]


def run_engine(
    job: Job, prices: Prices, param_dicts: list[dict], executor: str, scheduler, workers, chunk, progress
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    parts = _map(
        engine_chunk,
        job,
        prices,
        [param_dicts[s] for s in _chunks(len(param_dicts), chunk or DEFAULT_ENGINE_CHUNK)],
        executor,
        scheduler,
        workers,
        progress,
    )
    stats = pd.concat([p[0] for p in parts], ignore_index=True)
    returns = pd.concat([p[1] for p in parts], axis=1, ignore_index=True) if job.keep_returns else None
    return stats, returns


def run_kernel(
    job: Job, prices: Prices, args: dict, executor: str, scheduler, workers, chunk, progress
) -> pd.DataFrame:
    job = replace(job, threads=executor == "local")
    window = prices.window(job.start, job.end)
    close = np.ascontiguousarray(window.close[args["tickers"]].to_numpy(dtype=np.float64))
    slices = _chunks(len(args["xs"]), chunk or DEFAULT_KERNEL_CHUNK)
    parts = _map(
        kernel_chunk,
        job,
        close,
        [(args["xs"][s], args["hs"][s]) for s in slices],
        executor,
        scheduler,
        workers,
        progress,
        star=True,
    )
    return pd.concat(parts, ignore_index=True)


def single_returns(job: Job, prices: Prices, params) -> pd.Series:
    """Daily returns of one parameter set, run alone through the engine."""
    from engine import registry
    from engine.backtest import run

    result = run(
        registry.get(job.strategy), params, job.start, job.end, job.costs, prices, None, warmup=job.warmup
    )
    return result.returns.iloc[:, 0]


def _map(fn, job: Job, data, chunks: list, executor: str, scheduler, workers, progress, star=False) -> list:
    """fn(job, data, chunk) for every chunk, in order, locally or on Dask."""
    bar = tqdm(total=len(chunks), desc="sweep", unit="chunk", disable=not progress)
    try:
        if executor == "local":
            out = []
            for c in chunks:
                out.append(fn(job, data, *c) if star else fn(job, data, c))
                bar.update()
            return out
        if executor == "dask":
            return _map_dask(fn, job, data, chunks, scheduler, workers, bar, star)
        raise AishockError(f"unknown executor '{executor}'; use local or dask")
    finally:
        bar.close()


def _map_dask(fn, job, data, chunks, scheduler, workers, bar, star) -> list:
    logging.getLogger("distributed").setLevel(logging.ERROR)
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise AishockError(
            "the dask executor needs dask[distributed]: pip install 'dask[distributed]'"
        ) from None
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as e:
            raise AishockError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
    else:
        n = workers or os.cpu_count() or 1
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
    try:
        shared = client.scatter(data, broadcast=True)  # the price panel goes to each worker once
        futures = [
            client.submit(fn, job, shared, *c, pure=False)
            if star
            else client.submit(fn, job, shared, c, pure=False)
            for c in chunks
        ]
        position = {f.key: i for i, f in enumerate(futures)}
        out = [None] * len(futures)
        for future in as_completed(futures):
            out[position[future.key]] = future.result()
            bar.update()
        return out
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
