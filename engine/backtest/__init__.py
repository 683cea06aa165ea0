"""A backtest: a strategy and its parameter sets over a window (run.py) into one labelled
Result (result.py: equity, holdings, orders, stats, and the optional vectorbt export), and
its attribution by role and Brinson-Fachler split (attribution.py)."""
