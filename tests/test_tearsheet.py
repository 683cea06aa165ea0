"""The stats table and the QuantStats tearsheet agree on the same returns."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engine
from engine import load_prices
from reports.tearsheet import write_tearsheet


def tearsheet_row(html: str, label: str) -> list[str]:
    row = re.search(rf"<tr><td>{re.escape(label)}</td>(.*?)</tr>", html)
    assert row, f"no '{label}' row in the tearsheet"
    return re.findall(r"<td>(.*?)</td>", row.group(1))


@pytest.mark.parametrize(("strategy", "rf"), [("oversold_rebound", 0.0), ("inference_rotation", 0.04)])
def test_sharpe_and_max_drawdown_agree(cfg, tmp_path, strategy, rf):
    from dataclasses import replace

    c = replace(cfg, risk_free=rf)
    r = engine.run(strategy, start="2024-07-01", end="2025-12-31", config=c)
    spy = load_prices(["SPY"], end="2025-12-31", config=cfg).close["SPY"].pct_change()
    path = write_tearsheet(
        r.returns.iloc[:, 0], tmp_path / "t.html", strategy, spy, "SPY", rf=rf, periods=252
    )
    html = path.read_text()
    benchmark_col, strategy_col = 0, 1
    sharpe = float(tearsheet_row(html, "Sharpe")[strategy_col])
    max_dd = float(tearsheet_row(html, "Max Drawdown")[strategy_col].rstrip("%")) / 100
    assert sharpe == pytest.approx(r.stats["sharpe"].iloc[0], abs=0.005)  # shown with 2 decimals
    assert max_dd == pytest.approx(r.stats["max_drawdown"].iloc[0], abs=0.00005)
    assert tearsheet_row(html, "Sharpe")[benchmark_col] != tearsheet_row(html, "Sharpe")[strategy_col]
    assert f"RF: {rf:.1%}" in html
    assert not re.search(r"<td>\d+Y \(ann\.\)</td>", html)  # 1.5 years: no 3Y, 5Y, 10Y rows


def test_stats_equal_quantstats_functions_to_machine_precision(cfg):
    qs = pytest.importorskip("quantstats")
    r = engine.run("inference_rotation", start="2024-07-01", end="2025-12-31", config=cfg)
    ret = r.returns.iloc[:, 0]
    s = r.stats.iloc[0]
    assert s["sharpe"] == pytest.approx(qs.stats.sharpe(ret, rf=0.0, periods=252), rel=1e-12)
    assert s["sortino"] == pytest.approx(qs.stats.sortino(ret, rf=0.0, periods=252), rel=1e-12)
    assert s["max_drawdown"] == pytest.approx(qs.stats.max_drawdown(ret), rel=1e-12)
    assert s["cagr"] == pytest.approx(qs.stats.cagr(ret, periods=252), rel=1e-12)
    assert s["volatility"] == pytest.approx(qs.stats.volatility(ret, periods=252), rel=1e-12)


# --- what a careful reader checks on the page: synthetic returns with known answers ----------

LAST_DAY = "2025-12-31"


@pytest.fixture(scope="module")
def synthetic_page(tmp_path_factory) -> str:
    """A tearsheet of 4.6 years (2021-06 to 2025): 3 years of history but not 5 or 10; a
    benchmark that fell in 2023 only; a strategy that tracks it (beta about 1) and ends in a
    drawdown of about 45% it has not recovered from."""
    rng = np.random.default_rng(3)
    dates = pd.bdate_range("2021-06-01", LAST_DAY)
    bench = pd.Series(np.where(dates.year == 2023, -0.001, 0.001) + rng.normal(0, 0.008, len(dates)), dates)
    strategy = bench + rng.normal(0, 0.002, len(dates))
    strategy.iloc[-40:] -= 0.015
    path = write_tearsheet(strategy, tmp_path_factory.mktemp("ts") / "s.html", "synthetic", bench, "SPY")
    return path.read_text(encoding="utf-8")


def under_the_metrics(html: str) -> str:
    """What the page shows between the key-metrics table and the next table."""
    metrics = html[html.index('<div id="right">') :]
    return metrics[metrics.index("</table>") : metrics.index('<div id="eoy">')]


def chart(html: str, div_id: str) -> str:
    """The SVG of a chart, its legend left out."""
    svg = re.search(rf'<div id="{div_id}">(.*?)</div>', html, re.S).group(1)
    return svg.split('<g id="legend_1">')[0]


def test_trailing_rows_only_when_the_span_covers_them(synthetic_page):
    rows = re.findall(r"<tr><td>((?:\d+Y|All-time) \(ann\.\))</td>", synthetic_page)
    assert rows == ["3Y (ann.)", "All-time (ann.)"]  # 4.6 years: no 5Y, no 10Y
    assert tearsheet_row(synthetic_page, "3Y (ann.)") != tearsheet_row(synthetic_page, "All-time (ann.)")


def test_no_character_the_fonts_lack(synthetic_page):
    """Outside the charts (drawn as paths), every character has a glyph in DejaVu Sans, the
    fallback sans-serif font matplotlib ships; U+FE6A in QuantStats' "CAGR﹪" has none."""
    import matplotlib
    from fontTools.ttLib import TTFont

    font = TTFont(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")
    glyphs = font.getBestCmap()
    text = re.sub(r"<svg.*?</svg>", "", synthetic_page, flags=re.S)
    assert {c for c in text if ord(c) > 127 and ord(c) not in glyphs} == set()
    assert tearsheet_row(synthetic_page, "CAGR")


def test_every_year_labelled_under_its_own_bars(synthetic_page):
    svg = chart(synthetic_page, "eoy_returns")
    axis = svg[svg.index('<g id="matplotlib.axis_1">') : svg.index('<g id="matplotlib.axis_2">')]
    ticks = {}
    for tick in re.split(r'<g id="xtick_\d+">', axis)[1:]:
        label = re.search(r"<!-- (.*?) -->", tick)
        ticks[label.group(1) if label else ""] = float(re.search(r'd="M ([-\d.]+)', tick).group(1))
    assert [label for label in ticks if label] == ["2021", "2022", "2023", "2024", "2025"]
    # the benchmark's bars (x centre, fell?): the one nearest the tick "2023" is the only fall
    bars = [
        ((float(x0) + float(x1)) / 2, float(y1) > float(y0))
        for x0, y0, x1, y1 in re.findall(
            r'd="M ([-\d.]+) ([-\d.]+)\s+L ([-\d.]+) [-\d.]+\s+L [-\d.]+ ([-\d.]+)[^"]*"[^>]*fill: #fedd78',
            svg,
        )
    ]
    assert len(bars) == 5 and sum(fell for _, fell in bars) == 1
    nearest = {label: min(bars, key=lambda bar: abs(bar[0] - x)) for label, x in ticks.items() if label}
    assert [label for label, (_, fell) in nearest.items() if fell] == ["2023"]


def test_rolling_beta_not_drawn_before_its_window_fills(synthetic_page):
    """The strategy's beta is about 1 throughout: no point of the 6-month line is on the zero line
    (QuantStats draws it at 0 for the first 6 months)."""
    svg = chart(synthetic_page, "rolling_beta")
    paths = re.findall(r'<path d="([^"]*)"[^>]*style="([^"]*)"', svg)
    zero = [d for d, style in paths if "stroke: #000000" in style and "dasharray" in style]
    six_months = [d for d, style in paths if "stroke: #348dc1" in style]
    assert len(zero) == 1 and len(six_months) == 1
    zero_y = float(zero[0].split()[2])
    ys = [float(y) for y in re.findall(r"[ML] [-\d.]+ ([-\d.]+)", six_months[0])]
    assert ys and min(abs(y - zero_y) for y in ys) > 5  # pixels


def test_open_drawdown_says_not_recovered(synthetic_page):
    ddinfo = re.search(r'<div id="ddinfo">(.*?)</div>', synthetic_page, re.S).group(1)
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", ddinfo)
    worst = min(rows, key=lambda row: float(row[2]))
    assert worst[1] == "not recovered" and float(worst[2]) < -40
    assert [row[1] for row in rows].count("not recovered") == 1
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", row[1]) for row in rows if row is not worst)
    assert LAST_DAY not in ddinfo
    benchmark_end, strategy_end = tearsheet_row(synthetic_page, "Max DD Period End")
    assert strategy_end == "not recovered" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", benchmark_end)


def test_no_call_to_a_function_the_page_never_defines(synthetic_page):
    """QuantStats' template has <body onload="save()"> and no save(): a ReferenceError on every
    load (seen in Chromium by tests/test_browser_pages.py); the adapter drops it."""
    assert "<body>" in synthetic_page and "save()" not in synthetic_page


# --- a run that never moved, and the figures QuantStats prints wrong (issue 18) ---------------


@pytest.fixture(scope="module")
def flat_page(tmp_path_factory) -> str:
    """The tearsheet of a run that never traded: a year of zero returns (its benchmark, SPY,
    is left out, with a note: nothing can be regressed on it)."""
    dates = pd.bdate_range("2024-07-01", "2025-06-30")
    bench = pd.Series(np.random.default_rng(5).normal(0, 0.01, len(dates)), dates)
    flat = pd.Series(0.0, dates)
    path = write_tearsheet(flat, tmp_path_factory.mktemp("flat") / "f.html", "flat", bench, "SPY")
    return path.read_text(encoding="utf-8")


def test_a_run_that_never_moved_has_no_drawdown_and_no_risk_of_ruin(flat_page):
    """QuantStats printed "%" (no drawdown period, so no figure) and "1.0%" (its ruin
    formula with a win rate of 0 / 0, taken as 0, is 1: a certain ruin, printed as 1%)."""
    assert tearsheet_row(flat_page, "Max Drawdown") == ["0.0%"]
    for label in ("Max DD Date", "Max DD Period Start", "Max DD Period End"):
        assert tearsheet_row(flat_page, label) == ["-"]
    assert tearsheet_row(flat_page, "Risk of Ruin") == ["0.0%"]


def test_a_heatmap_of_zeros_has_the_colour_of_zero(flat_page):
    """Every month 0: seaborn's colour range has zero width and painted every cell the map's
    lowest colour (dark red, as for the worst loss). The cells get the middle of QuantStats'
    map (RdYlGn), where 0 sits on a heatmap of gains and losses, and dark annotations."""
    import matplotlib
    from matplotlib.colors import to_hex

    svg = chart(flat_page, "monthly_heatmap")
    mesh = svg[svg.index('<g id="QuadMesh_1">') : svg.index("</g>", svg.index('<g id="QuadMesh_1">'))]
    cells = re.findall(r"style=\"fill: (#[0-9a-f]{6})", mesh)
    assert len(cells) == 24 and set(cells) == {to_hex(matplotlib.colormaps["RdYlGn"](0.5))}
    annotations = re.findall(r"<!-- 0\.00 -->\s*<g style=\"fill: (#[0-9a-f]{6})", svg)
    assert len(annotations) == 24 and set(annotations) == {to_hex(".15")}


@pytest.fixture(scope="module")
def short_page(tmp_path_factory) -> tuple[str, pd.Series, pd.Series]:
    """12 days that mostly lose (2 wins of 11 non-zero days), against a random benchmark."""
    dates = pd.bdate_range("2025-03-03", periods=12)
    strategy = pd.Series(
        [0.01, -0.01, -0.02, 0.005, -0.01, -0.003, 0.0, -0.004, -0.01, -0.002, -0.001, -0.01], dates
    )
    bench = pd.Series(np.random.default_rng(0).normal(0, 0.01, 12), dates)
    path = write_tearsheet(strategy, tmp_path_factory.mktemp("short") / "s.html", "short", bench, "SPY")
    return path.read_text(encoding="utf-8"), strategy, bench


def test_risk_of_ruin_is_given_in_percent(short_page):
    """QuantStats' risk of ruin ((1 - w) / (1 + w)) ** n, win rate w over the non-zero days,
    n days (`qs.stats.risk_of_ruin`'s definition); QuantStats printed the fraction with a "%"
    sign: 0.01% for 1.21%."""
    page, strategy, _ = short_page
    moved = strategy[strategy != 0]
    w = (moved > 0).mean()
    expected = ((1 - w) / (1 + w)) ** len(strategy)
    assert expected == pytest.approx(0.0121, abs=1e-4)
    strategy_col = 1
    assert tearsheet_row(page, "Risk of Ruin")[strategy_col] == f"{round(expected * 100, 2)}%"


def test_the_benchmark_column_has_no_figures_relative_to_itself(short_page):
    """QuantStats wrote the strategy's R² and information ratio (against the benchmark) in the
    benchmark's column too; there they would be 1 and undefined (no tracking error): "-", as
    QuantStats leaves the benchmark's beta and alpha. The strategy's keep their definitions."""
    page, strategy, bench = short_page
    benchmark_col, strategy_col = 0, 1
    assert re.search(r"<tr><th>Metric</th><th>SPY</th><th>Strategy</th></tr>", page)
    r2, ir = tearsheet_row(page, "R^2"), tearsheet_row(page, "Information Ratio")
    assert r2[benchmark_col] == ir[benchmark_col] == "-"
    assert float(r2[strategy_col]) == round(np.corrcoef(strategy, bench)[0, 1] ** 2, 2)
    active = strategy - bench
    assert float(ir[strategy_col]) == round(active.mean() / active.std(ddof=1), 2)
    assert tearsheet_row(page, "Beta")[benchmark_col] == "-"


def test_days_with_a_return_is_named_and_defined_under_the_table(short_page):
    """QuantStats' "Time in Market" is the share of days with a non-zero return (rounded up to
    a whole percent), not the mean gross exposure `aishock run` reports as "Mean gross
    exposure": the row says what it counts and a note under the table defines it."""
    page, strategy, _ = short_page
    assert "Time in Market</td>" not in page
    share = (strategy != 0).mean()  # 11 of 12 days
    benchmark_col, strategy_col = 0, 1
    shown = tearsheet_row(page, "Days with a return")
    assert shown[strategy_col] == f"{np.ceil(share * 100):.1f}%" == "92.0%"
    assert shown[benchmark_col] == "100.0%"
    under = under_the_metrics(page)
    assert "Days with a return: the share of days whose return is not 0" in under
    assert "not the mean gross exposure" in under


def date_ticks(page: str, div_id: str) -> list[str]:
    svg = chart(page, div_id)
    axis = svg[svg.index('<g id="matplotlib.axis_1">') : svg.index('<g id="matplotlib.axis_2">')]
    return re.findall(r"<!-- (.*?) -->", axis)


def test_rolling_charts_with_nothing_to_draw_have_dates_on_their_axis(flat_page, short_page):
    """A rolling Sharpe or Sortino of returns that never vary, and any rolling figure over a
    span shorter than its 6-month window, has no value: the date axis was matplotlib's default
    range, labelled "01-01 00", "01-01 03", ... It spans the returns' dates instead."""
    months = [str(m) for m in pd.period_range("2024-07", "2025-06", freq="M")]
    for div_id in ("rolling_sharpe", "rolling_sortino"):  # the flat run's volatility is drawn: 0
        assert date_ticks(flat_page, div_id) == months
    page, strategy, _ = short_page  # 12 days
    for div_id in ("rolling_vol", "rolling_sharpe", "rolling_sortino"):
        ticks = date_ticks(page, div_id)
        assert len(ticks) >= 4 and all(
            strategy.index[0] <= pd.Timestamp(tick) <= strategy.index[-1] for tick in ticks
        ), (div_id, ticks)


def test_the_benchmark_column_is_close_to_close_and_a_note_says_why_a_run_of_it_differs(cfg, tmp_path):
    """The tearsheet's SPY column is SPY's close-to-close return compounded over the run's days
    (here checked on the closes of the snapshot's SPY file, read directly); buy-and-hold of SPY
    trades at the next open and pays fees and slippage, so its column differs: the note under
    the table says so."""
    from reports.artifacts import write_run

    r = engine.run("buy_and_hold", {"hold": "SPY"}, start="2025-01-02", end="2025-12-31", config=cfg)
    prices = load_prices(["SPY"], end="2025-12-31", config=cfg)
    page = write_run(r, tmp_path, prices, "SPY")["tearsheet"].read_text(encoding="utf-8")
    raw = pd.read_csv(prices.sources["SPY"], skiprows=3, header=None, index_col=0, parse_dates=True)
    assert pd.read_csv(prices.sources["SPY"], nrows=0).columns[1] == "Close"  # yfinance's layout
    close = raw[1]
    first, last = r.returns.index[0], r.returns.index[-1]
    expected = close[last] / close[close.index < first].iloc[-1] - 1
    benchmark_col, strategy_col = 0, 1
    shown = [float(c.rstrip("%")) / 100 for c in tearsheet_row(page, "Cumulative Return")]
    assert shown[benchmark_col] == pytest.approx(expected, abs=0.00005)  # shown to 0.01%
    assert shown[strategy_col] == pytest.approx(r.stats["total_return"].iloc[0], abs=0.00005)
    assert abs(shown[strategy_col] - shown[benchmark_col]) > 0.001  # costs and fill timing
    under = under_the_metrics(page)
    assert "SPY: SPY's close-to-close daily returns on the strategy's days, compounded" in under
    assert "differs from this column by those costs and that fill timing" in under
