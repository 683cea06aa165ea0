"""Peer check (issue 20): the volume cap, `Costs(participation=...)`, against zipline's
VolumeShareSlippage fill quantities.

The rule, read from zipline-reloaded's source (repo stefan-jansen/zipline-reloaded, path
src/zipline/finance/slippage.py: SlippageModel.simulate and VolumeShareSlippage.process_order;
the same in the 3.2.1 wheel) and restated here in our own words:
- a bar with zero volume is skipped: nothing fills, the order stays open;
- otherwise the bar allows volume_limit x the bar's volume shares for the asset, less what
  earlier orders for that asset already filled in the same bar; if less than one share is
  left, nothing more fills for the asset in that bar;
- an order fills the smaller of that allowance and its open shares, truncated to whole
  shares (Python's int() of a positive number, i.e. floor), with the order's sign;
- whatever is not filled stays open and is tried again on the next bar (zipline's default
  cancel policy never cancels);
- the fill price is close x (1 + price_impact x share ** 2) for a buy and
  close x (1 - price_impact x share ** 2) for a sell, share = the bar's filled shares so far
  (this fill included) / bar volume, at most volume_limit.

zipline's numbers below were printed by zipline-reloaded 3.2.1 itself (in a separate venv:
its pandas<3 pin conflicts with ours), on a one-asset csvdir bundle at a constant price of
100 with set_slippage(us_equities=VolumeShareSlippage(volume_limit=0.1, price_impact=0.1))
and no commission, one market order placed in handle_data on the first session:
    /tmp/zl/venv/bin/python tests/peers/zipline_volume_share.py whole
    /tmp/zl/venv/bin/python tests/peers/zipline_volume_share.py rounding
(the script writes a one-asset csvdir bundle; its docstring says how to make that venv). With
AISHOCK_ZIPLINE_PYTHON naming that venv's python, `test_zipline_side_by_side` runs it again
and compares its fills with the pinned ones and with aishock's.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic import nyse_sessions

from engine.data.panel import Prices
from engine.sim.simulate import Costs, simulate


def volume_share_fills(order_shares: int, volumes, volume_limit: float) -> list[int]:
    """The shares filled on each bar by one market order of `order_shares` (negative: a sell)
    for one asset, working from the first of `volumes` (the volumes of the bars after the
    decision) on, under zipline's VolumeShareSlippage rule (stefan-jansen/zipline-reloaded,
    src/zipline/finance/slippage.py; see the module docstring): at most volume_limit x volume
    whole shares a bar, nothing on a zero-volume bar or when under one share is allowed, the
    rest carried to the next bar."""
    sign = 1 if order_shares >= 0 else -1
    open_shares = abs(order_shares)
    fills = []
    for volume in volumes:
        allowed = volume_limit * volume  # this order is the asset's only one: nothing filled yet
        if volume == 0 or allowed < 1 or open_shares == 0:
            fills.append(0)
            continue
        filled = int(min(allowed, open_shares))
        open_shares -= filled
        fills.append(sign * filled)
    return fills


def volume_share_price(
    close: float, filled: int, volume: float, volume_limit: float, price_impact: float
) -> float:
    """zipline's VolumeShareSlippage fill price (same source) for one order alone in its bar."""
    share = min(abs(filled) / volume, volume_limit)
    return close + share**2 * math.copysign(price_impact, filled) * close


# Printed by zipline-reloaded 3.2.1 (`run_zipline.py whole`): a buy of 1000 shares placed on
# 2024-01-02, session -> (bar volume, shares filled, fill price). Every cap (0.1 x volume) is
# a whole number, so a fractional-share fill (aishock) must give the same quantities.
ZIPLINE_WHOLE = {
    "2024-01-02": (10_000, 0, None),  # the decision day: zipline fills from the next bar on
    "2024-01-03": (3_000, 300, 100.1),
    "2024-01-04": (0, 0, None),  # zero volume: skipped, the order stays open
    "2024-01-05": (2_000, 200, 100.1),
    "2024-01-08": (1_500, 150, 100.1),
    "2024-01-09": (5_000, 350, 100.049),  # the last 350 of 1000, under the cap of 500
    "2024-01-10": (4_000, 0, None),
    "2024-01-11": (4_000, 0, None),
    "2024-01-12": (4_000, 0, None),
}
# Printed by zipline-reloaded 3.2.1 (`run_zipline.py rounding`): a sell of 400 shares placed
# on 2024-01-02, caps that are not whole numbers: 150.5 -> 150, 0.5 -> nothing, 1.9 -> 1.
ZIPLINE_ROUNDING = {
    "2024-01-02": (10_000, 0, None),
    "2024-01-03": (1_505, -150, 99.90066334808667),
    "2024-01-04": (5, 0, None),
    "2024-01-05": (19, -1, 99.97229916897507),
    "2024-01-08": (0, 0, None),
    "2024-01-09": (2_000_000, -249, 99.9999998449975),
    "2024-01-10": (4_000, 0, None),
}
LIMIT, IMPACT, PRICE = 0.1, 0.1, 100.0


@pytest.mark.parametrize(
    "order_shares, printed", [(1000, ZIPLINE_WHOLE), (-400, ZIPLINE_ROUNDING)], ids=["whole", "rounding"]
)
def test_the_rule_as_written_gives_zipline_s_own_fills(order_shares, printed):
    days = list(printed)
    volumes = [printed[d][0] for d in days[1:]]  # the bars after the decision day
    assert volume_share_fills(order_shares, volumes, LIMIT) == [printed[d][1] for d in days[1:]]
    for volume, filled, price in printed.values():
        if filled:
            assert volume_share_price(PRICE, filled, volume, LIMIT, IMPACT) == pytest.approx(price, rel=1e-12)


def test_aishock_fills_the_same_quantities_as_zipline():
    """Costs(participation=0.1) on ZIPLINE_WHOLE's bars. A weight of 0.5 of 200 000 at 100 is
    an order for exactly 1000 shares. Days: both decide on 2024-01-02 (zipline in that day's
    handle_data, after its bar; aishock's target dated 2024-01-02 is a decision after that
    close) and both fill from the next bar, 2024-01-03, on, so the dates need no shift. The
    constant price makes aishock's open fill and zipline's close fill the same price; impact
    and slippage are off, so only the quantities are compared (zipline's prices carry its
    impact, pinned above)."""
    index = nyse_sessions("2024-01-02", "2024-01-12")
    assert list(index.strftime("%Y-%m-%d")) == list(ZIPLINE_WHOLE)
    columns = pd.Index(["AAA"], name="ticker")
    flat = pd.DataFrame(PRICE, index=index, columns=columns)
    volume = pd.DataFrame(
        [[v] for v, _, _ in ZIPLINE_WHOLE.values()], index=index, columns=columns, dtype=float
    )
    prices = Prices(flat, flat.copy(), flat.copy(), flat.copy(), volume)

    targets = pd.DataFrame(
        np.nan, index=index, columns=pd.MultiIndex.from_tuples([(0, "AAA")], names=["run", "ticker"])
    )
    targets.iloc[0] = 0.5  # decided after 2024-01-02's close; NaN afterwards: no new decision
    costs = Costs(fees=0.0, slippage=0.0, participation=LIMIT, impact=0.0, init_cash=200_000.0)
    sim = simulate(prices, targets, costs)

    orders = sim.orders
    assert set(orders["side"]) == {"buy"} and (orders["price"] == PRICE).all()
    per_day = orders.groupby("date")["shares"].sum().reindex(index, fill_value=0.0)
    expected = pd.Series([float(f) for _, f, _ in ZIPLINE_WHOLE.values()], index=index)
    pd.testing.assert_series_equal(per_day, expected, check_names=False, check_freq=False)
    assert sim.shares[(0, "AAA")].iloc[-1] == 1000.0


ZIPLINE_PYTHON = os.environ.get("AISHOCK_ZIPLINE_PYTHON")


@pytest.mark.skipif(
    not ZIPLINE_PYTHON,
    reason="zipline-reloaded runs in a venv of its own: set AISHOCK_ZIPLINE_PYTHON to its python",
)
@pytest.mark.parametrize("case, printed", [("whole", ZIPLINE_WHOLE), ("rounding", ZIPLINE_ROUNDING)])
def test_zipline_side_by_side(case, printed, tmp_path):
    """zipline itself, now: its fills are the pinned ones (so the comparisons above stand)."""
    script = Path(__file__).parent / "peers" / "zipline_volume_share.py"
    done = subprocess.run(
        [ZIPLINE_PYTHON, str(script), case],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "ZL_ROOT": str(tmp_path)},
        check=True,
    )
    fills = json.loads(done.stdout)["fills"]
    for day, (_, filled, price) in printed.items():
        amount, prices = fills.get(day, [0, []])
        assert amount == filled, day
        if filled:
            assert prices == [pytest.approx(price, rel=1e-12)]
