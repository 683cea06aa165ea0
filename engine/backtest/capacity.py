"""Capacity: how much capital a strategy can run before the volume cap and the square-root
impact (rule 9 of engine.sim.simulate) eat its returns, and how many days a run's holdings
would take to sell at the cap.

`capacity` runs one parameter set at a range of starting capital in one simulator call:
capital is a run's column like any parameter (engine.sim.simulate.run_schedule's `cash`), so
12 levels cost one call. Its conventions, stated once:
- the Sharpe ratio and the other figures are engine.analytics.run_stats's (252 trading days,
  the configured risk-free rate);
- cost drag = (fees + slippage + impact paid) / mean daily equity / years: the share of
  equity the frictions cost per year;
- the capital at which the Sharpe (or the total return) halves: the first level whose figure
  is at most half the smallest level's, interpolated linearly in log10(capital) against the
  level before it; none when the smallest level's figure is not above 0, or no level falls
  that far. The Sharpe ratio does not see cash drag (a book the cap keeps half in cash has
  the same Sharpe at half the return), so the return's halving is given beside it;
- the binding asset: the ticker whose cap held an order back on the most bars, summed over
  the levels (per level in the table);
- days to liquidate a holding: |shares| / (participation x ADV), ADV the mean volume of the
  20 bars up to and including that day (known at its close), as pyfolio's capacity tear
  sheet measures it (days to liquidate at a share of the daily volume); a close-only ticker
  filled uncapped counts 0.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine import plugins
from engine.analytics import run_stats
from engine.backtest.run import history, needed_tickers, param_sets
from engine.config import Config, load_config
from engine.data.panel import Prices, load_prices
from engine.errors import AishockError
from engine.sim.simulate import VOLUME_BARS, Costs, run_schedule
from engine.strategy import registry

DEFAULT_AUM = "1e5:1e10:log12"
DEFAULT_PARTICIPATION = 0.1  # 10 % of a bar's volume
DEFAULT_IMPACT = 1.0  # k of the square-root law, of order 1 (Almgren et al. 2005; Toth et al. 2011)
TABLE_COLUMNS = (
    "total_return",
    "cagr",
    "sharpe",
    "max_drawdown",
    "cost_drag",
    "fees_paid",
    "slippage_paid",
    "impact_paid",
    "partial_fills",
    "max_volume_share",
    "longest_wait",
    "liquidation_days",
    "binding",
)
UNITS = {
    "aum": "currency (starting capital)",
    "cost_drag": "fraction of mean equity per year (fees + slippage + impact)",
    "liquidation_days": "trading days to sell the largest holding at the cap, the most over the run",
    "binding": "the ticker whose cap held an order back on the most bars at this capital",
}


def levels(spec: str | Sequence[float]) -> np.ndarray:
    """Starting capitals from 'LO:HI:logN' (N levels evenly spaced on a log scale, ends
    included), 'LO:HI:N' (evenly spaced), 'A,B,C', or a sequence of numbers. Each must be
    above 0; refused in one line otherwise."""
    hint = "give --aum as LO:HI:logN (e.g. 1e5:1e10:log12), LO:HI:N, or A,B,C"
    if isinstance(spec, str):
        text = spec.strip()
        m = re.fullmatch(r"([^:]+):([^:]+):(log)?(\d+)", text)
        try:
            if m:
                lo, hi, n = float(m[1]), float(m[2]), int(m[4])
                if n < 2 or not 0 < lo < hi:
                    raise AishockError(f"--aum '{spec}': need 0 < LO < HI and at least 2 levels; {hint}")
                out = np.geomspace(lo, hi, n) if m[3] else np.linspace(lo, hi, n)
            else:
                out = np.array([float(v) for v in text.split(",")])
        except ValueError:
            raise AishockError(f"--aum '{spec}' is not a list of capitals; {hint}") from None
    else:
        out = np.asarray(list(spec), dtype=np.float64)
    if out.size == 0 or not np.isfinite(out).all() or (out <= 0).any():
        raise AishockError(f"capital levels must be finite numbers above 0, got {spec}; {hint}")
    return np.unique(out)


def adv_at_close(prices: Prices, tickers: list[str]) -> pd.DataFrame:
    """The mean volume of the VOLUME_BARS bars up to and including each day (NaN while one is
    missing): the ADV a holding at that day's close is sold against."""
    volume = prices.volume.reindex(columns=tickers)
    return volume.rolling(VOLUME_BARS, min_periods=VOLUME_BARS).mean()


def days_to_sell(held: np.ndarray, adv: np.ndarray, participation: float, free: np.ndarray) -> np.ndarray:
    """|held| / (participation x adv), elementwise (held's last axis: tickers, `free` a mask of
    them, filled uncapped); 0 where nothing is held or for a free ticker, NaN where the ADV is
    unknown."""
    held = np.abs(held)
    with np.errstate(divide="ignore", invalid="ignore"):
        days = np.where(held == 0, 0.0, held / (participation * adv))
    days[..., free] = 0.0
    return days


def liquidation_days(shares: pd.DataFrame, prices: Prices, participation: float, free=()) -> pd.DataFrame:
    """Days to liquidate each holding at `participation` of its ADV (`days_to_sell`) for a frame
    of shares (dates x tickers, or dates x (run..., ticker))."""
    tickers = list(shares.columns.get_level_values(-1))
    adv = adv_at_close(prices, list(dict.fromkeys(tickers))).reindex(shares.index)
    adv = adv.reindex(columns=tickers).to_numpy()
    mask = np.array([t in set(free) for t in tickers], dtype=bool)
    days = days_to_sell(shares.to_numpy(dtype=np.float64), adv, participation, mask)
    return pd.DataFrame(days, index=shares.index, columns=shares.columns)


def halving(aum: np.ndarray, values: np.ndarray) -> float | None:
    """The capital at which `values` (one per level of `aum`, ascending) fall to half the
    smallest level's (see the module's conventions), or None."""
    s0 = values[0]
    if not (np.isfinite(s0) and s0 > 0):
        return None
    half = s0 / 2
    for i in range(1, len(aum)):
        if not values[i] > half:  # NaN (no dispersion left) counts as fallen
            lo, hi = math.log10(aum[i - 1]), math.log10(aum[i])
            s_lo, s_hi = values[i - 1], values[i]
            if not np.isfinite(s_hi) or s_hi == s_lo:
                return float(aum[i])
            return float(10 ** (lo + (half - s_lo) / (s_hi - s_lo) * (hi - lo)))
    return None


def halving_note(name: str, first: float, at: float | None, largest: float, fmt: str) -> str:
    """One clause saying where `name` (its smallest level's value `first`) halves."""
    shown = fmt.format(first)
    if at is not None:
        return f"the {name} halves from {shown} at about ${at:,.0f}"
    if not (np.isfinite(first) and first > 0):
        return f"the smallest capital's {name} ({shown}) is not above 0: no halving to find"
    return f"the {name} stays above half of {shown} up to ${largest:,.0f}"


@dataclass(frozen=True)
class Capacity:
    """A strategy's figures against starting capital (see the module's conventions).

    table: one row per capital level (index `aum`, currency): TABLE_COLUMNS, units as
        engine.analytics.run_stats.UNITS and UNITS here.
    binds: capital levels x tickers, the bars on which the cap held an order back.
    equity: days x capital levels, each level's equity / its starting capital.
    half_sharpe_aum, half_return_aum: the capital at which the Sharpe ratio, and the total
        return, halve, or None (`note` says why).
    binding: the binding asset over all levels, or None when the cap never bound.
    uncapped: close-only tickers filled without cap or impact (--no-volume ok).
    prices: the price panel it was simulated on.
    """

    strategy: str
    params: dict
    costs: Costs
    start: str
    end: str
    table: pd.DataFrame
    binds: pd.DataFrame
    equity: pd.DataFrame
    half_sharpe_aum: float | None
    half_return_aum: float | None
    binding: str | None
    uncapped: tuple[str, ...]
    note: str
    prices: Prices = field(repr=False)

    def page(self, path=None):
        """The capacity page (Sharpe, return and cost drag against capital, the binding names):
        path None writes its report set into the configured reports folder. Returns its path."""
        return plugins.view("capacity_page")(self, path)


def volume_costs(costs: Costs | None) -> Costs:
    """The costs a capacity study runs with: `costs` (default Costs()), with the default cap
    and impact where it sets neither; a cap is needed (days to liquidate are measured at it)."""
    costs = costs or Costs()
    if costs.participation is None:
        impact = costs.impact if costs.impact > 0 else DEFAULT_IMPACT
        costs = dataclasses.replace(costs, participation=DEFAULT_PARTICIPATION, impact=impact)
    return costs


def capacity(
    strategy,
    params=None,
    aum=DEFAULT_AUM,
    start=None,
    end=None,
    costs: Costs | None = None,
    prices: Prices | None = None,
    config: Config | None = None,
    warmup: int | None = None,
) -> Capacity:
    """Simulate one parameter set of `strategy` (None: its defaults; a dict of overrides)
    from each starting capital of `aum` (`levels`), all in one simulator call, with the cap
    and impact of `costs` (`volume_costs`: 10 % of a bar's volume and k = 1 unless set).
    Window, prices and warm-up as engine.run."""
    spec = registry.get(strategy)
    cfg = config or load_config()
    sets = param_sets(spec, params)
    if len(sets) != 1:
        raise AishockError(
            "capacity measures one parameter set; give one (a sweep over capital is built here)"
        )
    capital = levels(aum)
    costs = volume_costs(costs)
    if prices is None:
        prices = load_prices(needed_tickers(spec, sets), end=end, config=cfg)
    else:
        prices = prices.window(None, end)
    prices = history(prices, start, end, warmup)
    one = spec.schedule(prices, sets)
    schedule = one.take([0] * len(capital))
    raw = run_schedule(
        prices, schedule, costs, start, cfg.risk_free, cfg.trading_days, record="full", cash=capital
    )
    index = prices.index[raw.first :]
    stats = run_stats.from_accumulators(raw.acc, capital, cfg.risk_free, cfg.trading_days)
    tickers = list(schedule.tickers)
    binds = pd.DataFrame(raw.binds, index=pd.Index(capital, name="aum"), columns=tickers)
    years = len(index) / cfg.trading_days
    mean_equity = raw.equity.mean(axis=0)
    costs_paid = stats["fees_paid"] + stats["slippage_paid"] + stats["impact_paid"]
    stats["cost_drag"] = costs_paid.to_numpy() / mean_equity / years
    adv = adv_at_close(prices, tickers).reindex(index).to_numpy()  # once for every level
    free = np.array([t in set(raw.uncapped) for t in tickers], dtype=bool)
    days = days_to_sell(raw.shares, adv[:, None, :], costs.participation, free)  # days x levels x tickers
    stats["liquidation_days"] = np.nanmax(days, axis=(0, 2), initial=0.0)
    stats["binding"] = pd.Series(
        [str(row.idxmax()) if row.max() > 0 else None for _, row in binds.iterrows()], dtype=object
    )
    table = stats[list(TABLE_COLUMNS)].set_axis(pd.Index(capital, name="aum"))
    total = binds.sum(axis=0)
    binding = str(total.idxmax()) if len(total) and total.max() > 0 else None
    half = halving(capital, table["sharpe"].to_numpy())
    half_return = halving(capital, table["total_return"].to_numpy())
    note = "; ".join(
        halving_note(name, table[col].iloc[0], at, capital[-1], fmt)
        for name, col, at, fmt in (
            ("Sharpe ratio", "sharpe", half, "{:.2f}"),
            ("total return", "total_return", half_return, "{:+.1%}"),
        )
    )
    equity = pd.DataFrame(raw.equity / capital, index=index, columns=pd.Index(capital, name="aum"))
    return Capacity(
        strategy=spec.name,
        params=dataclasses.asdict(sets[0]),
        costs=costs,
        start=str(index[0].date()),
        end=str(index[-1].date()),
        table=table,
        binds=binds,
        equity=equity,
        half_sharpe_aum=half,
        half_return_aum=half_return,
        binding=binding,
        uncapped=raw.uncapped,
        note=note,
        prices=prices,
    )
