"""Run independent tasks in this process or on Dask: the one runner every stage uses.

``scheduler=None`` runs the tasks one after another in this process; ``"local"``
starts a ``distributed.LocalCluster`` of 2 single-threaded workers (processes, or
threads of this process); any other string is the address of a running Dask
scheduler (``tcp://host:8786``). Tasks carry their own seeds, so the results do
not depend on where or in which order they run. At most twice as many tasks as
there are worker threads are in flight at once, so memory stays bounded however
many tasks there are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

__all__ = ["map_tasks", "run_tasks"]

T = TypeVar("T")
R = TypeVar("R")
_NO_SHARED = object()


def run_tasks(
    fn: Callable[..., R],
    tasks: Sequence[T],
    *,
    scheduler: str | None = None,
    shared: Any = _NO_SHARED,
    processes: bool = True,
) -> Iterator[tuple[int, R]]:
    """Yield ``(index, fn(task))`` for every task, as each one completes.

    Parameters
    ----------
    fn : callable
        A module-level (picklable) function of one task, or of a task and
        ``shared`` when that is given.
    tasks : sequence
        Picklable task descriptions.
    scheduler : str, optional
        ``None`` (in process), ``"local"`` or a scheduler address.
    shared : optional
        A value every task needs (large arrays, say): passed as ``fn``'s second
        argument, sent to each Dask worker once.
    processes : bool, default True
        With ``"local"``: workers in processes (for GIL-bound work such as a PyMC
        fit) or threads of this process (for kernels that release the GIL).

    Yields
    ------
    tuple of (int, object)
        The task's position in ``tasks`` and its result; in task order in process,
        in completion order on Dask.
    """
    extra = () if shared is _NO_SHARED else (shared,)
    if scheduler is None:
        for k, task in enumerate(tasks):
            yield k, fn(task, *extra)
        return
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler == "local":
        # no dashboard; the scheduler's small HTTP server takes a free port, so a
        # cluster already running on 8787 does not get in the way
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
            scheduler_kwargs={"dashboard": False},
        )
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        if extra:
            extra = (client.scatter(shared, broadcast=True),)
        pending = list(enumerate(tasks))[::-1]
        index: dict[str, int] = {}
        running = as_completed()

        def submit() -> None:
            k, task = pending.pop()
            future = client.submit(fn, task, *extra, pure=False)
            index[future.key] = k
            running.add(future)

        for _ in range(min(max(2, 2 * sum(client.nthreads().values())), len(pending))):
            submit()
        for future in running:
            result = future.result()
            future.release()
            if pending:
                submit()
            yield index.pop(future.key), result
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def map_tasks(
    fn: Callable[[T], R],
    tasks: Sequence[T],
    *,
    scheduler: str | None = None,
    progress: Callable[[R], None] | None = None,
) -> list[R]:
    """Apply ``fn`` to every task, in process or on Dask (worker processes).

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
    out: list[Any] = [None] * len(tasks)
    for k, result in run_tasks(fn, tasks, scheduler=scheduler):
        out[k] = result
        if progress is not None:
            progress(result)
    return out
