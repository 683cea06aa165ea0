"""`aishock demo`: both theses and the baselines across the shock, one tearsheet each, and
an index page with the comparison table over the named windows.

Every report the index links to is a report set (reports.artifacts) written by the same
function, from the same data, as the command that makes it alone: a run as `aishock run`
does, the event study as `aishock event DATE`, the generalisation page as `aishock
generalize oversold_rebound --universe ai --by role` with DEMO_GRID as its --grid. So those
commands find the demo's sets (the same names, the same bytes) instead of writing others,
and no later command overwrites a page the index links to."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
from tqdm import tqdm

import engine
from engine.analytics import intervals, run_stats
from engine.backtest import attribution
from engine.backtest import trades as trades_mod
from engine.backtest.run import needed_tickers, param_sets
from engine.config import Config
from engine.data.universe import resolve
from engine.errors import AishockError
from engine.events.shocks import shock_days
from engine.strategy import registry
from reports.artifacts import writable_folder, write_capacity, write_event, write_generalization, write_run
from reports.charts import equity_chart
from reports.index_page import INDEX, write_index
from reports.manifest import manifest, write_manifest


def run_demo(cfg: Config, progress: bool = True) -> tuple[Path, dict[str, float]]:
    """Run every `cfg.demo` entry over the default span, write the tearsheets and
    `index.html` into `cfg.reports_dir`; return the index path and timings (seconds)."""
    if not cfg.demo:
        raise AishockError("no demo runs configured: add [[tool.aishock.demo]] tables to pyproject.toml")
    start, end = cfg.span
    writable_folder(cfg.reports_dir)  # before the runs: a bad reports folder fails now
    t0 = time.perf_counter()
    specs = [(d["label"], registry.get(d["strategy"]), d.get("params", {})) for d in cfg.demo]
    tickers = {t for _, spec, p in specs for t in needed_tickers(spec, param_sets(spec, p))}
    prices = engine.load_prices(sorted(tickers | {cfg.benchmark}), end=end, config=cfg)
    timings = {"load": time.perf_counter() - t0}
    returns, equity, links, roles, brinson, bands = {}, {}, {}, {}, {}, {}
    run_pages, stats, trades, exposures = {}, {}, {}, {}
    t1 = time.perf_counter()
    for label, spec, p in tqdm(specs, desc="demo", unit="run", disable=not progress):
        own = prices.select(needed_tickers(spec, param_sets(spec, p), cfg.benchmark))  # as `aishock run`
        result = engine.run(spec, p, start=start, end=end, prices=own, config=cfg)
        paths = write_run(result, cfg.reports_dir, own, cfg.benchmark)
        links[label] = paths["tearsheet"].relative_to(cfg.reports_dir).as_posix()
        run_pages[label] = paths["run_page"].relative_to(cfg.reports_dir).as_posix()
        stats[label] = result.stats.iloc[0]
        trades[label] = trades_mod.by_role(result.trades)
        exposures[label] = result.exposure
        returns[label] = result.returns.iloc[:, 0]
        equity[label] = result.equity.iloc[:, 0]
        roles[label] = attribution.contributions(result, config=cfg)
        if spec.attribution_benchmark:
            brinson[label] = attribution.brinson_fachler(
                result, benchmark=spec.attribution_benchmark, config=cfg
            )
        bands[label] = intervals.for_series(returns[label], periods=cfg.trading_days, rf=cfg.risk_free)
    timings["runs"] = time.perf_counter() - t1
    table = run_stats.by_window(pd.DataFrame(returns), cfg.windows, cfg.risk_free, cfg.trading_days)
    shocks = shock_days(prices.close, resolve("ai"), cfg.benchmark).strftime("%Y-%m-%d")
    marks = {d: "shock" for d in shocks if start <= d <= end}
    linked = lambda path: path.relative_to(cfg.reports_dir).as_posix()  # noqa: E731
    event_links = {d: linked(event_page(cfg, d)) for d in marks}
    general = linked(generalize_page(cfg))
    capacity = {label: (linked(path), finding) for label, (path, finding) in capacity_pages(cfg).items()}
    notes = [
        f"Data: {len(prices.tickers)} tickers from {', '.join(str(d) for d in cfg.data_dirs)}.",
        f"Span {start} → {end}; fills at the next bar's open (close for close-only tickers); "
        f"fees and slippage {engine.Costs().fees:.2%} each per trade; risk-free rate {cfg.risk_free:.2%}.",
        f"Detected AI-specific shock days: {', '.join(shocks) or 'none'}.",
    ]
    index = write_index(
        cfg.reports_dir / INDEX,
        "aishock: the DeepSeek shock of 2025-01-27",
        "Two theses and their baselines, with a QuantStats tearsheet per run.",
        table,
        links,
        cfg.windows,
        equity_chart(pd.DataFrame(equity), marks, runs={label: (spec.name, p) for label, spec, p in specs}),
        notes,
        event_links,
        {"oversold_rebound on every AI-role shock, 2020-2025": general},
        intervals=bands,
        roles=roles,
        brinson=brinson,
        shared=cfg.reports_dir,
        run_pages=run_pages,
        stats=stats,
        trades=trades,
        exposures=exposures,
        capacity=capacity,
    )
    write_manifest(
        index,
        manifest(
            "demo",
            start,
            end,
            prices,
            runs=list(cfg.demo),
            windows=cfg.windows,
            benchmark=cfg.benchmark,
            event_pages=event_links,
            generalize_page=general,
            capacity_pages={label: href for label, (href, _) in capacity.items()},
            tearsheets=links,
            run_pages=run_pages,
            conventions={"periods_per_year": cfg.trading_days, "risk_free": cfg.risk_free},
        ),
    )
    timings["total"] = time.perf_counter() - t0
    return index, timings


def event_page(cfg: Config, day: str) -> Path:
    """The event study of the `ai` universe around `day` (`aishock event DAY`'s defaults), as
    a report set beside the tearsheets; its page's path."""
    from engine.events import study
    from engine.events.members import load_universe

    label, members, prices = load_universe("ai", cfg, cfg.benchmark, study.BENCHMARKS)
    s = study.study(prices.close, members, day, market=cfg.benchmark)
    return write_event(cfg.reports_dir, s, label, prices)


# Thesis 1's grid on the AI-role shocks (27 sets; its defaults top_k 8, hold_days 20 and
# min_drop 0.07 among them): the page shows the stability surface, StepM, SPA and the
# walk-forward beside the set with the best mean CAR.
DEMO_GRID = {"top_k": [1, 2, 8], "hold_days": [5, 10, 20], "min_drop": [0.03, 0.05, 0.07]}


def generalize_page(cfg: Config) -> Path:
    """Thesis 1 over DEMO_GRID on every AI-role shock of the data (engine.generalize: 10
    placebo replays of each event date for a grid), as a report set beside the tearsheets;
    its page's path."""
    g = engine.generalize("oversold_rebound", "ai", "role", grid=DEMO_GRID, config=cfg)
    return write_generalization(cfg.reports_dir, g)


# The theses whose capacity the demo measures: their default parameters over the span.
CAPACITY = {
    "Thesis 1, oversold rebound": "oversold_rebound",
    "Thesis 2, inference rotation": "inference_rotation",
}


def capacity_pages(cfg: Config) -> dict[str, tuple[Path, str]]:
    """Each thesis's capacity study (engine.capacity: $100k to $10B, 10 % of a bar's volume,
    square-root impact k = 1; close-only names, which have no volume, fill uncapped and are
    listed) as a report set beside the tearsheets, as `aishock capacity STRATEGY --no-volume
    ok` writes it: {label: (its page's path, its finding in a sentence)}."""
    start, end = cfg.span
    out = {}
    for label, strategy in CAPACITY.items():
        c = engine.capacity(strategy, start=start, end=end, costs=engine.Costs(no_volume="ok"), config=cfg)
        binding = f"; binding name {c.binding}" if c.binding else "; the cap never binds"
        out[label] = (write_capacity(cfg.reports_dir, c), c.note + binding)
    return out
