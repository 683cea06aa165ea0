"""The event-study HTML page: self-contained, and its charts render in headless Chromium (no
console errors, every chart's SVG laid out with drawn paths, a screenshot that is not blank).
Without /usr/bin/chromium the browser test skips (`.ci/run` installs Debian's chromium)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from chromium import BINARY, Chromium
from raw_market import EVENT, SP500_FILE, market_dir

from engine.events import study as event
from engine.events.members import load_universe
from reports.event_page import write_event_page


@pytest.fixture(scope="module")
def pages(cfg, tmp_path_factory):
    """The pages of `ai` (role charts) and of the S&P 500 list (role and sector charts)."""
    out = tmp_path_factory.mktemp("pages")
    written = {}
    for name, spec in (("ai", "ai"), ("sp500", str(market_dir() / SP500_FILE))):
        label, members, close = load_universe(spec, cfg, "SPY", event.BENCHMARKS)
        written[name] = write_event_page(out / f"{name}.html", event.study(close, members, EVENT), label)
    return written


EXPECTED_CHARTS = {"ai": 4, "sp500": 6}  # paths + CAAR per grouping, ranked bars, recovery


def test_page_is_self_contained_with_its_figures(pages):
    text = pages["ai"].read_text(encoding="utf-8")
    assert text.count('<div class="chart"><svg') == EXPECTED_CHARTS["ai"]
    assert not re.search(r'(src|href)="(https?:)?//', text)  # nothing fetched from elsewhere
    assert "Event study: ai on 2025-01-27" in text and "35 members, 35 covered, 0 missing" in text
    assert "4 advancers, 31 decliners, 0 unchanged" in text
    sp = pages["sp500"].read_text(encoding="utf-8")
    assert "ANSS (no data), DFS (no data), FI (no data)" in sp and "<h2>By sector</h2>" in sp


@pytest.mark.skipif(
    not Path(BINARY).exists(), reason=f"{BINARY} not installed (apt-get install chromium; .ci/run does)"
)
@pytest.mark.parametrize("name", ["ai", "sp500"])
def test_charts_render_in_headless_chromium(pages, name, tmp_path):
    with Chromium() as browser:
        page = browser.open(pages[name].as_uri())
        charts = page.evaluate(
            """[...document.querySelectorAll('div.chart > svg')].map(svg => {
                 const box = svg.getBoundingClientRect();
                 const drawn = [...svg.querySelectorAll('path')].filter(p => {
                   const b = p.getBBox(); return b.width > 0 || b.height > 0; }).length;
                 return {width: box.width, height: box.height, drawn: drawn};
               })"""
        )
        shot = page.screenshot(tmp_path / f"{name}.png")
        errors = page.errors
    assert errors == []
    assert len(charts) == EXPECTED_CHARTS[name]
    for chart in charts:
        assert chart["width"] > 600 and chart["height"] > 250, chart
        assert chart["drawn"] > 20, chart  # axes, ticks, lines or bars: not an empty frame
    from PIL import Image

    with Image.open(shot) as image:
        assert image.format == "PNG" and image.width == 1280 and image.height > 2000
        colours = image.convert("RGB").resize((64, 256)).getcolors(64 * 256)
        assert colours is not None and len(colours) > 20  # more than a blank page


def test_a_console_error_is_caught(tmp_path):
    """The browser check itself can fail: a page that logs an error is reported."""
    if not Path(BINARY).exists():
        pytest.skip(f"{BINARY} not installed")
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!doctype html><svg><path d='M0 0L9 9'/></svg><script>console.error('drawn wrong')</script>"
    )
    with Chromium() as browser:
        page = browser.open(bad.as_uri())
        assert page.errors == ["drawn wrong"]
