"""Customs destinations → importing regions, without counting any country twice.

The rules are written in ``priors/propagation.yaml`` (``regions:``):

- a region with ``destinations`` sums those of its names that the paths have;
- a region with an ``aggregate`` (``European Union``) uses the aggregate when the
  paths have it, and otherwise sums its ``members`` that are present (then it is a
  lower bound: absent members stay inside the residual);
- the ``residual`` region is ``World`` minus every other region that has data,
  floored at 0 path by path and month by month; the number of floored cells is
  returned so the caller can report it;
- a region with none of its destinations in the paths has no data: it is left out
  and its volume stays inside the residual.

Destinations the table does not name (Vietnam, ``Europe``...) are inside ``World``
and therefore inside the residual. A destination belongs to one region at most
(checked when the parameters are loaded).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from riskmodel.propagation.params import PropagationParams

__all__ = ["WORLD", "RegionMapping", "map_destinations"]

WORLD = "World"

#: A residual below -FLOOR_RTOL x World is a floor event; smaller negatives are rounding.
FLOOR_RTOL = 1e-9


@dataclass(frozen=True)
class RegionMapping:
    """How the forecast's destinations combine into regions.

    Attributes
    ----------
    regions : tuple of str
        Regions with data, in the parameters' order.
    missing : tuple of str
        Regions none of whose destinations are in the paths.
    used : dict
        Region → the destinations summed (the residual: ``("World", "US", ...)``, i.e.
        World minus those regions).
    weights : numpy.ndarray
        ``(region, destination)`` float64, +1/-1/0: region = weights @ destinations.
    residual : int or None
        Index of the residual region in ``regions``.
    """

    regions: tuple[str, ...]
    missing: tuple[str, ...]
    used: dict[str, tuple[str, ...]]
    weights: np.ndarray
    residual: int | None

    def describe(self) -> str:
        """One line, e.g. ``"US=United States; EU=Germany+France; RoW=World-US-EU"``."""
        parts = []
        for name, dests in self.used.items():
            is_residual = self.residual is not None and name == self.regions[self.residual]
            parts.append(f"{name}={'-'.join(dests) if is_residual else '+'.join(dests)}")
        return "; ".join(parts)

    def apply(self, values: np.ndarray) -> tuple[np.ndarray, int]:
        """Map ``(path, destination, month)`` values to ``(path, region, month)``.

        Parameters
        ----------
        values : numpy.ndarray
            ``(F, D, T)`` tonnes.

        Returns
        -------
        mapped : numpy.ndarray
            ``(F, R, T)`` float64, the residual floored at 0.
        floor_events : int
            Number of (path, month) cells where the residual was below
            ``-1e-9 x World`` before flooring.
        """
        mapped = np.einsum("fdt,rd->frt", values, self.weights)
        events = 0
        if self.residual is not None:
            res = mapped[:, self.residual, :]
            world = np.einsum("fdt,d->ft", values, np.maximum(self.weights[self.residual], 0))
            events = int(np.count_nonzero(res < -FLOOR_RTOL * np.maximum(world, 1.0)))
            np.maximum(res, 0.0, out=res)
        return mapped, events


def map_destinations(params: PropagationParams, destinations: Sequence[str]) -> RegionMapping:
    """Work out which destinations make each region.

    Parameters
    ----------
    params : PropagationParams
        Holds the region table.
    destinations : sequence of str
        The ``destination`` coordinate of the forecast paths.

    Returns
    -------
    RegionMapping
    """
    dests = [str(d) for d in destinations]
    index = {d: k for k, d in enumerate(dests)}
    rows: list[np.ndarray] = []
    names: list[str] = []
    missing: list[str] = []
    used: dict[str, tuple[str, ...]] = {}
    residual_spec = None
    for spec in params.regions:
        if spec.residual:
            residual_spec = spec
            continue
        if spec.aggregate is not None and spec.aggregate in index:
            chosen: tuple[str, ...] = (spec.aggregate,)
        else:
            chosen = tuple(d for d in (*spec.destinations, *spec.members) if d in index)
        if not chosen:
            missing.append(spec.name)
            continue
        w = np.zeros(len(dests))
        for d in chosen:
            w[index[d]] = 1.0
        rows.append(w)
        names.append(spec.name)
        used[spec.name] = chosen
    residual = None
    if residual_spec is not None:
        if WORLD in index:
            w = np.zeros(len(dests))
            w[index[WORLD]] = 1.0
            for row in rows:
                w -= row
            residual = len(rows)
            rows.append(w)
            names.append(residual_spec.name)
            used[residual_spec.name] = (WORLD, *names[:-1])
        else:
            missing.append(residual_spec.name)
    order = {spec.name: k for k, spec in enumerate(params.regions)}
    perm = sorted(range(len(names)), key=lambda k: order[names[k]])
    weights = np.array([rows[k] for k in perm]).reshape(len(perm), len(dests))
    names = [names[k] for k in perm]
    if residual is not None:
        residual = names.index(residual_spec.name)  # type: ignore[union-attr]
    return RegionMapping(
        regions=tuple(names),
        missing=tuple(sorted(missing, key=lambda n: order[n])),
        used=used,
        weights=weights,
        residual=residual,
    )
