"""Compare two wide backtests of the same plan and settings (a baseline and a variant).

Usage::

    python benchmarks/compare_wide_backtests.py BASE_DIR VARIANT_DIR [--model bayes]

Prints, as Markdown, per product (and pooled) and scope: targets, mean CRPS of each
run and the paired difference (variant - base, on the targets both scored, with the
share of targets where the variant is better), 50/80/95% coverage of each, and the PIT
histogram's top-bin count and chi-square. Reads ``scores.csv`` (per target) and
``pit.csv`` of each directory (written by ``riskmodel backtest --wide``). Nothing is
asserted: the figures go to docs/model_changes.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

SCOPES = ("all", "World", "United States", "calm", "policy", "after_control")
KEY = ["product", "origin", "destination", "month", "horizon"]


def _scope(scores: pd.DataFrame, scope: str) -> pd.DataFrame:
    if scope == "all":
        return scores
    if scope in ("World", "United States"):
        return scores[scores["destination"] == scope]
    if scope == "calm":
        return scores[~scores["policy"].astype(bool)]
    return scores[scores[scope].astype(bool)]


def compare(base: Path, variant: Path, model: str = "bayes") -> pd.DataFrame:
    """Return one row per product and scope with both runs' scores and their difference."""
    a = pd.read_csv(base / "scores.csv")
    b = pd.read_csv(variant / "scores.csv")
    a, b = a[a["model"] == model], b[b["model"] == model]
    both = a.merge(b, on=KEY, suffixes=("_base", "_var"))
    for col in ("policy", "after_control"):
        both[col] = both[f"{col}_base"]
    rows = []
    for product in ["all", *sorted(both["product"].unique())]:
        part = both if product == "all" else both[both["product"] == product]
        for scope in SCOPES:
            s = _scope(part, scope)
            if s.empty:
                continue
            diff = s["crps_var"] - s["crps_base"]
            row = {
                "product": product,
                "scope": scope,
                "n": len(s),
                "crps_base": s["crps_base"].mean(),
                "crps_var": s["crps_var"].mean(),
                "diff": diff.mean(),
                "se": diff.std(ddof=1) / np.sqrt(len(s)) if len(s) > 1 else np.nan,
                "var_better": (diff < 0).mean(),
            }
            for q in ("in50", "in80", "in95"):
                row[f"{q}_base"] = s[f"{q}_base"].mean()
                row[f"{q}_var"] = s[f"{q}_var"].mean()
            pit_a, pit_b = s["pit_base"].to_numpy(), s["pit_var"].to_numpy()
            row["top_bin_base"] = int(_counts(pit_a)[-1])
            row["top_bin_var"] = int(_counts(pit_b)[-1])
            row["chi2_base"] = _chi2(pit_a)
            row["chi2_var"] = _chi2(pit_b)
            rows.append(row)
    return pd.DataFrame(rows)


def _counts(pit: np.ndarray, bins: int = 10) -> np.ndarray:
    """PIT histogram counts (10 equal bins on [0, 1])."""
    return np.histogram(np.clip(pit, 0.0, 1.0), bins=bins, range=(0.0, 1.0))[0]


def _chi2(pit: np.ndarray, bins: int = 10) -> float:
    """Chi-square of the PIT histogram against uniform (10 bins)."""
    counts = _counts(pit, bins)
    expected = len(pit) / bins
    return float(((counts - expected) ** 2 / expected).sum())


def main(argv: list[str] | None = None) -> int:
    """Print the comparison as a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path)
    parser.add_argument("variant", type=Path)
    parser.add_argument("--model", default="bayes")
    args = parser.parse_args(argv)
    table = compare(args.base, args.variant, args.model)
    from riskmodel.backtest.summary import markdown_table

    fmt = table.copy()
    for col in ("crps_base", "crps_var", "diff", "se"):
        fmt[col] = fmt[col].map(lambda v: f"{v:,.0f}" if np.isfinite(v) else "–")
    for col in [c for c in fmt if c.startswith(("in", "var_better"))]:
        fmt[col] = fmt[col].map(lambda v: f"{v:.2f}")
    for col in ("chi2_base", "chi2_var"):
        fmt[col] = fmt[col].map(lambda v: f"{v:.1f}")
    sys.stdout.write(markdown_table(fmt) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
