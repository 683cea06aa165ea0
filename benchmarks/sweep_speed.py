"""Speed of the compiled (X, H) sweep (engine/sweeps/kernel.py) against vectorbt and bt, on the
sweep job of the issue: 30 names, closes 2022-01-03..2025-12-31, buy a name at the close after
a one-day return <= -X with 1/30 of the equity, sell it H days later, 5 bp fee on top.

    .venv/bin/python benchmarks/sweep_speed.py            # everything (about 45 s)
    .venv/bin/python benchmarks/sweep_speed.py --quick    # fewer repeats, bt on 1 combination

Prints a markdown table (and notes under it). Parts:
  (a) the kernel on the issue's 10 x 10 grid, accumulators + stats, after JIT warm-up, best
      of several runs, with prange over the 2 cores and on one thread;
  (b) vectorbt: the same 100 combinations as the columns of one Portfolio.from_orders call
      (groups of 30 names with shared cash), then final value and Sharpe of every group;
  (c) bt: one Backtest per combination, the rule written as a bt Algo;
  (d) a 100,000-combination sweep (X in 1000 values x H in 1..100) with stats, in a fresh
      subprocess so that its peak RSS is its own.
Asset-days = days x names x combinations. Timings are wall-clock; the machine is shared, so
the best of several runs is the figure and the median is shown beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine import load_prices  # noqa: E402
from engine.sweeps.kernel import (  # noqa: E402
    ACC,
    grid,
    stats_from_accumulators,
    sweep_accumulators,
)
from engine.universe import resolve  # noqa: E402

UNIVERSE = resolve("sweep_job")
START, END = "2022-01-03", "2025-12-31"
XS = [k / 100 for k in range(3, 13)]
HS = [1, 4, 7, 11, 14, 17, 20, 24, 27, 30]
FEE = 0.0005
FINE_XS = np.round(np.arange(1, 1001) * 0.0002, 4)  # 0.0002 .. 0.2
FINE_HS = np.arange(1, 101)


def load_close() -> pd.DataFrame:
    return load_prices(UNIVERSE, START, END).close


def alternate(fns: dict, repeats: int) -> dict:
    """{name: (best, median, last result)} of `repeats` calls of each fn, the calls taking
    turns (a, b, a, b, ...) so that a change in the machine's load hits all of them alike."""
    times: dict = {name: [] for name in fns}
    last: dict = {}
    for _ in range(repeats):
        for name, fn in fns.items():
            t = time.perf_counter()
            last[name] = fn()
            times[name].append(time.perf_counter() - t)
    return {name: (min(ts), statistics.median(ts), last[name]) for name, ts in times.items()}


def timed(fn, repeats: int) -> tuple[float, float, object]:
    """(best, median) seconds of `repeats` calls of fn, and its last result."""
    times = []
    out = None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times), out


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory (VmRSS) or its peak (VmHWM), in MB. VmHWM rather than
    getrusage's ru_maxrss, which a process started by a big parent inherits from it."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


# ---------------------------------------------------------------- (a) the kernel


def kernel_grid(close: np.ndarray, parallel: bool):
    xs, hs = grid(XS, HS)
    acc = sweep_accumulators(close, xs, hs, fee=FEE, parallel=parallel)
    return acc, stats_from_accumulators(acc)


# ---------------------------------------------------------------- (b) vectorbt


def schedule(close: np.ndarray, x: float, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Entry and exit days of the rule for one combination, ignoring cash (a buy that cash
    cannot pay at all would still count as held here; it never happens on this job)."""
    n_days, n_names = close.shape
    with np.errstate(invalid="ignore", divide="ignore"):
        ret = close[1:] / close[:-1] - 1.0
    sig = np.zeros((n_days, n_names), dtype=bool)
    sig[2:] = ret[:-1] <= -x  # return of day t-1 (t-1 >= 1) -> buy on day t
    entries = np.zeros_like(sig)
    exits = np.zeros_like(sig)
    for j in range(n_names):
        free_from = 0
        for d in np.flatnonzero(sig[:, j]):
            if d >= free_from:
                entries[d, j] = True
                if d + h < n_days:
                    exits[d + h, j] = True
                free_from = d + h + 1
    return entries, exits


def vbt_orders(close: np.ndarray) -> np.ndarray:
    """Target-percent orders of the 100 combinations side by side: (days, 100 * 30)."""
    xs, hs = grid(XS, HS)
    blocks = []
    for x, h in zip(xs, hs, strict=True):
        entries, exits = schedule(close, x, int(h))
        size = np.full(close.shape, np.nan)
        size[entries] = 1.0 / close.shape[1]
        size[exits] = 0.0
        blocks.append(size)
    return np.hstack(blocks)


def vbt_run(close_df: pd.DataFrame, size: np.ndarray):
    import vectorbt as vbt

    n_combos = size.shape[1] // close_df.shape[1]
    cols = pd.MultiIndex.from_product([range(n_combos), close_df.columns], names=["combo", "t"])
    valuation = close_df.ffill().bfill().to_numpy()  # zero shares before listing: any number
    pf = vbt.Portfolio.from_orders(
        close=pd.DataFrame(np.tile(valuation, n_combos), index=close_df.index, columns=cols),
        size=pd.DataFrame(size, index=close_df.index, columns=cols),
        size_type="targetpercent",
        direction="longonly",
        fees=FEE,
        init_cash=1.0,
        cash_sharing=True,
        group_by="combo",
        call_seq="auto",
        freq="1D",
    )
    final = pf.final_value().to_numpy()
    sharpe = pf.sharpe_ratio(year_freq="252 days").to_numpy()
    return final, sharpe


# ---------------------------------------------------------------- (c) bt


def bt_run(close_df: pd.DataFrame, x: float, h: int) -> float:
    """Final equity multiple of one combination as a bt Backtest."""
    import bt

    names = list(close_df.columns)
    raw = close_df.to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        ret = raw[1:] / raw[:-1] - 1.0
    sig = np.full(raw.shape, np.nan)
    sig[2:] = ret[:-1]
    day_of = {d: i for i, d in enumerate(close_df.index)}
    weight = 1.0 / len(names)

    class Oversold(bt.Algo):
        def __init__(self):
            super().__init__()
            self.exit_day = dict.fromkeys(names, -1)

        def __call__(self, target):
            d = day_of.get(target.now)
            if d is None:  # bt's set-up day before the first date
                return True
            equity_before = target.value
            for name in names:
                if self.exit_day[name] == d and name in target.children:
                    target.close(name)
            for j, name in enumerate(names):
                if sig[d, j] <= -x and self.exit_day[name] < d:
                    outlay = weight * equity_before * (1.0 + FEE)
                    outlay = min(outlay, target.capital)  # partly filled when cash is short
                    if outlay <= 0.0:
                        continue
                    target.allocate(outlay, child=name)
                    self.exit_day[name] = d + h
            return True

    strategy = bt.Strategy("oversold", [Oversold()])
    prices = close_df.bfill()  # no trade before listing; bt needs a number to value zero shares
    test = bt.Backtest(
        strategy,
        prices,
        initial_capital=1_000_000.0,
        commissions=lambda q, p: abs(q * p) * FEE,
        integer_positions=False,
        progress_bar=False,
    )
    res = bt.run(test)
    values = res.backtests["oversold"].strategy.values
    return float(values.iloc[-1] / 1_000_000.0)


# ---------------------------------------------------------------- (d) 100,000 combinations


def big_sweep(repeats: int) -> dict:
    """Run in a fresh process: timing (prange and one thread, taking turns) and peak RSS of a
    1000 x 100 sweep with stats."""
    close = np.ascontiguousarray(load_close().to_numpy())
    xs, hs = grid(FINE_XS, FINE_HS)
    for parallel in (True, False):  # JIT
        sweep_accumulators(close, xs[:10], hs[:10], fee=FEE, parallel=parallel)
    rss_before = rss_mb()

    def run(parallel):
        acc = sweep_accumulators(close, xs, hs, fee=FEE, parallel=parallel)
        return stats_from_accumulators(acc)

    import engine

    def api():  # the public API: grid of params, stats table, DSR, guards
        return engine.sweep(
            "oversold_rebound",
            {"min_drop": FINE_XS.tolist(), "hold_days": FINE_HS.tolist()},
            (START, END),
            fixed={"mode": "per_name", "universe": "sweep_job"},
            warmup=0,
            keep_returns=False,
            costs=engine.Costs(fees=FEE, slippage=0.0, init_cash=1.0, fill="close"),
            progress=False,
        )

    api()  # warm caches
    res = alternate(
        {"prange": lambda: run(True), "1 thread": lambda: run(False), "engine.sweep API": api}, repeats
    )
    stats = res["prange"][2]
    k = int(np.nanargmax(stats["sharpe"]))
    return {
        "combos": int(xs.size),
        "asset_days": float(close.size) * xs.size,
        "times": {name: [best, median] for name, (best, median, _) in res.items()},
        "rss_before_mb": rss_before,
        "peak_rss_mb": rss_mb("VmHWM"),
        "best_sharpe": float(stats["sharpe"][k]),
        "best_at": [float(xs[k]), int(hs[k])],
    }


def big_sweep_in_subprocess(repeats: int) -> dict:
    cmd = [sys.executable, __file__, "--big-only", "--repeats", str(repeats)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--repeats", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--big-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("AISHOCK_OFFLINE", "1")
    warnings.filterwarnings("ignore")
    if args.big_only:
        print(json.dumps(big_sweep(args.repeats or 3)))
        return

    import numba

    quick = args.quick
    close_df = load_close()
    close = np.ascontiguousarray(close_df.to_numpy())
    n_days, n_names = close.shape
    xs, hs = grid(XS, HS)
    grid_ad = n_days * n_names * xs.size
    rows = []
    notes = []

    # (a)
    t = time.perf_counter()
    acc, stats = kernel_grid(close, parallel=True)
    jit_par = time.perf_counter() - t
    t = time.perf_counter()
    kernel_grid(close, parallel=False)
    jit_ser = time.perf_counter() - t
    reps = 20 if quick else 200
    res = alternate({True: lambda: kernel_grid(close, True), False: lambda: kernel_grid(close, False)}, reps)
    for label, par, jit in [("prange, 2 threads", True, jit_par), ("1 thread", False, jit_ser)]:
        best, med, _ = res[par]
        rows.append(
            (
                f"(a) aishock kernel, {label}",
                "100 (10 x 10)",
                f"{best * 1e3:.2f} ms",
                f"{med * 1e3:.2f} ms",
                f"{grid_ad / best / 1e6:,.0f}",
                f"first call incl. JIT {jit:.1f} s; best of {reps}",
            )
        )
    k = int(np.flatnonzero((xs == 0.05) & (hs == 11))[0])
    notes.append(
        f"kernel X=0.05, H=11: final equity {acc[ACC['final'], k]:.7f}, Sharpe "
        f"{stats['sharpe'][k]:.4f}; numba {numba.__version__}, "
        f"{numba.get_num_threads()} threads ({numba.threading_layer()})"
    )

    # (b)
    import vectorbt as vbt

    size = vbt_orders(close)
    vbt_run(close_df, size)  # JIT warm-up
    t_sched, _, size = timed(lambda: vbt_orders(close), 3)
    best, med, (final_vbt, sharpe_vbt) = timed(lambda: vbt_run(close_df, size), 3 if quick else 5)
    rows.append(
        (
            "(b) vectorbt from_orders, one call",
            "100 (10 x 10)",
            f"{best * 1e3:.0f} ms",
            f"{med * 1e3:.0f} ms",
            f"{grid_ad / best / 1e6:,.1f}",
            f"+ {t_sched * 1e3:.0f} ms to build the order schedule in Python; vectorbt {vbt.__version__}",
        )
    )
    d_final = np.max(np.abs(final_vbt - acc[ACC["final"]]))
    d_sharpe = np.nanmax(np.abs(sharpe_vbt - stats["sharpe"]))
    notes.append(
        f"vectorbt vs kernel over the 100 combinations: max |final equity diff| "
        f"{d_final:.1e}, max |Sharpe diff| {d_sharpe:.1e}"
    )

    # (c)
    import bt

    combos = [(0.05, 11)] if quick else [(0.05, 11), (0.03, 30), (0.12, 1)]
    bt_times = []
    bt_diffs = []
    bt_run(close_df, 0.05, 11)  # warm-up (imports, caches)
    for x, h in combos:
        t = time.perf_counter()
        final_bt = bt_run(close_df, x, h)
        bt_times.append(time.perf_counter() - t)
        kk = int(np.flatnonzero((xs == x) & (hs == h))[0])
        bt_diffs.append(abs(final_bt - acc[ACC["final"], kk]))
    per = statistics.mean(bt_times)
    rows.append(
        (
            "(c) bt, one Backtest per combination",
            f"{len(combos)} timed",
            f"{per * 1e3:.0f} ms / combination",
            f"{statistics.median(bt_times) * 1e3:.0f} ms",
            f"{n_days * n_names / per / 1e6:,.3f}",
            f"100 combinations = {per * 100:.0f} s; bt {bt.__version__}",
        )
    )
    notes.append(f"bt vs kernel final equity on {combos}: max |diff| {max(bt_diffs):.1e}")

    # (d)
    reps_big = 1 if quick else 3
    big = big_sweep_in_subprocess(reps_big)
    for name, (best, med) in big["times"].items():
        rows.append(
            (
                f"(d) aishock{' kernel' if name != 'engine.sweep API' else ''}, fine grid, {name}",
                f"{big['combos']:,} (1000 x 100)",
                f"{best:.2f} s",
                f"{med:.2f} s",
                f"{big['asset_days'] / best / 1e6:,.0f}",
                f"peak RSS {big['peak_rss_mb']:.0f} MB (whole process; "
                f"{big['rss_before_mb']:.0f} MB before the sweeps); best of {reps_big}",
            )
        )
    notes.append(
        f"fine grid: X = 0.0002 .. 0.2 step 0.0002, H = 1 .. 100; best Sharpe "
        f"{big['best_sharpe']:.3f} at X, H = {big['best_at']}"
    )

    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"Sweep benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {n_days} days x {n_names} names, "
        f"{os.cpu_count()} CPUs, load average at the end {load}\n"
    )
    print("| run | combinations | time (best) | median | M asset-days/s | notes |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    for note in notes:
        print(f"- {note}")


if __name__ == "__main__":
    main()
