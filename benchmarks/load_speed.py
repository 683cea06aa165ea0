"""Loading all 538 snapshot tickers: first load (parse every CSV, write the parsed cache)
and later loads (from the cache), in a fresh temporary cache folder.

Run: .venv/bin/python benchmarks/load_speed.py
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path

from engine import load_prices
from engine.config import load_config


def main() -> None:
    cfg = replace(load_config(), cache_dir=Path(tempfile.mkdtemp()))
    folder = next(d / "prices" for d in cfg.data_dirs if (d / "prices").is_dir())
    tickers = sorted(p.stem for p in folder.glob("*.csv"))
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        prices = load_prices(tickers, config=cfg)
        times.append(time.perf_counter() - t0)
    print(f"{len(tickers)} tickers, {prices.close.shape[0]} days from {folder}")
    print(
        f"first load (parse CSVs, write cache): {times[0]:.2f} s; from the cache: "
        f"{times[1]:.2f} s, {times[2]:.2f} s"
    )


if __name__ == "__main__":
    main()
