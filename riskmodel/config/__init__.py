"""Configuration read from YAML: scenarios (and, later, priors).

Layer 0 of the package: imports nothing from riskmodel but ``exceptions`` and
``resources``.
"""

from __future__ import annotations

from riskmodel.config.scenario import (
    DistSpec,
    RegimeSpec,
    Scenario,
    control_multiplier,
    list_scenarios,
    load_scenario,
    parse_scenario,
)

__all__ = [
    "DistSpec",
    "RegimeSpec",
    "Scenario",
    "control_multiplier",
    "list_scenarios",
    "load_scenario",
    "parse_scenario",
]
