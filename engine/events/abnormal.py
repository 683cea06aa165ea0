"""Abnormal returns around an event and their cross-sectional significance test.

Units: returns are simple daily fractions (0.01 = +1 %); windows are counted in trading days.
Event time k counts trading days from the event day (k = 0 is the event day).

Models: "market" fits r_i = alpha_i + beta_i * r_m by OLS on an estimation window that ends
the day before the event window starts; the abnormal return is r_i - alpha_i - beta_i * r_m.
"adjusted" is the market-adjusted model: r_i - r_m (alpha 0, beta 1, nothing fitted).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MODELS = ("market", "adjusted")


def min_observations(estimation: int) -> int:
    """Paired daily returns a market-model fit needs: half the estimation window, at least 20."""
    return max(20, estimation // 2)


def fit_market_model(returns: pd.DataFrame, market: pd.Series, min_obs: int) -> pd.DataFrame:
    """OLS of each column of `returns` on `market` (same rows), over the rows where both are
    known. Columns: alpha (daily fraction), beta, n (paired observations); alpha and beta
    are NaN where n < `min_obs` or the market did not vary."""
    r = returns.to_numpy(dtype=float)
    m = np.broadcast_to(market.to_numpy(dtype=float)[:, None], r.shape)
    ok = ~np.isnan(r) & ~np.isnan(m)
    n = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_m = np.where(ok, m, 0.0).sum(axis=0) / n
        mean_r = np.where(ok, r, 0.0).sum(axis=0) / n
        dm, dr = np.where(ok, m - mean_m, 0.0), np.where(ok, r - mean_r, 0.0)
        var = (dm * dm).sum(axis=0)
        beta = (dm * dr).sum(axis=0) / var
        alpha = mean_r - beta * mean_m
    good = (n >= min_obs) & (var > 0)
    return pd.DataFrame(
        {"alpha": np.where(good, alpha, np.nan), "beta": np.where(good, beta, np.nan), "n": n},
        index=returns.columns,
    )


def abnormal_returns(
    returns: pd.DataFrame, market: pd.Series, i: int, pre: int, post: int, model: str, estimation: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(ar, fit). `ar`: abnormal daily returns, rows event time k = -pre..post around row `i`
    of `returns` (dates x tickers), one column per ticker. `fit`: alpha, beta, n per ticker
    (market model fitted on the `estimation` rows before row i - pre; for "adjusted",
    alpha 0 and beta 1)."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}")
    rows = returns.iloc[i - pre : i + post + 1]
    mkt = market.iloc[i - pre : i + post + 1].to_numpy(dtype=float)[:, None]
    if model == "adjusted":
        fit = pd.DataFrame({"alpha": 0.0, "beta": 1.0, "n": 0}, index=returns.columns)
    else:
        lo = max(i - pre - estimation, 0)
        fit = fit_market_model(
            returns.iloc[lo : i - pre], market.iloc[lo : i - pre], min_observations(estimation)
        )
    expected = fit["alpha"].to_numpy() + fit["beta"].to_numpy() * mkt
    ar = pd.DataFrame(rows.to_numpy(dtype=float) - expected, columns=returns.columns)
    ar.index = pd.RangeIndex(-pre, post + 1, name="k")
    return ar, fit


def car(ar: pd.DataFrame, k0: int, k1: int) -> pd.Series:
    """Cumulative abnormal return per ticker over event days k0..k1 inclusive (sum of daily
    abnormal returns, fraction); NaN for a ticker missing any day of the interval."""
    part = ar.loc[k0:k1]
    return part.sum(axis=0, min_count=len(part)) if len(part) else pd.Series(np.nan, index=ar.columns)


def caar(ar: pd.DataFrame, groups: pd.Series) -> pd.DataFrame:
    """Cumulative average abnormal return by group: for each event day k, the sum over
    days up to k of the cross-sectional mean abnormal return of the group's tickers (those
    with a value that day). Rows k, one column per group (in order of first appearance)."""
    out = {}
    for g in dict.fromkeys(groups):
        names = groups.index[groups == g]
        out[g] = ar[names].mean(axis=1).fillna(0.0).cumsum().where(ar[names].notna().any(axis=1).cummax())
    return pd.DataFrame(out, index=ar.index)


def cross_section_test(values: pd.Series) -> dict[str, float]:
    """Cross-sectional t-test that the mean of `values` (one CAR per ticker) is zero:
    t = mean / (sd / sqrt(n)), sd with ddof=1, two-sided p from Student's t with n - 1 degrees
    of freedom. NaN t and p when n < 2 or the values do not vary. Assumes independent names;
    on one shared event date cross-correlation makes it overstate significance."""
    v = values.dropna().to_numpy(dtype=float)
    n = len(v)
    mean = float(v.mean()) if n else float("nan")
    sd = float(v.std(ddof=1)) if n > 1 else float("nan")
    if n < 2 or not sd > 1e-15 * max(abs(mean), 1e-300):
        return {"mean": mean, "t": float("nan"), "p": float("nan"), "n": n}
    from scipy.special import stdtr  # Student's t CDF; here, not at the top: scipy is slow to import

    t = mean / (sd / np.sqrt(n))
    return {"mean": mean, "t": float(t), "p": float(2 * stdtr(n - 1, -abs(t))), "n": n}
