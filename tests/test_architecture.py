"""The architecture as a test: which part of riskmodel may import which.

One mechanism for every rule. Every ``import`` and ``from ... import`` in every file
under ``riskmodel/`` is read with :mod:`ast`, at module level and inside functions
alike (plus ``importlib.import_module("literal")``), and checked against the tables
below. Runtime checks then import a few entry points in a fresh interpreter and look
at ``sys.modules``, which also catches what third-party packages pull in.

The stage order is ``customs -> models -> forecast -> propagation``, then the one
fan-in ``pipeline``, the tools that rerun the pipeline on past data (``shocks``,
``backtest``), the ``report``, and the command-line shell on top. A part may import
the shared modules and the parts listed for it in :data:`ALLOWED`, never a later one.
docs/architecture.md shows the same tables.

Imports inside functions count like any other, with one difference: a heavy library
that a part must not load at import time may still be imported inside a function.
Where today's code relies on that (a module-level import there would break a rule),
the import is listed in :data:`LAZY_RELIED_ON`, so the list is visible and kept exact.
Rules that today's code breaks are listed in :data:`KNOWN_VIOLATIONS`; the test fails
when one of them is fixed and still listed, so the list only shrinks.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import riskmodel

PACKAGE_DIR = Path(riskmodel.__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent

# --------------------------------------------------------------------------- #
# The rules
# --------------------------------------------------------------------------- #

#: Shared modules every stage may import: the package root (``__version__``),
#: exceptions, bundled-file lookup, atomic writes, typed configuration, samplers.
SHARED = frozenset(
    {"riskmodel", "exceptions", "resources", "atomic", "months", "seeds", "parallel", "compat",
     "config", "sampling"}
)  # fmt: skip
_STAGES = frozenset({"customs", "models", "forecast", "propagation"})
_RERUNS = frozenset({"pipeline", "shocks", "backtest"})

#: Part of the package (``riskmodel.<part>``; ``riskmodel`` is the root ``__init__``)
#: -> the other parts it may import. A part may always import itself.
ALLOWED: dict[str, frozenset[str]] = {
    # shared, bottom up
    "riskmodel": frozenset(),  # __version__; the public API is re-exported lazily by name
    "exceptions": frozenset(),
    "resources": frozenset(),
    "atomic": frozenset(),
    "months": frozenset(),
    "seeds": frozenset(),
    "parallel": frozenset(),
    "compat": frozenset(),  # the one door to ArviZ and InferenceData / DataTree
    "config": frozenset({"riskmodel", "exceptions", "resources", "atomic", "months"}),
    "sampling": frozenset({"riskmodel", "exceptions", "resources", "atomic", "compat", "config"}),
    # the stages, in order: each imports only earlier ones
    "customs": SHARED,
    "models": SHARED | {"customs"},
    "forecast": SHARED | {"customs", "models"},
    "propagation": SHARED | {"customs", "models", "forecast"},
    # the one module that calls every stage
    "pipeline": SHARED | _STAGES,
    # tools that rerun the pipeline on past data (episodes, rolling origins)
    "shocks": SHARED | _STAGES | {"pipeline"},
    "backtest": SHARED | _STAGES | {"pipeline"},
    # the last stage: reads every stage's output, shows the shock episodes
    "report": SHARED | _STAGES | _RERUNS,
    # the command-line shell
    "commands": SHARED | _STAGES | _RERUNS | {"report"},
    "cli": frozenset({"riskmodel", "exceptions", "commands"}),
    "__main__": frozenset({"cli"}),
}

#: Third-party packages a part never imports, not even inside a function.
FORBIDDEN_ANYWHERE: dict[str, frozenset[str]] = {
    "customs": frozenset({"pymc", "pytensor", "nutpie", "arviz", "numba"}),
    "propagation": frozenset({"pymc", "pytensor", "nutpie", "arviz"}),
    "report": frozenset({"pymc", "pytensor", "nutpie", "arviz", "numba"}),
}

#: Third-party packages a part does not load when it is imported: not at module level,
#: not through a module-level import of another riskmodel module. (NumPy is allowed.)
FORBIDDEN_AT_MODULE_LEVEL: dict[str, frozenset[str]] = {
    "config": frozenset(
        {"pymc", "pytensor", "nutpie", "arviz", "numba", "scipy", "statsmodels", "matplotlib"}
    ),
}

#: Modules whose whole import list is fixed: the only non-stdlib packages they may
#: import, anywhere (nothing from riskmodel unless listed).
ONLY: dict[str, frozenset[str]] = {
    "riskmodel.propagation.kernels": frozenset({"numpy", "numba"}),
    "riskmodel": frozenset(),
    "riskmodel.exceptions": frozenset(),
    "riskmodel.resources": frozenset(),
    "riskmodel.atomic": frozenset(),
    "riskmodel.compat": frozenset({"numpy", "xarray", "arviz", "h5netcdf"}),
}

#: The one module that imports ArviZ (both stacks' API differences live there).
ARVIZ_ONLY_IN = "riskmodel.compat"

#: Imports inside a function that today's code relies on: at module level they would
#: break one of the rules above. (module, imported package or module) -> why.
LAZY_RELIED_ON: dict[tuple[str, str], str] = {
    ("riskmodel.config.dists", "pymc"): "Dist.to_pymc builds its PyMC variable on demand",
    ("riskmodel.config.dists", "scipy"): "Dist quantiles (summaries) use scipy's ppf",
    ("riskmodel.report.drivers", "riskmodel.propagation.drivers"): (
        "the scheduled run reruns the propagation (numba kernels) to decompose the headline "
        "risks; rendering a report reads drivers.csv and never imports it"
    ),
    ("riskmodel.report.buffer", "riskmodel.propagation.buffer"): (
        "the scheduled run reruns the propagation (numba kernels) to size the buffers; "
        "rendering a report reads buffer.csv and never imports it"
    ),
}

#: Rules today's code breaks, by the key the checks report. Fix the code, then delete
#: the entry (the test fails while a fixed entry is still listed).
KNOWN_VIOLATIONS: dict[str, str] = {}

#: Entry points imported in a fresh interpreter -> what must not be in sys.modules.
RUNTIME: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "riskmodel.report": (
        ("riskmodel.report",),  # extended with every module of the subpackage below
        FORBIDDEN_ANYWHERE["report"],
    ),
    "riskmodel.propagation": (
        ("riskmodel.propagation", "riskmodel.commands.shortage"),
        FORBIDDEN_ANYWHERE["propagation"],
    ),
    "riskmodel.config": (("riskmodel.config",), FORBIDDEN_AT_MODULE_LEVEL["config"]),
    "riskmodel.customs": (("riskmodel.customs",), FORBIDDEN_ANYWHERE["customs"]),
    # ArviZ is imported inside compat's functions only, so importing it is cheap.
    "riskmodel.compat": (("riskmodel.compat",), frozenset({"arviz", "pymc", "pytensor"})),
}

# --------------------------------------------------------------------------- #
# Reading the imports
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Import:
    """One imported module, where it is imported and whether at import time."""

    source: str  # importing module, e.g. "riskmodel.report.render"
    target: str  # imported module, e.g. "riskmodel.shocks.learn" or "scipy.stats"
    file: str  # path relative to the repository
    line: int
    function: str | None  # enclosing function; None at module level
    type_checking: bool = False  # inside ``if TYPE_CHECKING:``

    @property
    def lazy(self) -> bool:
        """Whether the import does not run when ``source`` is imported."""
        return self.function is not None or self.type_checking

    @property
    def top(self) -> str:
        """The top-level package imported."""
        return self.target.split(".")[0]

    @property
    def where(self) -> str:
        """``file:line (module level | inside f())``."""
        if self.function is not None:
            place = f"inside {self.function}()"
        elif self.type_checking:
            place = "under TYPE_CHECKING"
        else:
            place = "module level"
        return f"{self.file}:{self.line} ({place})"


def module_name(path: Path, package_dir: Path = PACKAGE_DIR) -> str:
    """``riskmodel/report/render.py`` -> ``riskmodel.report.render``."""
    parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def part_of(module: str) -> str:
    """``riskmodel.report.render`` -> ``report``; the root package -> ``riskmodel``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _is_type_checking(test: ast.expr) -> bool:
    return any(
        (isinstance(n, ast.Name) and n.id == "TYPE_CHECKING")
        or (isinstance(n, ast.Attribute) and n.attr == "TYPE_CHECKING")
        for n in ast.walk(test)
    )


class _Collector(ast.NodeVisitor):
    def __init__(
        self,
        source: str,
        file: str,
        is_package: bool,
        modules: frozenset[str],
        api: dict[str, str],
    ) -> None:
        self.source = source
        self.file = file
        self.is_package = is_package
        self.modules = modules
        self.api = api
        self.functions: list[str] = []
        self.type_checking = 0
        self.found: list[Import] = []

    def _add(self, target: str, node: ast.stmt | ast.expr) -> None:
        self.found.append(
            Import(
                source=self.source,
                target=target,
                file=self.file,
                line=node.lineno,
                function=".".join(self.functions) or None,
                type_checking=self.type_checking > 0,
            )
        )

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        self.functions.append(getattr(node, "name", "<lambda>"))
        self.generic_visit(node)
        self.functions.pop()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function
    visit_Lambda = _function

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            self.type_checking += 1
            for child in node.body:
                self.visit(child)
            self.type_checking -= 1
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            here = self.source.split(".")
            if not self.is_package:
                here.pop()
            here = here[: len(here) - (node.level - 1)]
            base = ".".join(here + ([node.module] if node.module else []))
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            if sub in self.modules:  # ``from riskmodel.report import schedule``
                self._add(sub, node)
            elif base == "riskmodel" and alias.name in self.api:  # the lazy public API
                self._add(self.api[alias.name], node)
            else:
                self._add(base, node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if (
            name == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and not node.args[0].value.startswith(".")
        ):
            self._add(node.args[0].value, node)
        self.generic_visit(node)


def read_imports(
    text: str,
    source: str,
    *,
    file: str = "<string>",
    is_package: bool = False,
    modules: Iterable[str] = (),
    api: dict[str, str] | None = None,
) -> list[Import]:
    """Every import in one module's source text, with where it happens."""
    collector = _Collector(source, file, is_package, frozenset(modules), api or {})
    collector.visit(ast.parse(text, filename=file))
    return collector.found


@dataclass(frozen=True)
class Package:
    """The package's modules and every import in them."""

    modules: dict[str, Path]
    imports: list[Import]

    def of(self, module: str) -> list[Import]:
        """Imports made by one module."""
        return [imp for imp in self.imports if imp.source == module]


def read_package(package_dir: Path = PACKAGE_DIR) -> Package:
    """Read every module under ``package_dir``."""
    files = sorted(package_dir.rglob("*.py"))
    modules = {module_name(p, package_dir): p for p in files}
    api = dict(riskmodel._API)
    imports: list[Import] = []
    for name, path in modules.items():
        imports += read_imports(
            path.read_text(encoding="utf-8"),
            name,
            file=str(path.relative_to(package_dir.parent)),
            is_package=path.name == "__init__.py",
            modules=modules,
            api=api,
        )
    return Package(modules, imports)


@pytest.fixture(scope="module")
def package() -> Package:
    return read_package()


@pytest.fixture(scope="module")
def runtime(package: Package) -> dict[str, str]:
    return runtime_violations(package)


def _internal(imp: Import, package: Package) -> str | None:
    """The riskmodel module an import loads, or None for a third-party one."""
    if imp.top != "riskmodel":
        return None
    target = imp.target
    while target not in package.modules:  # ``riskmodel.x.name`` where name is an attribute
        target = target.rpartition(".")[0]
    return target


def _parents(module: str) -> Iterator[str]:
    parts = module.split(".")
    for i in range(1, len(parts)):
        yield ".".join(parts[:i])


def import_time_packages(package: Package) -> dict[str, frozenset[str]]:
    """Module -> third-party packages loaded (directly) when it is imported.

    Follows module-level riskmodel imports transitively, including the parent
    packages' ``__init__`` files that Python runs first.
    """
    direct: dict[str, set[str]] = {m: set() for m in package.modules}
    edges: dict[str, set[str]] = {m: set(_parents(m)) & set(package.modules) for m in direct}
    for imp in package.imports:
        if imp.lazy:
            continue
        internal = _internal(imp, package)
        if internal is None:
            if imp.top not in sys.stdlib_module_names:
                direct[imp.source].add(imp.top)
        elif internal != imp.source:
            edges[imp.source].add(internal)
            edges[imp.source].update(p for p in _parents(internal) if p in package.modules)
    closure: dict[str, frozenset[str]] = {}
    for start in direct:
        seen, stack, found = {start}, [start], set()
        while stack:
            module = stack.pop()
            found |= direct[module]
            for nxt in edges[module] - seen:
                seen.add(nxt)
                stack.append(nxt)
        closure[start] = frozenset(found)
    return closure


# --------------------------------------------------------------------------- #
# The checks: each returns {stable key: message}
# --------------------------------------------------------------------------- #


def stage_violations(package: Package) -> dict[str, str]:
    """Imports of a part that :data:`ALLOWED` does not list for the importing part."""
    out: dict[str, str] = {}
    for imp in package.imports:
        internal = _internal(imp, package)
        if internal is None:
            continue
        src, dst = part_of(imp.source), part_of(internal)
        if src == dst or dst in ALLOWED.get(src, frozenset()):
            continue
        key = f"{imp.source} -> {internal}" + (" (lazy)" if imp.lazy else "")
        allowed = ", ".join(sorted(ALLOWED.get(src, ()))) or "nothing"
        out[key] = f"{imp.where}: {src} imports {dst} ({internal}); {src} may import: {allowed}"
    return out


def third_party_violations(package: Package) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Forbidden third-party imports, and the lazy imports the rules rely on."""
    loads = import_time_packages(package)
    violations: dict[str, str] = {}
    relied_on: dict[tuple[str, str], str] = {}
    for imp in package.imports:
        part = part_of(imp.source)
        anywhere = FORBIDDEN_ANYWHERE.get(part, frozenset())
        at_import = anywhere | FORBIDDEN_AT_MODULE_LEVEL.get(part, frozenset())
        internal = _internal(imp, package)
        if internal is None:
            if imp.top in anywhere:
                violations[f"{imp.source} -> {imp.top}"] = (
                    f"{imp.where}: {part} never imports {imp.top}"
                )
            elif imp.top in at_import and not imp.lazy:
                violations[f"{imp.source} -> {imp.top} (module level)"] = (
                    f"{imp.where}: {part} does not import {imp.top} at module level"
                )
            elif imp.top in at_import:
                relied_on[(imp.source, imp.top)] = imp.where
            continue
        pulled = loads[internal] & at_import
        if not pulled or part_of(internal) == part:  # reported where the part imports it
            continue
        if imp.lazy:
            relied_on[(imp.source, internal)] = f"{imp.where}: would load {sorted(pulled)}"
        else:
            violations[f"{imp.source} -> {internal} -> {','.join(sorted(pulled))}"] = (
                f"{imp.where}: importing {internal} loads {sorted(pulled)}, which {part} "
                "must not load at import time"
            )
    return violations, relied_on


def only_violations(package: Package) -> dict[str, str]:
    """Imports outside a module's fixed list (:data:`ONLY`)."""
    out: dict[str, str] = {}
    for module, allowed in ONLY.items():
        for imp in package.of(module):
            if imp.top in sys.stdlib_module_names or imp.top in allowed:
                continue
            listed = ", ".join(sorted(allowed)) or "nothing"
            out[f"{module} -> {imp.target}"] = (
                f"{imp.where}: {module} imports {imp.target}; it may import only the "
                f"standard library and {listed}"
            )
    return out


def arviz_violations(package: Package) -> dict[str, str]:
    """ArviZ imported anywhere but :data:`ARVIZ_ONLY_IN`."""
    return {
        f"{imp.source} -> arviz": (
            f"{imp.where}: only {ARVIZ_ONLY_IN} imports arviz; call its functions instead"
        )
        for imp in package.imports
        if imp.top == "arviz" and imp.source != ARVIZ_ONLY_IN
    }


def runtime_violations(package: Package) -> dict[str, str]:
    """Forbidden packages in ``sys.modules`` after importing each entry point afresh."""
    out: dict[str, str] = {}
    for name, (entry_points, forbidden) in RUNTIME.items():
        modules = list(entry_points)
        if name == "riskmodel.report":
            modules += sorted(m for m in package.modules if part_of(m) == "report")
        code = (
            "import importlib, json, sys\n"
            f"for m in {modules!r}:\n"
            "    importlib.import_module(m)\n"
            f"print(json.dumps(sorted(p for p in {sorted(forbidden)!r} if p in sys.modules)))\n"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT
        )
        assert proc.returncode == 0, f"importing {modules} failed:\n{proc.stderr}"
        for pkg in json.loads(proc.stdout.strip().splitlines()[-1]):
            out[f"import {name} loads {pkg}"] = (
                f"importing {', '.join(modules)} in a fresh interpreter loads {pkg}"
            )
    return out


def _check(found: dict[str, str], rule: str) -> None:
    """Fail on violations not in :data:`KNOWN_VIOLATIONS`, listing each one."""
    new = {k: v for k, v in found.items() if k not in KNOWN_VIOLATIONS}
    if new:
        lines = "\n".join(f"  {key}\n      {msg}" for key, msg in sorted(new.items()))
        pytest.fail(f"{len(new)} import(s) break the rule '{rule}':\n{lines}", pytrace=False)


# --------------------------------------------------------------------------- #
# Tests
# --------------------------------------------------------------------------- #


def test_every_part_of_the_package_has_a_rule(package):
    parts = {part_of(m) for m in package.modules}
    unknown = sorted(parts - set(ALLOWED))
    assert not unknown, f"add these parts of riskmodel to ALLOWED in {__file__}: {unknown}"
    gone = sorted(set(ALLOWED) - parts)
    assert not gone, f"ALLOWED names parts that no longer exist: {gone}"
    for table in (FORBIDDEN_ANYWHERE, FORBIDDEN_AT_MODULE_LEVEL):
        assert set(table) <= parts, sorted(set(table) - parts)
    assert set(ONLY) <= set(package.modules), sorted(set(ONLY) - set(package.modules))


def test_the_allowed_table_has_no_cycle():
    """Parts import one way only: the table itself orders them."""
    order: list[str] = []
    remaining = {part: set(deps) for part, deps in ALLOWED.items()}
    while remaining:
        ready = sorted(p for p, deps in remaining.items() if not deps - set(order))
        assert ready, f"ALLOWED has a cycle among {sorted(remaining)}"
        order += ready
        for p in ready:
            del remaining[p]
    assert order.index("customs") < order.index("models") < order.index("forecast")
    assert order.index("forecast") < order.index("propagation") < order.index("report")


def test_each_part_imports_only_earlier_parts(package):
    _check(stage_violations(package), "a part imports only the parts ALLOWED lists for it")


def test_third_party_imports_follow_the_rules(package):
    violations, _ = third_party_violations(package)
    _check(violations, "FORBIDDEN_ANYWHERE / FORBIDDEN_AT_MODULE_LEVEL")


def test_fixed_import_lists(package):
    """The propagation kernel imports only NumPy, numba and the standard library."""
    _check(only_violations(package), "ONLY")


def test_arviz_is_imported_only_by_compat(package):
    _check(arviz_violations(package), f"arviz only in {ARVIZ_ONLY_IN}")


def test_lazy_imports_relied_on_are_listed(package):
    _, relied_on = third_party_violations(package)
    unlisted = {k: v for k, v in relied_on.items() if k not in LAZY_RELIED_ON}
    stale = sorted(set(LAZY_RELIED_ON) - set(relied_on))
    assert not unlisted, (
        "these imports inside functions keep a rule only because they are lazy; "
        "list them in LAZY_RELIED_ON with the reason:\n"
        + "\n".join(f"  {src} -> {dst}: {where}" for (src, dst), where in sorted(unlisted.items()))
    )
    assert not stale, f"no longer imported lazily, delete from LAZY_RELIED_ON: {stale}"


def test_entry_points_do_not_load_forbidden_packages(runtime):
    _check(runtime, "RUNTIME (sys.modules after a fresh import)")


def test_known_violations_are_still_real(package, runtime):
    """A fixed violation must leave KNOWN_VIOLATIONS, so the list only shrinks."""
    found = {
        **stage_violations(package),
        **third_party_violations(package)[0],
        **only_violations(package),
        **runtime,
    }
    stale = sorted(set(KNOWN_VIOLATIONS) - set(found))
    assert not stale, f"fixed: delete from KNOWN_VIOLATIONS in {__file__}: {stale}"


# --------------------------------------------------------------------------- #
# The reader itself (so the checks above cannot pass by seeing nothing)
# --------------------------------------------------------------------------- #

_SAMPLE = """
from __future__ import annotations
import importlib
from typing import TYPE_CHECKING
import numpy as np
from riskmodel import __version__, fit
from riskmodel.report import schedule
from . import sibling
if TYPE_CHECKING:
    import pymc
class Holder:
    import json
def run():
    import scipy.stats
    def inner():
        from riskmodel.shocks.learn import read_shock_shape
    return importlib.import_module("riskmodel.propagation")
"""


def test_reader_finds_every_kind_of_import():
    found = read_imports(
        _SAMPLE,
        "riskmodel.report.sample",
        modules={"riskmodel.report.schedule", "riskmodel.report.sibling"},
        api={"fit": "riskmodel.pipeline"},
    )
    got = {(i.target, i.function, i.type_checking) for i in found}
    assert got == {
        ("__future__", None, False),
        ("importlib", None, False),
        ("typing", None, False),
        ("numpy", None, False),
        ("riskmodel", None, False),  # __version__
        ("riskmodel.pipeline", None, False),  # fit, through the lazy public API
        ("riskmodel.report.schedule", None, False),
        ("riskmodel.report.sibling", None, False),
        ("pymc", None, True),
        ("json", None, False),  # a class body runs at import time
        ("scipy.stats", "run", False),
        ("riskmodel.shocks.learn", "run.inner", False),
        ("riskmodel.propagation", "run", False),
    }
    lazy = {i.target for i in found if i.lazy}
    assert lazy == {"pymc", "scipy.stats", "riskmodel.shocks.learn", "riskmodel.propagation"}


def test_checks_catch_a_broken_rule(tmp_path):
    """A report module importing PyMC, and config importing models, are both reported."""
    pkg = tmp_path / "riskmodel"
    for sub, text in {
        "__init__.py": "",
        "report/__init__.py": "",
        "report/bad.py": "import pymc\n",
        "config/__init__.py": "",
        "config/bad.py": "def f():\n    from riskmodel.models import fit\n",
        "models/__init__.py": "",
        "models/fit.py": "import pytensor\n",
        "models/diag.py": "def f():\n    import arviz.stats\n",
        "compat.py": "def g():\n    import arviz\n",
    }.items():
        (pkg / sub).parent.mkdir(parents=True, exist_ok=True)
        (pkg / sub).write_text(text)
    fake = read_package(pkg)
    assert set(stage_violations(fake)) == {"riskmodel.config.bad -> riskmodel.models.fit (lazy)"}
    violations, relied_on = third_party_violations(fake)
    assert set(violations) == {"riskmodel.report.bad -> pymc"}
    assert set(arviz_violations(fake)) == {"riskmodel.models.diag -> arviz"}
    assert relied_on == {
        ("riskmodel.config.bad", "riskmodel.models.fit"): (
            "riskmodel/config/bad.py:2 (inside f()): would load ['pytensor']"
        )
    }
