"""Ranges of the numeric run settings, shared by the command line, config files and the library.

A setting outside its range is refused before any work starts (a horizon of 10,000
months or a seed of 2**70 used to run, then overflow or crash).
"""

from __future__ import annotations

from typing import Any, Final

from riskmodel.exceptions import RiskModelError

__all__ = ["LIMITS", "check_setting"]

#: Setting -> (lowest, highest) allowed whole number.
LIMITS: Final[dict[str, tuple[int, int]]] = {
    "seed": (0, 2**32 - 1),
    "paths": (1, 1_000_000),
    "horizon": (1, 120),
    "draws": (1, 100_000),
    "tune": (1, 100_000),
    "chains": (1, 64),
    "chunk_size": (1, 1_000_000),
}


def check_setting(name: str, value: Any) -> int:
    """Return ``value`` as an int if it is a whole number in the range of ``name``.

    Raises
    ------
    RiskModelError
        One line naming the setting, its range and the value given.
    """
    low, high = LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise RiskModelError(f"{name} must be a whole number in [{low}, {high}], got {value!r:.40}")
    if not low <= value <= high:
        raise RiskModelError(f"{name} must lie in [{low}, {high}], got {value}")
    return int(value)
