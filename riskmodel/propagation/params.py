"""Parameters of the propagation layer: load, validate and describe ``priors/propagation.yaml``.

The file (documented in itself) gives the regions and the destinations that make
them, the industries, and one distribution per uncertain quantity, each with a
one-line ``reason`` and a ``source`` or ``judgement: true``. :func:`load_params`
reads it, checks everything and reports every problem at once in a
:class:`~riskmodel.exceptions.PriorsError`; the result is an immutable
:class:`PropagationParams`.

Distributions (all drawn in float32, once per Monte Carlo path):

``Beta(alpha, beta)``, ``LogNormal(median, sigma)`` (median in the natural unit,
``sigma`` of the log), ``Normal(mu, sigma)``, ``Uniform(lower, upper)``,
``Fixed(value)``; shares are ``Dirichlet`` (mean, concentration) or ``Fixed``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from riskmodel.exceptions import PriorsError
from riskmodel.resources import priors_dir

__all__ = [
    "DISTRIBUTIONS",
    "CapacityProject",
    "Dist",
    "PropagationParams",
    "RegionSpec",
    "default_params_path",
    "load_params",
    "parse_params",
]

#: Allowed distributions and their parameters (all required).
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "Beta": ("alpha", "beta"),
    "LogNormal": ("median", "sigma"),
    "Normal": ("mu", "sigma"),
    "Uniform": ("lower", "upper"),
    "Fixed": ("value",),
}

_META_KEYS = ("dist", "reason", "source", "judgement")
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_TOP_KEYS = (
    "model",
    "description",
    "regions",
    "industries",
    "china_share",
    "industry_shares",
    "demand_growth",
    "substitution_per_year",
    "inventory_cover_weeks",
    "restock_multiple",
    "magnet_content_kg",
    "new_capacity",
)
_OPTIONAL_TOP = ("description", "new_capacity")


def default_params_path() -> Path:
    """Return the path of the bundled ``priors/propagation.yaml``."""
    return priors_dir() / "propagation.yaml"


# --------------------------------------------------------------------------------------
# Distributions
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dist:
    """One distribution with its provenance.

    Parameters
    ----------
    name : str
        One of :data:`DISTRIBUTIONS`.
    params : tuple of (str, float)
        Its parameters, in the order of :data:`DISTRIBUTIONS`.
    reason : str
        One line: why this distribution.
    source : str, optional
        Where the numbers come from (several sources joined with ``" | "``).
    judgement : bool
        True when no public figure pins the value down.
    """

    name: str
    params: tuple[tuple[str, float], ...]
    reason: str = ""
    source: str | None = None
    judgement: bool = False

    def __getitem__(self, key: str) -> float:
        return dict(self.params)[key]

    @classmethod
    def fixed(cls, value: float, reason: str = "fixed", *, judgement: bool = True) -> Dist:
        """Build a point mass (handy in tests and scripts)."""
        return cls("Fixed", (("value", float(value)),), reason, None, judgement)

    @property
    def is_fixed(self) -> bool:
        """True for a point mass (no random numbers are drawn)."""
        return self.name == "Fixed"

    def support(self) -> tuple[float, float]:
        """Return the closed interval holding every draw."""
        p = dict(self.params)
        if self.name == "Beta":
            return (0.0, 1.0)
        if self.name == "LogNormal":
            return (0.0, math.inf)
        if self.name == "Normal":
            return (-math.inf, math.inf)
        if self.name == "Uniform":
            return (p["lower"], p["upper"])
        return (p["value"], p["value"])

    def center(self) -> float:
        """Return a central value (mean; median for LogNormal) for summaries."""
        p = dict(self.params)
        if self.name == "Beta":
            return p["alpha"] / (p["alpha"] + p["beta"])
        if self.name == "LogNormal":
            return p["median"]
        if self.name == "Normal":
            return p["mu"]
        if self.name == "Uniform":
            return 0.5 * (p["lower"] + p["upper"])
        return p["value"]

    def interval90(self) -> tuple[float, float]:
        """Return the 5th and 95th percentiles (exact for all but Beta, normal approx.)."""
        p = dict(self.params)
        z = 1.6448536269514722
        if self.name == "LogNormal":
            return (p["median"] * math.exp(-z * p["sigma"]), p["median"] * math.exp(z * p["sigma"]))
        if self.name == "Normal":
            return (p["mu"] - z * p["sigma"], p["mu"] + z * p["sigma"])
        if self.name == "Uniform":
            w = p["upper"] - p["lower"]
            return (p["lower"] + 0.05 * w, p["lower"] + 0.95 * w)
        if self.name == "Beta":
            a, b = p["alpha"], p["beta"]
            m = a / (a + b)
            sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
            return (max(0.0, m - z * sd), min(1.0, m + z * sd))
        return (p["value"], p["value"])

    def describe(self) -> str:
        """Return e.g. ``"LogNormal(median=7, sigma=0.334)"``."""
        inner = ", ".join(f"{k}={v:g}" for k, v in self.params)
        return f"{self.name}({inner})"

    def draw(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
        """Draw ``size`` values in float32 (no random numbers for ``Fixed``).

        Parameters
        ----------
        rng : numpy.random.Generator
            Source of randomness.
        size : int or tuple of int
            Output shape.

        Returns
        -------
        numpy.ndarray
            float32 draws.
        """
        p = dict(self.params)
        f32 = np.float32
        if self.name == "Fixed":
            return np.full(size, p["value"], dtype=f32)
        if self.name == "Normal":
            return f32(p["mu"]) + f32(p["sigma"]) * rng.standard_normal(size, dtype=f32)
        if self.name == "LogNormal":
            z = rng.standard_normal(size, dtype=f32)
            return f32(p["median"]) * np.exp(f32(p["sigma"]) * z)
        if self.name == "Uniform":
            u = rng.random(size, dtype=f32)
            return f32(p["lower"]) + f32(p["upper"] - p["lower"]) * u
        if self.name == "Beta":
            x = rng.standard_gamma(p["alpha"], size, dtype=f32)
            y = rng.standard_gamma(p["beta"], size, dtype=f32)
            total = x + y
            return np.divide(x, total, out=np.full_like(x, f32(0.5)), where=total > 0)
        raise AssertionError(self.name)  # pragma: no cover - validated on parse


# --------------------------------------------------------------------------------------
# The parameter set
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegionSpec:
    """Which customs destinations make a region.

    Parameters
    ----------
    name : str
        Region name (``US``, ``EU``, ...).
    destinations : tuple of str
        Destinations summed into the region (aliases of one country).
    aggregate : str, optional
        An aggregate destination (``European Union``) used when present.
    members : tuple of str
        Member destinations summed when the aggregate is absent.
    residual : bool
        The region is World minus every other region.
    """

    name: str
    destinations: tuple[str, ...] = ()
    aggregate: str | None = None
    members: tuple[str, ...] = ()
    residual: bool = False

    def all_names(self) -> tuple[str, ...]:
        """Every destination name this region claims."""
        agg = () if self.aggregate is None else (self.aggregate,)
        return self.destinations + agg + self.members


@dataclass(frozen=True)
class CapacityProject:
    """A new non-China magnet plant and its uncertain ramp-up.

    Monthly extra supply to ``region`` in calendar month ``m``:
    ``capacity_tpy / 12 * utilisation * clip((m - start - delay + 1) / ramp, 0, 1)``.
    """

    name: str
    region: str
    start: str
    capacity_tpy: Dist
    delay_months: Dist
    ramp_months: Dist
    utilisation: Dist


@dataclass(frozen=True, eq=False)
class PropagationParams:
    """Validated parameters of the propagation layer (see ``priors/propagation.yaml``).

    Attributes
    ----------
    regions : tuple of RegionSpec
    industries : tuple of str
        Industry names, in output order.
    labels, units : tuple
        Per industry: a readable label; the unit of output (``None``: no unit).
    china_share : tuple of Dist
        Per region: China's share of the region's magnet supply.
    share_mean : numpy.ndarray
        ``(region, industry)`` Dirichlet means after the regional tilts.
    share_concentration : float or None
        Dirichlet concentration; ``None`` for fixed shares.
    shares_info : Dist
        Provenance of the shares (``Fixed(value=concentration)`` with reason/source).
    growth : tuple of Dist
        Per industry: growth per year (enters as a mix shift).
    substitution : Dist
        Share of demand substituted or thrifted away per year (linear in time).
    cover_weeks : tuple of Dist
        Per industry: inventory cover in weeks (LogNormal or Fixed).
    cover_correlation : float
        Share of the log-variance of cover common to all regions and industries.
    restock_multiple : Dist
        Inventory ceiling as a multiple of the usual cover.
    content_kg : tuple
        Per industry: kg of magnet per unit of output (``Dist``) or ``None``.
    projects : tuple of CapacityProject
    path : str
        Where the parameters came from.
    digest : str
        SHA-256 of the parsed file (recorded in output attrs).
    """

    regions: tuple[RegionSpec, ...]
    industries: tuple[str, ...]
    labels: tuple[str, ...]
    units: tuple[str | None, ...]
    china_share: tuple[Dist, ...]
    share_mean: np.ndarray
    share_concentration: float | None
    shares_info: Dist
    growth: tuple[Dist, ...]
    substitution: Dist
    cover_weeks: tuple[Dist, ...]
    cover_correlation: float
    restock_multiple: Dist
    content_kg: tuple[Dist | None, ...]
    projects: tuple[CapacityProject, ...] = field(default=())
    path: str = "<mapping>"
    digest: str = ""

    @property
    def region_names(self) -> tuple[str, ...]:
        """Region names, in output order."""
        return tuple(r.name for r in self.regions)

    def subset_regions(self, names: Sequence[str]) -> PropagationParams:
        """Return the parameters restricted to ``names`` (in this object's order)."""
        keep = [k for k, r in enumerate(self.regions) if r.name in set(names)]
        kept = {self.regions[k].name for k in keep}
        return replace(
            self,
            regions=tuple(self.regions[k] for k in keep),
            china_share=tuple(self.china_share[k] for k in keep),
            share_mean=self.share_mean[keep],
            projects=tuple(p for p in self.projects if p.region in kept),
        )

    def summary(self) -> list[dict[str, Any]]:
        """Return one row per parameter: block, key, distribution, centre, 90%, provenance.

        Returns
        -------
        list of dict
            Keys ``block``, ``key``, ``dist``, ``center``, ``p05``, ``p95``,
            ``source``, ``judgement``, ``reason`` (easy to turn into a DataFrame).
        """
        rows: list[dict[str, Any]] = []

        def add(block: str, key: str, d: Dist) -> None:
            lo, hi = d.interval90()
            rows.append(
                {
                    "block": block,
                    "key": key,
                    "dist": d.describe(),
                    "center": d.center(),
                    "p05": lo,
                    "p95": hi,
                    "source": d.source or "",
                    "judgement": d.judgement,
                    "reason": d.reason,
                }
            )

        for r, d in zip(self.regions, self.china_share, strict=True):
            add("china_share", r.name, d)
        for r, reg in enumerate(self.regions):
            for i, ind in enumerate(self.industries):
                m = float(self.share_mean[r, i])
                rows.append(
                    {
                        "block": "industry_shares",
                        "key": f"{reg.name}.{ind}",
                        "dist": "Dirichlet" if self.share_concentration else "Fixed",
                        "center": m,
                        "p05": np.nan,
                        "p95": np.nan,
                        "source": self.shares_info.source or "",
                        "judgement": self.shares_info.judgement,
                        "reason": self.shares_info.reason,
                    }
                )
        for ind, d in zip(self.industries, self.growth, strict=True):
            add("demand_growth", ind, d)
        add("substitution_per_year", "all", self.substitution)
        for ind, d in zip(self.industries, self.cover_weeks, strict=True):
            add("inventory_cover_weeks", ind, d)
        add("restock_multiple", "all", self.restock_multiple)
        for ind, d in zip(self.industries, self.content_kg, strict=True):
            if d is not None:
                add("magnet_content_kg", ind, d)
        for p in self.projects:
            for attr in ("capacity_tpy", "delay_months", "ramp_months", "utilisation"):
                add(f"new_capacity.{attr}", f"{p.region}: {p.name}", getattr(p, attr))
        return rows


# --------------------------------------------------------------------------------------
# Loading and validation
# --------------------------------------------------------------------------------------


def load_params(path: str | Path | None = None) -> PropagationParams:
    """Load and validate the propagation parameters.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        A YAML file; the bundled ``priors/propagation.yaml`` when omitted.

    Returns
    -------
    PropagationParams

    Raises
    ------
    PriorsError
        For a missing or unreadable file, a YAML syntax error, or any schema
        problem (all problems listed in one error).
    """
    path = default_params_path() if path is None else Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PriorsError(path, ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PriorsError(path, [f"cannot read the file: {exc}"]) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PriorsError(path, [f"YAML syntax error{where}: {problem}"]) from None
    return parse_params(raw, source=str(path))


def parse_params(raw: Any, *, source: str = "<mapping>") -> PropagationParams:
    """Validate a parsed parameter mapping (the YAML file's content).

    Parameters
    ----------
    raw : mapping
        The content of a ``propagation.yaml``.
    source : str
        Where it came from (used in messages).

    Returns
    -------
    PropagationParams

    Raises
    ------
    PriorsError
        Listing every problem found.
    """
    problems: list[str] = []
    if not isinstance(raw, Mapping):
        raise PriorsError(source, [f"the file must hold a mapping, got {type(raw).__name__}"])
    _unknown(raw, _TOP_KEYS, "", problems)
    for key in _TOP_KEYS:
        if key not in raw and key not in _OPTIONAL_TOP:
            problems.append(f"missing section '{key}'")

    regions = _parse_regions(raw.get("regions"), problems)
    region_names = [r.name for r in regions]
    industries, labels, units = _parse_industries(raw.get("industries"), problems)

    china = _per_key(
        raw.get("china_share"),
        region_names,
        "china_share",
        problems,
        allowed=("Beta", "Uniform", "Fixed"),
        lo=0.0,
        hi=1.0,
        open_lo=True,
    )
    share_mean, concentration, shares_info = _parse_shares(
        raw.get("industry_shares"), region_names, industries, problems
    )
    growth = _per_key(
        raw.get("demand_growth"),
        industries,
        "demand_growth",
        problems,
        allowed=("Normal", "Uniform", "Fixed"),
        lo=-1.0,
        hi=math.inf,
        open_lo=True,
    )
    substitution = _dist(
        raw.get("substitution_per_year"),
        "substitution_per_year",
        problems,
        allowed=("Uniform", "Beta", "Fixed"),
        lo=0.0,
        hi=1.0,
    )
    cover_raw = raw.get("inventory_cover_weeks")
    correlation = 0.0
    if isinstance(cover_raw, Mapping):
        corr_dist = _dist(
            cover_raw.get("correlation"),
            "inventory_cover_weeks.correlation",
            problems,
            allowed=("Fixed",),
            lo=0.0,
            hi=1.0,
        )
        if corr_dist is not None:
            correlation = corr_dist["value"]
        cover_raw = {k: v for k, v in cover_raw.items() if k != "correlation"}
    cover = _per_key(
        cover_raw,
        industries,
        "inventory_cover_weeks",
        problems,
        allowed=("LogNormal", "Fixed"),
        lo=0.0,
        hi=math.inf,
        open_lo=True,
    )
    restock = _dist(
        raw.get("restock_multiple"),
        "restock_multiple",
        problems,
        allowed=("Fixed", "Uniform", "LogNormal"),
        lo=0.0,
        hi=math.inf,
        open_lo=True,
    )
    content = _parse_content(raw.get("magnet_content_kg"), industries, units, problems)
    projects = _parse_projects(raw.get("new_capacity", []), region_names, problems)

    if problems:
        raise PriorsError(source, problems)
    digest = hashlib.sha256(
        json.dumps(raw, sort_keys=True, default=str).encode("utf-8")
    ).hexdigest()
    assert restock is not None and shares_info is not None and substitution is not None
    return PropagationParams(
        regions=tuple(regions),
        industries=tuple(industries),
        labels=tuple(labels),
        units=tuple(units),
        china_share=tuple(china[r] for r in region_names),
        share_mean=share_mean,
        share_concentration=concentration,
        shares_info=shares_info,
        growth=tuple(growth[i] for i in industries),
        substitution=substitution,
        cover_weeks=tuple(cover[i] for i in industries),
        cover_correlation=float(correlation),
        restock_multiple=restock,
        content_kg=tuple(content[i] for i in industries),
        projects=tuple(projects),
        path=source,
        digest=digest,
    )


def _suggest(name: str, options: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(options), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _unknown(
    raw: Mapping[str, Any], allowed: Sequence[str], where: str, problems: list[str]
) -> None:
    for key in raw:
        if key not in allowed:
            prefix = f"{where}: " if where else ""
            problems.append(f"{prefix}unknown key '{key}'{_suggest(str(key), allowed)}")


def _provenance(
    raw: Mapping[str, Any], where: str, problems: list[str]
) -> tuple[str, str | None, bool]:
    reason = raw.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        problems.append(f"{where}: needs a one-line 'reason'")
        reason = ""
    src = raw.get("source")
    source: str | None
    if src is None:
        source = None
    elif isinstance(src, str) and src.strip():
        source = src.strip()
    elif isinstance(src, list) and src and all(isinstance(s, str) and s.strip() for s in src):
        source = " | ".join(s.strip() for s in src)
    else:
        problems.append(f"{where}: 'source' must be a string or a list of strings")
        source = None
    judgement = raw.get("judgement", False)
    if not isinstance(judgement, bool):
        problems.append(f"{where}: 'judgement' must be true or false")
        judgement = False
    if source is None and not judgement:
        problems.append(f"{where}: needs a 'source' or 'judgement: true'")
    return reason, source, judgement


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _dist(
    raw: Any,
    where: str,
    problems: list[str],
    *,
    allowed: Sequence[str],
    lo: float,
    hi: float,
    open_lo: bool = False,
) -> Dist | None:
    """Parse one distribution spec; its support must lie in [lo, hi] (or (lo, hi])."""
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: must be a distribution mapping (dist: ..., reason: ...)")
        return None
    name = raw.get("dist")
    if name not in DISTRIBUTIONS:
        problems.append(
            f"{where}: unknown distribution {name!r}{_suggest(str(name), list(DISTRIBUTIONS))}; "
            f"allowed here: {', '.join(allowed)}"
        )
        return None
    if name not in allowed:
        problems.append(f"{where}: {name} is not allowed here; use {', '.join(allowed)}")
        return None
    keys = DISTRIBUTIONS[name]
    _unknown(raw, (*_META_KEYS, *keys), where, problems)
    params: list[tuple[str, float]] = []
    ok = True
    for key in keys:
        v = _number(raw.get(key))
        if v is None:
            problems.append(f"{where}: {name} needs a finite number '{key}'")
            ok = False
        else:
            params.append((key, v))
    reason, source, judgement = _provenance(raw, where, problems)
    if not ok:
        return None
    p = dict(params)
    if name == "Beta" and (p["alpha"] <= 0 or p["beta"] <= 0):
        problems.append(f"{where}: Beta alpha and beta must be > 0")
        return None
    if name in ("LogNormal",) and (p["median"] <= 0 or p["sigma"] < 0):
        problems.append(f"{where}: LogNormal needs median > 0 and sigma >= 0")
        return None
    if name == "Normal" and p["sigma"] < 0:
        problems.append(f"{where}: Normal needs sigma >= 0")
        return None
    if name == "Uniform" and not p["lower"] < p["upper"]:
        problems.append(f"{where}: Uniform needs lower < upper")
        return None
    dist = Dist(name, tuple(params), reason, source, judgement)
    s_lo, s_hi = dist.support()
    too_low = s_lo < lo or (open_lo and s_lo <= lo and name in ("Fixed", "Uniform"))
    if name == "Normal" and math.isfinite(lo):
        too_low = False  # Normal draws are clipped (documented where it applies)
    if too_low or s_hi > hi:
        bracket = "(" if open_lo else "["
        problems.append(
            f"{where}: {dist.describe()} reaches outside the allowed range {bracket}{lo:g}, {hi:g}]"
        )
        return None
    return dist


def _per_key(
    raw: Any,
    keys: Sequence[str],
    where: str,
    problems: list[str],
    **kw: Any,
) -> dict[str, Dist]:
    out: dict[str, Dist] = {}
    if not isinstance(raw, Mapping):
        if raw is not None:
            problems.append(f"{where}: must be a mapping with one entry per name")
        return out
    _unknown(raw, keys, where, problems)
    for key in keys:
        if key not in raw:
            problems.append(f"{where}: missing entry for '{key}'")
            continue
        d = _dist(raw[key], f"{where}.{key}", problems, **kw)
        if d is not None:
            out[key] = d
    return out


def _str_list(value: Any, where: str, problems: list[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"{where}: must be a list of names")
        return ()
    return tuple(v.strip() for v in value)


def _parse_regions(raw: Any, problems: list[str]) -> list[RegionSpec]:
    if not isinstance(raw, Mapping) or not raw:
        if raw is not None:
            problems.append("regions: must be a non-empty mapping of region -> destinations")
        return []
    regions: list[RegionSpec] = []
    claimed: dict[str, str] = {}
    for name, spec in raw.items():
        where = f"regions.{name}"
        if not isinstance(spec, Mapping):
            problems.append(f"{where}: must be a mapping")
            continue
        _unknown(
            spec, ("destinations", "aggregate", "members", "residual", "reason"), where, problems
        )
        residual = spec.get("residual", False)
        if not isinstance(residual, bool):
            problems.append(f"{where}: 'residual' must be true or false")
            residual = False
        dests = (
            _str_list(spec["destinations"], f"{where}.destinations", problems)
            if "destinations" in spec
            else ()
        )
        members = (
            _str_list(spec["members"], f"{where}.members", problems) if "members" in spec else ()
        )
        aggregate = spec.get("aggregate")
        if aggregate is not None and (not isinstance(aggregate, str) or not aggregate.strip()):
            problems.append(f"{where}: 'aggregate' must be a destination name")
            aggregate = None
        kinds = sum([bool(dests), bool(aggregate or members), residual])
        if kinds != 1:
            problems.append(
                f"{where}: give exactly one of 'destinations', 'aggregate'/'members' "
                "or 'residual: true'"
            )
        region = RegionSpec(str(name), dests, aggregate, members, residual)
        for dest in region.all_names():
            if dest in claimed and claimed[dest] != region.name:
                problems.append(
                    f"{where}: destination '{dest}' is already in region '{claimed[dest]}' "
                    "(a destination may count in one region only)"
                )
            claimed[dest] = region.name
        if dest_is_world(region.all_names()):
            problems.append(f"{where}: 'World' cannot be part of a region")
        regions.append(region)
    if sum(r.residual for r in regions) > 1:
        problems.append("regions: at most one region can be the residual (World minus the others)")
    return regions


def dest_is_world(names: Sequence[str]) -> bool:
    """Return True if ``World`` is among ``names``."""
    return any(n == "World" for n in names)


def _parse_industries(
    raw: Any, problems: list[str]
) -> tuple[list[str], list[str], list[str | None]]:
    if not isinstance(raw, Mapping) or not raw:
        if raw is not None:
            problems.append("industries: must be a non-empty mapping of industry -> {label, unit}")
        return [], [], []
    names, labels, units = [], [], []
    for name, spec in raw.items():
        where = f"industries.{name}"
        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(name)):
            problems.append(f"{where}: industry names are lower_snake_case")
        spec = {} if spec is None else spec
        if not isinstance(spec, Mapping):
            problems.append(f"{where}: must be a mapping (csv_name, label, unit)")
            spec = {}
        _unknown(spec, ("csv_name", "label", "unit"), where, problems)
        unit = spec.get("unit")
        if unit is not None and (not isinstance(unit, str) or not unit.strip()):
            problems.append(f"{where}: 'unit' must be a name or null")
            unit = None
        names.append(str(name))
        labels.append(str(spec.get("label", name)))
        units.append(unit)
    return names, labels, units


def _parse_shares(
    raw: Any, regions: Sequence[str], industries: Sequence[str], problems: list[str]
) -> tuple[np.ndarray, float | None, Dist | None]:
    where = "industry_shares"
    empty = np.zeros((len(regions), len(industries)))
    if not isinstance(raw, Mapping):
        if raw is not None:
            problems.append(f"{where}: must be a mapping (dist, concentration, mean, tilt, ...)")
        return empty, None, None
    _unknown(
        raw,
        ("dist", "concentration", "mean", "tilt", "reason", "source", "judgement"),
        where,
        problems,
    )
    reason, source, judgement = _provenance(raw, where, problems)
    name = raw.get("dist")
    concentration: float | None = None
    if name == "Dirichlet":
        concentration = _number(raw.get("concentration"))
        if concentration is None or concentration <= 0:
            problems.append(f"{where}: Dirichlet needs a number 'concentration' > 0")
            concentration = None
    elif name == "Fixed":
        if "concentration" in raw:
            problems.append(f"{where}: Fixed shares take no 'concentration'")
    else:
        problems.append(f"{where}: dist must be Dirichlet or Fixed, got {name!r}")
    mean_raw = raw.get("mean")
    mean = np.zeros(len(industries))
    if not isinstance(mean_raw, Mapping):
        problems.append(f"{where}.mean: must map every industry to a share")
    else:
        _unknown(mean_raw, industries, f"{where}.mean", problems)
        for i, ind in enumerate(industries):
            v = _number(mean_raw.get(ind))
            if v is None or v <= 0:
                problems.append(f"{where}.mean.{ind}: must be a number > 0")
            else:
                mean[i] = v
        total = mean.sum()
        if mean.all() and abs(total - 1.0) > 1e-3:
            problems.append(f"{where}.mean: shares sum to {total:.4f}, not 1")
    out = np.tile(mean / max(mean.sum(), 1e-300), (len(regions), 1))
    tilt = raw.get("tilt")
    if tilt is not None:
        if not isinstance(tilt, Mapping):
            problems.append(f"{where}.tilt: must map regions to {{industry: factor}}")
        else:
            _provenance(tilt, f"{where}.tilt", problems)
            meta = ("reason", "source", "judgement")
            _unknown(tilt, (*regions, *meta), f"{where}.tilt", problems)
            for r, reg in enumerate(regions):
                factors = tilt.get(reg)
                if factors is None:
                    continue
                if not isinstance(factors, Mapping):
                    problems.append(f"{where}.tilt.{reg}: must map industries to factors")
                    continue
                _unknown(factors, industries, f"{where}.tilt.{reg}", problems)
                for i, ind in enumerate(industries):
                    if ind in factors:
                        v = _number(factors[ind])
                        if v is None or v <= 0:
                            problems.append(f"{where}.tilt.{reg}.{ind}: must be a number > 0")
                        else:
                            out[r, i] *= v
    out = out / np.maximum(out.sum(axis=1, keepdims=True), 1e-300)
    info = Dist("Fixed", (("value", float(concentration or 0.0)),), reason, source, judgement)
    return out, concentration, info


def _parse_content(
    raw: Any, industries: Sequence[str], units: Sequence[str | None], problems: list[str]
) -> dict[str, Dist | None]:
    where = "magnet_content_kg"
    out: dict[str, Dist | None] = {}
    if not isinstance(raw, Mapping):
        if raw is not None:
            problems.append(f"{where}: must map every industry to a distribution or null")
        return {i: None for i in industries}
    _unknown(raw, industries, where, problems)
    for ind, unit in zip(industries, units, strict=True):
        if ind not in raw:
            problems.append(f"{where}: missing entry for '{ind}' (null when it has no unit)")
            out[ind] = None
            continue
        spec = raw[ind]
        if spec is None:
            if unit is not None:
                problems.append(f"{where}.{ind}: industry has unit '{unit}' but no magnet content")
            out[ind] = None
            continue
        if unit is None:
            problems.append(f"{where}.{ind}: magnet content given but the industry has no unit")
        out[ind] = _dist(
            spec,
            f"{where}.{ind}",
            problems,
            allowed=("LogNormal", "Uniform", "Fixed"),
            lo=0.0,
            hi=math.inf,
            open_lo=True,
        )
    return out


def _parse_projects(raw: Any, regions: Sequence[str], problems: list[str]) -> list[CapacityProject]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append("new_capacity: must be a list of projects")
        return []
    keys = ("name", "region", "start", "capacity_tpy", "delay_months", "ramp_months", "utilisation")
    out: list[CapacityProject] = []
    for k, spec in enumerate(raw):
        where = f"new_capacity[{k}]"
        if not isinstance(spec, Mapping):
            problems.append(f"{where}: must be a mapping")
            continue
        name = spec.get("name")
        if isinstance(name, str) and name.strip():
            where = f"new_capacity[{k}] ({name})"
        else:
            problems.append(f"{where}: needs a 'name'")
        _unknown(spec, keys, where, problems)
        region = spec.get("region")
        if region not in regions:
            problems.append(f"{where}: unknown region {region!r}{_suggest(str(region), regions)}")
        start = str(spec.get("start", ""))
        if not _MONTH_RE.match(start):
            problems.append(f"{where}: 'start' must be a month YYYY-MM, got {spec.get('start')!r}")
        cap = _dist(
            spec.get("capacity_tpy"),
            f"{where}.capacity_tpy",
            problems,
            allowed=("Fixed", "Uniform", "LogNormal"),
            lo=0.0,
            hi=math.inf,
        )
        delay = _dist(
            spec.get("delay_months"),
            f"{where}.delay_months",
            problems,
            allowed=("Fixed", "Uniform", "LogNormal"),
            lo=0.0,
            hi=math.inf,
        )
        ramp = _dist(
            spec.get("ramp_months"),
            f"{where}.ramp_months",
            problems,
            allowed=("Fixed", "Uniform", "LogNormal"),
            lo=0.0,
            hi=math.inf,
            open_lo=True,
        )
        util = _dist(
            spec.get("utilisation"),
            f"{where}.utilisation",
            problems,
            allowed=("Fixed", "Uniform", "Beta"),
            lo=0.0,
            hi=1.0,
        )
        if None not in (cap, delay, ramp, util) and isinstance(name, str):
            assert cap and delay and ramp and util
            out.append(CapacityProject(name, str(region), start, cap, delay, ramp, util))
    return out
