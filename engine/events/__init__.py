"""The event study: what a universe did around a date (study.py), its abnormal returns and
their significance (abnormal.py), point-in-time members (members.py), and the split of big
down days into sector-specific shocks and market-wide sell-offs (selloffs.py)."""
