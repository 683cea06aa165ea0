"""Figures from returns and runs: metrics over returns (metrics.py), the per-run stats table
(run_stats.py), bootstrap intervals (intervals.py), the stationary bootstrap as arrays
(bootstrap.py) and overfitting guards (overfit.py, spa.py)."""
