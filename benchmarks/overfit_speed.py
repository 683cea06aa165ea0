"""Overfitting statistics at engine speed (issue 18), in one process:

  pbo_cscv      the old loop (tests/pbo_oracle.py, pbo_cscv_before) and the new array /
                compiled form on synthetic returns (normal, mean 0, sd 1 %; seed 0) of 300
                and 10,000 combinations x 1003 days, 16 splits (the old one only at 300:
                at 10,000 it would take about half an hour)
  guards        the whole guards step of engine.sweep (engine.sweeps.grid.finish: best row,
                Deflated Sharpe, PBO, grid warnings, SPA with 1,000 replications) on a real
                oversold_rebound per_name sweep over 2022-2025 of 300 and 10,000 combinations
                (returns kept), timed by wrapping finish; the whole sweep's time beside it

Targets: guards of a 300-combination sweep under 1 s, of a 10,000-combination one under 10 s.

    .venv/bin/python benchmarks/overfit_speed.py            # the sizes above
    .venv/bin/python benchmarks/overfit_speed.py --quick    # tiny sizes (a smoke run)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from pbo_oracle import pbo_cscv_before  # noqa: E402

import engine  # noqa: E402
from engine import Costs  # noqa: E402
from engine.analytics.overfit import pbo_cscv  # noqa: E402
from engine.sweeps import grid as grid_mod  # noqa: E402

UNIVERSE = "NVDA,AVGO,AMD,MU,ANET,VST,CEG,GEV,NRG,PWR,SMCI,DELL"
WINDOW = ("2022-01-03", "2025-12-31")


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def pbo_rows(sizes, days, splits, old_up_to):
    rows = []
    pbo_cscv(np.random.default_rng(0).normal(0, 0.01, (64, 4)), 8)  # compile once
    for n in sizes:
        m = np.random.default_rng(0).normal(0, 0.01, (days, n))
        new_s, (pbo, _) = timed(lambda m=m: pbo_cscv(m, splits))
        old = "-"
        if n <= old_up_to:
            old_s, (old_pbo, _) = timed(lambda m=m: pbo_cscv_before(m, splits))
            assert old_pbo == pbo
            old = f"{old_s:.2f}"
        rows.append(
            f"| pbo_cscv, synthetic | {n:,} x {days} x {splits} | {old} | {new_s:.3f} | pbo {pbo:.3f} |"
        )
    return rows


def guard_rows(sizes):
    rows = []
    took = {}
    finish = grid_mod.finish

    def timed_finish(*args, **kwargs):
        t0 = time.perf_counter()
        out = finish(*args, **kwargs)
        took["guards"] = time.perf_counter() - t0
        return out

    grid_mod.finish = timed_finish
    try:
        for a, b in sizes:
            grid = {
                "min_drop": [round(float(v), 6) for v in np.linspace(0.02, 0.12, a)],
                "hold_days": list(range(2, 2 + b)),
            }
            whole, result = timed(
                lambda grid=grid: engine.sweep(
                    "oversold_rebound",
                    grid,
                    WINDOW,
                    fixed={"mode": "per_name", "universe": UNIVERSE},
                    costs=Costs(fees=0.0005, slippage=0.0, fill="close"),
                    warmup=0,
                    keep_returns=True,
                    progress=False,
                    max_combinations=10**7,
                )
            )
            days = len(result.returns)
            names = len(UNIVERSE.split(","))
            guess = grid_mod.estimate(a * b, names, days, keep=True)[0]  # what the sweep prints first
            line = f"| engine.sweep guards, oversold_rebound per_name | {a * b:,} x {days} x 16 | - |"
            rows.append(
                f"{line} {took['guards']:.3f} | whole sweep {whole:.2f} s against its estimate "
                f"{guess:.2f} s (x{whole / guess:.2f}), pbo {result.pbo:.3f} |"
            )
    finally:
        grid_mod.finish = finish
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run, not a measurement")
    args = ap.parse_args()
    if args.quick:
        pbo = pbo_rows([20, 60], 200, 8, old_up_to=60)
        guards = guard_rows([(3, 4)])
    else:
        pbo = pbo_rows([300, 10_000], 1003, 16, old_up_to=300)
        guards = guard_rows([(15, 20), (100, 100)])
    print("| step | combinations x days x splits | before [s] | now [s] | |")
    print("|---|---|---|---|---|")
    print("\n".join(pbo + guards))


if __name__ == "__main__":
    main()
