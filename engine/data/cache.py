"""Atomic parquet files: a reader never sees a half-written file.

A write goes through engine.outputs.write_atomic: a temporary file of a unique name in the
same folder, moved into place with `os.replace`, which is atomic on POSIX and Windows; a
process killed mid-write leaves the previous file intact (and at worst a stray `*.tmp` that
the next write ignores). Two processes writing the same file leave one complete version,
never a mix. A reader that needs the metadata and the columns of one version opens a
`Snapshot`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from engine.outputs import write_atomic

META_KEY = b"aishock"
# What reading a missing, truncated or foreign file raises.
UNREADABLE = (OSError, ValueError, pa.ArrowException)


def write_frame(path: Path, frame: pd.DataFrame, meta: dict | None = None) -> None:
    """Write `frame` (index kept) to `path` atomically, with `meta` (JSON) in the schema."""
    path.parent.mkdir(parents=True, exist_ok=True)
    release(path)
    table = pa.Table.from_pandas(frame, preserve_index=True)
    if meta is not None:
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), META_KEY: json.dumps(meta).encode()}
        )
    write_atomic(path, lambda tmp: pq.write_table(table, tmp))


def read_frame(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a frame written by `write_frame`, optionally only some columns."""
    return pd.read_parquet(path, columns=columns)


class Snapshot:
    """One version of a file written by `write_frame`, held open: its metadata, column names
    and columns all come from that version even if another process replaces the file
    meanwhile. Use `open_snapshot`; close it (or use `with`) once read."""

    def __init__(self, path: Path):
        self._file = open(path, "rb")  # noqa: SIM115 -- closed by close()
        try:
            self._parquet = pq.ParquetFile(self._file)
            schema = self._parquet.schema_arrow
            raw = (schema.metadata or {}).get(META_KEY)
            self.meta: dict | None = json.loads(raw) if raw else None
        except BaseException:
            self._file.close()
            raise
        self.names: set[str] = set(schema.names)

    def read(self, columns: list[str] | None = None) -> pd.DataFrame:
        """The frame (index kept), optionally only some columns. The index columns are taken
        from the pandas metadata once per snapshot: reading it on every call (pyarrow's
        use_pandas_metadata) parsed the whole wide table's metadata, 300 kB of JSON for the
        S&P 500 cache, and took 3x as long as the columns themselves; asked for by name, the
        index columns are read as columns)."""
        index = self._index_columns()
        if columns is None or index is None:
            return self._parquet.read(columns=columns, use_pandas_metadata=True).to_pandas()
        frame = self._parquet.read(columns=[*columns, *index], use_pandas_metadata=False).to_pandas()
        return frame.set_index(index) if set(index) <= set(frame.columns) else frame  # to_pandas may set it

    def _index_columns(self) -> list[str] | None:
        """The stored index columns (None if the frame's index is not stored as columns)."""
        if not hasattr(self, "_index"):
            raw = (self._parquet.schema_arrow.metadata or {}).get(b"pandas")
            names = json.loads(raw).get("index_columns") if raw else None
            ok = names and all(isinstance(n, str) and n in self.names for n in names)
            self._index = list(names) if ok else None
        return self._index

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_snapshot(path: Path) -> Snapshot | None:
    """The current version of `path`, or None if it is missing or not a readable frame file."""
    try:
        return Snapshot(path)
    except UNREADABLE:
        return None


_HELD: dict[tuple, Snapshot] = {}
HELD_MAX = 4


def held_snapshot(path: Path) -> Snapshot | None:
    """Like `open_snapshot`, but the snapshot stays open for the process and is handed out
    again while `path` is the same version (inode, modification time, size): opening a wide
    parquet file parses its whole footer, which cost more than reading a few of its columns.
    The caller must not close it. At most HELD_MAX are kept (the oldest is closed)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    key = (str(path), st.st_ino, st.st_mtime_ns, st.st_size)
    if key not in _HELD:
        snapshot = open_snapshot(path)
        if snapshot is None:
            return None
        release(path)  # an older version of the file
        while len(_HELD) >= HELD_MAX:
            _HELD.pop(next(iter(_HELD))).close()
        _HELD[key] = snapshot
    return _HELD[key]


def release(path: Path) -> None:
    """Close the held snapshots of `path` (before replacing it: Windows cannot replace an open
    file)."""
    for k in [k for k in _HELD if k[0] == str(path)]:
        _HELD.pop(k).close()
