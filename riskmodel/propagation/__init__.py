"""Stage 4, propagation: forecast export paths → shortage distributions by region × industry.

- :func:`propagate`: the Monte Carlo (chunked, streaming, in process or on Dask).
- :func:`load_params` / :func:`parse_params` / :class:`PropagationParams`: the
  validated ``priors/propagation.yaml``.
- :func:`read_paths` / :func:`validate_paths`: the forecast stage's ``paths.nc``.
- :func:`write_shortage_outputs`: ``shortage.csv``, ``stockout.csv``, ``shortage.nc``
  (atomic).
- :func:`map_destinations`: customs destinations → regions.
- :mod:`riskmodel.propagation.kernels`: the NumPy-only array kernels (numba when
  installed).

This package never imports PyMC or ArviZ.
"""

from __future__ import annotations

from riskmodel.config.scenario import ALLOCATIONS, Allocation, parse_allocation
from riskmodel.propagation.engine import (
    DEFAULT_BLOCK_SIZE,
    DEFAULT_CHUNK_SIZE,
    PropagationWarning,
    propagate,
)
from riskmodel.propagation.io import (
    PATHS_FILE,
    ForecastInputError,
    read_paths,
    shortage_table,
    stockout_table,
    validate_paths,
    write_shortage_outputs,
)
from riskmodel.propagation.params import (
    CapacityProject,
    Dist,
    PropagationParams,
    RegionSpec,
    default_params_path,
    load_params,
    parse_params,
)
from riskmodel.propagation.regions import RegionMapping, map_destinations

__all__ = [
    "ALLOCATIONS",
    "DEFAULT_BLOCK_SIZE",
    "DEFAULT_CHUNK_SIZE",
    "PATHS_FILE",
    "Allocation",
    "CapacityProject",
    "Dist",
    "ForecastInputError",
    "PropagationParams",
    "PropagationWarning",
    "RegionMapping",
    "RegionSpec",
    "default_params_path",
    "load_params",
    "map_destinations",
    "parse_allocation",
    "parse_params",
    "propagate",
    "read_paths",
    "shortage_table",
    "stockout_table",
    "validate_paths",
    "write_shortage_outputs",
]
