"""Join the ``bayes`` rows of wide backtests with the baselines' rows of another run.

A change to the Bayesian model leaves the statsmodels baselines' code alone, and
every origin's seed depends only on ``--seed`` and the origin
(:func:`riskmodel.backtest.engine.origin_seed`), not on which models or products ran.
So the wide outputs of "the new ``bayes`` plus the earlier baselines" are what one
``riskmodel backtest --wide`` run of all models would write (SARIMAX's scores are
not bit-reproducible between runs: they may differ in the last digits). This script
writes them, so the baselines need not be refitted for each model variant::

    python -m riskmodel backtest --wide --models bayes --draws 500 --tune 500 \\
        --chains 2 --seed 0 --out runs/wide_bayes
    python benchmarks/merge_wide_runs.py --bayes runs/wide_bayes \\
        --baselines docs/backtest_wide --out runs/wide
    python benchmarks/wide_backtest_report.py runs/wide

``--bayes`` takes several directories (e.g. magnets and the other products run as
two ``--parts`` runs). Horizon, paths, seed, scenario and the sampler line are read
from each run's ``summary.md``; runs that disagree on any but the sampler are refused.
The plan is :data:`riskmodel.backtest.wide.WIDE_PLAN`, with the origins that ran.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from pathlib import Path

import pandas as pd

from riskmodel.backtest.engine import BacktestResult
from riskmodel.backtest.wide import WIDE_PLAN, WideResult, label_scopes

MODELS = ("bayes", "snaive", "ets", "sarimax")


def _read(directory: Path, name: str) -> pd.DataFrame:
    path = directory / name
    return (
        pd.read_csv(path, dtype={"origin": str, "month": str}) if path.exists() else pd.DataFrame()
    )


def _rows(dirs: list[Path], name: str, keep_bayes: bool) -> pd.DataFrame:
    frames = []
    for d in dirs:
        frame = _read(d, name)
        if len(frame):
            frames.append(frame[(frame["model"] == "bayes") == keep_bayes])
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


_SETTINGS = re.compile(
    r"^Models .*; horizon (?P<horizon>\d+) months; (?P<n_paths>\d+) paths; seed (?P<seed>\d+); "
    r"scenario of the bayes forecasts: (?P<scenario>[^.]+)\.$"
)


def _settings(directory: Path) -> dict[str, object]:
    """Horizon, paths, seed, scenario and sampler line from a wide run's ``summary.md``."""
    found: dict[str, object] = {}
    path = directory / "summary.md"
    if not path.is_file():
        raise SystemExit(f"{path}: not found (give the --out directory of a wide backtest)")
    for line in path.read_text(encoding="utf-8").splitlines():
        if m := _SETTINGS.match(line):
            found.update(
                horizon=int(m["horizon"]),
                n_paths=int(m["n_paths"]),
                seed=int(m["seed"]),
                scenario=m["scenario"],
            )
        elif line.startswith("Sampler of bayes: "):
            found["sampler"] = line.removeprefix("Sampler of bayes: ").rstrip(".")
    if "horizon" not in found:
        raise SystemExit(f"{path}: no settings line (is it a wide backtest's summary.md?)")
    return found


def merge(bayes_dirs: list[Path], baseline_dir: Path) -> WideResult:
    """Return ``bayes`` of ``bayes_dirs`` with the baselines of ``baseline_dir``, as one run."""
    scores = pd.concat(
        [_rows(bayes_dirs, "scores.csv", True), _rows([baseline_dir], "scores.csv", False)],
        ignore_index=True,
    )
    unavailable = pd.concat(
        [
            _rows(bayes_dirs, "unavailable.csv", True),
            _rows([baseline_dir], "unavailable.csv", False),
        ],
        ignore_index=True,
    )
    runs = pd.concat(
        [_rows(bayes_dirs, "runs.csv", True), _rows([baseline_dir], "runs.csv", False)],
        ignore_index=True,
    )
    base_cols = [c for c in scores.columns if c not in ("policy", "after_control")]
    scores = label_scopes(scores[base_cols])
    settings: dict[str, object] = {"models": list(MODELS)}
    runs_settings = [_settings(d) for d in [*bayes_dirs, baseline_dir]]
    for key in ("horizon", "n_paths", "seed", "scenario"):
        values = {r[key] for r in runs_settings}
        if len(values) > 1:
            raise SystemExit(f"the runs disagree on {key}: {sorted(map(str, values))}")
        settings[key] = values.pop()
    settings.update(sampler=runs_settings[0].get("sampler"), plan=[])
    parts = {}
    for part in WIDE_PLAN:
        origins = sorted(set(runs.loc[runs["product"] == part.product, "origin"]))
        settings["plan"].append(
            {
                **dataclasses.asdict(part),
                "run": f"{len(origins)} of {len(part.origins)} origins",
            }
        )
        if not origins:
            continue
        mine = {
            "scores": scores[scores["product"] == part.product],
            "unavailable": unavailable[unavailable["product"] == part.product],
            "runs": runs[runs["product"] == part.product],
        }
        parts[part.product] = BacktestResult(
            **{k: v.drop(columns=["product", "policy", "after_control"], errors="ignore")
               for k, v in mine.items()},
            settings={"origins": origins, "models": list(MODELS), **{
                k: settings[k] for k in ("horizon", "n_paths", "seed")}},
        )  # fmt: skip
    return WideResult(parts, scores, unavailable, runs, settings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bayes", nargs="+", type=Path, required=True)
    parser.add_argument("--baselines", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    merge(args.bayes, args.baselines).write(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
