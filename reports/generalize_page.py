"""The generalisation page: one engine.events.generalize.Generalization as one self-contained HTML
file (plotly.js as reports.figures.plotly_js decides, nothing fetched): a verdict in words, the settings, the
cross-event statistics each with its definition, for a grid of parameter sets the stability
surface, StepM, SPA and the walk-forward, the mean event-time path, the events against the
placebo replays, the calendar-time equity and the per-event table.

Numbers are formatted here, not computed: the page only takes means, bands, cumulative
products and selections of the grid's rows for its plots (the stability surface shows each
set's own mean CAR, never an average over sets). Inputs are fractions; the page shows percent."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from engine.outputs import write_atomic
from reports import figures, palette, surface
from reports.index_page import STYLE
from reports.table import fmt

if TYPE_CHECKING:
    from engine.events.generalize import Generalization

LEVEL = 0.05  # the verdict's significance level
MAX_MEMBERS = 8  # members named per event; the rest counted
MAX_SKIPPED = 12  # skipped groups named; the rest counted
GRID_ROWS = 20  # sets listed in the grid table (the best by mean CAR)
SURVIVES = "★"  # marks a StepM survivor on the surface
EXTRA_STYLE = (
    "td.t{text-align:left} .verdict{font-size:1.05rem;max-width:900px;background:#f6f8fb;"
    "border-left:4px solid #1f4e9a;padding:.6rem .9rem}"
    " table.events td,table.events th{padding:.2rem .3rem;font-size:13px} .muted{color:#666}"
    " table.settings th,table.summary th:last-child,th.t{text-align:left} td.d{white-space:nowrap}"
    " tr.shown td{background:#fff8e6} .quote{max-width:900px}" + surface.STYLE
)
# column: (heading, kind); "ratio" is n_picked / n_members, marked when every member was bought
EVENT_TABLE = {
    "date": ("Date", "date"),
    "group": ("Group", "text"),
    "members": ("Members", "members"),
    "picked": ("Picked", "members"),
    "n_picked": ("Picked / members", "ratio"),
    "traded": ("Traded", "yesno"),
    "end": ("End", "date"),
    "days": ("Days", "count"),
    "group_return": ("Group day 0", "pct"),
    "market_return": ("Market day 0", "pct"),
    "strategy_return": ("Strategy", "pct"),
    "costs": ("Costs", "cost"),
    "market_return_window": ("Market, holding", "pct"),
    "excess_market": ("Excess vs market", "pct"),
    "car": ("CAR", "pct"),
    "scar": ("SCAR", "num"),
    "beta": ("Beta", "num"),
}
TEXT_KINDS = ("text", "members", "date")


def _missing(value) -> bool:
    return value is None or (isinstance(value, float | np.floating) and math.isnan(value))


def cell(value, kind: str) -> str:
    """A value's text, escaped: event_page.fmt's kinds (pct signed 1 decimal, num 2 decimals,
    count, text) plus pct2 (signed, 2 decimals), cost (unsigned, 2 decimals), share (unsigned
    whole %), p (3 decimals, '<0.001' below 0.0005), p_se ((p, its Monte Carlo standard
    error)), num0 (no decimals), num3 (3 decimals), date, yesno, ratio ((n_picked,
    n_members), '= all' when equal), members (a comma list of up to MAX_MEMBERS names and a
    count of the rest) and interval ([low, high] in %, 2 decimals)."""
    if kind == "members":
        names = [str(m) for m in value]
        more = len(names) - MAX_MEMBERS
        shown = ", ".join(names[:MAX_MEMBERS]) + (f", … +{more} more" if more > 0 else "")
        return html.escape(shown)
    if kind == "interval":
        low, high = value
        return f"{cell(low, 'pct2')} to {cell(high, 'pct2')}"
    if kind == "p_se":
        p, se = value
        if _missing(p):
            return "–"
        return f"{cell(p, 'p')} ± {'–' if _missing(se) else f'{se:.3f}' if se >= 0.0005 else f'{se:.1g}'}"
    if kind == "ratio":
        picked, members = value
        return f"{int(picked)} / {int(members)}" + (" = all" if picked == members else "")
    if kind == "text":
        return fmt(value, "text")
    if _missing(value) or (kind == "date" and pd.isna(value)):
        return "–"
    if kind == "yesno":
        return "yes" if value else "no"
    if kind == "pct2":
        return f"{value:+.2%}"
    if kind == "cost":
        return f"{value:.2%}"
    if kind == "share":
        return f"{value:.0%}"
    if kind == "p":
        return "&lt;0.001" if value < 0.0005 else f"{value:.3f}"
    if kind == "num0":
        return f"{value:.0f}"
    if kind == "num3":
        return f"{value:.3f}"
    if kind == "date":
        return html.escape(str(pd.Timestamp(value).date()))
    return fmt(value, kind)


def _td(value, kind: str) -> str:
    sign = kind in ("pct", "pct2") and not _missing(value)
    cls = "t d" if kind == "date" else "t" if kind in ("text", "members") else ""
    cls = cls or ("neg" if sign and value < 0 else "pos" if sign and value > 0 else "")
    return f'<td class="{cls}">{cell(value, kind)}</td>' if cls else f"<td>{cell(value, kind)}</td>"


def _set_text(g: Generalization, row: int) -> str:
    """The swept values of grid row `row`, as name=value, escaped ('' for one set)."""
    return html.escape(", ".join(f"{name}={g.grid[name].iloc[row]}" for name in g.swept))


def _is_grid(g: Generalization) -> bool:
    return g.stepm is not None and len(g.grid) > 1


def verdict(g: Generalization) -> str:
    """One plain-language paragraph (HTML, escaped) built only from the page's numbers: the
    headline (mean market-model CAR, its interval, the adjusted t and the placebo p) and, for
    a grid, that the set is the in-sample best and what StepM and the walk-forward say."""
    s = g.summary
    mean, p_adj, p_pl = s["mean_car"], s["p_adj"], s["placebo_p"]
    n = s["n_events"]
    if _missing(mean):
        return f"No market-model CAR to judge ({n} events traded, {s['n_no_model']} without a market model)."
    horizon = g.settings.get("horizon")
    over = f" over {horizon} trading days" if horizon is not None else ""
    placebo = (
        f"placebo p = {cell((p_pl, s['placebo_se']), 'p_se')}" if not _missing(p_pl) else "no placebo replays"
    )
    beats_model = mean > 0 and not _missing(p_adj) and p_adj < LEVEL
    beats_placebo = mean > 0 and not _missing(p_pl) and p_pl < LEVEL
    if mean <= 0:
        conclusion = "no evidence of an abnormal return after these shocks."
    elif beats_model and beats_placebo:
        conclusion = "evidence of an abnormal return, above the market model and above ordinary days."
    elif beats_model:
        conclusion = (
            "an abnormal return above the market model, but no evidence it beats the same rule after "
            "ordinary days."
            if not _missing(p_pl)
            else "an abnormal return above the market model; no placebo replays to compare with."
        )
    elif beats_placebo:
        conclusion = "above the placebo replays, but the adjusted test cannot tell the mean CAR from zero."
    else:
        conclusion = "no evidence the mean CAR differs from zero or from ordinary days."
    text = (
        f"Across {n} events on {s['n_dates']} dates the mean market-model CAR was {cell(mean, 'pct2')}"
        f"{over} (95% interval {cell((s['ci_low'], s['ci_high']), 'interval')}, event dates resampled); "
        f"adjusted t = {cell(s['t_adj'], 'num')} (p = {cell(p_adj, 'p')}); {placebo}: {conclusion}"
    )
    if _is_grid(g):
        n_sets = len(g.grid)
        survivors = int(np.asarray(g.stepm["rejected"], dtype=bool).sum())
        text = (
            f"The set shown ({_set_text(g, g.shown)}) has the best mean CAR of the {n_sets} sets, chosen "
            f"in sample, so its figures flatter it. {text} {survivors} of {n_sets} sets survive StepM at "
            f"{g.stepm['alpha']:.0%}. "
        ) + _walk_forward_sentence(g)
    return text


def _settings_table(g: Generalization) -> str:
    st, pl = g.settings, g.placebo

    def share(key: str) -> str:
        return cell(st[key], "share") if key in st else "–"

    replays = st.get("placebo")
    rows = {
        "k (sd)": st.get("k"),
        "Min fall": share("min_fall"),
        "Max market drop": share("max_market_drop"),
        "Min members": st.get("min_members"),
        "Horizon (days)": st.get("horizon"),
        "Overlap": st.get("overlap"),
        "Placebo replays a date": f"{replays:,} asked, up to {pl.get('n_replays', 0):,} run"
        if isinstance(replays, int)
        else "–",
        "Placebo sets": f"{pl.get('n_sets', 0):,}",
        "Bootstrap draws": f"{st['n_boot']:,}" if "n_boot" in st else "–",
        "Seed": st.get("seed"),
        "Market": st.get("market"),
        "Sets": st.get("n_sets", len(g.grid)),
        "Parameters": ", ".join(f"{k}={v}" for k, v in (st.get("params") or {}).items()) or "defaults",
    }
    head = "".join(f"<th>{html.escape(k)}</th>" for k in rows)
    body = "".join(f'<td class="t">{html.escape("–" if v is None else str(v))}</td>' for v in rows.values())
    return f"<table class=settings><thead><tr>{head}</tr></thead><tbody><tr>{body}</tr></tbody></table>"


def summary_rows(g: Generalization) -> list[tuple[str, object, str, str]]:
    """(statistic, value, kind, its definition in one line) for the statistics table."""
    s, pl, ct, st = g.summary, g.placebo, g.calendar_time, g.settings
    est = f"{st.get('est_days', 120)} trading days ending {st.get('est_gap', 10)} before the event"
    boot = f"{st['n_boot']:,}" if "n_boot" in st else "the"
    return [
        (
            "Mean CAR (market model)",
            s["mean_car"],
            "pct2",
            "CAR = sum over the holding days of r - alpha - beta r_market, alpha and beta by OLS over "
            f"the {est}; mean over the events with a market model",
        ),
        (
            "95% interval of the mean CAR",
            (s["ci_low"], s["ci_high"]),
            "interval",
            f"percentile interval of {boot} bootstrap means, event dates (not events) resampled",
        ),
        ("Median CAR", s["median_car"], "pct2", "the middle event's CAR"),
        (
            "Date-clustered mean CAR",
            s["clustered_mean_car"],
            "pct2",
            "mean over event dates of each date's mean CAR: every date weighs the same",
        ),
        ("Hit rate", s["hit_rate"], "share", "share of events with CAR > 0"),
        (
            "Mean SCAR",
            s["mean_scar"],
            "num",
            "CAR over its standard error (variance with the estimation error of alpha and beta, CLM 4.4.14)",
        ),
        (
            "BMP t",
            s["t_bmp"],
            "num",
            "Boehmer, Musumeci and Poulsen (1991): mean SCAR x sqrt(N) / sd(SCAR), N events",
        ),
        ("BMP p", s["p_bmp"], "p", "two-sided, standard normal"),
        (
            "Mean cross-correlation c̄",
            s["c_bar"],
            "num3",
            f"mean over all event pairs of c = rho x shared days / sqrt(L_i L_j), rho of the estimation "
            f"residuals ({s['n_pairs']} pairs share days, the rest count 0)",
        ),
        (
            "Adjusted t",
            s["t_adj"],
            "num",
            "BMP t x sqrt((1 - c̄) / (1 + (N - 1) c̄)); Kolari and Pynnönen (2010) when all share one date",
        ),
        ("Adjusted p", s["p_adj"], "p", "two-sided, standard normal"),
        (
            "Placebo p ± Monte Carlo error",
            (s["placebo_p"], s["placebo_se"]),
            "p_se",
            f"(1 + placebo sets with a mean CAR >= the events') / (1 + {pl.get('n_sets', 0):,} sets), "
            "each set one replay (on a non-event day) of every date of the events the set traded; "
            "error sqrt(p (1 - p) / sets)",
        ),
        ("Placebo mean CAR", s["placebo_mean"], "pct2", "mean over the placebo sets of their mean CAR"),
        (
            "Mean excess over the market",
            s["mean_excess_market"],
            "pct2",
            "return after costs minus the market's over the run's own holding interval, at its fill prices",
        ),
        ("Mean excess before costs", s["mean_gross_excess"], "pct2", "the same without fees and slippage"),
        ("Mean costs", s["mean_costs"], "cost", "return before costs minus return after costs"),
        ("Mean beta", s["mean_beta"], "num", f"market-model beta of the portfolio held, over the {est}"),
        (
            "Events traded",
            s["n_events"],
            "count",
            f"the set's rule fired and it ordered a weight; {s['n_dates']} dates have one with a "
            "market model",
        ),
        (
            "Not traded",
            s["n_not_traded"],
            "count",
            "the group fell less than the set's threshold, or no order: not the set's events, left out",
        ),
        (
            "Without a market model",
            s["n_no_model"],
            "count",
            "no estimation window (too early in the data): left out of the CAR statistics",
        ),
        (
            "Dropped: truncated",
            g.dropped.get("truncated"),
            "count",
            "windows cut by the data's end, dropped before running",
        ),
        (
            "Dropped: merged",
            g.dropped.get("merged"),
            "count",
            "inside an earlier kept window of the same group: merged into that event"
            if st.get("overlap", "merge") == "merge"
            else "overlap=keep: none merged",
        ),
        ("Calendar-time alpha (annual)", ct["alpha_annual"], "pct2", "daily alpha x trading days"),
        ("t of alpha", ct["t_alpha"], "num", f"Newey-West, {ct['maxlags']} lags"),
        ("Calendar-time beta", ct["beta"], "num", f"{ct['n_days']} days with an event open"),
    ]


def _summary_table(g: Generalization) -> str:
    rows = "".join(
        f'<tr><td class="t">{html.escape(name)}</td>{_td(value, kind)}'
        f'<td class="t muted">{html.escape(note)}</td></tr>'
        for name, value, kind, note in summary_rows(g)
    )
    return (
        "<table class=summary><thead><tr><th>Statistic</th><th>Value</th><th>Definition</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def whole_groups(events: pd.DataFrame) -> str:
    """The sentence on events where every member of the group was bought (n_picked ==
    n_members): there the strategy holds the whole group, not a choice within it."""
    every = events["n_picked"].to_numpy() == events["n_members"].to_numpy()
    traded = events["traded"].to_numpy(dtype=bool)
    n, k = len(events), int(every.sum())
    if k == 0:
        return f"<p>In none of the {n} events did the strategy buy every member of the group.</p>"
    return (
        f"<p><b>Every member bought</b> (picked = members) in {k} of the {n} events "
        f"({int((every & traded).sum())} of the {int(traded.sum())} traded): there the strategy held the "
        "whole group, not its worst "
        "decliners.</p>"
    )


def events_table(events: pd.DataFrame) -> str:
    cols = {c: spec for c, spec in EVENT_TABLE.items() if c in events.columns}
    head = "<th>#</th>" + "".join(
        f'<th class="t">{h}</th>' if k in TEXT_KINDS else f"<th>{h}</th>" for h, k in cols.values()
    )

    def value(row, c: str, kind: str):
        return (row["n_picked"], row["n_members"]) if kind == "ratio" else row[c]

    rows = "".join(
        f"<tr><td>{n}</td>" + "".join(_td(value(row, c, k), k) for c, (_, k) in cols.items()) + "</tr>"
        for n, (_, row) in enumerate(events.iterrows())
    )
    table = f"<table class=events><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    return f"<div class=wide>{table}</div>"


def _skipped(skipped: dict) -> str:
    if not skipped:
        return "<p><b>Skipped groups</b> (too few members with prices): none.</p>"
    items = [f"{html.escape(str(group))} ({int(n)})" for group, n in skipped.items()]
    more = len(items) - MAX_SKIPPED
    shown = "; ".join(items[:MAX_SKIPPED]) + (f"; … +{more} more" if more > 0 else "")
    return f"<p><b>Skipped groups</b> (too few members with prices; how many have prices): {shown}.</p>"


# -- the grid: stability surface, StepM, SPA, walk-forward ----------------------------------


def _interval_text(low, high) -> str:
    if _missing(low) or _missing(high):
        return "–"
    return f"{low:+.2%} to {high:+.2%}"


def _surface_notes(g: Generalization) -> list[str]:
    """Each set's lines of the surface's hover label after its mean CAR: its interval, adjusted
    t and p, events and whether it survives StepM."""
    grid = g.grid
    survives = _survivors(g)
    notes = []
    for row in range(len(grid)):
        r = grid.iloc[row]
        t = "–" if _missing(r.get("t_adj")) else f"{r['t_adj']:.2f}"
        p = "–" if _missing(r.get("p_adj")) else f"{r['p_adj']:.3f}"
        events = str(int(r["n_events"])) if "n_events" in r else "–"
        stepm = "survives StepM" if survives[row] else "does not survive StepM"
        notes.append(
            f"95% interval {_interval_text(r.get('ci_low'), r.get('ci_high'))}<br>adjusted t {t} (p {p})"
            f"<br>{events} events, {stepm}"
        )
    return notes


def _survivors(g: Generalization) -> np.ndarray:
    grid = g.grid
    if "survives_stepm" in grid:
        return np.asarray(grid["survives_stepm"], dtype=bool)
    return np.zeros(len(grid), bool)


def surface_metric(g: Generalization) -> surface.Metric:
    """The stability surface's one metric: each set's mean CAR, in percent."""
    return surface.Metric(
        name="mean CAR",
        title="Mean CAR",
        colorbar="mean CAR (%)",
        values=g.grid["mean_car"].to_numpy(dtype=float) * 100.0,
        text=lambda v: f"{v:+.2f}%",
        hover="mean CAR %{z:+.2f}%",
    )


def surface_html(g: Generalization, first_figure: bool | str) -> str:
    """The stability surface (reports.surface): a heatmap of each set's mean CAR over two swept
    parameters chosen with the dropdowns (x, y), every other swept parameter fixed at the value
    its dropdown holds (at first: x, y = the first two swept parameters, the others at the set
    shown), a star on the sets that survive StepM; a sentence instead when the grid is too
    large for one page."""
    swept = list(g.swept)
    if not swept:
        return ""
    cells = surface.cells(g.grid, swept)
    if cells > surface.MAX_CELLS:
        return (
            f"<p>The grid is too large for a surface on one page ({cells:,} cells over every choice of "
            "axes); the grid CSV (--csv) and --json have every set.</p>"
        )
    metrics, notes = [surface_metric(g)], _surface_notes(g)
    body = surface.surface_html(
        "gen-surface", g.grid, swept, metrics, g.shown, first_figure, notes, _survivors(g)
    )
    return (
        "<p>Each cell is one parameter set's mean CAR (no averaging over sets): choose the two swept "
        "parameters on the axes and the value every other swept parameter is fixed at. "
        f"{SURVIVES} marks a set that survives StepM at {g.stepm['alpha']:.0%}.</p>" + body
    )


def stepm_html(g: Generalization) -> str:
    """The sets that survive StepM (a table), or a sentence that none does."""
    st = g.stepm
    rejected = np.asarray(st["rejected"], dtype=bool)
    n = len(rejected)
    alpha = f"{st['alpha']:.0%}"
    intro = (
        f"<p>Romano and Wolf's StepM (2005) asks which sets have a mean CAR above 0 while holding the "
        f"chance of calling any set with a mean at or below 0 positive at {alpha} over all {n} sets "
        f"(studentized, one-sided; event dates resampled, {st['n_boot']:,} draws; "
        f"{int(np.asarray(st['eligible']).sum())} sets testable).</p>"
    )
    if not rejected.any():
        return intro + f"<p><b>No set survives StepM at {alpha}.</b></p>"
    grid = g.grid
    head = "".join(f"<th>{html.escape(name)}</th>" for name in g.swept)
    rows = []
    for s in np.flatnonzero(rejected):
        r = grid.iloc[s]
        rows.append(
            "<tr>"
            + "".join(f"<td>{html.escape(str(r[name]))}</td>" for name in g.swept)
            + _td(int(r["n_events"]), "count")
            + _td(r["mean_car"], "pct2")
            + _td((r["ci_low"], r["ci_high"]), "interval")
            + _td(r["t_adj"], "num")
            + _td(float(np.asarray(st["t"])[s]), "num")
            + _td(int(np.asarray(st["step"])[s]), "count")
            + "</tr>"
        )
    return (
        intro
        + f"<p><b>{len(rows)} of {n} sets survive StepM at {alpha}.</b></p>"
        + f"<table class=grid><thead><tr>{head}<th>Events</th><th>Mean CAR</th><th>95% interval</th>"
        "<th>Adjusted t</th><th>StepM t</th><th>Step</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def spa_html(g: Generalization) -> str:
    sp = g.spa
    p = sp["pvalues"]
    best = (
        ""
        if sp["best"] is None
        else f" The best studentized set: {_set_text(g, sp['best'])} (t {sp['best_t']:.2f})."
    )
    return (
        "<p>Hansen's test for superior predictive ability (2005): is any of the "
        f"{sp['n_sets']} sets' mean CAR above 0, the search over all of them allowed for? "
        f"p = {cell(p['consistent'], 'p')} (consistent; "
        f"lower {cell(p['lower'], 'p')}, upper {cell(p['upper'], 'p')}: the upper is White's Reality Check, "
        f"2000; {sp['n_eligible']} sets tested, event dates resampled, {sp['n_boot']:,} draws).{best}</p>"
    )


def _walk_forward_sentence(g: Generalization) -> str:
    wf = g.walk_forward
    if not wf["n_folds"]:
        return (
            f"No walk-forward: the events fall on {wf['n_dates']} dates and the first "
            f"{wf['min_train_dates']} are in sample only."
        )
    ci = wf["ci"]
    return (
        f"Walk-forward: at each of {wf['n_folds']} cut-offs the set with the best mean CAR on every earlier "
        f"event was chosen and scored on the next fold's events only; pooled out of sample the chosen sets' "
        f"mean CAR was {cell(wf['oos_mean'], 'pct2')} over {wf['oos_n']} events on {ci['n_clusters']} dates "
        f"({ci['level']:.0%} interval {cell((ci['low'], ci['high']), 'interval')}, event dates resampled, "
        f"{ci['n_boot']:,} draws); {wf['oos_untraded']} out-of-sample events were not traded by the "
        "chosen set."
    )


def walk_forward_html(g: Generalization) -> str:
    wf = g.walk_forward
    text = f"<p class=quote>{_walk_forward_sentence(g)}</p>"
    if not wf["n_folds"]:
        return text
    rows = []
    for n, f in enumerate(wf["folds"], start=1):
        chosen = "no set had an in-sample event" if f["chosen"] is None else _set_text(g, f["chosen"])
        rows.append(
            f"<tr><td>{n}</td>{_td(f['cutoff'], 'date')}{_td(f['last'], 'date')}"
            f"{_td(f['n_fold_dates'], 'count')}<td class=t>{chosen}</td>{_td(f['is_mean'], 'pct2')}"
            f"{_td(f['is_n'], 'count')}{_td(f['oos_mean'], 'pct2')}{_td(f['oos_n'], 'count')}"
            f"{_td(f['oos_untraded'], 'count')}</tr>"
        )
    return (
        text + "<table class=folds><thead><tr><th>Fold</th><th>Cut-off</th><th>Last date</th><th>Dates</th>"
        '<th class="t">Chosen set</th><th>In-sample mean CAR</th><th>Events</th>'
        "<th>Out-of-sample mean CAR</th><th>Events</th><th>Not traded</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def grid_table_html(g: Generalization) -> str:
    """The GRID_ROWS sets with the best mean CAR, the set shown highlighted."""
    grid = g.grid.assign(_row=np.arange(len(g.grid)))
    top = grid.sort_values("mean_car", ascending=False, na_position="last").head(GRID_ROWS)
    head = "".join(f"<th>{html.escape(name)}</th>" for name in g.swept)
    rows = []
    for _, r in top.iterrows():
        cls = " class=shown" if r["_row"] == g.shown else ""
        rows.append(
            f"<tr{cls}>"
            + "".join(f"<td>{html.escape(str(r[name]))}</td>" for name in g.swept)
            + _td(int(r["n_events"]), "count")
            + _td(r["mean_car"], "pct2")
            + _td((r["ci_low"], r["ci_high"]), "interval")
            + _td(r["t_adj"], "num")
            + _td(r["p_adj"], "p")
            + _td((r["placebo_p"], r["placebo_se"]), "p_se")
            + f"<td>{'yes' if r.get('survives_stepm') else 'no'}</td></tr>"
        )
    what = (
        f"The {len(top)} sets with the best mean CAR of {len(grid)}" if len(top) < len(grid) else "Every set"
    )
    return (
        f"<p>{what} (highlighted: the set shown; every set is in --json and the grid CSV).</p>"
        f"<table class=grid><thead><tr>{head}<th>Events</th><th>Mean CAR</th><th>95% interval</th>"
        "<th>Adjusted t</th><th>Adjusted p</th><th>Placebo p</th><th>Survives StepM</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


# -- figures ---------------------------------------------------------------------------------


def path_figure(paths: pd.DataFrame, strategy: str = "") -> go.Figure:
    """Mean cumulative excess over the market by event day (%), with mean ± 1.96 sd/√n of the
    events present that day, in the strategy's colour (reports.palette)."""
    pct = paths.astype(float) * 100.0
    mean, n = pct.mean(axis=1), pct.count(axis=1)
    half = 1.96 * pct.std(axis=1, ddof=1) / np.sqrt(n.where(n > 0))
    x = list(pct.index)
    colour = palette.strategy(strategy)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(x=x, y=mean + half, mode="lines", line={"width": 0}, hoverinfo="skip", showlegend=False)
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=mean - half,
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=palette.translucent(colour, 0.18),
            name="95% band",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=mean,
            mode="lines+markers",
            line={"color": colour, "width": 2.2},
            marker={"size": 4},
            name="mean",
            customdata=np.column_stack([mean - half, mean + half, n]),
            hovertemplate="day %{x}: mean %{y:+.2f}%<br>95% band %{customdata[0]:+.2f}% to "
            "%{customdata[1]:+.2f}%<br>%{customdata[2]} events<extra></extra>",
        )
    )
    fig.add_hline(y=0, line={"color": palette.GREY, "width": 1})
    return figures.layout(
        fig,
        "Mean cumulative excess return over the market in event time (events traded)",
        "trading days after the event day",
        "excess over market (%)",
        hovermode="x",
    )


def _traded_paths(g: Generalization) -> pd.DataFrame:
    """The event-time paths of the events the set traded (columns are event positions)."""
    traded = g.events["traded"].to_numpy(dtype=bool)
    if len(traded) != g.paths.shape[1]:
        return g.paths
    return g.paths.loc[:, traded]


def placebo_figure(g: Generalization) -> go.Figure:
    """The market-model CARs (%) of the placebo replays (grey) and of the events the set traded
    (the strategy's colour), as translucent histograms (share of each), a vertical line at the
    events' mean CAR."""
    fig = go.Figure()
    pl = g.placebo_events
    keep = pl["traded"].to_numpy(dtype=bool) if "traded" in pl else np.ones(len(pl), dtype=bool)
    placebo = pl.loc[keep, "car"].astype(float).dropna() * 100.0
    ev = g.events
    events = ev.loc[ev["traded"].to_numpy(dtype=bool), "car"].astype(float).dropna() * 100.0
    both = pd.concat([placebo, events])
    size = (both.max() - both.min()) / 40 if len(both) > 1 and both.max() > both.min() else None
    bins = {"size": size} if size else None
    if len(placebo):
        fig.add_trace(
            go.Histogram(
                x=placebo,
                histnorm="percent",
                xbins=bins,
                name=f"placebo replays ({len(placebo)})",
                marker={"color": palette.GREY},
                opacity=0.55,
                hovertemplate="%{x}%: %{y:.1f}% of placebo replays<extra></extra>",
            )
        )
    fig.add_trace(
        go.Histogram(
            x=events,
            histnorm="percent",
            xbins=bins,
            name=f"events ({len(events)})",
            marker={"color": palette.strategy(g.strategy)},
            opacity=0.55,
            hovertemplate="%{x}%: %{y:.1f}% of events<extra></extra>",
        )
    )
    mean = g.summary["mean_car"]
    if not _missing(mean):
        fig.add_vline(
            x=mean * 100.0,
            line={"color": palette.MARK, "width": 2, "dash": "dash"},
            annotation_text=f"event mean {mean * 100:+.2f}%",
            annotation_position="top right",
        )
    fig.update_layout(barmode="overlay")
    return figures.layout(
        fig,
        "Market-model CAR: placebo replays vs events",
        "CAR over the holding window (%)",
        "% of each",
        hovermode="x",
    )


def calendar_figure(calendar: pd.DataFrame, strategy: str = "", market: str = "SPY") -> go.Figure:
    """Growth of 1 of the calendar-time portfolio (in the strategy's colour) and of the market
    (in the benchmark's, dashed; reports.palette) (cumulative product of 1 + daily return; a
    missing return counts as 0)."""
    cum = (1.0 + calendar[["portfolio", "market"]].astype(float).fillna(0.0)).cumprod()
    dates = [d.strftime("%Y-%m-%d") for d in pd.DatetimeIndex(calendar.index)]
    n_open = calendar["n_open"] if "n_open" in calendar else pd.Series(np.nan, index=calendar.index)
    fig = go.Figure()
    lines = {"portfolio": {"color": palette.strategy(strategy), "width": palette.WIDTH}}
    lines["market"] = palette.benchmark_line(market)
    for col, name in (("portfolio", "events portfolio"), ("market", "market")):
        fig.add_trace(
            go.Scatter(
                x=dates,
                y=cum[col],
                mode="lines",
                name=name,
                line=lines[col],
                customdata=n_open.to_numpy(),
                hovertemplate=name + ": %{y:.3f} (%{customdata} events open)<extra></extra>",
            )
        )
    fig.add_hline(y=1, line={"color": "#bbb", "width": 1})
    fig.update_xaxes(type="date", hoverformat="%Y-%m-%d (%a)")
    return figures.layout(
        fig,
        "Calendar time: growth of 1, mean of the events open each day vs the market",
        "date (days with at least one event open)",
        "growth of 1",
        hovermode="x unified",
    )


def _parts(g: Generalization, plotlyjs: bool | str = True):
    """The page's HTML in pieces, top to bottom (lazily: figures are built as written);
    `plotlyjs` as reports.figures.div takes it on the first figure."""
    label = g.settings.get("universe_label", g.universe)
    title = f"Generalisation: {g.strategy} on {label} by {g.by}"
    yield (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<style>{STYLE}{EXTRA_STYLE}</style></head><body>"
    )
    sets = f" ({len(g.grid)} parameter sets)" if _is_grid(g) else ""
    yield (
        f"<h1>{html.escape(title)}</h1><p class=sub>One run of {html.escape(g.strategy)}{sets} per "
        f"{html.escape(g.by)} shock of {html.escape(str(label))}: its market-model abnormal return, its "
        "return against the market, against the same rule replayed on non-event days (placebo) and in "
        "calendar time. Returns in percent.</p>"
    )
    yield f"<p class=verdict>{verdict(g)}</p>"
    yield "<h2>Settings</h2>" + _settings_table(g)
    shown = f" of the set shown ({_set_text(g, g.shown)})" if _is_grid(g) else ""
    yield f"<h2>Statistics{shown}</h2>" + _summary_table(g) + whole_groups(g.events)
    first = plotlyjs
    if _is_grid(g):
        surface = surface_html(g, first)
        if 'id="gen-surface"' in surface:  # the surface may be too large to draw
            first = False
        yield "<h2>Stability surface</h2>" + surface
        yield "<h2>Multiple testing: StepM</h2>" + stepm_html(g)
        yield "<h2>Multiple testing: SPA</h2>" + spa_html(g)
        yield "<h2>Walk-forward</h2>" + walk_forward_html(g)
        yield "<h2>The sets</h2>" + grid_table_html(g)
    yield "<h2>Event time</h2>" + figures.div(path_figure(_traded_paths(g), g.strategy), "gen-path", first)
    yield "<h2>Placebo</h2>" + figures.div(placebo_figure(g), "gen-placebo", False)
    yield "<h2>Calendar time</h2>" + figures.div(
        calendar_figure(g.calendar, g.strategy, g.settings.get("market", "SPY")), "gen-calendar", False
    )
    yield f"<h2>Every event{shown} ({len(g.events)})</h2>" + events_table(g.events)
    yield _skipped(g.skipped)
    yield "</body></html>\n"


def write(g: Generalization, path: Path, shared: Path | None = None) -> Path:
    """Write the page to `path` (whole file or nothing: pieces go to a temporary file beside
    it, which replaces `path` once complete) and return it; it loads plotly.js from the
    reports folder `shared` when inside it (reports.figures.plotly_js)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    plotlyjs = figures.plotly_js(path, shared)

    def fill(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8") as out:
            for part in _parts(g, plotlyjs):
                out.write(part)

    return write_atomic(path, fill)
