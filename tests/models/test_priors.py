import pytest
import yaml

from riskmodel.exceptions import PriorsError
from riskmodel.models.export_model import REQUIRED_PRIORS, load_model_priors
from riskmodel.resources import priors_dir


def test_bundled_priors_load_and_every_prior_has_a_reason():
    priors = load_model_priors()
    assert set(priors.priors) == set(REQUIRED_PRIORS)
    assert all(p.reason for p in priors.priors.values())
    assert all(s.reason for s in priors.settings.values())
    assert len(priors.hash) == 16


def _write(tmp_path, doc):
    path = tmp_path / "priors.yaml"
    path.write_text(yaml.safe_dump(doc) if not isinstance(doc, str) else doc)
    return path


def _bundled():
    return yaml.safe_load((priors_dir() / "export_model.yaml").read_text())


def test_all_problems_reported_together(tmp_path):
    doc = _bundled()
    doc["priors"]["demand_drift"]["dist"] = "Cauchy"  # unknown dist
    del doc["priors"]["obs_sigma"]["reason"]  # missing reason
    doc["priors"]["season_sigma"]["sigma"] = -1  # bad parameter
    doc["priors"]["approval_persistence"] = {"dist": "Normal", "mu": 0, "sigma": 1, "reason": "x"}
    doc["priors"]["mystery"] = {"dist": "Normal", "mu": 0, "sigma": 1, "reason": "x"}
    del doc["priors"]["regime_mean_mu"]
    with pytest.raises(PriorsError) as err:
        load_model_priors(_write(tmp_path, doc))
    msg = str(err.value)
    assert "\n" not in msg
    for part in (
        "priors.demand_drift.dist: unknown distribution 'Cauchy'",
        "priors.obs_sigma: missing 'reason'",
        "priors.season_sigma.sigma: must lie in (0, inf], got -1",
        "priors.approval_persistence: a Normal(mu=0, sigma=1) ranges over [-inf, inf] but",
        "priors.mystery: unknown key",
        "prior 'regime_mean_mu' is missing",
    ):
        assert part in msg
    assert len(err.value.problems) == 6


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("model: export_model\npriors: [1, 2\n", "YAML syntax error"),
        ("- just\n- a list\n", "must be a mapping"),
        ("model: other_model\npriors: {}\n", "expected 'export_model'"),
        (b"\xff\xfe\x00binary", "not UTF-8 text"),
        ("model: export_model\nmodel: export_model\n", "line 2, column 1: duplicate key 'model'"),
        ("a: &x [1, 2]\nb: *x\n", "anchors and aliases"),
        ("a: " + "[" * 100 + "]" * 100 + "\n", "nested more than"),
    ],
)
def test_bad_files_refused(tmp_path, text, fragment):
    path = tmp_path / "p.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    with pytest.raises(PriorsError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        load_model_priors(path)


def test_missing_file(tmp_path):
    with pytest.raises(PriorsError, match="file not found"):
        load_model_priors(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    "name, value, fragment",
    [
        ("share_knot_months", "six", "settings.share_knot_months.value: must be a number"),
        ("share_knot_months", 0, "must lie in [1, 120], got 0"),
        ("share_knot_months", 2.5, "must be a whole number"),
        ("student_t_nu", -4, "settings.student_t_nu.value: must lie in (0, 1000], got -4"),
        ("pre_control_approval", 1.5, "must lie in (0, 1), got 1.5"),
        ("pre_control_approval", 1.0, "must lie in (0, 1), got 1"),
    ],
)
def test_settings_type_and_range_checked(tmp_path, name, value, fragment):
    doc = _bundled()
    doc["settings"][name]["value"] = value
    with pytest.raises(PriorsError) as err:
        load_model_priors(_write(tmp_path, doc))
    assert fragment in str(err.value)
    assert "line " in str(err.value)


def test_every_problem_has_line_and_column(tmp_path):
    doc = _bundled()
    doc["priors"]["obs_sigma"]["sigma"] = 0
    doc["priors"]["season_sigma"]["dist"] = "Halfnormal"
    with pytest.raises(PriorsError) as err:
        load_model_priors(_write(tmp_path, doc))
    assert len(err.value.problems) == 2
    assert all(p.startswith("line ") for p in err.value.problems)
    assert "did you mean 'HalfNormal'?" in str(err.value)


def test_degenerate_prior_refused(tmp_path):
    doc = _bundled()
    doc["priors"]["approval_persistence"] = {
        "dist": "Beta",
        "alpha": 1e308,
        "beta": 1e308,
        "reason": "x",
    }
    with pytest.raises(PriorsError, match=r"degenerate|non-finite"):
        load_model_priors(_write(tmp_path, doc))
