"""Files written for one backtest run: tearsheet, daily equity CSV and run manifest, as one
report set.

A set lives in a folder of its own, `<out_dir>/<slug>-<key>/`, holding `<slug>-<key>.html`
(the tearsheet, unless left out), `<slug>-<key>.equity.csv` and `<slug>-<key>.manifest.json`.
`key` hashes the whole manifest: strategy, parameters, window, costs and fill, warm-up,
benchmark, the data's fingerprint and folders, conventions, package versions, whether there
is a tearsheet, and the SHA-256 of the equity CSV itself. So two runs that differ in any
input never share a path, and a set is never overwritten by a different one.

A set is written atomically: its files are written into a hidden temporary folder inside
`out_dir` (`.<slug>-<key>.*.tmp`), which is renamed into place once all are complete. A
process killed before that leaves at most the hidden temporary folder, never a partial set;
an existing set of the same name (the same inputs and results) is left as it is.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from engine.backtest.result import Result
from engine.data.panel import Prices
from engine.errors import AishockError
from engine.outputs import csv_safe, slug, umask
from reports.manifest import key as manifest_key
from reports.manifest import manifest
from reports.manifest import text as manifest_text


def writable_folder(folder: Path, what: str = "reports") -> Path:
    """`folder`, created with its parents if missing, after checking a file can be created
    in it; refused in one line (AishockError) if it is a file, or cannot be created or
    written."""
    folder = Path(folder)
    hint = "set AISHOCK_REPORTS to a writable folder" if what == "reports" else "choose another path"
    if folder.exists() and not folder.is_dir():
        raise AishockError(f"cannot write {what} to {folder}: it is a file, not a folder; {hint}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".aishock-probe-", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise AishockError(f"cannot write {what} to {folder}: {reason}; {hint}") from None
    return folder


def _folders(prices: Prices) -> list[str]:
    return sorted({str(Path(s).parent) if s != "yfinance" else s for s in prices.sources.values()})


def run_manifest(
    result: Result,
    label: str,
    prices: Prices,
    *,
    benchmark: str | None = None,
    warmup: int | None = None,
    tearsheet: bool = True,
) -> dict:
    """What produced a single run: strategy, parameters, window, costs (fill included),
    warm-up, benchmark, conventions, data (fingerprint, folders, warnings)."""
    info = manifest(
        "run",
        result.equity.index[0],
        result.equity.index[-1],
        prices,
        label=label,
        strategy=result.strategy,
        params=result.params.iloc[0].to_dict(),
        costs=vars(result.costs),
        warmup=warmup,
        benchmark=benchmark,
        tearsheet=tearsheet,
        conventions={"periods_per_year": result.periods, "risk_free": result.risk_free},
    )
    info["data"]["folders"] = _folders(prices)
    return info


def _complete(paths: dict[str, Path | None]) -> bool:
    return all(p.is_file() for p in paths.values() if p is not None)


def write_run(
    result: Result,
    label: str,
    out_dir: Path,
    prices: Prices,
    benchmark: str = "SPY",
    *,
    warmup: int | None = None,
    tearsheet: bool = True,
) -> dict[str, Path | None]:
    """Write the report set of the single-run `result` into its own folder under `out_dir`
    (see the module docstring) and return the paths of `tearsheet` (None when `tearsheet`
    is false: QuantStats is then not even imported), `equity_csv` and `manifest`.
    `benchmark`: a ticker of `prices`; the tearsheet's benchmark column is its close-to-close
    daily returns (`Prices.returns`), as the tearsheet's note says."""
    out_dir = writable_folder(Path(out_dir))
    equity = result.equity.iloc[:, 0].rename("equity")
    csv_text = csv_safe(equity.to_frame()).to_csv(float_format="%.6f", date_format="%Y-%m-%d")
    info = run_manifest(result, label, prices, benchmark=benchmark, warmup=warmup, tearsheet=tearsheet)
    info["equity_csv_sha256"] = hashlib.sha256(csv_text.encode()).hexdigest()
    text = manifest_text(info)
    stem = f"{slug(label)}-{manifest_key(info)}"
    final = out_dir / stem
    names = {
        "tearsheet": f"{stem}.html",
        "equity_csv": f"{stem}.equity.csv",
        "manifest": f"{stem}.manifest.json",
    }
    if not tearsheet:
        names["tearsheet"] = None
    paths = {k: (final / n if n else None) for k, n in names.items()}
    if _complete(paths):
        return paths  # the same set (same inputs, same results) is already there
    bench = prices.select([benchmark]).returns()[benchmark] if tearsheet else None
    tmp = Path(tempfile.mkdtemp(dir=out_dir, prefix=f".{stem}.", suffix=".tmp"))
    try:
        tmp.chmod(0o777 & ~umask())  # mkdtemp's folder is private; a report set is not
        (tmp / names["equity_csv"]).write_text(csv_text, encoding="utf-8")
        (tmp / names["manifest"]).write_text(text, encoding="utf-8")
        if tearsheet:
            from reports.tearsheet import write_tearsheet  # imports QuantStats: only when needed

            write_tearsheet(
                result.returns.iloc[:, 0],
                tmp / names["tearsheet"],
                label,
                bench,
                benchmark,
                rf=result.risk_free,
                periods=result.periods,
            )
        _publish(tmp, final, paths)
    except OSError as e:
        raise AishockError(
            f"cannot write the report set {final}: {e.strerror or type(e).__name__}; "
            "set AISHOCK_REPORTS to a writable folder"
        ) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return paths


def _publish(tmp: Path, final: Path, paths: dict[str, Path | None]) -> None:
    """Rename the finished folder `tmp` to `final` (one atomic rename). If `final` is already
    there: a complete set of the same name is kept; anything else of that name (a set whose
    files someone removed) is set aside and replaced."""
    try:
        os.rename(tmp, final)
        return
    except OSError:
        if not final.exists():
            raise
    if _complete(paths):
        return  # another process wrote the same set meanwhile
    aside = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.", suffix=".old"))
    os.rename(final, aside / final.name)
    os.rename(tmp, final)
    shutil.rmtree(aside, ignore_errors=True)
