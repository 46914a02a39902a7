"""Benchmark the sampling core: NUTS backends on the joint model, side by side.

Usage::

    python benchmarks/bench_sampling.py               # bundled data + simulated sizes, all backends
    python benchmarks/bench_sampling.py --smoke       # tiny sizes, nothing asserted (CI)
    python benchmarks/bench_sampling.py --candidates  # nutpie settings vs PyMC (issue 17)

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
one. All run in the same process, interleaved, with the same draws, chains and seed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
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
    parser.add_argument("--out", help="append the Markdown table to this file")
    args = parser.parse_args(argv)

    from riskmodel.exceptions import ConvergenceWarning
    from riskmodel.models.diagnostics import convergence_report
    from riskmodel.models.export_model import build_model, free_variable_names
    from riskmodel.sampling import BACKENDS, SamplerConfig, available_backends, sample

    if args.candidates:
        backends = ["pymc", *CANDIDATES]  # row labels
    else:
        backends = args.backends.split(",") if args.backends else available_backends()
    draws, tune = (50, 50) if args.smoke else (args.draws, args.tune)
    chains = 2 if args.smoke else args.chains
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
                factor, options = CANDIDATES.get(backend, (1.0, {}))
                cfg = SamplerConfig(
                    backend=backend if backend in BACKENDS else "nutpie",
                    draws=draws,
                    tune=max(1, round(tune * factor)),
                    chains=chains,
                    seed=args.seed,
                )
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if options:
                        runs[backend].append(_sample_candidate(models[backend], cfg, options))
                    else:
                        runs[backend].append(sample(models[backend], cfg))
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
