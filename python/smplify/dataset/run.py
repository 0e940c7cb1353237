"""``fit_dataset``: plan, check the manifest, skip finished shards, run an engine, summarise."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .chunk_fit import ChunkStats, FitSpec, loaded
from .engines import ENGINES, one_blas_thread, require_extras, run_dask, run_local
from .inputs import find_units
from .manifest import check_or_write, identity, identity_hash
from .rows import read_rows
from .sharding import plan_chunks, shard_name

__all__ = ["DatasetSummary", "fit_dataset", "read_results", "shard_paths"]


@dataclass
class DatasetSummary:
    """What :func:`fit_dataset` did.

    Attributes
    ----------
    out_dir : Path
    chunks : int
        Chunks in the plan.
    skipped_chunks : int
        Chunks whose shards an earlier run had finished.
    rows : int
        Person-frames fitted by this run (rows written; skipped shards not counted).
    statuses : dict of str -> int
        This run's rows by status.
    seconds : float
        Wall time of this run.
    resumed : bool
        An earlier run of the same inputs and options was continued.
    """

    out_dir: Path
    chunks: int
    skipped_chunks: int = 0
    rows: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    resumed: bool = False

    @property
    def fits_per_second(self) -> float:
        """Person-frames per second of wall time (this run)."""
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    @property
    def failures(self) -> dict[str, int]:
        """Rows by status, of those that have no fit."""
        return {k: v for k, v in self.statuses.items()
                if k not in ("converged", "iteration_limit")}


def shard_paths(out_dir: str | os.PathLike[str]) -> list[Path]:
    """The finished shards of an output folder, in chunk order."""
    return sorted((Path(out_dir) / "shards").glob("part-*.parquet"))


def read_results(out_dir: str | os.PathLike[str]) -> Any:
    """Every row of an output folder as one pyarrow Table (chunk order, then the input's
    source, frame and person order); ``.to_pandas()`` if pandas is installed."""
    return read_rows(shard_paths(out_dir))


def fit_dataset(inputs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
                out_dir: str | os.PathLike[str], *, engine: str = "local",
                scheduler: str | None = None, workers: int | None = None,
                chunk: int = 256, model: str | os.PathLike[str] = "open",
                gender: str = "neutral", num_betas: int | None = 10,
                prior: str | os.PathLike[str] = "open", format: str | None = None,
                image_size: Sequence[int] | None = None, focal_length: float | None = None,
                overwrite: bool = False, progress: bool = False, processes: bool = True,
                **options: Any) -> DatasetSummary:
    """Fit every person-frame of a dataset into Parquet shards, resumably.

    Parameters
    ----------
    inputs : path-like or sequence of them
        OpenPose folders, COCO keypoint .json, .npz, .parquet keypoint shards, or folders of
        them (``smplify.dataset.inputs``).
    out_dir : path-like
        Output folder: ``manifest.json`` and ``shards/part-NNNNNN.parquet`` (one per chunk;
        rows: ``smplify.dataset.rows``).
    engine : "local" or "dask"
    scheduler : str, optional
        Dask scheduler address (engine "dask"); None: a LocalCluster on loopback.
    workers : int, optional
        Threads (local) or LocalCluster workers (dask); None: the machine's cores.
    chunk : int
        Frames per chunk (a video is never split: it may make a bigger chunk).
    model, gender, num_betas, prior : as ``smplify.load_model`` / ``load_prior`` (names or
        paths, so every worker can load them).
    format : str, optional
        Keypoint format of inputs that do not say it.
    image_size : (width, height), optional
        Pixels, for inputs that do not say it.
    focal_length : float, optional
        Pixels; None: a track file's own, else the fit's default (the image diagonal).
    overwrite : bool
        If ``out_dir`` holds another run's results, delete them and start over (default:
        refuse, :class:`DatasetMismatchError`).
    progress : bool
        A progress bar on stderr.
    processes : bool
        Dask LocalCluster workers as processes (default) or threads.
    **options
        Fit options (``smplify.FitOptions``; ``threads`` is always 1 per fit).

    Returns
    -------
    DatasetSummary

    Raises
    ------
    DatasetMismatchError
        ``out_dir`` holds results of other inputs, options, model or version.
    FileNotFoundError, ValueError
        Bad inputs or arguments (naming them).
    """
    started = time.perf_counter()
    if engine not in ENGINES:
        raise ValueError(f"engine: expected one of {ENGINES}, got {engine!r}")
    require_extras()
    with one_blas_thread():  # every engine the same, bit for bit (engines.py says why)
        return _fit_dataset(inputs, out_dir, engine, scheduler, workers, chunk, model, gender,
                            num_betas, prior, format, image_size, focal_length, overwrite,
                            progress, processes, options, started)


def _fit_dataset(inputs: Any, out_dir: Any, engine: str, scheduler: str | None,
                 workers: int | None, chunk: int, model: Any, gender: str,
                 num_betas: int | None, prior: Any, format: str | None, image_size: Any,
                 focal_length: float | None, overwrite: bool, progress: bool, processes: bool,
                 options: dict[str, Any], started: float) -> DatasetSummary:
    from ..options import FitOptions
    from ..sources import _size

    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise ValueError(f"workers: expected an integer >= 1 or None, got {workers!r}")
    options.pop("threads", None)
    FitOptions.from_kwargs(**options)  # names a bad option before any work
    size = None if image_size is None else _size(image_size, "image_size")
    spec = FitSpec(_name_or_path(model), gender, num_betas, _name_or_path(prior), format, size,
                   None if focal_length is None else float(focal_length),
                   tuple(sorted(options.items())))
    paths = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    units = find_units(paths, format=format, image_size=size)
    chunks = plan_chunks(units, chunk)
    doc = identity(units, spec, chunk, *loaded(spec))
    run_id = identity_hash(doc)
    out = Path(out_dir)
    summary = DatasetSummary(out, len(chunks))
    summary.resumed = check_or_write(out, doc, len(chunks), overwrite)
    shard_dir = out / "shards"
    shard_dir.mkdir(exist_ok=True)
    for stale in shard_dir.glob(".*.tmp"):  # a killed run's half-written shard
        stale.unlink(missing_ok=True)
    pending = [c for c in chunks if not (shard_dir / shard_name(c.index)).exists()]
    summary.skipped_chunks = len(chunks) - len(pending)
    bar = _progress_bar(len(chunks), summary.skipped_chunks) if progress else None

    def on_done(stats: ChunkStats) -> None:
        summary.rows += stats.rows
        for status, n in stats.statuses.items():
            summary.statuses[status] = summary.statuses.get(status, 0) + n
        if bar is not None:
            bar.update(1)
            bar.set_postfix(fits=summary.rows,
                            per_s=f"{summary.rows / (time.perf_counter() - started):.0f}")

    try:
        if engine == "local":
            run_local(pending, spec, str(shard_dir), run_id, workers=workers, on_done=on_done)
        elif pending:
            run_dask(pending, spec, str(shard_dir), run_id, workers=workers, on_done=on_done,
                     scheduler=scheduler, processes=processes)
    finally:
        if bar is not None:
            bar.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _name_or_path(value: str | os.PathLike[str]) -> str:
    """A model or prior name, or its file as an absolute path (workers have other cwds)."""
    path = Path(os.fspath(value))
    return str(path.resolve()) if path.exists() else os.fspath(value)


def _progress_bar(total: int, done: int) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, initial=done, unit="chunk", desc="smplify dataset",
                file=sys.stderr, dynamic_ncols=True)
