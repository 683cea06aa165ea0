"""`aishock list`: strategies and their parameters with defaults."""

from __future__ import annotations

from aishock.cli.execution import with_examples
from engine.strategy import params, registry


def add(sub) -> None:
    p = sub.add_parser(
        "list",
        help="show strategies and their parameters",
        **with_examples("aishock list"),
    )
    p.set_defaults(handler=handle)


def handle(args) -> int:
    for name, spec in sorted(registry.load_builtin().items()):
        print(f"{name}: {spec.summary}")
        rows = params.describe(spec.params)
        width = max(len(r[0]) for r in rows)
        for field, kind, default, help_ in rows:
            print(f"  {field:<{width}}  = {default!s:<16} {kind:<22} {help_}")
        print()
    return 0
