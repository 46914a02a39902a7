import numpy as np
import pandas as pd
import pytest

from riskmodel.customs import events_for_product, load_bundled_events
from riskmodel.models.regimes import (
    effective_month,
    regime_direction,
    regime_schedule,
    regime_starts,
)
from riskmodel.pipeline import load_inputs


def test_regimes_from_bundled_magnet_events():
    months = pd.period_range("2024-01", "2025-12", freq="M")
    sched = regime_schedule(events_for_product(load_bundled_events(), "magnets"), months)
    assert sched.control_start == months.get_loc(pd.Period("2025-04", freq="M"))
    assert (sched.index[: sched.control_start] == -1).all()
    assert sched.starts[0] == pd.Period("2025-04", freq="M")
    # announcements alone (2025-10-09) open no regime
    assert pd.Period("2025-10", freq="M") not in sched.starts
    assert list(sched.starts) == sorted(sched.starts)


def test_late_in_month_events_count_from_next_month():
    assert effective_month(pd.Timestamp("2025-06-27")) == pd.Period("2025-07", freq="M")
    assert effective_month(pd.Timestamp("2025-06-07")) == pd.Period("2025-06", freq="M")
    assert effective_month(pd.Timestamp("2023-12-31"), day_known=False) == pd.Period(
        "2023-12", freq="M"
    )


def test_no_control_no_regimes():
    months = pd.period_range("2020-01", "2020-12", freq="M")
    sched = regime_schedule(events_for_product(load_bundled_events(), "magnets"), months)
    assert sched.n_regimes == 0 and sched.control_start is None


def _events(*rows: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {"date": pd.to_datetime([d for d, _ in rows]), "event_type": [t for _, t in rows]}
    )


def test_a_suspension_of_the_only_control_ends_licensing():
    embargo = [("2010-09-21", "ban"), ("2010-11-20", "suspension"), ("2011-03-01", "deal")]
    events = _events(*embargo)
    starts = regime_starts(events)
    assert [str(s) for s, _ in starts] == ["2010-10", "2010-12"]  # the deal eases nothing
    during = regime_schedule(events, pd.period_range("2010-06", "2010-11", freq="M"))
    assert during.names == ("2010-10 ban",) and list(during.index[-2:]) == [0, 0]
    # A lift inside the window is an easing regime, fitted like a deal...
    across = regime_schedule(events, pd.period_range("2010-06", "2012-12", freq="M"))
    assert across.names == ("2010-10 ban", "2010-12 suspension")
    # ...and a window that opens after it has no licensing.
    after = regime_schedule(events, pd.period_range("2010-12", "2012-12", freq="M"))
    assert after.n_regimes == 0 and (after.index == -1).all()
    again = _events(
        *embargo,
        ("2012-05-02", "control_effective"),
        ("2012-08-01", "deal"),
    )
    sched = regime_schedule(again, pd.period_range("2011-01", "2012-12", freq="M"))
    assert sched.names == ("2012-05 control_effective", "2012-08 deal")
    assert (sched.index[: sched.control_start] == -1).all()


def test_a_suspension_of_a_control_not_yet_in_force_keeps_licensing():
    events = _events(
        ("2025-04-04", "control_effective"),
        ("2025-10-09", "control_announced"),
        ("2025-11-07", "suspension"),
    )
    later = pd.period_range("2025-12", "2026-03", freq="M")
    sched = regime_schedule(events, later)
    assert sched.names == ("2025-11 suspension",) and (sched.index == 0).all()
    # Announced and in force in one month settle each other whatever the row order,
    # so the November suspension then lifts the only control.
    same_day = _events(
        ("2025-04-04", "control_effective"),
        ("2025-04-04", "control_announced"),
        ("2025-11-07", "suspension"),
    )
    assert regime_schedule(same_day, later).n_regimes == 0


def test_bundled_inputs_sum_rows_and_licences():
    inputs = load_inputs()
    assert inputs.product == "magnets"
    assert inputs.destinations[0] == "World"
    assert str(inputs.months[-1]) == "2025-12"
    n_months = inputs.obs_mask.sum(axis=1)
    assert (n_months > 1).any()  # Jan-Feb and year-to-date residuals observed as sums
    assert inputs.licences is not None and set(inputs.licences.applications) == {141, 180}
    assert (inputs.obs_quantity > 0).all()


def test_as_of_never_uses_later_rows_or_events(tmp_path, magnet_slice_csv):
    later = tmp_path / "with_later.csv"
    text = magnet_slice_csv.read_text()
    later.write_text(text)
    base = load_inputs(magnet_slice_csv, as_of="2025-04")
    assert str(base.months[-1]) == "2025-03"
    # no control was in force in the window; the April control is known at the origin
    assert base.regimes.n_regimes == 0
    assert [str(m) for m in base.future_regime_starts] == ["2025-04"]
    # the same origin on a file cut at the origin gives the very same inputs
    lines = [ln for ln in text.splitlines() if not ln[:7] >= "2025-04" or ln.startswith("month")]
    cut = tmp_path / "cut.csv"
    cut.write_text("\n".join(lines) + "\n")
    assert load_inputs(cut, as_of="2025-04").data_hash == base.data_hash


def test_window_starts_at_first_observation(magnet_slice_csv):
    inputs = load_inputs(magnet_slice_csv)
    first = min(inputs.months[m] for m in inputs.obs_months[inputs.obs_mask])
    assert inputs.months[0] == first
    assert np.all(inputs.obs_months[inputs.obs_mask] < inputs.n_months)


@pytest.mark.parametrize(
    ("label", "direction"),
    [
        ("2025-04 control_effective", -1),
        ("2024-12 ban", -1),
        ("2025-06 deal+licences_approved", 1),
        ("2025-11 suspension", 1),
        ("2025-10 ban+deal", 0),
        ("r1", 0),
    ],
)
def test_regime_direction_follows_the_event_types(label, direction):
    assert regime_direction(label) == direction
