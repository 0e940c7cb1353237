"""A causal One Euro filter on SMPL parameters: the online Fitter's smoothed output (docs/video.md).

The Fitter runs its C++ form (``cpp/pose_filter.h``, ``smplify._core.PoseFilter``); this is its
NumPy twin, which tests/test_pose_filter.py holds it equal to, value for value.

The One Euro filter (:mod:`smplify.filters`, Casiez et al. 2012) on each joint's rotation and on
the translation. A rotation is filtered on the rotation group, in the tangent space of the last
output R̂_{t−1} (so no axis-angle wrap-around at π and no drift off the rotations):

    δ_t = log(R̂_{t−1}ᵀ R_t)                         (3,) rad, the frame's step from the output
    ω̂_t = α(d_cutoff) δ_t · fps + (1 − α(d_cutoff)) ω̂_{t−1}      rad/s, the speed estimate
    f_c = min_cutoff + beta · ‖ω̂_t‖                  Hz
    R̂_t = R̂_{t−1} exp(α(f_c) δ_t),   α(f) = 1 / (1 + fps / (2π f))

and the translation γ (metres) by the same recursion with δ_t = γ_t − γ̂_{t−1}, per coordinate
(|ω̂| per coordinate, beta in s/m) as :func:`smplify.filters.one_euro`. For a rotation about a
fixed axis this is exactly that filter on the angle. Lag: at rest a ramp is followed
(1 − α)/α frames behind (min_cutoff 8 Hz at 30 fps, the Fitter's default: 0.6 frames), less
as the speed raises the cutoff. A step across frames the detector missed is one sample at
the rate fps / (frames since the last).

With ``keypoint_beta`` > 0 the cutoff also rises with the 2D keypoints' speed this frame
(:class:`KeypointSpeed`: person sizes per second of the keypoints each joint's rotation moves,
confidence-weighted), which the detector sees at once, where the fit's own speed estimate ω̂
rises late (it is low-passed and measured on the lagged output):

    f_c = min_cutoff + beta · ‖ω̂_t‖ + keypoint_beta · max(0, s_j − keypoint_floor)

(s_24, the torso centre's, for γ; the floor: what the detector's jitter alone reads as speed).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .filters import _alpha  # α of a first-order low-pass at a cutoff (Hz), sampled at a rate (Hz)


def quaternions(rotvecs: np.ndarray) -> np.ndarray:
    """(n, 4) unit quaternions (w, x, y, z) of (n, 3) rotation vectors."""
    angle = np.linalg.norm(rotvecs, axis=1)
    half = 0.5 * angle
    # sin(θ/2)/θ, its series below 1e-6 rad.
    scale = np.where(angle > 1e-6, np.sin(half) / np.maximum(angle, 1e-300),
                     0.5 - angle**2 / 48.0)
    return np.column_stack([np.cos(half), rotvecs * scale[:, None]])


def rotation_vectors(quats: np.ndarray) -> np.ndarray:
    """(n, 3) rotation vectors (angle ≤ π) of (n, 4) unit quaternions (w, x, y, z)."""
    q = np.where(quats[:, :1] < 0.0, -quats, quats)  # the shorter way round
    s = np.linalg.norm(q[:, 1:], axis=1)
    angle = 2.0 * np.arctan2(s, q[:, 0])
    scale = np.where(s > 1e-12, angle / np.maximum(s, 1e-300), 2.0)
    return q[:, 1:] * scale[:, None]


def multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n, 4) Hamilton products a b of (n, 4) quaternions."""
    aw, ax, ay, az = a.T
    bw, bx, by, bz = b.T
    return np.column_stack([aw * bw - ax * bx - ay * by - az * bz,
                            aw * bx + ax * bw + ay * bz - az * by,
                            aw * by - ax * bz + ay * bw + az * bx,
                            aw * bz + ax * by - ay * bx + az * bw])


def conjugate(q: np.ndarray) -> np.ndarray:
    """(n, 4) the inverse rotations of (n, 4) unit quaternions."""
    return q * np.array([1.0, -1.0, -1.0, -1.0])


class PoseOneEuro:
    """The One Euro filter on (72,) SMPL poses (24 axis-angle rotations) and (3,)
    translations, one frame at a time (causal).

    Parameters
    ----------
    fps : frames per second of the video (> 0).
    min_cutoff : Hz at rest (> 0): lower smooths more and lags more.
    beta : s/rad for the rotations, s/m for the translation (≥ 0): how fast the cutoff rises
        with speed (higher lags less in fast motion).
    d_cutoff : Hz, the cutoff of the speed estimate.
    keypoint_beta : Hz per (person size / s), how fast the cutoff rises with the 2D keypoint
        speeds given to a frame above ``keypoint_floor`` (person sizes / s, ≥ 0).
    """

    def __init__(self, fps: float, min_cutoff: float, beta: float, d_cutoff: float = 1.0,
                 keypoint_beta: float = 0.0, keypoint_floor: float = 0.0):
        self.fps, self.min_cutoff, self.beta = float(fps), float(min_cutoff), float(beta)
        self.d_cutoff, self.keypoint_beta = float(d_cutoff), float(keypoint_beta)
        self.keypoint_floor = float(keypoint_floor)
        self.a_d = _alpha(d_cutoff, self.fps)
        a = _alpha(self.min_cutoff, self.fps)
        self.lag = (1.0 - a) / a  # frames a ramp is followed behind at rest
        self.reset()

    def reset(self) -> None:
        """Forget the past: the next frame passes through unchanged."""
        self._rotation: np.ndarray | None = None     # (24, 4) the last output's quaternions
        self._transl = np.zeros(3)
        self._spin = np.zeros((24, 3))                 # rad/s, per joint
        self._speed = np.zeros(3)                      # m/s

    def __call__(self, pose: np.ndarray, transl: np.ndarray, frames: int = 1,
                 keypoint_speed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """This frame's filtered (72,) pose and (3,) translation; ``frames``: since the last
        frame filtered (more when the detector missed some: the step spans them, at the
        sampling rate fps / frames); ``keypoint_speed``: (25,) :class:`KeypointSpeed`'s, or
        None (the One Euro alone)."""
        opening = np.zeros(25)
        if keypoint_speed is not None:
            speeds = np.asarray(keypoint_speed, dtype=np.float64).ravel()
            if speeds.size != 25:  # the C++ filter's checks and messages
                raise ValueError(f"keypoint_speed: expected 25 values, got {speeds.size}")
            if not np.all(np.isfinite(speeds)) or np.any(speeds < 0):
                raise ValueError("keypoint_speed: expected finite values >= 0")
            opening = self.keypoint_beta * np.maximum(speeds - self.keypoint_floor, 0.0)
        q = quaternions(np.asarray(pose, dtype=np.float64).reshape(-1, 3))
        transl = np.asarray(transl, dtype=np.float64)
        if self._rotation is None:
            self._rotation, self._transl = q, transl.copy()
            return np.asarray(pose, dtype=np.float64).copy(), transl.copy()
        rate = self.fps / max(int(frames), 1)
        a_d = self.a_d if rate == self.fps else _alpha(self.d_cutoff, rate)
        step = rotation_vectors(multiply(conjugate(self._rotation), q))
        self._spin = a_d * step * rate + (1.0 - a_d) * self._spin
        a = _alpha(self.min_cutoff + self.beta * np.linalg.norm(self._spin, axis=1)
                   + opening[:24], rate)
        self._rotation = multiply(self._rotation, quaternions(a[:, None] * step))
        self._rotation /= np.linalg.norm(self._rotation, axis=1, keepdims=True)
        move = transl - self._transl
        self._speed = a_d * move * rate + (1.0 - a_d) * self._speed
        self._transl = self._transl + _alpha(
            self.min_cutoff + self.beta * np.abs(self._speed) + opening[24], rate) * move
        return rotation_vectors(self._rotation).ravel(), self._transl.copy()

    def lag_frames(self) -> float:
        """Frames a ramp is followed behind at rest, (1 − α(min_cutoff)) / α(min_cutoff)."""
        return self.lag


def moved_keypoints(parents: np.ndarray, keypoint_joint: np.ndarray,
                    at_joint: np.ndarray | None = None) -> np.ndarray:
    """(24, K) bool: which keypoints each joint's rotation moves: those whose joint is below
    it in the kinematic tree, and those of the joint itself unless they sit at its centre.

    A joint keypoint (``at_joint``: the model's joint itself) does not move when its joint
    turns, so it opens the joints above, not its own. A landmark skinned to a joint (a vertex
    keypoint) counts as moved by it: the nose by the head; and so COCO-17's wrist and ankle
    landmarks (skinned to the wrist and ankle joints, 20/21 and 7/8, which no COCO keypoint
    observes) open those joints too: their unobserved turn follows the limb's motion rather
    than lagging it (a choice, not a measurement).

    ``parents`` (24,), the root's −1; ``keypoint_joint`` (K,) each keypoint's joint, −1:
    none, moved by no rotation; ``at_joint`` (K,) bool, the joint keypoints (None: none)."""
    parents = np.asarray(parents, dtype=np.int64)
    below = np.eye(len(parents), dtype=bool)  # below[j, i]: i is j or under it
    for i in range(len(parents)):
        p = parents[i]
        while p >= 0:
            below[p, i] = True
            p = parents[p]
    joint = np.asarray(keypoint_joint, dtype=np.int64)
    moved = np.where(joint >= 0, below[:, np.maximum(joint, 0)], False)
    if at_joint is not None:
        at = np.asarray(at_joint, dtype=bool) & (joint >= 0)
        moved[joint[at], np.flatnonzero(at)] = False
    return moved


def skinning_joints(weights: np.ndarray, joint_index: np.ndarray,
                    vertex_ids: tuple[np.ndarray, ...],
                    vertex_weights: tuple[np.ndarray, ...]) -> np.ndarray:
    """(K,) the joint that moves each keypoint: its own for a joint keypoint
    (``joint_index`` ≥ 0), else the largest skinning weight (``weights`` (V, 24)) of its
    regressor's vertices' weighted sum; −1 for a keypoint with neither."""
    out = np.asarray(joint_index, dtype=np.int64).copy()
    for k, (ids, w) in enumerate(zip(vertex_ids, vertex_weights, strict=True)):
        if out[k] < 0 and len(ids):
            out[k] = int(np.argmax(np.asarray(w) @ np.asarray(weights)[np.asarray(ids)]))
    return out


def format_moved_keypoints(model: Any, resolved: Any) -> np.ndarray:
    """(24, K) bool, :func:`moved_keypoints` of a keypoint format matched against a body
    model (``resolved``: the fit settings' ``resolved`` targets; ``model``: its ``parents``
    and skinning ``weights``); a keypoint the model has no point for is moved by none."""
    joint = skinning_joints(model.weights, resolved.joint_index, resolved.vertex_ids,
                            resolved.vertex_weights)
    return moved_keypoints(model.parents, np.where(resolved.available, joint, -1),
                           np.asarray(resolved.joint_index) >= 0)


class KeypointSpeed:
    """Each joint's 2D keypoint speed, person sizes per second, for :class:`PoseOneEuro`'s
    (and ``_core.PoseFilter``'s) ``keypoint_speed``: what the detector sees move this frame.
    The Fitter runs its C++ form (``cpp/keypoint_speed.h``, ``smplify._core.KeypointSpeed``);
    this is its twin, value for value.

    A keypoint's motion is taken relative to the torso's centre c (the shoulders' and hips'
    mean: the person walking is not a joint turning), the shorter of its step from its own
    and from its mirror partner's last position (a left/right swap is no motion), weighted
    by the lower of its two confidences w (a jumping unsure keypoint barely counts):

        v_k = min(w_k,t, w_k,t−1) · min(‖r_k,t − r_k,t−1‖, ‖r_k,t − r_m(k),t−1‖) · fps / (h · size)
        r_k,t = x_k,t − c_t,   s_j = max over the keypoints j moves of v_k,
        s_0 (the root) over the torso keypoints,   s_24 = ‖c_t − c_t−1‖ · fps / (h · size)
        (times the torso keypoints' lowest confidence)

    x: the keypoints, w: their confidences, m(k): k's mirror partner, h: frames since the
    last; c the mean of the torso keypoints seen (confidence > 0) in both frames. Zero (the
    One Euro alone) unless two of them are and the size is known.

    Parameters
    ----------
    moved : (24, K) bool, :func:`moved_keypoints`.
    torso : (4,) int, indices of the shoulders and hips.
    mirror : (K,) int, each keypoint's left/right partner (itself on the midline).
    fps : frames per second (> 0).
    """

    def __init__(self, moved: np.ndarray, torso: np.ndarray, mirror: np.ndarray, fps: float):
        self.moved = np.asarray(moved, dtype=bool)
        self.torso = np.asarray(torso, dtype=np.int64)
        self.mirror = np.asarray(mirror, dtype=np.int64)
        self.fps = float(fps)
        self.moved_root = np.zeros_like(self.moved[0])
        self.moved_root[self.torso] = True
        self.reset()

    def reset(self) -> None:
        """Forget the last frame: the next one's speeds are zero."""
        self._last: tuple[np.ndarray, np.ndarray] | None = None

    def __call__(self, xy: np.ndarray, confidence: np.ndarray, size: float,
                 frames: int = 1) -> np.ndarray:
        """(25,) speeds ≥ 0 (per joint, then the torso's centre) of this frame's keypoints
        ``xy`` (K, 2) pixels with ``confidence`` (K,) in [0, 1], a person ``size`` pixels
        (the track's 2D torso length; NaN: unknown) and ``frames`` ≥ 1 since the last."""
        xy = np.array(xy, dtype=np.float64)  # a copy: a caller may reuse its buffer
        conf = np.clip(np.asarray(confidence, dtype=np.float64), 0.0, 1.0)  # a new array
        out = np.zeros(25)
        last, self._last = self._last, (xy, conf)
        if last is None or not (math.isfinite(size) and size > 0):
            return out
        last_xy, last_conf = last
        torso = self.torso[(conf[self.torso] > 0) & (last_conf[self.torso] > 0)]
        if len(torso) < 2:
            return out
        rel = xy - xy[torso].mean(axis=0)
        last_rel = last_xy - last_xy[torso].mean(axis=0)
        scale = self.fps / (max(int(frames), 1) * size)
        step = np.minimum(np.linalg.norm(rel - last_rel, axis=1),
                          np.linalg.norm(rel - last_rel[self.mirror], axis=1))
        v = np.minimum(conf, last_conf) * step * scale
        out[:24] = np.max(np.where(self.moved, v, 0.0), axis=1)
        out[0] = np.max(np.where(self.moved_root, v, 0.0))
        move = xy[torso].mean(axis=0) - last_xy[torso].mean(axis=0)
        out[24] = (min(conf[torso].min(), last_conf[torso].min()) * np.linalg.norm(move) * scale)
        return out
