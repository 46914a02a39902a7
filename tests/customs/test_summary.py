from __future__ import annotations

from datetime import date

import pandas as pd

from riskmodel.customs import read_customs, summarize_series
from riskmodel.customs.summary import SUMMARY_COLUMNS

TODAY = date(2026, 1, 15)


def P(text: str) -> pd.Period:
    return pd.Period(text, freq="M")


def test_summary_counts_observed_missing_and_sum_only_months(write):
    path = write(
        "month,destination,quantity,months_covered\n"
        "2024-01,World,10,1\n"
        "2024-03,World,30,1\n"
        "2024-06,World,100,6\n"  # Jan-Jun: Feb, Apr, May, Jun only inside this sum
        "2024-09,World,12,1\n"  # Jul and Aug are missing
        "2024-05,Japan,4,1\n"
    )
    summary = summarize_series(read_customs(path, today=TODAY))
    assert tuple(summary.columns) == SUMMARY_COLUMNS
    assert list(summary["destination"]) == ["Japan", "World"]
    world = summary.iloc[1]
    assert (world["first"], world["last"]) == (P("2024-01"), P("2024-09"))
    assert world["months_observed"] == 3
    assert world["months_missing"] == 2
    assert world["missing"] == (P("2024-07"), P("2024-08"))
    assert world["months_only_in_sums"] == 4
    assert world["only_in_sums"] == (P("2024-02"), P("2024-04"), P("2024-05"), P("2024-06"))
    assert world["rows"] == 4
    japan = summary.iloc[0]
    assert (japan["months_observed"], japan["months_missing"], japan["months_only_in_sums"]) == (
        1,
        0,
        0,
    )


def test_summary_series_made_only_of_sums(write):
    path = write("month,destination,quantity,months_covered\n2024-12,World,0,12\n")
    row = summarize_series(read_customs(path, today=TODAY)).iloc[0]
    assert (row["first"], row["last"]) == (P("2024-01"), P("2024-12"))
    assert (row["months_observed"], row["months_missing"], row["months_only_in_sums"]) == (0, 0, 12)
