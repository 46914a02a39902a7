"""Policy risk inside the forecast: the unconditional default scenario."""

import json

import numpy as np
import pandas as pd
import pytest

from riskmodel.config import load_scenario, parse_scenario
from riskmodel.config.dists import Dist
from riskmodel.customs.events import load_bundled_events
from riskmodel.forecast import forecast_paths
from riskmodel.forecast.policy import policy_history, rate_posteriors
from tests.conftest import make_posterior

RATES = ("control_rate", "tightening_rate", "deal_rate", "relief_rate")


def _policy_scenario(**rates: float) -> object:
    """The bundled unconditional scenario with Fixed rates (default 0) for every class."""
    raw = load_scenario("unconditional").to_dict()
    for key in RATES:
        raw["regimes"][0][key] = {"dist": "Fixed", "value": rates.get(key, 0.0), "reason": "test"}
    return parse_scenario(raw)


def _events(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """An events frame as read_policy_events returns it (date, commodities, type)."""
    return pd.DataFrame(
        {
            "date": pd.to_datetime([r[0] for r in rows]),
            "commodities": [tuple(r[1].split(";")) for r in rows],
            "event_type": [r[2] for r in rows],
        }
    )


def _paths(posterior, scenario, seed=1, n_paths=1000, horizon=6, **kw):
    scen = load_scenario(scenario) if isinstance(scenario, str) else scenario
    return forecast_paths(posterior, scen, horizon=horizon, n_paths=n_paths, rng=seed, **kw)


def test_unconditional_is_reproducible_by_seed(fitted_posterior):
    a = _paths(fitted_posterior, "unconditional", seed=5)
    b = _paths(fitted_posterior, "unconditional", seed=5)
    c = _paths(fitted_posterior, "unconditional", seed=6)
    np.testing.assert_array_equal(a["exports"].values, b["exports"].values)
    assert not np.array_equal(a["approval"].values, c["approval"].values)
    assert a.attrs["policy_events"] == b.attrs["policy_events"]


@pytest.mark.parametrize("controlled", [True, False])
def test_zero_rates_give_exactly_the_held_regime_forecast(controlled):
    post = make_posterior(
        controlled=controlled, approval_last=(0.9, 0.7) if controlled else (0.98, 0.98)
    )
    held = _paths(post, "baseline", seed=3)
    zero = _paths(post, _policy_scenario(), seed=3)
    for var in ("exports", "approval", "counterfactual"):
        np.testing.assert_array_equal(zero[var].values, held[var].values)


def test_unconditional_widens_the_held_regime_intervals(fitted_posterior):
    held = _paths(fitted_posterior, "baseline", n_paths=3000)["exports"].values
    free = _paths(fitted_posterior, "unconditional", n_paths=3000)["exports"].values
    width = lambda x: np.quantile(x, 0.9, axis=0) - np.quantile(x, 0.1, axis=0)  # noqa: E731
    assert (width(free)[:, 1:] > width(held)[:, 1:]).all()


def test_a_high_control_rate_cuts_exports_of_an_uncontrolled_product():
    post = make_posterior(controlled=False, approval_last=(0.98, 0.98))
    held = _paths(post, "baseline", n_paths=2000)["exports"].values
    ctrl = _paths(post, _policy_scenario(control_rate=3.0), n_paths=2000)
    # nearly every path meets a control in its first month; the learned shape bites
    assert np.median(ctrl["exports"].values[:, :, 1]) < 0.6 * np.median(held[:, :, 1])
    assert (ctrl["approval"].values <= 1.0).all() and (ctrl["approval"].values >= 0.0).all()


def test_a_high_tightening_rate_cuts_and_a_high_deal_rate_raises_a_controlled_product(
    fitted_posterior,
):
    held = np.median(_paths(fitted_posterior, "baseline", n_paths=2000)["approval"].values)
    tight = _paths(fitted_posterior, _policy_scenario(tightening_rate=3.0), n_paths=2000)
    deal = _paths(fitted_posterior, _policy_scenario(deal_rate=3.0), n_paths=2000)
    assert np.median(tight["approval"].values[:, :, 2:]) < 0.6 * held
    assert np.median(deal["approval"].values[:, :, 2:]) > held + 0.5 * (1 - held)
    # the control rate does nothing to a product already under licensing
    ctrl = _paths(fitted_posterior, _policy_scenario(control_rate=3.0), n_paths=2000)
    base = _paths(fitted_posterior, "baseline", n_paths=2000)
    np.testing.assert_array_equal(ctrl["approval"].values, base["approval"].values)


def test_history_counts_classes_by_licensing_state():
    ev = _events(
        [
            ("2021-03-10", "magnets", "control_effective"),  # onset
            ("2021-03-20", "magnets", "ban"),  # same month: one control month
            ("2021-06-01", "magnets", "control_effective"),  # tightening
            ("2021-07-01", "all", "deal"),  # deal for magnets; nothing for tin (free)
            ("2021-08-01", "magnets", "suspension"),  # relief
            ("2021-09-01", "magnets", "licences_approved"),  # not counted
            ("2021-09-01", "tin", "control_announced"),  # not counted
        ]
    )
    h = policy_history(ev, "magnets", "2021-12", history_from="2021-01")
    assert h.products == ("magnets", "tin")
    assert h.counts == {"control": 1, "tightening": 1, "deal": 1, "relief": 1}
    # magnets free Jan-Mar (3 months, the onset month included), tin free all 11 months
    assert h.exposure == {"control": 14, "tightening": 8, "deal": 8, "relief": 8}


def test_rates_use_only_events_dated_before_the_origin():
    base = [("2021-03-10", "magnets", "control_effective")]
    h = policy_history(_events(base), "magnets", "2021-06", history_from="2021-01")
    # an event on the origin's first day, or later, is not known at the origin
    later = [*base, ("2021-06-01", "magnets", "control_effective"), ("2021-09-01", "x", "ban")]
    assert policy_history(_events(later), "magnets", "2021-06", history_from="2021-01") == h
    # one on the day before is
    before = [*base, ("2021-05-31", "magnets", "control_effective")]
    h_before = policy_history(_events(before), "magnets", "2021-06", history_from="2021-01")
    assert h_before.counts["tightening"] == h.counts["tightening"] + 1


def test_forecast_reads_the_events_known_at_its_origin(fitted_posterior):
    # the fitted posterior ends 2025-12: its origin is 2026-01
    events = load_bundled_events()
    known = events[events["date"] < pd.Timestamp("2026-01-01")]
    future = _events([("2026-02-01", "magnets", "ban"), ("2026-03-01", "all", "deal")])
    with_future = pd.concat([known, future], ignore_index=True)
    a = _paths(fitted_posterior, "unconditional", events=known)
    b = _paths(fitted_posterior, "unconditional", events=with_future)
    np.testing.assert_array_equal(a["exports"].values, b["exports"].values)
    summary = json.loads(a.attrs["policy_events"])
    assert summary["months"] == "2020-12..2025-12"
    assert summary["counts"]["control"] > 0


def test_gamma_prior_is_updated_with_counts_and_fixed_is_kept():
    h = policy_history(
        _events([("2021-03-10", "magnets", "control_effective")]),
        "magnets",
        "2021-12",
        history_from="2021-01",
    )
    priors = {k: Dist.of("Gamma", "p", alpha=0.5, beta=12.0) for k in RATES}
    priors["relief_rate"] = Dist.fixed(0.0)
    post = rate_posteriors(priors, h)
    assert post["control"].kwargs == {"alpha": 1.5, "beta": 12.0 + 3}
    assert post["deal"].kwargs == {"alpha": 0.5, "beta": 12.0 + 8}
    assert post["relief"] is priors["relief_rate"]


# --- the recovery of a control episode the fitted window ends in (issue 14 item 2) ---


def _inside_episode(last: str = "2025-05", labels=("2025-04 control_effective", "2025-05 deal")):
    """A fit whose last regimes were opened by a control (and a deal), approval low."""
    months = pd.period_range("2023-01", last, freq="M")
    post = make_posterior(months=months, approval_last=(0.3, 0.2), regime_mean_last=-1.0)
    return post.assign_coords(regime=list(labels))


def test_a_window_ending_inside_a_control_episode_recovers_toward_the_long_run():
    from riskmodel.config.scenario import load_learned_shape

    post = _inside_episode()
    paths = _paths(post, _policy_scenario(), n_paths=3000, horizon=6)
    held = _paths(post, "baseline", n_paths=3000, horizon=6)
    world = np.median(paths["approval"].values[:, 0, :], axis=0)
    assert (np.diff(world) > 0).all()  # the median rises month by month
    assert world[0] > np.median(held["approval"].values[:, 0, 0])
    long_run = load_learned_shape()["long_run"].sample(np.random.default_rng(0), 20000)
    # it heads for the learned long-run level (the fitted level 0.27 is below it)
    assert world[-1] > 0.5 * (np.median(held["approval"].values[:, 0, -1]) + np.median(long_run))
    recovery = json.loads(paths.attrs["episode_recovery"])
    assert recovery["control_month"] == "2025-04"
    assert recovery["months_since_control_at_last_fitted_month"] == 1


def test_the_recovery_left_depends_on_the_months_since_the_control():
    young = _paths(_inside_episode("2025-05"), _policy_scenario(), n_paths=2000)
    old = _paths(_inside_episode("2025-12"), _policy_scenario(), n_paths=2000)
    held = _paths(_inside_episode("2025-12"), "baseline", n_paths=2000)
    end = np.median(held["approval"].values[:, 0, -1])

    def rise(p):
        return np.median(p["approval"].values[:, 0, -1]) - end

    assert rise(young) > 0.2
    assert abs(rise(old)) < rise(young) / 4  # eight months on, the shape's recovery is over


def test_no_recent_control_gives_identical_paths():
    scen = load_scenario("unconditional")
    # fitted regimes not opened by a control (no month in the labels: nothing to count from)
    plain = make_posterior()
    assert "episode_recovery" not in _paths(plain, scen, seed=4).attrs
    # a control longer ago than any learned episode was observed: the regime has settled
    old = _inside_episode("2028-01")
    relabelled = old.assign_coords(regime=["r0", "r1"])
    a, b = _paths(old, scen, seed=4), _paths(relabelled, scen, seed=4)
    assert "episode_recovery" not in a.attrs
    for var in ("exports", "approval", "counterfactual"):
        np.testing.assert_array_equal(a[var].values, b[var].values)


def test_the_recovery_is_reproducible_by_seed_and_leaves_named_scenarios_alone():
    post = _inside_episode()
    a = _paths(post, "unconditional", seed=7)
    b = _paths(post, "unconditional", seed=7)
    c = _paths(post, "unconditional", seed=8)
    np.testing.assert_array_equal(a["exports"].values, b["exports"].values)
    assert a.attrs["episode_recovery"] == b.attrs["episode_recovery"]
    assert not np.array_equal(a["approval"].values, c["approval"].values)
    # the held regime (baseline) means what it meant: no recovery, same as unlabelled
    base = _paths(post, "baseline", seed=7)
    plain = _paths(post.assign_coords(regime=["r0", "r1"]), "baseline", seed=7)
    np.testing.assert_array_equal(base["approval"].values, plain["approval"].values)
    assert "episode_recovery" not in base.attrs
