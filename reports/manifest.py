"""Run manifests: what produced a report, written beside it as `<name>.manifest.json`.

A manifest holds the kind of report, its inputs (strategy, parameters, grid, universe...),
the date window, a fingerprint of the price data, the conventions and the versions of the
packages involved, and no timestamp, so the same inputs give a byte-identical file.
"""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from engine.data.panel import Prices

PACKAGES = ("aishock", "vectorbt", "pandas", "numpy", "quantstats", "yfinance", "numba")


def fingerprint(data: Prices | pd.DataFrame) -> str:
    """A short hash of every value (and date and ticker) of the price data used."""
    if isinstance(data, Prices):
        return data.fingerprint()
    digest = pd.util.hash_pandas_object(data, index=True).to_numpy().tobytes()
    return hashlib.sha256(digest + "|".join(map(str, data.columns)).encode()).hexdigest()[:16]


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value


def manifest(kind: str, start, end, data: Prices | pd.DataFrame, **inputs) -> dict:
    """The manifest of a report of `kind` over [start, end] computed from `data`."""
    tickers = data.tickers if isinstance(data, Prices) else [str(c) for c in data.columns]
    return {
        "kind": kind,
        **{
            k: (json.loads(json.dumps(v, default=_plain)) if v is not None else None)
            for k, v in inputs.items()
        },
        "start": str(pd.Timestamp(start).date()),
        "end": str(pd.Timestamp(end).date()),
        "data": {"fingerprint": fingerprint(data), "tickers": tickers},
        "versions": {"python": platform.python_version(), **{p: _version(p) for p in PACKAGES}},
    }


def write_manifest(report: Path, info: dict) -> Path:
    """Write `info` beside `report` as `<stem>.manifest.json` (whole file or nothing)."""
    path = report.with_name(f"{report.stem}.manifest.json")
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(info, indent=2, sort_keys=True, default=_plain) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
