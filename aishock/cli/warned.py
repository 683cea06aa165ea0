"""Warnings about the data reach the user as lines: the engine issues them as data
(engine.data.checks.DataWarning through Python's warnings), the application prints them."""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Iterator

from engine.data.checks import DataWarning


@contextlib.contextmanager
def printed(stream=None) -> Iterator[list[str]]:
    """Within this block, every DataWarning is printed once as `aishock: warning: MESSAGE`
    on stderr (as it happens) and collected in the list yielded; other warnings pass."""
    seen: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("always", DataWarning)
        shown = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if not issubclass(category, DataWarning):
                return shown(message, category, filename, lineno, file, line)
            text = str(message)
            if text not in seen:
                seen.append(text)
                print(f"aishock: warning: {text}", file=stream or sys.stderr, flush=True)
            return None

        warnings.showwarning = show
        yield seen
