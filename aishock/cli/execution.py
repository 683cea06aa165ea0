"""Options shared by the commands that simulate: parameters, costs, fills and warm-up."""

from __future__ import annotations

from engine.sim.simulate import Costs


def add_set_option(p, help: str) -> None:
    """--set NAME=VALUE (repeatable) on parser `p`, collected in `args.sets`."""
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="NAME=VALUE", help=help)


def add_options(p) -> None:
    """--fees, --slippage, --cash, --fill, --max-gross, --cash-rate, --financing, --borrow-fee
    and --warmup on parser `p`."""
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
    for name, what in (
        ("cash-rate", "earned on positive cash"),
        ("financing", "paid on borrowed cash"),
        ("borrow-fee", "paid on the market value of short positions"),
    ):
        p.add_argument(
            f"--{name}", type=float, default=0.0, metavar="RATE", help=f"annual rate {what} (default 0)"
        )
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
    )
