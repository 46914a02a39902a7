"""Backtests against real history and simulation-based calibration of the Bayesian model.

- :func:`run_backtest`: point-in-time forecasts from several origins (each exactly as
  ``--as-of``) by the Bayesian model and the statsmodels baselines, scored against the
  observations that followed (CRPS, weighted interval score, absolute error, interval
  coverage); ``riskmodel backtest`` on the command line.
- :mod:`riskmodel.backtest.scoring`: the proper scores, from samples.
- :mod:`riskmodel.backtest.sbc`: simulation-based calibration (Talts et al. 2018),
  ``python -m riskmodel.backtest.sbc``.

See ``docs/backtest.md``.
"""

from riskmodel.backtest.calibration import diebold_mariano, pit_histogram
from riskmodel.backtest.engine import (
    DEFAULT_HORIZON,
    DEFAULT_ORIGINS,
    DEFAULT_PATHS,
    MODELS,
    RUN_COLUMNS,
    SCORE_COLUMNS,
    UNAVAILABLE_COLUMNS,
    BacktestResult,
    BacktestSpec,
    OriginResult,
    OriginTask,
    origin_seed,
    run_backtest,
    run_origin,
)
from riskmodel.backtest.scoring import (
    INTERVAL_LEVELS,
    crps_sample,
    interval_score,
    score_samples,
    weighted_interval_score,
)
from riskmodel.backtest.summary import SUMMARY_COLUMNS, summarise, summarise_by_origin
from riskmodel.backtest.targets import Target, observed_targets, target_samples, targets_for_origin

__all__ = [
    "DEFAULT_HORIZON",
    "DEFAULT_ORIGINS",
    "DEFAULT_PATHS",
    "INTERVAL_LEVELS",
    "MODELS",
    "RUN_COLUMNS",
    "SCORE_COLUMNS",
    "SUMMARY_COLUMNS",
    "UNAVAILABLE_COLUMNS",
    "BacktestResult",
    "BacktestSpec",
    "OriginResult",
    "OriginTask",
    "Target",
    "crps_sample",
    "diebold_mariano",
    "interval_score",
    "observed_targets",
    "origin_seed",
    "pit_histogram",
    "run_backtest",
    "run_origin",
    "score_samples",
    "summarise",
    "summarise_by_origin",
    "target_samples",
    "targets_for_origin",
    "weighted_interval_score",
]
