"""The `aishock` command. Each subcommand lives in its own module with `add(subparsers)`;
bad input ends as one line on stderr and exit status 2, never a traceback."""

from __future__ import annotations

import argparse
import sys

from engine.cli import demo, event, generalize, listing, run, shocks, sweep
from engine.config import load_config
from engine.errors import AishockError

COMMANDS = (listing, run, demo, sweep, event, shocks, generalize)


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
    sub = top.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in COMMANDS:
        command.add(sub)
    return top


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
