"""Figure comparing past control episodes with the learned shape (matplotlib PNG)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.atomic import atomic_write
from riskmodel.config.dists import Dist
from riskmodel.config.scenario import control_multiplier, load_learned_shape

__all__ = ["shock_figure", "short_label"]

_SHORT = {
    "rare_earths_japan_imports_from_china": "rare earths to Japan",
    "bismuth_refined_and_products": "bismuth (refined)",
    "bismuth_unrefined_and_scrap": "bismuth (unrefined)",
    "rare_earth_products_bloomberg": "RE products (Bloomberg)",
    "rare_earths": "rare earths (headline)",
    "graphite_flake": "graphite (flake)",
    "graphite_spherical": "graphite (spherical)",
    "tungsten_APT": "tungsten (APT)",
    "tungsten_products": "tungsten (all products)",
}


def short_label(product: str, month: str) -> str:
    """Return a short label for an episode, e.g. ``graphite (flake) 2023-12``."""
    return f"{_SHORT.get(product, product)} {month}"


_PANELS = (
    ("depth_q", "depth: lowest approval (x normal)", True),
    ("months_to_low_q", "months from effect to the low", False),
    ("months_to_80_q", "months from effect to 80% of normal", False),
)


def _shape_band(
    specs: dict[str, Dist], months: np.ndarray, n: int = 4000, seed: int = 0
) -> np.ndarray:
    gen = np.random.default_rng(seed)
    p = {k: specs[k].sample(gen, n) for k in specs}
    m = control_multiplier(
        months[None, :],
        p["depth"][:, None],
        p["months_to_low"][:, None],
        p["recovery_half_life_months"][:, None],
        p["long_run"][:, None],
    )
    return np.quantile(m, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)


def shock_figure(
    table: pd.DataFrame,
    doc: dict[str, Any],
    path: str | Path,
    *,
    shape_file: str | Path | None = None,
) -> Path:
    """Draw the episode comparison and the learned shape; write a PNG atomically.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`riskmodel.shocks.episode_table`.
    doc : dict
        The learned-shape document (for the episodes' approval windows).
    path : str or Path
        The PNG to write.
    shape_file : str or Path, optional
        Learned shape to draw; default ``priors/shock_shape.yaml``.

    Returns
    -------
    Path
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    specs = load_learned_shape(shape_file)
    fig, axes = plt.subplots(2, 2, figsize=(13, 10))
    ax = axes[0, 0]
    months = np.arange(0, 16)
    band = _shape_band(specs, months.astype(float))
    ax.fill_between(months, band[0], band[4], color="0.85", label="learned prior, 90%")
    ax.fill_between(months, band[1], band[3], color="0.7", label="learned prior, 50%")
    ax.plot(months, band[2], color="0.2", lw=2, label="learned prior, median")
    tab = plt.get_cmap("tab10")
    palette = [tab(k) for k in (0, 1, 2, 3, 4, 5, 6, 8, 9)]  # no grey: grey means "not pooled"
    pooled = [ep for ep in doc["episodes"] if ep.get("windows") and ep["status"] == "fitted"]
    for i, e in enumerate(pooled):
        monthly = [w for w in e["windows"] if len(w["taus"]) == 1]
        if not monthly:
            continue
        t = np.array([w["taus"][0] for w in monthly], dtype=float)
        q = np.array([[w["q05"], w["q50"], w["q95"]] for w in monthly])
        style = "-o" if e["reason"] == "" else ":o"
        ax.errorbar(
            t + 0.08 * (i - 4),
            q[:, 1],
            yerr=[q[:, 1] - q[:, 0], q[:, 2] - q[:, 1]],
            fmt=style,
            ms=3,
            lw=1,
            capsize=2,
            color=palette[i % len(palette)],
            label=short_label(e["product"], e["effective_month"]),
        )
    ax.set_xlabel("months since the effect month")
    ax.set_ylabel("approval rate (exports / counterfactual)")
    ax.set_ylim(-0.02, 1.05)
    ax.set_title(
        "Approval after a new control: pooled episodes (median, 90%) and learned prior", fontsize=9
    )
    ax.legend(fontsize=6.5, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.12))

    fitted = table[table["status"] != "not_fitted"].reset_index(drop=True)
    labels = [short_label(r["product"], str(r["effective"])[:7]) for _, r in fitted.iterrows()]
    y = np.arange(len(fitted))
    for ax, (prefix, title, log) in zip(axes.ravel()[1:], _PANELS, strict=True):
        for j, r in fitted.iterrows():
            mid, lo, hi = r[f"{prefix}50"], r[f"{prefix}05"], r[f"{prefix}95"]
            if math.isnan(mid):
                continue
            color = "C0" if r["status"] == "fitted" else "C7"
            cap = float(r.get("months_to_80_censored_at", np.nan))
            if prefix.startswith("months_to_80") and not math.isnan(cap):
                hi_plot = cap + 1.5 if math.isinf(hi) else hi
                mid_plot = cap + 1.5 if math.isinf(mid) else mid
                lo_plot = cap + 1.5 if math.isinf(lo) else lo
                ax.plot([lo_plot, hi_plot], [j, j], color=color, lw=2)
                ax.plot(mid_plot, j, "o", color=color)
                if math.isinf(hi):
                    ax.annotate(
                        f">{cap:.0f}",
                        (hi_plot, j),
                        xytext=(4, -3),
                        textcoords="offset points",
                        fontsize=7,
                    )
                continue
            lo_v = max(lo, 1e-3) if log else lo
            ax.plot([lo_v, hi], [j, j], color=color, lw=2)
            ax.plot(max(mid, 1e-3) if log else mid, j, "o", color=color)
        if log:
            ax.set_xscale("log")
            ax.set_xlim(8e-4, 1.2)
        key = (
            "depth"
            if prefix.startswith("depth")
            else ("months_to_low" if prefix.startswith("months_to_low") else None)
        )
        if key is not None:
            lo, hi = specs[key]._scipy().ppf([0.05, 0.95])
            ax.axvspan(
                max(lo, 8e-4) if log else lo, hi, color="0.9", zorder=0, label="learned prior, 90%"
            )
            # Outside the axes, under the tick labels: inside it hid an episode's row.
            ax.legend(fontsize=7, loc="upper right", bbox_to_anchor=(1.0, -0.05), frameon=False)
        ax.set_yticks(y, labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_title(title + " (median, 90%)", fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(
        "China's export-control episodes (grey: fitted, not pooled; dotted: weak evidence; "
        "'>' not reached by the last month of data)",
        fontsize=10,
    )
    fig.tight_layout()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, lambda p: fig.savefig(p, format="png", dpi=120))
    plt.close(fig)
    return target
