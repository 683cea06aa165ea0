"""The one adapter to QuantStats: a returns series in, an HTML tearsheet out.

Conventions are passed explicitly so the tearsheet's figures equal engine.stats for the
same returns: `periods` trading days per year, annual risk-free rate `rf`, compounded
returns, and no date trimming (QuantStats' default `match_dates=True` drops leading days
with zero return, which would change Sharpe and drawdown; the benchmark is aligned to the
strategy's dates here instead).

A strategy whose returns never vary (it never traded: its equity is flat) is a valid result,
but QuantStats cannot regress it on a benchmark (SciPy refuses a regression on identical
x values): such a tearsheet is drawn without the benchmark, with a note saying so at the
top. The same holds for a benchmark whose returns never vary.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

FLAT_NOTE = (
    "{what} never moved over this window (every daily return is {value:.2%}): comparisons "
    "with a benchmark (beta, alpha, R²...) are undefined, so this tearsheet is drawn without "
    "the benchmark {name}."
)


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
    note = None
    if bench is not None:
        for what, series in (("The strategy's equity", strategy), (f"The benchmark {benchmark_name}", bench)):
            values = series.dropna().to_numpy()
            if len(values) > 1 and np.ptp(values) == 0:
                note = FLAT_NOTE.format(what=what, value=values[0], name=benchmark_name)
                bench = None
                break
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
    if note is not None:
        _add_note(tmp, note)
    tmp.replace(path)
    return path


def _add_note(page: Path, note: str) -> None:
    """Put `note` in a paragraph after the tearsheet's heading (or at the top of the body)."""
    import html

    text = page.read_text(encoding="utf-8")
    style = "background:#fff6d6;padding:6px 8px"
    para = f'<p class="aishock-note" style="{style}">{html.escape(note, quote=False)}</p>'
    at = text.find("</h4>")
    if at >= 0:
        at += len("</h4>")
    else:
        body = text.find("<body")
        at = text.find(">", body) + 1 if body >= 0 else 0
    page.write_text(text[:at] + para + text[at:], encoding="utf-8")
