"""The reference Probability of Backtest Overfitting: engine.analytics.overfit.pbo_cscv as it
was before issue 18, one combination of halves at a time with scipy's rankdata. The engine's
array form (block statistics, every combination at once) is checked against it
(tests/test_overfit.py), and benchmarks/overfit_speed.py times the two side by side."""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy import stats as sps


def _sharpe_columns(block: np.ndarray) -> np.ndarray:
    sd = block.std(axis=0, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sd > 0, block.mean(axis=0) / sd, -np.inf)


def pbo_cscv_before(returns: np.ndarray, n_splits: int = 16, score=None) -> tuple[float, np.ndarray]:
    """PBO by CSCV (Bailey, Borwein, Lopez de Prado & Zhu 2017), the loop of engine
    revision 45bd4bb: for every way of taking half the `n_splits` contiguous blocks as
    in-sample, the trial with the best IS Sharpe (or `score`) is ranked among all trials
    out of sample (scipy rankdata, ties averaged; rank 1 = worst); logit = ln(w / (1 - w)),
    w = rank / (N + 1); PBO = share of logits <= 0. NaN rows are zero returns."""
    m = np.nan_to_num(np.asarray(returns, dtype=float))
    t, n = m.shape
    if n_splits % 2 or n_splits < 2:
        raise ValueError("n_splits must be an even number >= 2")
    if n < 2 or t < 2 * n_splits:
        raise ValueError(f"need at least 2 trials and {2 * n_splits} periods, got {n} and {t}")
    blocks = np.array_split(np.arange(t), n_splits)
    rank_by = score or _sharpe_columns
    logits = []
    for chosen in itertools.combinations(range(n_splits), n_splits // 2):
        is_rows = np.concatenate([blocks[i] for i in chosen])
        oos_rows = np.concatenate([blocks[i] for i in range(n_splits) if i not in chosen])
        best = int(np.argmax(rank_by(m[is_rows])))
        oos = rank_by(m[oos_rows])
        rank = sps.rankdata(oos)[best]  # 1 = worst; ties share the mean rank
        w = rank / (n + 1)
        logits.append(math.log(w / (1 - w)))
    logits = np.array(logits)
    return float(np.mean(logits <= 0)), logits
