"""Stage 5, report: stage outputs -> an HTML report with figures, CSVs and ``summary.json``.

- :func:`scheduled_report` / :class:`ReportOptions`: the whole scheduled run (data,
  fit, forecast, shortage, report) as one library call; ``riskmodel report`` is a
  thin shell over it.
- :class:`ReportInputs` / :class:`ScenarioResult`: what a report shows, read
  from the saved fit, forecast and shortage outputs (:meth:`ReportInputs.from_dirs`).
- :func:`render_report`: write ``index.html``, PNG figures, ``summary.json``
  and copies of the stage CSVs into a directory.
- :func:`run_report`: the unattended wrapper: a lock on the output path, a
  build in a fresh directory, an atomic swap into place, "what changed" logged.

This package never imports PyMC or ArviZ itself (the scheduled run imports the
pipeline when it starts); it reads files with pandas and xarray. Names are imported
lazily, so the command line's ``--help`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> module that defines it.
_API = {
    "ReportInputs": "riskmodel.report.inputs",
    "ScenarioResult": "riskmodel.report.inputs",
    "compare_summaries": "riskmodel.report.changes",
    "describe_changes": "riskmodel.report.changes",
    "read_summary": "riskmodel.report.changes",
    "render_report": "riskmodel.report.render",
    "report_paths": "riskmodel.report.schedule",
    "run_report": "riskmodel.report.schedule",
    "ReportOptions": "riskmodel.report.run",
    "ReportResult": "riskmodel.report.run",
    "scheduled_report": "riskmodel.report.run",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'riskmodel.report' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
