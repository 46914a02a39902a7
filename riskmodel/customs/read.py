"""Read customs series files into one tidy, validated frame.

The input format (what users bring and what the bundled files use):

============== ======== ===========================================================
column         required meaning
============== ======== ===========================================================
month          yes      ``YYYY-MM``, the last month the row covers
destination    yes      a country, a regional aggregate, or ``World`` (the total
                        over all destinations; matched case-insensitively)
quantity       yes      exported amount, a plain decimal number ≥ 0
unit           no       ``t`` (default) or ``kg`` (case-insensitive); kg are
                        divided by 1000 on load
product        no       e.g. ``magnets`` (default), ``rare_earths``, ``gallium``
months_covered no       k (default 1): the row is the sum over the k calendar
                        months ending at ``month``; 2 at February is China's
                        combined January–February release, 3..12 year-to-date
                        or annual totals
derived        no       1 if the figure was computed from other reported figures
note           no       free text (how a derived figure was computed)
source         no       where the figure comes from
============== ======== ===========================================================

Header names are matched ignoring case and surrounding spaces, columns may come
in any order, and an empty cell in an optional column takes the default. Other
columns are ignored. File-level rules (UTF-8 with or without byte-order mark, LF
or CRLF, quoting, blank lines, row length) are in :mod:`riskmodel.customs.csvfile`.
Rules, each an error naming the file, line and column:

- ``month`` is ``YYYY-MM`` with a month 01–12 and not after the current month.
- ``quantity`` is a finite decimal number ≥ 0 (no thousands separators).
  Reported zeros are kept as zeros; a month with no figure has no row.
- ``months_covered`` is a whole number from 1 to 12 and at most the month
  number: a row covers months of one calendar year only (a 2-month row at
  ``2025-01`` would reach into 2024 and is refused).
- No two rows (in the same or different files) share product, destination,
  month and months_covered.
- No destination exceeds the ``World`` row of the same product, month and
  months_covered.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import pandas as pd

from riskmodel.customs.csvfile import read_csv_table
from riskmodel.customs.fields import (
    RowContext,
    current_month,
    format_quantity,
    parse_flag,
    parse_month,
    parse_non_negative_int,
    parse_quantity,
)
from riskmodel.exceptions import DataValidationError
from riskmodel.resources import bundled_data_file

__all__ = [
    "BUNDLED_CUSTOMS_FILES",
    "CUSTOMS_COLUMNS",
    "DEFAULT_PRODUCT",
    "UNITS",
    "WORLD",
    "bundled_customs_paths",
    "load_bundled_customs",
    "read_customs",
]

PathLike = str | os.PathLike[str]

#: Columns of the frame returned by :func:`read_customs`, in order.
CUSTOMS_COLUMNS = (
    "product",
    "destination",
    "month",
    "months_covered",
    "quantity_t",
    "derived",
    "note",
    "source",
    "file",
    "line",
)
#: Accepted units and their factor to tonnes.
UNITS = {"t": 1.0, "kg": 0.001}
DEFAULT_PRODUCT = "magnets"
#: The destination name of the total over all destinations.
WORLD = "World"
#: The bundled customs series files, in the order they are read.
BUNDLED_CUSTOMS_FILES = ("magnet_exports.csv", "rare_earth_exports.csv", "other_controls.csv")

_REQUIRED = ("month", "destination", "quantity")
_OPTIONAL = ("unit", "product", "months_covered", "derived", "note", "source")
_MAX_MONTHS_COVERED = 12


@dataclass(frozen=True)
class _Record:
    product: str
    destination: str
    month: pd.Period
    months_covered: int
    quantity_t: float
    derived: bool
    note: str
    source: str
    file: str
    line: int

    def where(self, other_file: str) -> str:
        """Say where this row is, naming its file only if it differs from ``other_file``."""
        return f"line {self.line}" if self.file == other_file else f"{self.file} line {self.line}"


def _parse_months_covered(text: str) -> int:
    value = parse_non_negative_int(text, "months_covered")
    if not 1 <= value <= _MAX_MONTHS_COVERED:
        raise ValueError(f"months_covered must be 1 to {_MAX_MONTHS_COVERED}, got {text!r}")
    return value


def _parse_row(ctx: RowContext, latest: pd.Period) -> _Record:
    month = ctx.parse("month", parse_month)
    if month > latest:
        raise ctx.error(f"month {month} is in the future (the current month is {latest})", "month")
    destination = ctx.text("destination")
    if not destination:
        raise ctx.error("destination is empty (use World for the total)", "destination")
    if destination.lower() == WORLD.lower():
        destination = WORLD
    product = ctx.text("product", DEFAULT_PRODUCT)
    quantity = ctx.parse("quantity", parse_quantity)
    unit = ctx.text("unit", "t")
    factor = UNITS.get(unit.lower())
    if factor is None:
        raise ctx.error(f"unknown unit {unit!r}; expected one of: {', '.join(UNITS)}", "unit")
    covered = ctx.parse("months_covered", _parse_months_covered, default="1")
    if covered > month.month:
        raise ctx.error(
            f"months_covered {covered} at {month} would reach back into {month.year - 1}; "
            "a row may only cover months of one calendar year (at most the month number)",
            "months_covered",
        )
    return _Record(
        product=product,
        destination=destination,
        month=month,
        months_covered=covered,
        quantity_t=quantity * factor,
        derived=ctx.parse("derived", parse_flag),
        note=ctx.text("note"),
        source=ctx.text("source"),
        file=ctx.file,
        line=ctx.line,
    )


def _check_duplicates(records: list[_Record]) -> None:
    seen: dict[tuple[str, str, pd.Period, int], _Record] = {}
    for rec in records:
        key = (rec.product, rec.destination, rec.month, rec.months_covered)
        first = seen.get(key)
        if first is not None:
            raise DataValidationError(
                f"duplicate row: {rec.product} / {rec.destination} / {rec.month} / "
                f"months_covered {rec.months_covered} is already given at {first.where(rec.file)} "
                "(each product, destination, month and months_covered once)",
                file=rec.file,
                line=rec.line,
                column="month",
            )
        seen[key] = rec


def _check_world_totals(records: list[_Record]) -> None:
    world = {
        (rec.product, rec.month, rec.months_covered): rec
        for rec in records
        if rec.destination == WORLD
    }
    for rec in records:
        if rec.destination == WORLD:
            continue
        total = world.get((rec.product, rec.month, rec.months_covered))
        if total is not None and rec.quantity_t > total.quantity_t:
            raise DataValidationError(
                f"{rec.destination} {format_quantity(rec.quantity_t)} t is above the World "
                f"total {format_quantity(total.quantity_t)} t at {total.where(rec.file)} "
                f"({rec.product}, {rec.month}, months_covered {rec.months_covered})",
                file=rec.file,
                line=rec.line,
                column="quantity",
            )


def _as_paths(paths: PathLike | Iterable[PathLike]) -> list[PathLike]:
    if isinstance(paths, str | os.PathLike):
        return [paths]
    return list(paths)


def read_customs(
    paths: PathLike | Iterable[PathLike], *, today: date | None = None
) -> pd.DataFrame:
    """Read and validate one or more customs series CSV files.

    Parameters
    ----------
    paths : path or iterable of paths
        The CSV files (see the module docstring for the format).
    today : datetime.date, optional
        The date that decides which months are in the future; the system date
        when omitted.

    Returns
    -------
    pandas.DataFrame
        One row per input row, columns :data:`CUSTOMS_COLUMNS`: ``product`` (str),
        ``destination`` (str), ``month`` (Period[M], the last month covered),
        ``months_covered`` (int), ``quantity_t`` (float64, tonnes), ``derived``
        (bool), ``note`` (str), ``source`` (str), ``file`` (str), ``line`` (int,
        1-based, header = line 1). Sorted by product, destination, month,
        months_covered.

    Raises
    ------
    DataValidationError
        On the first broken rule, naming the file, line and column.

    Notes
    -----
    Rows with ``months_covered > 1`` overlap monthly rows on purpose; summing the
    frame double counts. Use :func:`riskmodel.customs.reconcile` to turn it into
    non-overlapping observations.
    """
    files = _as_paths(paths)
    if not files:
        raise DataValidationError("no customs files given")
    latest = current_month(today)
    records: list[_Record] = []
    for path in files:
        table = read_csv_table(path, required=_REQUIRED, optional=_OPTIONAL, what="data")
        for row in table.rows:
            ctx = RowContext(file=table.file, line=row.line, values=row.values)
            records.append(_parse_row(ctx, latest))
    _check_duplicates(records)
    _check_world_totals(records)
    return _to_frame(records)


def _to_frame(records: list[_Record]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "product": pd.Series([r.product for r in records], dtype=object),
            "destination": pd.Series([r.destination for r in records], dtype=object),
            "month": pd.Series(
                pd.PeriodIndex([r.month for r in records], freq="M"), dtype="period[M]"
            ),
            "months_covered": pd.Series([r.months_covered for r in records], dtype="int64"),
            "quantity_t": pd.Series([r.quantity_t for r in records], dtype="float64"),
            "derived": pd.Series([r.derived for r in records], dtype=bool),
            "note": pd.Series([r.note for r in records], dtype=object),
            "source": pd.Series([r.source for r in records], dtype=object),
            "file": pd.Series([r.file for r in records], dtype=object),
            "line": pd.Series([r.line for r in records], dtype="int64"),
        },
        columns=list(CUSTOMS_COLUMNS),
    )
    return frame.sort_values(
        ["product", "destination", "month", "months_covered"], kind="stable"
    ).reset_index(drop=True)


def bundled_customs_paths() -> list[str]:
    """Return the paths of the bundled customs series files."""
    return [str(bundled_data_file(name)) for name in BUNDLED_CUSTOMS_FILES]


def load_bundled_customs(product: str | None = None) -> pd.DataFrame:
    """Read the bundled customs series (magnets, rare earths, other controlled goods).

    Parameters
    ----------
    product : str, optional
        Keep only this product (e.g. ``"magnets"``); all products when omitted.

    Returns
    -------
    pandas.DataFrame
        As :func:`read_customs`.

    Raises
    ------
    DataValidationError
        If ``product`` has no bundled series (the message lists those that do).
    """
    frame = read_customs(bundled_customs_paths())
    if product is None:
        return frame
    selected = frame[frame["product"] == product].reset_index(drop=True)
    if selected.empty:
        known = ", ".join(sorted(frame["product"].unique()))
        raise DataValidationError(
            f"no bundled customs series for product {product!r}; bundled products: {known}",
            column="product",
        )
    return selected
