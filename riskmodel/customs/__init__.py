"""Stage 1, customs: read, validate and reconcile customs series, policy events and licences.

Everything a user brings as a file is read here; every broken rule raises a
:class:`~riskmodel.exceptions.DataValidationError` naming the file, the line and
the column.

- :func:`read_customs` / :func:`load_bundled_customs`: customs series → tidy frame.
- :func:`reconcile`: overlapping monthly, Jan–Feb and year-to-date rows →
  non-overlapping observations (:class:`Reconciled`) plus cross-checks.
- :func:`summarize_series`: span and gaps of every series.
- :func:`read_policy_events` / :func:`load_bundled_events` /
  :func:`events_for_product`: dated policy events.
- :func:`read_licence_counts` / :func:`load_bundled_licence_counts`: licence
  applications and approvals.
"""

from __future__ import annotations

from riskmodel.customs.events import (
    EVENT_TYPES,
    events_for_product,
    load_bundled_events,
    read_policy_events,
)
from riskmodel.customs.licences import load_bundled_licence_counts, read_licence_counts
from riskmodel.customs.read import (
    BUNDLED_CUSTOMS_FILES,
    CUSTOMS_COLUMNS,
    WORLD,
    load_bundled_customs,
    read_customs,
)
from riskmodel.customs.reconcile import Reconciled, reconcile
from riskmodel.customs.summary import summarize_series

__all__ = [
    "BUNDLED_CUSTOMS_FILES",
    "CUSTOMS_COLUMNS",
    "EVENT_TYPES",
    "WORLD",
    "Reconciled",
    "events_for_product",
    "load_bundled_customs",
    "load_bundled_events",
    "load_bundled_licence_counts",
    "read_customs",
    "read_licence_counts",
    "read_policy_events",
    "reconcile",
    "summarize_series",
]
