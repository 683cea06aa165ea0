"""Options shared by the commands that simulate: parameters, costs, fills and warm-up."""

from __future__ import annotations

import argparse

from engine.sim.simulate import Costs


def with_examples(*commands: str) -> dict:
    """`add_parser` keywords giving the command's --help an epilog of example command
    lines, printed as written."""
    label = "example:" if len(commands) == 1 else "examples:"
    return {
        "formatter_class": argparse.RawDescriptionHelpFormatter,
        "epilog": "\n".join([label, *(f"  {c}" for c in commands)]),
    }


def add_set_option(p, help: str) -> None:
    """--set NAME=VALUE (repeatable) on parser `p`, collected in `args.sets`."""
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="NAME=VALUE", help=help)


def add_options(p, warmup: bool = True, participation: float | None = None, impact: float = 0.0) -> None:
    """--fees, --slippage, --cash, --fill, --max-gross, --participation, --impact, --no-volume,
    --cash-rate, --financing, --borrow-fee and (unless warmup=False: a command whose strategy
    always sees the whole history) --warmup on parser `p`; `participation` and `impact` are the
    defaults of --participation and --impact (a capacity study always runs with a cap)."""
    p.add_argument("--fees", type=float, default=Costs.fees, help="fraction of traded value (default 0.0005)")
    p.add_argument("--slippage", type=float, default=Costs.slippage, help="fraction (default 0.0005)")
    p.add_argument("--cash", type=float, default=Costs.init_cash, help="initial equity (default 100000)")
    p.add_argument(
        "--fill",
        choices=("open", "close"),
        default="open",
        help="fill at the next bar's open (default; close for close-only tickers) or close",
    )
    p.add_argument(
        "--max-gross",
        type=float,
        default=Costs.max_gross,
        metavar="X",
        help="largest gross exposure (sum of |weights|) a decision may have; above 1 buys borrow (default 1)",
    )
    p.add_argument(
        "--participation",
        type=float,
        default=participation,
        metavar="P",
        help="largest fraction of a bar's volume one name's fills may take, the rest carried to the "
        f"next bars (default {'no cap' if participation is None else f'{participation:g}'})",
    )
    p.add_argument(
        "--impact",
        type=float,
        default=impact,
        metavar="K",
        help="square-root impact: fills move k * sigma * sqrt(shares / ADV) against the order "
        f"(default {impact:g})",
    )
    p.add_argument(
        "--no-volume",
        choices=("ok",),
        help="with --participation or --impact, fill close-only names (no volume) uncapped instead of "
        "refusing them; the manifest lists them",
    )
    for name, what in (
        ("cash-rate", "earned on positive cash"),
        ("financing", "paid on borrowed cash"),
        ("borrow-fee", "paid on the market value of short positions"),
    ):
        p.add_argument(
            f"--{name}", type=float, default=0.0, metavar="RATE", help=f"annual rate {what} (default 0)"
        )
    if not warmup:
        return
    p.add_argument(
        "--warmup",
        type=int,
        metavar="DAYS",
        help="trading days of history the strategy sees before the start (default: all)",
    )


def costs(args) -> Costs:
    """The Costs the options of `add_options` describe (validated by Costs)."""
    return Costs(
        fees=args.fees,
        slippage=args.slippage,
        init_cash=args.cash,
        fill=args.fill,
        max_gross=args.max_gross,
        cash_rate=args.cash_rate,
        financing=args.financing,
        borrow_fee=args.borrow_fee,
        participation=args.participation,
        impact=args.impact,
        no_volume=args.no_volume or "refuse",
    )


def add_executor_options(p) -> None:
    """--executor local|dask, --scheduler ADDRESS and --workers N on parser `p` (`aishock
    sweep` and `aishock generalize`)."""
    p.add_argument("--executor", choices=("local", "dask"), default="local")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler, e.g. tcp://host:8786 (default: a LocalCluster)",
    )
    p.add_argument("--workers", type=int, help="LocalCluster workers (default: one per core)")


def check_executor(args) -> None:
    """Refuse, before any work, --scheduler or --workers without --executor dask, --workers
    with --scheduler or below 1, and a --scheduler that is no Dask address."""
    from engine.errors import AishockError
    from engine.sweeps import executors

    dask = args.executor == "dask"
    if args.scheduler and not dask:
        raise AishockError("--scheduler only applies to --executor dask; add --executor dask or drop it")
    if args.workers is not None:
        if not dask:
            raise AishockError("--workers only applies to --executor dask; add --executor dask or drop it")
        if args.scheduler:
            raise AishockError(
                "--workers sizes a local Dask cluster; with --scheduler the cluster has its own"
            )
        if args.workers < 1:
            raise AishockError(f"--workers must be at least 1, got {args.workers}")
    if args.scheduler:
        executors.check_address(args.scheduler)
