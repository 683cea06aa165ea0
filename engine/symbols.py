"""Ticker symbols, spelled one way everywhere: as yfinance spells them."""

from __future__ import annotations

from engine.errors import AishockError


def normalise_symbol(symbol: str) -> str:
    """A symbol as yfinance spells it: upper case, share classes with '-' (BRK.B -> BRK-B)."""
    s = str(symbol).strip().upper().replace(".", "-").replace("/", "-")
    if not s or not all(c.isalnum() or c in "-^=" for c in s):
        raise AishockError(f"'{symbol}' is not a ticker symbol")
    return s
