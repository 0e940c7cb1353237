"""A person's box moving at constant velocity: the Kalman filter of ``smplify.tracking``.

State x = (cx, cy, w, h, vcx, vcy, vw, vh): the box's centre and size (pixels) and their
rates (pixels per frame). One frame ahead,

    x' = F x,   F = [[I, I], [0, I]]         (constant velocity)
    P' = F P Fᵀ + Q

and a seen box z = (cx, cy, w, h) corrects it with H = [I, 0]:

    S = H P Hᵀ + R,  K = P Hᵀ S⁻¹,  x ← x + K (z - H x),  P ← (I - K H) P

The noises scale with the box's height h, as ByteTrack's filter does (a person 300 px tall
jitters more in pixels than one 60 px tall): position standard deviations ``POSITION`` · h,
velocity ``VELOCITY`` · h (Q per frame; R, and the first frame's P, from them).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["BoxMotion", "box_to_state", "state_to_box"]

POSITION = 1.0 / 20.0  # measurement and process std of a box's centre/size, per box height
VELOCITY = 1.0 / 160.0  # process std of its rates per frame, per box height

_F = np.eye(8)
_F[:4, 4:] = np.eye(4)
_H = np.eye(4, 8)


def box_to_state(box: NDArray[np.float64]) -> NDArray[np.float64]:
    """(4,) cx, cy, w, h of an (x0, y0, x1, y1) box."""
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2,
                     box[2] - box[0], box[3] - box[1]])


def state_to_box(z: NDArray[np.float64]) -> NDArray[np.float64]:
    """(4,) x0, y0, x1, y1 of a cx, cy, w, h box."""
    return np.array([z[0] - z[2] / 2, z[1] - z[3] / 2, z[0] + z[2] / 2, z[1] + z[3] / 2])


def _stds(h: float, position: float, velocity: float) -> NDArray[np.float64]:
    h = max(h, 1.0)
    return np.array([position * h] * 4 + [velocity * h] * 4)


class BoxMotion:
    """One box's constant-velocity Kalman filter (pixels, frames).

    Parameters
    ----------
    box : (4,) float64
        The first sighting, x0, y0, x1, y1 (pixels); its rates start at 0 with a wide
        uncertainty (10 × the per-frame velocity std).
    """

    def __init__(self, box: NDArray[np.float64]):
        z = box_to_state(np.asarray(box, dtype=np.float64))
        self.x = np.concatenate([z, np.zeros(4)])
        std = _stds(z[3], 2 * POSITION, 10 * VELOCITY)
        self.P = np.diag(std ** 2)

    @property
    def box(self) -> NDArray[np.float64]:
        """(4,) the current estimate, x0, y0, x1, y1 (pixels)."""
        return state_to_box(self.x[:4])

    def predict(self) -> NDArray[np.float64]:
        """Move one frame ahead; returns the predicted (4,) box."""
        if self.x[2] + self.x[6] <= 1.0 or self.x[3] + self.x[7] <= 1.0:
            self.x[6:] = 0.0  # a box shrinking through zero size: hold its size
        q = _stds(self.x[3], POSITION, VELOCITY)
        self.x = _F @ self.x
        self.P = _F @ self.P @ _F.T + np.diag(q ** 2)
        return self.box

    def lose(self) -> None:
        """The box was not seen this frame: stop its size rates (ByteTrack zeroes them for a
        lost track), so a box growing as someone neared the camera does not keep growing,
        or shrink to nothing, while unseen; its centre keeps moving."""
        self.x[6:] = 0.0

    def distance(self, box: NDArray[np.float64]) -> float:
        """Squared Mahalanobis distance of a seen box's centre from the prediction
        (χ² with 2 degrees of freedom)."""
        z = box_to_state(np.asarray(box, dtype=np.float64))
        r = _stds(self.x[3], POSITION, VELOCITY)[:2]
        S = self.P[:2, :2] + np.diag(r ** 2)
        d = z[:2] - self.x[:2]
        return float(d @ np.linalg.solve(S, d))

    def update(self, box: NDArray[np.float64]) -> None:
        """Correct the estimate with a seen (4,) box."""
        z = box_to_state(np.asarray(box, dtype=np.float64))
        r = _stds(self.x[3], POSITION, VELOCITY)[:4]
        S = _H @ self.P @ _H.T + np.diag(r ** 2)
        K = np.linalg.solve(S, _H @ self.P).T  # P Hᵀ S⁻¹ (S and P symmetric)
        self.x = self.x + K @ (z - _H @ self.x)
        self.P = (np.eye(8) - K @ _H) @ self.P
