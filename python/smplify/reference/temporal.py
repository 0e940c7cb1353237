"""The temporal smoothness term of a sequence fit in NumPy: the twin of cpp/temporal_term.h.

For three consecutive frames a, b, c (second differences, i.e. accelerations per frame²):

    r_R = λ_R · vec(R(ω_a) − 2 R(ω_b) + R(ω_c))   (9 rows, row-major R)
    r_θ = λ_θ · (θ_a − 2 θ_b + θ_c)                 (69 rows, body pose)
    r_γ = λ_γ · (γ_a − 2 γ_b + γ_c)                 (3 rows, translation)
"""

from __future__ import annotations

import numpy as np

from .body import rodrigues

_SECOND_DIFFERENCE = np.array([1.0, -2.0, 1.0])


def temporal_residuals(global_orient: np.ndarray, body_pose: np.ndarray, transl: np.ndarray,
                       weights: tuple[float, float, float]) -> np.ndarray:
    """The 81 rows [r_R, r_θ, r_γ] of frames a, b, c.

    Parameters
    ----------
    global_orient : (3, 3) axis-angle ω of frames a, b, c (rows), radians.
    body_pose : (3, 69) θ of frames a, b, c, radians.
    transl : (3, 3) γ of frames a, b, c, metres.
    weights : (λ_R, λ_θ, λ_γ).

    Returns
    -------
    (81,) residuals. Complex input works (complex-step derivatives).
    """
    w_r, w_p, w_t = weights
    c = _SECOND_DIFFERENCE
    rotations = np.stack([rodrigues(np.asarray(w)) for w in global_orient])  # (3, 3, 3)
    r_rot = w_r * np.einsum("f,fij->ij", c, rotations).reshape(9)
    r_pose = w_p * (c @ np.asarray(body_pose))
    r_transl = w_t * (c @ np.asarray(transl))
    return np.concatenate([r_rot, r_pose, r_transl])


def temporal_energy(global_orient: np.ndarray, body_pose: np.ndarray, transl: np.ndarray,
                    weights: tuple[float, float, float]) -> np.ndarray:
    """(T,) ‖r‖² of the triple centred on each frame (0 for the first and last frame).

    Parameters
    ----------
    global_orient : (T, 3).  body_pose : (T, 69).  transl : (T, 3).
    weights : (λ_R, λ_θ, λ_γ).
    """
    num_frames = len(body_pose)
    out = np.zeros(num_frames)
    for t in range(1, num_frames - 1):
        s = slice(t - 1, t + 2)
        out[t] = float(np.sum(temporal_residuals(global_orient[s], body_pose[s], transl[s],
                                                 weights) ** 2))
    return out
