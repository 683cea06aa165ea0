"""Where a run's return came from: by AI role, and against the equal-weight AI basket.

Convention (every function here): **arithmetic, not linked.** A window's figure is the *sum
of the run's daily returns* over the window's trading days (fractions, r_t = V_t / V_{t-1} - 1,
the first day against the initial cash, as `Result.returns`), and every contribution or
effect is a sum of daily terms, each a fraction of the previous close's equity V_{t-1}. So
the contributions of a window add up to that sum exactly (to rounding, 1e-12), every day and
every window. The compounded window return prod(1 + r_t) - 1 differs from the sum by the
compounding cross terms (small over a few weeks, not over a year of large moves); no linking
(Carino, Menchero) is applied, so the contributions do *not* add up to the compounded return.
`window_returns` reports both figures side by side.

Daily contribution of a segment (an AI role basket, "other" for tickers outside every role,
"cash & costs"), from the holdings, the orders and the prices:

    c_seg,t = P&L_seg,t / V_{t-1}
    P&L_seg,t = sum over its tickers i of  s_i,t-1 (C_i,t - C_i,t-1)  +  sum over day t's
                orders in i of  q (C_i,t - F)

where s_i,t-1 are the shares held at the previous close (its market value / C_i,t-1),
C the close each holding is valued at (the last close for a ticker without a close that day),
q an order's signed shares (buys +, sells -) and F its fill price *before slippage* (and
before rule 9's impact). With
`fill="close"` the second term is 0 and c_seg,t is exactly (previous close's market value of
the segment / V_{t-1}) x the day's return of those holdings; with `fill="open"` it adds what
the shares traded that day made from the open to the close. "cash & costs" is the rest of the
day's return: interest on cash, financing, borrow fees, commissions and slippage (and, on the
day a run is wiped out, the write-off below zero); it is computed as r_t minus the other
segments, which makes the sum exact, and equals those costs computed from the orders (tested).

Brinson-Fachler (`brinson_fachler`) splits the same arithmetic active return against a
benchmark (by default the equal-weight `ai` basket, rebalanced daily over the names with a
price on both closes) into allocation and selection, interaction folded into selection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from engine.analytics.run_stats import daily_returns
from engine.backtest.result import Result
from engine.config import Config, load_config
from engine.data.panel import Prices
from engine.errors import AishockError

CASH = "cash & costs"
OTHER = "other"
TOTAL = "total"
BF_MEASURES = ("portfolio_weight", "benchmark_weight", "portfolio", "benchmark", "allocation", "selection")


# -- inputs ------------------------------------------------------------------------------


def _one_run(result: Result, run: int) -> Result:
    """The `run`-th run of `result` alone, refusing what attribution cannot use."""
    if not isinstance(result, Result):
        raise AishockError(f"attribution needs an engine Result (engine.run), got {type(result).__name__}")
    if not -len(result) <= run < len(result):
        raise AishockError(f"run {run} out of range: this result has {len(result)} run(s)")
    one = result[run] if len(result) > 1 else result
    if one.prices is None:
        raise AishockError("this result carries no prices; attribution needs them (engine.run keeps them)")
    if len(one.equity) == 0:
        raise AishockError("this result has no trading days to attribute")
    return one


def _role_map(roles: Mapping[str, str] | None) -> dict[str, str]:
    if roles is None:
        from engine.data.universe import role_of

        return role_of()
    if not isinstance(roles, Mapping):
        raise AishockError("roles must be a mapping {ticker: role name}")
    if {CASH, TOTAL} & set(roles.values()):
        raise AishockError(f"'{CASH}' and '{TOTAL}' are reserved; give the role another name")
    return dict(roles)


def named_windows(windows=None, config: Config | None = None) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    """[(name, start, end)] from `windows`: None (the configured windows, `[tool.aishock.windows]`),
    a mapping {name: (start, end)} or a sequence of (name, start, end); dates inclusive."""
    if windows is None:
        windows = (config or load_config()).windows
    items = [(k, *v) for k, v in windows.items()] if isinstance(windows, Mapping) else list(windows)
    out = []
    for item in items:
        if not (isinstance(item, Sequence) and not isinstance(item, str) and len(item) == 3):
            raise AishockError(f"a window is (name, start, end), got {item!r}")
        name, start, end = item
        try:
            a, b = pd.Timestamp(start), pd.Timestamp(end)
        except (TypeError, ValueError):
            raise AishockError(f"window '{name}': dates must be YYYY-MM-DD, got {start!r}, {end!r}") from None
        if pd.isna(a) or pd.isna(b):
            raise AishockError(f"window '{name}' needs both a start and an end date, got {start!r}, {end!r}")
        if a > b:
            raise AishockError(f"window '{name}': start {a.date()} is after end {b.date()}")
        out.append((str(name), a, b))
    if not out:
        raise AishockError("no windows given; name at least one (name, start, end)")
    if len({n for n, _, _ in out}) < len(out):
        raise AishockError("window names must be unique")
    return out


def _window_sums(daily: pd.DataFrame, windows) -> pd.DataFrame:
    """Columns of `daily` summed over each window: windows x columns, NaN for a window with
    no day of `daily`."""
    rows = {}
    for name, a, b in windows:
        inside = (daily.index >= a) & (daily.index <= b)
        rows[name] = daily[inside].sum() if inside.any() else pd.Series(np.nan, index=daily.columns)
    return pd.DataFrame(rows).T.reindex(columns=daily.columns)


# -- contributions by role ---------------------------------------------------------------


def _previous(a: np.ndarray, first) -> np.ndarray:
    """`a` shifted down one row, `first` as the first row."""
    return np.vstack([np.broadcast_to(first, (1, *a.shape[1:])), a[:-1]])


def _ticker_pnl(r: Result) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(P&L days x tickers in currency as in the module doc, previous close's market values
    days x tickers, tickers) of a one-run result."""
    from engine.sim.simulate import Market

    index = r.equity.index
    tickers = [str(t) for t in r.holdings.columns.get_level_values(-1)]
    pos = r.prices.index.get_indexer(index)
    if (pos < 0).any():
        raise AishockError("the result's dates are not in its price panel")
    close_all = Market.of(r.prices, tickers, r.costs.fill).close
    close = close_all[pos]
    prev_close = np.where((pos > 0)[:, None], close_all[np.maximum(pos - 1, 0)], np.nan)
    held = r.holdings.to_numpy(dtype=float)
    held_prev = _previous(held, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares_prev = np.where(held_prev != 0, held_prev / prev_close, 0.0)
        pnl = np.where(shares_prev != 0, shares_prev * (close - prev_close), 0.0)
    o = r.orders
    if len(o):
        day = index.get_indexer(pd.DatetimeIndex(o["date"]))
        col = pd.Index(tickers).get_indexer(o["ticker"].astype(str))
        if (day < 0).any() or (col < 0).any():
            raise AishockError("the result's orders name dates or tickers outside its holdings")
        sign = np.where(o["side"].to_numpy() == "buy", 1.0, -1.0)
        q = o["shares"].to_numpy(dtype=float)
        # price = F (1 + sign (slippage + I)) and the order's impact column is q F I, so
        # F = (price - sign impact / q) / (1 + sign slippage): slippage and impact stay costs
        impact = o["impact"].to_numpy(dtype=float) if "impact" in o else np.zeros(len(o))
        unslipped = (o["price"].to_numpy(dtype=float) - sign * impact / q) / (1.0 + sign * r.costs.slippage)
        np.add.at(pnl, (day, col), sign * q * (close[day, col] - unslipped))
    if not np.isfinite(pnl).all():
        raise AishockError("a holding has no price to value it at; attribution cannot be computed")
    return pnl, held_prev, tickers


def _segments(tickers: Sequence[str], roles: dict[str, str]) -> list[str]:
    """Segment names in role order (the order of `roles`), then OTHER, for `tickers`."""
    present = {roles.get(t, OTHER) for t in tickers}
    order = list(dict.fromkeys(roles.values()))
    return [s for s in order if s in present] + ([OTHER] if OTHER in present and OTHER not in order else [])


def _grouped(values: np.ndarray, tickers: Sequence[str], segments: list[str], roles) -> np.ndarray:
    """Columns of `values` (days x tickers) summed per segment: days x segments."""
    seg = pd.Index(segments).get_indexer([roles.get(t, OTHER) for t in tickers])
    out = np.zeros((values.shape[0], len(segments)))
    for j, s in enumerate(seg):
        out[:, s] += values[:, j]
    return out


def _prev_equity(r: Result) -> np.ndarray:
    eq = r.equity.iloc[:, 0].to_numpy(dtype=float)
    return np.concatenate([[r.costs.init_cash], eq[:-1]])


def daily_contributions(result: Result, roles: Mapping[str, str] | None = None, run: int = 0) -> pd.DataFrame:
    """Each segment's contribution to each day's return of run `run` of `result` (an
    `engine.run` Result, which keeps its prices): dates x segments, fractions of the previous
    close's equity (see the module docstring for the formula). Segments: the roles of
    `roles` ({ticker: role}; default `engine.data.universe.role_of()`, the AI role baskets) that
    the run's tickers belong to, in the roles' order, then "other" (tickers in no role) when
    present, then "cash & costs". Each row sums to the day's return (`Result.returns`) to
    rounding; after a wipe-out every contribution is 0."""
    r = _one_run(result, run)
    role = _role_map(roles)
    pnl, _, tickers = _ticker_pnl(r)
    segments = _segments(tickers, role)
    prev_eq = _prev_equity(r)
    with np.errstate(invalid="ignore", divide="ignore"):
        contrib = np.where(
            (prev_eq > 0)[:, None], _grouped(pnl, tickers, segments, role) / prev_eq[:, None], 0.0
        )
    day_return = daily_returns(r.equity, r.costs.init_cash).iloc[:, 0].to_numpy()
    cash = day_return - contrib.sum(axis=1)
    return pd.DataFrame(np.column_stack([contrib, cash]), index=r.equity.index, columns=[*segments, CASH])


def window_returns(result: Result, windows=None, run: int = 0, config: Config | None = None) -> pd.DataFrame:
    """The return of run `run` of `result` over each window (see `named_windows`; default the
    configured ones): windows x [start, end (the first and last trading day of the run inside
    the window, NaT if none), days, sum_of_daily_returns (the arithmetic figure the
    contributions add up to), compounded_return (prod(1 + r) - 1, fraction)]. A window is cut
    to the run's days; one with no day of the run has days 0 and NaN returns."""
    r = _one_run(result, run)
    ret = r.returns.iloc[:, 0]
    rows = {}
    for name, a, b in named_windows(windows, config):
        part = ret[(ret.index >= a) & (ret.index <= b)]
        n = len(part)
        rows[name] = {
            "start": part.index[0] if n else pd.NaT,
            "end": part.index[-1] if n else pd.NaT,
            "days": n,
            "sum_of_daily_returns": float(part.sum()) if n else np.nan,
            "compounded_return": float(np.prod(1.0 + part.to_numpy()) - 1.0) if n else np.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def contributions(
    result: Result,
    windows=None,
    roles: Mapping[str, str] | None = None,
    run: int = 0,
    config: Config | None = None,
) -> pd.DataFrame:
    """Each segment's contribution to run `run`'s return over each named window: segments x
    windows, fractions. Segments as `daily_contributions` (AI roles, "other", "cash & costs");
    windows as `named_windows` (default: the configured windows). Arithmetic convention (module
    docstring): a column sums exactly (1e-12) to the window's `sum_of_daily_returns`
    (`window_returns`), not to its compounded return. A window with no day of the run is NaN."""
    daily = daily_contributions(result, roles, run)
    return _window_sums(daily, named_windows(windows, config)).T


# -- Brinson-Fachler against the equal-weight basket ---------------------------------------


def equal_weight_returns(prices: Prices, names: Sequence[str], index: pd.DatetimeIndex) -> pd.DataFrame:
    """Daily close-to-close returns (fractions) of `names` on each date of `index`, each
    against the previous bar of `prices`' calendar; NaN where a name has no close on either
    (not listed, delisted). The equal-weight basket rebalanced daily over the names with a
    price returns their mean over the non-NaN entries of each row (0 on a row with none)."""
    missing = [n for n in names if n not in prices.close.columns]
    if missing:
        raise AishockError(f"benchmark names without prices: {', '.join(missing[:5])}")
    close = prices.close[list(names)]
    pos = prices.index.get_indexer(index)
    if (pos < 0).any():
        raise AishockError("the benchmark prices do not cover the run's dates")
    c = close.to_numpy(dtype=float)
    prev = np.where((pos > 0)[:, None], c[np.maximum(pos - 1, 0)], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        ret = c[pos] / prev - 1.0
    return pd.DataFrame(np.where(np.isfinite(ret), ret, np.nan), index=index, columns=list(names))


def equal_weight_mean(returns: pd.DataFrame) -> pd.Series:
    """The equal-weight daily-rebalanced basket's return from `equal_weight_returns`: the row
    mean over the names with a return, 0 on a row with none."""
    a = returns.to_numpy(dtype=float)
    n = np.isfinite(a).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, np.nansum(a, axis=1) / np.maximum(n, 1), 0.0)
    return pd.Series(mean, index=returns.index)


def daily_brinson_fachler(
    result: Result,
    roles: Mapping[str, str] | None = None,
    run: int = 0,
    benchmark: str | Sequence[str] = "ai",
    benchmark_prices: Prices | None = None,
    config: Config | None = None,
) -> pd.DataFrame:
    """Brinson-Fachler terms of each day of run `run` of `result` against the equal-weight
    `benchmark` basket (basket names and/or tickers, `engine.data.universe.resolve`; default `ai`),
    rebalanced daily over its names with a price on the previous and the day's close. Its
    prices: `benchmark_prices`, else the run's own panel when it has every benchmark name,
    else loaded from the local data of `config` (never downloaded; AishockError if missing).
    Returns dates x (measure, segment) columns, measures BF_MEASURES, all fractions:

    - portfolio_weight w_p: the segment's market value at the previous close / V_{t-1}
      ("cash & costs": 1 - the others, so the weights sum to 1; shorts are negative);
    - benchmark_weight w_b: the share of the benchmark's names with a price in the segment;
    - portfolio c_p: the segment's contribution (`daily_contributions`);
    - benchmark c_b = w_b r_b: its contribution to the benchmark return R_b (r_b the mean
      return of its names with a price);
    - allocation = (w_p - w_b)(r_b - R_b): what weighting the role differently earned;
    - selection = c_p - w_p r_b: what the names held earned over the role's benchmark
      return, **interaction included** (w_p (r_p - r_b), with no division by w_p).

    A segment without benchmark names that day takes r_b = R_b (roles, "other": its whole
    effect is selection) or r_b = 0 ("cash & costs": holding cash while the basket moves is
    allocation; interest and costs are selection). So each day allocation + selection summed
    over the segments equals the active return R_p - R_b exactly (R_p the day's return; with
    no benchmark name priced that day, R_b = 0)."""
    r = _one_run(result, run)
    role = _role_map(roles)
    pnl, held_prev, tickers = _ticker_pnl(r)
    from engine.data.universe import resolve

    names = resolve(benchmark)
    if benchmark_prices is None:
        have = r.prices.close.columns
        if all(n in have for n in names):
            benchmark_prices = r.prices
        else:  # from local data only: an attribution never downloads
            from dataclasses import replace

            from engine.data.panel import load_prices

            local = replace(config or load_config(), online=False)
            benchmark_prices = load_prices(names, end=r.equity.index[-1], config=local)
    bench = equal_weight_returns(benchmark_prices, names, r.equity.index)
    day_return = daily_returns(r.equity, r.costs.init_cash).iloc[:, 0].to_numpy()
    segments = [*_segments([*tickers, *names], role), CASH]
    roles_only = segments[:-1]
    prev_eq = _prev_equity(r)
    live = (prev_eq > 0)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        w_p = np.where(live, _grouped(held_prev, tickers, roles_only, role) / prev_eq[:, None], 0.0)
        c_p = np.where(live, _grouped(pnl, tickers, roles_only, role) / prev_eq[:, None], 0.0)
    w_p = np.column_stack([w_p, 1.0 - w_p.sum(axis=1)])
    c_p = np.column_stack([c_p, day_return - c_p.sum(axis=1)])
    b = bench.to_numpy(dtype=float)
    valid = np.isfinite(b)
    n = valid.sum(axis=1).astype(float)
    r_bench = equal_weight_mean(bench).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        w_b = np.where(
            n[:, None] > 0, _grouped(valid.astype(float), names, roles_only, role) / n[:, None], 0.0
        )
        c_b = np.where(
            n[:, None] > 0, _grouped(np.where(valid, b, 0.0), names, roles_only, role) / n[:, None], 0.0
        )
        r_b = np.where(w_b > 0, c_b / w_b, r_bench[:, None])
    w_b = np.column_stack([w_b, np.zeros(len(n))])
    c_b = np.column_stack([c_b, np.zeros(len(n))])
    r_b = np.column_stack([r_b, np.zeros(len(n))])
    allocation = (w_p - w_b) * (r_b - r_bench[:, None])
    selection = c_p - w_p * r_b
    parts = dict(zip(BF_MEASURES, (w_p, w_b, c_p, c_b, allocation, selection), strict=True))
    cols = pd.MultiIndex.from_product([BF_MEASURES, segments], names=["measure", "segment"])
    return pd.DataFrame(np.hstack(list(parts.values())), index=r.equity.index, columns=cols)


def brinson_fachler(
    result: Result,
    windows=None,
    roles: Mapping[str, str] | None = None,
    run: int = 0,
    benchmark: str | Sequence[str] = "ai",
    benchmark_prices: Prices | None = None,
    config: Config | None = None,
) -> pd.DataFrame:
    """Brinson-Fachler attribution of run `run`'s active return against the equal-weight
    `benchmark` basket (default `ai`, rebalanced daily) over each named window, arithmetic
    (module docstring): rows are the segments (AI roles, "other" if any, "cash & costs") and
    "total"; columns (window, measure) with measures BF_MEASURES:
    portfolio_weight / benchmark_weight: the mean daily weight over the window (fraction);
    portfolio / benchmark: the sum of the daily contributions (fraction; "total": the sums of
    the daily portfolio and benchmark returns); allocation / selection: the sums of the daily
    effects of `daily_brinson_fachler` (interaction inside selection). For "total",
    allocation + selection = portfolio - benchmark, the arithmetic active return, exactly
    (1e-12). Per role, allocation + selection is that role's share of the active return (it
    differs from its portfolio - benchmark contributions by -(w_p - w_b) R_b, which sums to 0
    over the segments). A window with no day of the run is NaN."""
    daily = daily_brinson_fachler(result, roles, run, benchmark, benchmark_prices, config)
    wins = named_windows(windows, config)
    segments = list(daily["portfolio"].columns)
    frames = {}
    for name, a, b in wins:
        inside = (daily.index >= a) & (daily.index <= b)
        part = daily[inside]
        table = pd.DataFrame(np.nan, index=[*segments, TOTAL], columns=list(BF_MEASURES))
        if inside.any():
            for m in BF_MEASURES:
                values = part[m].mean() if m.endswith("_weight") else part[m].sum()
                table.loc[segments, m] = values.to_numpy()
                table.loc[TOTAL, m] = float(
                    part[m].sum(axis=1).mean() if m.endswith("_weight") else part[m].sum(axis=1).sum()
                )
        frames[name] = table
    return pd.concat(frames, axis=1, names=["window", "measure"])


# -- JSON ----------------------------------------------------------------------------------

CONVENTION = (
    "arithmetic: a window's figure is the sum of the run's daily returns over its days; each "
    "contribution is the sum over those days of the segment's P&L (price moves of the holdings "
    "at the previous close, plus what the day's trades made from the unslipped fill to the "
    "close) / the previous close's equity, so contributions add up to sum_of_daily_returns "
    "exactly; no linking, so not to compounded_return. 'cash & costs' is interest, financing, "
    "borrow fees, commissions and slippage."
)
BF_CONVENTION = (
    "Brinson-Fachler, arithmetic, daily, summed over the window, against the equal-weight basket "
    "of {benchmark} rebalanced daily over its names with a price; allocation = (w_p - w_b)(r_b - R_b), "
    "selection = c_p - w_p r_b (interaction folded into selection); roles without benchmark names "
    "take r_b = R_b, cash r_b = 0; allocation + selection = portfolio - benchmark."
)


def summary(
    result: Result,
    windows=None,
    roles: Mapping[str, str] | None = None,
    run: int = 0,
    brinson: bool = False,
    benchmark: str = "ai",
    benchmark_prices: Prices | None = None,
    config: Config | None = None,
) -> dict:
    """A plain dict (for JSON) of the attribution of run `run` of `result`:
    {"convention": str, "windows": {name: {"start", "end" (ISO dates or None), "days",
    "sum_of_daily_returns", "compounded_return", "contributions": {segment: fraction}}}},
    plus, with `brinson`, "brinson_fachler": {"convention", "benchmark", "windows": {name:
    {"portfolio", "benchmark", "active", "allocation", "selection", "by_role": {segment:
    {measure: value for BF_MEASURES}}}}}, or {"convention", "benchmark", "windows": {}, "note":
    why not} when it cannot be computed (the benchmark's prices are missing from the run's panel
    and the local data). NaN stays NaN (the JSON writer makes it null)."""
    wins = named_windows(windows, config)
    rets = window_returns(result, wins, run)
    contrib = contributions(result, wins, roles, run)
    out: dict = {"convention": CONVENTION, "windows": {}}
    for name, _, _ in wins:
        row = rets.loc[name]
        out["windows"][name] = {
            "start": None if pd.isna(row["start"]) else str(row["start"].date()),
            "end": None if pd.isna(row["end"]) else str(row["end"].date()),
            "days": int(row["days"]),
            "sum_of_daily_returns": float(row["sum_of_daily_returns"]),
            "compounded_return": float(row["compounded_return"]),
            "contributions": {str(s): float(v) for s, v in contrib[name].items()},
        }
    if brinson:
        label = benchmark if isinstance(benchmark, str) else ",".join(benchmark)
        block: dict = {"convention": BF_CONVENTION.format(benchmark=label), "benchmark": label, "windows": {}}
        try:
            bf = brinson_fachler(result, wins, roles, run, benchmark, benchmark_prices, config)
        except AishockError as e:  # e.g. the benchmark's prices are not in the local data
            out["brinson_fachler"] = block | {
                "note": f"not computed: prices of {label} not found locally ({e})"
            }
            return out
        for name, _, _ in wins:
            t = bf[name]
            total = t.loc[TOTAL]
            block["windows"][name] = {
                "portfolio": float(total["portfolio"]),
                "benchmark": float(total["benchmark"]),
                "active": float(total["portfolio"] - total["benchmark"]),
                "allocation": float(total["allocation"]),
                "selection": float(total["selection"]),
                "by_role": {
                    str(s): {m: float(t.loc[s, m]) for m in BF_MEASURES} for s in t.index if s != TOTAL
                },
            }
        out["brinson_fachler"] = block
    return out
