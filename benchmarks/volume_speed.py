"""Rule 9's price (issue 20), in one process: every built-in strategy's sweep with the volume cap
and square-root impact on, against the same sweep without them; then capacity curves of 12
capital levels for both theses.

    .venv/bin/python benchmarks/volume_speed.py            # full grids (1,000 combinations)
    .venv/bin/python benchmarks/volume_speed.py --quick    # 250 combinations

Sweeps: the cases, window and fills of benchmarks/sweep_speed.py; "plain" is its costs, "rule 9"
the same costs with Costs(participation=0.1, impact=1.0, no_volume="ok") (close-only names fill
uncapped). Each sweep+stats call (strategy weights, compiled simulator, stats table:
engine.sweeps.executors.run_chunks + engine.analytics.run_stats.from_accumulators) is timed
after a warm-up, plain and rule 9 alternating call by call, so a load that comes and goes
hits both alike; best of `--repeats`. Asset-days = trading days x names traded x
combinations.

Capacity: engine.capacity of each thesis's default parameters over the configured span, 12
levels from $100k to $10B (DEFAULT_AUM), the prices loaded beforehand (not timed); best of 5
after a warm-up call.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from sweep_speed import CASES, END, FILLS, START  # noqa: E402

import engine  # noqa: E402
from engine.analytics.run_stats import from_accumulators  # noqa: E402
from engine.backtest import capacity  # noqa: E402
from engine.backtest.run import history, needed_tickers  # noqa: E402
from engine.config import load_config  # noqa: E402
from engine.strategy import params, registry  # noqa: E402
from engine.sweeps import executors  # noqa: E402

RULE9 = {"participation": 0.1, "impact": 1.0, "no_volume": "ok"}


def alternating(fns: dict, repeats: int) -> dict[str, float]:
    """The best seconds of each of `fns` ({name: call}), called in turn `repeats` times after
    one warm-up call each."""
    for fn in fns.values():
        fn()
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t)
    return best


def sweeps(quick: bool, repeats: int) -> list[dict]:
    rows = []
    for label, name, fixed, grid, traded, _ in CASES:
        spec = registry.get(name)
        if quick:
            grid = {k: v[:: 4 if i == 0 else 1] for i, (k, v) in enumerate(grid.items())}
        sets = params.grid(spec.params, grid, None, fixed)
        prices = history(engine.load_prices(needed_tickers(spec, sets), end=END), START, END, None)
        asset_days = len(prices.window(START, END).index) * len(traded(sets[0])) * len(sets)
        for fill, plain in FILLS.items():
            capped = dataclasses.replace(plain, **RULE9)

            def call(costs, prices=prices, sets=sets, name=name):
                job = executors.Job(name, START, END, costs, None, 0.0, 252, False)
                acc, *_ = executors.run_chunks(job, prices, sets, "local", None, None, None, False)
                return from_accumulators(acc, costs.init_cash)

            best = alternating({"plain": lambda p=plain: call(p), "rule9": lambda c=capped: call(c)}, repeats)
            row = {
                "case": label,
                "fill": fill,
                "combinations": len(sets),
                **{f"{k}_m_asset_days_per_s": asset_days / s / 1e6 for k, s in best.items()},
                "ratio": best["rule9"] / best["plain"],
            }
            rows.append(row)
            print(
                f"{label} {fill}: plain {row['plain_m_asset_days_per_s']:,.0f}, rule 9 "
                f"{row['rule9_m_asset_days_per_s']:,.0f} M asset-days/s (x{row['ratio']:.2f})",
                file=sys.stderr,
                flush=True,
            )
    return rows


def curves(repeats: int) -> list[dict]:
    cfg = load_config()
    start, end = cfg.span
    out = []
    for name in ("oversold_rebound", "inference_rotation"):
        spec = registry.get(name)
        prices = engine.load_prices(needed_tickers(spec, [spec.params()]), end=end, config=cfg)
        costs = engine.Costs(**RULE9)

        def one(name=name, prices=prices, costs=costs):
            return capacity.capacity(name, start=start, end=end, costs=costs, prices=prices, config=cfg)

        seconds = alternating({"capacity": one}, repeats)["capacity"]
        c = one()
        out.append(
            {
                "strategy": name,
                "levels": len(c.table),
                "seconds": seconds,
                "half_sharpe_aum": c.half_sharpe_aum,
                "half_return_aum": c.half_return_aum,
                "binding": c.binding,
                "note": c.note,
            }
        )
        print(
            f"capacity {name}: {len(c.table)} levels in {seconds:.3f} s; {c.note}",
            file=sys.stderr,
            flush=True,
        )
    return out


def markdown(rows: list[dict], caps: list[dict]) -> str:
    out = [
        "| case | fill | combinations | plain M asset-days/s | cap + impact M asset-days/s | ratio (time) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['case']} | {r['fill']} | {r['combinations']:,} | {r['plain_m_asset_days_per_s']:,.0f} "
            f"| {r['rule9_m_asset_days_per_s']:,.0f} | {r['ratio']:.2f}x |"
        )
    slowest = min(r["rule9_m_asset_days_per_s"] for r in rows)
    worst = max(r["ratio"] for r in rows)
    out += [
        "",
        f"- slowest case with cap and impact: {slowest:,.0f} M asset-days/s; largest ratio {worst:.2f}x",
    ]
    for c in caps:
        out.append(
            f"- capacity curve, {c['strategy']}: {c['levels']} levels in {c['seconds']:.3f} s; {c['note']}"
        )
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    registry.load_builtin()
    started = time.strftime("%Y-%m-%d %H:%M")
    rows = sweeps(args.quick, args.repeats)
    caps = curves(args.repeats)
    print(f"Volume rules benchmark, {started}, {engine.sim.simulate.nb.get_num_threads()} numba threads")
    print(markdown(rows, caps))


if __name__ == "__main__":
    main()
