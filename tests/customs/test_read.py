"""read_customs: the tidy frame it returns and the variations of input it tolerates."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from riskmodel.customs import CUSTOMS_COLUMNS, read_customs

TODAY = date(2026, 1, 15)


def test_frame_columns_types_and_order(files):
    frame = read_customs(files / "customs_small.csv", today=TODAY)
    assert tuple(frame.columns) == CUSTOMS_COLUMNS
    assert frame["month"].dtype == pd.PeriodDtype("M")
    assert frame["quantity_t"].dtype == "float64"
    assert frame["months_covered"].dtype == "int64"
    assert frame["line"].dtype == "int64"
    assert frame["derived"].dtype == bool
    keys = list(
        zip(
            frame["product"],
            frame["destination"],
            frame["month"],
            frame["months_covered"],
            strict=True,
        )
    )
    assert keys == sorted(keys)
    assert len(frame) == 10  # one row per input row


def test_values_and_line_numbers(files):
    frame = read_customs(files / "customs_small.csv", today=TODAY)
    row = frame[(frame["destination"] == "United States") & (frame["months_covered"] == 2)]
    assert len(row) == 1
    row = row.iloc[0]
    assert row["month"] == pd.Period("2024-02", freq="M")
    assert row["quantity_t"] == 20.0
    assert bool(row["derived"]) is True
    assert row["note"] == "derived: 22/1.1 = 20"
    assert row["source"] == "https://example.org/c"
    assert row["line"] == 8
    assert row["file"] == str(files / "customs_small.csv")


def test_kilograms_become_tonnes_and_zeros_stay(files):
    frame = read_customs(files / "customs_small.csv", today=TODAY)
    gallium = frame[frame["product"] == "gallium"].set_index("month")["quantity_t"]
    assert gallium[pd.Period("2024-03", freq="M")] == pytest.approx(1.5)
    assert gallium[pd.Period("2024-04", freq="M")] == 0.0


def test_tolerated_bom_crlf_case_spaces_order_extra_quotes_kg_blank_lines(files):
    frame = read_customs(files / "tolerant.csv", today=TODAY)
    assert len(frame) == 2
    jan, mar = frame.iloc[0], frame.iloc[1]
    assert jan["month"] == pd.Period("2024-01", freq="M")
    assert jan["destination"] == "World"  # 'world' is the World total
    assert jan["quantity_t"] == 2.5
    assert mar["quantity_t"] == pytest.approx(1.5)  # 1500 kg
    assert mar["note"] == "a note, with commas"
    assert mar["line"] == 2 and jan["line"] == 3
    assert set(frame["product"]) == {"gallium"}
    assert set(frame["source"]) == {""}
    assert not frame["derived"].any()
    assert "extra column" not in frame.columns


def test_defaults_for_optional_columns(write):
    path = write("month,destination,quantity\n2025-03,World,5\n2025-02,World,9\n")
    frame = read_customs(path, today=TODAY)
    assert list(frame["product"]) == ["magnets", "magnets"]
    assert list(frame["months_covered"]) == [1, 1]
    assert list(frame["month"].astype(str)) == ["2025-02", "2025-03"]
    assert list(frame["line"]) == [3, 2]


def test_empty_optional_cells_take_defaults(write):
    path = write(
        "month,destination,quantity,unit,product,months_covered,derived\n"
        "2025-02,World,5,,,,\n"
        "2025-03,World,6,KG,gallium,1.0,TRUE\n"
    )
    frame = read_customs(path, today=TODAY)
    first = frame[frame["product"] == "magnets"].iloc[0]
    assert (first["months_covered"], first["quantity_t"], bool(first["derived"])) == (1, 5.0, False)
    second = frame[frame["product"] == "gallium"].iloc[0]
    assert second["quantity_t"] == pytest.approx(0.006)
    assert bool(second["derived"]) is True


def test_blank_lines_in_the_middle_and_quoted_multiline_fields(write):
    path = write(
        'month,destination,quantity,note\n\n2025-01,World,5,"two\nlines"\n,,,\n2025-02,World,6,\n'
    )
    frame = read_customs(path, today=TODAY)
    assert list(frame["line"]) == [3, 6]
    assert frame.iloc[0]["note"] == "two\nlines"


def test_current_month_is_allowed(write):
    path = write("month,destination,quantity\n2026-01,World,5\n")
    assert len(read_customs(path, today=TODAY)) == 1


def test_several_files_are_read_together(files, write):
    other = write("month,destination,quantity\n2023-05,World,5\n")
    frame = read_customs([files / "customs_small.csv", other], today=TODAY)
    assert len(frame) == 11
    assert set(frame["file"]) == {str(files / "customs_small.csv"), str(other)}


def test_a_single_path_string_is_accepted(files):
    frame = read_customs(str(files / "customs_small.csv"), today=TODAY)
    assert len(frame) == 10


def test_unknown_columns_may_repeat_or_be_unnamed(write):
    path = write("month,comment,destination,comment,quantity,\n2025-01,a,World,b,5,\n")
    frame = read_customs(path, today=TODAY)
    assert list(frame["quantity_t"]) == [5.0]
