"""Figures from returns and runs: metrics over returns (metrics.py), the per-run stats table
(run_stats.py), bootstrap intervals (intervals.py) and overfitting guards (overfit.py)."""
