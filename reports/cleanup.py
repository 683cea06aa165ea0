"""The report sets of a reports folder, and removing old ones (`aishock clean`).

Only what aishock wrote is ever a candidate, recognised by its name and its manifest:

- a report set (reports.artifacts): a folder `<name>-<key>` holding its manifest
  `<name>-<key>.manifest.json`, whose key (reports.manifest.key of the manifest's content) is
  the folder's, and nothing but regular files named `<name>-<key>.*`;
- a keyed page as earlier versions wrote them at the top of the folder: a file
  `<name>-<key>.manifest.json` whose key is its own, with its `<name>-<key>.html` and
  `<name>-<key>.parquet` when present.

Anything else is never touched: the index page, the shared plotly.js (pages of later sets
need it), pages without a manifest, a set holding a file aishock did not put there, a
hidden folder of a write in progress, and whatever else lies in the folder.

A set's age is the time its manifest was written (a command that finds its set already
there does not rewrite it). The sets the index page (`index.html`, the demo's) links to are
kept while the index is kept; the index itself (with its manifest) is removed only when asked
(`include_index`) and old enough, and then what it linked to goes by age like any other set.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from engine.errors import AishockError
from reports.artifacts import KEY, MANIFEST, SET_NAME
from reports.index_page import INDEX
from reports.manifest import key as manifest_key
from reports.manifest import manifest_path

KEYED = re.compile(rf"(?P<name>{SET_NAME.pattern})-(?P<key>{KEY.pattern})")
PAGE_SUFFIXES = (".html", ".parquet")  # what a keyed page of earlier versions had beside its manifest
HREF = re.compile(r'href="([^"]*)"')
DAY = 86_400.0


@dataclass(frozen=True)
class Entry:
    """One thing `aishock clean` may remove: a report set (`folder`), a keyed page with its
    manifest, or the index page with its manifest. `name` is the set's folder name or the
    page's stem; `paths` what removing it removes; `size` their bytes; `written` the time
    (epoch seconds) its manifest was written; `kind` the manifest's kind (run, event, ...)."""

    name: str
    paths: tuple[Path, ...]
    size: int
    written: float
    kind: str
    folder: bool

    def shown(self, root: Path) -> str:
        """How the entry is named to the user: its path inside `root` (a folder with a '/')."""
        first = self.paths[0].relative_to(root).as_posix()
        return f"{first}/" if self.folder else first


def _own_manifest(path: Path, key: str) -> str | None:
    """The kind of the manifest file `path` if it is aishock's for `key` (readable JSON whose
    content hashes to `key`), else None."""
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(info, dict) or not isinstance(info.get("kind"), str):
        return None
    return info["kind"] if manifest_key(info) == key else None


def _report_set(folder: Path) -> Entry | None:
    """`folder` as a report set (module docstring), or None."""
    named = KEYED.fullmatch(folder.name)
    if not named or folder.is_symlink() or not folder.is_dir():
        return None
    files = list(folder.iterdir())
    if not all(f.name.startswith(f"{folder.name}.") and f.is_file() and not f.is_symlink() for f in files):
        return None
    manifest = folder / f"{folder.name}{MANIFEST}"
    kind = manifest.is_file() and _own_manifest(manifest, named["key"])
    if not kind:
        return None
    size = sum(f.stat().st_size for f in files)
    return Entry(folder.name, (folder,), size, manifest.stat().st_mtime, kind, True)


def _keyed_page(manifest: Path) -> Entry | None:
    """The keyed page whose manifest is `manifest`, at the top of the folder (earlier
    versions), or None."""
    stem = manifest.name.removesuffix(MANIFEST)
    named = KEYED.fullmatch(stem)
    if not named or manifest.is_symlink() or not manifest.is_file():
        return None
    kind = _own_manifest(manifest, named["key"])
    if not kind:
        return None
    pages = [manifest.with_name(f"{stem}{s}") for s in PAGE_SUFFIXES]
    paths = [p for p in pages if p.is_file() and not p.is_symlink()] + [manifest]
    size = sum(p.stat().st_size for p in paths)
    return Entry(stem, tuple(paths), size, manifest.stat().st_mtime, kind, False)


def _index(root: Path) -> Entry | None:
    """The index page with its manifest, when both are there (and the manifest is JSON with
    a kind: aishock's), or None."""
    page = root / INDEX
    manifest = manifest_path(page)
    if not (page.is_file() and manifest.is_file()) or page.is_symlink() or manifest.is_symlink():
        return None
    try:
        kind = json.loads(manifest.read_text(encoding="utf-8")).get("kind")
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return None
    if not isinstance(kind, str):
        return None
    size = page.stat().st_size + manifest.stat().st_size
    return Entry(page.stem, (page, manifest), size, manifest.stat().st_mtime, kind, False)


def entries(root: Path) -> list[Entry]:
    """Every report set and keyed page in the reports folder `root`, by name."""
    found = []
    for path in sorted(Path(root).iterdir()):
        if path.name.startswith("."):
            continue  # a write in progress, or not ours
        entry = _report_set(path) if path.is_dir() else None
        if entry is None and path.name.endswith(MANIFEST):
            entry = _keyed_page(path)
        if entry is not None:
            found.append(entry)
    return found


def linked(page: Path) -> set[str]:
    """The names (a set's folder, a page's stem) that the page `page` links to inside its
    own folder: the first part of each relative href."""
    try:
        text = page.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    names = set()
    for href in HREF.findall(text):
        target = html.unescape(href).split("#")[0].split("?")[0]
        if not target or ":" in target or target.startswith(("/", "..")):
            continue  # elsewhere: a URL, an absolute path, outside the folder
        parts = PurePosixPath(target).parts
        names.add(parts[0] if len(parts) > 1 else PurePosixPath(parts[0]).stem)
    return names


@dataclass(frozen=True)
class Plan:
    """What `aishock clean` removes (`remove`, the index first when it goes) and what it keeps
    because the index links to it (`linked`)."""

    remove: list[Entry]
    linked: list[Entry]

    @property
    def size(self) -> int:
        return sum(e.size for e in self.remove)


def plan(root: Path, older_than: float = 0.0, include_index: bool = False, now: float | None = None) -> Plan:
    """What to remove from the reports folder `root` (module docstring): the report sets
    and keyed pages written at least `older_than` days before `now` (default: the current
    time), except those the index links to while the index stays; the index too when
    `include_index` and it is that old."""
    root = Path(root)
    now = time.time() if now is None else now
    old = lambda e: now - e.written >= older_than * DAY  # noqa: E731
    index = _index(root)
    goes = index is not None and include_index and old(index)
    protected = set() if goes else linked(root / INDEX)
    found = entries(root)
    keep = [e for e in found if e.name in protected]
    remove = [e for e in found if e.name not in protected and old(e)]
    return Plan(([index] if goes else []) + remove, keep)


def remove(root: Path, entry: Entry) -> None:
    """Remove `entry`: a set's folder is first renamed to a hidden name in `root` (so no one
    sees half a set), then deleted; a page's files are unlinked, its manifest last. One line
    (AishockError) when the system refuses."""
    try:
        if entry.folder:
            aside = Path(tempfile.mkdtemp(dir=root, prefix=f".{entry.name}.", suffix=".removing"))
            os.rename(entry.paths[0], aside / entry.name)
            shutil.rmtree(aside)
        else:
            for path in entry.paths:
                path.unlink(missing_ok=True)
    except OSError as e:
        raise AishockError(
            f"cannot remove {entry.shown(root)} from {root}: {e.strerror or type(e).__name__}; "
            "check the folder's permissions"
        ) from None
