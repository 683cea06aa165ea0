"""The one adapter to QuantStats: a returns series in, an HTML tearsheet out.

Conventions are passed explicitly so the tearsheet's figures equal engine.analytics.run_stats for the
same returns: `periods` trading days per year, annual risk-free rate `rf`, compounded
returns, and no date trimming (QuantStats' default `match_dates=True` drops leading days
with zero return, which would change Sharpe and drawdown; the benchmark is aligned to the
strategy's dates here instead).

A strategy whose returns never vary (it never traded: its equity is flat) is a valid result,
but QuantStats cannot regress it on a benchmark (SciPy refuses a regression on identical
x values): such a tearsheet is drawn without the benchmark, with a note saying so at the
top. The same holds for a benchmark whose returns never vary.

QuantStats 0.0.86 gets a few things wrong that no option of `qs.reports.html` changes, so
its page is corrected here, after it is written (QuantStats itself is not patched):

- the "3Y / 5Y / 10Y (ann.)" rows are dropped when the data does not reach back to the
  start of their window (their figure would be the all-time one again);
- the "CAGR﹪" label loses its small percent sign (U+FE6A), which common fonts lack;
- the worst-drawdowns table, and the "Max DD Period End" row, say "not recovered" for a
  drawdown still open on the last day instead of giving that day as its end;
- two charts are drawn again with QuantStats' own plotting functions, corrected, and put in
  place of its drawings: the end-of-year bars (QuantStats labels them one year off under
  pandas 3 and thins the labels past ten years: every bar gets its year), and the rolling
  beta (QuantStats draws its 6-month beta as 0 until 6 months of data exist: nothing is
  drawn there, and its mean line is the mean of what is drawn);
- it writes the title into `<h1>` unescaped (a title is escaped before QuantStats sees it),
  and refers to other sites: a favicon every browser fetches on opening the page, a link,
  and the namespaces and metadata of its SVG charts. All are removed, and the page carries
  a Content-Security-Policy that lets it run no script and fetch nothing.
"""

from __future__ import annotations

import contextlib
import html
import io
import logging
import math
import os
import re
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from engine.outputs import write_atomic

FLAT_NOTE = (
    "{what} never moved over this window (every daily return is {value:.2%}): comparisons "
    "with a benchmark (beta, alpha, R²...) are undefined, so this tearsheet is drawn without "
    "the benchmark {name}."
)

NOT_RECOVERED = "not recovered"

# The window of each trailing row, in months back from the last day, as QuantStats computes it.
TRAILING_ROWS = {"3Y (ann.)": 35, "5Y (ann.)": 59, "10Y (ann.)": 119}

# QuantStats' label for its short rolling-beta window (`qs.plots.rolling_beta`'s default).
BETA_WINDOW_LABEL = "6-Months"


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
    count as 0. The file is written whole or not at all (engine.outputs.write_atomic).
    `title` and `benchmark_name` are text, escaped here: QuantStats writes both into the page
    as they are. The page refers to nothing outside itself (`_local_only`).
    """
    qs = _quiet_quantstats()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    strategy = returns.rename(title).astype(float)
    bench = None
    if benchmark is not None:
        shown = html.escape(benchmark_name)  # a ticker: escaping changes none of its characters
        bench = benchmark.reindex(strategy.index).fillna(0.0).rename(shown).astype(float)
    note = None
    if bench is not None:
        for what, series in (("The strategy's equity", strategy), (f"The benchmark {benchmark_name}", bench)):
            values = series.dropna().to_numpy()
            if len(values) > 1 and np.ptp(values) == 0:
                note = FLAT_NOTE.format(what=what, value=values[0], name=benchmark_name)
                bench = None
                break
    import matplotlib

    # the same returns give the same bytes: fixed SVG id salt, and SOURCE_DATE_EPOCH (which
    # matplotlib reads) for the date stamped into each chart
    with (
        tempfile.TemporaryDirectory(prefix="aishock-quantstats-") as scratch,
        warnings.catch_warnings(),
        matplotlib.rc_context({"svg.hashsalt": "aishock"}),
        _env("SOURCE_DATE_EPOCH", "0"),
    ):
        warnings.simplefilter("ignore")
        raw = Path(scratch) / "tearsheet.html"  # QuantStats' page, before the corrections
        qs.reports.html(
            strategy,
            benchmark=bench,
            rf=rf,
            periods_per_year=periods,
            title=html.escape(title),  # QuantStats puts it in <h1> as it is
            output=str(raw),
            match_dates=False,
            compounded=True,
            download_filename=path.name,
        )
        page = raw.read_text(encoding="utf-8")
        page = _redraw_charts(page, qs, strategy, bench, rf, periods)
    page = _local_only(_fix_tables(page, strategy.index))
    if note is not None:
        page = _with_note(page, note)
    return write_atomic(path, lambda tmp: tmp.write_text(page, encoding="utf-8"))


# What refers to another site in QuantStats' page and its SVG charts: (pattern, replacement), in order.
REMOTE = (
    (re.compile(r'<link\b[^>]*\bhref="https?://[^"]*"[^>]*>\s*'), ""),  # the favicon
    (re.compile(r'<a\b[^>]*\bhref="https?://[^"]*"[^>]*>(.*?)</a>', re.S), r"\1"),  # the link's text stays
    (re.compile(r"<\?xml[^>]*\?>\s*"), ""),  # each SVG's XML declaration,
    (re.compile(r"<!DOCTYPE svg[^>]*>\s*"), ""),  # its DTD,
    (re.compile(r"\s*<metadata>.*?</metadata>", re.S), ""),  # its RDF metadata (namespaces, a URL)
    (re.compile(r'\s+xmlns(?::\w+)?="https?://[^"]*"'), ""),  # and its namespaces (implied in HTML)
    (re.compile(r'\s(?:href|src)="https?://[^"]*"'), ""),  # anything else that would be fetched
)
# Nothing on the page may load or run: no script, no request; styles and inline SVG only.
POLICY = (
    '<meta http-equiv="Content-Security-Policy" '
    "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
)


def _local_only(page: str) -> str:
    """The page with no reference to another site (a reader's browser fetches nothing, not
    even QuantStats' favicon) and a policy that lets it run no script and fetch nothing."""
    for pattern, replacement in REMOTE:
        page = pattern.sub(replacement, page)
    for anchor in ('<meta charset="utf-8">', "<head>"):  # the policy right after the charset
        at = page.find(anchor)
        if at >= 0:
            at += len(anchor)
            return page[:at] + "\n    " + POLICY + page[at:]
    return POLICY + page


def _fix_tables(page: str, index: pd.DatetimeIndex) -> str:
    """Correct the metrics and worst-drawdowns tables of a tearsheet of returns on `index`."""
    # "CAGR﹪": U+FE6A SMALL PERCENT SIGN, missing from Arial, Liberation and DejaVu (a box)
    page = page.replace("\ufe6a", "")
    # its template calls a save() it never defines: a ReferenceError on every load
    page = page.replace('<body onload="save()">', "<body>", 1)
    first, last = index[0], index[-1]
    for label, months in TRAILING_ROWS.items():
        if first > last - pd.DateOffset(months=months):  # the window is clipped: all-time again
            page = re.sub(rf"<tr><td>{re.escape(label)}</td>.*?</tr>\n?", "", page, count=1)
    # QuantStats ends a drawdown still open on the last day on that day; a drawdown that
    # recovered ends at least a day earlier (its end is its last day under water)
    end = f"<td>{last.strftime('%Y-%m-%d')}</td>"
    start = page.find('<div id="ddinfo">')
    stop = page.find("</table>", start)
    if start >= 0 and stop >= 0:
        table = re.sub(
            rf"(<tr><td>[^<]*</td>){re.escape(end)}", rf"\g<1><td>{NOT_RECOVERED}</td>", page[start:stop]
        )
        page = page[:start] + table + page[stop:]
    return re.sub(
        r"<tr><td>Max DD Period End</td>.*?</tr>",
        lambda row: row.group(0).replace(end, f"<td>{NOT_RECOVERED}</td>"),
        page,
        count=1,
    )


def _redraw_charts(
    page: str, qs, strategy: pd.Series, bench: pd.Series | None, rf: float, periods: int
) -> str:
    """Draw the end-of-year and rolling-beta charts again, corrected, in place of QuantStats'.

    The inputs and arguments are those `qs.reports.html` gives the same plotting functions.
    """
    returns = qs.utils._prepare_returns(strategy).rename("Strategy")
    benchmark = None
    if bench is not None:
        benchmark = qs.utils._prepare_benchmark(bench, returns.index, rf).rename(bench.name)
    common = {"subtitle": False, "show": False, "ylabel": "", "prepare_returns": False}
    fig = qs.plots.yearly_returns(returns, benchmark, figsize=(8, 4), compounded=True, **common)
    _label_every_year(fig, returns.index)
    page = _put_chart(page, "eoy_returns", fig)
    if benchmark is not None:
        half_year = math.ceil(periods / 2)
        fig = qs.plots.rolling_beta(
            returns, benchmark, window1=half_year, window2=periods, figsize=(8, 3), **common
        )
        _blank_unfilled_window(fig, half_year)
        page = _put_chart(page, "rolling_beta", fig)
    return page


def _label_every_year(fig, index: pd.DatetimeIndex) -> None:
    """Put a tick with its year under each group of end-of-year bars."""
    from matplotlib.container import BarContainer

    ax = fig.axes[0]
    columns = [c for c in ax.containers if isinstance(c, BarContainer)]
    years = sorted(set(index.year))
    if not columns or any(len(bars) != len(years) for bars in columns):
        return  # not the chart expected: left as drawn
    centres = [
        np.mean([bars[i].get_x() + bars[i].get_width() / 2 for bars in columns]) for i in range(len(years))
    ]
    ax.set_xticks(centres, [str(year) for year in years], rotation=30, ha="right")
    fig.tight_layout()  # as QuantStats lays it out, now with room for the labels


def _blank_unfilled_window(fig, window: int) -> None:
    """Draw no short-window beta before `window` days exist, and its mean over what is drawn."""
    ax = fig.axes[0]
    lines = ax.get_lines()
    beta = next((line for line in lines if line.get_label() == BETA_WINDOW_LABEL), None)
    if beta is None:
        return
    values = np.array(beta.get_ydata(), dtype=float)
    values[: window - 1] = np.nan  # QuantStats fills the window's first days with 0
    beta.set_ydata(values)
    for line in lines:  # QuantStats' red dashed line: the mean of the zero-filled series
        if line.get_color() == "red" and list(line.get_xdata()) == [0, 1]:
            if np.isfinite(values).any():
                mean = float(np.nanmean(values))
                line.set_ydata([mean, mean])
            else:
                line.remove()


def _put_chart(page: str, div_id: str, fig) -> str:
    """Put `fig`, as SVG, in place of the content of the page's `<div id="div_id">`."""
    import matplotlib.pyplot as plt

    svg = io.BytesIO()
    fig.savefig(svg, format="svg")
    plt.close(fig)
    opening = f'<div id="{div_id}">'
    start = page.find(opening)
    if start < 0:
        return page
    start += len(opening)
    stop = page.find("</div>", start)
    return page[:start] + svg.getvalue().decode() + page[stop:]


def _with_note(page: str, note: str) -> str:
    """Put `note` in a paragraph after the tearsheet's heading (or at the top of the body)."""
    style = "background:#fff6d6;padding:6px 8px"
    para = f'<p class="aishock-note" style="{style}">{html.escape(note, quote=False)}</p>'
    at = page.find("</h4>")
    if at >= 0:
        at += len("</h4>")
    else:
        body = page.find("<body")
        at = page.find(">", body) + 1 if body >= 0 else 0
    return page[:at] + para + page[at:]
