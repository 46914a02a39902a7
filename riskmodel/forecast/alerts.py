"""Early warning at a customs release: new figures placed in the previous forecast.

When a month of customs data arrives, each new observation (one destination's total
over one or more months, as :func:`riskmodel.customs.reconcile` makes them) is placed
in the predictive distribution the previous run gave for it:

- the comparable quantity is the forecast's ``exports`` variable, the *reported*
  figure: the shipped flow (approval x (counterfactual demand + kept backlog),
  ``exports_physical``) times the fitted customs noise
  (:func:`riskmodel.forecast.forecast_paths`), so like is compared with like;
  an observation over several months is compared with the paths summed over them;
- its PIT is the share of paths below the figure (ties count half), and its tail
  probability the share of paths at least as extreme in the direction it fell:
  ``min(P(X <= y), P(X >= y))``;
- a figure outside the central :data:`ALERT_CENTRAL` (90 %) interval, i.e. a PIT
  below 5 % or above 95 %, raises an alert with a plain sentence ("United States
  exports in 2025-05 were below the 1st percentile of what we expected: approval may
  have dropped again").

An observation the previous forecast cannot judge is reported with the reason, never
dropped: months before the forecast's first month (already observed when it was
made), a total that starts before it and ends inside (partly observed), months past
its horizon (never covered), a destination it did not forecast.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import xarray as xr

from riskmodel.customs.reconcile import format_months
from riskmodel.exceptions import ArtifactMismatchError

#: Central interval outside which a figure raises an alert.
ALERT_CENTRAL: Final[float] = 0.90
#: Status of an observation the forecast could judge.
SCORED: Final[str] = "scored"
#: Statuses of observations it could not, with the sentence that says why.
NOT_SCORED: Final[dict[str, str]] = {
    "before_origin": "already observed when the forecast was made (before its first month)",
    "straddles_origin": "a total that starts before the forecast's first month (partly known then)",
    "beyond_horizon": "after the forecast's last month (never covered)",
    "destination_not_forecast": "a destination the forecast did not cover",
}
#: What an unexpected low or high figure may mean.
LOW_HINT: Final[str] = "approval may have dropped again"
HIGH_HINT: Final[str] = "approvals may have eased, or buyers stocked up ahead of new controls"
#: The forecast file of a forecast folder; the predictive sample a report keeps.
PATHS_FILE: Final[str] = "paths.nc"
PREDICTIVE_FILE: Final[str] = "predictive.nc"
#: Columns of :func:`checks_frame`.
CHECK_COLUMNS: Final[tuple[str, ...]] = (
    "destination",
    "months",
    "month",
    "horizon",
    "actual",
    "status",
    "pit",
    "tail_probability",
    "median",
    "lower",
    "upper",
    "alert",
    "message",
    "source",
)


@dataclass(frozen=True)
class Check:
    """One new observation placed in the previous forecast.

    Attributes
    ----------
    destination : str
        The destination (``World`` for the total).
    months : tuple of str
        The months of the observation, ``YYYY-MM``, oldest first.
    actual : float
        The reported figure, tonnes.
    status : str
        :data:`SCORED` or a key of :data:`NOT_SCORED`.
    source : str
        ``file:line`` of the row it comes from.
    horizon : int or None
        Months after the forecast's first month of its last month, plus one.
    pit, tail_probability : float or None
        PIT and one-sided tail probability (scored observations only).
    median, lower, upper : float or None
        The forecast's median and its central :data:`ALERT_CENTRAL` interval, tonnes.
    alert : str or None
        ``"low"`` or ``"high"`` outside the central interval, else None.
    message : str
        One plain sentence.
    """

    destination: str
    months: tuple[str, ...]
    actual: float
    status: str
    source: str = ""
    horizon: int | None = None
    pit: float | None = None
    tail_probability: float | None = None
    median: float | None = None
    lower: float | None = None
    upper: float | None = None
    alert: str | None = None
    message: str = ""

    @property
    def month(self) -> str:
        """The last month of the observation (its date)."""
        return self.months[-1]

    @property
    def period(self) -> str:
        """The months as one label (``2025-05`` or ``2025-01..2025-02``)."""
        return format_months(pd.Period(m, freq="M") for m in self.months)


@dataclass(frozen=True)
class WatchResult:
    """Every new observation of a release placed in a previous forecast.

    Attributes
    ----------
    checks : list of Check
        In order of destination (World first), last month, first month.
    forecast_months : tuple of str
        The forecast's months.
    scenario : str
        The scenario of the forecast (alerts are meant for the unconditional one).
    origin : str
        The forecast's first month.
    n_paths : int
        Paths in the forecast.
    source : str
        Where the forecast was read from.
    """

    checks: list[Check]
    forecast_months: tuple[str, ...]
    scenario: str
    origin: str
    n_paths: int
    source: str = ""

    @property
    def alerts(self) -> list[Check]:
        """The checks that raised an alert."""
        return [c for c in self.checks if c.alert is not None]

    @property
    def scored(self) -> list[Check]:
        """The checks the forecast could judge."""
        return [c for c in self.checks if c.status == SCORED]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready mapping (what ``alerts.json`` holds)."""
        unscored: dict[str, int] = {}
        for c in self.checks:
            if c.status != SCORED:
                unscored[c.status] = unscored.get(c.status, 0) + 1
        return {
            "forecast": {
                "source": self.source,
                "scenario": self.scenario,
                "origin": self.origin,
                "months": list(self.forecast_months),
                "n_paths": self.n_paths,
            },
            "central_interval": ALERT_CENTRAL,
            "n_scored": len(self.scored),
            "n_alerts": len(self.alerts),
            "not_scored": unscored,
            "alerts": [_check_dict(c) for c in self.alerts],
            "checks": [_check_dict(c) for c in self.checks],
        }

    def lines(self, *, before_origin: bool = False) -> list[str]:
        """Plain sentences: the alerts, then what was scored quietly and what was not.

        Parameters
        ----------
        before_origin : bool
            List the observations already known at the origin one by one (default:
            one line counting them).
        """
        out = [c.message for c in self.alerts]
        quiet = [c for c in self.scored if c.alert is None]
        if quiet:
            out.append(
                f"{len(quiet)} other new figure(s) fell inside the central "
                f"{ALERT_CENTRAL:.0%} of the forecast: "
                + "; ".join(f"{c.destination} {c.period} (PIT {c.pit:.2f})" for c in quiet)
            )
        if not self.scored:
            out.append(
                f"no new figure falls in the forecast's months "
                f"{self.forecast_months[0]}..{self.forecast_months[-1]}"
            )
        known = [c for c in self.checks if c.status == "before_origin"]
        if known and not before_origin:
            first = min(c.months[0] for c in known)
            last = max(c.month for c in known)
            out.append(
                f"{len(known)} figure(s) of {first}..{last} were already observed when the "
                f"forecast was made (before {self.origin}); not scored"
            )
        groups: dict[tuple[str, str], list[Check]] = {}
        for c in self.checks:
            if c.status != SCORED and (before_origin or c.status != "before_origin"):
                groups.setdefault((c.status, c.destination), []).append(c)
        for (status, dest), group in groups.items():
            if len(group) == 1:
                out.append(group[0].message)
                continue
            months = format_months(pd.Period(m, freq="M") for c in group for m in c.months)
            out.append(f"{dest} {months} ({len(group)} figures): not scored, {NOT_SCORED[status]}")
        return out


def _check_dict(c: Check) -> dict[str, Any]:
    d = asdict(c)
    d["months"] = list(c.months)
    d["month"] = c.month
    return d


def _ordinal(k: int) -> str:
    if 10 <= k % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def percentile_phrase(pit: float, n_paths: int) -> str:
    """Say where a PIT lies in words: ``below the 3rd percentile``, ``above the 97th``.

    Parameters
    ----------
    pit : float
        The PIT, in [0, 1].
    n_paths : int
        Forecast paths (a figure beyond every path is said to be so).

    Returns
    -------
    str
    """
    if pit <= 0.0:
        return f"below all {n_paths} forecast paths"
    if pit >= 1.0:
        return f"above all {n_paths} forecast paths"
    if pit < 0.5:
        k = max(1, math.ceil(pit * 100))
        return f"below the {_ordinal(k)} percentile"
    k = min(99, math.floor(pit * 100))
    return f"above the {_ordinal(k)} percentile"


def _fmt_t(x: float) -> str:
    return f"{x:,.0f} t" if abs(x) >= 10 else f"{x:,.1f} t"


def place(samples: np.ndarray, actual: float) -> tuple[float, float]:
    """PIT and one-sided tail probability of ``actual`` among ``samples``.

    Parameters
    ----------
    samples : numpy.ndarray
        Forecast samples of the reported figure.
    actual : float
        The reported figure.

    Returns
    -------
    tuple of float
        ``(pit, tail)``: ``pit = P(X < y) + P(X = y) / 2`` and
        ``tail = min(P(X <= y), P(X >= y))``.
    """
    x = np.asarray(samples, dtype=np.float64).ravel()
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError("forecast samples must be finite and non-empty")
    below = np.count_nonzero(x < actual)
    ties = np.count_nonzero(x == actual)
    above = x.size - below - ties
    pit = (below + 0.5 * ties) / x.size
    tail = min(below + ties, above + ties) / x.size
    return float(pit), float(tail)


def judge(
    destination: str,
    months: tuple[str, ...],
    actual: float,
    samples: np.ndarray,
    *,
    horizon: int,
    source: str = "",
    central: float = ALERT_CENTRAL,
) -> Check:
    """Place one observation in its forecast samples and word the result.

    Parameters
    ----------
    destination : str
        The destination.
    months : tuple of str
        Its months, ``YYYY-MM``.
    actual : float
        The reported figure, tonnes.
    samples : numpy.ndarray
        The forecast of the same figure (paths summed over ``months``).
    horizon : int
        Months ahead of the forecast's first month, 1 = that month.
    source : str
        ``file:line``.
    central : float
        Central interval outside which an alert is raised.

    Returns
    -------
    Check
    """
    if not 0 < central < 1:
        raise ValueError(f"central must be in (0, 1), got {central}")
    pit, tail = place(samples, actual)
    a = (1.0 - central) / 2.0
    lower, median, upper = (float(v) for v in np.quantile(samples, [a, 0.5, 1.0 - a]))
    label = format_months(pd.Period(m, freq="M") for m in months)
    where = percentile_phrase(pit, int(np.size(samples)))
    figures = f"{_fmt_t(actual)} against a median of {_fmt_t(median)}"
    alert = "low" if pit < a else "high" if pit > 1.0 - a else None
    if alert == "low":
        message = (
            f"{destination} exports in {label} were {where} of what we expected "
            f"({figures}): {LOW_HINT}"
        )
    elif alert == "high":
        message = (
            f"{destination} exports in {label} were {where} of what we expected "
            f"({figures}): {HIGH_HINT}"
        )
    else:
        message = (
            f"{destination} exports in {label} were within the central {central:.0%} of "
            f"what we expected ({figures}; PIT {pit:.2f})"
        )
    return Check(
        destination=destination,
        months=tuple(months),
        actual=float(actual),
        status=SCORED,
        source=source,
        horizon=horizon,
        pit=pit,
        tail_probability=tail,
        median=median,
        lower=lower,
        upper=upper,
        alert=alert,
        message=message,
    )


def watch(
    paths: xr.Dataset,
    observations: pd.DataFrame,
    *,
    central: float = ALERT_CENTRAL,
    source: str = "",
) -> WatchResult:
    """Place every observation in the forecast paths and say which fall in its tails.

    Parameters
    ----------
    paths : xarray.Dataset
        The previous forecast (``paths.nc``): ``exports`` on ``(path, destination,
        month)``, the reported figure including customs noise.
    observations : pandas.DataFrame
        Reconciled observations (:attr:`riskmodel.customs.Reconciled.observations`)
        of the new data: ``destination``, ``months`` (tuple of Period), ``quantity_t``,
        ``file``, ``line``; one product.
    central : float
        Central interval outside which a figure raises an alert (default 90 %).
    source : str
        Where the forecast was read from (for the output).

    Returns
    -------
    WatchResult
        One :class:`Check` per observation, none dropped.

    Raises
    ------
    ArtifactMismatchError
        If the paths lack ``exports`` or their months or destinations.
    """
    if "exports" not in paths.data_vars or not {"path", "destination", "month"} <= set(
        paths["exports"].dims
    ):
        raise ArtifactMismatchError(
            f"{source or 'the forecast'}: no 'exports' on (path, destination, month); "
            "is it a riskmodel forecast (paths.nc)?"
        )
    months = tuple(str(m) for m in paths["month"].values)
    destinations = [str(d) for d in paths["destination"].values]
    if not months:
        raise ArtifactMismatchError(f"{source or 'the forecast'}: the forecast has no months")
    first = pd.Period(months[0], freq="M")
    last = pd.Period(months[-1], freq="M")
    exports = paths["exports"].transpose("path", "destination", "month").values
    month_index = {m: i for i, m in enumerate(months)}
    checks = []
    for row in observations.itertuples(index=False):
        obs_months = tuple(sorted(pd.Period(m, freq="M") for m in row.months))
        labels = tuple(str(m) for m in obs_months)
        dest = str(row.destination)
        where = f"{row.file}:{row.line}" if getattr(row, "file", "") else ""
        horizon = (obs_months[-1] - first).n + 1
        status = SCORED
        if obs_months[-1] < first:
            status = "before_origin"
        elif dest not in destinations:
            status = "destination_not_forecast"
        elif obs_months[0] < first:
            status = "straddles_origin"
        elif obs_months[-1] > last:
            status = "beyond_horizon"
        if status != SCORED:
            label = format_months(obs_months)
            checks.append(
                Check(
                    destination=dest,
                    months=labels,
                    actual=float(row.quantity_t),
                    status=status,
                    source=where,
                    horizon=horizon,
                    message=f"{dest} {label} ({_fmt_t(float(row.quantity_t))}): not scored, "
                    f"{NOT_SCORED[status]}",
                )
            )
            continue
        d = destinations.index(dest)
        samples = exports[:, d, [month_index[m] for m in labels]].sum(axis=1)
        checks.append(
            judge(
                dest,
                labels,
                float(row.quantity_t),
                samples,
                horizon=horizon,
                source=where,
                central=central,
            )
        )
    order = {d: i for i, d in enumerate(destinations)}
    checks.sort(
        key=lambda c: (
            c.destination != "World",
            order.get(c.destination, len(order)),
            c.destination,
            c.month,
            c.months[0],
        )
    )
    return WatchResult(
        checks=checks,
        forecast_months=months,
        scenario=str(paths.attrs.get("scenario", "")),
        origin=months[0],
        n_paths=int(paths.sizes["path"]),
        source=source,
    )


def scenario_folder(name: str) -> str:
    """Return the folder name a report gives a scenario (``scenarios/<folder>``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "scenario"


def find_forecast(folder: str | Path, *, scenario: str | None = None) -> Path:
    """Find the previous forecast in a forecast folder or a report folder.

    A forecast folder holds ``paths.nc``; a report keeps the predictive sample of each
    scenario it shows in ``scenarios/<name>/predictive.nc`` (the headline scenario, the
    first in ``summary.json``, unless ``scenario`` names another).

    Parameters
    ----------
    folder : str or Path
        The folder.
    scenario : str, optional
        Which scenario of a report.

    Returns
    -------
    Path
        The NetCDF file of the paths.

    Raises
    ------
    ArtifactMismatchError
        If the folder holds neither.
    """
    root = Path(folder)
    if not root.is_dir():
        raise ArtifactMismatchError(f"{root}: not a folder (give a forecast or report folder)")
    if (root / PATHS_FILE).is_file() and scenario is None:
        return root / PATHS_FILE
    name = scenario
    if name is None:
        try:
            summary = json.loads((root / "summary.json").read_text(encoding="utf-8"))
            name = str(summary.get("primary_scenario") or "")
        except (OSError, ValueError, AttributeError):
            name = ""
    candidates = [root / "scenarios" / scenario_folder(name) / PREDICTIVE_FILE] if name else []
    if scenario is not None:
        candidates.append(root / scenario / PATHS_FILE)
    for path in candidates:
        if path.is_file():
            return path
    raise ArtifactMismatchError(
        f"{root}: no forecast here (expected {PATHS_FILE}, or a report's "
        f"scenarios/<name>/{PREDICTIVE_FILE}); give a forecast or report folder"
    )


def load_forecast(path: str | Path) -> xr.Dataset:
    """Read forecast paths (``paths.nc`` or a report's ``predictive.nc``) into memory.

    Raises
    ------
    ArtifactMismatchError
        If the file cannot be read as NetCDF.
    """
    try:
        with xr.open_dataset(path) as ds:
            return ds.load()
    except (OSError, ValueError) as err:
        raise ArtifactMismatchError(f"{path}: cannot read the forecast ({err})") from None


def predictive_sample(paths: xr.Dataset, months: int | None = None) -> xr.Dataset:
    """Return the part of forecast paths a report keeps for the next release's alerts.

    ``exports`` only (the reported figure), as float32, with the paths' attrs.

    Parameters
    ----------
    paths : xarray.Dataset
        Forecast paths.
    months : int, optional
        Keep the first ``months`` months only.

    Returns
    -------
    xarray.Dataset
    """
    ds = paths[["exports"]]
    if months is not None:
        ds = ds.isel(month=slice(0, months))
    out = ds.astype(np.float32)
    out.attrs = {k: v for k, v in paths.attrs.items() if isinstance(v, str | int | float)}
    return out


def new_observations(
    data: str | Path | Iterable[str | Path], product: str | None = None
) -> pd.DataFrame:
    """Read, validate and reconcile new customs data for :func:`watch`.

    Parameters
    ----------
    data : path or iterable of paths
        Customs CSV files in the input format (validated like every input).
    product : str, optional
        The forecast's product; default the only product in the data.

    Returns
    -------
    pandas.DataFrame
        Reconciled observations of the product.

    Raises
    ------
    DataValidationError
        On a bad row (file, line and field named), or when the product is missing.
    """
    from riskmodel.customs import read_customs, reconcile
    from riskmodel.exceptions import DataValidationError

    frame = read_customs([data] if isinstance(data, str | Path) else list(data))
    products = sorted(frame["product"].unique())
    if product is None:
        if len(products) != 1:
            raise DataValidationError(
                f"the new data hold several products ({', '.join(products)}); the forecast "
                "names none"
            )
        product = products[0]
    if product not in products:
        raise DataValidationError(
            f"no rows of product '{product}' (the forecast's) in the new data "
            f"(products: {', '.join(products)})"
        )
    return reconcile(frame[frame["product"] == product]).observations


def checks_frame(checks: Iterable[Check]) -> pd.DataFrame:
    """Return the checks as a table, columns :data:`CHECK_COLUMNS`."""
    rows = []
    for c in checks:
        d = _check_dict(c)
        d["months"] = c.period
        rows.append({k: d.get(k) for k in CHECK_COLUMNS})
    return pd.DataFrame(rows, columns=list(CHECK_COLUMNS))


__all__ = [
    "ALERT_CENTRAL",
    "CHECK_COLUMNS",
    "NOT_SCORED",
    "PATHS_FILE",
    "PREDICTIVE_FILE",
    "SCORED",
    "Check",
    "WatchResult",
    "checks_frame",
    "find_forecast",
    "judge",
    "load_forecast",
    "new_observations",
    "percentile_phrase",
    "place",
    "predictive_sample",
    "scenario_folder",
    "watch",
]
