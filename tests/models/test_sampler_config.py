"""Sampler settings are checked before any backend sees them."""

import pytest


@pytest.mark.parametrize(
    "settings", [{"tune": 0}, {"draws": 0}, {"chains": -1}, {"target_accept": 1.0}]
)
def test_sampler_config_refuses_settings_nutpie_would_panic_on(settings):
    from riskmodel.sampling import SamplerConfig

    with pytest.raises(ValueError, match="SamplerConfig"):
        SamplerConfig(**settings)
