"""Stage outputs that carry what made them, one seed per run, events known at the origin.

No sampling here: fits are fixed posteriors (tests/conftest.py) with the attrs a fit
records; the real fit and the command line are in tests/test_cli_end_to_end.py.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from riskmodel import compat, pipeline
from riskmodel.config.scenario import list_scenarios, load_scenario, parse_scenario
from riskmodel.customs import events_for_product, load_bundled_events
from riskmodel.exceptions import ArtifactMismatchError, RiskModelWarning, ScenarioError
from riskmodel.models.diagnostics import ConvergenceReport
from riskmodel.models.fit import FittedModel
from riskmodel.models.regimes import effective_month, regime_starts
from riskmodel.resources import bundled_data_file
from riskmodel.seeds import StageSeeds, stage_seeds
from tests.conftest import make_posterior

# --------------------------------------------------------------------------- events


@pytest.mark.parametrize(
    ("as_of", "date", "effective"),
    [
        ("2025-07", "2025-07-24", "2025-08"),  # EU-China summit deal
        ("2025-10", "2025-10-30", "2025-11"),  # Busan deal
    ],
)
def test_as_of_keeps_a_deal_dated_late_in_the_origin_month(as_of, date, effective):
    events = events_for_product(load_bundled_events(), "magnets")
    deal = events[(events["date"] == pd.Timestamp(date)) & (events["event_type"] == "deal")]
    assert len(deal) == 1
    assert effective_month(pd.Timestamp(date)) == pd.Period(effective, "M")

    inputs = pipeline.load_inputs(as_of=as_of)
    assert inputs.months[-1] == pd.Period(as_of, "M") - 1
    assert inputs.as_of == pd.Period(as_of, "M")
    # the deal opens a regime after the last data month: the forecast must meet it
    assert pd.Period(effective, "M") in inputs.future_regime_starts
    # with its event type, so the forecast knows which way it moves approval
    named = dict(zip(inputs.future_regime_starts, inputs.future_regime_names, strict=True))
    assert "deal" in named[pd.Period(effective, "M")].split(" ")[1].split("+")
    assert all(s > inputs.months[-1] for s in inputs.future_regime_starts)


def test_events_after_the_data_count_while_a_control_is_in_force(tmp_path):
    """Without as_of, a dated event after the last data month opens a future regime."""
    events = tmp_path / "events.csv"
    text = bundled_data_file("policy_events.csv").read_text(encoding="utf-8")
    events.write_text(
        text.rstrip("\n")
        + "\n2026-02-10,magnets,suspension,a suspension dated after the data,https://example.org\n",
        encoding="utf-8",
    )
    inputs = pipeline.load_inputs(events=events)
    assert inputs.regimes.control_start is not None  # controls in force in the window
    assert inputs.months[-1] == pd.Period("2025-12", "M")
    assert inputs.future_regime_starts == (pd.Period("2026-02", "M"),)
    # and the fit of other events is not reused for it
    assert inputs.data_hash != pipeline.load_inputs().data_hash


def test_regime_starts_are_not_cut_by_a_window():
    events = events_for_product(load_bundled_events(), "magnets")
    starts = [s for s, _name in regime_starts(events)]
    assert starts[0] == pd.Period("2025-04", "M") and starts == sorted(starts)
    assert pd.Period("2025-11", "M") in starts  # 30 Oct counts from November


# --------------------------------------------------------------------------- fits


def _fitted(*, future=(), as_of="", regime_mean_mu=0.5, months=None) -> FittedModel:
    post = make_posterior(months=months)
    post["regime_mean_mu"] = post["regime_mean_mu"] * 0 + regime_mean_mu
    post["regime_mean_sigma"] = post["regime_mean_sigma"] * 0 + 0.01
    post.attrs.update(
        as_of=as_of,
        future_regime_starts="|".join(future),
        student_t_nu=4.0,
        share_knot_months=6,
    )
    report = ConvergenceReport(1.0, 1000.0, 1000.0, 0, 1.0)
    return FittedModel(compat.from_datasets(posterior=post), report, {})


def test_forecast_meets_the_regimes_the_fit_records():
    """A regime the fit dates after its window reaches the forecast from the fit alone."""
    months = pd.period_range("2023-01", "2025-06", freq="M")
    kw = {"months": months, "regime_mean_mu": -8.0}  # a new regime would shut exports
    without = pipeline.forecast(_fitted(**kw), horizon=4, n_paths=200, seed=1)
    with_deal = pipeline.forecast(
        _fitted(future=("2025-08",), as_of="2025-07", **kw), horizon=4, n_paths=200, seed=1
    )
    a0 = without["approval"].sel(destination="World").median("path")
    a1 = with_deal["approval"].sel(destination="World").median("path")
    assert a1.sel(month="2025-07").item() == pytest.approx(a0.sel(month="2025-07").item(), 0.1)
    assert a1.sel(month="2025-10").item() < 0.1 < 0.5 < a0.sel(month="2025-10").item()


@pytest.mark.parametrize(("kind", "sign"), [("deal", 1), ("ban", -1), ("deal+ban", 0)])
def test_a_future_regime_steps_the_way_its_event_types_say(kind, sign):
    """A regime dated after the window moves from the last one by its type's mean step."""
    months = pd.period_range("2023-01", "2025-06", freq="M")
    fitted = _fitted(future=("2025-08",), as_of="2025-07", months=months)
    post = fitted.idata.posterior
    post["regime_step_mean"] = post["regime_mean_mu"] * 0 + 3.0
    post["regime_step_sigma"] = post["regime_mean_mu"] * 0 + 0.01
    post.attrs["future_regimes"] = f"2025-08 {kind}"
    paths = pipeline.forecast(fitted, scenario="baseline", horizon=8, n_paths=200, seed=1)
    held = pipeline.forecast(
        _fitted(months=months), scenario="baseline", horizon=8, n_paths=200, seed=1
    )
    logit = np.log(paths["approval"] / (1 - paths["approval"])).median("path")
    logit0 = np.log(held["approval"] / (1 - held["approval"])).median("path")
    moved = (logit - logit0).sel(destination="World")
    assert moved.sel(month="2025-07").item() == pytest.approx(0.0, abs=0.05)
    # the AR(1) pulls towards the new mean at rate 1 - rho = 0.5 a month
    assert moved.sel(month="2026-02").item() == pytest.approx(3.0 * sign, abs=0.15)


def test_a_future_regime_without_event_types_steps_either_way_with_a_warning():
    months = pd.period_range("2023-01", "2025-06", freq="M")
    fitted = _fitted(future=("2025-08",), as_of="2025-07", months=months)
    post = fitted.idata.posterior
    post["regime_step_mean"] = post["regime_mean_mu"] * 0 + 3.0
    post["regime_step_sigma"] = post["regime_mean_mu"] * 0 + 0.01
    post.attrs["future_regimes"] = "2025-11 deal"  # labels another month than the start
    with pytest.warns(RiskModelWarning, match=r"no event types for the regimes dated 2025-08"):
        pipeline.forecast(fitted, scenario="baseline", horizon=3, n_paths=20, seed=1)


def test_fit_context_round_trips_and_old_fits_are_refused():
    ctx = pipeline.fit_context(_fitted(future=("2025-08", "2025-11"), as_of="2025-07"))
    assert ctx == {
        "as_of": pd.Period("2025-07", "M"),
        "future_regime_starts": [pd.Period("2025-08", "M"), pd.Period("2025-11", "M")],
        "student_t_nu": 4.0,
        "share_knot_months": 6,
    }
    old = _fitted()
    del old.idata.posterior.attrs["future_regime_starts"]
    with pytest.raises(ArtifactMismatchError, match=r"future_regime_starts.*refit"):
        pipeline.forecast(old, horizon=2, n_paths=5)


# --------------------------------------------------------------------------- scenarios


@pytest.mark.parametrize("name", list_scenarios())
def test_paths_carry_the_whole_scenario(name):
    scenario = load_scenario(name)
    paths = pipeline.forecast(_fitted(), scenario=scenario, horizon=12, n_paths=10)
    carried = pipeline.paths_scenario(paths)
    assert carried.to_dict() == scenario.to_dict()
    assert carried.digest() == scenario.digest() == paths.attrs["scenario_digest"]
    assert pipeline.shortage_scenario(paths) == carried


def _priority_scenario(tmp_path, name="baseline"):
    path = tmp_path / f"{name}.yaml"  # a user file that shares a bundled name
    path.write_text(
        f"name: {name}\ndescription: mine\nregimes:\n  - start: first\n    kind: current\n"
        "propagation:\n  allocation: priority\n  priority: [defense, medical]\n"
    )
    return path


def test_shortage_uses_the_carried_scenario_and_refuses_another(tmp_path):
    mine = load_scenario(_priority_scenario(tmp_path))
    paths = pipeline.forecast(_fitted(), scenario=mine, horizon=3, n_paths=10)
    assert pipeline.shortage_scenario(paths).allocation.rule == "priority"
    assert pipeline.shortage_scenario(paths, mine).digest() == mine.digest()  # the same: fine
    with pytest.raises(ScenarioError, match="differs from the scenario 'baseline'"):
        pipeline.shortage_scenario(paths, "baseline")  # the bundled one of that name


def test_paths_that_only_name_a_scenario(tmp_path):
    paths = pipeline.forecast(_fitted(), scenario="us_embargo", horizon=3, n_paths=10)
    del paths.attrs[pipeline.SCENARIO_ATTR]  # as an older riskmodel wrote them
    assert pipeline.shortage_scenario(paths).name == "us_embargo"  # bundled, digest checked
    paths.attrs["scenario_digest"] = "0" * 16
    with pytest.raises(ScenarioError, match="forecast again"):
        pipeline.shortage_scenario(paths)
    paths.attrs.update(scenario="", scenario_digest="")
    assert pipeline.shortage_scenario(paths) is None  # proportional
    carried = parse_scenario(_priority_scenario(tmp_path, "mine").read_text())
    assert pipeline.shortage_scenario(paths, carried) == carried


# --------------------------------------------------------------------------- seeds


def test_stage_seeds():
    a = stage_seeds(0)
    assert a == stage_seeds(0) and isinstance(a, StageSeeds)
    assert len({a.sampler, a.forecast, a.shortage}) == 3
    assert a != stage_seeds(1)
    assert all(isinstance(s, int) and 0 <= s < 2**32 for s in (a.sampler, a.forecast, a.shortage))
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    assert stage_seeds(g1) == stage_seeds(g2)
    assert stage_seeds(g1) != stage_seeds(g2.spawn(1)[0])
    for bad in (-1, True, 1.5, "0"):
        with pytest.raises(ValueError, match="non-negative integer or a Generator"):
            stage_seeds(bad)


def test_library_stages_take_the_run_seed_or_a_generator():
    fitted = _fitted()
    paths = pipeline.forecast(fitted, horizon=3, n_paths=20, seed=4)
    assert paths.attrs["seed"] == 4 and paths.attrs["forecast_seed"] == stage_seeds(4).forecast
    again = pipeline.forecast(fitted, horizon=3, n_paths=20, seed=np.random.default_rng(4))
    same = pipeline.forecast(fitted, horizon=3, n_paths=20, seed=np.random.default_rng(4))
    np.testing.assert_array_equal(again["exports"].values, same["exports"].values)
    assert again.attrs["seed"] == "generator"
    short = pipeline.shortage(paths, seed=4, n_paths=32)
    assert short.attrs["seed"] == str(stage_seeds(4).shortage) and short.attrs["run_seed"] == 4
    gen = pipeline.shortage(paths, seed=np.random.default_rng(4), n_paths=32)
    assert gen.attrs["run_seed"] == "generator"


def test_fit_derives_the_samplers_seed(monkeypatch):
    from riskmodel.models import fit as fit_module
    from riskmodel.sampling import SamplerConfig

    seen = []

    def fake_fit_model(inputs, priors, sampler):
        seen.append(sampler.seed)
        return _fitted()

    monkeypatch.setattr(fit_module, "fit_model", fake_fit_model)
    inputs = pipeline.load_inputs()
    fitted = pipeline.fit(inputs, sampler=SamplerConfig(backend="pymc"), seed=3)
    assert seen[-1] == stage_seeds(3).sampler and fitted.attrs["run_seed"] == 3
    pipeline.fit(inputs)  # no seed, no sampler: run seed 0
    assert seen[-1] == stage_seeds(0).sampler
    pipeline.fit(inputs, sampler=SamplerConfig(backend="pymc", seed=11))  # as given
    assert seen[-1] == 11
    fitted = pipeline.fit(inputs, seed=np.random.default_rng(2))
    assert seen[-1] == stage_seeds(np.random.default_rng(2)).sampler
    assert fitted.attrs["run_seed"] == "generator"


def test_shortage_and_report_load_no_pymc_until_a_fit():
    code = (
        "import sys, riskmodel.pipeline, riskmodel.report.run, riskmodel.commands.report; "
        "import riskmodel as rm; rm.scheduled_report; "
        "print(','.join(m for m in ('pymc', 'pytensor', 'arviz') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
