"""`aishock clean`: remove old report sets (and keyed pages with their manifests) from the
reports folder; what is removed and what never is: reports.cleanup."""

from __future__ import annotations

import math
import time
from pathlib import Path

from aishock.cli.execution import with_examples
from engine.config import load_config
from engine.errors import AishockError


def add(sub) -> None:
    p = sub.add_parser(
        "clean",
        help="remove old report sets from the reports folder (never the sets index.html links to, "
        "unless --include-index)",
        description="Remove the report sets (and keyed pages with their manifests) aishock wrote\n"
        "into the reports folder (AISHOCK_REPORTS, default reports/out). Only a folder or\n"
        "page named NAME-KEY with a manifest whose content hashes to KEY is removed;\n"
        "nothing else, not even a file of yours inside such a folder (the set is then kept).\n"
        "The sets index.html links to are kept as long as the index is. A set's age is\n"
        "the time it was written. Prints what it removes and the space freed.",
        **with_examples("aishock clean --older-than 30 --dry-run", "aishock clean --older-than 30"),
    )
    p.add_argument(
        "--older-than",
        type=float,
        default=0.0,
        metavar="DAYS",
        help="only sets written at least DAYS days ago (default 0: every set not linked from the index)",
    )
    p.add_argument(
        "--include-index",
        action="store_true",
        help="also remove index.html and its manifest when they are that old; then the sets it "
        "linked to go by age like any other",
    )
    p.add_argument("--dry-run", action="store_true", help="print what would be removed; remove nothing")
    p.set_defaults(handler=handle)


def size(n: int) -> str:
    """A size in bytes as people read it (decimal units: 1 MB = 1,000,000 bytes)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def _plural(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def handle(args) -> int:
    from reports import cleanup

    if not (math.isfinite(args.older_than) and args.older_than >= 0):
        raise AishockError(f"--older-than must be a number of days >= 0, got {args.older_than:g}")
    root = Path(load_config(args.data).reports_dir)
    if root.exists() and not root.is_dir():
        raise AishockError(
            f"the reports folder {root} is a file, not a folder; set AISHOCK_REPORTS to a folder"
        )
    if not root.is_dir():
        print(f"nothing to clean: {root} does not exist")
        return 0
    now = time.time()
    todo = cleanup.plan(root, args.older_than, args.include_index, now)
    verb = "would remove" if args.dry_run else "removed"
    for entry in todo.remove:
        if not args.dry_run:
            cleanup.remove(root, entry)
        day = time.strftime("%Y-%m-%d", time.localtime(entry.written))
        print(f"{verb} {entry.shown(root)} ({entry.kind}, written {day}, {size(entry.size)})")
    if todo.linked:
        print(
            f"kept {_plural(len(todo.linked), 'report set')} {cleanup.INDEX} links to "
            "(--include-index removes them with the index)"
        )
    age = f" written {args.older_than:g} or more days ago" if args.older_than else ""
    if not todo.remove:
        print(f"nothing to remove in {root}: no report set{age} that the index does not link to")
        return 0
    freed = "would free" if args.dry_run else "freed"
    tail = "; nothing removed (--dry-run)" if args.dry_run else ""
    print(f"{freed} {size(todo.size)} in {root} ({_plural(len(todo.remove), 'item')}){tail}")
    return 0
