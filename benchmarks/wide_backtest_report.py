"""Cost per origin and the issue-14 targets, read from a wide backtest's outputs.

Usage::

    python -m riskmodel backtest --wide --draws 500 --tune 500 --chains 2 --out runs/wide
    python benchmarks/wide_backtest_report.py runs/wide

Prints, as Markdown:

- per product, the Bayesian fits' wall seconds per origin, and how much of it was
  compiling: ``compile_seconds`` is 0 when the fit reused a compiled model of the same
  padded structure (only the data swapped in), and the number of distinct padded
  structures (``runs.csv`` column ``structure``) is the number of compiles a cold
  process pays;
- the targets of issue 14's "Done when" that the wide backtest measures (interval
  coverage by scope, CRPS against the best statsmodels baseline, PIT uniformity), with
  the measured value and by how much each is missed;
- per product, the PIT chi-square of each horizon on its own, with Holm-adjusted
  p-values: targets of one horizon overlap less than the pooled ones, which a
  calibrated forecast fails most of the time with this layout (docs/backtest.md,
  "What the PIT p-value can say with this layout").

Nothing is asserted: the figures go to docs/backtest.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

COVERAGE = {"cover50": (0.40, 0.60), "cover80": (0.72, 0.88), "cover95": (0.90, 1.00)}
BASELINES = ("snaive", "ets", "sarimax")


def _md(frame: pd.DataFrame) -> str:
    from riskmodel.backtest.summary import markdown_table

    return markdown_table(frame)


def costs(runs: pd.DataFrame) -> pd.DataFrame:
    """Per product: Bayesian fits, seconds per origin, compile seconds, structures."""
    b = runs[runs["model"] == "bayes"]
    rows = []
    for product, g in b.groupby("product", sort=False):
        comp = g["compile_seconds"].astype(float)
        rows.append(
            {
                "product": product,
                "fits": len(g),
                "seconds median": g["seconds"].median(),
                "seconds max": g["seconds"].max(),
                "sampling median": g["sampling_seconds"].astype(float).median(),
                "fits that compiled": int((comp > 0).sum()),
                "compile seconds total": comp.sum(),
                "distinct structures": g["structure"].nunique(),
                "max R-hat": g["max_rhat"].max(),
                "min bulk ESS": g["min_ess_bulk"].min(),
                "divergences": int(g["divergences"].fillna(0).sum()),
                "failed checks": int((g["converged"].astype(str) == "False").sum()),
            }
        )
    return pd.DataFrame(rows)


def targets(summary: pd.DataFrame, pit: pd.DataFrame, product: str) -> pd.DataFrame:
    """The Done-when targets for ``bayes`` on one product (or ``all``), measured and missed."""
    s = summary[(summary["product"] == product)].set_index(["model", "scope"])
    rows = []
    for scope, slack in (("all", 0.0), ("World", 0.05), ("United States", 0.05)):
        if ("bayes", scope) not in s.index or s.loc[("bayes", scope), "n"] == 0:
            continue
        for col, (lo, hi) in COVERAGE.items():
            lo_, hi_ = lo - slack, min(hi + slack, 1.0)
            v = float(s.loc[("bayes", scope), col])
            miss = max(lo_ - v, v - hi_, 0.0)
            rows.append(
                {
                    "target": f"{col} {scope}",
                    "goal": f"{lo_:.2f}..{hi_:.2f}",
                    "measured": f"{v:.2f}",
                    "n": int(s.loc[("bayes", scope), "n"]),
                    "missed by": f"{miss:.2f}" if miss else "met",
                }
            )
    for scope in ("World", "United States", "after_control"):
        if ("bayes", scope) not in s.index:
            continue
        base = [
            (m, float(s.loc[(m, scope), "crps"]))
            for m in BASELINES
            if (m, scope) in s.index and s.loc[(m, scope), "n"] > 0
        ]
        if not base:
            continue
        best, crps = min(base, key=lambda t: t[1])
        v = float(s.loc[("bayes", scope), "crps"])
        rows.append(
            {
                "target": f"CRPS {scope} (each model's own targets)",
                "goal": f"<= {best} {crps:,.1f}",
                "measured": f"{v:,.1f}",
                "n": int(s.loc[("bayes", scope), "n"]),
                "missed by": "met" if v <= crps else f"{v - crps:,.1f} ({v / crps - 1:+.0%})",
            }
        )
    p = pit[(pit["product"] == product) & (pit["model"] == "bayes") & (pit["scope"] == "all")]
    if len(p):
        pv = float(p["p_uniform"].iloc[0])
        rows.append(
            {
                "target": "PIT uniform (10 bins)",
                "goal": "p >= 0.01",
                "measured": f"p = {pv:.2g}",
                "n": int(p["n"].iloc[0]),
                "missed by": "met" if pv >= 0.01 else "rejected",
            }
        )
    return pd.DataFrame(rows)


def pit_by_horizon(scores: pd.DataFrame, product: str) -> pd.DataFrame:
    """PIT histogram and chi-square of ``bayes`` per horizon, with Holm-adjusted p."""
    from riskmodel.backtest import pit_histogram

    part = scores[(scores["product"] == product) & (scores["model"] == "bayes")]
    rows = []
    for horizon, rows_ in part.groupby("horizon", sort=True):
        h = pit_histogram(rows_, destinations=(), models=["bayes"]).iloc[0]
        counts = " ".join(str(int(h[f"bin{k}"])) for k in range(1, 11))
        rows.append(
            {"horizon": int(horizon), "n": int(h["n"]), "counts": counts, "p": h["p_uniform"]}
        )
    table = pd.DataFrame(rows, columns=["horizon", "n", "counts", "p"])
    order = table["p"].sort_values().index
    adjusted = (table.loc[order, "p"] * (len(table) - pd.RangeIndex(len(table)))).cummax()
    table["p_holm"] = adjusted.clip(upper=1.0).reindex(table.index)
    return table.assign(
        p=table["p"].map("{:.2g}".format), p_holm=table["p_holm"].map("{:.2g}".format)
    )


def common_crps(scores: pd.DataFrame, product: str, scope_mask: pd.Series | None = None) -> str:
    """Mean CRPS per model on the targets every model scored, per destination scope."""
    from riskmodel.backtest.summary import common_targets

    part = scores[scores["product"] == product]
    out = []
    for scope, rows in (
        ("World", part[part["destination"] == "World"]),
        ("United States", part[part["destination"] == "United States"]),
        ("after_control", part[part["after_control"].astype(bool)]),
    ):
        models = ["bayes", *[m for m in BASELINES if m in set(rows["model"])]]
        for m in models[1:]:
            c = common_targets(rows, ["bayes", m])
            if c.empty:
                continue
            means = c.groupby("model")["crps"].mean()
            out.append(
                {
                    "scope": scope,
                    "baseline": m,
                    "common targets": len(c) // 2,
                    "bayes CRPS": means["bayes"],
                    "baseline CRPS": means[m],
                    "bayes - baseline": means["bayes"] - means[m],
                }
            )
    return _md(pd.DataFrame(out))


def main(argv: list[str] | None = None) -> int:
    """Print the cost and target tables of a wide backtest directory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the --out directory of riskmodel backtest --wide")
    args = parser.parse_args(argv)
    try:
        runs = pd.read_csv(args.out / "runs.csv")
        summary = pd.read_csv(args.out / "summary.csv")
        pit = pd.read_csv(args.out / "pit.csv")
        scores = pd.read_csv(args.out / "scores.csv")
    except FileNotFoundError as err:
        print(f"wide_backtest_report: {err}", file=sys.stderr)
        return 2
    print("## Cost per origin (bayes)\n")
    print(_md(costs(runs)))
    for product in ("magnets", "all"):
        print(f"\n## Issue-14 targets, bayes, product {product}\n")
        print(_md(targets(summary, pit, product)))
    for product in dict.fromkeys(scores["product"]):
        print(f"\n## PIT by horizon, bayes, product {product}\n")
        print(_md(pit_by_horizon(scores, str(product))))
    print("\n## CRPS on the targets bayes and each baseline both scored (magnets)\n")
    print(common_crps(scores, "magnets"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
