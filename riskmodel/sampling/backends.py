"""NUTS backends by name: ``nutpie`` (default), ``pymc`` (PyMC's own NUTS), ``numpyro``.

All three sample the same PyMC model and return an ArviZ ``InferenceData`` with the
same groups, plus the compile and sampling wall times measured apart.

Compile cost is paid once per model structure and process. The model's data are
``pm.Data`` (shared variables), so its graph holds shapes but no data; a compiled
nutpie model is kept in an in-process cache keyed by a hash of that graph
(:func:`model_structure_hash`), and a fit of other data of the same structure (another
origin, release or simulation) takes it and swaps the data in with nutpie's
``with_data``: it compiles nothing. Across processes, nutpie's C callbacks (with the
logp+gradient code linked in) are in numba's disk cache, filed under the same hash
(:mod:`riskmodel.sampling.nutpie_cache`), so a warm process loads them without
building PyTensor's functions; PyMC's NUTS uses PyTensor's C backend and its
``compiledir``, whose modules do not depend on the data either.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import logging
import numbers
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from riskmodel import compat
from riskmodel.exceptions import BackendUnavailableError
from riskmodel.sampling.pytensor_setup import configure_pytensor

log = logging.getLogger(__name__)

#: Backend names, in order of preference.
BACKENDS = ("nutpie", "pymc", "numpyro")
_REQUIRES = {"nutpie": "nutpie", "pymc": "pymc", "numpyro": "numpyro"}

_COMPILED: OrderedDict[str, Any] = OrderedDict()
_COMPILED_MAX = 8


@dataclass(frozen=True)
class SamplerConfig:
    """How to run NUTS.

    Parameters
    ----------
    backend : str
        One of :data:`BACKENDS`.
    draws, tune, chains : int
        Posterior draws and warm-up iterations per chain, and the number of chains.
    target_accept : float
        NUTS target acceptance rate (higher: smaller steps, fewer divergences). 0.95:
        on the bundled model, seeds 0-7 at the default settings, every fit passed its
        checks at 0.95 (no divergences), 6 of 8 at 0.9 and 2 of 8 at 0.85, for 0.83x
        the min-bulk-ESS per second of 0.85 (benchmarks/RESULTS.md).
    seed : int
        Seed of the sampler; the same seed and inputs give the same draws.
    cores : int
        Chains run in parallel on this many cores.
    progress : bool
        Show the backend's progress bar.
    """

    backend: str = "nutpie"
    draws: int = 2000
    tune: int = 1000
    chains: int = 4
    target_accept: float = 0.95
    seed: int = 0
    cores: int = 2
    progress: bool = False

    def __post_init__(self) -> None:
        # nutpie panics (a Rust assertion, not a Python error) on zero warm-up.
        for name in ("draws", "tune", "chains", "cores"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"SamplerConfig.{name} must be a positive integer, got {value!r}")
        if not 0.0 < float(self.target_accept) < 1.0:
            raise ValueError(
                f"SamplerConfig.target_accept must be in (0, 1), got {self.target_accept!r}"
            )


@dataclass
class SampleResult:
    """The posterior and what it cost."""

    idata: Any
    backend: str
    compile_seconds: float
    sampling_seconds: float
    gradient_evaluations: int | None


def available_backends() -> list[str]:
    """Names of the backends whose packages are installed."""
    return [b for b in BACKENDS if importlib.util.find_spec(_REQUIRES[b]) is not None]


def default_backend() -> str:
    """``nutpie`` when installed (far faster here), else PyMC's own NUTS."""
    return "nutpie" if "nutpie" in available_backends() else "pymc"


def _check_backend(name: str) -> None:
    if name not in BACKENDS:
        raise BackendUnavailableError(
            f"unknown backend '{name}'; choose one of {', '.join(BACKENDS)}"
        )
    if name not in available_backends():
        hint = " (pip install 'riskmodel[numpyro]')" if name == "numpyro" else ""
        raise BackendUnavailableError(f"backend '{name}' is not installed{hint}")


def model_structure_hash(model: Any) -> str:
    """Return a hash of the model's structure: its graphs, constants and data shapes.

    The dims are frozen first (their lengths become part of the graph). The hash
    covers the logp graph and the graphs of the stored variables in terms of the
    value variables: every Op, its inputs' positions (the wiring), every constant,
    and the name, dtype and shape of every ``pm.Data``, not its values; so two models
    that differ only in their data get the same hash. It names compiled models in
    this process and on disk (with the versions of the libraries that compile them).
    """
    import numpy as np
    import nutpie
    import pymc
    import pytensor
    from pymc.model.transform.optimization import freeze_dims_and_data
    from pytensor.compile.sharedvalue import SharedVariable

    try:
        from pytensor.graph.traversal import io_toposort
    except ImportError:  # pytensor < 2.31
        from pytensor.graph.basic import io_toposort

    frozen = freeze_dims_and_data(model, data=[])
    outputs = [frozen.logp(), *frozen.unobserved_value_vars]
    h = hashlib.sha256(repr((pymc.__version__, pytensor.__version__, nutpie.__version__)).encode())
    position: dict[Any, str] = {v: f"value {v.name}{v.type}" for v in frozen.value_vars}
    for k, node in enumerate(io_toposort(list(frozen.value_vars), outputs)):
        h.update(f"{k} {node.op}".encode())
        for inp in node.inputs:
            if inp in position:
                h.update(position[inp].encode())
            elif isinstance(inp, SharedVariable):
                h.update(f"data {inp.name}{inp.type}".encode())
            elif getattr(inp, "data", None) is not None:
                h.update(f"constant {inp.type}".encode() + np.asarray(inp.data).tobytes())
            else:
                h.update(f"input {inp.type}".encode())
        for j, out in enumerate(node.outputs):
            position[out] = f"{k}.{j}"
    h.update(" ".join(position[o] for o in outputs).encode())
    return h.hexdigest()[:20]


def _with_model_data(compiled: Any, model: Any) -> Any:
    """Return the compiled model with ``model``'s data and coordinates swapped in."""
    from nutpie.compile_pymc import _prepare_dims_and_coords

    # nutpie <= 0.16.8 keys its shared data by variable name; later releases (the ones
    # that run with pymc 6) by a random key, with ``shared_var_keys`` mapping back.
    keys = getattr(compiled, "shared_var_keys", None) or {}
    names = {key: var.name for var, key in keys.items()}
    values = {}
    for key, old in compiled.shared_data.items():
        name = names.get(key, key)
        new = np.asarray(model[name].get_value())
        if new.shape != old.shape or new.dtype != old.dtype:
            raise ValueError(
                f"data '{name}' has shape {new.shape} {new.dtype}, the compiled model "
                f"{old.shape} {old.dtype}"
            )
        values[name] = new
    extra = getattr(compiled, "reparameterized_names", None)
    args = (compiled.shape_info,) if extra is None else (compiled.shape_info, extra)
    dims, coords = _prepare_dims_and_coords(model, *args)
    return dataclasses.replace(compiled.with_data(**values), dims=dims, _coords=coords)


def _compile_nutpie(model: Any) -> tuple[Any, float]:
    import nutpie

    from riskmodel.sampling.nutpie_cache import compile_cached, load_cached

    key = model_structure_hash(model)
    if key in _COMPILED:
        _COMPILED.move_to_end(key)
        return _with_model_data(_COMPILED[key], model), 0.0
    log.info("compiling the model for nutpie (a minute or more on a cold cache)")
    start = time.perf_counter()
    try:
        compiled = load_cached(model, key) or compile_cached(model, key)
    except Exception as exc:
        # A nutpie release whose private helpers changed, or an unwritable compile
        # directory: only the disk cache is lost, nutpie's own compile still works
        # (and re-raises any real problem with the model).
        log.info("disk-cached nutpie callbacks unavailable (%s); using nutpie's compile", exc)
        compiled = None
    if compiled is None:
        from pymc.model.transform.optimization import freeze_dims_and_data

        compiled = nutpie.compile_pymc_model(freeze_dims_and_data(model, data=[]), backend="numba")
    seconds = time.perf_counter() - start
    _COMPILED[key] = compiled
    while len(_COMPILED) > _COMPILED_MAX:
        _COMPILED.popitem(last=False)
    return compiled, seconds


def _sample_nutpie(
    model: Any,
    cfg: SamplerConfig,
    data: Mapping[str, Any],
    options: Mapping[str, Any] | None = None,
) -> SampleResult:
    """Sample with nutpie; ``options`` are extra ``nutpie.sample`` arguments (benchmarks)."""
    import nutpie

    compiled, compile_s = _compile_nutpie(model)
    if data:
        compiled = compiled.with_data(**data)
    _log_drawing(cfg)
    start = time.perf_counter()
    idata = nutpie.sample(
        compiled,
        draws=cfg.draws,
        tune=cfg.tune,
        chains=cfg.chains,
        cores=cfg.cores,
        seed=cfg.seed,
        target_accept=cfg.target_accept,
        progress_bar=cfg.progress,
        **(options or {}),
    )
    seconds = time.perf_counter() - start
    return SampleResult(idata, "nutpie", compile_s, seconds, _leapfrog_steps(idata))


def _log_drawing(cfg: SamplerConfig) -> None:
    # Marked for riskmodel.report.progress: the sampler draws its own bars from here.
    log.info(
        "drawing %d chains x %d iterations",
        cfg.chains,
        cfg.tune + cfg.draws,
        extra={"external_progress": cfg.progress},
    )


def _sample_pymc(
    model: Any, cfg: SamplerConfig, data: Mapping[str, Any], nuts_sampler: str = "pymc"
) -> SampleResult:
    import pymc as pm

    if data:
        with model:
            pm.set_data(data)
    start = time.perf_counter()
    if nuts_sampler == "pymc":
        # Build the C-compiled gradient once up front so compile and sampling time are
        # measured apart; pm.sample then finds the compiled module in PyTensor's cache.
        model.logp_dlogp_function(ravel_inputs=True)
    compile_s = time.perf_counter() - start
    _log_drawing(cfg)
    start = time.perf_counter()
    with model:
        idata = pm.sample(
            draws=cfg.draws,
            tune=cfg.tune,
            chains=cfg.chains,
            cores=min(cfg.cores, cfg.chains),
            random_seed=cfg.seed,
            target_accept=cfg.target_accept,
            progressbar=cfg.progress,
            nuts_sampler=nuts_sampler,
            compute_convergence_checks=False,
            discard_tuned_samples=False,  # kept only to count the warm-up's gradients
        )
    seconds = time.perf_counter() - start
    steps = _leapfrog_steps(idata)
    for group in ("warmup_posterior", "warmup_sample_stats"):
        compat.drop_group(idata, group)
    return SampleResult(idata, nuts_sampler, compile_s, seconds, steps)


def _leapfrog_steps(idata: Any) -> int | None:
    """Leapfrog steps (one gradient each) of warm-up and draws, when the backend says."""
    total, found = 0, False
    for group in ("sample_stats", "warmup_sample_stats"):
        stats = compat.group(idata, group) if compat.has_group(idata, group) else None
        if stats is None:
            continue
        for name in ("n_steps", "tree_size", "num_steps"):
            if name in stats:
                total += int(stats[name].sum())
                found = True
                break
    return total if found else None


def sample(
    model: Any, config: SamplerConfig | None = None, *, data: Mapping[str, Any] | None = None
) -> SampleResult:
    """Sample a PyMC model with NUTS on the chosen backend.

    Parameters
    ----------
    model : pymc.Model
        The model to sample.
    config : SamplerConfig, optional
        Backend and settings; the defaults when omitted.
    data : mapping of str to array, optional
        New values of the model's ``pm.Data`` variables for this run. With nutpie
        the model is compiled once and reused for every new set of values.

    Returns
    -------
    SampleResult
        The InferenceData (posterior and sample_stats), the backend name, compile
        and sampling seconds, and the number of gradient evaluations when known.

    Raises
    ------
    BackendUnavailableError
        For an unknown backend name or one whose package is not installed.
    """
    cfg = config or SamplerConfig()
    _check_backend(cfg.backend)
    configure_pytensor()
    log.info(
        "sampling with %s: %d chains x (%d tune + %d draws)",
        cfg.backend,
        cfg.chains,
        cfg.tune,
        cfg.draws,
    )
    data = data or {}
    if cfg.backend == "nutpie":
        return _sample_nutpie(model, cfg, data)
    if cfg.backend == "numpyro":
        return _sample_pymc(model, cfg, data, nuts_sampler="numpyro")
    return _sample_pymc(model, cfg, data)
