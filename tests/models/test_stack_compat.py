"""Saved posteriors load across the two stacks (pymc 5 / arviz 0.2x and pymc 6 / arviz 1.x).

Each stack wrote one small real posterior with its own writer (``stack_posteriors/make.py``):
both files must load under whichever stack runs the tests, through the same path a saved fit
takes (:func:`riskmodel.models.fit.load_fit`). What this stack writes must read back with
both stacks' readers that this interpreter has (``xarray.open_datatree`` is arviz 1.x's, and
``arviz.from_netcdf`` is arviz 0.2x's when that is the installed one).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from riskmodel import compat
from riskmodel.models.diagnostics import ConvergenceReport, convergence_report
from riskmodel.models.fit import FittedModel, load_fit

HERE = Path(__file__).resolve().parent / "stack_posteriors"
FIXTURES = {
    "pymc5/arviz0": HERE / "posterior_pymc5_arviz0.nc",
    "pymc6/arviz1": HERE / "posterior_pymc6_arviz1.nc",
}


def _native_type() -> type:
    if compat.arviz_major() >= 1:
        return xr.DataTree
    import arviz as az

    return az.InferenceData


@pytest.mark.parametrize("stack", sorted(FIXTURES))
def test_a_posterior_saved_by_either_stack_loads_as_a_fit(stack, tmp_path):
    shutil.copy(FIXTURES[stack], tmp_path / "posterior.nc")
    fitted = load_fit(tmp_path)
    assert isinstance(fitted.idata, _native_type())
    assert {"posterior", "sample_stats"} <= set(compat.groups(fitted.idata))
    assert fitted.attrs["data_hash"] == "stack-fixture"
    assert fitted.destinations == ["World", "Japan"]
    assert [str(m) for m in fitted.months] == ["2024-01", "2024-02", "2024-03"]
    post = compat.posterior(fitted.idata)
    assert post["approval"].shape == (2, 20, 2, 3)
    expected = 1.0 / (1.0 + np.exp(-post["approval_logit"].values))
    np.testing.assert_allclose(post["approval"].values, expected, rtol=1e-10)
    # The diagnostics read the stack's sample stats: 2 chains x 20 draws, no divergence
    # counted from nothing, a finite BFMI per chain.
    report = fitted.diagnostics
    assert np.isfinite(report.max_rhat) and 0 < report.min_ess_bulk < 2 * 20 * 10
    assert np.isfinite(report.min_bfmi)
    assert report.divergences == int(compat.group(fitted.idata, "sample_stats")["diverging"].sum())
    summary = fitted.approval_summary()
    assert len(summary) == 6 and (summary["q05"] <= summary["q95"]).all()


@pytest.mark.parametrize("stack", sorted(FIXTURES))
def test_what_this_stack_writes_reads_back_with_both_readers(stack, tmp_path):
    idata = compat.read_netcdf(FIXTURES[stack])
    out = compat.to_netcdf(idata, tmp_path / "again.nc")
    source = compat.posterior(idata)

    again = compat.read_netcdf(out)
    assert compat.groups(again) == compat.groups(idata)
    xr.testing.assert_identical(compat.posterior(again), source)

    with xr.open_datatree(out, engine="h5netcdf") as tree:  # arviz 1.x's reader
        xr.testing.assert_identical(tree["posterior"].to_dataset().load(), source)
    if compat.arviz_major() == 0:
        import arviz as az

        old = az.from_netcdf(out)  # arviz 0.2x's reader
        xr.testing.assert_identical(old.posterior.load(), source)


def test_fit_save_then_load_keeps_draws_and_provenance(tmp_path):
    idata = compat.read_netcdf(FIXTURES["pymc5/arviz0"])
    report = ConvergenceReport(1.0, 1000.0, 1000.0, 0, 1.0)
    FittedModel(idata, report, {"seconds": 1.0}).save(tmp_path / "fit")
    again = load_fit(tmp_path / "fit")
    xr.testing.assert_identical(compat.posterior(again.idata), compat.posterior(idata))


def test_groups_can_be_replaced_and_dropped():
    post = compat.posterior(compat.read_netcdf(FIXTURES["pymc6/arviz1"]))
    idata = compat.from_datasets(posterior=post, warmup_posterior=post)
    assert isinstance(idata, _native_type())
    compat.drop_group(idata, "warmup_posterior")
    compat.drop_group(idata, "warmup_posterior")  # absent: nothing happens
    assert compat.groups(idata) == ["posterior"]
    compat.set_group(idata, "posterior", post.isel(draw=slice(5, None)))
    assert compat.posterior(idata).sizes["draw"] == 15
    with pytest.raises(KeyError, match="no group 'sample_stats'"):
        compat.group(idata, "sample_stats")


def test_bfmi_matches_its_definition():
    idata = compat.read_netcdf(FIXTURES["pymc5/arviz0"])
    energy = compat.group(idata, "sample_stats")["energy"].values
    mine = compat.bfmi(idata)
    by_hand = [np.sum(np.diff(e) ** 2) / np.sum((e - e.mean()) ** 2) for e in energy]
    np.testing.assert_allclose(mine, by_hand, rtol=1e-12)
    assert mine.shape == (2,)


def test_rhat_and_ess_return_one_dataset_per_variable():
    post = compat.posterior(compat.read_netcdf(FIXTURES["pymc6/arviz1"]))
    report = convergence_report(compat.from_datasets(posterior=post), ["mu", "approval_logit"])
    rhat = compat.rhat(post[["mu", "approval_logit"]])
    ess = compat.ess(post[["mu"]], method="tail")
    assert set(rhat.data_vars) == {"mu", "approval_logit"}
    assert rhat["approval_logit"].shape == (2, 3)
    assert report.max_rhat == pytest.approx(
        float(rhat["approval_logit"].max().clip(min=rhat["mu"]))
    )
    assert float(ess["mu"]) > 0
    # no sample_stats here: no divergences, no BFMI, and the report says nothing false
    assert report.divergences == 0 and np.isnan(report.min_bfmi)
