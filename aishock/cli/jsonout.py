"""Plain JSON values for `--json` output: never `NaN` or `Infinity` (not JSON), null instead."""

from __future__ import annotations

import json

from engine.outputs import clean, plain

__all__ = ["clean", "dumps", "plain"]


def dumps(value, **kwargs) -> str:
    """JSON text of `value` (cleaned; other objects as text), refusing NaN and infinities."""
    return json.dumps(clean(value), allow_nan=False, default=str, **kwargs)
