"""Plain JSON values for `--json` output."""

from __future__ import annotations

import math


def plain(value):
    """A numpy/pandas scalar as a Python one; NaN as None (JSON null); dates as ISO text."""
    value = value.item() if hasattr(value, "item") else value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return None if isinstance(value, float) and math.isnan(value) else value
