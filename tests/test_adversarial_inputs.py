"""Bad inputs on every surface: exit 2, one line naming the input, no traceback, nothing written.

Table-driven: the cases are generated from the bundled YAML files (each numeric leaf
set to a non-number, a non-finite or an empty value; a key added, duplicated or
dropped) and from hand-written CSV, file and argument cases. Each runs the real
command line in process (``riskmodel.cli.main``) or a library call, and every case
fails during validation, before any model is compiled or sampled: ``fit_model`` is
replaced by a function that fails the test if a case ever gets that far. Two
hypothesis tests corrupt random leaves of the priors and propagation files: each
variant either loads or is refused with one ``PriorsError`` line, never another
exception.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskmodel.cli import main
from riskmodel.exceptions import RiskModelError

ROOT = Path(__file__).resolve().parents[1]
PRIORS = ROOT / "priors"

#: Values no numeric setting or distribution parameter accepts.
NOT_NUMBERS: tuple[Any, ...] = ("x", [], {}, None, float("nan"), float("inf"), "1e999")


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _dump(doc: Any) -> str:
    return yaml.dump(doc, Dumper=_DUMPER, sort_keys=False, allow_unicode=True)


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _spread(items: list[Any], limit: int) -> list[Any]:
    """At most ``limit`` of ``items``, evenly spread over them (all when fewer)."""
    if len(items) <= limit:
        return items
    return [items[round(i * (len(items) - 1) / (limit - 1))] for i in range(limit)]


def _numeric_leaves(doc: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths of every int or float leaf (not bools)."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _numeric_leaves(value, (*path, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from _numeric_leaves(value, (*path, i))
    elif isinstance(doc, (int, float)) and not isinstance(doc, bool):
        yield path


def _dist_mappings(doc: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths of every mapping that declares a distribution (``dist:``)."""
    if isinstance(doc, dict):
        if "dist" in doc:
            yield path
        for key, value in doc.items():
            yield from _dist_mappings(value, (*path, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from _dist_mappings(value, (*path, i))


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def _with(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    new = copy.deepcopy(doc)
    _get(new, path[:-1])[path[-1]] = value
    return new


def _without(doc: Any, path: tuple[Any, ...]) -> Any:
    new = copy.deepcopy(doc)
    del _get(new, path[:-1])[path[-1]]
    return new


def _label(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


def _yaml_mutations(
    doc: Any,
    *,
    within: tuple[Any, ...] = (),
    required: tuple[str, ...] = (),
    limit: int = 1000,
) -> list[tuple[str, str]]:
    """(case id, file text) for a systematic set of invalid variants of ``doc``.

    Only the part under ``within`` is mutated (the rest of the file is data that is
    not validated). Each numeric leaf gets one value of :data:`NOT_NUMBERS` (in
    turn, so that every kind of bad value meets every kind of field); each
    distribution gets an unknown parameter, a negative scale where it has one, and
    loses its ``dist:``; each ``required`` top-level key is dropped; the first
    top-level key is duplicated; the document is replaced by a list and a scalar.
    At most ``limit`` leaves and ``limit`` distributions are used, evenly spread.
    """
    cases: list[tuple[str, str]] = []
    part = _get(doc, within)
    for i, leaf in enumerate(_spread(list(_numeric_leaves(part)), limit)):
        bad = NOT_NUMBERS[i % len(NOT_NUMBERS)]
        cases.append((f"{_label(leaf)}={bad!r}", _dump(_with(doc, within + leaf, bad))))
    for spot in _spread(list(_dist_mappings(part)), limit):
        where = within + spot
        cases.append((f"{_label(spot)}+unknown", _dump(_with(doc, (*where, "sigmaa"), 1.0))))
        cases.append((f"{_label(spot)}-dist", _dump(_without(doc, (*where, "dist")))))
        cases.append((f"{_label(spot)}.dist=Bogus", _dump(_with(doc, (*where, "dist"), "Bogus"))))
        for scale in ("sigma", "beta", "scale"):
            if isinstance(_get(doc, where).get(scale), (int, float)):
                cases.append((f"{_label(spot)}.{scale}=-1", _dump(_with(doc, (*where, scale), -1))))
                cases.append((f"{_label(spot)}.{scale}=0", _dump(_with(doc, (*where, scale), 0))))
                break
    for key in required:
        cases.append((f"-{key}", _dump(_without(doc, (key,)))))
    first = next(iter(doc))
    text = _dump(doc)
    cases.append((f"duplicate {first}", text + f"{first}: {_dump(doc[first]).strip()}\n"))
    cases.append(("unknown top-level key", text + "zzz_unknown: 1\n"))
    cases.append(("a list", "- 1\n- 2\n"))
    cases.append(("a scalar", "42\n"))
    return cases


#: Damaged files any YAML surface must refuse with one line.
BROKEN_YAML: dict[str, bytes] = {
    "empty": b"",
    "binary": bytes(range(256)) * 4,
    "not utf-8": "model: caf\u00e9\n".encode("latin-1"),
    "unclosed bracket": b"model: [1, 2\n",
    "tab indent": b"model: x\nregimes:\n\t- a\n",
    "alias bomb": b"a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n",
    "deep nesting": b"a: " + b"[" * 200 + b"]" * 200 + b"\n",
    "huge": b"# " + b"x" * 2_100_000 + b"\n",
    "python tag": b"model: !!python/object/apply:os.system ['true']\n",
    "two documents": b"model: a\n---\nmodel: b\n",
}


# --------------------------------------------------------------------------- cases


def _scenario_cases() -> list[tuple[str, str]]:
    cases = []
    for name in ("escalation", "suspension_lapse", "us_embargo", "unconditional"):
        doc = _load(PRIORS / "scenarios" / f"{name}.yaml")
        for case, text in _yaml_mutations(doc, required=("regimes",)):
            cases.append((f"{name}: {case}", text))
    base = _load(PRIORS / "scenarios" / "escalation.yaml")
    extra = {
        "start in year 0": _with(base, ("regimes", 1, "start"), "0000-01"),
        "start in 9999": _with(base, ("regimes", 1, "start"), "9999-01"),
        "start +0.5": _with(base, ("regimes", 1, "start"), "+0.5"),
        "start a list": _with(base, ("regimes", 1, "start"), [1]),
        "unknown kind": _with(base, ("regimes", 1, "kind"), "embargo_maybe"),
        "no regimes": _with(base, ("regimes",), []),
        "regimes a mapping": _with(base, ("regimes",), {"a": 1}),
        "destinations a number": _with(base, ("regimes", 1, "destinations"), 3),
        "name not a string": _with(base, ("name",), [1, 2]),
        "propagation a list": {**base, "propagation": [1]},
        "Beta 1e308": _with(
            base, ("regimes", 1, "depth"), {"dist": "Beta", "alpha": 1e308, "beta": 1e308}
        ),
    }
    cases += [(f"escalation: {k}", _dump(v)) for k, v in extra.items()]
    return cases


def _priors_cases() -> list[tuple[str, str]]:
    doc = _load(PRIORS / "export_model.yaml")
    cases = _yaml_mutations(doc, within=(), required=("priors",))
    settings = doc.get("settings") or {}
    for key in settings:
        cases.append((f"settings.{key}=-4", _dump(_with(doc, ("settings", key), -4))))
    cases.append(("model: other", _dump(_with(doc, ("model",), "other_model"))))
    return cases


def _params_cases() -> list[tuple[str, str]]:
    doc = _load(PRIORS / "propagation.yaml")
    cases = _yaml_mutations(doc, required=("regions", "industries", "base_demand_tpy"), limit=20)
    return cases


def _shape_cases() -> list[tuple[str, str]]:
    doc = _load(PRIORS / "shock_shape.yaml")
    cases = _yaml_mutations(doc, within=("shape",), required=("shape",))
    cases.append(("model: other", _dump(_with(doc, ("model",), "other"))))
    return [(c, t) for c, t in cases if c not in ("a list", "a scalar")] + [
        ("a list", "- 1\n"),
        ("a scalar", "42\n"),
    ]


REPORT_CONFIGS: dict[str, str] = {
    "horizon x": "horizon: x\n",
    "horizon []": "horizon: []\n",
    "horizon -1": "horizon: -1\n",
    "horizon 1e308": "horizon: 1e308\n",
    "horizon .nan": "horizon: .nan\n",
    "paths {}": "paths: {}\n",
    "paths 0": "paths: 0\n",
    "paths true": "paths: true\n",
    "seed -1": "seed: -1\n",
    "seed x": "seed: x\n",
    "draws 1e308": "draws: 1e308\n",
    "tune -1": "tune: -1\n",
    "chains 0": "chains: 0\n",
    "chains 1000": "chains: 1000\n",
    "scenario unknown names in a list": "scenario: [baseline, no_such]\n",
    "scenario listed twice": "scenario: [baseline, baseline]\n",
    "scenario unknown name": "scenario: no_such_scenario\n",
    "data a number": "data: 3\n",
    "data a mapping": "data: {a: 1}\n",
    "data missing file": "data: [/nonexistent/customs.csv]\n",
    "events a list": "events: [1]\n",
    "duplicate seed": "seed: 1\nseed: 2\n",
    "unknown key": "hrizon: 12\n",
    "nested unknown": "sampler: {draws: 5}\n",
    "null document key": "~: 1\n",
}


EVENTS_HEADER = "date,commodity,event_type,description,source\n"
EVENT_ROW = "2025-04-04,magnets,control,April control,https://example.org\n"
EVENTS: dict[str, str] = {
    "empty": "",
    "header only wrong": "when,what\n2025-04-04,x\n",
    "missing column": "date,commodity,event_type\n2025-04-04,magnets,control\n",
    "date not a date": EVENTS_HEADER + "yesterday,magnets,control,x,y\n",
    "date year 0": EVENTS_HEADER + "0000-04-04,magnets,control,x,y\n",
    "date 2300": EVENTS_HEADER + "2300-04-04,magnets,control,x,y\n",
    "date 9999": EVENTS_HEADER + "9999-12-31,magnets,control,x,y\n",
    "date 2025-13-01": EVENTS_HEADER + "2025-13-01,magnets,control,x,y\n",
    "date 2025-02-30": EVENTS_HEADER + "2025-02-30,magnets,control,x,y\n",
    "empty date": EVENTS_HEADER + ",magnets,control,x,y\n",
    "unknown event type": EVENTS_HEADER + "2025-04-04,magnets,maybe_control,x,y\n",
    "empty event type": EVENTS_HEADER + "2025-04-04,magnets,,x,y\n",
    "ragged row": EVENTS_HEADER + "2025-04-04,magnets\n",
    "extra field": EVENTS_HEADER + "2025-04-04,magnets,control,x,y,z,w\n",
    "binary": "\x00\x01\x02\x03" * 100,
    "duplicate header": "date,date,commodity,event_type,description,source\n" + EVENT_ROW,
}

LICENCE_HEADER = "product,destination,start,end,applications,approved,description,source\n"
LICENCES: dict[str, str] = {
    "empty": "",
    "missing column": "product,destination,start,end\nmagnets,World,2025-04,2025-06\n",
    "approved > applications": LICENCE_HEADER + "magnets,World,2025-04,2025-06,10,11,x,y\n",
    "negative applications": LICENCE_HEADER + "magnets,World,2025-04,2025-06,-10,1,x,y\n",
    "negative approved": LICENCE_HEADER + "magnets,World,2025-04,2025-06,10,-1,x,y\n",
    "applications x": LICENCE_HEADER + "magnets,World,2025-04,2025-06,x,1,x,y\n",
    "approved 1.5": LICENCE_HEADER + "magnets,World,2025-04,2025-06,10,1.5,x,y\n",
    "applications 2**64": LICENCE_HEADER + f"magnets,World,2025-04,2025-06,{2**64},1,x,y\n",
    "applications 2**60": LICENCE_HEADER + f"magnets,World,2025-04,2025-06,{2**60},1,x,y\n",
    "start after end": LICENCE_HEADER + "magnets,World,2025-06,2025-04,10,1,x,y\n",
    "start not a month": LICENCE_HEADER + "magnets,World,April,2025-06,10,1,x,y\n",
    "start 13th month": LICENCE_HEADER + "magnets,World,2025-13,2025-14,10,1,x,y\n",
    "start year 0": LICENCE_HEADER + "magnets,World,0000-01,0000-02,10,1,x,y\n",
    "end 9999": LICENCE_HEADER + "magnets,World,2025-04,9999-12,10,1,x,y\n",
    "empty destination": LICENCE_HEADER + "magnets,,2025-04,2025-06,10,1,x,y\n",
    "ragged row": LICENCE_HEADER + "magnets,World\n",
    "applications inf": LICENCE_HEADER + "magnets,World,2025-04,2025-06,inf,1,x,y\n",
    "applications nan": LICENCE_HEADER + "magnets,World,2025-04,2025-06,nan,1,x,y\n",
}


# --------------------------------------------------------------------------- harness


def _snapshot(*roots: Path) -> dict[str, str]:
    """Every file and folder under ``roots`` with a digest of its bytes."""
    state = {}
    for root in roots:
        if not root.exists():
            continue
        for p in sorted(root.rglob("*")):
            state[str(p)] = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return state


@pytest.fixture(autouse=True)
def _never_fit(monkeypatch):
    """A case that got as far as fitting a model has not been refused at the edge."""

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the input was accepted and a model fit started")

    monkeypatch.setattr("riskmodel.models.fit.fit_model", refuse)


def _refused(argv: list[str], named: str, capsys, *roots: Path, out: Path | None = None) -> str:
    """Run ``argv``; assert exit 2, one line naming ``named``, nothing written; return it."""
    before = _snapshot(*roots)
    code = main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, (code, err[-2000:])
    assert "Traceback" not in err, err[-2000:]
    usage = [line for line in lines if line.startswith("usage:")]
    assert len(lines) - len(usage) == 1, err[-2000:]
    message = lines[-1]
    assert named in message, message
    assert len(message) < 2000, message[:300]
    assert _snapshot(*roots) == before
    if out is not None:
        assert not out.exists()
    return message


@pytest.fixture(scope="module")
def forecast_dir(tmp_path_factory) -> Path:
    """A small forecast folder (20 made-up paths, 2 months, baseline) for the shortage cases."""
    import numpy as np
    import xarray as xr

    from riskmodel.pipeline import carry_scenario, resolve_scenario, write_forecast

    tonnes = {"World": 5000.0, "United States": 450.0, "European Union": 2000.0, "Japan": 300.0}
    rng = np.random.default_rng(0)
    cf = np.array(list(tonnes.values()))[None, :, None] * rng.lognormal(0, 0.05, (20, 1, 2))
    dims = ("path", "destination", "month")
    paths = xr.Dataset(
        {"exports": (dims, cf * rng.beta(4, 2, (20, 1, 2))), "counterfactual": (dims, cf)},
        coords={
            "path": np.arange(20),
            "destination": list(tonnes),
            "month": ["2026-01", "2026-02"],
        },
        attrs={"product": "magnets", "seed": 0, "riskmodel_version": "test"},
    )
    carry_scenario(paths, resolve_scenario("baseline"))
    out = write_forecast(paths, tmp_path_factory.mktemp("forecast") / "fc")
    assert main(["shortage", "--forecast", str(out), "--out", str(out.parent / "ok")]) == 0
    return out


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def _ids(cases: list[tuple[str, Any]]) -> list[str]:
    return [c for c, _ in cases]


SCENARIOS = _scenario_cases() + [(f"broken: {k}", v) for k, v in BROKEN_YAML.items()]
PRIOR_FILES = _priors_cases() + [(f"broken: {k}", v) for k, v in BROKEN_YAML.items()]
PARAM_FILES = _params_cases() + [(f"broken: {k}", v) for k, v in BROKEN_YAML.items()]
SHAPE_FILES = _shape_cases() + [(f"broken: {k}", v) for k, v in BROKEN_YAML.items()]


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("content", [c for _, c in SCENARIOS], ids=_ids(SCENARIOS))
def test_bad_scenario_file_on_forecast(tmp_path, capsys, content):
    path = _write(tmp_path, "scenario.yaml", content)
    out = tmp_path / "out"
    _refused(
        ["forecast", "--scenario", str(path), "--out", str(out)],
        str(path),
        capsys,
        tmp_path,
        out=out,
    )


@pytest.mark.parametrize("content", [c for _, c in PRIOR_FILES], ids=_ids(PRIOR_FILES))
def test_bad_priors_file_on_fit(tmp_path, capsys, content):
    path = _write(tmp_path, "priors.yaml", content)
    out = tmp_path / "fit"
    _refused(
        ["fit", "--priors", str(path), "--out", str(out)], str(path), capsys, tmp_path, out=out
    )


@pytest.mark.parametrize("content", [c for _, c in PARAM_FILES], ids=_ids(PARAM_FILES))
def test_bad_propagation_params_on_shortage(tmp_path, capsys, forecast_dir, content):
    path = _write(tmp_path, "propagation.yaml", content)
    out = tmp_path / "short"
    argv = ["shortage", "--forecast", str(forecast_dir), "--params", str(path), "--out", str(out)]
    _refused(argv, str(path), capsys, tmp_path, forecast_dir, out=out)


@pytest.mark.parametrize("content", [c for _, c in SHAPE_FILES], ids=_ids(SHAPE_FILES))
def test_bad_shock_shape_on_shocks_table(tmp_path, capsys, content):
    path = _write(tmp_path, "shape.yaml", content)
    figure, csv = tmp_path / "fig.png", tmp_path / "table.csv"
    argv = ["shocks", "table", "--shape", str(path), "--figure", str(figure), "--csv", str(csv)]
    _refused(argv, str(path), capsys, tmp_path)
    assert not figure.exists() and not csv.exists()


@pytest.mark.parametrize("content", list(REPORT_CONFIGS.values()), ids=list(REPORT_CONFIGS))
def test_bad_report_config(tmp_path, capsys, content):
    path = _write(tmp_path, "report.yaml", content)
    out = tmp_path / "report"
    _refused(
        ["report", "--config", str(path), "--out", str(out)], str(path), capsys, tmp_path, out=out
    )
    assert not (tmp_path / "report.d").exists()


@pytest.mark.parametrize("content", list(EVENTS.values()), ids=list(EVENTS))
def test_bad_events_csv_on_fit(tmp_path, capsys, content):
    path = _write(tmp_path, "events.csv", content)
    out = tmp_path / "fit"
    _refused(
        ["fit", "--events", str(path), "--out", str(out)], str(path), capsys, tmp_path, out=out
    )


@pytest.mark.parametrize("content", list(LICENCES.values()), ids=list(LICENCES))
def test_bad_licences_csv_on_fit(tmp_path, capsys, content):
    path = _write(tmp_path, "licences.csv", content)
    out = tmp_path / "fit"
    _refused(
        ["fit", "--licences", str(path), "--out", str(out)], str(path), capsys, tmp_path, out=out
    )


def _special_paths(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "a_folder"
    folder.mkdir(exist_ok=True)
    return {
        "missing": tmp_path / "missing.yaml",
        "a folder": folder,
        "a device": Path("/dev/zero"),
    }


@pytest.mark.parametrize("which", ["missing", "a folder", "a device"])
@pytest.mark.parametrize(
    "flag",
    [
        "forecast --scenario",
        "fit --priors",
        "shortage --params",
        "shocks table --shape",
        "report --config",
        "fit --events",
        "fit --licences",
    ],
)
def test_an_input_that_is_not_a_readable_file(tmp_path, capsys, forecast_dir, flag, which):
    path = _special_paths(tmp_path)[which]
    out = tmp_path / "out"
    argv = [*flag.split(), str(path)]
    if flag.startswith("shortage"):
        argv += ["--forecast", str(forecast_dir)]
    if not flag.startswith("shocks"):
        argv += ["--out", str(out)]
    _refused(argv, str(path), capsys, tmp_path, forecast_dir, out=out)


ARGUMENTS: dict[str, tuple[list[str], str]] = {
    "as-of not a month": (["forecast", "--as-of", "2025-13"], "--as-of"),
    "as-of words": (["fit", "--as-of", "yesterday"], "--as-of"),
    "target-accept 2": (["fit", "--target-accept", "2"], "--target-accept"),
    "target-accept 0.1": (["forecast", "--target-accept", "0.1"], "--target-accept"),
    "target-accept nan": (["fit", "--target-accept", "nan"], "--target-accept"),
    "target-accept x": (["fit", "--target-accept", "x"], "--target-accept"),
    "unknown model": (["forecast", "--model", "prophet"], "--model"),
    "unknown backend": (["fit", "--backend", "stan"], "--backend"),
    "unknown kernel": (["shortage", "--forecast", "F", "--kernel", "cuda"], "--kernel"),
    "unknown bundled scenario": (
        ["forecast", "--scenario", "no_such_scenario"],
        "no_such_scenario",
    ),
    "scenario with snaive": (
        ["forecast", "--model", "snaive", "--scenario", "escalation"],
        "--model",
    ),
    "fit folder missing": (["forecast", "--fit", "/nonexistent/fit"], "/nonexistent/fit"),
    "fit with data options": (["forecast", "--fit", "F", "--product", "magnets"], "--product"),
    "forecast folder missing": (["shortage", "--forecast", "/nonexistent/fc"], "/nonexistent/fc"),
    "paths 1.5": (["forecast", "--paths", "1.5"], "--paths"),
    "horizon empty": (["forecast", "--horizon", ""], "--horizon"),
    "seed 2**32": (["shortage", "--forecast", "F", "--seed", str(2**32)], "--seed"),
    "chunk-size x": (["shortage", "--forecast", "F", "--chunk-size", "x"], "--chunk-size"),
    "missing --out": (["fit"], "--out"),
    "unknown flag": (["forecast", "--horizn", "6"], "--horizn"),
    "unknown command": (["fitt"], "fitt"),
    "product not in data": (["fit", "--product", "unobtainium"], "unobtainium"),
    "data file missing": (
        ["fit", "--data", "/nonexistent/customs.csv"],
        "/nonexistent/customs.csv",
    ),
}


@pytest.mark.parametrize("case", list(ARGUMENTS))
def test_bad_command_line_arguments(tmp_path, capsys, forecast_dir, case):
    argv, named = ARGUMENTS[case]
    argv = [str(forecast_dir) if a == "F" else a for a in argv]
    out = tmp_path / "out"
    if "--out" not in named:
        argv = [*argv, "--out", str(out)]
    _refused(argv, named, capsys, tmp_path, forecast_dir, out=out)


def test_a_bad_scenario_leaves_an_existing_forecast_folder_untouched(
    tmp_path, capsys, forecast_dir
):
    scenario = _write(tmp_path, "scenario.yaml", "name: x\nregimes: 3\n")
    _refused(
        ["forecast", "--scenario", str(scenario), "--out", str(forecast_dir)],
        str(scenario),
        capsys,
        tmp_path,
        forecast_dir,
    )


def test_bad_params_leave_an_existing_shortage_folder_untouched(tmp_path, capsys, forecast_dir):
    params = _write(tmp_path, "propagation.yaml", "model: propagation\nregions: 3\n")
    out = tmp_path / "short"
    out.mkdir()
    (out / "shortage.csv").write_text("old results\n")
    argv = ["shortage", "--forecast", str(forecast_dir), "--params", str(params), "--out", str(out)]
    _refused(argv, str(params), capsys, tmp_path, forecast_dir)
    assert (out / "shortage.csv").read_text() == "old results\n"


# --------------------------------------------------------------------------- library calls


def _library_cases(tmp_path: Path, forecast_dir: Path) -> dict[str, tuple[Any, str]]:
    from riskmodel import pipeline
    from riskmodel.propagation import read_paths

    scen = _write(tmp_path, "scenario.yaml", "name: x\nregimes: {a: 1}\n")
    priors = _write(tmp_path, "priors.yaml", "model: export_model\npriors: [1]\n")
    params = _write(tmp_path, "propagation.yaml", "model: propagation\nregions: x\n")
    events = _write(tmp_path, "events.csv", EVENTS_HEADER + "2300-01-01,magnets,control,x,y\n")
    licences = _write(
        tmp_path, "licences.csv", LICENCE_HEADER + "magnets,World,2025-04,2025-06,1,2,x,y\n"
    )
    return {
        "resolve_scenario file": (lambda: pipeline.resolve_scenario(scen), str(scen)),
        "resolve_scenario name": (lambda: pipeline.resolve_scenario("no_such"), "no_such"),
        "fit priors": (lambda: pipeline.fit(priors=priors), str(priors)),
        "fit_cached priors": (
            lambda: pipeline.fit_cached(pipeline.load_inputs(), tmp_path / "cache", priors=priors),
            str(priors),
        ),
        "load_inputs events": (lambda: pipeline.load_inputs(events=events), str(events)),
        "load_inputs licences": (lambda: pipeline.load_inputs(licences=licences), str(licences)),
        "load_inputs data": (lambda: pipeline.load_inputs(tmp_path / "none.csv"), "none.csv"),
        "load_inputs product": (lambda: pipeline.load_inputs(product="unobtainium"), "unobtainium"),
        "load_inputs as_of": (lambda: pipeline.load_inputs(as_of="1990-01"), "1990-01"),
        "shortage params": (
            lambda: pipeline.shortage(read_paths(forecast_dir), params=params),
            str(params),
        ),
        "shortage scenario": (
            lambda: pipeline.shortage(read_paths(forecast_dir), scenario=scen),
            str(scen),
        ),
        "forecast horizon": (lambda: pipeline.forecast(None, horizon=500), "horizon"),
        "forecast paths": (lambda: pipeline.forecast(None, n_paths=0), "paths"),
    }


LIBRARY = [
    "resolve_scenario file",
    "resolve_scenario name",
    "fit priors",
    "fit_cached priors",
    "load_inputs events",
    "load_inputs licences",
    "load_inputs data",
    "load_inputs product",
    "load_inputs as_of",
    "shortage params",
    "shortage scenario",
    "forecast horizon",
    "forecast paths",
]


@pytest.mark.parametrize("case", LIBRARY)
def test_library_calls_raise_one_line_riskmodel_errors(tmp_path, forecast_dir, case):
    call, named = _library_cases(tmp_path, forecast_dir)[case]
    before = _snapshot(tmp_path, forecast_dir)
    with pytest.raises(RiskModelError) as info:
        call()
    message = str(info.value)
    assert named in message and "\n" not in message.strip(), message
    assert _snapshot(tmp_path, forecast_dir) == before


# --------------------------------------------------------------------------- property


JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
PRIORS_DOC = _load(PRIORS / "export_model.yaml")
PARAMS_DOC = _load(PRIORS / "propagation.yaml")


def _leaf_paths(doc: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _leaf_paths(value, (*path, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from _leaf_paths(value, (*path, i))
    else:
        yield path


def _corrupt(doc: Any, edits: list[tuple[tuple[Any, ...], Any]]) -> Any:
    for path, value in edits:
        doc = _with(doc, path, value)
    return doc


def _one_line_problems(err: RiskModelError) -> None:
    message = str(err)
    assert "\n" not in message and len(message) < 2000, message[:300]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.tuples(st.sampled_from(list(_leaf_paths(PRIORS_DOC))), JUNK), min_size=1, max_size=3
    )
)
def test_a_corrupted_priors_file_loads_or_is_refused_cleanly(tmp_path_factory, edits):
    from riskmodel.exceptions import PriorsError
    from riskmodel.models.export_model import load_model_priors

    path = tmp_path_factory.mktemp("priors") / "priors.yaml"
    path.write_text(_dump(_corrupt(PRIORS_DOC, edits)))
    try:
        load_model_priors(str(path))
    except PriorsError as err:  # anything else (TypeError, OverflowError, ...) fails
        assert str(path) in str(err)
        _one_line_problems(err)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.tuples(st.sampled_from(list(_leaf_paths(PARAMS_DOC))), JUNK), min_size=1, max_size=3
    )
)
def test_corrupted_propagation_params_parse_or_are_refused_cleanly(edits):
    from riskmodel.exceptions import PriorsError
    from riskmodel.propagation import parse_params

    try:
        parse_params(_corrupt(PARAMS_DOC, edits), source="p.yaml")
    except PriorsError as err:
        assert str(err).startswith("p.yaml: ")
        _one_line_problems(err)
