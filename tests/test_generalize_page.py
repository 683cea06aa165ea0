"""The generalisation page (reports/generalize_page.py) from a synthetic, seeded
Generalization: one offline HTML document with plotly.js inline once, the numbers and names
it should show (escaped), its three plots, and a whole file or nothing."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import plotly.offline
import pytest

from engine.events.generalize import EVENT_COLUMNS, Generalization
from reports import figures, generalize_page
from reports.generalize_page import path_figure, write

GROUPS = ("Semiconductors", "Power & Utilities", "Cloud")
HOSTILE = "<script>alert('x')</script> Hyperscalers"
T_KP = 0.8321  # shown as 0.83
BUNDLE = plotly.offline.get_plotlyjs()


def synthetic(groups=GROUPS, seed: int = 7) -> Generalization:
    """Six events on three shared dates (two groups each), 40 placebo runs, a calendar."""
    rng = np.random.default_rng(seed)
    dates = pd.to_datetime(
        ["2024-03-05", "2024-03-05", "2024-08-05", "2024-08-05", "2025-01-27", "2025-01-27"]
    )
    names = [groups[i % len(groups)] for i in range(len(dates))]
    index = pd.bdate_range("2024-01-01", "2025-06-30")

    def runs(days, labels, n_members):
        rows = []
        for day, group, n in zip(days, labels, n_members, strict=True):
            i = index.get_loc(day)
            strategy, market, group_window = rng.normal(0.01, 0.05, 3)
            rows.append(
                {
                    "date": day,
                    "group": group,
                    "members": [f"T{j:02d}" for j in range(n)],
                    "n_members": n,
                    "start": day,
                    "end": index[i + 21],
                    "days": 21,
                    "group_return": rng.normal(-0.06, 0.01),
                    "market_return": rng.normal(-0.01, 0.005),
                    "strategy_return": strategy,
                    "market_return_window": market,
                    "group_return_window": group_window,
                    "excess_market": strategy - market,
                    "excess_group": strategy - group_window,
                    "car": strategy - market,
                    "sigma": 0.015,
                }
            )
        return pd.DataFrame(rows, columns=list(EVENT_COLUMNS))

    events = runs(dates, names, [3, 20, 5, 4, 9, 6])
    placebo_days = pd.DatetimeIndex(rng.choice(index[70:-30], 40, replace=False)).sort_values()
    placebo_events = runs(placebo_days, [GROUPS[0]] * 40, [4] * 40)
    paths = pd.DataFrame(rng.normal(0.0, 0.01, (22, 6)).cumsum(axis=0))
    paths.iloc[0] = 0.0
    paths.iloc[11:, 5] = np.nan  # an event cut short by the data's end
    calendar = pd.DataFrame(
        {
            "portfolio": rng.normal(0.001, 0.015, 66),
            "market": rng.normal(0.0005, 0.01, 66),
            "n_open": rng.integers(1, 3, 66),
        },
        index=index[(index.get_indexer(dates.unique())[:, None] + np.arange(1, 23)).ravel()],
    )
    x = events["excess_market"]
    summary = {
        "n_events": len(events), "n_dates": 3, "mean_excess_market": float(x.mean()),
        "median_excess_market": float(x.median()), "hit_rate": float((x > 0).mean()),
        "mean_excess_group": 0.004, "n_kp": 6, "mean_scar": 0.3, "t_bmp": 1.42, "p_bmp": 0.156,
        "r_bar": 0.21, "n_pairs": 15, "t_kp": T_KP, "p_kp": 0.4054, "ci_low": -0.0123, "ci_high": 0.0456,
        "ci_level": 0.95, "ci_n_boot": 10_000, "ci_n_clusters": 3,
    }  # fmt: skip
    placebo = {"n": 40, "mean": 0.002, "std": 0.05, "p_value": 0.31, "n_draws": 10_000, "seed": 0,
               "percentile": 69.0}  # fmt: skip
    calendar_time = {"alpha_daily": 0.0002, "alpha_annual": 0.0504, "t_alpha": 1.13, "p_alpha": 0.26,
                     "beta": 0.91, "t_beta": 8.2, "n_days": 66, "maxlags": 3}  # fmt: skip
    settings = {"k": 4.0, "min_fall": 0.03, "max_market_drop": 0.03, "sd_window": 63, "min_members": 3,
                "horizon": 21, "placebo": 40, "seed": 0, "market": "SPY", "params": {"hold_days": 20},
                "costs": {}, "universe_label": "ai"}  # fmt: skip
    return Generalization(
        "oversold_rebound", "ai", "role", events, placebo_events, paths, calendar, summary, placebo,
        calendar_time, {"Networking": 1, "Memory": 0}, settings,
    )  # fmt: skip


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    return write(synthetic(), tmp_path_factory.mktemp("gen") / "sub" / "page.html")


@pytest.fixture(scope="module")
def text(page):
    return page.read_text(encoding="utf-8")


def test_one_offline_html_document_with_plotly_inline_once(page, text):
    assert page.is_file()
    assert text.startswith("<!doctype html>") and text.rstrip().endswith("</html>")
    assert text.count("<html") == 1 and text.count("</html>") == 1 and text.count("<body>") == 1
    for marker in (BUNDLE[:200], BUNDLE[len(BUNDLE) // 2 : len(BUNDLE) // 2 + 200]):
        assert text.count(marker) == 1
    assert '<script src="http' not in text
    assert not re.search(r"<script[^>]*\bsrc=", text)  # nothing loaded from anywhere
    assert len(text) < len(BUNDLE) + 300_000  # the bundle plus a small page


def test_page_shows_counts_groups_statistics_and_three_plots(text):
    assert "Generalisation: oversold_rebound on ai by role" in text
    assert "Across 6 events the strategy" in text and "Every event (6)" in text
    for group in GROUPS:
        assert f'<td class="t">{group.replace("&", "&amp;")}</td>' in text
    assert re.search(rf"KP-adjusted t</td><td>{T_KP:.2f}</td>", text)
    assert f"KP-adjusted t = {T_KP:.2f} (p = 0.405)" in text
    assert re.search(r"bootstrap interval of the mean</td><td>-1\.2% to \+4\.6%</td>", text)
    assert re.search(r"Calendar-time alpha \(annual\)</td><td class=\"pos\">\+5\.0%</td>", text)
    assert len(re.findall(r'<div id="gen-(path|placebo|calendar)" class="plotly-graph-div"', text)) == 3
    assert text.count('class="plotly-graph-div"') == 3
    assert "Networking (1); Memory (0)" in text


def test_plots_carry_the_series(text):
    """The figures as the page embeds them: the band and the mean over every event day, both
    histograms with every run, the calendar-time lines over every day with an event open."""
    figs = figures.read(text)
    assert list(figs) == ["gen-path", "gen-placebo", "gen-calendar"]
    path = figs["gen-path"]["data"]
    assert [t.get("name") for t in path] == [None, "95% band", "mean"]
    assert all(t["x"] == list(range(22)) and len(t["y"]) == 22 for t in path)
    placebo = figs["gen-placebo"]["data"]
    assert [(t["name"], len(t["x"])) for t in placebo] == [("placebo days (40)", 40), ("events (6)", 6)]
    calendar = figs["gen-calendar"]["data"]
    assert [t["name"] for t in calendar] == ["events portfolio", "market"]
    assert all(len(t["x"]) == len(t["y"]) == 66 for t in calendar) and calendar[0]["x"][0] == "2024-03-06"


def test_members_truncated_with_a_count(text):
    assert "T00, T01, T02, T03, T04, T05, T06, T07, … +12 more" in text
    assert "T08" not in text.split("T07, … +12 more")[0].rsplit("<tr>", 1)[-1]
    assert '<td class="t">T00, T01, T02</td>' in text  # three members: no count


def test_hostile_group_name_is_escaped(tmp_path):
    g = synthetic(groups=(HOSTILE, "Semiconductors"))
    text = write(g, tmp_path / "hostile.html").read_text(encoding="utf-8")
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Hyperscalers" in text


def test_mean_path_and_band():
    paths = synthetic().paths
    fig = path_figure(paths)
    upper, lower, mean = (np.asarray(t.y, dtype=float) for t in fig.data)
    n = paths.count(axis=1).to_numpy()
    expected = paths.mean(axis=1).to_numpy() * 100
    half = 1.96 * paths.std(axis=1).to_numpy() * 100 / np.sqrt(n)
    np.testing.assert_allclose(mean, expected)
    np.testing.assert_allclose(upper[1:], (expected + half)[1:])
    np.testing.assert_allclose(lower[1:], (expected - half)[1:])
    assert n[-1] == 5 and n[0] == 6  # the cut event leaves the later days' band


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    target = tmp_path / "page.html"
    seen = {}

    def fail(_calendar):
        seen["partial"] = [p.stat().st_size for p in tmp_path.iterdir()]
        raise RuntimeError("disk gone")

    monkeypatch.setattr(generalize_page, "calendar_figure", fail)
    with pytest.raises(RuntimeError, match="disk gone"):
        write(synthetic(), target)
    assert seen["partial"] and max(seen["partial"]) > len(BUNDLE)  # it failed mid-way through
    assert list(tmp_path.iterdir()) == []  # no page, no temporary file

    target.write_text("old page", encoding="utf-8")
    with pytest.raises(RuntimeError):
        write(synthetic(), target)
    assert target.read_text(encoding="utf-8") == "old page"
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]
