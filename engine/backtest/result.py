"""The result of a backtest: one object with equity, returns, weights, orders and stats."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine import plugins
from engine.analytics import run_stats as stats_mod
from engine.backtest import exposure as exposure_mod
from engine.backtest import trades as trades_mod
from engine.data.panel import Prices
from engine.errors import AishockError
from engine.sim.simulate import Costs, Market
from engine.strategy.schedule import Schedule


@dataclass(frozen=True)
class Result:
    """Outputs of `engine.run`. Runs (parameter sets) are columns labelled by the parameters
    that vary between them (a one-run result is labelled by the strategy name).

    equity: dates x runs, currency, valued at each close.
    cash: dates x runs. holdings: dates x (run labels..., ticker), currency.
    orders: one row per fill: run (position), date, ticker, side, shares, price, value, fees,
        impact (currency, rule 9 of engine.sim.simulate).
    stats: runs x metrics (see engine.analytics.run_stats.UNITS for units; `stats_table()` to read).
    params: runs x parameter names, the full parameters of every run.
    schedule, prices: the target weights and the price panel the runs were simulated on.
    uncapped: close-only tickers filled without the volume cap and impact (rule 9 of
        engine.sim.simulate, Costs.no_volume == "ok").
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
    schedule: Schedule | None = field(default=None, repr=False)
    prices: Prices | None = field(default=None, repr=False)
    uncapped: tuple[str, ...] = ()

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

    @functools.cached_property
    def trades(self) -> pd.DataFrame:
        """The round trips of every run, one row per trade (engine.backtest.trades: FIFO per
        ticker, a short a trade like a long, a partial close splitting the trade, open trades
        marked open at the last close), with each trade's AI role."""
        from engine.data.universe import role_of

        if self.prices is None:
            raise AishockError("this result carries no prices to mark its trades with")
        tickers = list(self.holdings.columns.get_level_values(-1).unique())
        close = self.prices.close[tickers].ffill().reindex(self.equity.index)
        return trades_mod.round_trips(self.orders, close, self.equity.columns, role_of())

    def trade_summary(self, by: str | list[str] | None = "run") -> pd.DataFrame:
        """engine.backtest.trades.summary of `trades`: trade count, win rate by trade, profit
        factor, average win and loss, expectancy, median and longest duration, best and worst
        trade, per `by` (default per run; "role", ["run", "role"], or None for all)."""
        return trades_mod.summary(self.trades, by)

    @functools.cached_property
    def exposure(self) -> pd.DataFrame:
        """Daily long, short, gross and net exposure (fractions of equity), names held and
        turnover (engine.backtest.exposure). One run: the measures as columns; several:
        columns (run labels..., measure)."""
        out = exposure_mod.daily(self.holdings, self.equity, self.orders, self.costs.init_cash)
        return out.droplevel(list(range(out.columns.nlevels - 1)), axis=1) if len(self) == 1 else out

    def _one(self, what: str) -> None:
        if len(self) != 1:
            raise AishockError(f"{what} shows one run; take one first: result[i].{what}()")

    def tearsheet(self, path=None, benchmark: str | None = None):
        """The QuantStats tearsheet of this one-run result against `benchmark` (default: the
        stats' benchmark, else the configured one), with the project's conventions (its
        trading days and risk-free rate: reports.tearsheet). path None writes the whole report
        set (tearsheet, CSV tables, manifest, run page) into the configured reports folder;
        a path writes the tearsheet alone there. Returns the tearsheet's path."""
        self._one("tearsheet")
        return plugins.view("tearsheet")(self, path, benchmark)

    def page(self, path=None):
        """The interactive run page of this one-run result (equity with entry and exit
        markers, weights by role, exposure by side, the trade table, MAE/MFE): path None
        writes the report set into the configured reports folder. Returns the page's path."""
        self._one("page")
        return plugins.view("run_page")(self, path)

    def plot(self):
        """A Plotly figure of this one-run result: equity with its trades' entries and exits."""
        self._one("plot")
        return plugins.view("run_plot")(self)

    def liquidation(self, participation: float | None = None) -> pd.DataFrame:
        """Days to liquidate each day's holdings at `participation` of the 20-day ADV (default:
        the run's cap, else 10 %): dates x (run..., ticker), 0 where nothing is held, NaN where
        the volume is unknown (engine.backtest.capacity.liquidation_days; pyfolio's measure).
        `.T.groupby(level=0).max().T` gives each day's slowest holding per run."""
        from engine.backtest import capacity

        p = participation or self.costs.participation or capacity.DEFAULT_PARTICIPATION
        close = self.prices.close.reindex(columns=self.holdings.columns.get_level_values(-1))
        close = close.ffill().reindex(self.holdings.index).to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            shares = np.where(self.holdings.to_numpy() == 0, 0.0, self.holdings.to_numpy() / close)
        frame = pd.DataFrame(shares, index=self.holdings.index, columns=self.holdings.columns)
        return capacity.liquidation_days(frame, self.prices, p, self.uncapped)

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
            orders=self.orders[self.orders["run"] == i].assign(run=0).reset_index(drop=True),
            stats=self.stats.iloc[[i]],
            costs=self.costs,
            risk_free=self.risk_free,
            periods=self.periods,
            schedule=self.schedule.take([i]) if self.schedule is not None else None,
            prices=self.prices,
        )

    def to_vectorbt(self):
        """The runs as one vectorbt Portfolio (`Portfolio.from_orders`, a group per run with
        shared cash, target-percent orders on the execution bars, call_seq="auto"), for
        vectorbt's analysis. Its value equals `equity` (tested), and its year is this result's
        `periods` trading days (vectorbt's default is 365 calendar days, which made its Sharpe
        -0.242 where aishock's was -0.201): its `stats()` and returns figures annualise as
        aishock does. Refused for what vectorbt cannot express: leverage (max_gross > 1),
        interest, a ticker delisted inside the data, the volume cap and impact (rule 9)."""

        c = self.costs
        if c.max_gross > 1 or c.cash_rate or c.financing or c.borrow_fee:
            raise AishockError(
                "vectorbt cannot express leverage or interest; run with max_gross 1 and no rates"
            )
        if c.volume_aware:
            raise AishockError(
                "vectorbt cannot express a volume cap or market impact; run without participation and impact"
            )
        if self.schedule is None or self.prices is None:
            raise AishockError("this result carries no schedule and prices to rebuild in vectorbt")
        market = Market.of(self.prices, self.schedule.tickers, c.fill)
        if (market.last_bar < len(market.index)).any():
            raise AishockError("vectorbt cannot express a delisting (a ticker whose data ends early)")
        first = len(self.prices.index) - len(self.equity)
        runs = self.equity.columns.to_flat_index()
        return _portfolio_class(self.periods).from_orders(
            **from_orders_args(self.schedule, market, first, c, runs)
        )


@functools.cache
def _portfolio_class(periods: int):
    """vectorbt's Portfolio with a year of `periods` days for its stats and returns."""
    import vectorbt as vbt

    year = f"{periods} days"

    class Portfolio(vbt.Portfolio):
        @property
        def stats_defaults(self) -> dict:
            out = super().stats_defaults
            out["settings"]["year_freq"] = year
            return out

        def get_returns_acc(self, *args, year_freq=None, **kwargs):
            return super().get_returns_acc(*args, year_freq=year_freq or year, **kwargs)

    return Portfolio


def from_orders_args(schedule: Schedule, market: Market, first: int, costs: Costs, runs) -> dict:
    """The arguments of vectorbt's `Portfolio.from_orders` that simulate `schedule` from bar
    `first` of `market` under engine.sim.simulate's rules (no leverage, interest or delisting):
    a column group per run (labelled by `runs`) with shared cash, target-percent orders on
    the execution bars (decisions before `first` carried into it), fills at the fill price,
    sizing at the mark price, call_seq="auto"."""
    s, index = schedule, market.index[first:]
    days, n_tk = len(index), len(s.tickers)
    size = np.full((days, s.n_runs * n_tk), np.nan)
    for r in range(s.n_runs):
        e = slice(s.lo[r], s.hi[r])
        rows = np.maximum(s.bar[e], first) - first
        size[rows, r * n_tk + s.col[e]] = s.weight[e]  # later entries win (rule 3)
    cols = pd.MultiIndex.from_product([runs, s.tickers], names=["run", "ticker"])

    def frame(a):
        return pd.DataFrame(np.tile(a[first:], s.n_runs), index=index, columns=cols)

    return dict(
        close=frame(market.close).ffill().bfill(),  # 0 shares times NaN before a listing
        price=frame(market.fill),
        val_price=frame(market.mark),
        size=pd.DataFrame(size, index=index, columns=cols),
        size_type="targetpercent",
        direction="longonly" if (s.weight >= 0).all() else "both",
        fees=costs.fees,
        slippage=costs.slippage,
        init_cash=costs.init_cash,
        cash_sharing=True,
        group_by=0,
        call_seq="auto",
        freq="1D",
    )
