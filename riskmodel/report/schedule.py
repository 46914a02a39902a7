"""Unattended report runs: one at a time, and never a half-written report at the path.

:func:`run_report` wraps any build (usually: run the pipeline, then
:func:`~riskmodel.report.render_report`) in three guarantees a cron job, a
systemd timer or an Airflow task needs.

The layout, for ``out_dir = reports/magnets``::

    reports/magnets              -> magnets.d/20260301T060002.118532Z   (a relative symlink)
    reports/magnets.d/
        20260301T060002.118532Z/   the current report (index.html, summary.json, ...)
        20260201T060001.904417Z/   the previous report, kept one run longer
        .riskmodel.lock            the lock file (flock; see below)
        .riskmodel.lock.owner      pid, host and start time of the run holding the lock
                                   (while it runs)
        cache/                     (the command line keeps its posterior cache here)
        reuse/                     stored forecast, shortage and figure outputs, each under
                                   the hash of what made it (riskmodel.report.reuse)

**One run at a time.** A run takes an exclusive ``flock`` on
``<out>.d/.riskmodel.lock`` (:mod:`filelock`) before it touches anything. A
second run fails at once with :class:`~riskmodel.exceptions.LockedError`
("... is locked by another run (pid ...)"), or with ``wait=True`` blocks until
the first one ends. The kernel drops a ``flock`` when its process dies, however
it dies, so a killed run never leaves a stale lock behind. (On a file system
without ``flock`` the run stops with an error rather than fall back to a
lock file that a killed run would leave behind.)

**Atomic publication.** The report is built in a fresh directory
``<out>.d/<UTC timestamp>.partial``. Only when the build has returned is it
flushed to disk (fsync), renamed to ``<out>.d/<UTC timestamp>`` and published
by pointing the symlink ``<out>`` at it: a new symlink is made under a
temporary name and renamed over ``<out>`` with :func:`os.replace`, which POSIX
makes atomic. So at every instant ``<out>`` is either the old complete report
or the new complete report, whatever moment the run is killed at:

- killed while building or before the rename: ``<out>`` still points at the
  old report; the ``.partial`` directory is debris;
- killed between the rename and the swap: same; the renamed directory is an
  unpublished orphan;
- killed after the swap: the new report is in place.

The report replaced is kept until the next run, so a reader (or a web server)
in the middle of reading it is not cut off; older ones are deleted. Debris of
killed runs (``*.partial``, ``*.deleting``, ``.work-*``, orphans, stale
temporary symlinks) is removed by the next run, under the lock. A build that
raises leaves nothing behind and the old report untouched.

If ``<out>`` is an ordinary directory (a report written by hand, or by an
older version), the first run swaps it for the symlink with Linux's
``renameat2(RENAME_EXCHANGE)``, still atomic, and keeps the old directory as
the previous report. Where that call is unavailable it falls back to two
renames, leaving ``<out>`` missing for an instant, once, and logs a warning.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from riskmodel.atomic import exchange, fsync_dir, remove, sync_tree, write_text
from riskmodel.exceptions import LockedError, RiskModelError
from riskmodel.report.changes import describe_changes, read_summary

__all__ = ["LOCK_NAME", "ReportPaths", "report_paths", "run_report"]

log = logging.getLogger(__name__)

#: Name of the lock file inside ``<out>.d``.
LOCK_NAME = ".riskmodel.lock"
SUMMARY_FILE = "summary.json"
PREVIOUS_SUMMARY = "previous_summary.json"
_REPORT_NAME = re.compile(r"^\d{8}T\d{6}\.\d{6}Z(-\d+)?(-legacy)?$")


@dataclass(frozen=True)
class ReportPaths:
    """Where an unattended report lives.

    Attributes
    ----------
    out : Path
        The stable path readers open (a symlink to the current report).
    store : Path
        ``<out>.d``: the report directories, the lock and the caches.
    lock : Path
        The lock file.
    owner : Path
        Who holds the lock (pid, host, start time), for the "locked" message.
    """

    out: Path
    store: Path
    lock: Path
    owner: Path

    def current(self) -> Path | None:
        """Return the directory of the current report, or None when there is none."""
        if self.out.is_symlink():
            target = self.out.resolve()
            return target if target.is_dir() else None
        if self.out.is_dir():
            return self.out
        return None


def report_paths(out_dir: str | os.PathLike[str]) -> ReportPaths:
    """Return the paths :func:`run_report` uses for ``out_dir``.

    Parameters
    ----------
    out_dir : str or PathLike
        The report path readers open.

    Returns
    -------
    ReportPaths
    """
    out = Path(os.path.abspath(os.fspath(out_dir)))
    store = out.parent / f"{out.name}.d"
    return ReportPaths(
        out=out, store=store, lock=store / LOCK_NAME, owner=store / f"{LOCK_NAME}.owner"
    )


# --------------------------------------------------------------------------- #
# The lock
# --------------------------------------------------------------------------- #


def _owner_text(paths: ReportPaths) -> str:
    try:
        info = json.loads(paths.owner.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    if not isinstance(info, dict):
        return ""
    return f" (pid {info.get('pid')} on {info.get('host')}, since {info.get('since')})"


def _make_lock(paths: ReportPaths) -> Any:
    import filelock

    try:
        # Recent filelock: never degrade to a lock file that a killed run would leave behind,
        # and never unlink the lock file (a waiter could then lock a file nobody else sees).
        return filelock.FileLock(str(paths.lock), fallback_to_soft=False, preserve_lock_file=True)
    except TypeError:  # older filelock: flock on Unix, lock file kept on release
        return filelock.FileLock(str(paths.lock))


@contextmanager
def _locked(paths: ReportPaths, *, wait: bool, wait_timeout: float | None) -> Iterator[None]:
    import filelock

    lock = _make_lock(paths)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        if not wait:
            raise LockedError(
                f"{paths.out} is locked by another riskmodel report run{_owner_text(paths)}; "
                "it is still writing the report (use --wait to wait for it)"
            ) from None
        log.info("waiting for the lock on %s, held by another run%s", paths.out, _owner_text(paths))
        try:
            lock.acquire(timeout=-1 if wait_timeout is None else wait_timeout)
        except filelock.Timeout:
            raise LockedError(
                f"{paths.out} is still locked by another riskmodel report run after "
                f"{wait_timeout:g} s{_owner_text(paths)}"
            ) from None
    except OSError as exc:
        raise RiskModelError(f"cannot lock {paths.lock}: {exc}") from None
    try:
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "argv": sys.argv,
        }
        try:
            write_text(paths.owner, json.dumps(info) + "\n")
        except OSError:  # pragma: no cover - only informational
            pass
        yield
    finally:
        paths.owner.unlink(missing_ok=True)  # while still holding the lock
        lock.release()


# --------------------------------------------------------------------------- #
# File system helpers
# --------------------------------------------------------------------------- #


def _new_name(store: Path) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    name, k = stamp, 0
    while (store / name).exists() or (store / f"{name}.partial").exists():
        k += 1
        name = f"{stamp}-{k}"
    return name


def _swap_link_prefix(paths: ReportPaths) -> str:
    return f".{paths.out.name}.swap-"


def _clean_debris(paths: ReportPaths) -> None:
    """Remove what killed runs left behind (called under the lock)."""
    for entry in paths.store.iterdir():
        name = entry.name
        if name.endswith((".partial", ".deleting")) or name.startswith(".work-"):
            log.info("removing %s, left by an interrupted run", entry)
            remove(entry)
    prefix = _swap_link_prefix(paths)
    for entry in paths.out.parent.iterdir():
        if entry.name.startswith(prefix) and entry.is_symlink():
            entry.unlink(missing_ok=True)


def _prune(paths: ReportPaths, keep: set[Path]) -> None:
    """Delete report directories other than ``keep`` (the current and the previous one)."""
    kept = {p.resolve() for p in keep if p is not None}
    for entry in paths.store.iterdir():
        if _REPORT_NAME.match(entry.name) and entry.is_dir() and not entry.is_symlink():
            if entry.resolve() not in kept:
                remove(entry)


def _publish(paths: ReportPaths, final: Path) -> Path | None:
    """Point ``paths.out`` at ``final`` atomically; return where an old real directory went."""
    parent = paths.out.parent
    link = parent / f"{_swap_link_prefix(paths)}{os.getpid()}"
    link.unlink(missing_ok=True)
    try:
        os.symlink(os.path.relpath(final, parent), link, target_is_directory=True)
    except OSError as exc:
        raise RiskModelError(
            f"cannot create a symlink in {parent} ({exc}); scheduled reports publish by swapping "
            "a symlink and need a file system that supports them"
        ) from None
    legacy: Path | None = None
    out = paths.out
    if out.is_symlink() or not out.exists():
        os.replace(link, out)
    elif out.is_dir():
        legacy = paths.store / f"{final.name}-legacy"
        if not any(out.iterdir()):
            out.rmdir()
            os.replace(link, out)
            legacy = None
        elif exchange(link, out):
            # ``out`` is now the symlink; the old directory sits at the temporary name.
            os.rename(link, legacy)
        else:
            log.warning(
                "%s is a plain directory; moving it to %s and putting a symlink in its place "
                "(a one-time step that is not atomic on this system)",
                out,
                legacy,
            )
            os.rename(out, legacy)
            os.replace(link, out)
    else:
        link.unlink(missing_ok=True)
        raise RiskModelError(f"{out} exists and is not a directory; choose another --out")
    fsync_dir(parent)
    return legacy


# --------------------------------------------------------------------------- #
# The run
# --------------------------------------------------------------------------- #


def _check_output(paths: ReportPaths) -> None:
    """Refuse an output path that holds something other than a riskmodel report.

    A riskmodel report is our symlink into ``<out>.d/`` or, for a report made by hand,
    a directory with ``index.html`` and ``summary.json``. Anything else (a typo for
    ``~/Documents``, say) is the user's and is never moved or deleted.
    """
    out = paths.out
    if out.is_symlink():
        target = Path(os.path.realpath(out))
        if target.parent != Path(os.path.realpath(paths.store)):
            raise RiskModelError(
                f"{out} is a symlink to {target}, not to a report in {paths.store}; "
                "choose another output"
            )
    elif out.exists() and not out.is_dir():
        raise RiskModelError(f"{out} exists and is not a directory; choose another output")
    elif out.is_dir() and any(out.iterdir()):
        if not ((out / "index.html").is_file() and (out / SUMMARY_FILE).is_file()):
            raise RiskModelError(
                f"{out} is a folder that is not a riskmodel report (no index.html and "
                f"{SUMMARY_FILE}); it is left untouched: choose another output"
            )


def run_report(
    out_dir: str | os.PathLike[str],
    build: Callable[[Path], None],
    *,
    wait: bool = False,
    wait_timeout: float | None = None,
) -> Path:
    """Build a report unattended: under a lock, in a fresh directory, swapped in atomically.

    Parameters
    ----------
    out_dir : str or PathLike
        The path readers open. After the run it is a symlink to the new report
        directory in ``<out_dir>.d/`` (see the module docstring for the scheme).
    build : callable
        ``build(directory)`` writes the complete report into ``directory`` (an
        empty, fresh directory), e.g. ``lambda d: render_report(inputs, d)``.
        Before it is called the previous report's ``summary.json`` is copied to
        ``directory/previous_summary.json``, where
        :func:`~riskmodel.report.render_report` finds it for "what changed".
        If it raises, nothing is published and the exception propagates.
    wait : bool, default False
        When another run holds the lock: False raises
        :class:`~riskmodel.exceptions.LockedError` at once, True waits.
    wait_timeout : float, optional
        With ``wait``, give up (``LockedError``) after this many seconds;
        default: wait as long as it takes.

    Returns
    -------
    Path
        ``out_dir`` (absolute), now showing the new report.

    Raises
    ------
    LockedError
        If another run holds the lock (and ``wait`` is false or timed out).
    RiskModelError
        If ``out_dir`` is a file, a folder or symlink that is not a riskmodel report,
        cannot be written, or the build wrote nothing.
    """
    paths = report_paths(out_dir)
    _check_output(paths)
    try:
        paths.store.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise RiskModelError(f"cannot write the report next to {paths.out}: {err}") from None
    with _locked(paths, wait=wait, wait_timeout=wait_timeout):
        _clean_debris(paths)
        previous = paths.current()
        name = _new_name(paths.store)
        partial = paths.store / f"{name}.partial"
        partial.mkdir()
        log.info("building the report in %s", partial)
        started = time.perf_counter()
        try:
            previous_summary = None
            if previous is not None and (previous / SUMMARY_FILE).is_file():
                previous_summary = read_summary(previous / SUMMARY_FILE)
                shutil.copyfile(previous / SUMMARY_FILE, partial / PREVIOUS_SUMMARY)
            build(partial)
            if not any(p.name != PREVIOUS_SUMMARY for p in partial.iterdir()):
                raise RiskModelError("the report build wrote nothing; the previous report is kept")
            sync_tree(partial)
            final = paths.store / name
            os.rename(partial, final)
            fsync_dir(paths.store)
        except BaseException:
            remove(partial)
            raise
        _log_changes(final, previous_summary)
        legacy = _publish(paths, final)
        keep = {final}
        if legacy is not None:
            keep.add(legacy)
        elif previous is not None and previous != paths.out:
            keep.add(previous)
        _prune(paths, keep)
        log.info(
            "published %s -> %s in %.1f s", paths.out, final.name, time.perf_counter() - started
        )
    return paths.out


def _log_changes(final: Path, previous_summary: dict[str, Any] | None) -> None:
    current = read_summary(final / SUMMARY_FILE)
    if current is None:
        return
    changes = current.get("changes")
    if not isinstance(changes, dict):
        from riskmodel.report.changes import compare_summaries

        changes = compare_summaries(previous_summary, current)
    for line in describe_changes(changes):
        log.info("what changed: %s", line)
