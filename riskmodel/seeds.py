"""One seed for a run, one independent seed per stage.

Every command (``fit``, ``forecast``, ``shortage``, ``report``, ``backtest``) and the
library (:mod:`riskmodel.pipeline`) take the seed of the *run* and give each stage its
own seed through :func:`stage_seeds`, so the stage commands with ``--seed S`` give the
same numbers as ``riskmodel report --seed S``, and the stages' random streams are
independent of one another.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: What a run's seed may be: a non-negative integer or a NumPy generator.
SeedLike = int | np.integer | np.random.Generator

#: The stages, in pipeline order: child ``i`` of ``SeedSequence(seed)`` seeds stage ``i``.
STAGES = ("sampler", "forecast", "shortage")


@dataclass(frozen=True)
class StageSeeds:
    """The seed of each random stage of one run.

    Attributes
    ----------
    sampler : int
        Seed of the NUTS sampler (the fit).
    forecast : int
        Seed of the forecast paths.
    shortage : int
        Root seed of the Monte Carlo propagation.
    """

    sampler: int
    forecast: int
    shortage: int


def stage_seeds(seed: SeedLike) -> StageSeeds:
    """Turn a run's seed into the seeds of its stages.

    Parameters
    ----------
    seed : int or numpy.random.Generator
        A non-negative integer: stage ``i`` (in :data:`STAGES` order) gets the first
        32-bit word of the ``i``-th child of ``numpy.random.SeedSequence(seed)``. A
        Generator: the three seeds are drawn from it (advancing it), so the same
        generator state gives the same seeds.

    Returns
    -------
    StageSeeds

    Raises
    ------
    ValueError
        If ``seed`` is negative, a bool, or neither an integer nor a Generator.
    """
    if isinstance(seed, np.random.Generator):
        words = seed.integers(0, 2**32, size=len(STAGES), dtype=np.uint64)
        return StageSeeds(*(int(w) for w in words))
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"a seed is a non-negative integer or a Generator, got {seed!r}")
    children = np.random.SeedSequence(int(seed)).spawn(len(STAGES))
    return StageSeeds(*(int(c.generate_state(1, dtype=np.uint32)[0]) for c in children))


def seed_label(seed: SeedLike) -> int | str:
    """Return how a run's seed is recorded in attrs: the integer, or ``"generator"``."""
    return "generator" if isinstance(seed, np.random.Generator) else int(seed)


__all__ = ["STAGES", "SeedLike", "StageSeeds", "seed_label", "stage_seeds"]
