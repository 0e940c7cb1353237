"""``smplify.motion.fill_missed``: the one rule for a motion's frames without a fit, shared by
the motion files of ``smplify fit --motion`` and fit_sequence's start."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from smplify import motion, sequence, track_motion


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    return float((Rotation.from_rotvec(a).inv() * Rotation.from_rotvec(b)).magnitude())


def _motion(rng: np.random.Generator, num_frames: int = 9) -> tuple[np.ndarray, ...]:
    pose = rng.normal(scale=0.4, size=(num_frames, 72))
    transl = rng.normal(size=(num_frames, 3))
    fitted = np.zeros(num_frames, dtype=bool)
    fitted[[1, 2, 6]] = True
    return pose, transl, fitted


@pytest.mark.parametrize("body", motion.FILL_RULES)
def test_filled_between_the_fitted_frames_and_held_at_the_ends(body):
    pose, transl, fitted = _motion(np.random.default_rng(0))
    filled, moved = motion.fill_missed(pose, transl, fitted, body=body)
    # the fitted frames keep their bodies (as rotations), the translation exactly
    for t in np.flatnonzero(fitted):
        for j in range(24):
            assert _angle(filled[t, 3 * j:3 * j + 3], pose[t, 3 * j:3 * j + 3]) < 1e-9
    np.testing.assert_array_equal(moved[fitted], transl[fitted])
    # frame 4 is halfway from frame 2 to frame 6: translation linear, the root on its arc
    np.testing.assert_allclose(moved[4], transl[[2, 6]].mean(axis=0), atol=1e-12)
    half = _angle(pose[2, :3], pose[6, :3]) / 2
    assert _angle(pose[2, :3], filled[4, :3]) == pytest.approx(half, abs=1e-9)
    assert _angle(filled[4, :3], pose[6, :3]) == pytest.approx(half, abs=1e-9)
    # before the first and after the last fitted frame: held
    np.testing.assert_allclose(filled[0], filled[1], atol=1e-12)
    np.testing.assert_allclose(filled[8], filled[6], atol=1e-12)
    np.testing.assert_array_equal(moved[-1], transl[6])


def test_the_two_rules_for_the_body_joints():
    """"slerp": each joint halfway along its shortest arc; "linear": the axis-angle
    components averaged. They agree for a small turn and part for a large one (why the
    motion files slerp; docstring of fill_missed)."""
    pose = np.zeros((3, 72))
    transl = np.zeros((3, 3))
    fitted = np.array([True, False, True])
    pose[0, 3:6], pose[2, 3:6] = [0.02, 0.0, 0.0], [0.0, 0.03, 0.0]       # small turn
    pose[0, 6:9], pose[2, 6:9] = [2.5, 0.0, 0.0], [0.0, 2.5, 0.0]         # large turn
    slerped, _ = motion.fill_missed(pose, transl, fitted, body="slerp")
    linear, _ = motion.fill_missed(pose, transl, fitted, body="linear")
    np.testing.assert_array_equal(linear[1, 3:], pose[[0, 2], 3:].mean(axis=0))
    for j in (1, 2):
        half = _angle(pose[0, 3 * j:3 * j + 3], pose[2, 3 * j:3 * j + 3]) / 2
        assert _angle(pose[0, 3 * j:3 * j + 3], slerped[1, 3 * j:3 * j + 3]) == \
            pytest.approx(half, abs=1e-9)
    assert _angle(slerped[1, 3:6], linear[1, 3:6]) < 1e-4
    assert _angle(slerped[1, 6:9], linear[1, 6:9]) > 0.1


def test_bad_arguments_are_named():
    pose, transl, fitted = _motion(np.random.default_rng(1))
    with pytest.raises(ValueError, match="body"):
        motion.fill_missed(pose, transl, fitted, body="cubic")
    with pytest.raises(ValueError, match="fitted"):
        motion.fill_missed(pose, transl, np.zeros(len(pose), dtype=bool))


def test_motion_files_and_fit_sequence_use_it(monkeypatch, open_model):
    """The motion files fill a track's lost frames with the "slerp" rule, fit_sequence's
    start the frames between its keyframes with the "linear" rule: one function."""
    calls = []
    real = motion.fill_missed

    def spy(pose, transl, fitted, body="slerp"):
        calls.append(body)
        return real(pose, transl, fitted, body=body)

    monkeypatch.setattr(track_motion, "fill_missed", spy)
    monkeypatch.setattr(motion, "fill_missed", spy)  # fit_sequence imports it at the call
    rng = np.random.default_rng(2)
    track = {"frame": np.array([3, 4, 7]), "betas": np.zeros((3, 10)),
             "global_orient": rng.normal(scale=0.3, size=(3, 3)),
             "body_pose": rng.normal(scale=0.1, size=(3, 69)),
             "transl": np.array([[0.0, 0.0, 5.0]] * 3), "focal_length": np.float64(1000.0),
             "camera_center": np.array([320.0, 240.0])}
    moved = track_motion.online_motion(track, open_model)
    assert calls == ["slerp"] and moved.body_pose.shape == (5, 69)
    np.testing.assert_array_equal(moved.body_pose[[0, 1, 4]], track["body_pose"])

    from crowd import IMAGE_SIZE, person_keypoints
    clip = np.stack([person_keypoints(open_model, "coco17", [0.05 * t, 0.3, 5.0])
                     for t in range(6)])
    calls.clear()
    sequence.fit_sequence(clip, format="coco17", image_size=IMAGE_SIZE, model=open_model,
                          keyframe_step=2)
    assert calls == ["linear"]
