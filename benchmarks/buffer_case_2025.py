"""Worked case of docs/buffer.md: would a March 2025 buffer have held on 2025's realised path?

Usage::

    python benchmarks/buffer_case_2025.py --buffer runs/buffer2503
    python benchmarks/buffer_case_2025.py --buffer runs/buffer2503 --eu Germany

``--buffer DIR`` is the output of ``riskmodel buffer`` run on point-in-time forecasts
(``riskmodel fit --as-of 2025-03``, ``riskmodel forecast``). Its chosen covers (weeks of
China-sourced demand) are put on the hindcast's input, China's **realised** exports from
the forecast's first month to ``--end`` (:func:`riskmodel.propagation.hindcast.realised_paths`,
gaps filled from World's figure), and the same buffer machinery
(:func:`riskmodel.buffer`, common random numbers, one needed cover per path) gives:

- P(stock-out within the realised months) without a buffer and with each chosen cover,
  for EU and US automotive;
- the cover that hindsight would have needed for each target on the realised path;
- the month of the first stock-out without a buffer (P by month).

The horizon is the realised months only (``--end`` is the last month of the bundled
data), so it can be shorter than the forecast's 12 months: a stock-out within it is a
stock-out within 12 months. ``--eu Germany`` replaces the EU aggregate by Germany alone,
the EU the point-in-time forecast had (a lower bound; the rest of the EU in RoW), to
separate the EU's definition from the shock.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file from anywhere: use this checkout's package
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import riskmodel as rm  # noqa: E402
from riskmodel.propagation import propagate  # noqa: E402
from riskmodel.propagation.hindcast import HINDCAST_DESTINATIONS, realised_paths  # noqa: E402
from riskmodel.seeds import stage_seeds  # noqa: E402

REGIONS = ("EU", "US")
INDUSTRIES = ("automotive_ev", "automotive_other")


def main(argv: list[str] | None = None) -> None:
    """Run the realised-path check of a point-in-time buffer and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buffer", type=Path, required=True, help="riskmodel buffer output")
    parser.add_argument("--end", default="2025-12", help="last realised month (YYYY-MM)")
    parser.add_argument("--paths", type=int, default=10_000, help="Monte Carlo paths")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--eu",
        choices=("European Union", "Germany"),
        default="European Union",
        help="the EU's series: the aggregate (as docs/hindcast.md) or Germany alone",
    )
    args = parser.parse_args(argv)
    chosen = pd.read_csv(args.buffer / "buffer.csv")
    meta = json.loads((args.buffer / "buffer.json").read_text(encoding="utf-8"))
    start = meta["scenarios"][0]["first_month"]
    dests = tuple(args.eu if d == "European Union" else d for d in HINDCAST_DESTINATIONS)
    if args.eu == "Germany":
        dests = tuple(d for d in dests if d != "India")  # the forecast had no India either
    real = realised_paths(start, args.end, destinations=dests, seed=args.seed)
    horizon = real.sizes["month"]
    months = [str(m) for m in real["month"].values]
    res = rm.buffer(real, horizon=horizon, n_paths=args.paths, seed=args.seed)
    print(
        f"realised exports {months[0]}..{months[-1]} ({horizon} months), EU = {args.eu}; "
        f"{args.paths:,} paths, seed {args.seed}; monotonicity violations "
        f"{res.attrs.get('monotonicity_violations')}"
    )
    print(f"filled months: {real.attrs['filled_months']}")
    rows = []
    for region in REGIONS:
        for industry in INDUSTRIES:
            r, i = res.regions.index(region), res.industries.index(industry)
            need = res.need_weeks[r, i]
            here = res.table[(res.table.region == region) & (res.table.industry == industry)]
            row = {
                "region": region,
                "industry": industry,
                "P_real_no_buffer": float((need > 0).mean()),
                "E_unmet_real_t": float(here["expected_shortfall_no_buffer_t"].iloc[0]),
            }
            for t in (0.05, 0.01):
                row[f"hindsight_cover_{t:g}"] = float(
                    here.loc[np.isclose(here.target, t), "cover_weeks"].iloc[0]
                )
            sel = chosen[(chosen.region == region) & (chosen.industry == industry)]
            for c in sel.itertuples(index=False):
                key = f"{c.scenario}@{c.target:g}"
                row[f"cover[{key}]"] = c.cover_weeks
                row[f"P_real[{key}]"] = float((need > c.cover_weeks).mean())
            rows.append(row)
    table = pd.DataFrame(rows).set_index(["region", "industry"]).T
    with pd.option_context("display.width", 160, "display.max_rows", 100):
        print(table.to_string(float_format=lambda x: f"{x:.3f}"))
    # month of the first stock-out without a buffer (the propagation's statistics)
    out = propagate(real, n_paths=args.paths, seed=stage_seeds(args.seed).shortage)
    first = out["p_first_stockout"].sel(region=list(REGIONS), industry=list(INDUSTRIES))
    print("\nP(first stock-out in month), no buffer:")
    frame = first.to_dataframe().reset_index()
    frame = frame.pivot_table(
        index=["region", "industry"], columns="month", values="p_first_stockout"
    )
    with pd.option_context("display.width", 200):
        print(frame.to_string(float_format=lambda x: f"{x:.3f}"))


if __name__ == "__main__":
    main()
