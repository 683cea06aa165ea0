"""Strategies: functions of prices and parameters to target weights, one module per thesis.
Importing this package registers every strategy below with engine.strategy.registry."""

from strategies import buy_and_hold, inference_pair, inference_rotation, oversold_rebound

__all__ = ["buy_and_hold", "inference_pair", "inference_rotation", "oversold_rebound"]
