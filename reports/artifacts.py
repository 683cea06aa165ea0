"""Files written for one backtest run: tearsheet, daily equity CSV and run manifest."""

from __future__ import annotations

import hashlib
import json
import platform
import re
from importlib import metadata
from pathlib import Path

import pandas as pd

from engine.data.panel import Prices
from engine.result import Result
from reports.tearsheet import write_tearsheet

PACKAGES = ("aishock", "vectorbt", "pandas", "numpy", "quantstats", "yfinance")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "run"


def manifest(result: Result, label: str, prices: Prices) -> dict:
    """What produced a run: strategy, parameters, window, costs, conventions, a fingerprint
    of the price data and the versions of the packages involved (no timestamps, so the same
    inputs give the same file)."""
    params = result.params.iloc[0].to_dict()
    return {
        "label": label,
        "strategy": result.strategy,
        "params": {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in params.items()},
        "start": str(result.equity.index[0].date()),
        "end": str(result.equity.index[-1].date()),
        "costs": vars(result.costs),
        "conventions": {"periods_per_year": result.periods, "risk_free": result.risk_free},
        "data": {"fingerprint": prices.fingerprint(), "tickers": prices.tickers},
        "versions": {"python": platform.python_version(), **{p: _version(p) for p in PACKAGES}},
    }


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def write_run(
    result: Result,
    label: str,
    out_dir: Path,
    prices: Prices,
    benchmark: pd.Series | None = None,
    benchmark_name: str = "SPY",
) -> dict[str, Path]:
    """Write `<slug>.html` (tearsheet), `<slug>.equity.csv` and `<slug>.manifest.json` for
    the single-run `result` into `out_dir`; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    info = manifest(result, label, prices)
    key = hashlib.sha1(json.dumps(info["params"], sort_keys=True, default=str).encode()).hexdigest()[:6]
    stem = f"{slug(label)}-{key}"
    paths = {
        "tearsheet": out_dir / f"{stem}.html",
        "equity_csv": out_dir / f"{stem}.equity.csv",
        "manifest": out_dir / f"{stem}.manifest.json",
    }
    equity = result.equity.iloc[:, 0].rename("equity")
    equity.to_frame().to_csv(paths["equity_csv"], float_format="%.6f", date_format="%Y-%m-%d")
    paths["manifest"].write_text(json.dumps(info, indent=2, sort_keys=True, default=str) + "\n")
    write_tearsheet(
        result.returns.iloc[:, 0],
        paths["tearsheet"],
        label,
        benchmark,
        benchmark_name,
        rf=result.risk_free,
        periods=result.periods,
    )
    return paths
