"""``riskmodel data check``: validate data files and summarise each customs series.

With no paths, checks the bundled customs series, policy events and licence
counts. Given paths are read by what their header says: a file with an
``event_type`` column is a policy events file, one with ``applications`` and
``approved`` columns is a licence counts file, anything else a customs series.
Customs files are read together (a row repeated across files is an error) and
reconciled; the output is one line per file, a table per series and the number
of cumulative rows that agreed with their parts. Bad input exits 2 with one line.

Only :mod:`riskmodel.customs` (pandas) is imported, never PyMC.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Sequence
from pathlib import Path

__all__ = ["add_parser", "run_check"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``data`` subcommand group."""
    parser = subparsers.add_parser("data", help="check customs data files")
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION")
    sub.required = True
    check = sub.add_parser(
        "check",
        help="validate files and print a summary per series",
        description=(
            "Validate customs series, policy events and licence counts, reconcile the "
            "customs rows (Jan-Feb and year-to-date totals against monthly rows) and "
            "print a summary per series. Without paths, checks the bundled data."
        ),
    )
    check.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help=(
            "CSV files: customs series, or policy events / licence counts (recognised "
            "by their header); default: the bundled data"
        ),
    )
    check.add_argument(
        "--rel-tol",
        type=float,
        default=0.02,
        metavar="FRACTION",
        help="how far a cumulative row may differ from its parts (default 0.02 = 2%%)",
    )
    check.set_defaults(handler=run_check)


def _header_kind(path: str) -> str:
    """Guess what a file holds from its header; 'customs' if it cannot be read."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            for fields in csv.reader(handle):
                names = {f.strip().lower() for f in fields}
                if not any(names - {""}):
                    continue
                if "event_type" in names:
                    return "events"
                if {"applications", "approved"} <= names:
                    return "licences"
                return "customs"
    except (OSError, UnicodeDecodeError, csv.Error, ValueError):
        pass
    return "customs"


def _display(path: str) -> str:
    """Show bundled (absolute) paths relative to the working directory when inside it."""
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            return str(candidate.relative_to(Path.cwd()))
        except ValueError:
            return path
    return path


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def run_check(args: argparse.Namespace) -> int:
    """Validate the files, reconcile the customs rows and print the summary."""
    from riskmodel.customs import (
        read_customs,
        read_licence_counts,
        read_policy_events,
        reconcile,
        summarize_series,
    )
    from riskmodel.customs.read import bundled_customs_paths
    from riskmodel.exceptions import DataValidationError
    from riskmodel.resources import bundled_data_file

    rel_tol = float(args.rel_tol)
    if not 0 <= rel_tol < 1:
        raise DataValidationError(f"--rel-tol must be at least 0 and below 1, got {rel_tol}")
    if args.paths:
        kinds = [(str(p), _header_kind(str(p))) for p in args.paths]
    else:
        kinds = [(p, "customs") for p in bundled_customs_paths()]
        kinds.append((str(bundled_data_file("policy_events.csv")), "events"))
        kinds.append((str(bundled_data_file("licence_counts.csv")), "licences"))

    lines: list[str] = []
    customs_paths = [p for p, kind in kinds if kind == "customs"]
    frame = read_customs(customs_paths) if customs_paths else None
    for path, kind in kinds:
        if kind == "customs" and frame is not None:
            count = int((frame["file"] == path).sum())
            lines.append(f"checked {_display(path)}: {count} customs rows")
        elif kind == "events":
            events = read_policy_events(path)
            lines.append(f"checked {_display(path)}: {len(events)} policy events")
        else:
            counts = read_licence_counts(path)
            lines.append(f"checked {_display(path)}: {len(counts)} licence counts")

    if frame is not None:
        reconciled = reconcile(frame, rel_tol=rel_tol)
        summary = summarize_series(frame)
        header = ["product", "destination", "first", "last", "observed", "missing", "in sums only"]
        rows = [
            [
                str(s.product),
                str(s.destination),
                str(s.first),
                str(s.last),
                str(s.months_observed),
                str(s.months_missing),
                str(s.months_only_in_sums),
            ]
            for s in summary.itertuples(index=False)
        ]
        lines.append("")
        lines.extend(_table(header, rows, right={4, 5, 6}))
        lines.append("")
        obs = reconciled.observations
        n_month = int((obs["kind"] == "month").sum())
        n_sum = int((obs["kind"] == "sum").sum())
        lines.append(
            f"{len(reconciled.cross_checks)} cross-checks agreed: cumulative rows equal to "
            f"the sum of their parts within {rel_tol * 100:g}%"
        )
        lines.append(
            f"{len(obs)} observations: {n_month} monthly, {n_sum} sums over months "
            f"without a monthly figure; {len(summary)} series"
        )
    print("\n".join(lines))
    return 0
