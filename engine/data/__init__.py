"""Data in: price CSVs and yfinance downloads become one aligned panel of wide frames."""

from engine.data.panel import FIELDS, Prices, load_prices

__all__ = ["FIELDS", "Prices", "load_prices"]
