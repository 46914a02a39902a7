"""The generated priors/shock_shape.yaml validates, says where it comes from, and is sane."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from riskmodel.cli import main
from riskmodel.config.scenario import KIND_PARAMETERS, learned_shape_path, load_learned_shape
from riskmodel.exceptions import ScenarioError
from riskmodel.shocks import episode_table, format_episode_table, read_shock_shape
from riskmodel.shocks.learn import write_shock_shape


@pytest.fixture(scope="module")
def doc():
    return read_shock_shape()


def test_learned_priors_file_validates(doc):
    specs = load_learned_shape()
    assert list(specs) == list(KIND_PARAMETERS["new_control"])
    pooled = doc["pooled_episodes"]
    assert "magnets_2025-04" in pooled and "gallium_2023-08" in pooled
    for spec in specs.values():
        assert spec.source and spec.source.startswith("http")
        assert "episodes" in spec.reason and "magnets 2025-04" in spec.reason
    assert doc["generated"]["data_hash"]


def test_learned_shape_is_sensible():
    specs = load_learned_shape()
    rng = np.random.default_rng(0)
    depth = specs["depth"].sample(rng, 20_000)
    low = specs["months_to_low"].sample(rng, 20_000)
    half = specs["recovery_half_life_months"].sample(rng, 20_000)
    long_run = specs["long_run"].sample(rng, 20_000)
    assert np.median(depth) < 0.25  # every episode cut exports by more than half
    assert np.mean(depth > 0.5) < 0.2
    assert 0.5 < np.median(low) < 2.5  # lows came within one or two months
    assert 0.3 < np.median(half) < 4
    assert np.median(long_run) > 0.5


def test_the_file_records_the_check(doc):
    loo = doc["leave_one_out"]
    assert loo["windows"] > 20
    assert set(loo["episodes"]) == set(doc["pooled_episodes"])
    assert 0.0 <= loo["coverage_90"] <= 1.0


def test_episode_table(doc):
    table = episode_table(doc)
    assert len(table) == len(doc["episodes"])
    row = table.set_index("id")
    assert 0.1 < row.loc["magnets_2025-04", "depth_q50"] < 0.35
    assert row.loc["magnets_2025-04", "months_to_low_q50"] == 1
    assert row.loc["gallium_2023-08", "depth_q50"] < 0.01
    assert row.loc["graphite_flake_2023-12", "rush_q50"] > 1.5  # November 2023 rush
    assert np.isnan(row.loc["dysprosium_2025-04", "depth_q50"])
    assert np.isnan(row.loc["tungsten_APT_2025-02", "depth_q50"])  # only YTD totals
    text = format_episode_table(table)
    assert "magnets 2025-04-04 (World)" in text and "no pre-control observation" in text


def test_an_invalid_file_is_never_written(tmp_path, doc):
    target = tmp_path / "shape.yaml"
    write_shock_shape(doc, target)
    before = target.read_text()
    bad = copy.deepcopy(doc)
    bad["shape"]["depth"] = {"dist": "Normal", "mu": 0.0, "sigma": 1.0, "reason": "r"}
    with pytest.raises(ScenarioError):
        write_shock_shape(bad, target)
    assert target.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["shape.yaml"]


def test_cli_table_with_figure_and_csv(tmp_path, capsys):
    png, csv = tmp_path / "episodes.png", tmp_path / "episodes.csv"
    code = main(["shocks", "table", "--figure", str(png), "--csv", str(csv)])
    assert code == 0
    out = capsys.readouterr().out
    assert "depth (low)" in out and "leave-one-out" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert csv.read_text().startswith("id,product")


def test_cli_table_missing_file_exits_2(tmp_path, capsys):
    code = main(["shocks", "table", "--shape", str(tmp_path / "none.yaml")])
    assert code == 2
    assert "riskmodel shocks learn" in capsys.readouterr().err


def test_bundled_path():
    assert learned_shape_path().name == "shock_shape.yaml"
