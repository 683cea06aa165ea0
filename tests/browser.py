"""Browser fixtures for the page tests: Playwright (pytest-playwright) driving the system
Chromium, /usr/bin/chromium (Debian's package; `.ci/run` and `make test` install it when
they can). No browser is downloaded. Loaded by tests/conftest.py (`pytest_plugins`).

    def test_page(open_page):
        page = open_page(path.as_uri())        # loaded; console and page errors recorded
        assert page.errors == []
        for chart in page.charts(): ...       # Plotly divs and inline SVG charts, measured
        assert page.hover(0)                  # the hover label of the first Plotly chart
        assert page.clipped_cells() == []     # every table cell wholly visible across
        assert page.requests == [path.as_uri()]  # every URL it asked for, favicon included
        assert page.left_open(5000) == []     # errors and requests in the 5 s after load too
        page.screenshot(tmp_path / "x.png")   # a full-page PNG
        save_screenshot(page, "index")        # reports/out/screenshots/index.png

Without Chromium (or without pytest-playwright) every test using `open_page` skips with the
reason, and the end of the run says how many browser tests ran or skipped and why.
`AISHOCK_CHROMIUM=/path/to/chromium` uses another Chromium binary.
"""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path

import pytest

from reports.figures import plotly_js_name

try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # the dev extras are not installed: the browser tests skip
    PlaywrightError = PlaywrightTimeout = None

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("AISHOCK_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "reports" / "out" / "screenshots"  # one PNG per page type, kept after the run
LOCAL_URLS = ("file:", "data:", "about:", "blob:")  # pages are self-contained: nothing else loads
IN_PAGE = ("data:", "about:", "blob:")  # URLs of what the page itself holds: no file is read
BROWSER_FIXTURES = {"open_page", "chromium_ready", "browser", "page", "context", "new_context"}


def skip_reason() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if PlaywrightError is None:
        return (
            "pytest-playwright is not installed (pip install -c constraints.txt -e '.[dev]'; make test does)"
        )
    if not CHROMIUM.exists():
        return (
            f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium; "
            ".ci/run and make test install it when they can; AISHOCK_CHROMIUM=PATH for another)"
        )
    return None


# the Plotly and SVG charts of a page: size and how many marks are drawn
CHARTS_JS = """() => {
  const shown = el => { const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0
      && getComputedStyle(el).visibility !== 'hidden'; };
  const sized = (el, extra) => { const r = el.getBoundingClientRect();
    return Object.assign({width: r.width, height: r.height}, extra); };
  const out = [];
  document.querySelectorAll('div.js-plotly-plot').forEach((gd, i) => out.push(sized(gd, {
    kind: 'plotly', index: i, id: gd.id, traces: (gd._fullData || []).length,
    drawn: gd.querySelectorAll('.cartesianlayer .trace path, .cartesianlayer .hm image').length})));
  for (const svg of document.querySelectorAll('svg')) {
    // a chart: a visible top-level SVG outside Plotly's divs (not an icon: at least 200 x 100)
    if (svg.closest('.js-plotly-plot') || svg.parentElement.closest('svg') || !shown(svg)) continue;
    const r = svg.getBoundingClientRect();
    if (r.width < 200 || r.height < 100) continue;
    const drawn = [...svg.querySelectorAll('path, rect, line, polyline, polygon, circle, image, use')]
      .filter(p => { try { const b = p.getBBox(); return b.width > 0 || b.height > 0; }
                     catch (e) { return false; } }).length;
    out.push(sized(svg, {kind: 'svg', index: out.length, id: svg.id, drawn: drawn}));
  }
  return out;
}"""

# the table cells not wholly visible across: a cell whose box reaches past the left or right
# edge of what shows it (the nearest scrolling box around its table, and the window), or whose
# content is wider than the cell
CLIPPED_CELLS_JS = """() => {
  const out = [], width = document.documentElement.clientWidth;
  document.querySelectorAll('table').forEach((table, t) => {
    let left = 0, right = width;
    for (let el = table.parentElement; el && el !== document.body; el = el.parentElement) {
      if (getComputedStyle(el).overflowX === 'visible') continue;
      const r = el.getBoundingClientRect();
      left = Math.max(left, r.left + el.clientLeft);
      right = Math.min(right, r.left + el.clientLeft + el.clientWidth);
      break;
    }
    table.querySelectorAll('th, td').forEach(cell => {
      const r = cell.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) return;  // not displayed
      if (r.left < left - 0.5 || r.right > right + 0.5 || cell.scrollWidth > cell.clientWidth + 1)
        out.push({table: t, cell: cell.textContent.trim().slice(0, 40), left: r.left, right: r.right,
                  shown: [left, right]});
    });
  });
  return out;
}"""

# where to put the mouse over a Plotly chart (viewport pixels): points of its hoverable traces
# (bars at half height), or the middle of the plot area for traces without points (heatmaps)
HOVER_POINTS_JS = """(gd) => {
  gd.scrollIntoView({block: 'center'});
  const box = gd.querySelector('.main-svg').getBoundingClientRect(), L = gd._fullLayout, out = [];
  (gd.calcdata || []).forEach(cd => {
    const t = cd[0] && cd[0].trace;
    if (!t || t.visible !== true || ['skip', 'none'].includes(t.hoverinfo)) return;
    const xa = L[(t.xaxis || 'x').replace('x', 'xaxis')], ya = L[(t.yaxis || 'y').replace('y', 'yaxis')];
    if (!xa || !ya) return;
    const at = (x, y) => out.push([box.left + xa._offset + x, box.top + ya._offset + y]);
    const bar = t.type === 'bar' || t.type === 'histogram', h = t.orientation === 'h';
    const pts = cd.filter(p => Number.isFinite(p.x) && Number.isFinite(p.y));
    for (const f of [0.5, 0.3, 0.7]) {
      const p = pts[Math.floor(f * (pts.length - 1))];
      if (p) at(xa.c2p(bar && h ? p.x / 2 : p.x), ya.c2p(bar && !h ? p.y / 2 : p.y));
    }
    if (!pts.length) [[0.5, 0.5], [0.25, 0.25], [0.75, 0.75]].forEach(
      ([fx, fy]) => at(fx * xa._length, fy * ya._length));
  });
  return out.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
}"""

# Plotly's hover label: .hovertext (hovermode "closest", "x", "y"), or the box that
# hovermode "x unified" draws in the same layer (.legend)
HOVER_LABEL = ".hoverlayer .hovertext, .hoverlayer .legend"


class BrowserPage:
    """One loaded page. `errors`: console errors and assertions, uncaught exceptions, dialogs
    (alert, confirm, prompt: dismissed) and requests to anything but a local file, in the
    order they happened. `requests`: the URL of every request the page made, as the browser
    sent them (Chrome DevTools Protocol: this includes what Playwright's routing never sees,
    such as the favicon), kept up to date while the page stays open."""

    def __init__(self, page, errors: list[str], requests: list[str]):
        self.page, self.errors, self.requests = page, errors, requests

    @property
    def url(self) -> str:
        return self.page.url

    def left_open(self, ms: int = 5000) -> list[str]:
        """Leave the page open `ms` milliseconds (a favicon, a timer or a lazy load asks after
        the load event), then everything that went wrong since it was opened: its `errors`, and
        a line for every request other than the page itself, local files included (a page is
        one file: it has nothing to load but the reports folder's shared copy of plotly.js,
        reports.figures.plotly_js_name(), by its <script src>; what its own bytes hold, such
        as the data: images Plotly draws heatmaps with, is no request)."""
        self.page.wait_for_timeout(ms)
        shared = "/" + plotly_js_name()  # the reports folder's one copy of plotly.js (reports.figures)
        asked = [
            url
            for url in self.requests
            if url != self.url and not url.startswith(IN_PAGE) and not url.endswith(shared)
        ]
        return [*self.errors, *(f"requested {url}" for url in asked)]

    def evaluate(self, expression: str, arg=None):
        """The value of a JavaScript expression (or of a function applied to `arg`)."""
        return self.page.evaluate(expression, arg)

    def screenshot(self, path: Path) -> Path:
        """A PNG of the whole page (not only the viewport) at `path`."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp.png")
        self.page.screenshot(path=str(tmp), full_page=True)
        tmp.replace(path)
        return path

    def charts(self) -> list[dict]:
        """Every chart, Plotly first: {kind: 'plotly'|'svg', index, id, width, height, drawn
        (marks with a size), traces (Plotly only)}, once Plotly has drawn."""
        self.page.wait_for_function(
            "[...document.querySelectorAll('div.js-plotly-plot')]"
            ".every(gd => gd._fullLayout && gd.querySelector('.main-svg'))"
        )
        return self.page.evaluate(CHARTS_JS)

    def clipped_cells(self) -> list[dict]:
        """The table cells cut off at the sides (by the window or by a scrolling box around
        their table) or too narrow for their content: {table (its position on the page),
        cell (its text), left, right, shown ([left, right] of what shows it)}; [] when every
        cell is wholly visible across. Scrolls the page to its left edge first."""
        self.page.evaluate("window.scrollTo(0, window.scrollY)")
        return self.page.evaluate(CLIPPED_CELLS_JS)

    def hover(self, index: int, tries: int = 12, timeout_ms: int = 1500) -> str | None:
        """Move the mouse over points of the `index`-th Plotly chart until its hover label
        shows; the label's text, or None if no point showed one."""
        chart = self.page.locator("div.js-plotly-plot").nth(index)
        label = chart.locator(HOVER_LABEL).first
        for x, y in chart.evaluate(HOVER_POINTS_JS)[:tries]:
            self.page.mouse.move(x, y)
            try:
                label.wait_for(state="visible", timeout=timeout_ms)
            except PlaywrightTimeout:
                continue
            text = chart.locator(".hoverlayer").text_content() or ""
            self.page.mouse.move(0, 0)  # away, so the next chart starts without a label
            return " ".join(text.split())
        return None


def save_screenshot(page: BrowserPage, name: str) -> Path:
    """The whole page as reports/out/screenshots/NAME.png (replaced on every run)."""
    return page.screenshot(SCREENSHOTS / f"{name}.png")


@pytest.fixture(scope="session")
def chromium_ready() -> Path:
    """The Chromium binary; skips the test (with the reason) when it cannot run here."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    return CHROMIUM


if PlaywrightError is not None:

    @pytest.fixture(scope="session")
    def browser_type_launch_args(browser_type_launch_args, browser_name, chromium_ready):
        """pytest-playwright's launch options, for the system Chromium: no download."""
        if browser_name != "chromium":
            return browser_type_launch_args
        return {**browser_type_launch_args, "executable_path": str(chromium_ready), "args": LAUNCH_ARGS}

    @pytest.fixture
    def open_page(chromium_ready, new_context):
        """open_page(url, width=1280, height=2000) -> BrowserPage, loaded (its load event
        fired); each page in its own context, closed after the test. Requests to anything
        but local files are blocked and reported as errors."""

        def _open(url: str, width: int = 1280, height: int = 2000) -> BrowserPage:
            context = new_context(viewport={"width": width, "height": height})
            errors: list[str] = []
            requests: list[str] = []

            def remote(url: str) -> None:
                line = f"request to {url} (pages must be self-contained)"
                if not url.startswith(LOCAL_URLS) and line not in errors:
                    errors.append(line)

            def block(route):
                remote(route.request.url)
                route.abort()

            def sent(event):
                requests.append(event["request"]["url"])
                remote(event["request"]["url"])

            def dialog(d):
                errors.append(f"dialog {d.type}: {d.message}")
                d.dismiss()

            context.route(lambda u: not u.startswith(LOCAL_URLS), block)
            page = context.new_page()
            devtools = context.new_cdp_session(page)  # every request, favicons included
            devtools.send("Network.enable")
            devtools.on("Network.requestWillBeSent", sent)
            page.on(
                "console",
                lambda m: errors.append(m.text) if m.type in ("error", "assert") else None,
            )
            page.on("pageerror", lambda e: errors.append(f"{e.name}: {e.message}" if e.name else e.message))
            page.on("dialog", dialog)
            page.goto(url, wait_until="load")
            return BrowserPage(page, errors, requests)

        return _open

else:

    @pytest.fixture
    def open_page(chromium_ready):
        pytest.skip(skip_reason())  # chromium_ready has skipped already; kept for clarity


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: uses a browser fixture (tests/browser.py)")
    # pytest-playwright 0.10's base_url fallback is a fixture method, which pytest 9 warns about
    # on every browser test; that is the plugin's to change, not ours
    config.addinivalue_line(
        "filterwarnings", "ignore:Session-scoped fixtures defined as instance methods:DeprecationWarning"
    )


# --- the end of the run says what happened to the browser tests ----------------------------
# Browser tests carry the `browser` keyword, which their reports keep, also from xdist workers.


def pytest_collection_modifyitems(items):
    for item in items:
        if any(_is_browser_fixture(item, name) for name in BROWSER_FIXTURES):
            item.add_marker("browser")


def _is_browser_fixture(item, name: str) -> bool:
    """Whether `item` uses fixture `name` as this file or pytest-playwright defines it (a test
    module's own `page` fixture is not a browser)."""
    defs = getattr(item, "_fixtureinfo", None)
    defs = defs.name2fixturedefs.get(name) if defs is not None and name in item.fixturenames else None
    return bool(defs) and defs[-1].func.__module__.split(".")[0] in (__name__, "pytest_playwright")


def pytest_terminal_summary(terminalreporter):
    outcomes: dict[str, list] = {}
    for outcome, reports in terminalreporter.stats.items():
        if outcome in ("", "deselected", "warnings"):
            continue
        for rep in reports:
            when = getattr(rep, "when", None)
            if "browser" in getattr(rep, "keywords", {}) and (when == "call" or outcome != "passed"):
                outcomes.setdefault(outcome, []).append(rep)
    if not outcomes:
        return
    skipped = outcomes.pop("skipped", [])
    counts = ", ".join(f"{len(v)} {k}" for k, v in sorted(outcomes.items()))
    write = terminalreporter.write_line
    terminalreporter.write_sep("-", "browser tests")
    if counts:
        try:
            version = importlib.metadata.version("playwright")
        except importlib.metadata.PackageNotFoundError:
            version = "?"
        write(
            f"browser tests: {counts} on {CHROMIUM} with Playwright {version}; "
            f"screenshots in {SCREENSHOTS.relative_to(ROOT)}/"
        )
    if skipped:
        reasons: dict[str, int] = {}
        for rep in skipped:
            reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
            reason = reason.removeprefix("Skipped: ")
            reasons[reason] = reasons.get(reason, 0) + 1
        for reason, n in reasons.items():
            write(f"browser tests: {n} SKIPPED: {reason}", yellow=True, bold=True)
