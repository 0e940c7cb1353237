"""The One Euro filter on SMPL parameters (smplify.pose_filter): the online Fitter's output."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from smplify import _core
from smplify.filters import one_euro
from smplify.pose_filter import (
    KeypointSpeed,
    PoseOneEuro,
    format_moved_keypoints,
    moved_keypoints,
    multiply,
    quaternions,
    rotation_vectors,
)


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
    # 2D keypoint speeds (person sizes / s): none on some frames, else some below the floor.
    speeds = np.abs(rng.normal(0.0, 3.0, (frames, 25)))
    given = rng.random(frames) < 0.8
    for fps, cutoff, beta, kb, floor in ((30.0, 8.0, 3.0, 0.0, 0.0), (60.0, 0.5, 0.0, 4.0, 0.0),
                                         (25.0, 2.0, 10.0, 16.0, 2.5)):
        twin = PoseOneEuro(fps, cutoff, beta, keypoint_beta=kb, keypoint_floor=floor)
        core = _core.PoseFilter(fps, cutoff, beta, keypoint_beta=kb, keypoint_floor=floor)
        assert core.lag == core.lag_frames() == twin.lag_frames()
        for t in range(frames):
            if t in (50, 51, 170):  # a restart (twice in a row: still passes through)
                twin.reset()
                core.reset()
            speed = speeds[t] if given[t] else None
            want_pose, want_transl = twin(poses[t], transl[t], int(gaps[t]), speed)
            got_pose, got_transl = core(poses[t], transl[t], int(gaps[t]), speed)
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
    with pytest.raises(ValueError, match="keypoint_beta"):
        _core.PoseFilter(30.0, 8.0, 1.0, keypoint_beta=-1.0)
    with pytest.raises(ValueError, match="keypoint_floor"):
        _core.PoseFilter(30.0, 8.0, 1.0, keypoint_floor=float("inf"))
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
    twin = PoseOneEuro(30.0, 8.0, 3.0)  # and the NumPy twin alike
    twin(np.zeros(72), np.zeros(3))
    for f in (filt, twin):
        with pytest.raises(ValueError, match="keypoint_speed: expected 25"):
            f(np.zeros(72), np.zeros(3), 1, np.zeros(24))
        for speed in (-1.0, np.nan):
            with pytest.raises(ValueError,
                               match="keypoint_speed: expected finite values >= 0"):
                f(np.zeros(72), np.zeros(3), 1, np.full(25, speed))
    # The state is unchanged by the refused frame: still at rest.
    pose, transl = filt(np.zeros(72), np.zeros(3))
    np.testing.assert_array_equal(pose, 0.0)
    np.testing.assert_array_equal(transl, 0.0)


def test_keypoint_speeds_open_the_filter_at_once() -> None:
    """A joint turning at a steady rate from rest: with its keypoints' speed given the
    output follows closer from the first moving frame on (the One Euro's own speed estimate
    opens late); below the floor the speed changes nothing."""
    frames = 12
    poses = np.zeros((frames, 72))
    poses[4:, 3 * 18 + 2] = 0.25 * np.arange(1, frames - 3)  # the left elbow, 7.5 rad/s
    transl = np.zeros((frames, 3))
    speed = np.zeros((frames, 25))
    speed[4:, 18] = 6.0
    plain = _run(PoseOneEuro(30.0, 8.0, 1.0), poses, transl)[0]
    opened = PoseOneEuro(30.0, 8.0, 1.0, keypoint_beta=8.0, keypoint_floor=2.0)
    fast = np.array([opened(p, t, 1, s)[0] for p, t, s in zip(poses, transl, speed,
                                                                strict=True)])
    lag_plain = poses[4:, 56] - plain[4:, 56]
    lag_fast = poses[4:, 56] - fast[4:, 56]
    assert np.all(lag_fast < 0.6 * lag_plain)
    np.testing.assert_array_equal(np.delete(fast, 56, axis=1), np.delete(plain, 56, axis=1))
    floored = PoseOneEuro(30.0, 8.0, 1.0, keypoint_beta=8.0, keypoint_floor=6.0)
    same = np.array([floored(p, t, 1, s)[0] for p, t, s in zip(poses, transl, speed,
                                                                 strict=True)])
    np.testing.assert_array_equal(same, plain)


# A toy format: 0 nose, 1/2 left/right shoulder, 3/4 left/right wrist, 5/6 left/right hip;
# the SMPL joints moving them (the head, the shoulders, the wrists, the hips).
SMPL_PARENTS = np.array([-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18,
                         19, 20, 21])
TOY_JOINT = np.array([15, 16, 17, 20, 21, 1, 2])
TOY_MIRROR = np.array([0, 2, 1, 4, 3, 6, 5])
TOY_TORSO = np.array([1, 2, 5, 6])
TOY_XY = np.array([[100, 40], [80, 60], [120, 60], [70, 120], [130, 120], [88, 160],
                   [112, 160]], dtype=float)


def _toy(fps: float = 30.0) -> KeypointSpeed:
    return KeypointSpeed(moved_keypoints(SMPL_PARENTS, TOY_JOINT), TOY_TORSO, TOY_MIRROR, fps)


def test_which_keypoints_a_joint_moves() -> None:
    """The joints above a keypoint's; its own too unless it sits at that joint's centre (a
    joint keypoint: the wrist joint turning does not move the wrist keypoint)."""
    joint = np.array([20, 16, 1, -1, 20])
    moved = moved_keypoints(SMPL_PARENTS, joint)
    assert moved[:, 0].nonzero()[0].tolist() == [0, 3, 6, 9, 13, 16, 18, 20]  # the left arm
    assert moved[:, 1].nonzero()[0].tolist() == [0, 3, 6, 9, 13, 16]
    assert moved[:, 2].nonzero()[0].tolist() == [0, 1]
    assert not moved[:, 3].any()  # a keypoint no joint moves
    at = moved_keypoints(SMPL_PARENTS, joint, np.array([True, True, True, True, False]))
    assert at[:, 0].nonzero()[0].tolist() == [0, 3, 6, 9, 13, 16, 18]  # not the hand's
    assert at[:, 1].nonzero()[0].tolist() == [0, 3, 6, 9, 13]
    assert at[:, 2].nonzero()[0].tolist() == [0]
    assert not at[:, 3].any()
    np.testing.assert_array_equal(at[:, 4], moved[:, 4])  # a vertex keypoint: its own too


def test_keypoint_speeds_follow_the_limb_the_person_size_and_the_confidence() -> None:
    """A raised left wrist opens the joints above it (not the right arm's, not the legs');
    the speed is in person sizes / s (the same twice as near, at the frame rate); the
    person walking is the translation's, not a joint's; a left/right swap is no motion; an
    unsure keypoint barely counts; missed frames divide the step."""
    conf = np.ones(7)
    moved = TOY_XY.copy()
    moved[3] += [0.0, -20.0]  # the left wrist, 20 px up
    speed = _toy()
    speed(TOY_XY, conf, 40.0)
    s = speed(moved, conf, 40.0)
    assert s[20] == s[18] == s[16] == s[13] == s[9] == pytest.approx(20 * 30 / 40)
    assert s[21] == s[17] == s[4] == s[0] == s[24] == 0.0
    near = _toy()  # twice as near: the same speed
    near(2 * TOY_XY, conf, 80.0)
    assert near(2 * moved, conf, 80.0)[20] == pytest.approx(s[20])
    doubled = _toy(60.0)  # the same step at twice the frame rate: twice the speed
    doubled(TOY_XY, conf, 40.0)
    assert doubled(moved, conf, 40.0)[20] == pytest.approx(2 * s[20])
    near.reset()  # forgets the last frame
    assert not near(2 * moved, conf, 80.0).any()
    walked = _toy()
    walked(TOY_XY, conf, 40.0)
    w = walked(TOY_XY + [10.0, 0.0], conf, 40.0)
    assert not w[:24].any() and w[24] == pytest.approx(10 * 30 / 40)
    reused = _toy()  # a caller reusing one buffer: the last frame was copied
    buffer = TOY_XY.copy()
    reused(buffer, conf, 40.0)
    buffer[:] = moved
    assert reused(buffer, conf, 40.0)[20] == pytest.approx(s[20])
    swapped = _toy()
    swapped(TOY_XY, conf, 40.0)
    assert not swapped(TOY_XY[TOY_MIRROR], conf, 40.0).any()
    unsure = _toy()
    low = conf.copy()
    low[3] = 0.05
    unsure(TOY_XY, conf, 40.0)
    assert unsure(moved, low, 40.0)[20] == pytest.approx(0.05 * s[20])
    gap = _toy()
    gap(TOY_XY, conf, 40.0)
    assert gap(moved, conf, 40.0, frames=4)[20] == pytest.approx(s[20] / 4)
    unknown = _toy()  # no size yet, or three torso keypoints missed: none
    unknown(TOY_XY, conf, 40.0)
    assert not unknown(moved, conf, float("nan")).any()
    torso_missed = conf.copy()
    torso_missed[[1, 2, 5]] = 0.0
    unknown(TOY_XY, conf, 40.0)
    assert not unknown(moved, torso_missed, 40.0).any()


def test_the_cpp_keypoint_speeds_equal_their_numpy_twin_frame_for_frame() -> None:
    """cpp/keypoint_speed.h (the Fitter's) against KeypointSpeed, value for value: noisy
    motion, keypoints and torso keypoints missed, left/right swaps, steps across missed
    frames, an unknown size, restarts."""
    rng = np.random.default_rng(4)
    moved = moved_keypoints(SMPL_PARENTS, TOY_JOINT)
    twin = KeypointSpeed(moved, TOY_TORSO, TOY_MIRROR, 25.0)
    core = _core.KeypointSpeed(moved.astype(np.int32), TOY_TORSO, TOY_MIRROR, 25.0)
    xy = TOY_XY + np.cumsum(rng.normal(0.0, 6.0, (120, 7, 2)), axis=0)
    conf = rng.uniform(0.0, 1.2, (120, 7))
    conf[rng.random((120, 7)) < 0.15] = 0.0
    swapped = rng.random(120) < 0.1
    xy[swapped] = xy[swapped][:, TOY_MIRROR]
    sizes = rng.uniform(20.0, 80.0, 120)
    sizes[[7, 60]] = np.nan
    gaps = rng.choice([1, 1, 2, 3], size=120)
    for t in range(120):
        if t in (30, 90):
            twin.reset()
            core.reset()
        want = twin(xy[t], conf[t], sizes[t], int(gaps[t]))
        got = core(xy[t], conf[t], sizes[t], int(gaps[t]))
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)
    with pytest.raises(ValueError, match="moved"):
        _core.KeypointSpeed(moved[:, :6].astype(np.int32), TOY_TORSO, TOY_MIRROR, 25.0)
    with pytest.raises(ValueError, match="torso"):
        _core.KeypointSpeed(moved.astype(np.int32), [1, 2, 5, 9], TOY_MIRROR, 25.0)
    with pytest.raises(ValueError, match="fps"):
        _core.KeypointSpeed(moved.astype(np.int32), TOY_TORSO, TOY_MIRROR, 0.0)
    with pytest.raises(ValueError, match="xy and confidence: expected \\(7, 2\\)"):
        core(xy[0, :6], conf[0, :6], 40.0)
    with pytest.raises(ValueError, match="finite"):
        core(np.full((7, 2), np.nan), conf[0], 40.0)
    with pytest.raises(ValueError, match="xy: expected \\(K, 2\\)"):
        core(np.zeros((7, 3)), conf[0], 40.0)


def test_the_fitter_s_keypoint_speed_cutoff_follows_a_fast_clip_closer(open_model) -> None:
    """The online Fitter with ``track_smoothing_keypoint_beta``: each joint's speeds come from
    the keypoints its rotation moves (COCO-17 on the open model: the left wrist from the left
    arm's joints, not the right's nor the legs'); on a fast clip (indian dance, no detector
    errors but the noise) the output's wrists are nearer the truth on the fastest quarter
    of the frames than the default filter's (measured 12.4 against 15.6 px), and the option
    is checked."""
    import smplify
    from smplify import synthetic_video as sv
    from test_sequence import SEQUENCES

    seq = sv.load_sequences(SEQUENCES)[2]
    clean = sv.DetectorErrors(swap_burst_rate=0.0, limb_swap_rate=0.0, drop_frame_rate=0.0,
                              occlusion_rate=0.0, drop_keypoint_rate=0.0)
    video = sv.make_video(open_model, seq, "coco17", np.random.default_rng(3), clean,
                          frames=slice(150, 190))
    errors = {}
    for kb in (0.0, 8.0):
        fitter = smplify.Fitter(open_model, format="coco17", image_size=video.image_size,
                                focal_length=video.focal_length, threads=1,
                                track_smoothing_keypoint_beta=kb,
                                track_smoothing_keypoint_floor=2.5)
        moved = format_moved_keypoints(open_model, fitter._settings.resolved)
        assert moved[[16, 18, 20], 9].all() and not moved[[17, 19, 21, 4, 5], 9].any()
        wrists = np.array([np.asarray(fitter.fit(kp).keypoints_2d)[[9, 10]]
                           for kp in video.keypoints])
        truth = video.clean[:, [9, 10]]
        speed = np.linalg.norm(np.diff(truth, axis=0), axis=-1)
        fast = speed >= np.quantile(speed, 0.75)
        errors[kb] = float(np.mean(np.linalg.norm(wrists - truth, axis=-1)[1:][fast]))
    assert errors[8.0] < 0.9 * errors[0.0], errors
    for name in ("track_smoothing_keypoint_beta", "track_smoothing_keypoint_floor"):
        with pytest.raises(ValueError, match=name):
            smplify.Fitter(open_model, format="coco17", image_size=video.image_size,
                           **{name: -1.0})


def test_a_jumping_unsure_keypoint_does_not_open_the_fitter_s_filter(open_model) -> None:
    """A still person whose left wrist jumps a torso length each frame at confidence 0.01
    (the Fitter's confidence memory holds it near its earlier 0.9; the filter weighs it as
    seen): the output is the keypoint-speed-free filter's, value for value; the same jumps
    at confidence 0.9 open the filter."""
    import smplify
    from smplify import synthetic_video as sv
    from test_sequence import SEQUENCES

    seq = sv.load_sequences(SEQUENCES)[0]
    video = sv.make_video(open_model, seq, "coco17", np.random.default_rng(5), sv.NO_ERRORS,
                          frames=slice(0, 1))
    still = np.repeat(video.keypoints[:1], 8, axis=0)
    still[:, :, 2] = 0.9
    torso = np.linalg.norm(still[0, 5, :2] - still[0, 11, :2])
    poses = {}
    for conf in (0.01, 0.9):
        frames = still.copy()
        frames[4::2, 9, 1] -= torso
        frames[4:, 9, 2] = conf
        for kb in (0.0, 8.0):
            fitter = smplify.Fitter(open_model, format="coco17", image_size=video.image_size,
                                    focal_length=video.focal_length, threads=1,
                                    track_smoothing_keypoint_beta=kb)
            poses[conf, kb] = np.array([fitter.fit(kp).pose for kp in frames])
    np.testing.assert_array_equal(poses[0.01, 8.0], poses[0.01, 0.0])
    assert np.abs(poses[0.9, 8.0] - poses[0.9, 0.0]).max() > 1e-3


def test_a_held_frame_gives_the_output_filter_no_keypoint_speeds(open_model,
                                                                 monkeypatch) -> None:
    """A frame the track cannot explain is held (tests/test_online.py's glitch): its
    keypoints' jump is not the person's motion, so the filter gets no speeds there and the
    next frame's start anew."""
    import smplify
    from smplify import synthetic_video as sv
    from test_sequence import SEQUENCES

    video = sv.make_video(open_model, sv.load_sequences(SEQUENCES)[0], "coco17",
                          np.random.default_rng(8), sv.NO_ERRORS, frames=slice(0, 14))
    measure = _core.median_error_fraction
    frame = iter(range(1, video.num_frames))
    monkeypatch.setattr(_core, "median_error_fraction",
                        lambda *args: 1.0 if next(frame) == 10 else measure(*args))
    fitter = smplify.Fitter(open_model, format="coco17", image_size=video.image_size,
                            focal_length=video.focal_length, threads=1,
                            track_smoothing_keypoint_beta=8.0)
    events: list[str] = []

    class Recording:
        def __init__(self, inner) -> None:
            self.inner = inner

        def __call__(self, *args):
            events.append("speeds")
            return self.inner(*args)

        def reset(self) -> None:
            events.append("reset")
            self.inner.reset()

    fitter._keypoint_speed = Recording(fitter._keypoint_speed)
    for t, kp in enumerate(video.keypoints):
        events.append(f"frame {t}")
        start = fitter.fit(kp).summary["start"]
        assert (start == "warm, lost the person, held") == (t == 10), (t, start)
    held = events.index("frame 10")
    assert events[held + 1:held + 3] == ["reset", "frame 11"], events
    assert events.count("speeds") == video.num_frames - 1


def test_a_swapped_back_cold_frame_gives_the_speeds_the_keypoints_as_given(open_model,
                                                                           monkeypatch) -> None:
    """A cold frame whose left/right swap is undone (left_right="auto") fits the keypoints
    swapped back, but its keypoint speeds read them as given (swap-invariant by design), with
    the confidences as given: a still person with an unsure left arm, the left hip missed on
    the second frame, reads no speed there (the swapped-back first frame with as-given
    confidences, or its right hip's place against the second frame's, moved the torso centre:
    torso lengths / s), with or without the confidence memory."""
    import smplify
    from smplify import problem
    from smplify import synthetic_video as sv
    from test_sequence import SEQUENCES

    video = sv.make_video(open_model, sv.load_sequences(SEQUENCES)[0], "coco17",
                          np.random.default_rng(5), sv.NO_ERRORS, frames=slice(0, 1))
    kp = video.keypoints[0].copy()
    kp[:, 2] = 0.9
    kp[[5, 7, 9], 2] = 0.3  # the left arm unsure: the confidences' order matters
    missed = kp.copy()  # the second frame: the left hip missed (the torso centre's keypoints)
    missed[11, 2] = 0.0
    undo = iter(())
    real = problem.swapped_back
    monkeypatch.setattr(problem, "swapped_back",
                        lambda *args, **kw: next(undo, None) or real(*args, **kw))
    for rate in (0.5, 1.0):  # with the confidence memory (the default), without
        fitter = smplify.Fitter(open_model, format="coco17", image_size=video.image_size,
                                focal_length=video.focal_length, threads=1,
                                track_smoothing_keypoint_beta=8.0,
                                track_confidence_rate=rate)
        undo = iter([(fitter._labellings[1], ("body",))])  # the cold frame's swap undone
        seen: list[tuple[np.ndarray, ...]] = []
        inner = fitter._keypoint_speed

        def recording(xy, conf, size, gap, inner=inner, seen=seen):
            out = inner(xy, conf, size, gap)
            seen.append((np.array(xy), np.array(conf), out))
            return out

        fitter._keypoint_speed = type("R", (), {"__call__": staticmethod(recording),
                                                "reset": inner.reset})()
        assert fitter.fit(kp).summary["left_right"] == "swapped back"
        fitter.fit(missed)
        assert len(seen) == 2 and not seen[1][2].any(), (rate, seen[1][2])
        for (xy, conf, _), given in zip(seen, (kp, missed), strict=True):
            np.testing.assert_array_equal(xy, given[:, :2])
            np.testing.assert_array_equal(conf, given[:, 2])
