"""Errors and warnings raised by riskmodel.

Every error a user can cause with bad input derives from :class:`RiskModelError`;
the command line turns it into a one-line message and exit code 2. Warnings derive
from :class:`RiskModelWarning` so they can be filtered by class.
"""

from __future__ import annotations

from pathlib import Path


class RiskModelError(Exception):
    """Base class of all errors caused by bad input, configuration or artifacts."""


class DataValidationError(RiskModelError, ValueError):
    """A customs, events or parameter file breaks the input rules.

    The message names the file, the line (1-based, counting the header as line 1)
    and the column, then says what is wrong, all on one line.

    Parameters
    ----------
    message : str
        What is wrong, e.g. ``"quantity is negative: '-3'"``.
    file : str or Path, optional
        The file the problem was found in.
    line : int, optional
        1-based line number in that file (the header is line 1).
    column : str, optional
        The column name.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.problem = message
        self.file = None if file is None else str(file)
        self.line = line
        self.column = column
        where = []
        if self.file is not None:
            where.append(self.file)
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column '{column}'")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


#: Problems spelled out in a :class:`PriorsError` message; ``problems`` holds them all.
MAX_LISTED_PROBLEMS = 10


class PriorsError(RiskModelError, ValueError):
    """A priors or scenario YAML file is invalid.

    The message lists the first :data:`MAX_LISTED_PROBLEMS` problems found (one
    missing section can make dozens of follow-on ones) and counts the rest; the
    ``problems`` attribute holds every one.
    """

    def __init__(self, file: str | Path, problems: list[str]) -> None:
        self.file = str(file)
        self.problems = list(problems)
        n = len(self.problems)
        joined = "; ".join(self.problems[:MAX_LISTED_PROBLEMS])
        if n > MAX_LISTED_PROBLEMS:
            joined += f"; and {n - MAX_LISTED_PROBLEMS} more"
        super().__init__(f"{self.file}: {n} problem{'s' if n != 1 else ''}: {joined}")


class ScenarioError(PriorsError):
    """A scenario YAML file is invalid; the message lists every problem found."""


class ArtifactMismatchError(RiskModelError):
    """A saved artifact (posterior, forecast) does not belong to the given data or priors."""


class BackendUnavailableError(RiskModelError):
    """The requested sampling backend is unknown or not installed."""


class LockedError(RiskModelError):
    """Another run holds the lock on the output directory."""


class RiskModelWarning(UserWarning):
    """Base class of riskmodel warnings."""


class ConvergenceWarning(RiskModelWarning):
    """A fit failed its convergence checks (R-hat, ESS, divergences, BFMI)."""


class DataQualityWarning(RiskModelWarning):
    """Input data is valid but thin or unusual (a series too short to model, say)."""
