"""The same inputs give byte-identical result files, in separate processes, and every
report records a run manifest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXE = Path(sys.executable).parent / "aishock"
COMMANDS = {
    "run": ["run", "oversold_rebound", "--start", "2025-01-02", "--end", "2025-04-30", "--set", "top_k=5"],
    "sweep": [
        "sweep",
        "oversold_rebound",
        "--grid",
        "top_k=3,5",
        "--grid",
        "hold_days=10,20",
        "--window",
        "2024-10-01:2025-06-30",
    ],
    "event": ["event", "2025-01-27", "--universe", "power", "--window", "-5:20"],
    "demo": ["demo", "--no-progress"],
}


def run_into(folder: Path, argv: list[str]) -> dict[str, bytes]:
    env = {**os.environ, "AISHOCK_REPORTS": str(folder), "AISHOCK_OFFLINE": "1"}
    proc = subprocess.run([str(EXE), *argv], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return files(folder)


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


@pytest.mark.parametrize("kind", sorted(COMMANDS))
def test_same_inputs_give_byte_identical_files_with_a_manifest(tmp_path, kind, request):
    if kind == "demo":  # the session's two demo runs (conftest.demo_runs), made side by side
        first, second = (files(f) for f in request.getfixturevalue("demo_runs"))
    else:
        first = run_into(tmp_path / "a", COMMANDS[kind])
        second = run_into(tmp_path / "b", COMMANDS[kind])
    assert first.keys() == second.keys() and len(first) >= 2
    for name in first:
        assert first[name] == second[name], f"{name} differs between two identical runs"
    manifests = [json.loads(first[n]) for n in first if n.endswith(".manifest.json")]
    mine = [m for m in manifests if m["kind"] == kind]
    assert mine, f"the {kind} report has no manifest"
    m = mine[0]
    assert len(m["data"]["fingerprint"]) == 16 and m["data"]["tickers"]
    assert {"python", "vectorbt", "pandas", "numpy", "quantstats"} <= set(m["versions"])
    assert m["start"] <= m["end"]
    if kind == "demo":  # the index links every tearsheet, the event study and the generalisation page
        index = first["index.html"].decode()
        tearsheets = [n for n in first if n.endswith(".html") and "/" in n]  # one set folder per run
        assert len(tearsheets) == len(m["runs"]) == 9
        for name in [*tearsheets, "event-ai-2025-01-27.html", "generalize-oversold_rebound-ai-role.html"]:
            assert f'href="{name}"' in index, name


def test_manifest_fingerprint_changes_with_the_data(tmp_path, cfg):
    from dataclasses import replace

    import engine
    from reports.artifacts import run_manifest

    prices = engine.load_prices(["NVDA", "SPY"], end="2025-03-31", config=cfg)
    r = engine.run("buy_and_hold", {"hold": "NVDA"}, "2025-01-02", "2025-03-31", prices=prices, config=cfg)
    bumped = replace(prices, close=prices.close * 1.000001)
    assert run_manifest(r, "x", prices)["data"] != run_manifest(r, "x", bumped)["data"]
    assert run_manifest(r, "x", prices)["params"] == {"hold": "NVDA", "rebalance_days": 0, "weight": 1.0}
