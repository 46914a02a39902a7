"""Parameters of the propagation layer: load, validate and describe ``priors/propagation.yaml``.

The file (documented in itself) gives the regions and the destinations that make
them, the industries, and one distribution per uncertain quantity, each with a
one-line ``reason`` and a ``source`` or ``judgement: true``. :func:`load_params`
reads it, checks everything and reports every problem at once in a
:class:`~riskmodel.exceptions.PriorsError`; the result is an immutable
:class:`PropagationParams`.

Every distribution is a :class:`~riskmodel.config.dists.Dist` (drawn in float32,
once per Monte Carlo path); shares are ``Dirichlet`` (mean, concentration) or
``Fixed``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from riskmodel.config.dists import Dist, parse_dist
from riskmodel.config.yamlio import Problems, clip, read_yaml, suggest
from riskmodel.months import MONTH_RE
from riskmodel.resources import priors_dir

__all__ = [
    "CapacityProject",
    "Dist",
    "PropagationParams",
    "RegionSpec",
    "default_params_path",
    "load_params",
    "parse_params",
]

_TOP_KEYS = (
    "model",
    "description",
    "regions",
    "industries",
    "base_demand_tpy",
    "embedded_share",
    "china_share",
    "industry_shares",
    "demand_growth",
    "substitution_per_year",
    "substitution_lag_months",
    "inventory_cover_weeks",
    "restock_multiple",
    "opening_stock_ratio",
    "deferred_share",
    "magnet_content_kg",
    "new_capacity",
    "hoarding",
    "reroute_share",
    "buyers",
)
_OPTIONAL_TOP = (
    "buyers",
    "reroute_share",
    "description",
    "new_capacity",
    "embedded_share",
    "substitution_lag_months",
    "hoarding",
)


def default_params_path() -> Path:
    """Return the path of the bundled ``priors/propagation.yaml``."""
    return priors_dir() / "propagation.yaml"


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
    ``capacity_tpy / 12 * utilisation * clip((m - start - delay) / ramp, 0, 1)``:
    0 in the start month (plus delay), full output ``ramp`` months later.
    """

    name: str
    region: str
    start: str
    capacity_tpy: Dist
    delay_months: Dist
    ramp_months: Dist
    utilisation: Dist


@dataclass(frozen=True)
class PolicyDate:
    """A policy date buyers know in advance and hoard ahead of.

    Buyers may hold up to ``hoarding.multiple`` x their usual ceiling in the months
    ``m`` with ``announced <= m < date``, ``m >= date - lead`` (the lead drawn per
    path) and ``m < withdrawn`` (a measure suspended before it took effect).
    """

    date: str
    announced: str
    withdrawn: str | None
    regions: tuple[str, ...]
    reason: str
    source: str


@dataclass(frozen=True)
class Hoarding:
    """Restocking above the usual ceiling ahead of known policy dates."""

    multiple: Dist
    lead_months: Dist
    dates: tuple[PolicyDate, ...]


@dataclass(frozen=True)
class Buyers:
    """Buyer groups inside each region and industry, and licences granted firm by firm.

    Each region's industry is split into ``groups`` buyer groups of equal demand.
    From ``licensing_since`` on, a month in which China's shipments to a region fall
    short of its China-sourced need is not shared pro rata: each group receives
    ``sigmoid(logit(a) + licence_spread * z)`` of its need, rescaled so the groups
    together receive exactly the region's shipments (``a`` is shipments / need, ``z``
    the group's standing, a stationary AR(1) with lag-one correlation
    ``licence_persistence``). Opening stocks and ceilings differ across groups by a
    log-normal factor of spread ``stock_spread`` (mean 1 over the groups) on paths
    with a licensing month; a forecast month is one only where the path's approval is
    below 1 somewhere (see :mod:`riskmodel.propagation.buyers`).
    """

    groups: int
    licensing_since: str
    licence_spread: Dist
    licence_persistence: Dist
    stock_spread: Dist
    reason: str
    source: str


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
    base_year : int
        Year of ``base_demand``; growth runs from its middle (1 July).
    base_demand : tuple of Dist
        Per region: magnets bought in the base year, tonnes.
    embedded_share : tuple of tuple
        Per region and industry: the share of the industry's magnet use that arrives
        inside imported assemblies (``Dist``), or ``None`` for none.
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
        Share of an industry's demand substituted or cut per year of shortage
        beyond the lag (the kernel's ``sub_rate`` x 12).
    substitution_lag : Dist
        Months of shortage before substitution and demand reduction start.
    cover_weeks : tuple of Dist
        Per industry: inventory cover in weeks (LogNormal or Fixed).
    cover_correlation : float
        Share of the log-variance of cover common to all regions and industries.
    restock_multiple : Dist
        Inventory ceiling as a multiple of the usual cover.
    opening_stock : Dist
        Opening stock as a multiple of the usual cover (per region and industry).
    deferred_share : Dist
        Share of a month's unmet demand that is made up later (the rest is lost).
    content_kg : tuple
        Per industry: kg of magnet per unit of output (``Dist``) or ``None``.
    projects : tuple of CapacityProject
    hoarding : Hoarding or None
        Hoarding ahead of known policy dates (``None``: none).
    reroute_share : Dist
        Share of China's shipments to a region beyond its China-sourced need that is
        re-exported to regions short of theirs (customs record the first destination).
    buyers : Buyers or None
        Buyer groups and licences granted firm by firm (``None``: one representative
        buyer per region and industry, shipments shared pro rata).
    path : str
        Where the parameters came from.
    digest : str
        SHA-256 of the parsed file (recorded in output attrs).
    """

    regions: tuple[RegionSpec, ...]
    industries: tuple[str, ...]
    labels: tuple[str, ...]
    units: tuple[str | None, ...]
    base_year: int
    base_demand: tuple[Dist, ...]
    embedded_share: tuple[tuple[Dist | None, ...], ...]
    china_share: tuple[Dist, ...]
    share_mean: np.ndarray
    share_concentration: float | None
    shares_info: Dist
    growth: tuple[Dist, ...]
    substitution: Dist
    cover_weeks: tuple[Dist, ...]
    cover_correlation: float
    restock_multiple: Dist
    opening_stock: Dist
    deferred_share: Dist
    content_kg: tuple[Dist | None, ...]
    projects: tuple[CapacityProject, ...] = field(default=())
    substitution_lag: Dist = field(default_factory=lambda: Dist.fixed(0.0, "no lag"))
    hoarding: Hoarding | None = None
    reroute_share: Dist = field(default_factory=lambda: Dist.fixed(0.0, "no re-routing"))
    buyers: Buyers | None = None
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
            base_demand=tuple(self.base_demand[k] for k in keep),
            embedded_share=tuple(self.embedded_share[k] for k in keep),
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
            lo, hi = d.interval(0.9)
            rows.append(
                {
                    "block": block,
                    "key": key,
                    "dist": d.describe(),
                    "center": d.quantile(0.5),
                    "p05": lo,
                    "p95": hi,
                    "source": d.source or "",
                    "judgement": d.judgement,
                    "reason": d.reason,
                }
            )

        for r, d in zip(self.regions, self.base_demand, strict=True):
            add("base_demand_tpy", r.name, d)
        for r, row in zip(self.regions, self.embedded_share, strict=True):
            for ind, d in zip(self.industries, row, strict=True):
                if d is not None:
                    add("embedded_share", f"{r.name}.{ind}", d)
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
        add("substitution_lag_months", "all", self.substitution_lag)
        for ind, d in zip(self.industries, self.cover_weeks, strict=True):
            add("inventory_cover_weeks", ind, d)
        add("restock_multiple", "all", self.restock_multiple)
        add("opening_stock_ratio", "all", self.opening_stock)
        add("deferred_share", "all", self.deferred_share)
        for ind, d in zip(self.industries, self.content_kg, strict=True):
            if d is not None:
                add("magnet_content_kg", ind, d)
        for p in self.projects:
            for attr in ("capacity_tpy", "delay_months", "ramp_months", "utilisation"):
                add(f"new_capacity.{attr}", f"{p.region}: {p.name}", getattr(p, attr))
        add("reroute_share", "all", self.reroute_share)
        if self.hoarding is not None:
            add("hoarding.multiple", "all", self.hoarding.multiple)
            add("hoarding.lead_months", "all", self.hoarding.lead_months)
        if self.buyers is not None:
            for name in BUYER_DISTS:
                add(f"buyers.{name}", "all", getattr(self.buyers, name))
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
        problem (all problems listed in one error, each with its line and column).
    """
    path = default_params_path() if path is None else Path(path)
    return parse_params(read_yaml(path), source=str(path))


def parse_params(raw: Any, *, source: str = "<mapping>") -> PropagationParams:
    """Validate a parsed parameter mapping (the YAML file's content).

    Parameters
    ----------
    raw : mapping
        The content of a ``propagation.yaml`` (as read by
        :func:`~riskmodel.config.yamlio.read_yaml`, which gives lines and columns
        to the messages, or a plain mapping).
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
    problems = Problems(raw)
    if not problems.mapping(raw, "", "regions, industries and the parameter blocks"):
        problems.raise_if_any(source)
    problems.keys(raw, _TOP_KEYS, "")
    for key in _TOP_KEYS:
        if key not in raw and key not in _OPTIONAL_TOP:
            problems.add("", f"missing section '{key}'")

    regions = _parse_regions(raw.get("regions"), problems)
    region_names = [r.name for r in regions]
    industries, labels, units = _parse_industries(raw.get("industries"), problems)
    positive = {"low": 0.0, "open_low": True}
    base_year, base_demand = _parse_base_demand(raw.get("base_demand_tpy"), region_names, problems)
    embedded = _parse_embedded(raw.get("embedded_share"), region_names, industries, problems)
    china = _per_key(
        raw.get("china_share"),
        region_names,
        "china_share",
        problems,
        allowed=("Beta", "Uniform", "Fixed"),
        high=1.0,
        **positive,
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
        low=-1.0,
        open_low=True,
        clipped_normal=True,
    )
    substitution = _dist_at(
        raw, "substitution_per_year", "", problems, allowed=("Uniform", "Beta", "Fixed"), **_UNIT
    )
    lag = Dist.fixed(0.0, "no lag")
    if "substitution_lag_months" in raw:
        allowed = ("Uniform", "Fixed", "LogNormal")
        lag = _dist_at(raw, "substitution_lag_months", "", problems, allowed=allowed, low=0.0)
    cover_raw = raw.get("inventory_cover_weeks")
    correlation = 0.0
    if isinstance(cover_raw, Mapping):
        where = "inventory_cover_weeks"
        corr = _dist_at(cover_raw, "correlation", where, problems, allowed=("Fixed",), **_UNIT)
        correlation = corr["value"] if corr is not None else 0.0
        cover_raw = {k: v for k, v in cover_raw.items() if k != "correlation"}
    cover = _per_key(
        cover_raw,
        industries,
        "inventory_cover_weeks",
        problems,
        allowed=("LogNormal", "Fixed"),
        **positive,
    )
    restock = _dist_at(raw, "restock_multiple", "", problems, **_AMOUNT, **positive)
    opening = _dist_at(raw, "opening_stock_ratio", "", problems, **_AMOUNT, **positive)
    deferred = _dist_at(raw, "deferred_share", "", problems, **_SHARE)
    content = _parse_content(raw.get("magnet_content_kg"), industries, units, problems)
    projects = _parse_projects(raw.get("new_capacity", []), region_names, problems)
    hoarding = _parse_hoarding(raw.get("hoarding"), region_names, problems)
    reroute = Dist.fixed(0.0, "no re-routing")
    if "reroute_share" in raw:
        reroute = _dist_at(raw, "reroute_share", "", problems, **_SHARE)
    buyers = _parse_buyers(raw.get("buyers"), problems)

    problems.raise_if_any(source)
    digest = hashlib.sha256(
        json.dumps(raw, sort_keys=True, default=str).encode("utf-8")
    ).hexdigest()
    assert restock is not None and shares_info is not None and substitution is not None
    assert opening is not None and deferred is not None and lag is not None
    assert reroute is not None
    return PropagationParams(
        regions=tuple(regions),
        industries=tuple(industries),
        labels=tuple(labels),
        units=tuple(units),
        base_year=base_year,
        base_demand=tuple(base_demand[r] for r in region_names),
        embedded_share=tuple(tuple(embedded[r][i] for i in industries) for r in region_names),
        china_share=tuple(china[r] for r in region_names),
        share_mean=share_mean,
        share_concentration=concentration,
        shares_info=shares_info,
        growth=tuple(growth[i] for i in industries),
        substitution=substitution,
        cover_weeks=tuple(cover[i] for i in industries),
        cover_correlation=float(correlation),
        restock_multiple=restock,
        opening_stock=opening,
        deferred_share=deferred,
        content_kg=tuple(content[i] for i in industries),
        projects=tuple(projects),
        substitution_lag=lag,
        hoarding=hoarding,
        reroute_share=reroute,
        buyers=buyers,
        path=source,
        digest=digest,
    )


#: The distributions of the ``buyers`` block, in drawing order.
BUYER_DISTS = ("licence_spread", "licence_persistence", "stock_spread")
#: At most this many buyer groups (each costs one pass of the kernel).
MAX_BUYER_GROUPS = 64


#: Arguments of :func:`_dist` shared by several entries: a share in [0, 1] ...
_UNIT = {"low": 0.0, "high": 1.0}
_SHARE = {"allowed": ("Fixed", "Uniform", "Beta"), **_UNIT}
#: ... and an amount (give its lower bound with it)
_AMOUNT = {"allowed": ("Fixed", "Uniform", "LogNormal")}


def _dist(raw: Any, path: str, problems: Problems, **kw: Any) -> Dist | None:
    """One distribution of this file: a ``source`` or ``judgement: true`` is required."""
    if raw is None:
        parent, _, key = path.rpartition(".")
        if parent:  # a missing top-level section is reported as such
            problems.add(parent, f"missing '{key}'")
        return None
    return parse_dist(raw, path, problems, need_source=True, **kw)


def _dist_at(mapping: Any, key: str, where: str, problems: Problems, **kw: Any) -> Dist | None:
    """``mapping[key]`` as in :func:`_dist`, reported at ``where.key`` (``key`` at the top)."""
    path = f"{where}.{key}" if where else key
    if isinstance(mapping, Mapping) and key in mapping and mapping[key] is None:
        problems.add(path, "empty: expected a distribution ({dist: ..., ...})")
        return None
    return _dist(mapping.get(key), path, problems, **kw)


def _per_key(
    raw: Any, keys: Sequence[str], path: str, problems: Problems, **kw: Any
) -> dict[str, Dist]:
    out: dict[str, Dist] = {}
    if raw is None or not problems.mapping(raw, path, "one entry per name"):
        return out
    problems.keys(raw, keys, path)
    for key in keys:
        if key not in raw:
            problems.add(path, f"missing entry for '{key}'")
            continue
        d = _dist(raw[key], f"{path}.{key}", problems, **kw)
        if d is not None:
            out[key] = d
    return out


def _parse_base_demand(
    raw: Any, regions: Sequence[str], problems: Problems
) -> tuple[int, dict[str, Dist]]:
    where = "base_demand_tpy"
    if raw is None or not problems.mapping(raw, where, "base_year and one entry per region"):
        return 0, {}
    year = problems.number(
        raw.get("base_year"), f"{where}.base_year", low=1990.0, high=2100.0, integer=True
    )
    per_region = {k: v for k, v in raw.items() if k != "base_year"}
    dists = _per_key(
        per_region,
        regions,
        where,
        problems,
        allowed=("LogNormal", "Uniform", "Fixed"),
        low=0.0,
        open_low=True,
    )
    return int(year or 0), dists


def _parse_embedded(
    raw: Any, regions: Sequence[str], industries: Sequence[str], problems: Problems
) -> dict[str, dict[str, Dist | None]]:
    where = "embedded_share"
    out: dict[str, dict[str, Dist | None]] = {r: dict.fromkeys(industries) for r in regions}
    if raw is None or not problems.mapping(raw, where, "region -> {industry: distribution}"):
        return out
    problems.keys(raw, regions, where)
    for reg in regions:
        spec = raw.get(reg)
        path = f"{where}.{reg}"
        if spec is None or not problems.mapping(spec, path, "industry -> distribution"):
            continue
        problems.keys(spec, industries, path)
        for ind in industries:
            if ind in spec:
                allowed = ("Beta", "Uniform", "Fixed")
                out[reg][ind] = _dist_at(spec, ind, path, problems, allowed=allowed, **_UNIT)
    return out


def _parse_regions(raw: Any, problems: Problems) -> list[RegionSpec]:
    if raw is None:
        return []
    if not isinstance(raw, Mapping) or not raw:
        problems.add("regions", "must be a non-empty mapping of region -> destinations")
        return []
    regions: list[RegionSpec] = []
    claimed: dict[str, str] = {}
    for name, spec in raw.items():
        where = f"regions.{name}"
        if not problems.mapping(spec, where, "destinations, aggregate/members or residual"):
            continue
        problems.keys(spec, ("destinations", "aggregate", "members", "residual", "reason"), where)
        residual = (
            problems.flag(spec["residual"], f"{where}.residual") if "residual" in spec else False
        )
        dests = (
            problems.names(spec["destinations"], f"{where}.destinations", single=True) or ()
            if "destinations" in spec
            else ()
        )
        members = (
            problems.names(spec["members"], f"{where}.members", single=True) or ()
            if "members" in spec
            else ()
        )
        aggregate = spec.get("aggregate")
        if aggregate is not None and (not isinstance(aggregate, str) or not aggregate.strip()):
            problems.add(f"{where}.aggregate", "must be a destination name")
            aggregate = None
        if sum([bool(dests), bool(aggregate or members), residual]) != 1:
            problems.add(
                where,
                "give exactly one of 'destinations', 'aggregate'/'members' or 'residual: true'",
            )
        region = RegionSpec(str(name), dests, aggregate, members, residual)
        for dest in region.all_names():
            if dest in claimed and claimed[dest] != region.name:
                problems.add(
                    where,
                    f"destination '{dest}' is already in region '{claimed[dest]}' "
                    "(a destination may count in one region only)",
                )
            claimed[dest] = region.name
        if dest_is_world(region.all_names()):
            problems.add(where, "'World' cannot be part of a region")
        regions.append(region)
    if sum(r.residual for r in regions) > 1:
        problems.add("regions", "at most one region can be the residual (World minus the others)")
    return regions


def dest_is_world(names: Sequence[str]) -> bool:
    """Return True if ``World`` is among ``names``."""
    return any(n == "World" for n in names)


def _parse_industries(
    raw: Any, problems: Problems
) -> tuple[list[str], list[str], list[str | None]]:
    if raw is None:
        return [], [], []
    if not isinstance(raw, Mapping) or not raw:
        problems.add("industries", "must be a non-empty mapping of industry -> {label, unit}")
        return [], [], []
    names, labels, units = [], [], []
    for name, spec in raw.items():
        where = f"industries.{name}"
        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(name)):
            problems.add(where, "industry names are lower_snake_case")
        spec = {} if spec is None else spec
        if not problems.mapping(spec, where, "csv_name, label, unit"):
            spec = {}
        problems.keys(spec, ("csv_name", "label", "unit"), where)
        unit = spec.get("unit")
        if unit is not None and (not isinstance(unit, str) or not unit.strip()):
            problems.add(f"{where}.unit", "must be a name or null")
            unit = None
        names.append(str(name))
        labels.append(str(spec.get("label", name)))
        units.append(unit)
    return names, labels, units


def _parse_shares(
    raw: Any, regions: Sequence[str], industries: Sequence[str], problems: Problems
) -> tuple[np.ndarray, float | None, Dist | None]:
    where = "industry_shares"
    empty = np.zeros((len(regions), len(industries)))
    if raw is None or not problems.mapping(raw, where, "dist, concentration, mean, tilt, ..."):
        return empty, None, None
    meta = ("reason", "source", "judgement")
    problems.keys(raw, ("dist", "concentration", "mean", "tilt", *meta), where)
    # The provenance is read as a Fixed distribution holding the concentration.
    info = parse_dist(
        {"dist": "Fixed", "value": 0.0, **{k: raw[k] for k in meta if k in raw}},
        where,
        problems,
        need_source=True,
    )
    name = raw.get("dist")
    concentration: float | None = None
    if name == "Dirichlet":
        concentration = problems.number(
            raw.get("concentration"), f"{where}.concentration", low=0.0, open_low=True
        )
    elif name == "Fixed":
        if "concentration" in raw:
            problems.add(f"{where}.concentration", "Fixed shares take no 'concentration'")
    else:
        problems.add(f"{where}.dist", f"must be Dirichlet or Fixed, got {clip(name)}")
    mean_raw = raw.get("mean")
    mean = np.zeros(len(industries))
    if problems.mapping(mean_raw, f"{where}.mean", "every industry -> its share"):
        problems.keys(mean_raw, industries, f"{where}.mean")
        for i, ind in enumerate(industries):
            v = problems.number(mean_raw.get(ind), f"{where}.mean.{ind}", low=0.0, open_low=True)
            mean[i] = v or 0.0
        total = mean.sum()
        if mean.all() and abs(total - 1.0) > 1e-3:
            problems.add(f"{where}.mean", f"shares sum to {total:.4f}, not 1")
    out = np.tile(mean / max(mean.sum(), 1e-300), (len(regions), 1))
    tilt = raw.get("tilt")
    if tilt is not None and problems.mapping(tilt, f"{where}.tilt", "region -> {industry: factor}"):
        problems.keys(tilt, (*regions, *meta), f"{where}.tilt")
        for r, reg in enumerate(regions):
            factors = tilt.get(reg)
            path = f"{where}.tilt.{reg}"
            if factors is None or not problems.mapping(factors, path, "industry -> factor"):
                continue
            problems.keys(factors, industries, path)
            for i, ind in enumerate(industries):
                if ind in factors:
                    v = problems.number(factors[ind], f"{path}.{ind}", low=0.0, open_low=True)
                    out[r, i] *= v or 1.0
    out = out / np.maximum(out.sum(axis=1, keepdims=True), 1e-300)
    if info is not None:
        info = replace(info, params=(("value", float(concentration or 0.0)),))
    return out, concentration, info


def _parse_content(
    raw: Any, industries: Sequence[str], units: Sequence[str | None], problems: Problems
) -> dict[str, Dist | None]:
    where = "magnet_content_kg"
    out: dict[str, Dist | None] = {i: None for i in industries}
    if raw is None or not problems.mapping(raw, where, "every industry -> distribution or null"):
        return out
    problems.keys(raw, industries, where)
    for ind, unit in zip(industries, units, strict=True):
        if ind not in raw:
            problems.add(where, f"missing entry for '{ind}' (null when it has no unit)")
            continue
        spec = raw[ind]
        if spec is None:
            if unit is not None:
                problems.add(f"{where}.{ind}", f"industry has unit '{unit}' but no magnet content")
            continue
        if unit is None:
            problems.add(f"{where}.{ind}", "magnet content given but the industry has no unit")
        allowed = ("LogNormal", "Uniform", "Fixed")
        out[ind] = _dist(spec, f"{where}.{ind}", problems, allowed=allowed, low=0.0, open_low=True)
    return out


def _parse_projects(raw: Any, regions: Sequence[str], problems: Problems) -> list[CapacityProject]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.add("new_capacity", "must be a list of projects")
        return []
    keys = ("name", "region", "start", "capacity_tpy", "delay_months", "ramp_months", "utilisation")
    out: list[CapacityProject] = []
    for k, spec in enumerate(raw):
        where = f"new_capacity[{k}]"
        if not problems.mapping(spec, where, "name, region, start and the ramp distributions"):
            continue
        name = spec.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.add(where, "needs a 'name'")
        problems.keys(spec, keys, where)
        region = spec.get("region")
        if region not in regions:
            problems.add(
                f"{where}.region", f"unknown region {clip(region)}{suggest(str(region), regions)}"
            )
        start = str(spec.get("start", ""))
        if not MONTH_RE.match(start):
            problems.add(
                f"{where}.start", f"must be a month YYYY-MM, got {clip(spec.get('start'))}"
            )
        cap = _dist_at(spec, "capacity_tpy", where, problems, **_AMOUNT, low=0.0)
        delay = _dist_at(spec, "delay_months", where, problems, **_AMOUNT, low=0.0)
        ramp = _dist_at(spec, "ramp_months", where, problems, **_AMOUNT, low=0.0, open_low=True)
        util = _dist_at(spec, "utilisation", where, problems, **_SHARE)
        if None not in (cap, delay, ramp, util) and isinstance(name, str):
            assert cap and delay and ramp and util
            out.append(CapacityProject(name, str(region), start, cap, delay, ramp, util))
    return out


def _parse_hoarding(raw: Any, regions: Sequence[str], problems: Problems) -> Hoarding | None:
    """Parse the optional ``hoarding`` block: two distributions and the policy dates."""
    if raw is None:
        return None
    if not problems.mapping(raw, "hoarding", "multiple, lead_months and dates"):
        return None
    problems.keys(raw, ("multiple", "lead_months", "dates"), "hoarding")
    multiple = _dist_at(raw, "multiple", "hoarding", problems, **_AMOUNT, low=1.0)
    lead = _dist_at(raw, "lead_months", "hoarding", problems, allowed=("Fixed", "Uniform"), low=0.0)
    dates_raw = raw.get("dates", [])
    if not isinstance(dates_raw, list):
        problems.add("hoarding.dates", "must be a list of policy dates")
        dates_raw = []
    keys = ("date", "announced", "withdrawn", "regions", "reason", "source")
    dates: list[PolicyDate] = []
    for k, spec in enumerate(dates_raw):
        where = f"hoarding.dates[{k}]"
        if not problems.mapping(spec, where, "date, announced, reason and source"):
            continue
        problems.keys(spec, keys, where)
        months = {}
        for key in ("date", "announced", "withdrawn"):
            value = spec.get(key)
            if value is None and key == "withdrawn":
                months[key] = None
                continue
            if not MONTH_RE.match(str(value)):
                problems.add(f"{where}.{key}", f"must be a month YYYY-MM, got {clip(value)}")
            months[key] = str(value)
        sel = spec.get("regions", list(regions))
        if not isinstance(sel, list) or not sel:
            problems.add(f"{where}.regions", "must be a non-empty list of regions")
            sel = []
        for name in sel:
            if name not in regions:
                problems.add(
                    f"{where}.regions",
                    f"unknown region {clip(name)}{suggest(str(name), regions)}",
                )
        reason = problems.one_line(spec.get("reason"), f"{where}.reason")
        src = problems.one_line(spec.get("source"), f"{where}.source")
        ok = all(v is None or MONTH_RE.match(v) for v in months.values())
        if ok and months["announced"] > months["date"]:
            problems.add(f"{where}.announced", "must not be after the date")
        dates.append(
            PolicyDate(
                months["date"] or "",
                months["announced"] or "",
                months["withdrawn"],
                tuple(str(n) for n in sel),
                reason,
                src,
            )
        )
    if multiple is None or lead is None:
        return None
    return Hoarding(multiple, lead, tuple(dates))


def _parse_buyers(raw: Any, problems: Problems) -> Buyers | None:
    """Parse the optional ``buyers`` block (see :class:`Buyers`)."""
    where = "buyers"
    if raw is None:
        return None
    expected = "groups, licensing_since, the three distributions, reason and source"
    if not problems.mapping(raw, where, expected):
        return None
    problems.keys(raw, ("groups", "licensing_since", *BUYER_DISTS, "reason", "source"), where)
    groups = problems.number(
        raw.get("groups"), f"{where}.groups", low=1.0, high=float(MAX_BUYER_GROUPS), integer=True
    )
    since = str(raw.get("licensing_since"))
    if not MONTH_RE.match(since):
        problems.add(f"{where}.licensing_since", f"must be a month YYYY-MM, got {clip(since)}")
    positive = {"low": 0.0}
    spread = _dist_at(raw, "licence_spread", where, problems, **_AMOUNT, **positive)
    # below 1: a standing that never changes would need no AR(1) innovation at all
    persistence = _dist_at(raw, "licence_persistence", where, problems, **_SHARE | {"high": 0.99})
    stock = _dist_at(raw, "stock_spread", where, problems, **_AMOUNT, **positive)
    reason = problems.one_line(raw.get("reason"), f"{where}.reason")
    src = problems.one_line(raw.get("source"), f"{where}.source")
    if groups is None or spread is None or persistence is None or stock is None:
        return None
    return Buyers(int(groups), since, spread, persistence, stock, reason, src)
