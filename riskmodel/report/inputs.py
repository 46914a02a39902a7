"""What the report reads: the saved outputs of the fit, forecast and shortage stages.

The report stage never runs a model. It reads what the earlier stages wrote
(or what :mod:`riskmodel.pipeline` returns) into a :class:`ReportInputs`:

- from the fit: ``approval.csv`` (approval rate per month and destination with
  its 5/50/95 % quantiles), ``diagnostics.json`` (R-hat, ESS, divergences,
  BFMI, ``passed``, ``failures``, hashes) and the provenance attributes of
  ``posterior.nc`` (version, model type, product, hashes, seed, backend,
  regimes), read with xarray alone;
- per scenario, from the forecast: ``forecast.csv`` (quantiles of monthly
  exports per destination) and optionally ``paths.nc`` (the joint paths, used
  for exports as a share of counterfactual demand);
- per scenario, from the shortage stage: ``shortage.csv`` (probability and
  depth of shortfall per region, industry and month) and ``stockout.csv``
  (first stock-out month per region and industry);
- the history: customs rows (:func:`riskmodel.customs.read_customs` frame) and
  policy events (:func:`riskmodel.customs.read_policy_events` frame).

Missing files and missing columns raise :class:`~riskmodel.exceptions.RiskModelError`
naming the file and what is missing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from riskmodel.exceptions import RiskModelError

__all__ = [
    "APPROVAL_COLUMNS",
    "FORECAST_COLUMNS",
    "SHORTAGE_COLUMNS",
    "STOCKOUT_COLUMNS",
    "ReportInputs",
    "ScenarioResult",
    "read_posterior_attrs",
    "read_stage_csv",
]

PathLike = str | os.PathLike[str]

#: Required columns of ``approval.csv`` (fit stage).
APPROVAL_COLUMNS = ("month", "destination", "mean", "q05", "q50", "q95")
#: Required columns of ``forecast.csv``; ``q10``, ``q25``, ``q75``, ``q90`` are used when present.
FORECAST_COLUMNS = ("month", "destination", "mean", "q05", "q50", "q95")
#: Required columns of ``shortage.csv``.
SHORTAGE_COLUMNS = (
    "region",
    "industry",
    "month",
    "p_short",
    "expected_shortfall_t",
    "expected_shortfall_share",
)
#: Required columns of ``stockout.csv``.
STOCKOUT_COLUMNS = (
    "region",
    "industry",
    "p_stockout_within_horizon",
    "median_first_stockout_month",
    "q10_first_stockout_month",
    "q90_first_stockout_month",
)
_MONTH_COLUMNS = (
    "month",
    "median_first_stockout_month",
    "q10_first_stockout_month",
    "q90_first_stockout_month",
)


def read_stage_csv(path: PathLike, required: Sequence[str]) -> pd.DataFrame:
    """Read one stage CSV and check it has the required columns.

    Month columns are kept as ``YYYY-MM`` strings (empty cells become ``None``);
    ``region``, ``industry``, ``destination`` and ``scenario`` stay strings.

    Parameters
    ----------
    path : str or PathLike
        The CSV file.
    required : sequence of str
        Columns that must be present.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    RiskModelError
        If the file is missing or unreadable, or lacks a required column.
    """
    path = Path(path)
    text_cols = {c: str for c in (*_MONTH_COLUMNS, "region", "industry", "destination", "scenario")}
    try:
        frame = pd.read_csv(path, dtype=text_cols, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise RiskModelError(f"{path}: file not found") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise RiskModelError(f"{path}: cannot read the file: {exc}") from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise RiskModelError(f"{path}: missing column(s) {', '.join(missing)}")
    for col in _MONTH_COLUMNS:
        if col in frame.columns:
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    return frame


def _check_columns(frame: pd.DataFrame, required: Sequence[str], what: str) -> pd.DataFrame:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise RiskModelError(f"{what}: missing column(s) {', '.join(missing)}")
    out = frame.copy()
    for col in _MONTH_COLUMNS:
        if col in out.columns:
            out[col] = [_month_text(v) for v in out[col]]
    return out


def _month_text(value: Any) -> str | None:
    """Return a month as ``YYYY-MM``, or None for a missing value."""
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, pd.Period):
        return str(value.asfreq("M"))
    text = str(value).strip()
    if not text or text.lower() in ("nan", "nat", "none"):
        return None
    return str(pd.Period(text, freq="M"))


def _plain(value: Any) -> Any:
    """Convert NumPy scalars and arrays to plain Python for JSON."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def read_posterior_attrs(path: PathLike) -> dict[str, Any]:
    """Read the provenance attributes of a saved posterior without ArviZ.

    Parameters
    ----------
    path : str or PathLike
        A ``posterior.nc`` written by :meth:`riskmodel.models.FittedModel.save`
        (an ArviZ InferenceData in NetCDF; the attributes sit on the
        ``posterior`` group).

    Returns
    -------
    dict
        The attributes, as plain Python values.
    """
    try:
        with xr.open_dataset(path, group="posterior") as ds:
            return {str(k): _plain(v) for k, v in ds.attrs.items()}
    except (OSError, ValueError) as exc:
        raise RiskModelError(f"{path}: cannot read the posterior attributes: {exc}") from None


@dataclass
class ScenarioResult:
    """The forecast and shortage outputs of one scenario.

    Parameters
    ----------
    name : str
        Scenario name (``baseline``, ``suspension_lapse``, ...).
    forecast : pandas.DataFrame
        ``forecast.csv``: columns :data:`FORECAST_COLUMNS` (plus ``q10``, ``q25``,
        ``q75``, ``q90`` when present), one row per destination and month.
    shortage : pandas.DataFrame
        ``shortage.csv``: columns :data:`SHORTAGE_COLUMNS`, one row per region,
        industry and month.
    stockout : pandas.DataFrame
        ``stockout.csv``: columns :data:`STOCKOUT_COLUMNS`, one row per region
        and industry; month columns are ``YYYY-MM`` or None (not within the horizon).
    description : str, optional
        One line shown in the scenario table.
    paths : xarray.Dataset, optional
        ``paths.nc``: ``exports`` and ``counterfactual`` with dims
        ``(path, destination, month)``.
    files : dict of str to Path, optional
        Stage files to copy into the report (``forecast.csv``, ``shortage.csv``,
        ``stockout.csv``); frames are written out for those not given.
    drivers : pandas.DataFrame, optional
        ``drivers.csv`` (:func:`riskmodel.propagation.drivers.shortage_drivers`):
        what drives the headline risks; the report's drivers section shows it.
    """

    name: str
    forecast: pd.DataFrame
    shortage: pd.DataFrame
    stockout: pd.DataFrame
    description: str = ""
    paths: xr.Dataset | None = None
    files: dict[str, Path] = field(default_factory=dict)
    drivers: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        self.forecast = _check_columns(self.forecast, FORECAST_COLUMNS, f"{self.name} forecast")
        self.shortage = _check_columns(self.shortage, SHORTAGE_COLUMNS, f"{self.name} shortage")
        self.stockout = _check_columns(self.stockout, STOCKOUT_COLUMNS, f"{self.name} stockout")

    @classmethod
    def from_dirs(
        cls,
        name: str,
        forecast_dir: PathLike,
        shortage_dir: PathLike | None = None,
        *,
        description: str = "",
        load_paths: bool = True,
    ) -> ScenarioResult:
        """Read one scenario's stage outputs.

        Parameters
        ----------
        name : str
            Scenario name.
        forecast_dir : str or PathLike
            Holds ``forecast.csv`` (and ``paths.nc``, optional).
        shortage_dir : str or PathLike, optional
            Holds ``shortage.csv`` and ``stockout.csv``; default ``forecast_dir``.
        description : str, optional
            One line shown in the scenario table.
        load_paths : bool, default True
            Read ``paths.nc`` when it exists.

        Returns
        -------
        ScenarioResult
        """
        fdir = Path(forecast_dir)
        sdir = Path(shortage_dir) if shortage_dir is not None else fdir
        files = {
            "forecast.csv": fdir / "forecast.csv",
            "shortage.csv": sdir / "shortage.csv",
            "stockout.csv": sdir / "stockout.csv",
        }
        paths = None
        nc = fdir / "paths.nc"
        if load_paths and nc.is_file():
            try:
                paths = xr.load_dataset(nc)
            except (OSError, ValueError) as exc:
                raise RiskModelError(f"{nc}: cannot read the forecast paths: {exc}") from None
        drivers = None
        if (sdir / "drivers.csv").is_file():
            from riskmodel.report.drivers import DRIVERS_NEEDED

            files["drivers.csv"] = sdir / "drivers.csv"
            drivers = read_stage_csv(files["drivers.csv"], DRIVERS_NEEDED)
        return cls(
            name=name,
            forecast=read_stage_csv(files["forecast.csv"], FORECAST_COLUMNS),
            shortage=read_stage_csv(files["shortage.csv"], SHORTAGE_COLUMNS),
            stockout=read_stage_csv(files["stockout.csv"], STOCKOUT_COLUMNS),
            description=description,
            paths=paths,
            files=files,
            drivers=drivers,
        )

    @property
    def months(self) -> list[str]:
        """Forecast months of the shortage table, in order (``YYYY-MM``)."""
        return sorted({str(m) for m in self.shortage["month"] if m is not None})


@dataclass
class ReportInputs:
    """Everything one report shows.

    Parameters
    ----------
    approval : pandas.DataFrame
        ``approval.csv`` of the fit: columns :data:`APPROVAL_COLUMNS`.
    diagnostics : dict
        ``diagnostics.json`` of the fit (``passed``, ``failures``, ``max_rhat``, ...).
    scenarios : list of ScenarioResult
        In display order; the first is the *primary* scenario of the headline.
    customs : pandas.DataFrame, optional
        Customs rows as read by :func:`riskmodel.customs.read_customs` (any
        products; the report selects :attr:`product`). Without it the fan charts
        show no history and the freshness section says so.
    events : pandas.DataFrame, optional
        Policy events as read by :func:`riskmodel.customs.read_policy_events`.
    attrs : dict, optional
        Provenance attributes of the posterior (``riskmodel_version``,
        ``model_type``, ``product``, ``data_hash``, ``priors_hash``, ``seed``,
        ``backend``, ``regimes``, ``regime_starts``).
    settings : dict, optional
        How the run was made (``n_paths``, ``horizon``, ``seed``,
        ``posterior_cache``, ...); shown under provenance.
    data_files : list of str, optional
        The customs and event files the run read.
    fit_files : dict of str to Path, optional
        Fit files to copy into the report (``approval.csv``, ``diagnostics.json``);
        the frame and dict are written out for those not given.
    generated_at : datetime, optional
        The report time (UTC); default: when it is rendered.
    """

    approval: pd.DataFrame
    diagnostics: dict[str, Any]
    scenarios: list[ScenarioResult]
    customs: pd.DataFrame | None = None
    events: pd.DataFrame | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    data_files: list[str] = field(default_factory=list)
    fit_files: dict[str, Path] = field(default_factory=dict)
    generated_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.scenarios:
            raise RiskModelError("a report needs at least one scenario")
        names = [s.name for s in self.scenarios]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise RiskModelError(f"scenario {repeated[0]!r} is given twice")
        self.approval = _check_columns(self.approval, APPROVAL_COLUMNS, "approval")

    @property
    def product(self) -> str:
        """The product the model was fitted on (``magnets`` when nothing says)."""
        value = self.attrs.get("product") or self.diagnostics.get("product")
        if not value:
            for scenario in self.scenarios:
                if scenario.paths is not None and scenario.paths.attrs.get("product"):
                    value = scenario.paths.attrs["product"]
                    break
        return str(value or "magnets")

    @property
    def primary(self) -> ScenarioResult:
        """The scenario of the headline (the first one)."""
        return self.scenarios[0]

    def provenance(self) -> dict[str, Any]:
        """Version, model type, hashes, seeds and backend in one flat dict."""
        diag = self.diagnostics
        return {
            "riskmodel_version": self.attrs.get("riskmodel_version"),
            "model_type": self.attrs.get("model_type"),
            "product": self.product,
            "data_hash": self.attrs.get("data_hash") or diag.get("data_hash"),
            "priors_hash": self.attrs.get("priors_hash") or diag.get("priors_hash"),
            "fit_seed": self.attrs.get("seed", diag.get("seed")),
            "backend": self.attrs.get("backend") or diag.get("backend"),
        }

    @classmethod
    def from_dirs(
        cls,
        fit_dir: PathLike,
        scenario_dirs: Mapping[str, PathLike | tuple[PathLike, PathLike]],
        *,
        customs: pd.DataFrame | None = None,
        events: pd.DataFrame | None = None,
        descriptions: Mapping[str, str] | None = None,
        settings: Mapping[str, Any] | None = None,
        data_files: Sequence[str] = (),
        bundled_history: bool = True,
    ) -> ReportInputs:
        """Read the saved stage outputs of one run.

        Parameters
        ----------
        fit_dir : str or PathLike
            Holds ``approval.csv``, ``diagnostics.json`` and (optional)
            ``posterior.nc``.
        scenario_dirs : mapping
            Scenario name -> one directory holding both the forecast and the
            shortage files, or a ``(forecast_dir, shortage_dir)`` pair. The
            first scenario is the headline's.
        customs, events : pandas.DataFrame, optional
            The history; default: the bundled customs series and policy events
            when ``bundled_history`` is true.
        descriptions : mapping of str to str, optional
            One line per scenario for the scenario table.
        settings : mapping, optional
            How the run was made (see :class:`ReportInputs`).
        data_files : sequence of str, optional
            The data files the run read.
        bundled_history : bool, default True
            Load the bundled history for ``customs``/``events`` not given.

        Returns
        -------
        ReportInputs
        """
        fdir = Path(fit_dir)
        approval_path = fdir / "approval.csv"
        diag_path = fdir / "diagnostics.json"
        approval = read_stage_csv(approval_path, APPROVAL_COLUMNS)
        try:
            diagnostics = json.loads(diag_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RiskModelError(f"{diag_path}: file not found") from None
        except (OSError, ValueError) as exc:
            raise RiskModelError(f"{diag_path}: cannot read the diagnostics: {exc}") from None
        posterior = fdir / "posterior.nc"
        attrs = read_posterior_attrs(posterior) if posterior.is_file() else {}
        descriptions = descriptions or {}
        scenarios = []
        for name, where in scenario_dirs.items():
            fc, sh = where if isinstance(where, tuple) else (where, where)
            scenarios.append(
                ScenarioResult.from_dirs(name, fc, sh, description=descriptions.get(name, ""))
            )
        if bundled_history and (customs is None or events is None):
            from riskmodel.customs import load_bundled_customs, load_bundled_events

            customs = load_bundled_customs() if customs is None else customs
            events = load_bundled_events() if events is None else events
        return cls(
            approval=approval,
            diagnostics=diagnostics,
            scenarios=scenarios,
            customs=customs,
            events=events,
            attrs=attrs,
            settings=dict(settings or {}),
            data_files=list(data_files),
            fit_files={"approval.csv": approval_path, "diagnostics.json": diag_path},
        )
