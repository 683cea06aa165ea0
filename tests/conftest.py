"""Shared fixtures. Every test runs offline: AISHOCK_OFFLINE makes a missing ticker an error
instead of a yfinance download."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ["AISHOCK_OFFLINE"] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")

from engine.config import load_config


@pytest.fixture(scope="session")
def cfg():
    """The project's configuration; fails loudly if the market snapshot is not beside the repo."""
    config = load_config()
    if not any((d / "prices").is_dir() for d in config.data_dirs):
        pytest.fail(
            f"market snapshot not found in {', '.join(map(str, config.data_dirs))}: "
            "tests need ../shared/market beside the checkout"
        )
    return config


@pytest.fixture
def no_sweep(monkeypatch):
    """Fails the test if a sweep starts computing (or even loading prices)."""
    import engine.sweeps.grid as search
    import engine.sweeps.walkforward as walkforward

    monkeypatch.setattr(search, "sweep", lambda *a, **k: pytest.fail("the sweep started computing"))
    monkeypatch.setattr(walkforward, "walk_forward", lambda *a, **k: pytest.fail("walk-forward started"))


@pytest.fixture
def tmp_cfg(cfg, tmp_path):
    """The project's configuration with a private cache and reports folder."""
    from dataclasses import replace

    return replace(cfg, cache_dir=tmp_path / "cache", reports_dir=tmp_path / "out")


@pytest.fixture
def out_dir(tmp_path, monkeypatch):
    """Reports, tearsheets and pages go to a temporary folder instead of reports/out."""
    monkeypatch.setenv("AISHOCK_REPORTS", str(tmp_path / "out"))
    return tmp_path / "out"


@pytest.fixture(scope="session")
def demo_runs(tmp_path_factory) -> tuple[Path, Path]:
    """The reports folders of two `aishock demo` runs, offline, in fresh processes started
    together (each is about a minute of mostly single-threaded work, so the two cores take
    one each): the reproducibility test compares them, the browser tests open the first.
    Made once per test run: under pytest-xdist the first worker to ask makes them while the
    others wait on a file lock, then all read the same folders."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # shared by the workers
    folders = [root / "demo-runs" / str(i) / "out" for i in (1, 2)]
    with (root / "demo-runs.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = root / "demo-runs" / "done"
        if not done.exists():
            exe = Path(sys.executable).parent / "aishock"
            procs = [
                subprocess.Popen(
                    [str(exe), "demo", "--no-progress"],
                    env={**os.environ, "AISHOCK_REPORTS": str(f), "AISHOCK_OFFLINE": "1"},
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for f in folders
            ]
            for proc in procs:
                _, err = proc.communicate(timeout=900)
                assert proc.returncode == 0, err
            done.touch()
    return folders[0], folders[1]


@pytest.fixture(scope="session")
def demo_reports(demo_runs) -> Path:
    """The reports folder of the session's first `aishock demo` run (see demo_runs)."""
    return demo_runs[0]


# Browser tests (tests/browser.py): Playwright on the system Chromium, the `open_page`
# fixture, screenshots in reports/out/screenshots/, and a summary line at the end of the run
# saying how many browser tests ran or skipped, and why. The tiers (tests/tiers.py): each
# test's unit, integration or e2e marker, and the xdist group of the demo's readers.
pytest_plugins = ["browser", "tiers"]
