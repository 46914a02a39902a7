"""Reuse of a previous run's stage outputs and figures when nothing that made them changed.

A warm ``riskmodel report`` (same data bytes, priors, scenarios, settings, seed, code)
would otherwise recompute every scenario's forecast paths and shortage Monte Carlo and
redraw every figure. Here each output is stored under a key: the SHA-256 of everything
that made it (:func:`digest` of its inputs, plus :func:`code_fingerprint`), so an entry
is reused only when a recomputation would give the same bytes.

The store lives in ``<out>.d/reuse/`` (beside the posterior cache)::

    reuse/scenario/<key>/   forecast.csv, paths.nc, shortage.csv, ... and manifest.json
    reuse/figure/<key>/     figure.png (or nothing: "nothing to draw") and manifest.json

``manifest.json`` records the SHA-256 of every file; an entry is used only when every
file still hashes to it. An entry that does not (truncated, edited, half written) is
set aside as ``<key>.bad-<time>`` with a warning and rebuilt: never a permanent failure,
and nothing is deleted until a later run prunes it. Entries are written into a
temporary folder and renamed into place, so a killed run leaves no partial entry under
a key. After a successful run, :meth:`ReuseStore.prune` drops what that run did not use.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmodel import __version__
from riskmodel.atomic import fsync_dir, remove
from riskmodel.resources import source_digest

__all__ = ["MANIFEST", "ReuseStore", "code_fingerprint", "digest", "file_digest"]

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
_PACKAGE = Path(__file__).resolve().parents[1]
#: Libraries whose versions can change the numbers or the pictures.
_LIBRARIES = ("numpy", "pandas", "xarray", "scipy", "numba", "matplotlib", "pillow", "h5netcdf")
_BAD = ".bad-"
_TMP = ".tmp-"

_code: str | None = None
_files: dict[tuple[str, int, int, int], str] = {}


def code_fingerprint() -> str:
    """SHA-256 of the riskmodel source and the versions of the libraries that compute.

    Any edit of any module of the package (or a library upgrade) changes it, so stored
    outputs are never reused across code versions. Computed once per process.
    """
    global _code
    if _code is None:
        h = hashlib.sha256(f"riskmodel {__version__}\n".encode())
        h.update(source_digest(_PACKAGE, "**/*.py").encode())
        for name in _LIBRARIES:
            try:
                version = metadata.version(name)
            except metadata.PackageNotFoundError:
                version = "-"
            h.update(f"{name} {version}\n".encode())
        _code = h.hexdigest()
    return _code


def file_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes (remembered per inode, size and mtime within a process)."""
    st = os.stat(path)
    ident = (str(path), st.st_ino, st.st_size, st.st_mtime_ns)
    if ident not in _files:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _files[ident] = h.hexdigest()
    return _files[ident]


def _feed(h: Any, obj: Any) -> None:
    """Feed a canonical byte form of ``obj`` into the hash ``h``."""
    if obj is None or isinstance(obj, bool | int | float | str):
        h.update(f"{type(obj).__name__}:{obj!r};".encode())
    elif isinstance(obj, bytes):
        h.update(b"bytes:%d;" % len(obj) + obj)
    elif isinstance(obj, Path):
        h.update(f"path:{obj};".encode())
    elif isinstance(obj, np.generic):
        _feed(h, obj.item())
    elif isinstance(obj, np.ndarray):
        h.update(f"array:{obj.dtype.str}:{obj.shape};".encode())
        if obj.dtype.hasobject:
            _feed(h, obj.tolist())
        else:
            h.update(np.ascontiguousarray(obj).tobytes())
    elif isinstance(obj, pd.DataFrame):
        h.update(b"frame;")
        _feed(h, [str(c) for c in obj.columns])
        _feed(h, [str(t) for t in obj.dtypes])
        h.update(pd.util.hash_pandas_object(obj, index=True).to_numpy().tobytes())
    elif isinstance(obj, pd.Series):
        h.update(f"series:{obj.name}:{obj.dtype};".encode())
        h.update(pd.util.hash_pandas_object(obj, index=True).to_numpy().tobytes())
    elif hasattr(obj, "data_vars") and hasattr(obj, "coords"):  # xarray.Dataset
        h.update(b"dataset;")
        for name in sorted(map(str, obj.variables)):
            var = obj.variables[name]
            _feed(h, [name, list(map(str, var.dims)), dict(var.attrs)])
            _feed(h, np.asarray(var.values))
        _feed(h, dict(obj.attrs))
    elif isinstance(obj, Mapping):
        h.update(f"map:{len(obj)};".encode())
        for key in sorted(obj, key=str):
            _feed(h, str(key))
            _feed(h, obj[key])
    elif isinstance(obj, list | tuple):
        h.update(f"seq:{len(obj)};".encode())
        for item in obj:
            _feed(h, item)
    elif isinstance(obj, set | frozenset):
        _feed(h, sorted(obj, key=repr))
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        h.update(f"dataclass:{type(obj).__qualname__};".encode())
        for f in dataclasses.fields(obj):
            if f.name != "files":  # where the stage files happen to lie, not what they hold
                _feed(h, f.name)
                _feed(h, getattr(obj, f.name))
    else:
        raise TypeError(f"cannot fingerprint a {type(obj).__name__}")


def digest(*parts: Any) -> str:
    """SHA-256 of the content of ``parts`` and of :func:`code_fingerprint`.

    Parameters
    ----------
    *parts
        Plain values, NumPy arrays, pandas frames and series, xarray datasets, dicts,
        sequences and dataclasses of these (a ``files`` field is left out).

    Returns
    -------
    str
        64 hex digits.

    Raises
    ------
    TypeError
        For an object of another kind (so nothing is silently left out of a key).
    """
    h = hashlib.sha256(code_fingerprint().encode())
    for part in parts:
        _feed(h, part)
    return h.hexdigest()


class ReuseStore:
    """Stored stage outputs and figures, each under the key of what made it.

    Parameters
    ----------
    root : Path
        The store's folder (``<out>.d/reuse``); created when first written.
    enabled : bool, default True
        False: nothing is looked up or stored (every output is recomputed).
    """

    def __init__(self, root: str | os.PathLike[str], *, enabled: bool = True) -> None:
        self.root = Path(root)
        self.enabled = enabled
        self.used: set[Path] = set()

    def _entry(self, kind: str, key: str) -> Path:
        return self.root / kind / key

    def get(self, kind: str, key: str) -> Path | None:
        """Return the verified folder stored under ``key``, or None.

        A folder whose files do not match its manifest is set aside (renamed
        ``<key>.bad-<time>``) with a warning, and None is returned.
        """
        if not self.enabled:
            return None
        entry = self._entry(kind, key)
        if not entry.is_dir():
            return None
        problem = self._check(entry)
        if problem is None:
            self.used.add(entry)
            return entry
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        aside = entry.with_name(f"{key}{_BAD}{stamp}")
        log.warning(
            "stored %s output %s is damaged (%s); set aside as %s and rebuilt",
            kind,
            entry,
            problem,
            aside.name,
        )
        os.rename(entry, aside)
        self.used.add(aside)  # kept until a later run, for a look
        return None

    @staticmethod
    def _check(entry: Path) -> str | None:
        """Return what is wrong with a stored entry, or None when every file verifies."""
        try:
            manifest = json.loads((entry / MANIFEST).read_text(encoding="utf-8"))
            files = manifest["files"]
            if not isinstance(files, dict):
                return "manifest lists no files"
            present = {p.name for p in entry.iterdir()} - {MANIFEST}
            if present != set(files):
                return "files differ from the manifest"
            for name, expected in files.items():
                if file_digest(entry / name) != expected:
                    return f"{name} does not match its recorded hash"
        except (OSError, ValueError, KeyError, TypeError) as exc:
            return f"unreadable manifest ({type(exc).__name__})"
        return None

    def put(self, kind: str, key: str, files: Iterable[Path]) -> Path | None:
        """Store ``files`` (hard-linked where possible, else copied) under ``key``.

        Returns
        -------
        Path or None
            The stored folder; None when the store is disabled or cannot be written
            (then the run goes on with its own files, and a warning says why).
        """
        if not self.enabled:
            return None
        entry = self._entry(kind, key)
        tmp = entry.with_name(f"{_TMP}{key}.{os.getpid()}")
        try:
            remove(tmp)
            tmp.mkdir(parents=True)
            recorded = {}
            for src in files:
                target = tmp / src.name
                try:
                    os.link(src, target)
                except OSError:
                    shutil.copyfile(src, target)
                recorded[src.name] = file_digest(target)
            manifest = {"key": key, "kind": kind, "files": recorded, "created": time.time()}
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
            if entry.exists():
                remove(entry)
            os.rename(tmp, entry)
            fsync_dir(entry.parent)
        except OSError as exc:
            log.warning(
                "cannot store %s output in %s (%s); it is recomputed next time", kind, entry, exc
            )
            remove(tmp)
            return None
        self.used.add(entry)
        return entry

    def prune(self) -> None:
        """Remove entries (and set-aside or temporary debris) this run did not use."""
        if not self.enabled or not self.root.is_dir():
            return
        for kind_dir in self.root.iterdir():
            if not kind_dir.is_dir():
                continue
            for entry in kind_dir.iterdir():
                if entry not in self.used:
                    remove(entry)
