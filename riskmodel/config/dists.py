"""The one "distribution with a reason" of riskmodel: :class:`Dist` and its registry.

Every uncertain number in a priors file, a scenario, the propagation parameters and
the learned shock shape is written the same way::

    depth: {dist: Beta, alpha: 2.0, beta: 5.0, reason: "one line", source: "https://..."}

and read by :func:`parse_dist` into a :class:`Dist`. One parameterisation per family,
PyMC's (so a prior maps one to one onto ``pm.<Family>``):

============================  =====================================================
``Normal(mu, sigma)``         mean, standard deviation
``HalfNormal(sigma)``         scale of ``|N(0, sigma)|``
``LogNormal(mu, sigma)``      of the log: the median is ``exp(mu)``
``TruncatedNormal(mu, sigma, lower, upper)``  a normal cut to ``[lower, upper]``
``Beta(alpha, beta)``         shapes
``Gamma(alpha, beta)``        shape and *rate* (mean ``alpha / beta``)
``Exponential(lam)``          rate
``Uniform(lower, upper)``
``Fixed(value)``              a point mass (no random numbers drawn)
============================  =====================================================

Besides ``dist`` and its parameters an entry holds ``reason`` (one line, always),
``source`` (a text or a list of texts, joined with ``" | "``) and ``judgement: true``
where no public figure pins the value down. Draws come from one place,
:meth:`Dist.sample`, in float64 or float32.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from riskmodel.config.yamlio import Problems, clip, suggest

__all__ = ["FAMILIES", "Dist", "parse_dist"]

#: Family -> its parameters, all required, in this order.
FAMILIES: Final[dict[str, tuple[str, ...]]] = {
    "Normal": ("mu", "sigma"),
    "HalfNormal": ("sigma",),
    "LogNormal": ("mu", "sigma"),
    "TruncatedNormal": ("mu", "sigma", "lower", "upper"),
    "Beta": ("alpha", "beta"),
    "Gamma": ("alpha", "beta"),
    "Exponential": ("lam",),
    "Uniform": ("lower", "upper"),
    "Fixed": ("value",),
}
_POSITIVE: Final[frozenset[str]] = frozenset({"sigma", "alpha", "beta", "lam"})
_META_KEYS: Final[tuple[str, ...]] = ("dist", "reason", "source", "judgement")
_CHECK_DRAWS: Final[int] = 256


@dataclass(frozen=True)
class Dist:
    """One distribution, with why it has these numbers.

    Parameters
    ----------
    family : str
        A key of :data:`FAMILIES`.
    params : tuple of (str, float)
        Its parameters, in the order of :data:`FAMILIES`.
    reason : str
        One line: why these numbers.
    source : str, optional
        Where they come from (several joined with ``" | "``).
    judgement : bool
        True when no public figure pins the value down.

    Notes
    -----
    Made by :func:`parse_dist`, which validates; one built by hand is not checked.
    """

    family: str
    params: tuple[tuple[str, float], ...]
    reason: str = ""
    source: str | None = None
    judgement: bool = False

    @classmethod
    def of(cls, family: str, reason: str = "", source: str | None = None, **params: float) -> Dist:
        """Build a distribution from keywords, e.g. ``Dist.of("Beta", alpha=2, beta=5)``."""
        names = FAMILIES[family]
        return cls(family, tuple((k, float(params[k])) for k in names), reason, source)

    @classmethod
    def fixed(cls, value: float, reason: str = "fixed", *, judgement: bool = True) -> Dist:
        """Build a point mass (handy in tests and scripts)."""
        return cls("Fixed", (("value", float(value)),), reason, None, judgement)

    def __getitem__(self, key: str) -> float:
        return self.kwargs[key]

    @property
    def kwargs(self) -> dict[str, float]:
        """The parameters as a dict."""
        return dict(self.params)

    @property
    def is_fixed(self) -> bool:
        """True for a point mass (no random numbers are drawn)."""
        return self.family == "Fixed"

    def support(self) -> tuple[float, float]:
        """Return the closed interval holding every draw."""
        p = self.kwargs
        match self.family:
            case "Beta":
                return (0.0, 1.0)
            case "LogNormal" | "Gamma" | "Exponential" | "HalfNormal":
                return (0.0, math.inf)
            case "Normal":
                return (-math.inf, math.inf)
            case "TruncatedNormal" | "Uniform":
                return (p["lower"], p["upper"])
        return (p["value"], p["value"])

    def mean(self) -> float:
        """Return the mean."""
        p = self.kwargs
        match self.family:
            case "Normal":
                return p["mu"]
            case "HalfNormal":
                return p["sigma"] * math.sqrt(2 / math.pi)
            case "LogNormal":
                return math.exp(p["mu"] + p["sigma"] ** 2 / 2)
            case "Beta":
                return p["alpha"] / (p["alpha"] + p["beta"])
            case "Gamma":
                return p["alpha"] / p["beta"]
            case "Exponential":
                return 1 / p["lam"]
            case "Uniform":
                return (p["lower"] + p["upper"]) / 2
            case "TruncatedNormal":
                return float(self._scipy().mean())
        return p["value"]

    def quantile(self, q: float) -> float:
        """Return the ``q`` quantile (``0 <= q <= 1``)."""
        if self.is_fixed:
            return self["value"]
        return float(self._scipy().ppf(q))

    def interval(self, prob: float = 0.9) -> tuple[float, float]:
        """Return the central interval holding ``prob`` of the mass."""
        tail = (1.0 - prob) / 2
        return (self.quantile(tail), self.quantile(1.0 - tail))

    def describe(self) -> str:
        """Return e.g. ``"LogNormal(mu=1.95, sigma=0.334)"``."""
        inner = ", ".join(f"{k}={v:g}" for k, v in self.params)
        return f"{self.family}({inner})"

    def sample(
        self,
        rng: np.random.Generator | int,
        size: int | tuple[int, ...] | None = None,
        *,
        dtype: type[np.floating[Any]] | np.dtype[Any] = np.float64,
    ) -> np.ndarray:
        """Draw from the distribution.

        Parameters
        ----------
        rng : numpy.random.Generator or int
            Random generator (or a seed for a new one); the same state gives the
            same draws.
        size : int or tuple of int, optional
            Output shape; ``None`` gives a 0-d array.
        dtype : numpy float type
            ``float64`` (default) or ``float32`` (the Monte Carlo draws in bulk).

        Returns
        -------
        numpy.ndarray
            Draws of shape ``size``; a ``Fixed`` draws no random numbers.
        """
        gen = np.random.default_rng(rng)
        dt = np.dtype(dtype).type
        shape = () if size is None else size
        p = {k: dt(v) for k, v in self.params}
        match self.family:
            case "Fixed":
                return np.full(shape, p["value"], dtype=dt)
            case "Normal":
                return p["mu"] + p["sigma"] * gen.standard_normal(shape, dtype=dt)
            case "HalfNormal":
                return p["sigma"] * np.abs(gen.standard_normal(shape, dtype=dt))
            case "LogNormal":
                return np.exp(p["mu"] + p["sigma"] * gen.standard_normal(shape, dtype=dt))
            case "Uniform":
                return p["lower"] + (p["upper"] - p["lower"]) * gen.random(shape, dtype=dt)
            case "Gamma":
                return gen.standard_gamma(self["alpha"], shape, dtype=dt) / p["beta"]
            case "Exponential":
                return gen.standard_exponential(shape, dtype=dt) / p["lam"]
            case "Beta":
                x = gen.standard_gamma(self["alpha"], shape, dtype=dt)
                y = gen.standard_gamma(self["beta"], shape, dtype=dt)
                total = x + y
                return np.divide(x, total, out=np.full_like(x, dt(0.5)), where=total > 0)
            case "TruncatedNormal":
                u = gen.random(shape)
                return np.asarray(self._scipy().ppf(u), dtype=dt)
        raise ValueError(f"unknown distribution {self.family!r}")

    def to_pymc(self, name: str, **kwargs: Any) -> Any:
        """Create the PyMC random variable ``name`` in the current model context."""
        import pymc as pm  # local: the config layer imports no PyMC

        return getattr(pm, self.family)(name, **self.kwargs, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML mapping of this distribution (canonical form)."""
        out: dict[str, Any] = {"dist": self.family, **self.kwargs, "reason": self.reason}
        if self.source is not None:
            out["source"] = self.source
        if self.judgement:
            out["judgement"] = True
        return out

    def _scipy(self) -> Any:
        from scipy import stats  # local: only quantiles need it

        p = self.kwargs
        match self.family:
            case "Normal":
                return stats.norm(p["mu"], p["sigma"])
            case "HalfNormal":
                return stats.halfnorm(scale=p["sigma"])
            case "LogNormal":
                return stats.lognorm(s=p["sigma"], scale=math.exp(p["mu"]))
            case "TruncatedNormal":
                a, b = (p["lower"] - p["mu"]) / p["sigma"], (p["upper"] - p["mu"]) / p["sigma"]
                return stats.truncnorm(a, b, loc=p["mu"], scale=p["sigma"])
            case "Beta":
                return stats.beta(p["alpha"], p["beta"])
            case "Gamma":
                return stats.gamma(p["alpha"], scale=1.0 / p["beta"])
            case "Exponential":
                return stats.expon(scale=1.0 / p["lam"])
            case "Uniform":
                return stats.uniform(p["lower"], p["upper"] - p["lower"])
        raise ValueError(f"no scipy distribution for {self.family!r}")


def parse_dist(
    raw: Any,
    path: str,
    problems: Problems,
    *,
    allowed: Sequence[str] | None = None,
    low: float = -math.inf,
    high: float = math.inf,
    open_low: bool = False,
    clipped_normal: bool = False,
    need_source: bool = False,
) -> Dist | None:
    """Read one distribution entry, reporting every problem with its place.

    Parameters
    ----------
    raw : object
        The entry (a mapping with ``dist``, its parameters, ``reason``, ...).
    path : str
        Its path in the document, e.g. ``"regimes[1].depth"``.
    problems : Problems
        Where problems are reported.
    allowed : sequence of str, optional
        Families allowed here (default: all).
    low, high : float
        The quantity's range: the distribution's support must lie inside.
    open_low : bool
        The range is open at ``low`` (a quantity that must be > ``low``).
    clipped_normal : bool
        A ``Normal`` is accepted whatever its tails: its draws are clipped to the
        range where they are used.
    need_source : bool
        Require ``source`` or ``judgement: true``.

    Returns
    -------
    Dist or None
        ``None`` when the entry has a problem (reported).
    """
    allowed = tuple(allowed) if allowed is not None else tuple(FAMILIES)
    if not problems.mapping(raw, path, "dist, its parameters and reason"):
        return None
    n_before = len(problems)
    family = raw.get("dist")
    if family is not None and not isinstance(family, str):
        problems.add(f"{path}.dist", f"must be a distribution name, got {clip(family)}")
        family = ""
    if family is None:
        problems.add(path, f"missing 'dist' (one of {', '.join(allowed)})")
    elif family and family not in FAMILIES:
        problems.add(
            f"{path}.dist",
            f"unknown distribution {clip(family)}{suggest(str(family), allowed)}; "
            f"allowed here: {', '.join(allowed)}",
        )
    elif family not in allowed:
        problems.add(f"{path}.dist", f"{family} is not allowed here; use {', '.join(allowed)}")
    reason, source, judgement = _provenance(raw, path, problems, need_source)
    if family not in allowed:
        return None
    names = FAMILIES[family]
    problems.keys(raw, (*_META_KEYS, *names), path)
    params: list[tuple[str, float]] = []
    for key in names:
        if key not in raw:
            problems.add(path, f"{family} needs '{key}'")
            continue
        positive = key in _POSITIVE
        low_p = 0.0 if positive else -math.inf
        value = problems.number(raw[key], f"{path}.{key}", low=low_p, open_low=positive)
        if value is not None:
            params.append((key, value))
    if len(problems) > n_before:
        return None
    dist = Dist(family, tuple(params), reason, source, judgement)
    p = dist.kwargs
    if "lower" in p and not p["lower"] < p["upper"]:
        problems.add(path, f"lower ({p['lower']:g}) must be below upper ({p['upper']:g})")
        return None
    s_low, s_high = dist.support()
    # Support bounds that are attained (a point mass, a uniform's or a truncation's
    # edge) must stay off an open lower end; the other families' supports are open.
    attained = family in ("Fixed", "Uniform", "TruncatedNormal")
    outside = s_low < low or s_high > high or (open_low and attained and s_low <= low)
    if clipped_normal and family == "Normal":
        outside = False
    if outside:
        bracket = "(" if open_low else "["
        problems.add(
            path,
            f"a {dist.describe()} ranges over [{s_low:g}, {s_high:g}] but this quantity must "
            f"lie in {bracket}{low:g}, {high:g}]",
        )
        return None
    if not dist.is_fixed:
        for dtype in (np.float64, np.float32):
            with np.errstate(over="ignore", invalid="ignore"):  # reported just below
                draws = dist.sample(np.random.default_rng(0), _CHECK_DRAWS, dtype=dtype)
            if not np.isfinite(draws).all():
                problems.add(path, f"{dist.describe()} draws non-finite values; check its numbers")
                return None
            if np.ptp(draws) == 0:
                problems.add(path, f"{dist.describe()} is degenerate (every draw equal); use Fixed")
                return None
    return dist


def _provenance(
    raw: Mapping[str, Any], path: str, problems: Problems, need_source: bool
) -> tuple[str, str | None, bool]:
    """Read ``reason``, ``source`` and ``judgement``."""
    if "reason" in raw:
        reason = problems.one_line(raw["reason"], f"{path}.reason")
    else:
        problems.add(path, "missing 'reason' (one line: why these numbers)")
        reason = ""
    source: str | None = None
    if "source" in raw:
        src = raw["source"]
        if isinstance(src, list):
            parts = problems.names(src, f"{path}.source")
            source = " | ".join(parts) if parts else None
        else:
            source = problems.one_line(src, f"{path}.source") or None
    judgement = (
        problems.flag(raw["judgement"], f"{path}.judgement") if "judgement" in raw else False
    )
    if need_source and source is None and not judgement and "source" not in raw:
        problems.add(path, "needs a 'source' or 'judgement: true'")
    return reason, source, judgement
