"""A Dask cluster of real processes on this machine: a `dask scheduler` and worker processes
started with the `dask` command of this virtualenv, on 127.0.0.1, the way a remote cluster
runs them (each worker imports the project itself). For trying `aishock sweep --scheduler`
locally; the test suite and benchmarks/dask_scaling.py use it.

Every process runs in its own process group and is killed on exit, whatever happened. If the
calling process is itself killed, the scheduler stops after `--idle-timeout` (600 s) and the
workers after `--death-timeout` (60 s).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from engine.config import PROJECT_ROOT
from engine.errors import AishockError

DASK = Path(sys.executable).parent / "dask"  # the venv's dask command, beside its python


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (the OS's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
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


@contextlib.contextmanager
def process_cluster(workers: int, name: str = "aishock", timeout: float = 120) -> Iterator[tuple[str, float]]:
    """A scheduler and `workers` (0 or more) x `dask worker --nworkers 1 --nthreads 1` on
    127.0.0.1; yields (address, seconds until every worker had registered) and stops them
    all on exit. Raises AishockError, with the processes' last log lines, if they do not come up within
    `timeout` seconds."""
    from distributed import Client

    if not DASK.exists():
        raise AishockError(f"{DASK} not found: the dask command comes with dask[distributed]")
    address = f"tcp://127.0.0.1:{free_port()}"
    procs: list[tuple[subprocess.Popen, Path]] = []
    with tempfile.TemporaryDirectory(prefix="aishock-dask-") as folder:

        def start(label: str, *args: str) -> None:
            log = Path(folder) / f"{label}.log"
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    [str(DASK), *args],
                    cwd=PROJECT_ROOT,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: the nanny's worker goes with it
                )
            procs.append((proc, log))

        try:
            t0 = time.perf_counter()
            start(
                "scheduler", "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                "--no-dashboard", "--dashboard-address", "127.0.0.1:0", "--idle-timeout", "600",
            )  # fmt: skip
            for i in range(workers):
                start(
                    f"worker-{i}", "worker", address, "--nworkers", "1", "--nthreads", "1",
                    "--no-dashboard", "--name", f"{name}-{i}", "--death-timeout", "60",
                    "--local-directory", str(Path(folder) / f"worker-{i}"),
                )  # fmt: skip
            try:
                with Client(address, timeout=f"{timeout:g}s") as client:
                    if workers:  # 0: a scheduler alone (the no-workers test)
                        client.wait_for_workers(workers, timeout=timeout)
            except Exception as e:
                dead = [log.stem for proc, log in procs if proc.poll() is not None]
                logs = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}" for _, p in procs)
                raise AishockError(
                    f"the Dask cluster at {address} did not come up ({e}); exited: {dead}\n{logs}"
                ) from None
            yield address, time.perf_counter() - t0
        finally:
            for proc, _ in reversed(procs):  # workers first, then the scheduler
                stop(proc)
