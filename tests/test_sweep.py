"""Sweeps: rows equal single runs, stats-only equals kept returns, Dask equals local, guards fire."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import engine
from aishock.cli import main
from engine import AishockError, Costs
from engine.strategy import params, registry
from engine.sweeps import grid as grid_mod
from engine.sweeps import guards
from engine.sweeps.grid import STAT_COLUMNS, sweep
from engine.sweeps.walkforward import fold_bounds, walk_forward

JOB_UNIVERSE = "NVDA,AVGO,AMD,MU,ANET,VST,CEG,GEV,NRG,PWR,SMCI,DELL"
JOB = {
    "fixed": {"mode": "per_name", "universe": JOB_UNIVERSE},
    "warmup": 0,
    "costs": Costs(fees=0.0005, slippage=0.0, init_cash=1.0, fill="close"),
}
JOB_GRID = {"min_drop": [0.04, 0.06, 0.08], "hold_days": [3, 11, 20]}
WINDOW = ("2022-01-03", "2025-12-31")
COMPARE = [c for c in STAT_COLUMNS if c != "cagr"] + ["cagr"]


@pytest.fixture(scope="module")
def basket_sweep(cfg):
    grid = {"top_k": [3, 5, 8], "hold_days": [10, 20, 40]}
    return sweep(
        "oversold_rebound",
        grid,
        ("2024-10-01", "2025-06-30"),
        where=lambda p: p.hold_days > p.top_k,
        progress=False,
        config=cfg,
    )


def test_sampled_rows_equal_single_runs(cfg, basket_sweep):
    table = basket_sweep.table
    assert basket_sweep.n_trials == len(table) == 9
    for i in (0, 4, 8):
        row = table.iloc[i]
        one = engine.run(
            "oversold_rebound",
            {"top_k": int(row.top_k), "hold_days": int(row.hold_days)},
            "2024-10-01",
            "2025-06-30",
            config=cfg,
        )
        for col in COMPARE:
            assert row[col] == pytest.approx(one.stats[col].iloc[0], rel=1e-12, nan_ok=True), col


def test_the_best_row_holds_plain_values_of_its_columns_types(basket_sweep):
    """A row of a table with integer and float columns is all numpy floats (the notebook
    printed {'top_k': np.float64(5.0), ...}): the best row keeps each column's type, as plain
    Python values, and stays the row of the table it came from."""
    best = basket_sweep.best
    table = basket_sweep.table
    assert {k: type(v) for k, v in best[["top_k", "hold_days", "n_trades", "sharpe"]].items()} == {
        "top_k": int, "hold_days": int, "n_trades": int, "sharpe": float,
    }  # fmt: skip
    assert "np." not in repr(dict(best))
    assert table.loc[best.name].tolist() == pytest.approx(best.tolist(), nan_ok=True)


def test_spa_tests_the_whole_grid_against_the_equal_weight_universe(cfg, basket_sweep):
    """SPA on the kept returns against the equal-weight `ai` basket (the strategy's universe),
    rebalanced daily, computed here from the closes."""
    from engine.analytics.spa import spa_test
    from engine.data.universe import resolve

    spa = basket_sweep.spa
    assert spa is not None and basket_sweep.spa_note == ""
    returns = basket_sweep.returns
    prices = basket_sweep.prices
    names = [t for t in prices.tickers if t in set(resolve("ai"))]
    assert spa["names"] == names
    bench = prices.close[names].pct_change(fill_method=None).mean(axis=1).reindex(returns.index)
    direct = spa_test(returns.to_numpy(), bench.to_numpy())
    assert spa["pvalues"] == direct["pvalues"] and spa["block"] == direct["block"]
    assert all(0 <= p <= 1 for p in spa["pvalues"].values())
    assert spa["n_models"] == len(basket_sweep.table) and spa["n_days"] == len(returns)


def test_spa_needs_the_kept_returns_and_can_be_skipped(cfg):
    grid = {"top_k": [3, 5], "hold_days": [10, 20]}
    window = ("2024-10-01", "2025-06-30")
    fast = sweep("oversold_rebound", grid, window, keep_returns=False, progress=False, config=cfg)
    assert fast.spa is None and "not kept" in fast.spa_note
    off = sweep("oversold_rebound", grid, window, spa_reps=0, progress=False, config=cfg)
    assert off.spa is None and "skipped" in off.spa_note and np.isfinite(off.pbo)
    with pytest.raises(AishockError, match="spa_reps"):
        sweep("oversold_rebound", grid, window, spa_reps=-1, progress=False, config=cfg)


def test_constraint_drops_combinations(cfg):
    r = sweep(
        "oversold_rebound",
        {"top_k": [3, 8], "hold_days": [5, 10]},
        ("2024-10-01", "2025-06-30"),
        where=lambda p: p.hold_days > p.top_k + 2,
        progress=False,
        config=cfg,
    )
    assert set(zip(r.table.top_k, r.table.hold_days, strict=True)) == {(3, 10)}


def test_stats_only_equals_kept_returns_and_single_runs(cfg):
    fast = sweep("oversold_rebound", JOB_GRID, WINDOW, keep_returns=False, progress=False, config=cfg, **JOB)
    slow = sweep(
        "oversold_rebound", JOB_GRID, WINDOW, keep_returns=True, progress=False, config=cfg, chunk=7, **JOB
    )
    returns = slow.returns.to_numpy()
    np.testing.assert_allclose(np.prod(1 + returns, axis=0) - 1, slow.table["total_return"], rtol=1e-9)
    pd.testing.assert_frame_equal(
        fast.table[["min_drop", "hold_days"]], slow.table[["min_drop", "hold_days"]]
    )
    for col in COMPARE:
        np.testing.assert_allclose(
            fast.table[col].astype(float), slow.table[col].astype(float), rtol=1e-9, atol=1e-12, err_msg=col
        )
    row = fast.table.iloc[5]
    one = engine.run(
        "oversold_rebound",
        {**JOB["fixed"], "min_drop": row.min_drop, "hold_days": int(row.hold_days)},
        *WINDOW,
        JOB["costs"],
        config=cfg,
        warmup=0,
    )
    assert row.final_equity == pytest.approx(one.equity.iloc[-1, 0], rel=1e-12)
    assert fast.dsr == pytest.approx(slow.dsr, rel=1e-9)
    assert np.isnan(fast.pbo) and "not kept" in fast.pbo_note and 0 <= slow.pbo <= 1


def test_dask_results_are_identical_to_local(cfg):
    pytest.importorskip("distributed")
    local = sweep("oversold_rebound", JOB_GRID, WINDOW, keep_returns=False, progress=False, config=cfg, **JOB)
    dask = sweep(
        "oversold_rebound",
        JOB_GRID,
        WINDOW,
        keep_returns=False,
        progress=False,
        config=cfg,
        executor="dask",
        workers=2,
        chunk=3,
        **JOB,
    )
    pd.testing.assert_frame_equal(local.table, dask.table)
    grid = {"top_k": [3, 8], "hold_days": [10, 20]}
    a = sweep("oversold_rebound", grid, ("2024-10-01", "2025-06-30"), progress=False, config=cfg)
    b = sweep(
        "oversold_rebound",
        grid,
        ("2024-10-01", "2025-06-30"),
        progress=False,
        config=cfg,
        executor="dask",
        workers=2,
        chunk=1,
    )
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.returns, b.returns)


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({}, "grid is empty"),
        ({"topk": [1, 2]}, "did you mean 'top_k'"),
        ({"top_k": []}, "no values"),
        ({"top_k": [0, 1]}, "top_k must be a whole number of names"),
    ],
)
def test_bad_grids_are_refused(cfg, grid, message):
    with pytest.raises(AishockError, match=message):
        sweep("oversold_rebound", grid, progress=False, config=cfg)


def synthetic(values: np.ndarray) -> pd.DataFrame:
    xs, ys = np.meshgrid(range(values.shape[1]), range(values.shape[0]))
    return pd.DataFrame({"x": xs.ravel(), "y": ys.ravel(), "sharpe": values.ravel()})


def test_guards_flag_edges_and_isolated_peaks_but_not_plateaus():
    peak = np.zeros((5, 5))
    peak[2, 2] = 3.0
    t = synthetic(peak)
    assert any(
        "isolated peak" in w for w in guards.warnings_for(t, ["x", "y"], "sharpe", int(t.sharpe.idxmax()))
    )
    plateau = np.zeros((5, 5))
    plateau[1:4, 1:4] = 2.0
    plateau[2, 2] = 2.1
    t = synthetic(plateau)
    assert guards.warnings_for(t, ["x", "y"], "sharpe", int(t.sharpe.idxmax())) == []
    edge = np.tile(np.arange(5.0), (5, 1))
    t = synthetic(edge)
    w = guards.warnings_for(t, ["x", "y"], "sharpe", int(t.sharpe.idxmax()))
    assert any("largest x (4)" in m and "e.g. x=5" in m for m in w), w


def test_an_edge_warning_suggests_only_values_the_parameter_allows():
    """Issue 18: the warning said to extend `fraction` below 0. At a bound it now says the
    grid cannot go further; elsewhere it names the next value, of the axis's type."""
    t = pd.DataFrame({"fraction": [0.0, 0.1, 0.2, 0.3], "sharpe": [1.0, 0.99, 0.2, 0.1]})  # not a lone peak
    w = guards.warnings_for(t, ["fraction"], "sharpe", 0, allowed=lambda name, v: v >= 0)
    assert w == ["best sharpe is at the smallest fraction (0.0) on the edge of the grid, and fraction "
                 "allows no value past it (-0.1 is refused)"]  # fmt: skip
    w = guards.warnings_for(t, ["fraction"], "sharpe", 0, allowed=lambda name, v: True)
    assert w[0].endswith("extend the grid past it (e.g. fraction=-0.1)")
    # the sweep asks the strategy's own checks: inference_rotation refuses a fraction outside 0..1
    spec = registry.get("inference_rotation")
    allowed = grid_mod._allowed(spec, params.make(spec.params, {"fraction": 0.0}))
    assert not allowed("fraction", -0.1) and allowed("fraction", 0.3) and not allowed("fraction", 1.2)


def test_walk_forward_chooses_in_sample_and_reports_out_of_sample(cfg):
    wf = walk_forward("oversold_rebound", JOB_GRID, WINDOW, folds=3, config=cfg, **JOB)
    assert len(wf.folds) == 3
    first = wf.folds.iloc[0]
    ins = sweep(
        "oversold_rebound",
        JOB_GRID,
        (first.is_start, first.is_end),
        keep_returns=False,
        progress=False,
        config=cfg,
        **JOB,
    )
    assert (first.min_drop, first.hold_days) == (ins.best.min_drop, ins.best.hold_days)
    assert first.is_sharpe == pytest.approx(ins.best.sharpe)
    assert wf.oos_returns.index.is_monotonic_increasing and wf.oos_returns.index[0] == pd.Timestamp(
        first.oos_start
    )
    assert wf.oos_stats["total_return"] == pytest.approx(float(np.prod(1 + wf.oos_returns) - 1))


def test_fold_bounds_do_not_overlap():
    index = pd.bdate_range("2022-01-03", periods=500)
    for anchored in (False, True):
        folds = fold_bounds(index, 4, anchored)
        for is_start, is_end, oos_start, oos_end in folds:
            assert is_start <= is_end < oos_start <= oos_end
        assert folds[-1][3] == index[-1]
    with pytest.raises(AishockError):
        fold_bounds(index[:50], 4, False)


def test_cli_sweep_writes_parquet_heatmap_and_json(cfg, tmp_path, capsys):
    out = tmp_path / "s.parquet"
    code = main(
        [
            "sweep",
            "oversold_rebound",
            "--grid",
            "min_drop=0.04:0.08:0.02",
            "--grid",
            "hold_days=3,11",
            "--set",
            "mode=per_name",
            "--set",
            f"universe={JOB_UNIVERSE}",
            "--fill",
            "close",
            "--slippage",
            "0",
            "--warmup",
            "0",
            "--window",
            "2022-01-03:2025-12-31",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["trials"] == 6 and 0 <= summary["dsr"] <= 1
    spa = summary["spa"]
    assert set(spa["pvalues"]) == {"lower", "consistent", "upper"} and spa["note"] == ""
    assert spa["n_models"] == 6 and spa["reps"] == 1000 and spa["seed"] == 0 and spa["block"] >= 1
    assert spa["names"] == JOB_UNIVERSE.split(",")
    table = pd.read_parquet(out)
    assert sorted(table.min_drop.unique()) == [0.04, 0.06, 0.08] and len(table) == 6
    page = out.with_suffix(".html").read_text()
    assert 'id="sweep-heatmap"' in page and "Deflated Sharpe" in page
    assert f"p = {spa['pvalues']['consistent']:.3f}" in page and "Hansen's SPA test" in page


def test_cli_sweep_bad_range_is_one_line(capsys):
    assert main(["sweep", "oversold_rebound", "--grid", "hold_days=10:5:1"]) == 2
    assert "stop >= start" in capsys.readouterr().err


def test_cli_walk_forward_prints_folds_and_out_of_sample(capsys):
    argv = [
        "sweep",
        "oversold_rebound",
        "--grid",
        "min_drop=0.04,0.06",
        "--grid",
        "hold_days=5,11",
        "--set",
        "mode=per_name",
        "--set",
        f"universe={JOB_UNIVERSE}",
        "--fill",
        "close",
        "--slippage",
        "0",
        "--warmup",
        "0",
        "--window",
        "2022-01-03:2025-12-31",
        "--walk-forward",
        "2",
        "--json",
    ]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["folds"]) == 2 and set(out["out_of_sample"]) == {"total_return", "sharpe", "max_drawdown"}
    assert all(isinstance(f["hold_days"], int) for f in out["folds"])
    assert out["folds"][0]["oos_start"] > out["folds"][0]["is_end"]


def test_a_grid_above_the_limit_is_refused_before_it_is_built(cfg, monkeypatch):
    from engine.strategy import params as params_mod

    with pytest.raises(AishockError, match=r"9 combinations x .* above the limit of 5 combinations"):
        sweep("oversold_rebound", JOB_GRID, WINDOW, config=cfg, progress=False, max_combinations=5, **JOB)
    built = []
    monkeypatch.setattr(params_mod, "grid", lambda *a, **k: built.append(1) or [])
    huge = {"min_drop": [round(0.01 + i * 1e-5, 6) for i in range(5000)], "hold_days": list(range(1, 1001))}
    with pytest.raises(
        AishockError, match=r"5,000,000 combinations x \d+ names x \d+ days: about .* and .* GB"
    ):
        sweep("oversold_rebound", huge, WINDOW, config=cfg, progress=False, **JOB)
    assert not built  # refused from the count alone


def test_cli_sweep_refuses_a_huge_grid_in_one_line(capsys):
    from aishock.cli import main

    code = main(
        ["sweep", "oversold_rebound", "--grid", "min_drop=0.01:0.2:0.0001", "--grid", "hold_days=1:2000:1",
         "--set", "mode=per_name"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "3,802,000 combinations" in err and "limit" in err


def test_a_plain_strategy_is_called_once_per_parameter_set(cfg):
    """A strategy written the plain way (weights(prices, params), one set at a time) is
    called exactly once per parameter set: the sweep's SPA benchmark takes the universe from
    the schedules the sweep built (executors.run_chunks), and the Deflated Sharpe the best
    set's kept returns, instead of building schedules again."""
    from collections import Counter
    from dataclasses import dataclass

    from engine.strategy import registry
    from engine.strategy.params import param

    @dataclass(frozen=True)
    class Tilt:
        weight: float = param(0.5, "weight of NVDA, the rest in AMD")
        hold: int = param(20, "days between rebalances")

    calls = Counter()

    def tilt(prices, p):
        calls[(p.weight, p.hold)] += 1
        w = pd.DataFrame(np.nan, index=prices.index, columns=["NVDA", "AMD"])
        w.iloc[:: p.hold] = [p.weight, 1.0 - p.weight]
        return w

    registry.register("test_counted_tilt", Tilt, lambda p: ["NVDA", "AMD"])(tilt)
    try:
        grid = {"weight": [0.2, 0.5, 0.8], "hold": [5, 20]}
        result = sweep("test_counted_tilt", grid, ("2024-01-02", "2024-12-31"), progress=False, config=cfg)
    finally:
        registry.REGISTRY.pop("test_counted_tilt")
    assert calls == Counter({(w, h): 1 for w in grid["weight"] for h in grid["hold"]})
    assert result.spa is not None and sorted(result.spa["names"]) == ["AMD", "NVDA"]
    assert np.isfinite(result.pbo) and np.isfinite(result.dsr)


def test_the_size_estimate_counts_the_overfitting_guards():
    """estimate_terms has a PBO and an SPA term that grow as their work does: PBO with the
    combinations (C(S, S/2) halves of each), SPA with combinations x days x replications (the
    resampled means) plus days x replications shared by the combinations (the resampling
    indices, drawn once); both are 0 when the daily returns are not kept. How close the
    estimate comes to the measured time is a benchmark figure (benchmarks/overfit_speed.py
    prints both side by side), not a timed test: on a shared 2-core machine a wall-clock
    assertion flakes."""
    from math import comb

    from engine.sweeps.grid import estimate, estimate_terms

    small = estimate_terms(100, 10, 400, keep=True, pbo_splits=12, spa_reps=200)
    assert small["pbo"] > 0 and small["spa"] > 0
    assert estimate_terms(400, 10, 400, keep=True, pbo_splits=12, spa_reps=200)["pbo"] == pytest.approx(
        4 * small["pbo"]
    )
    assert estimate_terms(100, 10, 400, keep=True, pbo_splits=16, spa_reps=200)["pbo"] == pytest.approx(
        small["pbo"] * comb(16, 8) / comb(12, 6)
    )
    spa = estimate_terms(100, 10, 800, keep=True, pbo_splits=12, spa_reps=400)["spa"]
    assert 2 * small["spa"] < spa <= 4 * small["spa"] + 1e-12  # days x 2, replications x 2
    more = estimate_terms(200, 10, 400, keep=True, pbo_splits=12, spa_reps=200)["spa"]
    assert small["spa"] < more < 2 * small["spa"]  # the indices are drawn once for every combination
    assert estimate_terms(5_000, 10, 1000)["pbo"] == 0 == estimate_terms(50, 10, 1000, keep=False)["spa"]
    assert estimate(300, 12, 1003)[0] > estimate(300, 12, 1003, keep=False)[0]


def test_a_heatmap_fixes_the_other_swept_parameters_and_never_averages():
    """SweepResult.heatmap over two of three swept parameters: each cell is the combination
    with the third at `at`'s value; without `at` it is refused in one line (it used to show
    the mean over the third)."""
    sets = [(k, h, d) for k in (3, 5) for h in (5, 10) for d in (0.05, 0.07)]
    table = pd.DataFrame(
        [{"top_k": k, "hold_days": h, "min_drop": d, "sharpe": k + h / 100 + d} for k, h, d in sets]
    )
    table = table.assign(**{stat: 0.0 for stat in STAT_COLUMNS if stat != "sharpe"})
    result = grid_mod.SweepResult("s", "2025-01-02", "2025-06-30", "sharpe", table, 8, table.iloc[0], 0.5,
                                  float("nan"), "", [])  # fmt: skip
    with pytest.raises(AishockError, match=r"also varies min_drop: fix it \(min_drop=VALUE\)"):
        result.cells("top_k", "hold_days")
    for d in (0.05, 0.07):
        cells = result.cells("top_k", "hold_days", min_drop=d)
        expected = table[table.min_drop == d].pivot(index="hold_days", columns="top_k", values="sharpe")
        pd.testing.assert_frame_equal(cells, expected)
        assert cells.loc[10, 5] == 5 + 10 / 100 + d
    with pytest.raises(AishockError, match="not another swept parameter"):
        result.cells("top_k", "hold_days", min_drop=0.05, top_k=3)
    with pytest.raises(AishockError, match="no combination has"):
        result.cells("top_k", "hold_days", min_drop=0.06)
    two = result.cells("top_k", "min_drop", hold_days=5)
    assert two.shape == (2, 2) and two.loc[0.07, 3] == 3 + 0.05 + 0.07


def test_the_heatmap_figure_shows_the_cells_with_the_others_at_the_best_unless_fixed():
    """SweepResult.heatmap (the public figure, through reports.views): a Plotly heatmap of the
    cells of `cells`, the third parameter at the best combination's value unless given."""
    sets = [(k, h, d) for k in (3, 5) for h in (5, 10) for d in (0.05, 0.07)]
    table = pd.DataFrame(
        [{"top_k": k, "hold_days": h, "min_drop": d, "sharpe": k + h / 100 + d} for k, h, d in sets]
    )
    table = table.assign(**{stat: 0.0 for stat in STAT_COLUMNS if stat != "sharpe"})
    best = grid_mod.plain_row(table, int(table["sharpe"].idxmax()))
    result = grid_mod.SweepResult("oversold_rebound", "2025-01-02", "2025-06-30", "sharpe", table, 8, best,
                                  0.5, float("nan"), "", [])  # fmt: skip

    def shown(fig):
        visible = [t for t in fig.data if t.visible is not False]
        return fig.layout.title.text, [list(row) for row in visible[0].z]

    title, z = shown(result.heatmap(x="top_k", y="hold_days"))
    assert title == "sharpe by hold_days and top_k; min_drop=0.07"  # the best row's
    assert z == result.cells("top_k", "hold_days", min_drop=0.07).to_numpy().tolist()
    title, z = shown(result.heatmap("sharpe", "top_k", "hold_days", min_drop=0.05))
    assert title.endswith("min_drop=0.05")
    assert z == result.cells("top_k", "hold_days", min_drop=0.05).to_numpy().tolist()
