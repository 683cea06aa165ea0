"""`aishock shocks`: the days a universe fell hard, split into sector-specific shocks (the
detection the strategies use) and market-wide sell-offs."""

from __future__ import annotations

import pandas as pd

from engine import shock
from engine.cli.event import check_fraction
from engine.cli.jsonout import dumps
from engine.config import load_config
from engine.data import checks
from engine.data.panel import no_prices, normalise_symbol
from engine.errors import AishockError
from engine.events import selloffs
from engine.events.members import load_universe


def add(sub) -> None:
    p = sub.add_parser("shocks", help="list sector-specific shock days apart from market-wide sell-offs")
    p.add_argument(
        "--universe",
        default="ai",
        help="AI tag (ai, power, ...), 'all', or a membership CSV with a Symbol column (default: ai)",
    )
    p.add_argument(
        "--min-drop", type=float, default=shock.MIN_DROP, help="group equal-weight fall, fraction (0.07)"
    )
    p.add_argument(
        "--max-market-drop",
        type=float,
        default=shock.MAX_MARKET_DROP,
        help="a shock needs the market to fall less than this, fraction (0.03)",
    )
    p.add_argument("--market", help="market ticker (default from config: SPY)")
    p.add_argument("--start", help="first day to scan (YYYY-MM-DD); default: all data")
    p.add_argument("--end", help="last day to scan (YYYY-MM-DD); default: all data")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.set_defaults(handler=handle)


def _rows(table: pd.DataFrame) -> list[dict]:
    return [
        {
            "date": str(d.date()),
            **{c: float(table.at[d, c]) for c in ("group_return", "market_return", "excess")},
        }
        for d in table.index
    ]


def handle(args) -> int:
    with checks.printed():
        return _shocks(args)


def _shocks(args) -> int:
    check_fraction("--min-drop", args.min_drop)
    check_fraction("--max-market-drop", args.max_market_drop)
    cfg = load_config(args.data)
    market = normalise_symbol(args.market or cfg.benchmark)
    start, end = (pd.Timestamp(x) if x else None for x in _dates(args.start, args.end))
    label, members, close = load_universe(args.universe, cfg, market)
    covered = [t for t in members.index if t in close.columns]
    missing = [t for t in members.index if t not in close.columns]
    if not covered:
        raise AishockError(f"none of the {len(members)} members of '{label}' has prices")
    scanned = close.loc[start:end, covered]
    if scanned.empty or scanned.isna().all().all():  # like `run`: an empty range is an error
        span = (close.index[0], close.index[-1]) if len(close.index) else None
        raise AishockError(no_prices(start, end, span))
    drops = selloffs.big_drops(close, covered, market, args.min_drop, args.max_market_drop).loc[start:end]
    sector = drops[drops["kind"] == selloffs.SECTOR]
    wide = drops[drops["kind"] == selloffs.MARKET_WIDE]
    if args.json:
        out = {
            "universe": label,
            "universe_size": len(members),
            "covered": len(covered),
            "missing": missing,
            "market": market,
            "min_drop": args.min_drop,
            "max_market_drop": args.max_market_drop,
            "shocks": _rows(sector),
            "market_wide": _rows(wide),
        }
        print(dumps(out, indent=2))
        return 0
    print(
        f"{label}: {len(covered)} of {len(members)} members with prices"
        + (f" (missing: {', '.join(missing)})" if missing else "")
    )
    rule = f"equal-weight return <= -{args.min_drop:.1%}"
    print(f"\nSector-specific shocks ({rule} while {market} > -{args.max_market_drop:.1%}):")
    print(_table(sector, market))
    print(f"\nMarket-wide sell-offs ({rule} but {market} <= -{args.max_market_drop:.1%}; not shocks):")
    print(_table(wide, market))
    return 0


def _dates(start, end):
    for name, value in (("--start", start), ("--end", end)):
        if value:
            try:
                pd.Timestamp(value)
            except (ValueError, TypeError):
                raise AishockError(f"{name} '{value}' is not a date; use YYYY-MM-DD") from None
    if start and end and pd.Timestamp(start) > pd.Timestamp(end):
        raise AishockError(f"--start {start} is after --end {end}; swap them")
    return start, end


def _table(table: pd.DataFrame, market: str) -> str:
    if table.empty:
        return "  none"
    shown = pd.DataFrame(
        {
            "group": [f"{v:+.1%}" for v in table["group_return"]],
            market: [f"{v:+.1%}" for v in table["market_return"]],
            "excess": [f"{v:+.1%}" for v in table["excess"]],
        },
        index=pd.Index([str(d.date()) for d in table.index], name="date"),
    )
    return shown.to_string()
