"""Every file aishock writes goes through here: one atomic writer (`write_atomic`, whose
docstring holds the rules for what may be at a target path), the checks of a command's
output paths before it computes anything (`check_outputs`), and the neutralising of text
cells in CSV files (`csv_safe`, `write_csv`).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from engine.errors import AishockError

# The formats aishock writes, and the file name endings that say each one.
SUFFIXES = {"html": (".html", ".htm"), "parquet": (".parquet",), "csv": (".csv",), "json": (".json",)}

# A path naming an open file descriptor: written to, never replaced (see write_atomic).
DESCRIPTOR = re.compile(r"(?:/dev/fd|/proc/(?P<pid>self|\d+)/fd)/(?P<fd>\d+)")

# A text cell starting with one of these is a formula to a spreadsheet (see csv_safe).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def umask() -> int:
    """The process's umask, read without changing it (Linux), else by setting and restoring."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _kind(mode: int) -> str:
    """What a file of mode `mode` is: "file" (regular), "stream" (a character device or a
    FIFO) or, for what is never written, its name ("folder", "socket", ...)."""
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return "stream"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISBLK(mode):
        return "block device"
    return "special file"


def _descriptor(path: Path) -> int | None:
    """The number of the open file descriptor of this process that `path` names, directly or
    through links (/dev/stdout: 1, /dev/fd/N, /proc/self/fd/N), or None."""
    p = os.path.abspath(path)
    for _ in range(40):  # the kernel's own limit on a chain of links
        named = DESCRIPTOR.fullmatch(p)
        if named and named["pid"] in (None, "self", str(os.getpid())):
            return int(named["fd"])
        if not os.path.islink(p):
            return None
        p = os.path.normpath(os.path.join(os.path.dirname(p), os.readlink(p)))
    return None


def _resolve(path: Path) -> tuple[Path, str]:
    """(where to write, kind): the resolved target and "file" for a new or regular file (a
    dangling link: the file it names); `path` itself and "descriptor" for a name of an open
    descriptor such as /dev/stdout, or "stream" for a device or FIFO; or `path` and the kind
    of what is never written ("folder", "socket", ...)."""
    if _descriptor(path) is not None:
        return path, "descriptor"
    try:
        kind = _kind(os.stat(path).st_mode)  # follows symlinks
    except (FileNotFoundError, NotADirectoryError):  # a new file (its folder is checked apart)
        kind = "file"
    return (Path(os.path.realpath(path)) if kind == "file" else path), kind


def is_stream(path: Path | str) -> bool:
    """Whether `path` is written directly (a device, a FIFO, /dev/stdout...: see
    write_atomic), so it has no folder of its own to check."""
    try:
        return _resolve(Path(path))[1] in ("stream", "descriptor")
    except OSError:
        return False


def output_folder(path: Path | str) -> Path:
    """The folder write_atomic writes `path` in: that of the file a symlink points to, else
    the folder `path` names (check it can be written before computing; a stream has none:
    see is_stream)."""
    path = Path(path)
    return Path(os.path.realpath(path)).parent if path.is_symlink() else path.parent


def write_atomic(path: Path | str, write: Callable[[Path], object]) -> Path:
    """Write `path` with `write(file)` and return `path`. What happens depends on what is at
    `path`:

    - nothing, or a regular file: `file` is a temporary file of a unique name
      (`.<name>.<random>.tmp`) in the same folder, which replaces `path` in one step
      (`os.replace`) once `write` returns. A reader sees the old file or the new one, never
      half of one; concurrent writers of one path each leave a complete file; any failure
      (an exception, a full disk) removes the temporary file and propagates. The file gets
      the mode the umask gives a new file (0666 & ~umask), not mkstemp's private 0600;
    - a symlink: written through to the file it finally points to (resolved; the temporary
      file goes in that file's folder), which is replaced as above; the link stays a link;
    - a character device or a FIFO (a terminal, a named pipe): `file` is `path` itself,
      written directly and never replaced. Not atomic;
    - a name of one of this process's open descriptors (`/dev/stdout`, `/dev/stderr`,
      `/dev/fd/N`, `/proc/self/fd/N`, or a link to one), whatever it is open on: `file` is a
      private temporary file whose bytes are then written through that descriptor, at its
      current offset, never replacing or truncating what it is open on; so `--csv
      /dev/stdout` prints the CSV, into a pipe, a terminal or a file stdout is redirected
      to. Nothing is written if `write` fails;
    - for both: the process's buffered stdout and stderr are flushed first, so what was
      printed before comes out before;
    - a folder, a socket or a block device: refused in one line (AishockError).

    The folder must exist (an OSError otherwise, as for no permission).
    """
    path = Path(path)
    target, kind = _resolve(path)
    if kind in ("stream", "descriptor"):
        for stream in (sys.stdout, sys.stderr):  # what was printed comes first
            stream.flush()
        if kind == "stream":
            write(path)
            return path
        # opening /dev/stdout anew would start at offset 0 of a file stdout is redirected to
        # (and truncate it): the output is made aside, then written through the descriptor
        with tempfile.TemporaryDirectory(prefix="aishock-") as scratch:
            made = Path(scratch) / path.name
            write(made)
            with made.open("rb") as source, os.fdopen(os.dup(_descriptor(path)), "wb") as sink:
                shutil.copyfileobj(source, sink)
        return path
    if kind != "file":
        raise AishockError(f"cannot write {path}: it is a {kind}, not a file; give a file name")
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def check_outputs(*outputs: tuple[str, Path | str | None, str]) -> None:
    """Refuse, in one line (AishockError) and before any work, the outputs of one command
    that it must not write. Each output is (what, path, format): what names it for the user
    ("--csv"), format is one of SUFFIXES ("csv"); a None path is skipped. Refused:

    - a path that write_atomic refuses (a folder, a socket, a block device);
    - a path whose name, or the name of the file it links to, ends like another format
      (a parquet or CSV file named `.html`, a CSV named `.json`, ...);
    - two outputs on the same file, after resolving symlinks.
    """
    seen: dict[str, str] = {}
    for what, given, fmt in outputs:
        if given is None:
            continue
        path = Path(given)
        try:
            target, kind = _resolve(path)
        except OSError as e:  # a symlink loop, a path through a file
            reason = e.strerror or type(e).__name__
            raise AishockError(f"{what} {path}: {reason}; choose another path") from None
        if kind not in ("file", "stream", "descriptor"):
            raise AishockError(f"{what} {path} is a {kind}, not a file; give a file name")
        names = list(dict.fromkeys([path.name, target.name])) if kind == "file" else [path.name]
        for name in names:
            end = next(
                (e for f, ends in SUFFIXES.items() if f != fmt for e in ends if name.lower().endswith(e)),
                None,
            )
            if end is not None:
                shown = path if name == path.name else f"{path} (a link to {target})"
                raise AishockError(
                    f"{what} {shown} ends in {end} but is written as {fmt}; give a name ending in "
                    f"{SUFFIXES[fmt][0]}"
                )
        key = str(target)
        if kind != "file":  # one device or pipe under two names is still one
            with contextlib.suppress(OSError):
                info = os.stat(path)
                key = f"{info.st_dev}:{info.st_ino}"
        if key in seen:
            raise AishockError(f"{seen[key]} and {what} both write {target}; give each output its own file")
        seen[key] = what


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` for a CSV file a spreadsheet may open: every text cell (a str, in the columns,
    the index and the column names) that starts with `= + - @`, a tab or a carriage return
    gets a leading single quote, so `=HYPERLINK(...)` is shown as text, not run as a formula.
    Numbers are not text and stay as they are (-0.5 is written -0.5). Every CSV aishock
    writes goes through here."""

    def cell(value):
        return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value

    def labels(index: pd.Index) -> pd.Index:
        if isinstance(index, pd.MultiIndex) or not any(isinstance(v, str) for v in index):
            return index
        return pd.Index([cell(v) for v in index], name=cell(index.name))

    out = frame.copy()
    for i in range(out.shape[1]):
        column = out.iloc[:, i]
        if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            out.isetitem(i, column.map(cell))
    out.columns = labels(out.columns)
    out.index = labels(out.index)
    return out


def write_csv(path: Path | str, frame: pd.DataFrame, **to_csv) -> Path:
    """Write `frame` as CSV to `path`, its text cells made safe (csv_safe), by write_atomic;
    `to_csv` goes to DataFrame.to_csv (index=False, float_format, ...)."""
    safe = csv_safe(frame)
    return write_atomic(path, lambda file: safe.to_csv(file, **to_csv))


def plain(value):
    """A numpy/pandas scalar as a Python one; NaN and infinities as None (JSON null); dates
    and times as ISO text. Every JSON aishock writes (`--json`, manifests) goes through here."""
    value = value.item() if hasattr(value, "item") else value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return None if isinstance(value, float) and not math.isfinite(value) else value


def clean(value):
    """`value` with every nested number made plain (see `plain`): dicts, lists and tuples."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return plain(value)


def slug(text: str, empty: str = "run") -> str:
    """`text` as a file-name part: lower case, each run of other characters than a-z and 0-9
    one `-`, none at either end (`empty` if nothing is left). Every file name aishock makes
    from a label goes through here."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or empty
