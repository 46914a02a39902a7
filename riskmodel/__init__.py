"""riskmodel: calibrated probabilities of critical-mineral shortages from customs statistics.

The pipeline, one stage per subpackage::

    customs series (CSV) --customs--> validated series
    validated series + priors --models (PyMC / NUTS)--> posterior (InferenceData)
    posterior + scenario --forecast--> export paths (path x destination x month)
    export paths + industry parameters --propagation--> shortage distributions
    shortage distributions + diagnostics --report--> report

The public API is re-exported here and imported lazily, so ``import riskmodel`` (and
the command line's ``--help``) stay fast.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("riskmodel")
except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
    __version__ = "0+unknown"

#: Public name -> module that defines it.
_API = {
    "load_inputs": "riskmodel.pipeline",
    "fit": "riskmodel.pipeline",
    "fit_cached": "riskmodel.pipeline",
    "forecast": "riskmodel.pipeline",
    "shortage": "riskmodel.pipeline",
    "write_forecast": "riskmodel.pipeline",
    "write_shortage": "riskmodel.pipeline",
    "load_fit": "riskmodel.models.fit",
    "FittedModel": "riskmodel.models.fit",
    "forecast_table": "riskmodel.forecast",
    "propagate": "riskmodel.propagation",
    "buffer": "riskmodel.propagation.buffer",
    "write_shortage_outputs": "riskmodel.propagation",
    "read_customs": "riskmodel.customs",
    "load_bundled_customs": "riskmodel.customs",
    "reconcile": "riskmodel.customs",
    "load_scenario": "riskmodel.config",
    "scheduled_report": "riskmodel.report",
    "ReportOptions": "riskmodel.report",
    "ReportResult": "riskmodel.report",
    "watch": "riskmodel.forecast.alerts",
    "stage_seeds": "riskmodel.seeds",
    "SamplerConfig": "riskmodel.sampling",
    "DataValidationError": "riskmodel.exceptions",
    "RiskModelError": "riskmodel.exceptions",
}

__all__ = ["__version__", *sorted(_API)]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'riskmodel' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
