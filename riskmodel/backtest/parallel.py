"""Run independent tasks in process or on Dask, returning results in task order.

``scheduler=None`` runs the tasks one after another in this process; ``"local"``
starts a ``distributed.LocalCluster`` of 2 single-threaded worker processes; any other
string is the address of a running Dask scheduler (``tcp://host:8786``). Tasks carry
their own seeds, so the results do not depend on where or in which order they run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def map_tasks(
    fn: Callable[[T], R],
    tasks: Sequence[T],
    *,
    scheduler: str | None = None,
    progress: Callable[[R], None] | None = None,
) -> list[R]:
    """Apply ``fn`` to every task, in process or on Dask.

    Parameters
    ----------
    fn : callable
        A module-level (picklable) function of one task.
    tasks : sequence
        Picklable task descriptions.
    scheduler : str, optional
        ``None`` (in process), ``"local"`` or a scheduler address.
    progress : callable, optional
        Called with each result as it completes (in completion order).

    Returns
    -------
    list
        ``[fn(t) for t in tasks]``, in task order.
    """
    if scheduler is None:
        out = []
        for task in tasks:
            res = fn(task)
            out.append(res)
            if progress is not None:
                progress(res)
        return out
    return _map_dask(fn, tasks, scheduler, progress)


def _map_dask(
    fn: Callable[[Any], Any],
    tasks: Sequence[Any],
    scheduler: str,
    progress: Callable[[Any], None] | None,
) -> list[Any]:
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        futures = [client.submit(fn, t, pure=False) for t in tasks]
        index = {f.key: i for i, f in enumerate(futures)}
        out: list[Any] = [None] * len(tasks)
        for future in as_completed(futures):
            res = future.result()
            out[index[future.key]] = res
            if progress is not None:
                progress(res)
        return out
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


__all__ = ["map_tasks"]
