"""The event-study HTML page: self-contained (plotly.js inline once, nothing fetched), its
Plotly figures hold the study's numbers, and they render in headless Chromium (no console
errors, every figure laid out with its traces drawn, a hover label, a screenshot that is not
blank). Without /usr/bin/chromium the browser tests skip (`.ci/run` installs Debian's chromium)."""

from __future__ import annotations

import re

import numpy as np
import plotly.offline
import pytest
from raw_market import EVENT, SP500_FILE, market_dir

from engine.events import study as event
from engine.events.members import load_universe
from reports import figures
from reports.event_page import write_event_page

BUNDLE = plotly.offline.get_plotlyjs()


@pytest.fixture(scope="module")
def studies(cfg):
    """The studies of `ai` (role charts) and of the S&P 500 list (role and sector charts)."""
    out = {}
    for name, spec in (("ai", "ai"), ("sp500", str(market_dir() / SP500_FILE))):
        label, members, prices = load_universe(spec, cfg, "SPY", event.BENCHMARKS)
        out[name] = (label, event.study(prices.close, members, EVENT))
    return out


@pytest.fixture(scope="module")
def pages(studies, tmp_path_factory):
    out = tmp_path_factory.mktemp("pages")
    return {name: write_event_page(out / f"{name}.html", s, label) for name, (label, s) in studies.items()}


EXPECTED_CHARTS = {  # paths + CAAR per grouping, ranked bars, recovery: the figures' div ids
    "ai": ["event-paths-role", "event-caar-role", "event-ranked", "event-recovery"],
    "sp500": [
        "event-paths-role",
        "event-caar-role",
        "event-paths-sector",
        "event-caar-sector",
        "event-ranked",
        "event-recovery",
    ],
}


def test_page_is_self_contained_with_its_figures(pages):
    text = pages["ai"].read_text(encoding="utf-8")
    assert text.count('class="plotly-graph-div"') == len(EXPECTED_CHARTS["ai"])
    assert list(figures.read(text)) == EXPECTED_CHARTS["ai"]
    for marker in (BUNDLE[:200], BUNDLE[len(BUNDLE) // 2 : len(BUNDLE) // 2 + 200], BUNDLE[-200:]):
        assert text.count(marker) == 1  # plotly.js inline, once
    own = text.replace(BUNDLE, "")  # the page without plotly.js (whose source names URLs)
    assert not re.search(r'(src|href)="(https?:)?//', own)  # nothing fetched from elsewhere
    assert not re.search(r"<script[^>]*\bsrc=", own)
    assert len(text) < len(BUNDLE) + 500_000  # the bundle plus a small page
    assert "Event study: ai on 2025-01-27" in text and "35 members, 35 covered, 0 missing" in text
    assert "4 advancers, 31 decliners, 0 unchanged" in text
    sp = pages["sp500"].read_text(encoding="utf-8")
    assert "ANSS (no data), DFS (no data), FI (no data)" in sp and "<h2>By sector</h2>" in sp
    assert list(figures.read(sp)) == EXPECTED_CHARTS["sp500"]


def _series(trace) -> np.ndarray:
    return np.asarray(trace["y"], dtype=float)


def test_figures_hold_the_studys_numbers(pages, studies):
    """Every chart's traces: the groups (the universe first), the benchmarks, every day of the
    window; the ranked bars are the names' event-day returns, lowest first."""
    for name, (_, s) in studies.items():
        figs = figures.read(pages[name].read_text(encoding="utf-8"))
        days = list(range(-s.pre, s.post + 1))
        for kind in [k for k in ("role", "sector") if k in s.paths]:
            groups = ["all members", *map(str, s.paths[kind].columns)]
            paths = figs[f"event-paths-{kind}"]["data"]
            assert [t["name"] for t in paths] == [*groups, *event.BENCHMARKS]
            for trace in paths:
                assert trace["x"] == days and len(trace["y"]) == len(days)
            frame = {"all members": s.paths["universe"].iloc[:, 0], **s.paths[kind]}
            for trace in paths[: len(groups)]:
                np.testing.assert_allclose(_series(trace), frame[trace["name"]].to_numpy(float))
            np.testing.assert_allclose(_series(paths[-1]), s.benchmark_paths["SMH"].to_numpy(float))
            caar = figs[f"event-caar-{kind}"]["data"]
            assert [t["name"] for t in caar] == groups and all(t["x"] == days for t in caar)
        ranked = figs["event-ranked"]["data"]
        assert len(ranked) == 1 and ranked[0]["type"] == "bar"
        assert ranked[0]["x"] == list(s.ranked().index)
        np.testing.assert_allclose(_series(ranked[0]), s.ranked().to_numpy(float))
        recovery = figs["event-recovery"]["data"]
        assert [t["name"] for t in recovery] == ["all members", *map(str, s.recovery["role"].columns)]
        assert all(t["x"] == list(range(s.post + 1)) and t["line"]["shape"] == "hv" for t in recovery)
        assert all(0 <= v <= 1 for t in recovery for v in t["y"])


def test_two_writes_of_the_same_study_are_byte_identical(studies, tmp_path):
    label, s = studies["ai"]
    a = write_event_page(tmp_path / "a.html", s, label).read_bytes()
    assert write_event_page(tmp_path / "b.html", s, label).read_bytes() == a


@pytest.mark.parametrize("name", ["ai", "sp500"])
def test_charts_render_in_headless_chromium(pages, studies, name, tmp_path, open_page):
    page = open_page(pages[name].as_uri())
    charts = page.evaluate(
        """[...document.querySelectorAll('div.chart .js-plotly-plot')].map(gd => {
             const box = gd.querySelector('svg.main-svg').getBoundingClientRect();
             const drawn = [...gd.querySelectorAll('.scatterlayer path.js-line, .barlayer path')]
               .filter(p => { const b = p.getBBox(); return b.width > 0 || b.height > 0; }).length;
             return {id: gd.id, width: box.width, height: box.height, traces: gd.data.length,
                     drawn: drawn, legend: gd.querySelectorAll('.legend .traces').length};
           })"""
    )
    hover = page.evaluate(
        """(() => { const gd = document.getElementById('event-paths-role');
             Plotly.Fx.hover(gd, {xval: 0}, 'xy');
             return [...gd.querySelectorAll('.hoverlayer text')].map(t => t.textContent); })()"""
    )
    shot = page.screenshot(tmp_path / f"{name}.png")
    errors = page.errors
    assert errors == []
    assert [c["id"] for c in charts] == EXPECTED_CHARTS[name]
    for chart in charts:
        assert chart["width"] > 600 and chart["height"] > 250, chart
        if chart["id"] == "event-ranked":  # one bar per covered name
            assert chart["traces"] == 1 and chart["drawn"] == len(studies[name][1].ranked()) > 20, chart
        else:  # one line per group (and benchmark), each drawn and in the legend
            assert chart["traces"] >= 3 and chart["drawn"] == chart["traces"] == chart["legend"], chart
    assert hover[0] == "0" and any(t.startswith("all members : ") for t in hover), hover
    assert any(t.startswith("SPY : ") for t in hover), hover  # every series at the event day
    from PIL import Image

    with Image.open(shot) as image:
        assert image.format == "PNG" and image.width == 1280 and image.height > 2000
        colours = image.convert("RGB").resize((64, 256)).getcolors(64 * 256)
        assert colours is not None and len(colours) > 20  # more than a blank page


def test_a_console_error_is_caught(tmp_path, open_page):
    """The browser check itself can fail: a page that logs an error is reported."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!doctype html><svg><path d='M0 0L9 9'/></svg><script>console.error('drawn wrong')</script>"
    )
    page = open_page(bad.as_uri())
    assert page.errors == ["drawn wrong"]


# the members table's rows: each cell's value (data-v, a number; null without one) in column
# `col`, and the tickers in order
MEMBER_ROWS_JS = """(col) => { const t = document.querySelector('div.rows table.sortable');
  return {values: [...t.tBodies[0].rows].map(r => r.cells[col].getAttribute('data-v')),
          tickers: [...t.tBodies[0].rows].map(r => r.cells[0].textContent)}; }"""


def test_the_member_table_sorts_by_a_clicked_header_in_a_bounded_box(pages, studies, open_page):
    """The S&P 500 page's 493 rows sit in a box no taller than the window, whose header stays
    in view as it scrolls; a click on 'Day 0' sorts the rows by the event-day return as numbers
    (missing figures last), a second click reverses; a click on 'Ticker' sorts by name."""
    _, s = studies["sp500"]
    page = open_page(pages["sp500"].as_uri(), height=1000)
    heads = page.evaluate("[...document.querySelector('div.rows table.sortable').tHead.rows[0].cells]"
                          ".map(c => c.textContent)")  # fmt: skip
    col = heads.index("Day 0")
    header = page.page.locator("div.rows table.sortable thead th").nth(col)
    header.click()
    rows = page.evaluate(MEMBER_ROWS_JS, col)
    up = [float(v) for v in rows["values"] if v is not None]
    returns = s.table["event_return"].dropna()
    assert len(rows["values"]) == len(s.table) and len(up) == len(returns) > 400
    assert up == sorted(returns.tolist())  # numerically: -0.283 ... +0.068, not as text
    assert all(v is None for v in rows["values"][len(up) :])  # the names without a figure last
    assert rows["tickers"][0] == returns.idxmin()
    header.click()
    rows = page.evaluate(MEMBER_ROWS_JS, col)
    down = [float(v) for v in rows["values"] if v is not None]
    assert down == sorted(returns.tolist(), reverse=True) and rows["values"][-1] is None
    page.page.locator("div.rows table.sortable thead th").nth(0).click()
    assert page.evaluate(MEMBER_ROWS_JS, 0)["tickers"] == sorted(map(str, s.table.index))
    box = page.evaluate(
        """() => { const box = document.querySelector('div.rows'), th = box.querySelector('thead th');
             box.scrollTop = 5000;
             return {height: box.getBoundingClientRect().height, scrolls: box.scrollHeight > box.clientHeight,
                     top: box.getBoundingClientRect().top, head: th.getBoundingClientRect().top,
                     page: document.documentElement.scrollHeight}; }"""
    )
    assert box["height"] <= 1000 and box["scrolls"], box
    assert abs(box["head"] - box["top"]) <= 2, box  # the header stays at the top of the box
    assert box["page"] < 8000, box  # it was 25,000 px with every row on the page
    assert page.clipped_cells() == []
    assert page.errors == []
