"""Speed of `engine.generalize`: the one compiled pass (every parameter set x event and every
placebo replay in one strategy call and one simulator call per chunk) side by side with the
per-event path it replaced (one pandas slice and one simulator call per event), in one
process on the same studies; then the 1,000-set grid in a fresh subprocess, so that its peak
memory is its own.

    .venv/bin/python benchmarks/generalize_speed.py --before DIR

DIR is a checkout of the code before issue 17 (e.g. `git worktree add /tmp/before 8d59e42`):
its engine/events/generalize.py and crossevent.py are loaded under other names and run on
this checkout's engine (the same data, strategies and simulator). Both paths are timed end
to end from the function call (prices already loaded once in the process, compiled code
warm), best of `--repeats`.

Studies (oversold_rebound, its defaults):
  ai roles            `ai` grouped by role
  S&P 500 industries  the 2024-12-27 list grouped by industry
with placebo runs: the per-event path draws `placebo` (group, day) pairs; the compiled pass
replays every event date on R days (R chosen to give about as many placebo runs), or on every
eligible day (its default).

The grid: 1,000 sets (top_k 10 values x hold_days 10 x min_drop 10) on the S&P 500 industry
events with 11 placebo replays per event date (about 2,000 placebo runs per set), StepM, SPA
and the walk-forward, n_boot 2,000.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
import types
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.events.generalize import generalize  # noqa: E402

SP500 = str(ROOT.parent / "shared" / "market" / "sp500_constituents_2024-12-27.csv")
GRID = {
    "top_k": [2, 3, 4, 5, 6, 0.2, 0.33, 0.5, 0.75, 0.9],
    "hold_days": list(range(3, 33, 3)),
    "min_drop": [round(0.01 * i, 2) for i in range(1, 11)],
}


def load_before(root: Path) -> types.ModuleType:
    """The per-event generalize of the checkout at `root`, importing its own crossevent."""
    spec = importlib.util.spec_from_file_location("before_crossevent", root / "engine/events/crossevent.py")
    crossevent = importlib.util.module_from_spec(spec)
    sys.modules["before_crossevent"] = crossevent
    spec.loader.exec_module(crossevent)
    path = root / "engine/events/generalize.py"
    source = path.read_text().replace(
        "from engine.events import crossevent", "import before_crossevent as crossevent"
    )
    module = types.ModuleType("before_generalize")
    module.__file__ = str(path)
    sys.modules["before_generalize"] = module
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module


def best(fn, repeats: int) -> tuple[float, object]:
    out, fastest = None, float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        fastest = min(fastest, time.perf_counter() - t)
    return fastest, out


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def first_call() -> None:
    """The S&P 500 industry study (3 replays per date) as the first call of a fresh process
    (the engine imported before the clock starts): the prices read from the cache and the
    compiled code loaded from numba's cache are inside the time. Prints one JSON line."""
    warnings.simplefilter("ignore")
    t = time.perf_counter()
    g = generalize("oversold_rebound", SP500, "industry", placebo=3)
    print(json.dumps({"seconds": time.perf_counter() - t, "placebo_runs": len(g.placebo_events)}))


def grid_job() -> None:
    """The 1,000-set grid, in this (fresh) process: prints one JSON line."""
    warnings.simplefilter("ignore")
    small = {"top_k": [2], "hold_days": [3, 4]}
    generalize("oversold_rebound", SP500, "industry", grid=small, placebo=1, n_boot=200)
    t = time.perf_counter()
    g = generalize("oversold_rebound", SP500, "industry", grid=GRID, placebo=11, n_boot=2000)
    seconds = time.perf_counter() - t
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mb": peak_mb(),
                "sets": len(g.grid),
                "events": len(g.events),
                "placebo_runs_per_set": len(g.placebo_events),
                "runs": len(g.grid) * (len(g.events) + len(g.placebo_events)),
                "survive_stepm": int(g.grid["survives_stepm"].sum()),
                "spa": g.spa["pvalues"],
                "oos_mean": g.walk_forward["oos_mean"],
                "oos_n": g.walk_forward["oos_n"],
            }
        )
    )


def fresh_process(job: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--job", job], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, help="a checkout of the per-event code (see the module doc)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--job", choices=("grid", "first"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.job:
        (grid_job if args.job == "grid" else first_call)()
        return
    warnings.simplefilter("ignore")
    before = load_before(args.before) if args.before else None
    studies = [("ai roles", "ai", "role", 500, 31), ("S&P 500 industries", SP500, "industry", 500, 3)]
    rows = []
    for label, universe, by, draws, replays in studies:
        generalize("oversold_rebound", universe, by, placebo=1)  # loads the prices and compiled code
        new_t, new = best(
            lambda u=universe, b=by, r=replays: generalize("oversold_rebound", u, b, placebo=r), args.repeats
        )
        all_t, every = best(lambda u=universe, b=by: generalize("oversold_rebound", u, b), args.repeats)
        row = {
            "study": label,
            "events": len(new.events),
            "compiled_seconds": new_t,
            "compiled_placebo_runs": len(new.placebo_events),
            "default_seconds": all_t,
            "default_placebo_runs": len(every.placebo_events),
        }
        if before is not None:
            before.generalize("oversold_rebound", universe, by, placebo=1)
            old_t, old = best(
                lambda u=universe, b=by, d=draws: before.generalize("oversold_rebound", u, b, placebo=d),
                args.repeats,
            )
            row |= {
                "per_event_seconds": old_t,
                "per_event_events": len(old.events),
                "per_event_placebo_runs": len(old.placebo_events),
            }
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    grid, first = (fresh_process(job) for job in ("grid", "first"))
    print(f"Generalize benchmark, {time.strftime('%Y-%m-%d %H:%M')}, best of {args.repeats}\n")
    print(
        "| study | events | per-event path: placebo runs | seconds | compiled pass: placebo runs "
        "| seconds | default (every eligible day): placebo runs | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        old = (
            f"{r['per_event_placebo_runs']:,} | {r['per_event_seconds']:.2f}"
            if "per_event_seconds" in r
            else "- | -"
        )
        print(
            f"| {r['study']} | {r['events']} | {old} | {r['compiled_placebo_runs']:,} "
            f"| {r['compiled_seconds']:.2f} "
            f"| {r['default_placebo_runs']:,} | {r['default_seconds']:.2f} |"
        )
    print(
        f"\n- first call in a fresh process (after the import; prices from the cache and compiled code "
        f"from numba's cache inside the time), S&P 500 industries with "
        f"{first['placebo_runs']:,} placebo runs: {first['seconds']:.2f} s"
    )
    print(
        f"- grid: {grid['sets']:,} sets x {grid['events']} events + {grid['placebo_runs_per_set']:,} "
        "placebo runs per set "
        f"({grid['runs']:,} runs) with StepM, SPA and the walk-forward in {grid['seconds']:.1f} s, peak RSS "
        f"{grid['peak_mb']:,.0f} MB; {grid['survive_stepm']} sets survive StepM, SPA p {grid['spa']}, "
        f"walk-forward out-of-sample mean {grid['oos_mean']:.4f} over {grid['oos_n']} events"
    )


if __name__ == "__main__":
    main()
