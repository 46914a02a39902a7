"""Atomic file writes: a killed run never leaves a half-written file where a good one was."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(target: str | Path, write: Callable[[str], object]) -> Path:
    """Write a file through a temporary sibling, then move it into place.

    Parameters
    ----------
    target : str or Path
        The file to (re)write; its directory must exist.
    write : callable
        Called with the temporary path; must write the whole file there.

    Returns
    -------
    Path
        ``target``. On any error (or interrupt) the temporary file is removed and
        ``target`` is left as it was.
    """
    target = Path(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        # mkstemp creates the file 0600; give it the permissions a plain open() would
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
