"""The README's code examples run as written."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import numba as nb
import numpy as np
import pytest

import engine
from engine.data.universe import resolve
from engine.strategy import params, registry
from engine.strategy.registry import register
from engine.strategy.schedule import Schedule
from strategies import steps

README = (Path(__file__).parents[1] / "README.md").read_text()


def python_blocks(after: str) -> list[str]:
    section = README[README.index(after) :]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_new_strategy_example_registers_and_runs(cfg):
    code = python_blocks("## Write a new strategy")[0]
    module = types.ModuleType("readme_example")  # dataclasses look their module up
    sys.modules[module.__name__] = module
    try:
        exec(compile(code, "README.md", "exec"), module.__dict__)
        assert "my_idea" in registry.REGISTRY
        r = engine.run("my_idea", {"k": 3}, start="2025-01-02", end="2025-03-31", config=cfg)
        buys = r.orders[r.orders["side"] == "buy"]
        assert len(buys) == 3 and set(buys["date"]) == {pd_ts("2025-01-28")}
    finally:
        registry.REGISTRY.pop("my_idea", None)
        sys.modules.pop(module.__name__, None)


def test_python_api_example_runs(cfg):
    code = python_blocks("From Python:")[0]
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    r = namespace["r"]
    assert list(r.stats.index.names) == ["top_k", "hold_days"] and len(r) == 4


def test_capacity_example_runs(cfg, out_dir):
    code = python_blocks("**Capacity** is the same strategy")[0]
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    c, one = namespace["c"], namespace["one"]
    assert len(c.table) == 12 and c.binding in set(c.table["binding"]) and namespace["page"].is_file()
    assert namespace["page"].is_relative_to(out_dir)
    assert one.stats["partial_fills"].iloc[0] == 0 and namespace["slowest"].max() > 0


def pd_ts(day: str):
    import pandas as pd

    return pd.Timestamp(day)


@pytest.mark.parametrize("command", ["make demo", "make test"])
def test_readme_names_the_two_commands(command):
    assert command in README


def test_readme_names_the_fast_tier_beside_them():
    """The set-up block holds the two commands alone; `make test-fast` is named beside it."""
    section = README[README.index("## Two commands") :]
    section = section[: section.index("\n## ", 1)]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.S).group(1)
    assert [line.split()[:2] for line in block.splitlines()] == [["make", "demo"], ["make", "test"]]
    assert "`make test-fast`" in section.replace(block, "")


@pytest.fixture
def fast_example():
    """The README's fast example, executed as a module and registered as "momentum"."""
    code = python_blocks("### A fast one")[0]
    module = types.ModuleType("readme_fast_example")
    sys.modules[module.__name__] = module
    try:
        exec(compile(code, "README.md", "exec"), module.__dict__)
        yield module
    finally:
        registry.REGISTRY.pop("momentum", None)
        sys.modules.pop(module.__name__, None)


def test_fast_strategy_example_computes_many_sets_like_one(cfg, fast_example):
    many = engine.run("momentum", [{"n": 5}, {"n": 60}], start="2025-01-02", end="2025-06-30", config=cfg)
    for i, n in enumerate((5, 60)):
        one = engine.run("momentum", {"n": n}, start="2025-01-02", end="2025-06-30", config=cfg)
        assert many.equity.iloc[-1, i] == one.equity.iloc[-1, 0]
    assert many.stats["n_trades"].min() > 10


# The README's fast example as it was written before the engine placed the orders: the
# author ran the loop twice, counting orders (write=False) and then writing them where the
# counts reserved room. Kept as the baseline of the speed test below.
@nb.njit(nogil=True, inline="always")
def _emit(bar, col, weight, pos, write, b, c, w):
    if write:
        bar[pos] = b
        col[pos] = c
        weight[pos] = w
    return pos + 1


@nb.njit
def _two_pass_orders(close, ns, lo, bar, col, weight, write):
    days, m = close.shape
    counts = np.zeros(ns.size, np.int64)
    for k in range(ns.size):
        pos = lo[k]
        for t in range(ns[k], days - 1):
            rose = 0
            for j in range(m):
                rose += close[t, j] > close[t - ns[k], j]
            for j in range(m):
                w = 1.0 / rose if close[t, j] > close[t - ns[k], j] else 0.0
                pos = _emit(bar, col, weight, pos, write, t + 1, j, w)
        counts[k] = pos - lo[k]
    return counts


def _two_pass(prices, sets):
    names = resolve(sets[0].universe)
    close, ns = steps.closes(prices, names), steps.column(sets, "n", np.int64)
    nowhere = (np.zeros(len(sets), np.int64), np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
    counts = _two_pass_orders(close, ns, *nowhere, False)
    hi = np.cumsum(counts)
    lo = hi - counts
    bar, col, weight = np.empty(hi[-1], np.int64), np.empty(hi[-1], np.int64), np.empty(hi[-1])
    _two_pass_orders(close, ns, lo, bar, col, weight, True)
    return Schedule(prices.index, names, lo, hi, bar, col, weight)


def test_fast_strategy_example_gives_the_orders_of_the_two_pass_form(cfg, fast_example):
    """The README's sweep (n=5:120:1 on the ai basket, 2022-2025) with the example as
    written against the two-pass form it replaced: the same orders for every set. (Its
    speed is a benchmark's business, not a test's.)"""
    register("momentum_two_pass", fast_example.Params, lambda p: resolve(p.universe), many=True)(_two_pass)
    try:
        window, grid = ("2022-01-03", "2025-12-31"), {"n": list(range(5, 121))}
        sets = params.grid(fast_example.Params, grid)
        prices = engine.load_prices(resolve("ai"), *window, config=cfg)
        new, old = registry.get("momentum"), registry.get("momentum_two_pass")
        a, b = new.schedule(prices, sets), old.schedule(prices, sets)
        assert a.tickers == b.tickers
        for k in range(len(sets)):
            assert a.frame(k).equals(b.frame(k)), sets[k]
    finally:
        registry.REGISTRY.pop("momentum_two_pass", None)
