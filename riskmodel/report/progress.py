"""Progress of a report run on stderr: a live bar in a terminal, plain log lines otherwise.

Under cron, systemd or Airflow stderr is a log, not a terminal; a progress bar
there is noise (carriage returns, redraws). :class:`Progress` draws a bar only
when the stream is a terminal and otherwise logs one line when a stage starts
and one when it ends, with its duration.

In a terminal, while a stage runs:

- the bar redraws every second, so its clock moves through a long stage (a cold
  fit compiles for about a minute before it samples);
- ``riskmodel`` log lines are printed above the bar instead of through it, and
  the latest one is shown after the stage name ("compiling the model ...");
- a log record marked ``extra={"external_progress": True}`` (the sampler, when
  it draws its own progress bars) clears the bar and stops the redraws until the
  next record or the end of the stage, so the two displays never share a line.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

__all__ = ["Progress"]

log = logging.getLogger("riskmodel.report")
#: Seconds between redraws of the bar within a stage.
REFRESH_SECONDS = 1.0
#: Most characters of the bar's description (stage name and latest log line).
DESC_CHARS = 80


def _not_riskmodel(record: logging.LogRecord) -> bool:
    return not (record.name == "riskmodel" or record.name.startswith("riskmodel."))


class _BarHandler(logging.Handler):
    """Send log records above the bar (``tqdm.write``) and show the latest in it."""

    def __init__(self, progress: Progress) -> None:
        super().__init__(logging.INFO)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.progress._on_record(record, self.format(record))
        except Exception:  # a display problem must never stop the run
            self.handleError(record)


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
        self._label = ""
        self._lock = threading.Lock()
        self._paused = False
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._handler: _BarHandler | None = None
        self._muted: list[logging.Handler] = []
        if bar:
            from tqdm import tqdm

            self._bar = tqdm(
                total=self.total,
                desc=desc,
                file=self.stream,
                unit="stage",
                leave=True,
                dynamic_ncols=True,
                bar_format="{desc} {n_fmt}/{total_fmt} |{bar}| {elapsed}",
            )
            self._redirect_logging()

    # ------------------------------------------------------------------ logging

    def _redirect_logging(self) -> None:
        """Print ``riskmodel`` log records through the bar while it is drawn.

        Handlers of the root logger that write to the same terminal skip those
        records meanwhile (a filter), so each line is printed once, above the bar.
        """
        for h in logging.getLogger().handlers:
            if isinstance(h, logging.StreamHandler) and h.stream in (self.stream, sys.stderr):
                h.addFilter(_not_riskmodel)
                self._muted.append(h)
        self._handler = _BarHandler(self)
        self._handler.setFormatter(logging.Formatter("riskmodel: %(message)s"))
        logging.getLogger("riskmodel").addHandler(self._handler)

    def _restore_logging(self) -> None:
        if self._handler is not None:
            logging.getLogger("riskmodel").removeHandler(self._handler)
            self._handler = None
        for h in self._muted:
            h.removeFilter(_not_riskmodel)
        self._muted.clear()

    def _on_record(self, record: logging.LogRecord, text: str) -> None:
        with self._lock:
            if self._bar is None:
                return
            if self._paused:
                self.stream.write(text + "\n")
            else:
                self._bar.write(text, file=self.stream)
            if getattr(record, "external_progress", False):
                self._bar.clear()
                self._paused = True  # the sampler draws its own bars until the next record
                return
            self._paused = False
            status = record.getMessage().splitlines()[0] if record.getMessage() else ""
            self._set_text(status)

    def _set_text(self, status: str = "") -> None:
        text = f"{self.desc}: {self._label}" if self._label else self.desc
        room = DESC_CHARS - len(text) - 3  # the status gives way to the bar, not the label
        if status and room >= 12:
            text += f" ({status if len(status) <= room else status[: room - 1] + '…'})"
        self._bar.set_description_str(text, refresh=not self._paused)

    # ------------------------------------------------------------------ ticking

    def _tick(self) -> None:
        while not self._stop.wait(REFRESH_SECONDS):
            with self._lock:
                if self._bar is not None and not self._paused:
                    self._bar.refresh()

    def _start_ticker(self) -> None:
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick, name="riskmodel-progress", daemon=True)
        self._ticker.start()

    def _stop_ticker(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None

    # ------------------------------------------------------------------ stages

    @contextmanager
    def stage(self, label: str) -> Iterator[None]:
        """Run one stage: ``with progress.stage("fit"): ...``."""
        number = self.done + 1
        start = time.perf_counter()
        if self._bar is not None:
            with self._lock:
                self._label = label
                self._paused = False
                self._set_text()
            self._start_ticker()
        else:
            log.info("[%d/%d] %s ...", number, self.total, label)
        try:
            yield
        finally:
            if self._bar is not None:
                self._stop_ticker()
                with self._lock:
                    self._paused = False
        self.done = number
        if self._bar is not None:
            with self._lock:
                self._bar.update(1)
        else:
            log.info(
                "[%d/%d] %s: done in %.1f s", number, self.total, label, time.perf_counter() - start
            )

    def note(self, message: str) -> None:
        """Say something between stages without breaking the bar."""
        if self._bar is not None:
            with self._lock:
                self._bar.write(f"{self.desc}: {message}", file=self.stream)
        else:
            log.info("%s", message)

    def close(self) -> None:
        """Finish the bar (if any) and give logging back its handlers."""
        self._stop_ticker()
        if self._bar is not None:
            with self._lock:
                self._label = ""
                self._bar.set_description_str(self.desc)
                self._bar.close()
                self._bar = None
        self._restore_logging()
