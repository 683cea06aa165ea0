"""Atomic parquet files: a reader never sees a half-written file.

A write goes to a temporary file in the same folder and is moved into place with
`os.replace`, which is atomic on POSIX and Windows; a process killed mid-write leaves the
previous file intact (and at worst a stray `*.tmp` that the next write ignores). Two
processes writing the same file leave one complete version, never a mix.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

META_KEY = b"aishock"


def write_frame(path: Path, frame: pd.DataFrame, meta: dict | None = None) -> None:
    """Write `frame` (index kept) to `path` atomically, with `meta` (JSON) in the schema."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(frame, preserve_index=True)
    if meta is not None:
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), META_KEY: json.dumps(meta).encode()})
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_meta(path: Path) -> dict | None:
    """The JSON metadata stored by `write_frame`, or None if the file is missing or unreadable."""
    try:
        raw = (pq.read_schema(path).metadata or {}).get(META_KEY)
    except (OSError, pa.ArrowInvalid):
        return None
    return json.loads(raw) if raw else None


def read_frame(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a frame written by `write_frame`, optionally only some columns."""
    return pd.read_parquet(path, columns=columns)
