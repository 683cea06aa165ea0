"""Local price files and their parsed-form cache.

`find_csv` looks for `<TICKER>.csv` in each data folder (directly or under `prices/`).
`read_local` returns parsed frames for many tickers; the parsed form of each folder is kept
in one parquet file under the cache folder, keyed by every source file's size and mtime,
so a second load of all 538 snapshot tickers reads one file instead of parsing 538 CSVs.
A stale or missing entry is re-parsed from the CSV; a CSV that fails validation is never
written to the cache. The entries and columns of a cache file are read from one version of
it, so a concurrent writer can make an entry stale (re-parsed next time) but never wrong.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from engine.data.cache import UNREADABLE, open_snapshot, write_frame
from engine.data.csvfile import read_price_csv
from engine.data.validate import FIELDS

SEP = "|"


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
    """What identifies a version of `path` (None if it cannot be stat'ed: parsing says why)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return [path.name, st.st_size, st.st_mtime_ns]


def _cache_path(cache_dir: Path, folder: Path) -> Path:
    key = hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:16]
    return cache_dir / "parsed" / f"{key}.parquet"


def widen(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per-ticker frames as one wide frame with `TICKER|field` columns (union of dates)."""
    parts = [f.rename(columns=lambda c, t=t: f"{t}{SEP}{c}") for t, f in frames.items()]
    wide = pd.concat(parts, axis=1, sort=True) if parts else pd.DataFrame(dtype=float)
    wide.index = pd.DatetimeIndex(wide.index, name="date")
    return wide


def read_local(paths: dict[str, Path], cache_dir: Path | None) -> pd.DataFrame:
    """The parsed bars of `paths` ({ticker: csv path}) as one wide `TICKER|field` frame,
    through the per-folder cache."""
    by_folder: dict[Path, dict[str, Path]] = {}
    for t, p in paths.items():
        by_folder.setdefault(p.parent, {})[t] = p
    parts = [_read_folder(folder, group, cache_dir) for folder, group in by_folder.items()]
    return pd.concat(parts, axis=1, sort=True) if parts else pd.DataFrame(dtype=float)


def _read_folder(folder: Path, group: dict[str, Path], cache_dir: Path | None) -> pd.DataFrame:
    if cache_dir is None:
        return widen({t: read_price_csv(p, t) for t, p in group.items()})
    cpath = _cache_path(cache_dir, folder)
    stamps = {t: _stamp(p) for t, p in group.items()}
    meta, cached = _read_cache(cpath, stamps)
    stale = [t for t in group if stamps[t] is None or meta.get(t) != stamps[t]]
    if not stale:
        return cached
    parsed = {t: read_price_csv(group[t], t) for t in stale}
    keep = {t: stamp for t, stamp in meta.items() if t not in parsed}
    kept = cached[[c for c in cached.columns if c.split(SEP, 1)[0] in keep]].dropna(how="all")
    wide = pd.concat([kept, widen(parsed)], axis=1, sort=True)
    wide.index = pd.DatetimeIndex(wide.index, name="date")
    write_frame(cpath, wide, {**keep, **{t: stamps[t] for t in stale}})
    return wide[[c for c in wide.columns if c.split(SEP, 1)[0] in group]]


def _read_cache(cpath: Path, stamps: dict[str, list]) -> tuple[dict, pd.DataFrame]:
    """The entries ({ticker: stamp}) of the cache file `cpath` whose close column is there, and
    columns, both from one version of the file: the columns of the tickers in `stamps` if
    all their entries are current, else of every entry (to be written back). A missing or
    unreadable file has no entries."""
    snapshot, meta, wide = open_snapshot(cpath), {}, None
    if snapshot is not None:
        with snapshot:
            entries = snapshot.meta if isinstance(snapshot.meta, dict) else {}
            meta = {t: s for t, s in entries.items() if f"{t}{SEP}close" in snapshot.names}
            wanted = meta if any(s is None or meta.get(t) != s for t, s in stamps.items()) else stamps
            cols = [c for t in wanted for f in FIELDS if (c := f"{t}{SEP}{f}") in snapshot.names]
            with contextlib.suppress(*UNREADABLE):
                wide = snapshot.read(cols)
    if not isinstance(getattr(wide, "index", None), pd.DatetimeIndex):  # unreadable or foreign
        return {}, pd.DataFrame(index=pd.DatetimeIndex([], name="date"))
    wide.index.name = "date"
    return meta, wide
