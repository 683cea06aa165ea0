"""The parquet caches: atomic writes survive SIGKILL, concurrent loaders get correct frames,
stale entries are re-parsed, a damaged or foreign cache file is rebuilt, and reloading the
whole snapshot from the cache is bit-identical."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import synthetic

from engine import load_prices
from engine.config import load_config
from engine.data import store
from engine.data.cache import open_snapshot, read_frame, write_frame

ROOT = Path(__file__).resolve().parents[1]
FIELDS = ("close", "open", "high", "low", "volume")


@pytest.fixture(scope="module")
def market() -> Path:
    """The snapshot folder (holding prices/)."""
    folder = next((d for d in load_config().data_dirs if (d / "prices").is_dir()), None)
    if folder is None:
        pytest.fail("market snapshot not found: tests need ../shared/market beside the checkout")
    return folder


@pytest.fixture(scope="module")
def tickers(market) -> list[str]:
    return sorted(p.stem for p in (market / "prices").glob("*.csv"))


@pytest.fixture
def cfg(market, tmp_path):
    return replace(load_config(data=market), cache_dir=tmp_path / "cache", online=False)


def python(script: str, *args: str, **kwargs) -> subprocess.Popen:
    """Start `script` in a fresh interpreter with this checkout importable."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AISHOCK_OFFLINE": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def assert_same_panel(a, b) -> None:
    for field in FIELDS:
        pd.testing.assert_frame_equal(getattr(a, field), getattr(b, field), check_exact=True)
    assert a.close_only == b.close_only


def parses(monkeypatch) -> list[str]:
    """Record which tickers the next loads parse from CSV (rather than read from the cache)."""
    seen: list[str] = []
    real = store.read_price_csv

    def counting(path, ticker=None, content=None):
        seen.append(ticker)
        return real(path, ticker, content)

    monkeypatch.setattr(store, "read_price_csv", counting)
    return seen


# --- atomic writes ---------------------------------------------------------------------------

WRITER = """
    import sys
    from pathlib import Path
    import numpy as np, pandas as pd
    from engine.data.cache import write_frame

    big = pd.DataFrame(np.random.default_rng(1).random((2_000_000, 4)), columns=list("abcd"))
    print("writing", flush=True)
    while True:
        write_frame(Path(sys.argv[1]), big, {"version": "new"})
"""


def test_sigkill_mid_write_leaves_the_previous_file_readable(tmp_path):
    path = tmp_path / "frame.parquet"
    old = pd.DataFrame({"x": [1.0, 2.0, 3.0]}, index=pd.date_range("2020-01-01", periods=3, name="date"))
    write_frame(path, old, {"version": "old"})
    killed_mid_write = False
    for _ in range(3):  # the first attempt practically always lands mid-write
        proc = python(WRITER, str(path))
        try:
            assert proc.stdout.readline().strip() == "writing"
            deadline = time.monotonic() + 30
            while not any(t.stat().st_size > 0 for t in tmp_path.glob(".frame.parquet.*.tmp")):
                assert time.monotonic() < deadline, "the writer never started writing"
                assert proc.poll() is None, proc.stderr.read()
                time.sleep(0.002)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            proc.kill()
            proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        strays = list(tmp_path.glob(".frame.parquet.*.tmp"))
        if _meta(path) == {"version": "old"} and strays:
            killed_mid_write = True
            pd.testing.assert_frame_equal(read_frame(path), old, check_freq=False)
            break
        assert _meta(path) == {"version": "new"}  # a write completed first: the whole of it
        assert read_frame(path).shape == (2_000_000, 4)
        write_frame(path, old, {"version": "old"})
    assert killed_mid_write
    # the stray temporary is ignored: the next write and read work
    write_frame(path, old * 2, {"version": "next"})
    pd.testing.assert_frame_equal(read_frame(path), old * 2, check_freq=False)


def test_a_writer_killed_mid_write_does_not_break_the_next_load(cfg, market, tmp_path):
    """A stray temporary beside the parsed cache (what SIGKILL leaves) changes nothing."""
    first = load_prices(["SPY", "NVDA"], config=cfg)
    (cpath,) = (cfg.cache_dir / "parsed").glob("*.parquet")
    (cpath.parent / f".{cpath.name}.abc123.tmp").write_bytes(b"PAR1 half a file")
    assert_same_panel(load_prices(["SPY", "NVDA"], config=cfg), first)


# --- concurrent loaders ----------------------------------------------------------------------

LOADER = """
    import json, sys, time
    from dataclasses import replace
    from pathlib import Path
    from engine import load_prices
    from engine.config import load_config

    market, cache, go, rounds = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), json.loads(sys.argv[4])
    cfg = replace(load_config(data=market), cache_dir=cache, online=False)
    while not go.exists():
        time.sleep(0.001)
    for tickers in rounds:
        print(json.dumps([tickers, load_prices(tickers, config=cfg).fingerprint()]), flush=True)
"""


def test_two_processes_loading_through_one_cache_get_correct_frames(cfg, market, tickers, tmp_path):
    """Two loaders race on one folder's cache file, each round with ~50 overlapping tickers:
    every panel equals a cache-free parse, and the cache is readable and right afterwards."""
    rng = np.random.default_rng(7)
    pool = tickers[:120]
    plans = [[sorted(rng.choice(pool, 50, replace=False).tolist()) for _ in range(3)] for _ in range(2)]
    go = tmp_path / "go"
    procs = [python(LOADER, str(market), str(cfg.cache_dir), str(go), json.dumps(plan)) for plan in plans]
    go.touch()
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outputs += [json.loads(line) for line in out.splitlines()]
    assert len(outputs) == 6

    uncached = replace(cfg, cache_dir=None)
    for chosen, fingerprint in outputs:
        assert fingerprint == load_prices(chosen, config=uncached).fingerprint(), chosen

    loaded = sorted({t for chosen, _ in outputs for t in chosen})
    (cpath,) = (cfg.cache_dir / "parsed").glob("*.parquet")
    assert read_frame(cpath).shape[0] > 0 and _meta(cpath)
    assert_same_panel(load_prices(loaded, config=cfg), load_prices(loaded, config=uncached))


def test_a_concurrent_write_while_parsing_never_loses_an_entry(cfg, market, monkeypatch, tmp_path):
    """Another process replaces the cache file while this one parses a stale ticker (the slow
    part of a load): what this one writes back still holds every entry it read, each with
    its own columns, so the next load is right."""
    load_prices(["AAPL"], config=cfg)  # this process's cache: AAPL
    other = replace(cfg, cache_dir=tmp_path / "other")
    load_prices(["NVDA"], config=other)  # another process's newer version: NVDA only
    (mine,) = (cfg.cache_dir / "parsed").glob("*.parquet")
    (theirs,) = (other.cache_dir / "parsed").glob("*.parquet")

    real = store.read_price_csv

    def parse_while_another_writes(path, ticker=None, content=None):
        shutil.copyfile(theirs, mine)
        return real(path, ticker, content)

    monkeypatch.setattr(store, "read_price_csv", parse_while_another_writes)
    loaded = load_prices(["AAPL", "MSFT"], config=cfg)
    monkeypatch.setattr(store, "read_price_csv", real)
    expected = load_prices(["AAPL", "MSFT"], config=replace(cfg, cache_dir=None))
    assert_same_panel(loaded, expected)
    assert_same_panel(load_prices(["AAPL", "MSFT"], config=cfg), expected)


# --- staleness and damage --------------------------------------------------------------------


@pytest.fixture
def small(tmp_path):
    """Three price files in a private folder, and a config reading only it: synthetic
    (tests/synthetic.py), laid out as the snapshot's are (AAPL and MSFT with
    Date,Open,High,Low,Close,Volume, MRVL close-only)."""
    folder = tmp_path / "small"
    folder.mkdir()
    close = synthetic.closes(["AAPL", "MSFT", "MRVL"], "2024-07-01", "2025-06-30")
    for t in close:
        synthetic.write_csv(folder / f"{t}.csv", close[t], ohlcv=t != "MRVL")
    return replace(load_config(data=folder), cache_dir=tmp_path / "cache", online=False)


def rewrite_close(path: Path, day: str, close: str) -> None:
    """Replace the Close of `day` in a `Date,...,Close,...` file with the text `close`."""
    lines = path.read_text().splitlines()
    col = lines[0].split(",").index("Close")
    for i, line in enumerate(lines):
        if line.startswith(day):
            cells = line.split(",")
            cells[col] = close
            lines[i] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")


def test_the_cache_is_used_and_a_changed_csv_is_re_parsed(small, monkeypatch):
    tickers = ["AAPL", "MSFT", "MRVL"]
    first = load_prices(tickers, config=small)
    seen = parses(monkeypatch)
    assert_same_panel(load_prices(tickers, config=small), first)
    assert seen == []  # all from the cache

    aapl = small.data_dirs[0] / "AAPL.csv"
    rewrite_close(aapl, "2025-01-27", "123.25")  # a different size
    changed = load_prices(tickers, config=small)
    assert seen == ["AAPL"]
    assert changed.close.loc["2025-01-27", "AAPL"] == 123.25
    pd.testing.assert_frame_equal(changed.close[["MSFT", "MRVL"]], first.close[["MSFT", "MRVL"]])
    assert load_prices(tickers, config=small).close.loc["2025-01-27", "AAPL"] == 123.25
    assert seen == ["AAPL"]  # the new value is cached


def test_a_same_size_edit_with_a_new_mtime_is_re_parsed(small, monkeypatch):
    aapl = small.data_dirs[0] / "AAPL.csv"
    load_prices(["AAPL"], config=small)
    size, mtime = aapl.stat().st_size, aapl.stat().st_mtime_ns
    row = next(line for line in aapl.read_text().splitlines() if line.startswith("2025-01-27"))
    same_length = "7" * len(row.split(",")[4])  # Date,Open,High,Low,Close,Volume
    rewrite_close(aapl, "2025-01-27", same_length)
    os.utime(aapl, ns=(mtime + 10**9, mtime + 10**9))
    assert aapl.stat().st_size == size
    seen = parses(monkeypatch)
    assert load_prices(["AAPL"], config=small).close.loc["2025-01-27", "AAPL"] == float(same_length)
    assert seen == ["AAPL"]


def test_a_same_size_edit_with_its_mtime_restored_is_re_parsed(small, monkeypatch):
    """The key is the content: an edit that keeps the size and the modification time (`cp -p`,
    a tool that restores times) is read, not served stale from the cache."""
    aapl = small.data_dirs[0] / "AAPL.csv"
    first = load_prices(["AAPL"], config=small)
    before = aapl.stat()
    row = next(line for line in aapl.read_text().splitlines() if line.startswith("2025-01-27"))
    same_length = "7" * len(row.split(",")[4])  # Date,Open,High,Low,Close,Volume
    rewrite_close(aapl, "2025-01-27", same_length)
    os.utime(aapl, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (aapl.stat().st_size, aapl.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    seen = parses(monkeypatch)
    again = load_prices(["AAPL"], config=small)
    assert seen == ["AAPL"]
    assert first.close.loc["2025-01-27", "AAPL"] != float(same_length)
    assert again.close.loc["2025-01-27", "AAPL"] == float(same_length)
    seen.clear()
    assert load_prices(["AAPL"], config=small).close.loc["2025-01-27", "AAPL"] == float(same_length)
    assert seen == []  # the new content is cached under its own hash


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda path: path.write_bytes(b""), id="empty"),
        pytest.param(lambda path: path.write_bytes(path.read_bytes()[:-100]), id="truncated"),
        pytest.param(lambda path: path.write_bytes(b"PAR1" + bytes(range(256)) * 16 + b"PAR1"), id="garbage"),
        pytest.param(
            lambda path: write_frame(path, pd.DataFrame({"x": [1.0]}), {"AAPL": [1, 2, 3]}),
            id="foreign frame",
        ),
        pytest.param(
            lambda path: write_frame(path, read_frame(path), {"AAPL": "not a stamp"}), id="foreign metadata"
        ),
    ],
)
def test_a_damaged_cache_file_is_rebuilt(small, damage, monkeypatch):
    tickers = ["AAPL", "MSFT", "MRVL"]
    first = load_prices(tickers, config=small)
    (cpath,) = (small.cache_dir / "parsed").glob("*.parquet")
    damage(cpath)
    seen = parses(monkeypatch)
    assert_same_panel(load_prices(tickers, config=small), first)
    assert seen  # re-parsed, not trusted
    seen.clear()
    assert_same_panel(load_prices(tickers, config=small), first)
    assert seen == []  # and the rebuilt cache is used


def test_an_entry_whose_columns_are_missing_is_re_parsed(small, monkeypatch):
    """Metadata claiming a current AAPL entry over a file without AAPL's columns (what an
    interleaved writer could once leave) is not trusted: AAPL is parsed, never all-NaN."""
    first = load_prices(["AAPL", "MSFT"], config=small)
    (cpath,) = (small.cache_dir / "parsed").glob("*.parquet")
    frame, meta = read_frame(cpath), _meta(cpath)
    write_frame(cpath, frame[[c for c in frame.columns if not c.startswith("AAPL|")]], meta)
    seen = parses(monkeypatch)
    assert_same_panel(load_prices(["AAPL", "MSFT"], config=small), first)
    assert seen == ["AAPL"]


# --- the whole snapshot ----------------------------------------------------------------------


def test_all_538_tickers_twice_are_identical_and_the_second_load_parses_nothing(cfg, tickers, monkeypatch):
    assert len(tickers) == 538
    first = load_prices(tickers, config=cfg)
    seen = parses(monkeypatch)
    again = load_prices(tickers, config=cfg)
    assert seen == []
    assert_same_panel(first, again)
    assert first.fingerprint() == again.fingerprint()
    assert [p.name for p in (cfg.cache_dir / "parsed").iterdir()] == [
        f"{store._cache_path(cfg.cache_dir, cfg.data_dirs[0] / 'prices').stem}.parquet"
    ]


def _meta(path):
    snapshot = open_snapshot(path)
    if snapshot is None:
        return None
    with snapshot:
        return snapshot.meta
