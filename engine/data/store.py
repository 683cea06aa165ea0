"""Local price files and their parsed-form cache.

`find_csv` looks for `<TICKER>.csv` in each data folder (directly or under `prices/`).
`read_local` returns parsed frames for many tickers; the parsed form of each folder is kept
in one parquet file under the cache folder, keyed by a SHA-256 hash of every source file's
bytes, so a second load of all 538 snapshot tickers reads one file (and hashes 68 MB, about
0.05 s) instead of parsing 538 CSVs. Size and modification time are not a key: an edit can
keep both (`cp -p`, a tool that restores times, two writes within the clock's resolution).
A stale or missing entry is re-parsed from the CSV; a CSV that fails validation is never
written to the cache. An entry's hash is of the very bytes that were parsed. The entries
and columns of a cache file are read from one version of it, so a concurrent writer can make
an entry stale (re-parsed next time) but never wrong.

Each parsed file also goes through `engine.data.checks.check_bars` (NYSE calendar, OHLC,
spikes, splits, gaps): the cache holds the checked bars, the warnings and whether the
closes came from an Adj Close column, so a reload from the cache neither needs the calendar
nor repeats the checks. Entries written before the checks existed (or by another CHECKS
version) are stale. A cache folder that cannot be written is not an error: the files are
read without caching, with one warning.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from engine.data.cache import UNREADABLE, held_snapshot, write_frame
from engine.data.checks import check_bars
from engine.data.csvfile import read_price_csv
from engine.data.validate import FIELDS

SEP = "|"
CHECKS = 3  # version of the checks whose results a cache entry holds


@dataclass
class Local:
    """What `read_local` returns: the wide `TICKER|field` frame, the check warnings of each
    ticker, the tickers whose closes came from an Adj Close column, and warnings about the
    cache itself."""

    wide: pd.DataFrame
    notes: dict[str, list[str]] = field(default_factory=dict)
    adjusted: set[str] = field(default_factory=set)
    cache_warnings: list[str] = field(default_factory=list)


def find_csv(ticker: str, dirs: Sequence[Path]) -> Path | None:
    """The first `<ticker>.csv` in `dirs` (each searched at `prices/` then top level). Whatever
    has that name counts, a folder or a dangling link too: it is refused when read rather
    than passed over for a download."""
    for d in dirs:
        for candidate in (d / "prices" / f"{ticker}.csv", d / f"{ticker}.csv"):
            if candidate.exists() or candidate.is_symlink():
                return candidate
    return None


def _stamp(path: Path) -> list | None:
    """What identifies a version of `path`: its name and the hash of its bytes (None if it
    cannot be read: parsing says why)."""
    try:
        with open(path, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
    except OSError:
        return None
    return [path.name, digest]


def _cache_path(cache_dir: Path, folder: Path) -> Path:
    key = hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:16]
    return cache_dir / "parsed" / f"{key}.parquet"


def widen(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per-ticker frames as one wide frame with `TICKER|field` columns (union of dates)."""
    parts = [f.rename(columns=lambda c, t=t: f"{t}{SEP}{c}") for t, f in frames.items()]
    wide = pd.concat(parts, axis=1, sort=True) if parts else pd.DataFrame(dtype=float)
    wide.index = pd.DatetimeIndex(wide.index, name="date")
    return wide


def _current(entry, stamp: list | None) -> bool:
    return (
        stamp is not None
        and isinstance(entry, dict)
        and entry.get("stamp") == stamp
        and entry.get("checks") == CHECKS
        and isinstance(entry.get("warnings"), list)
        and isinstance(entry.get("adjusted"), bool)
    )


def parse(path: Path, ticker: str) -> tuple[pd.DataFrame, dict]:
    """The checked bars of one CSV and its cache entry: the stamp of the bytes parsed, the
    checks' warnings, whether the closes came from an Adj Close column."""
    try:
        content = path.read_bytes()
    except OSError:
        content = None  # read_price_csv says why, in one line
    frame = read_price_csv(path, ticker, content)
    adjusted = bool(frame.attrs.pop("adjusted", False))
    frame, notes = check_bars(ticker, str(path), frame)
    stamp = [path.name, hashlib.sha256(content).hexdigest()] if content is not None else None
    return frame, {"stamp": stamp, "checks": CHECKS, "warnings": notes, "adjusted": adjusted}


def read_local(paths: dict[str, Path], cache_dir: Path | None) -> Local:
    """The parsed, checked bars of `paths` ({ticker: csv path}) as one wide `TICKER|field`
    frame, through the per-folder cache, with the warnings."""
    by_folder: dict[Path, dict[str, Path]] = {}
    for t, p in paths.items():
        by_folder.setdefault(p.parent, {})[t] = p
    out = Local(pd.DataFrame(dtype=float))
    parts = []
    for folder, group in by_folder.items():
        wide, entries, problem = _read_folder(folder, group, cache_dir)
        parts.append(wide)
        out.notes.update({t: list(e["warnings"]) for t, e in entries.items()})
        out.adjusted.update(t for t, e in entries.items() if e["adjusted"])
        if problem and problem not in out.cache_warnings:
            out.cache_warnings.append(problem)
    if parts:
        out.wide = pd.concat(parts, axis=1, sort=True)
    return out


def _read_folder(
    folder: Path, group: dict[str, Path], cache_dir: Path | None
) -> tuple[pd.DataFrame, dict[str, dict], str | None]:
    """The wide frame of the tickers of `group` (all in `folder`), their cache entries
    ({ticker: entry}, see `parse`), and a warning if the cache could not be written."""
    if cache_dir is None:
        parsed = {t: parse(p, t) for t, p in group.items()}
        return widen({t: f for t, (f, _) in parsed.items()}), {t: e for t, (_, e) in parsed.items()}, None
    cpath = _cache_path(cache_dir, folder)
    stamps = {t: _stamp(p) for t, p in group.items()}
    meta, cached = _read_cache(cpath, stamps)
    stale = [t for t in group if not _current(meta.get(t), stamps[t])]
    if not stale:
        return cached, {t: meta[t] for t in group}, None
    parsed = {t: parse(group[t], t) for t in stale}
    keep = {t: entry for t, entry in meta.items() if t not in parsed and isinstance(entry, dict)}
    kept = cached[[c for c in cached.columns if c.split(SEP, 1)[0] in keep]].dropna(how="all")
    wide = pd.concat([kept, widen({t: f for t, (f, _) in parsed.items()})], axis=1, sort=True)
    wide.index = pd.DatetimeIndex(wide.index, name="date")
    entries = {**keep, **{t: e for t, (_, e) in parsed.items()}}
    problem = None
    try:
        write_frame(cpath, wide, entries)
    except OSError as e:
        problem = (
            f"cannot write the price cache in {cache_dir} ({e.strerror or type(e).__name__}); "
            "prices are read without caching"
        )
    mine = [c for c in wide.columns if c.split(SEP, 1)[0] in group]
    return wide[mine], {t: entries[t] for t in group}, problem


def _read_cache(cpath: Path, stamps: dict[str, list]) -> tuple[dict, pd.DataFrame]:
    """The entries ({ticker: entry}) of the cache file `cpath` whose close column is there, and
    columns, both from one version of the file: the columns of the tickers in `stamps` if
    all their entries are current, else of every entry (to be written back). A missing or
    unreadable file has no entries."""
    snapshot, meta, wide = held_snapshot(cpath), {}, None
    if snapshot is not None:
        entries = snapshot.meta if isinstance(snapshot.meta, dict) else {}
        meta = {t: e for t, e in entries.items() if f"{t}{SEP}close" in snapshot.names}
        stale = any(not _current(meta.get(t), s) for t, s in stamps.items())
        wanted = meta if stale else stamps
        cols = [c for t in wanted for f in FIELDS if (c := f"{t}{SEP}{f}") in snapshot.names]
        with contextlib.suppress(*UNREADABLE):
            wide = snapshot.read(cols)
    if not isinstance(getattr(wide, "index", None), pd.DatetimeIndex):  # unreadable or foreign
        return {}, pd.DataFrame(index=pd.DatetimeIndex([], name="date"))
    wide.index.name = "date"
    return meta, wide
