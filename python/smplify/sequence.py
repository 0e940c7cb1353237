"""Offline fitting of a video: ``smplify.fit_sequence`` (SPEC §6 "Time").

1. Per-frame fits with :class:`smplify.Fitter`, each warm-started from the previous frame;
   frames without a fit (no person, or no torso to start from) are interpolated.
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
weight is multiplied by f / Z (pixels per metre there), so that they balance the data term
(pixels) alike for near and far people.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np

from . import _core
from .errors import KeypointError, SmplifyError
from .fitting import Fitter, _shared_core_fitter
from .keypoints import get_format, validate_keypoints
from .left_right import LIMB_PARTS, limb_swap_index, mirror_index
from .problem import build_problem
from .result import Camera


@dataclass(frozen=True)
class SequenceOptions:
    """Options of :func:`fit_sequence` besides the per-frame :class:`smplify.FitOptions`.

    Attributes
    ----------
    temporal_orient_weight : λ_R on the second difference of the global rotation matrices,
        per pixel of a 1 m lever at the person's depth (module docstring).
    temporal_pose_weight : λ_θ on the second difference of the body pose (radians).
    temporal_transl_weight : λ_γ on the second difference of the translation (metres).
    sequence_iterations : iteration cap of each sequence solve.
    swap_rounds : rounds of detector-swap hypotheses (0: take the keypoints as labelled).
    swap_margin : a swapped reading replaces the labelled one when its robust 2D error is
        below this fraction of the labelled one's.
    linear_solver : "auto": Levenberg-Marquardt on the block-banded normal equations
        (``cpp/block_banded.h``); "iterative": Ceres' Levenberg-Marquardt with conjugate
        gradients (CGNR), ~10× slower, kept to compare.
    """

    temporal_orient_weight: float = 0.5
    temporal_pose_weight: float = 0.25
    temporal_transl_weight: float = 0.5
    sequence_iterations: int = 4
    swap_rounds: int = 2
    swap_margin: float = 0.7
    linear_solver: Literal["auto", "iterative"] = "auto"

    def __post_init__(self) -> None:
        for name in ("temporal_orient_weight", "temporal_pose_weight", "temporal_transl_weight",
                     "swap_margin"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
                    or not np.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if self.linear_solver not in ("auto", "iterative"):
            raise ValueError(f"linear_solver must be 'auto' or 'iterative', got "
                             f"{self.linear_solver!r}")
        for name in ("sequence_iterations", "swap_rounds"):
            value = getattr(self, name)
            low = 1 if name == "sequence_iterations" else 0
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")


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
        (the triple centred on the frame); and "shape": the shared shape prior's energy.
    observed : (T,) bool, frames with at least one keypoint.
    faces : (F, 3) the model's triangles.
    summary : dict: seconds (total, init, solve), iterations, termination, swapped frames.
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


def fit_sequence(keypoints: Any, format: str, image_size: Sequence[float],
                 focal_length: float | None = None, model: Any = "open", prior: Any = "open",
                 **options: Any) -> SequenceResult:
    """Fit one person through a video: shared shape, smooth motion (module docstring).

    Parameters
    ----------
    keypoints : (T, K, 3) x, y (pixels), confidence per frame, or (T, K, 2). A frame with no
        person has every confidence 0 (or NaN coordinates for (T, K, 2)).
    format : keypoint format name (``smplify.format_names()``).
    image_size : (width, height) pixels.
    focal_length : pixels, or None for the default 5000 (SPEC §2).
    model : "open", a path, or a loaded model.
    prior : "open", a path, or a loaded prior.
    **options : fields of :class:`SequenceOptions` and of :class:`smplify.FitOptions` (the
        latter for the per-frame fits and the per-frame terms).

    Returns
    -------
    SequenceResult

    Raises
    ------
    KeypointError (a ValueError) : keypoints not (T, K, 3)/(T, K, 2) for the format, T = 0,
        bad values, every frame empty, or no frame with a torso to start from.
    ValueError / TypeError : bad format, image size, focal length or options.
    """
    start = time.perf_counter()
    names = {f.name for f in fields(SequenceOptions)}
    seq_options = SequenceOptions(**{k: v for k, v in options.items() if k in names})
    fit_options = {k: v for k, v in options.items() if k not in names}
    fmt = get_format(format)
    xy, conf = _validate(keypoints, fmt)
    observed = conf.max(axis=1) > 0
    if not observed.any():
        raise KeypointError("keypoints: every frame has all confidences zero; nothing to fit")

    # The start is the plain warm-started track (track=False): the labelling is chosen here,
    # before each frame (_initial_fits). The online track as the start measured 57.6 against
    # 68.5 mm on bench_video but lost tests/test_sequence.py's dance case (90.9 vs 90.0 mm
    # for per-frame fits); left for the sequence fit's owner to decide.
    fitter = Fitter(model, format=fmt.name, image_size=image_size, focal_length=focal_length,
                    prior=prior, **{"track": False, **fit_options})
    # The format's weight per keypoint on this model (0 where it has no point).
    first = int(np.flatnonzero(observed)[0])
    problem = build_problem(np.column_stack([xy[first], np.ones(len(xy[first]))]), fmt.name,
                            fitter.image_size, fitter.focal_length, fitter.model,
                            fitter.prior, fitter.options, place_camera=False)
    format_weights = np.asarray(problem.weights, dtype=np.float64)
    core = _shared_core_fitter(problem)
    camera = problem.camera

    perm = np.tile(np.arange(fmt.num_keypoints), (len(xy), 1))
    hypotheses = _hypotheses(fmt.name)
    pose, betas, transl, fitted = _initial_fits(fitter, xy, conf, observed, perm,
                                                format_weights, hypotheses,
                                                seq_options.swap_margin)
    init_seconds = time.perf_counter() - start

    depth = float(np.median((transl + fitter.model.rest_joints(betas)[0])[fitted, 2]))
    scale = camera.focal_length / max(depth, 1e-3)  # pixels per metre at the person
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
              "iterations": 0}
    report: dict[str, Any] = {}
    round_, solves = 0, 0
    while True:
        solve_core = tight if round_ < seq_options.swap_rounds else core
        frame_xy = np.take_along_axis(xy, perm[..., None], axis=1)
        weights = np.take_along_axis(conf, perm, axis=1) * format_weights
        report = _core.fit_sequence(
            solve_core, np.ascontiguousarray(frame_xy.reshape(-1, 2)), weights,
            float(camera.focal_length), np.asarray(camera.center, dtype=np.float64), pose,
            betas, transl, temporal, seq_options.sequence_iterations, 1e-6,
            seq_options.linear_solver == "iterative")
        solves += 1
        for key in totals:
            totals[key] += report[key]
        pose, betas, transl = report["pose"], report["betas"], report["transl"]
        if solve_core is core:
            break
        predicted = camera.project(report["keypoints"].reshape(len(xy), -1, 3))
        changed = _choose_swaps(predicted, xy, conf, format_weights, perm, hypotheses,
                                fitter.options.selection_sigma, seq_options.swap_margin)
        # Settled labels skip the remaining rounds of hypotheses: on to the last solve.
        round_ = round_ + 1 if changed else seq_options.swap_rounds
    if report["termination"] == "FAILURE" or not np.all(np.isfinite(report["energies"])):
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
                "temporal": energy_rows[:, 4], "shape": float(report["shape_energy"])},
        observed=observed, faces=fitter.model.faces,
        summary={"seconds": time.perf_counter() - start, "init_seconds": init_seconds,
                 "solve_seconds": totals["seconds"],
                 "linear_solver_seconds": totals["linear_solver_seconds"],
                 "evaluation_seconds": totals["evaluation_seconds"],
                 "iterations": int(totals["iterations"]), "solves": solves,
                 "termination": report["termination"],
                 "initial_fits": int(fitted.sum()),
                 "relabelled_frames": np.flatnonzero((perm != identity).any(axis=1)).tolist(),
                 "temporal_weights": temporal.tolist(),
                 "solver": report["solver"]})


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


def _initial_fits(fitter: Fitter, xy: np.ndarray, conf: np.ndarray, observed: np.ndarray,
                  perm: np.ndarray, format_weights: np.ndarray, hypotheses: list[np.ndarray],
                  margin: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Warm-started per-frame fits; frames without one are interpolated (held at the ends).

    Before a frame is fitted, its labelling is chosen against the previous fit's keypoints
    (:func:`_best_labelling`; the motion between two frames is small next to a swap), so a
    swapped frame does not drag the warm start's limbs across; ``perm`` (T, K) records it.

    Returns pose (T, 72), betas (B,) (the median of the fits'), transl (T, 3) and the (T,)
    mask of fitted frames.
    """
    from scipy.spatial.transform import Rotation, Slerp

    num_frames = len(xy)
    pose = np.zeros((num_frames, 72))
    transl = np.zeros((num_frames, 3))
    betas = []
    fitted = np.zeros(num_frames, dtype=bool)
    last = None
    for t in np.flatnonzero(observed):
        if last is not None:
            perm[t] = _best_labelling(last.keypoints_2d, xy[t], conf[t], format_weights,
                                      hypotheses, fitter.options.selection_sigma, margin)
        try:
            res = fitter.fit(np.column_stack([xy[t, perm[t]], conf[t, perm[t]]]))
        except KeypointError:
            continue  # no torso to place the camera, and no previous frame to start from
        last = res
        pose[t] = res.pose
        transl[t] = res.transl
        betas.append(res.betas)
        fitted[t] = True
    if not fitted.any():
        raise KeypointError("keypoints: no frame could be fitted on its own (each needs 3 of "
                            "the 4 torso keypoints, or a fitted frame before it)")
    idx = np.flatnonzero(fitted)
    frames = np.arange(num_frames)
    for c in range(3, 72):
        pose[:, c] = np.interp(frames, idx, pose[idx, c])
    for c in range(3):
        transl[:, c] = np.interp(frames, idx, transl[idx, c])
    rotations = Rotation.from_rotvec(pose[idx, :3])
    clamped = np.clip(frames, idx[0], idx[-1])
    pose[:, :3] = (Slerp(idx, rotations)(clamped) if len(idx) > 1
                   else rotations[np.zeros(num_frames, dtype=int)]).as_rotvec()
    return pose, np.median(np.stack(betas), axis=0), transl, fitted


def _hypotheses(format: str) -> list[np.ndarray]:
    """Keypoint permutations a detector's left/right confusions amount to (identity first)."""
    out = [np.arange(len(mirror_index(format))), mirror_index(format)]
    out += [limb_swap_index(format, limb) for limb in LIMB_PARTS]
    unique: list[np.ndarray] = []
    for p in out:
        if not any(np.array_equal(p, q) for q in unique):
            unique.append(p)
    return unique


def _best_labelling(predicted: np.ndarray, xy: np.ndarray, conf: np.ndarray,
                    format_weights: np.ndarray, hypotheses: list[np.ndarray], sigma: float,
                    margin: float) -> np.ndarray:
    """Of one frame's labellings (keypoint permutations), the one whose robust 2D error
    Σ w ρ²(‖x̂ − x‖; σ) against the body's predicted keypoints (K, 2) is lowest; the labelled
    one (hypotheses[0]) unless another is below ``margin`` of its error."""
    costs = []
    for h in hypotheses:
        w = conf[h] * format_weights
        e2 = np.sum((xy[h] - predicted) ** 2, axis=1)
        ok = (w > 0) & np.isfinite(e2)
        costs.append(float(np.sum(w[ok] * sigma**2 * e2[ok] / (sigma**2 + e2[ok]))))
    best = int(np.argmin(costs))
    return hypotheses[best] if costs[best] < margin * costs[0] else hypotheses[0]


def _choose_swaps(predicted: np.ndarray, xy: np.ndarray, conf: np.ndarray,
                  format_weights: np.ndarray, perm: np.ndarray, hypotheses: list[np.ndarray],
                  sigma: float, margin: float) -> bool:
    """:func:`_best_labelling` of every frame against the fitted body's (T, K, 2) keypoints;
    updates ``perm`` (T, K) in place and says whether any frame's labelling changed."""
    changed = False
    for t in range(len(xy)):
        choice = _best_labelling(predicted[t], xy[t], conf[t], format_weights, hypotheses,
                                 sigma, margin)
        if not np.array_equal(choice, perm[t]):
            perm[t] = choice
            changed = True
    return changed
