"""Where the bundled data and default priors live.

In a wheel (``pip install .``) they are copied into ``riskmodel/_bundled/``; in a
source checkout or editable install they sit at the top of the repository. Both are
looked up here, so no other module needs to know.
"""

from __future__ import annotations

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
