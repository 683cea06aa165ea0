"""Charts as inline SVG strings (matplotlib, headless)."""

from __future__ import annotations

import io

import pandas as pd


def equity_chart(
    equity: pd.DataFrame, marks: dict[str, str] | None = None, title: str = "Growth of 1"
) -> str:
    """SVG of each column of `equity` rebased to 1 on its first day, with vertical lines at
    `marks` ({date: label})."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 5.4), dpi=100)
    rebased = equity / equity.bfill().iloc[0]
    for col in rebased.columns:
        ax.plot(rebased.index, rebased[col], linewidth=1.4, label=str(col))
    for day, label in (marks or {}).items():
        ax.axvline(pd.Timestamp(day), color="#b22222", linestyle="--", linewidth=1)
        ax.annotate(
            label,
            (pd.Timestamp(day), ax.get_ylim()[1]),
            fontsize=8,
            color="#b22222",
            ha="left",
            va="top",
            rotation=90,
            xytext=(3, -3),
            textcoords="offset points",
        )
    ax.axhline(1.0, color="#888", linewidth=0.6)
    ax.set_title(title, loc="left", fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=4, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.08))
    fig.tight_layout()
    return svg_of(fig)


def svg_of(fig) -> str:
    """The figure as an inline `<svg>` element (no XML prolog, no date, element ids from a
    fixed salt: the same figure gives the same text in any process), and the figure closed."""
    import matplotlib
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "aishock"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg") :]
