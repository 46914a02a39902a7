"""The ``riskmodel`` command line: one subcommand per pipeline stage.

The command line is a thin shell over the library. Each subcommand lives in its own
module under :mod:`riskmodel.commands` with two functions, ``add_parser(subparsers)``
and ``run(args) -> int``; heavy imports (PyMC, PyTensor) happen inside ``run`` so that
``riskmodel --help`` and ``riskmodel data check`` start fast.

Exit codes: 0 success, 1 a run that completed but failed a check (``--strict``),
2 bad input (one line on stderr, no traceback), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from riskmodel import __version__
from riskmodel.exceptions import RiskModelError

#: Subcommand modules, in pipeline order.
COMMAND_MODULES = (
    "riskmodel.commands.data",
    "riskmodel.commands.fit",
    "riskmodel.commands.forecast",
    "riskmodel.commands.shortage",
    "riskmodel.commands.drivers",
    "riskmodel.commands.buffer",
    "riskmodel.commands.report",
    "riskmodel.commands.watch",
    "riskmodel.commands.backtest",
    "riskmodel.commands.shocks",
)

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors exit 2 with one line, like bad data."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the full argument parser (used by ``main`` and by the docs)."""
    parser = _Parser(
        prog="riskmodel",
        description=(
            "Turn customs statistics into calibrated probabilities of critical-mineral "
            "shortages. Stages: data check -> fit -> forecast -> shortage -> report. "
            "Each stage reads the previous stage's saved output, so any stage can be rerun."
        ),
    )
    parser.add_argument("--version", action="version", version=f"riskmodel {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output on stderr (-vv: debug)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        module.add_parser(sub)
    return parser


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="riskmodel: %(message)s", stream=sys.stderr)
    logging.getLogger("riskmodel").setLevel(min(level, logging.INFO))
    # Dask's scheduler and workers log every start and stop at INFO; only errors matter
    # to a user unless they ask for debug output.
    logging.getLogger("distributed").setLevel(logging.ERROR if verbosity < 2 else logging.DEBUG)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    int
        The process exit code (0 ok, 1 failed check, 2 bad input, 130 interrupted).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(None if argv is None else list(argv))
    except SystemExit as exc:  # --help, --version, or a usage error (one line, exit 2)
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT

    _configure_logging(args.verbose)
    try:
        return int(args.handler(args) or 0)
    except RiskModelError as err:
        print(f"riskmodel: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("riskmodel: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
