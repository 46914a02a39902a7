"""Write this stack's tiny posterior fixture with the stack's own NetCDF writer.

Run once under each stack from the repository root (the file name says which stack):

    python tests/models/stack_posteriors/make.py

A real ``pm.sample`` (PyMC's NUTS, 2 chains x 20 draws) of a 2-destination x 3-month model,
saved with the result type's own ``to_netcdf`` (``InferenceData`` under arviz 0.2x,
``DataTree`` under arviz 1.x), so tests/models/test_stack_compat.py reads what each stack
really writes, in either stack.
"""

from pathlib import Path

import arviz
import numpy as np
import pymc as pm

HERE = Path(__file__).resolve().parent


def main() -> Path:
    coords = {"destination": ["World", "Japan"], "month": ["2024-01", "2024-02", "2024-03"]}
    with pm.Model(coords=coords):
        mu = pm.Normal("mu", 0.0, 1.0)
        logit = pm.Normal("approval_logit", mu, 1.0, dims=("destination", "month"))
        pm.Deterministic("approval", pm.math.sigmoid(logit), dims=("destination", "month"))
        pm.Normal("y", logit.sum(), 1.0, observed=np.array([0.5]))
        idata = pm.sample(
            draws=20,
            tune=20,
            chains=2,
            cores=1,
            random_seed=7,
            nuts_sampler="pymc",
            progressbar=False,
            compute_convergence_checks=False,
        )
    idata.posterior.attrs.update({"model_type": "export_model", "data_hash": "stack-fixture"})
    major = arviz.__version__.split(".")[0]
    path = HERE / f"posterior_pymc{pm.__version__.split('.')[0]}_arviz{major}.nc"
    idata.to_netcdf(str(path))
    return path


if __name__ == "__main__":
    print(main())
