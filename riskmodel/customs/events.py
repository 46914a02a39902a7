"""Read policy events: dated facts (controls, licences, deals) that mark regime changes.

File format (``data/policy_events.csv``)::

    date,commodity,event_type,description,source

- ``date``: ``YYYY-MM-DD``, or ``YYYY-MM`` when the day is not known (the event
  is then dated the first of the month with ``day_known`` False). Dates may lie
  in the future (a scheduled end of a suspension, say).
- ``commodity``: one or more product names separated by ``;``. They use the
  product vocabulary of the customs series, so events match series by exact
  product name; ``all`` matches every product.
- ``event_type``: one of :data:`EVENT_TYPES`.
- ``description`` and ``source``: free text (optional columns).

Header names are matched case-insensitively; other columns are ignored.
"""

from __future__ import annotations

import os

import pandas as pd

from riskmodel.customs.csvfile import read_csv_table
from riskmodel.customs.fields import RowContext, parse_date
from riskmodel.resources import bundled_data_file

__all__ = [
    "ALL_PRODUCTS",
    "BUNDLED_EVENTS_FILE",
    "EVENT_COLUMNS",
    "EVENT_TYPES",
    "events_for_product",
    "load_bundled_events",
    "read_policy_events",
]

PathLike = str | os.PathLike[str]

#: The allowed event types.
EVENT_TYPES = (
    "control_announced",
    "control_effective",
    "licences_approved",
    "deal",
    "suspension",
    "ban",
)
#: The commodity name that matches every product.
ALL_PRODUCTS = "all"
BUNDLED_EVENTS_FILE = "policy_events.csv"
#: Columns of the frame returned by :func:`read_policy_events`, in order.
EVENT_COLUMNS = (
    "date",
    "day_known",
    "month",
    "commodities",
    "event_type",
    "description",
    "source",
    "file",
    "line",
)


def _parse_commodities(text: str) -> tuple[str, ...]:
    if not text:
        raise ValueError("commodity is empty (use 'all' for every product)")
    names = tuple(name.strip() for name in text.split(";"))
    if any(not name for name in names):
        raise ValueError(f"empty commodity name in {text!r} (names are separated by ';')")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"commodity {repeated[0]!r} is listed twice in {text!r}")
    return names


def _parse_event_type(text: str) -> str:
    if text not in EVENT_TYPES:
        raise ValueError(f"unknown event_type {text!r}; expected one of: {', '.join(EVENT_TYPES)}")
    return text


def read_policy_events(path: PathLike) -> pd.DataFrame:
    """Read and validate a policy events file.

    Parameters
    ----------
    path : str or PathLike
        The CSV file (see the module docstring for the format).

    Returns
    -------
    pandas.DataFrame
        One row per event, columns :data:`EVENT_COLUMNS`: ``date`` (Timestamp; the
        first of the month when the day is unknown), ``day_known`` (bool),
        ``month`` (Period[M]), ``commodities`` (tuple of str), ``event_type``
        (str), ``description``, ``source``, ``file`` (str) and ``line`` (int).
        Sorted by date, then file order.

    Raises
    ------
    DataValidationError
        For a malformed or impossible date, an empty or repeated commodity
        name, an unknown event type, or a repeated event (same date,
        commodities, type and description), naming the file, line and column.
    """
    table = read_csv_table(
        path,
        required=("date", "commodity", "event_type"),
        optional=("description", "source"),
        what="event",
    )
    records: list[dict[str, object]] = []
    seen: dict[tuple[object, ...], int] = {}
    for row in table.rows:
        ctx = RowContext(file=table.file, line=row.line, values=row.values)
        when, day_known = ctx.parse("date", parse_date)
        commodities = ctx.parse("commodity", _parse_commodities)
        event_type = ctx.parse("event_type", _parse_event_type)
        description = ctx.text("description")
        key = (when, day_known, frozenset(commodities), event_type, description)
        if key in seen:
            raise ctx.error(
                f"duplicate event: same date, commodities, event_type and description as "
                f"line {seen[key]}",
                "date",
            )
        seen[key] = row.line
        records.append(
            {
                "date": when,
                "day_known": day_known,
                "month": pd.Period(when, freq="M"),
                "commodities": commodities,
                "event_type": event_type,
                "description": description,
                "source": ctx.text("source"),
                "file": table.file,
                "line": row.line,
            }
        )
    frame = pd.DataFrame(records, columns=list(EVENT_COLUMNS))
    frame = frame.astype(
        {"date": "datetime64[ns]", "day_known": bool, "month": "period[M]", "line": "int64"}
    )
    return frame.sort_values(["date", "line"], kind="stable").reset_index(drop=True)


def events_for_product(events: pd.DataFrame, product: str) -> pd.DataFrame:
    """Select the events that concern ``product`` (by exact name, or ``all``).

    Parameters
    ----------
    events : pandas.DataFrame
        As returned by :func:`read_policy_events`.
    product : str
        A product name of the customs series, e.g. ``"magnets"``.

    Returns
    -------
    pandas.DataFrame
        The matching events, same columns, in date order.
    """
    mask = events["commodities"].map(lambda names: product in names or ALL_PRODUCTS in names)
    return events[mask.astype(bool)].reset_index(drop=True)


def load_bundled_events() -> pd.DataFrame:
    """Read the bundled ``policy_events.csv`` (see :func:`read_policy_events`)."""
    return read_policy_events(bundled_data_file(BUNDLED_EVENTS_FILE))
