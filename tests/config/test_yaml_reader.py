"""The one YAML reader: refuses what would hang, crash or silently mislead, and locates problems."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskmodel.config.dists import Dist, parse_dist
from riskmodel.config.scenario import load_learned_shape, load_scenario, parse_scenario
from riskmodel.config.yamlio import MAX_BYTES, Problems, parse_yaml, read_yaml
from riskmodel.exceptions import PriorsError, ScenarioError
from riskmodel.models.export_model import load_model_priors
from riskmodel.propagation import load_params
from riskmodel.resources import priors_dir

BUNDLED = sorted(priors_dir().rglob("*.yaml"))


def test_every_bundled_yaml_file_loads_through_the_one_reader():
    assert len(BUNDLED) >= 8
    loaders = {
        "export_model.yaml": load_model_priors,
        "propagation.yaml": load_params,
        "shock_shape.yaml": load_learned_shape,
    }
    for path in BUNDLED:
        loader = loaders.get(path.name, load_scenario)
        assert loader(path), path


def test_duplicate_keys_are_refused_with_line_and_column():
    text = "a:\n  b: 1\n  c: 2\n  b: 3\nd: 4\nd: 5\n"
    with pytest.raises(PriorsError) as err:
        parse_yaml(text, where="x.yaml")
    assert err.value.problems == [
        "line 4, column 3: duplicate key 'b' (first at line 2); each key may appear once",
        "line 6, column 1: duplicate key 'd' (first at line 5); each key may appear once",
    ]


def test_an_alias_bomb_is_refused_before_it_expands():
    lines = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for k in range(1, 10):
        prev = chr(ord("a") + k - 1)
        name = chr(ord("a") + k)
        lines.append(f"{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}]")
    with pytest.raises(PriorsError, match="anchors and aliases"):
        parse_yaml("\n".join(lines))


def test_deep_nesting_is_an_error_not_a_recursion_error():
    with pytest.raises(PriorsError, match="nested more than"):
        parse_yaml("a: " + "[" * 5000 + "]" * 5000)


def test_devices_folders_and_huge_files_are_refused(tmp_path):
    with pytest.raises(PriorsError, match="not a regular file"):
        read_yaml("/dev/zero")
    with pytest.raises(PriorsError, match="not a regular file"):
        read_yaml(tmp_path)
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * (MAX_BYTES + 1))
    with pytest.raises(PriorsError, match="file too large"):
        read_yaml(big)


def test_plus_n_stays_text():
    assert parse_yaml("start: +3\nx: 3\n") == {"start": "+3", "x": 3}


def test_problems_are_located_at_the_deepest_existing_entry():
    doc = parse_yaml("a:\n  b:\n    - {c: 1}\n    - {c: 2, d: 3}\n")
    problems = Problems(doc)
    problems.add("a.b[1].d", "bad")
    problems.add("a.b[1].missing", "absent")
    problems.add("a.b[7]", "out of range")
    assert problems.messages == [
        "line 4, column 14: a.b[1].d: bad",
        "line 4, column 7: a.b[1].missing: absent",
        "line 2, column 3: a.b[7]: out of range",
    ]


def test_messages_never_echo_unbounded_content():
    problems = Problems({})
    problems.number("x" * 10_000, "n")
    assert len(problems.messages[0]) < 120


@pytest.mark.parametrize(
    "entry, fragment",
    [
        ({"dist": "Beta", "alpha": 1e308, "beta": 1e308, "reason": "r"}, "degenerate"),
        ({"dist": "LogNormal", "mu": 1e5, "sigma": 1, "reason": "r"}, "non-finite"),
        ({"dist": "Normal", "mu": 0, "sigma": 1e-320, "reason": "r"}, "degenerate"),
        ({"dist": "Normal", "mu": 0, "sigma": math.inf, "reason": "r"}, "must be finite"),
        ({"dist": "Gamma", "alpha": 2, "beta": True, "reason": "r"}, "must be a number"),
        ({"dist": "Uniform", "lower": 2, "upper": 1, "reason": "r"}, "must be below upper"),
        ({"dist": "Beta", "alpha": 2, "beta": 2}, "missing 'reason'"),
        ({"dist": "Beta", "alpha": 2, "beta": 2, "reason": "r", "judgement": "yes"}, "true or"),
        ({"dist": "Normal", "mu": 2**70, "sigma": 1, "reason": "r"}, "at most 2**53"),
    ],
)
def test_bad_distributions_are_refused(entry, fragment):
    problems = Problems(entry)
    assert parse_dist(entry, "p", problems) is None
    assert fragment in " ".join(problems)


def test_a_dist_round_trips_through_its_mapping():
    problems = Problems()
    raw = {"dist": "TruncatedNormal", "mu": 1, "sigma": 2, "lower": 0, "upper": 3, "reason": "r"}
    dist = parse_dist(raw, "p", problems)
    assert isinstance(dist, Dist) and not problems
    assert parse_dist(dist.to_dict(), "p", problems) == dist


# --------------------------------------------------------------------------- property


def _scalars(doc, path=()):
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _scalars(value, (*path, key))
    elif isinstance(doc, list):
        for k, value in enumerate(doc):
            yield from _scalars(value, (*path, k))
    else:
        yield path


JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
SCENARIO = yaml.safe_load((priors_dir() / "scenarios" / "escalation.yaml").read_text())
LEAVES = list(_scalars(SCENARIO))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(LEAVES), JUNK), min_size=1, max_size=4))
def test_a_corrupted_scenario_parses_or_is_refused_cleanly(edits):
    doc = copy.deepcopy(SCENARIO)
    for path, value in edits:
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    text = yaml.safe_dump(doc, sort_keys=False)
    try:
        parse_scenario(text, path=Path("s.yaml"))
    except ScenarioError as err:  # anything else (TypeError, OverflowError, ...) fails
        assert err.problems
        for problem in err.problems:
            assert "\n" not in problem and len(problem) < 600
