"""Events: shock detection shared by strategies and studies (shocks.py), the event study of
a universe around a date (study.py, abnormal.py), point-in-time members and groups (members.py,
groups.py), sector shocks against market-wide sell-offs (selloffs.py), and whether a strategy
generalises across every group shock: every (parameter set x event) in one compiled pass
(runs.py, generalize.py), the statistics across events (crossevent.py) and across a grid of
parameter sets (multiple.py)."""
