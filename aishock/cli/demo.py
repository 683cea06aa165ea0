"""`aishock demo`: both theses and the baselines, tearsheets and the index page."""

from __future__ import annotations

import sys

from aishock.cli.execution import with_examples
from aishock.cli.warned import printed
from engine.config import load_config


def add(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="run both theses and the baselines; write reports/out/index.html",
        **with_examples("aishock demo --no-progress"),
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(handler=handle)


def handle(args) -> int:
    from aishock.demo import run_demo

    cfg = load_config(args.data)
    with printed():
        index, t = run_demo(cfg, progress=not args.no_progress and sys.stderr.isatty())
    print(f"index: {index}")
    print(f"timings: load {t['load']:.1f} s, backtests+reports {t['runs']:.1f} s, total {t['total']:.1f} s")
    return 0
