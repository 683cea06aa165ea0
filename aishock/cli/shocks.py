"""`aishock shocks`: the days a universe fell hard, split into sector-specific shocks (the
detection the strategies use) and market-wide sell-offs; with --by, the shocks of every
sector, industry or AI role, each scaled to its group's volatility (engine.events.shocks)."""

from __future__ import annotations

import math

import pandas as pd

from aishock.cli.event import check_fraction
from aishock.cli.execution import with_examples
from aishock.cli.jsonout import dumps
from aishock.cli.warned import printed
from engine.config import load_config
from engine.data.panel import no_prices
from engine.errors import AishockError
from engine.events import groups as grouping
from engine.events import selloffs, shocks
from engine.events.members import load_universe
from engine.symbols import normalise_symbol


def add(sub) -> None:
    p = sub.add_parser(
        "shocks",
        help="list sector-specific shock days apart from market-wide sell-offs",
        **with_examples("aishock shocks --universe ai --start 2025-01-01 --end 2025-06-30"),
    )
    p.add_argument(
        "--universe",
        default="ai",
        help="AI tag (ai, power, ...), 'all', or a membership CSV with a Symbol column (default: ai)",
    )
    p.add_argument(
        "--min-drop",
        type=float,
        help=f"without --by: group equal-weight fall, fraction (default {shocks.MIN_DROP:g})",
    )
    p.add_argument(
        "--max-market-drop",
        type=float,
        default=shocks.MAX_MARKET_DROP,
        help="a shock needs the market to fall less than this, fraction (0.03)",
    )
    p.add_argument("--market", help="market ticker (default from config: SPY)")
    p.add_argument("--start", help="first day to scan (YYYY-MM-DD); default: all data")
    p.add_argument("--end", help="last day to scan (YYYY-MM-DD); default: all data")
    p.add_argument(
        "--by",
        choices=("sector", "industry", "role"),
        help="scan every group: GICS sector or sub-industry (membership CSV) or AI role (ai)",
    )
    add_scaled_options(p, market_drop=False)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    # None: not given (each scan refuses the other's options, then takes its defaults)
    p.set_defaults(handler=handle, min_drop=None, k=None, min_fall=None, min_members=None)


# The options of one scan that the other would ignore: (dest, flag, default).
PLAIN_ONLY = (("min_drop", "--min-drop", shocks.MIN_DROP),)
BY_ONLY = (
    ("k", "--k", shocks.K_SD),
    ("min_fall", "--min-fall", shocks.MIN_FALL),
    ("min_members", "--min-members", shocks.MIN_MEMBERS),
)


def check_scan_options(args) -> None:
    """Refuse the options the chosen scan would ignore (--min-drop with --by; --k, --min-fall,
    --min-members without it), then give the others their defaults."""
    ignored, used = (PLAIN_ONLY, BY_ONLY) if args.by else (BY_ONLY, PLAIN_ONLY)
    given = [flag for dest, flag, _ in ignored if getattr(args, dest) is not None]
    if given and args.by:
        raise AishockError(
            f"{', '.join(given)} is the plain scan's fixed fall, not used with --by (scaled to each "
            "group's volatility: --k, --min-fall); drop it or drop --by"
        )
    if given:
        raise AishockError(
            f"{', '.join(given)} only appl{'ies' if len(given) == 1 else 'y'} with --by (group shocks "
            "scaled to each group's volatility); add --by sector|industry|role or drop "
            f"{'it' if len(given) == 1 else 'them'}"
        )
    for dest, _, default in used:
        if getattr(args, dest) is None:
            setattr(args, dest, default)


def add_scaled_options(p, market_drop: bool) -> None:
    """--k, --min-fall, --min-members (and --max-market-drop) of the scaled group shocks."""
    p.add_argument(
        "--k",
        type=float,
        default=shocks.K_SD,
        help=f"with --by: excess <= -k trailing sd (default {shocks.K_SD:g})",
    )
    p.add_argument(
        "--min-fall",
        type=float,
        default=shocks.MIN_FALL,
        help=f"with --by: the group falls at least this, fraction (default {shocks.MIN_FALL:g})",
    )
    p.add_argument(
        "--min-members",
        type=int,
        default=shocks.MIN_MEMBERS,
        help=f"with --by: members with prices a group needs (default {shocks.MIN_MEMBERS})",
    )
    if market_drop:
        p.add_argument(
            "--max-market-drop",
            type=float,
            default=shocks.MAX_MARKET_DROP,
            help="a shock needs the market to fall less than this, fraction (default 0.03)",
        )


def check_scaled(args) -> None:
    """One-line errors for scaled-shock options out of range."""
    if not (args.k > 0 and math.isfinite(args.k)):
        raise AishockError(f"--k must be a positive number of standard deviations, got {args.k}")
    check_fraction("--min-fall", args.min_fall)
    check_fraction("--max-market-drop", args.max_market_drop)
    if args.min_members < 1:
        raise AishockError(f"--min-members must be at least 1, got {args.min_members}")


def _rows(table: pd.DataFrame) -> list[dict]:
    return [
        {
            "date": str(d.date()),
            **{c: float(table.at[d, c]) for c in ("group_return", "market_return", "excess")},
        }
        for d in table.index
    ]


def handle(args) -> int:
    with printed():
        return _shocks(args)


def _shocks(args) -> int:
    check_scan_options(args)
    if args.by:
        return _by_group(args)
    check_fraction("--min-drop", args.min_drop)
    check_fraction("--max-market-drop", args.max_market_drop)
    cfg = load_config(args.data)
    market = normalise_symbol(args.market or cfg.benchmark)
    start, end = (pd.Timestamp(x) if x else None for x in _dates(args.start, args.end))
    label, members, prices = load_universe(args.universe, cfg, market)
    close = prices.close
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


def _by_group(args) -> int:
    check_scaled(args)
    cfg = load_config(args.data)
    market = normalise_symbol(args.market or cfg.benchmark)
    start, end = (pd.Timestamp(x) if x else None for x in _dates(args.start, args.end))
    label, members, prices = load_universe(args.universe, cfg, market)
    close = prices.close
    groups = grouping.split(members, args.by, close, args.min_members)
    group_ret, counts = groups.group_returns()
    mkt = close[market].pct_change(fill_method=None)
    found = shocks.scaled_shocks(
        group_ret,
        counts,
        mkt,
        args.k,
        args.min_fall,
        args.max_market_drop,
        shocks.SD_WINDOW,
        args.min_members,
    )
    found = found[
        (found["date"] >= (start or found["date"].min())) & (found["date"] <= (end or found["date"].max()))
    ]
    members_on = grouping.members_on(groups, found)
    definition = (
        f"group excess over {market} <= -{args.k:g} x its sd over the previous {shocks.SD_WINDOW} days, "
        f"group fall >= {args.min_fall:.1%}, {market} > -{args.max_market_drop:.1%}, "
        f">= {args.min_members} members with prices"
    )
    if args.json:
        rows = [
            {
                "date": str(r.date.date()),
                "group": r.group,
                "group_return": float(r.group_return),
                "market_return": float(r.market_return),
                "excess": float(r.excess),
                "sd": float(r.sd),
                "n_members": int(r.n_members),
                "members": m,
            }
            for r, m in zip(found.itertuples(), members_on, strict=True)
        ]
        out = {
            "universe": label,
            "by": args.by,
            "market": market,
            "definition": definition,
            "k": args.k,
            "min_fall": args.min_fall,
            "max_market_drop": args.max_market_drop,
            "sd_window": shocks.SD_WINDOW,
            "min_members": args.min_members,
            "groups": int(counts.shape[1]),
            "groups_with_shocks": int(found["group"].nunique()),
            "shocks": rows,
            "skipped": groups.skipped,
        }
        print(dumps(out, indent=2))
        return 0
    print(f"{label} by {args.by}: {counts.shape[1]} groups scanned; {definition}")
    print(f"{len(found)} shocks in {found['group'].nunique()} groups\n")
    if found.empty:
        print("  none")
    else:
        shown = pd.DataFrame(
            {
                "date": [str(d.date()) for d in found["date"]],
                args.by: found["group"].to_numpy(),
                "members": found["n_members"].to_numpy(),
                "group": [f"{v:+.1%}" for v in found["group_return"]],
                market: [f"{v:+.1%}" for v in found["market_return"]],
                "excess": [f"{v:+.1%}" for v in found["excess"]],
                "k sd": [f"{v:.1%}" for v in args.k * found["sd"]],
            }
        )
        print(shown.to_string(index=False))
    if groups.skipped:
        listed = ", ".join(f"{g} ({n})" for g, n in groups.skipped.items())
        print(f"\nskipped, fewer than {args.min_members} members with prices: {listed}")
    return 0
