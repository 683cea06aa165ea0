"""The event study's charts as inline SVG strings: event-time lines by group, the ranked
event-day returns, and the share of names recovered. Inputs are fractions; axes show %."""

from __future__ import annotations

import pandas as pd

from engine.events.study import ALL_MEMBERS
from reports.charts import svg_of

RED, GREEN, GREY = "#b22222", "#1b7f3b", "#666"
MAX_LABELS = 60  # name every bar up to this many names; beyond, only the extremes


def _axes(figsize=(10, 4.6)):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    fig, ax = plt.subplots(figsize=figsize, dpi=100)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.grid(alpha=0.3)
    return fig, ax


def _lines(ax, frame: pd.DataFrame, **style) -> None:
    """One line per column; the whole universe (ALL_MEMBERS) in thick black."""
    import matplotlib.pyplot as plt

    colours = iter(plt.get_cmap("tab20").colors * (1 + len(frame.columns) // 20))
    for col in frame.columns:
        if col == ALL_MEMBERS:
            ax.plot(
                frame.index,
                frame[col],
                label=str(col),
                color="black",
                zorder=3,
                **{**style, "linewidth": 2.6},
            )
        else:
            ax.plot(frame.index, frame[col], label=str(col), color=next(colours), **style)


def event_time_chart(groups: pd.DataFrame, title: str, ylabel: str, extra: pd.DataFrame | None = None) -> str:
    """One line per column of `groups` (rows: event day k), `extra` columns (benchmarks)
    dashed in grey shades; a vertical line at the event day."""
    fig, ax = _axes()
    _lines(ax, groups, linewidth=1.6)
    if extra is not None:
        for n, col in enumerate(extra.columns):
            ax.plot(extra.index, extra[col], label=str(col), color=str(0.15 + 0.2 * n), linestyle="--")
    ax.axvline(0, color=RED, linewidth=0.8)
    ax.axhline(0, color="#888", linewidth=0.6)
    ax.set_xlabel("trading days from the event day")
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left", fontsize=11)
    ax.legend(fontsize=8, ncol=4, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.14))
    fig.tight_layout()
    return svg_of(fig)


def ranked_bar_chart(returns: pd.Series, title: str, k: int = 5) -> str:
    """One bar per name, event-day return lowest first (red down, green up). Every bar is
    named up to MAX_LABELS names; beyond, the `k` lowest and highest are listed in a box."""
    fig, ax = _axes((10, 4.6 if len(returns) <= MAX_LABELS else 5.2))
    x = range(len(returns))
    ax.bar(x, returns.to_numpy(), width=0.8, color=[RED if r < 0 else GREEN for r in returns])
    ax.axhline(0, color="#888", linewidth=0.6)
    if len(returns) <= MAX_LABELS:
        ax.set_xticks(list(x), list(returns.index), rotation=90, fontsize=7)
    else:
        ax.set_xticks([])
        ax.set_xlabel(f"{len(returns)} names, lowest to highest")
        ends = {"lowest": returns.head(k), "highest": returns.tail(k).iloc[::-1]}
        for n, (name, part) in enumerate(ends.items()):
            text = f"{name}: " + ", ".join(f"{t} {r:+.1%}" for t, r in part.items())
            ax.text(
                0.01 + 0.98 * n,
                0.04 if n == 0 else 0.96,
                text,
                transform=ax.transAxes,
                fontsize=8,
                ha="left" if n == 0 else "right",
                va="bottom" if n == 0 else "top",
                bbox={"facecolor": "white", "edgecolor": "#ccc", "alpha": 0.9},
            )
    ax.set_ylabel("event-day return")
    ax.set_title(title, loc="left", fontsize=11)
    fig.tight_layout()
    return svg_of(fig)


def recovery_chart(share: pd.DataFrame, title: str) -> str:
    """Step lines of the share of each group's names back at or above the pre-event close by
    each trading day after the event."""
    fig, ax = _axes()
    _lines(ax, share, linewidth=1.6, drawstyle="steps-post")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("trading days after the event day")
    ax.set_ylabel("names recovered")
    ax.set_title(title, loc="left", fontsize=11)
    ax.legend(fontsize=8, ncol=4, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.14))
    fig.tight_layout()
    return svg_of(fig)
