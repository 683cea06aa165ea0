"""`aishock event DATE`: what a universe did around a date, with point-in-time membership, as a
terminal table, a CSV (one row per member), JSON and an HTML page under reports/out/."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from aishock.cli.execution import with_examples
from aishock.cli.jsonout import dumps, plain
from aishock.cli.warned import printed
from engine import outputs
from engine.config import load_config
from engine.errors import AishockError
from engine.events import abnormal, shocks
from engine.events import study as event
from engine.events.members import load_universe
from engine.outputs import check_outputs, is_stream, output_folder
from engine.symbols import normalise_symbol
from reports.artifacts import writable_folder, write_event
from reports.event_page import members_table
from reports.table import fmt

CSV_COLUMNS = (
    "ticker",
    "security",
    "sector",
    "role",
    "status",
    "prev_close",
    "event_close",
    "event_return",
    "runup_ytd",
    "runup_recent",
    "ret_after_5d",
    "ret_after_20d",
    "ret_after_60d",
    "max_drawdown_after",
    "days_to_recover",
    "abnormal_return",
    "car_window",
    "beta",
)
TERMINAL = {
    "role": ("role", "text"),
    "sector": ("sector", "text"),
    "event_return": ("day0", "pct"),
    "runup_ytd": ("ytd", "pct"),
    "runup_recent": ("recent", "pct"),
    "ret_after_5d": ("+5d", "pct"),
    "ret_after_20d": ("+20d", "pct"),
    "ret_after_60d": ("+60d", "pct"),
    "max_drawdown_after": ("furtherDD", "pct"),
    "days_to_recover": ("recovered", "days"),
    "abnormal_return": ("AR0", "pct"),
    "car_window": ("CAR", "pct"),
}
GROUP_TERMINAL = {
    "n": ("n", "count"),
    "mean_return": ("mean", "pct"),
    "median_return": ("median", "pct"),
    "advancers": ("up", "count"),
    "decliners": ("down", "count"),
    "car_event": ("CAR0", "pct"),
    "t_event": ("t0", "num"),
    "car_post": ("CARpost", "pct"),
    "t_post": ("tpost", "num"),
    "car_window": ("CARwin", "pct"),
    "t_window": ("twin", "num"),
    "p_window": ("pwin", "p"),
}


# Trading days of the market model's estimation window (--estimation).
ESTIMATION = 250


def add(sub) -> None:
    p = sub.add_parser(
        "event",
        help="event study: what a universe did around a date",
        **with_examples("aishock event 2025-01-27 --universe ai --window -10:60"),
    )
    p.add_argument("date", help="the event day (YYYY-MM-DD), a trading day in the data")
    p.add_argument(
        "--universe",
        default="ai",
        help="AI tag (ai, power, inference, ...), 'all' (every ticker in the data), or a membership "
        "CSV with a Symbol column (default: ai)",
    )
    p.add_argument("--window", default="-10:60", help="trading days around the event, -BEFORE:AFTER (-10:60)")
    p.add_argument("--runup-days", type=int, default=20, help="recent run-up look-back, trading days (20)")
    p.add_argument(
        "--model",
        choices=abnormal.MODELS,
        default="market",
        help="abnormal returns: market model fitted before the window, or adjusted (minus the market)",
    )
    p.add_argument(
        "--estimation",
        type=int,
        help=f"with --model market: estimation window, trading days ({ESTIMATION})",
    )
    p.add_argument("--market", help="market ticker (default from config: SPY)")
    p.add_argument("--top", type=int, default=5, help="names listed at each end (5)")
    p.add_argument("--min-drop", type=float, default=shocks.MIN_DROP, help="shock test: group fall (0.07)")
    p.add_argument(
        "--max-market-drop", type=float, default=shocks.MAX_MARKET_DROP, help="shock test: market fall (0.03)"
    )
    p.add_argument("--csv", metavar="PATH", help="write one row per member to PATH")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    # `--window -10:60` is a value, not an option
    p._negative_number_matcher = re.compile(r"^-\d")
    p.set_defaults(handler=handle)


def check(args) -> None:
    """Refuse nonsensical numbers, and --estimation with a model that has no estimation
    window (--model adjusted), before any work; then default --estimation to ESTIMATION."""
    if args.estimation is not None and args.model != "market":
        raise AishockError(
            f"--estimation only applies to --model market (--model {args.model} fits nothing); "
            "drop --estimation or use --model market"
        )
    if args.estimation is None:
        args.estimation = ESTIMATION
    for name, value, low in (("--runup-days", args.runup_days, 1), ("--estimation", args.estimation, 20)):
        if value < low:
            raise AishockError(f"{name} must be at least {low} trading days, got {value}")
    if args.top < 1:
        raise AishockError(f"--top must be at least 1, got {args.top}")
    check_fraction("--min-drop", args.min_drop)
    check_fraction("--max-market-drop", args.max_market_drop)


def check_fraction(name: str, value: float) -> None:
    if not 0 < value < 1:
        raise AishockError(f"{name} must be a fraction between 0 and 1 (0.07 = 7%), got {value}")


def handle(args) -> int:
    with printed():
        return _event(args)


def _event(args) -> int:
    check(args)
    cfg = load_config(args.data)
    pre, post = event.parse_window(args.window)
    market = normalise_symbol(args.market or cfg.benchmark)
    writable_folder(cfg.reports_dir)  # before the study: a bad reports folder fails now
    if args.csv:
        if Path(args.csv).is_dir():
            raise AishockError(f"--csv {args.csv} is a folder; give a file name")
        check_outputs(("--csv", args.csv, "csv"))
        if not is_stream(args.csv):
            writable_folder(output_folder(args.csv), "the --csv file")
    label, members, prices = load_universe(args.universe, cfg, market, event.BENCHMARKS)
    s = event.study(
        prices.close,
        members,
        args.date,
        pre=pre,
        post=post,
        runup_days=args.runup_days,
        market=market,
        model=args.model,
        estimation=args.estimation,
        min_drop=args.min_drop,
        max_market_drop=args.max_market_drop,
    )
    page = write_event(cfg.reports_dir, s, label, prices, args.top)
    if args.csv:
        write_csv(s, args.csv)
    if args.json:
        print(dumps(as_json(s, label, args.top, page, args.csv), indent=2))
    else:
        print(terminal(s, label, args.top))
        print(f"\npage: {page}" + (f"\ncsv:  {args.csv}" if args.csv else ""))
    return 0


def csv_frame(s: event.EventStudy) -> pd.DataFrame:
    """The per-member table with the CSV_COLUMNS, in membership order."""
    out = s.table.reset_index()[list(CSV_COLUMNS)]
    return out.astype({"days_to_recover": "Int64"})


def write_csv(s: event.EventStudy, path: str) -> None:
    """The per-member table to `path` (engine.outputs.write_csv: atomic, text cells made safe)."""
    try:
        if not is_stream(path):
            output_folder(path).mkdir(parents=True, exist_ok=True)
        outputs.write_csv(path, csv_frame(s), index=False)
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise AishockError(f"cannot write {path}: {reason}; choose another --csv path") from None


def as_json(s: event.EventStudy, label: str, k: int, page, csv_path) -> dict:
    """The --json object (fractions for returns, trading days for windows)."""
    ranked = s.ranked()
    b = s.breadth
    pairs = lambda r: [{"ticker": t, "return": plain(v)} for t, v in r.items()]  # noqa: E731
    return {
        "date": str(s.date.date()),
        "prev_date": str(s.prev_date.date()),
        "universe": label,
        "universe_size": len(s.table),
        "covered": len(s.covered),
        "missing": s.missing,
        "missing_status": {t: s.table.at[t, "status"] for t in s.missing},
        "advancers": b["advancers"],
        "decliners": b["decliners"],
        "unchanged": b["unchanged"],
        "bottom": pairs(ranked.head(k)),
        "top": pairs(ranked.tail(k).iloc[::-1]),
        "groups": {
            kind: {str(g): {c: plain(v) for c, v in row.items()} for g, row in frame.iterrows()}
            for kind, frame in s.groups.items()
        },
        "benchmarks": {t: {c: plain(v) for c, v in row.items()} for t, row in s.benchmarks.iterrows()},
        "shock": s.shock,
        "window": [-s.pre, s.post],
        "model": s.model,
        "market": s.market,
        "html": str(page),
        "csv": str(csv_path) if csv_path else None,
    }


def _text_table(frame: pd.DataFrame, columns: dict, first: str) -> str:
    cols = {c: spec for c, spec in columns.items() if c in frame.columns}
    shown = pd.DataFrame(
        {h: [fmt(v, kind) if kind != "text" else str(v) for v in frame[c]] for c, (h, kind) in cols.items()},
        index=pd.Index([str(i) for i in frame.index], name=first),
    )
    return shown.to_string()


def terminal(s: event.EventStudy, label: str, k: int) -> str:
    b = s.breadth
    missing = ", ".join(f"{t} ({s.table.at[t, 'status']})" for t in s.missing) or "none"
    bench = ", ".join(f"{t} {r:+.1%}" for t, r in s.benchmarks["event_return"].items())
    ranked = s.ranked()
    verdict = "a detected sector-specific shock" if s.shock["detected"] else "not a detected shock"
    lines = [
        f"Event study: {label} on {s.date.date()} ({s.date.day_name()}) vs the close of "
        f"{s.prev_date.date()}; window -{s.pre}..+{s.post} trading days",
        f"members {len(s.table)}, covered {len(s.covered)}, missing {len(s.missing)}: {missing}",
        f"advancers {b['advancers']}, decliners {b['decliners']}, unchanged {b['unchanged']}; "
        f"equal-weight {s.shock['group_return']:+.1%} vs {s.market} "
        f"{s.shock['market_return']:+.1%}: {verdict}",
        f"market and sector ETFs: {bench}",
        f"bottom {k}: " + ", ".join(f"{t} {r:+.1%}" for t, r in ranked.head(k).items()),
        f"top {k}:    " + ", ".join(f"{t} {r:+.1%}" for t, r in ranked.tail(k).iloc[::-1].items()),
    ]
    for kind, frame in s.groups.items():
        lines += ["", f"by {kind} (CAR: {s.model} model abnormal returns; t: cross-sectional)"]
        lines.append(_text_table(frame, GROUP_TERMINAL, kind))
    table = members_table(s).loc[[*ranked.index, *s.missing]]
    lines += ["", "per name (returns as %, recovered = trading days to regain the pre-event close)"]
    lines.append(_text_table(table, TERMINAL, "ticker"))
    return "\n".join(lines)
