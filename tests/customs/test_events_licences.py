"""Policy events and licence counts: reading, validation, matching events to products."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from riskmodel.customs import (
    EVENT_TYPES,
    events_for_product,
    read_licence_counts,
    read_policy_events,
)
from riskmodel.customs.events import EVENT_COLUMNS
from riskmodel.customs.licences import LICENCE_COLUMNS
from riskmodel.exceptions import DataValidationError

TODAY = date(2026, 1, 15)
EH = "date,commodity,event_type,description,source\n"
LH = "product,destination,start,end,applications,approved,description,source\n"


def test_read_events(files):
    events = read_policy_events(files / "events_small.csv")
    assert tuple(events.columns) == EVENT_COLUMNS
    assert list(events["date"]) == [
        pd.Timestamp("2023-12-01"),
        pd.Timestamp("2025-04-04"),
        pd.Timestamp("2025-05-12"),
    ]
    assert list(events["day_known"]) == [False, True, True]
    assert events.iloc[0]["month"] == pd.Period("2023-12", freq="M")
    assert events.iloc[1]["commodities"] == ("rare_earths", "magnets")
    assert events.iloc[1]["description"] == "Controls on Sm, Gd, Tb, Dy"
    assert events.iloc[0]["line"] == 4
    assert set(events["event_type"]) <= set(EVENT_TYPES)


def test_events_for_product_matches_exact_name_and_all(files):
    events = read_policy_events(files / "events_small.csv")
    assert list(events_for_product(events, "magnets")["event_type"]) == [
        "control_effective",
        "deal",
    ]
    assert list(events_for_product(events, "graphite_flake")["event_type"]) == [
        "licences_approved",
        "deal",
    ]
    # exact names only: 'graphite' is not 'graphite_flake', 'magnet' is not 'magnets'
    assert list(events_for_product(events, "graphite")["event_type"]) == ["deal"]
    assert list(events_for_product(events, "magnet")["event_type"]) == ["deal"]


@pytest.mark.parametrize(
    ("body", "line", "column", "fragment"),
    [
        pytest.param(
            "2025-04-04,magnets,embargo,x,y\n",
            2,
            "event_type",
            "unknown event_type",
            id="unknown-type",
        ),
        pytest.param(
            "2025-02-30,magnets,deal,x,y\n", 2, "date", "impossible date", id="impossible-date"
        ),
        pytest.param(
            "04/04/2025,magnets,deal,x,y\n", 2, "date", "malformed date", id="malformed-date"
        ),
        pytest.param(
            "2025-13,magnets,deal,x,y\n", 2, "date", "impossible month", id="impossible-month"
        ),
        pytest.param(",magnets,deal,x,y\n", 2, "date", "empty", id="empty-date"),
        pytest.param("2025-04-04,,deal,x,y\n", 2, "commodity", "empty", id="empty-commodity"),
        pytest.param(
            "2025-04-04,magnets;;gallium,deal,x,y\n",
            2,
            "commodity",
            "empty commodity",
            id="empty-name-in-list",
        ),
        pytest.param(
            "2025-04-04,magnets;magnets,deal,x,y\n", 2, "commodity", "twice", id="repeated-name"
        ),
        pytest.param(
            "2025-04-04,magnets,deal,x,y\n2025-04-04,magnets,deal,x,z\n",
            3,
            "date",
            "line 2",
            id="duplicate-event",
        ),
        pytest.param("2025-04-04,magnets,deal,x,y,extra\n", 2, "#6", "6 fields", id="long-row"),
        pytest.param("9999-01-01,magnets,deal,x,y\n", 2, "date", "not 1900 to 2100", id="y9999"),
        pytest.param("2300-06,magnets,deal,x,y\n", 2, "date", "not 1900 to 2100", id="y2300"),
        pytest.param("0000-01-01,magnets,deal,x,y\n", 2, "date", "implausible year", id="y0"),
    ],
)
def test_bad_events(write, body, line, column, fragment):
    path = write(EH + body, "events.csv")
    with pytest.raises(DataValidationError) as info:
        read_policy_events(path)
    message = str(info.value)
    assert fragment in message
    assert message.startswith(f"{path}, line {line}, column '{column}'")


def test_events_missing_column(write):
    path = write("date,event_type\n2025-04-04,deal\n", "events.csv")
    with pytest.raises(DataValidationError, match="column 'commodity'"):
        read_policy_events(path)


def test_read_licence_counts(files):
    counts = read_licence_counts(files / "licences_small.csv", today=TODAY)
    assert tuple(counts.columns) == LICENCE_COLUMNS
    assert list(counts["destination"]) == ["European Union", "United States"]
    eu = counts.iloc[0]
    assert (eu["applications"], eu["approved"]) == (141, 19)
    assert eu["start"] == pd.Period("2025-04", freq="M")
    assert eu["end"] == pd.Period("2025-09", freq="M")
    assert counts["applications"].dtype == "int64"
    assert eu["line"] == 3


@pytest.mark.parametrize(
    ("body", "column", "fragment"),
    [
        pytest.param(
            "magnets,US,2025-04,2025-06,5,6,x,y\n",
            "approved",
            "more than applications",
            id="approved-above-applications",
        ),
        pytest.param(
            "magnets,US,2025-04,2025-06,-5,0,x,y\n", "applications", "negative", id="negative"
        ),
        pytest.param(
            "magnets,US,2025-04,2025-06,5.5,1,x,y\n", "applications", "whole number", id="fraction"
        ),
        pytest.param("magnets,US,2025-04,2025-06,,1,x,y\n", "applications", "empty", id="empty"),
        pytest.param(
            "magnets,US,2025-07,2025-06,5,1,x,y\n", "start", "after end", id="start-after-end"
        ),
        pytest.param("magnets,US,2025-04,2026-06,5,1,x,y\n", "end", "future", id="future-end"),
        pytest.param(
            "magnets,US,2025-4x,2025-06,5,1,x,y\n", "start", "malformed", id="malformed-start"
        ),
        pytest.param(
            "magnets,,2025-04,2025-06,5,1,x,y\n", "destination", "empty", id="empty-destination"
        ),
        pytest.param(
            f"magnets,US,2025-04,2025-06,{2**70},{2**69},x,y\n",
            "applications",
            "implausibly large",
            id="beyond-int64",
        ),
    ],
)
def test_bad_licence_counts(write, body, column, fragment):
    path = write(LH + body, "licences.csv")
    with pytest.raises(DataValidationError) as info:
        read_licence_counts(path, today=TODAY)
    message = str(info.value)
    assert fragment in message
    assert message.startswith(f"{path}, line 2, column '{column}'")


def test_duplicate_licence_counts(write):
    row = "magnets,US,2025-04,2025-06,5,1,x,y\n"
    path = write(LH + row + row, "licences.csv")
    with pytest.raises(DataValidationError, match="line 2") as info:
        read_licence_counts(path, today=TODAY)
    assert info.value.line == 3


def test_a_device_is_refused_not_read_forever():
    with pytest.raises(DataValidationError, match="not a regular file"):
        read_policy_events("/dev/zero")
