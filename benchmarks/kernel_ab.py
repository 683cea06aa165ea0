"""The compiled simulator against the one before the kernel split (issue 16), in one process,
on the same inputs, timed call by call in alternation, so a load that comes and goes on a
shared machine hits both alike.

    git worktree add /tmp/ab-before 620635c
    .venv/bin/python benchmarks/kernel_ab.py --before /tmp/ab-before/engine/kernel.py

For each case of benchmarks/sweep_speed.py (its --quick grids) and fill, the strategy's
schedule and the market arrays are built once; then `--repeats` times the old kernel's
`simulate` and the new one's run on them back to back (stats only, both numba threads), and
each call's seconds are kept. Printed per case: the best time of each (ms per combination),
the ratio of the bests (new / old) and the median of the paired ratios. Both kernels'
accumulators are compared first (the rows the new kernel keeps must be equal to the bit).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import engine  # noqa: E402
from engine.backtest.run import history, needed_tickers  # noqa: E402
from engine.sim import kernel  # noqa: E402
from engine.sim.simulate import Market, first_bar, per_period  # noqa: E402
from engine.strategy import params, registry  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from sweep_speed import CASES, END, FILLS, START  # noqa: E402

OLD_ACC_FIELDS = (
    "final", "sum_r", "sum_r2", "n", "sum_down2", "max_dd", "n_orders", "traded", "sum_equity",
    "sum_exposure", "days_invested", "fees", "n_partial", "interest", "wiped_out", "n_delisted",
)  # fmt: skip


def load_old(path: str):
    spec = importlib.util.spec_from_file_location("kernel_before_split", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def calls(old, schedule, market, first, costs, n_threads):
    """Two functions running the same runs on the old and the new kernel; each returns acc."""
    n_runs, n_tk = schedule.n_runs, len(market.tickers)
    d = [per_period(r, 252) for r in (costs.cash_rate, costs.financing, costs.borrow_fee)]
    vector = np.array([costs.fees, costs.slippage, costs.init_cash, float(costs.max_gross > 1), *d, 0.0])
    s, m = schedule, market

    def run_old():
        acc = np.zeros((len(OLD_ACC_FIELDS), n_runs))
        old.simulate(n_threads, s.lo, s.hi, s.bar, s.col, s.weight, first, m.fill, m.mark, m.close,
                     m.last_bar, m.delist_day, vector, acc, np.zeros((0, n_runs)), np.zeros((0, n_runs)),
                     np.zeros((0, n_runs, n_tk)), np.zeros((0, 6)), np.zeros(n_runs, np.int64),
                     np.zeros(n_runs, np.int64))  # fmt: skip
        return acc

    targets = kernel.Targets(s.lo, s.hi, s.bar, s.col, s.weight)
    arrays = kernel.MarketArrays(m.fill, m.mark, m.close, m.last_bar, m.delist_day, m.vs)
    frictions = costs.frictions(252, np.full(n_runs, costs.init_cash))
    firsts = np.full(n_runs, first, dtype=np.int64)  # every run on the same window
    stops = np.full(n_runs, len(market.index), dtype=np.int64)

    def run_new():
        acc = np.zeros((kernel.N_ACC, n_runs))
        none = np.zeros((0, n_runs))
        idx = np.zeros(n_runs, np.int64)
        orders = np.zeros((0, len(kernel.ORDER_FIELDS)))
        out = kernel.Outputs(
            acc, none, none, np.zeros((0, n_runs, n_tk)), orders, idx, idx.copy(), idx.copy(), none
        )
        kernel.simulate(n_threads, firsts, stops, targets, arrays, frictions, 0.0, out)
        return acc

    return run_old, run_new


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True, help="the kernel.py of the commit before the split")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--only", default="", help="only the cases whose label contains this")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    import numba

    old = load_old(args.before)
    n_threads = numba.get_num_threads()
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"Kernel A/B, {time.strftime('%Y-%m-%d %H:%M')}, {n_threads} numba threads, {args.repeats} "
          f"alternating calls each, load average before {', '.join(load)}\n")  # fmt: skip
    print("| case | fill | runs | before ms/comb. (best) | after ms/comb. (best) | after/before (bests) "
          "| median of paired after/before |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for label, name, fixed, grid, _, _ in CASES:
        if args.only not in label:
            continue
        spec = registry.get(name)
        grid = {k: v[:: 4 if i == 0 else 1] for i, (k, v) in enumerate(grid.items())}
        sets = params.grid(spec.params, grid, None, fixed)
        prices = history(engine.load_prices(needed_tickers(spec, sets), end=END), START, END, None)
        schedule = spec.schedule(prices, sets)
        first = first_bar(prices.index, START)
        for fill, costs in FILLS.items():
            market = Market.of(prices, schedule.tickers, costs.fill)
            run_old, run_new = calls(old, schedule, market, first, costs, n_threads)
            a_old, a_new = run_old(), run_new()  # warm-up, and the same numbers
            for i, field in enumerate(kernel.ACC_FIELDS):
                assert np.array_equal(a_new[i], a_old[OLD_ACC_FIELDS.index(field)]), (label, fill, field)
            t_old, t_new = [], []
            for _ in range(args.repeats):
                for fn, times in ((run_old, t_old), (run_new, t_new)):
                    t = time.perf_counter()
                    fn()
                    times.append(time.perf_counter() - t)
            paired = statistics.median(n / o for n, o in zip(t_new, t_old, strict=True))
            n = schedule.n_runs
            print(f"| {label} | {fill} | {n} | {1e3 * min(t_old) / n:.4f} | {1e3 * min(t_new) / n:.4f} "
                  f"| {min(t_new) / min(t_old):.3f} | {paired:.3f} |", flush=True)  # fmt: skip
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"\nload average after {', '.join(load)}")


if __name__ == "__main__":
    main()
