"""Priors as data: parse and validate ``priors/*.yaml``.

A priors file names the model it belongs to and gives every prior as a
distribution with its parameters, a one-line ``reason`` and, where there is one,
a ``source``::

    model: export_model
    priors:
      demand_drift:
        dist: Normal
        mu: 0.005
        sigma: 0.01
        reason: Magnet exports grew about 6-10% a year 2016-2024.
        source: https://www.adamasintel.com/...
    settings:
      student_t_nu: {value: 4, reason: ...}

Each prior is a :class:`~riskmodel.config.dists.Dist` (one type and one reader for
every distribution in riskmodel); each setting a number with a declared range.
Validation collects every problem (unknown distribution, bad or missing
parameter, missing reason, unknown or missing prior, a setting out of range), each
with its line and column, and raises one :class:`~riskmodel.exceptions.PriorsError`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from riskmodel.config.dists import FAMILIES, Dist, parse_dist
from riskmodel.config.yamlio import Problems, read_yaml
from riskmodel.resources import priors_dir

__all__ = ["PriorSet", "SettingRange", "SettingSpec", "default_priors_path", "load_priors"]

#: A prior's required support -> (low, high, open at low) of its values.
_SUPPORTS: dict[str, tuple[float, float, bool]] = {
    "real": (-math.inf, math.inf, False),
    "positive": (0.0, math.inf, True),
    "unit": (0.0, 1.0, False),
}
#: Families a model prior may use (a point mass is not a prior of a free variable).
_PRIOR_FAMILIES = tuple(f for f in FAMILIES if f != "Fixed")


class SettingRange(NamedTuple):
    """The allowed values of a numeric setting: ``[low, high]``, open at either end if asked."""

    low: float = -math.inf
    high: float = math.inf
    open_low: bool = False
    open_high: bool = False
    integer: bool = False


@dataclass(frozen=True)
class SettingSpec:
    """A fixed modelling constant with its reason (e.g. the Student-t degrees of freedom)."""

    name: str
    value: float
    reason: str
    source: str = ""


@dataclass(frozen=True)
class PriorSet:
    """All priors and settings of one model, as loaded from a YAML file."""

    model: str
    priors: Mapping[str, Dist]
    settings: Mapping[str, SettingSpec]
    path: str = ""

    def __getitem__(self, name: str) -> Dist:
        return self.priors[name]

    def variable(self, name: str, **kwargs: Any) -> Any:
        """Create the PyMC variable ``name`` from its prior (inside a ``pm.Model``)."""
        return self.priors[name].to_pymc(name, **kwargs)

    def setting(self, name: str) -> Any:
        """Return the value of a setting (an ``int`` for whole-number settings)."""
        return self.settings[name].value

    @property
    def hash(self) -> str:
        """A short, stable hash of the priors' content (not of the file's formatting)."""
        canonical = json.dumps(
            {
                "model": self.model,
                "priors": {
                    k: {"dist": v.family, **v.kwargs} for k, v in sorted(self.priors.items())
                },
                "settings": {k: v.value for k, v in sorted(self.settings.items())},
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def load_priors(
    path: str | Path,
    *,
    model: str,
    required: Mapping[str, str],
    settings: Mapping[str, SettingRange],
) -> PriorSet:
    """Read and validate a priors file.

    Parameters
    ----------
    path : str or pathlib.Path
        The YAML file.
    model : str
        The model name the file must declare.
    required : mapping
        Prior names the model needs -> required support (``"real"``, ``"positive"``,
        ``"unit"``); missing or extra names are reported.
    settings : mapping
        Setting names the model needs -> their :class:`SettingRange`.

    Returns
    -------
    PriorSet

    Raises
    ------
    PriorsError
        With every problem found (line and column each), not just the first.
    """
    raw = read_yaml(path)
    problems = Problems(raw)
    if not problems.mapping(raw, "", "model, description, priors, settings"):
        problems.raise_if_any(path)
    problems.keys(raw, ("model", "description", "priors", "settings"), "")
    declared = raw.get("model")
    if declared != model:
        problems.add("model", f"is {declared!r}, expected {model!r}")
    priors_raw = raw.get("priors")
    settings_raw = raw.get("settings")
    priors: dict[str, Dist] = {}
    if problems.mapping(priors_raw, "priors", "prior name -> distribution"):
        problems.keys(priors_raw, tuple(required), "priors")
        for name, support in required.items():
            if name not in priors_raw:
                problems.add("priors", f"prior '{name}' is missing")
                continue
            low, high, open_low = _SUPPORTS[support]
            entry = priors_raw[name]
            kw = {"low": low, "high": high, "open_low": open_low}
            dist = parse_dist(entry, f"priors.{name}", problems, allowed=_PRIOR_FAMILIES, **kw)
            if dist is not None:
                priors[name] = dist
    values: dict[str, SettingSpec] = {}
    if problems.mapping(settings_raw, "settings", "setting name -> value and reason"):
        problems.keys(settings_raw, tuple(settings), "settings")
        for name, rule in settings.items():
            spec = _parse_setting(settings_raw, name, rule, problems)
            if spec is not None:
                values[name] = spec
    problems.raise_if_any(path)
    return PriorSet(model, priors, values, str(path))


def _parse_setting(
    raw: Mapping[str, Any], name: str, rule: SettingRange, problems: Problems
) -> SettingSpec | None:
    where = f"settings.{name}"
    if name not in raw:
        problems.add("settings", f"setting '{name}' is missing")
        return None
    entry = raw[name]
    if not problems.mapping(entry, where, "value and reason"):
        return None
    problems.keys(entry, ("value", "reason", "source"), where)
    reason = problems.one_line(entry.get("reason"), f"{where}.reason")
    source = problems.one_line(entry["source"], f"{where}.source") if "source" in entry else ""
    if "value" not in entry:
        problems.add(where, "missing 'value'")
        return None
    value = problems.number(entry["value"], f"{where}.value", **rule._asdict())
    if value is None or not reason:
        return None
    return SettingSpec(name, int(value) if rule.integer else value, reason, source)


def default_priors_path(model: str) -> Path:
    """Return the bundled priors file of a model, e.g. ``priors/export_model.yaml``."""
    return priors_dir() / f"{model}.yaml"
