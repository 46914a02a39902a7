"""Configuration read from YAML: priors, scenarios, the learned shock shape.

Layer 0 of the package: imports nothing from riskmodel but ``exceptions`` and
``resources``. Every YAML file is read by :func:`~riskmodel.config.yamlio.read_yaml`
and every distribution is a :class:`~riskmodel.config.dists.Dist`.
"""

from __future__ import annotations

from riskmodel.config.dists import Dist, parse_dist
from riskmodel.config.scenario import (
    Allocation,
    RegimeSpec,
    Scenario,
    control_multiplier,
    list_scenarios,
    load_scenario,
    parse_scenario,
)

__all__ = [
    "Allocation",
    "Dist",
    "RegimeSpec",
    "Scenario",
    "control_multiplier",
    "list_scenarios",
    "load_scenario",
    "parse_dist",
    "parse_scenario",
]
