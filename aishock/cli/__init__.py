"""The `aishock` command. Each subcommand lives in its own module with `add(subparsers)`.

Every failure is one line on stderr, never a traceback:
- bad input (AishockError), and what the machine refuses (a full disk, a file name too long,
  no permission, no memory): `aishock: error: ...` saying what to do, exit status 2;
- anything else is a bug: `aishock: error: internal error in COMMAND: TYPE: MESSAGE; traceback
  saved to PATH; please report it`, exit status 1, the traceback in a new file of the
  temporary folder (tempfile.gettempdir()).
Python warnings raised while a command runs (pandas, numpy, QuantStats, ...) are printed as
`aishock: warning: MESSAGE`, once each, never in Python's `file:line: Category:` form.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import sys
import tempfile
import traceback
import warnings
from pathlib import Path

from aishock.cli import capacity, clean, demo, event, generalize, listing, run, shocks, sweep
from engine.config import CONFIG_ENV, load_config
from engine.errors import AishockError

COMMANDS = (listing, run, demo, sweep, capacity, event, shocks, generalize, clean)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, status 2, like AishockError
        raise AishockError(f"{message} (see '{self.prog} --help')")


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="aishock", description="Backtest AI-infrastructure theses across market shocks.")
    top.add_argument(
        "--data",
        metavar="DIR",
        help="price folder(s) to use instead of the configured ones (os.pathsep-separated)",
    )
    top.add_argument(
        "--config",
        metavar="FILE",
        help="the pyproject.toml whose [tool.aishock] to use (default: the nearest one from the "
        "working directory; also AISHOCK_CONFIG)",
    )
    sub = top.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in COMMANDS:
        command.add(sub)
    return top


def main(argv: list[str] | None = None) -> int:
    command = "aishock"
    try:
        with warnings_as_lines():
            args = parser().parse_args(argv)
            command = args.command
            if args.config:  # for this process and the ones it starts (Dask workers)
                os.environ[CONFIG_ENV] = str(Path(args.config).expanduser().resolve())
            load_config(args.data)  # a bad --data folder fails here, whatever the command
            return args.handler(args) or 0
    except AishockError as e:
        print(f"aishock: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("aishock: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed: not an error
        sys.stderr.close()
        return 0
    except MemoryError:
        print(
            f"aishock: error: {command} ran out of memory; ask for less (a smaller grid, fewer names, "
            "a shorter window) or use a machine with more memory",
            file=sys.stderr,
        )
        return 2
    except Exception as e:  # the last resort: one line, never a traceback
        line = machine_refusal(e)
        if line:
            print(f"aishock: error: {line}", file=sys.stderr)
            return 2
        print(f"aishock: error: {internal_error(command, e, argv)}", file=sys.stderr)
        return 1


def _short(text, limit: int = 80) -> str:
    text = str(text)
    return text if len(text) <= limit else f"{text[: limit - 3]}... ({len(text)} characters)"


def machine_refusal(e: BaseException) -> str | None:
    """The one line for an OSError that is the machine refusing, not a bug: a full disk or
    quota, a file name too long, no permission or a read-only folder; None otherwise."""
    if not isinstance(e, OSError):
        return None
    name = f" ({_short(e.filename)})" if e.filename else ""
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"no space left on the device{name}; free some space, or write elsewhere "
            "(AISHOCK_REPORTS, --csv, --out), and run again"
        )
    if e.errno == errno.ENAMETOOLONG:
        return (
            f"a file name is too long{name}; use a shorter label or path (a basket or a "
            "membership CSV instead of a long list of tickers)"
        )
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (
            f"{e.strerror or 'permission denied'}{name}; choose a place you can write, or fix its permissions"
        )
    return None


def internal_error(command: str, e: BaseException, argv) -> str:
    """The one line for a bug, after saving its traceback to a new file (see the module
    docstring)."""
    first = (str(e).strip().splitlines() or [""])[0]
    what = f"{type(e).__name__}: {_short(first, 200)}" if first else type(e).__name__
    text = f"aishock {' '.join(map(str, sys.argv[1:] if argv is None else argv))}\n\n" + "".join(
        traceback.format_exception(e)
    )
    try:
        fd, path = tempfile.mkstemp(prefix="aishock-traceback-", suffix=".txt")
        with open(fd, "w", encoding="utf-8") as f:
            f.write(text)
        saved = f"traceback saved to {path}"
    except OSError as err:
        saved = f"the traceback could not be saved ({err.strerror or err})"
    return f"internal error in {command}: {what}; {saved}; please report it"


@contextlib.contextmanager
def warnings_as_lines(stream=None):
    """Within this block, every Python warning shown is printed as `aishock: warning:
    MESSAGE` (on one line; each message once) on stderr. The filters stay as they are
    (what Python hides stays hidden); engine.data.printed() inside it still collects
    the data warnings."""
    seen: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split()) or category.__name__
        if text not in seen:
            seen.add(text)
            print(f"aishock: warning: {text}", file=stream or sys.stderr, flush=True)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


if __name__ == "__main__":
    sys.exit(main())
