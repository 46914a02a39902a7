"""riskmodel: calibrated probabilities of critical-mineral shortages from customs statistics.

The pipeline, one stage per subpackage::

    customs series (CSV) --customs--> validated series
    validated series + priors --models (PyMC / NUTS)--> posterior (InferenceData)
    posterior + scenario --forecast--> export paths (path x destination x month)
    export paths + industry parameters --propagation--> shortage distributions
    shortage distributions + diagnostics --report--> report
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("riskmodel")
except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
    __version__ = "0+unknown"

__all__ = ["__version__"]
