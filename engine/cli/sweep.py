"""`aishock sweep STRATEGY --grid name=values ...`: a parameter sweep to parquet + heatmap."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from engine import params
from engine.cli import execution
from engine.cli.jsonout import plain
from engine.config import load_config
from engine.errors import AishockError


def add(sub) -> None:
    p = sub.add_parser("sweep", help="evaluate every combination of a parameter grid")
    p.add_argument("strategy", help="strategy name (see 'aishock list')")
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="NAME=VALUES",
        required=True,
        help="v1,v2,... or start:stop:step (stop included); repeat per parameter",
    )
    execution.add_set_option(p, "fix a non-swept parameter (repeatable)")
    p.add_argument("--window", help="a configured window name or START:END (default: the configured span)")
    p.add_argument("--metric", default="sharpe", help="what 'best' means (default sharpe)")
    p.add_argument("--out", type=Path, help="results parquet (default reports/out/sweep-STRATEGY.parquet)")
    p.add_argument("--executor", choices=("local", "dask"), default="local")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler, e.g. tcp://host:8786 (default: a LocalCluster)",
    )
    p.add_argument("--workers", type=int, help="LocalCluster workers (default: one per core)")
    execution.add_options(p)
    p.add_argument(
        "--walk-forward",
        type=int,
        metavar="FOLDS",
        help="instead: choose the best cell on each of FOLDS in-sample segments, report the next",
    )
    p.add_argument(
        "--anchored", action="store_true", help="walk-forward in-sample segments start at the window start"
    )
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.set_defaults(handler=handle)


def parse_values(text: str) -> list:
    """'a,b,c' -> [a, b, c]; 'start:stop:step' -> numbers from start to stop inclusive."""
    if text.count(":") == 2:
        try:
            a, b, step = (float(v) for v in text.split(":"))
        except ValueError:
            raise AishockError(f"range '{text}' must be start:stop:step numbers") from None
        if step <= 0 or b < a:
            raise AishockError(f"range '{text}' needs step > 0 and stop >= start")
        values = np.round(np.arange(a, b + step / 2, step), 10)
        whole = all(float(v).is_integer() for v in (a, b, step))
        return [int(v) for v in values] if whole else [float(v) for v in values]
    items = [v.strip() for v in text.split(",") if v.strip()]
    if not items:
        raise AishockError(f"no values in '{text}'")
    return items


def parse_grid(items: list[str]) -> dict[str, list]:
    raw = params.parse_assignments(items)
    return {name: parse_values(value) for name, value in raw.items()}


def handle(args) -> int:
    from engine.sweeps.search import sweep
    from reports.manifest import manifest, write_manifest
    from reports.sweep_page import write_sweep_page

    cfg = load_config(args.data)
    costs = execution.costs(args)
    if args.walk_forward is not None:
        return walk_forward_report(args, cfg, costs)
    result = sweep(
        args.strategy,
        parse_grid(args.grid),
        args.window,
        fixed=params.parse_assignments(args.sets),
        costs=costs,
        warmup=args.warmup,
        metric=args.metric,
        executor=args.executor,
        scheduler=args.scheduler,
        workers=args.workers,
        progress=sys.stderr.isatty(),
        config=cfg,
    )
    out = args.out or cfg.reports_dir / f"sweep-{result.strategy}.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    result.table.to_parquet(tmp, index=False)
    tmp.replace(out)
    page = write_sweep_page(out.with_suffix(".html"), result)
    write_manifest(
        page,
        manifest(
            "sweep",
            result.start,
            result.end,
            result.prices,
            strategy=result.strategy,
            grid=parse_grid(args.grid),
            fixed=params.parse_assignments(args.sets),
            costs=vars(costs),
            warmup=args.warmup,
            metric=result.metric,
            trials=result.n_trials,
        ),
    )
    best = {k: plain(v) for k, v in result.best.items()}
    summary = {
        "strategy": result.strategy,
        "start": result.start,
        "end": result.end,
        "trials": result.n_trials,
        "metric": result.metric,
        "best": best,
        "dsr": result.dsr,
        "pbo": None if np.isnan(result.pbo) else result.pbo,
        "warnings": result.warnings,
        "results": str(out),
        "heatmap": str(page),
    }
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        print(result.table.sort_values(result.metric, ascending=False).head(10).to_string(index=False))
        print(
            f"\n{result.n_trials} combinations, {result.start} → {result.end}; best {result.metric} "
            f"{result.best[result.metric]:.3f}"
        )
        pbo = f"{result.pbo:.2f}" if summary["pbo"] is not None else f"n/a ({result.pbo_note})"
        print(f"Deflated Sharpe of the best: {result.dsr:.3f}; probability of backtest overfitting: {pbo}")
        for w in result.warnings:
            print(f"warning: {w}")
        print(f"results: {out}\nheatmap: {page}")
    return 0


def walk_forward_report(args, cfg, costs) -> int:
    """`--walk-forward FOLDS`: the folds table and the stitched out-of-sample stats."""
    from engine.sweeps.walkforward import walk_forward

    wf = walk_forward(
        args.strategy,
        parse_grid(args.grid),
        args.window,
        folds=args.walk_forward,
        anchored=args.anchored,
        metric=args.metric,
        fixed=params.parse_assignments(args.sets),
        costs=costs,
        warmup=args.warmup,
        config=cfg,
    )
    stats = {k: float(v) for k, v in wf.oos_stats.items()}
    if args.json:
        folds = json.loads(wf.folds.to_json(orient="records", date_format="iso"))
        print(json.dumps({"strategy": args.strategy, "folds": folds, "out_of_sample": stats}, indent=2))
    else:
        print(wf.folds.to_string(index=False))
        print("\nstitched out of sample: " + ", ".join(f"{k} {v:.3f}" for k, v in stats.items()))
    return 0
