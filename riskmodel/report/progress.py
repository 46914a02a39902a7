"""Progress of a report run on stderr: a tqdm bar in a terminal, plain log lines otherwise.

Under cron, systemd or Airflow stderr is a log, not a terminal; a progress bar
there is noise (carriage returns, redraws). :class:`Progress` draws a bar only
when the stream is a terminal and otherwise logs one line when a stage starts
and one when it ends, with its duration.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

__all__ = ["Progress"]

log = logging.getLogger("riskmodel.report")


class Progress:
    """Report the stages of a run.

    Parameters
    ----------
    total : int
        Number of stages.
    desc : str, default "report"
        Shown before the stage name.
    stream : file, optional
        Where the bar goes; default ``sys.stderr``.
    bar : bool, optional
        Force the bar on or off; default: on when ``stream`` is a terminal.
    """

    def __init__(
        self,
        total: int,
        *,
        desc: str = "report",
        stream: TextIO | None = None,
        bar: bool | None = None,
    ) -> None:
        self.total = int(total)
        self.desc = desc
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        if bar is None:
            isatty = getattr(self.stream, "isatty", None)
            bar = bool(isatty and isatty())
        self._bar: Any = None
        if bar:
            from tqdm import tqdm

            self._bar = tqdm(
                total=self.total,
                desc=desc,
                file=self.stream,
                unit="stage",
                leave=True,
                dynamic_ncols=True,
                bar_format="{desc}: {n_fmt}/{total_fmt} |{bar}| {elapsed}",
            )

    @contextmanager
    def stage(self, label: str) -> Iterator[None]:
        """Run one stage: ``with progress.stage("fit"): ...``."""
        number = self.done + 1
        start = time.perf_counter()
        if self._bar is not None:
            self._bar.set_description_str(f"{self.desc}: {label}")
        else:
            log.info("[%d/%d] %s ...", number, self.total, label)
        yield
        self.done = number
        if self._bar is not None:
            self._bar.update(1)
        else:
            log.info(
                "[%d/%d] %s: done in %.1f s", number, self.total, label, time.perf_counter() - start
            )

    def note(self, message: str) -> None:
        """Say something between stages without breaking the bar."""
        if self._bar is not None:
            self._bar.write(f"{self.desc}: {message}", file=self.stream)
        else:
            log.info("%s", message)

    def close(self) -> None:
        """Finish the bar (if any)."""
        if self._bar is not None:
            self._bar.set_description_str(self.desc)
            self._bar.close()
            self._bar = None
