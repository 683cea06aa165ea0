"""Does a thesis generalise? Run a strategy, or a grid of its parameter sets, on every group
shock across a universe, in one compiled pass (engine.events.runs), and test the outcomes
across events: a cross-sectional test that allows for events sharing days, placebo sets that
mirror the events' date clustering, a date-cluster bootstrap interval, calendar time; and
for a grid, which sets survive multiple testing and how the choice does out of sample
(engine.events.multiple).

Events. An event is a group's shock (engine.events.shocks.scaled_shocks) on day t. Set s runs
with the group's members live on t (engine.events.groups) as its `universe` and t as its
`event_date`, on the window t .. t + H_s, H_s = hold + 1 trading days for a strategy that
declares a holding period (`EventParams.hold`), else `horizon` (21): exactly `aishock run
STRATEGY --set universe=<members> --set event_date=<t> --start <t> --end <t + H_s>` (the
strategy sees the whole history; a strategy that looks ahead would see more here, and the
generic no-look-ahead test refuses those). Before anything runs, with H = the largest H_s:
- windows cut by the data's end (t + H past the last day) are dropped, with a count;
- `overlap="merge"` (default): an event of a group whose window would start inside an
  earlier kept window of the same group (H or fewer trading days after it) is merged into
  that earlier event (dropped, counted); "keep" keeps both.

Outcomes of a run (engine.events.runs): its return after costs (strategy_return) and without
(gross_return; costs = the difference), the market over the run's own holding interval at
the same fill prices (market_return_window; excess_market = strategy_return minus it), and
the headline, the market-model cumulative abnormal return CAR with its variance (beta from
the estimation window: 120 trading days ending 10 before t). A set does not trade an event
when its rule does not fire there: the group fell less than the set's threshold (the
parameter `EventParams.threshold` names, e.g. oversold_rebound's min_drop), or the run
ordered no weight other than 0. Such an event is not one of the set's (counted as not traded,
left out; placebo days, random by design, are not filtered). A run without an estimation
window (too early in the data) has no CAR (counted, left out of the CAR statistics).

Statistics per set over its events (engine.events.crossevent): mean and median CAR, the
date-clustered mean (each date weighs the same), hit rate, mean excess over the market, mean
costs; the standardised test of Boehmer, Musumeci and Poulsen with the cross-correlation of
events whose windows share days (`bmp_test`, Kolari-Pynnönen's formula when all share one
date); a percentile interval of the mean CAR from a bootstrap over event dates.

Placebo: every event date's events are replayed (the same groups, the members live on the
placebo day) on placebo days: days that are no group's event day, where every one of those
groups has at least min_members live members, a full estimation window lies behind and the
whole window H inside the data. By default every such day (for one set; so the replays do
not depend on the seed), or `placebo` of them per date drawn at random (seeded, without
replacement; GRID_PLACEBO for a grid). `placebo_sets` placebo sets each take one replay of
every date (crossevent.placebo_sets): the p-value of the mean CAR is (1 + count) / (1 +
sets) with its Monte Carlo standard error. A placebo set replays only the events the set
traded (with a CAR), so it has the set's number of events on the set's dates. Drawing 20 or
250 days instead of all moved the p-value by up to 0.09 and 0.06 between seeds 0-4 on the
AI-role study; and with R replays per date the placebo sets' spread is (R - 1) / R of what
every day would give (the plug-in variance of R draws), which makes the p-value slightly too
small for small R (0.9 of it for a grid's 10; negligible for the default).

Calendar time (the set shown): each day after a traded event's t up to its window's end, that
event's daily return is held; the portfolio's return is the mean over the events open.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine import plugins
from engine.config import Config, load_config
from engine.data import membership
from engine.data.panel import Prices, load_prices
from engine.errors import AishockError
from engine.events import crossevent, runs
from engine.events.groups import check_by, members_on, split
from engine.events.members import resolve_members
from engine.events.shocks import K_SD, MAX_MARKET_DROP, MIN_FALL, MIN_MEMBERS, SD_WINDOW, scaled_shocks
from engine.outputs import plain
from engine.sim.simulate import Costs
from engine.strategy import params as params_mod
from engine.strategy import registry
from engine.sweeps import executors
from engine.symbols import normalise_symbol

HORIZON = 21  # trading days after the event, for strategies that declare no holding period
GRID_PLACEBO = 10  # placebo replays of every event date for a grid (one set: every eligible day)
PLACEBO_SETS = 10_000  # placebo sets drawn from the replays
N_BOOT = 10_000  # bootstrap replications over event dates
CHUNK_RUNS = 20_000  # runs per strategy call (bounds the strategies' per-run arrays)
OVERLAP = ("merge", "keep")

EVENT_COLUMNS = (
    "date", "group", "members", "n_members", "picked", "n_picked", "start", "end", "days",
    "group_return", "market_return", "traded", "strategy_return", "gross_return", "costs",
    "market_return_window", "excess_market", "car", "sigma", "beta", "scar",
)  # fmt: skip


@dataclass(frozen=True)
class Generalization:
    """What engine.generalize returns.

    grid: one row per parameter set (its swept values, then the statistics of `_statistics`),
    in grid order; `shown` the row the per-event detail is of (the only set, or the grid's
    best mean CAR: chosen in sample, see stepm and walk_forward). For the set shown: events
    (EVENT_COLUMNS, one row per event), placebo_events (one row per placebo run), paths (event
    days 0..H x events: cumulative return minus the market's over the holding interval),
    calendar (date x portfolio, market, n_open), summary (its grid row as a dict), placebo
    (crossevent.placebo_sets) and calendar_time (crossevent.calendar_time_alpha).
    stepm, spa, walk_forward: engine.events.multiple's results over the grid (None for one
    set). dropped: events dropped before running ({"truncated": n, "merged": n}); skipped:
    groups with too few members with prices. prices: the panel every run read (for a
    manifest)."""

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
    grid: pd.DataFrame
    swept: list
    shown: int
    stepm: dict | None
    spa: dict | None
    walk_forward: dict | None
    dropped: dict
    prices: Prices | None = field(default=None, repr=False)

    def page(self, path=None):
        """This generalisation's page (the verdict, the cross-event statistics with their
        definitions, the stability surface, StepM, SPA, walk-forward, the event paths and the
        per-event table): path None writes it as the report set `aishock generalize` writes
        for the same inputs, in the configured reports folder. Returns the page's path."""
        return plugins.view("generalization_page")(self, path)


def generalize(
    strategy: str,
    universe: str = "ai",
    by: str | None = None,
    params: dict | None = None,
    grid: dict | None = None,
    costs: Costs | None = None,
    placebo: int | None = None,
    placebo_sets: int = PLACEBO_SETS,
    seed: int = 0,
    horizon: int | None = None,
    k: float = K_SD,
    min_fall: float = MIN_FALL,
    max_market_drop: float = MAX_MARKET_DROP,
    min_members: int = MIN_MEMBERS,
    overlap: str = "merge",
    start=None,
    end=None,
    config: Config | None = None,
    progress: bool = False,
    executor: str = "local",
    scheduler: str | None = None,
    workers: int | None = None,
    n_boot: int = N_BOOT,
) -> Generalization:
    """Run `strategy` (every set of `grid` when given, each with `params`) on every group
    shock of `universe` grouped `by` (sector, industry or role; default role for `ai`, else
    sector) between `start` and `end`, plus the placebo replays of every event date, and test
    the outcomes across events (module docstring). The universe and the event date (as the
    strategy declares them in `register(..., event=EventParams(...))`) are set per event.
    `executor="dask"` spreads the runs over a Dask cluster (`scheduler`, or a local one of
    `workers` processes), with the same results."""
    spec = registry.get(strategy)
    if spec.event is None:
        raise AishockError(
            f"{spec.name} has no universe/event_date parameters (no register(..., event=...)); "
            "generalize cannot run it"
        )
    per_event = (spec.event.universe, spec.event.date)
    base = dict(params or {})
    fixed = sorted((set(base) | set(grid or {})) & set(per_event))
    if fixed:
        raise AishockError(
            f"generalize sets {' and '.join(fixed)} per event; remove them from the parameters"
        )
    checks = [("--placebo-sets", placebo_sets, 1), ("n_boot", n_boot, 100)]
    for name, value, low in [*checks, *([("--placebo", placebo, 0)] if placebo is not None else [])]:
        if int(value) != value or value < low:
            raise AishockError(f"{name} must be a whole number >= {low}, got {value}")
    if overlap not in OVERLAP:
        raise AishockError(f"--overlap {overlap}: use merge or keep")
    if horizon is not None and horizon < 1:
        raise AishockError(f"--horizon must be at least 1 trading day, got {horizon}")
    sets, swept = _sets(spec, base, grid)
    costs = costs or Costs()
    cfg = config or load_config()
    by = check_by(by, universe)
    p0 = sets[0]
    market = normalise_symbol((spec.event.market and getattr(p0, spec.event.market)) or cfg.benchmark)
    if spec.event.market and len({getattr(p, spec.event.market) for p in sets}) > 1:
        raise AishockError(f"{spec.event.market} cannot be swept: every set is measured against one market")
    horizons = np.array([_horizon(spec, p, horizon) for p in sets], dtype=np.int64)
    h_max = int(horizons.max())
    label, members = resolve_members(universe, cfg)

    wanted = list(dict.fromkeys([*members.index, market, *(t for p in sets for t in spec.tickers(p))]))
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
    events, dropped = _events(found, prices.index, h_max, overlap)
    if events.empty:
        why = f" ({dropped['truncated']} cut by the data's end)" if dropped["truncated"] else ""
        raise AishockError(
            f"no {by} shocks in {label} with k={k:g}, min_fall={min_fall:g}{why}; "
            "lower them or widen the dates"
        )
    events["group_return"] = [
        float(group_ret.at[d, g]) for d, g in zip(events["date"], events["group"], strict=True)
    ]
    events["market_return"] = mkt.reindex(events["date"]).to_numpy()
    events["members"] = members_on(groups, events)
    if placebo is None:
        placebo = GRID_PLACEBO if len(sets) > 1 else len(prices.index)
    design = _placebo_design(events, counts, min_members, h_max, placebo, seed)
    design["members"] = members_on(groups, design)

    index = prices.index
    ev_pos = index.get_indexer(events["date"])
    pl_pos = index.get_indexer(design["date"])
    job = runs.Job(spec.name, market, costs, cfg.trading_days, keep_residuals=True)
    chunks_ev = _chunks(spec, sets, horizons, events, ev_pos)
    chunks_pl = _chunks(spec, sets, horizons, design, pl_pos)
    kw = dict(executor=executor, scheduler=scheduler, workers=workers, progress=progress)
    n_ev, n_pl, n_sets = len(events), len(design), len(sets)
    ev = _set_major(_map(job, prices, chunks_ev, "generalize: events", **kw), n_sets, n_ev)
    pl = None
    if n_pl:
        no_residuals = dataclasses.replace(job, keep_residuals=False)
        pl = _set_major(_map(no_residuals, prices, chunks_pl, "generalize: placebo", **kw), n_sets, n_pl)
    if spec.event.threshold:  # the rule does not fire where the group fell less than the set's threshold
        need = np.array([getattr(p, spec.event.threshold) for p in sets], dtype=float)
        fired = events["group_return"].to_numpy()[None, :] <= -need[:, None]
        ev.values[runs.F["traded"]] *= fired.ravel()

    dates = events["date"].to_numpy()
    car = ev["car"].reshape(n_sets, n_ev)
    modelled = (ev["traded"] > 0).reshape(n_sets, n_ev) & np.isfinite(car)
    modelled &= ev["var_car"].reshape(n_sets, n_ev) > 0
    headline = np.where(modelled, car, np.nan)
    table = []
    for s in range(n_sets):
        cols = slice(s * n_ev, (s + 1) * n_ev)
        stop = ev_pos + horizons[s] + 1
        table.append(_statistics(ev.values[:, cols], ev.residuals[cols], ev_pos, stop, dates))
    grid_table = pd.concat([_grid_frame(sets, swept), pd.DataFrame(table)], axis=1)
    for key, values in _intervals(headline, dates, n_boot, seed).items():
        grid_table[key] = values
    event_of = _event_of(events, design)
    placebo_stats = _placebo(
        grid_table["mean_car"].to_numpy(float), pl, design, modelled, event_of, placebo_sets, seed
    )
    grid_table["placebo_p"] = [p["p_value"] for p in placebo_stats]
    grid_table["placebo_se"] = [p["mc_se"] for p in placebo_stats]
    grid_table["placebo_mean"] = [p["mean"] for p in placebo_stats]
    means = grid_table["mean_car"].to_numpy(dtype=float)
    shown = int(np.nanargmax(means)) if np.isfinite(means).any() else 0

    stepm = spa = walk = None
    if n_sets > 1:
        from engine.events import multiple

        stepm = multiple.stepm(headline, dates, n_boot=n_boot, seed=seed)
        spa = multiple.spa(headline, dates, n_boot=n_boot, seed=seed)
        walk = multiple.walk_forward(headline, dates, n_boot=n_boot, seed=seed)
        grid_table["survives_stepm"] = np.asarray(stepm["rejected"], dtype=bool)

    detail = _detail(job, prices, spec, sets[shown], horizons[shown], events, ev_pos)
    cols = slice(shown * n_ev, (shown + 1) * n_ev)
    event_rows = _event_rows(events, ev.values[:, cols], detail, index, horizons[shown])
    shown_pl = None if pl is None else pl.values[:, shown * n_pl : (shown + 1) * n_pl]
    placebo_rows = _placebo_rows(design, shown_pl)
    paths, daily = _paths(detail, ev_pos, index, event_rows["traded"].to_numpy(dtype=bool))
    calendar = _calendar(daily, mkt)
    ct = crossevent.calendar_time_alpha(calendar["portfolio"], calendar["market"], cfg.trading_days)
    summary = {k: plain(v) for k, v in grid_table.iloc[[shown]].to_dict("records")[0].items()}
    settings = {
        "k": k, "min_fall": min_fall, "max_market_drop": max_market_drop, "sd_window": SD_WINDOW,
        "min_members": min_members, "horizon": int(horizons[shown]), "horizon_max": h_max,
        "placebo": placebo, "placebo_sets": placebo_sets, "n_boot": n_boot, "seed": seed, "market": market,
        "overlap": overlap, "est_days": runs.EST_DAYS, "est_gap": runs.EST_GAP, "est_min": runs.EST_MIN,
        "params": {f: plain(v) for f, v in dataclasses.asdict(sets[shown]).items() if f not in per_event},
        "costs": dataclasses.asdict(costs), "universe_label": label, "n_sets": n_sets,
    }  # fmt: skip
    return Generalization(
        spec.name, universe, by, event_rows, placebo_rows, paths, calendar, summary, placebo_stats[shown], ct,
        groups.skipped, settings, grid_table, swept, shown, stepm, spa, walk, dropped, prices,
    )  # fmt: skip


# -- the sets and the events ----------------------------------------------------------------


def _sets(spec, base: dict, grid: dict | None) -> tuple[list, list[str]]:
    """The parameter sets (grid order) and the swept names."""
    if not grid:
        return [params_mod.make(spec.params, base, spec.name)], []
    from engine.sweeps.grid import combinations

    return combinations(spec, grid, base, None)


def _horizon(spec, p, horizon: int | None) -> int:
    if horizon is not None:
        return horizon
    return getattr(p, spec.event.hold) + 1 if spec.event.hold else HORIZON


def _events(
    found: pd.DataFrame, index: pd.DatetimeIndex, h_max: int, overlap: str
) -> tuple[pd.DataFrame, dict]:
    """The shocks that are run: windows inside the data, same-group overlaps merged (module
    doc); and what was dropped."""
    pos = index.get_indexer(found["date"])
    inside = pos + h_max <= len(index) - 1
    kept = found[inside].reset_index(drop=True)
    pos = pos[inside]
    merged = np.zeros(len(kept), dtype=bool)
    if overlap == "merge":
        last: dict[str, int] = {}
        for n in np.argsort(pos, kind="stable"):
            g = kept.at[n, "group"]
            if g in last and pos[n] - last[g] <= h_max:
                merged[n] = True
            else:
                last[g] = pos[n]
    events = kept[~merged].reset_index(drop=True)[["date", "group"]]
    return events, {"truncated": int((~inside).sum()), "merged": int(merged.sum())}


def _placebo_design(
    events: pd.DataFrame, counts: pd.DataFrame, min_members: int, h_max: int, replays: int, seed: int
) -> pd.DataFrame:
    """The placebo runs (module doc): date (the placebo day), group, replay_of (the event
    date's position among the sorted distinct event dates) and replay (0 .. replays - 1)."""
    cols = {"date": pd.DatetimeIndex([]), "group": [], "replay_of": [], "replay": []}
    if replays == 0:
        return pd.DataFrame(cols)
    index = counts.index
    n = len(index)
    free = ~index.isin(pd.DatetimeIndex(events["date"].unique()))
    free[: runs.EST_GAP + runs.EST_DAYS + 1] = False
    free[max(n - h_max, 0) :] = False
    ok = counts.to_numpy() >= min_members
    where = {g: j for j, g in enumerate(counts.columns)}
    rng = np.random.default_rng(seed)
    days, groups, of, replay = [], [], [], []
    for d, (_, day_events) in enumerate(events.groupby("date", sort=True)):
        gs = list(day_events["group"])
        candidates = np.nonzero(free & ok[:, [where[g] for g in gs]].all(axis=1))[0]
        picks = np.sort(rng.choice(candidates, size=min(replays, len(candidates)), replace=False))
        days.append(np.repeat(picks, len(gs)))
        groups += gs * len(picks)
        of.append(np.full(len(picks) * len(gs), d))
        replay.append(np.repeat(np.arange(len(picks)), len(gs)))
    if not groups:
        return pd.DataFrame(cols)
    return pd.DataFrame(
        {
            "date": index[np.concatenate(days)],
            "group": groups,
            "replay_of": np.concatenate(of),
            "replay": np.concatenate(replay),
        }
    )


def _chunks(spec, sets: list, horizons: np.ndarray, where: pd.DataFrame, pos: np.ndarray) -> list[runs.Chunk]:
    """Every set on every row of `where` (date, members), row-major (the sets of one row, whose
    universe is the same, stay together in one strategy call), in chunks of CHUNK_RUNS; run
    row * len(sets) + s is set s on that row (`_set_major` puts them in set order)."""
    universes = [",".join(m) for m in where["members"]]
    days = [d.date() for d in pd.DatetimeIndex(where["date"]).to_pydatetime()]
    n = len(universes) * len(sets)
    row_of = np.repeat(np.arange(len(universes)), len(sets))
    set_of = np.tile(np.arange(len(sets)), len(universes))
    first = np.repeat(np.asarray(pos, dtype=np.int64), len(sets))
    stop = (np.asarray(pos, dtype=np.int64)[:, None] + np.asarray(horizons)[None, :] + 1).ravel()
    changes = (spec.event.universe, spec.event.date)
    chunks = []
    for lo in range(0, n, CHUNK_RUNS):
        rows = row_of[lo : lo + CHUNK_RUNS]
        r0 = int(rows[0])
        values = list(zip(universes[r0 : int(rows[-1]) + 1], days[r0 : int(rows[-1]) + 1], strict=True))
        piece = slice(lo, lo + CHUNK_RUNS)
        chunks.append(runs.Chunk(sets, changes, values, set_of[piece], rows - r0, first[piece], stop[piece]))
    return chunks


def _set_major(parts: list[runs.RunStats], n_sets: int, n_rows: int) -> runs.RunStats:
    """`_chunks`' runs (row-major: row * n_sets + s) joined in set-major order (s * n_rows + row)."""
    return runs.join(parts, (np.arange(n_sets)[None, :] * n_rows + np.arange(n_rows)[:, None]).ravel())


def _map(job, prices, chunks, desc, executor, scheduler, workers, progress) -> list[runs.RunStats]:
    return executors.map_chunks(
        runs.evaluate, job, prices, chunks, executor, scheduler, workers, progress, desc
    )


# -- statistics ------------------------------------------------------------------------------


def _statistics(values, resid, first, stop, dates) -> dict:
    """One set's statistics over its events (module doc); `values` runs.FIELDS x events."""
    v = {name: values[i] for i, name in enumerate(runs.FIELDS)}
    traded = v["traded"] > 0
    car, var = v["car"], v["var_car"]
    modelled = traded & np.isfinite(car) & (var > 0)
    x = car[modelled]
    idx = np.nonzero(modelled)[0]
    start = first[idx] - runs.EST_GAP - runs.EST_DAYS
    i, j, _, c = crossevent.scar_correlations(resid[idx], start, first[idx], stop[idx])
    test = crossevent.bmp_test(x / np.sqrt(var[modelled]), i, j, c)
    n = int(modelled.sum())

    def mean(a, where):
        return float(a[where].mean()) if where.any() else np.nan

    return {
        "n_events": int(traded.sum()),
        "n_not_traded": int((~traded).sum()),
        "n_no_model": int((traded & ~modelled).sum()),
        "n_dates": int(pd.Index(dates[modelled]).nunique()),
        "mean_car": mean(car, modelled),
        "median_car": float(np.median(x)) if n else np.nan,
        "clustered_mean_car": crossevent.date_clustered_mean(x, dates[modelled]),
        "hit_rate": float((x > 0).mean()) if n else np.nan,
        "mean_excess_market": mean(v["net"] - v["market"], traded),
        "mean_gross_excess": mean(v["gross"] - v["market"], traded),
        "mean_costs": mean(v["gross"] - v["net"], traded),
        "mean_beta": mean(v["beta"], modelled),
        "mean_scar": test["mean_scar"],
        "t_bmp": test["t_bmp"],
        "p_bmp": test["p_bmp"],
        "c_bar": test["c_bar"],
        "n_pairs": test["n_pairs"],
        "t_adj": test["t_adj"],
        "p_adj": test["p_adj"],
    }


def _event_of(events: pd.DataFrame, design: pd.DataFrame) -> np.ndarray:
    """The event each placebo run replays (its position in `events`)."""
    dates = np.sort(events["date"].unique())
    at = {(d, g): n for n, (d, g) in enumerate(zip(events["date"].to_numpy(), events["group"], strict=True))}
    return np.array(
        [at[(dates[d], g)] for d, g in zip(design["replay_of"], design["group"], strict=True)], dtype=np.int64
    )


def _placebo(
    event_means, pl, design: pd.DataFrame, modelled, event_of, placebo_sets: int, seed: int
) -> list[dict]:
    """crossevent.placebo_sets of every set: the CARs of the replays of the set's own events
    (those it traded, with a CAR), summed and counted per (event date, replay), so a placebo
    set has the set's number of events on its dates."""
    n_sets = modelled.shape[0]
    if pl is None:
        nothing = np.zeros((n_sets, 0, 0))
        return crossevent.placebo_sets(event_means, nothing, nothing, placebo_sets, seed)
    values = np.where((pl["traded"] > 0) & np.isfinite(pl["car"]), pl["car"], np.nan).reshape(n_sets, -1)
    values = np.where(modelled[:, event_of], values, np.nan)
    r = int(design["replay"].max()) + 1
    d = int(design["replay_of"].max()) + 1
    key = design["replay_of"].to_numpy() * r + design["replay"].to_numpy()
    sums = np.zeros((n_sets, d * r))
    counts = np.zeros((n_sets, d * r))
    for s in range(n_sets):
        have = np.isfinite(values[s])
        sums[s] = np.bincount(key[have], weights=values[s][have], minlength=d * r)
        counts[s] = np.bincount(key[have], minlength=d * r)
    shape = (n_sets, d, r)
    return crossevent.placebo_sets(
        event_means, sums.reshape(shape), counts.reshape(shape), placebo_sets, seed
    )


def _intervals(headline: np.ndarray, dates: np.ndarray, n_boot: int, seed: int) -> dict:
    """The 95% percentile interval of every set's mean CAR from one bootstrap over event dates
    (engine.events.multiple.cluster_means; NaN for a set with fewer than 2 events)."""
    from engine.events import multiple

    n_dates = pd.Index(dates).nunique()
    means = multiple.cluster_means(headline, dates, multiple.resample_counts(n_dates, n_boot, seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a set with no events: NaN, said by its n_events
        low, high = np.nanpercentile(means, [2.5, 97.5], axis=0)
    few = np.isfinite(headline).sum(axis=1) < 2
    return {"ci_low": np.where(few, np.nan, low), "ci_high": np.where(few, np.nan, high)}


def _grid_frame(sets: list, swept: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {name: [plain(getattr(p, name)) for p in sets] for name in swept}, index=range(len(sets))
    )


# -- the set shown ---------------------------------------------------------------------------


def _detail(job, prices: Prices, spec, p, h: int, events: pd.DataFrame, pos: np.ndarray) -> runs.RunStats:
    """The shown set's event runs again, with their daily paths and picks."""
    chunk = _chunks(spec, [p], np.array([h]), events, pos)
    return runs.join(
        [
            runs.evaluate(dataclasses.replace(job, keep_paths=True, keep_residuals=False), prices, c)
            for c in chunk
        ]
    )


def _event_rows(
    events: pd.DataFrame, values: np.ndarray, detail: runs.RunStats, index, h: int
) -> pd.DataFrame:
    v = {name: values[i] for i, name in enumerate(runs.FIELDS)}
    pos = index.get_indexer(events["date"])
    out = events.copy()
    out["n_members"] = [len(m) for m in out["members"]]
    out["picked"] = detail.picked
    out["n_picked"] = [len(m) for m in detail.picked]
    out["start"] = events["date"]
    out["end"] = index[pos + h]
    out["days"] = h
    out["traded"] = v["traded"] > 0
    out["strategy_return"] = v["net"]
    out["gross_return"] = v["gross"]
    out["costs"] = v["gross"] - v["net"]
    out["market_return_window"] = v["market"]
    out["excess_market"] = v["net"] - v["market"]
    out["car"] = v["car"]
    out["sigma"] = v["sigma"]
    out["beta"] = v["beta"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["scar"] = v["car"] / np.sqrt(v["var_car"])
    return out[list(EVENT_COLUMNS)]


def _placebo_rows(design: pd.DataFrame, values: np.ndarray | None) -> pd.DataFrame:
    out = design[["date", "group", "replay_of", "replay"]].copy()
    if values is None:
        return out.assign(
            traded=pd.Series(dtype=bool), car=pd.Series(dtype=float), excess_market=pd.Series(dtype=float)
        )
    v = {name: values[i] for i, name in enumerate(runs.FIELDS)}
    out["traded"] = v["traded"] > 0
    out["car"] = v["car"]
    out["excess_market"] = v["net"] - v["market"]
    return out


def _paths(detail: runs.RunStats, pos: np.ndarray, index, traded: np.ndarray) -> tuple[pd.DataFrame, dict]:
    """(event days x events cumulative return minus the market's, every event; {event: daily
    returns after t} of the events the set traded, for calendar time)."""
    strat, market = detail.paths
    paths = pd.DataFrame(strat - market)
    daily = {}
    for n, p in enumerate(pos):
        if not traded[n]:
            continue
        cum = strat[:, n]
        length = int(np.isfinite(cum).sum())
        growth = 1.0 + cum[:length]
        r = growth[1:] / np.where(growth[:-1] > 0, growth[:-1], 1.0) - 1.0
        daily[n] = pd.Series(np.where(growth[:-1] > 0, r, 0.0), index=index[p + 1 : p + length])
    return paths, daily


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
