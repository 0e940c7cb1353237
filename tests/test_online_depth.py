"""Depth where it is poorly measured (issue 11, real videos): the online track's jump test and
prediction scaled to how well depth is measured at the person's distance and 2D size, and
fit_sequence's keyframe depths smoothed and counted in its path there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import smplify
from smplify import online, sequence
from smplify import synthetic_video as sv
from smplify.sequence_start import DEPTH_BREAK_FRAMES, UNKNOWN_DEPTH_SIGMAS, smooth_depth

TUNING = Path(__file__).parent / "data" / "tuning_sequences.npz"


def test_the_depth_jump_limit_grows_with_depth_over_2d_size() -> None:
    # vtest.avi's pedestrians: a ~28 px torso at ~17 m; sports2d's: ~120 px at ~8 m.
    far = online.depth_jump_limit(0.3, 17.0, 28.0, 2.0, 3.0)
    assert far == pytest.approx(3.0 * 2.0 * 17.0 / 28.0)
    assert online.depth_jump_limit(0.3, 5.0, 120.0, 2.0, 3.0) == 0.3  # finer: max_jump
    assert online.depth_jump_limit(0.3, 17.0, float("nan"), 2.0, 3.0) == 0.3  # unknown
    assert online.depth_velocity_share(0.3, 0.3) == 1.0
    assert online.depth_velocity_share(0.3, far) == pytest.approx((0.3 / far) ** 2)


def test_track_state_keeps_its_largest_recent_torso_and_damps_depth_velocity() -> None:
    state = online.TrackState()
    assert np.isnan(state.torso_pixels())
    for h in [50.0] + [30.0] * online.SCALE_FRAMES:
        state.measure(h)
    assert state.torso_pixels() == 30.0  # the 50 px frame has left the window
    state.measure(float("nan"))
    state.measure(25.0)  # a bend shortens the torso: the person's size stays 30 px
    assert state.torso_pixels() == 30.0
    state.measure(90.0)  # one bad hip reading (a keypoint on someone else) does not pin it
    assert state.torso_pixels() == 30.0
    few = online.TrackState()
    for h in (40.0, 50.0):
        few.measure(h)
    assert few.torso_pixels() == 50.0  # fewer than three seen: the largest
    for z in (10.0, 11.0):
        state.push(np.zeros(72), np.array([0.0, 0.0, z]), np.zeros((17, 2)), 1.0)
    _, transl, _ = state.history()
    assert transl[:, 2].tolist() == [10.0, 11.0]
    _, transl, _ = state.history(0.25)  # a quarter of the depth step carried on
    assert transl[:, 2].tolist() == [10.75, 11.0]


def test_a_depth_step_over_skipped_frames_is_judged_over_its_frames() -> None:
    """The body may move max_jump a frame, the 2D scale's jitter does not grow with the
    frames a step spans: a step over 3 frames (fit_sequence's start track) at a depth limit
    of 0.37 m is motion (share 1), one over a single frame is damped."""
    state = online.TrackState()
    state.push(np.zeros(72), np.array([0.0, 0.0, 5.0]), np.zeros((17, 2)), 1.0)
    state.push(np.zeros(72), np.array([0.0, 0.0, 5.1]), np.zeros((17, 2)), 1.0)
    assert state.depth_velocity(0.3, 0.37) == pytest.approx((0.3 / 0.37) ** 2)
    state.miss()
    state.miss()
    state.push(np.zeros(72), np.array([0.0, 0.0, 5.2]), np.zeros((17, 2)), 1.0)
    assert state.before_gap == 3
    assert state.depth_velocity(0.3, 0.37) == 1.0
    assert state.depth_velocity(0.3, 3.6) == pytest.approx((0.9 / 3.6) ** 2)  # a far person


def test_a_track_over_every_third_frame_carries_its_depth_steps(monkeypatch) -> None:
    """A person 6 m away (a ~85 px torso: depth limit ~0.4 m, above track_max_jump): the
    online track at every frame damps the depth velocity it carries on; the same track over
    every third frame (fit_sequence's start) carries it whole (bench_video's indian clip lost
    13 mm when it was damped there)."""
    shares: list[float] = []
    history = online.TrackState.history

    def spy(self, depth_velocity=1.0):
        shares.append(depth_velocity)
        return history(self, depth_velocity)

    monkeypatch.setattr(online.TrackState, "history", spy)
    model = smplify.load_model("open")
    video = sv.make_video(model, sv.load_sequences(TUNING)[0], "coco17",
                          np.random.default_rng(3), distance=6.0, frames=slice(0, 31))
    seen = {}
    for step in (1, 3):
        shares.clear()
        fitter = smplify.Fitter(model, format="coco17", image_size=video.image_size,
                                focal_length=video.focal_length, threads=1)
        for t, keypoints in enumerate(video.keypoints):
            if t % step:
                fitter.skip()
                continue
            try:
                fitter.fit(keypoints)
            except smplify.KeypointError:
                fitter.skip()
        seen[step] = list(shares[2:])  # after the first two frames
    assert min(seen[1]) < 0.9, seen[1]
    assert min(seen[3]) == 1.0, seen[3]


def test_smooth_depth_is_the_least_squares_smoother_and_leaves_near_people_as_read() -> None:
    rng = np.random.default_rng(3)
    num = 40
    truth = np.linspace(15.0, 18.0, num)
    pelvis = np.zeros((num, 3))
    pelvis[:, 2] = truth + rng.normal(scale=1.2, size=num)  # a 28 px torso's jitter
    torso = np.full(num, 28.0)
    torso[7] = np.nan
    smooth = smooth_depth(pelvis, torso, 2.0, 0.3)
    sigma = np.where(np.isfinite(torso), 2.0 * pelvis[:, 2] / np.nan_to_num(torso, nan=1.0),
                     UNKNOWN_DEPTH_SIGMAS * 0.3)
    second = np.diff(np.eye(num), 2, axis=0)
    normal = second.T @ second / 0.3**2 + np.diag(sigma**-2)
    np.testing.assert_allclose(smooth, np.linalg.solve(normal, pelvis[:, 2] / sigma**2),
                               atol=1e-9)
    assert np.abs(smooth - truth).mean() < 0.5 * np.abs(pelvis[:, 2] - truth).mean()
    near = np.zeros((num, 3))
    near[:, 2] = 4.0 + 0.5 * np.sin(np.arange(num) / 5.0)  # a near person walking
    assert np.abs(smooth_depth(near, np.full(num, 150.0), 2.0, 0.3) - near[:, 2]).max() < 0.02
    assert smooth_depth(near[:2], np.full(2, 150.0), 2.0, 0.3).tolist() == near[:2, 2].tolist()


def test_a_far_persons_online_depth_is_steadier_and_nearer_the_truth() -> None:
    """A person 17 m away (a ~28 px torso at f = 960 px, vtest.avi's pedestrians) with 3%
    keypoint noise, tuning clip 0: the track's depth jittered (its 0.3 m jump test sent
    frames to fits from scratch, and the constant-velocity prediction carried the jitter
    on). Scaled to how well depth is measured there, it moves less from frame to frame and
    stays nearer the truth. (``DEPTH_JUMP_SIGMAS = 0``: the depth limit is track_max_jump,
    the track as it was.)"""

    class Before(smplify.Fitter):
        DEPTH_JUMP_SIGMAS = 0.0

    model = smplify.load_model("open")
    sequence = sv.load_sequences(TUNING)[0]
    video = sv.make_video(model, sequence, "coco17", np.random.default_rng(7),
                          sv.DetectorErrors(noise_fraction=0.03),
                          distance=17.0, focal_length=960.0, frames=slice(0, 60))
    steps, errors = {}, {}
    for cls in (Before, smplify.Fitter):
        fitter = cls(model, format="coco17", image_size=video.image_size,
                     focal_length=video.focal_length, threads=1)
        depth = np.full(len(video.keypoints), np.nan)
        for t, keypoints in enumerate(video.keypoints):
            try:
                depth[t] = fitter.fit(keypoints).joints[0][2]
            except smplify.KeypointError:
                fitter.skip()
        steps[cls] = float(np.nanmedian(np.abs(np.diff(depth))))
        errors[cls] = float(np.nanmean(np.abs(depth - video.joints[:, 0, 2])))
    assert steps[smplify.Fitter] < 0.5 * steps[Before], steps
    assert errors[smplify.Fitter] < errors[Before], errors


def test_a_restarted_track_measures_the_2d_scale_anew(open_model) -> None:
    """A fit from scratch (here ``warm_start=False``: a cut, a lost person alike) may be
    another person or the same one elsewhere: the torso lengths recorded before it go."""
    video = sv.make_video(open_model, sv.load_sequences(TUNING)[0], "coco17",
                          np.random.default_rng(5), frames=slice(0, 3))
    fitter = smplify.Fitter(open_model, format="coco17", image_size=video.image_size,
                            focal_length=video.focal_length, threads=1)
    fitter.fit(video.keypoints[0])
    fitter.fit(video.keypoints[1])
    assert len(fitter._track.torso_lengths) == 2
    fitter.fit(video.keypoints[2], warm_start=False)
    assert len(fitter._track.torso_lengths) == 1


def test_smooth_depth_scales_by_the_keyframes_frames() -> None:
    """Keyframes unevenly spaced (dropped frames, the last frame): a depth course at constant
    velocity in frames is no acceleration, so it stays as read however poorly measured; at
    even spacing s (``spacing``) the term is the second difference over ``step``."""
    frames = np.array([0, 3, 6, 15, 18, 21, 23])
    pelvis = np.zeros((len(frames), 3))
    pelvis[:, 2] = 15.0 + 0.05 * frames
    torso = np.full(len(frames), 28.0)  # σ of a metre: smoothing at full strength
    np.testing.assert_allclose(smooth_depth(pelvis, torso, 2.0, 0.3, frames, 3.0),
                               pelvis[:, 2], atol=1e-9)
    even = np.arange(0, 30, 3)
    bumpy = np.zeros((len(even), 3))
    bumpy[:, 2] = 15.0 + np.random.default_rng(2).normal(scale=1.0, size=len(even))
    np.testing.assert_allclose(smooth_depth(bumpy, np.full(len(even), 28.0), 2.0, 0.3, even,
                                            3.0),
                               smooth_depth(bumpy, np.full(len(even), 28.0), 2.0, 0.3),
                               atol=1e-12)


def test_smooth_depth_breaks_at_long_gaps() -> None:
    """A person lost for longer than DEPTH_BREAK_FRAMES comes back walking the other way:
    neither run bends towards the other."""
    gap = DEPTH_BREAK_FRAMES + 10
    frames = np.concatenate([np.arange(0, 15, 3), np.arange(12 + gap, 27 + gap, 3)])
    pelvis = np.zeros((len(frames), 3))
    pelvis[:5, 2] = 15.0 + 0.1 * frames[:5]
    pelvis[5:, 2] = 20.0 - 0.1 * (frames[5:] - frames[5])
    torso = np.full(len(frames), 28.0)
    np.testing.assert_allclose(smooth_depth(pelvis, torso, 2.0, 0.3, frames, 3.0),
                               pelvis[:, 2], atol=1e-9)


def test_smooth_depth_lets_the_neighbours_decide_an_unmeasured_depth() -> None:
    """A keyframe whose torso is unknown (NaN), or whose depth is at or behind the camera,
    follows its well-measured neighbours' course instead of staying as read; nothing is
    divided by its depth."""
    frames = np.arange(0, 30, 3)
    pelvis = np.zeros((len(frames), 3))
    pelvis[:, 2] = 4.0 + 0.02 * frames  # a near person: σ of centimetres
    line = pelvis[:, 2].copy()
    torso = np.full(len(frames), 150.0)
    read = pelvis.copy()
    read[4, 2] += 2.0  # a bad reading where the torso was not seen
    read[7, 2] = 0.0  # and a fit at the camera
    unknown = torso.copy()
    unknown[4] = np.nan
    smooth = smooth_depth(read, unknown, 2.0, 0.3, frames, 3.0)
    assert np.all(np.isfinite(smooth))
    np.testing.assert_allclose(smooth, line, atol=0.02)
    assert smooth_depth(read[[7]], torso[[7]], 2.0, 0.3).tolist() == [0.0]  # alone: as read


def test_fit_sequence_path_counts_depth_only_where_poorly_measured(open_model,
                                                                  monkeypatch) -> None:
    """fit_sequence's start passes the path the depth share as the online track judges it
    where depth is measured coarser than track_max_jump (a far person: 0 < share < 1), and
    none (0) for a near person, whose share would be 1: counting it there measured worse on
    the tuning clips (docs/video.md, session 12)."""
    shares = []
    path = sequence.viterbi_path

    def recorded(*args, **kwargs):
        shares.append(args[6] if len(args) > 6 else kwargs["depth_share"])
        return path(*args, **kwargs)

    monkeypatch.setattr(sequence, "viterbi_path", recorded)
    clip = sv.load_sequences(TUNING)[0]
    near = sv.make_video(open_model, clip, "coco17", np.random.default_rng(5),
                         frames=slice(0, 12))
    far = sv.make_video(open_model, clip, "coco17", np.random.default_rng(5),
                        sv.DetectorErrors(noise_fraction=0.03), distance=17.0,
                        focal_length=960.0, frames=slice(0, 12))
    for video in (near, far):
        smplify.fit_sequence(video.keypoints, "coco17", video.image_size, video.focal_length,
                             model=open_model)
    assert shares[0] == 0.0
    expected = online.depth_velocity_share(0.3, online.depth_jump_limit(
        0.3, 17.0, 28.0, smplify.Fitter.SCALE_PIXELS, smplify.Fitter.DEPTH_JUMP_SIGMAS))
    assert 0.0 < shares[1] < 1.0 and shares[1] == pytest.approx(expected, rel=0.5)
