"""Fit the export model, save the posterior with its provenance, load it back safely."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmodel import __version__, compat
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
    drop_padding,
    free_variable_names,
    load_model_priors,
    model_structure,
)
from riskmodel.models.inputs import ModelInputs
from riskmodel.models.loglik import pointwise_log_likelihood
from riskmodel.resources import source_digest
from riskmodel.sampling import SamplerConfig, default_backend, sample

log = logging.getLogger(__name__)

POSTERIOR_FILE = "posterior.nc"
DIAGNOSTICS_FILE = "diagnostics.json"
APPROVAL_FILE = "approval.csv"
#: What a fit folder holds.
FIT_FILES = (POSTERIOR_FILE, DIAGNOSTICS_FILE, APPROVAL_FILE)


#: Key of ``diagnostics.json`` recording the SHA-256 of the other files of the fit.
FILES_KEY = "files_sha256"
#: Groups of the sampler's result that are not saved: the warm-up draws (nothing reads
#: them after sampling; they were two fifths of the file).
UNSAVED_GROUPS = ("warmup_posterior", "warmup_sample_stats")
#: Attribute of a saved posterior naming the model code that sampled it.
MODEL_CODE_KEY = "model_code_hash"
#: Modules of :mod:`riskmodel.models` that are not the Bayesian model (the statsmodels
#: baselines): editing them leaves a cached posterior valid.
_NOT_MODEL_CODE = ("baselines.py",)
_REPORT_FIELDS = (
    "max_rhat",
    "min_ess_bulk",
    "min_ess_tail",
    "divergences",
    "min_bfmi",
    "worst_rhat_variable",
    "worst_ess_variable",
    "failures",
)


class DamagedFitError(RiskModelError, ValueError):
    """A saved fit's files do not match the hashes recorded when it was saved."""


def stored_posterior(idata: Any) -> Any:
    """Return what :meth:`FittedModel.save` writes: ``idata`` without its unsaved parts.

    The warm-up groups (:data:`UNSAVED_GROUPS`) and the sampler's unconstrained copies of
    bounded variables (names ending in ``__``: nothing reads them; the constrained
    values are kept) are left out. Every value kept is written as it is (float64), so a
    loaded fit forecasts exactly as the fit in memory did.
    """
    groups = {g: compat.group(idata, g) for g in compat.groups(idata) if g not in UNSAVED_GROUPS}
    post = groups["posterior"]
    groups["posterior"] = post.drop_vars([v for v in post.data_vars if str(v).endswith("__")])
    return compat.from_datasets(**groups)


def _round6(values: np.ndarray) -> np.ndarray:
    """Round to the 6 significant digits ``approval.csv`` holds (``%.6g``)."""
    return np.array([float(f"{v:.6g}") for v in np.asarray(values, dtype=float).ravel()]).reshape(
        np.shape(values)
    )


class FittedModel:
    """A fitted export model: the posterior, what it was fitted on, and how well.

    A fit loaded with :func:`load_fit` reads its posterior only when :attr:`idata` is
    first used: provenance, diagnostics and the approval table come from the small
    files beside it, whose hashes were recorded when it was saved.

    Attributes
    ----------
    idata : arviz.InferenceData or xarray.DataTree
        The installed stack's result type (:mod:`riskmodel.compat`). Posterior with dims
        ``(chain, draw, destination, month)`` for ``approval``,
        ``approval_logit`` and ``log_demand``; attrs carry the provenance. Fits made
        by :func:`fit_model` also hold a ``log_likelihood`` group (one value per
        observation and draw, :mod:`riskmodel.models.loglik`) for PSIS-LOO.
    diagnostics : ConvergenceReport
        R-hat, ESS, divergences and BFMI against the thresholds.
    timings : dict
        ``compile_seconds``, ``seconds`` (sampling wall time), ``backend``,
        ``gradient_evaluations``.
    """

    def __init__(
        self,
        idata: Any,
        diagnostics: ConvergenceReport,
        timings: dict[str, Any],
        *,
        saved: _SavedFit | None = None,
    ) -> None:
        self._idata = idata
        self.diagnostics = diagnostics
        self.timings = timings
        self._saved = saved

    def __repr__(self) -> str:
        loaded = "loaded" if self._idata is not None else f"not yet read from {self._saved.folder}"
        return f"FittedModel(posterior {loaded}, passed={self.diagnostics.passed})"

    @property
    def idata(self) -> Any:
        """The posterior (read from the saved fit on first use)."""
        if self._idata is None:
            self._idata = self._saved.load()
        return self._idata

    @idata.setter
    def idata(self, value: Any) -> None:
        self._idata = value

    @property
    def files_sha256(self) -> dict[str, str]:
        """SHA-256 of the saved files (``posterior.nc``, ``approval.csv``); empty if unsaved."""
        return dict(self._saved.files) if self._saved is not None else {}

    @property
    def attrs(self) -> dict[str, Any]:
        """Provenance and context of the fit.

        Version, model type, data and priors hashes, seeds, backend, the regime
        schedule (``regimes``, ``regime_starts``, ``future_regime_starts``), ``as_of``
        and the model settings the forecast reuses.
        """
        if self._idata is None:
            return dict(self._saved.attrs)
        return dict(compat.posterior(self.idata).attrs)

    @property
    def destinations(self) -> list[str]:
        """Modelled destinations, World first."""
        return [str(d) for d in compat.posterior(self.idata)["destination"].values]

    @property
    def months(self) -> pd.PeriodIndex:
        """Modelled months."""
        months = compat.posterior(self.idata)["month"].values
        return pd.PeriodIndex([str(m) for m in months], freq="M")

    def approval_summary(self) -> pd.DataFrame:
        """Approval rate per month and destination: mean and 5/50/95% quantiles.

        Values carry the 6 significant digits ``approval.csv`` holds, so a saved fit
        read back gives the same table as the fit in memory.

        Returns
        -------
        pandas.DataFrame
            Columns ``month`` (YYYY-MM), ``destination``, ``mean``, ``q05``, ``q50``, ``q95``.
        """
        if self._idata is None:
            return self._saved.approval()
        a = compat.posterior(self.idata)["approval"].stack(sample=("chain", "draw"))
        values = a.transpose("sample", "destination", "month").values
        qs = _round6(np.quantile(values, [0.05, 0.5, 0.95], axis=0))
        means = _round6(values.mean(axis=0))
        rows = []
        for j, dest in enumerate(a["destination"].values):
            for k, month in enumerate(a["month"].values):
                rows.append(
                    {
                        "month": str(month),
                        "destination": str(dest),
                        "mean": float(means[j, k]),
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
        if self._saved is not None:
            out[FILES_KEY] = dict(self._saved.files)
        return out

    def save(self, out_dir: str | Path) -> Path:
        """Write ``posterior.nc``, ``diagnostics.json`` and ``approval.csv``, all or nothing.

        The three files are written into a temporary sibling folder that then takes
        the place of ``out_dir`` in one rename (:func:`riskmodel.atomic.atomic_folder`),
        so a run killed at any moment leaves the previous fit or this one, never a
        posterior of one fit beside the diagnostics of another. ``diagnostics.json``
        records the SHA-256 of the other two (:data:`FILES_KEY`), which
        :func:`load_fit` checks. The posterior is written without its warm-up draws
        (:func:`stored_posterior`).

        Raises
        ------
        RiskModelError
            Before writing, if ``out_dir`` is a file or holds anything but a fit
            (:func:`check_fit_folder`).
        """
        check_fit_folder(out_dir)
        with atomic_folder(out_dir, replaces=FIT_FILES) as tmp:
            compat.to_netcdf(stored_posterior(self.idata), tmp / POSTERIOR_FILE)
            summary = self.approval_summary()
            summary.to_csv(tmp / APPROVAL_FILE, index=False, float_format="%.6g")
            files = {name: _sha256(tmp / name) for name in (POSTERIOR_FILE, APPROVAL_FILE)}
            record = self.diagnostics_dict()
            record[FILES_KEY] = files
            text = json.dumps(record, indent=2) + "\n"
            (tmp / DIAGNOSTICS_FILE).write_text(text, encoding="utf-8")
        attrs = {k: _plain(v) for k, v in self.attrs.items()}
        self._saved = _SavedFit(Path(out_dir), attrs, files)
        return Path(out_dir)


def _sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


@dataclass
class _SavedFit:
    """Where a saved fit lies, its provenance and the hashes of its files."""

    folder: Path
    attrs: dict[str, Any]
    files: dict[str, str]

    def _verified(self, name: str) -> Path:
        path = self.folder / name
        try:
            found = _sha256(path)
        except OSError as err:
            raise DamagedFitError(f"{path}: cannot read the file ({err.strerror})") from None
        if found != self.files.get(name):
            raise DamagedFitError(
                f"{path}: does not match the hash recorded in {DIAGNOSTICS_FILE} (changed or "
                "damaged since it was saved); refit with 'riskmodel fit'"
            )
        return path

    def load(self) -> Any:
        """Read the posterior (checked against its recorded hash)."""
        return read_netcdf(self._verified(POSTERIOR_FILE))

    def approval(self) -> pd.DataFrame:
        """Read ``approval.csv`` (checked against its recorded hash)."""
        path = self._verified(APPROVAL_FILE)
        frame = pd.read_csv(
            path,
            dtype={"month": str, "destination": str},
            keep_default_na=False,
            float_precision="round_trip",
        )
        return frame


@functools.cache
def model_code_hash() -> str:
    """SHA-256 (first 20 hex digits) of the source of the Bayesian model's package.

    The bytes of every module of :mod:`riskmodel.models` but the statsmodels baselines,
    in name order: the graph, the likelihoods, the regime layout, the inputs, the
    pointwise log-likelihood and the checks. A fit records it (:data:`MODEL_CODE_KEY`)
    and :func:`riskmodel.pipeline.fit_cached` reuses a cached posterior only when it
    is today's, so a cache never serves the posterior of a model the code no longer
    builds (data and priors hashes alone cannot tell). Any edit counts, comments too:
    a needless refit costs minutes, a stale posterior a wrong report.
    """
    return source_digest(Path(__file__).resolve().parent, skip=_NOT_MODEL_CODE)[:20]


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
        that neighbouring origins, releases and simulations share it. What only the
        padding held (approval innovations of months before licensing, spare regimes)
        is dropped from the posterior.

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
    # Innovations of months before licensing and spare regimes: they only met their prior.
    compat.set_group(idata, "posterior", drop_padding(compat.posterior(idata), inputs, structure))
    attrs = {
        "riskmodel_version": __version__,
        "model_type": MODEL_TYPE,
        "product": inputs.product,
        "data_hash": inputs.data_hash,
        "priors_hash": priors.hash,
        MODEL_CODE_KEY: model_code_hash(),
        "seed": int(sampler.seed),
        "backend": result.backend,
        "draws": int(sampler.draws),
        "tune": int(sampler.tune),
        "chains": int(sampler.chains),
        "target_accept": float(sampler.target_accept),
        "free_variables": ",".join(free),
        "regimes": "|".join(inputs.regimes.names),
        "regime_starts": "|".join(str(s) for s in inputs.regimes.starts),
        # What the forecast needs from the data, so it runs from the saved fit alone:
        # the origin of a point-in-time fit and the regimes dated after its last month.
        "as_of": "" if inputs.as_of is None else str(inputs.as_of),
        "future_regime_starts": "|".join(str(s) for s in inputs.future_regime_starts),
        "future_regimes": "|".join(inputs.future_regime_names),
        "dropped": "|".join(inputs.dropped),
        # Settings the forecast must reuse, so it follows the priors the fit used.
        "student_t_nu": float(priors.setting("student_t_nu")),
        "share_knot_months": int(priors.setting("share_knot_months")),
    }
    post = compat.posterior(idata)
    post.attrs.update(attrs)
    compat.set_group(idata, "posterior", post)
    # Pointwise log-likelihood for PSIS-LOO (riskmodel.models.loglik): one value per
    # customs row and licence row, written again in NumPy so that nothing compiles.
    compat.set_group(
        idata, "log_likelihood", pointwise_log_likelihood(compat.posterior(idata), inputs, priors)
    )
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


def _saved_record(folder: Path) -> tuple[dict[str, Any], dict[str, str]] | None:
    """``diagnostics.json`` and its recorded file hashes, when the posterior matches them."""
    try:
        record = json.loads((folder / DIAGNOSTICS_FILE).read_text(encoding="utf-8"))
        files = record.get(FILES_KEY)
        wanted = (POSTERIOR_FILE, APPROVAL_FILE)
        if not isinstance(files, dict) or not all(k in files for k in wanted):
            return None  # saved before hashes were recorded: read the posterior itself
    except (OSError, ValueError, AttributeError):
        return None
    if _sha256(folder / POSTERIOR_FILE) != files[POSTERIOR_FILE]:
        raise DamagedFitError(
            f"{folder / POSTERIOR_FILE}: does not match the hash recorded in "
            f"{DIAGNOSTICS_FILE} (changed or damaged since it was saved); refit with "
            "'riskmodel fit'"
        )
    return record, {str(k): str(v) for k, v in files.items()}


def _read_attrs(path: Path) -> dict[str, Any]:
    """Read the posterior group's attributes, without reading its draws (or importing ArviZ)."""
    import xarray as xr

    with xr.open_dataset(path, group="posterior", engine="h5netcdf") as ds:
        return {str(k): _plain(v) for k, v in ds.attrs.items()}


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
    DamagedFitError
        If the posterior does not match the hash ``diagnostics.json`` recorded when it
        was saved (also a ``ValueError``).

    Notes
    -----
    A fit saved with its file hashes (:data:`FILES_KEY`) is checked against them and
    read lazily: the draws when :attr:`FittedModel.idata` is first used, the
    diagnostics and the approval table from ``diagnostics.json`` and ``approval.csv``.
    An older fit is read whole and its diagnostics recomputed.
    """
    path = Path(fit_dir) / POSTERIOR_FILE
    if not path.is_file():
        raise RiskModelError(f"{path}: no saved posterior (run 'riskmodel fit --out {fit_dir}')")
    folder = Path(fit_dir)
    saved = _saved_record(folder)
    if saved is not None:
        # Verified against the hashes recorded at save: read only the attributes now,
        # the draws when first needed.
        idata = None
        attrs = _read_attrs(path)
    else:
        idata = read_netcdf(path)
        attrs = dict(compat.posterior(idata).attrs)
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
    if saved is not None:
        record, files = saved
        report = ConvergenceReport(**{k: record[k] for k in _REPORT_FIELDS if k in record})
        skip = {*_REPORT_FIELDS, "passed", "thresholds", "data_hash", "priors_hash", FILES_KEY}
        timings = {k: v for k, v in record.items() if k not in skip}
        return FittedModel(None, report, timings, saved=_SavedFit(folder, attrs, files))
    free = [v for v in str(attrs.get("free_variables", "")).split(",") if v]
    report = convergence_report(idata, free or None)
    diag_path = folder / DIAGNOSTICS_FILE
    timings: dict[str, Any] = {}
    if diag_path.is_file():
        try:
            saved_diag = json.loads(diag_path.read_text())
            keys = ("backend", "seconds", "compile_seconds")
            timings = {k: saved_diag[k] for k in keys if k in saved_diag}
        except (OSError, ValueError, TypeError):
            timings = {}  # a damaged diagnostics file: the diagnostics were recomputed above
    return FittedModel(idata, report, timings)
