"""Atomic writes: a killed run never leaves a half-written file or folder where a good one was.

:func:`atomic_write` replaces one file, :func:`atomic_folder` a folder of files that
belong together (a fit). :mod:`riskmodel.report.schedule` builds its symlink-swap
publication on the pieces below them (:func:`sync_tree`, :func:`exchange`, ...).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "atomic_folder",
    "atomic_write",
    "check_replaceable",
    "exchange",
    "fsync_dir",
    "remove",
    "sync_tree",
    "write_text",
]

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def atomic_write(target: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Write a file through a temporary sibling, then move it into place.

    Parameters
    ----------
    target : str or PathLike
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
        write(Path(tmp))
        # mkstemp creates the file 0600; give it the permissions a plain open() would,
        # so a web server can read a report
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_text(target: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``target`` atomically; see :func:`atomic_write`."""
    return atomic_write(target, lambda p: p.write_text(text, encoding="utf-8"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process
        pass
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_folder(
    target: str | os.PathLike[str], *, replaces: Collection[str] = ()
) -> Iterator[Path]:
    """Build a folder aside, then swap it in whole.

    Use as ``with atomic_folder(out, replaces=FILES) as tmp: <write into tmp>``.
    On a normal exit the files are flushed to disk and ``tmp`` takes the place of
    ``target`` in one rename (Linux ``renameat2(RENAME_EXCHANGE)`` when ``target``
    exists); the old folder is then deleted. On an exception (or interrupt) ``tmp``
    is deleted and ``target`` is left as it was. A process killed at any moment
    leaves ``target`` old and complete or new and complete; its debris (hidden
    ``.<name>.<pid>.*.partial`` siblings) is removed by the next write.

    Parameters
    ----------
    target : str or PathLike
        The folder; its parent is created if needed. A symlink is followed, so the
        folder it points at is replaced and the link kept.
    replaces : collection of str
        The names an existing ``target`` may hold (plus the hidden temporary files
        of :func:`atomic_write` on them); anything else in it is the user's, and the
        folder is then refused rather than replaced.

    Yields
    ------
    Path
        The empty temporary folder to write into.

    Raises
    ------
    NotADirectoryError, FileExistsError
        Before anything is written: see :func:`check_replaceable`.
    """
    target = Path(os.path.realpath(target))
    check_replaceable(target, replaces)
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{target.name}."
    for debris in target.parent.glob(f"{prefix}*.partial*"):
        pid = debris.name[len(prefix) :].split(".")[0]
        if pid.isdigit() and not _alive(int(pid)):  # left by a killed run
            remove(debris)
    prefix += f"{os.getpid()}."
    tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=".partial", dir=target.parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        yield tmp
        sync_tree(tmp)
        if not target.exists():
            os.rename(tmp, target)
        elif exchange(tmp, target):
            pass  # tmp now holds the old folder
        else:  # no renameat2: the old folder is moved aside for an instant
            old = Path(tempfile.mkdtemp(prefix=prefix, suffix=".partial", dir=target.parent))
            os.rename(target, old / target.name)
            os.rename(tmp, target)
            tmp = old
        fsync_dir(target.parent)
    finally:
        remove(tmp)


def check_replaceable(target: str | os.PathLike[str], replaces: Collection[str]) -> None:
    """Refuse a ``target`` of :func:`atomic_folder` (call it before expensive work).

    Parameters
    ----------
    target : str or PathLike
        The folder (it need not exist).
    replaces : collection of str
        See :func:`atomic_folder`.

    Raises
    ------
    NotADirectoryError
        If ``target`` is a file.
    FileExistsError
        If it holds entries other than ``replaces``; the message names them.
    """
    target = Path(target)
    if target.exists():
        if not target.is_dir():
            raise NotADirectoryError(f"{target} exists and is not a folder")
        foreign = sorted(
            e.name
            for e in target.iterdir()
            if e.name not in replaces and not e.name.startswith(tuple(f".{n}." for n in replaces))
        )
        if foreign:
            shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
            raise FileExistsError(f"{target} holds files that are not part of it ({shown})")


# --------------------------------------------------------------------------- #
# File-system pieces
# --------------------------------------------------------------------------- #


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Flush a directory's entries (renames, new files) to disk, where the system allows."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def sync_tree(root: str | os.PathLike[str]) -> None:
    """Flush every file and directory under ``root`` to disk."""
    for folder, _dirs, files in os.walk(root):
        for name in files:
            try:
                with open(os.path.join(folder, name), "rb") as handle:
                    os.fsync(handle.fileno())
            except OSError:  # pragma: no cover - unreadable special files
                pass
        fsync_dir(folder)


def remove(path: Path) -> None:
    """Delete a file, symlink or directory tree; a directory is renamed out of the way first.

    The rename (to ``<name>.deleting``) makes a half-deleted tree recognisable as
    debris should the process be killed during the delete.
    """
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
        return
    if not path.is_dir():
        return
    doomed = path
    if not path.name.endswith(".deleting"):
        doomed = path.with_name(path.name + ".deleting")
        try:
            os.rename(path, doomed)
        except OSError:
            doomed = path
    shutil.rmtree(doomed, ignore_errors=True)


def exchange(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at, name = ctypes.c_int, ctypes.c_char_p
    renameat2.argtypes = [at, name, at, name, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), os.fspath(a))
