from __future__ import annotations

import numpy as np
import pytest
import yaml

from riskmodel.exceptions import PriorsError
from riskmodel.propagation import load_params, map_destinations, parse_params
from riskmodel.propagation.draws import draw_block

REGIONS = ("US", "EU", "Japan", "Korea", "India", "RoW")
INDUSTRIES = (
    "automotive_ev",
    "automotive_other",
    "wind",
    "consumer_electronics",
    "industrial",
    "hvac_appliances",
    "e_bikes",
    "robotics_drones",
    "medical",
    "defense",
    "other",
)


def test_bundled_params_load_and_are_documented(bundled_params):
    p = bundled_params
    assert p.region_names == REGIONS
    assert p.industries == INDUSTRIES
    np.testing.assert_allclose(p.share_mean.sum(axis=1), 1.0)
    rows = p.summary()
    assert rows and all(r["source"] or r["judgement"] for r in rows)
    assert all(r["reason"] for r in rows)
    # the headline numbers of DOMAIN.md section 8
    centers = {(r["block"], r["key"]): r["center"] for r in rows}
    assert centers[("china_share", "US")] == pytest.approx(0.78, abs=0.01)
    assert centers[("china_share", "EU")] == pytest.approx(0.88, abs=0.01)
    # LogNormal(mu, sigma) with mu = ln(26) written to 6 decimals
    assert centers[("inventory_cover_weeks", "defense")] == pytest.approx(26.0, rel=1e-5)
    assert p.units[INDUSTRIES.index("wind")] == "MW"
    assert len(p.digest) == 64


def test_all_problems_reported_together(raw_copy, tmp_path):
    raw = raw_copy
    raw["china_share"]["US"] = {
        "dist": "Normal",
        "mu": 0.8,
        "sigma": 0.1,
        "reason": "x",
        "source": "y",
    }
    raw["china_share"]["EU"]["alpha"] = -1
    del raw["demand_growth"]["wind"]
    raw["inventory_cover_weeks"]["defense"].pop("source")
    raw["industry_shares"]["mean"]["wind"] = 0.5
    raw["industry_shares"]["tilt"]["US"]["defence"] = 2.0
    raw["regions"]["Korea"]["destinations"].append("Japan")
    raw["new_capacity"][0]["start"] = "2025/10"
    raw["new_capacity"][1]["region"] = "USA"
    raw["magnet_content_kg"]["other"] = {
        "dist": "Fixed",
        "value": 1.0,
        "reason": "r",
        "judgement": True,
    }
    raw["colour"] = "blue"
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(PriorsError) as err:
        load_params(path)
    problems = err.value.problems
    text = " | ".join(problems)
    for needle in (
        "china_share.US.dist: Normal is not allowed here",
        "china_share.EU.alpha: must lie in (0, inf], got -1",
        "demand_growth: missing entry for 'wind'",
        "inventory_cover_weeks.defense: needs a 'source' or 'judgement: true'",
        "shares sum to",
        "tilt.US.defence: unknown key 'defence' (did you mean 'defense'?)",
        "destination 'Japan' is already in region 'Japan'",
        "new_capacity[0].start: must be a month YYYY-MM, got '2025/10'",
        "unknown region 'USA'",
        "magnet content given but the industry has no unit",
        "unknown key 'colour'",
    ):
        assert needle in text, needle
    assert str(path) in str(err.value)
    assert all(p.startswith("line ") for p in problems if "missing entry" not in p)


def test_yaml_syntax_error_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("regions: [unclosed\n")
    with pytest.raises(PriorsError, match=r"line \d+, column \d+: YAML syntax error"):
        load_params(bad)
    with pytest.raises(PriorsError, match="file not found"):
        load_params(tmp_path / "missing.yaml")


def test_draws_respect_their_distributions(bundled_params):
    rng = np.random.default_rng(0)
    d = draw_block(bundled_params, rng, 20_000, n_forecast=10, resample=True, n_months=3)
    assert d.china_share.dtype == np.float32 and d.shares.dtype == np.float32
    np.testing.assert_allclose(d.shares.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(d.shares.mean(axis=-1), bundled_params.share_mean, atol=0.005)
    np.testing.assert_allclose(d.china_share.mean(axis=-1)[0], 0.78, atol=0.005)
    us_ev = np.log(d.cover_weeks[0, 0])
    assert np.median(d.cover_weeks[0, 0]) == pytest.approx(7.0, rel=0.03)
    assert us_ev.std() == pytest.approx(0.334, rel=0.05)
    # the common factor correlates cover across industries
    r = np.corrcoef(np.log(d.cover_weeks[0, 0]), np.log(d.cover_weeks[1, 2]))[0, 1]
    assert r == pytest.approx(0.5, abs=0.05)
    assert np.isnan(d.content_kg[INDUSTRIES.index("other")]).all()
    assert ((d.path_index >= 0) & (d.path_index < 10)).all()
    assert d.utilisation.min() >= 0 and d.utilisation.max() <= 1


def test_region_mapping_rules(bundled_params):
    p = bundled_params
    # EU aggregate preferred over members; Germany is not counted twice
    m = map_destinations(p, ["World", "United States", "European Union", "Germany", "Vietnam"])
    assert m.regions == ("US", "EU", "RoW")
    assert m.used["EU"] == ("European Union",)
    assert set(m.missing) == {"Japan", "Korea", "India"}
    values = np.array([[[100.0], [10.0], [30.0], [20.0], [5.0]]])  # (1 path, 5 dests, 1 month)
    mapped, floors = m.apply(values)
    np.testing.assert_allclose(mapped[0, :, 0], [10.0, 30.0, 60.0])
    assert floors == 0
    # without the aggregate, EU sums the members present
    m2 = map_destinations(p, ["World", "Germany", "France", "South Korea"])
    assert m2.used["EU"] == ("France", "Germany") and m2.used["Korea"] == ("South Korea",)
    mapped2, floors2 = m2.apply(np.array([[[10.0, 50.0], [8.0, 1.0], [4.0, 1.0], [1.0, 1.0]]]))
    np.testing.assert_allclose(mapped2[0, m2.regions.index("RoW")], [0.0, 47.0])
    assert floors2 == 1  # month 1: 10 - 8 - 4 - 1 < 0, floored
    assert "RoW=World-EU-Korea" in m2.describe()


def test_fixed_shares_and_subset(tiny_raw_builder):
    raw = tiny_raw_builder(shares=(0.5, 0.5))
    p = parse_params(raw)
    assert p.share_concentration is None
    sub = p.subset_regions(["RoW"])
    assert sub.region_names == ("RoW",) and sub.share_mean.shape == (1, 2)


@pytest.mark.parametrize(
    "key", ["restock_multiple", "opening_stock_ratio", "deferred_share", "reroute_share"]
)
def test_an_empty_entry_is_named_not_an_assertion(tiny_raw_builder, key):
    raw = tiny_raw_builder()
    raw[key] = None  # `key:` with nothing after it in the YAML file
    with pytest.raises(PriorsError, match=f"{key}: empty"):
        parse_params(raw, source="p.yaml")
