"""Online tracking for :class:`smplify.Fitter`: one frame in, one body out (docs/video.md).

Per warm-started frame:

1. **Prediction.** The track's keypoints for this frame, 2D, by constant velocity from the
   last two results' projected keypoints.
2. **Detector-swap hypotheses.** The keypoints as seen, left/right swapped for the whole
   body, and swapped per limb (:mod:`smplify.left_right`) are scored by their robust 2D
   error against the prediction (Geman-McClure, σ = ``selection_sigma``). The labelling as
   seen is always fitted; the best other one too when its score is below
   ``track_swap_margin`` of the seen one's (or, with the caller's 3D keypoints, the mirror
   when the torso alone says so: :func:`torso_mirrored`; the mirror also reflects those
   3D keypoints in depth, :func:`smplify.left_right.depth_reflected`). Each fit is
   warm-started from the last frame, with the temporal rows E_track of ``cpp/fitter.h``
   (acceleration against the constant-velocity prediction, velocity against the last frame;
   weights ``track_*_weight``); the lower E_data + E_track wins, so a swapped frame fits the body
   the track predicts instead of turning it around.
3. **Shape.** β is the median of the first ``track_shape_frames`` fits, then held (constant
   in the solve); every ``track_shape_frames`` frames one frame fits β and moves the held β
   by ``track_shape_rate`` toward it.
4. **Lost track.** A fit is checked against a fit from scratch when its median 2D error
   exceeds ``LOST_TRACK_FRACTION`` of the person's 2D size on ``LOST_TRACK_FRAMES`` frames
   in a row (a cut: another person; the first such frame is held, a detector's glitch), when
   its facing (the body's forward axis) turned more than ``track_max_turn`` degrees or its
   pelvis moved more than ``track_max_jump`` metres since the last frame (3D consistency),
   or when more than ``track_max_swapped_frames`` frames in a row that it explained (a
   held frame does not count) read as whole-body swapped, or, in its first
   ``track_swapped_window`` frames, more than 2 and the majority (then the detector is
   right and the track faces the wrong way). After a cut or a facing recovery the track
   restarts from the fit from scratch. With ``track_max_spin`` > 0, a facing (pelvis' or
   chest's) that turned more than that over the last ``track_spin_frames`` frames, each
   under ``track_max_turn`` (a slow spin: the track following a detector's front/back
   confusion round), has the frame fitted the other way round (the keypoints as seen
   whole-body mirrored, or as seen when the track read them mirrored) from the pose before
   the spin, held there: kept when it stays within
   ``track_max_spin`` and explains its reading as well (``Fitter._spin_back``).
5. **Refits and a competing track.** Periodically and when the track strains, warm fits
   from the learned initialiser's best readings (:func:`learned_starts`) are tried against
   the track (with ``starts="prior"``, or for a format without an initialiser, one fit from
   scratch from the prior's starts), reading the frame's labels as seen or, with
   ``track_refit_reading="tracked"``, as the track's own fit read them (step 2's
   labelling). One that explains the keypoints at least as well in
   another basin (its joints ``track_basin_distance`` or more from the track's) becomes a
   :class:`Challenger`: tracked like the track itself (warm, with its own E_track) for
   ``track_switch_frames`` frames, it replaces the track only when its summed robust data +
   temporal energy over them is below ``track_switch_margin`` of the track's (hysteresis:
   one frame's fit without temporal rows always explains that frame's keypoints better, so
   it cannot decide alone). While one runs, no frame is refitted (with
   ``track_contest_refits``, a strained one is: a refit that replaces the track ends the
   contest), and ``track_swap_challengers`` says which refits of a reading the track judged
   a detector's swap may start one.
6. **A rival from a fit from scratch** (``track_rival_frames``, off by default). The track
   keeps the basin of the fit it (re)starts from (its first frame, a cut, a facing
   restart). With the option, that fit's best other finished start in another basin
   (``track_basin_distance``), if its selection score is within ``track_rival_margin`` of
   the chosen start's, becomes a :class:`Challenger` with its own shape for that many
   frames, and wins on the lower summed energy (margin 1); the output stays the track's,
   which meanwhile goes on (refits included) as it would without it.

Frames without a result (no person, ``Fitter.skip``) are counted (:meth:`TrackState.miss`):
the prediction and E_track span them (cpp/track_term.h).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from .keypoint_box import keypoint_diagonal
from .keypoints import KeypointFormat, get_format
from .left_right import depth_reflected, limb_swap_index, mirror_index
from .options import MAX_SPIN_FRAMES
from .problem import FitProblem

#: Frames of 2D torso length a track keeps to measure its scale's jitter.
SCALE_FRAMES = 10

#: Names of the labellings, in the order :func:`labellings` returns them.
LABELLING_NAMES = ("as seen", "left/right swapped", "arms swapped", "legs swapped")

#: The index in :data:`LABELLING_NAMES` of the first limb swap (arms; legs after it).
LIMB_SWAPS = 2


def labellings(format: str | KeypointFormat) -> list[np.ndarray]:
    """(K,) keypoint permutations per :data:`LABELLING_NAMES` entry (as seen first)."""
    return [np.arange(len(mirror_index(format))), mirror_index(format),
            limb_swap_index(format, "arms"), limb_swap_index(format, "legs")]


@dataclass
class TrackState:
    """What a Fitter remembers of its track (the last two frames, newest last), and the
    frames the detector missed since (:meth:`miss`): the prediction and the temporal rows
    span them (``before_gap``, :attr:`gap`)."""

    pose: list[np.ndarray] = field(default_factory=list)         # (72,) each
    transl: list[np.ndarray] = field(default_factory=list)       # (3,) each
    keypoints_2d: list[np.ndarray] = field(default_factory=list)  # (K, 2) each, the body's
    betas: np.ndarray | None = None                                # held β
    shape_samples: list[np.ndarray] = field(default_factory=list)
    data_energies: list[float] = field(default_factory=list)      # the last frames' E_J
    frames: int = 0                                                # frames since (re)start
    # Whether each of the last frames the track explained read whole-body mirrored
    # (newest last; :meth:`count_mirrored`).
    mirrored: list[bool] = field(default_factory=list)
    lost_run: int = 0                # frames in a row whose 2D the track could not explain
    before_gap: int = 1              # frames from the older of the two to the last
    missed: int = 0                  # frames missed since the last one
    torso_lengths: list[float] = field(default_factory=list)  # the last frames' 2D torso, px
    after_cut: bool = False          # restarted after losing the person it followed
    # (72,) poses of the last frames of its motion (newest last; ``track_spin_frames`` kept
    # by the Fitter, :meth:`spin_reference`): its facing's turn summed over them.
    spun_from: list[np.ndarray] = field(default_factory=list)

    @property
    def gap(self) -> int:
        """Frames from the last result to the frame to come (1 + those missed)."""
        return 1 + self.missed

    def miss(self) -> None:
        """A frame without a result (no person, or it could not be fitted): the next one
        is a frame further from the last (nothing to count before the track starts)."""
        if self.pose:
            self.missed += 1

    def push(self, pose: np.ndarray, transl: np.ndarray, keypoints_2d: np.ndarray,
             data_energy: float) -> None:
        """Append a frame's result, keeping the last two (and the last ten data energies)."""
        if self.pose:
            self.before_gap = self.gap
        self.missed = 0
        for history, value in ((self.pose, pose), (self.transl, transl),
                               (self.keypoints_2d, keypoints_2d)):
            history.append(np.asarray(value, dtype=np.float64))
            del history[:-2]
        self.data_energies.append(float(data_energy))
        del self.data_energies[:-10]
        self.spun_from.append(self.pose[-1])
        del self.spun_from[:-MAX_SPIN_FRAMES]
        self.frames += 1

    def spin_reference(self, frames: int) -> np.ndarray:
        """(72,) the pose ``frames`` frames of the track's motion back (the oldest kept when
        it is younger, or was restarted, checked or switched since: :meth:`forget_spin`)."""
        return self.spun_from[max(0, len(self.spun_from) - frames)]

    def forget_spin(self) -> None:
        """Count the facing's turn anew from the frame to come (a spin was checked)."""
        self.spun_from.clear()

    def measure(self, torso_length: float) -> None:
        """Record a frame's 2D torso length as seen (pixels, NaN if not seen; the last
        ``SCALE_FRAMES`` kept): the person's 2D scale, :meth:`torso_pixels`."""
        self.torso_lengths.append(float(torso_length))
        del self.torso_lengths[:-SCALE_FRAMES]

    def torso_pixels(self) -> float:
        """The person's 2D torso length, pixels: a high value of the recorded frames' (a
        body bending or turning only shortens it; NaN if none recorded): the second largest
        once three or more are seen, so one bad hip reading (a detector's keypoint on the
        wrong person) does not pin the length, and with it the depth limit."""
        seen = sorted(h for h in self.torso_lengths if math.isfinite(h) and h > 0)
        if not seen:
            return float("nan")
        return seen[-2] if len(seen) >= 3 else seen[-1]

    def record_reading(self, mirrored: bool, keep: int) -> None:
        """Record one frame's reading (``mirrored``: the whole body read left/right
        swapped), keeping the last ``keep``."""
        self.mirrored.append(bool(mirrored))
        del self.mirrored[:-keep]

    def mirrored_run(self) -> int:
        """How many of the last frames recorded, in a row, read mirrored."""
        run = 0
        for m in reversed(self.mirrored):
            if not m:
                break
            run += 1
        return run

    def least_data(self, floor: float) -> float:
        """The least data energy of the track's last frames, at least ``floor``."""
        return max(min(self.data_energies), floor)

    def typical_data(self, floor: float) -> float:
        """The median data energy of the track's last frames, at least ``floor``."""
        return max(_median(self.data_energies), floor)

    def restart_motion(self, pose: np.ndarray, transl: np.ndarray,
                       keypoints_2d: np.ndarray, data_energy: float) -> None:
        """Forget the frames before, keeping the shape: the track continues from this one."""
        for history in (self.pose, self.transl, self.keypoints_2d, self.spun_from):
            history.clear()
        self.before_gap, self.missed = 1, 0
        frames = self.frames
        self.push(pose, transl, keypoints_2d, data_energy)
        self.frames = frames + 1

    def adopt(self, other: TrackState) -> None:
        """Continue from ``other``'s motion (a competing track that won), keeping the frame
        count, and the shape unless ``other`` estimated its own (a rival track); its last
        frame becomes this track's."""
        self.pose, self.transl = list(other.pose[:-1]), list(other.transl[:-1])
        self.keypoints_2d = list(other.keypoints_2d[:-1])
        self.spun_from = list(other.spun_from[:-1])
        if other.betas is not None:
            self.betas, self.shape_samples = other.betas, list(other.shape_samples)

    def predicted_keypoints(self) -> np.ndarray:
        """(K, 2) this frame's keypoints by constant velocity across the frames missed (the
        last frame's with one)."""
        if len(self.keypoints_2d) < 2:
            return self.keypoints_2d[-1]
        last = self.keypoints_2d[-1]
        return last + (self.gap / self.before_gap) * (last - self.keypoints_2d[-2])

    def history(self, depth_velocity: float = 1.0
                ) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
        """(2, 72) poses and (2, 3) translations of the frames before (older first; the last
        frame twice when there is only one), and the gaps in frames between them and from
        the last to this frame (``track_gaps`` of the C++ fit). ``depth_velocity`` (in
        [0, 1]) scales the depth step between them, so the constant-velocity prediction
        carries that share of it (:func:`depth_velocity_share`)."""
        older = 0 if len(self.pose) > 1 else -1
        transl = np.array((self.transl[older], self.transl[-1]))
        transl[0, 2] = transl[1, 2] - depth_velocity * (transl[1, 2] - transl[0, 2])
        return (np.array((self.pose[older], self.pose[-1])), transl,
                (float(self.before_gap), float(self.gap)))

    def depth_velocity(self, max_jump: float, limit: float) -> float:
        """The share of the last depth step this frame's prediction carries on
        (:meth:`history`'s ``depth_velocity``): :func:`depth_velocity_share` for a step that
        spans ``before_gap`` frames, in which the body may move ``before_gap`` times
        ``max_jump`` while the 2D scale's jitter (``limit``) stays what it is. A track that
        skips frames (fit_sequence's start sees every ``keyframe_step``-th) measures its
        depth velocity that much better: judged per frame, bench_video's people at 5 m
        (~100 px torsos, limits 0.30-0.37 m) lost part of real depth steps."""
        return depth_velocity_share(max_jump * self.before_gap, limit)

    def holds_shape(self, options: Any) -> bool:
        """Whether this frame's fit keeps β (False while estimating, and on refining frames)."""
        n = options.track_shape_frames
        return self.frames >= n and (self.frames == n or self.frames % n != 0)

    def update_shape(self, betas: np.ndarray, held: bool, options: Any) -> None:
        """The held β after a frame fitted with ``betas`` (``held``: it kept them)."""
        if held:
            return
        if self.frames <= options.track_shape_frames:
            self.shape_samples.append(np.asarray(betas, dtype=np.float64))
            self.betas = np.median(np.stack(self.shape_samples), axis=0)
        else:
            self.betas = self.betas + options.track_shape_rate * (betas - self.betas)


class ConfidenceMemory:
    """Per-keypoint detector confidences smoothed over a track's frames (``track_confidence_rate``
    α): c̃_t = α c_t + (1 − α) c̃ of the last frame it was seen in, c̃_t = c_t the first
    time; a keypoint not seen now (confidence 0) stays 0 this frame and keeps its c̃.
    α = 1: the confidences as seen. The memory is the ``Fitter``'s, cleared by
    ``Fitter.reset`` (a new track the caller starts); a restart within the track (a cut or
    lost person, a wrong facing, a turn or jump, ``warm_start=False``) keeps it, unless
    ``track_cut_resets_confidences`` restarts it after a cut (measured, off: docs/video.md,
    "The confidence memory across a cut").

    Why: a realistic detector's confidence falls with the keypoint's error, with a wide
    scatter from frame to frame (``synthetic_video``'s error-linked model, set from real
    MediaPipe visibility: sigmoid of a logit with σ = 3.5). Used as seen, each keypoint's
    weight in the track's data term and in the learned anchor's input jumps from frame to
    frame, and the causal track, which cannot smooth across frames afterwards, shakes with
    it (docs/video.md, "The detector's confidences")."""

    def __init__(self, rate: float) -> None:
        self.rate = float(rate)
        self.last: np.ndarray | None = None

    def reset(self, confidence: np.ndarray | None = None) -> None:
        """Forget the confidences seen (``Fitter.reset``; a restart after a cut with
        ``track_cut_resets_confidences``); with ``confidence`` (K,), this frame's as seen,
        the memory starts from them, as a first frame's."""
        self.last = None
        if confidence is not None:
            self.smooth(confidence)

    def smooth(self, confidence: np.ndarray) -> np.ndarray:
        """(K,) this frame's confidences as the track weighs them (``confidence`` (K,) as
        seen, 0 where not seen)."""
        c = np.asarray(confidence, dtype=np.float64)
        if self.rate >= 1.0:
            return c
        if self.last is None or self.last.shape != c.shape:
            self.last = c.copy()
            return c
        seen, before = c > 0, self.last > 0
        out = np.where(seen & before, self.rate * c + (1.0 - self.rate) * self.last, c)
        self.last = np.where(seen, out, self.last)
        return out


@dataclass
class Challenger:
    """Another basin's track, run beside the track until it wins or is dropped: its own
    history (a :class:`TrackState`; with its own shape when ``state.betas`` is set, as a
    rival from a fit from scratch's other start), the frames it is to be tracked, frames
    tracked, the summed energies (robust data + E_track) of it and of the track over those
    frames, the fraction of the track's sum below which it wins (``margin``), and whether it
    is a fit from scratch's other start (``from_scratch``: the track refits beside it)."""

    state: TrackState
    frames: int = 1                  # frames to track it before it wins or is dropped
    age: int = 0
    energy: float = 0.0
    rival: float = 0.0
    margin: float = 1.0
    from_scratch: bool = False

    def add(self, energy: float, rival: float) -> None:
        """Count one frame: the challenger's energy and the track's."""
        self.age += 1
        self.energy += energy
        self.rival += rival


def torso_length(problem: FitProblem) -> float:
    """The 2D distance (pixels) from the shoulders' midpoint to the hips' midpoint of a
    frame's keypoints as seen (NaN unless all four are confident)."""
    if not problem.torso_confident.all():
        return float("nan")
    # torso_span's arithmetic in floats (NumPy's overhead is ~10x it): the same operations
    # in the same order, so the same value to the bit (tests/test_warm_frame_python.py).
    (lsx, lsy), (rsx, rsy), (lhx, lhy), (rhx, rhy) = \
        problem.keypoints[problem.torso_keypoints].tolist()
    dx, dy = lsx + rsx - lhx - rhx, lsy + rsy - lhy - rhy
    return math.sqrt(dx * dx + dy * dy) / 2


def torso_span(corners: np.ndarray) -> np.ndarray:
    """(...) the distance (pixels) between the shoulders' and the hips' midpoints of (..., 4,
    2) torso keypoints (left and right shoulder, then left and right hip)."""
    c = np.asarray(corners)
    return np.linalg.norm(c[..., 0, :] + c[..., 1, :] - c[..., 2, :] - c[..., 3, :], axis=-1) / 2


def depth_jump_limit(max_jump: float, depth: float, torso_pixels: float,
                     scale_pixels: float, sigmas: float) -> float:
    """Metres a frame's depth may change before it counts as a jump: ``max_jump``, or
    ``sigmas`` standard deviations of how well depth is measured there, whichever is larger.
    Depth comes from the person's 2D scale h (Z = f S / h, S the size in metres), so an
    error of ``scale_pixels`` in h is one of Z · scale_pixels / h = Z² · scale_pixels /
    (f S) in depth: metres for a far person's ~25 px torso (bench_real_video's vtest, Z ~17
    m), centimetres for a near one's. ``torso_pixels`` NaN (unknown): ``max_jump``."""
    if not torso_pixels > 0:
        return max_jump
    return max(max_jump, sigmas * scale_pixels * abs(depth) / torso_pixels)


def depth_velocity_share(max_jump: float, limit: float) -> float:
    """The share of the last depth step the track's prediction carries on: 1 where depth is
    measured finer than ``max_jump`` (``limit`` = :func:`depth_jump_limit` = ``max_jump``),
    falling as (``max_jump`` / ``limit``)² where it is not. Where a frame's depth is known
    only to metres, a step between two frames is mostly their jitter; carried on by the
    constant-velocity prediction, it made the track's depth run away (1-4 m in a few
    frames on bench_real_video's vtest, people at ~17 m)."""
    return min(1.0, (max_jump / limit) ** 2) if limit > 0 else 1.0


def basin_distance(joints_a: np.ndarray, joints_b: np.ndarray) -> float:
    """Mean distance (metres) between two bodies' pelvis-relative joints ((J, 3) each): how
    far apart two readings of one frame are in 3D."""
    a = np.asarray(joints_a) - np.asarray(joints_a)[:1]
    b = np.asarray(joints_b) - np.asarray(joints_b)[:1]
    return float(np.mean(np.linalg.norm(a - b, axis=1)))


def _median(values: Any) -> float:
    """The median of a short 1-D sequence (np.median's value; its overhead is ~10× this)."""
    ordered = sorted(values)
    n = len(ordered)
    return float((ordered[(n - 1) // 2] + ordered[n // 2]) / 2)


def labelling_scores(predicted: np.ndarray, xy: np.ndarray, weights: np.ndarray,
                     perms: list[np.ndarray] | np.ndarray, sigma: float) -> np.ndarray:
    """Σ_k w ρ(‖x̂_k − x_{π(k)}‖; σ) per permutation π (Geman-McClure ρ(e) = σ² e² /
    (σ² + e²), pixels²), of the keypoints ``xy`` (K, 2) with ``weights`` (K,) against the
    ``predicted`` (K, 2) ones; ``perms`` (P, K), all permutations at once. Keypoints with no
    weight or no finite prediction count 0. The Fitter runs the C++ twin,
    ``_core.labelling_scores`` (cpp/track_checks.h)."""
    p = np.asarray(perms)
    w = weights[p]
    with np.errstate(over="ignore", invalid="ignore"):  # a dropped keypoint at 1e308 px
        e2 = np.sum((xy[p] - predicted) ** 2, axis=2)
    e2 = np.where((w > 0) & np.isfinite(e2), e2, 0.0)
    return np.sum(w * sigma**2 * e2 / (sigma**2 + e2), axis=1)


def torso_mirrored(predicted: np.ndarray, xy: np.ndarray, weights: np.ndarray,
                   mirror: np.ndarray, torso: np.ndarray, sigma: float,
                   margin: float) -> bool:
    """Whether the torso keypoints (``torso``: indices of the shoulders and hips, a set the
    mirror maps onto itself) read left/right mirrored score below ``margin`` of their
    reading as seen against the prediction (:func:`labelling_scores` on the torso alone, σ
    at least the predicted torso's 2D diagonal: a mirror moves each point by about the
    shoulders' width). The torso moves slowly: in fast limb motion the limbs' errors swamp
    the whole body's scores at σ = ``sigma`` px, and a detector's front/back confusion then
    goes untried (bench_real_video's sports2d clip: a man waving his arms, read from
    behind for 9 frames)."""
    points = predicted[torso]
    span = points.max(axis=0) - points.min(axis=0)
    size = math.hypot(span[0], span[1])  # NaN: max() below keeps sigma
    seen, mirrored = labelling_scores(points, xy, weights, (torso, mirror[torso]),
                                      max(sigma, size))
    return bool(mirrored < margin * seen)


def _projected(problem: FitProblem, report: Any, used: np.ndarray) -> np.ndarray:
    """(n, 2) pixels: the fit's keypoints ``used`` (K,) bool, projected by the problem's
    camera (as ``problem.camera.project``, without building the camera)."""
    points = np.asarray(report.keypoints)[used]
    return problem.focal_length * points[:, :2] / points[:, 2:3] + problem.center


def permuted(observation: dict[str, Any], perm: np.ndarray, format_weights: np.ndarray,
             mirrored: bool = False) -> dict[str, Any]:
    """The C++ fit's observation with the keypoints relabelled by ``perm`` (the torso
    indices and the format's weight per keypoint, ``format_weights`` (K,), stay: only the
    readings move). ``mirrored``: ``perm`` is the whole-body left/right mirror, so the
    detector's 3D keypoints are also reflected in depth
    (:func:`smplify.left_right.depth_reflected`)."""
    if np.array_equal(perm, np.arange(len(perm))):
        return observation
    out = dict(observation)
    out["keypoints"] = np.ascontiguousarray(observation["keypoints"][perm])
    out["confidence"] = observation["confidence"][perm]
    out["weights"] = format_weights * out["confidence"]
    if observation["keypoints_3d"] is not None:
        points = observation["keypoints_3d"][perm]
        out["keypoints_3d"] = np.ascontiguousarray(depth_reflected(points) if mirrored
                                                   else points)
    return out


def median_error_fraction(problem: FitProblem, keypoints: np.ndarray, weights: np.ndarray,
                          report: Any) -> float:
    """The fit's median 2D error over the keypoints it used, as a fraction of the diagonal
    of their bounding box (inf if not finite). The Fitter runs the C++ twin,
    ``_core.median_error_fraction`` (cpp/track_checks.h)."""
    used = weights > 0
    if not np.isfinite(report.energy.total) or not used.any():
        return float("inf")
    seen = keypoints[used]
    error = np.sort(np.sqrt(np.sum((_projected(problem, report, used) - seen) ** 2, axis=1)))
    size = float(keypoint_diagonal(keypoints, used))
    n = len(error)
    median = float((error[(n - 1) // 2] + error[n // 2]) / 2)  # np.median's value
    return median / max(size, 1.0) if np.isfinite(median) else float("inf")


def projected(problem: FitProblem, report: Any) -> np.ndarray:
    """(K, 2) a fit's keypoints in the image, pixels (NaN where the model has none)."""
    return projected_points(problem, report.keypoints)


def projected_points(problem: FitProblem, keypoints: np.ndarray) -> np.ndarray:
    """(K, 2) a body's (K, 3) camera-frame keypoints in the image, pixels (NaN where the
    model has none)."""
    points = np.array(keypoints, dtype=np.float64)
    points[~problem.keypoint_available] = np.nan
    return problem.camera.project(points)


def robust_data(problem: FitProblem, keypoints: np.ndarray, weights: np.ndarray, report: Any,
                sigma: float) -> float:
    """Σ_k w_k ρ(‖x̂_k − x_k‖; σ) of a fit (Geman-McClure, pixels²; inf if not finite)."""
    used = weights > 0
    e2 = np.sum((_projected(problem, report, used) - keypoints[used]) ** 2, axis=1)
    value = float(np.sum(weights[used] * sigma**2 * e2 / (sigma**2 + e2)))
    return value if np.isfinite(value) else float("inf")


def _forward_of(x: float, y: float, z: float) -> tuple[float, float, float]:
    """:func:`forward_axis` of the rotation vector (x, y, z), as three floats (scalars: a
    frame's checks call it a few times, where NumPy's overhead is ~10× the arithmetic)."""
    angle = math.sqrt(x * x + y * y + z * z)
    if angle < 1e-12:
        return 0.0, 0.0, 1.0
    kx, ky, kz = x / angle, y / angle, z / angle
    c, s = math.cos(angle), math.sin(angle)
    return (ky * s + kx * kz * (1.0 - c), -kx * s + ky * kz * (1.0 - c),
            c + kz * kz * (1.0 - c))


def forward_axis(global_orient: np.ndarray) -> np.ndarray:
    """(3,) the body's forward (+z) axis in the camera frame: R(ω) e_z by Rodrigues,
    e_z cos φ + (k × e_z) sin φ + k k_z (1 − cos φ) with ω = φ k, written out in scalars."""
    return np.array(_forward_of(*np.asarray(global_orient).tolist()))  # (float(v) each)


def _angle_degrees(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """Angle between two unit 3-vectors, degrees (scalars: a frame's few calls)."""
    c = min(max(a[0] * b[0] + a[1] * b[1] + a[2] * b[2], -1.0), 1.0)
    return math.degrees(math.acos(c))


#: SMPL joints from the root to the chest (pelvis, spine1, spine2, spine3): the chest's
#: global rotation is the product of their rotations.
CHEST_CHAIN = (0, 3, 6, 9)


def _quaternion(x: float, y: float, z: float) -> tuple[float, float, float, float]:
    """The unit quaternion (w, x, y, z) of one rotation vector, in scalars
    (:func:`smplify.pose_filter.quaternions`' formula: a frame's checks call it a few times,
    where NumPy's overhead is ~10× the arithmetic)."""
    angle = math.sqrt(x * x + y * y + z * z)
    half = 0.5 * angle
    scale = math.sin(half) / angle if angle > 1e-6 else 0.5 - angle * angle / 48.0
    return math.cos(half), x * scale, y * scale, z * scale


def _chest_forward_of(v: Any) -> tuple[float, float, float]:
    """The chest's forward (+z) axis in the camera frame, R_0 R_3 R_6 R_9 e_z, of a pose's
    first 3 · (CHEST_CHAIN[-1] + 1) values as floats (quaternion products;
    R e_z = (2(xz + wy), 2(yz − wx), 1 − 2(x² + y²)))."""
    q = [_quaternion(*v[3 * j:3 * j + 3]) for j in CHEST_CHAIN]
    w, x, y, z = q[0]
    for qw, qx, qy, qz in q[1:]:
        w, x, y, z = (w * qw - x * qx - y * qy - z * qz, w * qx + x * qw + y * qz - z * qy,
                      w * qy - x * qz + y * qw + z * qx, w * qz + x * qy - y * qx + z * qw)
    return (2.0 * (x * z + w * y), 2.0 * (y * z - w * x), 1.0 - 2.0 * (x * x + y * y))


def torso_turn_degrees(pose_a: np.ndarray, pose_b: np.ndarray) -> float:
    """The larger of the pelvis' and the chest's facing turns between two (72,) poses,
    degrees: a body turning its chest as fast as the pelvis (a twisted spine that fits the
    2D as well shows only in the chest's facing)."""
    pelvis_a, chest_a = _facing(_chest_chain_bytes(pose_a))
    pelvis_b, chest_b = _facing(_chest_chain_bytes(pose_b))
    return max(_angle_degrees(pelvis_a, pelvis_b), _angle_degrees(chest_a, chest_b))


def pelvis_turn_degrees(pose_a: np.ndarray, pose_b: np.ndarray) -> float:
    """The angle between two (72,) poses' pelvis forward axes (:func:`forward_axis` of
    their roots), degrees, their facings kept for the frames after (:func:`_facing`: a warm
    frame's turn check and spin check read its fit's facing and the track's last, computed
    on the frame before)."""
    return _angle_degrees(_facing(_chest_chain_bytes(pose_a))[0],
                          _facing(_chest_chain_bytes(pose_b))[0])


def _chest_chain_bytes(pose: np.ndarray) -> bytes:
    """The float64 bytes of a (72,) pose's root and spine rotations (the first
    3 · (CHEST_CHAIN[-1] + 1) values, all :func:`_facing` reads): its cache key."""
    return np.asarray(pose, dtype=np.float64)[:3 * CHEST_CHAIN[-1] + 3].tobytes()


@lru_cache(maxsize=4 * MAX_SPIN_FRAMES)
def _facing(chain: bytes) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """The pelvis' and the chest's forward axes (:func:`_forward_of`, :func:`_chest_forward_of`)
    of a pose given by :func:`_chest_chain_bytes`, kept by those bytes: a warm frame's spin
    check compares its fit with the pose of ``track_spin_frames`` frames back, whose facing
    it computed when that pose was the frame's fit (the same floats, so the same bytes and
    the same value; ~8 us a frame otherwise)."""
    values = struct.unpack(f"{len(chain) // 8}d", chain)  # the pose's floats
    return _forward_of(*values[:3]), _chest_forward_of(values)


#: Hypotheses of the learned initialiser a periodic or strain refit starts from.
REFIT_HYPOTHESES = 2


def learned_starts(format: str | KeypointFormat, keypoints: np.ndarray,
                   confidence: np.ndarray, image_size: Any,
                   focal_length: float, mirror: str = "off") -> list[np.ndarray] | None:
    """(72,) poses (global orient, body pose) of the learned initialiser's best
    :data:`REFIT_HYPOTHESES` readings of the keypoints ((K, 2) pixels, ``confidence`` (K,)),
    or None when no initialiser ships for ``format`` (a name or a layout:
    :func:`smplify.initializer.ships_for`; the refit then fits from scratch). ``mirror``:
    ``FitOptions.mirror_readings``."""
    from . import initializer

    format = get_format(format)
    if not initializer.ships_for(format):  # cached: no file-system look-up per refit
        return None
    xy = np.where(np.isfinite(keypoints), keypoints, 0.0)
    # The fit accepts any confidence >= 0; the initialiser was trained on [0, 1].
    hypotheses = initializer.predict(np.column_stack([xy, np.clip(confidence, 0.0, 1.0)]),
                                     format.name, image_size, focal_length,
                                     count=REFIT_HYPOTHESES, mirror=mirror)
    return [np.concatenate([h.global_orient, h.body_pose]) for h in hypotheses]
