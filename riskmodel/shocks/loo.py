"""Leave-one-out check of the learned shape: does it forecast episodes it has not seen.

For each pooled episode in turn, the across-episode model is refitted without it,
and the posterior predictive of a *new* episode is checked against the held-out
episode's post-control windows in two ways:

``measured``
    the predictive of what the episode's own fit measures: the curve plus the fitted
    month-to-month misfit plus the window's measurement sd, against the window's
    posterior mean (logit scale). This is the model's own data-generating process,
    so a calibrated model puts 90% of windows inside its 90% intervals.
``curve``
    the forecast's interval: the curve alone (what a forecast of a new control draws
    through :func:`~riskmodel.config.scenario.control_multiplier`), against the
    window's posterior median. Stricter: it ignores that the held-out months are
    themselves measured with error.

Values at the floor (zero exports) count as inside when the interval reaches the
floor, since curve and data are both floored there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskmodel.shocks.hierarchy import PooledData, ShapeModel, ShapePosterior
from riskmodel.shocks.measure import APPROVAL_FLOOR, ShockWindow

__all__ = ["LooResult", "interval_rows", "leave_one_out"]

LEVELS = (0.5, 0.9)


@dataclass
class LooResult:
    """Leave-one-out coverage.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per held-out window: ``episode``, ``taus``, ``observed`` (the held-out
        episode's posterior median approval), ``q05``, ``q25``, ``q50``, ``q75``,
        ``q95`` of the curve's predictive (the forecast's interval), ``in50_curve``,
        ``in90_curve``, and ``in50``, ``in90`` for the measured predictive.
    diagnostics : dict
        Episode id -> diagnostics of the fit without it.
    """

    table: pd.DataFrame
    diagnostics: dict[str, dict[str, float]]

    def coverage(self, level: float = 0.9, kind: str = "measured") -> float:
        """Share of held-out windows inside the central ``level`` interval.

        Parameters
        ----------
        level : float
            0.5 or 0.9.
        kind : str
            ``"measured"`` or ``"curve"`` (see the module notes).
        """
        col = f"in{round(level * 100)}" + ("" if kind == "measured" else "_curve")
        return float(self.table[col].mean())

    def by_episode(self) -> pd.DataFrame:
        """Coverage per held-out episode."""
        return (
            self.table.groupby("episode", sort=False)
            .agg(
                windows=("in90", "size"),
                in50=("in50", "mean"),
                in90=("in90", "mean"),
                in50_curve=("in50_curve", "mean"),
                in90_curve=("in90_curve", "mean"),
            )
            .reset_index()
        )

    def to_dict(self) -> dict[str, object]:
        """Plain data for YAML."""
        per = self.by_episode()
        return {
            "coverage_50": round(self.coverage(0.5), 4),
            "coverage_90": round(self.coverage(0.9), 4),
            "coverage_50_curve": round(self.coverage(0.5, "curve"), 4),
            "coverage_90_curve": round(self.coverage(0.9, "curve"), 4),
            "windows": len(self.table),
            "episodes": {
                str(r.episode): {
                    "windows": int(r.windows),
                    "in50": round(float(r.in50), 4),
                    "in90": round(float(r.in90), 4),
                    "in50_curve": round(float(r.in50_curve), 4),
                    "in90_curve": round(float(r.in90_curve), 4),
                }
                for r in per.itertuples()
            },
        }


def _inside(lo: float, hi: float, x: float) -> bool:
    lo_f = APPROVAL_FLOOR if lo <= APPROVAL_FLOOR * 1.0001 else lo
    hi_f = 1 - APPROVAL_FLOOR if hi >= (1 - APPROVAL_FLOOR) * 0.9999 else hi
    x = min(max(x, APPROVAL_FLOOR), 1 - APPROVAL_FLOOR)
    return bool(lo_f <= x <= hi_f)


def interval_rows(
    posterior: ShapePosterior,
    episode_id: str,
    windows: Sequence[ShockWindow],
    rng: np.random.Generator | int,
) -> list[dict[str, object]]:
    """Predictive intervals of a new episode against one episode's windows.

    Returns
    -------
    list of dict
        One row per window (see :attr:`LooResult.table`).
    """
    gen = np.random.default_rng(rng)
    curve = posterior.predictive_windows(windows, gen, misfit=False)
    measured = posterior.predictive_windows(windows, gen, measurement=True)
    qs = np.quantile(curve, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    qm = np.quantile(measured, [0.05, 0.25, 0.75, 0.95], axis=0)
    rows = []
    for j, w in enumerate(windows):
        mean = float(1.0 / (1.0 + np.exp(-w.logit_mean)))
        rows.append(
            {
                "episode": episode_id,
                "taus": ",".join(str(t) for t in w.taus),
                "observed": w.q50,
                "q05": qs[0, j],
                "q25": qs[1, j],
                "q50": qs[2, j],
                "q75": qs[3, j],
                "q95": qs[4, j],
                "in50_curve": _inside(qs[1, j], qs[3, j], w.q50),
                "in90_curve": _inside(qs[0, j], qs[4, j], w.q50),
                "in50": _inside(qm[1, j], qm[2, j], mean),
                "in90": _inside(qm[0, j], qm[3, j], mean),
            }
        )
    return rows


def leave_one_out(
    data: PooledData,
    windows: Mapping[str, Sequence[ShockWindow]],
    *,
    model: ShapeModel | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 2,
    seed: int = 0,
) -> LooResult:
    """Refit without each pooled episode and score its windows.

    Parameters
    ----------
    data : PooledData
        The pooled windows (all episodes).
    windows : mapping of str to sequence of ShockWindow
        Episode id -> its windows; the informative ones are scored.
    model : ShapeModel, optional
        A compiled model of ``data`` to reuse.
    draws, tune, chains, seed
        NUTS settings of each fold.

    Returns
    -------
    LooResult
    """
    model = model or ShapeModel(data)
    rows: list[dict[str, object]] = []
    diags: dict[str, dict[str, float]] = {}
    for k, eid in enumerate(data.episodes):
        post = model.sample(held_out=eid, draws=draws, tune=tune, chains=chains, seed=seed + k)
        diags[eid] = post.diagnostics
        scored = [w for w in windows[eid] if w.informative]
        rows.extend(interval_rows(post, eid, scored, seed + 1000 + k))
    return LooResult(pd.DataFrame(rows), diags)
