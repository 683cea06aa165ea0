"""The README's code examples run as written."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

import engine
from engine.strategy import registry

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


def test_fast_strategy_example_computes_many_sets_like_one(cfg):
    code = python_blocks("### A fast one")[0]
    module = types.ModuleType("readme_fast_example")
    sys.modules[module.__name__] = module
    try:
        exec(compile(code, "README.md", "exec"), module.__dict__)
        many = engine.run("momentum", [{"n": 5}, {"n": 60}], start="2025-01-02", end="2025-06-30", config=cfg)
        for i, n in enumerate((5, 60)):
            one = engine.run("momentum", {"n": n}, start="2025-01-02", end="2025-06-30", config=cfg)
            assert many.equity.iloc[-1, i] == one.equity.iloc[-1, 0]
        assert many.stats["n_trades"].min() > 10
    finally:
        registry.REGISTRY.pop("momentum", None)
        sys.modules.pop(module.__name__, None)
