"""The sweep benchmark job, expressed as oversold_rebound's per-name variant and run through
the ordinary engine (engine.run, the compiled kernel): the issue's reference figure."""

from __future__ import annotations

import pytest

import engine
from engine import Costs

JOB = {
    "start": "2022-01-03",
    "end": "2025-12-31",
    "warmup": 0,
    "costs": Costs(fees=0.0005, slippage=0.0, init_cash=1.0, fill="close"),
}


def test_x005_h11_ends_at_the_reference_multiple(cfg):
    p = {"mode": "per_name", "universe": "sweep_job", "min_drop": 0.05, "hold_days": 11}
    r = engine.run("oversold_rebound", p, config=cfg, **JOB)
    assert r.equity.iloc[-1, 0] == pytest.approx(1.474927, abs=1e-6)
    assert r.equity.index[0].strftime("%Y-%m-%d") == "2022-01-03"
    first_buy = r.orders["date"].min()
    assert first_buy > r.equity.index[1]  # a signal needs a return inside the window first


def test_per_name_holds_each_name_for_hold_days_and_ignores_signals_while_held(cfg):
    p = {"mode": "per_name", "universe": "NVDA,SMCI", "min_drop": 0.05, "hold_days": 11}
    r = engine.run("oversold_rebound", p, config=cfg, **JOB)
    index = r.equity.index
    for _ticker, group in r.orders.groupby("ticker"):
        sides = list(group["side"])
        assert sides[: len(sides) // 2 * 2] == ["buy", "sell"] * (
            len(sides) // 2
        )  # never a second buy while held
        buys = group[group["side"] == "buy"]["date"].map(index.get_loc).to_numpy()
        sells = group[group["side"] == "sell"]["date"].map(index.get_loc).to_numpy()
        assert (sells - buys[: len(sells)] == 11).all()
        assert (buys[1:] > sells[: len(buys) - 1]).all()
