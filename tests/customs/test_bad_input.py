"""Every way a customs file can be wrong gives one located DataValidationError."""

from __future__ import annotations

from datetime import date

import pytest

from riskmodel.customs import read_customs, reconcile
from riskmodel.exceptions import DataValidationError, RiskModelError

TODAY = date(2026, 1, 15)
H = "month,destination,product,quantity,unit,months_covered\n"
ROW = "2025-01,World,magnets,100,t,1\n"

# (id, file content, expected line or None, expected column or None, text in the message)
BAD_CUSTOMS = [
    ("empty-file", "", None, None, "file is empty"),
    ("blank-file", "\n  \n\n", None, None, "file is empty"),
    ("header-only", H, 2, None, "no data rows"),
    ("missing-quantity-column", "month,destination\n2025-01,World\n", 1, "quantity", "missing"),
    ("missing-month-column", "destination,quantity\nWorld,1\n", 1, "month", "missing"),
    ("missing-destination-column", "month,quantity\n2025-01,1\n", 1, "destination", "missing"),
    (
        "repeated-column",
        "month,destination,quantity,Month\n2025-01,World,1,2025-02\n",
        1,
        "month",
        "repeated",
    ),
    ("malformed-month-slash", H + ROW + "2025/02,World,magnets,1,t,1\n", 3, "month", "malformed"),
    ("malformed-month-words", H + "March 2025,World,magnets,1,t,1\n", 2, "month", "malformed"),
    ("malformed-month-day", H + "2025-03-01,World,magnets,1,t,1\n", 2, "month", "malformed"),
    ("impossible-month-13", H + "2025-13,World,magnets,1,t,1\n", 2, "month", "impossible"),
    ("impossible-month-00", H + "2025-00,World,magnets,1,t,1\n", 2, "month", "impossible"),
    ("empty-month", H + ",World,magnets,1,t,1\n", 2, "month", "empty"),
    ("future-month", H + ROW + "2026-02,World,magnets,1,t,1\n", 3, "month", "future"),
    ("empty-destination", H + "2025-01,,magnets,1,t,1\n", 2, "destination", "empty"),
    ("non-numeric-quantity", H + "2025-01,World,magnets,abc,t,1\n", 2, "quantity", "not a number"),
    ("empty-quantity", H + "2025-01,World,magnets,,t,1\n", 2, "quantity", "empty"),
    ("infinite-quantity", H + "2025-01,World,magnets,inf,t,1\n", 2, "quantity", "infinite"),
    ("overflowing-quantity", H + "2025-01,World,magnets,1e999,t,1\n", 2, "quantity", "infinite"),
    ("nan-quantity", H + "2025-01,World,magnets,NaN,t,1\n", 2, "quantity", "not a number"),
    ("negative-quantity", H + "2025-01,World,magnets,-5,t,1\n", 2, "quantity", "negative"),
    (
        "thousands-separator",
        H + '2025-01,World,magnets,"1,234",t,1\n',
        2,
        "quantity",
        "not a number",
    ),
    ("unknown-unit", H + "2025-01,World,magnets,1,lb,1\n", 2, "unit", "unknown unit"),
    ("months-covered-zero", H + "2025-01,World,magnets,1,t,0\n", 2, "months_covered", "1 to 12"),
    (
        "months-covered-negative",
        H + "2025-01,World,magnets,1,t,-1\n",
        2,
        "months_covered",
        "negative",
    ),
    (
        "months-covered-fraction",
        H + "2025-03,World,magnets,1,t,2.5\n",
        2,
        "months_covered",
        "whole number",
    ),
    ("months-covered-13", H + "2025-12,World,magnets,1,t,13\n", 2, "months_covered", "1 to 12"),
    (
        "months-covered-text",
        H + "2025-03,World,magnets,1,t,two\n",
        2,
        "months_covered",
        "not a number",
    ),
    (
        "months-covered-crosses-year",
        H + "2025-02,World,magnets,1,t,3\n",
        2,
        "months_covered",
        "one calendar year",
    ),
    (
        "derived-not-a-flag",
        "month,destination,quantity,derived\n2025-01,World,1,maybe\n",
        2,
        "derived",
        "expected 1 or 0",
    ),
    ("short-row", H + ROW + "2025-02,World,magnets\n", 3, "quantity", "3 fields"),
    ("long-row", H + "2025-01,World,magnets,100,t,1,surplus\n", 2, "#7", "7 fields"),
    (
        "unquoted-comma-in-note",
        "month,destination,quantity,note\n2025-01,World,5,a, b\n",
        2,
        "#5",
        "quote fields",
    ),
    ("bad-quoting", H + '2025-01,"World,magnets,1,t,1\n', 2, None, "malformed CSV"),
    ("duplicate-row", H + ROW + "2025-02,World,magnets,1,t,1\n" + ROW, 4, "month", "line 2"),
    ("duplicate-world-spelling", H + ROW + "2025-01,world,magnets,7,t,1\n", 3, "month", "line 2"),
    (
        "destination-above-world",
        H + ROW + "2025-01,Japan,magnets,101,t,1\n",
        3,
        "quantity",
        "above the World total 100 t at line 2",
    ),
    ("binary-nul", b"month,destination,quantity\n2025-01,World,\x00\x01\n", 2, None, "binary"),
    (
        "not-utf8",
        "month,destination,quantity,note\n2025-01,World,1,caf\xe9\n".encode("latin-1"),
        2,
        None,
        "not UTF-8",
    ),
]


@pytest.mark.parametrize(
    ("content", "line", "column", "fragment"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_CUSTOMS],
)
def test_bad_customs_file_is_refused_with_location(write, content, line, column, fragment):
    path = write(content)
    with pytest.raises(DataValidationError) as info:
        read_customs(path, today=TODAY)
    err = info.value
    message = str(err)
    assert isinstance(err, RiskModelError)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert err.file == str(path)
    assert fragment in message
    assert err.line == line
    assert err.column == column
    if line is not None:
        assert f"line {line}" in message
    if column is not None:
        assert f"column '{column}'" in message


def test_at_least_25_bad_inputs_name_line_and_column():
    located = [case for case in BAD_CUSTOMS if case[2] is not None and case[3] is not None]
    assert len(located) >= 25


def test_missing_path_is_refused(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(DataValidationError, match="does not exist") as info:
        read_customs(path)
    assert str(path) in str(info.value)


def test_directory_is_refused(tmp_path):
    with pytest.raises(DataValidationError, match="is a directory") as info:
        read_customs(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_no_paths_is_refused():
    with pytest.raises(DataValidationError, match="no customs files"):
        read_customs([])


def test_duplicate_across_files_names_both(write):
    first = write(H + ROW, "a.csv")
    second = write(H + "2024-12,World,magnets,1,t,1\n" + ROW, "b.csv")
    with pytest.raises(DataValidationError) as info:
        read_customs([first, second], today=TODAY)
    message = str(info.value)
    assert message.startswith(f"{second}, line 3, column 'month'")
    assert f"{first} line 2" in message


def test_destination_above_world_across_files(write):
    world = write(H + ROW, "world.csv")
    japan = write(H + "2025-01,Japan,magnets,150,t,1\n", "japan.csv")
    with pytest.raises(DataValidationError, match="above the World total") as info:
        read_customs([world, japan], today=TODAY)
    assert info.value.file == str(japan)
    assert str(world) in str(info.value)


def test_destination_equal_to_world_or_other_span_is_fine(write):
    path = write(
        H
        + "2025-02,World,magnets,100,t,2\n"
        + "2025-02,Japan,magnets,100,t,2\n"  # equal to World: all went to Japan
        + "2025-02,Germany,magnets,150,t,1\n"  # a monthly row is not compared with Jan-Feb
    )
    frame = read_customs(path, today=TODAY)
    assert len(frame) == 3


def test_contradicting_cumulative_row_names_row_and_figures(write):
    path = write(
        H + "2024-01,World,magnets,60,t,1\n2024-02,World,magnets,60,t,1\n"
        "2024-02,World,magnets,100,t,2\n"
    )
    frame = read_customs(path, today=TODAY)
    with pytest.raises(DataValidationError) as info:
        reconcile(frame)
    message = str(info.value)
    assert message.startswith(f"{path}, line 4, column 'quantity'")
    assert "100 t" in message and "120 t" in message
