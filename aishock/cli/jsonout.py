"""Plain JSON values for `--json` output: never `NaN` or `Infinity` (not JSON), null instead."""

from __future__ import annotations

import json
import math


def plain(value):
    """A numpy/pandas scalar as a Python one; NaN and infinities as None (JSON null); dates as
    ISO text."""
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


def dumps(value, **kwargs) -> str:
    """JSON text of `value` (cleaned; other objects as text), refusing NaN and infinities."""
    return json.dumps(clean(value), allow_nan=False, default=str, **kwargs)
