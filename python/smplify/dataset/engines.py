"""Where the chunks run: ``local`` (threads of this process) or ``dask`` (a Dask cluster).

Both run :func:`smplify.dataset.chunk_fit.run_chunk` once per pending chunk and call
``on_done(ChunkStats)`` as each finishes; the shards are the results, the tasks return only
their counts.

- ``local``: a pool of ``workers`` threads, each fitting one chunk at a time. The C++ solves
  release the GIL, so the threads fit in parallel (as ``smplify.fit_batch`` does).
- ``dask``: ``dask.distributed`` (``pip install 'smplify[dask]'``): a ``LocalCluster`` of
  ``workers`` single-threaded worker processes, or the cluster at ``scheduler``. The
  :class:`FitSpec` is scattered to every worker once (``broadcast=True``) and each worker
  loads the model and prior from it once (``chunk_fit.loaded``); a task carries only its
  chunk. Task keys name the run and the chunk, and a task Dask retries (a worker died) finds
  or rewrites the same shard under the same name, so retries never duplicate rows. Every
  worker must run the client's build of the C++ core (``smplify.core_variant()``, part of the
  run's identity): a cluster whose workers run another refuses to start
  (:class:`~smplify.dataset.manifest.DatasetMismatchError`; ``SMPLIFY_CPU=baseline`` on every
  machine makes a mixed cluster agree). Workers that join once the run has started are not
  asked.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from functools import lru_cache
from typing import Any

from ..errors import Unavailable
from .chunk_fit import ChunkStats, FitSpec, run_chunk
from .sharding import Chunk

__all__ = ["ENGINES", "run_local", "run_dask", "DaskUnavailable", "require_extras",
           "one_blas_thread", "local_cluster", "close_cluster", "check_workers"]

ENGINES = ("local", "dask")


class DaskUnavailable(Unavailable):
    """The dask engine needs ``dask.distributed``, and the shards pyarrow."""


def require_extras() -> None:
    """Raise :class:`DaskUnavailable` naming the extra when pyarrow (the shards) or
    threadpoolctl (one BLAS thread) is missing."""
    try:
        import pyarrow.parquet  # noqa: F401
        import threadpoolctl  # noqa: F401
    except ImportError as err:
        raise DaskUnavailable(f"smplify.dataset needs {err.name}: pip install "
                              "'smplify[dataset]' (or 'smplify[dask]')") from None


# NumPy's BLAS runs on one thread in every engine. Dask's worker processes start that way
# (OMP/OPENBLAS/MKL_NUM_THREADS=1); a BLAS on several threads sums in another order, and the
# last-bit differences in a fit's set-up grew, in a few multimodal fits, into another minimum
# (measured: 0.2 rad of body pose on 1 row in ~200). The fit's own set-up now sums in a fixed
# order (smplify.fixed_order, tests/test_blas_threads.py); the pin stays as a guard for any
# BLAS call that slips back in. One fit per thread keeps the cores busy.
def one_blas_thread() -> Any:
    """A context in which NumPy's BLAS uses one thread (``fit_dataset`` runs in one)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


@lru_cache(maxsize=1)
def _worker_blas_pinned() -> bool:
    """Pin a Dask worker process's BLAS to one thread, once (the process is the engine's)."""
    one_blas_thread()
    return True


def _dask_task(chunk: Chunk, spec: FitSpec, shard_dir: str, run_id: str) -> ChunkStats:
    _worker_blas_pinned()
    return run_chunk(chunk, spec, shard_dir, run_id)


def _worker_core_variant() -> str:
    """(On a Dask worker.) The build of the C++ core it runs."""
    from ..cpu_variant import core_variant

    return core_variant()


def check_workers(client: Any) -> None:
    """Raise :class:`DatasetMismatchError` unless every worker of ``client`` runs this
    process's build of the C++ core (their rows would differ in rounding from the ones the
    manifest says)."""
    from ..cpu_variant import ENV, core_variant
    from .manifest import DatasetMismatchError

    here = core_variant()
    others = {worker: variant for worker, variant in client.run(_worker_core_variant).items()
              if variant != here}
    if others:
        listed = ", ".join(f"{w} runs {v!r}" for w, v in sorted(others.items())[:4])
        raise DatasetMismatchError(
            f"engine 'dask': the workers must run the client's build of smplify's core "
            f"({here!r}), but {listed}{' and more' if len(others) > 4 else ''}: set {ENV} "
            f"the same everywhere ({ENV}=baseline runs on every x86-64 machine)")


def run_local(chunks: Sequence[Chunk], spec: FitSpec, shard_dir: str, run_id: str, *,
              workers: int | None, on_done: Callable[[ChunkStats], None]) -> None:
    """Fit ``chunks`` on ``workers`` threads (None: the machine's cores)."""
    threads = workers or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(run_chunk, c, spec, shard_dir, run_id) for c in chunks]
        try:
            for future in as_completed(futures):
                on_done(future.result())
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def local_cluster(workers: int | None, processes: bool = True) -> Any:
    """The dask engine's ``LocalCluster``: ``workers`` single-threaded workers (None: the
    cores), worker processes on loopback (``processes=True``) or threads of this process."""
    try:
        import dask
        from dask.distributed import LocalCluster
    except ImportError:
        raise DaskUnavailable("engine 'dask' needs dask.distributed: "
                              "pip install 'smplify[dask]'") from None
    # Loopback only (tcp://127.0.0.1) for worker processes; threads talk in-process.
    where = {"host": "127.0.0.1"} if processes else {}
    # Dask starts worker processes with MALLOC_TRIM_THRESHOLD_=65536, which turns off glibc's
    # adaptive mmap threshold: every array over 128 kB (a fit's vertices are 330 kB) is then
    # mapped and unmapped afresh. Measured on one chunk of 128 fits: 0.98 s against 0.53 s.
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    # No dashboard; the scheduler still serves HTTP (health, metrics), on dask's dashboard
    # port 8787 unless told another: with 8787 held (another cluster) dask moves it with a
    # warning ("Port 8787 is already in use"). A free loopback port of its own instead.
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        return LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                            processes=processes, dashboard_address=None,
                            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}, **where)


#: Seconds a worker of our own LocalCluster gets to exit by itself when the run is over.
WORKER_EXIT_SECONDS = 60.0


def close_cluster(cluster: Any, timeout: float = WORKER_EXIT_SECONDS) -> None:
    """Close a LocalCluster of this process's making, letting each worker exit by itself.

    ``LocalCluster.close`` gives a worker process 4 s (Nanny's default) to exit, then logs
    "Worker process still alive after 4.0 seconds, killing" and kills it. A worker that has
    fitted needs ~0.5 s more than an idle one to exit (its interpreter's teardown), far more
    on a loaded machine: the shards are written by then, so wait for it, up to ``timeout``
    seconds each, then close the rest of the cluster.
    """
    import asyncio

    async def close_workers() -> None:
        await asyncio.gather(*(worker.close(timeout=timeout)
                               for worker in list(cluster.workers.values())))

    try:
        cluster.sync(close_workers)
    finally:
        cluster.close()


def _client(scheduler: str | None, workers: int | None, processes: bool) -> tuple[Any, Any]:
    cluster = None if scheduler else local_cluster(workers, processes)
    from dask.distributed import Client

    return Client(scheduler or cluster), cluster


def run_dask(chunks: Sequence[Chunk], spec: FitSpec, shard_dir: str, run_id: str, *,
             workers: int | None, on_done: Callable[[ChunkStats], None],
             scheduler: str | None = None, processes: bool = True, retries: int = 3) -> None:
    """Fit ``chunks`` as Dask tasks, one per chunk.

    Parameters
    ----------
    chunks, spec, shard_dir, run_id, on_done : as :func:`run_local`
    workers : int or None
        Workers of the LocalCluster (ignored with ``scheduler``).
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); None: a LocalCluster on
        loopback. The shard folder and the inputs must be visible to every worker.
    processes : bool
        LocalCluster workers as processes (True) or threads of this process.
    retries : int
        Times Dask reruns a task whose worker failed.
    """
    from dask.distributed import as_completed as dask_completed

    client, cluster = _client(scheduler, workers, processes)
    try:
        check_workers(client)
        spec_future = client.scatter(spec, broadcast=True, hash=False)
        futures = [client.submit(_dask_task, c, spec_future, shard_dir, run_id,
                                 key=f"smplify-chunk-{run_id[:16]}-{c.index}", pure=False,
                                 retries=retries) for c in chunks]
        try:
            for future in dask_completed(futures):
                on_done(future.result())
        except BaseException:
            client.cancel(futures)
            raise
    finally:
        client.close()
        if cluster is not None:
            close_cluster(cluster)
