"""Target weights -> a simulated multi-asset portfolio, on vectorbt.

The rules, in the order they apply (the reference simulator in the tests is written from
this text, not from this code):
1. A target row dated t is a decision taken after day t's close (or on a non-trading day
   t). It is executed on the next bar after t, at the fill price: with `Costs.fill ==
   "open"` (default) that bar's open where the ticker has opens, else its close; with
   `fill == "close"` that bar's close.
   So a signal computed from day t's close never trades at day t's close.
2. NaN means "no order for this ticker" (its shares stay as they are); 0 means "hold none".
   Weights are fractions of equity, long only, a row's numbers summing to at most 1.
3. Before the first simulated day, each ticker's latest target decided earlier (if any) is
   carried into the first bar, so a strategy that chose its holdings before `start` holds
   them from `start` on.
4. At an execution bar, equity V = cash + sum(shares_i * fill_price_i) (close-only tickers
   at their close; a holding in a ticker with no price at that bar counts at its last
   close). Each ticker's order is shares to reach w_i * V / fill_price_i. Within a bar,
   orders execute in ascending order of their estimated value w_i * V - shares_i *
   fill_price_i (V and the estimates taken once, before the bar's first order, at the
   unslipped fill prices; ties in column order): the biggest sell first, then the smaller
   sells, then the buys from the smallest to the biggest, so when cash runs short it is the
   bar's biggest buy that is reduced (vectorbt's call_seq="auto").
   A buy fills at fill_price * (1 + slippage), a sell at
   fill_price * (1 - slippage); each order pays `fees` times its traded value. A buy that
   needs more cash than is left is reduced to what the cash pays for (no leverage).
   A ticker with no price at that bar (not yet listed) is not traded.
5. Every day is valued at the close: equity = cash + sum(shares_i * close_i).
All runs (parameter sets) are columns of one vectorbt simulation, each with its own cash.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.data.panel import Prices
from engine.errors import AishockError


@dataclass(frozen=True)
class Costs:
    """Trading frictions and capital.

    fees: fraction of each order's traded value paid as commission (0.0005 = 5 bp).
    slippage: fraction by which fills are worse than the fill price (0.0005 = 5 bp).
    init_cash: starting equity in currency units.
    fill: "open" fills at the next bar's open (close for close-only tickers), "close" at the
        next bar's close.
    """

    fees: float = 0.0005
    slippage: float = 0.0005
    init_cash: float = 100_000.0
    fill: str = "open"

    def __post_init__(self):
        if self.fill not in ("open", "close"):
            raise AishockError(f"fill must be 'open' or 'close', got '{self.fill}'")
        for name in ("fees", "slippage"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 <= value < 0.5):
                raise AishockError(f"{name} must be a fraction between 0 and 0.5, got {value}")
        if not self.init_cash > 0:
            raise AishockError(f"init_cash must be positive, got {self.init_cash}")


@dataclass(frozen=True)
class Simulation:
    """Raw daily outputs; columns of `equity`/`cash` are runs, of `shares` (run, ticker)."""

    equity: pd.DataFrame
    cash: pd.DataFrame
    shares: pd.DataFrame
    holdings: pd.DataFrame
    orders: pd.DataFrame


def check_targets(targets: pd.DataFrame, tickers: list[str]) -> None:
    """Raise AishockError unless `targets` is a valid weight schedule over `tickers`."""
    unknown = sorted(set(targets.columns.get_level_values(-1)) - set(tickers))
    if unknown:
        raise AishockError(f"weights name tickers with no prices: {', '.join(unknown[:5])}")
    values = targets.to_numpy(dtype=float)
    if np.isinf(values).any():
        raise AishockError("weights contain infinite values")
    if (values < -1e-12).any():
        raise AishockError("weights must be >= 0 (long only)")
    gross = targets.T.groupby(level=0).sum().T if targets.columns.nlevels > 1 else targets.sum(axis=1)
    if (np.asarray(gross) > 1 + 1e-9).any():
        raise AishockError("weights of one day sum to more than 1 (leverage is not supported)")


def execution_schedule(targets: pd.DataFrame, index: pd.DatetimeIndex, start) -> pd.DataFrame:
    """Orders by execution bar: targets moved one bar later, and each ticker's last decision
    before `start` carried into the first bar of the window."""
    bar = index.searchsorted(targets.index, side="right")  # the first bar after each decision
    keep = bar < len(index)
    orders = targets[keep].groupby(index[bar[keep]]).last().reindex(index)
    first = index.searchsorted(pd.Timestamp(start)) if start is not None else 0
    if first > 0:
        carried = orders.iloc[: first + 1].ffill().iloc[-1]
        orders = orders.iloc[first:].copy()
        orders.iloc[0] = carried
    return orders


def simulate(prices: Prices, targets: pd.DataFrame, costs: Costs = Costs(), start=None) -> Simulation:
    """Simulate `targets` (dates x (run, ticker) weights) on `prices` from `start`.

    `targets` columns are a 2-level MultiIndex (run label, ticker); every run is simulated
    with its own cash in the same vectorbt call.
    """
    import vectorbt as vbt

    if targets.columns.nlevels != 2:
        raise AishockError("targets need (run, ticker) columns")
    check_targets(targets, prices.tickers)
    orders = execution_schedule(targets, prices.index, start)
    index = orders.index
    if len(index) == 0:
        raise AishockError("no trading days in the window")
    tickers = targets.columns.get_level_values(1)
    close = prices.close.reindex(index=index)[tickers]
    fill = (prices.fill_price() if costs.fill == "open" else prices.close).reindex(index=index)[tickers]
    close.columns = fill.columns = orders.columns
    # sizing values a holding without a price at a bar (stopped trading) at its last close
    val_price = fill.where(fill.notna(), close.ffill())
    # valuation before a ticker's first bar is irrelevant (no shares); fill so vectorbt
    # never multiplies zero shares by NaN
    close = close.ffill().bfill()
    pf = vbt.Portfolio.from_orders(
        close=close,
        price=fill,
        val_price=val_price,
        size=orders,
        size_type="targetpercent",
        direction="longonly",
        fees=costs.fees,
        slippage=costs.slippage,
        init_cash=costs.init_cash,
        cash_sharing=True,
        group_by=0,
        call_seq="auto",
        freq="1D",
    )
    runs = pd.Index(orders.columns.get_level_values(0).unique(), name="run")
    equity = pd.DataFrame(pf.value()).set_axis(runs, axis=1)
    cash = pd.DataFrame(pf.cash()).set_axis(runs, axis=1)
    shares = pd.DataFrame(pf.assets()).set_axis(orders.columns, axis=1)
    holdings = shares * close
    rec = pf.orders.records
    cols = orders.columns
    order_frame = (
        pd.DataFrame(
            {
                "run": cols.get_level_values(0)[rec["col"]],
                "date": index[rec["idx"]],
                "ticker": cols.get_level_values(1)[rec["col"]],
                "side": np.where(rec["side"] == 0, "buy", "sell"),
                "shares": rec["size"],
                "price": rec["price"],
                "value": rec["size"] * rec["price"],
                "fees": rec["fees"],
            }
        )
        .sort_values(["run", "date"], kind="stable")
        .reset_index(drop=True)
    )
    return Simulation(equity=equity, cash=cash, shares=shares, holdings=holdings, orders=order_frame)
