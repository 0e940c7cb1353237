"""The start selection in NumPy: the reading score (twin of ``cpp/reading_score.h``) and the
learned start scorer's features, scores and kept start (twins of ``cpp/start_scorer.h``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..start_scorer import START_FEATURES


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



def _log_gap(x: np.ndarray) -> np.ndarray:
    """log(1 + x − min x); a non-finite x counts as the largest finite gap + 1."""
    finite = np.isfinite(x)
    if not finite.any():
        return np.zeros_like(x)
    lo, hi = x[finite].min(), x[finite].max()
    return np.log1p(np.where(finite, x - lo, hi - lo + 1.0))


def depth_order_disagreement(keypoints: np.ndarray, reference: np.ndarray,
                             weights: np.ndarray, margin: float = 0.1) -> float:
    """O: the share of keypoint pairs (a, b), both with weight > 0 and a finite reference,
    whose reference depths differ by at least ``margin`` (metres; ``kDepthOrderMargin``),
    that ``keypoints`` order the other way in depth; 0 without such pairs (twin of
    ``cpp/start_scorer.h``'s DepthOrderDisagreement).

    Parameters
    ----------
    keypoints : (K, 3) the body's keypoints X, camera axes, metres.
    reference : (K, 3) the 3D keypoints Ŷ (NaN rows unknown), or (0, 3) for none.
    weights : (K,) the keypoints' weights.

    Returns
    -------
    float in [0, 1].
    """
    ref = np.asarray(reference, dtype=np.float64)
    if len(ref) == 0:
        return 0.0
    use = (np.asarray(weights) > 0) & np.isfinite(ref).all(axis=1)
    z_ref, z = ref[use, 2], np.asarray(keypoints, dtype=np.float64)[use, 2]
    a, b = np.triu_indices(len(z_ref), 1)
    seen = z_ref[a] - z_ref[b]
    pairs = np.abs(seen) >= margin
    if not pairs.any():
        return 0.0
    return float(np.mean((z[a] - z[b])[pairs] * seen[pairs] < 0))


def start_features(default_score: np.ndarray, selection_data: np.ndarray,
                   reading: np.ndarray, energies: np.ndarray, hypothesis: np.ndarray,
                   log_score_gap: np.ndarray, flipped: np.ndarray,
                   joints: np.ndarray, depth_disorder: np.ndarray) -> np.ndarray:
    """The start scorer's features of N finished starts: the twin of ``cpp/start_scorer.h``
    (its comment gives each feature's formula).

    Parameters
    ----------
    default_score, selection_data, reading : (N,) S, E_sel (σ = selection_sigma) and R
        (nats; 0 without readings) of each start.
    energies : (N, 5) pose, angle, shape, E_3D and interpenetration energies: the last
        stage's terms, but E_3D against the observation's 3D keypoints for every start.
    hypothesis : (N,) bool, a reading's start.
    log_score_gap : (N,) log p_max − log p of a reading's start (ignored for the prior's).
    flipped : (N,) bool, the flipped orientation.
    joints : (N, 24, 3) joints, metres, camera frame.
    depth_disorder : (N,) :func:`depth_order_disagreement` of each start's keypoints.

    Returns
    -------
    (N, F) float64, F = len(START_FEATURES).
    """
    energies = np.asarray(energies, dtype=np.float64)
    hyp = np.asarray(hypothesis, dtype=bool)
    rel = np.asarray(joints, dtype=np.float64)
    rel = rel - rel[:, :1]
    n = len(rel)
    d = 10.0 * np.sqrt(np.mean(np.sum((rel[:, None] - rel[None]) ** 2, axis=-1), axis=-1))
    others = max(n - 1, 1)
    agreement = d.sum(axis=1) / others
    gaps = np.where(hyp, log_score_gap, 0.0)
    p = np.where(hyp, np.exp(-gaps), 0.0)
    if p.sum() > 0:
        p = p / p.sum()
    reading_distance = d @ p
    off = ~np.eye(n, dtype=bool)
    basin = np.sum((d < 0.5) & off, axis=1) / others
    nearest = np.where(off, d, np.inf).min(axis=1) if n > 1 else np.zeros(n)
    nearest_reading = (gaps[np.argmin(np.where(hyp[None], d, np.inf), axis=1)]
                       if hyp.any() else np.zeros(n))
    disorder = np.asarray(depth_disorder, dtype=np.float64)
    columns = [_log_gap(np.asarray(default_score, dtype=np.float64)),
               _log_gap(np.asarray(selection_data, dtype=np.float64)),
               _log_gap(np.asarray(reading, dtype=np.float64)),
               *(_log_gap(energies[:, k]) for k in range(5)),
               hyp.astype(np.float64), gaps,
               np.asarray(flipped, dtype=np.float64), agreement - agreement.min(), basin,
               reading_distance - reading_distance.min(), nearest, nearest_reading,
               disorder - disorder.min()]
    return np.stack(columns, axis=1)


def start_scores(features: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """s = v · tanh(Wᵀ f + b) of each start: the twin of ``cpp/start_scorer.h``'s
    StartScores (the lowest wins).

    Parameters
    ----------
    features : (N, F) :func:`start_features`.
    weights : (H (F + 2),) W (F, H) row by row, then b (H,), then v (H,).

    Returns
    -------
    (N,) float64.
    """
    f = len(START_FEATURES)
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or w.size == 0 or w.size % (f + 2):
        raise ValueError(f"weights: need H * {f + 2} values, got shape {w.shape}")
    h = w.size // (f + 2)
    hidden = np.tanh(np.asarray(features, dtype=np.float64) @ w[:f * h].reshape(f, h)
                     + w[f * h:f * h + h])
    return hidden @ w[f * h + h:]


def kept_start(features: np.ndarray, scores: np.ndarray, selection_sigma: float) -> int:
    """The start the scorer keeps: the lowest score among those with ℓ(ΔE_sel) (feature 1)
    ≤ log(1 + σ_sel²), the first of equals; −1 for none (twin of ``KeptStart``)."""
    s = np.where(np.asarray(features)[:, 1] <= np.log1p(selection_sigma ** 2),
                 np.asarray(scores, dtype=np.float64), np.inf)
    return int(np.argmin(s)) if np.isfinite(s).any() else -1
