"""reconcile: overlapping monthly, Jan-Feb and year-to-date rows -> non-overlapping observations."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from riskmodel.customs import Reconciled, read_customs, reconcile
from riskmodel.customs.reconcile import CROSS_CHECK_COLUMNS, OBSERVATION_COLUMNS, format_months
from riskmodel.exceptions import DataValidationError

TODAY = date(2026, 1, 15)
H = "month,destination,product,quantity,unit,months_covered\n"


def M(text: str) -> pd.Period:
    return pd.Period(text, freq="M")


def months(*texts: str) -> tuple[pd.Period, ...]:
    return tuple(M(t) for t in texts)


def run(write, body: str, **kwargs) -> Reconciled:
    return reconcile(read_customs(write(H + body), today=TODAY), **kwargs)


def observed(result: Reconciled) -> dict[tuple[pd.Period, ...], float]:
    obs = result.observations
    return dict(zip(obs["months"], obs["quantity_t"], strict=True))


def assert_no_month_twice(result: Reconciled) -> None:
    for _, rows in result.observations.groupby(["product", "destination"]):
        seen = [m for ms in rows["months"] for m in ms]
        assert len(seen) == len(set(seen))


def test_columns_and_kinds(files):
    result = reconcile(read_customs(files / "customs_small.csv", today=TODAY))
    assert tuple(result.observations.columns) == OBSERVATION_COLUMNS
    assert tuple(result.cross_checks.columns) == CROSS_CHECK_COLUMNS
    assert set(result.observations["kind"]) == {"month", "sum"}
    assert result.observations["month"].dtype == pd.PeriodDtype("M")
    assert "observations" in repr(result)


def test_monthly_rows_are_observations_as_they_are(write):
    result = run(write, "2024-01,World,magnets,5,t,1\n2024-03,World,magnets,7,t,1\n")
    assert observed(result) == {months("2024-01"): 5.0, months("2024-03"): 7.0}
    assert set(result.observations["kind"]) == {"month"}
    assert result.cross_checks.empty


def test_jan_feb_row_is_one_observation_of_two_months_never_split(write):
    result = run(write, "2024-02,World,magnets,110,t,2\n2024-03,World,magnets,60,t,1\n")
    assert observed(result) == {months("2024-01", "2024-02"): 110.0, months("2024-03"): 60.0}
    row = result.observations.iloc[0]
    assert row["kind"] == "sum" and row["month"] == M("2024-02") and row["line"] == 2


def test_jan_feb_row_with_january_observes_february(write):
    result = run(write, "2024-01,World,magnets,60,t,1\n2024-02,World,magnets,110,t,2\n")
    assert observed(result) == {months("2024-01"): 60.0, months("2024-02"): 50.0}


def test_jan_feb_row_with_both_months_is_a_cross_check(write):
    result = run(
        write,
        "2024-01,World,magnets,60,t,1\n2024-02,World,magnets,51,t,1\n"
        "2024-02,World,magnets,110,t,2\n",
    )
    assert len(result.observations) == 2
    check = result.cross_checks.iloc[0]
    assert check["quantity_t"] == 110.0
    assert check["parts_t"] == 111.0
    assert check["difference_t"] == pytest.approx(-1.0)
    assert check["relative_difference"] == pytest.approx(-1 / 110)
    assert check["line"] == 4


def test_nested_year_to_date_rows_observe_each_month_once(write):
    result = run(
        write,
        "2024-06,World,magnets,600,t,6\n"
        "2024-08,World,magnets,820,t,8\n"  # order in the file does not matter
        "2024-07,World,magnets,700,t,7\n",
    )
    assert observed(result) == {
        months(*(f"2024-0{i}" for i in range(1, 7))): 600.0,
        months("2024-07"): 100.0,
        months("2024-08"): 120.0,
    }
    assert_no_month_twice(result)
    assert result.cross_checks.empty


def test_nested_year_to_date_with_monthly_rows_and_cross_checks(files):
    result = reconcile(read_customs(files / "customs_small.csv", today=TODAY))
    world = result.observations[
        (result.observations["product"] == "magnets")
        & (result.observations["destination"] == "World")
    ]
    assert dict(zip(world["months"], world["quantity_t"], strict=True)) == {
        months("2024-01"): 100.0,
        months("2024-02"): 10.0,  # Jan-Feb 110 minus January 100
        months("2024-03"): 120.0,
        months("2024-04", "2024-05", "2024-06"): 410.0,  # Jan-Jun 640 - 100 - 10 - 120
        months("2024-07"): 110.0,
    }
    assert_no_month_twice(result)
    checks = result.cross_checks
    assert list(checks["months_covered"]) == [7]  # Jan-Jul = every part above
    assert checks.iloc[0]["difference_t"] == pytest.approx(0.0)


def test_non_contiguous_residual(write):
    result = run(write, "2024-02,World,magnets,100,t,1\n2024-03,World,magnets,300,t,3\n")
    assert observed(result) == {months("2024-02"): 100.0, months("2024-01", "2024-03"): 200.0}
    row = result.observations.iloc[-1]
    assert row["month"] == M("2024-03") and row["kind"] == "sum"


def test_overlapping_blocks_use_the_best_disjoint_cover(write):
    # Jan-Feb, Feb-Mar and Mar-Apr blocks; Jan-Apr equals Jan-Feb + Mar-Apr exactly.
    result = run(
        write,
        "2024-02,World,magnets,100,t,2\n2024-03,World,magnets,90,t,2\n"
        "2024-04,World,magnets,80,t,2\n2024-04,World,magnets,180,t,4\n",
    )
    assert len(result.cross_checks) == 1
    assert result.cross_checks.iloc[0]["months_covered"] == 4
    assert len(result.observations) == 3


def test_reported_zeros_stay_zeros(write):
    result = run(
        write,
        "2024-08,World,gallium,0,kg,1\n2024-09,World,gallium,0,kg,1\n"
        "2024-12,United States,gallium,0,kg,12\n",
    )
    values = observed(result)
    assert values[months("2024-08")] == 0.0
    assert values[months("2024-09")] == 0.0
    us = result.observations[result.observations["destination"] == "United States"].iloc[0]
    assert us["quantity_t"] == 0.0 and len(us["months"]) == 12 and us["kind"] == "sum"


def test_contradicting_cumulative_row_is_an_error(files):
    frame = read_customs(files / "contradiction.csv", today=TODAY)
    with pytest.raises(DataValidationError, match=r"reports 100 t .* add up to 120 t") as info:
        reconcile(frame)
    assert (info.value.line, info.value.column) == (4, "quantity")
    assert info.value.file == str(files / "contradiction.csv")


def test_parts_above_total_with_months_left_is_an_error(write):
    with pytest.raises(DataValidationError, match="difference of -20 t") as info:
        run(
            write,
            "2024-01,World,magnets,60,t,1\n2024-02,World,magnets,60,t,1\n"
            "2024-03,World,magnets,100,t,3\n",
        )
    assert info.value.line == 4


@pytest.mark.parametrize("february", ["505", "500"], ids=["slightly-negative", "exactly-zero"])
def test_non_positive_residual_within_tolerance_is_refused_not_clamped(write, february):
    with pytest.raises(DataValidationError, match="cannot be zero or negative") as info:
        run(
            write,
            f"2024-01,World,magnets,500,t,1\n2024-02,World,magnets,{february},t,1\n"
            "2024-03,World,magnets,1000,t,3\n",
        )
    assert "2024-03" in str(info.value)
    assert (info.value.line, info.value.column) == (4, "quantity")


def test_small_positive_residual_is_kept(write):
    result = run(
        write,
        "2024-01,World,magnets,500,t,1\n2024-02,World,magnets,495,t,1\n"
        "2024-03,World,magnets,1000,t,3\n",
    )
    assert observed(result)[months("2024-03")] == pytest.approx(5.0)


def test_rel_tol_decides_agreement(write):
    body = (
        "2024-01,World,magnets,60,t,1\n2024-02,World,magnets,51,t,1\n"
        "2024-02,World,magnets,110,t,2\n"
    )
    assert len(run(write, body, rel_tol=0.01).cross_checks) == 1
    with pytest.raises(DataValidationError):
        run(write, body, rel_tol=0.005)


def test_series_are_reconciled_separately(write):
    result = run(
        write,
        "2024-01,World,magnets,60,t,1\n2024-02,Japan,magnets,50,t,2\n"
        "2024-02,World,rare_earths,500,t,2\n",
    )
    assert len(result.observations) == 3
    assert result.cross_checks.empty


def test_years_do_not_mix(write):
    result = run(
        write,
        "2023-02,World,magnets,100,t,2\n2024-01,World,magnets,60,t,1\n"
        "2024-03,World,magnets,200,t,3\n",
    )
    assert observed(result)[months("2024-02", "2024-03")] == 140.0


def test_bad_arguments():
    with pytest.raises(ValueError, match="rel_tol"):
        reconcile(pd.DataFrame(), rel_tol=-0.1)
    with pytest.raises(ValueError, match="lacks the columns"):
        reconcile(pd.DataFrame({"product": []}))


def test_format_months():
    assert format_months(months("2024-05", "2024-01", "2024-02", "2024-03")) == (
        "2024-01..2024-03, 2024-05"
    )
    assert format_months([]) == ""
