"""Target weights of many runs in one sparse table: what a strategy hands the simulator.

A dense weight frame (dates x tickers, NaN = no order) is mostly NaN; a sweep has thousands
of them. A `Schedule` keeps only the orders: entry e of run r (lo[r] <= e < hi[r]) sets
ticker `tickers[col[e]]` to weight `weight[e]`, executed on bar `bar[e]` of `index` (the
bar after the decision, rule 1 of engine.sim.simulate). Within a run, entries are sorted by
(bar, col); a repeated (bar, col) pair means the later entry wins.

A compiled strategy does not write this layout itself: `decided` runs its `decide(k, *data,
out)` for every run k, and `order(out, row, col, weight)` records one order; counting,
room, the threads over runs and the layout are this module's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numba as nb
import numpy as np
import pandas as pd
from numba import types
from numba.extending import intrinsic

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

    def check(self, max_gross: float, first=None) -> None:
        """Raise AishockError if a decision of any run has gross exposure (sum of |w| over
        the tickers it sets) above `max_gross`.

        `first` (a bar, or one per run) is where the simulated window begins; the message
        then names a day inside it. A decision before the window still counts (its targets
        are carried into the window, rule 3 of engine.sim.simulate), but its own date is not
        one the user asked about: the message names the day it executes if that is inside
        the window, else the window's first day, where the carried targets take effect."""
        gross, run, bar = _worst_gross(self.lo, self.hi, self.bar, self.weight)
        if gross > max_gross + 1e-9:
            start = None if first is None else int(np.broadcast_to(first, (max(self.n_runs, 1),))[run])
            if start is None or bar - 1 >= start:
                when = f"decided on {self.index[bar - 1].date()}"
            elif bar >= start:
                when = f"executed on {self.index[bar].date()} (decided the day before the window)"
            else:
                when = f"in effect on {self.index[start].date()}, the window's first day (decided before it)"
            raise AishockError(
                f"weights of run {run} {when} have gross exposure {gross:.4g} "
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


# -- compiled strategies: one function decides the orders of one run ----------------------

# What `decide` gets as `out`: order arrays (bar, col, weight) and its state [next slot];
# only `order` writes to it.
ORDERS = types.Tuple((types.int64[::1], types.int64[::1], types.float64[::1], types.int64[::1]))
# Orders the first attempt makes room for on each side of the middle (see `decided`): the
# most orders per run the same `decide` needed before (ROOM_SPARE more), times the runs; for a
# `decide` not seen yet one per ticker and bar of every run, at most FIRST_ROOM. A schedule
# that does not fit is done again with room for all of it. Room is kept small because memory
# not reused costs a page fault per page written, and the C library maps every array above
# 32 MB afresh (measured: the 250-set inference_pair sweep took 2.3x as long with room for 2**24).
FIRST_ROOM = 2**20
ROOM_SPARE = 1.25
_ROOM_HINT: dict = {}
# How a thread of `_fill` ended: every run done, or the rule a run broke.
_DONE, _UNSORTED, _COLUMN, _ROW, _WEIGHT = range(5)
_BROKEN = {
    _UNSORTED: "came out of (row, column) order",
    _COLUMN: "names a column outside the tickers",
    _ROW: "is decided on a row before the first",
    _WEIGHT: "has a weight that is not a finite number",
}


@nb.njit(cache=True, nogil=True, inline="always")
def order(out, row, col, weight):
    """In a `decide` function: set ticker `col` to `weight`, decided after row `row`'s close
    and executed on bar row + 1 (rule 1 of engine.sim.simulate). A run's orders come in (row,
    col) order; a repeated (row, col) means the later one wins."""
    bar, c, w, at = out
    p = at[0]
    q = min(p, bar.size - 1)  # past the room: counted, written to the last (spare) slot
    bar[q] = row + 1
    c[q] = col
    w[q] = weight
    at[0] = p + 1


def decided(index: pd.DatetimeIndex, tickers: Sequence[str], n_runs: int, decide, data: tuple) -> Schedule:
    """The Schedule of `n_runs` runs on the bars of `index` whose orders the compiled
    function `decide(k, *data, out)` (numba.njit) gives run k through `order(out, ...)`.

    Runs go to numba's threads (nb.get_num_threads(), at most one per run) as each thread
    frees up. The first thread writes its runs straight into the order arrays, upward from
    a middle point; the others decide into a scratch buffer and stack their runs downward
    from it, so the schedule is one block with no room between runs, laid out in the order
    the runs were done. An order decided on the last row has no bar to execute on and is
    dropped; a run whose orders break a rule of `order` (or name a column outside
    `tickers`) is refused."""
    if not hasattr(decide, "compile"):
        raise AishockError(f"{getattr(decide, '__name__', decide)!r} must be a numba.njit function")
    data = tuple(data)
    threads = max(min(nb.get_num_threads(), n_runs), 1)
    sig, fill = _filler(tuple(nb.typeof(a) for a in data))
    decide.compile(sig)
    shape = (threads, n_runs, len(index), len(tickers))
    hint = _ROOM_HINT.get(decide)
    full = len(index) * len(tickers) * n_runs
    room = min(full, FIRST_ROOM if hint is None else int(hint * ROOM_SPARE * n_runs) + 64)
    while True:
        size = 2 * room + 1  # room below the middle, room above it, a spare slot
        orders = (np.empty(size, np.int64), np.empty(size, np.int64), np.empty(size))
        lo, hi = np.zeros(n_runs, np.int64), np.zeros(n_runs, np.int64)
        ends, taken = np.array([room, room], np.int64), np.zeros(1, np.int64)
        status, run = np.zeros((2, threads), np.int64)
        fill(decide, data, shape, orders, lo, hi, ends, taken, status, run)
        broken = [b for b in range(threads) if status[b] != _DONE]
        if broken:
            b = broken[0]
            raise AishockError(
                f"{decide.__name__}: an order of run {run[b]} {_BROKEN[int(status[b])]} "
                "(engine.strategy.schedule.order)"
            )
        bottom, top = (int(e) for e in ends)
        if bottom >= 0 and top < size:
            break
        room = top - bottom  # counted in full: on either side, all of it fits next time
    if n_runs:
        _ROOM_HINT[decide] = max(_ROOM_HINT.get(decide, 0.0), (top - bottom) / n_runs)
    return Schedule(index, list(tickers), lo - bottom, hi - bottom, *(a[bottom:top] for a in orders))


def _fill(decide, data, shape, orders, lo, hi, ends, taken, status, run):
    """The threads of `shape` (threads, runs, rows, columns) take runs k = taken[0]++ until
    none is left. Thread 0 has `decide` write into `orders` (bar, col, weight) from ends[1]
    upward; the others decide into a scratch buffer and copy each run below ends[0]. Each
    run is cut at the last bar, checked against the rules of `order` and goes to [lo[k],
    hi[k]). Past the arrays' room, runs are counted only (`ends` then says how much room all
    of them need). status[b] says how thread b ended (_DONE, or the rule broken), run[b] at
    which run."""
    threads, n_runs, n_rows, n_cols = shape
    bar, col, weight = orders
    for b in nb.prange(threads):
        room = n_rows * n_cols + 1  # a scratch run: one order per ticker and bar, and a spare slot
        if b == 0:
            out = (bar, col, weight, np.full(1, ends[1], np.int64))
        else:
            out = (np.empty(room, np.int64), np.empty(room, np.int64), np.empty(room), np.zeros(1, np.int64))
        k = _fetch_add(taken, 1)
        while k < n_runs:
            first = out[3][0] if b == 0 else 0
            out[3][0] = first
            decide(k, *data, out)
            n = out[3][0] - first
            if b > 0 and n >= out[0].size:  # more than one order per ticker and bar: redo with room
                room = 2 * n
                out = (np.empty(room, np.int64), np.empty(room, np.int64), np.empty(room), out[3])
                out[3][0] = 0
                decide(k, *data, out)
                n = out[3][0]
            if first + n < out[0].size:  # else past the room: counted only
                while n > 0 and out[0][first + n - 1] >= n_rows:
                    n -= 1
                if _broken(out[0][first:], out[1][first:], out[2][first:], n, n_cols):
                    status[b] = _rule(out[0][first:], out[1][first:], out[2][first:], n, n_cols)
                    run[b] = k
                    break
            if b == 0:
                at = first
                out[3][0] = first + n
            else:
                at = _fetch_add(ends, -n) - n  # ends[0] -= n
                if at >= 0:
                    for e in range(n):
                        bar[at + e], col[at + e], weight[at + e] = out[0][e], out[1][e], out[2][e]
            lo[k], hi[k] = at, at + n
            k = _fetch_add(taken, 1)
        if b == 0:
            ends[1] = out[3][0]


@nb.njit(cache=True, nogil=True)
def _broken(bar, col, weight, n, n_cols):
    """True if the orders [0, n) break a rule of `order` (`_rule` says which). The loop has
    no branch, so that in the common case, every rule kept, it costs little."""
    if n == 0:
        return False
    bad = bar[0] < 1  # with (bar, col) sorted, every bar is >= 1 if the first is
    prev = bar[0] * n_cols
    for e in range(n):
        key = bar[e] * n_cols + col[e]  # (bar, col) in order <=> keys in order, cols in range
        bad |= (key < prev) | (col[e] < 0) | (col[e] >= n_cols)
        bad |= (np.abs(weight[e]) >= np.inf) | (weight[e] != weight[e])
        prev = key
    return bad


@nb.njit(cache=True, nogil=True)
def _rule(bar, col, weight, n, n_cols):
    """The first rule of `order` that the orders [0, n) break (_DONE if none)."""
    prev_bar, prev_col = 1, 0
    for e in range(n):
        if bar[e] < 1:
            return _ROW
        if col[e] < 0 or col[e] >= n_cols:
            return _COLUMN
        if bar[e] < prev_bar or (bar[e] == prev_bar and col[e] < prev_col):
            return _UNSORTED
        if not np.isfinite(weight[e]):
            return _WEIGHT
        prev_bar, prev_col = bar[e], col[e]
    return _DONE


@intrinsic
def _fetch_add(typingctx, counter, n):
    """counter[0] += n in one atomic step; returns counter[0] before it."""

    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        return builder.atomic_rmw("add", array.data, args[1], "monotonic")

    return types.int64(counter, types.int64), codegen


@functools.cache
def _filler(data: tuple):
    """(signature of a decide function, `_fill` compiled for it) for data of types `data`."""
    sig = types.void(types.int64, *data, ORDERS)
    i64 = types.int64[::1]
    fill = nb.njit(
        types.void(
            types.FunctionType(sig),
            types.Tuple(data),
            types.UniTuple(types.int64, 4),
            types.Tuple((i64, i64, types.float64[::1])),
            *(i64,) * 6,
        ),
        cache=True,
        nogil=True,
        parallel=True,
    )(_fill)
    return sig, fill
