"""Scenarios: the future regime sequence of China's licensing of one product.

A scenario is a YAML file (bundled ones live in ``priors/scenarios/``) that says,
for each destination, which licensing *regime* holds in each forecast month.
A user writes a new one without code; it is validated on load and every
problem is reported together in one :class:`~riskmodel.exceptions.ScenarioError`.

Schema
------
.. code-block:: yaml

    name: escalation                  # letters, digits, "_", "-", "."
    description: New controls ...     # one line, shown in reports
    regimes:                          # in time order
      - start: first                  # first | "+N" | "YYYY-MM"
        kind: current
      - start: "+2"
        kind: new_control
        destinations: all             # or a list of customs destination names
        depth: {dist: Beta, alpha: 2.0, beta: 5.0, reason: "...", source: "..."}
        months_to_low: {dist: TruncatedNormal, mu: 1.0, sigma: 0.75,
                        lower: 0.0, upper: 4.0, reason: "..."}
        recovery_half_life_months: {dist: LogNormal, mu: 0.0, sigma: 0.5, reason: "..."}
        long_run: {dist: Beta, alpha: 8.0, beta: 2.0, reason: "..."}
      - start: "2027-01"
        kind: new_control
        shape: learned                # the four distributions from priors/shock_shape.yaml
        long_run: {dist: Beta, alpha: 5.0, beta: 2.0, reason: "..."}   # optional override
    propagation:                      # optional; read by the Monte Carlo stage
      allocation: proportional        # proportional | priority | end_use
      priority: [...]                 # required for (and only for) priority
      denied_end_uses: [...]          # required for (and only for) end_use

Regime kinds and what the forecast stage does with them
-------------------------------------------------------
Let ``a_prev[d, t]`` be the approval rate that the regime in force *before* this
one (for destination ``d``) would give in month ``t``; before the first regime
that is the last fitted regime.

``current``
    The last fitted regime persists: its approval rate keeps its AR(1)
    dynamics. No parameters.
``new_control``
    A new control: ``a[d, t] = a_prev[d, t] * control_multiplier(tau, ...)``,
    with ``tau`` the months since the regime's start month (0 in the start
    month). Parameters ``depth`` (multiplier at the low, in [0, 1]),
    ``months_to_low`` (months from the start month to the low, >= 0),
    ``recovery_half_life_months`` (> 0) and ``long_run`` (share of the
    pre-shock rate regained in the long run, in [0, 1]). See
    :func:`control_multiplier` for the shape. Instead of the four
    distributions a ``new_control`` may say ``shape: learned``: they then come
    from ``priors/shock_shape.yaml``, the prior for a new control learned from
    past control episodes (``riskmodel shocks learn``, see ``docs/shocks.md``);
    any of the four given explicitly next to ``shape: learned`` overrides the
    learned one.
``lifted``
    Controls lifted: ``a[d, t] = 1``. No parameters.
``set``
    A fixed approval level: ``a[d, t] = level`` (an absolute rate in [0, 1],
    not a multiplier), e.g. an embargo. Parameter ``level``.
``policy_risk``
    Today's regime, with new policy events possible in every month from the
    regime's start: the default, *unconditional* forecast
    (``priors/scenarios/unconditional.yaml``). A ``control`` (onset of licensing)
    or ``tightening`` multiplies ``a_prev`` from its month on by
    :func:`control_multiplier` with the shape ``depth``, ``months_to_low``,
    ``recovery_half_life_months``, ``long_run`` (or ``shape: learned``); a ``deal``
    closes a share ``deal_gap_closed`` of the gap ``1 - a``, a ``relief`` a share
    ``relief_gap_closed``. Parameters ``control_rate``, ``tightening_rate``,
    ``deal_rate`` and ``relief_rate`` are monthly rates per product: a ``Gamma``
    prior (``beta`` in product-months) that the forecast updates with the dated
    policy events before its origin, or a ``Fixed`` rate used as given. See
    :mod:`riskmodel.forecast.policy`. The other kinds make *conditional* forecasts:
    given that this happens.

Which regime holds
------------------
Regimes are listed in time order (starts never decrease down the list). For
destination ``d`` and forecast month ``t`` the regime in force is the *last*
regime in the list whose start is at or before ``t`` and whose
``destinations`` include ``d``; so a later entry with the same start overrides
an earlier one for the destinations it names (``us_embargo`` does this). The
first regime must start at ``first`` and apply to ``all`` destinations, so
every destination has a regime in every month.

Starts
------
``first`` is the first forecast month, ``"+N"`` is ``N`` months after it
(``"+0"`` equals ``first``), ``"YYYY-MM"`` is a calendar month. Write ``"+N"``
quoted or not (``start: +3`` is read as the text ``+3``); a bare number such
as ``start: 3`` is refused because it is ambiguous. A dated start *before*
the first forecast month means the regime would already be in force, and
probably already in the fitted data; :meth:`RegimeSpec.start_index` refuses it
unless ``allow_past=True`` is passed, in which case the negative offset is
returned so that a ``new_control`` continues at the right phase of its shape
(it is never silently clamped to 0). A start at or after the end of the
horizon is returned as ``horizon``: the regime does not take effect within the
forecast (:meth:`Scenario.regime_schedule` warns).

Distributions
-------------
Every parameter is a :class:`~riskmodel.config.dists.Dist`, written as in every
riskmodel YAML file (``dist``, its parameters, a one-line ``reason``, a ``source``
where there is one; see :mod:`riskmodel.config.dists` for the families and their
parameters). A distribution's support must lie inside its parameter's range (a
Normal is refused for ``depth``, say). The forecast stage draws each parameter
once per path and regime, shared by all the regime's destinations
(:meth:`Scenario.sample_params`; a ``policy_risk`` regime's once per path and
event); destination differences come from the fitted destination offsets.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from riskmodel.config.dists import Dist, parse_dist
from riskmodel.config.yamlio import Problems, clip, parse_yaml, read_yaml, suggest
from riskmodel.exceptions import RiskModelWarning, ScenarioError
from riskmodel.months import MONTH_RE
from riskmodel.resources import priors_dir

__all__ = [
    "ALLOCATIONS",
    "KIND_PARAMETERS",
    "LEARNED_SHAPE_FILE",
    "POLICY_CLASSES",
    "REGIME_KINDS",
    "SHAPES",
    "Allocation",
    "RegimeSpec",
    "Scenario",
    "control_multiplier",
    "learned_shape_path",
    "list_scenarios",
    "load_learned_shape",
    "load_scenario",
    "parse_allocation",
    "parse_scenario",
    "scenarios_dir",
]

#: Regime kinds, in the order they are documented.
REGIME_KINDS: Final[tuple[str, ...]] = ("current", "new_control", "lifted", "set", "policy_risk")

#: Policy event classes of a ``policy_risk`` regime (see :mod:`riskmodel.forecast.policy`).
POLICY_CLASSES: Final[tuple[str, ...]] = ("control", "tightening", "deal", "relief")

_SHAPE_PARAMETERS: Final[dict[str, tuple[float, float]]] = {
    "depth": (0.0, 1.0),
    "months_to_low": (0.0, math.inf),
    "recovery_half_life_months": (0.0, math.inf),
    "long_run": (0.0, 1.0),
}

#: Allocation rules the Monte Carlo stage understands.
ALLOCATIONS: Final[tuple[str, ...]] = ("proportional", "priority", "end_use")

#: For each regime kind, its (all required) parameters and the closed range
#: each parameter's distribution must stay in.
KIND_PARAMETERS: Final[dict[str, dict[str, tuple[float, float]]]] = {
    "current": {},
    "new_control": dict(_SHAPE_PARAMETERS),
    "lifted": {},
    "set": {"level": (0.0, 1.0)},
    "policy_risk": {
        **{f"{c}_rate": (0.0, math.inf) for c in POLICY_CLASSES},
        "deal_gap_closed": (0.0, 1.0),
        "relief_gap_closed": (0.0, 1.0),
        **_SHAPE_PARAMETERS,
    },
}

# Kinds whose four shape distributions may come from the learned shape (``shape: learned``).
_SHAPED_KINDS: Final[tuple[str, ...]] = ("new_control", "policy_risk")
# A rate is a Gamma prior updated with the event counts, or a Fixed rate used as given.
_RATE_FAMILIES: Final[tuple[str, ...]] = ("Gamma", "Fixed")

# Parameters that must be strictly positive (a Fixed 0 would divide by zero).
_STRICTLY_POSITIVE: Final[frozenset[str]] = frozenset({"recovery_half_life_months"})
_SCENARIO_FAMILIES: Final[tuple[str, ...]] = (
    "Beta",
    "LogNormal",
    "Normal",
    "TruncatedNormal",
    "Uniform",
    "Gamma",
    "Fixed",
)

#: Values of a ``new_control`` regime's ``shape`` key.
SHAPES: Final[tuple[str, ...]] = ("learned",)

#: The learned shock shape (written by ``riskmodel shocks learn``), in the priors folder.
LEARNED_SHAPE_FILE: Final[str] = "shock_shape.yaml"

_TOP_KEYS: Final[tuple[str, ...]] = ("name", "description", "regimes", "propagation")
_REGIME_KEYS: Final[tuple[str, ...]] = ("start", "kind", "destinations")
_PROPAGATION_KEYS: Final[tuple[str, ...]] = ("allocation", "priority", "denied_end_uses")
_NAME_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_RELATIVE_RE: Final = re.compile(r"^\+(\d+)$")


# --------------------------------------------------------------------------- #
# Value types
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Allocation:
    """How scarce supply is shared across industries (a scenario's ``propagation:`` block).

    Parameters
    ----------
    rule : {"proportional", "priority", "end_use"}
        Pro rata to demand; in the order of ``priority``; or pro rata among the
        industries whose end use is not denied.
    priority : tuple of str
        For ``priority``: industries served first, in order.
    denied_end_uses : tuple of str
        For ``end_use``: industries denied licences.
    """

    rule: str = "proportional"
    priority: tuple[str, ...] = ()
    denied_end_uses: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the ``propagation:`` block this allocation is read from."""
        out: dict[str, Any] = {"allocation": self.rule}
        if self.rule == "priority":
            out["priority"] = list(self.priority)
        if self.rule == "end_use":
            out["denied_end_uses"] = list(self.denied_end_uses)
        return out


@dataclass(frozen=True)
class RegimeSpec:
    """One regime of a scenario: from when, what kind, for whom, with which parameters.

    Parameters
    ----------
    start : str
        ``"first"``, ``"+N"`` or ``"YYYY-MM"`` (see the module notes).
    kind : str
        One of :data:`REGIME_KINDS`.
    destinations : "all" or tuple of str
        The customs destination names the regime applies to.
    params : dict of str to Dist
        The kind's parameters (:data:`KIND_PARAMETERS`).
    shape : str, optional
        ``"learned"`` when a ``new_control`` took its parameters (those not given
        explicitly) from the learned shock shape; ``None`` otherwise.
    """

    start: str
    kind: str
    destinations: Literal["all"] | tuple[str, ...] = "all"
    params: dict[str, Dist] = field(default_factory=dict)
    shape: str | None = None

    def applies_to(self, destination: str) -> bool:
        """Return whether the regime covers ``destination``."""
        return self.destinations == "all" or destination in self.destinations

    def start_index(
        self, first_month: pd.Period | str, horizon: int, *, allow_past: bool = False
    ) -> int:
        """Resolve the start to a forecast-month index.

        Parameters
        ----------
        first_month : pandas.Period or str
            The first forecast month (monthly period or ``"YYYY-MM"``).
        horizon : int
            Number of forecast months (>= 1).
        allow_past : bool, default False
            Accept a dated start before ``first_month`` and return its negative
            offset (the regime is already in force and ``-index`` months old).

        Returns
        -------
        int
            0 for the first forecast month; ``horizon`` if the regime starts at
            or after the end of the forecast (it never takes effect); negative
            only with ``allow_past``.

        Raises
        ------
        ScenarioError
            If a dated start is before ``first_month`` and ``allow_past`` is false.
        """
        first = _as_month(first_month)
        if horizon < 1:
            raise ValueError(f"horizon must be at least 1, got {horizon}")
        if self.start == "first":
            index = 0
        elif m := _RELATIVE_RE.match(self.start):
            index = int(m.group(1))
        else:
            index = (pd.Period(self.start, freq="M") - first).n
            if index < 0 and not allow_past:
                raise ScenarioError(
                    self.start,
                    [
                        f"regime start {self.start} is before the first forecast month "
                        f"{first}: the regime would already be in force (and probably in "
                        "the fitted data); use 'first' or a later month, or pass "
                        "allow_past=True to continue it at its current phase"
                    ],
                )
        return min(index, horizon)

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML mapping of this regime (canonical form)."""
        out: dict[str, Any] = {"start": self.start, "kind": self.kind}
        out["destinations"] = "all" if self.destinations == "all" else list(self.destinations)
        if self.shape is not None:
            out["shape"] = self.shape
        for key in KIND_PARAMETERS[self.kind]:
            if key in self.params:
                out[key] = self.params[key].to_dict()
        return out


@dataclass(frozen=True)
class Scenario:
    """A validated scenario file.

    Parameters
    ----------
    name : str
        Short name (the bundled file stem for bundled scenarios).
    description : str
        One line, shown in reports.
    regimes : tuple of RegimeSpec
        In time order; the first starts at ``first`` for all destinations.
    allocation : Allocation
        The ``propagation:`` block: how scarce supply is shared across industries
        (``proportional`` by default).
    path : pathlib.Path, optional
        The file it was read from.
    """

    name: str
    description: str
    regimes: tuple[RegimeSpec, ...]
    allocation: Allocation = Allocation()
    path: Path | None = None

    def regime_schedule(
        self,
        first_month: pd.Period | str,
        horizon: int,
        destinations: Sequence[str],
        *,
        allow_past: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Say which regime holds for each destination and forecast month.

        Parameters
        ----------
        first_month : pandas.Period or str
            The first forecast month.
        horizon : int
            Number of forecast months.
        destinations : sequence of str
            The destinations being forecast (customs names, e.g. ``"World"``).
        allow_past : bool, default False
            Passed to :meth:`RegimeSpec.start_index`.

        Returns
        -------
        regime : numpy.ndarray of int, shape (destination, month)
            Index into :attr:`regimes` of the regime in force.
        months_since_start : numpy.ndarray of int, shape (destination, month)
            Months since that regime's start month (0 in the start month);
            the ``tau`` of :func:`control_multiplier`.

        Raises
        ------
        ScenarioError
            If a regime names a destination not in ``destinations``, if the
            resolved starts are out of order, or for a past dated start (see
            ``allow_past``).
        """
        where = self.path if self.path is not None else self.name
        dests = list(destinations)
        known = set(dests)
        problems = [
            f"regimes[{i}] names destination '{d}', which is not forecast "
            f"(forecast destinations: {', '.join(dests) or 'none'})"
            for i, r in enumerate(self.regimes)
            if r.destinations != "all"
            for d in r.destinations
            if d not in known
        ]
        starts: list[int] = []
        for i, r in enumerate(self.regimes):
            try:
                starts.append(r.start_index(first_month, horizon, allow_past=allow_past))
            except ScenarioError as exc:
                problems.extend(f"regimes[{i}]: {p}" for p in exc.problems)
                starts.append(0)
        for i in range(1, len(starts)):
            # a past start (allow_past) is in force from month 0
            if max(starts[i], 0) < max(starts[i - 1], 0) and not problems:
                problems.append(
                    f"regimes[{i}] (start {self.regimes[i].start}) begins before "
                    f"regimes[{i - 1}] (start {self.regimes[i - 1].start}) once resolved "
                    f"from first month {_as_month(first_month)}; list regimes in time order"
                )
        if problems:
            raise ScenarioError(where, problems)
        for i, s in enumerate(starts):
            if s >= horizon:
                warnings.warn(
                    f"scenario '{self.name}': regimes[{i}] (start {self.regimes[i].start}) "
                    f"begins after the {horizon}-month horizon from {_as_month(first_month)} "
                    "and has no effect on this forecast",
                    RiskModelWarning,
                    stacklevel=2,
                )
        regime = np.zeros((len(dests), horizon), dtype=np.int64)
        since = np.zeros((len(dests), horizon), dtype=np.int64)
        months = np.arange(horizon)
        for i, (r, s) in enumerate(zip(self.regimes, starts, strict=True)):
            active = months >= s
            for j, d in enumerate(dests):
                if r.applies_to(d):
                    regime[j, active] = i
                    since[j, active] = months[active] - s
        return regime, since

    def sample_params(
        self, rng: np.random.Generator | int, n_paths: int
    ) -> tuple[dict[str, np.ndarray], ...]:
        """Draw every regime parameter once per path.

        Parameters
        ----------
        rng : numpy.random.Generator or int
            Random generator or seed.
        n_paths : int
            Number of paths.

        Returns
        -------
        tuple of dict
            One dict per regime (aligned with :attr:`regimes`) mapping parameter
            name to an array of shape ``(n_paths,)``. Draw order is fixed (regime
            order, then :data:`KIND_PARAMETERS` order), so a seed reproduces it.
        """
        gen = np.random.default_rng(rng)
        return tuple(
            {
                key: r.params[key].sample(gen, n_paths)
                for key in KIND_PARAMETERS[r.kind]
                if key in r.params
            }
            if r.kind != "policy_risk"  # drawn by riskmodel.forecast.policy, per event
            else {}
            for r in self.regimes
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the scenario as plain data (canonical form, for provenance)."""
        return {
            "name": self.name,
            "description": self.description,
            "regimes": [r.to_dict() for r in self.regimes],
            "propagation": self.allocation.to_dict(),
        }

    def digest(self) -> str:
        """Return a short SHA-256 of the canonical content (not of the file bytes)."""
        text = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- #
# The new-control shape
# --------------------------------------------------------------------------- #


def control_multiplier(
    months_since_start: np.ndarray | float,
    depth: np.ndarray | float,
    months_to_low: np.ndarray | float,
    recovery_half_life_months: np.ndarray | float,
    long_run: np.ndarray | float,
) -> np.ndarray:
    """Return the approval-rate multiplier of a ``new_control`` regime.

    With ``tau`` the months since the start month (0 in the start month), ``T``
    the months to the low, ``h`` the half-life, ``d`` the depth and ``L`` the
    long-run share:

    * ``tau < 0``: 1 (not yet started);
    * ``0 <= tau <= T``: ``d ** ((tau + 1) / (T + 1))``, a log-linear fall from 1
      (the month before the start) to ``d`` at the low;
    * ``tau > T``: ``L - (L - d) * 2 ** (-(tau - T) / h)``, the gap to ``L``
      halving every ``h`` months.

    With ``d = 0.25``, ``T = 1``, ``h = 1`` and ``L = 1`` this gives 0.50, 0.25,
    0.63 and 0.81 in the first four months, close to China's magnet exports in
    April–July 2025 (about 50%, 25%, 60% and 105% of normal).

    Parameters
    ----------
    months_since_start, depth, months_to_low, recovery_half_life_months, long_run
        Broadcastable arrays or scalars (e.g. months of shape ``(month,)`` and
        parameters of shape ``(path, 1)``).

    Returns
    -------
    numpy.ndarray
        The multiplier, broadcast over the inputs.
    """
    tau = np.asarray(months_since_start, dtype=np.float64)
    d = np.asarray(depth, dtype=np.float64)
    t_low = np.asarray(months_to_low, dtype=np.float64)
    h = np.asarray(recovery_half_life_months, dtype=np.float64)
    lr = np.asarray(long_run, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        falling = np.power(d, (np.maximum(tau, -1.0) + 1.0) / (t_low + 1.0))
        rising = lr - (lr - d) * np.exp2(-np.maximum(tau - t_low, 0.0) / h)
    out = np.where(tau <= t_low, falling, rising)
    return np.where(tau < 0, 1.0, out)


# --------------------------------------------------------------------------- #
# Loading
# --------------------------------------------------------------------------- #


def scenarios_dir() -> Path:
    """Return the folder of the bundled scenario files."""
    return priors_dir() / "scenarios"


def list_scenarios() -> list[str]:
    """Return the names of the bundled scenarios, sorted."""
    folder = scenarios_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.yaml"))


def learned_shape_path() -> Path:
    """Return the path of the bundled learned shock shape (``priors/shock_shape.yaml``)."""
    return priors_dir() / LEARNED_SHAPE_FILE


def load_learned_shape(path: str | Path | None = None) -> dict[str, Dist]:
    """Read the learned shape of a new control: the four ``new_control`` distributions.

    The file is written by ``riskmodel shocks learn`` (:mod:`riskmodel.shocks`); its
    ``shape`` mapping holds ``depth``, ``months_to_low``,
    ``recovery_half_life_months`` and ``long_run``, each a distribution entry
    validated as in a scenario. Other top-level keys (the episodes it was learned
    from, the method) are provenance and are not read here.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Default: :func:`learned_shape_path`.

    Returns
    -------
    dict of str to Dist
        In :data:`KIND_PARAMETERS` order.

    Raises
    ------
    ScenarioError
        For a missing or unreadable file, a YAML error, or any invalid entry (all
        problems listed).
    """
    file = Path(path) if path is not None else learned_shape_path()
    if not file.exists():
        raise ScenarioError(file, ["file not found (write it with 'riskmodel shocks learn')"])
    raw = read_yaml(file, error=ScenarioError)
    problems = Problems(raw)
    shape = raw.get("shape") if isinstance(raw, Mapping) else None
    if not problems.mapping(shape, "shape", "the four new_control distributions"):
        problems.raise_if_any(file, ScenarioError)
    specs: dict[str, Dist] = {}
    domains = KIND_PARAMETERS["new_control"]
    problems.keys(shape, tuple(domains), "shape")
    for key in domains:
        if key not in shape:
            problems.add("shape", f"missing '{key}'")
            continue
        spec = _regime_dist(shape[key], "new_control", key, f"shape.{key}", problems)
        if spec is not None:
            specs[key] = spec
    problems.raise_if_any(file, ScenarioError)
    return specs


def load_scenario(name_or_path: str | Path, *, shape_file: str | Path | None = None) -> Scenario:
    """Load and validate a scenario.

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        A bundled name such as ``"baseline"`` (a string with no path separator
        and no ``.yaml``/``.yml`` suffix), or the path of a YAML file.
    shape_file : str or pathlib.Path, optional
        Learned shock shape used by ``shape: learned`` regimes; default
        :func:`learned_shape_path`.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        For an unknown name (the message lists the bundled names), a missing or
        unreadable file, a YAML syntax error (with line and column) or any
        schema problem (all listed in one error, each with its line and column).
    """
    if isinstance(name_or_path, str) and _looks_like_name(name_or_path):
        path = scenarios_dir() / f"{name_or_path}.yaml"
        if not path.is_file():
            available = ", ".join(list_scenarios()) or "none"
            raise ScenarioError(
                name_or_path,
                [
                    f"no bundled scenario named '{name_or_path}' (available: {available}); "
                    "give a path to use your own file"
                ],
            )
    else:
        path = Path(name_or_path)
    return _validate(read_yaml(path, error=ScenarioError), path, shape_file)


def parse_scenario(
    text: str | Mapping[str, Any],
    *,
    path: str | Path | None = None,
    shape_file: str | Path | None = None,
) -> Scenario:
    """Validate a scenario given as YAML text or as the mapping it holds.

    Parameters
    ----------
    text : str or mapping
        The YAML document, or its content (e.g. :meth:`Scenario.to_dict`'s output,
        as carried by a forecast's paths).
    path : str or pathlib.Path, optional
        Where it came from (used in messages and kept on the result).
    shape_file : str or pathlib.Path, optional
        Learned shock shape used by ``shape: learned`` regimes; default
        :func:`learned_shape_path`.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        Listing every problem found.
    """
    where = Path(path) if path is not None else Path("<scenario>")
    raw = parse_yaml(text, where=where, error=ScenarioError) if isinstance(text, str) else text
    scenario = _validate(raw, where, shape_file)
    return scenario if path is not None else _without_path(scenario)


def parse_allocation(
    block: Any, industries: Sequence[str] | None = None, *, where: str | Path = "scenario"
) -> Allocation:
    """Validate a scenario's ``propagation:`` block (or a whole scenario mapping).

    Parameters
    ----------
    block : Scenario, Allocation, mapping or None
        A scenario, its allocation, its ``propagation:`` block (``{"allocation":
        ..., "priority": [...], "denied_end_uses": [...]}``) or a whole scenario
        mapping holding one; ``None`` means ``proportional``.
    industries : sequence of str, optional
        The industries modelled: names in the lists must be among them.
    where : str or pathlib.Path
        Named in errors.

    Returns
    -------
    Allocation

    Raises
    ------
    ScenarioError
        Listing every problem.
    """
    path = "propagation"
    if isinstance(block, Scenario):
        block = block.allocation
    if isinstance(block, Mapping) and ("regimes" in block or "propagation" in block):
        block = block.get("propagation")
    problems = Problems({"propagation": block})
    if isinstance(block, Allocation):
        allocation = block
    else:
        allocation = _parse_allocation(block, path, problems)
    for key in ("priority", "denied_end_uses"):
        unknown = [
            v for v in getattr(allocation, key) if industries is not None and v not in industries
        ]
        if unknown:
            known = ", ".join(industries or ())
            problems.add(f"{path}.{key}", f"unknown industries {unknown}; known: {known}")
    problems.raise_if_any(where, ScenarioError)
    return allocation


def _without_path(scenario: Scenario) -> Scenario:
    return Scenario(scenario.name, scenario.description, scenario.regimes, scenario.allocation)


def _looks_like_name(text: str) -> bool:
    return (
        "/" not in text
        and "\\" not in text
        and not text.endswith((".yaml", ".yml"))
        and bool(_NAME_RE.match(text))
    )


# --------------------------------------------------------------------------- #
# Validation (every problem reported with its line and column)
# --------------------------------------------------------------------------- #


def _regime_dist(raw: Any, kind: str, key: str, path: str, problems: Problems) -> Dist | None:
    low, high = KIND_PARAMETERS[kind][key]
    return parse_dist(
        raw,
        path,
        problems,
        allowed=_RATE_FAMILIES if key.endswith("_rate") else _SCENARIO_FAMILIES,
        low=low,
        high=high,
        open_low=key in _STRICTLY_POSITIVE,
    )


def _parse_start(value: Any, path: str, problems: Problems) -> str | None:
    hint = "'first', '+N' (N months after the first forecast month) or 'YYYY-MM' (1900-2100)"
    if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
        problems.add(
            path,
            f"got {clip(value)}; a regime cannot start before the first forecast month "
            "(use 'first' for one already in force)",
        )
        return None
    if isinstance(value, bool) or isinstance(value, int | float):
        problems.add(
            path,
            f"a bare number ({clip(value)}) is ambiguous; write '+{clip(value)}' for "
            f"{clip(value)} months after the first forecast month, or a month 'YYYY-MM'",
        )
        return None
    if not isinstance(value, str):
        problems.add(path, f"must be {hint}, got {clip(value)}")
        return None
    text = value.strip()
    if text == "first":
        return text
    if (m := _RELATIVE_RE.match(text)) and len(m.group(1)) <= 4:
        return f"+{int(m.group(1))}"
    if MONTH_RE.match(text) and "1900" <= text < "2101":  # as policy events' dates
        return text
    problems.add(path, f"must be {hint}, got {clip(value)}")
    return None


def _learned_params(
    raw: Mapping[Any, Any], path: str, problems: Problems, shape_file: str | Path | None
) -> tuple[str | None, dict[str, Dist]]:
    """Read a ``shape`` key (new_control, policy_risk): ``(shape, learned distributions)``."""
    if "shape" not in raw:
        return None, {}
    value = raw["shape"]
    if value not in SHAPES:
        problems.add(
            f"{path}.shape",
            f"unknown shape {clip(value)}; allowed: {', '.join(SHAPES)} "
            "(or give the four distributions)",
        )
        return None, {}
    try:
        return str(value), load_learned_shape(shape_file)
    except ScenarioError as exc:
        problems.add(f"{path}.shape", f"{exc.file}: {'; '.join(exc.problems)}")
        return None, {}


def _parse_regime(
    raw: Any, path: str, problems: Problems, shape_file: str | Path | None
) -> RegimeSpec | None:
    if not problems.mapping(raw, path, "start, kind and the kind's parameters"):
        return None
    n_before = len(problems)
    start = _parse_start(raw["start"], f"{path}.start", problems) if "start" in raw else None
    if "start" not in raw:
        problems.add(path, "missing 'start'")
    kind = raw.get("kind")
    if kind is None:
        problems.add(path, f"missing 'kind' (one of {', '.join(REGIME_KINDS)})")
    elif kind not in REGIME_KINDS:
        problems.add(
            f"{path}.kind",
            f"unknown kind {clip(kind)}{suggest(str(kind), REGIME_KINDS)}; "
            f"allowed: {', '.join(REGIME_KINDS)}",
        )
        kind = None
    destinations: Literal["all"] | tuple[str, ...] | None = "all"
    if "destinations" in raw and raw["destinations"] != "all":
        if not isinstance(raw["destinations"], list):
            problems.add(
                f"{path}.destinations",
                f"must be 'all' or a list of destination names, got {clip(raw['destinations'])}",
            )
            destinations = None
        else:
            destinations = problems.names(raw["destinations"], f"{path}.destinations")
        if destinations is not None and "all" in destinations:
            problems.add(f"{path}.destinations", "write 'all' alone, not inside a list")
    params: dict[str, Dist] = {}
    shape: str | None = None
    if kind is not None:
        domains = KIND_PARAMETERS[kind]
        allowed = (*_REGIME_KEYS, *(("shape",) if kind in _SHAPED_KINDS else ()), *domains)
        problems.keys(raw, allowed, path)
        learned: dict[str, Dist] = {}
        if kind in _SHAPED_KINDS:
            shape, learned = _learned_params(raw, path, problems, shape_file)
        for key in domains:
            if key not in raw:
                if key in learned:
                    params[key] = learned[key]
                elif "shape" not in raw or key not in _SHAPE_PARAMETERS:
                    # (with a shape key, a missing shape parameter was reported above)
                    shaped = kind in _SHAPED_KINDS and key in _SHAPE_PARAMETERS
                    hint = " (or shape: learned)" if shaped else ""
                    problems.add(path, f"kind {kind} needs '{key}'{hint}")
                continue
            spec = _regime_dist(raw[key], kind, key, f"{path}.{key}", problems)
            if spec is not None:
                params[key] = spec
    if len(problems) > n_before or start is None or kind is None or destinations is None:
        return None
    return RegimeSpec(start=start, kind=kind, destinations=destinations, params=params, shape=shape)


def _start_key(start: str) -> tuple[str, int]:
    """Return ``(family, ordinal)`` so that starts of the same family compare."""
    if start == "first":
        return ("relative", 0)
    if m := _RELATIVE_RE.match(start):
        return ("relative", int(m.group(1)))
    return ("dated", pd.Period(start, freq="M").ordinal)


def _check_regime_order(regimes: list[tuple[int, RegimeSpec]], problems: Problems) -> None:
    if not regimes:
        return
    i0, first = regimes[0]
    if i0 == 0 and (_start_key(first.start) != ("relative", 0) or first.destinations != "all"):
        problems.add(
            "regimes[0]",
            "the first regime must have start: first and destinations: all (it says what "
            "holds from the first forecast month; use kind: current for today's regime)",
        )
    keys = [(i, r, _start_key(r.start)) for i, r in regimes]
    for a in range(len(keys)):
        for b in range(a + 1, len(keys)):
            (ia, ra, ka), (ib, rb, kb) = keys[a], keys[b]
            if ka[0] != kb[0]:
                continue  # "+N" vs "YYYY-MM": checked when resolved
            if kb[1] < ka[1]:
                problems.add(
                    f"regimes[{ib}]",
                    f"regimes[{ib}] (start {rb.start}) begins before regimes[{ia}] "
                    f"(start {ra.start}); list regimes in time order",
                )
            elif kb[1] == ka[1] and (
                rb.destinations == "all"
                or (ra.destinations != "all" and set(ra.destinations) <= set(rb.destinations))
            ):
                problems.add(
                    f"regimes[{ia}]",
                    f"regimes[{ia}] never applies: regimes[{ib}] starts at the same time "
                    "and covers all its destinations",
                )


def _parse_allocation(raw: Any, path: str, problems: Problems) -> Allocation:
    if raw is None:
        return Allocation()
    if not problems.mapping(raw, path, "allocation and its lists"):
        return Allocation()
    problems.keys(raw, _PROPAGATION_KEYS, path)
    rule = raw.get("allocation", "proportional")
    if rule not in ALLOCATIONS:
        problems.add(
            f"{path}.allocation",
            f"unknown allocation {clip(rule)}{suggest(str(rule), ALLOCATIONS)}; "
            f"allowed: {', '.join(ALLOCATIONS)}",
        )
        return Allocation()
    lists: dict[str, tuple[str, ...]] = {"priority": (), "denied_end_uses": ()}
    for needed_by, key in (("priority", "priority"), ("end_use", "denied_end_uses")):
        if rule == needed_by:
            if key not in raw:
                problems.add(path, f"allocation {needed_by} needs '{key}' (a list of industries)")
            else:
                lists[key] = problems.names(raw[key], f"{path}.{key}") or ()
        elif key in raw:
            problems.add(
                f"{path}.{key}",
                f"only used with allocation: {needed_by} (allocation is {rule})",
            )
    return Allocation(str(rule), lists["priority"], lists["denied_end_uses"])


def _validate(raw: Any, path: Path, shape_file: str | Path | None) -> Scenario:
    problems = Problems(raw)
    if raw is None:
        problems.add("", "the file is empty; a scenario needs name, description and regimes")
        problems.raise_if_any(path, ScenarioError)
    if not isinstance(raw, Mapping):
        what = "name, description, regimes"
        problems.add("", f"the top level must be a mapping ({what}), got {clip(raw)}")
        problems.raise_if_any(path, ScenarioError)
    problems.keys(raw, _TOP_KEYS, "")
    name = raw.get("name")
    if name is None:
        problems.add("", "missing 'name'")
    elif not isinstance(name, str) or not _NAME_RE.match(name):
        problems.add(
            "name",
            "must be letters, digits, '_', '-' or '.', starting with a letter or digit, "
            f"got {clip(name)}",
        )
    if "description" not in raw:
        problems.add("", "missing 'description' (one line, shown in reports)")
        description = ""
    else:
        description = problems.one_line(raw["description"], "description")
    regimes_raw = raw.get("regimes")
    parsed: list[tuple[int, RegimeSpec]] = []
    if regimes_raw is None:
        problems.add("", "missing 'regimes' (a list, the first with start: first)")
    elif not isinstance(regimes_raw, list) or not regimes_raw:
        problems.add("regimes", f"must be a non-empty list, got {clip(regimes_raw)}")
    else:
        for i, item in enumerate(regimes_raw):
            spec = _parse_regime(item, f"regimes[{i}]", problems, shape_file)
            if spec is not None:
                parsed.append((i, spec))
        _check_regime_order(parsed, problems)
    allocation = _parse_allocation(raw.get("propagation"), "propagation", problems)
    problems.raise_if_any(path, ScenarioError)
    return Scenario(
        name=str(name),
        description=description,
        regimes=tuple(r for _, r in parsed),
        allocation=allocation,
        path=path,
    )


def _as_month(value: pd.Period | str) -> pd.Period:
    if isinstance(value, pd.Period):
        if value.freqstr not in ("M", "ME"):
            return value.asfreq("M")
        return value
    return pd.Period(value, freq="M")
