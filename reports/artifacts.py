"""Files written for one backtest run: tearsheet, daily equity CSV and run manifest."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pandas as pd

from engine.data.panel import Prices
from engine.result import Result
from reports.manifest import manifest, write_manifest
from reports.tearsheet import write_tearsheet


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "run"


def run_manifest(result: Result, label: str, prices: Prices) -> dict:
    """What produced a single run: strategy, parameters, window, costs, conventions, data."""
    return manifest(
        "run",
        result.equity.index[0],
        result.equity.index[-1],
        prices,
        label=label,
        strategy=result.strategy,
        params=result.params.iloc[0].to_dict(),
        costs=vars(result.costs),
        conventions={"periods_per_year": result.periods, "risk_free": result.risk_free},
    )


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
    info = run_manifest(result, label, prices)
    key = hashlib.sha1(json.dumps(info["params"], sort_keys=True, default=str).encode()).hexdigest()[:6]
    stem = f"{slug(label)}-{key}"
    paths = {
        "tearsheet": out_dir / f"{stem}.html",
        "equity_csv": out_dir / f"{stem}.equity.csv",
        "manifest": out_dir / f"{stem}.manifest.json",
    }
    equity = result.equity.iloc[:, 0].rename("equity")
    equity.to_frame().to_csv(paths["equity_csv"], float_format="%.6f", date_format="%Y-%m-%d")
    write_manifest(paths["tearsheet"], info)
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
