"""`aishock clean`: it removes old report sets (and keyed pages of earlier versions with their
manifests) from the reports folder, never anything it did not write, never what the index
links to unless the index goes too; prints what it removed and the space freed; --dry-run
removes nothing. On a reports folder the test makes with the writer the commands use
(reports.artifacts.write_set), no market data."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from aishock.cli import main
from reports.artifacts import write_set
from reports.manifest import key as manifest_key
from reports.manifest import text as manifest_text

DAY = 86_400
NOW = time.time()


def make_set(root: Path, name: str, kind: str, days_old: float, body: str = "x" * 1000) -> Path:
    """A report set `name-KEY/` written as a command writes it, its manifest `days_old` days old."""
    info = {"kind": kind, "name": name}
    paths = write_set(root, name, info, {".html": lambda p: p.write_text(body, encoding="utf-8")})
    age(paths[".manifest.json"], days_old)
    return paths[".html"].parent


def age(path: Path, days_old: float) -> None:
    when = NOW - days_old * DAY
    os.utime(path, (when, when))


def keyed_page(root: Path, name: str, days_old: float) -> list[Path]:
    """A keyed page at the top of the folder, as `aishock event` wrote them before report sets."""
    info = {"kind": "event", "name": name}
    stem = f"{name}-{manifest_key(info)}"
    page, manifest = root / f"{stem}.html", root / f"{stem}.manifest.json"
    page.write_text("<html>" + "y" * 2000 + "</html>", encoding="utf-8")
    manifest.write_text(manifest_text(info), encoding="utf-8")
    age(manifest, days_old)
    return [page, manifest]


@pytest.fixture
def folder(tmp_path, monkeypatch) -> dict:
    """A reports folder: an index linking two sets; other sets of several ages; a keyed page
    of an earlier version; and what clean must never touch."""
    root = tmp_path / "out"
    root.mkdir()
    monkeypatch.setenv("AISHOCK_REPORTS", str(root))
    linked_run = make_set(root, "oversold-rebound", "run", 40)
    linked_page = make_set(root, "event-ai-2025-01-27", "event", 40)
    old = make_set(root, "buy-and-hold", "run", 40, body="o" * 5000)
    recent = make_set(root, "sweep-oversold_rebound", "sweep", 1)
    page = keyed_page(root, "event-power-2025-01-27", 40)
    index = root / "index.html"
    index.write_text(
        f'<a href="{linked_run.name}/{linked_run.name}.html">run</a>'
        f'<a href="{linked_page.name}/{linked_page.name}.html#top">event</a>'
        '<a href="https://example.com/x.html">elsewhere</a><script src="plotly-9.9.9.min.js"></script>',
        encoding="utf-8",
    )
    (root / "index.manifest.json").write_text(json.dumps({"kind": "demo"}), encoding="utf-8")
    for p in (index, root / "index.manifest.json"):
        age(p, 40)
    foreign = {
        "js": root / "plotly-9.9.9.min.js",
        "mine.html": root / "mine.html",  # a page of the user's, no manifest
        "unkeyed": root / "event-ai-2025-01-27.html",  # an earlier demo's page, no manifest
    }
    for p in foreign.values():
        p.write_text("keep me", encoding="utf-8")
        age(p, 400)
    # named like sets, but not aishock's as they stand
    edited = make_set(root, "inference-pair", "run", 400)
    manifest = edited / f"{edited.name}.manifest.json"
    manifest.write_text(manifest.read_text().replace('"run"', '"edited"'), encoding="utf-8")
    age(manifest, 400)
    extra = make_set(root, "inference-rotation", "run", 400)
    (extra / "notes.txt").write_text("the user's own notes", encoding="utf-8")
    no_manifest = root / "qqq-0123456789ab"
    no_manifest.mkdir()
    (no_manifest / "qqq-0123456789ab.html").write_text("?", encoding="utf-8")
    target = make_set(tmp_path / "elsewhere", "smh", "run", 400)
    link = root / target.name
    link.symlink_to(target, target_is_directory=True)
    hidden = root / ".spy.abc123.tmp"  # a write in progress
    hidden.mkdir()
    foreign |= {"edited": edited, "extra": extra, "no manifest": no_manifest, "link": link, "hidden": hidden}
    foreign["target"] = target
    return {
        "root": root,
        "linked": [linked_run, linked_page],
        "old": old,
        "recent": recent,
        "page": page,
        "index": [index, root / "index.manifest.json"],
        "foreign": foreign,
    }


def clean(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["clean", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink() and not any(q.is_symlink() for q in p.parents)
    }


def untouched(f: dict) -> None:
    for name, path in f["foreign"].items():
        assert path.exists() or path.is_symlink(), f"{name} was removed"
    assert (f["foreign"]["extra"] / "notes.txt").exists()
    assert f["foreign"]["link"].is_symlink() and f["foreign"]["target"].is_dir()


def test_clean_removes_every_set_the_index_does_not_link_to_and_nothing_else(folder, capsys):
    f = folder
    sizes = sum(p.stat().st_size for p in [*f["old"].iterdir(), *f["recent"].iterdir(), *f["page"]])
    code, out, err = clean(capsys)
    assert code == 0 and err == ""
    assert not f["old"].exists() and not f["recent"].exists() and not any(p.exists() for p in f["page"])
    assert all(p.is_dir() for p in f["linked"]) and all(p.is_file() for p in f["index"])
    untouched(f)
    lines = out.splitlines()
    removed = sorted(line.split()[1] for line in lines if line.startswith("removed "))
    assert removed == sorted([f"{f['old'].name}/", f"{f['recent'].name}/", f["page"][0].name])
    assert f"removed {f['old'].name}/ (run, written " in out
    assert "kept 2 report sets index.html links to" in out
    freed = re.search(r"^freed (\d+\.\d) kB in .* \(3 items\)$", out, re.M)
    assert freed and float(freed[1]) == round(sizes / 1000, 1)
    assert not [p for p in f["root"].iterdir() if p.name.endswith(".removing")]


def test_dry_run_prints_the_same_and_removes_nothing(folder, capsys):
    before = snapshot(folder["root"])
    code, out, _ = clean(capsys, "--dry-run")
    assert code == 0 and snapshot(folder["root"]) == before
    assert f"would remove {folder['old'].name}/ (run, written" in out
    assert re.search(r"^would free \d+\.\d kB in .* \(3 items\); nothing removed \(--dry-run\)$", out, re.M)
    code, real, _ = clean(capsys)
    named = re.compile(r"^(?:would remove|removed) (.*)$", re.M)
    freed = re.compile(r"^(?:would free|freed) (\S+ \S+)", re.M)
    assert named.findall(real) == named.findall(out) and len(named.findall(out)) == 3
    assert freed.findall(real) == freed.findall(out)


def test_older_than_keeps_the_recent_sets(folder, capsys):
    code, out, _ = clean(capsys, "--older-than", "30")
    assert code == 0
    assert not folder["old"].exists() and folder["recent"].is_dir()
    assert all(p.is_dir() for p in folder["linked"])
    code, out, _ = clean(capsys, "--older-than", "30")
    assert code == 0 and "nothing to remove" in out and "written 30 or more days ago" in out
    assert folder["recent"].is_dir()


def test_the_index_and_what_it_links_to_go_only_with_include_index_and_by_age(folder, capsys):
    f = folder
    code, out, _ = clean(capsys, "--include-index", "--older-than", "50")  # the index is 40 days old
    assert code == 0 and all(p.is_file() for p in f["index"]) and all(p.is_dir() for p in f["linked"])
    code, out, _ = clean(capsys, "--include-index", "--older-than", "30")
    assert code == 0 and out.splitlines()[0].startswith("removed index.html (demo, written ")
    assert not any(p.exists() for p in [*f["index"], *f["linked"], f["old"]]) and f["recent"].is_dir()
    untouched(f)


def test_a_set_edited_after_writing_or_holding_a_foreign_file_is_kept(folder, capsys):
    """Key mismatch (an edited manifest), a file aishock did not write inside the folder, no
    manifest, a symlink: none is treated as a set, even when very old."""
    clean(capsys, "--include-index")
    untouched(folder)
    assert (folder["foreign"]["edited"] / f"{folder['foreign']['edited'].name}.html").is_file()


@pytest.mark.parametrize("days", ["-1", "nan", "inf"])
def test_a_bad_older_than_is_one_line(folder, capsys, days):
    before = snapshot(folder["root"])
    code, out, err = clean(capsys, "--older-than", days)
    assert code == 2 and out == ""
    assert err.startswith("aishock: error: --older-than must be a number of days >= 0")
    assert err.count("\n") == 1
    assert snapshot(folder["root"]) == before


def test_a_reports_folder_that_is_a_file_or_missing(tmp_path, monkeypatch, capsys):
    file = tmp_path / "reports"
    file.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("AISHOCK_REPORTS", str(file))
    code, out, err = clean(capsys)
    assert code == 2 and err.count("\n") == 1 and "is a file, not a folder" in err
    monkeypatch.setenv("AISHOCK_REPORTS", str(tmp_path / "none"))
    code, out, err = clean(capsys)
    assert code == 0 and err == "" and out == f"nothing to clean: {tmp_path / 'none'} does not exist\n"


def test_help_gives_an_example(capsys):
    with pytest.raises(SystemExit) as done:
        main(["clean", "--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0
    assert "examples:\n  aishock clean --older-than 30 --dry-run" in out
    assert "--include-index" in out and "--dry-run" in out
