"""Report sets: every report a command writes into the reports folder (a backtest run's
tearsheet, run page and CSV tables: equity with exposure, orders, trades, weights; an event
study's page, a generalisation page, a sweep's results and page) is written as one set, the
same way whichever command or the demo writes it.

A set lives in a folder of its own, `<out_dir>/<name>-<key>/` (`name` says what it is, e.g.
`oversold-rebound`, `event-ai-2025-01-27`), holding its files `<name>-<key><suffix>`
(`.html`, `.equity.csv`, `.parquet`...) and its manifest `<name>-<key>.manifest.json`
(reports.manifest: what produced it, no timestamp). `key` hashes the whole manifest, which
holds the SHA-256 of the set's result files (the equity CSV, a page, a parquet file:
`write_set`'s `hashed`), so two reports that differ in any input, or were drawn by different
code, never share a path, and a set is never overwritten by a different one; the same
inputs give the same name and the same bytes, from the demo or from a command. A run's
manifest names the data the run itself reads (its strategy's tickers and the benchmark,
backtest.run.needed_tickers), not a larger panel it was cut from, and its title comes from
its inputs (`run_label`), so `aishock run` finds the set `aishock demo` wrote for the same run.

A set is written atomically: its files are written into a hidden temporary folder inside
`out_dir` (`.<name>.*.tmp`), which is renamed into place once all are complete. A process
killed before that leaves at most the hidden temporary folder, never a partial set; an
existing complete set of the same name (the same inputs and results) is left as it is, and
the files written after the key is known (`later`, e.g. a run's tearsheet) are then not
written at all.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from engine.backtest.result import Result
from engine.data.panel import Prices
from engine.errors import AishockError
from engine.outputs import csv_safe, plain, slug, umask
from engine.strategy import params as params_mod
from engine.strategy import registry
from reports.manifest import key as manifest_key
from reports.manifest import manifest
from reports.manifest import text as manifest_text

MANIFEST = ".manifest.json"  # a set's manifest: <stem>.manifest.json
SET_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*")  # what a set's name is made of, before its key
KEY = re.compile(r"[0-9a-f]{12}")  # reports.manifest.key

Writer = Callable[[Path], object]  # writes one file of a set, at the path it is given


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


def hashed_field(suffix: str) -> str:
    """The manifest field holding the SHA-256 of a set's file ending in `suffix`
    (`.equity.csv` -> `equity_csv_sha256`)."""
    return suffix.lstrip(".").replace(".", "_") + "_sha256"


def set_paths(out_dir: Path, stem: str, suffixes) -> dict[str, Path]:
    """{suffix: path} of the set `stem` in `out_dir`, its manifest included."""
    return {s: Path(out_dir) / stem / f"{stem}{s}" for s in [*suffixes, MANIFEST]}


def write_set(
    out_dir: Path, name: str, info: dict, hashed: dict[str, Writer], later: dict[str, Writer] | None = None
) -> dict[str, Path]:
    """Write the report set of manifest `info` into `<out_dir>/<name>-<key>/` (see the
    module docstring) and return {suffix: path} of its files, `MANIFEST` included. Each
    writer of `hashed` writes its file first, the SHA-256 of each goes into `info`
    (hashed_field), then `key` is the manifest's; if that set is already complete it is
    left as it is, else the writers of `later` write their files and the set is published.
    A write that fails is one line (AishockError) naming the set."""
    if not SET_NAME.fullmatch(name):
        raise ValueError(f"bad report set name {name!r}: lowercase letters, digits, '_', '.' and '-'")
    out_dir = writable_folder(Path(out_dir))
    later = later or {}
    base = name
    final = out_dir / base
    try:
        tmp = Path(tempfile.mkdtemp(dir=out_dir, prefix=f".{base}.", suffix=".tmp"))
        try:
            tmp.chmod(0o777 & ~umask())  # mkdtemp's folder is private; a report set is not
            for suffix, write in hashed.items():
                write(tmp / f"{base}{suffix}")
                digest = hashlib.sha256((tmp / f"{base}{suffix}").read_bytes()).hexdigest()
                info[hashed_field(suffix)] = digest
            stem = f"{base}-{manifest_key(info)}"
            final = out_dir / stem
            paths = set_paths(out_dir, stem, [*hashed, *later])
            if _complete(paths):
                return paths  # the same set (same inputs, same results) is already there
            for suffix in hashed:
                os.rename(tmp / f"{base}{suffix}", tmp / f"{stem}{suffix}")
            for suffix, write in later.items():
                write(tmp / f"{stem}{suffix}")
            (tmp / f"{stem}{MANIFEST}").write_text(manifest_text(info), encoding="utf-8")
            _publish(tmp, final, paths)
            return paths
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError as e:
        raise AishockError(
            f"cannot write the report set {final}: {e.strerror or type(e).__name__}; "
            "free some space or set AISHOCK_REPORTS to a writable folder"
        ) from None


def run_label(result: Result) -> str:
    """The title of the single run `result`, from its inputs only: its strategy, then each
    parameter that differs from the strategy's default as NAME=VALUE, as `--set` takes it
    (`buy_and_hold hold=SPY`)."""
    spec = registry.get(result.strategy)
    defaults = vars(params_mod.make(spec.params))
    given = {k: plain(v) for k, v in result.params.iloc[0].to_dict().items()}
    changed = [f"{k}={v}" for k, v in given.items() if k in defaults and plain(defaults[k]) != v]
    return " ".join([result.strategy, *changed])


def run_manifest(
    result: Result,
    prices: Prices,
    *,
    benchmark: str | None = None,
    warmup: int | None = None,
    tearsheet: bool = True,
) -> dict:
    """What produced a single run: strategy, parameters, window, costs (fill included),
    warm-up, benchmark, conventions, data (fingerprint, folders, warnings), its title."""
    return manifest(
        "run",
        result.equity.index[0],
        result.equity.index[-1],
        prices,
        label=run_label(result),
        strategy=result.strategy,
        params=result.params.iloc[0].to_dict(),
        costs=vars(result.costs),
        warmup=warmup,
        benchmark=benchmark,
        tearsheet=tearsheet,
        conventions={"periods_per_year": result.periods, "risk_free": result.risk_free},
        **({"uncapped": list(result.uncapped)} if result.uncapped else {}),
    )


def _complete(paths: dict[str, Path | None]) -> bool:
    return all(p.is_file() for p in paths.values() if p is not None)


def write_run(
    result: Result,
    out_dir: Path,
    prices: Prices,
    benchmark: str = "SPY",
    *,
    warmup: int | None = None,
    tearsheet: bool = True,
) -> dict[str, Path | None]:
    """Write the report set of the single-run `result` (see the module docstring) and return
    the paths of `tearsheet` and `run_page` (reports.run_page; both None when `tearsheet` is
    false: QuantStats is then not even imported), `equity_csv`, `orders_csv`, `trades_csv`,
    `weights_csv` (run_tables) and `manifest`. `prices` is the data the run read (engine.run's
    `prices`, the run's tickers and the benchmark: backtest.run.needed_tickers). `benchmark`:
    a ticker of `prices`; the tearsheet's benchmark column is its close-to-close daily returns
    (`Prices.returns`), as the tearsheet's note says."""
    tables = {suffix: _csv(frame) for suffix, frame in run_tables(result).items()}
    info = run_manifest(result, prices, benchmark=benchmark, warmup=warmup, tearsheet=tearsheet)

    def draw(path: Path) -> None:
        from reports.tearsheet import write_tearsheet  # imports QuantStats: only when needed

        write_tearsheet(
            result.returns.iloc[:, 0],
            path,
            info["label"],
            prices.select([benchmark]).returns()[benchmark],
            benchmark,
            rf=result.risk_free,
            periods=result.periods,
        )

    def page(path: Path) -> None:
        from reports.run_page import write_run_page

        write_run_page(path, result, info["label"], shared=out_dir)

    paths = write_set(
        out_dir,
        slug(result.strategy),
        info,
        {suffix: _writer(text) for suffix, text in tables.items()},
        {".html": draw, ".run.html": page} if tearsheet else {},
    )
    return {
        "tearsheet": paths.get(".html"),
        "run_page": paths.get(".run.html"),
        **{suffix.strip(".").replace(".", "_"): paths[suffix] for suffix in tables},
        "manifest": paths[MANIFEST],
    }


def _writer(text: str) -> Writer:
    return lambda path: path.write_text(text, encoding="utf-8")


def run_tables(result: Result) -> dict[str, pd.DataFrame]:
    """The CSV tables of a single-run report set, by file suffix:
    .equity.csv: per day the equity (currency) and the exposure columns of Result.exposure
        (long, short, gross and net exposure and turnover as fractions of equity, names held);
    .orders.csv: every fill (date, ticker, side, shares, price after slippage, value, fees);
    .trades.csv: the round trips (Result.trades, engine.backtest.trades' matching rule);
    .weights.csv: the realised end-of-day weights (holdings / equity) of every ticker held."""
    equity = result.equity.iloc[:, 0].rename("equity").to_frame()
    orders = result.orders.drop(columns=["run", "label"], errors="ignore").set_index("date")
    weights = result.weights.droplevel(list(range(result.weights.columns.nlevels - 1)), axis=1)
    return {
        ".equity.csv": equity.join(result.exposure),
        ".orders.csv": orders,
        ".trades.csv": result.trades.drop(columns="run").set_index("entry_date"),
        ".weights.csv": weights.loc[:, (weights != 0).any()],
    }


def _csv(frame: pd.DataFrame) -> str:
    """A table as CSV text: text cells neutralised (engine.outputs.csv_safe), numbers to 10
    significant digits, dates as YYYY-MM-DD."""
    return csv_safe(frame).to_csv(float_format="%.10g", date_format="%Y-%m-%d")


def write_event(out_dir: Path, s, label: str, prices: Prices, k: int = 5) -> Path:
    """Write the event study `s` (engine.events.study) of the universe `label`, computed from
    `prices`, as a report set `event-<label>-<date>-<key>/` whose page lists `k` names at
    each end; return the page's path. The demo and `aishock event` both write it here."""
    from reports.event_page import write_event_page

    info = manifest(
        "event",
        prices.index[0],
        prices.index[-1],
        prices,
        universe=label,
        date=s.date.date(),
        window=[-s.pre, s.post],
        model=s.model,
        estimation=s.estimation,
        runup_days=s.runup_days,
        market=s.market,
        min_drop=s.shock["min_drop"],
        max_market_drop=s.shock["max_market_drop"],
        top=k,
    )
    out_dir = Path(out_dir)
    page = {".html": lambda path: write_event_page(path, s, label, k, shared=out_dir)}
    name = f"event-{slug(label, 'universe')}-{s.date.date()}"
    return write_set(out_dir, name, info, page)[".html"]


def write_generalization(out_dir: Path, g, start=None, end=None) -> Path:
    """Write the generalisation `g` (engine.generalize, its events limited to `start`..`end`
    when given) as a report set `generalize-<strategy>-<universe>-<by>-<key>/`; return the
    page's path. The demo and `aishock generalize` both write it here."""
    from reports import generalize_page

    grid = {name: list(dict.fromkeys(plain(v) for v in g.grid[name])) for name in g.swept}
    info = manifest(
        "generalize",
        g.prices.index[0],
        g.prices.index[-1],
        g.prices,
        strategy=g.strategy,
        universe=g.universe,
        by=g.by,
        grid=grid,
        settings=g.settings,
        events_from=None if start is None else pd.Timestamp(start).date(),
        events_to=None if end is None else pd.Timestamp(end).date(),
    )
    out_dir = Path(out_dir)
    page = {".html": lambda path: generalize_page.write(g, path, shared=out_dir)}
    label = slug(g.settings.get("universe_label", g.universe), "universe")
    return write_set(out_dir, f"generalize-{g.strategy}-{label}-{g.by}", info, page)[".html"]


def write_capacity(out_dir: Path, c) -> Path:
    """Write the capacity study `c` (engine.backtest.capacity) as a report set
    `capacity-<strategy>-<key>/`; return the page's path. The demo and `aishock capacity`
    both write it here."""
    from reports import capacity_page

    info = manifest(
        "capacity",
        pd.Timestamp(c.start),
        pd.Timestamp(c.end),
        c.prices,
        strategy=c.strategy,
        params={k: plain(v) for k, v in c.params.items()},
        costs=vars(c.costs),
        aum=[float(a) for a in c.table.index],
        uncapped=list(c.uncapped),
    )
    out_dir = Path(out_dir)
    page = {".html": lambda path: capacity_page.write(c, path, shared=out_dir)}
    return write_set(out_dir, f"capacity-{slug(c.strategy, 'strategy')}", info, page)[".html"]


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
