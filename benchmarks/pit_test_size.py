"""How often does the backtest's PIT uniformity test reject a *calibrated* forecast?

The backtest pools the PIT values of every origin, horizon and destination into one
histogram and tests it with a chi-square (``riskmodel.backtest.pit_histogram``,
``p_uniform``). That test takes the values as independent. In a rolling-origin
backtest they are not: consecutive origins forecast overlapping months from nearly
the same information, and destinations of one origin share its fit and its month's
outcome. This script measures, by simulation, what that does to the test.

Each replicate draws a correlated AR(1) series per destination (log exports around
their level), makes from every origin the *exact* predictive distribution of the next
``--horizon`` months (Normal, conditional on the origin's value: a perfectly
calibrated forecast), and computes the PIT of each outcome. The layout (origins,
horizons, destinations) mirrors the magnet backtest's; the series are stylised, not
fitted. Forecasts that are too narrow, too wide or biased show the tests' power.

Tests compared, all on the same 10 bins:

- ``plain``: ``pit_histogram``'s chi-square (``p_uniform``), values taken as independent;
- ``rao_scott``: the chi-square divided by its mean design effect (Rao and Scott 1981),
  the bin shares' covariance estimated from per-origin sums with a Newey-West
  (Bartlett) window of ``horizon - 1`` origins;
- ``satterthwaite``: the same covariance, second-order: the chi-square referred to a
  scaled chi-square matching the first two moments of its weighted-chi-square law;
- ``h1_one_dest``: horizon 1 of one destination only (independent under calibration,
  Diebold, Gunther and Tay 1998), plain chi-square.

Usage::

    python benchmarks/pit_test_size.py                 # ~2 min: 200 replicates per case
    python benchmarks/pit_test_size.py --reps 1000 --origins 60

Prints two Markdown tables: the share of replicates rejected at 1% and 5% per case and
test, and per case the median design effect (how many times the plain chi-square's
variance the dependence makes it) and the Satterthwaite effective degrees of freedom.
Nothing is asserted; the result is in docs/backtest.md.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from scipy import stats

from riskmodel.backtest import pit_histogram

BINS = 10

CASES = {
    "calibrated": {"scale": 1.0, "bias": 0.0},
    "too narrow (sd x 0.7)": {"scale": 0.7, "bias": 0.0},
    "too wide (sd x 1.4)": {"scale": 1.4, "bias": 0.0},
    "biased (+0.5 sd)": {"scale": 1.0, "bias": 0.5},
}


def simulate(
    rng: np.random.Generator,
    *,
    origins: int,
    horizon: int,
    destinations: int,
    phi: float,
    rho: float,
    scale: float,
    bias: float,
) -> pd.DataFrame:
    """One rolling-origin backtest of AR(1) forecasts; rows like ``scores.csv``."""
    months = origins + horizon
    corr = np.full((destinations, destinations), rho) + (1 - rho) * np.eye(destinations)
    shocks = rng.standard_normal((months, destinations)) @ np.linalg.cholesky(corr).T
    y = np.zeros((months, destinations))
    for t in range(1, months):
        y[t] = phi * y[t - 1] + shocks[t]
    rows = []
    for o in range(origins):
        for h in range(1, horizon + 1):
            sd = np.sqrt((1 - phi ** (2 * h)) / (1 - phi**2))
            z = (y[o + h] - phi**h * y[o] - bias * sd) / (scale * sd)
            pit = stats.norm.cdf(z)
            rows += [(o, f"d{d}", o + h, h, pit[d]) for d in range(destinations)]
    out = pd.DataFrame(rows, columns=["origin", "destination", "month", "horizon", "pit"])
    return out.assign(model="m")


def _bin_deviations(pit: np.ndarray) -> tuple[np.ndarray, float]:
    index = np.minimum((np.clip(pit, 0, 1) * BINS).astype(int), BINS - 1)
    onehot = np.eye(BINS)[index][:, : BINS - 1]
    chi2 = float(stats.chisquare(np.bincount(index, minlength=BINS))[0])
    return onehot - onehot.mean(axis=0), chi2


def dependence_aware(scores: pd.DataFrame) -> tuple[float, float, float, float]:
    """Rao-Scott and Satterthwaite p-values, the design effect and the effective dof."""
    u, chi2 = _bin_deviations(scores["pit"].to_numpy())
    n = len(u)
    origin = scores["origin"].to_numpy()
    sums = np.zeros((origin.max() - origin.min() + 1, BINS - 1))
    np.add.at(sums, origin - origin.min(), u)
    lags = int(scores["horizon"].max()) - 1
    cov = sums.T @ sums
    for k in range(1, min(lags, len(sums) - 1) + 1):
        cross = sums[k:].T @ sums[:-k]
        cov += (1 - k / (lags + 1)) * (cross + cross.T)
    cov /= n**2
    share = np.full(BINS - 1, 1 / BINS)
    null = (np.diag(share) - np.outer(share, share)) / n
    eig = np.maximum(np.linalg.eigvals(np.linalg.solve(null, cov)).real, 0.0)
    p_rs = float(stats.chi2.sf(chi2 / eig.mean(), BINS - 1))
    c, dof = (eig**2).sum() / eig.sum(), eig.sum() ** 2 / (eig**2).sum()
    return p_rs, float(stats.chi2.sf(chi2 / c, dof)), float(eig.mean()), float(dof)


def p_values(scores: pd.DataFrame) -> dict[str, float]:
    """The four tests' p-values for one simulated backtest (and the design effect)."""
    plain = float(pit_histogram(scores, destinations=()).iloc[0]["p_uniform"])
    p_rs, p_sw, delta, dof = dependence_aware(scores)
    first = scores[(scores["horizon"] == 1) & (scores["destination"] == "d0")]
    h1 = float(pit_histogram(first, destinations=()).iloc[0]["p_uniform"])
    tests = {"plain": plain, "rao_scott": p_rs, "satterthwaite": p_sw, "h1_one_dest": h1}
    return {**tests, "design_effect": delta, "effective_dof": dof}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=200, help="replicates per case (200)")
    parser.add_argument("--origins", type=int, default=33, help="monthly origins (33)")
    parser.add_argument("--horizon", type=int, default=6, help="months ahead (6)")
    parser.add_argument("--destinations", type=int, default=2, help="destinations (2)")
    parser.add_argument("--phi", type=float, default=0.8, help="AR(1) persistence (0.8)")
    parser.add_argument("--rho", type=float, default=0.7, help="shock correlation (0.7)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    layout = {k: getattr(args, k) for k in ("origins", "horizon", "destinations", "phi", "rho")}
    start = time.perf_counter()
    print(
        f"`python benchmarks/pit_test_size.py --reps {args.reps} --origins {args.origins} "
        f"--horizon {args.horizon} --destinations {args.destinations} --phi {args.phi} "
        f"--rho {args.rho} --seed {args.seed}`"
    )
    print()
    medians = {}
    print("| case | test | rejected at 1% | rejected at 5% |")
    print("|---|---|---:|---:|")
    for case, kw in CASES.items():
        ps = pd.DataFrame([p_values(simulate(rng, **layout, **kw)) for _ in range(args.reps)])
        medians[case] = ps[["design_effect", "effective_dof"]].median()
        for test in ps.columns.drop(["design_effect", "effective_dof"]):
            print(
                f"| {case} | {test} | {np.mean(ps[test] < 0.01):.3f} "
                f"| {np.mean(ps[test] < 0.05):.3f} |"
            )
    print("\n| case | median design effect | median effective dof (of 9) |")
    print("|---|---:|---:|")
    for case, m in medians.items():
        print(f"| {case} | {m['design_effect']:.2f} | {m['effective_dof']:.1f} |")
    print(f"\n{args.reps} replicates per case, {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
