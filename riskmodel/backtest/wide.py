"""The wide backtest: many origins, every bundled product, scores by scope.

:func:`run_wide_backtest` runs :func:`riskmodel.backtest.run_backtest` once per part
of a plan (:data:`WIDE_PLAN`): the magnet series from monthly origins 2023-01 to
2025-09, and the other bundled products from origins before and after their control
episodes. Every origin is a point-in-time run, exactly as ``--as-of`` (customs months
before the origin, events dated up to its end, licence counts ending before it), and
its seed is :func:`riskmodel.backtest.origin_seed` of the root seed and the origin
month, so a part gives the same numbers as ``riskmodel backtest --product P --origins
...`` with the same settings.

An origin that cannot be run at all (the product's rows fail validation, no rows
before the origin, nothing observed inside the horizon) is recorded in
``unavailable`` with the reason, for every model; a destination a model cannot
forecast at a run origin is recorded by the engine as usual. Nothing is skipped
silently.

Scopes of the wide summary (:func:`scope_frames`), per product and pooled over
products (``product == "all"``; pooled CRPS mixes series of very different size, so
read it per product):

``all``
    Every target the model scored.
``common``
    The targets every model scored (the like-for-like comparison of CRPS).
``World``, ``United States``
    One destination.
``calm``
    Targets whose month is more than :data:`POLICY_WINDOW` months from every policy
    event of the product.
``policy``
    Targets whose month lies within :data:`POLICY_WINDOW` months (before or after) of
    a policy event of the product: an event of the bundled events file that concerns
    the product (:func:`riskmodel.customs.events.events_for_product`, the events the
    model itself sees), of any type (control announced or in effect, ban, suspension,
    licences approved, deal).
``after_control``
    Targets forecast from an origin 0 to :data:`POLICY_WINDOW` months after a control
    took effect (an event of type ``control_effective`` or ``ban``,
    :data:`riskmodel.models.regimes.CONTROL_START_TYPES`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from riskmodel.backtest.calibration import PIT_BINS, best_baseline, diebold_mariano, pit_histogram
from riskmodel.backtest.engine import (
    DEFAULT_HORIZON,
    DEFAULT_PATHS,
    DEFAULT_SCENARIO,
    MODELS,
    BacktestResult,
    BacktestSpec,
    OriginResult,
    run_backtest,
)
from riskmodel.backtest.summary import SUMMARY_COLUMNS, markdown_table, summarise
from riskmodel.backtest.targets import targets_for_origin
from riskmodel.exceptions import DataValidationError
from riskmodel.sampling import SamplerConfig

#: Months either side of a policy event that count as "near" it.
POLICY_WINDOW: Final[int] = 6
#: Scopes of the wide summary, in order.
SCOPES: Final[tuple[str, ...]] = (
    "all",
    "common",
    "World",
    "United States",
    "calm",
    "policy",
    "after_control",
)
#: Columns of the wide ``summary.csv``.
WIDE_SUMMARY_COLUMNS: Final[tuple[str, ...]] = (
    "product",
    "model",
    "scope",
    *SUMMARY_COLUMNS[2:],
)
#: Columns of the wide ``unavailable.csv``.
WIDE_UNAVAILABLE_COLUMNS: Final[tuple[str, ...]] = (
    "product",
    "model",
    "origin",
    "destination",
    "targets",
    "reason",
)


def month_range(start: str, stop: str) -> tuple[str, ...]:
    """Return the months ``start .. stop`` (inclusive), ``YYYY-MM`` each.

    Raises
    ------
    ValueError
        When ``stop`` is before ``start`` or a month is malformed.
    """
    a, b = pd.Period(start, freq="M"), pd.Period(stop, freq="M")
    if b < a:
        raise ValueError(f"origin range {start}:{stop} ends before it starts")
    return tuple(str(p) for p in pd.period_range(a, b, freq="M"))


@dataclass(frozen=True)
class WidePart:
    """One part of the wide backtest: a product of a bundled file and its origins.

    Attributes
    ----------
    product : str
        Product name in the customs file.
    data : str
        Customs file: a bundled file name (``riskmodel.resources.bundled_data_file``)
        or a path.
    origins : tuple of str
        Origin months ``YYYY-MM``.
    why : str
        Why these origins (the episodes they bracket).
    """

    product: str
    data: str
    origins: tuple[str, ...]
    why: str = ""


_OTHER = "other_controls.csv"
_GA_GE = (*month_range("2023-06", "2023-10"), *month_range("2024-11", "2025-01"))

#: The default plan: magnets monthly 2023-01..2025-09; the other products around
#: their control episodes (gallium and germanium 2023-08 and the December 2024 ban,
#: graphite 2023-12, bismuth and tungsten 2025-02, rare earths 2025-04 and 2025-10).
WIDE_PLAN: Final[tuple[WidePart, ...]] = (
    WidePart("magnets", "magnet_exports.csv", month_range("2023-01", "2025-09"), "monthly origins"),
    WidePart(
        "rare_earths",
        "rare_earth_exports.csv",
        month_range("2025-02", "2025-10"),
        "controls of 2025-04 and 2025-10",
    ),
    WidePart("gallium", _OTHER, _GA_GE, "control of 2023-08, ban of 2024-12"),
    WidePart("germanium", _OTHER, _GA_GE, "control of 2023-08, ban of 2024-12"),
    WidePart("graphite_flake", _OTHER, month_range("2023-10", "2024-01"), "control of 2023-12"),
    WidePart("graphite_spherical", _OTHER, month_range("2023-10", "2024-01"), "control of 2023-12"),
    *(
        WidePart(p, _OTHER, month_range("2025-01", "2025-03"), "control of 2025-02")
        for p in (
            "bismuth_refined_and_products",
            "bismuth_unrefined_and_scrap",
            "tungsten_APT",
            "tungsten_products",
        )
    ),
)


def _data_path(name: str) -> str:
    from riskmodel.resources import bundled_data_file

    path = Path(name)
    return str(path if path.is_file() else bundled_data_file(name))


def _one_line(err: Exception) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def runnable_origins(
    part: WidePart,
    *,
    events: str | None = None,
    licences: str | None = None,
    models: Sequence[str] = MODELS,
    horizon: int = DEFAULT_HORIZON,
) -> tuple[list[str], list[dict[str, Any]]]:
    """Split a part's origins into those that can be run and unavailable rows for the rest.

    An origin can be run when the product's inputs load at that point in time and at
    least one observation of the full data lies wholly inside its horizon.

    Returns
    -------
    origins : list of str
        The origins to run.
    unavailable : list of dict
        Rows of :data:`WIDE_UNAVAILABLE_COLUMNS` (one per model and origin that
        cannot be run), with the reason.
    """
    spec = BacktestSpec(
        data=(_data_path(part.data),), events=events, licences=licences, product=part.product
    )
    rows: list[dict[str, Any]] = []

    def unavailable(origin: str, targets: int, reason: str) -> None:
        rows.extend(
            {
                "product": part.product,
                "model": m,
                "origin": origin,
                "destination": "(all)",
                "targets": targets,
                "reason": reason,
            }
            for m in models
        )

    try:
        full = spec.load(as_of=None)
    except DataValidationError as err:
        for o in part.origins:
            unavailable(o, 0, f"the product's data cannot be read: {_one_line(err)}")
        return [], rows
    ok = []
    for o in part.origins:
        try:
            n = len(targets_for_origin(full, pd.Period(o, freq="M"), horizon))
        except DataValidationError as err:
            unavailable(o, 0, _one_line(err))
            continue
        try:
            spec.load(as_of=o)
        except DataValidationError as err:
            unavailable(o, n, _one_line(err))
            continue
        ok.append(o)
    return ok, rows


def _policy_months(product: str, events: str | None) -> tuple[list[pd.Period], list[pd.Period]]:
    """Months of the product's policy events, and of its controls taking effect."""
    from riskmodel.customs.events import events_for_product, load_bundled_events, read_policy_events
    from riskmodel.models.regimes import CONTROL_START_TYPES

    table = read_policy_events(events) if events is not None else load_bundled_events()
    ev = events_for_product(table, product)
    every = sorted({pd.Period(m, freq="M") for m in ev["month"]})
    controls = sorted(
        {
            pd.Period(m, freq="M")
            for m in ev.loc[ev["event_type"].isin(CONTROL_START_TYPES), "month"]
        }
    )
    return every, controls


def label_scopes(
    scores: pd.DataFrame, events: str | None = None, window: int = POLICY_WINDOW
) -> pd.DataFrame:
    """Add the columns ``policy`` (bool) and ``after_control`` (bool) to wide scores.

    Parameters
    ----------
    scores : pandas.DataFrame
        Rows with ``product``, ``origin`` and ``month``.
    events : str, optional
        Policy events CSV; default the bundled events.
    window : int
        Months either side of an event (see the module notes).

    Returns
    -------
    pandas.DataFrame
        A copy with the two columns; ``calm`` is ``~policy``.
    """
    out = scores.copy()
    policy = np.zeros(len(out), dtype=bool)
    after = np.zeros(len(out), dtype=bool)
    for product in out["product"].unique():
        rows = (out["product"] == product).to_numpy()
        every, controls = _policy_months(str(product), events)
        month = np.array([pd.Period(m, freq="M").ordinal for m in out.loc[rows, "month"]])
        origin = np.array([pd.Period(m, freq="M").ordinal for m in out.loc[rows, "origin"]])
        near = np.zeros(month.size, dtype=bool)
        for e in every:
            near |= np.abs(month - e.ordinal) <= window
        post = np.zeros(origin.size, dtype=bool)
        for c in controls:
            lag = origin - c.ordinal
            post |= (lag >= 0) & (lag <= window)
        policy[rows], after[rows] = near, post
    out["policy"], out["after_control"] = policy, after
    return out


def scope_frames(
    scores: pd.DataFrame, models: Sequence[str]
) -> list[tuple[str, pd.DataFrame, str | None]]:
    """Return the scopes of :data:`SCOPES` as ``(name, rows, destination filter)``.

    ``scores`` must carry the ``policy`` and ``after_control`` columns of
    :func:`label_scopes`. ``common`` is handled by :func:`summarise` itself.
    """
    return [
        ("all", scores, None),
        ("World", scores[scores["destination"] == "World"], "World"),
        ("United States", scores[scores["destination"] == "United States"], "United States"),
        ("calm", scores[~scores["policy"].astype(bool)], None),
        ("policy", scores[scores["policy"].astype(bool)], None),
        ("after_control", scores[scores["after_control"].astype(bool)], None),
    ]


def wide_summary(
    scores: pd.DataFrame, unavailable: pd.DataFrame, models: Sequence[str]
) -> pd.DataFrame:
    """Mean scores and coverage per product (and pooled) and scope.

    Parameters
    ----------
    scores : pandas.DataFrame
        Wide scores with ``product``, ``policy`` and ``after_control`` columns.
    unavailable : pandas.DataFrame
        Wide unavailable rows (:data:`WIDE_UNAVAILABLE_COLUMNS`).
    models : sequence of str
        Models and their order.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`WIDE_SUMMARY_COLUMNS`; the ``unavailable`` column counts the
        unavailable targets of the product (and destination, for a destination scope).
    """
    frames = []
    groups = [("all", scores, unavailable)]
    for p in dict.fromkeys([*scores["product"], *unavailable["product"]]):
        groups.append(
            (str(p), scores[scores["product"] == p], unavailable[unavailable["product"] == p])
        )
    for product, part, unav in groups:
        for scope, rows, dest in scope_frames(part, models):
            if dest is not None:
                gone = unav[unav["destination"] == dest]
            elif scope == "all":
                gone = unav
            else:  # calm/policy/after_control of an unavailable target are not resolved
                gone = unav.iloc[0:0]
            s = summarise(rows, gone, destinations=(), models=models)
            keep = ("all", "common") if scope == "all" else ("all",)
            s = s[s["destination"].isin(keep)].copy()
            if scope != "all":
                s["destination"] = scope
            s.insert(0, "product", product)
            frames.append(s)
    out = pd.concat(frames, ignore_index=True).rename(columns={"destination": "scope"})
    order = {s: i for i, s in enumerate(SCOPES)}
    morder = {m: i for i, m in enumerate(models)}
    porder = {p: i for i, p in enumerate(dict.fromkeys(out["product"]))}
    out = out.assign(
        _p=out["product"].map(porder), _m=out["model"].map(morder), _s=out["scope"].map(order)
    )
    out = out.sort_values(["_p", "_m", "_s"], kind="stable")
    return out.reset_index(drop=True)[list(WIDE_SUMMARY_COLUMNS)]


def wide_pit(scores: pd.DataFrame, models: Sequence[str], bins: int = PIT_BINS) -> pd.DataFrame:
    """PIT histograms (``bins`` bins) and uniformity tests per product and scope."""
    frames = []
    groups = [("all", scores)] + [
        (str(p), scores[scores["product"] == p]) for p in dict.fromkeys(scores["product"])
    ]
    for product, part in groups:
        for scope, rows_, _dest in scope_frames(part, models):
            h = pit_histogram(rows_, destinations=(), models=models, bins=bins)
            h = h.assign(destination=scope).rename(columns={"destination": "scope"})
            h.insert(0, "product", product)
            frames.append(h)
    return pd.concat(frames, ignore_index=True)


def wide_diebold_mariano(
    scores: pd.DataFrame, summary: pd.DataFrame, horizon: int, bayes: str = "bayes"
) -> pd.DataFrame:
    """``bayes`` against the product's best baseline, per product and scope.

    The best baseline of a product is the one with the lowest mean CRPS on the
    product's ``common`` targets (:func:`riskmodel.backtest.calibration.best_baseline`).
    Products are not pooled (their CRPS are on different scales).
    """
    rows = []
    models = list(dict.fromkeys(scores["model"]))
    for product in dict.fromkeys(scores["product"]):
        part = scores[scores["product"] == product]
        mine = summary[(summary["product"] == product)].rename(columns={"scope": "destination"})
        ref = best_baseline(mine, bayes=bayes)
        if bayes not in set(part["model"]) or ref is None:
            continue
        for scope, rows_, _dest in scope_frames(part, models):
            if scope == "common":
                continue
            r = diebold_mariano(rows_, bayes, ref, horizon=horizon)
            r["destination"] = scope
            rows.append({"product": product, **r})
    out = pd.DataFrame(rows)
    return out.rename(columns={"destination": "scope"}) if len(out) else out


@dataclass
class WideResult:
    """What a wide backtest produced.

    Attributes
    ----------
    parts : dict of str to BacktestResult
        The backtest of each product that had at least one runnable origin.
    scores : pandas.DataFrame
        All scores, with ``product``, ``policy`` and ``after_control`` columns.
    unavailable : pandas.DataFrame
        Columns :data:`WIDE_UNAVAILABLE_COLUMNS`: targets the engine could not
        forecast and origins that could not be run, with the reason.
    runs : pandas.DataFrame
        The engine's run rows with a ``product`` column.
    settings : dict
        Models, horizon, paths, seed, sampler, the plan.
    """

    parts: dict[str, BacktestResult]
    scores: pd.DataFrame
    unavailable: pd.DataFrame
    runs: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def models(self) -> list[str]:
        """Models run, in order."""
        return list(self.settings["models"])

    def summary(self) -> pd.DataFrame:
        """Per product and scope: n, mean CRPS, WIS, absolute error, coverage."""
        return wide_summary(self.scores, self.unavailable, self.models)

    def pit(self) -> pd.DataFrame:
        """PIT histograms per product and scope."""
        return wide_pit(self.scores, self.models)

    def diebold_mariano(self) -> pd.DataFrame:
        """``bayes`` against each product's best baseline, per scope."""
        return wide_diebold_mariano(self.scores, self.summary(), int(self.settings["horizon"]))

    def markdown(self) -> str:
        """Render the wide summary as Markdown."""
        s = self.settings
        runs = self.runs
        lines = [
            "# Wide backtest summary",
            "",
            f"Models {', '.join(self.models)}; horizon {s['horizon']} months; "
            f"{s['n_paths']} paths; seed {s['seed']}; scenario of the bayes forecasts: "
            f"{s['scenario']}.",
            f"Sampler of bayes: {s.get('sampler') or 'not run'}.",
            "",
            "Plan (origins each run as --as-of):",
            "",
        ]
        for p in s["plan"]:
            lines.append(
                f"- {p['product']} ({p['data']}): {len(p['origins'])} origins "
                f"{p['origins'][0]}..{p['origins'][-1]} ({p['why']}); run: {p['run']}"
            )
        if "bayes" in self.models and len(runs):
            b = runs[runs["model"] == "bayes"]
            if len(b):
                lines += [
                    "",
                    f"bayes fits: {len(b)}; seconds per origin median "
                    f"{b['seconds'].median():.1f}, max {b['seconds'].max():.1f}; max R-hat "
                    f"{b['max_rhat'].max():.3f}; min bulk ESS {b['min_ess_bulk'].min():.0f}; "
                    f"{int(b['divergences'].fillna(0).sum())} divergences; "
                    f"{int((b['converged'] == False).sum())} fits failed the checks.",  # noqa: E712
                ]
        lines += [
            "",
            f"Scopes: calm / policy = target month more than / within {POLICY_WINDOW} months "
            "of a policy event of the product; after_control = origin 0.."
            f"{POLICY_WINDOW} months after a control took effect. Product `all` pools every "
            "product (CRPS in tonnes mixes scales: read CRPS per product).",
            "",
            "## Summary",
            "",
            markdown_table(self.summary()),
            "",
            f"## PIT ({PIT_BINS} bins) and uniformity",
            "",
            markdown_table(self.pit()),
        ]
        dm = self.diebold_mariano()
        if len(dm):
            lines += [
                "",
                "## Diebold-Mariano, bayes against the best baseline of each product",
                "",
                markdown_table(dm),
            ]
        if len(self.unavailable):
            digest = (
                self.unavailable.groupby(["product", "model", "reason"], sort=False)
                .agg(
                    origins=("origin", lambda o: ", ".join(dict.fromkeys(o))),
                    targets=("targets", "sum"),
                )
                .reset_index()
            )
            digest["reason"] = digest["reason"].str.slice(0, 160)
            lines += ["", "## Unavailable", "", markdown_table(digest)]
        return "\n".join(lines) + "\n"

    def write(self, out_dir: str | Path) -> Path:
        """Write the wide outputs to ``out_dir`` and each part's to ``out_dir/PRODUCT``."""
        from riskmodel.atomic import atomic_write, write_text

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for product, res in self.parts.items():
            res.write(out / product)
        frames = {
            "scores.csv": self.scores,
            "summary.csv": self.summary(),
            "unavailable.csv": self.unavailable,
            "runs.csv": self.runs,
            "pit.csv": self.pit(),
            "diebold_mariano.csv": self.diebold_mariano(),
        }
        for name, frame in frames.items():
            atomic_write(
                out / name, lambda p, f=frame: f.to_csv(p, index=False, float_format="%.6g")
            )
        write_text(out / "summary.md", self.markdown())
        return out


def combine(
    parts: dict[str, BacktestResult],
    skipped: Sequence[dict[str, Any]],
    settings: dict[str, Any],
    events: str | None = None,
) -> WideResult:
    """Join the per-product results and the origins that could not be run.

    Parameters
    ----------
    parts : dict of str to BacktestResult
        Each product's backtest.
    skipped : sequence of dict
        Unavailable rows (:data:`WIDE_UNAVAILABLE_COLUMNS`) of origins not run.
    settings : dict
        ``models``, ``horizon``, ``n_paths``, ``seed``, ``scenario``, ``plan`` and
        optionally ``sampler``.
    events : str, optional
        Policy events CSV of the scopes; default the bundled events.

    Returns
    -------
    WideResult
    """
    scores = [r.scores.assign(product=p) for p, r in parts.items() if len(r.scores)]
    unav = [r.unavailable.assign(product=p) for p, r in parts.items() if len(r.unavailable)]
    runs = [r.runs.assign(product=p) for p, r in parts.items() if len(r.runs)]
    s = pd.concat(scores, ignore_index=True) if scores else pd.DataFrame()
    if len(s):
        s = label_scopes(s[["product", *s.columns.drop("product")]], events)
    u = pd.concat([*unav, pd.DataFrame(list(skipped))], ignore_index=True)
    u = u.reindex(columns=list(WIDE_UNAVAILABLE_COLUMNS))
    r = pd.concat(runs, ignore_index=True) if runs else pd.DataFrame()
    if len(r):
        r = r[["product", *r.columns.drop("product")]]
    return WideResult(dict(parts), s, u, r, dict(settings))


def run_wide_backtest(
    plan: Sequence[WidePart] = WIDE_PLAN,
    *,
    events: str | None = None,
    licences: str | None = None,
    priors: str | None = None,
    models: Sequence[str] = MODELS,
    horizon: int = DEFAULT_HORIZON,
    n_paths: int = DEFAULT_PATHS,
    seed: int = 0,
    sampler: SamplerConfig | None = None,
    scenario: str = DEFAULT_SCENARIO,
    scheduler: str | None = None,
    progress: Callable[[OriginResult], None] | None = None,
) -> WideResult:
    """Run the wide backtest: each part of ``plan`` as a point-in-time backtest.

    Parameters
    ----------
    plan : sequence of WidePart
        Products and origins (default :data:`WIDE_PLAN`).
    events, licences, priors : str, optional
        As for :func:`riskmodel.backtest.run_backtest`; default the bundled files.
    models, horizon, n_paths, seed, sampler, scenario, scheduler, progress
        As for :func:`riskmodel.backtest.run_backtest` (the same for every part).

    Returns
    -------
    WideResult
    """
    parts: dict[str, BacktestResult] = {}
    skipped: list[dict[str, Any]] = []
    described = []
    for part in plan:
        ok, rows = runnable_origins(
            part, events=events, licences=licences, models=models, horizon=horizon
        )
        skipped += rows
        described.append(
            {**dataclasses.asdict(part), "run": f"{len(ok)} of {len(part.origins)} origins"}
        )
        if not ok:
            continue
        parts[part.product] = run_backtest(
            ok,
            data=_data_path(part.data),
            events=events,
            licences=licences,
            product=part.product,
            priors=priors,
            models=models,
            horizon=horizon,
            n_paths=n_paths,
            seed=seed,
            sampler=sampler,
            scenario=scenario,
            scheduler=scheduler,
            progress=progress,
        )
    settings: dict[str, Any] = {
        "models": list(models),
        "horizon": int(horizon),
        "n_paths": int(n_paths),
        "seed": int(seed),
        "scenario": scenario,
        "plan": described,
    }
    if sampler is not None and "bayes" in models:
        settings["sampler"] = (
            f"{sampler.backend}, {sampler.chains} chains x ({sampler.tune} tune + "
            f"{sampler.draws} draws), target_accept {sampler.target_accept}"
        )
    return combine(parts, skipped, settings, events)


__all__ = [
    "POLICY_WINDOW",
    "SCOPES",
    "WIDE_PLAN",
    "WIDE_SUMMARY_COLUMNS",
    "WIDE_UNAVAILABLE_COLUMNS",
    "WidePart",
    "WideResult",
    "combine",
    "label_scopes",
    "month_range",
    "run_wide_backtest",
    "runnable_origins",
    "scope_frames",
    "wide_diebold_mariano",
    "wide_pit",
    "wide_summary",
]
