"""The generalisation page: one engine.events.generalize.Generalization as one self-contained HTML
file (plotly.js inline once, nothing fetched): a verdict in words, the settings, the
cross-event statistics, the mean event-time path, the placebo distribution, the
calendar-time equity and the per-event table.

Numbers are formatted here, not computed: the page only takes means, bands and cumulative
products for its plots. Inputs are fractions; the page shows percent."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from engine.outputs import write_atomic
from reports import figures
from reports.event_page import fmt
from reports.index_page import STYLE

if TYPE_CHECKING:
    from engine.events.generalize import Generalization

LEVEL = 0.05  # the verdict's significance level
MAX_MEMBERS = 8  # members named per event; the rest counted
BLUE, GREY, RED, ORANGE = "#1f4e9a", "#777", "#b22222", "#d9822b"
EXTRA_STYLE = (
    "td.t{text-align:left} .verdict{font-size:1.05rem;max-width:900px;background:#f6f8fb;"
    "border-left:4px solid #1f4e9a;padding:.6rem .9rem}"
    " table.events td,table.events th{padding:.2rem .45rem;font-size:13px} .muted{color:#666}"
    " table.settings th,table.summary th:last-child,th.t{text-align:left} td.d{white-space:nowrap}"
)
EVENT_TABLE = {
    "date": ("Date", "date"),
    "group": ("Group", "text"),
    "members": ("Members", "members"),
    "n_members": ("n", "count"),
    "start": ("Start", "date"),
    "end": ("End", "date"),
    "days": ("Days", "count"),
    "group_return": ("Group day 0", "pct"),
    "market_return": ("Market day 0", "pct"),
    "strategy_return": ("Strategy", "pct"),
    "excess_market": ("Excess vs market", "pct"),
    "excess_group": ("Excess vs group", "pct"),
}
TEXT_KINDS = ("text", "members", "date")


def _missing(value) -> bool:
    return value is None or (isinstance(value, float | np.floating) and math.isnan(value))


def cell(value, kind: str) -> str:
    """A value's text, escaped: event_page.fmt's kinds (pct signed, num 2 decimals, p 3
    significant digits, count, text) plus share (unsigned %), num0 (no decimals), date,
    members (a comma list of up to MAX_MEMBERS names and a count of the rest) and interval
    ([low, high] in %)."""
    if kind == "members":
        names = [str(m) for m in value]
        more = len(names) - MAX_MEMBERS
        shown = ", ".join(names[:MAX_MEMBERS]) + (f", … +{more} more" if more > 0 else "")
        return html.escape(shown)
    if kind == "interval":
        low, high = value
        return f"{fmt(low, 'pct')} to {fmt(high, 'pct')}"
    if kind == "text":
        return fmt(value, "text")
    if _missing(value) or (kind == "date" and pd.isna(value)):
        return "–"
    if kind == "share":
        return f"{value:.0%}"
    if kind == "num0":
        return f"{value:.0f}"
    if kind == "date":
        return html.escape(str(pd.Timestamp(value).date()))
    return fmt(value, kind)


def _count(value) -> str:
    return f"{value:,}" if isinstance(value, int | np.integer) else "–" if value is None else str(value)


def _td(value, kind: str) -> str:
    sign = kind == "pct" and not _missing(value)
    cls = "t d" if kind == "date" else "t" if kind in ("text", "members") else ""
    cls = cls or ("neg" if sign and value < 0 else "pos" if sign and value > 0 else "")
    return f'<td class="{cls}">{cell(value, kind)}</td>' if cls else f"<td>{cell(value, kind)}</td>"


def verdict(g: Generalization) -> str:
    """One plain-language paragraph (plain text) built only from the page's numbers."""
    s, pl = g.summary, g.placebo
    mean, t_kp, p_kp, p_pl = s["mean_excess_market"], s["t_kp"], s["p_kp"], pl["p_value"]
    n = s["n_events"]
    if _missing(mean):
        return f"No event outcomes to judge ({n} events)."
    way = "beat" if mean > 0 else "trailed"
    horizon = g.settings.get("horizon")
    over = f" over {horizon} trading days" if horizon is not None else ""
    kp_text = f"KP-adjusted t = {cell(t_kp, 'num')} (p = {cell(p_kp, 'p')})"
    placebo = f"placebo p = {cell(p_pl, 'p')}" if not _missing(p_pl) else "no placebo comparison"
    beats_market = mean > 0 and not _missing(p_kp) and p_kp < LEVEL
    beats_placebo = mean > 0 and not _missing(p_pl) and p_pl < LEVEL
    if mean <= 0:
        conclusion = "no evidence it beats the market after these shocks."
    elif beats_market and beats_placebo:
        conclusion = "evidence it beats both the market and buying after ordinary days."
    elif beats_market:
        conclusion = (
            "it beats the market, but no evidence it beats buying after ordinary days."
            if not _missing(p_pl)
            else "it beats the market; no placebo days to compare with."
        )
    elif beats_placebo:
        conclusion = (
            "better than buying after ordinary days, but the KP-adjusted test cannot tell "
            "the excess over the market from zero."
        )
    else:
        conclusion = "no evidence it beats buying after ordinary days."
    return (
        f"Across {n} events the strategy {way} the market by a mean {abs(mean):.1%}"
        f"{over}; hit rate {cell(s['hit_rate'], 'share')}; {kp_text}; {placebo}: {conclusion}"
    )


def _settings_table(g: Generalization) -> str:
    st = g.settings

    def share(key: str) -> str:
        return cell(st[key], "share") if key in st else "–"

    rows = {
        "k (sd)": st.get("k"),
        "Min fall": share("min_fall"),
        "Max market drop": share("max_market_drop"),
        "Min members": st.get("min_members"),
        "Horizon (days)": st.get("horizon"),
        "Placebo days": f"{st.get('placebo', '–')} asked, {g.placebo.get('n', len(g.placebo_events))} run",
        "Seed": st.get("seed"),
        "Market": st.get("market"),
        "Parameters": ", ".join(f"{k}={v}" for k, v in (st.get("params") or {}).items()) or "defaults",
    }
    head = "".join(f"<th>{html.escape(k)}</th>" for k in rows)
    body = "".join(f'<td class="t">{html.escape("–" if v is None else str(v))}</td>' for v in rows.values())
    return f"<table class=settings><thead><tr>{head}</tr></thead><tbody><tr>{body}</tr></tbody></table>"


def summary_rows(g: Generalization) -> list[tuple[str, object, str, str]]:
    """(statistic, value, kind, note) for the summary table."""
    s, pl, ct = g.summary, g.placebo, g.calendar_time
    return [
        ("Events", s["n_events"], "count", f"on {s['n_dates']} distinct dates"),
        ("Mean excess over market", s["mean_excess_market"], "pct", "strategy minus market, event window"),
        ("Median excess over market", s["median_excess_market"], "pct", ""),
        (
            "Mean excess over the group",
            s["mean_excess_group"],
            "pct",
            "strategy minus the group's equal weight",
        ),
        ("Hit rate", s["hit_rate"], "share", "share of events with excess > 0"),
        (
            f"{s['ci_level']:.0%} bootstrap interval of the mean",
            (s["ci_low"], s["ci_high"]),
            "interval",
            f"dates resampled as clusters ({s['ci_n_clusters']} dates, {_count(s['ci_n_boot'])} draws)",
        ),
        ("BMP t", s["t_bmp"], "num", f"{s['n_kp']} events with an estimation window"),
        ("BMP p", s["p_bmp"], "p", "two-sided"),
        ("Mean cross-correlation r̄", s["r_bar"], "num", f"{s['n_pairs']} pairs"),
        ("KP-adjusted t", s["t_kp"], "num", "BMP t corrected for events sharing dates"),
        ("KP-adjusted p", s["p_kp"], "p", "two-sided"),
        ("Placebo mean excess", pl["mean"], "pct", f"{pl['n']} random non-event days"),
        ("Placebo p", pl["p_value"], "p", "share of placebo means at or above the event mean"),
        ("Event mean's placebo percentile", pl.get("percentile"), "num0", "0..100, among placebo means"),
        ("Calendar-time alpha (annual)", ct["alpha_annual"], "pct", "daily alpha × trading days"),
        ("t of alpha", ct["t_alpha"], "num", f"Newey-West, {ct['maxlags']} lags"),
        ("Beta", ct["beta"], "num", f"{ct['n_days']} days with an event open"),
    ]


def _summary_table(g: Generalization) -> str:
    rows = "".join(
        f'<tr><td class="t">{html.escape(name)}</td>{_td(value, kind)}'
        f'<td class="t muted">{html.escape(note)}</td></tr>'
        for name, value, kind, note in summary_rows(g)
    )
    return (
        "<table class=summary><thead><tr><th>Statistic</th><th>Value</th><th>Note</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def events_table(events: pd.DataFrame) -> str:
    cols = {c: spec for c, spec in EVENT_TABLE.items() if c in events.columns}
    head = "<th>#</th>" + "".join(
        f'<th class="t">{h}</th>' if k in TEXT_KINDS else f"<th>{h}</th>" for h, k in cols.values()
    )
    rows = "".join(
        f"<tr><td>{n}</td>" + "".join(_td(row[c], k) for c, (_, k) in cols.items()) + "</tr>"
        for n, (_, row) in enumerate(events.iterrows())
    )
    return f"<table class=events><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _skipped(skipped: dict) -> str:
    if not skipped:
        return "<p><b>Skipped groups</b> (too few members with prices): none.</p>"
    items = "; ".join(f"{html.escape(str(group))} ({int(n)})" for group, n in skipped.items())
    return f"<p><b>Skipped groups</b> (too few members with prices; how many have prices): {items}.</p>"


def path_figure(paths: pd.DataFrame) -> go.Figure:
    """Mean cumulative excess over the market by event day (%), with mean ± 1.96 sd/√n of the
    events present that day."""
    pct = paths.astype(float) * 100.0
    mean, n = pct.mean(axis=1), pct.count(axis=1)
    half = 1.96 * pct.std(axis=1, ddof=1) / np.sqrt(n.where(n > 0))
    x = list(pct.index)
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
            fillcolor="rgba(31,78,154,0.18)",
            name="95% band",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=mean,
            mode="lines+markers",
            line={"color": BLUE, "width": 2.2},
            marker={"size": 4},
            name="mean",
            customdata=np.column_stack([mean - half, mean + half, n]),
            hovertemplate="day %{x}: mean %{y:+.2f}%<br>95% band %{customdata[0]:+.2f}% to "
            "%{customdata[1]:+.2f}%<br>%{customdata[2]} events<extra></extra>",
        )
    )
    fig.add_hline(y=0, line={"color": GREY, "width": 1})
    return figures.layout(
        fig,
        "Mean cumulative excess return over the market in event time",
        "trading days after the event day",
        "excess over market (%)",
        hovermode="x",
    )


def placebo_figure(g: Generalization) -> go.Figure:
    """Placebo excess returns (%) and the events' as translucent histograms (share of each
    set), a vertical line at the event mean."""
    fig = go.Figure()
    placebo = g.placebo_events["excess_market"].astype(float) * 100.0
    events = g.events["excess_market"].astype(float) * 100.0
    both = pd.concat([placebo, events]).dropna()
    size = (both.max() - both.min()) / 40 if len(both) > 1 and both.max() > both.min() else None
    bins = {"size": size} if size else None
    if len(placebo):
        fig.add_trace(
            go.Histogram(
                x=placebo,
                histnorm="percent",
                xbins=bins,
                name=f"placebo days ({len(placebo)})",
                marker={"color": GREY},
                opacity=0.55,
                hovertemplate="%{x}%: %{y:.1f}% of placebo days<extra></extra>",
            )
        )
    fig.add_trace(
        go.Histogram(
            x=events,
            histnorm="percent",
            xbins=bins,
            name=f"events ({len(events)})",
            marker={"color": ORANGE},
            opacity=0.55,
            hovertemplate="%{x}%: %{y:.1f}% of events<extra></extra>",
        )
    )
    mean = g.summary["mean_excess_market"]
    if not _missing(mean):
        fig.add_vline(
            x=mean * 100.0,
            line={"color": RED, "width": 2, "dash": "dash"},
            annotation_text=f"event mean {mean * 100:+.2f}%",
            annotation_position="top right",
        )
    fig.update_layout(barmode="overlay")
    return figures.layout(
        fig,
        "Excess return over the market: placebo days vs events",
        "excess over market over the window (%)",
        "% of the set",
        hovermode="x",
    )


def calendar_figure(calendar: pd.DataFrame) -> go.Figure:
    """Growth of 1 of the calendar-time portfolio and of the market (cumulative product of
    1 + daily return; a missing return counts as 0)."""
    cum = (1.0 + calendar[["portfolio", "market"]].astype(float).fillna(0.0)).cumprod()
    dates = [d.strftime("%Y-%m-%d") for d in pd.DatetimeIndex(calendar.index)]
    n_open = calendar["n_open"] if "n_open" in calendar else pd.Series(np.nan, index=calendar.index)
    fig = go.Figure()
    for col, name, colour in (("portfolio", "events portfolio", BLUE), ("market", "market", GREY)):
        fig.add_trace(
            go.Scatter(
                x=dates,
                y=cum[col],
                mode="lines",
                name=name,
                line={"color": colour, "width": 2 if col == "portfolio" else 1.5},
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


def _parts(g: Generalization):
    """The page's HTML in pieces, top to bottom (lazily: figures are built as written)."""
    label = g.settings.get("universe_label", g.universe)
    title = f"Generalisation: {g.strategy} on {label} by {g.by}"
    yield (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<style>{STYLE}{EXTRA_STYLE}</style></head><body>"
    )
    yield (
        f"<h1>{html.escape(title)}</h1><p class=sub>One run of {html.escape(g.strategy)} per "
        f"{html.escape(g.by)} shock of {html.escape(str(label))}, against the market, against random "
        "non-event days (placebo) and in calendar time. Returns in percent.</p>"
    )
    yield f"<p class=verdict>{html.escape(verdict(g))}</p>"
    yield "<h2>Settings</h2>" + _settings_table(g)
    yield "<h2>Statistics</h2>" + _summary_table(g)
    yield "<h2>Event time</h2>" + figures.div(path_figure(g.paths), "gen-path", True)
    yield "<h2>Placebo</h2>" + figures.div(placebo_figure(g), "gen-placebo", False)
    yield "<h2>Calendar time</h2>" + figures.div(calendar_figure(g.calendar), "gen-calendar", False)
    yield f"<h2>Every event ({len(g.events)})</h2>" + events_table(g.events)
    yield _skipped(g.skipped)
    yield "</body></html>\n"


def write(g: Generalization, path: Path) -> Path:
    """Write the page to `path` (whole file or nothing: pieces go to a temporary file beside
    it, which replaces `path` once complete) and return it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    def fill(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8") as out:
            for part in _parts(g):
                out.write(part)

    return write_atomic(path, fill)
