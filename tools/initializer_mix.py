"""The initialiser's training cases: a mix of detector noise levels and confidence models.

Build-time only (``tools/build_initializer.py``). ``smplify.detections`` has one error model
whose confidences fall steeply with the error; a net trained only on it reads a low confidence
as "this keypoint is wrong" and meets other confidences in use: uninformative ones (the old
synthetic video detector: uniform, unrelated to the error) and real MediaPipe visibilities,
saturated near 1 with a mild link to the error (``benchmarks/results/real_confidence.json``:
quartiles 0.81–0.96 / 0.98–0.996 / 0.998–0.9998, Spearman −0.29..−0.46 against the error).
Issue 10 measured what that costs on video frames. Each case here draws, independently:

- its noise: ``detections.detector_errors`` (swaps, outliers, drops, σ 0.4–2.5% of the
  person's size), or, with probability ``low_share``, low noise: σ 0–0.4% (log-uniform over
  0.02–0.4%, a fifth of these exact), 0–5% dropped keypoints, keypoints outside the image
  dropped as there, no swaps or outliers;
- its confidence model (``CONFIDENCE_MODELS``, shares ``confidence_shares``):
  ``"error"``, ``detections.error_confidence`` (the error model's own);
  ``"uniform"``, U(lo, hi) with lo ~ U(0.3, 1), hi = min(1, lo + U(0, 0.5)), unrelated to the
  error (a constant when hi = lo);
  ``"saturated"``, 1 − c lognormal: log(1 − c) = μ + 2.8 (0.5 z + 0.87 ε), μ ~ U(−6, −3.5) per
  case, z the keypoint's log error standardised about 1.2% of the person's size, ε ~ N(0, 1);
  clipped to [0.01, 1] (real MediaPipe's shape; ``python tools/initializer_mix.py`` prints
  its quartiles and Spearman ρ on training-like cases).
Dropped keypoints stay (0, 0, 0).
"""

from __future__ import annotations

import numpy as np
from smplify import detections

CONFIDENCE_MODELS = ("error", "uniform", "saturated")
LOW_NOISE_SHARE = 0.2
CONFIDENCE_SHARES = (0.4, 0.25, 0.35)
SATURATED_SPREAD = 2.8
SATURATED_LINK = 0.5
SATURATED_CENTRE = 0.012


def low_noise(uv: np.ndarray, image_size: np.ndarray, rng: np.random.Generator,
              available: np.ndarray | None) -> np.ndarray:
    """(N, K, 3) near-exact detections of true pixels ``uv`` (N, K, 2), confidence 1 for now
    (the caller sets it), dropped keypoints (0, 0, 0)."""
    n, k, _ = uv.shape
    size = np.linalg.norm(uv.max(axis=1) - uv.min(axis=1), axis=1)
    sigma = size * np.exp(rng.uniform(np.log(0.0002), np.log(0.004), n))
    sigma[rng.random(n) < 0.2] = 0.0
    out = uv + rng.normal(size=uv.shape) * sigma[:, None, None]
    drop = rng.random((n, k)) < rng.uniform(0.0, 0.05, n)[:, None]
    drop |= ((out < 0) | (out > image_size[:, None])).any(axis=2) & (rng.random((n, k)) < 0.8)
    if available is not None:
        drop |= ~np.asarray(available, dtype=bool)[None]
    out = np.concatenate([out, np.ones((n, k, 1))], axis=2)
    out[drop] = 0.0
    return out


def confidences(kind: np.ndarray, error: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(N, K) confidences of keypoints with ``error`` (N, K; displacement over the person's 2D
    size) under each case's model ``kind`` (N,) (an index into ``CONFIDENCE_MODELS``)."""
    n, k = error.shape
    linked = detections.error_confidence(error, rng)
    lo = rng.uniform(0.3, 1.0, (n, 1))
    hi = np.minimum(1.0, lo + rng.uniform(0.0, 0.5, (n, 1)))
    uniform = lo + (hi - lo) * rng.random((n, k))
    z = np.log(np.maximum(error, 1e-5) / SATURATED_CENTRE)
    mu = rng.uniform(-6.0, -3.5, (n, 1))
    mix = SATURATED_LINK * z + np.sqrt(1 - SATURATED_LINK ** 2) * rng.normal(size=(n, k))
    saturated = np.clip(1.0 - np.exp(mu + SATURATED_SPREAD * mix), 0.01, 1.0)
    return np.choose(kind[:, None], [linked, uniform, saturated])


def mixed_cases(points: np.ndarray, joints: np.ndarray, theta: np.ndarray, betas: np.ndarray,
                keypoint_names: tuple[str, ...] | list[str], rng: np.random.Generator,
                available: np.ndarray | None = None, low_share: float = LOW_NOISE_SHARE,
                confidence_shares: tuple[float, ...] = CONFIDENCE_SHARES) -> detections.Cases:
    """``detections.make_cases`` with the module docstring's mix of noise levels and
    confidence models (same arguments; ``low_share=0`` and shares (1, 0, 0) give
    ``make_cases``' cases for the same generator state)."""
    n = len(points)
    views = detections.random_views(rng, n)
    uv, transl = detections.project(np.nan_to_num(points), np.zeros((n, 3)), views)
    swaps = np.zeros((n, 3), dtype=bool)
    kp = detections.detector_errors(uv, keypoint_names, views.image_size, rng, available, swaps)
    low = rng.random(n) < low_share
    kp[low] = low_noise(uv[low], views.image_size[low], rng, available)
    swaps[low] = False
    size = np.linalg.norm(uv.max(axis=1) - uv.min(axis=1), axis=1)
    error = np.linalg.norm(kp[..., :2] - uv, axis=2) / size[:, None]
    kind = rng.choice(len(CONFIDENCE_MODELS), n, p=np.asarray(confidence_shares))
    conf = confidences(kind, error, rng)
    kept = (kind == 0) & ~low      # the error model's own confidences (swaps at half cost)
    conf[kept] = kp[kept, :, 2]
    kp[..., 2] = np.where(kp[..., 2] > 0, conf, 0.0)
    return detections.Cases(kp, views.image_size, views.focal,
                            views.rotation @ detections._rodrigues(theta[:, :3]),
                            np.einsum("nab,njb->nja", views.rotation, joints), transl,
                            theta[:, 3:], betas, swaps)


def _check() -> None:
    """Print the saturated model's quartiles and Spearman ρ (confidence against error) on
    training-like cases, beside real MediaPipe's (module docstring)."""
    from scipy.stats import spearmanr

    rng = np.random.default_rng(0)
    n, k = 2000, 17
    uv = rng.uniform(0, 500, (n, k, 2))
    image_size = np.full((n, 2), 500.0)
    kp = detections.detector_errors(uv, [f"k{i}" for i in range(k)], image_size, rng)
    size = np.linalg.norm(uv.max(axis=1) - uv.min(axis=1), axis=1)
    error = np.linalg.norm(kp[..., :2] - uv, axis=2) / size[:, None]
    for name, i in zip(CONFIDENCE_MODELS, range(3), strict=True):
        c = confidences(np.full(n, i), error, rng)
        ok = kp[..., 2] > 0
        print(f"{name:10s} quartiles {np.round(np.percentile(c[ok], [25, 50, 75]), 4)} "
              f"spearman {spearmanr(c[ok], error[ok])[0]:+.2f}")


if __name__ == "__main__":
    _check()
