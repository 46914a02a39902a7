"""``riskmodel backtest``: not implemented yet."""

from __future__ import annotations

import argparse
import sys


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``backtest`` subcommand."""
    parser = subparsers.add_parser("backtest", help="(not implemented yet)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the subcommand."""
    print("riskmodel backtest: not implemented yet", file=sys.stderr)
    return 1
