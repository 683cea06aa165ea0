"""Does a thesis generalise? Run a strategy once per group shock across a universe, and test
the outcomes across events (engine.events.crossevent) against placebo days and in calendar
time.

An event is a group's shock (engine.events.shocks.scaled_shocks) on day t. The strategy runs with the
group's members live on t (engine.events.groups) as its `universe` and t as its
`event_date`, over the window from t to `horizon` trading days after t (cut at the data's
end): exactly `aishock run STRATEGY --set universe=<members> --set event_date=<t> --start <t>
--end <end>`. Over that window (all returns are fractions, close of t to close of `end`):

- strategy_return: the run's total return;
- market_return_window / group_return_window: the market's and the group's equal-weight
  (members with both closes) buy-and-hold return;
- excess_market / excess_group: strategy_return minus each;
- car: the sum of the daily abnormal returns (strategy minus market) after t, and sigma the
  standard deviation of the abnormal return over the estimation window (EST_DAYS trading
  days ending EST_GAP days before t) of the portfolio the strategy holds right after t
  (weights of its first orders; the group's equal weight when it orders nothing).

Placebo: `placebo` (group, day) pairs drawn without replacement from the events' groups, in
proportion to each group's events, among days that are no group's event day, on which the
group has at least min_members live members, with the sd window behind them and the whole
holding window inside the data; the same rule runs on each.

Calendar time: each day after an event's t up to its end the event's daily return is
held; the portfolio's return is the mean over the events open that day.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm import tqdm

from engine.backtest.run import history
from engine.config import Config, load_config
from engine.data import membership
from engine.data.panel import Prices, load_prices
from engine.errors import AishockError
from engine.events import crossevent
from engine.events.groups import Groups, check_by, split
from engine.events.members import resolve_members
from engine.events.shocks import K_SD, MAX_MARKET_DROP, MIN_FALL, MIN_MEMBERS, SD_WINDOW, scaled_shocks
from engine.outputs import plain
from engine.sim.simulate import Costs, run_schedule
from engine.strategy import params as params_mod
from engine.strategy import registry
from engine.symbols import normalise_symbol

HORIZON = 21  # trading days after the event, for strategies that declare no holding period
EST_DAYS, EST_GAP = 120, 10  # estimation window of sigma: 120 days ending 10 days before t
EST_MIN = 60  # fewer valid days than this: sigma is NaN and the event is left out of the KP test

EVENT_COLUMNS = (
    "date", "group", "members", "n_members", "start", "end", "days", "group_return", "market_return",
    "strategy_return", "market_return_window", "group_return_window", "excess_market", "excess_group",
    "car", "sigma",
)  # fmt: skip


@dataclass(frozen=True)
class Generalization:
    """What engine.generalize returns. events / placebo_events: one row per run
    (EVENT_COLUMNS); paths: event days 0..horizon x events, the cumulative excess over the
    market; calendar: date x (portfolio, market, n_open) daily returns; summary, placebo and
    calendar_time: the cross-event statistics (engine.events.crossevent); skipped: groups
    with too few members with prices ({group: members with prices})."""

    strategy: str
    universe: str
    by: str
    events: pd.DataFrame
    placebo_events: pd.DataFrame
    paths: pd.DataFrame
    calendar: pd.DataFrame
    summary: dict
    placebo: dict
    calendar_time: dict
    skipped: dict
    settings: dict


def generalize(
    strategy: str,
    universe: str = "ai",
    by: str | None = None,
    params: dict | None = None,
    costs: Costs | None = None,
    placebo: int = 500,
    seed: int = 0,
    horizon: int | None = None,
    k: float = K_SD,
    min_fall: float = MIN_FALL,
    max_market_drop: float = MAX_MARKET_DROP,
    min_members: int = MIN_MEMBERS,
    start=None,
    end=None,
    config: Config | None = None,
    progress: bool = False,
) -> Generalization:
    """Run `strategy` on every group shock of `universe` grouped `by` (sector, industry or
    role; default role for `ai`, else sector) between `start` and `end`, plus `placebo`
    random non-event days (seeded), and test the outcomes across events. `params` sets the
    strategy's other parameters (the universe and the event date, as the strategy declares
    them in `register(..., event=EventParams(...))`, are set per event)."""
    spec = registry.get(strategy)
    if spec.event is None:
        raise AishockError(
            f"{spec.name} has no universe/event_date parameters (no register(..., event=...)); "
            "generalize cannot run it"
        )
    per_event = (spec.event.universe, spec.event.date)
    base = dict(params or {})
    fixed = sorted(set(base) & set(per_event))
    if fixed:
        raise AishockError(
            f"generalize sets {' and '.join(fixed)} per event; remove them from the parameters"
        )
    p0 = params_mod.make(spec.params, base)
    if placebo < 0:
        raise AishockError(f"--placebo must be >= 0 random days, got {placebo}")
    costs = costs or Costs()
    cfg = config or load_config()
    by = check_by(by, universe)
    market = normalise_symbol((spec.event.market and getattr(p0, spec.event.market)) or cfg.benchmark)
    label, members = resolve_members(universe, cfg)
    hold = getattr(p0, spec.event.hold) if spec.event.hold else None
    horizon = horizon if horizon is not None else (hold + 1 if hold else HORIZON)
    if horizon < 1:
        raise AishockError(f"--horizon must be at least 1 trading day, got {horizon}")

    wanted = list(dict.fromkeys([*members.index, market, *spec.tickers(p0)]))
    prices = load_prices(membership.with_prices(wanted, cfg), config=cfg)
    if market not in prices.tickers:
        raise AishockError(f"market {market} has no prices in the data folders; add {market}.csv")
    groups = split(members, by, prices.close, min_members)
    group_ret, counts = groups.group_returns()
    mkt = prices.close[market].pct_change(fill_method=None)
    found = scaled_shocks(group_ret, counts, mkt, k, min_fall, max_market_drop, SD_WINDOW, min_members)
    keep = np.ones(len(found), dtype=bool)
    if start is not None:
        keep &= (found["date"] >= pd.Timestamp(start)).to_numpy()
    if end is not None:
        keep &= (found["date"] <= pd.Timestamp(end)).to_numpy()
    found = found[keep].reset_index(drop=True)
    if found.empty:
        raise AishockError(
            f"no {by} shocks in {label} with k={k:g}, min_fall={min_fall:g}; lower them or widen the dates"
        )
    runner = _Runner(spec, base, prices, market, costs, cfg, groups, horizon)
    draws = _placebo_days(found, counts, min_members, horizon, placebo, seed)
    bar = tqdm(total=len(found) + len(draws), desc="generalize", unit="run", disable=not progress)
    try:
        events, paths, daily, estimation = runner.many(found, bar)
        placebo_events = runner.many(draws, bar)[0]
    finally:
        bar.close()

    calendar = _calendar(daily, mkt)
    excess = events["excess_market"].to_numpy()
    usable = events["sigma"].notna().to_numpy()
    dates = events["date"].to_numpy()
    basic = crossevent.summarize(excess, dates)
    kp = crossevent.kp_bmp_test(
        events["car"].to_numpy()[usable],
        events["sigma"].to_numpy()[usable],
        events["days"].to_numpy()[usable],
        estimation.loc[:, usable],
    )
    ci = crossevent.cluster_bootstrap_ci(excess, dates, seed=seed)
    summary = {
        "n_events": basic["n_events"],
        "n_dates": basic["n_dates"],
        "mean_excess_market": basic["mean_excess"],
        "median_excess_market": basic["median_excess"],
        "hit_rate": basic["hit_rate"],
        "mean_excess_group": float(events["excess_group"].mean()),
        "n_kp": kp["n"],
        "mean_scar": kp["mean_scar"],
        "t_bmp": kp["t_bmp"],
        "p_bmp": kp["p_bmp"],
        "r_bar": kp["r_bar"],
        "n_pairs": kp["n_pairs"],
        "t_kp": kp["t_kp"],
        "p_kp": kp["p_kp"],
        "ci_low": ci["low"],
        "ci_high": ci["high"],
        "ci_level": ci["level"],
        "ci_n_boot": ci["n_boot"],
        "ci_n_clusters": ci["n_clusters"],
    }
    placebo_stats = (
        crossevent.placebo_p_value(
            float(np.mean(excess)), placebo_events["excess_market"].to_numpy(), len(events), seed=seed
        )
        if len(placebo_events)
        else {"n": 0, "mean": float("nan"), "p_value": float("nan")}
    )
    ct = crossevent.calendar_time_alpha(calendar["portfolio"], calendar["market"], cfg.trading_days)
    settings = {
        "k": k, "min_fall": min_fall, "max_market_drop": max_market_drop, "sd_window": SD_WINDOW,
        "min_members": min_members, "horizon": horizon, "placebo": placebo, "seed": seed, "market": market,
        "params": {f: plain(v) for f, v in dataclasses.asdict(p0).items() if f not in per_event},
        "costs": dataclasses.asdict(costs), "universe_label": label,
    }  # fmt: skip
    return Generalization(
        spec.name, universe, by, events, placebo_events, paths, calendar, summary, placebo_stats, ct,
        groups.skipped, settings,
    )  # fmt: skip


class _Runner:
    """Runs the strategy on (group, day) pairs exactly as `aishock run` would."""

    def __init__(self, spec, base, prices: Prices, market, costs, cfg, groups: Groups, horizon):
        self.spec, self.base, self.prices, self.market = spec, base, prices, market
        self.costs, self.cfg, self.groups, self.horizon = costs, cfg, groups, horizon
        self.index = prices.index
        self.close = prices.close
        self.returns = prices.close.pct_change(fill_method=None)
        self.panels: dict[tuple, Prices] = {}
        self.market_close = prices.close[market].to_numpy()

    def many(self, pairs: pd.DataFrame, bar) -> tuple[pd.DataFrame, pd.DataFrame, dict, pd.DataFrame]:
        """(events, paths, daily returns by event, estimation-window abnormal returns by event)."""
        rows, paths, daily, est = [], {}, {}, {}
        for n, (day, group) in enumerate(zip(pairs["date"], pairs["group"], strict=True)):
            row, paths[n], daily[n], est[n] = self.one(pd.Timestamp(day), group)
            rows.append(row)
            bar.update()
        events = pd.DataFrame(rows, columns=list(EVENT_COLUMNS))
        return events, pd.DataFrame(paths), daily, pd.DataFrame(est, index=self.index)

    def one(self, day: pd.Timestamp, group: str):
        i = self.index.get_loc(day)
        e = min(i + self.horizon, len(self.index) - 1)
        end = self.index[e]
        members = self.groups.on(group, day)
        p = params_mod.make(
            self.spec.params,
            {**self.base, self.spec.event.universe: ",".join(members), self.spec.event.date: day.date()},
        )
        equity, strat_daily, weights = self.run(p, day, end)
        init = self.costs.init_cash
        m_close = self.market_close
        m_path = m_close[i : e + 1] / m_close[i] - 1.0
        path = equity / init - 1.0
        mkt_daily = m_close[i + 1 : e + 1] / m_close[i:e] - 1.0
        ends = self.close[members].to_numpy()
        group_window = float(np.nanmean(ends[e] / ends[i] - 1.0))
        est_ar = self._estimation(i, members, weights)
        valid = est_ar.dropna()
        sigma = float(valid.std(ddof=1)) if len(valid) >= EST_MIN else float("nan")
        row = {
            "date": day, "group": group, "members": members, "n_members": len(members),
            "start": day, "end": end, "days": e - i,
            "group_return": float(self.returns[members].iloc[i].mean()),
            "market_return": float(self.returns[self.market].iloc[i]),
            "strategy_return": float(path[-1]), "market_return_window": float(m_path[-1]),
            "group_return_window": group_window,
            "excess_market": float(path[-1] - m_path[-1]), "excess_group": float(path[-1] - group_window),
            "car": float(np.sum(strat_daily - mkt_daily)), "sigma": sigma,
        }  # fmt: skip
        returns = pd.Series(strat_daily, index=self.index[i + 1 : e + 1])
        return row, pd.Series(path - m_path), returns, est_ar

    def run(self, p, start: pd.Timestamp, end: pd.Timestamp) -> tuple[np.ndarray, np.ndarray, pd.Series]:
        """Daily equity from start to end, the daily returns after start (0 after a wipe-out,
        rule 8 of engine.sim.simulate), and the weights of the first orders after start: engine.run's
        path (the strategy sees prices up to `end`)."""
        wanted = tuple(t for t in dict.fromkeys(self.spec.tickers(p)) if t in self.prices.tickers)
        if wanted not in self.panels:  # events of one group mostly share their members
            self.panels[wanted] = self.prices.select(wanted)
        window = history(self.panels[wanted].window(None, end), start, end, None)
        schedule = self.spec.schedule(window, [p])
        raw = run_schedule(
            window, schedule, self.costs, start, self.cfg.risk_free, self.cfg.trading_days, "equity"
        )
        first = raw.first
        s = slice(schedule.lo[0], schedule.hi[0])
        bars, cols, w = schedule.bar[s], schedule.col[s], schedule.weight[s]
        after = bars > first
        weights = pd.Series(0.0, index=schedule.tickers)
        if after.any():
            at = bars == bars[after].min()
            weights.iloc[cols[at]] = w[at]
        return raw.equity[:, 0], raw.returns[1:, 0], weights

    def _estimation(self, i: int, members: list[str], weights: pd.Series) -> pd.Series:
        """Daily abnormal returns (portfolio minus market) over the estimation window."""
        rows = slice(max(i - EST_GAP - EST_DAYS, 1), max(i - EST_GAP, 1))
        held = weights[weights != 0]
        if held.empty:
            held = pd.Series(1.0 / len(members), index=members)
        held = held[[t for t in held.index if t in self.returns.columns]]
        r = self.returns.iloc[rows][list(held.index)]
        portfolio = (r.fillna(0.0) * held.to_numpy()).sum(axis=1).where(r.notna().any(axis=1))
        out = pd.Series(np.nan, index=self.index)
        out.iloc[rows] = (portfolio - self.returns[self.market].iloc[rows]).to_numpy()
        return out


def _placebo_days(
    events: pd.DataFrame, counts: pd.DataFrame, min_members: int, horizon: int, n: int, seed: int
) -> pd.DataFrame:
    """`n` (group, day) pairs (see the module docstring), seeded; fewer if fewer qualify."""
    if n == 0:
        return pd.DataFrame({"date": pd.DatetimeIndex([]), "group": []})
    index = counts.index
    taken = index.isin(pd.DatetimeIndex(events["date"].unique()))
    last = len(index) - 1 - horizon
    share = events["group"].value_counts(normalize=True)
    groups, days, weight = [], [], []
    for g, s in share.items():
        ok = (counts[g].to_numpy() >= min_members) & ~taken
        ok[:SD_WINDOW] = False
        ok[max(last + 1, 0) :] = False
        rows = np.nonzero(ok)[0]
        groups += [g] * len(rows)
        days.append(rows)
        weight.append(np.full(len(rows), s / max(len(rows), 1)))
    rows = np.concatenate(days) if days else np.empty(0, np.int64)
    if rows.size == 0:
        return pd.DataFrame({"date": pd.DatetimeIndex([]), "group": []})
    p = np.concatenate(weight)
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(rows.size, size=min(n, rows.size), replace=False, p=p / p.sum()))
    return pd.DataFrame({"date": index[rows[pick]], "group": np.asarray(groups, dtype=object)[pick]})


def _calendar(daily: dict, market: pd.Series) -> pd.DataFrame:
    """Each day: the mean daily return of the events open that day, the market's, and how
    many were open."""
    frame = pd.DataFrame(daily)
    out = pd.DataFrame(
        {
            "portfolio": frame.mean(axis=1),
            "market": market.reindex(frame.index),
            "n_open": frame.notna().sum(axis=1),
        }
    )
    return out.sort_index()
