"""Read a small CSV file row by row, keeping the line number of every row.

pandas loses line numbers, and a user who gets "bad quantity" without a line
number has to hunt for it; so every input file of riskmodel is read here with
the :mod:`csv` module, and every later check can name the file, the line and
the column.

Rules shared by all input files (customs series, policy events, licence counts):

- The file must exist, be a regular file, be UTF-8 text (a byte-order mark is
  skipped) and contain no NUL byte; anything else is refused as not a CSV file.
- Line ends may be LF or CRLF. Fields may be quoted (``"a, b"``); bad quoting
  is refused.
- The first non-blank line is the header. Header names are matched after
  stripping surrounding spaces and lower-casing (``" Month "`` is ``month``);
  a known column given twice is an error. Unknown columns (including repeated
  or empty names) are ignored, never an error.
- Blank lines (or lines whose fields are all empty) are skipped wherever they
  are, so trailing blank lines and spreadsheet exports with empty rows pass.
- Every other row must have exactly as many fields as the header. A row with
  more fields names the first surplus field by position (column ``'#10'``).
- Field values are stripped of surrounding spaces.
- Line numbers are 1-based and count the header as line 1; a quoted field that
  spans lines is reported at the line where its row starts.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from riskmodel.exceptions import DataValidationError

__all__ = ["CsvRow", "CsvTable", "read_csv_table"]

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class CsvRow:
    """One data row of a CSV file.

    Attributes
    ----------
    line : int
        1-based line number where the row starts (the header is line 1).
    values : dict of str to str
        Stripped field text by normalised column name (known columns only).
    """

    line: int
    values: dict[str, str]


@dataclass(frozen=True)
class CsvTable:
    """The rows of a CSV file, with the names of the known columns it has.

    Attributes
    ----------
    file : str
        The path as given by the caller, used in error messages.
    columns : frozenset of str
        Normalised names of the known columns present in the header.
    header_line : int
        Line number of the header.
    rows : tuple of CsvRow
        The data rows, in file order, blank rows skipped.
    """

    file: str
    columns: frozenset[str]
    header_line: int
    rows: tuple[CsvRow, ...]


#: Largest CSV file read.
MAX_CSV_BYTES = 200_000_000


def _read_text(path: Path, label: str) -> str:
    """Return the text of ``path``, refusing anything that is not a UTF-8 text file."""
    if not path.exists():
        raise DataValidationError("file does not exist", file=label)
    if path.is_dir():
        raise DataValidationError("is a directory, not a CSV file", file=label)
    if not path.is_file():  # a device such as /dev/zero would be read forever
        raise DataValidationError("is not a regular file, not a CSV file", file=label)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CSV_BYTES + 1)
    except OSError as err:
        raise DataValidationError(f"cannot read the file: {err.strerror}", file=label) from err
    if len(data) > MAX_CSV_BYTES:
        raise DataValidationError(
            f"file too large (more than {MAX_CSV_BYTES // 1_000_000} MB); customs series are "
            "a few hundred kB",
            file=label,
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise DataValidationError(
            "binary file (NUL byte found), not a CSV text file", file=label, line=line
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        bad = data[err.start : err.start + 1].hex()
        raise DataValidationError(
            f"not UTF-8 text (byte 0x{bad} cannot be decoded); save the file as UTF-8 CSV",
            file=label,
            line=line,
        ) from err
    if not text.strip():
        raise DataValidationError("file is empty", file=label)
    return text


def read_csv_table(
    path: PathLike,
    *,
    required: Collection[str],
    optional: Collection[str] = (),
    what: str = "data",
) -> CsvTable:
    """Read a CSV file into rows of stripped text, keyed by normalised column name.

    Parameters
    ----------
    path : str or PathLike
        The file to read.
    required : collection of str
        Normalised names of the columns that must be present.
    optional : collection of str, optional
        Normalised names of other known columns; any other column is ignored.
    what : str, optional
        What the rows are (``"data"``, ``"event"``), for the "no rows" message.

    Returns
    -------
    CsvTable
        The known columns present and the non-blank rows with their line numbers.

    Raises
    ------
    DataValidationError
        If the file is missing, a directory, binary, not UTF-8, empty, has no
        data rows, lacks a required column, repeats a column name, has bad
        quoting, or has a row with more or fewer fields than the header.
    """
    label = str(path)
    text = _read_text(Path(path), label)
    known = set(required) | set(optional)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)

    header: list[str] | None = None
    header_line = 0
    rows: list[CsvRow] = []
    last_line = 0
    while True:
        start = last_line + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            raise DataValidationError(
                f"malformed CSV ({err}); quote fields that contain commas or quotes",
                file=label,
                line=start,
            ) from err
        last_line = reader.line_num
        if all(not f.strip() for f in fields):
            continue
        if header is None:
            header = [f.strip().lower() for f in fields]
            header_line = start
            seen: dict[str, int] = {}
            for position, name in enumerate(header, start=1):
                if name in known and name in seen:
                    raise DataValidationError(
                        f"column name repeated in the header (columns {seen[name]} and {position})",
                        file=label,
                        line=start,
                        column=name,
                    )
                seen[name] = position
            for name in required:
                if name not in seen:
                    raise DataValidationError(
                        f"required column is missing (the header has: {', '.join(header)})",
                        file=label,
                        line=start,
                        column=name,
                    )
            continue
        if len(fields) < len(header):
            missing = header[len(fields)]
            raise DataValidationError(
                f"row has {len(fields)} fields but the header has {len(header)} columns; "
                "the row ends before this column",
                file=label,
                line=start,
                column=missing or f"#{len(fields) + 1}",
            )
        if len(fields) > len(header):
            raise DataValidationError(
                f"row has {len(fields)} fields but the header has {len(header)} columns "
                f"(field {len(header) + 1} is {fields[len(header)].strip()!r}); "
                "quote fields that contain commas",
                file=label,
                line=start,
                column=f"#{len(header) + 1}",
            )
        values = {
            name: value.strip() for name, value in zip(header, fields, strict=True) if name in known
        }
        rows.append(CsvRow(line=start, values=values))

    if header is None:  # pragma: no cover - an all-blank file is caught as empty above
        raise DataValidationError("file is empty", file=label)
    if not rows:
        raise DataValidationError(
            f"file has a header but no {what} rows", file=label, line=header_line + 1
        )
    present = frozenset(name for name in header if name in known)
    return CsvTable(file=label, columns=present, header_line=header_line, rows=tuple(rows))
