"""`aishock run STRATEGY`: one backtest, its tearsheet, equity CSV and manifest."""

from __future__ import annotations

import json

import engine
from engine import params
from engine.cli import execution
from engine.cli.jsonout import plain
from engine.config import load_config
from reports.artifacts import write_run

JSON_METRICS = ("total_return", "cagr", "sharpe", "sortino", "max_drawdown", "n_trades")


def add(sub) -> None:
    p = sub.add_parser("run", help="backtest one strategy and write its tearsheet")
    p.add_argument("strategy", help="strategy name (see 'aishock list')")
    p.add_argument("--start", help="first trading day (YYYY-MM-DD); default: the configured span")
    p.add_argument("--end", help="last day (YYYY-MM-DD); default: the configured span")
    execution.add_set_option(p, "override a parameter (repeatable)")
    p.add_argument("--benchmark", help="tearsheet benchmark ticker (default from config: SPY)")
    execution.add_options(p)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(handler=handle)


def handle(args) -> int:
    cfg = load_config(args.data)
    default_start, default_end = cfg.span
    start, end = args.start or default_start, args.end or default_end
    costs = execution.costs(args)
    spec = engine.registry.get(args.strategy)
    overrides = params.parse_assignments(args.sets)
    bench_name = (args.benchmark or cfg.benchmark).upper()
    p = params.make(spec.params, overrides)
    tickers = list(dict.fromkeys([*spec.tickers(p), bench_name]))
    prices = engine.load_prices(tickers, end=end, config=cfg)
    result = engine.run(
        spec, p, start=start, end=end, costs=costs, prices=prices, config=cfg, warmup=args.warmup
    )
    bench = prices.close[bench_name].pct_change(fill_method=None)
    paths = write_run(result, spec.name, cfg.reports_dir, prices, bench, bench_name)
    row = result.stats.iloc[0]
    if args.json:
        out = {
            "strategy": spec.name,
            "params": json.loads(json.dumps(result.params.iloc[0].to_dict(), default=str)),
            "start": str(row["start"]),
            "end": str(row["end"]),
            "metrics": {k: plain(row[k]) for k in JSON_METRICS},
            "tearsheet": str(paths["tearsheet"]),
            "equity_csv": str(paths["equity_csv"]),
        }
        print(json.dumps(out, indent=2))
    else:
        print(result.stats_table().to_string())
        print(f"\ntearsheet: {paths['tearsheet']}\nequity:    {paths['equity_csv']}")
    return 0
