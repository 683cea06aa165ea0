"""The stats table and the QuantStats tearsheet agree on the same returns."""

from __future__ import annotations

import re

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
