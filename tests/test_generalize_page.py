"""The generalisation page (reports/generalize_page.py) from synthetic, seeded Generalizations (one
parameter set, and a grid whose StepM, SPA and walk-forward come from engine.events.multiple):
one offline HTML document with plotly.js inline once, the numbers and names it should show
(escaped), each statistic with its definition, its plots, the grid's stability surface (its
dropdowns, one precomputed heatmap per choice, each cell one set's own mean CAR), StepM, SPA
and the walk-forward, and a whole file or nothing."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re

import numpy as np
import pandas as pd
import plotly.offline
import pytest

from engine.data.panel import Prices
from engine.events import multiple
from engine.events.generalize import EVENT_COLUMNS, Generalization
from reports import figures, generalize_page
from reports.generalize_page import path_figure, write

GROUPS = ("Semiconductors", "Power & Utilities", "Cloud")
HOSTILE = "<script>alert('x')</script> Hyperscalers"
T_ADJ = 0.8321  # shown as 0.83
BUNDLE = plotly.offline.get_plotlyjs()
GRID = {"top_k": [2, 4, 8], "hold_days": [5, 10], "min_drop": [0.03, 0.05]}
BEST = (2, 10, 0.05)  # the grid's set with a clearly positive mean CAR: it survives StepM


def _summary(car: np.ndarray, dates, **extra) -> dict:
    """The statistics of one set as engine.events.generalize gives them (the simple ones
    computed from `car`, the tests' figures fixed)."""
    x = car[np.isfinite(car)]
    return {
        "n_events": len(x), "n_not_traded": 1, "n_no_model": 0,
        "n_dates": int(pd.Index(np.asarray(dates)[np.isfinite(car)]).nunique()),
        "mean_car": float(x.mean()), "median_car": float(np.median(x)),
        "clustered_mean_car": float(x.mean()), "hit_rate": float((x > 0).mean()),
        "mean_excess_market": 0.0042, "mean_gross_excess": 0.0062, "mean_costs": 0.002, "mean_beta": 1.1,
        "mean_scar": 0.3, "t_bmp": 1.42, "p_bmp": 0.156, "c_bar": 0.021, "n_pairs": 15, "t_adj": T_ADJ,
        "p_adj": 0.4054, "placebo_p": 0.31, "placebo_se": 0.0046, "placebo_mean": 0.002, "ci_low": -0.0123,
        "ci_high": 0.0456, **extra,
    }  # fmt: skip


def synthetic(groups=GROUPS, seed: int = 7) -> Generalization:
    """One set: six events on three shared dates (two groups each; the first not traded, the
    second buying every member of its group), 40 placebo replays, a calendar."""
    rng = np.random.default_rng(seed)
    dates = pd.to_datetime(
        ["2024-03-05", "2024-03-05", "2024-08-05", "2024-08-05", "2025-01-27", "2025-01-27"]
    )
    names = [groups[i % len(groups)] for i in range(len(dates))]
    index = pd.bdate_range("2024-01-01", "2025-06-30")
    n_members = [3, 20, 5, 4, 9, 6]
    n_picked = [2, 20, 2, 2, 2, 2]
    rows = []
    for n, (day, group) in enumerate(zip(dates, names, strict=True)):
        i = index.get_loc(day)
        strategy, market = rng.normal(0.01, 0.05, 2)
        members = [f"T{j:02d}" for j in range(n_members[n])]
        rows.append(
            {
                "date": day, "group": group, "members": members, "n_members": n_members[n],
                "picked": members[-n_picked[n] :], "n_picked": n_picked[n], "start": day,
                "end": index[i + 21], "days": 21, "group_return": rng.normal(-0.06, 0.01),
                "market_return": rng.normal(-0.01, 0.005), "traded": n != 0, "strategy_return": strategy,
                "gross_return": strategy + 0.002, "costs": 0.002, "market_return_window": market,
                "excess_market": strategy - market, "car": strategy - market - 0.001, "sigma": 0.015,
                "beta": 1.1, "scar": (strategy - market) / 0.07,
            }
        )  # fmt: skip
    events = pd.DataFrame(rows, columns=list(EVENT_COLUMNS))
    placebo_days = pd.DatetimeIndex(rng.choice(index[70:-30], 40, replace=False)).sort_values()
    placebo_events = pd.DataFrame(
        {
            "date": placebo_days,
            "group": [groups[0]] * 40,
            "replay_of": np.repeat(np.arange(3), [14, 13, 13]),
            "replay": np.concatenate([np.arange(14), np.arange(13), np.arange(13)]),
            "traded": [True] * 38 + [False] * 2,
            "car": rng.normal(0.0, 0.04, 40),
            "excess_market": rng.normal(0.0, 0.04, 40),
        }
    )
    paths = pd.DataFrame(rng.normal(0.0, 0.01, (22, 6)).cumsum(axis=0))
    paths.iloc[0] = 0.0
    paths.iloc[11:, 5] = np.nan  # an event cut short
    calendar = pd.DataFrame(
        {
            "portfolio": rng.normal(0.001, 0.015, 66),
            "market": rng.normal(0.0005, 0.01, 66),
            "n_open": rng.integers(1, 3, 66),
        },
        index=index[(index.get_indexer(dates.unique())[:, None] + np.arange(1, 23)).ravel()],
    )
    car = np.where(events["traded"], events["car"], np.nan)
    summary = _summary(car, events["date"])
    placebo = {"p_value": 0.31, "mc_se": 0.0046, "n_sets": 10_000, "mean": 0.002, "std": 0.01, "seed": 0,
               "n_replays": 14, "n_dates": 3}  # fmt: skip
    calendar_time = {"alpha_daily": 0.0002, "alpha_annual": 0.0504, "t_alpha": 1.13, "p_alpha": 0.26,
                     "beta": 0.91, "t_beta": 8.2, "n_days": 66, "maxlags": 3}  # fmt: skip
    settings = {"k": 4.0, "min_fall": 0.03, "max_market_drop": 0.03, "sd_window": 63, "min_members": 3,
                "horizon": 21, "horizon_max": 21, "placebo": 40, "placebo_sets": 10_000, "n_boot": 10_000,
                "seed": 0, "market": "SPY", "overlap": "merge", "est_days": 120, "est_gap": 10, "est_min": 60,
                "params": {"hold_days": 20}, "costs": {}, "universe_label": "ai", "n_sets": 1}  # fmt: skip
    return Generalization(
        "oversold_rebound", "ai", "role", events, placebo_events, paths, calendar, summary, placebo,
        calendar_time, {"Networking": 1, "Memory": 0}, settings, pd.DataFrame([summary]), [], 0, None,
        None, None, {"truncated": 1, "merged": 2}, prices(index),
    )  # fmt: skip


def prices(index: pd.DatetimeIndex) -> Prices:
    """A one-ticker panel over `index`: the data a synthetic generalisation read (its manifest's)."""
    close = pd.DataFrame({"SPY": np.linspace(400.0, 500.0, len(index))}, index=index)
    return Prices(close, close, close, close, close)


def grid_generalization(grid: dict = GRID, groups=GROUPS, seed: int = 3) -> Generalization:
    """`synthetic` as the shown set of a grid: every set's CAR on 40 events over 30 dates (NaN
    where it did not trade), its statistics, and StepM, SPA and the walk-forward computed by
    engine.events.multiple on them. min_drop moves the mean a lot, so a surface that averaged
    over it would show other numbers; BEST is far above 0 (it survives StepM)."""
    rng = np.random.default_rng(seed)
    names = list(grid)
    sets = list(itertools.product(*grid.values()))
    days = pd.bdate_range("2021-01-04", periods=30, freq="10B")
    dates = np.asarray(np.concatenate([days, days[::3]]), dtype="datetime64[ns]")
    X = np.empty((len(sets), len(dates)))
    for s, values in enumerate(sets):
        p = dict(zip(names, values, strict=True))
        mu = (
            0.0005 * p.get("top_k", 2)
            + 0.0002 * p.get("hold_days", 5)
            - 0.01 * (p.get("min_drop", 0.03) > 0.04)
            - 0.004
        )
        X[s] = (
            rng.normal(0.04, 0.004, len(dates))
            if values == BEST[: len(values)]
            else rng.normal(mu, 0.03, len(dates))
        )
        X[s, rng.choice(len(dates), 3, replace=False)] = np.nan
    stepm = multiple.stepm(X, dates, n_boot=300, seed=0)
    spa = multiple.spa(X, dates, n_boot=300, seed=0)
    walk = multiple.walk_forward(X, dates, n_boot=300, seed=0)
    stats = [_summary(X[s], dates, t_adj=float(stepm["t"][s]), ci_low=np.nanmean(X[s]) - 0.01,
                      ci_high=np.nanmean(X[s]) + 0.01) for s in range(len(sets))]  # fmt: skip
    table = pd.concat([pd.DataFrame(sets, columns=names), pd.DataFrame(stats)], axis=1)
    table["survives_stepm"] = stepm["rejected"]
    shown = int(np.nanargmax(table["mean_car"]))
    base = synthetic(groups=groups)
    return dataclasses.replace(
        base,
        grid=table,
        swept=names,
        shown=shown,
        summary=table.iloc[shown].to_dict(),
        stepm=stepm,
        spa=spa,
        walk_forward=walk,
        settings={**base.settings, "n_sets": len(sets), "n_boot": 300},
    )


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    return write(synthetic(), tmp_path_factory.mktemp("gen") / "sub" / "page.html")


@pytest.fixture(scope="module")
def text(page):
    return page.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def grid_g():
    return grid_generalization()


@pytest.fixture(scope="module")
def grid_text(grid_g, tmp_path_factory):
    return write(grid_g, tmp_path_factory.mktemp("gen-grid") / "grid.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("which", ["text", "grid_text"])
def test_one_offline_html_document_with_plotly_inline_once(request, which):
    text = request.getfixturevalue(which)
    assert text.startswith("<!doctype html>") and text.rstrip().endswith("</html>")
    assert text.count("<html") == 1 and text.count("</html>") == 1 and text.count("<body>") == 1
    for marker in (BUNDLE[:200], BUNDLE[len(BUNDLE) // 2 : len(BUNDLE) // 2 + 200]):
        assert text.count(marker) == 1
    assert text.index(BUNDLE[:200]) < text.index("Plotly.newPlot(")  # the bundle before any figure
    assert '<script src="http' not in text
    assert not re.search(r"<script[^>]*\bsrc=", text)  # nothing loaded from anywhere
    assert len(text) < len(BUNDLE) + 300_000  # the bundle plus a small page


def test_page_shows_the_headline_counts_groups_and_three_plots(text):
    assert "Generalisation: oversold_rebound on ai by role" in text
    assert "Across 5 events on 3 dates the mean market-model CAR was" in text and "Every event (6)" in text
    for group in GROUPS:
        assert f'<td class="t">{group.replace("&", "&amp;")}</td>' in text
    assert f"adjusted t = {T_ADJ:.2f} (p = 0.405); placebo p = 0.310 ± 0.005" in text
    assert re.search(rf"Adjusted t</td><td>{T_ADJ:.2f}</td>", text)
    assert re.search(r"95% interval of the mean CAR</td><td>-1\.23% to \+4\.56%</td>", text)
    assert re.search(r"Placebo p ± Monte Carlo error</td><td>0\.310 ± 0\.005</td>", text)
    assert re.search(r"Mean costs</td><td>0\.20%</td>", text)  # a cost: a percentage, no sign
    assert re.search(r"Mean cross-correlation c̄</td><td>0\.021</td>", text)
    assert re.search(r"Calendar-time alpha \(annual\)</td><td class=\"pos\">\+5\.04%</td>", text)
    assert re.search(r"Dropped: truncated</td><td>1</td>.*Dropped: merged</td><td>2</td>", text)
    assert len(re.findall(r'<div id="gen-(path|placebo|calendar)" class="plotly-graph-div"', text)) == 3
    assert text.count('class="plotly-graph-div"') == 3
    assert 'id="gen-surface"' not in text and "<h2>Multiple testing" not in text  # one set: no grid
    assert "Networking (1); Memory (0)" in text


def test_every_statistic_states_its_definition(text):
    rows = re.findall(
        r'<tr><td class="t">([^<]+)</td><td[^>]*>[^<]*</td><td class="t muted">([^<]*)</td>', text
    )
    names = [name for name, _ in rows]
    assert len(rows) == len(generalize_page.summary_rows(synthetic())) >= 20
    assert all(len(definition) > 10 for _, definition in rows)
    for name in ("Mean CAR (market model)", "BMP t", "Adjusted t", "Date-clustered mean CAR",
                 "Mean excess over the market", "Without a market model"):  # fmt: skip
        assert name in names
    definitions = dict(rows)
    assert "Kolari and Pynnönen" in definitions["Adjusted t"]
    assert "event dates (not events) resampled" in definitions["95% interval of the mean CAR"]


def test_the_page_counts_events_that_bought_every_member(text):
    assert "<b>Every member bought</b> (picked = members) in 1 of the 6 events (1 of the 5 traded)" in text
    assert "<td>20 / 20 = all</td>" in text and "<td>2 / 3</td>" in text
    g = dataclasses.replace(synthetic(), events=synthetic().events.assign(n_picked=1))
    assert "In none of the 6 events did the strategy buy every member" in generalize_page.whole_groups(
        g.events
    )


def test_plots_carry_the_series(text):
    """The figures as the page embeds them: the band and the mean over every event day of the
    events traded, the CARs of the traded placebo replays and events, the calendar-time lines."""
    figs = figures.read(text)
    assert list(figs) == ["gen-path", "gen-placebo", "gen-calendar"]
    path = figs["gen-path"]["data"]
    assert [t.get("name") for t in path] == [None, "95% band", "mean"]
    assert all(t["x"] == list(range(22)) and len(t["y"]) == 22 for t in path)
    g = synthetic()
    expected = g.paths.loc[:, g.events["traded"].to_numpy()].mean(axis=1).to_numpy() * 100
    np.testing.assert_allclose(path[2]["y"], expected)  # the untraded event is left out
    placebo = figs["gen-placebo"]["data"]
    assert [(t["name"], len(t["x"])) for t in placebo] == [("placebo replays (38)", 38), ("events (5)", 5)]
    np.testing.assert_allclose(sorted(placebo[1]["x"]), sorted(g.events["car"].iloc[1:] * 100))
    calendar = figs["gen-calendar"]["data"]
    assert [t["name"] for t in calendar] == ["events portfolio", "market"]
    assert all(len(t["x"]) == len(t["y"]) == 66 for t in calendar) and calendar[0]["x"][0] == "2024-03-06"


def test_members_truncated_with_a_count(text):
    assert "T00, T01, T02, T03, T04, T05, T06, T07, … +12 more" in text
    assert "T08" not in text.split("T07, … +12 more")[0].rsplit("<tr>", 1)[-1]
    assert '<td class="t">T00, T01, T02</td>' in text  # three members: no count


@pytest.mark.parametrize("make", [synthetic, grid_generalization])
def test_hostile_group_name_is_escaped(tmp_path, make):
    g = make(groups=(HOSTILE, "Semiconductors"))
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

    def fail(_calendar, *_):
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


# -- the grid ------------------------------------------------------------------------------


def _surface(text: str) -> list[dict]:
    return figures.read(text)["gen-surface"]["data"]


def _axes(trace: dict) -> tuple:
    return trace["meta"]["x"], trace["meta"]["y"], trace["meta"]["fixed"]


def _index(text: str) -> dict:
    return json.loads(re.search(r"var index=(\{.*?\}),n=3;", text).group(1))


def test_the_surface_has_dropdowns_for_both_axes_and_every_other_parameter(grid_text):
    controls = re.search(r'<div class=controls id="gen-surface-controls">(.*?)</div>', grid_text).group(1)
    for axis in ("x", "y"):
        options = re.search(rf'<select data-axis="{axis}">(.*?)</select>', controls).group(1)
        assert re.findall(r'<option value="(\d)"[^>]*>([^<]+)</option>', options) == [
            ("0", "top_k"), ("1", "hold_days"), ("2", "min_drop")
        ]  # fmt: skip
    for p, (name, values) in enumerate(GRID.items()):
        held = re.search(rf'<span data-fixed="{p}"[^>]*><label>{name} fixed at <select data-param="{p}">(.*?)'
                         "</select>", controls).group(1)  # fmt: skip
        assert re.findall(r">([^<]+)</option>", held) == [f"{v:g}" for v in values]
    # at first x = top_k, y = hold_days, min_drop fixed at the shown set's value
    assert re.search(r'<option value="0" selected>top_k</option>', controls)
    assert (
        '<span data-fixed="2"><label>' in controls
        and '<span data-fixed="0" style="display:none">' in controls
    )
    assert re.search(r'data-param="2">.*?<option value="1" selected>0.05</option>', controls)


def test_the_surface_precomputes_one_heatmap_per_choice_and_shows_one(grid_text):
    traces = _surface(grid_text)
    sizes = [len(v) for v in GRID.values()]
    expected = sum(
        np.prod([sizes[p] for p in range(3) if p not in pair]) for pair in itertools.permutations(range(3), 2)
    )
    assert len(traces) == expected == 14 and all(t["type"] == "heatmap" for t in traces)
    visible = [t for t in traces if t["visible"] is True]
    assert len(visible) == 1 and [t["visible"] for t in traces].count(False) == 13
    first = visible[0]["meta"]
    assert (first["x"], first["y"], first["fixed"]) == ("top_k", "hold_days", {"min_drop": "0.05"})
    index = _index(grid_text)
    assert sorted(index.values()) == list(range(len(traces)))
    names = list(GRID)
    for key, n in index.items():
        xi, yi, *fixed = (int(v) for v in key.split("|"))
        meta = traces[n]["meta"]
        others = [p for p in range(3) if p not in (xi, yi)]
        assert (meta["x"], meta["y"]) == (names[xi], names[yi])
        assert meta["fixed"] == {
            names[p]: f"{GRID[names[p]][v]:g}" for p, v in zip(others, fixed, strict=True)
        }
    assert "Plotly.update(div,{visible:vis}" in grid_text  # the dropdowns switch the heatmap shown


def test_the_surface_is_each_sets_own_mean_car_never_an_average(grid_g, grid_text):
    """For x = top_k, y = hold_days and min_drop fixed at each value, the heatmap's z is the
    grid's rows with that min_drop, pivoted: no cell mixes sets."""
    traces = _surface(grid_text)
    grid = grid_g.grid
    for drop in GRID["min_drop"]:
        (trace,) = [t for t in traces if _axes(t) == ("top_k", "hold_days", {"min_drop": f"{drop:g}"})]
        rows = grid[grid["min_drop"] == drop].pivot(index="hold_days", columns="top_k", values="mean_car")
        np.testing.assert_allclose(np.asarray(trace["z"], dtype=float), rows.to_numpy() * 100)
        assert trace["meta"]["xlabels"] == ["2", "4", "8"] and trace["meta"]["ylabels"] == ["5", "10"]
    averaged = grid.pivot_table(index="hold_days", columns="top_k", values="mean_car", aggfunc="mean")
    for trace in traces:
        if (trace["meta"]["x"], trace["meta"]["y"]) == ("top_k", "hold_days"):
            assert not np.allclose(np.asarray(trace["z"], dtype=float), averaged.to_numpy() * 100)
    # swapped axes: the transpose of the same rows
    (swapped,) = [t for t in traces if _axes(t) == ("hold_days", "top_k", {"min_drop": "0.03"})]
    rows = grid[grid["min_drop"] == 0.03].pivot(index="top_k", columns="hold_days", values="mean_car")
    np.testing.assert_allclose(np.asarray(swapped["z"], dtype=float), rows.to_numpy() * 100)


def test_stepm_survivors_are_starred_on_the_surface_and_listed(grid_g, grid_text):
    survivors = grid_g.grid[grid_g.grid["survives_stepm"]]
    assert list(zip(survivors["top_k"], survivors["hold_days"], survivors["min_drop"], strict=True)) == [BEST]
    for trace in _surface(grid_text):
        meta, text = trace["meta"], trace["text"]
        starred = [(a, b) for a, row in enumerate(text) for b, cell in enumerate(row) if "★" in cell]
        best = dict(zip(GRID, BEST, strict=True))
        holds_best = all(value == f"{best[name]:g}" for name, value in meta["fixed"].items())
        assert len(starred) == (1 if holds_best else 0)
    (row,) = grid_g.grid.index[grid_g.grid["survives_stepm"]]
    mean = grid_g.grid.at[row, "mean_car"]
    assert "<b>1 of 12 sets survive StepM at 5%.</b>" in grid_text
    assert re.search(
        rf"<td>2</td><td>10</td><td>0.05</td><td>\d+</td><td class=\"pos\">{re.escape(f'{mean:+.2%}')}</td>",
        grid_text,
    )


def test_no_survivor_is_said_in_a_sentence(grid_g):
    stepm = {**grid_g.stepm, "rejected": np.zeros(12, dtype=bool)}
    g = dataclasses.replace(grid_g, stepm=stepm, grid=grid_g.grid.assign(survives_stepm=False))
    assert "<b>No set survives StepM at 5%.</b>" in generalize_page.stepm_html(g)


def test_spa_and_the_walk_forward_are_stated(grid_g, grid_text):
    p = grid_g.spa["pvalues"]
    cell = generalize_page.cell
    assert f"p = {cell(p['consistent'], 'p')} (consistent; lower {cell(p['lower'], 'p')}, upper " in grid_text
    wf = grid_g.walk_forward
    assert wf["n_folds"] == 5
    ci = wf["ci"]
    sentence = (
        f"pooled out of sample the chosen sets' mean CAR was {wf['oos_mean']:+.2%} over {wf['oos_n']} "
        f"events on {ci['n_clusters']} dates (95% interval {ci['low']:+.2%} to {ci['high']:+.2%}"
    )
    assert sentence in grid_text
    folds = re.search(r"<table class=folds>.*?<tbody>(.*?)</tbody>", grid_text).group(1)
    assert folds.count("<tr>") == 5
    for f in wf["folds"]:
        assert f"{pd.Timestamp(f['cutoff']).date()}</td>" in folds
        assert "top_k=2, hold_days=10, min_drop=0.05" in folds  # the in-sample best, every fold
    assert (
        "The set shown (top_k=2, hold_days=10, min_drop=0.05) has the best mean CAR of the 12 sets"
        in grid_text
    )


def test_one_swept_parameter_is_one_row_without_dropdowns(tmp_path):
    g = grid_generalization({"top_k": [2, 4, 8]})
    text = write(g, tmp_path / "one.html").read_text(encoding="utf-8")
    (trace,) = _surface(text)
    np.testing.assert_allclose(np.asarray(trace["z"], dtype=float)[0], g.grid["mean_car"] * 100)
    assert "gen-surface-controls" not in text and "var index=" not in text
