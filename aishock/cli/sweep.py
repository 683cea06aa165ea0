"""`aishock sweep STRATEGY --grid name=values ...`: a parameter sweep to parquet + heatmap."""

from __future__ import annotations

import contextlib
import json
import re
import sys
from pathlib import Path

import numpy as np

from aishock.cli import execution, tables
from aishock.cli.jsonout import dumps, plain
from aishock.cli.run import check_execution
from aishock.cli.warned import printed
from engine.analytics import run_stats
from engine.config import load_config
from engine.errors import AishockError
from engine.outputs import check_outputs, is_stream, output_folder, write_atomic
from engine.strategy import params, registry
from engine.sweeps import grid as sweep_grid
from reports.artifacts import writable_folder


def add(sub) -> None:
    p = sub.add_parser(
        "sweep",
        help="evaluate every combination of a parameter grid",
        **execution.with_examples(
            "aishock sweep oversold_rebound --grid top_k=3:8:1 --grid min_drop=0.05,0.1 "
            "--window shock_and_recovery --metric sharpe"
        ),
    )
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
    p.add_argument(
        "--window",
        help=f"a configured window ({window_names()}) or START:END (default: the configured span)",
    )
    p.add_argument(
        "--metric",
        default="sharpe",
        help=f"what 'best' means (default sharpe): {metric_choices()}",
    )
    p.add_argument(
        "--out",
        type=Path,
        help="results parquet (default reports/out/sweep-STRATEGY-KEY.parquet, KEY a hash of every input)",
    )
    execution.add_executor_options(p)
    p.add_argument(
        "--max-combinations",
        type=int,
        metavar="N",
        help="refuse a grid above N combinations (default: max_combinations in [tool.aishock])",
    )
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


def window_names() -> str:
    """The named windows of the configuration ([tool.aishock.windows]) for --help; a
    configuration that does not load is left for the command to report."""
    try:
        names = [name for name, _, _ in load_config().windows]
    except AishockError:
        names = []
    return ", ".join(names) if names else "none configured"


def metric_choices() -> str:
    """The sweep metrics with the direction that makes one best (run_stats.BETTER), for --help."""
    higher = [m for m, d in run_stats.BETTER.items() if d > 0 and m in sweep_grid.STAT_COLUMNS]
    lower = [m for m, d in run_stats.BETTER.items() if d < 0 and m in sweep_grid.STAT_COLUMNS]
    return f"highest is best: {', '.join(higher)}; lowest is best: {', '.join(lower)}"


def parse_values(text: str) -> list | params.Range:
    """'a,b,c' -> [a, b, c]; 'start:stop:step' -> a params.Range from start to stop
    inclusive (counted, not built: a grid too big is refused from its count)."""
    if text.count(":") == 2:
        try:
            a, b, step = (float(v) for v in text.split(":"))
        except ValueError:
            raise AishockError(f"range '{text}' must be start:stop:step numbers") from None
        return params.Range(a, b, step, text)
    items = [v.strip() for v in text.split(",") if v.strip()]
    if not items:
        raise AishockError(f"no values in '{text}'")
    return items


def parse_grid(items: list[str]) -> dict[str, list]:
    raw = params.parse_assignments(items, "--grid")
    return {name: parse_values(value) for name, value in raw.items()}


# A range written another way (3-8, 3..8, 3 to 8): the numbers of its ends.
_OTHER_RANGE = re.compile(r"^\s*([-+]?[\d.]+)\s*(?:-|\.\.|–|to)\s*([-+]?[\d.]+)\s*$")


def grid_syntax(name: str, value: str) -> str:
    """How --grid spells values, with an example for `name` (from the ends of `value` when it
    is a range written another way, `top_k=3-8` -> `top_k=3:8:1`)."""
    ends = _OTHER_RANGE.match(value)
    example = f"{name}=3:8:1"
    if ends:
        a, b = ends.groups()
        whole = all(v.lstrip("+-").isdigit() for v in (a, b))
        with contextlib.suppress(ValueError):
            step = 1 if whole else abs(float(b) - float(a)) / 4 or 1
            example = f"{name}={a}:{b}:{step:g}"
    return f"--grid takes a range start:stop:step (stop included) or a comma list of values, e.g. {example}"


def check_names_and_values(spec, grid: dict, fixed: dict) -> None:
    """Before any work: refuse a --set or --grid name `spec` has no parameter for (naming the
    strategy, with a "did you mean"), and a --grid list value its parameter cannot take; for
    a number parameter the refusal says how --grid spells ranges (grid_syntax). A range
    (params.Range) is left to the sweep: it is counted, not built, before the size guard."""
    params.check_names(spec.params, [*grid, *fixed], spec.name)
    for name, values in grid.items():
        if isinstance(values, params.Range):
            continue
        for value in values:
            try:
                params.convert(spec.params, name, value, spec.name)
            except AishockError as e:
                if not params.is_number(spec.params, name):
                    raise
                raise AishockError(f"{e}; {grid_syntax(name, value)}") from None


def check_options(args) -> None:
    """Refuse options that would be silently ignored or make no sense, before any work."""
    dask = args.executor == "dask"
    if args.walk_forward is not None:
        if args.walk_forward < 1:
            raise AishockError(f"--walk-forward needs at least 1 fold, got {args.walk_forward}")
        for given, option in ((args.out is not None, "--out"), (dask, "--executor dask")):
            if given:
                raise AishockError(
                    f"{option} is not used with --walk-forward (it writes no files and runs locally)"
                )
    elif args.anchored:
        raise AishockError("--anchored only applies to --walk-forward FOLDS; add --walk-forward or drop it")
    execution.check_executor(args)
    if args.max_combinations is not None and args.max_combinations < 1:
        raise AishockError(f"--max-combinations must be at least 1, got {args.max_combinations}")
    sweep_grid.check_metric(args.metric)
    grid = parse_grid(args.grid)
    fixed = params.parse_assignments(args.sets)
    both = sorted(set(grid) & set(fixed))
    if both:
        raise AishockError(
            f"{', '.join(both)} given both by --set and by --grid; sweep it or fix it, not both"
        )
    if args.out is not None and args.out.is_dir():
        raise AishockError(f"--out {args.out} is a folder; give a file name ending in .parquet")
    check_names_and_values(registry.get(args.strategy), grid, fixed)


def handle(args) -> int:
    with printed():
        return _sweep(args)


def _sweep(args) -> int:
    from engine.sweeps.grid import sweep
    from reports.manifest import manifest, manifest_path

    cfg = load_config(args.data)
    check_execution(args)
    check_options(args)
    costs = execution.costs(args)
    if args.walk_forward is not None:
        return walk_forward_report(args, cfg, costs)
    # find out now, not after computing, whether the results can be written
    if args.out is None or is_stream(args.out):
        writable_folder(cfg.reports_dir)
    if args.out is not None:
        page = None if is_stream(args.out) else args.out.with_suffix(".html")
        check_outputs(
            ("--out", args.out, "parquet"),
            ("the sweep page", page, "html"),
            ("its manifest", page and manifest_path(page), "json"),
        )
        if page is not None:
            for folder in dict.fromkeys([output_folder(args.out), output_folder(page)]):
                writable_folder(folder, "sweep results")
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
        max_combinations=args.max_combinations,
    )
    info = manifest(
        "sweep",
        result.start,
        result.end,
        result.prices,
        strategy=result.strategy,
        grid=result.grid,
        fixed=params.parse_assignments(args.sets),
        costs=vars(costs),
        warmup=args.warmup,
        metric=result.metric,
        trials=result.n_trials,
    )
    out, page = write_results(args.out, cfg.reports_dir, result, info)
    best = {k: plain(v) for k, v in result.best.items()}  # typed: engine.sweeps.grid.plain_row
    summary = {
        "strategy": result.strategy,
        "start": result.start,
        "end": result.end,
        "trials": result.n_trials,
        "metric": result.metric,
        "best": best,
        "dsr": result.dsr,
        "pbo": None if np.isnan(result.pbo) else result.pbo,
        "spa": spa_json(result),
        "warnings": result.warnings,
        "notes": result.notes,
        "results": str(out),
        "heatmap": str(page),
    }
    print_notes(result.notes)
    if args.json:
        print(dumps(summary, indent=2))
    else:
        top = result.table.sort_values(result.metric, ascending=result.better < 0)
        print(tables.rows(top.head(10)).to_string(index=False))
        print(
            f"\n{result.n_trials} combinations, {result.start} → {result.end}; best {result.metric} "
            f"{result.best[result.metric]:.3f}"
        )
        pbo = f"{result.pbo:.2f}" if summary["pbo"] is not None else f"n/a ({result.pbo_note})"
        print(f"Deflated Sharpe of the best: {result.dsr:.3f}; probability of backtest overfitting: {pbo}")
        if result.spa is not None:
            p = result.spa["pvalues"]
            print(
                f"SPA test, any combination beats buy-and-hold of the universe: p = {p['consistent']:.3f} "
                f"(lower {p['lower']:.3f}, upper {p['upper']:.3f}; block {result.spa['block']} days)"
            )
        else:
            print(f"SPA test: n/a ({result.spa_note})")
        for w in result.warnings:
            print(f"warning: {w}")
        print(f"results: {out}\nheatmap: {page}")
    return 0


def write_results(out: Path | None, reports: Path, result, info: dict) -> tuple[Path, Path]:
    """Write the sweep's results (parquet) and page; return their paths. Without --out both
    go into a report set `sweep-<strategy>-<key>/` of the reports folder with the manifest
    `info` (reports.artifacts.write_set); with --out a stream, the results go there and the
    page into such a set; with --out a file, the page and its manifest go beside it."""
    from reports.artifacts import write_set
    from reports.manifest import write_manifest
    from reports.sweep_page import write_sweep_page

    def parquet(path: Path) -> None:
        write_atomic(path, lambda tmp: result.table.to_parquet(tmp, index=False))

    def draw(path: Path) -> None:
        write_sweep_page(path, result, shared=reports)

    name = f"sweep-{result.strategy}"
    if out is None:
        paths = write_set(reports, name, info, {".parquet": parquet, ".html": draw})
        return paths[".parquet"], paths[".html"]
    try:
        if is_stream(out):
            parquet(out)
            return out, write_set(reports, name, info, {".html": draw})[".html"]
        output_folder(out).mkdir(parents=True, exist_ok=True)
        parquet(out)
        page = out.with_suffix(".html")
        draw(page)
        write_manifest(page, info)
    except OSError as e:
        raise AishockError(
            f"cannot write the sweep results {out}: {e.strerror or type(e).__name__}"
        ) from None
    return out, page


def print_notes(notes) -> None:
    """The sweep's notes (repeated grid values dropped) on stderr, one line each."""
    for note in notes:
        print(f"aishock: note: {note}", file=sys.stderr, flush=True)


def spa_json(result) -> dict:
    """The `spa` key of `sweep --json`: engine.analytics.spa.spa_test's dict (pvalues lower /
    consistent / upper, block, reps, seed, n_models, n_days, best_excess) plus benchmark,
    names and note ""; or {"pvalues": null, "note": why not}."""
    if result.spa is None:
        return {"pvalues": None, "note": result.spa_note}
    return {**result.spa, "note": ""}


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
        max_combinations=args.max_combinations,
    )
    print_notes(wf.notes)
    stats = {k: float(v) for k, v in wf.oos_stats.items()}
    if args.json:
        folds = json.loads(wf.folds.to_json(orient="records", date_format="iso"))
        out = {"strategy": args.strategy, "folds": folds, "out_of_sample": stats, "notes": list(wf.notes)}
        print(dumps(out, indent=2))
    else:
        print(wf.folds.to_string(index=False))
        print("\nstitched out of sample: " + ", ".join(f"{k} {v:.3f}" for k, v in stats.items()))
    return 0
