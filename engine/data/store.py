"""Local price files and their parsed-form cache.

`find_csv` looks for `<TICKER>.csv` in each data folder (directly or under `prices/`).
`read_local` returns parsed frames for many tickers; the parsed form of each folder is kept
in one parquet file under the cache folder, keyed by every source file's size and mtime,
so a second load of all 538 snapshot tickers reads one file instead of parsing 538 CSVs.
A stale or missing entry is re-parsed from the CSV; a CSV that fails validation is never
written to the cache.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from engine.data.cache import read_frame, read_meta, write_frame
from engine.data.csvfile import read_price_csv
from engine.data.validate import FIELDS

SEP = "|"


def find_csv(ticker: str, dirs: Sequence[Path]) -> Path | None:
    """The first `<ticker>.csv` in `dirs` (each searched at `prices/` then top level)."""
    for d in dirs:
        for candidate in (d / "prices" / f"{ticker}.csv", d / f"{ticker}.csv"):
            if candidate.exists():
                return candidate
    return None


def _stamp(path: Path) -> list:
    st = path.stat()
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
    meta = read_meta(cpath) or {}
    stamps = {t: _stamp(p) for t, p in group.items()}
    fresh = [t for t in group if meta.get(t) == stamps[t]]
    stale = [t for t in group if t not in fresh]
    parts = []
    if fresh:
        present = set(pq.read_schema(cpath).names)
        cols = [c for t in fresh for f in FIELDS if (c := f"{t}{SEP}{f}") in present]
        wide = read_frame(cpath, columns=cols)
        wide.index = pd.DatetimeIndex(wide.index, name="date")
        parts.append(wide)
    if stale:
        parsed = {t: read_price_csv(group[t], t) for t in stale}
        parts.append(widen(parsed))
        _merge_into_cache(cpath, meta, parsed, {t: stamps[t] for t in stale})
    return pd.concat(parts, axis=1, sort=True) if len(parts) > 1 else parts[0]


def _merge_into_cache(cpath: Path, meta: dict, parsed: dict[str, pd.DataFrame], stamps: dict) -> None:
    keep = [t for t in meta if t not in parsed]
    old = read_frame(cpath) if keep and cpath.exists() else pd.DataFrame()
    if not old.empty:
        old = old[[c for c in old.columns if c.split(SEP, 1)[0] in keep]]
    wide = pd.concat([old, widen(parsed)], axis=1, sort=True)
    wide.index = pd.DatetimeIndex(wide.index, name="date")
    write_frame(cpath, wide, {**{t: meta[t] for t in keep}, **stamps})
