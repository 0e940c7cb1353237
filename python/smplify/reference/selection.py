"""The start selection's reading score in NumPy: the twin of ``cpp/reading_score.h``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def reading_score(keypoints: np.ndarray, readings: Sequence[np.ndarray],
                  log_weights: np.ndarray, sigma: float) -> float:
    """R(X) = −log Σ_m p_m exp(−D_m / (2 τ²)): the learned initialiser's readings as a
    mixture, scoring a body's keypoints (nats; docs/design.md "Reading score").

    D_m is the mean over the keypoints S_m finite in both of ‖(X_k − X̄) − (H_mk − H̄)‖²,
    both sets relative to their centroid over S_m; p_m = exp(log_weights) normalised.

    Parameters
    ----------
    keypoints : (K, 3) the body's keypoints X, metres.
    readings : M arrays (K, 3), the readings' keypoints H_m (camera axes, any origin; NaN
        rows unknown).
    log_weights : (M,) log p_m up to a constant.
    sigma : τ, metres.

    Returns
    -------
    float, +inf if no reading shares two keypoints with the body.
    """
    x = np.asarray(keypoints, dtype=np.float64)
    w = np.asarray(log_weights, dtype=np.float64)
    log_p = w - (w.max() + np.log(np.sum(np.exp(w - w.max()))))
    terms = []
    for h, lp in zip(readings, log_p, strict=True):
        h = np.asarray(h, dtype=np.float64)
        shared = np.isfinite(h).all(axis=1) & np.isfinite(x).all(axis=1)
        if shared.sum() < 2:
            continue
        dx = x[shared] - x[shared].mean(axis=0)
        dh = h[shared] - h[shared].mean(axis=0)
        terms.append(lp - np.mean(np.sum((dx - dh) ** 2, axis=1)) / (2.0 * sigma ** 2))
    if not terms:
        return float("inf")
    t = np.array(terms)
    return float(-(t.max() + np.log(np.sum(np.exp(t - t.max())))))
