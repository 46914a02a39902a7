"""Parse single fields of the input files, with messages that say what is wrong.

Each parser takes the stripped text of one field and returns the value or
raises :class:`ValueError` with a short message; :class:`RowContext` turns that
into a :class:`~riskmodel.exceptions.DataValidationError` naming the file, the
line and the column.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

import pandas as pd

from riskmodel.exceptions import DataValidationError

__all__ = [
    "RowContext",
    "current_month",
    "format_quantity",
    "parse_date",
    "parse_flag",
    "parse_month",
    "parse_non_negative_int",
    "parse_quantity",
]

T = TypeVar("T")

_MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")
_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_INTEGER_RE = re.compile(r"^[+-]?\d+(\.0*)?$")
_NAN_WORDS = {"nan", "+nan", "-nan", "na", "n/a", "null", "none"}
_INF_WORDS = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}
_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"0", "false", "no", "n", ""}
_MIN_YEAR = 1900
#: Latest year accepted: a policy event may be dated ahead (a suspension's end), not
#: centuries ahead (pandas timestamps end in 2262).
_MAX_YEAR = 2100


def parse_month(text: str) -> pd.Period:
    """Parse ``YYYY-MM`` into a monthly :class:`pandas.Period`.

    Raises
    ------
    ValueError
        If the text is empty, not ``YYYY-MM``, or the month is not 01 to 12.
    """
    if not text:
        raise ValueError("month is empty; expected YYYY-MM")
    match = _MONTH_RE.match(text)
    if match is None:
        raise ValueError(f"malformed month {text!r}; expected YYYY-MM, e.g. 2025-03")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"impossible month {text!r}: the month must be 01 to 12")
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise ValueError(f"implausible year in {text!r} (not {_MIN_YEAR} to {_MAX_YEAR})")
    return pd.Period(year=year, month=month, freq="M")


def parse_date(text: str) -> tuple[pd.Timestamp, bool]:
    """Parse ``YYYY-MM-DD`` or ``YYYY-MM`` (day unknown).

    Returns
    -------
    tuple of (Timestamp, bool)
        The date (the first of the month when the day is unknown) and whether the
        day is known.

    Raises
    ------
    ValueError
        If the text is empty, malformed, or not a real calendar date.
    """
    if not text:
        raise ValueError("date is empty; expected YYYY-MM-DD or YYYY-MM")
    match = _DATE_RE.match(text)
    if match is None:
        if _MONTH_RE.match(text):
            period = parse_month(text)
            return pd.Timestamp(year=period.year, month=period.month, day=1), False
        raise ValueError(f"malformed date {text!r}; expected YYYY-MM-DD or YYYY-MM")
    year, month, day = (int(g) for g in match.groups())
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise ValueError(f"implausible year in {text!r} (not {_MIN_YEAR} to {_MAX_YEAR})")
    try:
        value = date(year, month, day)
    except ValueError as err:
        raise ValueError(f"impossible date {text!r} ({err})") from None
    return pd.Timestamp(value), True


def _classify_number(text: str, what: str) -> float:
    if not text:
        raise ValueError(f"{what} is empty")
    lowered = text.lower()
    if lowered in _NAN_WORDS:
        raise ValueError(f"{what} is not a number: {text!r}")
    if lowered in _INF_WORDS:
        raise ValueError(f"{what} is infinite: {text!r}")
    if _NUMBER_RE.match(text) is None:
        raise ValueError(f"{what} is not a number: {text!r}")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{what} is infinite (too large): {text!r}")
    return value


def parse_quantity(text: str) -> float:
    """Parse a non-negative, finite decimal number.

    Raises
    ------
    ValueError
        If the text is empty, not a plain decimal number (thousands separators,
        ``nan`` and ``inf`` included), or negative.
    """
    if not text:
        raise ValueError(
            "quantity is empty; a month without a figure must have no row (missing is not zero)"
        )
    value = _classify_number(text, "quantity")
    if value < 0:
        raise ValueError(f"quantity is negative: {text!r}")
    return value + 0.0  # turn -0.0 into 0.0


def parse_non_negative_int(text: str, what: str) -> int:
    """Parse a whole number ≥ 0 (``"3"``; ``"3.0"`` is accepted as 3).

    Raises
    ------
    ValueError
        If the text is empty, not a number, not whole, or negative.
    """
    value = _classify_number(text, what)
    if _INTEGER_RE.match(text) is None:
        raise ValueError(f"{what} must be a whole number: {text!r}")
    if value < 0:
        raise ValueError(f"{what} is negative: {text!r}")
    if value > 2**53:  # counts are held as int64 and float64
        raise ValueError(f"{what} is implausibly large: {text[:30]!r}")
    return int(value)


def parse_flag(text: str) -> bool:
    """Parse a yes/no flag: ``1/0``, ``true/false``, ``yes/no``; empty is False.

    Raises
    ------
    ValueError
        If the text is none of those.
    """
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"expected 1 or 0 (or true/false), got {text!r}")


def current_month(today: date | None) -> pd.Period:
    """Return the month of ``today`` (the system date when None)."""
    day = date.today() if today is None else today
    return pd.Period(year=day.year, month=day.month, freq="M")


@dataclass(frozen=True)
class RowContext:
    """One row being parsed: its file, line and values, and error helpers."""

    file: str
    line: int
    values: Mapping[str, str]

    def text(self, column: str, default: str = "") -> str:
        """Return the stripped text of ``column``, or ``default`` if absent or empty."""
        value = self.values.get(column, "")
        return value if value else default

    def error(self, message: str, column: str | None) -> DataValidationError:
        """Build a :class:`DataValidationError` located at this row and ``column``."""
        return DataValidationError(message, file=self.file, line=self.line, column=column)

    def parse(self, column: str, parser: Callable[[str], T], default: str = "") -> T:
        """Parse ``column`` with ``parser``; a ValueError becomes a located error."""
        try:
            return parser(self.text(column, default))
        except ValueError as err:
            raise self.error(str(err), column) from None


def format_quantity(value: float) -> str:
    """Format a quantity for a message: plain decimals, at most 4 places, no exponent."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text
