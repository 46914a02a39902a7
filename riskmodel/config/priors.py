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

Validation collects every problem (unknown distribution, bad or missing
parameter, missing reason, unknown or missing prior) and raises one
:class:`~riskmodel.exceptions.PriorsError` listing them all.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from riskmodel.exceptions import PriorsError
from riskmodel.resources import priors_dir

#: Distribution name -> (required parameters, support check per parameter).
DISTRIBUTIONS: dict[str, dict[str, str]] = {
    "Normal": {"mu": "real", "sigma": "positive"},
    "HalfNormal": {"sigma": "positive"},
    "LogNormal": {"mu": "real", "sigma": "positive"},
    "Beta": {"alpha": "positive", "beta": "positive"},
    "Gamma": {"alpha": "positive", "beta": "positive"},
    "Exponential": {"lam": "positive"},
    "Uniform": {"lower": "real", "upper": "real"},
}


@dataclass(frozen=True)
class PriorSpec:
    """One prior: a distribution name, its parameters, and why.

    Parameters
    ----------
    name : str
        The model variable the prior belongs to.
    dist : str
        A name from :data:`DISTRIBUTIONS`.
    params : dict
        The distribution's parameters.
    reason : str
        One line on why this prior.
    source : str
        Where the numbers come from ("" for a judgement).
    """

    name: str
    dist: str
    params: Mapping[str, float]
    reason: str
    source: str = ""

    def create_variable(self, name: str | None = None, **kwargs: Any) -> Any:
        """Create the PyMC random variable inside the current ``pm.Model`` context."""
        import pymc as pm  # local: config stays importable without PyMC

        return getattr(pm, self.dist)(name or self.name, **dict(self.params), **kwargs)

    def mean(self) -> float:
        """Return the prior mean (used for documentation and sanity checks)."""
        p = self.params
        if self.dist == "Normal":
            return float(p["mu"])
        if self.dist == "HalfNormal":
            return float(p["sigma"]) * math.sqrt(2 / math.pi)
        if self.dist == "LogNormal":
            return math.exp(p["mu"] + p["sigma"] ** 2 / 2)
        if self.dist == "Beta":
            return p["alpha"] / (p["alpha"] + p["beta"])
        if self.dist == "Gamma":
            return p["alpha"] / p["beta"]
        if self.dist == "Exponential":
            return 1 / p["lam"]
        return (p["lower"] + p["upper"]) / 2


@dataclass(frozen=True)
class SettingSpec:
    """A fixed modelling constant with its reason (e.g. the Student-t degrees of freedom)."""

    name: str
    value: Any
    reason: str
    source: str = ""


@dataclass(frozen=True)
class PriorSet:
    """All priors and settings of one model, as loaded from a YAML file."""

    model: str
    priors: Mapping[str, PriorSpec]
    settings: Mapping[str, SettingSpec]
    path: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __getitem__(self, name: str) -> PriorSpec:
        return self.priors[name]

    def setting(self, name: str) -> Any:
        """Return the value of a setting."""
        return self.settings[name].value

    @property
    def hash(self) -> str:
        """A short, stable hash of the priors' content (not of the file's formatting)."""
        canonical = json.dumps(
            {
                "model": self.model,
                "priors": {
                    k: {"dist": v.dist, **{p: float(x) for p, x in v.params.items()}}
                    for k, v in sorted(self.priors.items())
                },
                "settings": {k: v.value for k, v in sorted(self.settings.items())},
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _parse_prior(name: str, entry: Any, problems: list[str]) -> PriorSpec | None:
    where = f"prior '{name}'"
    if not isinstance(entry, Mapping):
        problems.append(f"{where}: expected a mapping with dist, parameters and reason")
        return None
    n_before = len(problems)
    dist = entry.get("dist")
    if dist not in DISTRIBUTIONS:
        problems.append(
            f"{where}: unknown dist {dist!r} (choose from {', '.join(sorted(DISTRIBUTIONS))})"
        )
        return None
    wanted = DISTRIBUTIONS[dist]
    params: dict[str, float] = {}
    for pname, support in wanted.items():
        if pname not in entry:
            problems.append(f"{where}: {dist} needs parameter '{pname}'")
            continue
        value = entry[pname]
        if not _is_number(value):
            problems.append(f"{where}: parameter '{pname}' must be a finite number, got {value!r}")
        elif support == "positive" and value <= 0:
            problems.append(f"{where}: parameter '{pname}' must be > 0, got {value!r}")
        else:
            params[pname] = float(value)
    if dist == "Uniform" and len(params) == 2 and params["lower"] >= params["upper"]:
        problems.append(f"{where}: Uniform needs lower < upper")
    extra = set(entry) - set(wanted) - {"dist", "reason", "source"}
    if extra:
        problems.append(f"{where}: unknown keys {sorted(extra)} for {dist}")
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        problems.append(f"{where}: needs a one-line 'reason'")
    source = entry.get("source", "")
    if not isinstance(source, str):
        problems.append(f"{where}: 'source' must be text")
    if len(problems) > n_before:
        return None
    return PriorSpec(name, dist, params, reason.strip(), source)


def _parse_setting(name: str, entry: Any, problems: list[str]) -> SettingSpec | None:
    where = f"setting '{name}'"
    if not isinstance(entry, Mapping) or "value" not in entry:
        problems.append(f"{where}: expected a mapping with 'value' and 'reason'")
        return None
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        problems.append(f"{where}: needs a one-line 'reason'")
        return None
    extra = set(entry) - {"value", "reason", "source"}
    if extra:
        problems.append(f"{where}: unknown keys {sorted(extra)}")
        return None
    return SettingSpec(name, entry["value"], reason.strip(), str(entry.get("source", "")))


def parse_priors(
    raw: Any,
    *,
    path: str | Path = "<priors>",
    required: Mapping[str, str] | None = None,
    required_settings: Mapping[str, type | tuple[type, ...]] | None = None,
    model: str | None = None,
) -> PriorSet:
    """Validate a parsed YAML document and return a :class:`PriorSet`.

    Parameters
    ----------
    raw : object
        The document as loaded by ``yaml.safe_load``.
    path : str or Path
        Shown in error messages.
    required : mapping, optional
        Prior names the model needs -> allowed support ("real", "positive", "unit"):
        missing or extra names are reported.
    required_settings : mapping, optional
        Setting names the model needs -> expected Python type(s).
    model : str, optional
        The model name the file must declare.

    Raises
    ------
    PriorsError
        With every problem found, not just the first.
    """
    problems: list[str] = []
    if not isinstance(raw, Mapping):
        raise PriorsError(path, ["expected a YAML mapping with 'model', 'priors' and 'settings'"])
    unknown_top = set(raw) - {"model", "description", "priors", "settings"}
    if unknown_top:
        problems.append(f"unknown top-level keys {sorted(unknown_top)}")
    declared = raw.get("model")
    if model is not None and declared != model:
        problems.append(f"'model' is {declared!r}, expected {model!r}")
    priors_raw = raw.get("priors")
    if not isinstance(priors_raw, Mapping):
        problems.append("'priors' must be a mapping of prior name -> distribution")
        priors_raw = {}
    settings_raw = raw.get("settings", {}) or {}
    if not isinstance(settings_raw, Mapping):
        problems.append("'settings' must be a mapping")
        settings_raw = {}

    priors: dict[str, PriorSpec] = {}
    for name, entry in priors_raw.items():
        spec = _parse_prior(str(name), entry, problems)
        if spec is not None:
            priors[str(name)] = spec
    settings: dict[str, SettingSpec] = {}
    for name, entry in settings_raw.items():
        spec = _parse_setting(str(name), entry, problems)
        if spec is not None:
            settings[str(name)] = spec

    if required is not None:
        for name in sorted(set(required) - set(priors_raw)):
            problems.append(f"prior '{name}' is missing")
        for name in sorted(set(priors_raw) - set(required)):
            problems.append(f"prior '{name}' is not used by this model")
        for name, support in required.items():
            spec = priors.get(name)
            if spec is None:
                continue
            if support == "positive" and spec.dist in ("Normal", "Uniform"):
                lower = spec.params.get("lower", -math.inf)
                if lower < 0:
                    problems.append(f"prior '{name}' must have positive support, not {spec.dist}")
            if support == "unit" and spec.dist != "Beta":
                problems.append(f"prior '{name}' must lie in (0, 1): use Beta")
    if required_settings is not None:
        for name in sorted(set(required_settings) - set(settings_raw)):
            problems.append(f"setting '{name}' is missing")
        for name in sorted(set(settings_raw) - set(required_settings)):
            problems.append(f"setting '{name}' is not used by this model")
        for name, typ in required_settings.items():
            spec = settings.get(name)
            if spec is not None and (
                not isinstance(spec.value, typ) or isinstance(spec.value, bool)
            ):
                problems.append(f"setting '{name}' has the wrong type: {spec.value!r}")
    if problems:
        raise PriorsError(path, problems)
    return PriorSet(str(declared), priors, settings, str(path), raw)


def read_yaml(path: str | Path) -> Any:
    """Read a YAML file safely, turning syntax errors into a one-line :class:`PriorsError`."""
    path = Path(path)
    if not path.is_file():
        raise PriorsError(path, ["file not found"])
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise PriorsError(path, ["not a UTF-8 text file"]) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise PriorsError(path, [f"{where}YAML syntax error: {problem}"]) from None


def default_priors_path(model: str) -> Path:
    """Return the bundled priors file of a model, e.g. ``priors/export_model.yaml``."""
    return priors_dir() / f"{model}.yaml"
