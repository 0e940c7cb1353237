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
"""

from __future__ import annotations

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
    """

    def __init__(self, fps: float, min_cutoff: float, beta: float, d_cutoff: float = 1.0):
        self.fps, self.min_cutoff, self.beta = float(fps), float(min_cutoff), float(beta)
        self.d_cutoff = float(d_cutoff)
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

    def __call__(self, pose: np.ndarray, transl: np.ndarray,
                 frames: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """This frame's filtered (72,) pose and (3,) translation; ``frames``: since the last
        frame filtered (more when the detector missed some: the step spans them, at the
        sampling rate fps / frames)."""
        q = quaternions(np.asarray(pose, dtype=np.float64).reshape(-1, 3))
        transl = np.asarray(transl, dtype=np.float64)
        if self._rotation is None:
            self._rotation, self._transl = q, transl.copy()
            return np.asarray(pose, dtype=np.float64).copy(), transl.copy()
        rate = self.fps / max(int(frames), 1)
        a_d = self.a_d if rate == self.fps else _alpha(self.d_cutoff, rate)
        step = rotation_vectors(multiply(conjugate(self._rotation), q))
        self._spin = a_d * step * rate + (1.0 - a_d) * self._spin
        a = _alpha(self.min_cutoff + self.beta * np.linalg.norm(self._spin, axis=1), rate)
        self._rotation = multiply(self._rotation, quaternions(a[:, None] * step))
        self._rotation /= np.linalg.norm(self._rotation, axis=1, keepdims=True)
        move = transl - self._transl
        self._speed = a_d * move * rate + (1.0 - a_d) * self._speed
        self._transl = self._transl + _alpha(
            self.min_cutoff + self.beta * np.abs(self._speed), rate) * move
        return rotation_vectors(self._rotation).ravel(), self._transl.copy()

    def lag_frames(self) -> float:
        """Frames a ramp is followed behind at rest, (1 − α(min_cutoff)) / α(min_cutoff)."""
        return self.lag
