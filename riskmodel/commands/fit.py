"""``riskmodel fit``: not implemented yet."""

from __future__ import annotations

import argparse
import sys


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``fit`` subcommand."""
    parser = subparsers.add_parser("fit", help="(not implemented yet)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the subcommand."""
    print("riskmodel fit: not implemented yet", file=sys.stderr)
    return 1
