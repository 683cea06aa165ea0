"""`aishock generalize`: run a strategy on every group shock of a universe and test whether
it pays across events (engine.generalize), with an HTML page, JSON and CSV."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from aishock.cli import execution
from aishock.cli.jsonout import dumps
from aishock.cli.run import check_execution
from aishock.cli.shocks import add_scaled_options, check_scaled
from aishock.cli.warned import printed
from engine.config import load_config
from engine.errors import AishockError
from engine.outputs import check_outputs, slug, write_csv
from engine.strategy import params, registry

if TYPE_CHECKING:
    from engine.events.generalize import Generalization

from engine.events.generalize import EVENT_COLUMNS

# The per-event keys of --json and the columns of --csv, in order (README: generalize).
EVENT_KEYS = EVENT_COLUMNS


# The most placebo days one run draws: each is one more backtest (500 take seconds; 10,000
# about twenty times as long), and there are only so many non-event days to draw from.
MAX_PLACEBO = 10_000


def check_draws(args) -> None:
    """Refuse a --placebo outside 0..MAX_PLACEBO and a negative --seed, before any work."""
    if not 0 <= args.placebo <= MAX_PLACEBO:
        raise AishockError(
            f"--placebo must be >= 0 and at most {MAX_PLACEBO:,} random days (each is one more backtest), "
            f"got {args.placebo:,}"
        )
    if args.seed < 0:
        raise AishockError(f"--seed must be a whole number >= 0, got {args.seed}")


def add(sub) -> None:
    p = sub.add_parser(
        "generalize",
        help="run a strategy on every sector/industry/role shock and test it across events",
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
        "--placebo",
        type=int,
        default=500,
        metavar="N",
        help=f"random non-event days, 0 to {MAX_PLACEBO:,} (default 500)",
    )
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the placebo draw and bootstraps, >= 0 (default 0)"
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
    execution.add_options(p)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.add_argument("--csv", metavar="PATH", help="also write the per-event table to this CSV file")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=handle)


def handle(args) -> int:
    with printed():
        return _generalize(args)


def _generalize(args) -> int:
    from engine.events.generalize import generalize  # statsmodels and arch load only here
    from reports import generalize_page
    from reports.artifacts import writable_folder

    cfg = load_config(args.data)
    check_execution(args)
    check_scaled(args)
    check_draws(args)
    spec = registry.get(args.strategy)
    overrides = params.parse_assignments(args.sets)
    folder = writable_folder(cfg.reports_dir)
    csv_path = _csv_target(args.csv) if args.csv else None
    g = generalize(
        spec.name,
        universe=args.universe,
        by=args.by,
        params=overrides,
        costs=execution.costs(args),
        placebo=args.placebo,
        seed=args.seed,
        horizon=args.horizon,
        k=args.k,
        min_fall=args.min_fall,
        max_market_drop=args.max_market_drop,
        min_members=args.min_members,
        start=args.start,
        end=args.end,
        config=cfg,
        progress=not (args.no_progress or args.json),
    )
    name = f"generalize-{spec.name}-{slug(g.settings['universe_label'], 'universe')}-{g.by}.html"
    try:
        html = generalize_page.write(g, folder / name)
    except OSError as e:
        raise AishockError(
            f"cannot write the page {folder / name}: {e.strerror or type(e).__name__}; "
            "free some space or set AISHOCK_REPORTS to another folder"
        ) from None
    if csv_path:
        try:
            write_csv(csv_path, event_table(g), index=False)
        except OSError as e:
            raise AishockError(
                f"cannot write --csv {csv_path}: {e.strerror or type(e).__name__}; "
                "free some space or choose another --csv path"
            ) from None
    if args.json:
        print(dumps({**as_json(g), "html": str(html), "csv": str(csv_path) if csv_path else None}, indent=2))
        return 0
    print(_text(g))
    print(f"\npage: {html}" + (f"\ncsv:  {csv_path}" if csv_path else ""))
    return 0


def _csv_target(path: str) -> Path:
    target = Path(path).expanduser()
    if target.is_dir():
        raise AishockError(f"--csv {path} is a folder; give a file name such as events.csv")
    if not target.parent.is_dir():
        raise AishockError(f"--csv {path}: folder {target.parent} does not exist; create it first")
    check_outputs(("--csv", target, "csv"))
    return target


def event_table(g: Generalization):
    """The per-event table as written to --csv (members space-separated)."""
    table = g.events[list(EVENT_KEYS)].copy()
    table["members"] = [" ".join(m) for m in table["members"]]
    for c in ("date", "start", "end"):
        table[c] = [d.date().isoformat() for d in table[c]]
    return table


def as_json(g: Generalization) -> dict:
    """The --json object (keys documented in the README)."""
    events = [{k: row[k] for k in EVENT_KEYS} for row in g.events.to_dict("records")]
    for e in events:
        for c in ("date", "start", "end"):
            e[c] = e[c].date().isoformat()
    return {
        "strategy": g.strategy,
        "universe": g.universe,
        "by": g.by,
        "settings": g.settings,
        "events": events,
        "summary": g.summary,
        "placebo": g.placebo,
        "calendar_time": g.calendar_time,
        "skipped": g.skipped,
    }


def _pct(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:+.2%}"


def _num(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3g}"


def _text(g: Generalization) -> str:
    s, pl, ct = g.summary, g.placebo, g.calendar_time
    lines = [
        f"{g.strategy} on {g.by} shocks of {g.settings['universe_label']}: {s['n_events']} events on "
        f"{s['n_dates']} dates, {g.settings['horizon']} trading days each",
        f"  excess over {g.settings['market']}: mean {_pct(s['mean_excess_market'])}, median "
        f"{_pct(s['median_excess_market'])}, hit rate {_num(s['hit_rate'])}",
        f"  {s['ci_level']:.0%} interval of the mean (dates resampled): "
        f"{_pct(s['ci_low'])} .. {_pct(s['ci_high'])}",
        f"  BMP t {_num(s['t_bmp'])}; Kolari-Pynnonen adjusted t {_num(s['t_kp'])} (p {_num(s['p_kp'])}, "
        f"mean cross-correlation {_num(s['r_bar'])})",
        f"  placebo: {pl['n']} non-event days, mean {_pct(pl['mean'])}; "
        f"p-value of the event mean {_num(pl['p_value'])}",
        f"  calendar time: alpha {_pct(ct['alpha_annual'])} a year, t {_num(ct['t_alpha'])} (HAC), "
        f"beta {_num(ct.get('beta'))}",
    ]
    if g.skipped:
        lines.append(
            f"  skipped (fewer than {g.settings['min_members']} members with prices): {', '.join(g.skipped)}"
        )
    shown = event_table(g).drop(
        columns=["members", "car", "sigma", "market_return_window", "group_return_window"]
    )
    for c in ("group_return", "market_return", "strategy_return", "excess_market", "excess_group"):
        shown[c] = [_pct(v) for v in shown[c]]
    lines += ["", shown.to_string(index=False)]
    return "\n".join(lines)
