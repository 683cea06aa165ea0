"""Target weights of many runs in one sparse table: what a strategy hands the simulator.

A dense weight frame (dates x tickers, NaN = no order) is mostly NaN; a sweep has thousands
of them. A `Schedule` keeps only the orders: entry e of run r (lo[r] <= e < hi[r]) sets
ticker `tickers[col[e]]` to weight `weight[e]`, executed on bar `bar[e]` of `index` (the
bar after the decision, rule 1 of engine.sim.simulate). Within a run, entries are sorted by
(bar, col); a repeated (bar, col) pair means the later entry wins.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numba as nb
import numpy as np
import pandas as pd

from engine.errors import AishockError


@dataclass(frozen=True)
class Schedule:
    """Sparse target weights of `len(lo)` runs on the bars of `index` (see module doc)."""

    index: pd.DatetimeIndex
    tickers: list[str]
    lo: np.ndarray  # int64, first entry of each run
    hi: np.ndarray  # int64, one past its last entry
    bar: np.ndarray  # int64, execution bar (position in index)
    col: np.ndarray  # int64, position in tickers
    weight: np.ndarray  # float64

    @property
    def n_runs(self) -> int:
        return len(self.lo)

    @classmethod
    def from_frames(cls, frames: Sequence[pd.DataFrame], index: pd.DatetimeIndex) -> Schedule:
        """One run per dense weight frame (dates x tickers, NaN = no order). A row dated t
        executes on the first bar of `index` after t; rows with no bar after them are dropped."""
        tickers = list(dict.fromkeys(t for f in frames for t in f.columns))
        position = {t: i for i, t in enumerate(tickers)}
        bars, cols, weights = [], [], []
        for f in frames:
            values = f.to_numpy(dtype=float)
            if np.isinf(values).any():
                raise AishockError("weights contain infinite values")
            rows, j = np.nonzero(~np.isnan(values))
            bar = index.searchsorted(pd.DatetimeIndex(f.index)[rows], side="right")
            col = np.array([position[t] for t in f.columns], dtype=np.int64)[j]
            keep = bar < len(index)
            order = np.lexsort((col[keep], bar[keep]))  # stable: a later row on one bar wins
            bars.append(bar[keep][order])
            cols.append(col[keep][order])
            weights.append(values[rows, j][keep][order])
        return cls.from_parts(index, tickers, bars, cols, weights)

    @classmethod
    def from_parts(cls, index, tickers, bars, cols, weights) -> Schedule:
        """A schedule from per-run arrays (each already sorted by (bar, col))."""
        sizes = np.array([len(b) for b in bars], dtype=np.int64)
        hi = np.cumsum(sizes)
        lo = hi - sizes

        def cat(parts, dtype):
            return np.concatenate(parts).astype(dtype) if len(parts) else np.empty(0, dtype)

        return cls(
            index, list(tickers), lo, hi, cat(bars, np.int64), cat(cols, np.int64), cat(weights, np.float64)
        )

    @staticmethod
    def grouped(
        sets: Sequence, key: Callable[[object], Hashable], build: Callable[[list], Schedule]
    ) -> Schedule:
        """One run per item of `sets`, in order, where `build(group)` computes each group of
        items that share `key(item)` at once."""
        groups: dict = {}
        for i, p in enumerate(sets):
            groups.setdefault(key(p), []).append(i)
        parts = [build([sets[i] for i in members]) for members in groups.values()]
        if len(parts) == 1:
            return parts[0]
        order = np.argsort(np.concatenate([np.asarray(m) for m in groups.values()]), kind="stable")
        return Schedule.concat(parts).take(order)

    @staticmethod
    def concat(parts: Sequence[Schedule]) -> Schedule:
        """The runs of `parts`, in order, over the union of their tickers (same index)."""
        if len(parts) == 1:
            return parts[0]
        tickers = list(dict.fromkeys(t for p in parts for t in p.tickers))
        position = {t: i for i, t in enumerate(tickers)}
        offset, los, his, cols = 0, [], [], []
        for p in parts:
            remap = np.array([position[t] for t in p.tickers], dtype=np.int64)
            cols.append(remap[p.col] if len(p.col) else p.col)
            los.append(p.lo + offset)
            his.append(p.hi + offset)
            offset += len(p.bar)
        return Schedule(
            parts[0].index,
            tickers,
            np.concatenate(los),
            np.concatenate(his),
            np.concatenate([p.bar for p in parts]),
            np.concatenate(cols),
            np.concatenate([p.weight for p in parts]),
        )

    def take(self, runs: Sequence[int]) -> Schedule:
        """The schedule of `runs` only (positions), in that order; entries are shared."""
        runs = np.asarray(runs, dtype=np.int64)
        return Schedule(
            self.index, self.tickers, self.lo[runs], self.hi[runs], self.bar, self.col, self.weight
        )

    def frame(self, run: int = 0) -> pd.DataFrame:
        """Run `run` as a dense frame (dates x tickers, NaN = no order), each entry on its
        decision row (the bar before its execution bar)."""
        s = slice(self.lo[run], self.hi[run])
        out = np.full((len(self.index), len(self.tickers)), np.nan)
        out[self.bar[s] - 1, self.col[s]] = self.weight[s]
        return pd.DataFrame(out, index=self.index, columns=pd.Index(self.tickers, name="ticker"))

    def check(self, max_gross: float) -> None:
        """Raise AishockError if a decision of any run has gross exposure (sum of |w| over
        the tickers it sets) above `max_gross`."""
        gross, run, bar = _worst_gross(self.lo, self.hi, self.bar, self.weight)
        if gross > max_gross + 1e-9:
            day = self.index[bar - 1].date()
            raise AishockError(
                f"weights of run {run} decided on {day} have gross exposure {gross:.4g} "
                f"(sum of |w|) above max_gross {max_gross:g}; lower them or raise max_gross (--max-gross)"
            )


@nb.njit(cache=True, nogil=True, parallel=True)
def _worst_gross(lo, hi, bar, weight):
    """The largest sum of |weight| over the entries of one run on one bar: (sum, run, bar),
    the first such run and bar on ties."""
    per_run = np.zeros(lo.size)
    per_bar = np.zeros(lo.size, np.int64)
    for r in nb.prange(lo.size):
        e = lo[r]
        while e < hi[r]:
            b = bar[e]
            total = 0.0
            while e < hi[r] and bar[e] == b:
                total += abs(weight[e])
                e += 1
            if total > per_run[r]:
                per_run[r] = total
                per_bar[r] = b
    worst_run = int(np.argmax(per_run)) if lo.size else 0
    worst = per_run[worst_run] if lo.size else 0.0
    return worst, worst_run, per_bar[worst_run] if lo.size else 0
