"""``riskmodel data check``: validate customs files and summarise each series."""

from __future__ import annotations

import argparse
import sys


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``data`` subcommand group."""
    parser = subparsers.add_parser("data", help="check customs data files")
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION")
    sub.required = True
    check = sub.add_parser("check", help="validate files and print a summary per series")
    check.add_argument("paths", nargs="*", help="customs CSV files (default: the bundled data)")
    check.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace) -> int:
    """Validate the files and print the summary."""
    print("riskmodel data check: not implemented yet", file=sys.stderr)
    return 1
