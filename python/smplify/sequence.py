"""Offline fitting of a video: ``smplify.fit_sequence`` (SPEC §6 "Time").

1. The start (:mod:`smplify.sequence_start`): candidate tracks of warm-started
   :class:`smplify.Fitter` fits (the plain warm Fitter and the online Fitter) through every
   ``keyframe_step``-th frame, one path through their fits chosen by dynamic programming
   (Viterbi: data energy plus a cost on the body's change between keyframes); frames
   between keyframes and frames without a fit (no person, or no torso to start from) are
   interpolated (``motion.fill_missed``, its ``"linear"`` rule: the docstring says why it
   is not the motion files' ``"slerp"``).
2. One Ceres problem over all frames (``cpp/sequence_fitter.h``): one shared β, every
   frame's SMPLify terms at the last stage's weights, and acceleration terms on the global
   orientation (as rotation matrices), body pose and translation of every three consecutive
   frames (``cpp/temporal_term.h``), solved by Levenberg-Marquardt on the block-banded normal
   equations (``cpp/block_banded.h``: each frame couples to t ± 2 and to β; O(T) per step, no
   sparse library needed, the same in the wheel). Frames without keypoints are filled in by
   the temporal terms.
3. Detector-swap hypotheses: at the solution, each frame's keypoints are compared with the
   body's as seen, left/right swapped for the whole body, and swapped per limb (arms, legs);
   where a swapped reading explains the body clearly better the frame's keypoints are
   swapped back and the problem is solved again (at most ``swap_rounds`` times). A burst of
   swapped frames thus cannot turn the sequence around: the temporal terms hold the body's
   facing through it and the hypotheses then relabel the keypoints.

Temporal weights are given per pixel of a 1 m lever at the person's median depth: each
weight is multiplied by s = √((f / Z)² + s₀²) (f / Z: pixels per metre there;
``temporal_scale_floor`` s₀). f / Z alone balances the data term (pixels) alike for near and
far people when the detector's pixel error shrinks with the person; s₀ is for the error's
floor in pixels, which makes a far person's pixels noisier relative to the motion
(docs/video.md, "Temporal weights for far people").
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from . import online, sequence_windows
from .core_fitter import _shared_core_fitter
from .errors import KeypointError, SmplifyError
from .fitter import Fitter
from .keypoints import KeypointFormat, get_format, validate_keypoints, validate_keypoints_3d
from .left_right import mirror_index
from .problem import build_problem
from .result import Camera
from .sequence_options import FRAME_OPTION_NAMES, SequenceOptions
from .sequence_start import (
    best_labelling,
    first_fit,
    frame_3d,
    hard_keyframes,
    hypotheses,
    label_between,
    reading_scores,
    run_track,
    scratch_track,
    smooth_depth,
    viterbi_path,
)


@dataclass(frozen=True)
class SequenceResult:
    """The fit of a sequence of T frames (smplx naming, camera frame, metres).

    Attributes
    ----------
    betas : (B,) shared by every frame.
    global_orient : (T, 3).  body_pose : (T, 69).  transl : (T, 3).
    camera : Camera.
    joints : (T, 24, 3).
    keypoints_3d : (T, K, 3) the model's keypoints of the format (NaN where it has none).
    keypoints_2d : (T, K, 2) those projected, pixels.
    energy : dict of (T,) arrays per frame: data, pose, angle, interpenetration, temporal
        (the triple centred on the frame), keypoints_3d (E_3D; 0 without 3D keypoints); and
        "shape": the shared shape prior's energy.
    observed : (T,) bool, frames with at least one keypoint.
    faces : (F, 3) the model's triangles.
    summary : dict: seconds (total, init, solve), iterations (of them "rejected_steps":
        Levenberg-Marquardt steps not taken), solves, termination,
        relabelled frames, the solve's windows ([a, b) frames), and the start's candidate
        tracks ("initial_tracks"), the tracks that ran ("tracks_run": a track runs only
        from a fit to start from) and the keyframes each fitted ("track_keyframes"), number
        of keyframes, keyframes the path took from each track ("path_frames") and its
        switches between tracks ("path_switches").
    """

    betas: np.ndarray
    global_orient: np.ndarray
    body_pose: np.ndarray
    transl: np.ndarray
    camera: Camera
    joints: np.ndarray
    keypoints_3d: np.ndarray
    keypoints_2d: np.ndarray
    energy: dict[str, Any]
    observed: np.ndarray
    faces: np.ndarray
    summary: dict[str, Any]

    @property
    def num_frames(self) -> int:
        """T."""
        return int(self.body_pose.shape[0])

    @property
    def pose(self) -> np.ndarray:
        """(T, 72) global_orient ‖ body_pose."""
        return np.concatenate([self.global_orient, self.body_pose], axis=1)


def fit_sequence(keypoints: Any, format: str | KeypointFormat, image_size: Sequence[float],
                 focal_length: float | None = None, model: Any = "open", prior: Any = "open",
                 keypoints_3d: Any = None, **options: Any) -> SequenceResult:
    """Fit one person through a video: shared shape, smooth motion (module docstring).

    Parameters
    ----------
    keypoints : (T, K, 3) x, y (pixels), confidence per frame, or (T, K, 2). A frame with no
        person has every confidence 0 (or NaN coordinates for (T, K, 2)).
    format : a keypoint format name (``smplify.format_names()``) or a
        :class:`smplify.KeypointFormat` (e.g. ``keypoints.with_blended_hips``'s).
    image_size : (width, height) pixels.
    focal_length : pixels, or None for ``default_focal_length`` (the image diagonal, as
        :func:`smplify.fit` and the :class:`smplify.Fitter`; 5000 with ``preset="paper"``).
    model : "open", a path, or a loaded model.
    prior : "open", a path, or a loaded prior.
    keypoints_3d : (T, K, 3) metres, or None. The detector's own 3D keypoints per frame
        (e.g. MediaPipe's world landmarks) in camera-aligned axes (x right, y down, z away),
        any origin per frame; NaN rows (or whole NaN frames) where unknown. Each frame with
        at least two known gets the robust relative 3D term E_3D of :func:`smplify.fit`
        (``keypoints_3d_weight``, ``keypoints_3d_sigma``), in the start's per-frame fits and
        in the joint solve, relabelled with its 2D keypoints.
    **options : fields of :class:`SequenceOptions` and of :class:`smplify.FitOptions` (the
        latter for the per-frame fits and the per-frame terms; the joint solve leaves
        ``knee_depth_weight``'s term out). ``reading_weight`` is
        :class:`SequenceOptions`' (the path's w_R); ``frame_reading_weight`` sets
        FitOptions' ``reading_weight`` (λ_R of the per-frame fits' start selection, scaled
        by ``reading_weight_size``/``reading_weight_exponent`` as in :func:`smplify.fit`).

    Returns
    -------
    SequenceResult

    Raises
    ------
    KeypointError (a ValueError) : keypoints not (T, K, 3)/(T, K, 2) for the format, T = 0,
        bad values, every frame empty, or no frame with a torso to start from; keypoints_3d
        not (T, K, 3) or with infinite or absurd values.
    ValueError / TypeError : bad format, image size, focal length or options.
    """
    start = time.perf_counter()
    names = {f.name for f in fields(SequenceOptions)}
    seq_options = SequenceOptions(**{k: v for k, v in options.items() if k in names})
    fit_options = {FRAME_OPTION_NAMES.get(k, k): v for k, v in options.items()
                   if k not in names}
    fmt = get_format(format)
    xy, conf = _validate(keypoints, fmt)
    points_3d = _validate_3d(keypoints_3d, fmt, len(xy))
    observed = conf.max(axis=1) > 0
    if not observed.any():
        raise KeypointError("keypoints: every frame has all confidences zero; nothing to fit")

    make_fitter = {"model": model, "format": fmt, "image_size": image_size,
                   "focal_length": focal_length, "prior": prior, **fit_options}
    fitter = Fitter(**{**make_fitter, "track": False, "track_smoothing": 0.0})
    # The format's weight per keypoint on this model (0 where it has no point).
    first = int(np.flatnonzero(observed)[0])
    problem = build_problem(np.column_stack([xy[first], np.ones(len(xy[first]))]), fmt,
                            fitter.image_size, fitter.focal_length, fitter.model,
                            fitter.prior, fitter.options, place_camera=False)
    format_weights = np.asarray(problem.weights, dtype=np.float64)
    core = _shared_core_fitter(problem)
    camera = problem.camera

    labellings = hypotheses(fmt)
    pose, betas, transl, perm, depth, start_summary = _start(
        make_fitter, xy, conf, observed, format_weights, labellings, seq_options,
        fitter._settings, camera.focal_length, fitter.options.selection_sigma, points_3d)
    init_seconds = time.perf_counter() - start

    scale = temporal_scale(camera.focal_length, depth, seq_options.temporal_scale_floor)
    temporal = scale * np.array([seq_options.temporal_orient_weight,
                                 seq_options.temporal_pose_weight,
                                 seq_options.temporal_transl_weight])
    # While the labels are in doubt the data term uses the tight σ of the start selection:
    # a swapped limb is then an outlier the body does not follow, and the swapped reading
    # fits the body better than the labelled one. The last solve uses the fit's own σ.
    tight = _shared_core_fitter(dataclasses.replace(
        problem, options=dataclasses.replace(problem.options,
                                             data_sigma=problem.options.selection_sigma)))
    totals = {"seconds": 0.0, "linear_solver_seconds": 0.0, "evaluation_seconds": 0.0,
              "iterations": 0, "rejected_steps": 0}
    report: dict[str, Any] = {}
    round_, solves = 0, 0
    while True:
        solve_core = tight if round_ < seq_options.swap_rounds else core
        frame_xy = np.take_along_axis(xy, perm[..., None], axis=1)
        weights = np.take_along_axis(conf, perm, axis=1) * format_weights
        report = sequence_windows.solve(
            solve_core, frame_xy, weights, float(camera.focal_length),
            np.asarray(camera.center, dtype=np.float64), pose, betas, transl, temporal,
            seq_options.sequence_iterations, seq_options.linear_solver == "iterative",
            seq_options.window, _relabelled_3d(points_3d, perm, mirror_index(fmt)),
            0.0 if points_3d is None else float(fitter.options.keypoints_3d_weight),
            seq_options.initial_damping, seq_options.sequence_retries)
        solves += 1
        for key in totals:
            totals[key] += report[key]
        pose, betas, transl = report["pose"], report["betas"], report["transl"]
        if solve_core is core:
            break
        predicted = camera.project(report["keypoints"].reshape(len(xy), -1, 3))
        changed = _choose_swaps(predicted, xy, conf, format_weights, perm, labellings,
                                fitter.options.selection_sigma, seq_options.swap_margin)
        # Settled labels skip the remaining rounds of hypotheses: on to the last solve.
        round_ = round_ + 1 if changed else seq_options.swap_rounds
    # FAILURE also ends a solve whose rejected steps raised μ past 1e32 (cpp/sequence_fitter.cc
    # SolveBanded): its result is the last accepted point, a fit; only a start the energy
    # cannot be evaluated at is an error.
    if not np.isfinite(report["initial_cost"]) or not np.all(np.isfinite(report["energies"])):
        raise SmplifyError("fit_sequence: the energy could not be evaluated at the start "
                           "(a body at or behind the camera); check focal_length and "
                           "image_size against the keypoints")

    num_frames, num_keypoints = xy.shape[:2]
    keypoints_3d = report["keypoints"].reshape(num_frames, num_keypoints, 3).copy()
    keypoints_3d[:, format_weights == 0] = np.nan
    energy_rows = report["energies"]
    identity = np.arange(num_keypoints)
    return SequenceResult(
        betas=np.asarray(betas), global_orient=pose[:, :3].copy(), body_pose=pose[:, 3:].copy(),
        transl=np.asarray(transl), camera=camera,
        joints=report["joints"].reshape(num_frames, 24, 3), keypoints_3d=keypoints_3d,
        keypoints_2d=camera.project(keypoints_3d),
        energy={"data": energy_rows[:, 0], "pose": energy_rows[:, 1],
                "angle": energy_rows[:, 2], "interpenetration": energy_rows[:, 3],
                "temporal": energy_rows[:, 4], "keypoints_3d": energy_rows[:, 5],
                "shape": float(report["shape_energy"])},
        observed=observed, faces=fitter.model.faces,
        summary={"seconds": time.perf_counter() - start, "init_seconds": init_seconds,
                 "solve_seconds": totals["seconds"],
                 "linear_solver_seconds": totals["linear_solver_seconds"],
                 "evaluation_seconds": totals["evaluation_seconds"],
                 "iterations": int(totals["iterations"]),
                 "rejected_steps": int(totals["rejected_steps"]), "solves": solves,
                 "termination": report["termination"],
                 **start_summary,
                 "relabelled_frames": np.flatnonzero((perm != identity).any(axis=1)).tolist(),
                 "temporal_weights": temporal.tolist(),
                 "solver": report["solver"],
                 "windows": [list(w) for w in report.get("windows", [(0, num_frames)])]})


def temporal_scale(focal_length: float, depth: float, floor: float) -> float:
    """s = √((f / Z)² + s₀²), pixels per metre: the factor of the temporal weights
    (module docstring) for the person's median depth Z (metres, clamped to ≥ 1 mm) and the
    floor s₀ (``temporal_scale_floor``)."""
    return float(np.hypot(focal_length / max(depth, 1e-3), floor))


def _validate(keypoints: Any, fmt: Any) -> tuple[np.ndarray, np.ndarray]:
    """(T, K, 2) pixels and (T, K) confidences of a sequence, checked frame by frame."""
    try:
        arr = np.asarray(keypoints, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"keypoints: expected a numeric (T, {fmt.num_keypoints}, 3) array, got "
                        f"{type(keypoints).__name__}") from err
    if arr.ndim != 3 or arr.shape[1] != fmt.num_keypoints or arr.shape[2] not in (2, 3):
        raise KeypointError(f"keypoints: expected shape (T, {fmt.num_keypoints}, 3) or "
                            f"(T, {fmt.num_keypoints}, 2) for format {fmt.name!r}, got "
                            f"{arr.shape}")
    if arr.shape[0] == 0:
        raise KeypointError("keypoints: the sequence has no frames (T = 0)")
    xy = np.empty(arr.shape[:2] + (2,))
    conf = np.empty(arr.shape[:2])
    for t, frame in enumerate(arr):
        try:
            xy[t], conf[t] = validate_keypoints(frame, fmt)
        except KeypointError as err:
            raise KeypointError(f"frame {t}: {err}") from err
    return xy, conf


def _validate_3d(keypoints_3d: Any, fmt: Any, num_frames: int) -> np.ndarray | None:
    """(T, K, 3) the detector's 3D keypoints checked frame by frame (NaN rows unknown), or
    None."""
    if keypoints_3d is None:
        return None
    try:
        arr = np.asarray(keypoints_3d, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"keypoints_3d: expected None or a numeric ({num_frames}, "
                        f"{fmt.num_keypoints}, 3) array, got {type(keypoints_3d).__name__}"
                        ) from err
    if arr.shape != (num_frames, fmt.num_keypoints, 3):
        raise KeypointError(f"keypoints_3d: expected shape (T, K, 3) = ({num_frames}, "
                            f"{fmt.num_keypoints}, 3) for {num_frames} frames of format "
                            f"{fmt.name!r} (x, y, z in metres, NaN where unknown), got "
                            f"{arr.shape}")
    out = np.empty_like(arr)
    for t, frame in enumerate(arr):
        try:
            out[t] = validate_keypoints_3d(frame, fmt)
        except KeypointError as err:
            raise KeypointError(f"frame {t}: {err}") from err
    return out


def _relabelled_3d(points_3d: np.ndarray | None, perm: np.ndarray, mirror: np.ndarray
                   ) -> np.ndarray | None:
    """(T, K, 3) each frame's 3D keypoints relabelled as its 2D ones (``perm`` (T, K);
    :func:`smplify.sequence_start.frame_3d`), NaN for a frame with fewer than two known;
    None without 3D keypoints."""
    if points_3d is None:
        return None
    out = np.full_like(points_3d, np.nan)
    for t in range(len(points_3d)):
        points = frame_3d(points_3d, t, perm[t], mirror)
        if points is not None:
            out[t] = points
    return out


def _start(make_fitter: dict[str, Any], xy: np.ndarray, conf: np.ndarray,
           observed: np.ndarray, format_weights: np.ndarray, labellings: list[np.ndarray],
           options: SequenceOptions, settings: Any, focal_length: float,
           selection_sigma: float, points_3d: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, dict[str, Any]]:
    """The joint solve's start (:mod:`smplify.sequence_start`): the candidate tracks through
    every ``keyframe_step``-th observed frame (and the last), one path through their fits by
    Viterbi, the frames between interpolated and labelled against the body's keypoints
    interpolated in the image.

    Returns pose (T, 72), betas (B,) (the median of the path's), transl (T, 3), the
    labelling per frame (T, K) (the path's; as labelled between keyframes), the person's
    median depth Z (metres) and a summary (tracks, switches between them). points_3d:
    (T, K, 3) the detector's 3D keypoints (NaN where unknown) or None, given to the tracks'
    fits.
    """
    frames = np.flatnonzero(observed)
    keyframes = np.union1d(frames[::options.keyframe_step], frames[-1:])
    # The online track counts its refits and anchors in keyframes (the frames it sees). The
    # summed facing check (track_max_spin) is the online Fitter's: a spin summed over
    # keyframes is another measure, and on bench_video's held-out clips it moved this start
    # the wrong way (salsa @401 +1.8 mm, docs/video.md "A slow spin"): start_max_spin, 0.
    # So did restarts with the learned readings (track_restart_readings): a plain track's
    # restart on a frame the initialiser reads as swapped kept the turned body for 20
    # keyframes (martial @103 41.8 -> 58.2 mm; held out +3.0 +- 1.9 mm, docs/video.md
    # "Restarts with the readings"), and the confidence memory restarted at a cut
    # (track_cut_resets_confidences: held out +1.6 +- 1.2 mm, "The confidence memory across
    # a cut").
    caller = make_fitter
    make_fitter = {**make_fitter, "track_refit_every": options.start_refit_every,
                   "track_anchor": options.start_anchor_every,
                   "track_max_spin": options.start_max_spin, "track_restart_readings": False,
                   "track_cut_resets_confidences": False}
    if options.start_weight_power > 0:
        # The online track's temporal rows span keyframe_step frames (Fitter.skip between).
        scale = float(options.keyframe_step) ** -options.start_weight_power
        make_fitter.update({name: getattr(settings.options, name) * scale for name in
                            ("track_orient_weight", "track_pose_weight", "track_transl_weight")})
    first = None
    if any(kind not in ("reverse", "online_frames") for kind in options.initial_tracks):
        first = first_fit(make_fitter, xy, conf, keyframes, points_3d)
    if options.start_prune_starts > 0:
        # The tracks' own fits from scratch (start_prune_starts); the first fit keeps the
        # caller's (the forward tracks all start from it).
        make_fitter = {**make_fitter, "prune_starts": options.start_prune_starts}
    run = {kind: run_track(kind, make_fitter, xy, conf, keyframes, format_weights, labellings,
                           options.swap_margin, first, points_3d)
           for kind in options.initial_tracks
           if kind == "reverse" or (first is not None and kind not in ("backward",
                                                                        "online_frames"))}
    if "online_frames" in options.initial_tracks:
        # The online Fitter itself (the caller's options) through every observed frame; the
        # path sees its fits at the keyframes.
        full = run_track("online", caller, xy, conf, frames, format_weights, labellings,
                         options.swap_margin, None, points_3d)
        full.fitted &= np.isin(np.arange(len(full.fitted)), keyframes)
        run["online_frames"] = full
    if "backward" in options.initial_tracks:
        # From the online track's last fit if it runs, else another forward track's.
        forward = [run[k] for k in ("online", "plain") if k in run and run[k].last is not None]
        if forward:
            run["backward"] = run_track("backward", make_fitter, xy, conf, keyframes,
                                        format_weights, labellings, options.swap_margin,
                                        forward[0].last, points_3d)
    kinds = [kind for kind in options.initial_tracks if kind in run]  # the tracks that ran
    tracks = [run[kind] for kind in kinds]
    fitted = np.any([tr.fitted for tr in tracks], axis=0)
    if not fitted.any():
        raise KeypointError("keypoints: no frame could be fitted on its own (each needs 3 of "
                            "the 4 torso keypoints, or a fitted frame before it)")
    pelvis = np.concatenate([tr.joints[tr.fitted, 0, 2] for tr in tracks])
    depth = float(np.median(pelvis))
    hard = np.zeros(0, dtype=int)
    if options.scratch_budget > 0:
        # Fits from scratch where the tracks disagree or strain: the path's one more
        # candidate there (sequence_start.scratch_track).
        hard = hard_keyframes(tracks, keyframes, temporal_scale(focal_length, depth, 0.0),
                              int(np.ceil(options.scratch_budget * len(keyframes))))
        tracks.append(scratch_track(make_fitter, xy, conf, keyframes, hard,
                                    options.scratch_follow, format_weights, labellings,
                                    options.swap_margin, points_3d, options.scratch_starts))
        kinds.append("scratch")
        fitted = np.any([tr.fitted for tr in tracks], axis=0)
    keys = np.flatnonzero(fitted)
    if options.reading_weight > 0:
        reading_scores(tracks, keys, settings, xy, conf)
    # How well depth is measured here, as the online track judges it (Fitter._depth_limit).
    # Where coarser than track_max_jump (as there the online track's jump test and
    # prediction change), the path counts a depth change between the tracks' readings by
    # the share the online prediction carries on, and the keyframes' depths are smoothed.
    # A near person's path (share 1) counts no depth: with it, the tuning clips' short
    # stretches measured 72.5 -> 72.8 mm, the long ones 60.4 either way (docs/video.md).
    torso = _torso_pixels(xy, conf, settings.torso_keypoints)
    max_jump = settings.options.track_max_jump
    share = online.depth_velocity_share(max_jump, online.depth_jump_limit(
        max_jump, depth, float(np.nanmedian(torso[keys])) if np.isfinite(torso[keys]).any()
        else float("nan"), Fitter.SCALE_PIXELS, Fitter.DEPTH_JUMP_SIGMAS))
    path = viterbi_path(tracks, keys, temporal_scale(focal_length, depth, 0.0),
                        options.transition_weight, options.reading_weight,
                        options.accel_weight, share if share < 1.0 else 0.0)
    num_frames, num_keypoints = conf.shape
    pose, transl = np.zeros((num_frames, 72)), np.zeros((num_frames, 3))
    keypoints_2d = np.zeros((num_frames, num_keypoints, 2))
    perm = np.tile(np.arange(num_keypoints), (num_frames, 1))
    pelvis = np.zeros((len(keys), 3))
    for k, (t, s) in enumerate(zip(keys, path, strict=True)):
        pose[t], transl[t], perm[t] = tracks[s].pose[t], tracks[s].transl[t], tracks[s].perm[t]
        keypoints_2d[t] = tracks[s].keypoints_2d[t]
        pelvis[k] = tracks[s].joints[t, 0]
    if share < 1.0:
        # Each keyframe's body moved along its ray to the smoothed depth
        # (sequence_start.smooth_depth; its 2D stays where it is).
        depths = smooth_depth(pelvis, torso[keys], Fitter.SCALE_PIXELS, max_jump, keys,
                              options.keyframe_step)
        # (Only a body in front of the camera moves along its ray: z > 0 before and after.)
        ahead = (pelvis[:, 2] > 0) & (depths > 0)
        transl[keys[ahead]] += pelvis[ahead] * (depths[ahead] / pelvis[ahead, 2] - 1.0)[:, None]
    from .motion import fill_missed  # smplify.motion stays a lazy submodule of the package

    pose, transl = fill_missed(pose, transl, fitted, body="linear")
    label_between(keypoints_2d, fitted, xy, conf, observed, perm, format_weights, labellings,
                  selection_sigma, options.swap_margin)
    betas = np.median(np.stack([tracks[s].betas[t] for t, s in zip(keys, path, strict=True)]),
                      axis=0)
    summary = {"initial_tracks": list(options.initial_tracks),
               "tracks_run": list(kinds),
               "track_keyframes": {kind: int(np.count_nonzero(tr.fitted))
                                   for kind, tr in zip(kinds, tracks, strict=True)},
               "keyframes": int(len(keys)),
               "path_frames": {kind: int(np.sum(path == kinds.index(kind)))
                               if kind in kinds else 0
                               for kind in dict.fromkeys([*options.initial_tracks, *kinds])},
               "scratch_keyframes": [int(t) for t in hard],
               "path_switches": int(np.count_nonzero(np.diff(path)))}
    return pose, betas, transl, perm, depth, summary


def _torso_pixels(xy: np.ndarray, conf: np.ndarray, torso: np.ndarray,
                  window: int = online.SCALE_FRAMES) -> np.ndarray:
    """(T,) the person's 2D torso length per frame (shoulders' to hips' midpoint, pixels):
    the largest within ``window`` frames either side (a bend or turn only shortens it; the
    online track's :meth:`smplify.online.TrackState.torso_pixels` reads the second largest of
    its last frames, being causal and exposed to one bad reading); NaN where none has all four torso
    keypoints. xy (T, K, 2), conf (T, K), torso (4,) keypoint indices."""
    length = online.torso_span(xy[:, torso])
    length[~np.all(conf[:, torso] > 0, axis=1)] = np.nan
    out = np.full(len(length), np.nan)
    for t in range(len(length)):
        near = length[max(0, t - window):t + window + 1]
        if np.isfinite(near).any():
            out[t] = np.nanmax(near)
    return out


def _choose_swaps(predicted: np.ndarray, xy: np.ndarray, conf: np.ndarray,
                  format_weights: np.ndarray, perm: np.ndarray, hypotheses: list[np.ndarray],
                  sigma: float, margin: float) -> bool:
    """:func:`smplify.sequence_start.best_labelling` of every frame against the fitted
    body's (T, K, 2) keypoints; updates ``perm`` (T, K) in place and says whether any
    frame's labelling changed."""
    changed = False
    for t in range(len(xy)):
        choice = best_labelling(predicted[t], xy[t], conf[t], format_weights, hypotheses,
                                sigma, margin)
        if not np.array_equal(choice, perm[t]):
            perm[t] = choice
            changed = True
    return changed
