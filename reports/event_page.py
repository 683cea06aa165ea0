"""The event-study page: coverage, breadth, benchmarks, extremes, group tests, interactive
charts (Plotly; plotly.js as reports.figures.plotly_js decides) and the per-name table of one
engine.events.study.EventStudy, as one offline HTML file."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from engine.events.study import OK, EventStudy
from engine.outputs import write_atomic
from reports.index_page import STYLE
from reports.table import SORT_SCRIPT, SORT_STYLE, table_html

if TYPE_CHECKING:
    import plotly.graph_objects as go

EXTRA_STYLE = " .ends{display:flex;gap:3rem}" + SORT_STYLE
GROUP_COLUMNS = {
    "n": ("Names", "count"),
    "mean_return": ("Mean", "pct"),
    "median_return": ("Median", "pct"),
    "advancers": ("Up", "count"),
    "decliners": ("Down", "count"),
    "mean_runup_ytd": ("Run-up YTD", "pct"),
    "car_event": ("CAR day 0", "pct"),
    "t_event": ("t", "num"),
    "car_post": ("CAR after", "pct"),
    "t_post": ("t", "num"),
    "car_window": ("CAR window", "pct"),
    "t_window": ("t", "num"),
    "p_window": ("p", "p"),
}
NAME_COLUMNS = {
    "role": ("Role", "text"),
    "sector": ("Sector", "text"),
    "event_return": ("Day 0", "pct"),
    "runup_ytd": ("Run-up YTD", "pct"),
    "runup_recent": ("Run-up recent", "pct"),
    "ret_after_5d": ("+5d", "pct"),
    "ret_after_20d": ("+20d", "pct"),
    "ret_after_60d": ("+60d", "pct"),
    "max_drawdown_after": ("Further DD", "pct"),
    "days_to_recover": ("Recovered in", "days"),
    "abnormal_return": ("AR day 0", "pct"),
    "car_window": ("CAR window", "pct"),
    "beta": ("Beta", "num"),
}


def _summary(s: EventStudy, label: str) -> str:
    b = s.breadth
    missing = s.table.loc[s.missing, "status"]
    listed = ", ".join(f"{html.escape(t)} ({html.escape(why)})" for t, why in missing.items()) or "none"
    verdict = "is" if s.shock["detected"] else "is not"
    market = html.escape(s.market)
    model = (
        f"market model fitted on up to {s.estimation} trading days before the window"
        if s.model == "market"
        else f"market-adjusted (return minus {market})"
    )
    items = [
        f"Universe <b>{html.escape(label)}</b>: {len(s.table)} members, {len(s.covered)} covered, "
        f"{len(s.missing)} missing: {listed}",
        f"Event day: {b['advancers']} advancers, {b['decliners']} decliners, {b['unchanged']} unchanged",
        f"Detected shock: the day {verdict} a sector-specific shock of this universe (equal-weight "
        f"{s.shock['group_return']:+.1%} vs {market} {s.shock['market_return']:+.1%}; threshold "
        f"-{s.shock['min_drop']:.0%} with the market above -{s.shock['max_market_drop']:.0%})",
        f"Abnormal returns: {model}; cross-sectional t-test of the mean CAR (names assumed "
        "independent, which a shared event date overstates)",
    ]
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def _charts(s: EventStudy, k: int) -> list[tuple[str, go.Figure]]:
    """(div id, figure) of each chart, in page order: per grouping (role, then sector) the
    cumulative return ("event-paths-KIND") and the CAAR ("event-caar-KIND") by group, then the
    ranked event-day returns ("event-ranked") and the share recovered ("event-recovery")."""
    from reports import event_charts

    kinds = [kind for kind in ("role", "sector") if kind in s.paths]
    out = []
    for kind in kinds:
        paths = pd.concat([s.paths["universe"], s.paths[kind]], axis=1)
        out.append(
            (
                f"event-paths-{kind}",
                event_charts.event_time_chart(
                    paths,
                    f"Cumulative return from the pre-event close, mean by {kind}",
                    "cumulative return",
                    s.benchmark_paths,
                ),
            )
        )
        caar = pd.concat([s.caar["universe"], s.caar[kind]], axis=1)
        out.append(
            (
                f"event-caar-{kind}",
                event_charts.event_time_chart(caar, f"Cumulative average abnormal return by {kind}", "CAAR"),
            )
        )
    ranked = event_charts.ranked_bar_chart(s.ranked(), f"Event-day returns, {s.date.date()}", k)
    out.append(("event-ranked", ranked))
    recovery = pd.concat([s.recovery["universe"], s.recovery[kinds[0]]], axis=1)
    share = event_charts.recovery_chart(recovery, "Share of names back at the pre-event close")
    out.append(("event-recovery", share))
    return out


def members_table(s: EventStudy) -> pd.DataFrame:
    """The per-name table, days to recover None for a name not covered (shown '–', not 'not
    within window'), without the sector column when the membership gives none."""
    table = _uncovered_days(s.table, s.table["status"] == OK)
    return table.drop(columns="sector") if (table["sector"] == "").all() else table


def _uncovered_days(frame: pd.DataFrame, covered) -> pd.DataFrame:
    days = [d if ok else None for d, ok in zip(frame["days_to_recover"], covered, strict=True)]
    return frame.assign(days_to_recover=pd.Series(days, index=frame.index, dtype=object))


def event_page(s: EventStudy, label: str, k: int = 5, plotlyjs: bool | str = True) -> str:
    """The page's HTML text; `plotlyjs` as reports.figures.div takes it (True: inline)."""
    from reports import figures

    ranked = s.ranked().to_frame("event_return")
    cols = {"event_return": ("Day 0", "pct")}
    title = f"Event study: {label} on {s.date.date()}"
    body = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p class=sub>Event day {s.date.date()} ({s.date.day_name()}) against the close of "
        f"{s.prev_date.date()}; window −{s.pre}..+{s.post} trading days. Returns are simple, from "
        "adjusted closes.</p>",
        _summary(s, label),
        "<h2>Market and sector ETFs</h2>",
        table_html(
            _uncovered_days(s.benchmarks, s.benchmarks["event_return"].notna()), NAME_COLUMNS, "Ticker"
        ),
        f"<h2>Bottom {k} and top {k}</h2><div class=ends>",
        table_html(ranked.head(k), cols, "Bottom"),
        table_html(ranked.tail(k).iloc[::-1], cols, "Top"),
        "</div><h2>Charts</h2>",
        *(figures.div(fig, div_id, n == 0 and plotlyjs) for n, (div_id, fig) in enumerate(_charts(s, k))),
    ]
    for kind, frame in s.groups.items():
        body += [f"<h2>By {kind}</h2>", table_html(frame, GROUP_COLUMNS, kind.capitalize())]
    body += [
        "<p>CAR day 0: abnormal return on the event day; CAR after: days 1..post; CAR window: the "
        "whole window. t and p: cross-sectional t-test of the group's mean CAR.</p>",
        f"<h2>Every member ({len(s.table)})</h2><p>Click a heading to sort by it; again to reverse.</p>",
        "<div class=rows>",
        table_html(members_table(s), {"status": ("Status", "text"), **NAME_COLUMNS}, "Ticker", sortable=True),
        "</div>",
        SORT_SCRIPT,
    ]
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<style>{STYLE}{EXTRA_STYLE}</style></head><body>{''.join(body)}</body></html>\n"
    )


def write_event_page(path: Path, s: EventStudy, label: str, k: int = 5, shared: Path | None = None) -> Path:
    """Write the page to `path` (engine.outputs.write_atomic: whole file or nothing) and return it;
    it loads plotly.js from the reports folder `shared` when inside it (reports.figures.plotly_js)."""
    from reports import figures

    page = event_page(s, label, k, figures.plotly_js(path, shared))
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, lambda tmp: tmp.write_text(page, encoding="utf-8"))
