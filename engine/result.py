"""The result of a backtest: one object with equity, returns, weights, orders and stats."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine import stats as stats_mod
from engine.simulate import Costs


@dataclass(frozen=True)
class Result:
    """Outputs of `engine.run`. Runs (parameter sets) are columns labelled by the parameters
    that vary between them (a one-run result is labelled by the strategy name).

    equity: dates x runs, currency, valued at each close.
    cash: dates x runs. holdings: dates x (run labels..., ticker), currency.
    orders: one row per fill: run (position), date, ticker, side, shares, price, value, fees.
    stats: runs x metrics (see engine.stats.UNITS for units; `stats_table()` to read).
    params: runs x parameter names, the full parameters of every run.
    """

    strategy: str
    params: pd.DataFrame
    equity: pd.DataFrame
    cash: pd.DataFrame
    holdings: pd.DataFrame
    orders: pd.DataFrame
    stats: pd.DataFrame
    costs: Costs
    risk_free: float
    periods: int

    @property
    def returns(self) -> pd.DataFrame:
        """Daily simple returns (fraction), the first day against the initial cash."""
        return stats_mod.daily_returns(self.equity, self.costs.init_cash)

    def _run_of_holding(self) -> np.ndarray:
        """Position in `equity.columns` of each `holdings` column's run."""
        return self.equity.columns.get_indexer(self.holdings.columns.droplevel(-1))

    @property
    def weights(self) -> pd.DataFrame:
        """Realised end-of-day weights: holdings / equity, dates x (run..., ticker)."""
        eq = self.equity.to_numpy()[:, self._run_of_holding()]
        return pd.DataFrame(
            self.holdings.to_numpy() / eq, index=self.holdings.index, columns=self.holdings.columns
        )

    def stats_table(self) -> pd.DataFrame:
        """The stats with unit-labelled rows, percentages in percent, one column per run."""
        return stats_mod.labelled(self.stats)

    def __len__(self) -> int:
        return self.equity.shape[1]

    def __getitem__(self, i: int) -> Result:
        """The result of the i-th run alone."""
        if not -len(self) <= i < len(self):
            raise IndexError(f"run {i} out of range: this result has {len(self)} run(s)")
        i %= len(self)
        return Result(
            strategy=self.strategy,
            params=self.params.iloc[[i]],
            equity=self.equity.iloc[:, [i]],
            cash=self.cash.iloc[:, [i]],
            holdings=self.holdings.loc[:, self._run_of_holding() == i],
            orders=self.orders[self.orders["run"] == i].reset_index(drop=True),
            stats=self.stats.iloc[[i]],
            costs=self.costs,
            risk_free=self.risk_free,
            periods=self.periods,
        )
