"""Run manifests: what produced a report, written beside it as `<name>.manifest.json`.

A manifest holds the kind of report, its inputs (strategy, parameters, grid, universe...),
the date window, a fingerprint of the price data, its tickers and (for a price panel) the
folders its files came from, the tickers whose closes are their Adj Close
column (`adjusted`, engine.data.csvfile), the warnings about that data (the data
checks of engine.data.checks, one line each; an empty list when there were none), the
conventions and the versions of the packages involved, and no timestamp, so the same inputs
give a byte-identical file. Non-finite numbers are written as null (JSON has no NaN).
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
from engine.outputs import clean, plain, write_atomic

PACKAGES = ("aishock", "vectorbt", "pandas", "numpy", "quantstats", "yfinance", "numba")


def fingerprint(data: Prices | pd.DataFrame) -> str:
    """A short hash of every value (and date and ticker) of the price data used."""
    if isinstance(data, Prices):
        return data.fingerprint()
    digest = pd.util.hash_pandas_object(data, index=True).to_numpy().tobytes()
    return hashlib.sha256(digest + "|".join(map(str, data.columns)).encode()).hexdigest()[:16]


def folders(prices: Prices) -> list[str]:
    """The folders the panel's price files came from ("yfinance" for downloads), sorted."""
    return sorted({str(Path(s).parent) if s != "yfinance" else s for s in prices.sources.values()})


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _json(value: Any) -> Any:
    return clean(json.loads(json.dumps(value, default=plain)))


def text(info: dict) -> str:
    """The manifest `info` as the text of its file: canonical JSON (sorted keys, two-space
    indent, non-finite numbers as null, a final newline)."""
    return json.dumps(_json(info), indent=2, sort_keys=True, allow_nan=False) + "\n"


def key(info: dict) -> str:
    """The content key of a report: the first 12 hex digits of the SHA-256 of its manifest's
    text. Every keyed report name (run sets, sweeps, event and generalisation pages) uses it,
    so identical inputs share one name whichever command wrote them."""
    return hashlib.sha256(text(info).encode()).hexdigest()[:12]


def manifest(
    kind: str, start, end, data: Prices | pd.DataFrame, warnings: list[str] | None = None, **inputs
) -> dict:
    """The manifest of a report of `kind` over [start, end] computed from `data`. `warnings`
    defaults to the panel's own (`Prices.warnings`; none for a plain frame)."""
    tickers = data.tickers if isinstance(data, Prices) else [str(c) for c in data.columns]
    if warnings is None:
        warnings = list(data.warnings) if isinstance(data, Prices) else []
    return {
        "kind": kind,
        **{k: (_json(v) if v is not None else None) for k, v in inputs.items()},
        "start": str(pd.Timestamp(start).date()),
        "end": str(pd.Timestamp(end).date()),
        "data": {
            "fingerprint": fingerprint(data),
            "tickers": tickers,
            "adjusted": sorted(data.adjusted) if isinstance(data, Prices) else [],
            **({"folders": folders(data)} if isinstance(data, Prices) else {}),
        },
        "warnings": list(warnings),
        "versions": {"python": platform.python_version(), **{p: _version(p) for p in PACKAGES}},
    }


def manifest_path(report: Path) -> Path:
    """Where write_manifest puts the manifest of `report`: `<stem>.manifest.json` beside it."""
    report = Path(report)
    return report.with_name(f"{report.stem}.manifest.json")


def write_manifest(report: Path, info: dict) -> Path:
    """Write `info` to manifest_path(report) (engine.outputs.write_atomic: whole file or nothing)."""
    path = manifest_path(report)
    body = text(info)
    return write_atomic(path, lambda tmp: tmp.write_text(body, encoding="utf-8"))
