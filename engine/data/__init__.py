"""Data in: price CSVs and yfinance downloads become one aligned panel of wide frames (panel.py),
checked (checks.py) and cached (store.py, cache.py); universes and point-in-time membership
(universe.py, membership.py); arrays derived from a panel, kept while it is in use (derived.py)."""

from engine.data.panel import FIELDS, Prices, load_prices

__all__ = ["FIELDS", "Prices", "load_prices"]
