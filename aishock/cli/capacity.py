"""`aishock capacity STRATEGY`: one parameter set at a range of starting capital under the volume
cap and square-root impact; prints the table and writes the capacity page."""

from __future__ import annotations

import engine
from aishock.cli import execution, tables
from aishock.cli.execution import with_examples
from aishock.cli.jsonout import dumps, plain
from aishock.cli.run import check_execution
from aishock.cli.warned import printed
from engine.backtest import capacity as capacity_mod
from engine.backtest.run import needed_tickers
from engine.config import load_config
from engine.strategy import params
from reports.artifacts import writable_folder, write_capacity


def add(sub) -> None:
    p = sub.add_parser(
        "capacity",
        help="how much capital a strategy can run: Sharpe, return and cost drag against capital",
        **with_examples(
            "aishock capacity oversold_rebound --no-volume ok",
            "aishock capacity inference_rotation --aum 1e6:1e10:log9 --participation 0.05 --impact 0.5",
        ),
    )
    p.add_argument("strategy", help="strategy name (see 'aishock list')")
    p.add_argument("--start", help="first trading day (YYYY-MM-DD); default: the configured span")
    p.add_argument("--end", help="last day (YYYY-MM-DD); default: the configured span")
    execution.add_set_option(p, "override a parameter (repeatable)")
    p.add_argument(
        "--aum",
        default=capacity_mod.DEFAULT_AUM,
        help="starting capitals: LO:HI:logN (N levels on a log scale), LO:HI:N or A,B,C "
        f"(default {capacity_mod.DEFAULT_AUM})",
    )
    execution.add_options(
        p, participation=capacity_mod.DEFAULT_PARTICIPATION, impact=capacity_mod.DEFAULT_IMPACT
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(handler=handle)


def handle(args) -> int:
    with printed():
        return _capacity(args)


def shown(table) -> list[list[str]]:
    """The capacity table as text rows: capital, then each figure with its unit."""
    from reports.capacity_page import money  # plotly loads with the page, not with the CLI

    out = []
    for aum, row in table.iterrows():
        cells = [money(aum)]
        for col, v in row.items():
            if col == "cost_drag":
                cells.append(tables.figure("exposure", v))  # a fraction, unsigned, in percent
            elif col == "liquidation_days":
                cells.append(f"{v:.1f}")
            elif col == "binding":
                cells.append(v if isinstance(v, str) else "-")
            else:
                cells.append(tables.figure(col, v))
        out.append(cells)
    return out


def _capacity(args) -> int:
    cfg = load_config(args.data)
    check_execution(args)
    levels = capacity_mod.levels(args.aum)  # before any work: a bad --aum fails now
    default_start, default_end = cfg.span
    start, end = args.start or default_start, args.end or default_end
    costs = execution.costs(args)
    spec = engine.strategy.registry.get(args.strategy)
    p = params.make(spec.params, params.parse_assignments(args.sets), spec.name)
    writable_folder(cfg.reports_dir)
    prices = engine.load_prices(needed_tickers(spec, [p]), end=end, config=cfg)
    c = capacity_mod.capacity(
        spec, p, levels, start=start, end=end, costs=costs, prices=prices, config=cfg, warmup=args.warmup
    )
    page = write_capacity(cfg.reports_dir, c)
    if args.json:
        out = {
            "strategy": c.strategy,
            "params": {k: plain(v) for k, v in c.params.items()},
            "start": c.start,
            "end": c.end,
            "participation": c.costs.participation,
            "impact": c.costs.impact,
            "half_sharpe_aum": c.half_sharpe_aum,
            "half_return_aum": c.half_return_aum,
            "binding": c.binding,
            "uncapped": list(c.uncapped),
            "levels": [
                {"aum": float(aum), **{k: plain(v) for k, v in row.items()}}
                for aum, row in c.table.iterrows()
            ],
            "html": str(page),
        }
        print(dumps(out, indent=2))
        return 0
    heads = ["capital", *c.table.columns]
    rows = shown(c.table)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(heads)]
    print("  ".join(h.rjust(w) for h, w in zip(heads, widths, strict=True)))
    for r in rows:
        print("  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)))
    print(
        f"\n{c.strategy} {c.start} -> {c.end}, cap {c.costs.participation:.0%} of a bar's volume, "
        f"impact k={c.costs.impact:g}: {c.note}"
    )
    print(f"binding name: {c.binding or 'none (the cap never bound)'}")
    if c.uncapped:
        print(f"filled uncapped (close-only, no volume): {', '.join(c.uncapped)}")
    print(f"page: {page}")
    return 0
