"""Replay the customs releases of 2025 month by month, point in time, and print the alerts.

Usage::

    python benchmarks/replay_alerts_2025.py --work /tmp/replay2025
    python benchmarks/replay_alerts_2025.py --first 2025-03 --last 2025-06 --draws 300 --tune 300

For each release month ``r`` (the month whose figures the release brings):

1. the previous run is the point-in-time forecast as of ``r`` (``riskmodel fit
   --as-of r`` then ``riskmodel forecast``, unconditional scenario): customs months
   before ``r`` and policy events dated up to the end of ``r``, fitted with the
   light sampler settings given (default 300 draws, 300 tune, 2 chains), forecasting
   ``--horizon`` months from ``r``; the origin's seed is
   :func:`riskmodel.backtest.engine.origin_seed` of ``--seed``, as in the backtest;
2. the release is the bundled customs rows dated up to ``r`` (what ``riskmodel watch
   --data`` would be given), placed in that forecast by :func:`riskmodel.forecast.alerts.watch`
   (exactly what ``riskmodel watch --previous DIR --data NEW.csv`` prints);
3. the same release placed in the forecast made a month earlier (as of ``r - 1``,
   horizon 2), which shows what a run made before a policy event would have said;
4. the refit after the release (the forecast as of ``r + 1``) says how the latent
   state moved: the approval rate and counterfactual demand of month ``r`` as the
   previous forecast expected them (median) and as the refit estimates them.

Each origin's forecast is kept in ``--work/<origin>/paths.nc`` and reused by a rerun
with the same settings. Rows flagged ``derived`` in the bundled data are dated by the
month they describe, though some were computed from a later release's year-on-year
change; the replay treats every row as published at its month's release.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file from anywhere: use this checkout's package
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from riskmodel.forecast.alerts import load_forecast, new_observations, watch  # noqa: E402

HEADLINE = ("World", "United States")


def rows_through(month: str, out: Path) -> list[str]:
    """Write the bundled customs rows dated up to ``month``; return the files written."""
    from riskmodel.customs.read import bundled_customs_paths

    out.mkdir(parents=True, exist_ok=True)
    files = []
    cutoff = pd.Period(month, freq="M")
    for src in bundled_customs_paths():
        target = out / Path(src).name
        with open(src, newline="", encoding="utf-8-sig") as fin, target.open("w", newline="") as f:
            reader = csv.DictReader(fin)
            writer = csv.DictWriter(f, fieldnames=reader.fieldnames)
            writer.writeheader()
            for row in reader:
                if pd.Period(row["month"], freq="M") <= cutoff:
                    writer.writerow(row)
        files.append(str(target))
    return files


def origin_forecast(origin: str, args: argparse.Namespace) -> tuple[Path, dict]:
    """Fit as of ``origin`` (light settings) and forecast; reuse a saved one."""
    folder = Path(args.work) / origin
    settings = {
        "draws": args.draws,
        "tune": args.tune,
        "chains": args.chains,
        "seed": args.seed,
        "horizon": args.horizon,
        "paths": args.paths,
    }
    meta_file = folder / "replay.json"
    if (folder / "paths.nc").is_file() and meta_file.is_file():
        meta = json.loads(meta_file.read_text())
        if meta.get("settings") == settings:
            return folder / "paths.nc", meta
    from riskmodel.backtest.engine import origin_seed
    from riskmodel.pipeline import fit, forecast, load_inputs, write_forecast
    from riskmodel.sampling import SamplerConfig, default_backend

    seed = origin_seed(args.seed, origin)
    start = time.perf_counter()
    inputs = load_inputs(as_of=origin)
    sampler = SamplerConfig(
        backend=default_backend(), draws=args.draws, tune=args.tune, chains=args.chains
    )
    fitted = fit(inputs, sampler=sampler, seed=seed)
    paths = forecast(fitted, horizon=args.horizon, n_paths=args.paths, seed=seed)
    write_forecast(paths, folder)
    post = fitted.idata.posterior
    last = str(post["month"].values[-1])
    state = {}
    for dest in (str(d) for d in post["destination"].values):
        state[dest] = {
            "approval": float(post["approval"].sel(destination=dest, month=last).median()),
            "demand": float(np.exp(post["log_demand"].sel(destination=dest, month=last)).median()),
        }
    meta = {
        "settings": settings,
        "origin_seed": seed,
        "last_fitted_month": last,
        "future_regime_starts": [str(m) for m in inputs.future_regime_starts],
        "state_at_last_month": state,
        "diagnostics_passed": bool(fitted.diagnostics.passed),
        "divergences": int(fitted.diagnostics.divergences),
        "max_rhat": float(fitted.diagnostics.max_rhat),
        "seconds": round(time.perf_counter() - start, 1),
    }
    meta_file.write_text(json.dumps(meta, indent=2) + "\n")
    return folder / "paths.nc", meta


def expected_state(paths, month: str) -> dict:
    """Median approval and counterfactual demand the forecast expected for ``month``."""
    out = {}
    for dest in (str(d) for d in paths["destination"].values):
        out[dest] = {
            "approval": float(paths["approval"].sel(destination=dest, month=month).median()),
            "demand": float(paths["counterfactual"].sel(destination=dest, month=month).median()),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the replay and print each release's alerts."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--first", default="2025-01", help="first release month (2025-01)")
    p.add_argument("--last", default="2025-12", help="last release month (2025-12)")
    p.add_argument("--work", default="replay_alerts_2025", help="folder for the forecasts")
    p.add_argument("--draws", type=int, default=300)
    p.add_argument("--tune", type=int, default=300)
    p.add_argument("--chains", type=int, default=2)
    p.add_argument("--paths", type=int, default=1000)
    p.add_argument("--horizon", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-refit", action="store_true", help="skip the refit after each release")
    p.add_argument(
        "--no-earlier",
        action="store_true",
        help="skip the check against the forecast a month older",
    )
    p.add_argument("--json", help="also write every release's checks to this JSON file")
    args = p.parse_args(argv)

    releases = pd.period_range(args.first, args.last, freq="M")
    print(
        f"Replay of the {len(releases)} customs releases {releases[0]}..{releases[-1]}, point in "
        f"time; each previous forecast fitted as of the release month with {args.draws} draws, "
        f"{args.tune} tune, {args.chains} chains (light settings), unconditional scenario, "
        f"{args.paths} paths, horizon {args.horizon}, seed {args.seed}.\n"
    )
    everything = []
    for r in releases:
        origin = str(r)
        path, meta = origin_forecast(origin, args)
        paths = load_forecast(path)
        files = rows_through(origin, Path(args.work) / origin / "release")
        result = watch(paths, new_observations(files, "magnets"), source=str(path))
        new = [c for c in result.scored if c.month == origin]
        alerts = [c for c in new if c.alert]
        print(
            f"## Release of {origin} (previous forecast as of {origin}: data through "
            f"{meta['last_fitted_month']}; regimes known ahead: "
            f"{', '.join(meta['future_regime_starts']) or 'none'}; fit "
            f"{'passed' if meta['diagnostics_passed'] else 'failed'} its checks, "
            f"max R-hat {meta['max_rhat']:.3f}, {meta['divergences']} divergences)"
        )
        for c in alerts:
            print(f"ALERT  {c.message} [PIT {c.pit:.3f}, tail {c.tail_probability:.3f}]")
        for c in new:
            if not c.alert:
                print(f"ok     {c.message}")
        for c in result.checks:
            if c.status != "scored" and c.month == origin:
                print(f"note   {c.message}")
        if not new:
            print("(no figure of this month in the release)")
        record = {"release": origin, "meta": meta, "checks": result.to_dict()["checks"]}
        if not args.no_earlier:
            # The same release against the forecast made a month earlier (horizon 2).
            earlier = str(r - 1)
            path_e, meta_e = origin_forecast(earlier, args)
            res_e = watch(load_forecast(path_e), new_observations(files, "magnets"))
            new_e = [c for c in res_e.scored if c.month == origin]
            flagged = [c for c in new_e if c.alert]
            quiet = [f"{c.destination} PIT {c.pit:.2f}" for c in new_e if not c.alert]
            print(
                f"h=2    against the forecast as of {earlier} (regimes known ahead: "
                f"{', '.join(meta_e['future_regime_starts']) or 'none'}): "
                + ("; ".join(f"ALERT {c.message} [PIT {c.pit:.3f}]" for c in flagged) or "no alert")
                + (f" (inside: {', '.join(quiet)})" if quiet else "")
            )
            record["earlier"] = {"origin": earlier, "checks": res_e.to_dict()["checks"]}
        if not args.no_refit:
            after = str(r + 1)
            _, meta_after = origin_forecast(after, args)
            before = expected_state(paths, origin)
            moved = []
            for dest in HEADLINE:
                if dest in before and dest in meta_after["state_at_last_month"]:
                    b, a = before[dest], meta_after["state_at_last_month"][dest]
                    moved.append(
                        f"{dest}: approval {b['approval']:.2f} -> {a['approval']:.2f}, "
                        f"demand {b['demand']:,.0f} -> {a['demand']:,.0f} t"
                    )
            print(
                f"refit  after the release (as of {after}), month {origin} expected -> "
                f"estimated: " + "; ".join(moved)
            )
            record["refit"] = {"origin": after, "expected": before, "meta": meta_after}
        print()
        sys.stdout.flush()
        everything.append(record)
    if args.json:
        Path(args.json).write_text(json.dumps(everything, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
