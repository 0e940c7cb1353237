"""Synthetic videos: a motion sequence posed through a body model, seen by a camera, with the
errors a 2D keypoint detector makes.

Used by the video tests and ``benchmarks/bench_video.py`` with held-out CMU mocap sequences
(``tests/data/heldout_sequences.npz``, built by ``tools/build_heldout_sequences.py``).
Detector errors, each switchable in :class:`DetectorErrors`:

- per-frame Gaussian noise whose σ grows with the person's 2D size;
- dropped frames (no person: every confidence 0);
- dropped keypoints (confidence 0);
- bursts of whole-body left/right swaps (a few consecutive frames);
- single-frame per-limb swaps (arms or legs);
- occlusion: a limb's keypoints missing for a run of frames;
- a reported keypoint's confidence (:func:`detector_confidence`): by default it falls with
  the keypoint's actual error and is saturated near 1, as real MediaPipe visibility is
  (``benchmarks/real_confidence.py``); swapped keypoints are often confidently wrong.
  ``confidence_model="uniform"`` is the earlier model, uniform and unrelated to the error.

The confidence model does not change any other draw: a video made with either model has the
same keypoint positions, swaps, drops and occlusions (its confidences come from a generator
spawned from ``rng``, whose own stream is left as the uniform model leaves it). The spawned
generator comes from ``rng``'s seed sequence (NumPy's ``Generator.spawn``): a generator made
from the same seed gives the same confidences, one whose state was copied or restored from
another need not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .keypoint_box import keypoint_diagonal
from .keypoints import resolve_format
from .left_right import LIMB_PARTS, limb_swap_index, mirror_index
from .synthetic import _axis_angle, _rotation

#: DetectorErrors.confidence_model's choices.
CONFIDENCE_MODELS = ("error-linked", "uniform")
#: The error-linked model's constants, set from real MediaPipe visibility
#: (``benchmarks/results/real_confidence.json``, see ``benchmarks/real_confidence.py``):
#: its four fitted rows (vtest and sports2d, residual against the online and the sequence
#: fits). Slope/spread = 60 sets the rank link: Spearman −0.39 and a 2.9× ratio of the
#: median error in the lowest to the highest confidence decile (real: −0.29..−0.46, mean
#: −0.39; 1.8..4.1×, mean 2.85); the logit at zero error and the spread set the saturation:
#: confidence quartiles 0.88/0.991/0.9993 (real means 0.89/0.989/0.9993); the confidently
#: wrong share: of the gross errors (> 0.3 torso lengths), 17% are at or above the median
#: confidence (real 15-21%, mean 18%; uniform confidences give 50%, the realistic set 1%).
#: The synthetic figures are against the TRUE keypoints (the real ones against fits, which
#: add their own error: the real link to the true error is likely somewhat stronger).
CONFIDENCE_LOGIT = 7.5
CONFIDENCE_SLOPE = 210.0
CONFIDENCE_SPREAD = 3.5
CONFIDENT_WRONG = 0.35


@dataclass(frozen=True)
class DetectorErrors:
    """How a synthetic detector errs (rates are per frame unless said otherwise).

    Attributes
    ----------
    noise_fraction : σ of the per-keypoint noise as a fraction of the person's 2D size (the
        diagonal of the frame's keypoint bounding box).
    noise_pixels : the noise's floor in pixels: σ = √((noise_fraction · size)² +
        noise_pixels²). A real detector's error does not shrink with the person (its input
        crop's resolution): on a person ~100 px tall, 1 % of the size is ~1 px, below what
        detectors reach. 0: proportional noise alone (the clips before session 13).
    drop_frame_rate : probability that a frame has no person.
    drop_keypoint_rate : probability, per keypoint and frame, that it is missing.
    swap_burst_rate : probability that a burst of whole-body left/right swaps starts.
    swap_burst_length : (min, max) frames of a burst, inclusive.
    limb_swap_rate : probability, per limb pair (arms, legs), of a one-frame swap.
    occlusion_rate : probability that one limb starts being hidden.
    occlusion_length : (min, max) frames of an occlusion, inclusive.
    confidence_model : "error-linked" (default; :func:`detector_confidence`) or "uniform"
        (each reported keypoint's confidence uniform in ``confidence``, unrelated to its
        error: the model before session 11's issue 10 work).
    confidence : (low, high) of the uniform model's confidence.
    confidence_logit : error-linked: the confidence's logit at zero error (a sigmoid, as
        MediaPipe's visibility is).
    confidence_slope : error-linked: how fast the logit falls with the keypoint's error, per
        unit of error in the person's 2D size (the bounding box's diagonal).
    confidence_spread : error-linked: σ of the logit's Gaussian scatter about that line.
    confident_wrong : error-linked: the share of frames whose swapped keypoints keep the
        confidence of an unswapped one (their error less the swap): confidently wrong.
    """

    noise_fraction: float = 0.01
    noise_pixels: float = 0.0
    drop_frame_rate: float = 0.03
    drop_keypoint_rate: float = 0.05
    swap_burst_rate: float = 0.01
    swap_burst_length: tuple[int, int] = (2, 6)
    limb_swap_rate: float = 0.02
    occlusion_rate: float = 0.01
    occlusion_length: tuple[int, int] = (5, 20)
    confidence_model: str = "error-linked"
    confidence: tuple[float, float] = (0.5, 1.0)
    confidence_logit: float = CONFIDENCE_LOGIT
    confidence_slope: float = CONFIDENCE_SLOPE
    confidence_spread: float = CONFIDENCE_SPREAD
    confident_wrong: float = CONFIDENT_WRONG

    def __post_init__(self) -> None:
        if self.confidence_model not in CONFIDENCE_MODELS:
            raise ValueError(f"confidence_model: expected one of {CONFIDENCE_MODELS}, got "
                             f"{self.confidence_model!r}")
        value = self.noise_pixels
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
                or not (np.isfinite(value) and value >= 0):
            raise ValueError(f"noise_pixels: expected a finite σ in pixels >= 0, got "
                             f"{value!r}")
        if not 0.0 <= self.confident_wrong <= 1.0:
            raise ValueError(f"confident_wrong: expected a share in [0, 1], got "
                             f"{self.confident_wrong}")


#: A perfect detector (every reported confidence 1).
NO_ERRORS = DetectorErrors(noise_fraction=0.0, drop_frame_rate=0.0, drop_keypoint_rate=0.0,
                           swap_burst_rate=0.0, limb_swap_rate=0.0, occlusion_rate=0.0,
                           confidence_model="uniform", confidence=(1.0, 1.0))


@dataclass(frozen=True)
class SyntheticVideo:
    """Keypoints of every frame and the truth, in the camera frame (OpenCV axes, metres).

    Attributes
    ----------
    keypoints : (T, K, 3) x, y (pixels), confidence.
    format : keypoint format name.  image_size : (width, height) px.  focal_length : px.
    fps : frames per second.
    betas : (B,).  global_orient : (T, 3).  body_pose : (T, 69).  transl : (T, 3).
    joints : (T, 24, 3) true joints.
    clean : (T, K, 2) the true projected keypoints, before any detector error.
    swapped : (T,) bool, frames whose whole body is reported left/right swapped.
    dropped : (T,) bool, frames with no person.
    """

    keypoints: np.ndarray
    format: str
    image_size: tuple[int, int]
    focal_length: float
    fps: float
    betas: np.ndarray
    global_orient: np.ndarray
    body_pose: np.ndarray
    transl: np.ndarray
    joints: np.ndarray
    clean: np.ndarray
    swapped: np.ndarray
    dropped: np.ndarray
    errors: DetectorErrors = field(default_factory=DetectorErrors)

    @property
    def num_frames(self) -> int:
        """T."""
        return int(self.keypoints.shape[0])


def load_sequences(path: str | Path) -> list[dict[str, Any]]:
    """The motion sequences of a ``heldout_sequences.npz`` file, one dict per clip: name,
    fps, betas (B,), global_orient (T, 3), body_pose (T, 69), transl (T, 3) in the mocap's
    world frame (y up, metres)."""
    with np.load(path, allow_pickle=False) as z:
        return [{"name": str(z["names"][c]), "fps": float(z["fps"].reshape(-1)[0]),
                 **{k: z[k][c].astype(np.float64)
                    for k in ("betas", "global_orient", "body_pose", "transl")}}
                for c in range(len(z["names"]))]


def make_video(model: Any, sequence: dict[str, Any], format: str, rng: np.random.Generator,
               errors: DetectorErrors = DetectorErrors(), yaw: float | None = None,
               distance: float = 5.0, focal_length: float = 1200.0,
               frames: slice | None = None) -> SyntheticVideo:
    """A camera watching ``sequence`` (see :func:`load_sequences`) through ``model``.

    Parameters
    ----------
    model : a loaded BodyModel with ``sequence["betas"]``'s number of betas or more.
    sequence : dict of betas (B,), global_orient (T, 3), body_pose (T, 69), transl (T, 3)
        in a y-up world frame, fps.
    format : keypoint format name.
    rng : random generator (detector errors, and the yaw if not given).
    errors : the detector's errors.
    yaw : the camera's heading about the world's vertical axis, radians (None: random).
    distance : metres from the camera to the middle of the motion.
    focal_length : pixels.
    frames : which frames of the sequence (None: all).

    Returns
    -------
    SyntheticVideo
    """
    sel = slice(None) if frames is None else frames
    body_pose = np.asarray(sequence["body_pose"], dtype=np.float64)[sel]
    orient_w = np.asarray(sequence["global_orient"], dtype=np.float64)[sel]
    transl_w = np.asarray(sequence["transl"], dtype=np.float64)[sel]
    num_frames = len(body_pose)
    if num_frames == 0:
        raise ValueError("sequence: no frames selected")
    betas = np.zeros(model.num_betas)
    seq_betas = np.asarray(sequence["betas"], dtype=np.float64)
    betas[:len(seq_betas)] = seq_betas
    if yaw is None:
        yaw = float(rng.uniform(-np.pi, np.pi))
    # World (y up) to camera (y down, z forward): a half turn about x, after the heading.
    R_c = _rotation(np.array([np.pi, 0.0, 0.0])) @ _rotation(np.array([0.0, yaw, 0.0]))
    pelvis = model.rest_joints(betas)[0]
    # Posed joints are R (J − J_0) + J_0 + γ: the pelvis sits at J_0 + γ, which the camera
    # maps to R_c (J_0 + γ_w); translate so that the mean pelvis is `distance` ahead.
    root_c = (pelvis + transl_w) @ R_c.T
    root_c += np.array([0.0, 0.0, distance]) - root_c.mean(axis=0)
    transl = root_c - pelvis
    global_orient = np.stack([_axis_angle(R_c @ _rotation(w)) for w in orient_w])

    resolved = resolve_format(format, model.keypoint_names, model.num_vertices,
                              model.keypoint_regressor)
    joints = np.empty((num_frames, 24, 3))
    points = np.empty((num_frames, resolved.available.shape[0], 3))
    for t in range(num_frames):
        out = model(betas=betas, body_pose=body_pose[t], global_orient=global_orient[t],
                    transl=transl[t])
        joints[t] = out.joints
        points[t] = resolved.keypoint_positions(out.joints, out.vertices)
    if np.any(points[..., 2] <= 0.1):
        raise ValueError("distance: the motion comes within 0.1 m of the camera; increase it")
    uv = focal_length * points[..., :2] / points[..., 2:]
    lo, hi = uv.reshape(-1, 2).min(axis=0), uv.reshape(-1, 2).max(axis=0)
    size = np.ceil(2 * np.maximum(np.abs(lo), np.abs(hi)) * 1.1 + 40).astype(int)
    clean = uv + size / 2.0
    keypoints, swapped, dropped = _detect(clean, format, rng, errors)
    return SyntheticVideo(
        keypoints=keypoints, format=format, image_size=(int(size[0]), int(size[1])),
        focal_length=float(focal_length), fps=float(sequence.get("fps", 30.0)), betas=betas,
        global_orient=global_orient, body_pose=body_pose, transl=transl, joints=joints,
        clean=clean, swapped=swapped, dropped=dropped, errors=errors)


def _runs(rng: np.random.Generator, num_frames: int, rate: float,
          length: tuple[int, int]) -> np.ndarray:
    """(T,) bool: runs of ``length`` frames, each starting at a frame with probability rate."""
    mask = np.zeros(num_frames, dtype=bool)
    for t in np.flatnonzero(rng.random(num_frames) < rate):
        mask[t:t + int(rng.integers(length[0], length[1] + 1))] = True
    return mask


def _detect(clean: np.ndarray, format: str, rng: np.random.Generator,
            errors: DetectorErrors) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The detector's (T, K, 3) keypoints from the true (T, K, 2), and the swapped and dropped
    frames."""
    num_frames, num_keypoints = clean.shape[:2]
    xy = clean.copy()
    size = keypoint_diagonal(clean)  # (T,) pixels
    sigma = np.hypot(errors.noise_fraction * size, errors.noise_pixels)  # (T,) pixels
    xy += rng.normal(size=xy.shape) * sigma[:, None, None]
    # The uniform model's draw is made either way: the other draws stay the same.
    conf = rng.uniform(*errors.confidence, size=(num_frames, num_keypoints))
    conf[rng.random(conf.shape) < errors.drop_keypoint_rate] = 0.0
    source = np.broadcast_to(np.arange(num_keypoints), conf.shape).copy()  # true keypoint

    for index in (limb_swap_index(format, limb) for limb in LIMB_PARTS):
        hidden = _runs(rng, num_frames, errors.occlusion_rate, errors.occlusion_length)
        side = index != np.arange(num_keypoints)
        # One side of the limb is hidden (behind the body).
        names_side = side & (np.arange(num_keypoints) < index) if rng.random() < 0.5 \
            else side & (np.arange(num_keypoints) > index)
        conf[np.ix_(hidden, names_side)] = 0.0
        for t in np.flatnonzero(rng.random(num_frames) < errors.limb_swap_rate):
            xy[t], conf[t], source[t] = xy[t, index], conf[t, index], source[t, index]

    swapped = _runs(rng, num_frames, errors.swap_burst_rate, errors.swap_burst_length)
    mirror = mirror_index(format)
    xy[swapped] = xy[swapped][:, mirror]
    conf[swapped] = conf[swapped][:, mirror]
    source[swapped] = source[swapped][:, mirror]
    if errors.confidence_model == "error-linked":
        linked = detector_confidence(xy, clean, source, size, rng.spawn(1)[0], errors)
        conf = np.where(conf > 0.0, linked, 0.0)

    dropped = rng.random(num_frames) < errors.drop_frame_rate
    conf[dropped] = 0.0
    xy[conf == 0.0] = 0.0
    return np.concatenate([xy, conf[..., None]], axis=2), swapped, dropped


def detector_confidence(xy: np.ndarray, clean: np.ndarray, source: np.ndarray,
                        size: np.ndarray, rng: np.random.Generator,
                        errors: DetectorErrors) -> np.ndarray:
    """(T, K) error-linked confidences of reported keypoints.

    conf = sigmoid(a − b · e / s + σ z), z ~ N(0, 1), where e is the keypoint's distance
    from its true position and s the person's 2D size (``size``); a, b, σ are
    ``errors.confidence_logit``, ``confidence_slope``, ``confidence_spread``. In a share
    ``errors.confident_wrong`` of frames the swapped keypoints are confidently wrong: their e
    is the distance from the true keypoint they were drawn from (``source``), not the swap.

    Parameters
    ----------
    xy : (T, K, 2) reported positions, pixels.  clean : (T, K, 2) true positions, pixels.
    source : (T, K) int, the true keypoint each report was drawn from (k unless swapped).
    size : (T,) the person's 2D size, pixels.  rng : the confidences' generator.
    errors : the model's constants.
    """
    num_frames, num_keypoints = source.shape
    error = np.linalg.norm(xy - clean, axis=-1)
    drawn = np.take_along_axis(clean, source[..., None], axis=1)
    wrong = (rng.random(num_frames) < errors.confident_wrong)[:, None] & \
        (source != np.arange(num_keypoints))
    error = np.where(wrong, np.linalg.norm(xy - drawn, axis=-1), error)
    logit = errors.confidence_logit - errors.confidence_slope * error / \
        np.maximum(size, 1e-9)[:, None] \
        + errors.confidence_spread * rng.normal(size=error.shape)
    # At least 0.001 (real visibility's least is ~0.006): 0 means "not reported".
    # The logistic, its argument bounded so that exp cannot overflow (a user's steep slope).
    return np.clip(1.0 / (1.0 + np.exp(-np.clip(logit, -700.0, 700.0))), 1e-3, 1.0)


def _acceleration(joints: np.ndarray) -> np.ndarray:
    """(T − 2, J, 3) second differences of pelvis-relative joints (T, J, 3)."""
    j = joints - joints[:, :1]
    return j[2:] - 2 * j[1:-1] + j[:-2]


def acceleration_error(joints: np.ndarray, truth: np.ndarray) -> float:
    """Mean ‖a − a_true‖ over frames and joints, a the second difference per frame of the
    pelvis-relative joints (the video fitting papers' "accel error"), in the joints' units
    per frame². joints, truth : (T, J, 3)."""
    return float(np.linalg.norm(_acceleration(joints) - _acceleration(truth), axis=-1).mean())


def mean_acceleration(joints: np.ndarray) -> float:
    """Mean ‖a‖ of (T, J, 3) pelvis-relative joints, per frame² (how much a motion shakes)."""
    return float(np.linalg.norm(_acceleration(joints), axis=-1).mean())


def detector_3d(model: Any, video: SyntheticVideo, rng: np.random.Generator,
                noise_m: tuple[float, float, float] = (0.03, 0.03, 0.06)) -> np.ndarray:
    """(T, K, 3) the 3D keypoints a detector such as MediaPipe gives with ``video``'s 2D ones
    (its world landmarks; as :func:`smplify.detections.detector_3d` for single images): the
    true keypoints relative to the pelvis in camera-aligned axes with per-keypoint Gaussian
    noise ``noise_m`` (metres; depth, the last, is what a single view knows least), NaN
    where the 2D keypoint is missing. Labels as the truth's: meant for a video without
    left/right swaps (a detector's swapped 2D comes with swapped 3D). An assumed model, not
    a measured one."""
    resolved = resolve_format(video.format, model.keypoint_names, model.num_vertices,
                              model.keypoint_regressor)
    out = np.empty(video.keypoints.shape)
    for t in range(video.num_frames):
        body = model(betas=video.betas, body_pose=video.body_pose[t],
                     global_orient=video.global_orient[t], transl=video.transl[t])
        points = resolved.keypoint_positions(body.joints, body.vertices) - body.joints[0]
        out[t] = points + rng.normal(size=points.shape) * np.asarray(noise_m)
    out[video.keypoints[..., 2] <= 0] = np.nan
    return out
