"""The bundled data loads, passes every check and reconciles."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from riskmodel.customs import (
    BUNDLED_CUSTOMS_FILES,
    events_for_product,
    load_bundled_customs,
    load_bundled_events,
    load_bundled_licence_counts,
    reconcile,
    summarize_series,
)
from riskmodel.exceptions import DataValidationError

#: Commodity names in the events that have no bundled series (a user may bring one).
PRODUCTS_WITHOUT_SERIES = {
    "antimony",
    "dual_use_items",
    "graphite_anodes",
    "indium",
    "lithium_batteries",
    "molybdenum",
    "rare_earth_technologies",
    "strategic_minerals",
    "superhard_materials",
    "tellurium",
}


@pytest.fixture(scope="module")
def customs() -> pd.DataFrame:
    return load_bundled_customs()


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return load_bundled_events()


def test_bundled_customs_load(customs):
    assert {Path(name).name for name in customs["file"]} == set(BUNDLED_CUSTOMS_FILES)
    assert len(customs) == 454
    assert {"magnets", "rare_earths", "gallium", "germanium"} <= set(customs["product"])
    assert (customs["source"] != "").all()
    assert (customs.loc[customs["derived"], "note"] != "").all()


def test_bundled_customs_one_product(customs):
    magnets = load_bundled_customs("magnets")
    assert set(magnets["product"]) == {"magnets"}
    assert len(magnets) == int((customs["product"] == "magnets").sum())
    with pytest.raises(DataValidationError, match="no bundled customs series for product"):
        load_bundled_customs("unobtainium")


def test_bundled_customs_reconcile_without_loss(customs):
    result = reconcile(customs)
    used = set(zip(result.observations["file"], result.observations["line"], strict=True))
    checked = set(zip(result.cross_checks["file"], result.cross_checks["line"], strict=True))
    assert not used & checked
    assert len(used | checked) == len(customs)  # nothing dropped
    for _, rows in result.observations.groupby(["product", "destination"]):
        months = [m for ms in rows["months"] for m in ms]
        assert len(months) == len(set(months))
    assert (result.observations["quantity_t"] >= 0).all()
    assert (result.cross_checks["relative_difference"].abs() <= 0.02).all()
    assert len(result.cross_checks) >= 50


def test_magnets_world_monthly_coverage(customs):
    summary = summarize_series(customs).set_index(["product", "destination"])
    world = summary.loc[("magnets", "World")]
    assert world["last"] == pd.Period("2025-12", freq="M")
    recent = [m for m in world["missing"] + world["only_in_sums"] if m >= pd.Period("2024-04", "M")]
    assert recent == [pd.Period("2024-12", freq="M")]
    rare_earths = summary.loc[("rare_earths", "World")]
    assert rare_earths["months_missing"] == 0


def test_bundled_events_use_the_product_vocabulary(customs, events):
    names = {name for names in events["commodities"] for name in names}
    assert "rare_earth_magnets" not in names
    assert names - set(customs["product"]) - {"all"} == PRODUCTS_WITHOUT_SERIES
    magnets = events_for_product(events, "magnets")
    assert pd.Timestamp("2025-04-04") in set(magnets["date"])
    assert "control_effective" in set(magnets["event_type"])
    japan = events_for_product(events, "rare_earths_japan_imports_from_china")
    assert "ban" in set(japan["event_type"])
    assert len(events) == 36


def test_bundled_licence_counts():
    counts = load_bundled_licence_counts().set_index("destination")
    assert counts.loc["United States", "applications"] == 180
    assert counts.loc["United States", "approved"] == 5
    assert counts.loc["European Union", "applications"] == 141
    assert counts.loc["European Union", "approved"] == 19
    assert set(counts["product"]) == {"magnets"}
