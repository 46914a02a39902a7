"""Where compile time goes, cold and warm, and what one gradient costs per backend.

Usage::

    python benchmarks/bench_compile.py            # the bundled model
    python benchmarks/bench_compile.py --smoke    # a tiny simulated model (CI)

Every measurement runs in a fresh process: first with an empty PyTensor compile
directory (cold), then twice more with the same directory (warm). Per process:

- ``riskmodel compile``: what ``riskmodel fit`` runs
  (:func:`riskmodel.sampling.nutpie_cache.compile_cached`: nutpie's model with its C
  callbacks served from numba's disk cache); ``callbacks from disk``: how many of its
  two callbacks numba loaded instead of compiling;
- ``nutpie's own compile``: ``nutpie.compile_pymc_model(model, backend="numba")``,
  all of it, in the next process (its callbacks are recompiled in every process);
- ``rewrites``: building PyTensor's logp+gradient function in NUMBA mode (graph
  rewrites, no machine code yet) in another fresh process;
- ``logp+grad numba compile``: its first call (numba compiles it, or loads it from
  PyTensor's disk cache); ``dynamic globals``: how many objects numba found that keep
  that function out of the disk cache (0 means it can be cached);
- the rest of nutpie's own compile (its C-callback wrappers) is the difference;
- one logp+gradient evaluation called from Python, numba and PyTensor's C backend
  (median over 2,000 calls; the C figure is what PyMC's NUTS calls at each leapfrog step).

Then refits on other data of the same structure (``--skip-refit`` leaves them out): a
fresh process with an empty compile directory fits the first as-of origin and then the
second (same :class:`~riskmodel.models.export_model.ModelStructure`, other data) with
``fit_model`` at its default sampler settings; another fresh process then fits the
second origin alone, its compiled model coming from the disk caches. Per fit: the
compile seconds ``fit_model`` reports, everything that is not sampling (building the
model, hashing its structure, compiling or swapping the data in), sampling, and the
shares of the fit's wall time. With ``--smoke``: two prior simulations on one tiny
layout stand in for the origins, at tiny sampler settings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

from _shared import emit_table, run_checked


def _model(smoke: bool):
    from riskmodel.models.export_model import build_model, load_model_priors

    priors = load_model_priors()
    if smoke:
        from riskmodel.models.simulate import simulate_from_prior, synthetic_inputs

        layout = synthetic_inputs(2, 24, control_at=18, regime_every=3, rng=0)
        return build_model(simulate_from_prior(layout, priors, seed=0)[0], priors)
    from riskmodel.pipeline import load_inputs

    return build_model(load_inputs(), priors)


def _refit_inputs(smoke: bool, origins: list[str]) -> list:
    """Inputs of one structure: as-of origins of the bundled data, or prior simulations."""
    if smoke:
        from riskmodel.models.export_model import load_model_priors
        from riskmodel.models.simulate import simulate_from_prior, synthetic_inputs

        layout = synthetic_inputs(2, 24, control_at=18, regime_every=3, rng=0)
        priors = load_model_priors()
        return [simulate_from_prior(layout, priors, seed=int(s))[0] for s in origins]
    from riskmodel.pipeline import load_inputs

    return [load_inputs(as_of=o) for o in origins]


def _timed(spent: dict, name: str, fn):
    """Wrap ``fn`` so that its wall time adds to ``spent[name]``."""

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - start

    return wrapper


def _refit_worker(smoke: bool, origins: list[str]) -> dict:
    start = time.perf_counter()
    import pymc  # noqa: F401  (what any process pays once: timed apart)

    import_s = time.perf_counter() - start

    import riskmodel.models.fit as fit_module
    import riskmodel.sampling.backends as backends
    from riskmodel.models.export_model import model_structure
    from riskmodel.models.fit import fit_model
    from riskmodel.sampling import SamplerConfig

    spent: dict[str, float] = {}
    fit_module.build_model = _timed(spent, "build_s", fit_module.build_model)
    fit_module.convergence_report = _timed(spent, "diagnostics_s", fit_module.convergence_report)
    backends.model_structure_hash = _timed(spent, "hash_s", backends.model_structure_hash)
    warnings.simplefilter("ignore")
    all_inputs = _refit_inputs(smoke, origins)
    structures = {model_structure(i) for i in all_inputs}
    if len(structures) != 1:
        raise SystemExit(f"origins {origins} do not share one structure: {structures}")
    sampler = SamplerConfig(draws=100, tune=150, chains=2) if smoke else SamplerConfig()
    fits = []
    means = []
    for origin, inputs in zip(origins, all_inputs, strict=True):
        spent.clear()
        start = time.perf_counter()
        fitted = fit_model(inputs, sampler=sampler)
        wall = time.perf_counter() - start
        t = fitted.timings
        fits.append(
            {
                "origin": origin,
                "compile_s": t["compile_seconds"],
                "sampling_s": t["seconds"],
                "wall_s": wall,
                **spent,
            }
        )
        means.append(float(fitted.idata.posterior["approval"].mean()))
    return {
        "structure": repr(structures.pop()),
        "import_s": import_s,
        "fits": fits,
        "mean_approval": means,
    }


def _refit_table(smoke: bool, origins: list[str], compiledir: Path) -> str:
    runs = [
        ("fresh process, empty compile dir", _spawn_refit(smoke, origins, compiledir)),
        ("fresh process, warm disk cache", _spawn_refit(smoke, origins[1:], compiledir)),
    ]
    what = "prior simulations (seeds) of the tiny 2x24 layout" if smoke else "as-of origins"
    table = (
        f"Refit on other data of the same structure, `python benchmarks/bench_compile.py"
        f"{' --smoke' if smoke else ''}`, {dt.date.today()}; {what} "
        f"{', '.join(origins)}; `fit_model` at "
        f"{'2 chains x (150 tune + 100 draws)' if smoke else 'its defaults'}; structure "
        f"`{runs[0][1]['structure']}`. Fit wall: `fit_model` from start to end, PyMC "
        "already imported (the import took "
        + " / ".join(f"{out['import_s']:.1f}" for _, out in runs)
        + " s in the two processes); compile: what it reports (compile, load from "
        "disk, or 0 for a data swap); non-sampling: fit wall minus sampling (build, "
        "hash, compile or swap, diagnostics).\n\n"
        "| process | fit | origin | build s | structure hash s | compile s | diagnostics s | "
        "sampling s | fit wall s | compile share | non-sampling share | mean approval |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    for label, out in runs:
        for k, (f, mean) in enumerate(zip(out["fits"], out["mean_approval"], strict=True)):
            other = f["wall_s"] - f["sampling_s"]
            table += (
                f"| {label} | {k + 1} | {f['origin']} | {f['build_s']:.2f} | "
                f"{f['hash_s']:.2f} | {f['compile_s']:.2f} | {f['diagnostics_s']:.2f} | "
                f"{f['sampling_s']:.1f} | {f['wall_s']:.1f} | "
                f"{f['compile_s'] / f['wall_s']:.1%} | {other / f['wall_s']:.1%} | "
                f"{mean:.4f} |\n"
            )
    return table


def _spawn_refit(smoke: bool, origins: list[str], compiledir: Path) -> dict:
    env = dict(os.environ, PYTENSOR_FLAGS=f"base_compiledir={compiledir}")
    cmd = [sys.executable, __file__, "--worker", "refit", "--origins", *origins]
    _, stdout = run_checked(cmd + (["--smoke"] if smoke else []), env)
    return json.loads(stdout.strip().splitlines()[-1])


def _per_call_us(fn, x, calls: int) -> float:
    for _ in range(50):
        fn(x)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls // 5):
            fn(x)
        times.append((time.perf_counter() - start) / (calls // 5) * 1e6)
    return statistics.median(times)


def _worker(part: str, smoke: bool) -> dict:
    import numpy as np

    warnings.simplefilter("ignore")
    model = _model(smoke)
    if part == "riskmodel":
        from riskmodel.sampling.nutpie_cache import compile_cached

        start = time.perf_counter()
        compiled = compile_cached(model)
        seconds = time.perf_counter() - start
        if compiled is None:
            raise SystemExit("the model did not qualify for disk-cached nutpie callbacks")
        return {
            "riskmodel_compile_s": seconds,
            "callbacks_from_disk": compiled.compiled_logp_func._cache_hits
            + compiled.compiled_expand_func._cache_hits,
        }
    if part == "nutpie":
        import nutpie

        start = time.perf_counter()
        nutpie.compile_pymc_model(model, backend="numba")
        return {"nutpie_compile_s": time.perf_counter() - start}
    start = time.perf_counter()
    fn = model.logp_dlogp_function(ravel_inputs=True, mode="NUMBA")
    fn.set_extra_values({})
    rewrites = time.perf_counter() - start
    point = model.initial_point()
    x = np.concatenate([np.asarray(point[v.name], dtype=float).ravel() for v in model.value_vars])
    compiled = fn._pytensor_function
    compiled.trust_input = True
    start = time.perf_counter()
    compiled(x)
    first_call = time.perf_counter() - start
    jit = compiled.vm.jit_fn
    library = next(iter(jit.overloads.values())).library
    c_fn = model.logp_dlogp_function(ravel_inputs=True)
    c_fn.set_extra_values({})
    c_compiled = c_fn._pytensor_function
    c_compiled.trust_input = True
    calls = 200 if smoke else 2000
    return {
        "rewrites_s": rewrites,
        "fgraph_compile_s": first_call,
        "dynamic_globals": len(getattr(library, "_dynamic_globals", [])),
        "graph_nodes": len(compiled.maker.fgraph.apply_nodes),
        "numba_us": _per_call_us(compiled, x, calls),
        "c_us": _per_call_us(c_compiled, x, calls),
    }


def _spawn(part: str, smoke: bool, compiledir: Path) -> dict:
    env = dict(os.environ, PYTENSOR_FLAGS=f"base_compiledir={compiledir}")
    cmd = [sys.executable, __file__, "--worker", part] + (["--smoke"] if smoke else [])
    _, stdout = run_checked(cmd, env)
    return json.loads(stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--warm-runs", type=int, default=2)
    parser.add_argument(
        "--worker", choices=["riskmodel", "nutpie", "pytensor", "refit"], help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--origins",
        nargs="+",
        default=["2025-09", "2025-10"],
        help="as-of origins of one structure for the refit case (default: 2025-09 2025-10; "
        "with --smoke: seeds of prior simulations, 0 1)",
    )
    parser.add_argument("--skip-refit", action="store_true", help="leave out the refit case")
    parser.add_argument("--skip-compile", action="store_true", help="only the refit case")
    parser.add_argument("--out", help="append the Markdown table to this file")
    args = parser.parse_args(argv)
    if args.worker == "refit":
        print(json.dumps(_refit_worker(args.smoke, args.origins)))
        return 0
    if args.worker:
        print(json.dumps(_worker(args.worker, args.smoke)))
        return 0
    if args.smoke and args.origins == parser.get_default("origins"):
        args.origins = ["0", "1"]  # seeds of two prior simulations
    if not args.skip_refit and len(args.origins) < 2:
        parser.error("--origins needs two origins of one structure")
    if not args.skip_compile:
        _compile_tables(args)
    if not args.skip_refit:
        with tempfile.TemporaryDirectory(prefix="rm-refit-") as tmp:
            emit_table(_refit_table(args.smoke, args.origins[:2], Path(tmp)), args.out)
    return 0


def _compile_tables(args: argparse.Namespace) -> None:
    rows = []
    with tempfile.TemporaryDirectory(prefix="rm-compile-") as tmp:
        for k in range(1 + args.warm_runs):
            # riskmodel's compile first: on the cold run it meets the empty directory.
            row = (
                _spawn("riskmodel", args.smoke, Path(tmp))
                | _spawn("nutpie", args.smoke, Path(tmp))
                | _spawn("pytensor", args.smoke, Path(tmp))
            )
            row["run"] = "cold" if k == 0 else f"warm {k}"
            rows.append(row)
    model = "tiny simulated 2x24" if args.smoke else "bundled magnets"
    table = (
        f"Compile and gradient cost, `python benchmarks/bench_compile.py"
        f"{' --smoke' if args.smoke else ''}`, {dt.date.today()}, {platform.machine()} "
        f"{os.cpu_count()} cores; {model} model ({rows[0]['graph_nodes']} nodes in the "
        "logp+gradient graph); each cell its own process.\n\n"
        "| run | riskmodel compile s | callbacks from disk | nutpie's own compile s | "
        "of which: rewrites s | logp+grad numba compile or load s | "
        "rest (nutpie's wrappers) s | dynamic globals | one logp+grad, numba us | "
        "one logp+grad, C us |\n|---|---|---|---|---|---|---|---|---|---|\n"
    )
    for r in rows:
        rest = r["nutpie_compile_s"] - r["rewrites_s"] - r["fgraph_compile_s"]
        table += (
            f"| {r['run']} | {r['riskmodel_compile_s']:.1f} | {r['callbacks_from_disk']}/2 | "
            f"{r['nutpie_compile_s']:.1f} | {r['rewrites_s']:.1f} | "
            f"{r['fgraph_compile_s']:.1f} | {rest:.1f} | {r['dynamic_globals']} | "
            f"{r['numba_us']:.1f} | {r['c_us']:.1f} |\n"
        )
    emit_table(table, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
