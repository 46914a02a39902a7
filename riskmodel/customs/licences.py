"""Read export-licence counts: how many applications were filed and approved.

File format (``data/licence_counts.csv``)::

    product,destination,start,end,applications,approved,description,source

- ``product``: product name of the customs vocabulary (default ``magnets``).
- ``destination``: where the applicants are (a country or ``European Union``).
- ``start``, ``end``: ``YYYY-MM``, the months the counts cover (start ≤ end,
  end not in the future).
- ``applications``, ``approved``: whole numbers ≥ 0 with approved ≤ applications.
- ``description``, ``source``: free text (optional).

Header names are matched case-insensitively; other columns are ignored. Two
rows with the same product, destination, start and end are an error.
"""

from __future__ import annotations

import os
from datetime import date

import pandas as pd

from riskmodel.customs.csvfile import read_csv_table
from riskmodel.customs.fields import RowContext, current_month, parse_month, parse_non_negative_int
from riskmodel.customs.read import DEFAULT_PRODUCT
from riskmodel.resources import bundled_data_file

__all__ = [
    "BUNDLED_LICENCES_FILE",
    "LICENCE_COLUMNS",
    "load_bundled_licence_counts",
    "read_licence_counts",
]

PathLike = str | os.PathLike[str]

BUNDLED_LICENCES_FILE = "licence_counts.csv"
#: Columns of the frame returned by :func:`read_licence_counts`, in order.
LICENCE_COLUMNS = (
    "product",
    "destination",
    "start",
    "end",
    "applications",
    "approved",
    "description",
    "source",
    "file",
    "line",
)


def read_licence_counts(path: PathLike, *, today: date | None = None) -> pd.DataFrame:
    """Read and validate a licence counts file.

    Parameters
    ----------
    path : str or PathLike
        The CSV file (see the module docstring for the format).
    today : datetime.date, optional
        The date that decides which months are in the future; the system date
        when omitted.

    Returns
    -------
    pandas.DataFrame
        One row per count, columns :data:`LICENCE_COLUMNS`: ``product``,
        ``destination`` (str), ``start``, ``end`` (Period[M]), ``applications``,
        ``approved`` (int64), ``description``, ``source``, ``file`` (str),
        ``line`` (int). Sorted by product, destination, start, end.

    Raises
    ------
    DataValidationError
        For a bad month, a count that is not a whole number ≥ 0, more approvals
        than applications, start after end, an end in the future, or a
        repeated row, naming the file, line and column.
    """
    table = read_csv_table(
        path,
        required=("destination", "start", "end", "applications", "approved"),
        optional=("product", "description", "source"),
        what="licence count",
    )
    latest = current_month(today)
    records: list[dict[str, object]] = []
    seen: dict[tuple[str, str, pd.Period, pd.Period], int] = {}
    for row in table.rows:
        ctx = RowContext(file=table.file, line=row.line, values=row.values)
        product = ctx.text("product", DEFAULT_PRODUCT)
        destination = ctx.text("destination")
        if not destination:
            raise ctx.error("destination is empty", "destination")
        start = ctx.parse("start", parse_month)
        end = ctx.parse("end", parse_month)
        if end > latest:
            raise ctx.error(f"end {end} is in the future (the current month is {latest})", "end")
        if start > end:
            raise ctx.error(f"start {start} is after end {end}", "start")
        applications = ctx.parse(
            "applications", lambda text: parse_non_negative_int(text, "applications")
        )
        approved = ctx.parse("approved", lambda text: parse_non_negative_int(text, "approved"))
        if approved > applications:
            raise ctx.error(
                f"approved ({approved}) is more than applications ({applications})", "approved"
            )
        key = (product, destination, start, end)
        if key in seen:
            raise ctx.error(
                f"duplicate row: same product, destination, start and end as line {seen[key]}",
                "start",
            )
        seen[key] = row.line
        records.append(
            {
                "product": product,
                "destination": destination,
                "start": start,
                "end": end,
                "applications": applications,
                "approved": approved,
                "description": ctx.text("description"),
                "source": ctx.text("source"),
                "file": table.file,
                "line": row.line,
            }
        )
    frame = pd.DataFrame(records, columns=list(LICENCE_COLUMNS)).astype(
        {
            "start": "period[M]",
            "end": "period[M]",
            "applications": "int64",
            "approved": "int64",
            "line": "int64",
        }
    )
    return frame.sort_values(["product", "destination", "start", "end"], kind="stable").reset_index(
        drop=True
    )


def load_bundled_licence_counts() -> pd.DataFrame:
    """Read the bundled ``licence_counts.csv`` (see :func:`read_licence_counts`)."""
    return read_licence_counts(bundled_data_file(BUNDLED_LICENCES_FILE))
