"""Wall time of `aishock run oversold_rebound --no-tearsheet --json` next to the floor of its
toolchain, each a fresh process, best of --repeats (default 7), in one run.

    .venv/bin/python benchmarks/startup.py

Rows: a bare interpreter; importing pandas; importing pandas and numba and calling one cached
numba function (what any process that runs the compiled engine pays before its first bar);
`import engine`; the run itself. The run's figure minus the floor is what aishock adds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
FLOOR = """
import numba, numpy as np, pandas
@numba.njit(cache=True)
def f(a):
    return a.sum()
f(np.ones(3))
"""


def rows(cache: Path) -> list[tuple[str, list[str]]]:
    floor = cache / "floor.py"
    floor.write_text(FLOOR)
    py = sys.executable
    return [
        ("python -c pass", [py, "-c", "pass"]),
        ("import pandas", [py, "-c", "import pandas"]),
        ("pandas + numba + one cached numba call (the floor)", [py, str(floor)]),
        ("import engine", [py, "-c", "import engine"]),
        (
            "aishock run oversold_rebound --no-tearsheet --json",
            [str(BIN / "aishock"), "run", "oversold_rebound", "--no-tearsheet", "--json"],
        ),
    ]


def best(cmd: list[str], repeats: int, env: dict) -> float:
    subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=ROOT)  # warm caches
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=ROOT)
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"Start-up benchmark, {time.strftime('%Y-%m-%d %H:%M')}, best of {args.repeats}, "
          f"load average before {', '.join(load)}\n")  # fmt: skip
    print("| command | wall s (best) |\n|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "AISHOCK_REPORTS": str(Path(tmp) / "out")}
        for label, cmd in rows(Path(tmp)):
            print(f"| {label} | {best(cmd, args.repeats, env):.2f} |", flush=True)
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"\nload average after {', '.join(load)}")


if __name__ == "__main__":
    main()
