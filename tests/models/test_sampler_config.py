"""Sampler settings are checked before any backend sees them."""

import pytest


@pytest.mark.parametrize(
    "settings", [{"tune": 0}, {"draws": 0}, {"chains": -1}, {"target_accept": 1.0}]
)
def test_sampler_config_refuses_settings_nutpie_would_panic_on(settings):
    from riskmodel.sampling import SamplerConfig

    with pytest.raises(ValueError, match="SamplerConfig"):
        SamplerConfig(**settings)


def test_models_that_differ_only_in_data_do_not_share_a_compiled_model():
    import numpy as np
    import pymc as pm

    from riskmodel.sampling.backends import model_structure_hash

    def model(values):
        with pm.Model(coords={"e": range(len(values))}) as m:
            data = pm.Data("d", values)
            x = pm.Normal("x", 0.0, 1.0, dims="e")
            pm.Potential("p", (x * data).sum())
        return m

    keys = {model_structure_hash(model(v)) for v in (np.ones(3), np.zeros(3), np.zeros(4))}
    assert len(keys) == 3
    assert model_structure_hash(model(np.ones(3))) == model_structure_hash(model(np.ones(3)))
