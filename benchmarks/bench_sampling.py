"""Benchmark the sampling core: NUTS backends on the joint model, side by side.

Usage::

    python benchmarks/bench_sampling.py               # bundled data + simulated sizes, all backends
    python benchmarks/bench_sampling.py --smoke       # tiny sizes, nothing asserted (CI)
    python benchmarks/bench_sampling.py --candidates  # nutpie settings vs PyMC (issue 17)
    python benchmarks/bench_sampling.py --candidates --seeds 4 --draws 2000 \
        --models "bundled magnets" --settings "nutpie default,nutpie variance mass matrix"

For each model (the bundled magnet model and simulated panels of destinations x months)
and each installed backend: compile time, sampling time, min bulk ESS, ESS per second of
sampling and of wall time (compile included), gradient evaluations per second
(warm-up included: every leapfrog step is one gradient), min bulk ESS per 1000 gradients
(how well the adaptation uses them), divergences, and the ratio of min-bulk-ESS per
sampling second to PyMC's NUTS measured in the same run. Inputs are built before any
timing; every backend gets the same draws, tune, chains and seed. Prints a Markdown
table (and writes it with --out).

With ``--candidates`` the rows are PyMC's NUTS and nutpie run with several adaptation
settings (:data:`CANDIDATES`): the project's default (through ``riskmodel.sampling``),
a low-rank modified mass matrix, half the warm-up (the same draws), and the
variance-based (Stan/PyMC-like) diagonal mass matrix instead of nutpie's gradient-based
one, and target acceptance rates of 0.85 (the default before 2026-12-07) and 0.9 (the
default is 0.95). All run in the same process, interleaved, with the same draws, chains and seed.

With ``--seeds N`` as well, each setting (``--settings``, default: all candidates) is
sampled once for each of the run seeds ``--seed`` ... ``--seed + N - 1``, the sampler
getting the seed ``riskmodel fit --seed k`` gives it (:func:`riskmodel.seeds.stage_seeds`),
interleaved per seed (A, B, A, B, ...) so that the machine's load hits every setting
alike. It prints one row per run, the median per setting and the ratio of the medians
to the first setting's, and the machine's load average before and after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shlex
import statistics
import sys
import warnings

import numpy as np
from _shared import emit_table

#: nutpie settings compared by ``--candidates``: label -> (tune factor, ``nutpie.sample``
#: keyword arguments). The default row goes through ``riskmodel.sampling.sample``.
CANDIDATES: dict[str, tuple[float, dict[str, object]]] = {
    "nutpie default": (1.0, {}),
    "nutpie low-rank mass matrix": (1.0, {"low_rank_modified_mass_matrix": True}),
    "nutpie half tune": (0.5, {}),
    "nutpie variance mass matrix": (1.0, {"use_grad_based_mass_matrix": False}),
    "nutpie target_accept 0.85": (1.0, {"target_accept": 0.85}),
    "nutpie target_accept 0.9": (1.0, {"target_accept": 0.9}),
}


def _models(smoke: bool):
    from riskmodel.models.export_model import load_model_priors
    from riskmodel.models.simulate import simulate_from_prior, synthetic_inputs
    from riskmodel.pipeline import load_inputs

    priors = load_model_priors()
    if smoke:
        layout = synthetic_inputs(2, 24, control_at=18, regime_every=3, rng=0)
        yield "simulated 2x24", simulate_from_prior(layout, priors, seed=0)[0], priors
        return
    yield "bundled magnets", load_inputs(), priors
    for n_dest, n_months in ((3, 48), (12, 120)):
        layout = synthetic_inputs(
            n_dest, n_months, control_at=n_months - 9, regime_every=2, observed_share=0.6, rng=1
        )
        data, _ = simulate_from_prior(layout, priors, seed=1)
        yield f"simulated {n_dest}x{n_months}", data, priors


def _sample_candidate(model, cfg, options: dict[str, object]):
    """Sample with nutpie as ``riskmodel.sampling`` does, plus extra ``nutpie.sample`` options.

    Parameters
    ----------
    model : pymc.Model
        The model to sample.
    cfg : riskmodel.sampling.SamplerConfig
        Draws, tune, chains, cores, seed and target_accept.
    options : dict
        Extra keyword arguments for ``nutpie.sample``.

    Returns
    -------
    riskmodel.sampling.SampleResult
        The posterior with compile and sampling seconds and the gradient count.
    """
    from riskmodel.sampling.backends import _sample_nutpie
    from riskmodel.sampling.pytensor_setup import configure_pytensor

    configure_pytensor()
    return _sample_nutpie(model, cfg, {}, options)


def _run(model, backend: str, *, draws: int, tune: int, chains: int, seed: int):
    """Sample ``model`` with a backend (``pymc``, ``nutpie`` ...) or a :data:`CANDIDATES` label."""
    from riskmodel.sampling import BACKENDS, SamplerConfig, sample

    factor, options = CANDIDATES.get(backend, (1.0, {}))
    options = dict(options)
    cfg = SamplerConfig(
        backend=backend if backend in BACKENDS else "nutpie",
        draws=draws,
        tune=max(1, round(tune * factor)),
        chains=chains,
        seed=seed,
        # a SamplerConfig field, not a nutpie.sample option
        target_accept=float(options.pop("target_accept", SamplerConfig().target_accept)),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _sample_candidate(model, cfg, options) if options else sample(model, cfg)


def _measure(result, model) -> dict[str, object]:
    """Return one run's figures: ESS, its rates, R-hat, divergences, the fit's checks."""
    from riskmodel.exceptions import ConvergenceWarning
    from riskmodel.models.diagnostics import convergence_report
    from riskmodel.models.export_model import free_variable_names

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        report = convergence_report(result.idata, free_variable_names(model))
    grads, seconds = result.gradient_evaluations, result.sampling_seconds
    return {
        "sampling_s": seconds,
        "min_ess_bulk": report.min_ess_bulk,
        "ess_per_s": report.min_ess_bulk / seconds,
        "grad_per_s": (grads / seconds) if grads else float("nan"),
        "ess_per_kgrad": 1000 * report.min_ess_bulk / grads if grads else float("nan"),
        "max_rhat": report.max_rhat,
        "rhat_var": report.worst_rhat_variable,
        "divergences": report.divergences,
        "passed": report.passed,
    }


def _seeds_table(
    args: argparse.Namespace,
    settings: list[str],
    *,
    draws: int,
    tune: int,
    chains: int,
    command: str,
) -> str:
    """Sample each setting once per run seed, interleaved; per-run rows and medians."""
    from riskmodel.models.export_model import build_model
    from riskmodel.sampling import SamplerConfig
    from riskmodel.seeds import stage_seeds

    load_before = os.getloadavg()
    started = dt.datetime.now(dt.UTC)
    print(f"{started:%H:%M} UTC, load average {load_before}", file=sys.stderr, flush=True)
    run_seeds = range(args.seed, args.seed + args.seeds)
    rows: list[dict[str, object]] = []
    only = set(args.models.split(",")) if args.models else None
    for label, inputs, priors in _models(args.smoke):
        if only is not None and label not in only:
            continue
        models = {s: build_model(inputs, priors) for s in settings}  # outside the timing
        for run_seed in run_seeds:
            for setting in settings:  # A, B, A, B, ...: the same load for every setting
                result = _run(
                    models[setting],
                    setting,
                    draws=draws,
                    tune=tune,
                    chains=chains,
                    seed=stage_seeds(run_seed).sampler,
                )
                rows.append(
                    {"model": label, "setting": setting, "seed": run_seed}
                    | _measure(result, models[setting])
                )
                print(f"{rows[-1]}", file=sys.stderr, flush=True)
    load_after = os.getloadavg()
    head = (
        "Sampling core across seeds, `python benchmarks/bench_sampling.py "
        f"{command}`, "
        f"{started:%Y-%m-%d %H:%M} UTC, {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; {chains} chains x ({tune} tune + "
        f"{draws} draws), target_accept {SamplerConfig().target_accept}; run seeds "
        f"{run_seeds.start}..{run_seeds.stop - 1} (the sampler's seed as `riskmodel fit "
        "--seed k` derives it), settings interleaved per seed. Load average (1, 5, 15 min) "
        f"before {' '.join(f'{x:.2f}' for x in load_before)}, after "
        f"{' '.join(f'{x:.2f}' for x in load_after)}. Gradients count warm-up and draws.\n\n"
    )
    return head + _seeds_markdown(rows, settings)


def _seeds_markdown(rows: list[dict[str, object]], settings: list[str]) -> str:
    """Format ``--seeds`` runs (the dictionaries it prints) as per-run rows and medians.

    The ratio and the count of seeds beating the first setting compare runs of the
    same model and seed; a seed without a run of the first setting is not counted.
    """
    per_run = (
        "| model | setting | run seed | sampling s | min bulk ESS | ESS/s sampling | "
        "gradients/s | ESS per 1k gradients | max R-hat (variable) | divergences | "
        "fit's checks |\n|" + "---|" * 11 + "\n"
    ) + "".join(
        f"| {r['model']} | {r['setting']} | {r['seed']} | {r['sampling_s']:.1f} | "
        f"{r['min_ess_bulk']:.0f} | {r['ess_per_s']:.2f} | {r['grad_per_s']:,.0f} | "
        f"{r['ess_per_kgrad']:.3f} | {r['max_rhat']:.3f} ({r['rhat_var']}) | "
        f"{r['divergences']} | {'pass' if r['passed'] else 'fail'} |\n"
        for r in rows
    )
    keys = ("sampling_s", "min_ess_bulk", "ess_per_s", "grad_per_s", "ess_per_kgrad", "max_rhat")
    medians = (
        "\n| model | setting | runs | median sampling s | median min bulk ESS | "
        "median ESS/s sampling | median gradients/s | median ESS per 1k gradients | "
        "median max R-hat | runs with R-hat <= 1.01 | total divergences | runs passing "
        "the fit's checks | ESS/s vs first setting (medians) | seeds with more ESS/s "
        "than the first setting |\n|" + "---|" * 14 + "\n"
    )
    for label in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == label]
        med: dict[str, dict[str, float]] = {}
        for setting in settings:
            runs = [r for r in mine if r["setting"] == setting]
            if not runs:
                continue
            med[setting] = {k: statistics.median(float(r[k]) for r in runs) for k in keys}
            ratio = med[setting]["ess_per_s"] / med[settings[0]]["ess_per_s"]
            first = {r["seed"]: r["ess_per_s"] for r in mine if r["setting"] == settings[0]}
            paired = [r for r in runs if r["seed"] in first]
            wins = sum(float(r["ess_per_s"]) > float(first[r["seed"]]) for r in paired)
            m = med[setting]
            medians += (
                f"| {label} | {setting} | {len(runs)} | {m['sampling_s']:.1f} | "
                f"{m['min_ess_bulk']:.0f} | {m['ess_per_s']:.2f} | {m['grad_per_s']:,.0f} | "
                f"{m['ess_per_kgrad']:.3f} | {m['max_rhat']:.3f} | "
                f"{sum(float(r['max_rhat']) <= 1.01 for r in runs)}/{len(runs)} | "
                f"{sum(int(r['divergences']) for r in runs)} | "
                f"{sum(bool(r['passed']) for r in runs)}/{len(runs)} | {ratio:.2f}x | "
                f"{wins}/{len(paired)} |\n"
            )
    return per_run + medians


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (CI)")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backends", default=None, help="comma list (default: all installed)")
    parser.add_argument(
        "--candidates",
        action="store_true",
        help="PyMC's NUTS and nutpie's adaptation candidates instead of the backends",
    )
    parser.add_argument(
        "--repeats", type=int, default=1, help="time each backend this often (median shown)"
    )
    parser.add_argument(
        "--models", default=None, help="comma list of model labels to run (default: all)"
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=0,
        help="with --candidates: sample each setting once per run seed --seed ... --seed+N-1",
    )
    parser.add_argument(
        "--settings",
        default=None,
        help="with --seeds: comma list of candidate labels (default: all), the first the reference",
    )
    parser.add_argument("--out", help="append the Markdown table to this file")
    args = parser.parse_args(argv)

    from riskmodel.exceptions import ConvergenceWarning
    from riskmodel.models.diagnostics import convergence_report
    from riskmodel.models.export_model import build_model, free_variable_names
    from riskmodel.sampling import SamplerConfig, available_backends

    if args.candidates:
        backends = ["pymc", *CANDIDATES]  # row labels
    else:
        backends = args.backends.split(",") if args.backends else available_backends()
    draws, tune = (50, 50) if args.smoke else (args.draws, args.tune)
    chains = 2 if args.smoke else args.chains
    if args.seeds:
        settings = args.settings.split(",") if args.settings else backends
        unknown = [s for s in settings if s not in backends]
        if not args.candidates or args.seeds < 1 or unknown:
            parser.error(f"--seeds needs --candidates, N >= 1 and known settings ({unknown})")
        command = shlex.join(sys.argv[1:] if argv is None else argv)
        table = _seeds_table(args, settings, draws=draws, tune=tune, chains=chains, command=command)
        emit_table(table, args.out)
        return 0
    rows = []
    only = set(args.models.split(",")) if args.models else None
    for label, inputs, priors in _models(args.smoke):
        if only is not None and label not in only:
            continue
        models = {b: build_model(inputs, priors) for b in backends}  # outside the timing
        n_free = sum(v.size for v in models[backends[0]].initial_point().values())
        runs: dict[str, list] = {b: [] for b in backends}
        for _ in range(args.repeats):  # interleaved, so every backend sees the same load
            for backend in backends:
                runs[backend].append(
                    _run(
                        models[backend],
                        backend,
                        draws=draws,
                        tune=tune,
                        chains=chains,
                        seed=args.seed,
                    )
                )
                last = runs[backend][-1]
                print(
                    f"{label} / {backend}: run {len(runs[backend])}, "
                    f"sampling {last.sampling_seconds:.1f} s",
                    file=sys.stderr,
                    flush=True,
                )
        for backend in backends:
            first = runs[backend][0]  # the one that paid the compile
            compile_s = first.compile_seconds
            if args.candidates and backend != "pymc":
                compile_s = runs["nutpie default"][0].compile_seconds  # one compile, shared
            sampling_s = statistics.median(r.sampling_seconds for r in runs[backend])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                report = convergence_report(first.idata, free_variable_names(models[backend]))
            grads = first.gradient_evaluations
            rows.append(
                {
                    "model": label,
                    "free": n_free,
                    "backend": backend,
                    "compile_s": compile_s,
                    "sampling_s": sampling_s,
                    "min_ess_bulk": report.min_ess_bulk,
                    "ess_per_s": report.min_ess_bulk / sampling_s,
                    "ess_per_wall_s": report.min_ess_bulk / (compile_s + sampling_s),
                    "grad_per_s": (grads / sampling_s) if grads else float("nan"),
                    "ess_per_kgrad": 1000 * report.min_ess_bulk / grads if grads else float("nan"),
                    "max_rhat": report.max_rhat,
                    "divergences": report.divergences,
                }
            )
            print(f"{label} / {backend}: {rows[-1]}", file=sys.stderr, flush=True)
    for r in rows:
        ref = [x for x in rows if x["model"] == r["model"] and x["backend"] == "pymc"]
        r["ratio_vs_pymc"] = r["ess_per_s"] / ref[0]["ess_per_s"] if ref else float("nan")

    head = (
        f"Sampling core, `python benchmarks/bench_sampling.py{' --smoke' if args.smoke else ''}"
        f"{' --candidates' if args.candidates else ''}`, "
        f"{dt.date.today()}, {platform.machine()} {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {chains} chains x ({tune} tune + {draws} draws), "
        f"seed {args.seed}; sampling time: median of {args.repeats} run(s) per backend, "
        "interleaved."
        + (
            " Candidates: nutpie default = the project's settings (target_accept "
            f"{SamplerConfig().target_accept}, diagonal gradient-based mass matrix); "
            "half tune = the same with half the warm-up; the nutpie rows share one "
            "compile per model (paid by the default row), shown on each."
            if args.candidates
            else ""
        )
        + "\n\n"
        "| model | free params | backend | compile s | sampling s | min bulk ESS | "
        "ESS/s sampling | ESS/s wall | gradients/s | ESS per 1k gradients | max R-hat | "
        "divergences | ESS/s vs PyMC |\n|" + "---|" * 13 + "\n"
    )
    body = "".join(
        f"| {r['model']} | {r['free']} | {r['backend']} | {r['compile_s']:.1f} | "
        f"{r['sampling_s']:.1f} | {r['min_ess_bulk']:.0f} | {r['ess_per_s']:.2f} | "
        f"{r['ess_per_wall_s']:.2f} | {r['grad_per_s']:,.0f} | {r['ess_per_kgrad']:.2f} | "
        f"{r['max_rhat']:.3f} | "
        f"{r['divergences']} | {r['ratio_vs_pymc']:.1f}x |\n"
        for r in rows
    )
    emit_table(head + body, args.out)
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
