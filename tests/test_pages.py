"""The Plotly embedding every page shares (reports/figures.py), the index page's equity chart
and the sweep page's heatmap, from synthetic inputs: plotly.js inline once per page, or one
shared copy per reports folder loaded by a relative path, and nothing fetched, fixed div ids
and the same bytes for the same figure, the figures' data as the page embeds it, and (with
/usr/bin/chromium) both pages render with working hover."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.offline
import pytest

from engine.analytics import run_stats
from reports import figures
from reports.charts import equity_chart
from reports.index_page import write_index
from reports.sweep_page import heatmap_figure, write_sweep_page

BUNDLE = plotly.offline.get_plotlyjs()
WINDOWS = (("before", "2025-01-02", "2025-01-24"), ("after", "2025-01-27", "2025-03-31"))
SHOCK = "2025-01-27"


def bundled(text: str) -> int:
    """How many copies of plotly.js `text` holds (checked at three places of the bundle)."""
    counts = {text.count(BUNDLE[i : i + 200]) for i in (0, len(BUNDLE) // 2, len(BUNDLE) - 200)}
    assert len(counts) == 1, counts
    return counts.pop()


def offline(text: str) -> bool:
    """Nothing in the page (outside plotly.js's own source) is loaded from elsewhere."""
    own = text.replace(BUNDLE, "")
    return not re.search(r'(src|href)="(https?:)?//', own) and not re.search(r"<script[^>]*\bsrc=", own)


# --- reports.figures --------------------------------------------------------------------------------


def small_figure() -> go.Figure:
    y = np.array([1.0, np.nan, 3.5])
    fig = go.Figure(go.Scatter(x=["2025-01-02", "2025-01-03", "2025-01-06"], y=y, name="a <b>&</b>"))
    fig.add_trace(go.Heatmap(z=np.arange(6.0).reshape(2, 3), x=["p", "q", "r"], y=["1", "2"]))
    return figures.layout(fig, "Title", "x", "y")


def test_div_inlines_plotly_js_with_the_first_figure_only():
    first, later = figures.div(small_figure(), "one", True), figures.div(small_figure(), "two", False)
    assert bundled(first) == 1 and bundled(later) == 0
    assert offline(first) and offline(later)
    assert first.startswith('<div class="chart">') and first.endswith("</div>")
    assert (
        '<div id="one" class="plotly-graph-div"' in first
        and '<div id="two" class="plotly-graph-div"' in later
    )
    assert len(later) < 20_000  # the figure alone: no bundle, no large default template


def test_div_is_the_same_text_every_time_and_ids_are_checked():
    assert figures.div(small_figure(), "fig-1", False) == figures.div(small_figure(), "fig-1", False)
    for bad in ("", "1fig", "Fig", "a b", 'x"><script>'):
        with pytest.raises(ValueError, match="bad figure id"):
            figures.div(small_figure(), bad, False)


def test_read_gives_back_each_figure_with_its_arrays():
    text = "<p>page</p>" + figures.div(small_figure(), "one", True) + figures.div(go.Figure(), "two", False)
    figs = figures.read(text)
    assert list(figs) == ["one", "two"] and figs["two"]["data"] == []
    line, heat = figs["one"]["data"]
    assert line["name"] == "a <b>&</b>" and line["x"] == ["2025-01-02", "2025-01-03", "2025-01-06"]
    assert line["y"][0] == 1.0 and np.isnan(line["y"][1]) and line["y"][2] == 3.5
    assert heat["z"] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert figs["one"]["layout"]["title"]["text"] == "Title"
    assert "<b>&</b>" not in text.split("Plotly.newPlot", 1)[1]  # escaped inside the script


def test_pages_of_a_reports_folder_load_its_one_copy_of_plotly_js(tmp_path):
    """A page at the top of the reports folder and one in a report set's folder below it
    both load `<folder>/plotly-<version>.min.js` by a relative path from their own folder; the
    copy is plotly.js itself, written once (a second page does not rewrite it) and replaced
    when it differs; neither page holds plotly.js's source."""
    reports = tmp_path / "out"
    (reports / "a-set").mkdir(parents=True)
    name = f"plotly-{plotly.offline.get_plotlyjs_version()}.min.js"
    top = write_sweep_page(reports / "sweep.html", sweep_result(["min_drop", "hold_days"]), shared=reports)
    copy = reports / name
    assert copy.read_text(encoding="utf-8") == BUNDLE and [p.name for p in reports.glob("*.js")] == [name]
    stamp = copy.stat().st_mtime_ns
    below = write_sweep_page(reports / "a-set" / "s.html", sweep_result(["hold_days"]), shared=reports)
    assert copy.stat().st_mtime_ns == stamp  # present and the same: not written again
    for page, src in ((top, name), (below, f"../{name}")):
        text = page.read_text(encoding="utf-8")
        assert bundled(text) == 0 and f'<script charset="utf-8" src="{src}"></script>' in text
        assert len(re.findall(r"<script[^>]*\bsrc=", text)) == 1
        assert (page.parent / src).resolve() == copy.resolve()
    copy.write_text("stale", encoding="utf-8")
    write_sweep_page(reports / "again.html", sweep_result(["hold_days"]), shared=reports)
    assert copy.read_text(encoding="utf-8") == BUNDLE


def test_a_page_with_no_reports_folder_to_share_has_plotly_js_inline(tmp_path):
    """No folder given, a page outside the folder (a lone --out path), a stream, a symlink:
    plotly.js inline, and no copy written anywhere."""
    reports, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    reports.mkdir()
    elsewhere.mkdir()
    assert figures.plotly_js(elsewhere / "page.html", None) is True
    assert figures.plotly_js(elsewhere / "page.html", reports) is True
    assert figures.plotly_js("/dev/stdout", reports) is True
    (reports / "link.html").symlink_to(elsewhere / "target.html")
    assert figures.plotly_js(reports / "link.html", reports) is True
    assert list(reports.glob("*.js")) == list(elsewhere.glob("*.js")) == []
    page = write_sweep_page(elsewhere / "sweep.html", sweep_result(["hold_days"]), shared=reports)
    text = page.read_text(encoding="utf-8")
    assert bundled(text) == 1 and offline(text)
    with pytest.raises(ValueError, match=r"must end in \.js"):
        figures.div(small_figure(), "one", "plotly")


# --- the index page ---------------------------------------------------------------------------------


def equity() -> pd.DataFrame:
    idx = pd.bdate_range("2025-01-02", "2025-03-31")
    rng = np.random.default_rng(5)
    out = pd.DataFrame(
        100_000 * np.cumprod(1 + rng.normal(0.0005, 0.01, (len(idx), 3)), axis=0),
        index=idx,
        columns=["Oversold rebound", "SPY", "Late starter"],
    )
    out.iloc[:5, 2] = np.nan  # a run that starts later
    return out


@pytest.fixture(scope="module")
def index_page(tmp_path_factory) -> Path:
    eq = equity()
    table = run_stats.by_window(eq.pct_change(fill_method=None), WINDOWS)
    links = {"Oversold rebound": "oversold/oversold.html"}
    path = tmp_path_factory.mktemp("index") / "index.html"
    chart = equity_chart(eq, {SHOCK: "shock"})
    return write_index(path, "Index <title>", "sub", table, links, WINDOWS, chart, ["a note"])


def test_index_page_keeps_its_table_and_embeds_the_equity_chart(index_page):
    text = index_page.read_text(encoding="utf-8")
    assert text.startswith("<!doctype html>") and text.rstrip().endswith("</html>")
    assert bundled(text) == 1 and offline(text)
    assert "<h1>Index &lt;title&gt;</h1>" in text and "Comparison over named windows" in text
    assert '<a href="oversold/oversold.html">Oversold rebound</a>' in text and "<li>a note</li>" in text
    assert list(figures.read(text)) == ["index-equity"]


def test_equity_chart_is_every_run_rebased_with_the_shock_marked(index_page):
    fig = figures.read(index_page.read_text(encoding="utf-8"))["index-equity"]
    eq = equity()
    dates = [d.strftime("%Y-%m-%d") for d in eq.index]
    assert [t["name"] for t in fig["data"]] == list(eq.columns)
    for trace, col in zip(fig["data"], eq.columns, strict=True):
        assert trace["x"] == dates and len(trace["y"]) == len(eq)
        expected = (eq[col] / eq[col].dropna().iloc[0]).to_numpy()
        np.testing.assert_allclose(np.asarray(trace["y"], dtype=float), expected)
    assert np.isnan(fig["data"][2]["y"][0]) and fig["data"][2]["y"][5] == 1.0
    marks = [s for s in fig["layout"]["shapes"] if s.get("line", {}).get("dash") == "dash"]
    assert [(s["x0"], s["x1"], s["yref"]) for s in marks] == [(SHOCK, SHOCK, "paper")]
    (label,) = fig["layout"]["annotations"]
    assert label["text"] == "shock" and label["x"] == SHOCK and label["hovertext"] == f"shock: {SHOCK}"
    assert fig["layout"]["xaxis"]["type"] == "date" and fig["layout"]["hovermode"] == "x unified"


# --- the sweep page ---------------------------------------------------------------------------------


def sweep_result(swept: list[str], metric: str = "sharpe") -> SimpleNamespace:
    """What write_sweep_page reads of a SweepResult: min_drop x hold_days, one cell missing
    (with "top_k" among `swept`, every combination also at top_k 3 and 8, whose values differ)."""
    ks = (3, 8) if "top_k" in swept else (3,)
    rows = [
        {"min_drop": d, "hold_days": h, "top_k": k, "sharpe": round(10 * d - h / 20 + (k - 3) / 4, 3),
         "total_return": d * k / 3, "volatility": round(0.1 + h / 100 - k / 50, 3)}
        for d in (0.03, 0.05, 0.07)
        for h in (5, 10, 20, 40)
        for k in ks
        if (d, h) != (0.07, 40)
    ]  # fmt: skip
    table = pd.DataFrame(rows)
    if "top_k" not in swept:
        table = table.drop(columns="top_k")
    if swept == ["hold_days"]:
        table = table[table.min_drop == 0.05].drop(columns="min_drop").reset_index(drop=True)
    table = table[[*swept, *(c for c in table.columns if c not in swept)]]
    better = run_stats.better(metric)
    return SimpleNamespace(
        strategy="oversold_rebound",
        swept=swept,
        start="2024-07-01",
        end="2025-12-31",
        n_trials=len(table),
        metric=metric,
        better=better,
        best=table.iloc[int(np.nanargmax(better * table[metric].to_numpy(dtype=float)))],
        dsr=0.5,
        pbo=0.25,
        pbo_note="",
        warnings=["best <cell> on the edge"],
        table=table,
    )


@pytest.fixture(scope="module")
def sweep_page(tmp_path_factory) -> Path:
    return write_sweep_page(
        tmp_path_factory.mktemp("sweep") / "sweep.html", sweep_result(["min_drop", "hold_days"])
    )


def _shown(text: str) -> dict:
    """The heatmap a sweep page shows at first (the visible trace of its surface)."""
    (heat,) = [t for t in figures.read(text)["sweep-heatmap"]["data"] if t["visible"] is True]
    return heat


def test_sweep_page_is_one_offline_page_with_its_heatmap_and_table(sweep_page):
    text = sweep_page.read_text(encoding="utf-8")
    assert bundled(text) == 1 and offline(text)
    assert "Deflated Sharpe Ratio of the best: 0.500" in text and "best &lt;cell&gt; on the edge" in text
    assert "<h2>Top 11</h2>" in text
    assert list(figures.read(text)) == ["sweep-heatmap"]


def test_a_lower_is_better_metric_ranks_lowest_first_and_greens_the_low_end(tmp_path):
    """`--metric volatility`: the Top table starts at the lowest value, and the colour scale
    is reversed so green still means better."""
    result = sweep_result(["min_drop", "hold_days"], "volatility")
    text = write_sweep_page(tmp_path / "sweep.html", result).read_text(encoding="utf-8")
    top = pd.read_html(io.StringIO(text[text.index("<h2>Top") :]))[0]
    assert list(top["volatility"]) == sorted(top["volatility"])
    heat = _shown(text)
    assert heat["meta"]["title"].startswith("volatility by ")
    normal = _shown(
        write_sweep_page(tmp_path / "n.html", sweep_result(["min_drop", "hold_days"])).read_text()
    )
    assert normal["meta"]["title"].startswith("sharpe by ")
    assert (heat["colorscale"][0][1], heat["colorscale"][-1][1]) == (
        normal["colorscale"][-1][1],
        normal["colorscale"][0][1],
    )


def test_heatmap_hover_shows_both_parameters_and_the_metric(sweep_page):
    heat = _shown(sweep_page.read_text(encoding="utf-8"))
    assert (
        heat["type"] == "heatmap"
        and heat["x"] == ["0.03", "0.05", "0.07"]
        and heat["y"] == ["5", "10", "20", "40"]
    )
    table = sweep_result(["min_drop", "hold_days"]).table
    grid = table.pivot(index="hold_days", columns="min_drop", values="sharpe")
    np.testing.assert_allclose(np.asarray(heat["z"], dtype=float), grid.to_numpy(), equal_nan=True)
    assert np.isnan(heat["z"][3][2]) and heat["text"][3][2] == ""  # the missing cell stays a gap
    assert heat["hovertemplate"] == "min_drop=%{x}<br>hold_days=%{y}<br>sharpe=%{z:.3f}<extra></extra>"
    assert heat["text"][1][2] == f"{grid.loc[10, 0.07]:.2f}" and heat["texttemplate"] == "%{text}"
    assert heat["zmin"] == -heat["zmax"] == -np.nanmax(np.abs(grid))


def test_one_swept_parameter_gives_a_one_row_heatmap(tmp_path):
    page = write_sweep_page(tmp_path / "one.html", sweep_result(["hold_days"]))
    text = page.read_text(encoding="utf-8")
    assert "<h2>Heatmap</h2>" in text and bundled(text) == 1
    heat = _shown(text)
    assert heat["meta"]["xlabels"] == ["5", "10", "20", "40"] and heat["meta"]["ylabels"] == ["sharpe"]
    assert len(heat["z"]) == 1 and heat["hovertemplate"] == "hold_days=%{x}<br>sharpe=%{z:.3f}<extra></extra>"
    controls = re.search(r'<div class=controls id="sweep-heatmap-controls">(.*?)</div>', text).group(1)
    assert "<select data-metric>" in controls and "data-axis" not in controls  # no axes to choose


def test_a_three_parameter_sweep_shows_each_combination_never_an_average(tmp_path):
    """The cell (min_drop, hold_days) with top_k fixed at k is the value of the combination
    (min_drop, hold_days, k) itself, for every metric on the page, every k, both axis orders;
    no cell is the mean over top_k (what the page showed before)."""
    result = sweep_result(["min_drop", "hold_days", "top_k"])
    table = result.table
    text = write_sweep_page(tmp_path / "three.html", result).read_text(encoding="utf-8")
    traces = figures.read(text)["sweep-heatmap"]["data"]
    index = json.loads(re.search(r"var index=(\{.*?\}),n=3;", text).group(1))
    names = re.findall(
        r'<option value="\d+"[^>]*>([a-z_]+)</option>', text.split("data-metric>")[1].split("</select>")[0]
    )
    assert names[0] == "sharpe" and {"total_return", "volatility"} <= set(names)
    assert len(traces) == len(names) * len(index)
    for m, name in enumerate(names):
        if name not in table:
            continue
        for k in (3, 8):
            for key, x, y in (("0|1|%d", "min_drop", "hold_days"), ("1|0|%d", "hold_days", "min_drop")):
                trace = traces[m * len(index) + index[key % (0 if k == 3 else 1)]]
                assert trace["meta"]["fixed"] == {"top_k": str(k)} and (
                    trace["meta"]["x"],
                    trace["meta"]["y"],
                ) == (x, y)
                rows = table[table.top_k == k].pivot(index=y, columns=x, values=name)
                np.testing.assert_allclose(
                    np.asarray(trace["z"], dtype=float), rows.to_numpy(), equal_nan=True
                )
    sharpe = traces[index["0|1|1"]]  # top_k 8
    b, a = 1, 1  # min_drop 0.05, hold_days 10
    (value,) = table.query("min_drop == 0.05 and hold_days == 10 and top_k == 8")["sharpe"]
    mean = table.query("min_drop == 0.05 and hold_days == 10")["sharpe"].mean()
    assert sharpe["z"][a][b] == value != mean
    assert (
        sharpe["hovertemplate"]
        == "min_drop=%{x}<br>hold_days=%{y}<br>top_k=8<br>sharpe=%{z:.3f}<extra></extra>"
    )
    # at first: sharpe, min_drop x hold_days, top_k at the best combination's (8)
    assert [t["visible"] for t in traces].index(True) == index["0|1|1"] and result.best["top_k"] == 8


def test_large_grids_are_hover_only():
    grid = pd.DataFrame(
        np.ones((30, 20)), index=pd.Index(range(30), name="y"), columns=pd.Index(range(20), name="x")
    )
    assert heatmap_figure(grid, "t", "m").data[0].texttemplate is None
    small = heatmap_figure(grid.iloc[:20], "t", "m").data[0]
    assert small.texttemplate == "%{text}" and small.text[0][0] == "1.00"


def test_the_notebooks_heatmap_figure_is_the_surface_of_its_frame():
    grid = pd.DataFrame(
        [[1.0, 2.0, np.nan], [3.0, 4.0, 5.0]],
        index=pd.Index([10, 20], name="hold_days"),
        columns=pd.Index([0.03, 0.05, 0.07], name="min_drop"),
    )
    fig = heatmap_figure(grid, "Sharpe by hold_days and min_drop", "sharpe")
    shown = [t for t in fig.data if t.visible]
    assert len(shown) == 1 and fig.layout.title.text == "Sharpe by hold_days and min_drop"
    np.testing.assert_allclose(np.asarray(shown[0].z, dtype=float), grid.to_numpy(), equal_nan=True)
    assert shown[0].meta["xlabels"] == ["0.03", "0.05", "0.07"] and shown[0].meta["ylabels"] == ["10", "20"]


# --- in a browser -----------------------------------------------------------------------------------


def test_index_and_sweep_pages_render_and_hover(index_page, sweep_page, open_page):
    index = open_page(index_page.as_uri())
    lines = index.evaluate(
        """(() => { const gd = document.getElementById('index-equity');
             Plotly.Fx.hover(gd, {xval: Date.UTC(2025, 1, 3)}, 'xy');  // ms: a date axis
             return {width: gd.querySelector('svg.main-svg').getBoundingClientRect().width,
                     drawn: gd.querySelectorAll('.scatterlayer path.js-line').length,
                     hover: [...gd.querySelectorAll('.hoverlayer text')].map(t => t.textContent)}; })()"""
    )
    sweep = open_page(sweep_page.as_uri())
    heat = sweep.evaluate(
        """(() => { const gd = document.getElementById('sweep-heatmap');
             Plotly.Fx.hover(gd, {xval: 2, yval: 1}, 'xy');  // category indices
             return [...gd.querySelectorAll('.hoverlayer text')].map(t => t.textContent); })()"""
    )
    errors = index.errors + sweep.errors
    assert errors == []
    assert lines["width"] > 600 and lines["drawn"] == 3
    assert lines["hover"][0].startswith("2025-02-03") and any(
        t.startswith("Late starter : ") for t in lines["hover"]
    )
    assert heat == ["min_drop=0.07hold_days=10sharpe=0.200"]


def test_index_shows_intervals_role_contributions_and_brinson(tmp_path, cfg):
    """The demo's extra index content from real runs: bootstrap intervals under the last
    window's figures, the role chart whose bars add up to each run's contributions, and the
    Brinson-Fachler rows whose allocation + selection is the active return."""
    import engine
    from engine.analytics import intervals
    from engine.backtest import attribution

    windows = (("early", "2025-01-02", "2025-02-28"), ("all", "2025-01-02", "2025-06-30"))
    runs = {
        "Rotation": engine.run("inference_rotation", None, "2025-01-02", "2025-06-30", config=cfg),
        "SPY": engine.run("buy_and_hold", {"hold": "SPY"}, "2025-01-02", "2025-06-30", config=cfg),
    }
    returns = pd.DataFrame({k: r.returns.iloc[:, 0] for k, r in runs.items()})
    table = run_stats.by_window(returns, windows)
    roles = {k: attribution.contributions(r, windows) for k, r in runs.items()}
    bands = {k: intervals.for_series(returns[k], n_boot=200) for k in runs}
    bf = {"Rotation": attribution.brinson_fachler(runs["Rotation"], windows, config=cfg)}
    chart = equity_chart((1 + returns).cumprod(), {})
    path = write_index(tmp_path / "index.html", "t", "s", table, {}, windows, chart, [], intervals=bands,
                       roles=roles, brinson=bf)  # fmt: skip
    text = path.read_text(encoding="utf-8")
    assert bundled(text) == 1
    low = bands["SPY"]["sharpe"]["low"]
    assert f"<small class=ci>{low:.2f} … {bands['SPY']['sharpe']['high']:.2f}</small>" in text
    assert "stationary block bootstrap (200 resamples, seed 0" in text
    fig = figures.read(text)["index-roles"]
    for panel, (w, _, _) in enumerate(windows):
        axis = "x" if panel == 0 else f"x{panel + 1}"
        bars = [t for t in fig["data"] if t.get("xaxis", "x") == axis]
        for k, label in enumerate(runs):
            total = sum(t["x"][k] for t in bars)  # horizontal bars, one row per run
            assert total == pytest.approx(100 * roles[label][w].sum(), abs=1e-9)
    assert {t["name"] for t in fig["data"]} >= {"training", "power", "inference", "cash & costs"}
    total = bf["Rotation"]["all"].loc["total"]
    active = total["portfolio"] - total["benchmark"]
    assert active == pytest.approx(total["allocation"] + total["selection"], abs=1e-12)
    assert f"{active:+.1%}" in text and "Brinson-Fachler" in text
