"""Scenario files: bundled ones load, bad ones are refused with every problem listed."""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from riskmodel.config import (
    Allocation,
    Dist,
    RegimeSpec,
    Scenario,
    control_multiplier,
    list_scenarios,
    load_scenario,
    parse_scenario,
)
from riskmodel.config.dists import FAMILIES
from riskmodel.config.scenario import KIND_PARAMETERS
from riskmodel.exceptions import RiskModelWarning, ScenarioError

BUNDLED = ("baseline", "escalation", "relief", "suspension_lapse", "us_embargo")

GOOD = """\
name: mine
description: A test scenario.
regimes:
  - start: first
    kind: current
  - start: +3
    kind: new_control
    destinations: [United States]
    depth: {dist: Beta, alpha: 2, beta: 5, reason: "a reason"}
    months_to_low: {dist: Fixed, value: 1, reason: "a reason"}
    recovery_half_life_months: {dist: Gamma, alpha: 4, beta: 4, reason: "r", source: [a, b]}
    long_run: {dist: Uniform, lower: 0.5, upper: 1.0, reason: "a reason"}
  - start: "2030-01"
    kind: lifted
propagation:
  allocation: priority
  priority: [defense_aerospace, medical_mri]
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- bundled


def test_list_scenarios_has_the_bundled_ones():
    assert set(BUNDLED) <= set(list_scenarios())


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_scenario_loads_with_reasons_and_sources(name):
    s = load_scenario(name)
    assert isinstance(s, Scenario)
    assert s.name == name == s.path.stem
    assert s.description and "\n" not in s.description
    assert s.regimes[0].start == "first" and s.regimes[0].destinations == "all"
    assert s.allocation == Allocation("proportional")
    for regime in s.regimes:
        assert set(regime.params) == set(KIND_PARAMETERS[regime.kind])
        for spec in regime.params.values():
            assert spec.reason and "\n" not in spec.reason
            assert spec.source and spec.source.startswith("http")


def test_unconditional_is_the_policy_risk_default_and_named_ones_are_conditional():
    s = load_scenario("unconditional")
    assert [r.kind for r in s.regimes] == ["policy_risk"]
    regime = s.regimes[0]
    assert set(regime.params) == set(KIND_PARAMETERS["policy_risk"])
    assert regime.shape == "learned"
    for key, spec in regime.params.items():
        assert spec.reason and "\n" not in spec.reason
        if key.endswith("_rate"):  # weak priors that the dated events update
            assert spec.family == "Gamma" and spec.judgement
        else:
            assert spec.source and spec.source.startswith("http")
    assert "unconditional" in s.description.lower()
    for name in BUNDLED:
        assert load_scenario(name).description.startswith("Conditional forecast, given")


def test_bundled_numbers_are_the_documented_ones():
    esc = load_scenario("escalation").regimes[1]
    assert esc.start == "+2" and esc.kind == "new_control" and esc.destinations == "all"
    assert esc.params["depth"].mean() == pytest.approx(2 / 7)
    lapse = load_scenario("suspension_lapse").regimes[1]
    assert lapse.start == "2026-11" and lapse.kind == "new_control"
    # wider than escalation, as the brief asks
    for key in ("depth", "recovery_half_life_months"):
        wide, narrow = lapse.params[key]._scipy(), esc.params[key]._scipy()
        assert wide.std() > narrow.std()
    emb = load_scenario("us_embargo").regimes[1]
    assert emb.kind == "set" and emb.destinations == ("United States",)
    assert emb.params["level"].mean() < 0.05
    assert load_scenario("relief").regimes[0].kind == "lifted"


def test_bundled_depth_matches_april_2025_shape():
    # depth 0.25, low one month after the start, 1-month half-life: Apr-Jul 2025 were
    # about 50%, 25%, 60% and 105% of normal (DOMAIN.md 1b).
    m = control_multiplier(np.arange(4), 0.25, 1.0, 1.0, 1.0)
    np.testing.assert_allclose(m, [0.5, 0.25, 0.625, 0.8125])


def test_load_by_path_and_round_trip(tmp_path):
    path = write(tmp_path, GOOD)
    s = load_scenario(path)
    assert s.path == path
    assert s.regimes[1].start == "+3"  # unquoted +3 stays a relative start
    assert s.regimes[1].params["recovery_half_life_months"].source == "a | b"
    assert s.allocation == Allocation("priority", ("defense_aerospace", "medical_mri"))
    assert s.to_dict()["propagation"] == {
        "allocation": "priority",
        "priority": ["defense_aerospace", "medical_mri"],
    }
    again = parse_scenario(yaml.safe_dump(s.to_dict(), sort_keys=False))
    assert again.to_dict() == s.to_dict()
    assert again.digest() == s.digest()
    assert load_scenario(str(path)).digest() == s.digest()


# --------------------------------------------------------------------------- bad files

BAD_CASES = {
    "unknown_top_key": (
        """\
        name: x
        description: d
        regime:
          - {start: first, kind: current}
        """,
        ["unknown key 'regime'", "did you mean 'regimes'", "missing 'regimes'"],
    ),
    "missing_reason": (
        """\
        name: x
        description: d
        regimes:
          - start: first
            kind: set
            level: {dist: Beta, alpha: 1, beta: 40}
        """,
        ["regimes[0].level: missing 'reason'"],
    ),
    "bad_starts": (
        """\
        name: x
        description: d
        regimes:
          - {start: first, kind: current}
          - {start: next month, kind: lifted}
          - {start: 3, kind: lifted, destinations: [Japan]}
          - {start: "2026-13", kind: lifted, destinations: [Korea]}
        """,
        [
            "regimes[1].start: must be",
            "regimes[2].start: a bare number (3)",
            "'+3'",
            "regimes[3].start: must be",
        ],
    ),
    "bad_dist_params": (
        """\
        name: x
        description: d
        regimes:
          - start: first
            kind: new_control
            depth: {dist: Beta, alpha: -1, beta: 5, reason: r}
            months_to_low: {dist: TruncatedNormal, mu: 1, sigma: 1, lower: 3, upper: 2, reason: r}
            recovery_half_life_months: {dist: Betta, alpha: 1, beta: 1, reason: r}
            long_run: {dist: Beta, alpha: 1, reason: r, scale: 2}
        """,
        [
            "depth.alpha: must lie in (0, inf], got -1",
            "months_to_low: lower (3) must be below upper (2)",
            "unknown distribution 'Betta'",
            "did you mean 'Beta'",
            "long_run: Beta needs 'beta'",
            "long_run.scale: unknown key 'scale'",
        ],
    ),
    "support_outside_range": (
        """\
        name: x
        description: d
        regimes:
          - start: first
            kind: new_control
            depth: {dist: Normal, mu: 0.3, sigma: 0.1, reason: r}
            months_to_low: {dist: Uniform, lower: -1, upper: 2, reason: r}
            recovery_half_life_months: {dist: Fixed, value: 0, reason: r}
            long_run: {dist: Fixed, value: 1.5, reason: r}
        """,
        [
            "depth: a Normal(mu=0.3, sigma=0.1) ranges over [-inf, inf] but this quantity "
            "must lie in [0, 1]",
            "months_to_low: a Uniform(lower=-1, upper=2) ranges over [-1, 2]",
            "recovery_half_life_months: a Fixed(value=0) ranges over [0, 0] but this "
            "quantity must lie in (0, inf]",
            "long_run: a Fixed(value=1.5) ranges over [1.5, 1.5]",
        ],
    ),
    "priority_list_missing": (
        """\
        name: x
        description: d
        regimes: [{start: first, kind: current}]
        propagation: {allocation: priority, denied_end_uses: [defense_aerospace]}
        """,
        [
            "allocation priority needs 'priority'",
            "propagation.denied_end_uses: only used with allocation: end_use",
        ],
    ),
    "bad_allocation": (
        """\
        name: x
        description: d
        regimes: [{start: first, kind: current}]
        propagation: {allocation: proportionate}
        """,
        ["unknown allocation 'proportionate'", "did you mean 'proportional'"],
    ),
    "yaml_syntax_error": (
        """\
        name: x
        description: d
        regimes:
          - {start: first, kind: current
        """,
        ["line 5, column 1: YAML syntax error"],
    ),
    "duplicate_key": (
        """\
        name: x
        description: d
        description: e
        regimes: [{start: first, kind: current}]
        """,
        ["line 3, column 1: duplicate key 'description' (first at line 2)"],
    ),
    "first_regime_and_order": (
        """\
        name: x
        description: d
        regimes:
          - {start: "+2", kind: current, destinations: [Japan]}
          - {start: "+1", kind: lifted}
        """,
        [
            "first regime must have start: first and destinations: all",
            "regimes[1] (start +1) begins before regimes[0] (start +2)",
        ],
    ),
    "kind_problems": (
        """\
        name: x
        description: d
        regimes:
          - {start: first, kind: curent}
          - {start: "+1", kind: new_control, depth: {dist: Beta, alpha: 2, beta: 5, reason: r}}
          - {start: "+2", kind: lifted, level: {dist: Fixed, value: 1, reason: r}}
        """,
        [
            "unknown kind 'curent'",
            "did you mean 'current'",
            "kind new_control needs 'long_run'",
            "kind new_control needs 'months_to_low'",
            "regimes[2].level: unknown key 'level'",
        ],
    ),
    "text_fields": (
        """\
        name: "bad name"
        description: |
          two
          lines
        regimes:
          - start: first
            kind: set
            destinations: United States
            level: {dist: Beta, alpha: 1, beta: 40, reason: "", source: 3}
        """,
        [
            "name: must be letters",
            "description: must be one line",
            "destinations: must be 'all' or a list",
            "level.reason: must be a non-empty",
            "level.source: must be a non-empty",
        ],
    ),
    "shadowed_regime": (
        """\
        name: x
        description: d
        regimes:
          - {start: first, kind: current}
          - {start: "+0", kind: lifted}
        """,
        ["regimes[0] never applies"],
    ),
    "policy_risk_rates": (
        """\
        name: x
        description: d
        regimes:
          - start: first
            kind: policy_risk
            shape: learned
            control_rate: {dist: LogNormal, mu: -4, sigma: 1, reason: r}
            tightening_rate: {dist: Gamma, alpha: 1, beta: 10, reason: r}
            relief_rate: {dist: Fixed, value: -0.1, reason: r}
            deal_gap_closed: {dist: Beta, alpha: 2, beta: 2, reason: r}
            relief_gap_closed: {dist: Normal, mu: 0.8, sigma: 0.1, reason: r}
        """,
        [
            "regimes[0].control_rate.dist: LogNormal is not allowed here; use Gamma, Fixed",
            "regimes[0]: kind policy_risk needs 'deal_rate'",
            "regimes[0].relief_rate: a Fixed(value=-0.1) ranges over [-0.1, -0.1]",
            "regimes[0].relief_gap_closed: a Normal(mu=0.8, sigma=0.1) ranges over",
        ],
    ),
    "empty": ("", ["the file is empty"]),
    "not_a_mapping": ("- a\n- b\n", ["the top level must be a mapping"]),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_scenario_refused_with_every_problem(tmp_path, case):
    text, expected = BAD_CASES[case]
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    assert err.file == str(path)
    message = str(err)
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert message.startswith(f"{path}: {len(err.problems)} problem")


def test_many_problems_in_one_error(tmp_path):
    text = """\
    nam: x
    description: d
    regimes:
      - start: soon
        kind: set
        level: {dist: Beta, alpha: 0, beta: 1}
    propagation: {allocation: end_use}
    """
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    problems = info.value.problems
    assert len(problems) >= 6
    joined = " / ".join(problems)
    for fragment in (
        "unknown key 'nam'",
        "missing 'name'",
        "start: must be",
        "missing 'reason'",
        "level.alpha: must lie in (0, inf], got 0",
        "needs 'denied_end_uses'",
    ):
        assert fragment in joined


def test_unknown_name_lists_available():
    with pytest.raises(ScenarioError) as info:
        load_scenario("no_such_scenario")
    message = str(info.value)
    assert "no bundled scenario named 'no_such_scenario'" in message
    for name in BUNDLED:
        assert name in message


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario(tmp_path / "nope.yaml")


def test_scenario_error_is_a_value_error():
    with pytest.raises(ValueError):
        parse_scenario("name: x\n")


# --------------------------------------------------------------------------- distributions

SPECS = [
    Dist.of("Beta", "r", alpha=2.0, beta=5.0),
    Dist.of("LogNormal", "r", mu=0.0, sigma=0.5),
    Dist.of("Normal", "r", mu=1.0, sigma=2.0),
    Dist.of("TruncatedNormal", "r", mu=1.0, sigma=1.0, lower=0.0, upper=4.0),
    Dist.of("Uniform", "r", lower=0.5, upper=1.0),
    Dist.of("Gamma", "r", alpha=4.0, beta=2.0),
    Dist.of("HalfNormal", "r", sigma=0.7),
    Dist.of("Exponential", "r", lam=3.0),
    Dist.of("Fixed", "r", value=0.3),
]


def test_every_distribution_is_covered():
    assert {s.family for s in SPECS} == set(FAMILIES)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.family)
def test_sampling_is_reproducible_and_matches_moments(spec, dtype):
    a = spec.sample(np.random.default_rng(7), 20_000, dtype=dtype)
    b = spec.sample(np.random.default_rng(7), 20_000, dtype=dtype)
    c = spec.sample(7, 20_000, dtype=dtype)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert a.shape == (20_000,) and a.dtype == dtype
    low, high = spec.support()
    assert a.min() >= low and a.max() <= high
    assert a.mean() == pytest.approx(spec.mean(), rel=0.03, abs=0.01)
    if not spec.is_fixed:
        # quantiles of the draws match the distribution's own (one sampler, one ppf)
        for q in (0.1, 0.5, 0.9):
            assert np.quantile(a, q) == pytest.approx(spec.quantile(q), rel=0.05, abs=0.01)
    if spec.family != "Fixed":
        assert not np.array_equal(a, spec.sample(np.random.default_rng(8), 20_000))


def test_gamma_beta_is_a_rate():
    assert SPECS[5].mean() == pytest.approx(2.0)


def test_sample_shapes():
    spec = SPECS[0]
    assert spec.sample(0).shape == ()
    assert spec.sample(0, (3, 4)).shape == (3, 4)


def test_scenario_sample_params_reproducible():
    s = load_scenario("escalation")
    a = s.sample_params(np.random.default_rng(1), 50)
    b = s.sample_params(np.random.default_rng(1), 50)
    assert a[0] == {}
    assert list(a[1]) == list(KIND_PARAMETERS["new_control"])
    for key in a[1]:
        assert a[1][key].shape == (50,)
        np.testing.assert_array_equal(a[1][key], b[1][key])


# --------------------------------------------------------------------------- starts and schedule


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("first", 0),
        ("+0", 0),
        ("+3", 3),
        ("2026-01", 0),
        ("2026-11", 10),
        ("+30", 24),
        ("2031-01", 24),
    ],
)
def test_start_index(start, expected):
    regime = RegimeSpec(start=start, kind="lifted")
    assert regime.start_index(pd.Period("2026-01", freq="M"), 24) == expected
    assert regime.start_index("2026-01", 24) == expected


def test_past_dated_start_refused_unless_allowed():
    regime = RegimeSpec(start="2026-11", kind="lifted")
    with pytest.raises(ScenarioError, match="before the first forecast month 2027-01"):
        regime.start_index(pd.Period("2027-01", freq="M"), 12)
    assert regime.start_index(pd.Period("2027-01", freq="M"), 12, allow_past=True) == -2


def test_schedule_us_embargo():
    s = load_scenario("us_embargo")
    regime, since = s.regime_schedule("2026-01", 6, ["World", "United States", "Germany"])
    np.testing.assert_array_equal(regime, [[0] * 6, [1] * 6, [0] * 6])
    np.testing.assert_array_equal(since[1], np.arange(6))


def test_schedule_escalation_and_lapse():
    regime, since = load_scenario("escalation").regime_schedule("2026-01", 5, ["World"])
    np.testing.assert_array_equal(regime, [[0, 0, 1, 1, 1]])
    np.testing.assert_array_equal(since, [[0, 1, 0, 1, 2]])
    lapse = load_scenario("suspension_lapse")
    regime, since = lapse.regime_schedule("2026-01", 12, ["World"])
    np.testing.assert_array_equal(regime[0], [0] * 10 + [1, 1])
    with pytest.warns(RiskModelWarning, match="no effect on this forecast"):
        lapse.regime_schedule("2026-01", 6, ["World"])
    with pytest.raises(ScenarioError, match="before the first forecast month"):
        lapse.regime_schedule("2027-02", 6, ["World"])
    regime, since = lapse.regime_schedule("2027-02", 3, ["World"], allow_past=True)
    np.testing.assert_array_equal(since, [[3, 4, 5]])


def test_schedule_unknown_destination_refused():
    with pytest.raises(ScenarioError, match="names destination 'United States'"):
        load_scenario("us_embargo").regime_schedule("2026-01", 6, ["World"])


def test_schedule_mixed_starts_out_of_order(tmp_path):
    text = """\
    name: x
    description: d
    regimes:
      - {start: first, kind: current}
      - {start: "+2", kind: lifted}
      - {start: "2026-06", kind: current}
    """
    s = load_scenario(write(tmp_path, text))
    regime, _ = s.regime_schedule("2026-01", 12, ["World"])  # +2 -> 2, 2026-06 -> 5
    np.testing.assert_array_equal(regime[0], [0, 0, 1, 1, 1] + [2] * 7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ScenarioError, match="list regimes in time order"):
            s.regime_schedule("2026-05", 12, ["World"])


def test_control_multiplier_shape():
    tau = np.arange(-1, 40)
    m = control_multiplier(tau, 0.2, 2.0, 1.5, 0.8)
    assert m[0] == 1.0
    assert m[tau == 2][0] == pytest.approx(0.2)
    assert m.min() == pytest.approx(0.2)
    assert m[-1] == pytest.approx(0.8, abs=1e-4)
    # vectorised over paths
    out = control_multiplier(tau[None, :], np.array([[0.1], [0.5]]), 1.0, 1.0, 1.0)
    assert out.shape == (2, tau.size)
