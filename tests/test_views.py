"""The results' own views (reports/views.py through engine.plugins.view): Result.plot, .page,
.tearsheet and Generalization.page write or draw what the CLI does, where asked."""

from __future__ import annotations

import pytest
from test_generalize_page import synthetic

import engine
from engine.errors import AishockError


@pytest.fixture(scope="module")
def result():
    return engine.run("oversold_rebound", start="2025-01-02", end="2025-06-30")


def test_plot_is_the_equity_with_its_entries_and_exits(result):
    fig = result.plot()
    names = [t.name for t in fig.data]
    assert names == ["equity", "entries", "exits"]
    entries = fig.data[1]
    assert len(entries.x) == result.trades["entry_date"].nunique() > 0


def test_page_and_tearsheet_at_a_path(result, tmp_path):
    page = result.page(tmp_path / "run.html")
    text = page.read_text(encoding="utf-8")
    assert 'id="run-equity"' in text and 'id="trades"' in text and "oversold_rebound" in text
    sheet = result.tearsheet(tmp_path / "sheet.html", benchmark="QQQ")
    assert "QQQ" in sheet.read_text(encoding="utf-8")


def test_without_a_path_they_write_the_runs_report_set(result, out_dir):
    page = result.page()
    sheet = result.tearsheet()
    assert page.parent == sheet.parent and page.parent.parent == out_dir
    assert page.name == sheet.name.replace(".html", ".run.html")


def test_a_result_of_several_runs_asks_for_one(result):
    several = engine.run(
        "oversold_rebound", [{"top_k": 3}, {"top_k": 5}], start="2025-01-02", end="2025-06-30"
    )
    for view in ("page", "tearsheet", "plot"):
        with pytest.raises(AishockError, match=rf"take one first: result\[i\]\.{view}\(\)"):
            getattr(several, view)()
    assert several[1].plot().data[0].name == "equity"
    # one run taken out of several keeps its trades and exposure (its orders renumbered to run 0)
    assert len(several[1].trades) == (several.trades["run"] == 5).sum() > 0
    assert several[1].exposure["gross"].equals(several.exposure[5]["gross"])


def test_a_generalisation_writes_its_page(tmp_path):
    page = synthetic().page(tmp_path / "g.html")
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!doctype html>") and 'id="gen-' in text
