"""A deliberately plain reference for the oversold-rebound sweep rule (engine/sweeps/kernel.py).

Written from the rule, not from the kernel's code: plain floats, lists and dicts, one
combination at a time, keeping the whole daily equity curve and every order, so the kernel's
on-the-fly accumulators can be checked against engine.metrics / engine.stats applied to it.

The rule: a name is oversold on day t (t >= 1: the first return is on the window's second day)
if close[t] / close[t-1] - 1 <= -X; it is bought at the close of t+1 with `weight` times the
equity marked at that day's closes before any of that day's trades, and sold at the close H
days after entry. A signal whose buy day falls while the name is held (exit day included) is
ignored. Sells first, then buys in `order`; a buy of value v costs v * (1 + fee), a sell of
value v yields v * (1 - fee); a buy that cash cannot pay is cut to cash / (1 + fee); with no
cash it buys nothing. Open positions are valued at the last close. Equity starts at 1.0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class Run:
    equity: list[float]  # equity at each close, after that day's trades
    invested: list[float]  # value of the positions at each close, after trades
    orders: list[tuple[int, int, str, float, float]] = field(default_factory=list)
    # (day, column, "buy" | "sell", value before fee, fee)
    partial: int = 0  # buys cut because cash was short


def simulate(
    close, x: float, h: int, fee: float = 0.0005, weight: float | None = None, order: list[int] | None = None
) -> Run:
    """One combination over `close` (a days x names array; NaN before listing)."""
    rows = [[float(v) for v in row] for row in close]
    n_names = len(rows[0])
    weight = 1.0 / n_names if weight is None else weight
    order = list(range(n_names)) if order is None else list(order)
    last = [math.nan] * n_names  # last known close, to mark a holding on a day without one

    cash = 1.0
    held: dict[int, list[float]] = {}  # column -> [shares, exit day]
    last_exit = dict.fromkeys(range(n_names), -1)
    run = Run(equity=[], invested=[])

    def value_of_holdings() -> float:
        total = 0.0
        for j in range(n_names):  # column order, like any plain sum over the portfolio
            if j in held:
                total += held[j][0] * last[j]
        return total

    for d, row in enumerate(rows):
        for j, c in enumerate(row):
            if not math.isnan(c):
                last[j] = c
        equity_before = cash + value_of_holdings()

        for j in sorted(held):
            shares, exit_day = held[j]
            if exit_day == d:
                value = shares * last[j]
                cash += value * (1.0 - fee)
                run.orders.append((d, j, "sell", value, value * fee))
                del held[j]

        if d >= 2:
            for j in order:
                before, signal_day = rows[d - 2][j], rows[d - 1][j]
                if math.isnan(before) or math.isnan(signal_day):
                    continue
                if signal_day / before - 1.0 > -x:
                    continue
                if last_exit[j] >= d:  # held, or its exit day is today
                    continue
                price = row[j]
                if not price > 0.0:
                    continue
                value = weight * equity_before
                if value * (1.0 + fee) > cash:
                    value = cash / (1.0 + fee)
                    if value <= 0.0:
                        continue
                    cash = 0.0
                    run.partial += 1
                else:
                    cash -= value * (1.0 + fee)
                held[j] = [value / price, d + h]
                last_exit[j] = d + h
                run.orders.append((d, j, "buy", value, value * fee))

        invested = value_of_holdings()
        run.invested.append(invested)
        run.equity.append(cash + invested)
    return run
