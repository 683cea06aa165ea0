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
- so are, when QuantStats would draw them wrong, the monthly heatmap (every month 0: seaborn
  maps a colour range of zero width to the map's lowest colour, dark red; such a heatmap gets
  the map's middle, the colour of 0 on every other heatmap) and the rolling volatility,
  Sharpe and Sortino (nothing to draw, as in a window shorter than 6 months or a run that
  never moved: the date axis falls back to matplotlib's default range, labelled "01-01 00";
  it spans the returns' dates instead);
- in the metrics table: "Max Drawdown" is a bare "%" for a column without a drawdown (its
  figure comes from the list of drawdown periods, empty then): it gets its figure, 0, and
  the dates of that drawdown "-"; "Risk of Ruin" is a fraction printed as a percentage (0.01
  for 1%): it is given in percent, and as 0 for a column without a non-zero return (its win
  rate is 0 / 0, which QuantStats takes as 0, so it printed a ruin certain for a run that
  never lost); the benchmark column repeats the strategy's "R^2" and "Information Ratio"
  (relative to the benchmark): it gets "-", as QuantStats leaves its beta and alpha;
- "Time in Market" is the share of days with a non-zero return, not the mean exposure
  `aishock run` reports: the row is called "Days with a return", and a note under the
  table defines it and the benchmark column (close-to-close, no costs: a buy-and-hold run of
  the benchmark differs from it by its fills and costs);
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
        shown_returns, shown_bench = _as_drawn(qs, strategy, bench, rf)
        page = _redraw_charts(page, qs, shown_returns, shown_bench, periods)
        page = _fix_metrics(page, qs, shown_returns, shown_bench)
    page = _local_only(_fix_tables(page, strategy.index))
    page = _with_definitions(page, benchmark_name if bench is not None else None)
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


def _as_drawn(qs, strategy: pd.Series, bench: pd.Series | None, rf: float):
    """The strategy's and the benchmark's returns as `qs.reports.html` prepares them for its
    charts and its metrics table (named as its columns: "Strategy" and the benchmark's)."""
    returns = qs.utils._prepare_returns(strategy).rename("Strategy")
    if bench is None:
        return returns, None
    return returns, qs.utils._prepare_benchmark(bench, returns.index, rf).rename(bench.name)


# the colour map of QuantStats' monthly heatmap (`qs.plots.monthly_heatmap`, not in grayscale)
HEATMAP_COLOURS = "RdYlGn"

# QuantStats' "Time in Market": the share of days whose return is not 0 (rounded up to a whole
# percent), not the mean exposure aishock's stats call "Mean gross exposure"
DAYS_WITH_A_RETURN = "Days with a return"
DEFINITIONS = (
    f"{DAYS_WITH_A_RETURN}: the share of days whose return is not 0, rounded up to a whole "
    'percent (QuantStats\' "Time in Market"); it is not the mean gross exposure (positions over '
    "equity) that aishock run reports."
)
BENCHMARK_DEFINITION = (
    "{name}: {name}'s close-to-close daily returns on the strategy's days, compounded, without "
    "costs. The strategy is the simulated portfolio: it trades at the next bar (at the open "
    "where the data has opens) and pays fees and slippage, so a buy-and-hold of {name} differs "
    "from this column by those costs and that fill timing."
)
# rows of the benchmark column relative to the benchmark itself, left "-" (as QuantStats
# leaves beta, alpha, correlation and Treynor): QuantStats repeats the strategy's figures there
RELATIVE_ROWS = ("R^2", "Information Ratio")
MAX_DD_DATES = ("Max DD Date", "Max DD Period Start", "Max DD Period End")


def _fix_metrics(page: str, qs, returns: pd.Series, benchmark: pd.Series | None) -> str:
    """Correct the key-metrics table, whose columns are `returns` ("Strategy") and the
    `benchmark` (both as `_as_drawn` gives them); see the module's docstring."""
    start = page.find('<div id="right">')
    stop = page.find("</table>", start)
    header = re.search(r"<tr><th>Metric</th>(.*?)</tr>", page[start:stop]) if start >= 0 else None
    if header is None:
        return page  # not the page expected: left as written
    series = {returns.name: returns} | ({benchmark.name: benchmark} if benchmark is not None else {})
    columns = [series.get(name) for name in re.findall(r"<th>(.*?)</th>", header.group(1))]
    table = page[start:stop]

    def max_drawdown(cells):
        return [
            _shown(qs.stats.max_drawdown(r) * 100, "%") if cell == "%" and r is not None else cell
            for cell, r in zip(cells, columns, strict=True)
        ]

    def risk_of_ruin(cells):
        return [
            _shown(_risk_of_ruin(qs, r) * 100, "%") if r is not None else cell
            for cell, r in zip(cells, columns, strict=True)
        ]

    def against_itself(cells):
        return ["-" if r is benchmark else cell for cell, r in zip(cells, columns, strict=True)]

    table = _edit_row(table, "Max Drawdown", max_drawdown)
    for label in MAX_DD_DATES:
        table = _edit_row(table, label, lambda cells: [cell or "-" for cell in cells])
    table = _edit_row(table, "Risk of Ruin", risk_of_ruin)
    if benchmark is not None:
        for label in RELATIVE_ROWS:
            table = _edit_row(table, label, against_itself)
    table = table.replace("<tr><td>Time in Market</td>", f"<tr><td>{DAYS_WITH_A_RETURN}</td>", 1)
    return page[:start] + table + page[stop:]


def _risk_of_ruin(qs, returns: pd.Series) -> float:
    """QuantStats' risk of ruin, ((1 - w) / (1 + w)) ** n for a win rate w (the share of the
    non-zero returns that are positive) over n days (`qs.stats.risk_of_ruin`), as a fraction;
    0 for returns without a non-zero one: nothing was ever lost (w is 0 / 0 there, which
    QuantStats takes as 0, so its formula gives 1, a certain ruin)."""
    values = returns.dropna().to_numpy(dtype=float)
    if not np.any(values != 0):
        return 0.0
    return float(qs.stats.risk_of_ruin(returns, prepare_returns=False))


def _shown(value: float, unit: str = "") -> str:
    """`value` as QuantStats prints a figure of its metrics table: rounded to 2 decimals."""
    return f"{round(float(value), 2)}{unit}"


def _edit_row(table: str, label: str, edit) -> str:
    """`table` with the cells of its row `label` replaced by `edit(cells)` (texts, in order)."""

    def one(row: re.Match) -> str:
        cells = edit(re.findall(r"<td>(.*?)</td>", row.group(2)))
        return row.group(1) + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"

    return re.sub(rf"(<tr><td>{re.escape(label)}</td>)(.*?)</tr>", one, table, count=1)


def _with_definitions(page: str, benchmark_name: str | None) -> str:
    """Put the definitions of the metrics table's "Days with a return" and of its benchmark
    column (when it has one) in a paragraph under the table."""
    lines = [DEFINITIONS]
    if benchmark_name is not None:
        lines.append(BENCHMARK_DEFINITION.format(name=benchmark_name))
    text = "<br>".join(html.escape(line, quote=False) for line in lines)
    para = f'<p class="aishock-definitions" style="font-size:12px;color:#555">{text}</p>'
    start = page.find('<div id="right">')
    at = page.find("</table>", start) if start >= 0 else -1
    if at < 0:
        return page
    at += len("</table>")
    return page[:at] + para + page[at:]


def _redraw_charts(page: str, qs, returns: pd.Series, benchmark: pd.Series | None, periods: int) -> str:
    """Draw the end-of-year and rolling-beta charts again, corrected, in place of QuantStats';
    and the monthly heatmap and the rolling charts when QuantStats would draw them wrong.

    The inputs (`_as_drawn`) and arguments are those `qs.reports.html` gives the same plotting
    functions.
    """
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
    if not np.any(qs.stats.monthly_returns(returns, eoy=False, compounded=True).to_numpy()):
        fig = qs.plots.monthly_heatmap(
            returns, benchmark, figsize=(8, 4), cbar=False, returns_label=returns.name,
            show=False, ylabel="", compounded=True, active=False,
        )  # fmt: skip
        _neutral_colour_scale(fig)
        page = _put_chart(page, "monthly_heatmap", fig)
    return _date_axis_when_empty(page, qs, returns, benchmark, periods)


def _neutral_colour_scale(fig) -> None:
    """Give a heatmap whose colour range has zero width (every value is the centre, 0) the
    middle of QuantStats' colour map, with annotations in the colour seaborn gives text on it."""
    import matplotlib
    from seaborn.utils import relative_luminance

    ax = fig.axes[0]
    mesh = ax.collections[0]
    low, high = mesh.get_clim()
    if low != high:
        return
    # seaborn centres a map by cutting the part of it the range covers: nothing but its lowest
    # colour for a range of zero width; the whole map, symmetric about the values, instead
    mesh.set_cmap(matplotlib.colormaps[HEATMAP_COLOURS])
    mesh.set_clim(low - 1.0, high + 1.0)
    text = ".15" if relative_luminance(mesh.to_rgba(low)) > 0.408 else "w"  # seaborn's rule
    for annotation in ax.texts:
        annotation.set_color(text)


def _rolling(qs, half_year: int, periods: int):
    """{div id: (QuantStats' chart of it, its statistic of a returns series, whether the chart
    draws the benchmark too)} for the rolling charts, with the arguments `qs.reports.html` uses."""
    return {
        "rolling_vol": (
            qs.plots.rolling_volatility,
            lambda r: qs.stats.rolling_volatility(r, half_year, periods),
            True,
        ),
        "rolling_sharpe": (
            qs.plots.rolling_sharpe,
            lambda r: qs.stats.rolling_sharpe(r, 0.0, half_year, True, periods),
            False,
        ),
        "rolling_sortino": (
            qs.plots.rolling_sortino,
            lambda r: qs.stats.rolling_sortino(r, 0.0, half_year, True, periods),
            False,
        ),
    }


def _date_axis_when_empty(
    page: str, qs, returns: pd.Series, benchmark: pd.Series | None, periods: int
) -> str:
    """Draw again each rolling chart that has no finite value to draw (a span shorter than its
    window, returns that never vary), over the returns' dates: with nothing drawn,
    matplotlib's date axis falls back to a default range that the page shows as "01-01 00"."""
    half_year = math.ceil(periods / 2)
    for div_id, (plot, statistic, with_benchmark) in _rolling(qs, half_year, periods).items():
        drawn = [returns, benchmark] if with_benchmark and benchmark is not None else [returns]
        if any(np.isfinite(statistic(series).to_numpy(dtype=float)).any() for series in drawn):
            continue
        extra = {"benchmark": benchmark} if with_benchmark else {}
        fig = plot(
            returns, **extra, figsize=(8, 3), subtitle=False, show=False, ylabel="",
            period=half_year, periods_per_year=periods,
        )  # fmt: skip
        fig.axes[0].set_xlim(returns.index[0], returns.index[-1])
        page = _put_chart(page, div_id, fig)
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
