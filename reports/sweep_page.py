"""A sweep as an HTML page: heatmap of the metric, the top combinations, overfitting figures."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from reports.charts import svg_of
from reports.index_page import STYLE


def heatmap_svg(grid: pd.DataFrame, title: str) -> str:
    """SVG heatmap of `grid` (rows y, columns x), each cell annotated with its value."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(
        figsize=(min(2 + 0.8 * grid.shape[1], 14), min(1.5 + 0.5 * grid.shape[0], 10)), dpi=100
    )
    values = grid.to_numpy(dtype=float)
    limit = np.nanmax(np.abs(values)) if np.isfinite(values).any() else 1.0
    image = ax.imshow(values, cmap="RdYlGn", vmin=-limit, vmax=limit, aspect="auto", origin="lower")
    ax.set_xticks(range(grid.shape[1]), [f"{c:g}" if isinstance(c, float) else str(c) for c in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [f"{r:g}" if isinstance(r, float) else str(r) for r in grid.index])
    ax.set_xlabel(str(grid.columns.name))
    ax.set_ylabel(str(grid.index.name))
    if values.size <= 400:
        for (y, x), v in np.ndenumerate(values):
            if np.isfinite(v):
                ax.text(x, y, f"{v:.2f}", ha="center", va="center", fontsize=7)
    fig.colorbar(image, ax=ax, shrink=0.8)
    ax.set_title(title, loc="left", fontsize=11)
    fig.tight_layout()
    return svg_of(fig)


def write_sweep_page(path: Path, result, top: int = 15) -> Path:
    """Write the page for a SweepResult; whole file or nothing."""
    swept = result.swept
    parts = [
        f"<h1>Sweep: {html.escape(result.strategy)}</h1>",
        f"<p class=sub>{result.start} → {result.end}; {result.n_trials} combinations; "
        f"best by {html.escape(result.metric)}</p>",
    ]
    pbo = f"{result.pbo:.2f}" if np.isfinite(result.pbo) else f"not computed ({html.escape(result.pbo_note)})"
    parts.append(
        f"<h2>Overfitting</h2><ul><li>Trials: {result.n_trials}</li>"
        f"<li>Deflated Sharpe Ratio of the best: {result.dsr:.3f} (probability its true Sharpe "
        "beats the best of as many skill-less trials)</li>"
        f"<li>Probability of Backtest Overfitting (CSCV): {pbo}</li>"
        + "".join(f"<li><b>Warning:</b> {html.escape(w)}</li>" for w in result.warnings)
        + "</ul>"
    )
    if len(swept) >= 2:
        x, y = swept[0], swept[1]
        parts.append(
            f'<h2>Heatmap</h2><div class="chart">'
            f"{heatmap_svg(result.heatmap(x, y), f'{result.metric} by {y} and {x}')}</div>"
        )
    elif len(swept) == 1:
        line = result.table.set_index(swept[0])[[result.metric]].T
        parts.append(
            f'<h2>{html.escape(result.metric)} by {html.escape(swept[0])}</h2><div class="chart">'
            f"{heatmap_svg(line, result.metric)}</div>"
        )
    best = result.table.sort_values(result.metric, ascending=False).head(top)
    parts.append(
        f"<h2>Top {len(best)}</h2>" + best.to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0)
    )
    page = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Sweep {html.escape(result.strategy)}"
        f"</title><style>{STYLE}</style></head><body>{''.join(parts)}</body></html>\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path
