"""The sweeps notebook executes top to bottom on a small grid, so it never rots."""

from __future__ import annotations

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
    assert "combinations; best:" in outputs and "tearsheet:" in outputs
    # what the reader sees (printed and displayed) shows plain numbers, not numpy reprs
    # (issue 18: "best: {'top_k': np.float64(5.0), ...}"), and a whole parameter whole
    shown = outputs + "".join(
        o.get("data", {}).get("text/plain", "") for c in cells for o in c.get("outputs", [])
    )
    assert not re.search(r"\bnp\.\w+\(", shown), shown
    assert re.search(r"best: \{'top_k': \d+, 'hold_days': \d+, 'sharpe': -?\d", outputs), outputs
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
