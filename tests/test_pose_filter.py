"""The One Euro filter on SMPL parameters (smplify.pose_filter): the online Fitter's output."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from smplify import _core
from smplify.filters import one_euro
from smplify.pose_filter import PoseOneEuro, multiply, quaternions, rotation_vectors


def _run(filt: PoseOneEuro, poses: np.ndarray, transl: np.ndarray) -> tuple[np.ndarray, ...]:
    out = [filt(p, t) for p, t in zip(poses, transl, strict=True)]
    return np.array([p for p, _ in out]), np.array([t for _, t in out])


def test_quaternion_helpers_match_scipy() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1.0, (2, 24, 3))
    a[0] = 1e-9  # the small-angle series
    expected = (Rotation.from_rotvec(a) * Rotation.from_rotvec(b)).as_rotvec()
    got = rotation_vectors(multiply(quaternions(a), quaternions(b)))
    np.testing.assert_allclose(got, expected, atol=1e-12)
    np.testing.assert_allclose(rotation_vectors(quaternions(a)), a, atol=1e-12)


def test_a_rotation_about_a_fixed_axis_is_the_one_euro_filter_on_its_angle() -> None:
    """Every joint turning about its own fixed axis: the filtered angle is
    smplify.filters.one_euro of the angle; the translation is one_euro per coordinate."""
    rng = np.random.default_rng(1)
    frames, fps, cutoff, beta = 60, 30.0, 2.0, 3.0
    axes = rng.normal(size=(24, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    angles = np.cumsum(rng.normal(0.0, 0.15, (frames, 24)), axis=0) + 0.3  # within (0, π)
    angles = np.clip(angles, 0.05, 3.0)
    poses = (angles[:, :, None] * axes).reshape(frames, 72)
    transl = np.cumsum(rng.normal(0.0, 0.05, (frames, 3)), axis=0) + [0.0, 0.0, 5.0]
    got_pose, got_transl = _run(PoseOneEuro(fps, cutoff, beta), poses, transl)
    expected_angles = one_euro(angles[:, :, None], fps, cutoff, beta)[:, :, 0]
    np.testing.assert_allclose(got_pose.reshape(frames, 24, 3),
                               expected_angles[:, :, None] * axes, atol=1e-9)
    np.testing.assert_allclose(got_transl, one_euro(transl, fps, cutoff, beta), atol=1e-12)


def test_causal_still_and_restarted() -> None:
    rng = np.random.default_rng(2)
    poses, transl = rng.normal(0, 0.4, (30, 72)), rng.normal(0, 0.1, (30, 3))
    filt = PoseOneEuro(30.0, 3.0, 3.0)
    full = _run(filt, poses, transl)
    for t in (0, 10):
        changed = poses.copy()
        changed[t + 1:] += 0.5
        filt.reset()
        np.testing.assert_allclose(_run(filt, changed, transl)[0][:t + 1], full[0][:t + 1])
    filt.reset()
    still = _run(filt, np.repeat(poses[:1], 5, axis=0), np.repeat(transl[:1], 5, axis=0))
    np.testing.assert_allclose(still[0], np.repeat(poses[:1], 5, axis=0), atol=1e-12)
    # At rest a ramp is followed (1 − α)/α frames behind: 30 fps, 3 Hz: α = 0.386, 1.59.
    assert abs(PoseOneEuro(30.0, 3.0, 0.0).lag_frames() - 1.5915) < 1e-3


def test_a_step_across_missed_frames_is_one_sample_at_the_lower_rate() -> None:
    """A frame after h − 1 missed ones: the step is filtered as one sample at fps / h."""
    poses = np.zeros((2, 72))
    poses[:, 2] = [0.2, 0.9]  # the root about z
    transl = np.array([[0.0, 0.0, 5.0], [0.3, 0.0, 5.0]])
    filt = PoseOneEuro(30.0, 3.0, 3.0)
    filt(poses[0], transl[0])
    pose, moved = filt(poses[1], transl[1], frames=3)
    expected = one_euro(np.array([0.2, 0.9]), 10.0, 3.0, 3.0)[-1]
    np.testing.assert_allclose(pose[2], expected, atol=1e-12)
    np.testing.assert_allclose(moved, one_euro(transl, 10.0, 3.0, 3.0)[-1], atol=1e-12)


def test_the_cpp_filter_equals_its_numpy_twin_frame_for_frame() -> None:
    """cpp/pose_filter.h (the Fitter's output filter) against PoseOneEuro, value for value:
    rotations near π (an upright root) and near 0 (a rest pose's joints, the series), fast
    and slow motion, steps across missed frames, restarts, and a pass-through first frame."""
    rng = np.random.default_rng(3)
    frames = 240
    poses = np.cumsum(rng.normal(0.0, 0.08, (frames, 72)), axis=0)
    poses[:, :3] = [np.pi - 1e-3, 0.0, 0.0] + np.cumsum(rng.normal(0, 0.05, (frames, 3)), 0)
    poses[60:80, 3:12] = 0.0                          # at rest: the small-angle series
    poses[80:90, 12:15] += rng.normal(0.0, 1.5, (10, 3))  # fast: the cutoff rises
    transl = np.cumsum(rng.normal(0.0, 0.03, (frames, 3)), axis=0) + [0.0, 0.0, 5.0]
    gaps = rng.choice([1, 1, 1, 2, 4], size=frames)
    for fps, cutoff, beta in ((30.0, 8.0, 3.0), (60.0, 0.5, 0.0), (25.0, 2.0, 10.0)):
        twin, core = PoseOneEuro(fps, cutoff, beta), _core.PoseFilter(fps, cutoff, beta)
        assert core.lag == core.lag_frames() == twin.lag_frames()
        for t in range(frames):
            if t in (50, 51, 170):  # a restart (twice in a row: still passes through)
                twin.reset()
                core.reset()
            want_pose, want_transl = twin(poses[t], transl[t], int(gaps[t]))
            got_pose, got_transl = core(poses[t], transl[t], int(gaps[t]))
            np.testing.assert_allclose(got_pose, want_pose, rtol=0, atol=1e-13)
            np.testing.assert_allclose(got_transl, want_transl, rtol=0, atol=1e-13)
            if t in (0, 50, 51, 170):
                np.testing.assert_array_equal(got_pose, poses[t])


def test_the_cpp_filter_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="min_cutoff"):
        _core.PoseFilter(30.0, 0.0, 3.0)
    with pytest.raises(ValueError, match="fps"):
        _core.PoseFilter(float("nan"), 8.0, 3.0)
    with pytest.raises(ValueError, match="beta"):
        _core.PoseFilter(30.0, 8.0, -1.0)
    filt = _core.PoseFilter(30.0, 8.0, 3.0)
    with pytest.raises(ValueError, match="pose: expected 72"):
        filt(np.zeros(69), np.zeros(3))
    with pytest.raises(ValueError, match="transl: expected 3"):
        filt(np.zeros(72), np.zeros(2))
    filt(np.zeros(72), np.zeros(3))
    bad = np.zeros(72)
    bad[5] = np.nan
    with pytest.raises(ValueError, match="finite"):
        filt(bad, np.zeros(3))
    # The state is unchanged by the refused frame: still at rest.
    pose, transl = filt(np.zeros(72), np.zeros(3))
    np.testing.assert_array_equal(pose, 0.0)
    np.testing.assert_array_equal(transl, 0.0)
