"""Calibration of backtest forecasts: PIT histograms and Diebold-Mariano tests.

``pit_histogram``
    Per model and scope, the PIT values of the scored targets in 10 equal bins and a
    chi-square test of uniformity. A hump in the middle means intervals too wide, a
    U shape intervals too narrow (overconfidence), a slope a biased median. Targets of
    one origin share the origin's forecast and overlapping origins share outcomes, so
    they are not independent and the p-value is only a screen: in simulated backtests
    with the magnet layout (33 origins, horizons 1-6) a calibrated forecast is
    rejected at 1% in most runs (``benchmarks/pit_test_size.py``, docs/backtest.md).
``diebold_mariano``
    Is one model's mean CRPS lower than another's on the same targets? Per origin,
    the mean CRPS difference over the common targets; those differences are averaged
    over origins and their variance estimated with a Newey-West (Bartlett) window of
    ``horizon - 1`` lags, since forecasts from consecutive monthly origins overlap.
    The statistic gets Harvey, Leybourne and Newbold's (1997) small-sample correction
    and is compared with a Student t with ``n - 1`` degrees of freedom (n origins).
    A negative statistic favours the first model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd
from scipy import stats

from riskmodel.backtest.summary import HEADLINE_DESTINATIONS, common_targets

__all__ = ["PIT_BINS", "best_baseline", "diebold_mariano", "pit_histogram"]

#: Bins of the PIT histogram.
PIT_BINS: Final[int] = 10


def _scopes(scores: pd.DataFrame, destinations: Sequence[str]) -> list[tuple[str, pd.DataFrame]]:
    return [("all", scores)] + [(d, scores[scores["destination"] == d]) for d in destinations]


def pit_histogram(
    scores: pd.DataFrame,
    *,
    destinations: Sequence[str] = HEADLINE_DESTINATIONS,
    models: Sequence[str] | None = None,
    bins: int = PIT_BINS,
) -> pd.DataFrame:
    """PIT histogram and chi-square uniformity test per model and scope.

    Parameters
    ----------
    scores : pandas.DataFrame
        ``scores.csv`` rows with a ``pit`` column.
    destinations : sequence of str
        Destinations with a scope of their own (besides ``all``).
    models : sequence of str, optional
        Models and their order; default: in order of appearance.
    bins : int
        Equal-width bins on [0, 1].

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``destination``, ``n``, ``bin1`` ... ``bin{bins}`` (counts),
        ``chi2`` and ``p_uniform``.
    """
    models = list(models) if models is not None else list(dict.fromkeys(scores["model"]))
    edges = np.linspace(0.0, 1.0, bins + 1)
    rows = []
    for model in models:
        for scope, part in _scopes(scores[scores["model"] == model], destinations):
            pit = part["pit"].astype(float).to_numpy()
            counts = np.histogram(np.clip(pit, 0.0, 1.0), bins=edges)[0]
            n = int(counts.sum())
            if n:
                chi2, p = stats.chisquare(counts)
            else:
                chi2, p = math.nan, math.nan
            row = {"model": model, "destination": scope, "n": n}
            row.update({f"bin{k + 1}": int(c) for k, c in enumerate(counts)})
            row.update({"chi2": float(chi2), "p_uniform": float(p)})
            rows.append(row)
    columns = ["model", "destination", "n", *(f"bin{k + 1}" for k in range(bins))]
    return pd.DataFrame(rows, columns=[*columns, "chi2", "p_uniform"])


def _newey_west_variance(d: np.ndarray, lags: int) -> float:
    """Long-run variance of ``d`` with a Bartlett window of ``lags`` lags."""
    e = d - d.mean()
    n = e.size
    var = float(e @ e) / n
    for k in range(1, min(lags, n - 1) + 1):
        var += 2.0 * (1.0 - k / (lags + 1)) * float(e[k:] @ e[:-k]) / n
    return max(var, 0.0)


def diebold_mariano(
    scores: pd.DataFrame,
    model: str,
    reference: str,
    *,
    destination: str = "all",
    horizon: int = 1,
) -> dict[str, float | int | str]:
    """Diebold-Mariano test of mean CRPS, ``model`` against ``reference``.

    Parameters
    ----------
    scores : pandas.DataFrame
        ``scores.csv`` rows (``model``, ``origin``, ``destination``, ``month``, ``crps``).
    model, reference : str
        The two models; only targets both scored are used.
    destination : str
        ``"all"`` or one destination.
    horizon : int
        Forecast horizon in months: the Newey-West window is ``horizon - 1`` lags.

    Returns
    -------
    dict
        ``model``, ``reference``, ``destination``, ``origins`` (n), ``targets``,
        ``mean_diff`` (mean CRPS of ``model`` minus ``reference``, tonnes), ``dm``
        (statistic) and ``p_value`` (two-sided); NaN when fewer than 3 origins.
    """
    both = common_targets(scores, [model, reference])
    if destination != "all":
        both = both[both["destination"] == destination]
    keys = ["origin", "destination", "month"]
    wide = both.pivot_table(index=keys, columns="model", values="crps", aggfunc="mean")
    out: dict[str, float | int | str] = {
        "model": model,
        "reference": reference,
        "destination": destination,
        "origins": 0,
        "targets": len(wide),
        "mean_diff": math.nan,
        "dm": math.nan,
        "p_value": math.nan,
    }
    if wide.empty:
        return out
    diff = (wide[model] - wide[reference]).groupby(level="origin").mean().sort_index()
    d = diff.to_numpy(dtype=float)
    n = d.size
    out.update(origins=n, mean_diff=float(d.mean()))
    if n < 3:
        return out
    h = max(int(horizon), 1)
    var = _newey_west_variance(d, h - 1)
    if var == 0.0:
        return out
    correction = math.sqrt(max((n + 1 - 2 * h + h * (h - 1) / n) / n, 1e-12))
    dm = float(d.mean()) / math.sqrt(var / n) * correction
    out.update(dm=dm, p_value=float(2.0 * stats.t.sf(abs(dm), df=n - 1)))
    return out


def best_baseline(summary: pd.DataFrame, bayes: str = "bayes") -> str | None:
    """Return the non-Bayesian model with the lowest mean CRPS on the ``common`` targets."""
    common = summary[(summary["destination"] == "common") & (summary["model"] != bayes)]
    common = common[np.isfinite(common["crps"].astype(float))]
    if common.empty:
        return None
    return str(common.sort_values("crps").iloc[0]["model"])
