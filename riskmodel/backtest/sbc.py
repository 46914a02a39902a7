"""Simulation-based calibration of the Bayesian export model (Talts et al. 2018).

Each simulation draws every parameter from the priors and customs observations from
the model's own likelihood (:func:`riskmodel.models.simulate.simulate_from_prior` on a
fixed :func:`~riskmodel.models.simulate.synthetic_inputs` layout), refits the model
with :func:`riskmodel.models.fit.fit_model`, and records the rank of the true value
among ``L`` thinned posterior draws for the key parameters: ``demand_drift``,
``regime_mean_mu``, ``approval_persistence``, ``obs_sigma``, ``regime_step_mean``,
``destination_share_persistence``
(each later simulated regime is a deal), one approval cell (the
first non-World destination in the last month, under licensing) and one
``log_demand`` cell (World in the last month). If the fitted posterior is the exact
posterior, each rank is uniform on ``0 .. L``; a U shape means posteriors too narrow,
a hump too wide, a slope a bias.

Uniformity per parameter (:func:`sbc_summary`): a chi-square test over equal-width
bins of the rank and the Kolmogorov-Smirnov statistic of ``(rank + 1/2) / (L + 1)``
against the uniform distribution.

Known deviation from textbook SBC: :func:`~riskmodel.models.fit.fit_model` centres each
destination's demand level on the median of its observed data (``loc`` in the model),
whereas the simulation centres it on the typical tonnage given to
``simulate_from_prior``. The refit's prior on the demand *level* is therefore shifted
by a data-dependent amount (prior sd of the destination level 0.5); this is how the
model is used on real data, so it is kept, and the ``log_demand`` cell's ranks carry it.

Seeds: simulation ``i`` uses the ``i``-th child of ``numpy.random.SeedSequence(seed)``
for both the prior draw and the sampler.

Command line::

    python -m riskmodel.backtest.sbc --sims 200 --out runs/sbc
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from riskmodel.exceptions import ConvergenceWarning
from riskmodel.parallel import map_tasks
from riskmodel.sampling import SamplerConfig

#: Scalar parameters whose ranks are recorded.
SCALAR_PARAMETERS: Final[tuple[str, ...]] = (
    "demand_drift",
    "regime_mean_mu",
    "approval_persistence",
    "obs_sigma",
    "regime_step_mean",
    "destination_share_persistence",
)
#: Default layout of the simulated panel (kwargs of ``synthetic_inputs``).
DEFAULT_LAYOUT: Final[dict[str, Any]] = {
    "n_destinations": 3,
    "n_months": 36,
    "control_at": 24,
    "regime_every": 4,
    "observed_share": 0.8,
    "rng": 0,
}
#: Default sampler of the refits (small: SBC needs many fits, not long chains).
DEFAULT_SAMPLER: Final[dict[str, Any]] = {"draws": 500, "tune": 500, "chains": 2}
#: Default number of thinned posterior draws the truth is ranked among (ranks 0..99).
DEFAULT_RANK_DRAWS: Final[int] = 99
#: Columns of the ranks table.
RANK_COLUMNS: Final[tuple[str, ...]] = (
    "sim",
    "seed",
    "parameter",
    "rank",
    "n_draws",
    "truth",
    "posterior_mean",
    "max_rhat",
    "divergences",
    "seconds",
    "compile_seconds",
    "sampling_seconds",
)


@dataclass(frozen=True)
class SBCTask:
    """One simulation: its index and seed, the layout, sampler and priors path."""

    sim: int
    seed: int
    layout: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_LAYOUT))
    sampler: SamplerConfig | None = None
    priors: str | None = None
    rank_draws: int = DEFAULT_RANK_DRAWS


def parameter_cells(destinations: Sequence[str], months: Sequence[str]) -> list[tuple]:
    """Return the recorded quantities as ``(label, variable, index)``.

    Parameters
    ----------
    destinations, months : sequence of str
        The layout's destinations (World first) and months ``YYYY-MM``.

    Returns
    -------
    list of tuple
        ``(label, variable name, index into the variable's non-sample dims)``.
    """
    d = 1 if len(destinations) > 1 else 0
    t = len(months) - 1
    cells: list[tuple] = [(name, name, ()) for name in SCALAR_PARAMETERS]
    cells.append((f"approval[{destinations[d]},{months[t]}]", "approval", (d, t)))
    cells.append((f"log_demand[{destinations[0]},{months[t]}]", "log_demand", (0, t)))
    return cells


def thinned(draws: np.ndarray, n: int) -> np.ndarray:
    """Keep ``n`` evenly spaced draws of the flattened (chain-major) draws, at most all.

    Parameters
    ----------
    draws : numpy.ndarray
        Posterior draws with shape ``(chain, draw)``.
    n : int
        How many to keep.
    """
    flat = np.asarray(draws, dtype=np.float64).reshape(-1)
    if n >= flat.size:
        return flat
    step = flat.size // n
    return flat[::step][:n]


def rank_of(truth: float, draws: np.ndarray, rng: np.random.Generator) -> int:
    """Return the rank of ``truth`` among ``draws`` (draws below it; ties split at random)."""
    below = int(np.sum(draws < truth))
    ties = int(np.sum(draws == truth))
    return below + (int(rng.integers(0, ties + 1)) if ties else 0)


def run_simulation(task: SBCTask) -> list[dict[str, Any]]:
    """Simulate from the prior, refit, and rank the truth for every recorded parameter.

    Parameters
    ----------
    task : SBCTask
        The simulation to run.

    Returns
    -------
    list of dict
        One row per parameter, columns :data:`RANK_COLUMNS`.
    """
    from riskmodel.models.export_model import load_model_priors
    from riskmodel.models.fit import fit_model
    from riskmodel.models.simulate import simulate_from_prior, synthetic_inputs
    from riskmodel.sampling import default_backend

    clock = time.perf_counter()
    priors = load_model_priors(task.priors)
    layout = synthetic_inputs(**task.layout)
    data, truth = simulate_from_prior(layout, priors, seed=task.seed)
    sampler = task.sampler or SamplerConfig(backend=default_backend(), **DEFAULT_SAMPLER)
    sampler = replace(sampler, seed=task.seed, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = fit_model(data, priors, sampler)
    post = fitted.idata.posterior
    rng = np.random.default_rng(task.seed)
    seconds = round(time.perf_counter() - clock, 2)
    rows = []
    for label, name, index in parameter_cells(list(data.destinations), data.month_labels):
        values = np.asarray(post[name].values)  # (chain, draw, ...)
        draws = thinned(values[(slice(None), slice(None), *index)], task.rank_draws)
        true_value = float(np.asarray(truth[name])[index])
        rows.append(
            {
                "sim": task.sim,
                "seed": task.seed,
                "parameter": label,
                "rank": rank_of(true_value, draws, rng),
                "n_draws": int(draws.size),
                "truth": true_value,
                "posterior_mean": float(draws.mean()),
                "max_rhat": float(fitted.diagnostics.max_rhat),
                "divergences": int(fitted.diagnostics.divergences),
                "seconds": seconds,
                "compile_seconds": float(fitted.timings.get("compile_seconds", np.nan)),
                "sampling_seconds": float(fitted.timings.get("seconds", np.nan)),
            }
        )
    return rows


def run_sbc(
    n_sims: int,
    layout: dict[str, Any] | None = None,
    sampler: SamplerConfig | None = None,
    seed: int = 0,
    *,
    priors: str | Path | None = None,
    rank_draws: int = DEFAULT_RANK_DRAWS,
    scheduler: str | None = None,
    progress: Any = None,
) -> pd.DataFrame:
    """Run simulation-based calibration and return the ranks.

    Parameters
    ----------
    n_sims : int
        Number of simulations (each one NUTS fit).
    layout : dict, optional
        Keyword arguments of :func:`riskmodel.models.simulate.synthetic_inputs`;
        default :data:`DEFAULT_LAYOUT` (3 destinations x 36 months, licensing from
        month 24, a new regime every 4 months, 80% of cells observed).
    sampler : SamplerConfig, optional
        NUTS settings of the refits (the seed is replaced per simulation); default
        the default backend with :data:`DEFAULT_SAMPLER`.
    seed : int
        Root seed; simulation ``i`` uses child ``i`` of ``SeedSequence(seed)``.
    priors : str or Path, optional
        Priors YAML (default: the bundled priors), used to simulate and to refit.
    rank_draws : int
        Posterior draws kept (evenly thinned) to rank the truth among: ranks run
        from 0 to ``rank_draws``.
    scheduler : str, optional
        ``None`` (in process), ``"local"`` or a Dask scheduler address.
    progress : callable, optional
        Called with the rows of each simulation as it completes.

    Returns
    -------
    pandas.DataFrame
        One row per simulation and parameter, columns :data:`RANK_COLUMNS`.
    """
    if n_sims < 1:
        raise ValueError("n_sims must be at least 1")
    if rank_draws < 1:
        raise ValueError("rank_draws must be at least 1")
    merged = dict(DEFAULT_LAYOUT)
    merged.update(layout or {})
    children = np.random.SeedSequence(int(seed)).spawn(n_sims)
    tasks = [
        SBCTask(
            sim=i,
            seed=int(child.generate_state(1, dtype=np.uint32)[0]),
            layout=merged,
            sampler=sampler,
            priors=str(priors) if priors is not None else None,
            rank_draws=int(rank_draws),
        )
        for i, child in enumerate(children)
    ]
    results = map_tasks(run_simulation, tasks, scheduler=scheduler, progress=progress)
    return pd.DataFrame([r for rows in results for r in rows], columns=list(RANK_COLUMNS))


def _default_bins(n: int, n_values: int) -> int:
    return int(max(2, min(20, n // 5, n_values)))


def _binned(ranks: np.ndarray, n_values: int, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Observed and expected counts of ``ranks`` (0 .. n_values - 1) in ``bins`` bins.

    Bin ``b`` holds the ranks ``r`` with ``r * bins // n_values == b``; its expected
    count under uniform ranks is exact for the discrete ranks (bins may differ in size).
    """
    observed = np.bincount((ranks * bins) // n_values, minlength=bins)
    per_value = (np.arange(n_values) * bins) // n_values
    expected = np.bincount(per_value, minlength=bins) / n_values * len(ranks)
    return observed, expected


def sbc_summary(ranks: pd.DataFrame, n_bins: int | None = None) -> pd.DataFrame:
    """Test the uniformity of the ranks per parameter.

    Parameters
    ----------
    ranks : pandas.DataFrame
        From :func:`run_sbc` (columns ``parameter``, ``rank``, ``n_draws``).
    n_bins : int, optional
        Chi-square bins over the ranks; default ``n // 5`` (at least 2, at most 20),
        so each bin expects about 5 or more ranks.

    Returns
    -------
    pandas.DataFrame
        Per parameter: ``n``, ``bins``, ``chi2``, ``chi2_p`` (chi-square test of equal
        bin probabilities, exact for the discrete ranks), ``ks`` and ``ks_p``
        (Kolmogorov-Smirnov of ``(rank + 1/2) / (L + 1)`` against U(0, 1)),
        ``mean_u`` (0.5 when unbiased) and ``max_rhat`` over the fits.
    """
    from scipy import stats

    rows = []
    for name, g in ranks.groupby("parameter", sort=False):
        r = g["rank"].to_numpy(dtype=np.int64)
        n_values = int(g["n_draws"].max()) + 1
        bins = n_bins or _default_bins(len(r), n_values)
        bins = min(bins, n_values)
        observed, expected = _binned(r, n_values, bins)
        chi2, chi2_p = stats.chisquare(observed, expected)
        u = (r + 0.5) / n_values
        ks = stats.kstest(u, "uniform")
        rows.append(
            {
                "parameter": name,
                "n": len(r),
                "bins": bins,
                "chi2": float(chi2),
                "chi2_p": float(chi2_p),
                "ks": float(ks.statistic),
                "ks_p": float(ks.pvalue),
                "mean_u": float(u.mean()),
                "max_rhat": float(g["max_rhat"].max()) if "max_rhat" in g else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def rank_histogram_figure(
    ranks: pd.DataFrame,
    path: str | Path,
    n_bins: int | None = None,
    *,
    title: str | None = None,
) -> Path:
    """Draw one rank histogram per parameter, with the band uniform ranks would fill.

    Parameters
    ----------
    ranks : pandas.DataFrame
        From :func:`run_sbc` (columns ``parameter``, ``rank``, ``n_draws``).
    path : str or Path
        The PNG to write.
    n_bins : int, optional
        Bins over the ranks; default as in :func:`sbc_summary`, so each panel shows
        the counts its chi-square test used.
    title : str, optional
        Figure title.

    Returns
    -------
    Path
        ``path``.

    Notes
    -----
    The grey band holds 99% of each bin's count under uniform ranks (binomial, per bin,
    Talts et al. 2018); the line is the expected count. A U shape (both ends high)
    means posteriors too narrow, a hump too wide, a slope a biased posterior. Each
    panel's title carries the chi-square p-value and the KS statistic of
    :func:`sbc_summary`.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from scipy import stats

    from riskmodel.atomic import atomic_write

    summary = sbc_summary(ranks, n_bins).set_index("parameter")
    names = list(summary.index)
    n_cols = min(3, len(names))
    n_rows = -(-len(names) // n_cols)
    fig = Figure(figsize=(4.2 * n_cols, 3.0 * n_rows + (0.5 if title else 0.0)))
    FigureCanvasAgg(fig)
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    for ax, name in zip(axes, names, strict=False):
        g = ranks[ranks["parameter"] == name]
        r = g["rank"].to_numpy(dtype=np.int64)
        n_values = int(g["n_draws"].max()) + 1
        bins = int(summary.loc[name, "bins"])
        observed, expected = _binned(r, n_values, bins)
        edges = np.arange(bins + 1)
        prob = expected / len(r)
        low = stats.binom.ppf(0.005, len(r), prob)
        high = stats.binom.ppf(0.995, len(r), prob)
        ax.fill_between(edges, np.append(low, low[-1]), np.append(high, high[-1]),
                        step="post", color="0.85", label="99% under uniform")  # fmt: skip
        ax.stairs(expected, edges, color="0.4", linewidth=1)
        ax.stairs(observed, edges, color="#3b6ea8", linewidth=1.6, label="ranks")
        ax.set_xlim(0, bins)
        ax.set_ylim(0, max(observed.max(), high.max()) * 1.1)
        ax.set_xticks([0, bins / 2, bins], ["0", f"{n_values // 2}", f"{n_values - 1}"])
        ax.set_title(
            f"{name}\nchi2 p={summary.loc[name, 'chi2_p']:.2g}, KS={summary.loc[name, 'ks']:.3f}",
            fontsize=9,
        )
        ax.tick_params(labelsize=8)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7, loc="lower left")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, lambda p: fig.savefig(p, format="png", dpi=100, facecolor="white"))
    return target


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m riskmodel.backtest.sbc",
        description="Simulation-based calibration of the export model (Talts et al. 2018): "
        "simulate from the priors, refit, rank the truth among posterior draws. Writes "
        "DIR/ranks.csv, DIR/sbc_summary.csv, DIR/sbc_summary.md and the rank histograms "
        "DIR/sbc_ranks.png.",
    )
    lay = DEFAULT_LAYOUT
    p.add_argument("--sims", type=int, default=100, help="number of simulations (100)")
    p.add_argument("--destinations", type=int, default=lay["n_destinations"])
    p.add_argument("--months", type=int, default=lay["n_months"])
    p.add_argument("--control-at", type=int, default=lay["control_at"])
    p.add_argument("--regime-every", type=int, default=lay["regime_every"])
    p.add_argument("--observed-share", type=float, default=lay["observed_share"])
    p.add_argument("--draws", type=int, default=DEFAULT_SAMPLER["draws"])
    p.add_argument("--tune", type=int, default=DEFAULT_SAMPLER["tune"])
    p.add_argument("--chains", type=int, default=DEFAULT_SAMPLER["chains"])
    p.add_argument("--backend", help="NUTS backend (default: nutpie when installed)")
    p.add_argument("--rank-draws", type=int, default=DEFAULT_RANK_DRAWS)
    p.add_argument("--bins", type=int, help="chi-square bins (default n/5, 2..20)")
    p.add_argument("--priors", help="priors YAML (default: the bundled priors)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scheduler", help="'local' or a Dask scheduler address")
    p.add_argument("--out", required=True, metavar="DIR")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run SBC from the command line; see ``python -m riskmodel.backtest.sbc --help``."""
    from riskmodel.atomic import atomic_write, write_text
    from riskmodel.backtest.summary import markdown_table
    from riskmodel.sampling import default_backend

    args = _parser().parse_args(None if argv is None else list(argv))
    layout = {
        "n_destinations": args.destinations,
        "n_months": args.months,
        "control_at": args.control_at,
        "regime_every": args.regime_every,
        "observed_share": args.observed_share,
        "rng": 0,
    }
    sampler = SamplerConfig(
        backend=args.backend or default_backend(),
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
    )
    clock = time.perf_counter()

    def progress(rows: list[dict[str, Any]]) -> None:
        if rows:
            r = rows[0]
            print(
                f"  sim {r['sim']}: {r['seconds']:.0f} s ({r['compile_seconds']:.0f} s "
                f"compiling, {r['sampling_seconds']:.0f} s sampling), max R-hat "
                f"{r['max_rhat']:.3f}, {r['divergences']} divergences",
                file=sys.stderr,
            )

    ranks = run_sbc(
        args.sims,
        layout,
        sampler,
        args.seed,
        priors=args.priors,
        rank_draws=args.rank_draws,
        scheduler=args.scheduler,
        progress=progress,
    )
    summary = sbc_summary(ranks, args.bins)
    seconds = time.perf_counter() - clock
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    header = (
        f"SBC: {args.sims} simulations, layout {layout}, {sampler.backend} "
        f"{sampler.chains} chains x ({sampler.tune} tune + {sampler.draws} draws), "
        f"ranks among {args.rank_draws} thinned draws, seed {args.seed}; {seconds:.0f} s"
    )
    md = f"# Simulation-based calibration\n\n{header}\n\n{markdown_table(summary)}\n"
    atomic_write(out / "ranks.csv", lambda p: ranks.to_csv(p, index=False, float_format="%.6g"))
    atomic_write(
        out / "sbc_summary.csv", lambda p: summary.to_csv(p, index=False, float_format="%.4g")
    )
    write_text(out / "sbc_summary.md", md)
    rank_histogram_figure(ranks, out / "sbc_ranks.png", args.bins, title=header)
    print(header)
    print(markdown_table(summary))
    return 0


__all__ = [
    "DEFAULT_LAYOUT",
    "DEFAULT_RANK_DRAWS",
    "DEFAULT_SAMPLER",
    "RANK_COLUMNS",
    "SCALAR_PARAMETERS",
    "SBCTask",
    "main",
    "parameter_cells",
    "rank_histogram_figure",
    "rank_of",
    "run_sbc",
    "run_simulation",
    "sbc_summary",
    "thinned",
]


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
