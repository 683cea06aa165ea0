"""Round trips (engine.backtest.trades) and daily exposure (engine.backtest.exposure).

- A constructed long/short case with a partial close and a reversal, checked by hand.
- vectorbt's records on every long-only run of the built-in strategies it can express: its
  position records (flat to flat) equal the FIFO trades grouped by position, and its exit
  trades equal the FIFO trades wherever a position was entered by one order (where the two
  matching rules coincide; vectorbt's exit trades take the position's average entry price
  instead of FIFO lots).
- P&L over all trades, closed and open, adds up to the run's P&L less its net interest.
- Exposure equals the daily shares times closes over equity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic import nyse_sessions

import engine
from engine.backtest import exposure, trades
from engine.data.panel import Prices
from engine.sim.simulate import Costs, simulate

RTOL = 1e-9


def _panel(closes: list[float]) -> Prices:
    index = nyse_sessions("2024-01-02", "2024-01-31")[: len(closes)]
    close = pd.DataFrame({"AAA": closes}, index=index).rename_axis(columns="ticker")
    nan = close * np.nan
    return Prices(close, nan, nan, nan, nan, close_only=frozenset(["AAA"]))


def _targets(prices: Prices, weights: dict[int, float]) -> pd.DataFrame:
    """Decisions dated the day before the bar they execute on (rule 1): {bar: weight}."""
    frame = pd.DataFrame(np.nan, index=prices.index, columns=pd.MultiIndex.from_tuples([(0, "AAA")]))
    for bar, w in weights.items():
        frame.iloc[bar - 1, 0] = w
    return frame


def _trades_of(prices, weights, costs):
    sim = simulate(prices, _targets(prices, weights), costs, start=prices.index[1])
    close = prices.close.reindex(sim.equity.index)
    return trades.round_trips(sim.orders, close, sim.equity.columns, {"AAA": "power"}), sim


def test_a_partial_close_and_a_reversal_by_hand():
    # closes 10, 10, 20, 20, 15 (fills at the close, no costs); cash 1,000
    # bar 1: 0.5 of 1,000 at 10 -> buy 50; bar 2: 1/3 of 1,500 at 20 -> 25 shares: sell 25
    # bar 3: -2/15 of 1,500 at 20 -> -10 shares: sell 35 = close 25 + open a short of 10
    # bar 4: 0 at 15 -> buy 10, covering the short; equity 1,550
    prices = _panel([10.0, 10.0, 20.0, 20.0, 15.0])
    costs = Costs(fees=0.0, slippage=0.0, init_cash=1000.0, fill="close")
    t, sim = _trades_of(prices, {1: 0.5, 2: 1 / 3, 3: -2 / 15, 4: 0.0}, costs)
    days = prices.index
    assert list(t["side"]) == ["long", "long", "short"]
    assert list(t["status"]) == ["closed"] * 3
    assert list(t["entry_date"]) == [days[1], days[1], days[3]]
    assert list(t["exit_date"]) == [days[2], days[3], days[4]]
    np.testing.assert_allclose(t["shares"], [25, 25, 10], rtol=RTOL)
    np.testing.assert_allclose(t["entry_price"], [10, 10, 20], rtol=RTOL)
    np.testing.assert_allclose(t["exit_price"], [20, 20, 15], rtol=RTOL)
    np.testing.assert_allclose(t["pnl"], [250, 250, 50], rtol=RTOL)
    np.testing.assert_allclose(t["return"], [1.0, 1.0, 0.25], rtol=RTOL)
    assert list(t["bars"]) == [1, 2, 1]
    assert list(t["position"]) == [0, 0, 1]
    assert list(t["role"]) == ["power"] * 3
    # the first long lot was marked at 10 (bar 1's close) and 20; the short at 20 then 15
    np.testing.assert_allclose(t["mae"], [0.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(t["mfe"], [1.0, 1.0, 0.25], rtol=RTOL)
    assert t["pnl"].sum() == pytest.approx(sim.equity.iloc[-1, 0] - 1000.0, rel=RTOL)


def test_a_sale_closes_the_oldest_lot_first():
    # closes 10, 10, 20, 20, 30: buy 50 at 10, then 25 more at 20 (the whole 1,500), then sell
    # down to half (37.5 shares): FIFO closes 37.5 of the lot bought at 10; the last bar sells
    # the 12.5 left of it and the 25 bought at 20
    prices = _panel([10.0, 10.0, 20.0, 20.0, 30.0])
    costs = Costs(fees=0.0, slippage=0.0, init_cash=1000.0, fill="close")
    t, sim = _trades_of(prices, {1: 0.5, 2: 1.0, 3: 0.5, 4: 0.0}, costs)
    t = t.sort_values(["exit_date", "entry_date"]).reset_index(drop=True)
    np.testing.assert_allclose(t["shares"], [37.5, 12.5, 25], rtol=RTOL)
    np.testing.assert_allclose(t["entry_price"], [10, 10, 20], rtol=RTOL)
    np.testing.assert_allclose(t["exit_price"], [20, 30, 30], rtol=RTOL)
    np.testing.assert_allclose(t["pnl"], [375, 250, 250], rtol=RTOL)
    assert list(t["position"]) == [0, 0, 0]
    assert t["pnl"].sum() == pytest.approx(sim.equity.iloc[-1, 0] - 1000.0, rel=RTOL)


def test_fees_split_in_proportion_to_shares_and_an_open_trade_is_marked_at_the_last_close():
    # 1 % fees: bar 1 buys 50 at 10 (fee 5); bar 2 sells to a third of the equity; the rest
    # stays open to the last close 8
    prices = _panel([10.0, 10.0, 20.0, 12.0, 8.0])
    costs = Costs(fees=0.01, slippage=0.0, init_cash=1000.0, fill="close")
    t, sim = _trades_of(prices, {1: 0.5, 2: 1 / 3}, costs)
    orders = sim.orders
    bought, sold = orders["shares"].iloc[0], orders["shares"].iloc[1]
    assert bought == pytest.approx(50.0, rel=RTOL)
    kept = bought - sold
    closed, still = t.iloc[0], t.iloc[1]
    assert (closed["status"], still["status"]) == ("closed", "open")
    assert closed["shares"] == pytest.approx(sold, rel=RTOL)
    assert closed["entry_fees"] == pytest.approx(5.0 * sold / 50, rel=RTOL)
    assert closed["exit_fees"] == pytest.approx(sold * 20 * 0.01, rel=RTOL)
    assert closed["pnl"] == pytest.approx(sold * 10 - 5.0 * sold / 50 - sold * 0.2, rel=RTOL)
    assert still["shares"] == pytest.approx(kept, rel=RTOL)
    assert still["entry_fees"] == pytest.approx(5.0 * kept / 50, rel=RTOL)
    assert (still["exit_date"], still["exit_price"], still["exit_fees"]) == (prices.index[4], 8.0, 0.0)
    assert still["pnl"] == pytest.approx(kept * (8 - 10) - 5.0 * kept / 50, rel=RTOL)
    assert still["bars"] == 3
    # marked at 10, 20, 12, 8 while open: -20 % adverse, +100 % favourable
    assert (still["mae"], still["mfe"]) == (pytest.approx(-0.2), pytest.approx(1.0))
    assert t["pnl"].sum() == pytest.approx(sim.equity.iloc[-1, 0] - 1000.0, rel=RTOL)


def test_a_run_without_orders_has_no_trades():
    prices = _panel([10.0, 11.0, 12.0])
    t, _ = _trades_of(prices, {}, Costs(fill="close"))
    assert t.empty and list(t.columns) == list(trades.COLUMNS)
    s = trades.summary(t)
    assert s.loc["all", "trades"] == 0 and np.isnan(s.loc["all", "win_rate"])


def test_summary_by_trade_on_a_table_of_trades():
    t = pd.DataFrame(
        {
            "run": ["a"] * 5,
            "role": ["power", "power", "grid", "grid", "grid"],
            "status": ["closed", "closed", "closed", "closed", "open"],
            "pnl": [30.0, -10.0, 20.0, -20.0, 99.0],
            "return": [0.3, -0.1, 0.2, -0.2, 0.99],
            "bars": [2, 4, 6, 10, 50],
        }
    )
    s = trades.summary(t, "run").loc["a"]
    assert (s["trades"], s["open"]) == (4, 1)
    assert s["win_rate"] == 0.5
    assert s["profit_factor"] == pytest.approx(50 / 30)
    assert (s["avg_win"], s["avg_loss"], s["expectancy"]) == (25.0, -15.0, 5.0)
    assert (s["median_bars"], s["longest_bars"], s["best"], s["worst"]) == (5.0, 10.0, 0.3, -0.2)
    by_role = trades.summary(t, "role")
    assert by_role.loc["power", "profit_factor"] == 3.0
    assert by_role.loc["grid", "trades"] == 2
    both = trades.by_role(t)  # all the trades first, then each role
    assert list(both.index) == ["all", "power", "grid"] and both["trades"].tolist() == [4, 2, 2]
    assert list(trades.by_role(t.iloc[:0]).index) == ["all"]
    only_wins = trades.summary(t[t["pnl"] > 0], "run").loc["a"]
    assert only_wins["profit_factor"] == np.inf


# -- against vectorbt, and the P&L identity, on the built-in strategies ----------------------
LONG_ONLY = [
    ("oversold_rebound", {}),
    ("oversold_rebound", {"top_k": 3, "hold_days": 5}),
    ("inference_rotation", {}),
    ("inference_rotation", {"fraction": 0.5}),
    ("buy_and_hold", {}),
]


@pytest.fixture(scope="module", params=LONG_ONLY, ids=lambda c: f"{c[0]}{c[1] or ''}")
def long_only(request):
    name, params = request.param
    result = engine.run(name, params, start="2024-07-01", end="2025-12-31")
    return result, result.to_vectorbt()


def _positions(t: pd.DataFrame) -> pd.DataFrame:
    t = t.assign(entry_value=t["shares"] * t["entry_price"], exit_value=t["shares"] * t["exit_price"])
    g = t.groupby(["ticker", "position"], sort=True)
    out = g.agg(
        entry_date=("entry_date", "min"),
        exit_date=("exit_date", "max"),
        shares=("shares", "sum"),
        entry_value=("entry_value", "sum"),
        exit_value=("exit_value", "sum"),
        pnl=("pnl", "sum"),
        status=("status", "last"),
    )
    out["entry_price"] = out["entry_value"] / out["shares"]
    out["exit_price"] = out["exit_value"] / out["shares"]
    out["return"] = out["pnl"] / out["entry_value"]
    return out.reset_index()


def test_positions_equal_vectorbts_position_records(long_only):
    result, pf = long_only
    ours = _positions(result.trades).sort_values(["ticker", "entry_date"]).reset_index(drop=True)
    theirs = pf.positions.records_readable
    theirs = theirs.assign(ticker=[c[-1] for c in theirs["Column"]])
    theirs = theirs.sort_values(["ticker", "Entry Timestamp"]).reset_index(drop=True)
    assert len(ours) == len(theirs) > 0
    assert list(ours["ticker"]) == list(theirs["ticker"])
    assert (ours["entry_date"].to_numpy() == theirs["Entry Timestamp"].to_numpy()).all()
    assert (ours["exit_date"].to_numpy() == theirs["Exit Timestamp"].to_numpy()).all()
    assert list(ours["status"].str.title()) == list(theirs["Status"])
    for a, b in [
        ("shares", "Size"),
        ("entry_price", "Avg Entry Price"),
        ("exit_price", "Avg Exit Price"),
        ("pnl", "PnL"),
        ("return", "Return"),
    ]:
        np.testing.assert_allclose(ours[a], theirs[b], rtol=RTOL, atol=1e-9, err_msg=a)


def test_single_entry_trades_equal_vectorbts_exit_trades(long_only):
    result, pf = long_only
    t = result.trades
    one = t.groupby(["ticker", "position"])["entry_date"].transform("nunique").to_numpy() == 1
    ours = t[one].sort_values(["ticker", "entry_date", "exit_date"]).reset_index(drop=True)
    theirs = pf.trades.records_readable
    theirs = theirs.assign(ticker=[c[-1] for c in theirs["Column"]])
    # vectorbt's position of each exit trade, entered by one order where ours was
    entered = set(zip(ours["ticker"], ours["entry_date"], strict=True))
    keep = np.array([k in entered for k in zip(theirs["ticker"], theirs["Entry Timestamp"], strict=True)])
    theirs = theirs[keep].sort_values(["ticker", "Entry Timestamp", "Exit Timestamp"]).reset_index(drop=True)
    assert len(ours) == len(theirs)
    if result.strategy != "inference_rotation":  # it re-weights daily: every position has many entries
        assert len(ours) > 0
    assert (ours["exit_date"].to_numpy() == theirs["Exit Timestamp"].to_numpy()).all()
    for a, b in [
        ("shares", "Size"),
        ("entry_price", "Avg Entry Price"),
        ("exit_price", "Avg Exit Price"),
        ("entry_fees", "Entry Fees"),
        ("exit_fees", "Exit Fees"),
        ("pnl", "PnL"),
        ("return", "Return"),
    ]:
        np.testing.assert_allclose(ours[a], theirs[b], rtol=RTOL, atol=1e-9, err_msg=a)


SHORTS_AND_LEVERAGE = [
    ("inference_pair", {}, Costs()),
    ("inference_pair", {}, Costs(max_gross=2.0, financing=0.06, borrow_fee=0.03, cash_rate=0.04)),
    ("oversold_rebound", {"top_k": 4}, Costs(max_gross=1.5, financing=0.05, cash_rate=0.03)),
    ("inference_rotation", {"fraction": 0.5}, Costs(fill="close")),
]


@pytest.mark.parametrize(("name", "params", "costs"), SHORTS_AND_LEVERAGE)
def test_pnl_over_all_trades_is_the_runs_pnl_less_interest(name, params, costs):
    overrides = {"leg": 1.0} if costs.max_gross > 1 and name == "inference_pair" else params
    r = engine.run(name, overrides, start="2024-07-01", end="2025-12-31", costs=costs)
    t = r.trades
    final = r.equity.iloc[-1, 0]
    interest = r.stats.iloc[0]["interest"]
    assert not r.stats.iloc[0]["wiped_out"]
    assert t["pnl"].sum() == pytest.approx(final - costs.init_cash - interest, rel=1e-9, abs=1e-6)
    assert (t["mae"] <= 0).all() and (t["mfe"] >= 0).all()
    if name == "inference_pair":
        assert {"long", "short"} <= set(t["side"])


def test_trades_of_a_sweep_carry_each_runs_label():
    r = engine.run("oversold_rebound", [{"top_k": 3}, {"top_k": 5}], start="2025-01-02", end="2025-06-30")
    t = r.trades
    assert set(t["run"]) == {3, 5}
    for i, k in enumerate((3, 5)):
        assert t[t["run"] == k]["pnl"].sum() == pytest.approx(
            r.equity.iloc[-1, i] - r.costs.init_cash, rel=1e-9
        )
    assert list(r.trade_summary().index) == [3, 5]


# -- exposure ---------------------------------------------------------------------------
def test_exposure_is_the_shares_times_closes_over_equity():
    costs = Costs(max_gross=2.0, financing=0.05)
    r = engine.run("inference_pair", {"leg": 1.0}, start="2024-07-01", end="2025-12-31", costs=costs)
    sim = simulate(r.prices, r.schedule, costs, start="2024-07-01")
    shares = sim.shares.droplevel(0, axis=1)
    close = r.prices.close[shares.columns].ffill().reindex(shares.index)
    value = (shares * close).fillna(0.0)
    eq = sim.equity.iloc[:, 0]
    e = r.exposure
    np.testing.assert_allclose(e["long"], value.clip(lower=0).sum(axis=1) / eq, rtol=1e-12)
    np.testing.assert_allclose(e["short"], value.clip(upper=0).sum(axis=1) / eq, rtol=1e-12)
    np.testing.assert_allclose(e["gross"], value.abs().sum(axis=1) / eq, rtol=1e-12)
    np.testing.assert_allclose(e["net"], value.sum(axis=1) / eq, rtol=1e-12, atol=1e-15)
    assert (e["names"] == (shares != 0).sum(axis=1)).all()
    assert e["gross"].max() > 1.5 and e["short"].min() < -0.5
    traded = (sim.orders["shares"] * sim.orders["price"]).groupby(sim.orders["date"]).sum()
    prev = eq.shift(1).fillna(costs.init_cash)
    np.testing.assert_allclose(e["turnover"], (traded.reindex(eq.index, fill_value=0) / prev), rtol=1e-12)
    # the engine's exposure stat is the mean of the daily gross exposure
    assert e["gross"].mean() == pytest.approx(r.stats.iloc[0]["exposure"], rel=1e-9)


def test_exposure_of_several_runs_is_labelled_by_run_and_measure():
    orders = pd.DataFrame({"run": [0], "date": [pd.Timestamp("2024-01-03")], "value": [50.0]})
    index = pd.DatetimeIndex(["2024-01-02", "2024-01-03"])
    runs = pd.Index([1, 2], name="k")
    holdings = pd.DataFrame(
        [[0.0, 0.0, 0.0, 0.0], [60.0, -20.0, 0.0, 0.0]],
        index=index,
        columns=pd.MultiIndex.from_tuples([(1, "A"), (1, "B"), (2, "A"), (2, "B")], names=["k", "ticker"]),
    )
    equity = pd.DataFrame([[100.0, 100.0], [80.0, 0.0]], index=index, columns=runs)
    e = exposure.daily(holdings, equity, orders, 100.0)
    assert e.columns.names == ["k", "measure"]
    row = e.loc["2024-01-03"]
    assert (row[(1, "long")], row[(1, "short")], row[(1, "gross")], row[(1, "net")]) == (
        0.75,
        -0.25,
        1.0,
        0.5,
    )
    assert (row[(1, "names")], row[(1, "turnover")]) == (2, 0.5)
    assert row[(2, "gross")] == 0.0  # equity 0: wiped out
