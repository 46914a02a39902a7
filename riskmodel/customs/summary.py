"""Summarise customs series: span, months observed, months missing."""

from __future__ import annotations

import pandas as pd

from riskmodel.customs.reconcile import month_span

__all__ = ["SUMMARY_COLUMNS", "summarize_series"]

#: Columns of the frame returned by :func:`summarize_series`, in order.
SUMMARY_COLUMNS = (
    "product",
    "destination",
    "first",
    "last",
    "months_observed",
    "months_missing",
    "months_only_in_sums",
    "missing",
    "only_in_sums",
    "rows",
)


def summarize_series(frame: pd.DataFrame) -> pd.DataFrame:
    """Summarise each product and destination of a customs frame.

    Parameters
    ----------
    frame : pandas.DataFrame
        Customs rows as returned by :func:`riskmodel.customs.read_customs`.

    Returns
    -------
    pandas.DataFrame
        One row per product and destination, sorted by both, columns
        :data:`SUMMARY_COLUMNS`:

        - ``first``, ``last`` (Period[M]): the first and last month covered by
          any row (a year-to-date row covers from January).
        - ``months_observed`` (int): months with a monthly row.
        - ``months_missing`` (int) and ``missing`` (tuple of Period): months
          between first and last with no monthly row and not inside any
          multi-month row; nothing is known about them.
        - ``months_only_in_sums`` (int) and ``only_in_sums`` (tuple of Period):
          months with no monthly row that are inside a multi-month row, so
          known only as part of a total.
        - ``rows`` (int): input rows of the series.
    """
    records: list[dict[str, object]] = []
    for (product, destination), rows in frame.groupby(["product", "destination"], sort=True):
        monthly = set(rows.loc[rows["months_covered"] == 1, "month"])
        in_sums: set[pd.Period] = set()
        for month, covered in zip(
            rows.loc[rows["months_covered"] > 1, "month"],
            rows.loc[rows["months_covered"] > 1, "months_covered"],
            strict=True,
        ):
            in_sums.update(month_span(month, int(covered)))
        covered_months = monthly | in_sums
        first, last = min(covered_months), max(covered_months)
        all_months = pd.period_range(first, last, freq="M")
        missing = tuple(m for m in all_months if m not in covered_months)
        only_in_sums = tuple(sorted(in_sums - monthly))
        records.append(
            {
                "product": product,
                "destination": destination,
                "first": first,
                "last": last,
                "months_observed": len(monthly),
                "months_missing": len(missing),
                "months_only_in_sums": len(only_in_sums),
                "missing": missing,
                "only_in_sums": only_in_sums,
                "rows": len(rows),
            }
        )
    result = pd.DataFrame(records, columns=list(SUMMARY_COLUMNS))
    return result.astype(
        {
            "first": "period[M]",
            "last": "period[M]",
            "months_observed": "int64",
            "months_missing": "int64",
            "months_only_in_sums": "int64",
            "rows": "int64",
        }
    )
