"""The run page, beside a run's tearsheet: what QuantStats cannot show from returns alone.
Its headline figures with their units (benchmark-relative ones included), the trade summary
per AI role (counted by trade), the equity with its entries and exits, the weights by role,
the exposure by side, the MAE/MFE scatter and the sortable trade table, in one offline
HTML file (plotly.js as reports.figures.plotly_js decides). Numbers are formatted here, not
computed: everything comes from a one-run engine.backtest.result.Result."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from engine.analytics import run_stats
from engine.backtest import trades as trades_mod
from engine.data.universe import role_of
from engine.outputs import write_atomic
from reports import figures, run_charts
from reports.index_page import STYLE
from reports.table import SORT_SCRIPT, SORT_STYLE, table_html

TRADE_COLUMNS = {
    "ticker": ("Ticker", "text"),
    "role": ("Role", "text"),
    "side": ("Side", "text"),
    "status": ("Status", "text"),
    "entry_date": ("Entry", "date"),
    "exit_date": ("Exit", "date"),
    "shares": ("Shares", "num"),
    "entry_price": ("Entry price", "money"),
    "exit_price": ("Exit price", "money"),
    "pnl": ("P&L [$]", "money"),
    "return": ("Return", "pct"),
    "bars": ("Bars", "count"),
    "mae": ("MAE", "pct"),
    "mfe": ("MFE", "pct"),
}
SUMMARY_COLUMNS = {
    "trades": ("Closed", "count"),
    "open": ("Open", "count"),
    "win_rate": ("Win rate", "pct"),
    "profit_factor": ("Profit factor", "num"),
    "avg_win": ("Avg win [$]", "money"),
    "avg_loss": ("Avg loss [$]", "money"),
    "expectancy": ("Expectancy [$]", "money"),
    "median_bars": ("Median bars", "count"),
    "longest_bars": ("Longest", "count"),
    "best": ("Best", "pct"),
    "worst": ("Worst", "pct"),
}
HEADLINE = (
    "total_return",
    "cagr",
    "sharpe",
    "max_drawdown",
    "exposure",
    "turnover",
    "beta",
    "alpha",
    "information_ratio",
    "up_capture",
    "down_capture",
)


def _stats_table(stats: pd.Series) -> str:
    shown = [m for m in HEADLINE if m in stats.index]
    columns = {m: (run_stats.LABELS.get(m, m), "pct" if m in run_stats.PERCENT else "num") for m in shown}
    bench = (
        f" Relative figures against {html.escape(str(stats['benchmark']))}." if "benchmark" in stats else ""
    )
    return (
        f"<div class=wide>{table_html(stats.to_frame().T, columns)}</div>"
        f"<p class=sub>Percentages are of equity; exposure is the mean gross exposure over equity; "
        f"alpha is annualised as the daily OLS intercept x trading days.{bench}</p>"
    )


def run_page(result, title: str, plotly: bool | str = True) -> str:
    """The page of the one-run `result` as HTML text; `plotly` as reports.figures.div's `first`."""
    trades = result.trades
    stats = result.stats.iloc[0]
    equity = result.equity.iloc[:, 0]
    weights = result.weights.droplevel(list(range(result.weights.columns.nlevels - 1)), axis=1)
    roles = role_of()
    summary = trades_mod.by_role(trades).rename(index={"all": "all roles"}).rename_axis("Role").reset_index()
    charts = [
        ("run-equity", run_charts.equity_figure(equity, trades, "Equity, with each day's entries and exits")),
        ("run-weights", run_charts.weights_figure(weights, roles, "Weights by AI role (end of day)")),
        ("run-exposure", run_charts.exposure_figure(result.exposure, "Exposure by side")),
        ("run-excursions", run_charts.excursion_figure(trades, "Each closed trade: MAE against MFE")),
    ]
    body = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p class=sub>{stats['start']} → {stats['end']}, {int(stats['days'])} trading days; "
        f"trades matched FIFO per ticker (engine/backtest/trades.py).</p>",
        _stats_table(stats),
        "<h2>Trades, by trade (not by day)</h2>",
        table_html(summary, {"Role": ("Role", "text"), **SUMMARY_COLUMNS}),
    ]
    for i, (div_id, fig) in enumerate(charts):
        body.append(figures.div(fig, div_id, plotly if i == 0 else False))
    body += [
        f"<h2>Every trade ({len(trades)})</h2>",
        "<p class=sub>Click a column head to sort. MAE and MFE: the worst and best move against the "
        "entry price while the trade was open (closes, and the exit price).</p>",
        f"<div class=rows>{table_html(trades, TRADE_COLUMNS, sortable=True, table_id='trades')}</div>",
        SORT_SCRIPT,
    ]
    return (
        f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<style>{STYLE}{SORT_STYLE}</style></head><body>{''.join(body)}</body></html>\n"
    )


def write_run_page(path: Path, result, title: str, shared: Path | None = None) -> Path:
    """Write the run page of `result` to `path` (whole file or nothing); plotly.js from the
    reports folder `shared` when the page is inside it (reports.figures.plotly_js)."""
    path = Path(path)
    text = run_page(result, title, figures.plotly_js(path, shared))
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
