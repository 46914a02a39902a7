"""Sampler settings are checked before any backend sees them."""

import pytest


@pytest.mark.parametrize(
    "settings", [{"tune": 0}, {"draws": 0}, {"chains": -1}, {"target_accept": 1.0}]
)
def test_sampler_config_refuses_settings_nutpie_would_panic_on(settings):
    from riskmodel.sampling import SamplerConfig

    with pytest.raises(ValueError, match="SamplerConfig"):
        SamplerConfig(**settings)


def test_the_structure_key_sees_data_shapes_not_values():
    # Data values are swapped into a compiled model (riskmodel.sampling.backends
    # _with_model_data); a shape or dim length is frozen into it, so it is in the key.
    import numpy as np
    import pymc as pm

    from riskmodel.sampling.backends import model_structure_hash

    def model(values):
        with pm.Model(coords={"e": range(len(values))}) as m:
            data = pm.Data("d", values)
            x = pm.Normal("x", 0.0, 1.0, dims="e")
            pm.Potential("p", (x * data).sum())
        return m

    ones, zeros, longer = (
        model_structure_hash(model(v)) for v in (np.ones(3), np.zeros(3), np.zeros(4))
    )
    assert ones == zeros != longer
