"""Choosing from a sweep (engine.sweeps.plateau): the rule on constructed grids, its box means
against a brute-force loop, and its warnings."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from engine.sweeps import plateau


def grid_table(values: np.ndarray, xs, ys, metric="sharpe") -> pd.DataFrame:
    rows = [
        {"x": x, "y": y, metric: values[i, j]}
        for (i, x), (j, y) in itertools.product(enumerate(xs), enumerate(ys))
    ]
    return pd.DataFrame(rows)


def test_an_isolated_spike_loses_to_the_centre_of_a_broad_region():
    v = np.zeros((7, 7))
    v[0, 6] = 3.0  # a spike in a poor corner
    v[3:6, 2:5] = 1.0  # a 3 x 3 plateau
    v[4, 3] = 1.2  # its centre, a little higher
    t = grid_table(v, range(7), range(7))
    p = plateau.choose(t, ["x", "y"], "sharpe")
    assert p.params == {"x": 4, "y": 3}
    assert p.score == pytest.approx((8 * 1.0 + 1.2) / 9) and p.cells == 9
    assert (p.best["x"], p.best["y"]) == (0, 6)  # the single best cell, for comparison
    assert plateau.choose(t, ["x", "y"], "sharpe", radius=0).params == {"x": 0, "y": 6}


def test_a_lower_is_better_metric_chooses_the_lowest_neighbourhood():
    v = np.full((5, 5), 0.3)
    v[1:4, 1:4] = 0.1
    t = grid_table(v, range(5), range(5), "volatility")
    assert plateau.choose(t, ["x", "y"], "volatility").params == {"x": 2, "y": 2}


@pytest.mark.parametrize("seed", range(6))
def test_box_means_equal_a_loop_over_the_cells_with_missing_and_undefined_cells(seed):
    rng = np.random.default_rng(seed)
    xs, ys, zs = [1, 2, 4, 8], [0.1, 0.2, 0.3, 0.5, 0.7], ["a", "b"]
    rows = [
        {"x": x, "y": y, "u": u, "m": rng.normal() if rng.random() > 0.15 else np.nan}
        for x, y, u in itertools.product(xs, ys, zs)
        if rng.random() > 0.2  # some combinations never ran (a `where` constraint)
    ]
    t = pd.DataFrame(rows)
    radius = 1 + seed % 2
    score, cells = plateau.scores(t, ["x", "y", "u"], "m", radius)
    for i, row in t.iterrows():
        near = t[
            (abs(t["x"].map(xs.index) - xs.index(row["x"])) <= radius)
            & (abs(t["y"].map(ys.index) - ys.index(row["y"])) <= radius)
            & (t["u"] == row["u"])  # a non-numeric parameter: the same value only
        ]["m"].dropna()
        assert cells[i] == len(near)
        if len(near):
            assert score[i] == pytest.approx(near.mean(), rel=1e-12)
        else:
            assert np.isnan(score[i])


def test_a_cell_whose_metric_is_undefined_is_never_chosen():
    v = np.ones((3, 3))
    v[1, 1] = np.nan  # the centre's neighbourhood is the best, but it has no value
    v[0, 0] = 0.5
    p = plateau.choose(grid_table(v, range(3), range(3)), ["x", "y"], "sharpe")
    assert p.params != {"x": 1, "y": 1} and np.isfinite(p.value)


def test_warnings_for_a_thesis_switched_off_a_set_that_never_trades_and_a_lone_cell():
    t = pd.DataFrame({"fraction": [0.0, 0.5, 1.0], "sharpe": [2.0, 1.0, 0.5], "n_trades": [0, 10, 10]})
    p = plateau.choose(t, ["fraction"], "sharpe", off={"fraction": 0.0})
    assert p.params == {"fraction": 0.0}
    text = " ".join(p.warnings)
    assert "fraction=0.0, which turns the thesis off" in text and "never trades" in text
    lone = plateau.choose(t.iloc[[1]], ["fraction"], "sharpe")
    assert any("single cell" in w for w in lone.warnings)
    assert plateau.choose(t.iloc[1:], ["fraction"], "sharpe", off={"fraction": 0.0}).warnings == []


def test_nothing_to_choose_and_a_bad_radius_are_refused():
    t = pd.DataFrame({"x": [1, 2], "sharpe": [np.nan, np.nan]})
    with pytest.raises(ValueError, match="no combination has a defined sharpe"):
        plateau.choose(t, ["x"], "sharpe")
    with pytest.raises(ValueError, match="radius"):
        plateau.choose(t, ["x"], "sharpe", radius=-1)


def test_the_params_keep_the_tables_types():
    t = pd.DataFrame({"k": [3, 5, 8], "f": [0.1, 0.2, 0.3], "sharpe": [1.0, 2.0, 1.5]})
    p = plateau.choose(t, ["k"], "sharpe")  # neighbourhood means 1.5, 1.5, 1.75
    assert p.params == {"k": 8} and type(p.params["k"]) is int
