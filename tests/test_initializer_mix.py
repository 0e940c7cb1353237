"""The initialiser's training mix (tools/initializer_mix.py): noise levels and confidence
models, against the detector error model and real MediaPipe's measured confidences."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr
from smplify import detections

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import initializer_mix as mix  # noqa: E402

N, K = 400, 17
NAMES = tuple(f"left_k{i}" if i % 2 else f"right_k{i}" for i in range(K))


def bodies(seed: int) -> tuple[np.ndarray, ...]:
    """N stick-figure bodies: random points about a metre across, pelvis-relative."""
    rng = np.random.default_rng(seed)
    points = rng.normal(scale=[0.25, 0.5, 0.1], size=(N, K, 3))
    joints = rng.normal(scale=0.3, size=(N, 24, 3))
    theta = rng.normal(scale=0.3, size=(N, 72))
    return points, joints, theta, rng.normal(size=(N, 10))


def test_plain_error_model_is_make_cases() -> None:
    args = bodies(0)
    got = mix.mixed_cases(*args, NAMES, np.random.default_rng(5), None, 0.0, (1.0, 0.0, 0.0))
    want = detections.make_cases(*args, NAMES, np.random.default_rng(5))
    np.testing.assert_array_equal(got.keypoints, want.keypoints)
    np.testing.assert_array_equal(got.swaps, want.swaps)
    np.testing.assert_allclose(got.rotation, want.rotation)
    np.testing.assert_allclose(got.joints, want.joints)


def errors_and_confidences(low: float, shares: tuple[float, float, float]):
    args = bodies(1)
    """Each reported keypoint's error (over the person's 2D size) and confidence, and the
    cases, of ``mixed_cases`` with these shares (the true pixels: the same seed's cameras)."""
    cases = mix.mixed_cases(*args, NAMES, np.random.default_rng(2), None, low, shares)
    uv, _ = detections.project(args[0], np.zeros((N, 3)), detections.random_views(
        np.random.default_rng(2), N))
    size = np.linalg.norm(uv.max(axis=1) - uv.min(axis=1), axis=1)
    kept = cases.keypoints[..., 2] > 0
    error = np.linalg.norm(cases.keypoints[..., :2] - uv, axis=2) / size[:, None]
    return error[kept], cases.keypoints[..., 2][kept], cases


def test_saturated_confidences_look_like_real_mediapipe() -> None:
    """benchmarks/results/real_confidence.json: quartiles 0.81–0.96, 0.98–0.996,
    0.998–0.9998; Spearman ρ −0.29..−0.46 against the keypoint's error."""
    error, conf, _ = errors_and_confidences(0.0, (0.0, 0.0, 1.0))
    q1, q2, q3 = np.percentile(conf, [25, 50, 75])
    assert 0.8 < q1 < 0.97 and 0.97 < q2 < 0.998 and 0.995 < q3 <= 1.0
    rho = spearmanr(conf, error)[0]
    assert -0.55 < rho < -0.25


def test_uniform_confidences_say_nothing_about_the_error() -> None:
    error, conf, _ = errors_and_confidences(0.0, (0.0, 1.0, 0.0))
    assert abs(spearmanr(conf, error)[0]) < 0.05
    assert 0.3 <= conf.min() and conf.max() <= 1.0


@pytest.mark.parametrize("shares", [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)])
def test_low_noise_cases_are_near_exact_and_keep_drops(shares) -> None:
    error, conf, cases = errors_and_confidences(1.0, shares)
    assert np.percentile(error, 99) < 0.02     # σ ≤ 0.4% of the person's size
    assert not cases.swaps.any()
    dropped = cases.keypoints[..., 2] == 0
    assert (cases.keypoints[dropped] == 0).all()
    assert 0 < conf.min() and conf.max() <= 1.0
