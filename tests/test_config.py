"""The configuration is found from the working directory or named by --config, never from
where the code lives; strategies and their baskets come from the installed packages'
declarations (entry points, package data)."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from engine import plugins
from engine.config import find_config, load_config
from engine.data import universe

ROOT = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).parent / "aishock"


def market(cfg) -> Path:
    return next(d for d in cfg.data_dirs if (d / "prices").is_dir())


def project(folder: Path, cfg, **extra) -> Path:
    """A pyproject.toml of another project in `folder`, using the market snapshot."""
    lines = ["[tool.aishock]", f'data_dirs = ["{market(cfg)}"]', 'reports_dir = "out"']
    lines += [f"{k} = {json.dumps(v)}" for k, v in extra.items()]
    (folder / "pyproject.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder / "pyproject.toml"


def aishock(*argv: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "AISHOCK_OFFLINE": "1", **(env or {})}
    env.pop("AISHOCK_REPORTS", None)
    env.pop("AISHOCK_CONFIG", None)
    return subprocess.run([str(EXE), *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


RUN = ("run", "buy_and_hold", "--start", "2025-01-02", "--end", "2025-01-31", "--json")


def test_the_nearest_configuration_from_the_working_directory_is_used(cfg, tmp_path):
    project(tmp_path, cfg)
    inside = tmp_path / "a" / "b"
    inside.mkdir(parents=True)
    assert find_config(inside) == tmp_path / "pyproject.toml"
    done = aishock(*RUN, cwd=inside)
    assert done.returncode == 0, done.stderr
    assert Path(json.loads(done.stdout)["tearsheet"]).is_relative_to(tmp_path / "out")


def test_config_names_another_project(cfg, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    path = project(other, cfg)
    done = aishock("--config", str(path), *RUN, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert Path(json.loads(done.stdout)["tearsheet"]).is_relative_to(other / "out")
    missing = aishock("--config", str(tmp_path / "nope.toml"), *RUN, cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    assert "(--config) names" in missing.stderr and "which is not a file" in missing.stderr


def test_without_a_configuration_the_defaults_apply_relative_to_the_working_directory(tmp_path):
    done = aishock(*RUN, cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert f"no SPY.csv in {tmp_path / 'data' / 'market'}" in done.stderr


def test_the_projects_own_baskets_file_sits_beside_its_configuration(cfg, tmp_path, monkeypatch):
    project(tmp_path, cfg, baskets="my_baskets.toml")
    (tmp_path / "my_baskets.toml").write_text('[mine]\ntickers = ["NVDA", "AVGO"]\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AISHOCK_CONFIG", raising=False)
    assert load_config().baskets == tmp_path / "my_baskets.toml"
    assert universe.resolve("mine") == ["NVDA", "AVGO"]


def test_strategies_and_their_baskets_come_from_the_installed_declarations():
    with (ROOT / "pyproject.toml").open("rb") as f:
        table = tomllib.load(f)
    assert table["project"]["entry-points"][plugins.GROUP] == {"builtin": "strategies"}
    assert "baskets.toml" in table["tool"]["setuptools"]["package-data"]["strategies"]
    assert [ep.value for ep in entry_points(group=plugins.GROUP)] == ["strategies"]
    assert plugins.load() == ("strategies",)
    assert [p.name for p in universe.PACKAGE_FILES] == ["baskets.toml"]


@pytest.mark.parametrize("source", ["engine", "reports", "strategies", "aishock"])
def test_no_module_finds_files_through_the_source_tree(source):
    """Nothing reads a file by its place in the source tree (a non-editable install has
    none): PROJECT_ROOT is only where Dask workers start."""
    for path in (ROOT / source).rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if "PROJECT_ROOT" in text:
            assert path.relative_to(ROOT).as_posix() in ("engine/config.py", "engine/sweeps/cluster.py"), path
