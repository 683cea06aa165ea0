"""Strategies: functions of prices and parameters to target weights, one module per thesis.
Importing this package (the engine does, through the `aishock.strategies` entry point in
pyproject.toml) registers every strategy below with engine.strategy.registry, and the AI-role
baskets they name (baskets.toml, package data) with engine.data.universe."""

from importlib.resources import files

from engine.data.universe import add_baskets

add_baskets(files(__name__) / "baskets.toml")

from strategies import buy_and_hold, inference_pair, inference_rotation, oversold_rebound  # noqa: E402

__all__ = ["buy_and_hold", "inference_pair", "inference_rotation", "oversold_rebound"]
