"""The online track's E_track block (cpp/track_term.h) against its NumPy twin, the two
TemporalCost blocks it replaces, and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from smplify import _core
from smplify.reference.energy import complex_step_jacobian
from smplify.reference.temporal import temporal_residuals
from smplify.reference.track import track_residuals

WEIGHTS = (3.0, 2.0, 5.0)
RATIO = 0.1


def _frames(rng: np.random.Generator, near_pi: bool) -> np.ndarray:
    """(3, 75) frames before, last, x as [ω, θ, γ]."""
    frames = np.concatenate([rng.normal(scale=0.3, size=(3, 3)),
                             rng.normal(scale=0.4, size=(3, 69)), rng.normal(size=(3, 3))], axis=1)
    if near_pi:  # upright: ‖ω‖ close to π, the last frame written as the antipode
        frames[:, :3] += np.array([np.pi - 0.05, 0.0, 0.0])
        w = frames[1, :3]
        frames[1, :3] = -w * (2 * np.pi - np.linalg.norm(w)) / np.linalg.norm(w)
    return frames


def _two_blocks(before: np.ndarray, last: np.ndarray, frame: np.ndarray) -> float:
    """E_track as the acceleration and velocity TemporalCost blocks it was (cpp/fitter.h)."""
    def rows(a: np.ndarray, b: np.ndarray, c: np.ndarray, weights: tuple) -> np.ndarray:
        f = np.stack([a, b, c])
        return temporal_residuals(f[:, :3], f[:, 3:72], f[:, 72:], weights)

    velocity = tuple(RATIO * w for w in WEIGHTS)
    return float(np.sum(rows(before, last, frame, WEIGHTS) ** 2)
                 + np.sum(rows(last, last, frame, velocity) ** 2))


@pytest.mark.parametrize("near_pi", [False, True])
def test_track_term_matches_numpy_the_two_blocks_and_finite_differences(near_pi: bool) -> None:
    before, last, x = _frames(np.random.default_rng(11 + near_pi), near_pi)
    residuals, jacobian = _core.track_term(before, last, x, np.array(WEIGHTS), RATIO)
    np.testing.assert_allclose(residuals, track_residuals(before, last, x, WEIGHTS, RATIO),
                               rtol=0, atol=1e-12)
    # One square for the two blocks: the same energy at any frame x.
    for frame in (x, last, 2 * last - before):
        energy = float(np.sum(_core.track_term(before, last, frame, np.array(WEIGHTS),
                                               RATIO)[0] ** 2))
        assert energy == pytest.approx(_two_blocks(before, last, frame), rel=1e-12, abs=1e-12)

    def rows(batch: np.ndarray) -> np.ndarray:
        return np.stack([track_residuals(before, last, f, WEIGHTS, RATIO) for f in batch])

    np.testing.assert_allclose(jacobian, complex_step_jacobian(rows, x), rtol=0, atol=1e-10)
    h = 1e-6
    central = np.stack([(_core.track_term(before, last, x + h * e, np.array(WEIGHTS), RATIO)[0]
                         - _core.track_term(before, last, x - h * e, np.array(WEIGHTS),
                                            RATIO)[0]) / (2 * h)
                        for e in np.eye(75)], axis=1)
    np.testing.assert_allclose(jacobian, central, rtol=0, atol=1e-6)
    assert not jacobian[81].any()  # the constant row


def test_track_term_is_zero_on_the_prediction_without_velocity_rows() -> None:
    before, last, _ = _frames(np.random.default_rng(5), near_pi=False)
    prediction = 2 * last - before
    prediction[:3] = last[:3]  # orientation held: its rotation-matrix rows are 0 too
    before[:3] = last[:3]
    residuals, _ = _core.track_term(before, last, prediction, np.array(WEIGHTS), 0.0)
    assert np.abs(residuals).max() < 1e-12


def test_track_term_spans_missed_frames() -> None:
    """With h₂ − 1 frames missed after the last (and h₁ − 1 before it), the prediction is
    the constant-velocity one across them: no acceleration rows on a uniform motion,
    whatever the gaps; the velocity rows see the motion since the last frame."""
    rng = np.random.default_rng(21)
    start, velocity = rng.normal(scale=0.3, size=75), rng.normal(scale=0.02, size=75)
    start[:3] = velocity[:3] = 0.0  # orientation held (its rows are matrices, not linear)
    for gaps in ((1.0, 1.0), (1.0, 4.0), (3.0, 2.0)):
        before, last = start, start + gaps[0] * velocity
        frame = last + gaps[1] * velocity
        residuals, _ = _core.track_term(before, last, frame, np.array(WEIGHTS), RATIO, gaps)
        np.testing.assert_allclose(residuals, track_residuals(before, last, frame, WEIGHTS,
                                                              RATIO, gaps), rtol=0, atol=1e-12)
        # Uniform motion: no acceleration; the velocity rows see the h₂ frames' motion.
        assert np.abs(residuals[:9]).max() < 1e-12
        moved = RATIO * np.array(WEIGHTS)[[1] * 69 + [2] * 3] * gaps[1] * velocity[3:]
        assert np.sum(residuals**2) == pytest.approx(np.sum(moved**2), rel=1e-9)
