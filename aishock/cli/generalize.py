"""`aishock generalize`: run a strategy, or a grid of its parameter sets, on every group shock of
a universe and test whether it pays across events (engine.generalize), with an HTML page, JSON
and CSV."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from aishock.cli import execution
from aishock.cli.jsonout import dumps, plain
from aishock.cli.run import check_execution
from aishock.cli.shocks import add_scaled_options, check_scaled
from aishock.cli.sweep import check_names_and_values, parse_grid, print_notes
from aishock.cli.warned import printed
from engine.config import load_config
from engine.errors import AishockError
from engine.outputs import check_outputs, is_stream, write_csv
from engine.strategy import params, registry

if TYPE_CHECKING:
    from engine.events.generalize import Generalization

from engine.events.generalize import EVENT_COLUMNS

# The per-event keys of --json and the columns of --csv, in order (README: generalize).
EVENT_KEYS = EVENT_COLUMNS

# The most placebo replays of one event date: each is one more backtest per event of the
# date and per parameter set (and there are only so many eligible days to replay on).
MAX_PLACEBO = 10_000
# The most placebo sets: each draws one replay of every date of a set's events, for every parameter set.
MAX_PLACEBO_SETS = 1_000_000
# The largest grid: every set runs every event and its placebo replays, and StepM and SPA
# hold n_boot x sets bootstrap means (80 MB with 1,000 sets and 10,000 draws).
MAX_SETS = 1_000
MAX_SKIPPED = 12  # skipped groups named in the summary; the rest counted
GRID_ROWS = 10  # rows of the grid table printed (every row is in --json and the grid CSV)
LEVEL = 0.05  # StepM's family-wise error rate (engine.events.multiple.stepm's default)


def check_draws(args) -> None:
    """Refuse a --placebo outside 0..MAX_PLACEBO, --placebo-sets outside 1..MAX_PLACEBO_SETS
    and a negative --seed, before any work."""
    if args.placebo is not None and not 0 <= args.placebo <= MAX_PLACEBO:
        raise AishockError(
            f"--placebo must be >= 0 and at most {MAX_PLACEBO:,} replays of each event date (each is one "
            f"more backtest per event and parameter set), got {args.placebo:,}"
        )
    if not 1 <= args.placebo_sets <= MAX_PLACEBO_SETS:
        raise AishockError(
            f"--placebo-sets must be at least 1 and at most {MAX_PLACEBO_SETS:,}, got {args.placebo_sets:,}"
        )
    if args.seed < 0:
        raise AishockError(f"--seed must be a whole number >= 0, got {args.seed}")


def check_grid(args, spec) -> tuple[dict | None, list[str]]:
    """The --grid as engine.generalize takes it ({name: distinct values}, None without --grid)
    and the notes on repeated values dropped; refused in one line before any work: a name
    both swept and fixed by --set, a name the strategy does not have, a value the parameter
    cannot take, a grid above MAX_SETS."""
    fixed = params.parse_assignments(args.sets)
    if not args.grid:
        check_names_and_values(spec, {}, fixed)
        return None, []
    from engine.sweeps import grid as sweep_grid

    grid = parse_grid(args.grid)
    both = sorted(set(grid) & set(fixed))
    if both:
        raise AishockError(
            f"{', '.join(both)} given both by --set and by --grid; sweep it or fix it, not both"
        )
    check_names_and_values(spec, grid, fixed)
    n = sweep_grid.grid_size(grid)
    if n > MAX_SETS:
        raise AishockError(
            f"--grid has {n:,} combinations; generalize takes at most {MAX_SETS:,} (each runs every "
            "event and its placebo replays); sweep fewer values"
        )
    return sweep_grid.distinct_grid(spec, grid)


def add(sub) -> None:
    p = sub.add_parser(
        "generalize",
        help="run a strategy (or a grid of its parameter sets) on every sector/industry/role shock and "
        "test it across events",
        **execution.with_examples(
            "aishock generalize oversold_rebound --universe ai --by role --grid top_k=3,5 --placebo 10"
        ),
    )
    p.add_argument("strategy", help="a strategy with universe and event_date parameters (see 'aishock list')")
    p.add_argument(
        "--universe",
        default="ai",
        help="AI tag (ai, ...) or a membership CSV with GICS columns (default: ai)",
    )
    p.add_argument(
        "--by", choices=("sector", "industry", "role"), help="grouping (default: role for ai, else sector)"
    )
    execution.add_set_option(p, "strategy parameter (repeatable); universe and event_date are set per event")
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="NAME=VALUES",
        help="sweep a parameter: v1,v2,... or start:stop:step (stop included), as 'aishock sweep' takes "
        f"it; repeat per parameter (at most {MAX_SETS:,} sets). Adds StepM, SPA and a walk-forward",
    )
    p.add_argument(
        "--overlap",
        choices=("merge", "keep"),
        default="merge",
        help="an event of a group inside the window of its earlier event: merged into it (default) or kept",
    )
    p.add_argument(
        "--placebo",
        type=int,
        metavar="N",
        help=f"placebo replays of each event date, 0 to {MAX_PLACEBO:,} (default: every eligible day for "
        "one set, 10 for a grid)",
    )
    p.add_argument(
        "--placebo-sets",
        type=int,
        default=10_000,
        metavar="N",
        help="placebo sets drawn from the replays, each one replay of every date of the set's events "
        "(default 10000)",
    )
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the placebo draws and bootstraps, >= 0 (default 0)"
    )
    p.add_argument(
        "--horizon",
        type=int,
        metavar="DAYS",
        help="trading days after the event (default: hold_days + 1 when the strategy has it, else 21)",
    )
    add_scaled_options(p, market_drop=True)
    p.add_argument("--start", help="first event date to include (YYYY-MM-DD)")
    p.add_argument("--end", help="last event date to include (YYYY-MM-DD)")
    execution.add_executor_options(p)
    execution.add_options(p, warmup=False)  # every event's strategy sees the whole history
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.add_argument(
        "--csv",
        metavar="PATH",
        help="also write the per-event table (of the set shown) to this CSV file; with --grid also "
        "the grid table, one row per set, to PATH's stem + '-grid.csv' beside it",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=handle)


def handle(args) -> int:
    with printed():
        return _generalize(args)


def _generalize(args) -> int:
    from engine.events.generalize import generalize  # statsmodels and arch load only here
    from reports.artifacts import writable_folder, write_generalization

    cfg = load_config(args.data)
    check_execution(args)
    check_scaled(args)
    check_draws(args)
    execution.check_executor(args)
    spec = registry.get(args.strategy)
    overrides = params.parse_assignments(args.sets)
    grid, notes = check_grid(args, spec)
    folder = writable_folder(cfg.reports_dir)
    csv_path = _csv_target(args.csv) if args.csv else None
    grid_path = grid_csv_path(csv_path) if csv_path and grid else None
    if grid_path and is_stream(csv_path):
        raise AishockError(
            f"--csv {args.csv} is a stream; with --grid give a file name (the grid table goes beside it)"
        )
    if grid_path:
        check_outputs(("--csv", csv_path, "csv"), ("the grid CSV", grid_path, "csv"))
    print_notes(notes)
    g = generalize(
        spec.name,
        universe=args.universe,
        by=args.by,
        params=overrides,
        grid=grid,
        costs=execution.costs(args),
        placebo=args.placebo,
        placebo_sets=args.placebo_sets,
        seed=args.seed,
        horizon=args.horizon,
        k=args.k,
        min_fall=args.min_fall,
        max_market_drop=args.max_market_drop,
        min_members=args.min_members,
        overlap=args.overlap,
        start=args.start,
        end=args.end,
        config=cfg,
        progress=not (args.no_progress or args.json),
        executor=args.executor,
        scheduler=args.scheduler,
        workers=args.workers,
    )
    html = write_generalization(folder, g, args.start, args.end)
    for path, table in ((csv_path, event_table), (grid_path, grid_table)):
        if path:
            try:
                write_csv(path, table(g), index=False)
            except OSError as e:
                raise AishockError(
                    f"cannot write --csv {path}: {e.strerror or type(e).__name__}; "
                    "free some space or choose another --csv path"
                ) from None
    if args.json:
        out = {**as_json(g), "html": str(html), "csv": str(csv_path) if csv_path else None}
        out["grid_csv"] = str(grid_path) if grid_path else None
        print(dumps(out, indent=2))
        return 0
    print(_text(g))
    print(
        f"\npage: {html}"
        + (f"\ncsv:  {csv_path}" if csv_path else "")
        + (f"\ngrid: {grid_path}" if grid_path else "")
    )
    return 0


def _csv_target(path: str) -> Path:
    target = Path(path).expanduser()
    if target.is_dir():
        raise AishockError(f"--csv {path} is a folder; give a file name such as events.csv")
    if not target.parent.is_dir():
        raise AishockError(f"--csv {path}: folder {target.parent} does not exist; create it first")
    check_outputs(("--csv", target, "csv"))
    return target


def grid_csv_path(csv_path: Path) -> Path:
    """Where the grid table goes beside --csv PATH: PATH's stem + '-grid.csv' (events.csv ->
    events-grid.csv)."""
    return csv_path.with_name(f"{csv_path.stem}-grid.csv")


def event_table(g: Generalization) -> pd.DataFrame:
    """The per-event table as written to --csv (members and picks space-separated)."""
    table = g.events[list(EVENT_KEYS)].copy()
    for c in ("members", "picked"):
        table[c] = [" ".join(m) for m in table[c]]
    for c in ("date", "start", "end"):
        table[c] = [d.date().isoformat() for d in table[c]]
    return table


def grid_table(g: Generalization) -> pd.DataFrame:
    """The grid table as written beside --csv: one row per set, its swept values then its
    statistics (engine.events.generalize), `shown` marking the set the page details."""
    table = g.grid.copy()
    table["shown"] = np.arange(len(table)) == g.shown
    return table


def jsonable(value):
    """`value` as plain JSON values: numpy arrays as lists, dates (numpy, pandas, datetime at
    midnight) as ISO dates, numbers as Python ints, floats and bools (NaN: null)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | pd.Index):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "M":
            return [jsonable(pd.Timestamp(v)) if not pd.isna(v) else None for v in value]
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, pd.Timestamp):
        return (
            None
            if pd.isna(value)
            else value.date().isoformat()
            if value == value.normalize()
            else value.isoformat()
        )
    return plain(value)


def _grid_rows(g: Generalization) -> list[dict]:
    return [jsonable(row) for row in grid_table(g).to_dict("records")]


def _walk_forward(g: Generalization) -> dict | None:
    """engine.events.multiple.walk_forward's dict, each fold's chosen set also by its swept
    values (`chosen_params`)."""
    if g.walk_forward is None:
        return None
    wf = dict(g.walk_forward)
    wf["folds"] = [
        {**fold, "chosen_params": None if fold["chosen"] is None else set_values(g, fold["chosen"])}
        for fold in wf["folds"]
    ]
    return jsonable(wf)


def set_values(g: Generalization, row: int) -> dict:
    """The swept values of grid row `row` ({} for one set)."""
    return {name: plain(g.grid.iloc[row][name]) for name in g.swept}


def as_json(g: Generalization) -> dict:
    """The --json object (keys documented in the README)."""
    events = [{k: row[k] for k in EVENT_KEYS} for row in g.events.to_dict("records")]
    return {
        "strategy": g.strategy,
        "universe": g.universe,
        "by": g.by,
        "settings": jsonable(g.settings),
        "swept": list(g.swept),
        "shown": int(g.shown),
        "summary": jsonable(g.summary),
        "placebo": jsonable(g.placebo),
        "calendar_time": jsonable(g.calendar_time),
        "dropped": jsonable(g.dropped),
        "skipped": jsonable(g.skipped),
        "grid": _grid_rows(g),
        "stepm": jsonable(g.stepm),
        "spa": jsonable(g.spa),
        "walk_forward": _walk_forward(g),
        "events": jsonable(events),
    }


# -- the terminal summary ------------------------------------------------------------------


def _missing(x) -> bool:
    return x is None or (isinstance(x, float | np.floating) and math.isnan(x))


def pct(x, signed: bool = True) -> str:
    """A fraction as a percentage with a % sign (2 decimals; signed unless `signed` is False)."""
    return "n/a" if _missing(x) else f"{x:+.2%}" if signed else f"{x:.2%}"


def pval(x) -> str:
    """A p-value to 3 decimals ('<0.001' below 0.0005)."""
    return "n/a" if _missing(x) else "<0.001" if x < 0.0005 else f"{x:.3f}"


def mc_se(x) -> str:
    """A Monte Carlo standard error of a p-value: 3 decimals, or 1 significant digit below 0.0005."""
    return "n/a" if _missing(x) else f"{x:.3f}" if x >= 0.0005 else f"{x:.1g}"


def share(x) -> str:
    """A fraction as an unsigned whole percentage."""
    return "n/a" if _missing(x) else f"{x:.0%}"


def num(x, digits: int = 2) -> str:
    return "n/a" if _missing(x) else f"{x:.{digits}f}"


def _set_text(g: Generalization, row: int) -> str:
    return ", ".join(f"{k}={v}" for k, v in set_values(g, row).items())


def _interval(low, high) -> str:
    return f"{pct(low)} to {pct(high)}"


def _placebo_text(g: Generalization) -> str:
    s, pl = g.summary, g.placebo
    if _missing(s["placebo_p"]):
        return "placebo: none run (--placebo 0, or no eligible day)"
    return (
        f"placebo p {pval(s['placebo_p'])} ± {mc_se(s['placebo_se'])} (Monte Carlo error; {pl['n_sets']:,} "
        f"placebo sets, each one replay of every one of the set's {pl['n_dates']} event dates, from up to "
        f"{pl['n_replays']:,} replays a date; mean CAR of the sets {pct(s['placebo_mean'])})"
    )


def _grid_text(g: Generalization) -> list[str]:
    st, sp, wf = g.stepm, g.spa, g.walk_forward
    n = len(g.grid)
    lines = [
        "",
        f"grid: {n} sets over {' x '.join(g.swept)}; the set above has the best mean CAR (in sample)",
    ]
    survivors = np.flatnonzero(np.asarray(st["rejected"], dtype=bool))
    head = f"  StepM (Romano-Wolf) at {st['alpha']:.0%}: {len(survivors)} of {n} sets have a mean CAR above 0"
    if len(survivors):
        named = "; ".join(_set_text(g, int(s)) for s in survivors[:5])
        head += f" ({named}{'; ...' if len(survivors) > 5 else ''})"
    lines.append(head + f", the family-wise error rate held at {st['alpha']:.0%} over all {n}")
    p = sp["pvalues"]
    lines.append(
        f"  SPA (Hansen) p that no set's mean CAR is above 0: {pval(p['consistent'])} (lower "
        f"{pval(p['lower'])}, upper {pval(p['upper'])} = White's Reality Check)"
    )
    if wf["n_folds"]:
        ci = wf["ci"]
        lines.append(
            f"  walk-forward: the set with the best mean CAR on the events before each of {wf['n_folds']} "
            f"cut-offs, scored on the next fold only: out-of-sample mean CAR {pct(wf['oos_mean'])} over "
            f"{wf['oos_n']} events ({ci['level']:.0%} interval {_interval(ci['low'], ci['high'])}, "
            f"{ci['n_clusters']} dates resampled); {wf['oos_untraded']} not traded by the chosen set"
        )
        for f in wf["folds"]:
            chosen = "no set" if f["chosen"] is None else _set_text(g, f["chosen"])
            lines.append(
                f"    from {pd.Timestamp(f['cutoff']).date()}: {chosen}, in sample {pct(f['is_mean'])} "
                f"({f['is_n']} events), out of sample {pct(f['oos_mean'])} ({f['oos_n']} events)"
            )
    else:
        lines.append(
            f"  walk-forward: no fold: the events fall on {wf['n_dates']} dates and the first "
            f"{wf['min_train_dates']} are in sample only"
        )
    top = g.grid.assign(shown=np.arange(n) == g.shown).sort_values("mean_car", ascending=False)
    top = top.head(GRID_ROWS)
    shown = top[list(g.swept)].copy()
    shown["events"] = top["n_events"]
    shown["mean CAR"] = [pct(v) for v in top["mean_car"]]
    shown["95% interval"] = [_interval(a, b) for a, b in zip(top["ci_low"], top["ci_high"], strict=True)]
    shown["adj. t"] = [num(v) for v in top["t_adj"]]
    shown["adj. p"] = [pval(v) for v in top["p_adj"]]
    shown["placebo p"] = [pval(v) for v in top["placebo_p"]]
    shown["StepM"] = ["survives" if v else "-" for v in top["survives_stepm"]]
    what = f"the {len(top)} best of {n} by mean CAR" if len(top) < n else f"all {n} by mean CAR"
    lines += ["", f"{what} (every set in --json and the grid CSV):", shown.to_string(index=False)]
    return lines


def _text(g: Generalization) -> str:
    s, ct, st = g.summary, g.calendar_time, g.settings
    market = st["market"]
    chosen = f" ({_set_text(g, g.shown)})" if g.swept else ""
    lines = [
        f"{g.strategy}{chosen} on {g.by} shocks of {st['universe_label']}: {s['n_events']} events traded, "
        f"{st['horizon']} trading days each",
        f"  mean CAR (market model against {market}) {pct(s['mean_car'])}, 95% interval "
        f"{_interval(s['ci_low'], s['ci_high'])} (event dates resampled, {st['n_boot']:,} draws)",
        f"  adjusted t {num(s['t_adj'])}, p {pval(s['p_adj'])} (BMP t {num(s['t_bmp'])} adjusted for "
        f"events sharing days: mean cross-correlation {num(s['c_bar'], 3)}, {s['n_pairs']} pairs)",
        f"  {_placebo_text(g)}",
        f"  median CAR {pct(s['median_car'])}, date-clustered mean {pct(s['clustered_mean_car'])}, "
        f"hit rate {share(s['hit_rate'])} (share of events with CAR > 0)",
        f"  excess over {market} over the holding interval: mean {pct(s['mean_excess_market'])} after costs "
        f"({pct(s['mean_gross_excess'])} before); mean costs {pct(s['mean_costs'], signed=False)}",
        f"  events: {s['n_events']} traded, {s['n_events'] - s['n_no_model']} of them with a market model, "
        f"on {s['n_dates']} dates ({s['n_no_model']} too early in the data for one); {s['n_not_traded']} not "
        "traded (the rule did not fire); dropped "
        f"before running: {g.dropped['truncated']} truncated by the data's end, {g.dropped['merged']} merged "
        "into an earlier event of their group",
        f"  calendar time: alpha {pct(ct['alpha_annual'])} a year, t {num(ct['t_alpha'])} (HAC), "
        f"beta {num(ct.get('beta'))}",
    ]
    if g.skipped:
        lines.append(
            f"  skipped (fewer than {st['min_members']} members with prices): "
            + ", ".join(map(str, list(g.skipped)[:MAX_SKIPPED]))
            + (f", ... +{len(g.skipped) - MAX_SKIPPED} more" if len(g.skipped) > MAX_SKIPPED else "")
        )
    if g.stepm is not None:
        lines += _grid_text(g)
    table = event_table(g).drop(columns=["members", "picked", "start", "sigma", "gross_return"])
    for c in (
        "group_return",
        "market_return",
        "strategy_return",
        "market_return_window",
        "excess_market",
        "car",
    ):
        table[c] = [pct(v) for v in table[c]]
    table["costs"] = [pct(v, signed=False) for v in table["costs"]]
    for c in ("beta", "scar"):
        table[c] = [num(v) for v in table[c]]
    table["traded"] = ["yes" if v else "no" for v in table["traded"]]
    what = f"events of the set shown ({_set_text(g, g.shown)})" if g.swept else "events"
    lines += ["", f"{what}:", table.to_string(index=False)]
    return "\n".join(lines)
