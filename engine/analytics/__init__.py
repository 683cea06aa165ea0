"""Figures from returns and runs: metrics over returns (metrics.py), the per-run stats table
(run_stats.py), bootstrap intervals, overfitting guards (overfit.py), attribution by role."""
