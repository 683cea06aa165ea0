"""The stationary bootstrap's machinery, as array code: its resampling indices drawn as arch's
StationaryBootstrap draws them, and its automatic block length (arch's optimal_block_length)
for many series at once.

- Stationary bootstrap: Politis & Romano, "The Stationary Bootstrap", Journal of the American
  Statistical Association 89(428), 1994.
- Block length: Politis & White, "Automatic Block-Length Selection for the Dependent
  Bootstrap", Econometric Reviews 23(1), 2004, with Patton, Politis & White's "Correction",
  Econometric Reviews 28(4), 2009.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np


def generator(seed) -> np.random.Generator | np.random.RandomState:
    """The generator arch's bootstraps draw from for `seed`: a Generator or RandomState as
    given, numpy's default_rng(seed) for an integer, a fresh default_rng() for None."""
    if isinstance(seed, np.random.Generator | np.random.RandomState):
        return seed
    if seed is None or isinstance(seed, int | np.integer):
        return np.random.default_rng(None if seed is None else int(seed))
    raise ValueError(f"seed must be an integer, None or a numpy Generator or RandomState, got {seed!r}")


def stationary_indices(n: int, reps: int, block: int, seed) -> np.ndarray:
    """reps x n row indices of `reps` stationary-bootstrap resamples of n observations with
    expected block length `block`: exactly the indices arch.bootstrap.StationaryBootstrap(block,
    ..., seed=seed).bootstrap(reps) resamples with (tested). Per replication arch draws n
    starts uniform on 0..n-1, then n uniforms u; observation i > 0 continues the block of
    observation i - 1 (its index + 1, wrapping to 0 after n - 1) when u_i > 1 / block, else
    starts a new block at its own start. The draws are the same generator calls in the same
    order (`generator`); the blocks are then walked in one compiled pass."""
    rng = generator(seed)
    starts = np.empty((reps, n), dtype=np.int64)
    u = np.empty((reps, n))
    for r in range(reps):
        if isinstance(rng, np.random.Generator):
            starts[r] = rng.integers(n, size=n, dtype=np.int64)
            u[r] = rng.random(n)
        else:
            starts[r] = rng.randint(n, size=n, dtype=np.int64)
            u[r] = rng.random_sample(n)
    return _walk(starts, u, 1.0 / block)


@nb.njit(cache=True)
def _walk(idx, u, p):
    n = idx.shape[1]
    for r in range(idx.shape[0]):
        for i in range(1, n):
            if u[r, i] > p:
                idx[r, i] = idx[r, i - 1] + 1
                if idx[r, i] == n:
                    idx[r, i] = 0
    return idx


def optimal_block_lengths(x) -> np.ndarray:
    """The stationary bootstrap's optimal expected block length of each column of `x` (T x N,
    or one series): arch.bootstrap.optimal_block_length(x)["stationary"] to 1e-9 relative
    (tested; the sums differ from arch's only in the order of their terms), NaN where arch's
    is NaN (a column that never moves). At least 8 rows (arch's needs them too).

    Politis & White (2004) with Patton, Politis & White's (2009) correction, as arch computes
    it: e = x - mean; autocovariances g_k = sum_t e_t e_{t-k} / T; m_hat = the first lag from
    which k_n = max(5, int(log10 T)) autocorrelations in a row (lags m_hat .. m_hat + k_n - 1)
    are inside +-2 sqrt(log10 T / T), and m = 2 max(m_hat, 1) (ceil(sqrt T) + k_n when there is
    no such lag, and never more);
    with h(x) = min(1, 2 (1 - |x|)), G = sum_{k=1..m} 2 h(k/m) k g_k and
    s2 = g_0 + sum_{k=1..m} 2 h(k/m) g_k, b = (2 G^2 / (2 s2^2))^(1/3) T^(1/3), capped at
    ceil(min(3 sqrt T, T / 3)). arch's autocorrelation at lag k divides by the sums of squares
    of e[k+1:] and e[:-(k+1)] (one lag further), and so does this."""
    a = np.asarray(x, dtype=float)
    a = a[:, None] if a.ndim == 1 else a
    if a.ndim != 2:
        raise ValueError("x must be one series or T x N")
    t = a.shape[0]
    if t < 8:
        raise ValueError(f"the block length needs at least 8 observations, got {t}")
    eps = np.array(a.T, order="C")  # a copy, one column a row
    eps -= eps.mean(axis=1)[:, None]  # each column's mean as arch takes it (pairwise)
    kn = max(5, int(np.log10(t)))
    m_max = int(np.ceil(np.sqrt(t))) + kn
    b_max = float(np.ceil(min(3 * np.sqrt(t), t / 3)))
    cv = float(2 * np.sqrt(np.log10(t) / t))
    return _block_lengths(eps, kn, m_max, b_max, cv)


@nb.njit(cache=True, fastmath={"reassoc", "nsz", "arcp", "contract"})
def _dot(a, b):
    s = 0.0
    for i in range(len(a)):
        s += a[i] * b[i]
    return s


@nb.njit(cache=True, parallel=True, error_model="numpy")
def _block_lengths(eps, kn, m_max, b_max, cv):
    n_cols, t = eps.shape
    out = np.empty(n_cols)
    for j in nb.prange(n_cols):
        e = eps[j]
        acv = np.zeros(m_max + 1)
        acorr = np.zeros(m_max + 1)
        opt_m = -1
        for i in range(m_max + 1):
            v1 = _dot(e[i + 1 :], e[i + 1 :])
            v2 = _dot(e[: t - i - 1], e[: t - i - 1])
            cross = _dot(e[i:], e[: t - i])
            acv[i] = cross / t
            acorr[i] = abs(cross) / math.sqrt(v1 * v2)
            if i >= kn and opt_m < 0:
                inside = True
                for k in range(i - kn, i):
                    if not acorr[k] < cv:
                        inside = False
                if inside:
                    opt_m = i - kn
        m = 2 * max(opt_m, 1) if opt_m >= 0 else m_max
        m = min(m, m_max)
        g = 0.0
        lr_acv = acv[0]
        for k in range(1, m + 1):
            lam = 1.0 if k / m <= 0.5 else 2.0 * (1.0 - k / m)
            g += 2.0 * lam * k * acv[k]
            lr_acv += 2.0 * lam * acv[k]
        b = ((2.0 * g**2) / (2.0 * lr_acv**2)) ** (1.0 / 3.0) * t ** (1.0 / 3.0)
        out[j] = b if not b_max < b else b_max  # min(b, b_max) as Python's: NaN stays NaN
    return out
