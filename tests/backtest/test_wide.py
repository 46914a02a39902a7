"""The wide backtest: origin ranges, product handling and scopes (baselines only, no sampling)."""

import argparse

import numpy as np
import pandas as pd
import pytest

from riskmodel.backtest.wide import (
    SCOPES,
    WIDE_PLAN,
    WIDE_SUMMARY_COLUMNS,
    WIDE_UNAVAILABLE_COLUMNS,
    WidePart,
    label_scopes,
    month_range,
    runnable_origins,
    wide_pit,
    wide_summary,
)
from riskmodel.cli import main
from riskmodel.commands.backtest import _origins_arg


def test_origin_ranges_expand_monthly_and_keep_order():
    assert _origins_arg("2023-01:2023-03,2023-05") == ("2023-01", "2023-02", "2023-03", "2023-05")
    assert _origins_arg("2025-03, 2025-03:2025-04") == ("2025-03", "2025-04")
    assert len(_origins_arg("2023-01:2025-09")) == 33
    assert month_range("2024-11", "2025-02") == ("2024-11", "2024-12", "2025-01", "2025-02")


@pytest.mark.parametrize(
    "text", ["2025-09:2025-01", "2025-01:2025-13", "2025-01:", ":2025-01", "1990-01:2025-01"]
)
def test_bad_origin_ranges_are_rejected(text):
    with pytest.raises(argparse.ArgumentTypeError):
        _origins_arg(text)


def test_bad_origin_range_exits_2_with_one_line(tmp_path, capsys):
    code = main(["backtest", "--origins", "2025-09:2025-01", "--out", str(tmp_path / "x")])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ends before it starts" in err[0]
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--parts", "magnets,unobtainium"], "unknown product(s) unobtainium"),
        (["--product", "gallium"], "drop --data and --product"),
    ],
)
def test_bad_wide_arguments_exit_2(tmp_path, capsys, argv, message):
    code = main(["backtest", "--wide", "--models", "ets", *argv, "--out", str(tmp_path / "x")])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_plan_covers_the_episodes_of_the_issue():
    by_product = {p.product: p.origins for p in WIDE_PLAN}
    assert by_product["magnets"] == month_range("2023-01", "2025-09")
    for product, month in [
        ("gallium", "2023-08"),
        ("germanium", "2023-08"),
        ("graphite_flake", "2023-12"),
        ("tungsten_APT", "2025-02"),
        ("bismuth_refined_and_products", "2025-02"),
        ("rare_earths", "2025-04"),
    ]:
        origins = [pd.Period(o, freq="M") for o in by_product[product]]
        episode = pd.Period(month, freq="M")
        assert min(origins) < episode <= max(origins), product


def test_products_that_cannot_be_forecast_are_recorded_with_the_reason():
    part = WidePart("tungsten_APT", "other_controls.csv", month_range("2025-01", "2025-03"))
    ok, rows = runnable_origins(part, models=("snaive", "ets"), horizon=6)
    assert ok == []
    frame = pd.DataFrame(rows, columns=list(WIDE_UNAVAILABLE_COLUMNS))
    assert len(frame) == 6  # every model at every origin
    assert set(frame["origin"]) == {"2025-01", "2025-02", "2025-03"}
    assert frame["reason"].str.contains("no observation lies wholly inside the horizon").all()

    part = WidePart("bismuth_refined_and_products", "other_controls.csv", ("2025-01", "2025-02"))
    ok, rows = runnable_origins(part, models=("ets",), horizon=6)
    assert ok == ["2025-02"]
    assert len(rows) == 1 and rows[0]["origin"] == "2025-01"
    assert "before --as-of 2025-01" in rows[0]["reason"] and rows[0]["targets"] == 2


def _scores(product, origins_months, model="m"):
    rows = []
    for origin, month, pit in origins_months:
        rows.append(
            {
                "product": product,
                "model": model,
                "origin": origin,
                "destination": "World",
                "month": month,
                "horizon": 1,
                "actual": 1.0,
                "crps": 1.0,
                "wis": 1.0,
                "abs_error": 1.0,
                "pit": pit,
                "in50": True,
                "in80": True,
                "in95": True,
            }
        )
    return pd.DataFrame(rows)


def test_policy_and_after_control_scopes_follow_the_product_events():
    # Magnets: the April 2025 control took effect (control_effective 2025-04); other
    # events through 2025-12. Nothing concerns magnets before 2025, so 2024-01 is calm.
    s = _scores(
        "magnets",
        [
            ("2024-01", "2024-01", 0.5),  # 15 months before the first event: calm
            ("2024-09", "2024-10", 0.5),  # 6 months before 2025-04: policy
            ("2024-09", "2024-09", 0.5),  # 7 months before: calm
            ("2025-04", "2025-04", 0.5),  # the control month: after_control (lag 0)
            ("2025-10", "2025-12", 0.5),  # lag 6: after_control
            ("2025-11", "2025-11", 0.5),  # lag 7: not after_control
        ],
    )
    out = label_scopes(s)
    assert out["policy"].tolist() == [False, True, False, True, True, True]
    assert out["after_control"].tolist() == [False, False, False, True, True, False]
    # Germanium: the control of 2023-08 and the ban of 2024-12 start controls; the same
    # months are neither policy nor after a control for magnets (not its events).
    rows = [("2024-06", "2024-06", 0.5), ("2023-08", "2023-08", 0.5), ("2025-01", "2025-02", 0.5)]
    g = label_scopes(_scores("germanium", rows))
    assert g["after_control"].tolist() == [False, True, True]
    assert g["policy"].tolist() == [True, True, True]
    m = label_scopes(_scores("magnets", rows[:2]))
    assert not m["after_control"].any() and not m["policy"].any()


def test_summary_by_scope_splits_all_into_calm_and_policy():
    a = _scores("magnets", [("2024-01", "2024-01", 0.05), ("2025-05", "2025-05", 0.95)])
    a.loc[1, ["crps", "in50"]] = [3.0, False]
    b = _scores("germanium", [("2023-09", "2023-09", 0.5)])
    scores = label_scopes(pd.concat([a, b], ignore_index=True))
    unav = pd.DataFrame(
        [["magnets", "m", "2025-05", "United States", 4, "too short"]],
        columns=list(WIDE_UNAVAILABLE_COLUMNS),
    )
    summary = wide_summary(scores, unav, ["m"])
    assert tuple(summary.columns) == WIDE_SUMMARY_COLUMNS
    assert list(summary["product"].unique()) == ["all", "magnets", "germanium"]
    assert list(summary.loc[summary["product"] == "all", "scope"]) == list(SCOPES)
    row = summary.set_index(["product", "scope"])
    assert row.loc[("magnets", "all"), "n"] == 2
    assert row.loc[("magnets", "calm"), "n"] == 1 and row.loc[("magnets", "calm"), "crps"] == 1.0
    assert row.loc[("magnets", "policy"), "crps"] == 3.0
    assert row.loc[("magnets", "policy"), "cover50"] == 0.0
    assert row.loc[("all", "all"), "n"] == 3
    assert row.loc[("all", "all"), "unavailable"] == 4
    assert row.loc[("all", "United States"), "unavailable"] == 4
    assert row.loc[("germanium", "all"), "unavailable"] == 0
    pit = wide_pit(scores, ["m"]).set_index(["product", "scope"])
    assert pit.loc[("magnets", "all"), "bin1"] == 1 and pit.loc[("magnets", "all"), "bin10"] == 1
    assert pit.loc[("all", "policy"), "n"] == 2


def test_wide_cli_matches_the_plain_backtest_and_records_products(tmp_path):
    wide, plain = tmp_path / "wide", tmp_path / "plain"
    common = ["--models", "snaive,ets", "--paths", "100", "--seed", "5", "--horizon", "4"]
    code = main(
        ["backtest", "--wide", "--parts", "magnets,tungsten_APT", "--origins", "2025-05:2025-06",
         *common, "--out", str(wide)]
    )  # fmt: skip
    assert code == 0
    assert main(["backtest", "--origins", "2025-05,2025-06", *common, "--out", str(plain)]) == 0
    a = pd.read_csv(wide / "scores.csv")
    b = pd.read_csv(plain / "scores.csv")
    assert set(a["product"]) == {"magnets"}
    assert {"policy", "after_control"} <= set(a.columns)
    keys = ["model", "origin", "destination", "month"]
    a = a.drop(columns=["product", "policy", "after_control"]).sort_values(keys)
    pd.testing.assert_frame_equal(
        a.reset_index(drop=True), b.sort_values(keys).reset_index(drop=True)
    )
    unav = pd.read_csv(wide / "unavailable.csv")
    tungsten = unav[unav["product"] == "tungsten_APT"]
    assert len(tungsten) == 6 and tungsten["reason"].notna().all()
    summary = pd.read_csv(wide / "summary.csv")
    assert set(summary["scope"]) == set(SCOPES)
    assert (wide / "magnets" / "scores.csv").is_file()
    md = (wide / "summary.md").read_text()
    assert "tungsten_APT" in md and "after_control" in md
    pit = pd.read_csv(wide / "pit.csv")
    assert np.all(pit[[f"bin{k}" for k in range(1, 11)]].sum(axis=1) == pit["n"])


@pytest.mark.parametrize(
    ("product", "origin"),
    [("germanium", "2023-08"), ("graphite_flake", "2023-12"), ("rare_earths", "2025-04")],
)
def test_other_products_see_only_what_was_known_at_the_origin(product, origin):
    from riskmodel.backtest.engine import BacktestSpec
    from riskmodel.backtest.wide import _data_path

    part = next(p for p in WIDE_PLAN if p.product == product)
    spec = BacktestSpec(data=(_data_path(part.data),), product=product)
    inputs = spec.load(as_of=origin)
    cut = pd.Period(origin, freq="M")
    assert inputs.months[-1] == cut - 1
    assert inputs.as_of == cut
    # The control that took effect in the origin month is known, as a regime after the data.
    assert cut in inputs.future_regime_starts
    full = spec.load(as_of=None)
    assert full.months[-1] > cut
