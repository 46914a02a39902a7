"""Fit the export model, save the posterior with its provenance, load it back safely."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmodel import __version__
from riskmodel.atomic import atomic_folder, check_replaceable
from riskmodel.config.priors import PriorSet
from riskmodel.exceptions import ArtifactMismatchError, RiskModelError
from riskmodel.models.diagnostics import (
    ConvergenceReport,
    convergence_report,
    read_netcdf,
    warn_if_failed,
)
from riskmodel.models.export_model import (
    MODEL_TYPE,
    ModelStructure,
    build_model,
    free_variable_names,
    load_model_priors,
    model_structure,
)
from riskmodel.models.inputs import ModelInputs
from riskmodel.models.loglik import pointwise_log_likelihood
from riskmodel.sampling import SamplerConfig, default_backend, sample

log = logging.getLogger(__name__)

POSTERIOR_FILE = "posterior.nc"
DIAGNOSTICS_FILE = "diagnostics.json"
APPROVAL_FILE = "approval.csv"
#: What a fit folder holds.
FIT_FILES = (POSTERIOR_FILE, DIAGNOSTICS_FILE, APPROVAL_FILE)


@dataclass
class FittedModel:
    """A fitted export model: the posterior, what it was fitted on, and how well.

    Attributes
    ----------
    idata : arviz.InferenceData
        Posterior with dims ``(chain, draw, destination, month)`` for ``approval``,
        ``approval_logit`` and ``log_demand``; attrs carry the provenance. Fits made
        by :func:`fit_model` also hold a ``log_likelihood`` group (one value per
        observation and draw, :mod:`riskmodel.models.loglik`) for PSIS-LOO.
    diagnostics : ConvergenceReport
        R-hat, ESS, divergences and BFMI against the thresholds.
    timings : dict
        ``compile_seconds``, ``seconds`` (sampling wall time), ``backend``,
        ``gradient_evaluations``.
    """

    idata: Any
    diagnostics: ConvergenceReport
    timings: dict[str, Any]

    @property
    def attrs(self) -> dict[str, Any]:
        """Provenance and context of the fit.

        Version, model type, data and priors hashes, seeds, backend, the regime
        schedule (``regimes``, ``regime_starts``, ``future_regime_starts``), ``as_of``
        and the model settings the forecast reuses.
        """
        return dict(self.idata.posterior.attrs)

    @property
    def destinations(self) -> list[str]:
        """Modelled destinations, World first."""
        return [str(d) for d in self.idata.posterior["destination"].values]

    @property
    def months(self) -> pd.PeriodIndex:
        """Modelled months."""
        return pd.PeriodIndex([str(m) for m in self.idata.posterior["month"].values], freq="M")

    def approval_summary(self) -> pd.DataFrame:
        """Approval rate per month and destination: mean and 5/50/95% quantiles.

        Returns
        -------
        pandas.DataFrame
            Columns ``month`` (YYYY-MM), ``destination``, ``mean``, ``q05``, ``q50``, ``q95``.
        """
        a = self.idata.posterior["approval"].stack(sample=("chain", "draw"))
        values = a.transpose("sample", "destination", "month").values
        qs = np.quantile(values, [0.05, 0.5, 0.95], axis=0)
        rows = []
        for j, dest in enumerate(a["destination"].values):
            for k, month in enumerate(a["month"].values):
                rows.append(
                    {
                        "month": str(month),
                        "destination": str(dest),
                        "mean": float(values[:, j, k].mean()),
                        "q05": float(qs[0, j, k]),
                        "q50": float(qs[1, j, k]),
                        "q95": float(qs[2, j, k]),
                    }
                )
        return pd.DataFrame(rows)

    def diagnostics_dict(self) -> dict[str, Any]:
        """Return what ``diagnostics.json`` holds."""
        out = self.diagnostics.to_dict()
        out.update(self.timings)
        out.update({k: v for k, v in self.attrs.items() if k in ("data_hash", "priors_hash")})
        return out

    def save(self, out_dir: str | Path) -> Path:
        """Write ``posterior.nc``, ``diagnostics.json`` and ``approval.csv``, all or nothing.

        The three files are written into a temporary sibling folder that then takes
        the place of ``out_dir`` in one rename (:func:`riskmodel.atomic.atomic_folder`),
        so a run killed at any moment leaves the previous fit or this one, never a
        posterior of one fit beside the diagnostics of another.

        Raises
        ------
        RiskModelError
            Before writing, if ``out_dir`` is a file or holds anything but a fit
            (:func:`check_fit_folder`).
        """
        check_fit_folder(out_dir)
        with atomic_folder(out_dir, replaces=FIT_FILES) as tmp:
            self.idata.to_netcdf(str(tmp / POSTERIOR_FILE))
            text = json.dumps(self.diagnostics_dict(), indent=2) + "\n"
            (tmp / DIAGNOSTICS_FILE).write_text(text, encoding="utf-8")
            summary = self.approval_summary()
            summary.to_csv(tmp / APPROVAL_FILE, index=False, float_format="%.6g")
        return Path(out_dir)


def check_fit_folder(out_dir: str | Path) -> None:
    """Refuse a folder a fit cannot be saved to (call it before fitting).

    Parameters
    ----------
    out_dir : str or Path
        Where the fit is to go: a new folder, or one holding only a fit.

    Raises
    ------
    RiskModelError
        If ``out_dir`` is a file or holds other files (they are never replaced).
    """
    try:
        check_replaceable(out_dir, FIT_FILES)
    except OSError as err:
        raise RiskModelError(
            f"cannot save a fit there: {err}; choose a new or empty folder"
        ) from None


def fit_model(
    inputs: ModelInputs,
    priors: PriorSet | None = None,
    sampler: SamplerConfig | None = None,
    structure: ModelStructure | None = None,
) -> FittedModel:
    """Fit the joint approval/volume model with NUTS.

    The model is compiled once per structure and process (and served from disk in
    the next process); fits of other data of the same structure only swap the data.

    Parameters
    ----------
    inputs : ModelInputs
        From :func:`riskmodel.models.prepare_inputs`.
    priors : PriorSet, optional
        Default: the bundled ``priors/export_model.yaml``.
    sampler : SamplerConfig, optional
        Backend and settings; default nutpie (PyMC's NUTS when nutpie is missing),
        4 chains x (1000 tune + 2000 draws), seed 0.
    structure : ModelStructure, optional
        Shapes of the compiled model; default ``model_structure(inputs)``, padded so
        that neighbouring origins, releases and simulations share it. The padding's
        approval innovations (months before licensing) are dropped from the posterior.

    Returns
    -------
    FittedModel
        Warns with :class:`~riskmodel.exceptions.ConvergenceWarning` when the
        diagnostics fail their thresholds.
    """
    priors = priors or load_model_priors()
    sampler = sampler or SamplerConfig(backend=default_backend())
    structure = structure or model_structure(inputs)
    wall = time.perf_counter()
    model = build_model(inputs, priors, structure)
    free = free_variable_names(model)
    result = sample(model, sampler)
    idata = result.idata
    pad = structure.n_controlled - model_structure(inputs, padded=False).n_controlled
    if pad:
        # Innovations of months before licensing: they only met their prior.
        idata.posterior = idata.posterior.isel(controlled_month=slice(pad, None))
    attrs = {
        "riskmodel_version": __version__,
        "model_type": MODEL_TYPE,
        "product": inputs.product,
        "data_hash": inputs.data_hash,
        "priors_hash": priors.hash,
        "seed": int(sampler.seed),
        "backend": result.backend,
        "draws": int(sampler.draws),
        "tune": int(sampler.tune),
        "chains": int(sampler.chains),
        "free_variables": ",".join(free),
        "regimes": "|".join(inputs.regimes.names),
        "regime_starts": "|".join(str(s) for s in inputs.regimes.starts),
        # What the forecast needs from the data, so it runs from the saved fit alone:
        # the origin of a point-in-time fit and the regimes dated after its last month.
        "as_of": "" if inputs.as_of is None else str(inputs.as_of),
        "future_regime_starts": "|".join(str(s) for s in inputs.future_regime_starts),
        "dropped": "|".join(inputs.dropped),
        # Settings the forecast must reuse, so it follows the priors the fit used.
        "student_t_nu": float(priors.setting("student_t_nu")),
        "share_knot_months": int(priors.setting("share_knot_months")),
    }
    idata.posterior.attrs.update(attrs)
    # Pointwise log-likelihood for PSIS-LOO (riskmodel.models.loglik): one value per
    # customs row and licence row, written again in NumPy so that nothing compiles.
    idata.add_groups(log_likelihood=pointwise_log_likelihood(idata.posterior, inputs, priors))
    report = convergence_report(idata, free)
    warn_if_failed(report)
    timings = {
        "backend": result.backend,
        "seconds": round(result.sampling_seconds, 3),
        "compile_seconds": round(result.compile_seconds, 3),
        "wall_seconds": round(time.perf_counter() - wall, 3),
        "gradient_evaluations": result.gradient_evaluations,
        "draws": sampler.draws,
        "tune": sampler.tune,
        "chains": sampler.chains,
        "seed": sampler.seed,
    }
    return FittedModel(idata, report, timings)


def load_fit(
    fit_dir: str | Path,
    *,
    inputs: ModelInputs | None = None,
    priors: PriorSet | None = None,
) -> FittedModel:
    """Load a saved fit, refusing one made on other data or priors.

    Parameters
    ----------
    fit_dir : str or Path
        A directory written by :meth:`FittedModel.save` (or ``riskmodel fit``).
    inputs, priors : optional
        When given, their hashes must equal those the posterior was fitted on.

    Raises
    ------
    ArtifactMismatchError
        If the posterior belongs to other data, other priors, or another model type.
    RiskModelError
        If the directory holds no posterior.
    """
    path = Path(fit_dir) / POSTERIOR_FILE
    if not path.is_file():
        raise RiskModelError(f"{path}: no saved posterior (run 'riskmodel fit --out {fit_dir}')")
    idata = read_netcdf(path)
    attrs = dict(idata.posterior.attrs)
    if attrs.get("model_type") != MODEL_TYPE:
        raise ArtifactMismatchError(
            f"{path}: model type {attrs.get('model_type')!r}, expected {MODEL_TYPE!r}"
        )
    if inputs is not None and attrs.get("data_hash") != inputs.data_hash:
        raise ArtifactMismatchError(
            f"{path}: fitted on other data (data hash {attrs.get('data_hash')} != "
            f"{inputs.data_hash}); refit with 'riskmodel fit'"
        )
    if priors is not None and attrs.get("priors_hash") != priors.hash:
        raise ArtifactMismatchError(
            f"{path}: fitted with other priors (priors hash {attrs.get('priors_hash')} != "
            f"{priors.hash}); refit with 'riskmodel fit'"
        )
    free = [v for v in str(attrs.get("free_variables", "")).split(",") if v]
    report = convergence_report(idata, free or None)
    diag_path = Path(fit_dir) / DIAGNOSTICS_FILE
    timings: dict[str, Any] = {}
    if diag_path.is_file():
        saved = json.loads(diag_path.read_text())
        timings = {k: saved[k] for k in ("backend", "seconds", "compile_seconds") if k in saved}
    return FittedModel(idata, report, timings)
