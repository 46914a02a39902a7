"""Propagation throughput: cell-updates per second against NumPy's memory-bandwidth bound.

Usage::

    python benchmarks/bench_propagation.py            # up to 1,000,000 paths (a few minutes)
    python benchmarks/bench_propagation.py --smoke    # seconds, for CI

A *cell-update* is one (path, month, region, industry) step of the inventory recursion;
the full size is 1,000,000 paths x 36 months x 6 regions x 11 industries = 2.4e9.

Two parts:

1. **Kernel** (:func:`riskmodel.propagation.kernels.simulate_shortfall`) on realistic
   chunk inputs (bundled parameters, synthetic forecast paths), chunk by chunk as the
   engine runs it (8,192 paths a chunk; the chunk's inputs are built once, outside the
   timed region, and the kernel runs ``paths / 8192`` times). Two **bounds**, both
   streaming NumPy adds measured in the same run, interleaved with the kernel (so
   they see the same machine load), per chunk:

   - *same bytes*: ``np.add(a, b, out=c)`` over three float32 arrays whose bytes add
     up to the kernel's working set (its inputs and its output, ~22 bytes a cell);
   - *demand -> short* (stricter): ``np.add(demand, 1, out=short)``, reading the
     demand array and writing the output array, the traffic the kernel cannot avoid
     (8 bytes a cell).

   Ratio = bound time / kernel time, per repeat, median shown (1.0 = the kernel runs
   at the speed of memory). The 2-thread kernel (``parallel=True``: regions spread
   over threads) is compared with the same adds split over two threads; the NumPy
   reference kernel (about eight array passes per month) is shown for scale.
2. **End to end** (:func:`riskmodel.propagation.propagate`: draws, demand, kernel,
   streaming statistics), each size in a fresh subprocess so that its peak resident
   memory (``ru_maxrss``) is its own; tracemalloc's peak (NumPy allocations) is shown too.

Rates are given in wall-clock time and per CPU-second of the process: on a shared
machine (other jobs running) wall-clock rates fall with the load, CPU-time rates less.
The load average is printed with the results.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc

import numpy as np
import xarray as xr
from _shared import emit_table

CHUNK = 8192
MONTHS = 36
FORECAST_PATHS = 1000


def synthetic_paths(n_paths: int = FORECAST_PATHS, n_months: int = MONTHS, seed: int = 0):
    """Forecast paths with the bundled destinations (World ~5 kt/month), a ~0.67 approval."""
    rng = np.random.default_rng(seed)
    base = {
        "World": 5000.0,
        "United States": 450.0,
        "European Union": 2000.0,
        "Germany": 1200.0,
        "Japan": 300.0,
        "South Korea": 700.0,
        "India": 150.0,
        "Vietnam": 400.0,
    }
    dests = list(base)
    b = np.array([base[d] for d in dests])
    growth = np.exp(0.005 * np.arange(n_months))
    cf = b[None, :, None] * growth[None, None, :] * rng.lognormal(0, 0.05, (n_paths, 1, n_months))
    a = rng.beta(4.0, 2.0, size=(n_paths, 1, n_months))
    months = [f"{2026 + m // 12}-{m % 12 + 1:02d}" for m in range(n_months)]
    dims = ("path", "destination", "month")
    return xr.Dataset(
        {"exports": (dims, cf * a), "counterfactual": (dims, cf)},
        coords={"path": np.arange(n_paths), "destination": dests, "month": months},
        attrs={
            "scenario": "bench",
            "product": "magnets",
            "seed": seed,
            "riskmodel_version": "bench",
        },
    )


def chunk_inputs(n: int = CHUNK):
    """Kernel inputs of one chunk of ``n`` paths, built the way the engine builds them."""
    from riskmodel.propagation import engine, load_params
    from riskmodel.propagation.draws import draw_block
    from riskmodel.propagation.regions import map_destinations

    params = load_params()
    ds = synthetic_paths()
    mapping = map_destinations(params, ds["destination"].values)
    params = params.subset_regions(mapping.regions)
    ex, _ = mapping.apply(ds["exports"].values)
    months = [str(m) for m in ds["month"].values]
    shared = engine._Shared.build(
        params,
        ex,
        months,
        engine.Allocation(),
        resample=True,
        backend="numba",
    )
    draws = draw_block(
        params,
        np.random.default_rng(0),
        n,
        n_forecast=FORECAST_PATHS,
        resample=True,
        n_months=ex.shape[-1],
    )
    arrays = engine._build_inputs(shared, draws)
    arrays.pop("use")  # what the statistics divide by, not a kernel input
    # the buyer groups' factors: the engine runs the kernel once per group
    # (riskmodel.propagation.buyers); this times one kernel pass
    arrays.pop("buyer_supply", None)
    arrays.pop("buyer_stock", None)
    return arrays, shared.allocation


def _timed(fn, clock):
    t0 = clock()
    fn()
    return clock() - t0


def bench_kernel(sizes, repeats, numpy_max):
    from concurrent.futures import ThreadPoolExecutor

    from riskmodel.propagation import kernels

    arrays, alloc = chunk_inputs()
    demand = arrays["demand"]
    out = np.empty_like(demand)
    one = np.float32(1)
    cells_per_chunk = demand.size
    pool = ThreadPoolExecutor(2)
    for parallel in (False, True):  # compile / warm
        kernels.simulate_shortfall(**arrays, **alloc, out=out, parallel=parallel)
    # bound "same bytes": c = a + b over three float32 arrays whose bytes add up to the
    # kernel's working set (all its inputs and its output)
    working_set = sum(a.nbytes for a in arrays.values()) + out.nbytes
    n3 = working_set // 12
    a3, b3, c3 = (np.ones(n3, dtype=np.float32) for _ in range(3))
    halves = (slice(0, n3 // 2), slice(n3 // 2, None))
    regions = (slice(0, demand.shape[0] // 2), slice(demand.shape[0] // 2, None))

    def same_bytes(threads):
        if threads == 1:
            return lambda: np.add(a3, b3, out=c3)
        return lambda: list(pool.map(lambda sl: np.add(a3[sl], b3[sl], out=c3[sl]), halves))

    def demand_to_short(threads):  # stricter: only the traffic the kernel cannot avoid
        if threads == 1:
            return lambda: np.add(demand, one, out=out)
        return lambda: list(pool.map(lambda sl: np.add(demand[sl], one, out=out[sl]), regions))

    def run(**kw):
        return lambda: kernels.simulate_shortfall(**arrays, **alloc, out=out, **kw)

    variants = [  # name, kernel call, threads
        ("numba", run(), 1),
        ("numba, 2 threads", run(parallel=True), 2),
        ("numpy (reference)", run(backend="numpy"), 1),
    ]
    rows = []
    for size in sizes:
        calls = math.ceil(size / CHUNK)
        cells = calls * cells_per_chunk
        for name, kernel, threads in variants:
            if name.startswith("numpy") and size > numpy_max:
                continue
            fns = {"k": kernel, "b1": same_bytes(threads), "b2": demand_to_short(threads)}
            wall = {key: [] for key in fns}
            cpu = {key: [] for key in fns}
            tracemalloc.start()
            for _ in range(repeats):  # interleaved: all see the same machine load
                for key, fn in fns.items():
                    t0w, t0c = time.perf_counter(), time.process_time()
                    for _ in range(calls):
                        fn()
                    wall[key].append(time.perf_counter() - t0w)
                    cpu[key].append(time.process_time() - t0c)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()

            def ratio(times, bound):
                pairs = zip(times["k"], times[bound], strict=True)
                return statistics.median(b / k for k, b in pairs)

            rows.append(
                {
                    "paths": calls * CHUNK,
                    "cells": cells,
                    "kernel": name,
                    "threads": threads,
                    "kernel_cells_s": cells / statistics.median(wall["k"]),
                    "bound_same_bytes_cells_s": cells / statistics.median(wall["b1"]),
                    "ratio_same_bytes": ratio(wall, "b1"),
                    "bound_demand_to_short_cells_s": cells / statistics.median(wall["b2"]),
                    "ratio_demand_to_short": ratio(wall, "b2"),
                    "kernel_cells_cpu_s": cells / statistics.median(cpu["k"]),
                    "ratio_same_bytes_cpu": ratio(cpu, "b1"),
                    "working_set_mb": working_set / 1e6,
                    "tracemalloc_peak_mb": peak / 1e6,
                }
            )
    pool.shutdown()
    return rows


def _end_to_end_worker(n_paths: int, repeats: int) -> dict:
    from riskmodel.propagation import load_params, propagate

    params = load_params()
    ds = synthetic_paths()
    propagate(ds, params, n_paths=256, seed=0, block_size=256)  # compile / warm the caches
    walls, cpus = [], []
    tracemalloc.start()
    for k in range(repeats):
        t0w, t0c = time.perf_counter(), time.process_time()
        out = propagate(ds, params, n_paths=n_paths, seed=k)
        walls.append(time.perf_counter() - t0w)
        cpus.append(time.process_time() - t0c)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    cells = n_paths * MONTHS * out.sizes["region"] * out.sizes["industry"]
    return {
        "paths": n_paths,
        "cells": cells,
        "wall_s": statistics.median(walls),
        "cells_s": cells / statistics.median(walls),
        "cells_cpu_s": cells / statistics.median(cpus),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "tracemalloc_peak_mb": peak / 1e6,
    }


def bench_end_to_end(sizes, repeats):
    rows = []
    for size in sizes:
        reps = repeats if size <= 100_000 else 1
        proc = subprocess.run(
            [sys.executable, __file__, "--worker", str(size), "--repeats", str(reps)],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return rows


def _fmt(x: float) -> str:
    if x >= 1e9:
        return f"{x / 1e9:.2f} G"
    if x >= 1e6:
        return f"{x / 1e6:.0f} M"
    return f"{x:.3g}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one repeat")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--out", help="append the Markdown tables to this file")
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_end_to_end_worker(args.worker, args.repeats or 1)))
        return 0
    if args.smoke:
        kernel_sizes, e2e_sizes, repeats, numpy_max = (
            [CHUNK, 4 * CHUNK],
            [4096],
            args.repeats or 2,
            4 * CHUNK,
        )
    else:
        kernel_sizes = [10_000, 100_000, 1_000_000]
        e2e_sizes = [10_000, 100_000, 1_000_000]
        repeats, numpy_max = args.repeats or 5, 100_000
    load0 = os.getloadavg()
    kernel_rows = bench_kernel(kernel_sizes, repeats, numpy_max)
    e2e_rows = bench_end_to_end(e2e_sizes, repeats)
    load1 = os.getloadavg()

    lines: list[str] = []

    def emit(text: str = "") -> None:
        lines.append(text)

    emit(
        f"Propagation, `python benchmarks/bench_propagation.py{' --smoke' if args.smoke else ''}`; "
        f"propagation benchmark ({platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, numpy {np.__version__})\n"
    )
    emit(
        f"Load average before / after: {load0[0]:.2f} / {load1[0]:.2f} "
        f"(the machine has {os.cpu_count()} CPUs; a load above that means other jobs "
        "compete for cores and memory bandwidth).\n"
    )
    emit(
        f"### Kernel vs memory-bandwidth bound (6 regions x 11 industries x {MONTHS} months, "
        f"chunks of {CHUNK} paths, median of {repeats})\n"
    )
    emit(
        "| paths | kernel | kernel cells/s | bound: same bytes | ratio | "
        "bound: demand->short | ratio | kernel cells/CPU-s | ratio (CPU, same bytes) | "
        "working set | tracemalloc peak |"
    )
    emit("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in kernel_rows:
        emit(
            f"| {r['paths']:,} | {r['kernel']} | {_fmt(r['kernel_cells_s'])} | "
            f"{_fmt(r['bound_same_bytes_cells_s'])} | {r['ratio_same_bytes']:.2f} | "
            f"{_fmt(r['bound_demand_to_short_cells_s'])} | {r['ratio_demand_to_short']:.2f} | "
            f"{_fmt(r['kernel_cells_cpu_s'])} | {r['ratio_same_bytes_cpu']:.2f} | "
            f"{r['working_set_mb']:.0f} MB | {r['tracemalloc_peak_mb']:.1f} MB |"
        )
    emit("\n### End to end: propagate() (draws + demand + kernel + streaming statistics)\n")
    emit(
        "| paths | cell-updates | wall time | cells/s | cells/CPU-s | peak RSS | tracemalloc peak |"
    )
    emit("|---:|---:|---:|---:|---:|---:|---:|")
    for r in e2e_rows:
        emit(
            f"| {r['paths']:,} | {r['cells']:.3g} | {r['wall_s']:.1f} s | {_fmt(r['cells_s'])} | "
            f"{_fmt(r['cells_cpu_s'])} | {r['peak_rss_mb']:.0f} MB | "
            f"{r['tracemalloc_peak_mb']:.0f} MB |"
        )
    emit_table("\n".join(lines) + "\n", args.out)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(
                {"kernel": kernel_rows, "end_to_end": e2e_rows, "loadavg": [load0, load1]},
                fh,
                indent=2,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
