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
Every parameter is a distribution with a one-line ``reason`` and, where there
is one, a ``source`` (a string or a list of strings, stored joined with
``" | "``). Allowed: ``Beta(alpha, beta)``, ``LogNormal(mu, sigma)`` (of the
log), ``Normal(mu, sigma)``, ``TruncatedNormal(mu, sigma, lower, upper)``,
``Uniform(lower, upper)``, ``Gamma(alpha, beta)`` (``beta`` is the *rate*, as
in PyMC) and ``Fixed(value)``. A distribution's support must lie inside its
parameter's range (a Normal is refused for ``depth``, say). The forecast
stage draws each parameter once per path and regime, shared by all the
regime's destinations (:meth:`Scenario.sample_params`); destination
differences come from the fitted destination offsets.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from riskmodel.exceptions import RiskModelWarning, ScenarioError
from riskmodel.resources import priors_dir

__all__ = [
    "ALLOCATIONS",
    "DISTRIBUTIONS",
    "KIND_PARAMETERS",
    "LEARNED_SHAPE_FILE",
    "REGIME_KINDS",
    "SHAPES",
    "DistSpec",
    "RegimeSpec",
    "Scenario",
    "control_multiplier",
    "learned_shape_path",
    "list_scenarios",
    "load_learned_shape",
    "load_scenario",
    "parse_scenario",
    "scenarios_dir",
]

#: Regime kinds, in the order they are documented.
REGIME_KINDS: Final[tuple[str, ...]] = ("current", "new_control", "lifted", "set")

#: Allocation rules the Monte Carlo stage understands.
ALLOCATIONS: Final[tuple[str, ...]] = ("proportional", "priority", "end_use")

#: Allowed distributions and their (required, exhaustive) parameters.
DISTRIBUTIONS: Final[dict[str, tuple[str, ...]]] = {
    "Beta": ("alpha", "beta"),
    "LogNormal": ("mu", "sigma"),
    "Normal": ("mu", "sigma"),
    "TruncatedNormal": ("mu", "sigma", "lower", "upper"),
    "Uniform": ("lower", "upper"),
    "Gamma": ("alpha", "beta"),
    "Fixed": ("value",),
}

#: For each regime kind, its (all required) parameters and the closed range
#: each parameter's distribution must stay in.
KIND_PARAMETERS: Final[dict[str, dict[str, tuple[float, float]]]] = {
    "current": {},
    "new_control": {
        "depth": (0.0, 1.0),
        "months_to_low": (0.0, math.inf),
        "recovery_half_life_months": (0.0, math.inf),
        "long_run": (0.0, 1.0),
    },
    "lifted": {},
    "set": {"level": (0.0, 1.0)},
}

# Parameters that must be strictly positive (a Fixed 0 would divide by zero).
_STRICTLY_POSITIVE: Final[frozenset[str]] = frozenset({"recovery_half_life_months"})

#: Values of a ``new_control`` regime's ``shape`` key.
SHAPES: Final[tuple[str, ...]] = ("learned",)

#: The learned shock shape (written by ``riskmodel shocks learn``), in the priors folder.
LEARNED_SHAPE_FILE: Final[str] = "shock_shape.yaml"

_TOP_KEYS: Final[tuple[str, ...]] = ("name", "description", "regimes", "propagation")
_REGIME_KEYS: Final[tuple[str, ...]] = ("start", "kind", "destinations")
_DIST_META_KEYS: Final[tuple[str, ...]] = ("dist", "reason", "source")
_PROPAGATION_KEYS: Final[tuple[str, ...]] = ("allocation", "priority", "denied_end_uses")
_NAME_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_RELATIVE_RE: Final = re.compile(r"^\+(\d+)$")
_MONTH_RE: Final = re.compile(r"^(\d{4})-(\d{2})$")


# --------------------------------------------------------------------------- #
# Value types
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class DistSpec:
    """One parameter's distribution, with why it has these numbers.

    Parameters
    ----------
    dist : str
        One of :data:`DISTRIBUTIONS`.
    params : dict of str to float
        The distribution's parameters, e.g. ``{"alpha": 2.0, "beta": 5.0}``.
    reason : str
        One line: why these numbers.
    source : str, optional
        Where the numbers come from (several joined with ``" | "``).

    Notes
    -----
    ``Gamma(alpha, beta)`` uses ``beta`` as the rate (mean ``alpha / beta``), as
    PyMC does; ``LogNormal(mu, sigma)`` is the distribution of ``exp(N(mu, sigma))``.
    Instances are made by :func:`load_scenario`, which validates them; one built
    by hand is not checked.
    """

    dist: str
    params: dict[str, float]
    reason: str
    source: str | None = None

    def _scipy(self) -> Any:
        """Return the frozen scipy distribution (not for ``Fixed``)."""
        p = self.params
        match self.dist:
            case "Beta":
                return stats.beta(p["alpha"], p["beta"])
            case "LogNormal":
                return stats.lognorm(s=p["sigma"], scale=math.exp(p["mu"]))
            case "Normal":
                return stats.norm(loc=p["mu"], scale=p["sigma"])
            case "TruncatedNormal":
                mu, sigma = p["mu"], p["sigma"]
                a, b = (p["lower"] - mu) / sigma, (p["upper"] - mu) / sigma
                return stats.truncnorm(a, b, loc=mu, scale=sigma)
            case "Uniform":
                return stats.uniform(loc=p["lower"], scale=p["upper"] - p["lower"])
            case "Gamma":
                return stats.gamma(p["alpha"], scale=1.0 / p["beta"])
        raise ValueError(f"unknown distribution {self.dist!r}")

    def sample(
        self, rng: np.random.Generator | int, size: int | tuple[int, ...] | None = None
    ) -> np.ndarray:
        """Draw from the distribution.

        Parameters
        ----------
        rng : numpy.random.Generator or int
            Random generator (or a seed for a new one). The same generator state
            gives the same draws.
        size : int or tuple of int, optional
            Output shape; ``None`` gives a 0-d array.

        Returns
        -------
        numpy.ndarray
            Float64 draws of shape ``size``.
        """
        gen = np.random.default_rng(rng)
        if self.dist == "Fixed":
            return np.full(() if size is None else size, float(self.params["value"]))
        return np.asarray(self._scipy().rvs(size=size, random_state=gen), dtype=np.float64)

    def mean(self) -> float:
        """Return the distribution's mean."""
        if self.dist == "Fixed":
            return float(self.params["value"])
        return float(self._scipy().mean())

    def support(self) -> tuple[float, float]:
        """Return the closed interval ``(low, high)`` holding the support."""
        p = self.params
        match self.dist:
            case "Beta":
                return (0.0, 1.0)
            case "LogNormal" | "Gamma":
                return (0.0, math.inf)
            case "Normal":
                return (-math.inf, math.inf)
            case "TruncatedNormal" | "Uniform":
                return (p["lower"], p["upper"])
            case "Fixed":
                return (p["value"], p["value"])
        raise ValueError(f"unknown distribution {self.dist!r}")

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML mapping this spec was read from (canonical form)."""
        out: dict[str, Any] = {"dist": self.dist, **self.params, "reason": self.reason}
        if self.source is not None:
            out["source"] = self.source
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
    params : dict of str to DistSpec
        The kind's parameters (:data:`KIND_PARAMETERS`).
    shape : str, optional
        ``"learned"`` when a ``new_control`` took its parameters (those not given
        explicitly) from the learned shock shape; ``None`` otherwise.
    """

    start: str
    kind: str
    destinations: Literal["all"] | tuple[str, ...] = "all"
    params: dict[str, DistSpec] = field(default_factory=dict)
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
    propagation : dict
        ``{"allocation": ...}`` plus ``"priority"`` or ``"denied_end_uses"``
        (lists) when the allocation needs them; ``proportional`` by default.
    path : pathlib.Path, optional
        The file it was read from.
    """

    name: str
    description: str
    regimes: tuple[RegimeSpec, ...]
    propagation: dict[str, Any]
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
            for r in self.regimes
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the scenario as plain data (canonical form, for provenance)."""
        return {
            "name": self.name,
            "description": self.description,
            "regimes": [r.to_dict() for r in self.regimes],
            "propagation": dict(self.propagation),
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


def load_learned_shape(path: str | Path | None = None) -> dict[str, DistSpec]:
    """Read the learned shape of a new control: the four ``new_control`` distributions.

    The file is written by ``riskmodel shocks learn`` (:mod:`riskmodel.shocks`); its
    ``shape`` mapping holds ``depth``, ``months_to_low``,
    ``recovery_half_life_months`` and ``long_run``, each in the scenario format
    (``dist``, parameters, ``reason``, ``source``) and validated the same way.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Default: :func:`learned_shape_path`.

    Returns
    -------
    dict of str to DistSpec
        In :data:`KIND_PARAMETERS` order.

    Raises
    ------
    ScenarioError
        For a missing or unreadable file, a YAML error, or any invalid entry (all
        problems listed).
    """
    file = Path(path) if path is not None else learned_shape_path()
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(
            file, ["file not found (write it with 'riskmodel shocks learn')"]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(file, [f"cannot read the file: {exc}"]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(file, [f"YAML syntax error: {exc}"]) from None
    problems: list[str] = []
    shape = raw.get("shape") if isinstance(raw, dict) else None
    if not isinstance(shape, dict):
        raise ScenarioError(
            file, ["missing 'shape' (a mapping of the four new_control parameters)"]
        )
    specs: dict[str, DistSpec] = {}
    domains = KIND_PARAMETERS["new_control"]
    _unknown_keys(shape, tuple(domains), "shape", problems)
    for key, domain in domains.items():
        if key not in shape:
            problems.append(f"shape: missing '{key}'")
            continue
        spec = _parse_dist(shape[key], f"shape.{key}", domain, key in _STRICTLY_POSITIVE, problems)
        if spec is not None:
            specs[key] = spec
    if problems:
        raise ScenarioError(file, problems)
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
        schema problem (all listed in one error).
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
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(path, ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(path, [f"cannot read the file: {exc}"]) from None
    return parse_scenario(text, path=path, shape_file=shape_file)


def parse_scenario(
    text: str, *, path: str | Path | None = None, shape_file: str | Path | None = None
) -> Scenario:
    """Validate scenario YAML text.

    Parameters
    ----------
    text : str
        The YAML document.
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
    loader = _Loader(text)
    try:
        raw = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = " ".join(s for s in (exc.context, exc.problem) if s)
        raise ScenarioError(where, [f"YAML syntax error{at}: {what}"]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(where, [f"YAML syntax error: {exc}"]) from None
    finally:
        loader.dispose()
    problems = list(loader.duplicate_keys)
    scenario = _validate(raw, where if path is not None else None, problems, shape_file)
    if problems or scenario is None:
        raise ScenarioError(where, problems or ["invalid scenario"])
    return scenario


def _looks_like_name(text: str) -> bool:
    return (
        "/" not in text
        and "\\" not in text
        and not text.endswith((".yaml", ".yml"))
        and bool(_NAME_RE.match(text))
    )


class _Loader(yaml.SafeLoader):
    """Safe loader that keeps ``+N`` as text and records duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicate_keys: list[str] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # unhashable key: the base class reports it
                continue
            if duplicate:
                self.duplicate_keys.append(
                    f"duplicate key '{key}' at line {key_node.start_mark.line + 1}"
                )
        return super().construct_mapping(node, deep=deep)


# "+3" would be read as the integer 3; keep a leading "+" as text so that
# "start: +3" means three months after the first, as written.
_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if not (first == "+" and tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"))
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


# --------------------------------------------------------------------------- #
# Validation (collects every problem)
# --------------------------------------------------------------------------- #


def _suggest(key: str, allowed: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(key), list(allowed), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _unknown_keys(
    mapping: Mapping[Any, Any], allowed: Sequence[str], where: str, problems: list[str]
) -> None:
    for key in mapping:
        if key not in allowed:
            problems.append(
                f"{where}: unknown key '{key}'{_suggest(key, allowed)}; "
                f"allowed: {', '.join(allowed)}"
            )


def _one_line(value: Any, where: str, problems: list[str]) -> str:
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: must be a non-empty one-line text, got {value!r}")
        return ""
    text = value.strip()
    if "\n" in text:
        problems.append(f"{where}: must be one line (it has line breaks)")
    return text


def _number(value: Any, where: str, problems: list[str]) -> float | None:
    if isinstance(value, str) and value.startswith("+"):
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(f"{where}: must be a number, got {value!r}")
        return None
    if not math.isfinite(value):
        problems.append(f"{where}: must be finite, got {value!r}")
        return None
    return float(value)


def _name_list(value: Any, where: str, problems: list[str]) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not value:
        problems.append(f"{where}: must be a non-empty list of names, got {value!r}")
        return None
    out: list[str] = []
    for k, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            problems.append(f"{where}[{k}]: must be a non-empty name, got {item!r}")
        elif item.strip() in out:
            problems.append(f"{where}: '{item.strip()}' is listed twice")
        else:
            out.append(item.strip())
    return tuple(out)


def _fmt(x: float) -> str:
    return f"{x:g}"


def _parse_dist(
    raw: Any, where: str, domain: tuple[float, float], strictly_positive: bool, problems: list[str]
) -> DistSpec | None:
    if not isinstance(raw, dict):
        problems.append(
            f"{where}: must be a mapping with dist, its parameters and reason, got {raw!r}"
        )
        return None
    n_before = len(problems)
    raw_dist = raw.get("dist")
    dist = raw_dist if isinstance(raw_dist, str) and raw_dist in DISTRIBUTIONS else ""
    names: tuple[str, ...] = DISTRIBUTIONS.get(dist, ())
    if raw_dist is None:
        problems.append(f"{where}: missing 'dist' (one of {', '.join(DISTRIBUTIONS)})")
    elif not dist:
        problems.append(
            f"{where}.dist: unknown distribution {raw_dist!r}"
            f"{_suggest(str(raw_dist), DISTRIBUTIONS)}; allowed: {', '.join(DISTRIBUTIONS)}"
        )
    if "reason" not in raw:
        problems.append(f"{where}: missing 'reason' (one line: why these numbers)")
        reason = ""
    else:
        reason = _one_line(raw["reason"], f"{where}.reason", problems)
    source: str | None = None
    if "source" in raw:
        src = raw["source"]
        if isinstance(src, list):
            parts = _name_list(src, f"{where}.source", problems)
            source = " | ".join(parts) if parts else None
        else:
            source = _one_line(src, f"{where}.source", problems) or None
    if names:
        _unknown_keys(raw, (*_DIST_META_KEYS, *names), where, problems)
    params: dict[str, float] = {}
    for key in names:
        if key not in raw:
            problems.append(f"{where}: {dist} needs '{key}'")
            continue
        num = _number(raw[key], f"{where}.{key}", problems)
        if num is not None:
            params[key] = num
    if not names or len(params) < len(names):
        return None  # the parameter checks below need every parameter
    p = params
    bad: list[str] = []
    for key in ("alpha", "beta", "sigma"):
        if key in p and dist != "Fixed" and p[key] <= 0:
            bad.append(f"{key} must be > 0, got {_fmt(p[key])}")
    if "lower" in p and "upper" in p and not p["lower"] < p["upper"]:
        bad.append(f"lower ({_fmt(p['lower'])}) must be below upper ({_fmt(p['upper'])})")
    problems.extend(f"{where}: {b}" for b in bad)
    if bad:
        return None
    spec = DistSpec(dist=dist, params=params, reason=reason, source=source)
    low, high = spec.support()
    lo, hi = domain
    if low < lo or high > hi:
        problems.append(
            f"{where}: a {dist} ranges over [{_fmt(low)}, {_fmt(high)}] but this parameter "
            f"must lie in [{_fmt(lo)}, {_fmt(hi)}]"
        )
        return None
    if strictly_positive and high <= 0:
        problems.append(f"{where}: must be > 0")
        return None
    return spec if len(problems) == n_before else None


def _parse_start(value: Any, where: str, problems: list[str]) -> str | None:
    hint = "'first', '+N' (N months after the first forecast month) or 'YYYY-MM'"
    if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
        problems.append(
            f"{where}: got {value!r}; a regime cannot start before the first forecast "
            "month (use 'first' for one already in force)"
        )
        return None
    if isinstance(value, bool) or isinstance(value, int | float):
        problems.append(
            f"{where}: a bare number ({value!r}) is ambiguous; write '+{value}' for "
            f"{value} months after the first forecast month, or a month 'YYYY-MM'"
        )
        return None
    if not isinstance(value, str):
        problems.append(f"{where}: must be {hint}, got {value!r}")
        return None
    text = value.strip()
    if text == "first":
        return text
    if m := _RELATIVE_RE.match(text):
        return f"+{int(m.group(1))}"
    if (m := _MONTH_RE.match(text)) and 1 <= int(m.group(2)) <= 12:
        return text
    problems.append(f"{where}: must be {hint}, got {value!r}")
    return None


def _learned_params(
    raw: Mapping[Any, Any], where: str, problems: list[str], shape_file: str | Path | None
) -> tuple[str | None, dict[str, DistSpec]]:
    """Read a ``new_control``'s ``shape`` key: ``(shape, learned distributions)``."""
    if "shape" not in raw:
        return None, {}
    value = raw["shape"]
    if value not in SHAPES:
        problems.append(
            f"{where}.shape: unknown shape {value!r}; allowed: {', '.join(SHAPES)} "
            "(or give the four distributions)"
        )
        return None, {}
    try:
        return str(value), load_learned_shape(shape_file)
    except ScenarioError as exc:
        problems.extend(f"{where}.shape: {exc.file}: {p}" for p in exc.problems)
        return None, {}


def _parse_regime(
    raw: Any, where: str, problems: list[str], shape_file: str | Path | None = None
) -> RegimeSpec | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping with start and kind, got {raw!r}")
        return None
    n_before = len(problems)
    start = _parse_start(raw["start"], f"{where}.start", problems) if "start" in raw else None
    if "start" not in raw:
        problems.append(f"{where}: missing 'start'")
    kind = raw.get("kind")
    if kind is None:
        problems.append(f"{where}: missing 'kind' (one of {', '.join(REGIME_KINDS)})")
    elif kind not in REGIME_KINDS:
        problems.append(
            f"{where}.kind: unknown kind {kind!r}{_suggest(str(kind), REGIME_KINDS)}; "
            f"allowed: {', '.join(REGIME_KINDS)}"
        )
        kind = None
    destinations: Literal["all"] | tuple[str, ...] | None = "all"
    if "destinations" in raw and raw["destinations"] != "all":
        if not isinstance(raw["destinations"], list):
            problems.append(
                f"{where}.destinations: must be 'all' or a list of destination names, "
                f"got {raw['destinations']!r}"
            )
            destinations = None
        else:
            destinations = _name_list(raw["destinations"], f"{where}.destinations", problems)
        if destinations is not None and "all" in destinations:
            problems.append(f"{where}.destinations: write 'all' alone, not inside a list")
    params: dict[str, DistSpec] = {}
    shape: str | None = None
    if kind is not None:
        domains = KIND_PARAMETERS[kind]
        allowed = (*_REGIME_KEYS, *(("shape",) if kind == "new_control" else ()), *domains)
        _unknown_keys(raw, allowed, where, problems)
        learned: dict[str, DistSpec] = {}
        if kind == "new_control":
            shape, learned = _learned_params(raw, where, problems, shape_file)
        for key, domain in domains.items():
            if key not in raw:
                if key in learned:
                    params[key] = learned[key]
                elif "shape" not in raw:  # a bad shape was reported above
                    hint = " (or shape: learned)" if kind == "new_control" else ""
                    problems.append(f"{where}: kind {kind} needs '{key}'{hint}")
                continue
            spec = _parse_dist(
                raw[key], f"{where}.{key}", domain, key in _STRICTLY_POSITIVE, problems
            )
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


def _check_regime_order(regimes: list[tuple[int, RegimeSpec]], problems: list[str]) -> None:
    if not regimes:
        return
    i0, first = regimes[0]
    if i0 == 0 and (_start_key(first.start) != ("relative", 0) or first.destinations != "all"):
        problems.append(
            "regimes[0]: the first regime must have start: first and destinations: all "
            "(it says what holds from the first forecast month; use kind: current for "
            "today's regime)"
        )
    keys = [(i, r, _start_key(r.start)) for i, r in regimes]
    for a in range(len(keys)):
        for b in range(a + 1, len(keys)):
            (ia, ra, ka), (ib, rb, kb) = keys[a], keys[b]
            if ka[0] != kb[0]:
                continue  # "+N" vs "YYYY-MM": checked when resolved
            if kb[1] < ka[1]:
                problems.append(
                    f"regimes[{ib}] (start {rb.start}) begins before regimes[{ia}] "
                    f"(start {ra.start}); list regimes in time order"
                )
            elif kb[1] == ka[1] and (
                rb.destinations == "all"
                or (ra.destinations != "all" and set(ra.destinations) <= set(rb.destinations))
            ):
                problems.append(
                    f"regimes[{ia}] never applies: regimes[{ib}] starts at the same time "
                    "and covers all its destinations"
                )


def _parse_propagation(raw: Any, problems: list[str]) -> dict[str, Any]:
    if raw is None:
        return {"allocation": "proportional"}
    if not isinstance(raw, dict):
        problems.append(f"propagation: must be a mapping, got {raw!r}")
        return {}
    _unknown_keys(raw, _PROPAGATION_KEYS, "propagation", problems)
    allocation = raw.get("allocation", "proportional")
    if allocation not in ALLOCATIONS:
        problems.append(
            f"propagation.allocation: unknown allocation {allocation!r}"
            f"{_suggest(str(allocation), ALLOCATIONS)}; allowed: {', '.join(ALLOCATIONS)}"
        )
        return {}
    out: dict[str, Any] = {"allocation": allocation}
    needs = {"priority": "priority", "end_use": "denied_end_uses"}
    for alloc, key in needs.items():
        if allocation == alloc:
            if key not in raw:
                problems.append(
                    f"propagation: allocation {alloc} needs '{key}' (a list of industries)"
                )
            else:
                names = _name_list(raw[key], f"propagation.{key}", problems)
                if names is not None:
                    out[key] = list(names)
        elif key in raw:
            problems.append(
                f"propagation.{key}: only used with allocation: {alloc} "
                f"(allocation is {allocation})"
            )
    return out


def _validate(
    raw: Any, path: Path | None, problems: list[str], shape_file: str | Path | None = None
) -> Scenario | None:
    if raw is None:
        problems.append("the file is empty; a scenario needs name, description and regimes")
        return None
    if not isinstance(raw, dict):
        problems.append(f"the top level must be a mapping (name, description, ...), got {raw!r}")
        return None
    _unknown_keys(raw, _TOP_KEYS, "top level", problems)
    name = raw.get("name")
    if name is None:
        problems.append("missing 'name'")
    elif not isinstance(name, str) or not _NAME_RE.match(name):
        problems.append(
            f"name: must be letters, digits, '_', '-' or '.', starting with a letter or "
            f"digit, got {name!r}"
        )
    if "description" not in raw:
        problems.append("missing 'description' (one line, shown in reports)")
        description = ""
    else:
        description = _one_line(raw["description"], "description", problems)
    regimes_raw = raw.get("regimes")
    parsed: list[tuple[int, RegimeSpec]] = []
    if regimes_raw is None:
        problems.append("missing 'regimes' (a list, the first with start: first)")
    elif not isinstance(regimes_raw, list) or not regimes_raw:
        problems.append(f"regimes: must be a non-empty list, got {regimes_raw!r}")
    else:
        for i, item in enumerate(regimes_raw):
            spec = _parse_regime(item, f"regimes[{i}]", problems, shape_file)
            if spec is not None:
                parsed.append((i, spec))
        _check_regime_order(parsed, problems)
    propagation = _parse_propagation(raw.get("propagation"), problems)
    if problems:
        return None
    return Scenario(
        name=str(name),
        description=description,
        regimes=tuple(r for _, r in parsed),
        propagation=propagation,
        path=path,
    )


def _as_month(value: pd.Period | str) -> pd.Period:
    if isinstance(value, pd.Period):
        if value.freqstr not in ("M", "ME"):
            return value.asfreq("M")
        return value
    return pd.Period(value, freq="M")
