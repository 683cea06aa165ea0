"""Where a sweep's chunks run: in this process, or on a Dask distributed cluster.

Each chunk is one call of `evaluate` on picklable inputs (`Job`, the price panel, a list of
parameter sets): the strategy computes the chunk's target weights at once and the compiled
simulator runs them, keeping only accumulators (and daily returns when asked). The same code
runs in both places; on Dask the price panel is scattered to every worker once, and each
worker runs its chunk on one thread (the workers are the parallelism).

A scheduler address is checked before anything connects (`check_address`), and what answers
there is checked with a hard deadline (`probe`, DASK_TIMEOUT seconds) before distributed's
client connects: that client waits without end on a peer that accepts and never answers, and
trusts the message length it reads (a service that is not Dask made it try to allocate
exabytes). A scheduler without workers is refused after DASK_TIMEOUT seconds.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import time
from dataclasses import dataclass, replace

import numba as nb
import numpy as np
from tqdm import tqdm

from engine.data.panel import Prices
from engine.errors import AishockError
from engine.sim.simulate import Costs, run_schedule

# Combinations per chunk: at most MAX_CHUNK, fewer when a chunk's orders could outgrow
# CHUNK_BYTES (a run has at most one order per ticker and day, 24 bytes each).
MAX_CHUNK = 4_096
CHUNK_BYTES = 256 * 2**20

# Seconds a Dask scheduler has to answer, and then to have at least one worker.
DASK_TIMEOUT = 10.0
# The largest first message a Dask scheduler sends (its handshake is about 60 bytes).
HANDSHAKE_BYTES = 64 * 2**10
ADDRESS_HINT = "give it as tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786"


def check_address(address: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a Dask scheduler address, `[tcp://|tls://]HOST:PORT` (IPv6
    hosts in brackets); anything else is refused in one line."""
    text = str(address).strip()
    scheme, sep, loc = text.rpartition("://")
    scheme = scheme.lower() if sep else "tcp"
    if scheme not in ("tcp", "tls"):
        raise AishockError(f"Dask scheduler address '{address}': unknown protocol '{scheme}'; {ADDRESS_HINT}")
    loc = loc.rstrip("/")
    if loc.startswith("["):
        host, _, rest = loc[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, colon, port = loc.rpartition(":")
        host = host if colon else loc
    if not host or any(c.isspace() or c in "/@?#[]" for c in host):
        raise AishockError(f"Dask scheduler address '{address}' has no host; {ADDRESS_HINT}")
    if not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise AishockError(f"Dask scheduler address '{address}' has no port number (1-65535); {ADDRESS_HINT}")
    return scheme, host, int(port)


def _receive(sock: socket.socket, n: int, deadline: float) -> bytes:
    out = b""
    while len(out) < n:
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        chunk = sock.recv(min(n - len(out), 2**16))
        if not chunk:
            raise ConnectionResetError("the connection was closed")
        out += chunk
    return out


def probe(address: str, timeout: float = DASK_TIMEOUT) -> None:
    """Check, within `timeout` seconds in all, that a Dask scheduler answers at `address`
    (tcp; tls is left to distributed): a Dask server speaks first, a handshake message of an
    8-byte length and that many bytes (under HANDSHAKE_BYTES) of msgpack frames holding a
    dict with its pickle protocol. A peer that accepts and stays silent, closes, or sends
    anything else is refused in one line."""
    scheme, host, port = check_address(address)
    if scheme != "tcp":
        return
    deadline = time.monotonic() + timeout
    where = f"the Dask scheduler at {address}"
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as e:
        raise AishockError(f"cannot reach {where}: {e.strerror or e or 'timed out'}") from None
    with sock:
        try:
            (size,) = struct.unpack("Q", _receive(sock, 8, deadline))
            body = _receive(sock, size, deadline) if 0 < size <= HANDSHAKE_BYTES else None
        except TimeoutError:
            raise AishockError(
                f"{where} accepted the connection but did not answer within {timeout:g} s: "
                "is it a Dask scheduler, and running? Check the address and port"
            ) from None
        except OSError:
            body = None  # closed or reset before a whole handshake: not Dask
    if body is None or "pickle-protocol" not in _handshake(body):
        raise AishockError(
            f"what answers at {address} is not a Dask scheduler (it does not speak Dask's "
            "protocol); check the address and port"
        )


def _handshake(body: bytes) -> dict:
    """The handshake dict in a Dask message body, or {} if it is not one."""
    from distributed.protocol.core import loads
    from distributed.protocol.utils import unpack_frames

    try:
        frames, rest = unpack_frames(body, partial=True)
        message = loads(frames, deserialize=False) if not rest else None
    except Exception:  # garbage of any kind: not Dask
        return {}
    return message if isinstance(message, dict) else {}


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
    threads: bool = True  # numba threads inside a chunk; off on Dask, where workers parallelise


def chunk_size(prices: Prices, n_sets: int) -> int:
    """Combinations per chunk for `prices` (see CHUNK_BYTES)."""
    worst = max(len(prices.index) * len(prices.tickers) * 24, 1)
    return int(max(1, min(MAX_CHUNK, CHUNK_BYTES // worst, n_sets)))


def evaluate(job: Job, prices: Prices, sets: list) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """Accumulators (engine.sim.kernel.ACC_FIELDS x runs) of `sets`, their daily returns
    (days x runs) when the job keeps them, and the tickers their schedule names (the names
    the strategy may trade: the sweep's SPA benchmark): one strategy call and one simulator
    call."""
    from engine.strategy import registry

    if not job.threads:
        nb.set_num_threads(1)  # a Dask worker process: the workers are the parallelism
    schedule = registry.get(job.strategy).schedule(prices, sets)
    record = "equity" if job.keep_returns else "stats"
    raw = run_schedule(
        prices, schedule, job.costs, job.start, job.risk_free, job.periods, record, job.threads
    )
    return raw.acc, raw.returns, list(schedule.tickers)


def run_chunks(
    job: Job, prices: Prices, sets: list, executor: str, scheduler, workers, chunk, progress
) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """`evaluate` over chunks of `sets`, locally or on Dask, joined in order: accumulators,
    daily returns (or None) and the union of the tickers the schedules name, in the price
    panel's order."""
    size = chunk or chunk_size(prices, len(sets))
    pieces = [sets[lo : lo + size] for lo in range(0, len(sets), size)]
    parts = map_chunks(evaluate, job, prices, pieces, executor, scheduler, workers, progress)
    acc = np.concatenate([p[0] for p in parts], axis=1)
    returns = np.concatenate([p[1] for p in parts], axis=1) if job.keep_returns else None
    named = {t for p in parts for t in p[2]}
    return acc, returns, [t for t in prices.tickers if t in named]


def map_chunks(
    fn, job, data, chunks: list, executor: str, scheduler, workers, progress, desc="sweep"
) -> list:
    """fn(job, data, chunk) for every chunk, in order, locally or on Dask (where `job`, a
    dataclass with a `threads` field, runs with threads=False: the workers are the
    parallelism), with a progress bar labelled `desc`."""
    bar = tqdm(total=len(chunks), desc=desc, unit="chunk", disable=not progress)
    try:
        if executor == "local":
            out = []
            for c in chunks:
                out.append(fn(job, data, c))
                bar.update()
            return out
        if executor == "dask":
            job = replace(job, threads=False)
            return _map_dask(fn, job, data, chunks, scheduler, workers, bar)
        raise AishockError(f"unknown executor '{executor}'; use local or dask")
    finally:
        bar.close()


def _map_dask(fn, job, data, chunks, scheduler, workers, bar) -> list:
    logging.getLogger("distributed").setLevel(logging.ERROR)
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise AishockError(
            "the dask executor needs dask[distributed]: pip install 'dask[distributed]'"
        ) from None
    cluster = None
    if scheduler:
        probe(scheduler)
        try:
            client = Client(scheduler, timeout=f"{DASK_TIMEOUT:g}s")
        except (OSError, TimeoutError) as e:
            raise AishockError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
        try:
            client.wait_for_workers(1, timeout=DASK_TIMEOUT)
        except TimeoutError:
            client.close()
            raise AishockError(
                f"the Dask scheduler at {scheduler} has no workers after {DASK_TIMEOUT:g} s; "
                f"start some (dask worker {scheduler}) or drop --scheduler for a local cluster"
            ) from None
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
        futures = [client.submit(fn, job, shared, c, pure=False) for c in chunks]
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
