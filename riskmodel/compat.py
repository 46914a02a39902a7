"""The one door to ArviZ and to the sampler's result type, on both supported stacks.

Python 3.11 runs pymc 5 / arviz 0.2x, whose results are ``arviz.InferenceData``; Python
3.12+ runs pymc 6 / arviz 1.x, whose results are ``xarray.DataTree`` (``arviz.InferenceData``
is gone there). Everything in riskmodel that touches either type, or calls ArviZ, goes
through the functions here, so the rest of the package sees plain ``xarray.Dataset`` groups.

Saved posteriors are written and read here without ArviZ's own NetCDF code: one NetCDF4
(HDF5) group per result group, through h5netcdf, the layout both ``InferenceData.to_netcdf``
and ``DataTree.to_netcdf`` produce, so a ``posterior.nc`` from either stack loads in the
other. ArviZ is imported inside the functions only: importing this module loads neither
ArviZ nor PyMC.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

__all__ = [
    "arviz_major",
    "bfmi",
    "drop_group",
    "ess",
    "from_datasets",
    "group",
    "groups",
    "has_group",
    "posterior",
    "read_netcdf",
    "rhat",
    "set_group",
    "to_netcdf",
    "var_names",
]


@cache
def arviz_major() -> int:
    """Major version of the installed ArviZ (0 for the InferenceData stack), without importing it.

    Returns
    -------
    int
        ``0`` for arviz 0.2x, ``1`` for arviz 1.x; ``-1`` when ArviZ is not installed.
    """
    try:
        return int(version("arviz").split(".")[0])
    except PackageNotFoundError:
        return -1


def _is_tree(idata: Any) -> bool:
    return isinstance(idata, xr.DataTree)


def groups(idata: Any) -> list[str]:
    """Names of the groups a result holds (``posterior``, ``sample_stats``, ...).

    Parameters
    ----------
    idata : arviz.InferenceData or xarray.DataTree
        A sampler's result or a loaded posterior.

    Returns
    -------
    list of str
    """
    if _is_tree(idata):
        return [str(name) for name in idata.children]
    return [str(name) for name in idata.groups()]


def has_group(idata: Any, name: str) -> bool:
    """Whether the result holds the group ``name``."""
    return name in groups(idata)


def group(idata: Any, name: str) -> xr.Dataset:
    """One group of a result as an ``xarray.Dataset``.

    Parameters
    ----------
    idata : arviz.InferenceData or xarray.DataTree
        A sampler's result or a loaded posterior.
    name : str
        The group, e.g. ``"posterior"`` or ``"sample_stats"``.

    Returns
    -------
    xarray.Dataset
        For an InferenceData the group itself; for a DataTree the node's data as a
        Dataset (its attrs are the node's, so reads see the same provenance).

    Raises
    ------
    KeyError
        If the result has no such group.
    """
    if not has_group(idata, name):
        raise KeyError(f"result has no group {name!r} (it has {groups(idata)})")
    if _is_tree(idata):
        return idata[name].to_dataset()
    return getattr(idata, name)


def posterior(idata: Any) -> xr.Dataset:
    """Return the ``posterior`` group as an ``xarray.Dataset`` (see :func:`group`)."""
    return group(idata, "posterior")


def set_group(idata: Any, name: str, dataset: xr.Dataset) -> None:
    """Replace (or add) one group of a result in place.

    Parameters
    ----------
    idata : arviz.InferenceData or xarray.DataTree
        The result to change.
    name : str
        The group.
    dataset : xarray.Dataset
        Its new content, attrs included.
    """
    if _is_tree(idata):
        idata[name] = xr.DataTree(dataset)
    elif has_group(idata, name):
        setattr(idata, name, dataset)
    else:
        idata.add_groups({name: dataset})


def drop_group(idata: Any, name: str) -> None:
    """Remove one group of a result in place (nothing when it is absent)."""
    if not has_group(idata, name):
        return
    if _is_tree(idata):
        del idata[name]
    else:
        delattr(idata, name)


def from_datasets(**datasets: xr.Dataset) -> Any:
    """Build the installed stack's result type from ``group=Dataset`` pairs.

    Parameters
    ----------
    **datasets : xarray.Dataset
        E.g. ``posterior=...``, ``sample_stats=...``; each needs ``chain`` and ``draw``.

    Returns
    -------
    arviz.InferenceData or xarray.DataTree
        InferenceData under arviz 0.2x, DataTree under arviz 1.x.
    """
    if arviz_major() >= 1:
        return xr.DataTree.from_dict(dict(datasets.items()))
    import arviz as az

    return az.InferenceData(**datasets)


def to_netcdf(idata: Any, path: str | Path) -> Path:
    """Write a result to NetCDF4 (HDF5), one group per result group, through h5netcdf.

    The same file comes out under either stack, and it reads back with
    :func:`read_netcdf`, ``arviz.from_netcdf`` (0.2x) and ``xarray.open_datatree``.

    Parameters
    ----------
    idata : arviz.InferenceData or xarray.DataTree
        The result to write.
    path : str or Path
        The file; replaced when it exists.

    Returns
    -------
    Path
    """
    path = Path(path)
    mode = "w"
    for name in groups(idata):
        group(idata, name).to_netcdf(path, mode=mode, group=name, engine="h5netcdf")
        mode = "a"
    if mode == "w":
        raise ValueError("the result holds no group to write")
    return path


def _file_groups(path: Path) -> list[str]:
    import h5netcdf

    with h5netcdf.File(path, "r") as f:
        return [str(name) for name in f.groups]


def read_netcdf(path: str | Path) -> Any:
    """Read a saved result, written by either stack, into the installed stack's type.

    Every group is loaded fully, so the file can be replaced afterwards.

    Parameters
    ----------
    path : str or Path
        A file written by :func:`to_netcdf`, ``InferenceData.to_netcdf`` (arviz 0.2x) or
        ``DataTree.to_netcdf`` (arviz 1.x).

    Returns
    -------
    arviz.InferenceData or xarray.DataTree
        As :func:`from_datasets`.
    """
    path = Path(path)
    datasets = {}
    for name in _file_groups(path):
        with xr.open_dataset(path, group=name, engine="h5netcdf") as ds:
            datasets[name] = ds.load()
    return from_datasets(**datasets)


def rhat(dataset: xr.Dataset) -> xr.Dataset:
    """Rank-normalised split R-hat of every variable (Vehtari et al. 2021).

    Parameters
    ----------
    dataset : xarray.Dataset
        Draws on ``(chain, draw, ...)``, at least 2 chains.

    Returns
    -------
    xarray.Dataset
        One value per variable element, without ``chain`` and ``draw``.
    """
    import arviz as az

    return _as_dataset(az.rhat(dataset))


def ess(dataset: xr.Dataset, method: str = "bulk") -> xr.Dataset:
    """Effective sample size of every variable (``method`` ``"bulk"`` or ``"tail"``).

    Parameters
    ----------
    dataset : xarray.Dataset
        Draws on ``(chain, draw, ...)``.
    method : str
        ``"bulk"`` or ``"tail"``.

    Returns
    -------
    xarray.Dataset
        One value per variable element, without ``chain`` and ``draw``.
    """
    import arviz as az

    return _as_dataset(az.ess(dataset, method=method))


def bfmi(idata: Any) -> np.ndarray:
    """Bayesian fraction of missing information per chain, from ``sample_stats.energy``.

    Parameters
    ----------
    idata : arviz.InferenceData or xarray.DataTree
        A result with ``sample_stats`` holding ``energy``.

    Returns
    -------
    numpy.ndarray
        One value per chain.

    Raises
    ------
    KeyError
        If there is no ``sample_stats`` group or no ``energy`` in it.
    """
    import arviz as az

    if "energy" not in group(idata, "sample_stats"):
        raise KeyError("sample_stats holds no energy")
    # E-BFMI (Betancourt 2016): sum of squared energy steps over the energy's sum of squares.
    result = az.bfmi(idata)
    if isinstance(result, xr.DataTree | xr.Dataset):
        result = result["energy"]
    return np.asarray(result, dtype=float).ravel()


def _as_dataset(result: Any) -> xr.Dataset:
    if isinstance(result, xr.Dataset):
        return result
    if _is_tree(result):
        return result.to_dataset()
    if isinstance(result, xr.DataArray):
        return result.to_dataset(name=result.name or "x")
    raise TypeError(f"unexpected ArviZ result type {type(result).__name__}")


def var_names(dataset: xr.Dataset, names: Sequence[str] | None) -> list[str]:
    """Return the requested variables that the dataset holds (all of them when None)."""
    return [v for v in (names or list(dataset.data_vars)) if v in dataset]
