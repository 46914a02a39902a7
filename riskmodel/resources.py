"""Where the bundled data and default priors live, and the digest of source files.

In a wheel (``pip install .``) they are copied into ``riskmodel/_bundled/``; in a
source checkout or editable install they sit at the top of the repository. Both are
looked up here, so no other module needs to know.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    for candidate in (_PACKAGE_DIR / "_bundled" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"bundled folder '{name}' not found next to the riskmodel package; "
        "the installation is incomplete (reinstall with pip install .)"
    )


def data_dir() -> Path:
    """Return the folder holding the bundled customs series and parameter tables."""
    return _find("data")


def priors_dir() -> Path:
    """Return the folder holding the default priors and scenarios (YAML)."""
    return _find("priors")


def bundled_data_file(name: str) -> Path:
    """Return the path of one bundled data file, e.g. ``"magnet_exports.csv"``."""
    path = data_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"no bundled data file '{name}' in {data_dir()}")
    return path


def source_digest(folder: Path, pattern: str = "*.py", *, skip: Collection[str] = ()) -> str:
    """SHA-256 (hex) of the files in ``folder`` matching ``pattern``: names and bytes.

    Files are taken in path order, each as its path relative to ``folder`` and its
    bytes, so an edit, a new file or a renamed one changes the digest. ``skip`` names
    relative paths to leave out. It keys what code made a stored result: the report's
    reuse store (the whole package) and a cached posterior (the model's modules).
    """
    h = hashlib.sha256()
    for path in sorted(folder.glob(pattern)):
        name = path.relative_to(folder).as_posix()
        if name not in skip:
            h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()
