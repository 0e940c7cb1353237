"""The C++ temporal term (cpp/temporal_term.h) against its NumPy twin and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from smplify import _core
from smplify.reference.body import rodrigues
from smplify.reference.energy import complex_step_jacobian
from smplify.reference.temporal import temporal_energy, temporal_residuals

WEIGHTS = (3.0, 2.0, 5.0)


def _frames(rng: np.random.Generator, near_pi: bool) -> tuple[np.ndarray, ...]:
    orient = rng.normal(scale=0.3, size=(3, 3))
    if near_pi:  # upright, facing the camera: ‖ω‖ close to π, the frames on both sides of it
        orient += np.array([np.pi - 0.05, 0.0, 0.0])
        orient[2] *= -(2 * np.pi - np.linalg.norm(orient[2])) / np.linalg.norm(orient[2])
    return orient, rng.normal(scale=0.4, size=(3, 69)), rng.normal(size=(3, 3))


@pytest.mark.parametrize("near_pi", [False, True])
def test_temporal_term_matches_numpy_and_finite_differences(near_pi: bool) -> None:
    rng = np.random.default_rng(3 + near_pi)
    orient, pose, transl = _frames(rng, near_pi)
    residuals, jacobian = _core.temporal_term(orient, pose, transl, np.array(WEIGHTS))
    twin = temporal_residuals(orient, pose, transl, WEIGHTS)
    np.testing.assert_allclose(residuals, twin, rtol=0, atol=1e-12)

    x0 = np.concatenate([orient.ravel(), pose.ravel(), transl.ravel()])

    def rows(batch: np.ndarray) -> np.ndarray:  # (P', 225) -> (P', 81)
        return np.stack([temporal_residuals(x[:9].reshape(3, 3), x[9:216].reshape(3, 69),
                                            x[216:].reshape(3, 3), WEIGHTS) for x in batch])

    def core_rows(x: np.ndarray) -> np.ndarray:
        return _core.temporal_term(x[:9].reshape(3, 3), x[9:216].reshape(3, 69),
                                   x[216:].reshape(3, 3), np.array(WEIGHTS))[0]

    np.testing.assert_allclose(jacobian, complex_step_jacobian(rows, x0), rtol=0, atol=1e-10)
    h = 1e-6
    central = np.stack([(core_rows(x0 + h * e) - core_rows(x0 - h * e)) / (2 * h)
                        for e in np.eye(len(x0))], axis=1)
    np.testing.assert_allclose(jacobian, central, rtol=0, atol=1e-6)


def test_rotation_rows_see_through_the_antipodal_jump() -> None:
    """A constant rotation written as ω and as its antipode has no acceleration."""
    omega = np.array([np.pi - 0.01, 0.02, 0.0])
    antipode = -omega * (2 * np.pi - np.linalg.norm(omega)) / np.linalg.norm(omega)
    np.testing.assert_allclose(rodrigues(omega), rodrigues(antipode), atol=1e-12)
    orient = np.stack([omega, antipode, omega])
    residuals, _ = _core.temporal_term(orient, np.zeros((3, 69)), np.zeros((3, 3)),
                                       np.array(WEIGHTS))
    assert np.abs(residuals).max() < 1e-12


def test_energy_per_frame_is_zero_for_uniform_motion() -> None:
    t = np.arange(6, dtype=float)[:, None]
    pose = 0.01 * t * np.ones((1, 69))
    transl = 0.02 * t * np.ones((1, 3))
    orient = np.zeros((6, 3))
    energy = temporal_energy(orient, pose, transl, WEIGHTS)
    assert energy.shape == (6,) and np.abs(energy).max() < 1e-20
    pose[3] += 0.1  # one frame off the line: the three triples around it see it
    assert np.flatnonzero(temporal_energy(orient, pose, transl, WEIGHTS) > 0).tolist() == [2, 3, 4]


def test_bad_shapes_raise() -> None:
    with pytest.raises(ValueError, match="body_pose"):
        _core.temporal_term(np.zeros((3, 3)), np.zeros((2, 69)), np.zeros((3, 3)), np.ones(3))
