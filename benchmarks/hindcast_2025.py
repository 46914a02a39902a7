"""Hindcast of 2025: the propagation driven by China's realised exports (docs/hindcast.md).

Usage::

    python benchmarks/hindcast_2025.py                 # table + docs/hindcast_2025.png
    python benchmarks/hindcast_2025.py --paths 4000 --seed 0 --figure out.png
    python benchmarks/hindcast_2025.py --anchor customs2024 --figure parity.png

``--anchor customs2024`` is a sensitivity run, not the model: each region's base-year
demand is replaced by China's 2024 customs exports to it (April-November, annualised)
divided by the median of its China share, so that China's share of demand equals what
China shipped in 2024 (the sourced anchors do not: EU 17 kt against ~21 kt shipped).

Prints, for automotive in the US, the EU and Japan, P(shortfall share > 0) and
P(shortfall share > 0.1) in March, June and December 2025 (the targets of issue 15),
and draws P(short) month by month with the dated public record of 2025 (sources in
docs/hindcast.md; they are not bundled as data).
"""

from __future__ import annotations

import argparse
import copy
import math
from pathlib import Path

import pandas as pd
import yaml

from riskmodel.propagation import load_params, parse_params
from riskmodel.propagation.hindcast import hindcast, realised_paths
from riskmodel.propagation.params import default_params_path

REGIONS = ("US", "EU", "Japan")
INDUSTRIES = ("automotive_ev", "automotive_other")
MONTHS = ("2025-03", "2025-06", "2025-12")

#: Dated public record (docs/hindcast.md names the sources): (month, region, label).
RECORD = (
    ("2025-04", None, "4 Apr: licences required"),
    ("2025-05", "US", "May: Ford Chicago (Explorer) idled a week"),
    ("2025-05", "Japan", "26 May-16 Jun: Suzuki Swift halted"),
    ("2025-06", "EU", "4 Jun: CLEPA, supplier lines shut"),
)


def targets(out) -> pd.DataFrame:
    """P(short) at thresholds 0 and 0.1 for the target regions, industries and months."""
    rows = []
    for region in REGIONS:
        for industry in INDUSTRIES:
            cell = out["p_short"].sel(region=region, industry=industry)
            for month in MONTHS:
                rows.append(
                    {
                        "region": region,
                        "industry": industry,
                        "month": month,
                        "P(short>0)": float(cell.sel(month=month, threshold=0.0)),
                        "P(short>0.1)": float(cell.sel(month=month, threshold=0.1)),
                    }
                )
    return pd.DataFrame(rows)


def customs_anchored_params(path: Path):
    """The parameters of ``path`` with base-year demand = 2024 customs exports / China share."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    params = parse_params(copy.deepcopy(raw))
    shipped = realised_paths("2024-04", "2024-11", n_paths=1)["exports"].isel(path=0)
    yearly = shipped.sum("month").to_pandas() * 12 / 8
    dest = {"US": "United States", "EU": "European Union", "Japan": "Japan"}
    dest |= {"Korea": "South Korea", "India": "India"}
    china = {r: float(yearly[d]) for r, d in dest.items()}
    china["RoW"] = float(yearly["World"]) - sum(china.values())
    for region, dist in zip(params.region_names, params.china_share, strict=True):
        demand = china[region] / dist.quantile(0.5)
        raw["base_demand_tpy"][region] = {
            "dist": "LogNormal",
            "mu": math.log(demand),
            "sigma": 0.1,
            "reason": "sensitivity: 2024 customs / China share",
            "judgement": True,
        }
        print(f"{region}: {demand / 1e3:.1f} kt in 2024 (China shipped {china[region]:.0f} t)")
    return parse_params(raw)


def figure(out, path: Path) -> None:
    """P(short > 0) month by month, one panel per target region, with the record."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    months = [str(m) for m in out.month.values]
    fig, axes = plt.subplots(1, len(REGIONS), figsize=(13, 3.8), sharey=True)
    for ax, region in zip(axes, REGIONS, strict=True):
        for industry, style in zip(INDUSTRIES, ("-", "--"), strict=True):
            for thr, colour in ((0.0, "C3"), (0.1, "C0")):
                p = out["p_short"].sel(region=region, industry=industry, threshold=thr)
                ax.plot(
                    months,
                    p.values,
                    style,
                    color=colour,
                    label=f"{industry}, share > {thr:g}",
                )
        for month, where, label in RECORD:
            if where in (None, region):
                ax.axvline(months.index(month), color="grey", lw=0.8, ls=":")
                ax.text(months.index(month) - 0.45, 0.97, label, fontsize=7, va="top", rotation=90)
        # the June target: P(short) >= 0.5
        june = months.index("2025-06")
        ax.fill_between([june - 0.4, june + 0.4], 0.5, 1.0, color="C2", alpha=0.12, lw=0)
        ax.set_title(region)
        ax.set_xticks(range(len(months)), [m[5:] for m in months])
        ax.set_xlabel("month of 2025")
        ax.set_ylim(0, 1)
    axes[0].set_ylabel("P(monthly shortfall share > x)")
    axes[-1].legend(fontsize=7, loc="center right")
    fig.suptitle("Hindcast 2025: realised Chinese magnet exports -> P(short), automotive")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> None:
    """Run the hindcast, print the targets and draw the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=4000, help="Monte Carlo paths")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--figure",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "docs" / "hindcast_2025.png",
    )
    parser.add_argument(
        "--anchor",
        choices=("sourced", "customs2024"),
        default="sourced",
        help="base-year demand: the bundled sourced figures, or 2024 customs / China share",
    )
    parser.add_argument(
        "--params",
        type=Path,
        default=default_params_path(),
        help="propagation parameters (default: the bundled priors/propagation.yaml); "
        "a copy with one judgement changed gives its sensitivity",
    )
    args = parser.parse_args(argv)
    if args.anchor == "customs2024":
        params = customs_anchored_params(args.params)
    else:
        params = load_params(args.params)
    out = hindcast("2025-01", "2025-12", params=params, n_paths=args.paths, seed=args.seed)
    table = targets(out)
    with pd.option_context("display.width", 120):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    print(f"\nfilled months: {out.attrs['filled_months']}")
    figure(out, args.figure)
    print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()
