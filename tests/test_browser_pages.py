"""Every page type the project writes, opened in headless Chromium (Playwright, tests/browser.py):
the index, a tearsheet and the event and generalisation pages (from one `aishock demo` run
into a temporary reports folder, followed from the index's links), and a sweep page. On each:
no console or page errors and nothing fetched from elsewhere; its charts present, laid out and
drawn (Plotly divs or inline SVG); on a Plotly chart, the mouse over a point shows a hover
label with a number; every table cell wholly visible across at 1280 px; and a screenshot,
reports/out/screenshots/PAGE.png. Then: a role has one colour on every page, the index's
attribution chart keeps its labels and legend inside and apart, and the sweep page's
dropdowns switch its heatmap.

Skips, with the reason, without /usr/bin/chromium (tests/browser.py)."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest
from browser import save_screenshot

from aishock.cli import main

pytestmark = pytest.mark.slow

NUMBER = re.compile(r"\d")
# QuantStats' report template opens with <body onload="save()"> and defines no save(): every
# tearsheet throws this on load (a bug of the template, harmless to the page's content)


def _quiet(argv: list[str]) -> str:
    """Run `aishock argv` in this process; its stdout (it must succeed)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    assert code == 0, err.getvalue()
    return out.getvalue()


@pytest.fixture(scope="session")
def demo(chromium_ready, demo_reports) -> Path:
    """index.html of the session's `aishock demo` run (conftest.demo_reports)."""
    return demo_reports / "index.html"


@pytest.fixture(scope="session")
def sweep_page(chromium_ready, cfg, tmp_path_factory) -> Path:
    """The page of a small `aishock sweep` (12 combinations of the per-name job, 3 parameters)."""
    out = tmp_path_factory.mktemp("browser-sweep") / "sweep.parquet"
    summary = _quiet(
        ["sweep", "oversold_rebound", "--grid", "min_drop=0.04:0.08:0.02", "--grid", "hold_days=3,11",
         "--grid", "exit_on_recovery=false,true", "--set", "mode=per_name",
         "--set", "universe=NVDA,AVGO,AMD,MU,ANET,VST", "--fill", "close",
         "--slippage", "0", "--warmup", "0", "--window", "2022-01-03:2025-12-31",
         "--out", str(out), "--json"]
    )  # fmt: skip
    return Path(json.loads(summary)["heatmap"])


_LINKS: dict[tuple[Path, str], str] = {}  # (index, selector) -> URL: the index is opened once per selector


def linked(open_page, index: Path, selector: str) -> str:
    """The URL of the first link of the index page matching `selector`."""
    if (index, selector) in _LINKS:
        return _LINKS[index, selector]
    page = open_page(index.as_uri())
    link = page.page.locator(selector).first
    assert link.count() == 1, f"no link {selector} on {index}"
    url = _LINKS[index, selector] = link.evaluate("a => a.href")
    assert url.startswith("file://") and Path(url.removeprefix("file://")).is_file(), url
    return url


def check(page, name: str, least: int, errors: list[str] | None = None) -> list[dict]:
    """The checks every page passes (see the module's docstring); returns its charts."""
    charts = page.charts()
    assert len(charts) >= least, f"{name}: {len(charts)} charts, expected at least {least}: {charts}"
    for chart in charts:
        assert chart["width"] > 300 and chart["height"] > 150, (name, chart)  # laid out
        if chart["kind"] == "plotly":
            assert chart["traces"] >= 1 and chart["drawn"] >= 1, (name, chart)  # data drawn
        else:
            assert chart["drawn"] > 10, (name, chart)  # axes, ticks, lines or bars: not an empty frame
    for chart in charts:
        if chart["kind"] == "plotly":
            label = page.hover(chart["index"])
            assert label is not None, f"{name}: no hover label on Plotly chart {chart}"
            assert NUMBER.search(label), f"{name}: hover label without a number: {label!r}"
    clipped = page.clipped_cells()
    assert clipped == [], f"{name}: table cells cut off at 1280 px: {clipped[:5]}"
    shot = save_screenshot(page, name)
    from PIL import Image

    with Image.open(shot) as image:
        assert image.format == "PNG" and image.width >= 1280 and image.height >= 2000
        colours = image.convert("RGB").resize((64, 256)).getcolors(64 * 256)
        assert colours is not None and len(colours) > 20, f"{name}: the screenshot looks blank"
    assert page.errors == (errors or []), f"{name}: {page.errors}"  # loading it, or hovering
    return charts


def test_index_page(demo, open_page):
    page = open_page(demo.as_uri())
    check(page, "index", least=1)
    assert "Comparison over named windows" in page.page.content()


def test_tearsheet_linked_from_the_index(demo, open_page):
    page = open_page(linked(open_page, demo, "table a[href$='.html']"))
    check(page, "tearsheet", least=5)  # no errors: the adapter drops QuantStats' onload="save()"


def test_event_page_linked_from_the_index(demo, open_page):
    page = open_page(linked(open_page, demo, "a[href^='event-']"))
    check(page, "event", least=4)


def test_generalisation_page_linked_from_the_index(demo, open_page):
    page = open_page(linked(open_page, demo, "a[href^='generalize-']"))
    charts = check(page, "generalize", least=3)
    assert {c["kind"] for c in charts} == {"plotly"}  # this page has always been Plotly


def test_capacity_pages_linked_from_the_index(demo, open_page):
    """Both theses' capacity pages: every chart drawn, Sharpe against capital on a log axis,
    one point per capital level, and the close-only names listed."""
    for nth in (0, 1):
        page = open_page(linked(open_page, demo, f"a[href^='capacity-'] >> nth={nth}"))
        check(page, f"capacity-{nth}", least=3)
        axis, points = page.evaluate(
            "() => { const f = document.getElementById('capacity-sharpe');"
            " return [f._fullLayout.xaxis.type, f.calcdata[0].length]; }"
        )
        assert (axis, points) == ("log", 12)
        assert "Filled without cap or impact" in page.page.content()


def test_sweep_page(sweep_page, open_page):
    page = open_page(sweep_page.as_uri())
    check(page, "sweep", least=1)


def test_a_run_page_marks_its_trades_and_sorts_its_trade_table_by_a_click(demo, open_page):
    """The rotation's run page (linked from the index as "trades"): its equity chart has an
    entry and an exit marker on the days trades opened and closed, a click on the Return head
    sorts the trade table by return, a second click reverses it, and nothing logs an error."""
    page = open_page(linked(open_page, demo, "a[href$='.run.html']:text('trades') >> nth=2"))
    charts = check(page, "run", least=4)
    traces = page.evaluate(
        "() => document.getElementById('run-equity').data.map(t => [t.name, (t.x || []).length])"
    )
    names = dict(traces)
    assert names.get("entries", 0) > 0 and names.get("exits", 0) > 0, traces
    assert {c["id"] for c in charts} >= {"run-equity", "run-weights", "run-exposure", "run-excursions"}
    column = page.evaluate(
        "() => [...document.querySelectorAll('#trades thead th')]"
        ".findIndex(th => th.textContent === 'Return')"
    )
    values = (
        "(col) => [...document.querySelectorAll('#trades tbody tr')]"
        ".map(r => parseFloat(r.cells[col].dataset.v))"
    )
    before = page.evaluate(values, column)
    assert len(before) > 20 and before != sorted(before)
    head = page.page.locator("#trades thead th").nth(column)
    head.click()
    assert page.evaluate(values, column) == sorted(before)
    head.click()
    assert page.evaluate(values, column) == sorted(before, reverse=True)
    assert page.errors == []


# how to reach each page type: the demo's index, what its links lead to, a sweep's page
PAGE_TYPES = {
    "index": lambda request, open_page, demo: demo.as_uri(),
    "tearsheet": lambda request, open_page, demo: linked(open_page, demo, "table a[href$='.html']"),
    "event": lambda request, open_page, demo: linked(open_page, demo, "a[href^='event-']"),
    "generalize": lambda request, open_page, demo: linked(open_page, demo, "a[href^='generalize-']"),
    "sweep": lambda request, open_page, demo: request.getfixturevalue("sweep_page").as_uri(),
    "run": lambda request, open_page, demo: linked(open_page, demo, "a[href$='.run.html']"),
    "capacity": lambda request, open_page, demo: linked(open_page, demo, "a[href^='capacity-']"),
}


def test_every_page_type_left_open_for_5_seconds_logs_no_error_and_asks_for_nothing(request, demo, open_page):
    """Errors and requests that come after the load event (QuantStats' favicon came 1-3 s
    after it) are missed by a check made on load: one page of each type is opened, all are
    left open together for 5 s, then each must have logged no console error and asked for
    nothing but the page itself (and the reports folder's one plotly.js)."""
    pages = {name: open_page(url(request, open_page, demo)) for name, url in PAGE_TYPES.items()}
    first, *rest = pages
    late = {first: pages[first].left_open(5000)} | {name: pages[name].left_open(0) for name in rest}
    assert late == {name: [] for name in PAGE_TYPES}, late


def test_leaving_a_page_open_catches_what_it_asks_for_after_load(open_page, tmp_path):
    """The check above can fail: a page that asks for a favicon elsewhere 0.5 s after load
    and for a local file 0.8 s after it, and logs an error at 1.1 s, passes a check made on
    load and fails once left open (1.5 s here; the pages above are left open 5 s)."""
    (tmp_path / "late.png").write_bytes(PNG)
    late = tmp_path / "late.html"
    late.write_text(
        "<!doctype html><p>late</p><script>"
        "setTimeout(() => { const icon = document.createElement('link'); icon.rel = 'icon';"
        " icon.href = 'https://example.invalid/favicon.ico'; document.head.appendChild(icon); }, 500);"
        "setTimeout(() => { new Image().src = 'late.png'; }, 800);"
        "setTimeout(() => console.error('drawn late'), 1100);"
        "</script>"
    )
    page = open_page(late.as_uri())
    assert page.errors == [] and page.requests == [late.as_uri()]  # on load: nothing yet
    assert page.left_open(1500) == [
        "request to https://example.invalid/favicon.ico (pages must be self-contained)",
        "drawn late",
        "requested https://example.invalid/favicon.ico",
        f"requested {(tmp_path / 'late.png').as_uri()}",
    ]


# a 1 x 1 PNG
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


# the colour of each trace of a Plotly chart: {trace name: colour} (a bar's marker, a line's line)
TRACE_COLOURS_JS = """(id) => Object.fromEntries(document.getElementById(id)._fullData.map(
  t => [t.name, t.type === 'bar' ? t.marker.color : t.line.color]))"""


def test_a_role_has_the_same_colour_on_the_index_and_the_event_page(demo, open_page):
    """The index's attribution bars and the event page's role lines colour every AI role
    alike (reports.palette), and no two roles alike; they used to take colours in order of
    appearance, from two different lists."""
    index = open_page(demo.as_uri())
    bars = index.evaluate(TRACE_COLOURS_JS, "index-roles")
    event = open_page(linked(open_page, demo, "a[href^='event-']"))
    event.charts()
    lines = event.evaluate(TRACE_COLOURS_JS, "event-paths-role")
    roles = [r for r in bars if r in lines and r not in ("other", "cash & costs")]
    assert len(roles) >= 8, (bars, lines)  # the AI roles of the demo's runs and of the `ai` universe
    assert {r: bars[r] for r in roles} == {r: lines[r] for r in roles}
    assert len({bars[r] for r in roles}) == len(roles)  # one colour per role


# the boxes (viewport pixels) of the chart's div, its tick labels (per axis), its legend and its
# subplot and main titles
CHART_BOXES_JS = """(id) => {
  const gd = document.getElementById(id), box = e => { const r = e.getBoundingClientRect();
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, text: e.textContent}; };
  gd.scrollIntoView({block: 'start'});
  const ticks = {};
  gd.querySelectorAll('.xaxislayer-above, .yaxislayer-above').forEach((layer, i) => {
    ticks[i] = [...layer.querySelectorAll('text')].filter(t => t.textContent).map(box); });
  return {div: box(gd), ticks, legend: box(gd.querySelector('.legend')),
          titles: [...gd.querySelectorAll('.annotation-text, .gtitle')].map(box)};
}"""


def _inside(inner: dict, outer: dict) -> bool:
    return all((inner[a] >= outer[a] - 0.5) if a in ("left", "top") else (inner[a] <= outer[a] + 0.5)
               for a in ("left", "top", "right", "bottom"))  # fmt: skip


def _overlap(a: dict, b: dict) -> bool:
    return min(a["right"], b["right"]) - max(a["left"], b["left"]) > 0.5 and (
        min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > 0.5
    )


def test_the_attribution_chart_keeps_its_labels_and_legend_inside_and_apart(demo, open_page):
    """At 1280 px every tick label, the legend and the titles of the index's attribution chart
    lie inside its div; no tick label overlaps the legend, a title or another label of its
    axis. The run names are long (up to 55 characters) and there are nine of them."""
    page = open_page(demo.as_uri())
    page.charts()
    boxes = page.evaluate(CHART_BOXES_JS, "index-roles")
    labels = [b for axis in boxes["ticks"].values() for b in axis]
    assert any("Inference pair" in b["text"] for b in labels)  # the longest run name is drawn
    for b in [*labels, boxes["legend"], *boxes["titles"]]:
        assert _inside(b, boxes["div"]), (b, boxes["div"])
    for b in [*labels, *boxes["titles"]]:
        assert not _overlap(b, boxes["legend"]), (b, boxes["legend"])
    for b in labels:
        assert not [t for t in boxes["titles"] if _overlap(b, t)], b
    for axis in boxes["ticks"].values():
        for i, a in enumerate(axis):
            assert not [b for b in axis[i + 1 :] if _overlap(a, b)], (a, axis)


def test_the_sweep_pages_dropdowns_switch_the_heatmap(sweep_page, open_page):
    """Choosing a metric, an axis and a fixed value shows the one precomputed heatmap of
    that choice: its title, axes and cells are those of the combinations chosen."""
    import pandas as pd

    page = open_page(sweep_page.as_uri())
    page.charts()
    state = """() => { const gd = document.getElementById('sweep-heatmap');
      const t = gd.data.findIndex(d => d.visible === true), m = gd.data[t].meta;
      return {title: gd.layout.title.text, x: gd.layout.xaxis.title.text, y: gd.layout.yaxis.title.text,
              ticks: [...gd.querySelectorAll('.xtick text')].map(e => e.textContent), fixed: m.fixed,
              z: Array.from(gd._fullData[t].z, row => Array.from(row))}; }"""
    first = page.evaluate(state)
    assert first["title"].startswith("sharpe by hold_days and min_drop; exit_on_recovery=")
    page.page.select_option("select[data-metric]", label="total_return")
    page.page.select_option("select[data-axis='y']", label="exit_on_recovery")
    shown = page.evaluate(state)
    assert shown["title"] == "total_return by exit_on_recovery and min_drop; hold_days=3"
    assert (shown["x"], shown["y"], shown["fixed"]) == ("min_drop", "exit_on_recovery", {"hold_days": "3"})
    table = pd.read_parquet(sweep_page.with_suffix(".parquet"))
    rows = table[table.hold_days == 3].pivot(
        index="exit_on_recovery", columns="min_drop", values="total_return"
    )
    assert shown["ticks"] == ["0.04", "0.06", "0.08"]
    assert shown["z"] == rows.to_numpy().tolist()
    assert page.errors == []


# a run label that would run a script, twice over, if a page wrote it as markup
SCRIPT_LABEL = "<script>window.__pwned=1;alert('pwned')</script><img src=x onerror=\"window.__pwned=2\">"


def test_a_tearsheet_with_a_script_label_runs_nothing_and_fetches_nothing(open_page, tmp_path):
    """QuantStats writes the title into <h1> as it is, and its page asks a third-party site
    for a favicon once opened (1-3 s after load): the adapter escapes the one and removes the
    other. The page is watched for 5 s after load."""
    import numpy as np
    import pandas as pd

    from reports.tearsheet import write_tearsheet

    rng = np.random.default_rng(3)
    dates = pd.bdate_range("2024-01-01", "2025-06-30")
    bench = pd.Series(rng.normal(0, 0.01, len(dates)), dates)
    strategy = bench + rng.normal(0, 0.002, len(dates))
    path = write_tearsheet(strategy, tmp_path / "tearsheet.html", SCRIPT_LABEL, bench, "SPY")
    page = open_page(path.as_uri())
    assert page.left_open(5000) == []  # no dialog, no error, no request, not even for x
    assert page.evaluate("typeof window.__pwned") == "undefined"  # no script ran, no onerror
    assert SCRIPT_LABEL in page.page.inner_text("h1")  # the label is shown, as text


def test_the_checks_fail_on_a_broken_page(open_page, tmp_path):
    """The browser checks can fail: errors, dialogs, external requests (a favicon too, which
    Playwright's routing never sees) and a page without charts."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!doctype html><link rel=icon href='https://example.invalid/favicon.ico'>"
        "<p>no chart</p><img src='https://example.invalid/x.png'>"
        "<script>alert('boom'); console.error('drawn wrong'); console.assert(false, 'assertion'); "
        "missing()</script>"
    )
    page = open_page(bad.as_uri())
    page.page.wait_for_timeout(1000)  # the favicon is asked for after load
    print(page.errors)
    for error in ("dialog alert: boom", "drawn wrong", "assertion", "ReferenceError: missing is not defined"):
        assert error in page.errors
    for url in ("https://example.invalid/x.png", "https://example.invalid/favicon.ico"):
        assert f"request to {url} (pages must be self-contained)" in page.errors
    assert page.charts() == []
