"""The tier table (tests/tiers.py) covers the suite exactly, and a test file it does not name
stops the collection."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tiers

HERE = Path(__file__).resolve().parent


def functions_of(path: Path) -> set[str]:
    return {
        node.name
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


def test_every_test_file_has_a_tier_and_every_entry_a_file():
    assert set(tiers.TIERS) == {p.name for p in HERE.glob("test_*.py")}


def test_each_named_test_exists_in_its_file_under_another_tier():
    for file, entry in tiers.TIERS.items():
        tier, others = (entry, {}) if isinstance(entry, str) else entry
        assert tier in tiers.NAMES, file
        assert isinstance(entry, str) or others, f"{file}: write the tier alone when no test differs"
        named = [t for tests in others.values() for t in tests]
        assert len(named) == len(set(named)), f"{file}: a test named twice"
        assert set(others) <= set(tiers.NAMES) - {tier}, file
        assert set(named) <= functions_of(HERE / file), f"{file}: {set(named) - functions_of(HERE / file)}"


def test_a_test_takes_its_files_tier_unless_named():
    table = {"test_x.py": ("integration", {"unit": ("test_a",), "e2e": ("test_b",)}), "test_y.py": "e2e"}
    assert [tiers.tier_of("test_x.py", t, table) for t in ("test_a", "test_b", "test_c")] == [
        "unit",
        "e2e",
        "integration",
    ]
    assert tiers.tier_of("test_y.py", "test_a", table) == "e2e"
    with pytest.raises(pytest.UsageError, match=r"tests/test_z.py has no tier: add it to TIERS"):
        tiers.tier_of("test_z.py", "test_a", table)


def collect(folder: Path, *args: str, conftest: str = "") -> subprocess.CompletedProcess:
    """`pytest --collect-only` of `folder` with tests/tiers.py as its only plugin."""
    (folder / "conftest.py").write_text(f'pytest_plugins = ["tiers"]\n{conftest}')
    path = os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}  # a quick start
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args, folder],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_new_test_file_must_be_classified(tmp_path):
    (tmp_path / "test_metrics.py").write_text("def test_one():\n    pass\n")  # a unit file
    unit = collect(tmp_path, "-m", "unit")
    assert unit.returncode == 0, unit.stdout + unit.stderr
    assert "test_metrics.py::test_one" in unit.stdout
    assert collect(tmp_path, "-m", "not unit").returncode == 5  # deselected: nothing collected

    (tmp_path / "test_something_new.py").write_text("def test_two():\n    pass\n")
    new = collect(tmp_path)
    assert new.returncode == 4, new.stdout + new.stderr  # a usage error
    assert "tests/test_something_new.py has no tier: add it to TIERS in tests/tiers.py" in new.stderr


def test_a_tier_marked_by_hand_is_refused(tmp_path):
    hand = "import pytest\n\n\n@pytest.mark.e2e\ndef test_one():\n    pass\n"
    (tmp_path / "test_metrics.py").write_text(hand)
    proc = collect(tmp_path)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "test_metrics.py::test_one: marked e2e by hand; tiers are given in tests/tiers.py" in proc.stderr


def test_the_readers_of_the_session_demo_come_first(tmp_path):
    """So one worker starts the demo at once (the files' order is the collection's)."""
    session = "import pytest\n\n\n@pytest.fixture(scope='session')\ndef demo_runs():\n    return 1\n"
    own = "import pytest\n\n\n@pytest.fixture\ndef demo_runs():\n    return 2\n\n\n"
    (tmp_path / "test_attribution.py").write_text(own + "def test_own(demo_runs):\n    pass\n")
    (tmp_path / "test_metrics.py").write_text("def test_one():\n    pass\n")
    (tmp_path / "test_reproducibility.py").write_text("def test_reads(demo_runs):\n    pass\n")
    proc = collect(tmp_path, conftest=session)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [line.split("::")[-1] for line in proc.stdout.splitlines() if "::" in line] == [
        "test_reads",
        "test_own",
        "test_one",
    ]
