import pytest
import yaml

from riskmodel.config.priors import read_yaml
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
    return read_yaml(priors_dir() / "export_model.yaml")


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
        "unknown dist 'Cauchy'",
        "prior 'obs_sigma': needs a one-line 'reason'",
        "parameter 'sigma' must be > 0",
        "approval_persistence' must lie in (0, 1)",
        "prior 'mystery' is not used",
        "prior 'regime_mean_mu' is missing",
    ):
        assert part in msg
    assert len(err.value.problems) == 6


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("model: export_model\npriors: [1, 2\n", "YAML syntax error"),
        ("- just\n- a list\n", "expected a YAML mapping"),
        ("model: other_model\npriors: {}\n", "expected 'export_model'"),
        (b"\xff\xfe\x00binary", "not a UTF-8 text file"),
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


def test_setting_type_checked(tmp_path):
    doc = _bundled()
    doc["settings"]["share_knot_months"]["value"] = "six"
    with pytest.raises(PriorsError, match="share_knot_months' has the wrong type"):
        load_model_priors(_write(tmp_path, doc))
