"""engine.strategy.schedule.decided: one compiled function decides each run's orders; the engine
counts, places and threads them. Synthetic data only."""

from __future__ import annotations

import dataclasses
import re

import numba as nb
import numpy as np
import pandas as pd
import pytest

from engine.errors import AishockError
from engine.strategy import schedule as schedule_mod
from engine.strategy.schedule import Schedule, decided, order
from strategies import inference_pair, inference_rotation, oversold_rebound, steps

INDEX = pd.bdate_range("2024-01-01", periods=12)
TICKERS = ["A", "B", "C"]


@nb.njit
def every_nth(k, close, step, out):
    """Run k: every step[k] rows from row 0, close / 100 on each ticker."""
    for t in range(0, close.shape[0], step[k]):
        for j in range(close.shape[1]):
            order(out, t, j, close[t, j] / 100.0)


def expected(close, step) -> Schedule:
    frames = []
    for s in step:
        f = pd.DataFrame(np.nan, index=INDEX, columns=TICKERS)
        f.iloc[::s] = close[::s] / 100.0
        frames.append(f)
    return Schedule.from_frames(frames, INDEX)


def same(a: Schedule, b: Schedule) -> bool:
    return a.n_runs == b.n_runs and all(a.frame(k).equals(b.frame(k)) for k in range(a.n_runs))


CLOSE = np.arange(36.0).reshape(12, 3) + 1.0
STEP = np.array([1, 2, 5, 12, 3], dtype=np.int64)


@pytest.mark.parametrize("threads", [1, 2])
def test_orders_land_in_each_run_as_decided_and_the_last_row_is_dropped(threads):
    before = nb.get_num_threads()
    nb.set_num_threads(threads)
    try:
        out = decided(INDEX, TICKERS, len(STEP), every_nth, (CLOSE, STEP))
    finally:
        nb.set_num_threads(before)
    assert same(out, expected(CLOSE, STEP))
    assert out.bar.max() == len(INDEX) - 1  # run 0 decides on row 11 too: no bar, dropped
    assert out.bar.size == sum(out.hi - out.lo)  # no room left between runs


def test_a_schedule_bigger_than_the_first_room_is_redone_with_exact_room(monkeypatch):
    monkeypatch.setattr(schedule_mod, "FIRST_ROOM", 4)
    monkeypatch.setattr(schedule_mod, "_ROOM_HINT", {})
    assert same(decided(INDEX, TICKERS, len(STEP), every_nth, (CLOSE, STEP)), expected(CLOSE, STEP))


def test_the_room_learnt_from_one_call_is_too_small_for_a_bigger_next_one(monkeypatch):
    """The first attempt's room comes from the orders per run the same `decide` needed
    before; a later call whose runs need more is redone, not cut."""
    monkeypatch.setattr(schedule_mod, "_ROOM_HINT", {})
    sparse = np.full(len(STEP), 11, np.int64)  # one order row per run
    decided(INDEX, TICKERS, len(STEP), every_nth, (CLOSE, sparse))
    assert schedule_mod._ROOM_HINT[every_nth] < 2 * len(TICKERS)
    assert same(decided(INDEX, TICKERS, len(STEP), every_nth, (CLOSE, STEP)), expected(CLOSE, STEP))


@nb.njit
def twice(k, close, out):
    """Every ticker twice on every row (a run with more orders than tickers x bars), the
    second order the one that counts."""
    for t in range(close.shape[0]):
        for j in range(close.shape[1]):
            order(out, t, j, -1.0)
            order(out, t, j, close[t, j] / 100.0)


def test_a_run_with_more_orders_than_tickers_times_bars_is_kept_whole():
    out = decided(INDEX, TICKERS, 3, twice, (CLOSE,))
    assert list(out.hi - out.lo) == [2 * 11 * 3] * 3
    assert same(out, expected(CLOSE, np.ones(3, np.int64)))


def test_no_runs_and_runs_without_orders():
    empty = decided(INDEX, TICKERS, 0, every_nth, (CLOSE, STEP))
    assert empty.n_runs == 0 and empty.bar.size == 0
    late = decided(INDEX[:1], TICKERS, 2, every_nth, (CLOSE[:1], STEP))  # one row: no bar after it
    assert (late.hi == late.lo).all()


@nb.njit
def broken(k, rule, out):
    if rule[k] == 0:  # out of order: row 3 after row 4
        order(out, 4, 0, 1.0)
        order(out, 3, 0, 1.0)
    elif rule[k] == 1:  # one column too far
        order(out, 2, 3, 1.0)
    elif rule[k] == 2:  # before the first row
        order(out, -1, 0, 1.0)
    elif rule[k] == 3:
        order(out, 2, 0, np.nan)
    elif rule[k] == 4:
        order(out, 2, 1, np.inf)
    else:  # a ticker repeated on one row: allowed, the later order wins
        order(out, 2, 1, 0.5)
        order(out, 2, 1, 0.25)


@pytest.mark.parametrize(
    "rule, message",
    [
        (0, "came out of (row, column) order"),
        (1, "names a column outside the tickers"),
        (2, "is decided on a row before the first"),
        (3, "has a weight that is not a finite number"),
        (4, "has a weight that is not a finite number"),
    ],
)
def test_an_order_breaking_a_rule_is_refused_naming_the_run(rule, message):
    with pytest.raises(AishockError, match=re.escape(f"broken: an order of run 1 {message}")):
        decided(INDEX, TICKERS, 2, broken, (np.array([5, rule]),))


def test_a_repeated_ticker_on_one_row_is_kept_and_the_later_order_wins():
    out = decided(INDEX, TICKERS, 1, broken, (np.array([5]),))
    assert list(out.weight) == [0.5, 0.25] and out.frame(0).iloc[2, 1] == 0.25


def test_a_plain_python_function_is_refused():
    def plain(k, out):
        pass

    with pytest.raises(AishockError, match=r"must be a numba\.njit function"):
        decided(INDEX, TICKERS, 1, plain, ())


# -- the shock parameters, declared once -------------------------------------------------


@pytest.mark.parametrize(
    "cls, before",
    [(oversold_rebound.Params, ["mode"]), (inference_rotation.Params, ["base", "into"]),
     (inference_pair.Params, ["long", "short"])],
)  # fmt: skip
def test_the_shock_parameters_follow_the_fields_named_and_are_checked(cls, before):
    names = [f.name for f in dataclasses.fields(cls)]
    shock = [name for name, *_ in steps.SHOCK]
    assert names[: len(before) + len(shock)] == before + shock
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    assert {name: defaults[name] for name in shock} == {name: d for name, _, d, _ in steps.SHOCK}
    with pytest.raises(ValueError, match="min_drop must be a fraction"):
        cls(min_drop=1.5)
    with pytest.raises(ValueError, match="max_market_drop must be a fraction"):
        cls(max_market_drop=-0.1)


def test_shock_params_refuses_help_for_a_parameter_it_does_not_add():
    with pytest.raises(TypeError, match="no shock parameter min_dorp"):
        steps.shock_params(min_dorp="typo")
