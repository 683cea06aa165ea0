"""The theses on the real snapshot: what they detect, pick and hold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import engine
from engine import AishockError, load_prices
from engine.data.universe import resolve
from engine.strategy import params, registry

SHOCK = pd.Timestamp("2025-01-27")


@pytest.fixture(scope="module")
def ai_prices(cfg):
    return load_prices([*resolve("ai"), "SPY"], end="2025-12-31", config=cfg)


def test_oversold_rebound_defaults_detect_the_shock_and_buy_the_biggest_decliners(ai_prices, cfg):
    spec = registry.get("oversold_rebound")
    p = spec.params()
    w = spec.weights(ai_prices, p)
    decided = w.dropna(how="all")
    assert decided.index[0] == SHOCK  # detected from the data, no date given
    day = ai_prices.returns().loc[SHOCK, resolve("ai")].dropna().sort_values()
    picks = w.loc[SHOCK][w.loc[SHOCK] > 0]
    assert sorted(picks.index) == sorted(day.index[: p.top_k])
    np.testing.assert_allclose(picks, 1 / p.top_k)

    r = engine.run(spec, p, start="2024-07-01", end="2025-12-31", config=cfg)
    first = r.orders[r.orders["side"] == "buy"]["date"].min()
    assert first == pd.Timestamp("2025-01-28")  # the next bar
    held = r.weights.loc["2025-01-28"].droplevel(0)
    assert sorted(held[held > 0].index) == sorted(picks.index)
    exit_day = ai_prices.index[ai_prices.index.get_loc(SHOCK) + p.hold_days + 1]
    sells = r.orders[r.orders["side"] == "sell"]
    assert set(sells["date"]) == {exit_day}


def test_oversold_rebound_event_date_and_earnings_preference(ai_prices):
    spec = registry.get("oversold_rebound")
    p = params.make(spec.params, {"event_date": "2025-01-27", "top_k": 5, "earnings_within": 30})
    w = spec.weights(ai_prices, p).loc[SHOCK]
    reporting = set(ai_prices.earnings.query("'2025-01-27' < date <= '2025-02-26'")["ticker"])
    picks = set(w[w > 0].index)
    assert len(picks) == 5 and picks <= reporting


def test_oversold_rebound_inverse_vol_weights_sum_to_one_and_favour_calm_names(ai_prices):
    spec = registry.get("oversold_rebound")
    w = spec.weights(ai_prices, spec.params(weighting="inverse_vol")).loc[SHOCK]
    picks = w[w > 0]
    assert picks.sum() == pytest.approx(1.0)
    vol = ai_prices.returns().loc[:SHOCK, picks.index].iloc[-60:].std()
    assert picks.idxmax() == vol.idxmin()


def test_oversold_rebound_exit_on_recovery_sells_before_the_hold_ends(ai_prices, cfg):
    plain = engine.run("oversold_rebound", None, start="2025-01-02", end="2025-04-30", config=cfg)
    early = engine.run("oversold_rebound", {"exit_on_recovery": True}, "2025-01-02", "2025-04-30", config=cfg)
    assert (
        early.orders.query("side == 'sell'")["date"].min()
        < plain.orders.query("side == 'sell'")["date"].min()
    )


def test_inference_rotation_moves_the_fraction_at_the_shock(ai_prices):
    spec = registry.get("inference_rotation")
    p = spec.params()
    w = spec.weights(ai_prices, p)
    into = resolve(p.into)
    before = w.loc[: SHOCK - pd.Timedelta(days=1)].dropna(how="all").iloc[-1]
    assert before[into].sum() == 0
    assert w.loc[SHOCK, into].sum() == pytest.approx(p.fraction)
    assert w.loc[SHOCK].sum() == pytest.approx(1.0)


def test_buy_and_hold_spy_tracks_spy(cfg):
    r = engine.run(
        "buy_and_hold", {"hold": "SPY"}, "2025-01-02", "2025-06-30", engine.Costs(0, 0), config=cfg
    )
    spy = load_prices(["SPY"], end="2025-06-30", config=cfg)
    growth = spy.close["SPY"].loc["2025-06-30"] / spy.open["SPY"].loc["2025-01-02"]
    assert r.equity.iloc[-1, 0] / r.costs.init_cash == pytest.approx(growth, rel=1e-9)


def test_unknown_parameter_gets_a_did_you_mean():
    spec = registry.get("oversold_rebound")
    with pytest.raises(AishockError, match="did you mean 'top_k'"):
        params.make(spec.params, {"topk": 3})
    with pytest.raises(AishockError, match="is not an int"):
        params.make(spec.params, {"top_k": "many"})
    with pytest.raises(AishockError, match="must be one of"):
        params.make(spec.params, {"weighting": "random"})
    with pytest.raises(AishockError, match="top_k must be a whole number of names"):
        params.make(spec.params, {"top_k": 0})
    with pytest.raises(AishockError, match="top_k must be a whole number of names"):
        params.make(spec.params, {"top_k": 2.5})  # a count above 1 must be whole
    assert params.make(spec.params, {"top_k": "0.33"}).top_k == 0.33
    assert params.make(spec.params, {"top_k": "3"}).top_k == 3 and isinstance(
        params.make(spec.params, {"top_k": "3"}).top_k, int
    )


def test_unknown_strategy_gets_a_did_you_mean():
    with pytest.raises(AishockError, match="did you mean 'oversold_rebound'"):
        registry.get("oversold_rebond")


def test_string_overrides_convert_to_declared_types():
    spec = registry.get("oversold_rebound")
    p = params.make(
        spec.params,
        {
            "top_k": "5",
            "exit_on_recovery": "yes",
            "stop_loss": "0.1",
            "event_date": "2025-01-27",
            "earnings_within": "none",
        },
    )
    assert (p.top_k, p.exit_on_recovery, p.stop_loss, str(p.event_date), p.earnings_within) == (
        5,
        True,
        0.1,
        "2025-01-27",
        None,
    )


def test_inference_pair_opens_at_the_shock_long_inference_short_training_and_power(ai_prices):
    spec = registry.get("inference_pair")
    p = spec.params()
    w = spec.weights(ai_prices, p)
    assert w.dropna(how="all").index[0] == SHOCK
    row = w.loc[SHOCK]
    assert row[resolve(p.long)].sum() == pytest.approx(p.leg)
    assert row[resolve(p.short)].sum() == pytest.approx(-p.leg)
    assert (row[resolve(p.short)] < 0).all()


def test_inference_pair_beta_hedge_zeroes_the_beta_over_the_lookback(ai_prices):
    """At every rebalance, long weight x beta(long leg) = short weight x beta(short leg), each
    beta an OLS slope (numpy.polyfit) of the leg's equal-weight return on SPY's over the
    lookback, and the larger leg is `leg`."""
    spec = registry.get("inference_pair")
    p = params.make(spec.params, {"hedge": "beta", "lookback": 40, "rebalance_days": 10})
    w = spec.weights(ai_prices, p).dropna(how="all")
    rets = ai_prices.returns()
    market = rets["SPY"]
    checked = 0
    for day in w.index:
        i = ai_prices.index.get_loc(day)
        window = slice(max(i - p.lookback + 1, 1), i + 1)
        betas = []
        for names in (resolve(p.long), resolve(p.short)):
            leg = rets[names].iloc[window].mean(axis=1)
            x = market.iloc[window]
            ok = leg.notna() & x.notna()
            betas.append(np.polyfit(x[ok], leg[ok], 1)[0])
        long_w = w.loc[day, resolve(p.long)].sum()
        short_w = -w.loc[day, resolve(p.short)].sum()
        assert long_w * betas[0] == pytest.approx(short_w * betas[1], rel=1e-9)
        assert max(long_w, short_w) == pytest.approx(p.leg)
        checked += 1
    assert checked > 20


def test_buy_and_hold_weight_scales_exposure_and_shorts(ai_prices, cfg):
    long2 = engine.run(
        "buy_and_hold", {"hold": "SPY", "weight": 2.0}, "2025-01-02", "2025-06-30",
        engine.Costs(0, 0, max_gross=2), config=cfg,
    )  # fmt: skip
    short = engine.run(
        "buy_and_hold", {"hold": "SPY", "weight": -1.0}, "2025-01-02", "2025-06-30", config=cfg
    )
    assert long2.stats["exposure"].iloc[0] == pytest.approx(2.0, rel=0.05)
    assert (long2.cash.iloc[:, 0] < 0).all()
    assert (short.holdings.iloc[:, 0] < 0).all()
    with pytest.raises(AishockError, match="gross exposure 2"):
        engine.run("buy_and_hold", {"hold": "SPY", "weight": 2.0}, "2025-01-02", "2025-06-30", config=cfg)
