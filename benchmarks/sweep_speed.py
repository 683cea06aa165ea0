"""Sweep speed of every built-in strategy on the compiled engine, against vectorbt on the
same weights, in one process; then the two scale jobs (S&P 500 per-name, 1,000,000
combinations) in fresh subprocesses so that their peak memory is their own.

    .venv/bin/python benchmarks/sweep_speed.py            # everything (about 5 min)
    .venv/bin/python benchmarks/sweep_speed.py --quick    # smaller grids, no scale jobs

Window 2022-01-03..2025-12-31 (1003 trading days). Asset-days = trading days x names the
strategy trades x combinations. For each case and fill (open: next bar's open with 5 bp
slippage; close: next bar's close, no slippage; 5 bp fees in both):
  sweep+stats   the strategy's weights for every combination, the compiled simulator and
                the stats table (engine.sweeps.executors.run_chunks + engine.analytics.run_stats) - what
                a sweep computes per combination; best of 5 after a warm-up call.
  engine.sweep  the public API, which also builds the parameter sets, re-runs the best
                combination through engine.run for its Deflated Sharpe, and checks the grid
                edges (best of 3, after a warm-up call).
  vectorbt      Portfolio.from_orders in one call on the same weights for the first 100
                combinations (a group of columns per combination, shared cash,
                call_seq="auto"), plus its value; inputs built beforehand, not timed.
The "before" column is the issue's measurement of engine.sweep on the old engine
(ms per combination), where it gave one.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import engine  # noqa: E402
from engine import Costs  # noqa: E402
from engine.analytics.run_stats import from_accumulators  # noqa: E402
from engine.backtest.result import from_orders_args  # noqa: E402
from engine.backtest.run import history, needed_tickers  # noqa: E402
from engine.data.universe import resolve  # noqa: E402
from engine.sim.simulate import Market, first_bar  # noqa: E402
from engine.strategy import params, registry  # noqa: E402
from engine.sweeps import executors  # noqa: E402

START, END = "2022-01-03", "2025-12-31"
FILLS = {"open": Costs(fees=0.0005, slippage=0.0005), "close": Costs(fees=0.0005, slippage=0.0, fill="close")}
SP500 = str(ROOT.parent / "shared" / "market" / "sp500_constituents_2024-12-27.csv")


def lin(a, b, n):
    return [round(float(v), 6) for v in np.linspace(a, b, n)]


# (label, strategy, fixed, grid, names traded, before: ms per combination from the issue)
CASES = [
    (
        "oversold_rebound per_name (30 names)",
        "oversold_rebound",
        {"mode": "per_name", "universe": "sweep_job"},
        {"min_drop": lin(0.03, 0.12, 40), "hold_days": list(range(1, 26))},
        lambda p: resolve(p.universe),
        {"close": 1.0, "open": 16.0},
    ),
    (
        "oversold_rebound basket, exits (35 names)",
        "oversold_rebound",
        {"exit_on_recovery": True, "stop_loss": 0.1},
        {"min_drop": lin(0.02, 0.07, 40), "hold_days": list(range(5, 30))},
        lambda p: resolve(p.universe),
        {"open": 58.0},
    ),
    (
        "oversold_rebound basket, inverse-vol, earnings (35 names)",
        "oversold_rebound",
        {"weighting": "inverse_vol", "earnings_within": 30},
        {"min_drop": lin(0.02, 0.07, 40), "top_k": list(range(1, 26))},
        lambda p: resolve(p.universe),
        {},
    ),
    (
        "inference_rotation (13 names)",
        "inference_rotation",
        {},
        {"fraction": lin(0.05, 1.0, 40), "rebalance_days": list(range(1, 26))},
        lambda p: list(dict.fromkeys([*resolve(p.base), *resolve(p.into)])),
        {"open": 150.0},
    ),
    (
        "inference_rotation, relative strength (13 names)",
        "inference_rotation",
        {"relative_strength": True},
        {"fraction": lin(0.05, 1.0, 40), "rebalance_days": list(range(1, 26))},
        lambda p: list(dict.fromkeys([*resolve(p.base), *resolve(p.into)])),
        {"open": 169.0},
    ),
    (
        "inference_pair, beta hedge (13 names)",
        "inference_pair",
        {"hedge": "beta", "event_date": "2022-03-01"},
        {"leg": lin(0.05, 0.5, 40), "rebalance_days": list(range(1, 26))},
        lambda p: [*resolve(p.long), *resolve(p.short)],
        {},
    ),
    (
        "buy_and_hold ai, rebalanced (35 names)",
        "buy_and_hold",
        {"hold": "ai"},
        {"weight": lin(0.1, 1.0, 40), "rebalance_days": list(range(1, 26))},
        lambda p: resolve(p.hold),
        {},
    ),
]


def best_of(fn, repeats: int) -> tuple[float, object]:
    fn()  # warm-up (compilation, caches)
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def vectorbt_seconds(spec, prices, sets, costs, n: int) -> float:
    """One Portfolio.from_orders call on the first n sets' weights (+ value), best of 2."""
    import vectorbt as vbt

    schedule = spec.schedule(prices, sets[:n])
    market = Market.of(prices, schedule.tickers, costs.fill)
    args = from_orders_args(schedule, market, first_bar(prices.index, START), costs, range(n))
    seconds, _ = best_of(lambda: vbt.Portfolio.from_orders(**args).value(), 2)
    return seconds


def measure(quick: bool) -> list[dict]:
    rows = []
    repeats = 2 if quick else 5
    for label, name, fixed, grid, traded, before in CASES:
        spec = registry.get(name)
        if quick:
            grid = {k: v[:: 4 if i == 0 else 1] for i, (k, v) in enumerate(grid.items())}
        sets = params.grid(spec.params, grid, None, fixed)
        prices = engine.load_prices(needed_tickers(spec, sets), end=END)
        prices = history(prices, START, END, None)
        n_names = len(traded(sets[0]))
        days = len(prices.window(START, END).index)
        for fill, costs in FILLS.items():
            job = executors.Job(name, START, END, costs, None, 0.0, 252, False)

            def sweep_stats(job=job, prices=prices, sets=sets, costs=costs):
                acc, *_ = executors.run_chunks(job, prices, sets, "local", None, None, None, False)
                return from_accumulators(acc, costs.init_cash)

            seconds, table = best_of(sweep_stats, repeats)

            def api(name=name, grid=grid, fixed=fixed, costs=costs):
                return engine.sweep(
                    name, grid, (START, END), fixed=fixed, costs=costs, keep_returns=False, progress=False
                )

            api_seconds, _ = best_of(api, 1 if quick else 3)
            vbt_n = min(100, len(sets))
            vbt_seconds = vectorbt_seconds(spec, prices, sets, costs, vbt_n)
            asset_days = days * n_names * len(sets)
            rows.append(
                {
                    "case": label,
                    "fill": fill,
                    "combinations": len(sets),
                    "ms_per_combination": 1e3 * seconds / len(sets),
                    "m_asset_days_per_s": asset_days / seconds / 1e6,
                    "api_ms_per_combination": 1e3 * api_seconds / len(sets),
                    "api_m_asset_days_per_s": asset_days / api_seconds / 1e6,
                    "vbt_ms_per_combination": 1e3 * vbt_seconds / vbt_n,
                    "vbt_m_asset_days_per_s": days * n_names * vbt_n / vbt_seconds / 1e6,
                    "before_ms": before.get(fill),
                    "mean_trades": float(table["n_trades"].mean()),
                }
            )
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def scale_job(kind: str) -> dict:
    """Run in a fresh process: the S&P 500 per-name job or the 1,000,000-combination job."""
    if kind == "sp500":
        universe, start = SP500, "2020-01-02"
        grid = {"min_drop": lin(0.03, 0.12, 100), "hold_days": list(range(1, 101))}
    else:
        universe, start = "sweep_job", START
        grid = {"min_drop": lin(0.03, 0.13, 10_000), "hold_days": list(range(1, 101))}
    fixed = {"mode": "per_name", "universe": universe}
    costs = FILLS["close"]
    # warm the compiled code on a tiny grid first (a fresh process compiles or loads it once)
    engine.sweep("oversold_rebound", {"min_drop": [0.05], "hold_days": [5, 6]}, (start, END), fixed=fixed,
                 costs=costs, progress=False)  # fmt: skip
    t = time.perf_counter()
    r = engine.sweep("oversold_rebound", grid, (start, END), fixed=fixed, costs=costs, progress=False)
    seconds = time.perf_counter() - t
    names = len(resolve(universe))
    days = len(engine.load_prices(["SPY"], start, END).index)
    best = r.best
    return {
        "job": kind,
        "combinations": r.n_trials,
        "names": names,
        "days": days,
        "seconds": seconds,
        "m_asset_days_per_s": days * names * r.n_trials / seconds / 1e6,
        "peak_rss_mb": peak_rss_mb(),
        "best": {k: float(best[k]) for k in ("min_drop", "hold_days", "sharpe")},
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM; getrusage's ru_maxrss survives exec, so a
    subprocess would report its parent's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def markdown(rows: list[dict], scale: list[dict]) -> str:
    fastest = max(r["m_asset_days_per_s"] for r in rows)
    out = [
        "| case | fill | combinations | sweep+stats ms/comb. | M asset-days/s | engine.sweep ms/comb. "
        "| vectorbt ms/comb. | vectorbt M asset-days/s | before ms/comb. | speed-up vs before |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        before = f"{r['before_ms']:g}" if r["before_ms"] else ""
        gain = f"{r['before_ms'] / r['api_ms_per_combination']:.0f}x" if r["before_ms"] else ""
        out.append(
            f"| {r['case']} | {r['fill']} | {r['combinations']:,} | {r['ms_per_combination']:.3f} "
            f"| {r['m_asset_days_per_s']:,.0f} | {r['api_ms_per_combination']:.3f} "
            f"| {r['vbt_ms_per_combination']:.2f} | {r['vbt_m_asset_days_per_s']:.1f} | {before} | {gain} |"
        )
    slowest = min(r["m_asset_days_per_s"] for r in rows)
    out.append("")
    out.append(
        f"- slowest case {slowest:,.0f} M asset-days/s; fastest {fastest:,.0f}; "
        f"ratio {fastest / slowest:.1f}x"
    )
    for s in scale:
        out.append(
            f"- {s['job']}: {s['combinations']:,} combinations x {s['names']} names x {s['days']} days in "
            f"{s['seconds']:.1f} s ({s['m_asset_days_per_s']:,.0f} M asset-days/s), peak RSS "
            f"{s['peak_rss_mb']:,.0f} MB; best Sharpe {s['best']['sharpe']:.3f} at min_drop "
            f"{s['best']['min_drop']:g}, hold_days {s['best']['hold_days']:g}"
        )
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--scale", choices=("sp500", "million"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    if args.scale:
        print(json.dumps(scale_job(args.scale)))
        return
    import numba

    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"Sweep benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {numba.get_num_threads()} numba threads, "
          f"load average before {', '.join(load)}")  # fmt: skip
    rows = measure(args.quick)
    scale = []
    if not args.quick:
        for kind in ("sp500", "million"):
            done = subprocess.run(
                [sys.executable, __file__, "--scale", kind], capture_output=True, text=True, check=True
            )
            scale.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(markdown(rows, scale))
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"\nload average after {', '.join(load)}")


if __name__ == "__main__":
    main()
