"""A video track's motion files: ``smplify fit VIDEO --motion glb bvh npz``.

Each track (one person, ``<input>_track<k>.npz``) becomes one motion over the video's frames
from its first to its last (time 0: the track's first frame, the track file's ``frame[0]``),
at the video's frame rate (30 fps where the input does not say, e.g. a folder of photos),
written by ``smplify.motion``:

- ``<input>_track<k>_motion.glb``: an animated, skinned glTF (mesh, the 24-joint skeleton, a
  keyframe per frame; it plays in Blender and three.js);
- ``<input>_track<k>_motion.bvh``: BVH of the SMPL skeleton with the fitted bone lengths;
- ``<input>_track<k>_motion.npz``: the stacked smplx SMPL parameters (a batch of T frames).

Where the motion comes from (``motion_fit``):

- ``"online"`` (default): the online ``Fitter``'s frames, the bodies drawn on the overlay. One
  shape for the motion: the track's last (the Fitter holds its shape after the first frames
  and refines it slowly). Frames the track missed (its person lost for a while) are filled
  between the frames around them: each joint's rotation slerped, the translation linear
  (``motion.fill_missed``, its ``"slerp"`` rule; fit_sequence's start fills the frames
  between its keyframes with the same function's ``"linear"`` rule, its docstring says why).
- ``"sequence"``: ``smplify.fit_sequence`` over the track's keypoints (and the detector's 3D
  keypoints), with the track's focal length: one shape, smooth motion, missed frames filled by
  its temporal terms; slower (a second fit of every frame).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from .motion import fill_missed
from .result import Camera

__all__ = ["MOTION_FITS", "MOTION_FORMATS", "check_motion", "online_motion", "sequence_motion",
           "write_motion", "write_track_motions"]

MOTION_FORMATS = ("glb", "bvh", "npz")
MOTION_FITS = ("online", "sequence")
#: The motion's rate where the input does not say its own (a folder of photos).
DEFAULT_FPS = 30.0


def check_motion(formats: Sequence[str], motion_fit: str) -> tuple[str, ...]:
    """``formats`` as a tuple, each one of :data:`MOTION_FORMATS` (no repeats), and
    ``motion_fit`` one of :data:`MOTION_FITS`; else a ValueError naming the argument."""
    if isinstance(formats, str):
        formats = (formats,)
    formats = tuple(formats)
    unknown = [f for f in formats if f not in MOTION_FORMATS]
    if unknown:
        raise ValueError(f"motion: expected formats among {MOTION_FORMATS}, got {unknown}")
    if motion_fit not in MOTION_FITS:
        raise ValueError(f"motion_fit: expected one of {MOTION_FITS}, got {motion_fit!r}")
    return tuple(dict.fromkeys(formats))


def _span(track: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The track's frame numbers, and every frame from its first to its last."""
    frame = np.asarray(track["frame"], dtype=np.int64)
    return frame, np.arange(frame[0], frame[-1] + 1)


def online_motion(track: Mapping[str, Any], model: Any) -> SimpleNamespace:
    """A track's online fits as one motion (module docstring, ``"online"``).

    Parameters
    ----------
    track : mapping
        The track's arrays, as ``<input>_track<k>.npz`` holds them: ``frame`` (T,) increasing,
        ``betas`` (T, B), ``global_orient`` (T, 3), ``body_pose`` (T, 69), ``transl`` (T, 3),
        ``focal_length`` (), ``camera_center`` (2,).
    model : BodyModel
        The model the track was fitted with.

    Returns
    -------
    SimpleNamespace
        The fields ``smplify.motion`` reads from a SequenceResult, over the frames from the
        track's first to its last: betas (B,), global_orient (F, 3), body_pose (F, 69),
        transl (F, 3), joints (F, 24, 3), camera.
    """
    frame, every = _span(track)
    seen = np.isin(every, frame)
    pose, transl = np.zeros((len(every), 72)), np.zeros((len(every), 3))
    pose[seen] = np.concatenate([np.asarray(track["global_orient"], dtype=np.float64),
                                 np.asarray(track["body_pose"], dtype=np.float64)], axis=1)
    transl[seen] = np.asarray(track["transl"], dtype=np.float64)
    if not seen.all():  # frames the track missed: filled, the others kept as fitted
        filled, transl = fill_missed(pose, transl, seen, body="slerp")
        pose[~seen] = filled[~seen]
    betas = np.asarray(track["betas"], dtype=np.float64)[-1]
    joints = np.stack([model(betas=betas, global_orient=p[:3], body_pose=p[3:], transl=t).joints
                       for p, t in zip(pose, transl, strict=True)])
    camera = Camera(float(track["focal_length"]),
                    np.asarray(track["camera_center"], dtype=np.float64))
    return SimpleNamespace(betas=betas, global_orient=pose[:, :3], body_pose=pose[:, 3:],
                           transl=transl, joints=joints, camera=camera)


def sequence_motion(track: Mapping[str, Any], model: Any, format: str,
                    image_size: Sequence[int], **options: Any) -> Any:
    """``smplify.fit_sequence`` over a track's keypoints (module docstring, ``"sequence"``).

    Parameters
    ----------
    track : mapping
        As :func:`online_motion`'s, with ``keypoints`` (T, K, 3) and optionally
        ``keypoints_3d`` (T, K, 3) (NaN where the detector gave none).
    model : BodyModel
    format : str
        The keypoints' format.
    image_size : (width, height)
    **options
        Fit options (``smplify.fit_sequence``'s).

    Returns
    -------
    SequenceResult
        Over the frames from the track's first to its last (missed frames: no keypoints).
    """
    from .sequence import fit_sequence

    frame, every = _span(track)
    rows = frame - frame[0]
    given = np.asarray(track["keypoints"], dtype=np.float64)
    keypoints = np.zeros((len(every),) + given.shape[1:])
    keypoints[rows] = given
    points_3d = None
    if "keypoints_3d" in track and not np.isnan(track["keypoints_3d"]).all():
        points_3d = np.full(keypoints.shape, np.nan)
        points_3d[rows] = np.asarray(track["keypoints_3d"], dtype=np.float64)
    return fit_sequence(keypoints, format=format, image_size=image_size,
                        focal_length=float(track["focal_length"]), model=model,
                        keypoints_3d=points_3d, **options)


def write_motion(stem: Path, formats: Sequence[str], motion: Any, model: Any,
                 fps: float | None) -> list[Path]:
    """Write ``motion`` as ``<stem>.glb`` / ``.bvh`` / ``.npz`` (``formats``) at ``fps``
    (None: :data:`DEFAULT_FPS`); returns the files."""
    from .motion import save_bvh, save_glb, save_npz

    rate = DEFAULT_FPS if fps is None else float(fps)
    writers = {"glb": lambda p: save_glb(p, motion, model, fps=rate),
               "bvh": lambda p: save_bvh(p, motion, model, fps=rate),
               "npz": lambda p: save_npz(p, motion, fps=rate)}
    return [writers[f](stem.with_name(f"{stem.name}.{f}")) for f in formats]


def write_track_motions(tracks: Mapping[int, Mapping[str, Any]], stems: Mapping[int, Path],
                        formats: Sequence[str], motion_fit: str, model: Any,
                        format: str | None, image_size: Sequence[int], fps: float | None,
                        options: Mapping[str, Any]) -> tuple[list[Path], list[str]]:
    """Each track's motion files, ``<stem>_motion.<format>`` (``stems[k]`` for track k).

    Parameters
    ----------
    tracks : mapping of track id -> the track's arrays (:func:`online_motion`'s, with those
        :func:`sequence_motion` reads for ``motion_fit="sequence"``)
    stems : mapping of track id -> Path
        The output folder and the track's name (``<input>_track<k>``, as its track file's).
    formats, motion_fit : as :func:`check_motion` takes them.
    model, format, image_size : the fit's.
    fps : float or None
        The input's frame rate (None: :data:`DEFAULT_FPS`).
    options : fit options (``motion_fit="sequence"``: ``fit_sequence``'s).

    Returns
    -------
    (files written, tracks skipped: "track k: why", as ``RunSummary.skipped`` lists them)
    """
    from .errors import KeypointError

    files, skipped = [], []
    for track, arrays in sorted(tracks.items()):
        if motion_fit == "sequence":
            try:
                motion = sequence_motion(arrays, model, str(format), image_size, **options)
            except KeypointError as err:  # e.g. no frame with a torso to start from
                skipped.append(f"track {track}'s motion (fit_sequence): {err}")
                continue
        else:
            motion = online_motion(arrays, model)
        stem = stems[track]
        files += write_motion(stem.with_name(f"{stem.name}_motion"), formats,
                              motion, model, fps)
    return files, skipped
