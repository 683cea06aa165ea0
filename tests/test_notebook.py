"""The sweeps notebook: it executes top to bottom on a small grid, so it never rots; it uses
only the public API; and the committed copy carries its outputs (executed on the full grids
with `make notebook`), so it reads on a code host without running."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).parents[1] / "notebooks" / "sweeps.ipynb"


def test_sweeps_notebook_runs(monkeypatch, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("AISHOCK_NOTEBOOK_SMALL", "1")
    monkeypatch.setenv("AISHOCK_OFFLINE", "1")
    monkeypatch.setenv("AISHOCK_REPORTS", str(tmp_path / "out"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # run where the notebook lives, as Jupyter does: the project's configuration is found
    # from there (engine.config.find_config); what it writes goes to AISHOCK_REPORTS
    monkeypatch.delenv("AISHOCK_CONFIG", raising=False)
    nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    ).execute()
    cells = [c for c in nb.cells if c.cell_type == "code"]
    outputs = "".join(o.get("text", "") for c in cells for o in c.get("outputs", []))
    assert "combinations; best:" in outputs and "tearsheet:" in outputs and "run page:" in outputs
    # the rotation's plateau choice: not fraction=0, or it says why (issue 19)
    chosen = re.search(r"chosen: \{'fraction': ([\d.]+)", outputs)
    assert chosen, outputs
    assert float(chosen.group(1)) != 0 or "turns the thesis off" in outputs, outputs
    # what the reader sees (printed and displayed) shows plain numbers, not numpy reprs
    # (issue 18: "best: {'top_k': np.float64(5.0), ...}"), and a whole parameter whole
    shown = outputs + "".join(
        o.get("data", {}).get("text/plain", "") for c in cells for o in c.get("outputs", [])
    )
    assert not re.search(r"\bnp\.\w+\(", shown), shown
    assert re.search(r"best: \{'top_k': \d+, 'hold_days': \d+, 'sharpe': -?\d", outputs), outputs
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors


def _code(path: Path) -> list[str]:
    nbformat = pytest.importorskip("nbformat")
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def test_the_notebook_uses_only_the_public_api():
    """No import from reports (the CLI's page writers) and no private name: what the notebook
    shows comes from the results' own methods (Result.plot, SweepResult.heatmap, ...)."""
    bad = []
    for source in _code(NOTEBOOK):
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if module.split(".")[0] == "reports" or any(a.name.startswith("_") for a in node.names):
                    bad.append(f"from {module} import {', '.join(a.name for a in node.names)}")
                if any(part.startswith("_") for part in module.split(".")):
                    bad.append(f"from {module}")
            elif isinstance(node, ast.Import):
                bad += [a.name for a in node.names if a.name.split(".")[0] == "reports" or "._" in a.name]
            elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
                bad.append(f".{node.attr}")
    assert bad == []


def test_the_committed_notebook_carries_its_outputs():
    """Every code cell of the committed notebook has run (in order) and shows no error; the
    figures are there as Plotly output."""
    nbformat = pytest.importorskip("nbformat")
    cells = [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code"]
    assert [c.execution_count for c in cells] == list(range(1, len(cells) + 1))
    outputs = [o for c in cells for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outputs) >= 4
    assert all(c.outputs for c in cells)
