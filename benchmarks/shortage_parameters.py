"""Sourced and judgement propagation parameters, and how far each judgement moves the headline.

Usage::

    python benchmarks/shortage_parameters.py --forecast FDIR_baseline FDIR_suspension_lapse
    python benchmarks/shortage_parameters.py --forecast DIR --paths 4000 --seed 0 --top 5

For each forecast folder (``riskmodel forecast --out DIR``), the headline risks are the
``top`` region x industry pairs with the largest P(short) (as the report's drivers
section), and every parameter marked ``judgement: true`` in ``priors/propagation.yaml``
is held at its 5th and then its 95th percentile on the same draws
(:func:`riskmodel.propagation.drivers.judgement_sweep`). Prints, per parameter block,
the largest move of any headline risk (P(short) at p05 and p95 minus P(short) with
every input drawn), and the count of sourced and judgement parameters
(docs/shortage_parameters.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from riskmodel.propagation import load_params
from riskmodel.propagation.drivers import DEFAULT_DRIVER_PATHS, DEFAULT_TOP, judgement_sweep
from riskmodel.propagation.io import read_paths
from riskmodel.seeds import stage_seeds


def provenance() -> pd.DataFrame:
    """One row per parameter block: how many entries are sourced and how many judgement."""
    rows = pd.DataFrame(load_params().summary())
    rows["kind"] = rows["judgement"].map({True: "judgement", False: "sourced"})
    return rows.groupby(["block", "kind"]).size().unstack(fill_value=0)


def sweep(folder: Path, n_paths: int, seed: int, top: int) -> pd.DataFrame:
    """Largest move of any headline risk per judgement block, low and high end."""
    from riskmodel.pipeline import shortage_scenario

    paths = read_paths(folder)
    scenario = shortage_scenario(paths, None)  # the allocation the paths carry
    # the shortage stage's seed of the run seed, as `riskmodel drivers --seed`
    seed = stage_seeds(seed).shortage
    table = judgement_sweep(paths, scenario=scenario, n_paths=n_paths, seed=seed, top=top)
    table["low"] = table["p_short_at_p05"] - table["p_short"]
    table["high"] = table["p_short_at_p95"] - table["p_short"]
    table["span"] = (table["p_short_at_p95"] - table["p_short_at_p05"]).abs()
    worst = table.loc[table.groupby("block")["span"].idxmax()]
    worst = worst.assign(cell=worst["region"] + " " + worst["industry"] + " " + worst["month"])
    cols = ["key", "cell", "p_short", "p_short_at_p05", "p_short_at_p95", "span"]
    return worst.set_index("block")[cols].sort_values("span", ascending=False)


def main(argv: list[str] | None = None) -> None:
    """Print the provenance counts and the judgement sweep of each forecast."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forecast", type=Path, nargs="+", required=True)
    parser.add_argument("--paths", type=int, default=DEFAULT_DRIVER_PATHS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--top", type=int, default=DEFAULT_TOP)
    args = parser.parse_args(argv)
    print(provenance().to_string())
    for folder in args.forecast:
        scenario = read_paths(folder).attrs.get("scenario", "")
        print(f"\n## {scenario} ({folder}), {args.paths} paths, seed {args.seed}\n")
        print(
            sweep(folder, args.paths, args.seed, args.top).to_string(
                float_format=lambda x: f"{x:.2f}"
            )
        )


if __name__ == "__main__":
    main()
