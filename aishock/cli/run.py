"""`aishock run STRATEGY`: one backtest and its report set (tearsheet, equity CSV, manifest)."""

from __future__ import annotations

import math

import engine
from aishock.cli import execution, tables
from aishock.cli.execution import with_examples
from aishock.cli.jsonout import dumps, plain
from aishock.cli.warned import printed
from engine.analytics import relative
from engine.backtest.run import needed_tickers
from engine.config import load_config
from engine.errors import AishockError
from engine.strategy import params
from engine.symbols import normalise_symbol
from reports.artifacts import writable_folder, write_run

JSON_METRICS = ("total_return", "cagr", "sharpe", "sortino", "max_drawdown", "n_trades", "exposure")
RELATIVE = tuple(relative.UNITS)  # against the benchmark: engine.analytics.relative


def add(sub) -> None:
    p = sub.add_parser(
        "run",
        help="backtest one strategy and write its tearsheet",
        **with_examples("aishock run oversold_rebound --set top_k=5 --start 2025-01-02 --end 2025-06-30"),
    )
    p.add_argument("strategy", help="strategy name (see 'aishock list')")
    p.add_argument("--start", help="first trading day (YYYY-MM-DD); default: the configured span")
    p.add_argument("--end", help="last day (YYYY-MM-DD); default: the configured span")
    execution.add_set_option(p, "override a parameter (repeatable)")
    p.add_argument("--benchmark", help="tearsheet benchmark ticker (default from config: SPY)")
    execution.add_options(p)
    p.add_argument(
        "--no-tearsheet",
        dest="tearsheet",
        action="store_false",
        help="write the CSV tables and the manifest only: no tearsheet (no QuantStats), no run page",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument(
        "--intervals",
        action="store_true",
        help="with --json: bootstrap confidence intervals of Sharpe, total return and max drawdown "
        "(2,000 stationary-bootstrap resamples)",
    )
    p.set_defaults(handler=handle)


def handle(args) -> int:
    with printed():
        return _run(args)


def check_execution(args) -> None:
    """Refuse execution options without sense before any work: a cost or cash that is NaN or
    infinite (argparse's float() takes 'nan' and 'inf'; Costs bounds them further), a
    negative warm-up."""
    for option in ("fees", "slippage", "cash", "participation", "impact"):
        value = getattr(args, option, None)
        if value is not None and not math.isfinite(value):
            raise AishockError(f"--{option} must be a finite number, got {value}")
    if getattr(args, "no_volume", None) and args.participation is None and not args.impact:
        raise AishockError("--no-volume only applies with --participation or --impact; add one or drop it")
    if getattr(args, "warmup", None) is not None and args.warmup < 0:
        raise AishockError(f"--warmup must be >= 0 trading days, got {args.warmup}")


def _run(args) -> int:
    cfg = load_config(args.data)
    check_execution(args)
    if args.intervals and not args.json:
        raise AishockError(
            "--intervals only applies to --json (they are not in the table); add --json or drop it"
        )
    default_start, default_end = cfg.span
    start, end = args.start or default_start, args.end or default_end
    costs = execution.costs(args)
    spec = engine.strategy.registry.get(args.strategy)
    overrides = params.parse_assignments(args.sets)
    bench_name = normalise_symbol(args.benchmark or cfg.benchmark)
    p = params.make(spec.params, overrides, spec.name)
    writable_folder(cfg.reports_dir)  # before computing: a bad reports folder fails now
    prices = engine.load_prices(needed_tickers(spec, [p], bench_name), end=end, config=cfg)
    result = engine.run(
        spec,
        p,
        start=start,
        end=end,
        costs=costs,
        prices=prices,
        config=cfg,
        warmup=args.warmup,
        benchmark=bench_name,
    )
    paths = write_run(
        result,
        cfg.reports_dir,
        prices,
        bench_name,
        warmup=args.warmup,
        tearsheet=args.tearsheet,
    )
    row = result.stats.iloc[0]
    tearsheet = str(paths["tearsheet"]) if paths["tearsheet"] else None
    if args.json:
        out = {
            "strategy": spec.name,
            "params": result.params.iloc[0].to_dict(),
            "start": str(row["start"]),
            "end": str(row["end"]),
            "metrics": {k: plain(row[k]) for k in JSON_METRICS},
            "relative": {"benchmark": bench_name} | {k: plain(row[k]) for k in RELATIVE},
            "trades": {k: plain(v) for k, v in result.trade_summary(None).iloc[0].items()},
            "tearsheet": tearsheet,
            "equity_csv": str(paths["equity_csv"]),
            "trades_csv": str(paths["trades_csv"]),
            "run_page": str(paths["run_page"]) if paths["run_page"] else None,
        }
        out |= uncertainty_and_attribution(result, spec, cfg, args.intervals)
        print(dumps(out, indent=2))
    else:
        print(tables.columns(result.stats).to_string())
        print(tables.trade_lines(result.trade_summary(None).iloc[0]))
        print(f"\ntearsheet: {tearsheet or 'none (--no-tearsheet)'}\nequity:    {paths['equity_csv']}")
        print(f"trades:    {paths['trades_csv']}")
        if paths["run_page"]:
            print(f"run page:  {paths['run_page']}")
    return 0


def uncertainty_and_attribution(result, spec, cfg, with_intervals: bool = True) -> dict:
    """The `attribution` and `intervals` keys of `run --json`.

    attribution: engine.backtest.attribution.summary over the configured windows (the run's own span,
    named "run", when none is configured): per window the start and end days inside the run,
    days, sum_of_daily_returns, compounded_return and the contributions of each AI role,
    "other" and "cash & costs" (arithmetic: they add up to sum_of_daily_returns); for
    a strategy that declares an attribution benchmark (StrategySpec.attribution_benchmark) also
    brinson_fachler against the equal-weight basket of it.
    intervals: engine.analytics.intervals.intervals of the daily returns (stationary bootstrap, 2,000
    replications, seed 0, 95 %, the configured risk-free rate and trading days), or
    {"note", "n_obs"} for a run under engine.analytics.intervals.MIN_OBS days, or {"note"} saying how to
    ask for them when `with_intervals` is false (`aishock run --json` leaves them out unless
    --intervals is given)."""
    from engine.analytics import intervals
    from engine.backtest import attribution

    row = result.stats.iloc[0]
    windows = cfg.windows or (("run", str(row["start"]), str(row["end"])),)
    bench = spec.attribution_benchmark
    return {
        "attribution": attribution.summary(
            result, windows, brinson=bench is not None, benchmark=bench or "ai", config=cfg
        ),
        "intervals": intervals.for_series(
            result.returns.iloc[:, 0], periods=cfg.trading_days, rf=cfg.risk_free
        )
        if with_intervals
        else {"note": "not computed: add --intervals (stationary bootstrap)"},
    }
