"""``shape: learned`` in a new_control regime takes the learned shock shape."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from riskmodel.config import load_scenario, parse_scenario
from riskmodel.config.scenario import KIND_PARAMETERS, load_learned_shape
from riskmodel.exceptions import ScenarioError

LEARNED = """\
name: new_mineral
description: A control on a product never controlled before, shaped like past episodes.
regimes:
  - start: first
    kind: current
  - start: "+3"
    kind: new_control
    shape: learned
"""


def test_learned_shape_fills_the_four_distributions():
    s = parse_scenario(LEARNED)
    regime = s.regimes[1]
    assert regime.shape == "learned"
    assert regime.params == load_learned_shape()
    assert set(regime.params) == set(KIND_PARAMETERS["new_control"])
    draws = s.sample_params(1, 100)[1]
    assert set(draws) == set(KIND_PARAMETERS["new_control"])


def test_explicit_distributions_override_the_learned_ones():
    text = LEARNED + textwrap.indent(
        'long_run: {dist: Beta, alpha: 5.0, beta: 2.0, reason: "a judgement"}\n', "    "
    )
    regime = parse_scenario(text).regimes[1]
    learned = load_learned_shape()
    assert regime.params["long_run"].kwargs == {"alpha": 5.0, "beta": 2.0}
    for key in ("depth", "months_to_low", "recovery_half_life_months"):
        assert regime.params[key] == learned[key]


def test_round_trip_and_digest():
    s = parse_scenario(LEARNED)
    again = parse_scenario(yaml.safe_dump(s.to_dict(), sort_keys=False))
    assert again.to_dict() == s.to_dict() and again.digest() == s.digest()
    assert s.to_dict()["regimes"][1]["shape"] == "learned"


def test_bad_shape_and_missing_file_are_refused(tmp_path):
    with pytest.raises(ScenarioError, match="unknown shape 'guessed'"):
        parse_scenario(LEARNED.replace("shape: learned", "shape: guessed"))
    with pytest.raises(ScenarioError, match="riskmodel shocks learn"):
        parse_scenario(LEARNED, shape_file=tmp_path / "missing.yaml")
    lifted = "name: x\ndescription: d\nregimes:\n  - {start: first, kind: lifted, shape: learned}\n"
    with pytest.raises(ScenarioError, match="unknown key 'shape'"):
        parse_scenario(lifted)
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "shape:\n  depth: {dist: Normal, mu: 0, sigma: 1, reason: r}\n", encoding="utf-8"
    )
    with pytest.raises(ScenarioError) as err:
        parse_scenario(LEARNED, shape_file=bad)
    text = str(err.value)
    assert "must lie in [0, 1]" in text and "missing 'long_run'" in text


def test_without_shape_the_four_are_still_required():
    text = LEARNED.replace("    shape: learned\n", "")
    with pytest.raises(ScenarioError, match="needs 'depth' \\(or shape: learned\\)"):
        parse_scenario(text)


def test_scenario_file_with_learned_shape_loads(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(LEARNED, encoding="utf-8")
    assert load_scenario(path).regimes[1].shape == "learned"
