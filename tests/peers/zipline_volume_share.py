"""Side-by-side check for aishock issue 20: zipline-reloaded's VolumeShareSlippage on one
synthetic asset (constant price 100, chosen daily volumes incl. a zero-volume day).

One market order for ORDER shares is placed on the first session (in handle_data); zipline
fills it from the next session on, at most volume_limit x that day's volume per day.
Prints {date: [filled shares, fill price]} for every session, as JSON.

zipline-reloaded cannot live in aishock's environment (it pins pandas<3 and, through
empyrical-reloaded, peewee<3.17.4; aishock pins pandas 3 and peewee 4), so it runs in a venv of
its own, written to a scratch folder (ZL_ROOT, default a new temporary folder):

    python3 -m venv /tmp/zl/venv && /tmp/zl/venv/bin/pip install zipline-reloaded==3.2.1
    /tmp/zl/venv/bin/python tests/peers/zipline_volume_share.py [whole|rounding]

tests/test_peer_zipline.py pins what it printed, and runs it side by side when
AISHOCK_ZIPLINE_PYTHON names that venv's python.
"""

import json
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(os.environ.get("ZL_ROOT") or tempfile.mkdtemp(prefix="zipline-peer-"))
CSV = ROOT / "csv"
ZROOT = ROOT / "zipline_root"
BUNDLE = "zl20"
SYMBOL = "AAA"
PRICE = 100.0
# sessions (XNYS) and volumes; the first is the decision day (its volume is never used)
WHOLE = {
    "2024-01-02": 10_000,
    "2024-01-03": 3_000,
    "2024-01-04": 0,
    "2024-01-05": 2_000,
    "2024-01-08": 1_500,
    "2024-01-09": 5_000,
    "2024-01-10": 4_000,
    "2024-01-11": 4_000,
    "2024-01-12": 4_000,
}
# a sell whose caps are not whole numbers (1505 -> 150.5), one below a share (5 -> 0.5) and
# one just under two (19 -> 1.9)
ROUNDING = {
    "2024-01-02": 10_000,
    "2024-01-03": 1_505,
    "2024-01-04": 5,
    "2024-01-05": 19,
    "2024-01-08": 0,
    "2024-01-09": 2_000_000,
    "2024-01-10": 4_000,
}
CASES = {"whole": (1000, WHOLE), "rounding": (-400, ROUNDING)}
CASE = sys.argv[1] if len(sys.argv) > 1 else "whole"
ORDER, VOLUMES = CASES[CASE]

os.environ["ZIPLINE_ROOT"] = str(ZROOT)
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

from zipline import run_algorithm  # noqa: E402
from zipline.api import order, set_commission, set_slippage, symbol  # noqa: E402
from zipline.data import bundles  # noqa: E402
from zipline.data.bundles.csvdir import csvdir_equities  # noqa: E402
from zipline.finance.commission import PerShare  # noqa: E402
from zipline.finance.slippage import VolumeShareSlippage  # noqa: E402


def write_csv():
    shutil.rmtree(CSV, ignore_errors=True)
    (CSV / "daily").mkdir(parents=True)
    lines = ["date,open,high,low,close,volume,dividend,split"]
    lines += [f"{d},{PRICE},{PRICE},{PRICE},{PRICE},{v},0.0,1.0" for d, v in VOLUMES.items()]
    (CSV / "daily" / f"{SYMBOL}.csv").write_text("\n".join(lines) + "\n")


def ingest():
    shutil.rmtree(ZROOT, ignore_errors=True)
    ZROOT.mkdir(parents=True)
    days = list(VOLUMES)
    bundles.register(
        BUNDLE,
        csvdir_equities(["daily"], str(CSV)),
        calendar_name="XNYS",
        start_session=pd.Timestamp(days[0]),
        end_session=pd.Timestamp(days[-1]),
    )
    bundles.ingest(BUNDLE, environ=os.environ, show_progress=False)


def initialize(context):
    context.asset = symbol(SYMBOL)
    context.placed = False
    set_slippage(us_equities=VolumeShareSlippage(volume_limit=0.1, price_impact=0.1))
    set_commission(us_equities=PerShare(cost=0.0, min_trade_cost=0.0))


def handle_data(context, data):
    if not context.placed:
        order(context.asset, ORDER)
        context.placed = True


def main():
    write_csv()
    ingest()
    days = list(VOLUMES)
    index = pd.DatetimeIndex(days, tz="UTC")
    perf = run_algorithm(
        start=pd.Timestamp(days[0]),
        end=pd.Timestamp(days[-1]),
        initialize=initialize,
        handle_data=handle_data,
        capital_base=200_000.0,
        data_frequency="daily",
        bundle=BUNDLE,
        benchmark_returns=pd.Series(0.0, index=index),
        environ=os.environ,
    )
    out = {}
    for day, txns in perf["transactions"].items():
        d = pd.Timestamp(day).strftime("%Y-%m-%d")
        out[d] = [sum(t["amount"] for t in txns), [t["price"] for t in txns]]
    import zipline

    doc = {"zipline": zipline.__version__, "case": CASE, "order": ORDER, "volumes": VOLUMES, "fills": out}
    print(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
