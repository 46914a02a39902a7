"""Stage 5, report: stage outputs -> an HTML report with figures, CSVs and ``summary.json``.

- :class:`ReportInputs` / :class:`ScenarioResult`: what a report shows, read
  from the saved fit, forecast and shortage outputs (:meth:`ReportInputs.from_dirs`).
- :func:`render_report`: write ``index.html``, PNG figures, ``summary.json``
  and copies of the stage CSVs into a directory.
- :func:`run_report`: the unattended wrapper: a lock on the output path, a
  build in a fresh directory, an atomic swap into place, "what changed" logged.

This package never imports PyMC or ArviZ; it reads files with pandas and xarray.
"""

from __future__ import annotations

from riskmodel.report.changes import compare_summaries, describe_changes, read_summary
from riskmodel.report.inputs import ReportInputs, ScenarioResult
from riskmodel.report.render import render_report
from riskmodel.report.schedule import report_paths, run_report

__all__ = [
    "ReportInputs",
    "ScenarioResult",
    "compare_summaries",
    "describe_changes",
    "read_summary",
    "render_report",
    "report_paths",
    "run_report",
]
