"""Stats for the terminal: every figure rounded to what it can mean and carrying its unit
(engine.analytics.run_stats.UNITS), so `run` and `sweep` print one figure one way. The
calculations stay in the engine; this module only formats them."""

from __future__ import annotations

import math

import pandas as pd

from engine.analytics import run_stats

COUNTS = {"days", "n_trades", "partial_fills", "longest_wait"}
SIGNED = {"total_return", "cagr", "max_drawdown", "alpha"}  # returns carry a sign; volatility, exposure not
CURRENCY = {"final_equity", "fees_paid", "slippage_paid", "impact_paid", "interest"}
HEADERS = {name: label.split(" [")[0] for name, label in run_stats.LABELS.items()}


def figure(metric: str, value) -> str:
    """One value of `metric` as text: fractions in percent with 2 decimals (returns signed),
    ratios with 3 decimals, turnover as a multiple of equity, counts whole, currency with
    thousands separators and cents, dates as ISO; "n/a" for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if metric in run_stats.PERCENT:
        sign = "+" if metric in SIGNED else ""
        return f"{float(value) * 100:{sign}.2f}%"
    if metric in COUNTS:
        return f"{round(float(value)):,}"
    if metric in CURRENCY:
        return f"{float(value):,.2f}"
    if metric in ("turnover", "up_capture", "down_capture"):
        return f"{float(value):.2f}x"
    if metric == "wiped_out":
        return "yes" if bool(value) else "no"
    if isinstance(value, float):
        return f"{value:.3f}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def value_text(value) -> str:
    """A parameter's value as text: whole floats without ".0" (3.0 -> 3)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def rows(table: pd.DataFrame) -> pd.DataFrame:
    """A stats table (one row per run; parameter columns first, kept as values) as text, its
    metric columns headed by their names without the unit (the cells carry it)."""
    out = pd.DataFrame(index=table.index)
    for col in table.columns:
        if col in run_stats.UNITS:
            out[HEADERS.get(col, col)] = [figure(col, v) for v in table[col]]
        else:
            out[col] = [value_text(v) for v in table[col]]
    return out


def columns(stats: pd.DataFrame) -> pd.DataFrame:
    """A stats table (one row per run) with metrics as rows, labelled, as text (what `aishock
    run` prints)."""
    shown = pd.DataFrame({r: [figure(m, stats.at[r, m]) for m in stats.columns] for r in stats.index})
    shown.index = [HEADERS.get(m, m) for m in stats.columns]
    return shown


def trade_lines(summary: pd.Series) -> str:
    """A run's trade summary (engine.backtest.trades.summary, one row) as two lines of text:
    counted by trade, not by day."""
    if not summary["trades"]:
        return f"\nTrades: none closed ({int(summary['open'])} open)"
    pf = summary["profit_factor"]
    return (
        f"\nTrades: {int(summary['trades'])} closed, {int(summary['open'])} open; "
        f"win rate {summary['win_rate'] * 100:.1f}% of trades, profit factor "
        f"{'inf' if math.isinf(pf) else f'{pf:.2f}'}, expectancy {summary['expectancy']:,.2f} per trade\n"
        f"        median hold {summary['median_bars']:.0f} bars (longest {summary['longest_bars']:.0f}); "
        f"best {summary['best'] * 100:+.2f}%, worst {summary['worst'] * 100:+.2f}%"
    )
