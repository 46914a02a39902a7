"""What a backtest scores: the observations of the full data that follow an origin.

A *target* is one reconciled observation of the full data set (the same
observations the model would be fitted on without ``--as-of``): the total of one
destination over one or more months. A monthly row is a one-month target; the
residual of a January-February or year-to-date row is a target over its remaining
months, and a forecast is scored on it as the sum of its paths over those months.
A target is scored from origin ``o`` with horizon ``H`` only when all of its months
lie in ``o .. o + H - 1`` (a sum that starts before the origin mixes known and
unknown months, and one that ends after the horizon was never forecast).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from riskmodel.exceptions import DataValidationError
from riskmodel.models.inputs import ModelInputs


@dataclass(frozen=True)
class Target:
    """One observation to score: the total of a destination over some months.

    Attributes
    ----------
    destination : str
        The destination (``World`` for the total).
    months : tuple of str
        The months summed, ``YYYY-MM``, in order.
    actual : float
        The observed total, tonnes.
    label : str
        Where the observation comes from (``file:line``).
    """

    destination: str
    months: tuple[str, ...]
    actual: float
    label: str = ""

    @property
    def month(self) -> str:
        """The last month of the target (its date)."""
        return self.months[-1]

    def horizon(self, origin: str | pd.Period) -> int:
        """Months ahead of ``origin`` of the target's last month (1 = the origin month)."""
        return (pd.Period(self.month, freq="M") - pd.Period(origin, freq="M")).n + 1


def observed_targets(inputs: ModelInputs) -> list[Target]:
    """Every observation of ``inputs`` as a :class:`Target`, in input order."""
    out = []
    for i in range(len(inputs.obs_quantity)):
        idx = inputs.obs_months[i, inputs.obs_mask[i]]
        months = tuple(str(inputs.months[m]) for m in sorted(idx))
        out.append(
            Target(
                destination=inputs.destinations[int(inputs.obs_destination[i])],
                months=months,
                actual=float(inputs.obs_quantity[i]),
                label=inputs.obs_label[i] if i < len(inputs.obs_label) else "",
            )
        )
    return out


def targets_for_origin(
    full: ModelInputs | list[Target], origin: str | pd.Period, horizon: int
) -> list[Target]:
    """Return the targets a forecast from ``origin`` over ``horizon`` months is scored on.

    Parameters
    ----------
    full : ModelInputs or list of Target
        The full data (``load_inputs(data, as_of=None)``), or its targets.
    origin : str or Period
        The first forecast month, ``YYYY-MM`` (the ``--as-of`` month).
    horizon : int
        Months forecast, ``origin .. origin + horizon - 1``.

    Returns
    -------
    list of Target
        Sorted by destination, last month and first month.

    Raises
    ------
    DataValidationError
        When the data hold no observed month at or after the origin, or no
        observation lies wholly inside the horizon.
    """
    if horizon < 1:
        raise ValueError("horizon must be at least 1 month")
    start = pd.Period(origin, freq="M")
    stop = start + (horizon - 1)
    every = full if isinstance(full, list) else observed_targets(full)
    if not every:
        raise DataValidationError("the data hold no observations")
    last = max(pd.Period(t.month, freq="M") for t in every)
    if last < start:
        raise DataValidationError(
            f"origin {start}: the data have no observed month at or after it (the last "
            f"observed month is {last}), so there is nothing to score"
        )
    chosen = [
        t
        for t in every
        if pd.Period(t.months[0], freq="M") >= start and pd.Period(t.month, freq="M") <= stop
    ]
    if not chosen:
        raise DataValidationError(
            f"origin {start}: no observation lies wholly inside the horizon {start}..{stop}"
        )
    return sorted(chosen, key=lambda t: (t.destination, t.month, t.months[0]))


def target_samples(paths: xr.Dataset, target: Target, variable: str = "exports") -> np.ndarray:
    """Forecast samples of a target: the paths summed over its months.

    Parameters
    ----------
    paths : xarray.Dataset
        Forecast paths with dims ``(path, destination, month)`` (months ``YYYY-MM``).
    target : Target
        What to sum.
    variable : str
        The variable of ``paths`` to use.

    Returns
    -------
    numpy.ndarray
        One value per path, tonnes.

    Raises
    ------
    KeyError
        When the destination or one of the months is not in ``paths``.
    """
    da = paths[variable].sel(destination=target.destination, month=list(target.months))
    return np.asarray(da.sum("month").values, dtype=np.float64)


__all__ = ["Target", "observed_targets", "target_samples", "targets_for_origin"]
