"""The online track's temporal rows E_track in NumPy: the twin of cpp/track_term.h.

A frame x = (ω, θ, γ) against the two frames before it (``before``, ``last``):

    E_track = ‖A ⊙ (g(x) − P)‖² + ‖V ⊙ (g(x) − L)‖² = ‖W ⊙ (g(x) − M)‖² + c

with g(x) = [vec R(ω), θ, γ] (81), P = 2 g(last) − g(before), L = g(last), A = (λ_R, λ_θ,
λ_γ) per part, V = ratio · A, W² = A² + V², M = (A² P + V² L) / W², c = Σ A² V² / W² (P − L)²:
TemporalCost's acceleration rows (:func:`smplify.reference.temporal.temporal_residuals` of
before, last, x) and its velocity rows (of last, last, x, weights V) as one block of 81
rows, plus the constant row √c. Frames the detector missed: h₁ frames from before to last,
h₂ from last to x (``gaps``, 1 and 1 without a miss); then P = L + (h₂/h₁)(L − g(before))
(A and V unchanged).
"""

from __future__ import annotations

import numpy as np

from .body import rodrigues


def track_features(frame: np.ndarray) -> np.ndarray:
    """(81,) g of a frame given as 75 values [ω, θ, γ]: vec R(ω) (row-major), θ, γ."""
    frame = np.asarray(frame)
    return np.concatenate([rodrigues(frame[:3]).reshape(9), frame[3:72], frame[72:75]])


def track_residuals(before: np.ndarray, last: np.ndarray, frame: np.ndarray,
                    weights: tuple[float, float, float], velocity_ratio: float,
                    gaps: tuple[float, float] = (1.0, 1.0)) -> np.ndarray:
    """The 82 rows [W ⊙ (g(x) − M), √c].

    Parameters
    ----------
    before, last, frame : (75,) [ω, θ, γ] of the frame before the last, the last, and x
        (radians, metres). Complex ``frame`` works (complex-step derivatives).
    weights : (λ_R, λ_θ, λ_γ) of the acceleration rows.
    velocity_ratio : V / A.
    gaps : (h₁, h₂) frames from before to last and from last to x.
    """
    h1, h2 = gaps
    a = np.concatenate([np.full(9, weights[0]), np.full(69, weights[1]), np.full(3, weights[2])])
    g_last = track_features(last)
    prediction = g_last + (h2 / h1) * (g_last - track_features(before))
    a2 = a**2
    v2 = (velocity_ratio * a) ** 2
    w2 = a2 + v2
    safe = np.where(w2 > 0, w2, 1.0)
    target = np.where(w2 > 0, (a2 * prediction + v2 * g_last) / safe, 0.0)
    constant = np.sqrt(np.sum(np.where(w2 > 0, a2 * v2 / safe, 0.0) * (prediction - g_last) ** 2))
    return np.concatenate([np.sqrt(w2) * (track_features(frame) - target), [constant]])


def tracked_pose_prior(means: np.ndarray, chol: np.ndarray, neg_log_c: np.ndarray,
                       weight: float, track_weight: float, track_target: np.ndarray,
                       body_pose: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """The two blocks cpp/tracked_pose_prior_term.h joins, as they were: E_θ's rows
    λ_θ [√½ L_kᵀ(x − μ_k); √(−log c_k)] (k = argmin_k of the prior's own ‖r_k(x)‖²) and the
    track's body-pose rows w (x − m). Its rows differ from the joined block's (any
    R with RᵀR = JᵀJ serves); what the solver sees of them does not.

    Parameters
    ----------
    means : (M, 69).  chol : (M, 69, 69) L_k, Σ_k⁻¹ = L_k L_kᵀ
    (lower triangles read, entries above the diagonal ignored).  neg_log_c : (M,).
    weight : λ_θ.  track_weight : w.  track_target : (69,) m.  body_pose : (69,) x.

    Returns
    -------
    energy ‖r‖², Jᵀr (69,) and the Gauss-Newton matrix JᵀJ (69, 69) of the two blocks.
    """
    x = np.asarray(body_pose, dtype=np.float64)
    chol = np.tril(chol)  # the lower triangles only, as the C++ prior reads them
    whitened = np.sqrt(0.5) * np.einsum("mba,mb->ma", chol, x - means)  # (M, 69)
    k = int(np.argmin(np.sum(whitened**2, axis=1) + neg_log_c))
    rows = np.concatenate([weight * whitened[k], [weight * np.sqrt(neg_log_c[k])],
                           track_weight * (x - track_target)])
    jacobian = np.concatenate([weight * np.sqrt(0.5) * chol[k].T, np.zeros((1, 69)),
                               track_weight * np.eye(69)])
    return float(rows @ rows), jacobian.T @ rows, jacobian.T @ jacobian
