"""One chunk: read its units, fit every person of every frame, write its shard.

This is the task every engine runs (in a thread of this process, or on a Dask worker). The
model, prior and options arrive as a small :class:`FitSpec`; :func:`loaded` turns it into the
loaded model and prior once per process (the Dask engine also sends the spec to each worker
once), so a task carries only its chunk.

In a video unit people are tracked (``smplify.tracking``) and each track is fitted by its own
warm-started ``smplify.Fitter``; COCO photos are fitted from scratch. Every fit runs on one
thread (``threads=1``): the engines run chunks side by side instead, and a fit's result does
not depend on the machine's cores.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import KeypointError, SmplifyError
from ..sources import plausible_fps
from .inputs import load_unit
from .rows import ENERGY_TERMS, write_shard
from .sharding import Chunk, shard_name

__all__ = ["FitSpec", "ChunkStats", "loaded", "fit_chunk", "run_chunk"]


@dataclass(frozen=True)
class FitSpec:
    """What every fit of a run shares (hashable, picklable, small).

    Attributes
    ----------
    model : str
        "open" or a path to an SMPL model file.
    gender : str
    num_betas : int or None
    prior : str
        "open" or a path to a GMM prior.
    format : str or None
        Keypoint format of inputs that do not say it.
    image_size : (width, height) or None
        Pixels, for inputs that do not say it.
    focal_length : float or None
        Pixels; None: the fit's default.
    options : tuple of (str, value)
        Fit options (``smplify.FitOptions`` keywords), sorted.
    """

    model: str = "open"
    gender: str = "neutral"
    num_betas: int | None = 10
    prior: str = "open"
    format: str | None = None
    image_size: tuple[int, int] | None = None
    focal_length: float | None = None
    options: tuple[tuple[str, Any], ...] = field(default_factory=tuple)


@lru_cache(maxsize=4)
def loaded(spec: FitSpec) -> tuple[Any, Any]:
    """The spec's body model and pose prior, loaded once per process."""
    from ..model import load_model
    from ..prior import load_prior

    return load_model(spec.model, gender=spec.gender, num_betas=spec.num_betas), \
        load_prior(spec.prior)


@dataclass
class ChunkStats:
    """What a chunk's shard holds (returned by a task instead of the rows).

    Attributes
    ----------
    index : int
    rows : int
        Person-frames.
    statuses : dict of str -> int
    seconds : float
        Wall time of the task (0 when the shard was already there).
    """

    index: int
    rows: int
    statuses: dict[str, int]
    seconds: float


def _status(result: Any) -> tuple[str, str, int]:
    stages = result.summary["stages"]
    termination = stages[-1].termination
    status = "iteration_limit" if termination == "NO_CONVERGENCE" else "converged"
    if result.summary.get("status") == "evaluation_failed":  # a stage stopped on a NaN term
        status = "evaluation_failed"
    return status, termination, sum(s.iterations for s in stages)


def _reprojection(result: Any, kp: NDArray[np.float64]) -> float:
    seen = (kp[:, 2] > 0) & np.all(np.isfinite(result.keypoints_2d), axis=1)
    if not seen.any():
        return float("nan")
    return float(np.median(np.linalg.norm(result.keypoints_2d[seen] - kp[seen, :2], axis=1)))


def _row(ids: dict[str, Any], fmt: str, size: tuple[int, int], result: Any = None,
         kp: NDArray[np.float64] | None = None, status: str = "", message: str = "",
         seconds: float = 0.0) -> dict[str, Any]:
    nan = float("nan")
    row = {**ids, "status": status, "message": message, "start": "", "termination": "",
           "iterations": 0, "seconds": seconds, "format": fmt, "image_width": int(size[0]),
           "image_height": int(size[1]), "focal_length": nan, "center": [nan, nan],
           "betas": [], "global_orient": [nan] * 3, "body_pose": [nan] * 69,
           "transl": [nan] * 3, "reprojection_px": nan}
    row.update({f"energy_{t}": nan for t in ENERGY_TERMS})
    if result is not None:
        status, termination, iterations = _status(result)
        row.update(status=status, start=result.summary.get("start", "cold"),
                   termination=termination, iterations=iterations,
                   focal_length=float(result.camera.focal_length),
                   center=[float(v) for v in result.camera.center],
                   betas=result.betas.tolist(), global_orient=result.global_orient.tolist(),
                   body_pose=result.body_pose.tolist(), transl=result.transl.tolist(),
                   reprojection_px=_reprojection(result, kp))
        row.update({f"energy_{t}": float(result.energy[t]) for t in ENERGY_TERMS})
    return row


def _failure(err: Exception) -> tuple[str, str]:
    if isinstance(err, KeypointError):
        return "bad_keypoints", str(err)
    if type(err) is SmplifyError:  # what a solve that could not be evaluated raises
        return "fit_failed", str(err)
    if isinstance(err, (ValueError, TypeError)):
        return "bad_input", str(err)
    return "error", f"{type(err).__name__}: {err}"


def _fit_unit(unit: Any, spec: FitSpec, model: Any, prior: Any) -> list[dict[str, Any]]:
    from ..fitter import Fitter
    from ..tracking import track_all

    try:
        frames = load_unit(unit, format=spec.format, image_size=spec.image_size)
    except Exception as err:  # a row says so; the rest of the dataset goes on
        ids = {"source": unit.source, "frame": -1, "frame_name": "", "person": -1, "track": -1}
        return [_row(ids, spec.format or "", (0, 0), status="unreadable",
                     message=f"{unit.path}: {type(err).__name__}: {err}")]
    # A video's ids over the whole unit at once (each person from their first frame, lost
    # people kept for re-matching two seconds at the unit's own frame rate when it says); a
    # detection that gets none (-1: a one-frame false person, a duplicate) is fitted cold.
    # (its own rate only where plausible, as ``smplify fit``'s: ``sources.plausible_fps``)
    fps = plausible_fps(frames.fps)
    everyone = [people for _, _, people in frames.frames]
    tracked = (track_all(everyone, **({"fps": fps} if fps is not None else {}))
               if unit.video else None)
    last_seen = {t: k for k, ids in enumerate(tracked or []) for t in ids if t >= 0}
    fitters: dict[int, Any] = {}
    rows = []
    options = dict(spec.options, threads=1)
    if fps is not None and "track_fps" not in options:  # the online filter's time unit
        options["track_fps"] = fps
    # a track file's camera unless the run gives one
    focal = spec.focal_length if spec.focal_length is not None else frames.focal_length
    for k, (index, name, people) in enumerate(frames.frames):
        worlds = frames.worlds[k] if frames.worlds is not None else [None] * len(people)
        tracks = tracked[k] if tracked is not None else list(range(len(people)))
        for track in set(fitters) - {-1}:
            if last_seen[track] < k:  # past its last frame: the track has ended
                del fitters[track]
            elif track not in tracks:  # lost for now: its Fitter skips the frame
                fitters[track].skip()
        for person, (kp, world, track) in enumerate(zip(people, worlds, tracks, strict=True)):
            ids = {"source": unit.source, "frame": int(index), "frame_name": name,
                   "person": person, "track": int(track)}
            started = time.perf_counter()
            warm = tracked is not None and track >= 0
            key = track if warm else -1  # photos and untracked people share one cold Fitter
            try:
                if key not in fitters:
                    fitters[key] = Fitter(model, format=frames.format,
                                          image_size=frames.image_size,
                                          focal_length=focal, prior=prior, **options)
                result = fitters[key].fit(kp, warm_start=warm, keypoints_3d=world)
            except Exception as err:  # a failed fit is a row with its status
                status, message = _failure(err)
                rows.append(_row(ids, frames.format, frames.image_size, status=status,
                                 message=message, seconds=time.perf_counter() - started))
                continue
            rows.append(_row(ids, frames.format, frames.image_size, result, kp,
                             seconds=time.perf_counter() - started))
    return rows


def fit_chunk(chunk: Chunk, spec: FitSpec) -> list[dict[str, Any]]:
    """Every row of a chunk, in unit, frame and person order (see ``smplify.dataset.rows``)."""
    model, prior = loaded(spec)
    rows: list[dict[str, Any]] = []
    for unit in chunk.units:
        rows += _fit_unit(unit, spec, model, prior)
    return rows


def _stats(index: int, statuses: list[str], seconds: float) -> ChunkStats:
    counts: dict[str, int] = {}
    for s in statuses:
        counts[s] = counts.get(s, 0) + 1
    return ChunkStats(index, len(statuses), counts, seconds)


def run_chunk(chunk: Chunk, spec: FitSpec, shard_dir: str, run_id: str) -> ChunkStats:
    """Fit a chunk and write its shard, unless the shard is already there (a restart, or a
    task Dask runs again): then only read what it holds. Idempotent.

    Parameters
    ----------
    chunk : Chunk
    spec : FitSpec
    shard_dir : str
        Folder of the shards (visible to every worker).
    run_id : str
        The manifest's identity hash, stored in the shard's metadata.

    Returns
    -------
    ChunkStats
    """
    import pyarrow.parquet as pq

    from ..cpu_variant import core_variant

    path = Path(shard_dir) / shard_name(chunk.index)
    if path.exists():
        statuses = pq.read_table(path, columns=["status"])["status"].to_pylist()
        return _stats(chunk.index, statuses, 0.0)
    started = time.perf_counter()
    rows = fit_chunk(chunk, spec)
    write_shard(path, rows, {"smplify.run_id": run_id, "smplify.chunk": str(chunk.index),
                             "smplify.core_variant": core_variant()})
    return _stats(chunk.index, [r["status"] for r in rows], time.perf_counter() - started)
