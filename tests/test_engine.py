"""The simulator and run(): fills, costs, accounting identities, multi-run columns."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import synthetic

import engine
from engine import AishockError, Costs
from engine.sim.simulate import simulate

START, END = "2025-01-02", "2025-03-31"


@pytest.fixture(scope="module")
def prices():
    """Synthetic NVDA, AVGO, MRVL (close-only, as in the snapshot) and SPY up to END
    (tests/synthetic.py); the shock of 2025-01-27 takes 17 % off NVDA and AVGO."""
    shock = {"2025-01-27": {"NVDA": -0.17, "AVGO": -0.17}}
    return synthetic.panel(
        ["NVDA", "AVGO", "MRVL", "SPY"], "2024-10-01", END, close_only={"MRVL"}, moves=shock
    )


def schedule(prices, rows: dict[str, list[float]]) -> pd.DataFrame:
    w = pd.DataFrame(np.nan, index=prices.index, columns=prices.tickers)
    for day, values in rows.items():
        w.loc[day] = values
    return pd.concat({0: w}, axis=1)


def test_orders_fill_at_next_bar_open_or_close_for_close_only(prices):
    w = schedule(prices, {"2025-01-24": [0.3, 0.3, 0.3, 0.0]})
    sim = simulate(prices, w, Costs(fees=0, slippage=0), start=START)
    orders = sim.orders.set_index("ticker")
    assert set(orders["date"]) == {pd.Timestamp("2025-01-27")}  # decided 24th, filled next bar
    assert orders.loc["NVDA", "price"] == pytest.approx(prices.open.at[pd.Timestamp("2025-01-27"), "NVDA"])
    assert orders.loc["MRVL", "price"] == pytest.approx(prices.close.at[pd.Timestamp("2025-01-27"), "MRVL"])


def test_cash_plus_holdings_equals_equity_every_day(prices):
    w = schedule(prices, {"2025-01-10": [0.25, 0.25, 0.25, 0.25], "2025-02-14": [0.5, 0, 0.1, np.nan]})
    sim = simulate(prices, w, Costs(), start=START)
    invested = sim.holdings.T.groupby(level=0).sum().T
    np.testing.assert_allclose(sim.cash + invested, sim.equity, rtol=1e-12)
    assert (sim.cash >= -1e-9).all().all()


def test_fees_and_slippage_are_charged(prices):
    w = schedule(prices, {"2025-01-10": [0.25, 0.25, 0.25, 0.25], "2025-02-14": [0.5, 0, 0.1, 0.4]})
    free = simulate(prices, w, Costs(fees=0, slippage=0), start=START)
    fees = simulate(prices, w, Costs(fees=0.001, slippage=0), start=START)
    both = simulate(prices, w, Costs(fees=0.001, slippage=0.002), start=START)
    paid = fees.orders["fees"].sum()
    assert paid == pytest.approx(0.001 * fees.orders["value"].sum(), rel=1e-12)
    assert paid > 0
    assert free.equity.iloc[-1, 0] > fees.equity.iloc[-1, 0] > both.equity.iloc[-1, 0]
    buys = both.orders[both.orders["side"] == "buy"].iloc[0]
    assert buys["price"] == pytest.approx(prices.open.at[buys["date"], buys["ticker"]] * 1.002)


def test_nan_leaves_a_position_alone_and_zero_sells_it(prices):
    w = schedule(prices, {"2025-01-10": [0.4, 0.4, 0, 0], "2025-02-14": [0.0, np.nan, np.nan, np.nan]})
    sim = simulate(prices, w, Costs(fees=0, slippage=0), start=START)
    later = sim.orders[sim.orders["date"] > pd.Timestamp("2025-01-14")]
    assert list(later["ticker"]) == ["NVDA"] and list(later["side"]) == ["sell"]
    assert sim.shares[(0, "NVDA")].iloc[-1] == 0 and sim.shares[(0, "AVGO")].iloc[-1] > 0


def test_decision_before_start_is_carried_into_the_first_bar(prices):
    w = schedule(prices, {"2024-12-02": [0, 0, 0, 1.0]})
    sim = simulate(prices, w, Costs(fees=0, slippage=0), start=START)
    assert sim.equity.index[0] == pd.Timestamp(START)
    first = sim.orders.iloc[0]
    assert first["date"] == pd.Timestamp(START) and first["ticker"] == "SPY"


@pytest.mark.parametrize(
    ("row", "costs", "message"),
    [
        ([0.6, 0.6, 0, 0], {}, "gross exposure 1.2 .* above max_gross 1"),
        ([0.6, -0.6, 0, 0], {}, "gross exposure 1.2"),
        ([1.5, 0.6, 0.5, 0], {"max_gross": 2.5}, "gross exposure 2.6 .* above max_gross 2.5"),
        ([np.inf, 0, 0, 0], {}, "infinite"),
    ],
)
def test_invalid_weights_are_refused(prices, row, costs, message):
    with pytest.raises(AishockError, match=message):
        simulate(prices, schedule(prices, {"2025-01-10": row}), Costs(**costs), start=START)


def test_shorts_and_leverage_within_max_gross_are_accepted(prices):
    short = simulate(prices, schedule(prices, {"2025-01-10": [0.5, -0.5, 0, 0]}), Costs(), start=START)
    assert (short.shares[(0, "AVGO")].iloc[10:] < 0).all()
    lever = simulate(
        prices, schedule(prices, {"2025-01-10": [1.0, 1.0, 0, 0]}), Costs(max_gross=2), start=START
    )
    assert (lever.cash.iloc[10:, 0] < 0).all()  # borrowed


@pytest.mark.parametrize(
    "costs",
    [
        {"fees": -0.001},
        {"slippage": 0.7},
        {"fees": float("nan")},
        {"init_cash": 0},
        {"init_cash": float("inf")},
        {"max_gross": 0},
        {"max_gross": float("nan")},
        {"financing": -0.01},
        {"borrow_fee": float("nan")},
        {"cash_rate": 1.5},
    ],
)
def test_invalid_costs_are_refused(costs):
    with pytest.raises(AishockError):
        Costs(**costs)


def test_parameter_sets_are_columns_of_one_run_and_equal_single_runs(cfg):
    grid = [{"top_k": k, "hold_days": h} for k in (3, 8) for h in (10, 30)]
    many = engine.run("oversold_rebound", grid, start="2024-10-01", end="2025-06-30", config=cfg)
    assert many.equity.columns.names == ["top_k", "hold_days"]
    assert list(many.stats.index) == [(3, 10), (3, 30), (8, 10), (8, 30)]
    for i, p in enumerate(grid):
        one = engine.run("oversold_rebound", p, start="2024-10-01", end="2025-06-30", config=cfg)
        np.testing.assert_allclose(many.equity.iloc[:, i], one.equity.iloc[:, 0], rtol=1e-12)
        pd.testing.assert_series_equal(many[i].stats.iloc[0], one.stats.iloc[0], check_names=False)


def test_result_weights_are_holdings_over_equity(cfg):
    r = engine.run("inference_rotation", start="2025-01-02", end="2025-03-31", config=cfg)
    w = r.weights
    total = w.T.groupby(level=0).sum().T.iloc[:, 0]
    cash_share = (r.cash / r.equity).iloc[:, 0]
    np.testing.assert_allclose(total + cash_share, 1.0, rtol=1e-12)


@pytest.mark.parametrize(
    ("name", "p", "costs"),
    [
        ("inference_rotation", [{}, {"fraction": 0.2, "rebalance_days": 5}], Costs()),
        ("oversold_rebound", [{}, {"top_k": 3, "exit_on_recovery": True}], Costs(fill="close")),
        ("inference_pair", [{}, {"hedge": "beta"}], Costs(fees=0.01, slippage=0.002)),
    ],
)
def test_to_vectorbt_gives_the_same_equity(cfg, name, p, costs):
    r = engine.run(name, p, start="2024-07-01", end="2025-12-31", costs=costs, config=cfg)
    pf = r.to_vectorbt()
    value = np.asarray(pf.value()).reshape(r.equity.shape)
    np.testing.assert_allclose(value, r.equity.to_numpy(), rtol=1e-9)
    assert len(pf.orders.records) == len(r.orders)
    # one figure, one value: vectorbt's year is the result's 252 trading days (issue 18: its
    # default 365 calendar days gave a Sharpe of -0.242 where aishock gave -0.201)
    sharpe = pf.sharpe_ratio()  # one per run (a group of columns)
    stats = pf.stats(column=sharpe.index[0])
    assert stats["Sharpe Ratio"] == pytest.approx(r.stats["sharpe"].iloc[0], rel=1e-9)
    np.testing.assert_allclose(np.asarray(sharpe), r.stats["sharpe"].to_numpy(), rtol=1e-9)


def test_to_vectorbt_refuses_what_vectorbt_cannot_express(cfg):
    r = engine.run(
        "buy_and_hold", {"weight": 2.0}, "2025-01-02", "2025-03-31", Costs(max_gross=2), config=cfg
    )
    with pytest.raises(AishockError, match="leverage or interest"):
        r.to_vectorbt()


def test_stats_from_the_accumulators_equal_the_metrics_of_the_equity_curve(cfg):
    from engine.analytics import metrics

    cases = [
        ("oversold_rebound", {"mode": "per_name", "min_drop": 0.04}, Costs()),
        ("inference_pair", {"hedge": "beta"}, Costs(borrow_fee=0.05, cash_rate=0.03)),
        ("buy_and_hold", {"hold": "SMH", "weight": 3.0}, Costs(max_gross=3, financing=0.08)),
    ]
    for name, p, costs in cases:
        for rf in (0.0, 0.04):
            config = dataclasses.replace(cfg, risk_free=rf)
            r = engine.run(name, p, "2024-07-01", "2025-12-31", costs, config=config)
            ret, row = r.returns.iloc[:, 0], r.stats.iloc[0]
            assert row["sharpe"] == pytest.approx(metrics.sharpe(ret, rf), rel=1e-9, nan_ok=True)
            assert row["sortino"] == pytest.approx(metrics.sortino(ret, rf), rel=1e-9, nan_ok=True)
            assert row["max_drawdown"] == pytest.approx(metrics.max_drawdown(ret), rel=1e-9, nan_ok=True)
            assert row["cagr"] == pytest.approx(metrics.cagr(ret), rel=1e-9, nan_ok=True)
            assert row["volatility"] == pytest.approx(metrics.volatility(ret), rel=1e-9, nan_ok=True)
            assert row["total_return"] == pytest.approx(metrics.total_return(ret), rel=1e-9, nan_ok=True)
            gross = r.holdings.abs().T.groupby(level=0).sum().T.iloc[:, 0] / r.equity.iloc[:, 0]
            assert row["exposure"] == pytest.approx(gross.fillna(0.0).mean(), rel=1e-9)  # 0 once wiped out
            assert row["n_trades"] == len(r.orders)
            assert row["fees_paid"] == pytest.approx(r.orders["fees"].sum(), rel=1e-9)


def test_a_wiped_out_run_stays_at_zero_with_finite_stats(prices):
    w = schedule(prices, {"2025-01-10": [3.0, 0, 0, 0]})
    sim = simulate(prices, w, Costs(max_gross=3, financing=0.99), start=START)
    # 3x NVDA through the 2025-01-27 shock (-17%) loses about half; a steeper fall wipes out
    steep = schedule(prices, {"2025-01-10": [-3.0, 0, 0, 0], "2025-02-01": [-3.0, 0, 0, 0]})
    lev = simulate(prices, steep, Costs(max_gross=3), start=START)
    for s in (sim, lev):
        assert np.isfinite(s.equity.to_numpy()).all() and (s.equity.to_numpy() >= 0).all()


def test_a_position_in_a_ticker_whose_data_ends_is_closed_at_its_last_close(cfg):
    """MARA's file ends on 2025-05-30 while SPY's goes on (the data checks report MARA as
    delisted): a holding is sold at that close (rule 6), never carried at a stale price."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = engine.run(
            "buy_and_hold", {"hold": "MARA,SPY"}, "2025-03-03", "2025-07-31", Costs(0, 0), config=cfg
        )
    last = pd.Timestamp("2025-05-30")
    sells = r.orders[(r.orders["side"] == "sell") & (r.orders["ticker"] == "MARA")]
    assert list(sells["date"]) == [last]
    assert sells["price"].iloc[0] == pytest.approx(r.prices.close.at[last, "MARA"])
    mara = r.holdings.xs("MARA", axis=1, level="ticker").iloc[:, 0]
    assert (mara.loc[last:] == 0).all() and (mara.loc[:"2025-05-29"] > 0).all()
    assert r.equity.index[-1] == pd.Timestamp("2025-07-31")
