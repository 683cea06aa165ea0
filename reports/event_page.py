"""The event-study page: coverage, breadth, benchmarks, extremes, group tests, interactive
charts (Plotly; plotly.js as reports.figures.plotly_js decides) and the per-name table of one
engine.events.study.EventStudy, as one offline HTML file."""

from __future__ import annotations

import html
import math
import numbers
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from engine.events.study import OK, EventStudy
from engine.outputs import write_atomic
from reports.index_page import STYLE

if TYPE_CHECKING:
    import plotly.graph_objects as go

EXTRA_STYLE = (
    "td.t{text-align:left} .ends{display:flex;gap:3rem}"
    " .rows{max-height:70vh;overflow:auto;margin:1rem 0;border:1px solid #e3e3e3}"
    " .rows table{margin:0} .rows thead th{position:sticky;top:0;z-index:1}"
    " .rows th,.rows td{padding:.25rem .45rem} th.t{text-align:left}"
    " table.sortable th{cursor:pointer;user-select:none} table.sortable th:hover{background:#e9eef6}"
    ' th[aria-sort=ascending]::after{content:" ▲"} th[aria-sort=descending]::after{content:" ▼"}'
)
NUMERIC = ("pct", "num", "p", "count", "days")  # kinds sorted as numbers
# Sorts a table.sortable by the column whose header is clicked: numbers by their data-v (a
# cell without one is missing and goes last either way), text columns by their text; a
# second click on the same header reverses the order.
SORT_SCRIPT = """<script>(function(){
function key(row,col,num){var c=row.cells[col];if(!num){return c.textContent;}
 var v=c.getAttribute("data-v");return v===null?NaN:parseFloat(v);}
document.querySelectorAll("table.sortable").forEach(function(table){
 var heads=table.tHead.rows[0].cells;
 Array.prototype.forEach.call(heads,function(th,col){th.addEventListener("click",function(){
  var body=table.tBodies[0],num=th.getAttribute("data-sort")==="num";
  var dir=th.getAttribute("aria-sort")==="ascending"?-1:1;
  var rows=Array.prototype.map.call(body.rows,function(r,i){return {r:r,k:key(r,col,num),i:i};});
  rows.sort(function(a,b){
   if(num){var na=isNaN(a.k),nb=isNaN(b.k);
    if(na||nb){return na===nb?a.i-b.i:(na?1:-1);}
    return a.k===b.k?a.i-b.i:dir*(a.k-b.k);}
   var c=a.k.localeCompare(b.k);return c===0?a.i-b.i:dir*c;});
  rows.forEach(function(x){body.appendChild(x.r);});
  Array.prototype.forEach.call(heads,function(h){h.removeAttribute("aria-sort");});
  th.setAttribute("aria-sort",dir>0?"ascending":"descending");});});
});})();</script>"""
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


def fmt(value, kind: str) -> str:
    """A cell's text: pct as signed %, num to 2 decimals, p to 3 significant digits, days as
    an integer (NaN: not within the window); '–' for a missing figure (None, or NaN but for
    days)."""
    if kind == "text":
        return html.escape(str(value))
    if value is None:
        return "–"
    if isinstance(value, float) and math.isnan(value):
        return "not within window" if kind == "days" else "–"
    return {
        "pct": lambda v: f"{v:+.1%}",
        "num": lambda v: f"{v:.2f}",
        "p": lambda v: f"{v:.3g}",
        "count": lambda v: f"{int(v)}",
        "days": lambda v: f"{int(v)} d",
    }[kind](value)


def _number(value) -> float | None:
    """`value` as a finite float, or None (missing, or not a number)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        return None
    return float(value) if math.isfinite(value) else None


def _td(value, kind: str, sortable: bool = False) -> str:
    cls = "t" if kind == "text" else ""
    cls = cls or ("neg" if kind == "pct" and isinstance(value, float) and value < 0 else "")
    cls = cls or ("pos" if kind == "pct" and isinstance(value, float) and value > 0 else "")
    number = _number(value) if sortable and kind in NUMERIC else None
    key = "" if number is None else f' data-v="{number!r}"'
    return f'<td class="{cls}"{key}>{fmt(value, kind)}</td>'


def table_html(
    frame: pd.DataFrame, columns: dict[str, tuple[str, str]], first: str, sortable: bool = False
) -> str:
    """`frame`'s `columns` ({column: (heading, kind)}) with its index as the first column.
    `sortable`: a click on a header sorts the rows by that column (SORT_SCRIPT, which the page
    must hold): numeric kinds by each cell's value (data-v), the others by their text."""
    cols = {c: spec for c, spec in columns.items() if c in frame.columns}

    def th(heading: str, kind: str) -> str:
        sort = f' data-sort="{"num" if kind in NUMERIC else "text"}"' if sortable else ""
        return f"<th{' class=t' if kind == 'text' else ''}{sort}>{heading}</th>"

    head = th(html.escape(first), "text") + "".join(th(h, k) for h, k in cols.values())
    rows = "".join(
        f"<tr><td>{html.escape(str(label))}</td>"
        + "".join(_td(row[c], k, sortable) for c, (_, k) in cols.items())
        + "</tr>"
        for label, row in frame.iterrows()
    )
    cls = " class=sortable" if sortable else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


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
