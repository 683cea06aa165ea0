"""The one adapter to QuantStats: a returns series in, an HTML tearsheet out.

Conventions are passed explicitly so the tearsheet's figures equal engine.stats for the
same returns: `periods` trading days per year, annual risk-free rate `rf`, compounded
returns, and no date trimming (QuantStats' default `match_dates=True` drops leading days
with zero return, which would change Sharpe and drawdown; the benchmark is aligned to the
strategy's dates here instead).
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from pathlib import Path

import pandas as pd


def _quiet_quantstats():
    """Import QuantStats with a headless backend and without font or deprecation noise."""
    import matplotlib

    matplotlib.use("Agg")
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="quantstats")
    warnings.filterwarnings("ignore", message=".*findfont.*")
    import quantstats as qs

    return qs


@contextlib.contextmanager
def _env(name: str, value: str):
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def write_tearsheet(
    returns: pd.Series,
    path: Path,
    title: str,
    benchmark: pd.Series | None = None,
    benchmark_name: str = "Benchmark",
    rf: float = 0.0,
    periods: int = 252,
) -> Path:
    """Write a QuantStats HTML tearsheet of daily simple `returns` (fractions) to `path`.

    `benchmark` (daily simple returns) is reindexed to the dates of `returns`; missing days
    count as 0. The file is written whole or not at all (temporary file, then rename).
    """
    qs = _quiet_quantstats()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    strategy = returns.rename(title).astype(float)
    bench = None
    if benchmark is not None:
        bench = benchmark.reindex(strategy.index).fillna(0.0).rename(benchmark_name).astype(float)
    tmp = path.with_name(f".{path.name}.tmp")
    import matplotlib

    # the same returns give the same bytes: fixed SVG id salt, and SOURCE_DATE_EPOCH (which
    # matplotlib reads) for the date stamped into each chart
    with (
        warnings.catch_warnings(),
        matplotlib.rc_context({"svg.hashsalt": "aishock"}),
        _env("SOURCE_DATE_EPOCH", "0"),
    ):
        warnings.simplefilter("ignore")
        qs.reports.html(
            strategy,
            benchmark=bench,
            rf=rf,
            periods_per_year=periods,
            title=title,
            output=str(tmp),
            match_dates=False,
            compounded=True,
            download_filename=path.name,
        )
    tmp.replace(path)
    return path
