"""Inference backends behind one seam: ``sample(pm_model, SamplerConfig) -> SampleResult``."""

from riskmodel.sampling.backends import (
    BACKENDS,
    SamplerConfig,
    SampleResult,
    available_backends,
    default_backend,
    sample,
)

__all__ = [
    "BACKENDS",
    "SampleResult",
    "SamplerConfig",
    "available_backends",
    "default_backend",
    "sample",
]
