"""The views the engine's results draw themselves with (engine.plugins.view, entry point group
`aishock.views` in pyproject.toml): `Result.tearsheet`, `Result.page`, `Result.plot`,
`SweepResult.heatmap`, `Generalization.page`, `Capacity.page`. Each is a thin call of the report writers that
the CLI and the demo use, so a notebook gets the same files and figures they write.

Written pages go, when no path is given, into the configured reports folder as the report
set the CLI would write for the same inputs (reports.artifacts); with a path, the one page
goes there."""

from __future__ import annotations

from pathlib import Path

from engine.config import current
from engine.data.panel import load_prices


def _benchmark(result, name: str | None) -> tuple[str, object]:
    """The benchmark ticker (given, else the stats', else the configured one) and a price
    panel of the result's data that holds it."""
    cfg = current()
    stats = result.stats.iloc[0]
    name = name or (stats["benchmark"] if "benchmark" in stats.index else cfg.benchmark)
    prices = result.prices
    if name not in prices.close.columns:  # the run's data and the benchmark, as `aishock run` loads them
        prices = load_prices([*prices.close.columns, name], end=prices.index[-1], config=cfg)
    return name, prices


def tearsheet(result, path=None, benchmark: str | None = None) -> Path:
    from reports.artifacts import run_label, write_run
    from reports.tearsheet import write_tearsheet

    name, prices = _benchmark(result, benchmark)
    if path is None:
        return write_run(result, current().reports_dir, prices, name)["tearsheet"]
    return write_tearsheet(
        result.returns.iloc[:, 0],
        Path(path),
        run_label(result),
        prices.select([name]).returns()[name],
        name,
        rf=result.risk_free,
        periods=result.periods,
    )


def run_page(result, path=None) -> Path:
    from reports.artifacts import run_label, write_run
    from reports.run_page import write_run_page

    if path is None:
        name, prices = _benchmark(result, None)
        return write_run(result, current().reports_dir, prices, name)["run_page"]
    return write_run_page(Path(path), result, run_label(result))


def run_plot(result):
    from reports import run_charts
    from reports.artifacts import run_label

    return run_charts.equity_figure(result.equity.iloc[:, 0], result.trades, run_label(result))


def generalization_page(g, path=None) -> Path:
    from reports import generalize_page
    from reports.artifacts import write_generalization

    if path is None:
        return write_generalization(current().reports_dir, g)
    return generalize_page.write(g, Path(path))


def capacity_page(c, path=None) -> Path:
    from reports import capacity_page as page
    from reports.artifacts import write_capacity

    if path is None:
        return write_capacity(current().reports_dir, c)
    return page.write(c, Path(path))


def sweep_heatmap(sweep, metric: str, x: str, y: str | None, at: dict):
    from engine.analytics import run_stats
    from reports.sweep_page import heatmap_figure

    better = run_stats.BETTER.get(metric, 0)
    if y is None:
        row = sweep.table.set_index(x)[[metric]].T
        row.index.name = None
        return heatmap_figure(row, f"{metric} by {x}", metric, better)
    frame = sweep.cells(x, y, metric, **at)
    fixed = ", ".join(f"{k}={v}" for k, v in at.items())
    title = f"{metric} by {y} and {x}" + (f"; {fixed}" if fixed else "")
    return heatmap_figure(frame, title, metric, better)


VIEWS = {
    "tearsheet": tearsheet,
    "run_page": run_page,
    "run_plot": run_plot,
    "generalization_page": generalization_page,
    "capacity_page": capacity_page,
    "sweep_heatmap": sweep_heatmap,
}
