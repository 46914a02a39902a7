"""Convergence diagnostics after every fit (ArviZ through :mod:`riskmodel.compat`).

Thresholds live in :data:`THRESHOLDS`. A fit that fails them is reported loudly: a
:class:`~riskmodel.exceptions.ConvergenceWarning` in the library, a non-zero exit
with ``--strict`` on the command line, a red box in the report.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from riskmodel import compat
from riskmodel.exceptions import ConvergenceWarning

#: Pass marks for a fit (Vehtari et al. 2021 for R-hat and ESS; BFMI per Betancourt 2016).
THRESHOLDS = {
    "max_rhat": 1.01,
    "min_ess_bulk": 400.0,
    "min_ess_tail": 400.0,
    "max_divergences": 0,
    "min_bfmi": 0.3,
}


@dataclass
class ConvergenceReport:
    """Summary diagnostics of one fit over its free (sampled) variables."""

    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    divergences: int
    min_bfmi: float
    worst_rhat_variable: str = ""
    worst_ess_variable: str = ""
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when every threshold holds."""
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (written to ``diagnostics.json``)."""
        out = asdict(self)
        out["passed"] = self.passed
        out["thresholds"] = dict(THRESHOLDS)
        return out


def _worst(dataset: Any, stat: str, largest: bool) -> tuple[float, str]:
    best_val, best_name = (-np.inf if largest else np.inf), ""
    for name, da in dataset.data_vars.items():
        vals = np.asarray(da.values, dtype=float)
        vals = vals[np.isfinite(vals)]
        if vals.size == 0:
            continue
        v = vals.max() if largest else vals.min()
        if (largest and v > best_val) or (not largest and v < best_val):
            best_val, best_name = float(v), str(name)
    return best_val, best_name


def convergence_report(idata: Any, var_names: Sequence[str] | None = None) -> ConvergenceReport:
    """Compute R-hat, bulk and tail ESS, divergences and BFMI, and check the thresholds.

    Parameters
    ----------
    idata : arviz.InferenceData or xarray.DataTree
        A posterior with ``sample_stats`` (either stack's result type).
    var_names : sequence of str, optional
        The variables to check (the model's free variables); all when omitted.

    Returns
    -------
    ConvergenceReport
    """
    full = compat.posterior(idata)
    post = full[compat.var_names(full, var_names)]
    n_chains = post.sizes.get("chain", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rhat = compat.rhat(post) if n_chains >= 2 else None
        ess_bulk = compat.ess(post, method="bulk")
        ess_tail = compat.ess(post, method="tail")
    if rhat is None:
        max_rhat, rhat_var = float("nan"), ""
    else:
        max_rhat, rhat_var = _worst(rhat, "rhat", largest=True)
    min_bulk, bulk_var = _worst(ess_bulk, "ess", largest=False)
    min_tail, _ = _worst(ess_tail, "ess", largest=False)
    stats = compat.group(idata, "sample_stats") if compat.has_group(idata, "sample_stats") else {}
    divergences = int(stats["diverging"].sum()) if "diverging" in stats else 0
    try:
        min_bfmi = float(np.min(compat.bfmi(idata)))
    except (KeyError, ValueError, AttributeError):
        min_bfmi = float("nan")

    failures = []
    if rhat is None:
        failures.append("R-hat needs at least 2 chains")
    elif not max_rhat <= THRESHOLDS["max_rhat"]:
        failures.append(f"max R-hat {max_rhat:.3f} > {THRESHOLDS['max_rhat']} ({rhat_var})")
    if not min_bulk >= THRESHOLDS["min_ess_bulk"]:
        failures.append(
            f"min bulk ESS {min_bulk:.0f} < {THRESHOLDS['min_ess_bulk']:.0f} ({bulk_var})"
        )
    if not min_tail >= THRESHOLDS["min_ess_tail"]:
        failures.append(f"min tail ESS {min_tail:.0f} < {THRESHOLDS['min_ess_tail']:.0f}")
    if divergences > THRESHOLDS["max_divergences"]:
        failures.append(f"{divergences} divergent transitions")
    if np.isfinite(min_bfmi) and min_bfmi < THRESHOLDS["min_bfmi"]:
        failures.append(f"min BFMI {min_bfmi:.2f} < {THRESHOLDS['min_bfmi']}")
    return ConvergenceReport(
        max_rhat=max_rhat,
        min_ess_bulk=min_bulk,
        min_ess_tail=min_tail,
        divergences=divergences,
        min_bfmi=min_bfmi,
        worst_rhat_variable=rhat_var,
        worst_ess_variable=bulk_var,
        failures=failures,
    )


def warn_if_failed(report: ConvergenceReport) -> None:
    """Emit a :class:`ConvergenceWarning` naming every failed check."""
    if not report.passed:
        warnings.warn(
            "fit failed its convergence checks: " + "; ".join(report.failures),
            ConvergenceWarning,
            stacklevel=3,
        )


def read_netcdf(path: Any) -> Any:
    """Read a saved posterior written by either stack (fully loaded, so the file can be replaced).

    See :func:`riskmodel.compat.read_netcdf`.
    """
    return compat.read_netcdf(path)
