"""Early warning at a release: new customs figures placed in the previous forecast.

Fast: the forecasts come from the fixed posterior of ``tests/conftest.py`` through
the real forecast code, or from plain samples; nothing is fitted.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from riskmodel.cli import main
from riskmodel.config import load_scenario
from riskmodel.forecast import forecast_paths, write_forecast
from riskmodel.forecast.alerts import (
    HIGH_HINT,
    LOW_HINT,
    judge,
    percentile_phrase,
    place,
    predictive_sample,
    watch,
)

HEADER = "month,destination,product,quantity,unit,months_covered,derived,note,source\n"


@pytest.fixture(scope="module")
def paths():
    """A real forecast (World + US, 2026-01..2026-03) from the fixed posterior."""
    from tests.conftest import make_posterior

    post = make_posterior()
    ds = forecast_paths(post, load_scenario("baseline"), horizon=3, n_paths=2000, rng=5)
    return ds


def _quantile(paths, dest, months, q):
    x = paths["exports"].sel(destination=dest, month=list(months)).sum("month").values
    return float(np.quantile(x, q))


def _obs(rows):
    """Reconciled observations as watch() takes them: (destination, months, quantity)."""
    return pd.DataFrame(
        [
            {
                "destination": d,
                "months": tuple(pd.Period(m, freq="M") for m in months),
                "quantity_t": q,
                "file": "new.csv",
                "line": i + 2,
            }
            for i, (d, months, q) in enumerate(rows)
        ]
    )


def test_place_counts_ties_half_and_tails_one_sided():
    x = np.arange(1.0, 101.0)  # 1..100
    pit, tail = place(x, 10.0)
    assert pit == pytest.approx(9.5 / 100)
    assert tail == pytest.approx(10 / 100)  # P(X <= 10)
    pit, tail = place(x, 95.5)
    assert pit == pytest.approx(0.95) and tail == pytest.approx(0.05)
    assert place(x, -5.0) == (0.0, 0.0)


def test_percentile_phrases():
    assert percentile_phrase(0.024, 1000) == "below the 3rd percentile"
    assert percentile_phrase(0.004, 1000) == "below the 1st percentile"
    assert percentile_phrase(0.0, 1000) == "below all 1000 forecast paths"
    assert percentile_phrase(0.971, 1000) == "above the 97th percentile"
    assert percentile_phrase(0.999, 1000) == "above the 99th percentile"
    assert percentile_phrase(1.0, 500) == "above all 500 forecast paths"
    assert percentile_phrase(0.112, 1000) == "below the 12th percentile"


def test_a_figure_inside_the_central_50_percent_raises_no_alert(paths):
    rows = []
    for dest in ("World", "United States"):
        for q in (0.26, 0.5, 0.74):
            rows.append((dest, ("2026-02",), _quantile(paths, dest, ["2026-02"], q)))
    result = watch(paths, _obs(rows))
    assert len(result.scored) == 6
    assert result.alerts == []
    for c in result.scored:
        assert 0.25 <= c.pit <= 0.75
        assert "within the central 90%" in c.message


def test_a_figure_far_in_the_lower_tail_raises_an_alert_with_a_plain_sentence(paths):
    low = 0.2 * _quantile(paths, "United States", ["2026-01"], 0.01)
    result = watch(paths, _obs([("United States", ("2026-01",), low)]))
    (alert,) = result.alerts
    assert alert.alert == "low" and alert.pit < 0.01 and alert.tail_probability < 0.01
    assert alert.message.startswith("United States exports in 2026-01 were below ")
    assert "of what we expected" in alert.message and alert.message.endswith(LOW_HINT)
    assert alert.message.endswith("approval may have dropped again")


def test_a_figure_far_in_the_upper_tail_raises_a_high_alert(paths):
    high = 3.0 * _quantile(paths, "World", ["2026-03"], 0.99)
    (alert,) = watch(paths, _obs([("World", ("2026-03",), high)])).alerts
    assert alert.alert == "high" and alert.pit > 0.99
    assert "were above all 2000 forecast paths of what we expected" in alert.message
    assert alert.message.endswith(HIGH_HINT)


def test_the_edges_of_the_central_90_percent():
    x = np.linspace(0.0, 1.0, 10001)
    assert judge("World", ("2026-01",), 0.049, x, horizon=1).alert == "low"
    assert judge("World", ("2026-01",), 0.051, x, horizon=1).alert is None
    assert judge("World", ("2026-01",), 0.949, x, horizon=1).alert is None
    assert judge("World", ("2026-01",), 0.951, x, horizon=1).alert == "high"


def test_a_total_over_months_is_judged_against_the_summed_paths(paths):
    months = ("2026-01", "2026-02")
    actual = _quantile(paths, "World", months, 0.5)
    (c,) = watch(paths, _obs([("World", months, actual)])).checks
    summed = paths["exports"].sel(destination="World", month=list(months)).sum("month").values
    assert c.status == "scored" and c.horizon == 2
    assert c.pit == pytest.approx(np.mean(summed < actual) + 0.5 * np.mean(summed == actual))
    assert c.period == "2026-01..2026-02"


def test_figures_the_forecast_cannot_judge_are_reported_not_dropped(paths):
    obs = _obs(
        [
            ("World", ("2025-11",), 5000.0),  # before the forecast's first month
            ("United States", ("2025-12", "2026-01"), 900.0),  # starts before it
            ("World", ("2026-04",), 5000.0),  # after its last month
            ("Japan", ("2026-01",), 300.0),  # a destination it did not forecast
            ("World", ("2026-01",), _quantile(paths, "World", ["2026-01"], 0.5)),
        ]
    )
    result = watch(paths, obs)
    assert len(result.checks) == len(obs)
    status = {(c.destination, c.period): c.status for c in result.checks}
    assert status == {
        ("World", "2025-11"): "before_origin",
        ("United States", "2025-12..2026-01"): "straddles_origin",
        ("World", "2026-04"): "beyond_horizon",
        ("Japan", "2026-01"): "destination_not_forecast",
        ("World", "2026-01"): "scored",
    }
    text = "\n".join(result.lines())
    assert "1 figure(s) of 2025-11..2025-11 were already observed" in text
    assert "World 2026-04 (5,000 t): not scored, after the forecast's last month" in text
    assert "Japan 2026-01 (300 t): not scored, a destination the forecast did not cover" in text
    assert "starts before the forecast's first month" in text
    payload = result.to_dict()
    assert payload["not_scored"] == {
        "before_origin": 1,
        "straddles_origin": 1,
        "beyond_horizon": 1,
        "destination_not_forecast": 1,
    }
    json.dumps(payload, allow_nan=False)  # alerts.json must be valid JSON


def test_the_predictive_sample_is_the_reported_figure(paths):
    kept = predictive_sample(paths, 2)
    assert list(kept.data_vars) == ["exports"]
    assert kept.sizes["month"] == 2 and kept["exports"].dtype == np.float32
    assert kept.attrs["scenario"] == "baseline"
    # exports include the customs noise: wider than counterfactual x approval
    latent = (paths["counterfactual"] * paths["approval"]).sel(destination="World")
    reported = paths["exports"].sel(destination="World")
    assert float(np.log(reported).std("path").mean()) > float(np.log(latent).std("path").mean())


# --------------------------------------------------------------------------- #
# The command line
# --------------------------------------------------------------------------- #


@pytest.fixture
def forecast_dir(tmp_path, paths):
    out = tmp_path / "fc"
    write_forecast(paths, out)
    return out


def _csv(tmp_path, rows, name="new.csv"):
    path = tmp_path / name
    path.write_text(HEADER + "".join(f"{r},,https://example.org\n" for r in rows))
    return path


def test_watch_command_flags_a_collapse_and_writes_json(tmp_path, forecast_dir, paths, capsys):
    us_low = 0.1 * _quantile(paths, "United States", ["2026-01"], 0.01)
    world_mid = _quantile(paths, "World", ["2026-01"], 0.5)
    data = _csv(
        tmp_path,
        [
            "2025-12,World,magnets,5100,t,1,0",
            f"2026-01,World,magnets,{world_mid:.1f},t,1,0",
            f"2026-01,United States,magnets,{us_low:.2f},t,1,0",
            "2026-06,World,magnets,5000,t,1,0",
        ],
    )
    out = tmp_path / "alerts.json"
    code = main(["watch", "--previous", str(forecast_dir), "--data", str(data), "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "2 new figure(s) scored, 1 outside the central 90%" in text
    assert "United States exports in 2026-01 were below" in text
    assert "approval may have dropped again" in text
    assert "World 2026-06 (5,000 t): not scored, after the forecast's last month" in text
    assert "were already observed when the forecast was made" in text
    payload = json.loads(out.read_text())
    assert payload["n_alerts"] == 1 and payload["alerts"][0]["destination"] == "United States"
    assert payload["alerts"][0]["source"].endswith("new.csv:4")
    # a scheduler can ask for a failing exit code when something was flagged
    args = ["watch", "--previous", str(forecast_dir), "--data", str(data), "--fail-on-alert"]
    assert main(args) == 1


def test_watch_command_bad_data_exits_2_with_one_line(tmp_path, forecast_dir, capsys):
    data = _csv(tmp_path, ["2026-01,World,magnets,lots,t,1,0"])
    assert main(["watch", "--previous", str(forecast_dir), "--data", str(data)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "new.csv" in err[0] and "line 2" in err[0] and "quantity" in err[0]


@pytest.mark.parametrize("what", ["missing_data", "not_a_forecast", "other_product"])
def test_watch_command_refuses_bad_arguments(tmp_path, forecast_dir, capsys, what):
    data = _csv(tmp_path, ["2026-01,World,magnets,5000,t,1,0"])
    previous = forecast_dir
    if what == "missing_data":
        data = tmp_path / "nope.csv"
    elif what == "not_a_forecast":
        previous = tmp_path / "empty"
        previous.mkdir()
    else:
        data = _csv(tmp_path, ["2026-01,World,gallium,5,t,1,0"], name="ga.csv")
    assert main(["watch", "--previous", str(previous), "--data", str(data)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("riskmodel: error:")
    assert {"missing_data": "nope.csv", "not_a_forecast": "no forecast here"}.get(
        what, "no rows of product 'magnets'"
    ) in err[0]
