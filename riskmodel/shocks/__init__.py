"""The shape of an export-control shock, learned from past control episodes.

China has licensed exports before: gallium and germanium (August 2023), graphite
(December 2023), bismuth and tungsten (February 2025), rare-earth magnets (April
2025), and, de facto, rare earths to Japan (September 2010). Each episode shows how
deep exports fell, how fast, and how far they came back. This package

- finds the episodes in the customs series and policy events
  (:func:`find_episodes`);
- fits the approval-rate model to each one and measures its shape, with
  uncertainty (:func:`fit_episode`);
- pools the episodes in a hierarchical model of the
  :func:`~riskmodel.config.scenario.control_multiplier` parameters and turns the
  posterior predictive of a new episode into the prior of a new control,
  ``priors/shock_shape.yaml`` (:func:`learn_shock_shape`, :func:`write_shock_shape`);
- checks that prior leave-one-out (:func:`leave_one_out`);
- shows the episode table and a figure (:func:`episode_table`, :func:`shock_figure`).

Scenarios use the result with ``shape: learned``; a forecast of a product whose first
control is dated after its data uses it automatically. See ``docs/shocks.md``.
"""

from __future__ import annotations

from riskmodel.shocks.episodes import Episode, find_episodes
from riskmodel.shocks.figure import shock_figure
from riskmodel.shocks.hierarchy import PooledData, ShapeModel, ShapePosterior, pooled_data
from riskmodel.shocks.learn import (
    LearnedShape,
    learn_shock_shape,
    pooled_windows_from_document,
    read_shock_shape,
    windows_from_document,
    write_shock_shape,
)
from riskmodel.shocks.loo import LooResult, leave_one_out
from riskmodel.shocks.measure import EpisodeFit, ShockWindow, fit_episode
from riskmodel.shocks.table import episode_table, format_episode_table

__all__ = [
    "Episode",
    "EpisodeFit",
    "LearnedShape",
    "LooResult",
    "PooledData",
    "ShapeModel",
    "ShapePosterior",
    "ShockWindow",
    "episode_table",
    "find_episodes",
    "fit_episode",
    "format_episode_table",
    "learn_shock_shape",
    "leave_one_out",
    "pooled_data",
    "pooled_windows_from_document",
    "read_shock_shape",
    "shock_figure",
    "windows_from_document",
    "write_shock_shape",
]
