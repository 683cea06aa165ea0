"""The layers are enforced: `lint-imports` (the contracts in pyproject.toml, run by `make test`)
passes on the tree, and fails when a lower layer imports a higher one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).parent / "lint-imports"
PACKAGES = ("aishock", "reports", "strategies", "engine")


def lint(tree: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([str(LINT)], cwd=tree, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def copy(tmp_path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_every_contract(copy):
    done = lint(copy)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "wrong", "contract"),
    [
        ("engine/errors.py", "import reports.figures", "application > reports > strategies > engine"),
        ("strategies/steps.py", "import aishock.cli", "application > reports > strategies > engine"),
        ("engine/data/panel.py", "import engine.backtest.run", "the engine's layers"),
        ("engine/sim/kernel.py", "import engine.sweeps.grid", "the engine's layers"),
    ],
)
def test_a_wrong_import_breaks_a_contract(copy, module, wrong, contract):
    path = copy / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{wrong}  # a wrong import\n", encoding="utf-8")
    done = lint(copy)
    assert done.returncode != 0
    assert f"{contract} BROKEN" in done.stdout


def readme_map() -> set[str]:
    """The module paths the README's map of the code ("## How it is built") lists, from its
    indentation (two spaces a level)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## How it is built", 1)[1].split("```", 2)[1]
    folders: list[str] = []
    out = set()
    for line in block.splitlines():
        if not line.strip():
            continue
        depth = (len(line) - len(line.lstrip(" "))) // 2
        name = line.split()[0]
        if name.endswith("/"):
            folders[depth:] = [name.rstrip("/")]
        elif name.endswith(".py") and depth <= len(folders):
            out.add("/".join([*folders[:depth], name]))
    return out


def test_the_readme_map_lists_every_module_and_no_other():
    tree = {
        p.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for p in (ROOT / package).rglob("*.py")
        if p.name != "__init__.py" and "__pycache__" not in p.parts
    }
    listed = readme_map()
    assert sorted(tree - listed) == [], "modules missing from the README's map"
    assert sorted(listed - tree) == [], "the README's map lists modules that do not exist"
