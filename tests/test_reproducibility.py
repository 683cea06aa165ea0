"""The same inputs give byte-identical result files, in separate processes, and every
report records a run manifest."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import plotly.offline
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
    if kind == "demo":  # the index links every tearsheet, the event, generalisation and capacity pages
        index = first["index.html"].decode()
        kinds = {n: json.loads(first[n])["kind"] for n in first if n.endswith(".manifest.json") and "/" in n}
        sets = {n.split("/")[0]: k for n, k in kinds.items()}  # one set folder per report
        assert sorted(sets.values()) == sorted(
            ["run"] * len(m["runs"]) + ["event", "generalize"] + ["capacity"] * 2
        )
        assert len(m["runs"]) == 9
        for name in sets:
            assert f'href="{name}/{name}.html"' in index, name


def test_the_demo_folder_holds_one_plotly_js_and_no_page_inlines_it(demo_reports):
    """Every Plotly page of the demo (the index at the top, the event and generalisation pages
    the two capacity pages and the run pages in their set folders) loads the folder's one copy of
    plotly.js by a relative path."""
    bundle = plotly.offline.get_plotlyjs()
    (js,) = [p for p in demo_reports.rglob("*") if p.name.endswith(".js")]
    assert js.parent == demo_reports and js.name == f"plotly-{plotly.offline.get_plotlyjs_version()}.min.js"
    assert js.read_text(encoding="utf-8") == bundle
    pages = sorted(demo_reports.rglob("*.html"))
    assert len(pages) == 23  # the index, 9 tearsheets, 9 run pages, event, generalisation, 2 capacity pages
    plotly_pages = 0
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert bundle[1000:1200] not in text and bundle[-200:] not in text, page.name
        for src in re.findall(r'<script[^>]*\bsrc="([^"]+)"', text):
            assert (page.parent / src).resolve() == js.resolve(), (page.name, src)
            plotly_pages += 1
    assert plotly_pages == 14  # the index, the event, generalisation and capacity pages, the 9 run pages


def demo_commands(cfg) -> list[list[str]]:
    """The commands that make the demo's reports one by one: each run (`aishock run` with the
    run's parameters), the event study of the shock, the generalisation page and each thesis's
    capacity page."""
    from aishock.demo import DEMO_GRID

    out = []
    for d in cfg.demo:
        sets = [f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in d.get("params", {}).items()]
        out.append(["run", d["strategy"], *(a for s in sets for a in ("--set", s)), "--json"])
    out.append(["event", "2025-01-27", "--json"])
    grid = [a for k, v in DEMO_GRID.items() for a in ("--grid", f"{k}={','.join(map(str, v))}")]
    out.append(["generalize", "oversold_rebound", "--universe", "ai", "--by", "role", *grid, "--json"])
    out += [
        ["capacity", s, "--no-volume", "ok", "--json"] for s in ("oversold_rebound", "inference_rotation")
    ]
    return out


def stamps(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_the_commands_find_the_demos_report_sets_and_never_overwrite_them(
    demo_reports, cfg, tmp_path, monkeypatch, capsys
):
    """Every page the demo index links to is a keyed report set with its manifest; running
    each of the demo's reports again from its command (`aishock run`, `event`, `generalize`,
    `capacity`)
    into the demo's folder names the very set the index links to and writes nothing (not a
    second set, not a byte, not a modification time); a command with other inputs writes a
    set of its own beside them."""
    from aishock.cli import main
    from reports.manifest import key as manifest_key

    folder = tmp_path / "out"
    shutil.copytree(demo_reports, folder)
    index = (folder / "index.html").read_text(encoding="utf-8")
    linked = re.findall(r'href="([^"]+\.html)"', index)
    assert len(linked) == 22  # 9 tearsheets, 9 run pages, event, generalisation, 2 capacity pages
    for href in linked:
        name, page = href.split("/")
        assert page in (f"{name}.html", f"{name}.run.html")
        info = json.loads((folder / name / f"{name}.manifest.json").read_text(encoding="utf-8"))
        assert name.endswith("-" + manifest_key(info))
    before = stamps(folder)
    monkeypatch.setenv("AISHOCK_REPORTS", str(folder))
    written = []
    for argv in demo_commands(cfg):
        assert main(argv) == 0, argv
        out = json.loads(capsys.readouterr().out)
        pages = [out.get("tearsheet"), out.get("run_page")] if "tearsheet" in out else [out["html"]]
        written += [Path(p).relative_to(folder).as_posix() for p in pages]
    assert sorted(written) == sorted(linked)
    assert stamps(folder) == before
    assert main(["event", "2025-01-27", "--top", "3", "--json"]) == 0
    other = Path(json.loads(capsys.readouterr().out)["html"])
    assert other.parent.parent == folder and other.relative_to(folder).as_posix() not in linked
    after = stamps(folder)
    assert {n: after[n] for n in before} == before


def test_manifest_fingerprint_changes_with_the_data(tmp_path, cfg):
    from dataclasses import replace

    import engine
    from reports.artifacts import run_manifest

    prices = engine.load_prices(["NVDA", "SPY"], end="2025-03-31", config=cfg)
    r = engine.run("buy_and_hold", {"hold": "NVDA"}, "2025-01-02", "2025-03-31", prices=prices, config=cfg)
    bumped = replace(prices, close=prices.close * 1.000001)
    assert run_manifest(r, prices)["data"] != run_manifest(r, bumped)["data"]
    assert run_manifest(r, prices)["params"] == {"hold": "NVDA", "rebalance_days": 0, "weight": 1.0}
