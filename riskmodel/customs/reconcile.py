"""Turn overlapping customs rows into non-overlapping observations.

China publishes monthly figures, a combined January–February figure, and
year-to-date or annual totals; the compiled series keep all of them, so the
rows of one series overlap. :func:`reconcile` rewrites them as observations
that each count a month at most once, so a model can use every row without
double counting, and checks the redundant rows against their parts.

The rule, per product and destination:

1. Every monthly row (``months_covered == 1``) is an observation of its month.
2. Rows covering k > 1 months ("cumulative rows") are taken shortest span
   first (ties: earlier month, then file order). For each, the months with a
   monthly row are subtracted: what remains is the *residual*, an observation
   of the sum over the residual months (a set that may be non-contiguous, e.g.
   {Jan, Mar} when Feb has its own row).
3. Already accepted sum observations whose months lie inside the residual set
   are subtracted too, so nested year-to-date rows (Jan–Jun, Jan–Jul, Jan–Aug)
   observe each month once: Jan–Jul leaves July, Jan–Aug leaves August. When
   several accepted observations fit, the disjoint combination covering the
   most months is used (fewest observations on a tie).
4. If the residual set is empty, the row is fully explained by its parts and
   becomes a *cross-check*: it must agree with the sum of its parts within
   ``rel_tol`` of the cumulative figure, otherwise it contradicts them and a
   :class:`~riskmodel.exceptions.DataValidationError` names the row. Agreeing
   cross-checks are listed in ``.cross_checks`` and are not observations.
5. If the residual set is not empty, the residual value must be > 0: the
   months in it have no figure of their own, so it is the only observation of
   them. A residual below ``-rel_tol`` × the cumulative figure is a
   contradiction (the parts already exceed the total). A residual between
   that and 0 is still refused: the figures agree only within rounding, so
   they say nothing about the residual months, and clamping it to zero would
   invent a figure. (If those months really were zero, add monthly rows of 0.)
   The one non-positive residual kept is an exact 0 from a reported total of
   0: every month in it is then a reported zero.

Nothing is split by a made-up rule (a Jan–Feb total stays one observation of
two months) and nothing is dropped: every input row is either an observation
or a cross-check.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

import pandas as pd

from riskmodel.customs.fields import format_quantity
from riskmodel.exceptions import DataValidationError

__all__ = [
    "CROSS_CHECK_COLUMNS",
    "OBSERVATION_COLUMNS",
    "Reconciled",
    "format_months",
    "month_span",
    "reconcile",
]

#: Columns of :attr:`Reconciled.observations`.
OBSERVATION_COLUMNS = (
    "product",
    "destination",
    "month",
    "months",
    "quantity_t",
    "kind",
    "file",
    "line",
)
#: Columns of :attr:`Reconciled.cross_checks`.
CROSS_CHECK_COLUMNS = (
    "product",
    "destination",
    "month",
    "months_covered",
    "quantity_t",
    "parts_t",
    "difference_t",
    "relative_difference",
    "file",
    "line",
)
_REQUIRED_INPUT = (
    "product",
    "destination",
    "month",
    "months_covered",
    "quantity_t",
    "file",
    "line",
)
#: Residuals are rounded to this many decimals of a tonne (a milligram) to drop float noise.
_DECIMALS = 9


@dataclass(frozen=True, eq=False)
class Reconciled:
    """Customs rows rewritten as non-overlapping observations, plus the checks they passed.

    Attributes
    ----------
    observations : pandas.DataFrame
        One row per observation, columns :data:`OBSERVATION_COLUMNS`: ``product``,
        ``destination``, ``month`` (Period[M], the last month in the set),
        ``months`` (tuple of Period[M], the months observed as one total; length 1
        for a monthly row), ``quantity_t`` (float, tonnes), ``kind`` (``"month"``
        or ``"sum"``), ``file`` and ``line`` of the row it comes from. Within a
        product and destination no month appears in two observations.
    cross_checks : pandas.DataFrame
        One row per cumulative row fully explained by other rows, columns
        :data:`CROSS_CHECK_COLUMNS`: the reported ``quantity_t``, the sum of its
        parts ``parts_t``, ``difference_t = quantity_t - parts_t`` and
        ``relative_difference = difference_t / quantity_t`` (0 when both are 0).
    """

    observations: pd.DataFrame = field(repr=False)
    cross_checks: pd.DataFrame = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"Reconciled({len(self.observations)} observations, "
            f"{len(self.cross_checks)} cross-checks)"
        )


def month_span(last: pd.Period, count: int) -> tuple[pd.Period, ...]:
    """Return the ``count`` months ending at ``last``, oldest first."""
    return tuple(last - offset for offset in range(count - 1, -1, -1))


def format_months(months: Iterable[pd.Period]) -> str:
    """Write months compactly, runs as ranges: ``2024-01, 2024-03..2024-05``."""
    ordered = sorted(set(months))
    parts: list[str] = []
    start = previous = None
    for month in ordered:
        if start is not None and previous is not None and month == previous + 1:
            previous = month
            continue
        if start is not None:
            parts.append(str(start) if start == previous else f"{start}..{previous}")
        start = previous = month
    if start is not None:
        parts.append(str(start) if start == previous else f"{start}..{previous}")
    return ", ".join(parts)


@dataclass(frozen=True)
class _Sum:
    months: frozenset[pd.Period]
    value: float
    mask: int


def _mask(months: Iterable[pd.Period]) -> int:
    bits = 0
    for month in months:
        bits |= 1 << (month.month - 1)
    return bits


def _best_cover(residual: frozenset[pd.Period], candidates: Sequence[_Sum]) -> list[_Sum]:
    """Choose disjoint candidates inside ``residual`` covering the most months.

    All months of one cumulative row lie in one calendar year, so within the
    candidates (which lie inside it) month sets are 12-bit masks and the search
    is a memoised recursion over at most 4096 masks. Ties go to fewer
    observations, then to the earlier accepted ones.
    """
    usable = [c for c in candidates if c.months <= residual]
    if not usable:
        return []

    @cache
    def best(mask: int) -> tuple[int, int, tuple[int, ...]]:
        result: tuple[int, int, tuple[int, ...]] = (0, 0, ())
        for index, cand in enumerate(usable):
            if cand.mask & ~mask:
                continue
            covered, neg_count, chosen = best(mask & ~cand.mask)
            option = (covered + cand.mask.bit_count(), neg_count - 1, (index, *chosen))
            if option[:2] > result[:2]:
                result = option
        return result

    return [usable[i] for i in best(_mask(residual))[2]]


def _error(row: pd.Series, message: str) -> DataValidationError:
    return DataValidationError(
        message, file=str(row["file"]), line=int(row["line"]), column="quantity"
    )


def _series_label(row: pd.Series) -> str:
    return f"{row['product']} / {row['destination']}"


def _reconcile_series(
    rows: pd.DataFrame,
    rel_tol: float,
    observations: list[dict[str, object]],
    cross_checks: list[dict[str, object]],
) -> None:
    monthly: dict[pd.Period, float] = {}
    for _, row in rows[rows["months_covered"] == 1].iterrows():
        monthly[row["month"]] = float(row["quantity_t"])
        observations.append(
            {
                "product": row["product"],
                "destination": row["destination"],
                "month": row["month"],
                "months": (row["month"],),
                "quantity_t": float(row["quantity_t"]),
                "kind": "month",
                "file": row["file"],
                "line": int(row["line"]),
            }
        )
    cumulative = rows[rows["months_covered"] > 1].sort_values(
        ["months_covered", "month", "file", "line"], kind="stable"
    )
    accepted: list[_Sum] = []
    for _, row in cumulative.iterrows():
        total = float(row["quantity_t"])
        span = month_span(row["month"], int(row["months_covered"]))
        parts = [monthly[m] for m in span if m in monthly]
        residual = {m for m in span if m not in monthly}
        for used in _best_cover(frozenset(residual), accepted):
            residual -= used.months
            parts.append(used.value)
        parts_t = math.fsum(parts)
        value = round(total - parts_t, _DECIMALS)
        tolerance = rel_tol * total
        span_text = format_months(span)
        if value < -tolerance or (not residual and abs(value) > tolerance):
            raise _error(
                row,
                f"cumulative row ({_series_label(row)}, {span_text}) reports "
                f"{format_quantity(total)} t but its parts (monthly rows and shorter sums "
                f"inside it) add up to {format_quantity(parts_t)} t, a difference of "
                f"{format_quantity(value)} t, more than {rel_tol * 100:g}% of the total",
            )
        if not residual:
            cross_checks.append(
                {
                    "product": row["product"],
                    "destination": row["destination"],
                    "month": row["month"],
                    "months_covered": int(row["months_covered"]),
                    "quantity_t": total,
                    "parts_t": parts_t,
                    "difference_t": value,
                    "relative_difference": value / total if total else 0.0,
                    "file": row["file"],
                    "line": int(row["line"]),
                }
            )
            continue
        if value <= 0 and not (value == 0 and total == 0):
            raise _error(
                row,
                f"cumulative row ({_series_label(row)}, {span_text}) reports "
                f"{format_quantity(total)} t and its parts add up to "
                f"{format_quantity(parts_t)} t, leaving {format_quantity(value)} t for "
                f"{format_months(residual)}, which have no figure of their own; a sum of "
                "months cannot be zero or negative, so the figures agree only within "
                "rounding and do not observe those months (if they were really zero, "
                "add monthly rows of 0)",
            )
        months = tuple(sorted(residual))
        accepted.append(_Sum(months=frozenset(residual), value=value, mask=_mask(residual)))
        observations.append(
            {
                "product": row["product"],
                "destination": row["destination"],
                "month": months[-1],
                "months": months,
                "quantity_t": value,
                "kind": "sum",
                "file": row["file"],
                "line": int(row["line"]),
            }
        )


def reconcile(frame: pd.DataFrame, *, rel_tol: float = 0.02) -> Reconciled:
    """Rewrite customs rows as non-overlapping observations and cross-check the rest.

    Parameters
    ----------
    frame : pandas.DataFrame
        Customs rows as returned by :func:`riskmodel.customs.read_customs`.
    rel_tol : float, optional
        How far (relative to the cumulative figure) a cumulative row may differ
        from the sum of its parts; 0.02 (2 %) by default, which absorbs rounding
        in published totals and in derived figures.

    Returns
    -------
    Reconciled
        ``.observations`` (monthly rows and residual sums, each month counted
        once per series) and ``.cross_checks`` (cumulative rows fully explained
        by their parts, with the difference).

    Raises
    ------
    DataValidationError
        If a cumulative row contradicts its parts, or leaves a zero or negative
        residual for months that have no figure (see the module docstring).
    ValueError
        If ``rel_tol`` is negative or not finite, or ``frame`` lacks a column.
    """
    if not (math.isfinite(rel_tol) and rel_tol >= 0):
        raise ValueError(f"rel_tol must be a finite number >= 0, got {rel_tol!r}")
    missing = [c for c in _REQUIRED_INPUT if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks the columns {missing}; pass the output of read_customs")
    observations: list[dict[str, object]] = []
    cross_checks: list[dict[str, object]] = []
    for _, rows in frame.groupby(["product", "destination"], sort=True):
        _reconcile_series(rows, rel_tol, observations, cross_checks)
    obs = pd.DataFrame(observations, columns=list(OBSERVATION_COLUMNS))
    checks = pd.DataFrame(cross_checks, columns=list(CROSS_CHECK_COLUMNS))
    obs = _typed(obs, {"quantity_t": "float64", "line": "int64"})
    checks = _typed(
        checks,
        {
            "months_covered": "int64",
            "quantity_t": "float64",
            "parts_t": "float64",
            "difference_t": "float64",
            "relative_difference": "float64",
            "line": "int64",
        },
    )
    obs["_n"] = obs["months"].map(len)
    obs = (
        obs.sort_values(["product", "destination", "month", "_n"], kind="stable")
        .drop(columns="_n")
        .reset_index(drop=True)
    )
    checks = checks.sort_values(
        ["product", "destination", "month", "months_covered"], kind="stable"
    ).reset_index(drop=True)
    return Reconciled(observations=obs, cross_checks=checks)


def _typed(frame: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    frame = frame.astype(dtypes)
    frame["month"] = frame["month"].astype("period[M]")
    return frame
