"""Golden test: the reference strategy's full stats, pinned. A change to any number here is
a change in behaviour and must be explained in the commit that regenerates the file
(AISHOCK_UPDATE_GOLDEN=1 pytest tests/test_golden.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import engine

GOLDEN = Path(__file__).parent / "golden" / "oversold_rebound.json"


def current(cfg) -> dict:
    r = engine.run("oversold_rebound", start="2024-07-01", end="2025-12-31", config=cfg)
    stats = r.stats.iloc[0].to_dict()
    return {k: (str(v) if k in ("start", "end", "benchmark") else float(v)) for k, v in stats.items()}


def test_reference_strategy_stats_are_unchanged(cfg):
    stats = current(cfg)
    if os.environ.get("AISHOCK_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(stats, indent=2, sort_keys=True) + "\n")
    golden = json.loads(GOLDEN.read_text())
    assert stats.keys() == golden.keys()
    for key, value in golden.items():
        if isinstance(value, str):
            assert stats[key] == value, key
        else:
            assert stats[key] == pytest.approx(value, rel=1e-9, nan_ok=True), key
