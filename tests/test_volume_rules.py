"""Rule 9 of engine/sim/simulate.py: the volume cap, working orders carried over, square-root
impact and close-only tickers.

The compiled engine against the plain reference simulator (tests/reference_sim.py, written
from the rules' text) to a relative 1e-9 on hypothesis-generated markets (volumes with zero
and missing bars, listings and delistings, close-only tickers filled uncapped) and schedules
(shorts, leverage, new decisions replacing working orders, wipe-outs), every fill compared;
then cases checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from reference_sim import reference_run
from test_reference_sim import assert_same_run, schedules

from engine.analytics.run_stats import from_accumulators
from engine.data.panel import Prices
from engine.errors import AishockError
from engine.sim import kernel
from engine.sim.simulate import Costs, run_schedule, simulate
from engine.strategy.schedule import Schedule

RTOL = 1e-9


@st.composite
def volume_markets(draw):
    """1-4 tickers over 30-70 bars: OHLC with a volume per bar (lognormal around a level
    drawn per ticker; some bars 0, some missing) or close-only (no volume); some list late,
    some delist early (never T0), some jump 70 % down or 150 % up one day."""
    n = draw(st.integers(30, 70))
    k = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    index = pd.bdate_range("2024-01-01", periods=n, name="date")
    names = [f"T{i}" for i in range(k)]
    cols = pd.Index(names, name="ticker")
    close = pd.DataFrame(np.nan, index=index, columns=cols)
    open_, volume = close.copy(), close.copy()
    close_only = set()
    for i, t in enumerate(names):
        first = draw(st.integers(0, n // 2)) if draw(st.booleans()) else 0
        end = draw(st.integers(first + 2, n - 1)) if i > 0 and draw(st.booleans()) else n
        path = 50 * np.exp(np.cumsum(rng.normal(0, draw(st.sampled_from([0.01, 0.03, 0.08])), end - first)))
        if draw(st.integers(0, 3)) == 0:  # a jump: leveraged runs get wiped out
            path[draw(st.integers(0, end - first - 1)) :] *= draw(st.sampled_from([0.3, 2.5]))
        close.iloc[first:end, i] = path
        if i > 0 and draw(st.integers(0, 3)) == 0:
            close_only.add(t)
            continue
        prev = np.concatenate([[path[0]], path[:-1]])
        open_.iloc[first:end, i] = prev * np.exp(rng.normal(0, 0.01, end - first))
        level = draw(st.sampled_from([50.0, 1e3, 1e5]))
        vol = level * np.exp(rng.normal(0, 0.5, end - first))
        vol[rng.uniform(size=end - first) < draw(st.sampled_from([0.0, 0.05, 0.2]))] = 0.0
        vol[rng.uniform(size=end - first) < draw(st.sampled_from([0.0, 0.05]))] = np.nan
        volume.iloc[first:end, i] = vol
    high = np.maximum(open_, close).where(open_.notna())
    low = np.minimum(open_, close).where(open_.notna())
    return Prices(close, open_, high, low, volume, close_only=frozenset(close_only))


def assert_same_fills(sim, run_id, ref, init_cash):
    """Every fill of one engine run equal to the reference's, in execution order."""
    mine = sim.orders[sim.orders["run"] == run_id].reset_index(drop=True) if len(sim.orders) else sim.orders
    assert len(mine) == len(ref.orders)
    if not ref.orders:
        return
    theirs = pd.DataFrame(ref.orders)
    assert mine["date"].tolist() == theirs["date"].tolist()
    assert mine["ticker"].tolist() == theirs["ticker"].tolist()
    assert mine["side"].tolist() == theirs["side"].tolist()
    for field in ("shares", "price", "fees", "impact"):
        scale = max(1e-9 * init_cash, 1e-300)
        np.testing.assert_allclose(mine[field], theirs[field], rtol=RTOL, atol=scale * 1e-3, err_msg=field)


def assert_same_totals(acc: np.ndarray, ref, init_cash: float):
    """Rule 9's accumulators of one run against the reference's fills."""
    fills = pd.DataFrame(ref.orders)
    if fills.empty:
        assert acc[kernel.N_PARTIAL] == 0 and acc[kernel.N_SHARE] == 0
        return
    assert acc[kernel.N_PARTIAL] == int(fills["partial"].sum())
    shares = fills["share"].dropna()
    assert acc[kernel.N_SHARE] == len(shares)
    if len(shares):
        assert acc[kernel.MAX_SHARE] == pytest.approx(shares.max(), rel=RTOL)
        assert acc[kernel.SUM_SHARE] == pytest.approx(shares.sum(), rel=RTOL)
    assert acc[kernel.MAX_WAIT] == fills["wait"].dropna().max()
    assert acc[kernel.IMPACT] == pytest.approx(fills["impact"].sum(), rel=RTOL, abs=1e-12 * init_cash)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_random_capped_schedules_match_reference(data):
    """Caps from 0.5 % to 100 % of a bar's volume, impact 0 to 5, shorts, leverage to 3x,
    capital from 1,000 to 100 million against volumes of 50 to 100,000 shares (so caps bind
    for weeks, or never), rates, fees and slippage, open and close fills."""
    prices = data.draw(volume_markets())
    max_gross = data.draw(st.sampled_from([1.0, 1.0, 2.0, 3.0]))
    runs = [data.draw(schedules(prices, max_gross, shorts=True)) for _ in range(2)]
    participation = data.draw(st.sampled_from([None, 0.005, 0.05, 0.1, 0.3, 1.0]))
    impact = data.draw(st.sampled_from([0.0, 0.0, 0.1, 1.0, 5.0]))
    if participation is None and impact == 0.0:
        participation = 0.1
    fees = data.draw(st.sampled_from([0.0, 0.001]))
    slippage = data.draw(st.sampled_from([0.0, 0.0005, 0.01]))
    rates = {
        "financing": data.draw(st.sampled_from([0.0, 0.08])),
        "borrow_fee": data.draw(st.sampled_from([0.0, 0.05])),
    }
    init_cash = data.draw(st.sampled_from([1_000.0, 1e6, 1e8]))
    fill = data.draw(st.sampled_from(["open", "open", "close"]))
    start_at = data.draw(st.integers(0, len(prices.index) - 1))
    start = None if start_at == 0 else prices.index[start_at]
    volume_rules = {"participation": participation, "impact": impact, "no_volume": "ok"}
    costs = Costs(fees, slippage, init_cash, fill, max_gross, **rates, **volume_rules)
    sim = simulate(prices, pd.concat(dict(enumerate(runs)), axis=1), costs, start)
    for run_id, targets in enumerate(runs):
        ref = reference_run(
            prices, targets, fees, slippage, init_cash, start, fill, max_gross, **rates, **volume_rules
        )
        assert_same_run(sim, run_id, ref, init_cash, "hypothesis volume rules")
        assert_same_fills(sim, run_id, ref, init_cash)
        assert_same_totals(sim.acc[:, run_id], ref, init_cash)
        fills = pd.DataFrame(ref.orders)
        if len(fills) and fills["partial"].any():
            event("a fill cut by the cap")
        if len(fills) and (fills["wait"].dropna() > 0).any():
            event("a working order filled on a later bar")
        if ref.wiped_out:
            event("wiped out")
        if (ref.shares < 0).any().any():
            event("held a short")


# -- cases checked by hand ---------------------------------------------------------------


def one_ticker(n: int, volume, close=100.0, open_=None, sigma_path=None) -> Prices:
    """One OHLC ticker "A" over n bars: a constant close (or `sigma_path`'s), the open equal
    to the close unless given, `volume` per bar."""
    index = pd.bdate_range("2024-01-01", periods=n, name="date")
    c = (
        pd.Series(close, index=index, dtype=float)
        if sigma_path is None
        else pd.Series(sigma_path, index=index)
    )
    o = c.copy() if open_ is None else pd.Series(open_, index=index, dtype=float)
    frame = lambda s: s.to_frame("A").rename_axis(columns="ticker")  # noqa: E731
    v = pd.Series(volume, index=index, dtype=float)
    return Prices(frame(c), frame(o), frame(o), frame(o), frame(v))


def alternating(n: int, move: float) -> np.ndarray:
    """Closes moving +move, -move, +move, ... from 100: every close-to-close return is
    +move or -move / (1 + move)... a known sample standard deviation."""
    out = [100.0]
    for i in range(1, n):
        out.append(out[-1] * (1 + move) if i % 2 else out[-1] / (1 + move))
    return np.array(out)


def test_a_buy_of_three_days_volume_at_a_10_percent_cap_fills_over_30_bars():
    """10,000 shares a bar; a decision after bar 24 to hold 30,000 shares (3 days' volume)
    fills 1,000 a bar (10 %) on bars 25..54: 30 fills. Each at the open moved up by
    k * sigma * sqrt(1000 / 10000), sigma the sample standard deviation of the 20 returns
    before the bar (the closes alternate, so every window has the same two returns)."""
    n, k = 70, 0.5
    path = alternating(n, 0.02)
    prices = one_ticker(n, 10_000.0, sigma_path=path)
    # closes alternate between 100 and 102; 30,000 shares at a 100 open take 3,000,000
    weight = pd.DataFrame({"A": [np.nan] * n}, index=prices.index)
    cash = 10_000_000.0
    open_on_fill = path[25]  # the open equals the close: the bar's fill price
    weight.iloc[24, 0] = 30_000 * open_on_fill / cash
    costs = Costs(0.0, 0.0, cash, participation=0.1, impact=k)
    sim = simulate(prices, pd.concat({0: weight}, axis=1), costs)
    fills = sim.orders
    assert len(fills) == 30
    assert fills["date"].tolist() == list(prices.index[25:55])
    np.testing.assert_allclose(fills["shares"], 1_000.0, rtol=1e-12)
    up, down = 0.02, 1 / 1.02 - 1
    rets = [up, down] * 10
    sigma = float(np.std(rets, ddof=1))
    expected = path[25:55] * (1 + k * sigma * math.sqrt(1_000 / 10_000))
    np.testing.assert_allclose(fills["price"], expected, rtol=1e-12)
    np.testing.assert_allclose(fills["impact"], path[25:55] * k * sigma * math.sqrt(0.1) * 1_000, rtol=1e-12)
    stats = from_accumulators(sim.acc, cash)
    assert stats.loc[0, "partial_fills"] == 29  # every fill but the last was cut by the cap
    assert stats.loc[0, "longest_wait"] == 29  # the last fill, 29 bars after the order's bar
    assert stats.loc[0, "max_volume_share"] == pytest.approx(0.1, rel=1e-12)
    assert stats.loc[0, "mean_volume_share"] == pytest.approx(0.1, rel=1e-12)
    assert stats.loc[0, "impact_paid"] == pytest.approx(fills["impact"].sum(), rel=1e-12)
    assert sim.shares[0]["A"].iloc[-1] == pytest.approx(30_000.0, rel=1e-12)


def test_without_cap_or_impact_the_same_order_fills_at_once():
    n = 70
    prices = one_ticker(n, 10_000.0, sigma_path=alternating(n, 0.02))
    weight = pd.DataFrame({"A": [np.nan] * n}, index=prices.index)
    weight.iloc[24, 0] = 0.3
    sim = simulate(prices, pd.concat({0: weight}, axis=1), Costs(0.0, 0.0, 10_000_000.0))
    assert len(sim.orders) == 1
    assert from_accumulators(sim.acc, 10_000_000.0).loc[0, "max_volume_share"] > 1  # 3 days' volume


def test_a_new_decision_replaces_the_working_order():
    """A buy of 5,000 shares at a cap of 1,000 a bar fills 1,000 on bars 1 and 2; the
    decision after bar 2 to hold 1,500 replaces it: bar 3 buys the 500 still missing, and
    nothing more is bought."""
    n = 8
    prices = one_ticker(n, 10_000.0)
    weight = pd.DataFrame({"A": [np.nan] * n}, index=prices.index)
    weight.iloc[0, 0] = 0.5  # 5,000 shares of 100 with 1,000,000
    weight.iloc[2, 0] = 0.15  # 1,500 shares
    sim = simulate(prices, pd.concat({0: weight}, axis=1), Costs(0.0, 0.0, 1_000_000.0, participation=0.1))
    assert sim.orders["shares"].tolist() == pytest.approx([1_000.0, 1_000.0, 500.0])
    assert sim.shares[0]["A"].iloc[-1] == pytest.approx(1_500.0)


def test_a_bar_without_volume_fills_nothing_and_the_order_waits():
    volume = [1e4, 1e4, 0.0, np.nan, 1e4, 1e4, 1e4, 1e4]
    prices = one_ticker(8, volume)
    weight = pd.DataFrame({"A": [np.nan] * 8}, index=prices.index)
    weight.iloc[0, 0] = 0.25  # 2,500 shares: 1,000 a bar on bars with volume
    sim = simulate(prices, pd.concat({0: weight}, axis=1), Costs(0.0, 0.0, 1_000_000.0, participation=0.1))
    assert sim.orders["date"].tolist() == [prices.index[i] for i in (1, 4, 5)]
    assert sim.orders["shares"].tolist() == pytest.approx([1_000.0, 1_000.0, 500.0])
    assert from_accumulators(sim.acc, 1_000_000.0).loc[0, "longest_wait"] == 4


def test_a_capped_delisting_exit_leaves_the_rest_held_at_the_last_close():
    """A holds 3,000 shares and its data ends on bar 5 (B goes on): the exit at bar 5's close
    sells 1,000 (the cap); 2,000 stay, valued at that close ever after, and never trade."""
    index = pd.bdate_range("2024-01-01", periods=8, name="date")
    a = [100.0] * 6 + [np.nan] * 2
    close = pd.DataFrame({"A": a, "B": [50.0] * 8}, index=index).rename_axis(columns="ticker")
    volume = pd.DataFrame({"A": [10_000.0] * 6 + [np.nan] * 2, "B": [1e6] * 8}, index=index).rename_axis(
        columns="ticker"
    )
    prices = Prices(close, close.copy(), close.copy(), close.copy(), volume)
    weight = pd.DataFrame(np.nan, index=index, columns=close.columns)
    weight.iloc[0, 0] = 0.3  # 3,000 shares with 1,000,000: filled at 1,000 a bar on bars 1-3
    weight.iloc[6, 0] = 0.0  # after its data ended: not traded
    costs = Costs(0.0, 0.0, 1_000_000.0, participation=0.1)
    sim = simulate(prices, pd.concat({0: weight}, axis=1), costs)
    sells = sim.orders[sim.orders["side"] == "sell"]
    assert sells["shares"].tolist() == pytest.approx([1_000.0]) and sells["date"].tolist() == [index[5]]
    assert sim.shares[0]["A"].iloc[-1] == pytest.approx(2_000.0)
    assert sim.equity[0].iloc[-1] == pytest.approx(1_000_000.0)  # 2,000 x 100 + cash
    ref = reference_run(prices, weight, 0.0, 0.0, 1_000_000.0, participation=0.1)
    assert_same_run(sim, 0, ref, 1_000_000.0, "constructed volume rules")


def test_a_buy_cut_for_cash_pays_its_own_impact_with_exactly_the_cash():
    """With impact the price of a buy depends on its size: the cut buy is the q whose cost
    q * price(q) * (1 + fees) equals the cash left, found to the last digits."""
    n = 40
    prices = one_ticker(n, 1_000.0, sigma_path=alternating(n, 0.05))
    weight = pd.DataFrame({"A": [np.nan] * n}, index=prices.index)
    weight.iloc[24, 0] = 1.0  # all the cash into 100 % of 10 days' volume: impact is large
    cash = 1_000_000.0
    costs = Costs(0.001, 0.001, cash, impact=2.0)
    sim = simulate(prices, pd.concat({0: weight}, axis=1), costs)
    fill = sim.orders.iloc[0]
    assert fill["shares"] * fill["price"] * 1.001 == pytest.approx(cash, rel=1e-13)
    assert sim.cash[0].iloc[25] == 0.0
    px = prices.close["A"].iloc[25]
    sigma = float(np.std([0.05, 1 / 1.05 - 1] * 10, ddof=1))
    adv = 1_000.0
    assert fill["price"] == pytest.approx(
        px * (1.001 + 2.0 * sigma * math.sqrt(fill["shares"] / adv)), rel=1e-12
    )


def test_a_wipe_out_cancels_the_working_orders():
    """A 3x leveraged buy of 9,000 shares capped at 2,500 a bar fills on bars 1, 2 and 3 (at a
    100 open); bar 3 closes at 1: the run is wiped out, and the 1,500 still working never fill."""
    n = 10
    close = [100.0, 100.0, 100.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    open_ = [100.0, 100.0, 100.0, 100.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    prices = one_ticker(n, 10_000.0, close=close, open_=open_)
    weight = pd.DataFrame({"A": [np.nan] * n}, index=prices.index)
    weight.iloc[0, 0] = 3.0  # 9,000 shares with 300,000
    costs = Costs(0.0, 0.0, 300_000.0, max_gross=3.0, participation=0.25)
    sim = simulate(prices, pd.concat({0: weight}, axis=1), costs)
    assert sim.orders["shares"].tolist() == pytest.approx([2_500.0] * 3)
    assert (sim.equity[0].iloc[3:] == 0).all()
    assert from_accumulators(sim.acc, 300_000.0).loc[0, "wiped_out"]


def test_close_only_tickers_are_refused_under_rule_9_unless_allowed():
    index = pd.bdate_range("2024-01-01", periods=30, name="date")
    close = pd.DataFrame({"A": np.linspace(100, 110, 30), "C": np.linspace(50, 60, 30)}, index=index)
    close = close.rename_axis(columns="ticker")
    open_ = close.copy()
    open_["C"] = np.nan
    volume = close * 0 + 1e4
    volume["C"] = np.nan
    prices = Prices(close, open_, open_.copy(), open_.copy(), volume, close_only=frozenset({"C"}))
    weight = pd.DataFrame({"A": [0.5] + [np.nan] * 29, "C": [0.5] + [np.nan] * 29}, index=index)
    targets = pd.concat({0: weight}, axis=1)
    with pytest.raises(AishockError, match=r"have no volume \(close-only data\).*: C; .*--no-volume ok"):
        simulate(prices, targets, Costs(participation=0.1))
    sim = simulate(prices, targets, Costs(0.0, 0.0, 1e8, participation=0.001, no_volume="ok"))
    assert sim.uncapped == ("C",)
    by_ticker = sim.orders.groupby("ticker")["shares"].count()
    assert by_ticker["C"] == 1 and by_ticker["A"] > 1  # C filled at once, A capped
    plain = simulate(prices, targets, Costs())  # without rule 9 nothing is refused
    assert plain.uncapped == ()


def test_capital_is_a_run_column_and_the_cap_breaks_scale_invariance():
    """One schedule at three capitals in one call: without the cap the returns are the
    same at every capital; with it the largest capital trades less of its target."""
    n = 60
    prices = one_ticker(n, 5_000.0, sigma_path=alternating(n, 0.01) * np.linspace(1, 1.3, n))
    weight = pd.DataFrame({"A": [np.nan] * n}, index=prices.index)
    weight.iloc[24, 0] = 1.0
    one = Schedule.from_frames([weight], prices.index)
    three = one.take([0, 0, 0])
    cash = np.array([1e4, 1e6, 1e8])
    free = run_schedule(prices, three, Costs(0.0, 0.0), cash=cash, record="equity")
    growth = free.equity[-1] / cash
    np.testing.assert_allclose(growth, growth[0], rtol=1e-12)
    capped = run_schedule(prices, three, Costs(0.0, 0.0, participation=0.1), cash=cash, record="equity")
    growth = capped.equity[-1] / cash
    assert growth[0] == pytest.approx(free.equity[-1][0] / 1e4, rel=1e-12)  # 1e4 is never capped
    assert growth[2] < growth[1] < growth[0]
    with pytest.raises(AishockError, match="one initial cash per run"):
        run_schedule(prices, three, Costs(), cash=np.array([1e4, 1e6]))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("participation", 0.0, "participation must be a fraction"),
        ("participation", 1.5, "participation must be a fraction"),
        ("participation", True, "participation must be a fraction"),
        ("impact", -1.0, "impact must be a coefficient"),
        ("no_volume", "yes", "no_volume must be 'refuse' or 'ok'"),
    ],
)
def test_bad_volume_settings_are_refused_in_one_line(field, value, message):
    with pytest.raises(AishockError, match=message):
        Costs(**{field: value})
