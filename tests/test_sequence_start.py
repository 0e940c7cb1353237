"""The Viterbi path through candidate tracks that starts smplify.fit_sequence."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import smplify
from smplify import synthetic_video as sv
from smplify.left_right import mirror_index
from smplify.problem import fit_settings
from smplify.sequence_start import (
    Track,
    best_labelling,
    first_fit,
    hard_keyframes,
    hypotheses,
    label_between,
    reading_scores,
    robust_error,
    run_track,
    scratch_track,
    viterbi_path,
)

SEQUENCES = Path(__file__).parent / "data" / "heldout_sequences.npz"

T = 12


def track(data: np.ndarray, reach: float) -> Track:
    """A still body whose right wrist (joint 21) sits ``reach`` m in front of the pelvis."""
    n = len(data)
    joints = np.zeros((n, 24, 3))
    joints[:, 0, 2] = 5.0
    joints[:, 1:, 2] = 5.0
    joints[:, 21, 2] += reach
    return Track(pose=np.zeros((n, 72)), transl=np.zeros((n, 3)), betas=np.zeros((n, 10)),
                 keypoints_3d=np.zeros((n, 17, 3)), reading=np.zeros(n),
                 joints=joints, keypoints_2d=np.zeros((n, 17, 2)),
                 perm=np.tile(np.arange(17), (n, 1)), data=data.astype(float),
                 fitted=np.ones(n, dtype=bool))


def brute_force(tracks: list[Track], weight: float, scale: float, accel: float = 0.0,
                depth_share: float = 0.0, keys: np.ndarray | None = None) -> tuple[int, ...]:
    """The lowest-cost path by enumerating every one (S^n paths) through the keyframes
    ``keys`` (every frame if None); the acceleration against constant velocity in frames;
    ``depth_share`` c: the pelvis' depth change (and acceleration) × c counts as much as a
    joint's squared."""
    keys = np.arange(len(tracks[0].data)) if keys is None else keys
    n, num = len(keys), len(tracks)
    rel = [(tr.joints - tr.joints[:, :1])[keys] for tr in tracks]
    z = [depth_share * tr.joints[keys, 0, 2] for tr in tracks]
    best, arg = np.inf, None
    for code in range(num ** n):
        path = [(code // num**t) % num for t in range(n)]
        cost = sum(tracks[s].data[keys[t]] for t, s in enumerate(path))
        for t in range(1, n):
            d = rel[path[t - 1]][t - 1] - rel[path[t]][t]
            dz = z[path[t - 1]][t - 1] - z[path[t]][t]
            cost += weight * (np.mean(np.sum(d**2, axis=-1)) + dz**2 / 24) * scale**2
        for t in range(2, n):
            r = (keys[t] - keys[t - 1]) / (keys[t - 1] - keys[t - 2])
            a = r * rel[path[t - 2]][t - 2] - (1 + r) * rel[path[t - 1]][t - 1] + \
                rel[path[t]][t]
            az = r * z[path[t - 2]][t - 2] - (1 + r) * z[path[t - 1]][t - 1] + z[path[t]][t]
            cost += accel * (np.mean(np.sum(a**2, axis=-1)) + az**2 / 24) * scale**2
        if cost < best:
            best, arg = cost, tuple(path)
    return arg


def test_path_is_the_brute_force_minimum() -> None:
    rng = np.random.default_rng(0)
    for _ in range(5):
        tracks = [track(rng.uniform(0, 400, 7), 0.0), track(rng.uniform(0, 400, 7), 0.4)]
        for weight in (0.0, 0.1, 3.0):
            path = viterbi_path(tracks, np.arange(7), 240.0, weight)
            assert tuple(path) == brute_force(tracks, weight, 240.0)


def test_path_with_the_acceleration_term_is_the_brute_force_minimum() -> None:
    rng = np.random.default_rng(4)
    for _ in range(4):
        tracks = [track(rng.uniform(0, 400, 6), reach) for reach in (0.0, 0.4, -0.2)]
        for tr in tracks:  # a wrist that moves differently in each track
            tr.joints[:, 21] += rng.normal(0, 0.1, (6, 3))
        for weight, accel in ((0.0, 1.0), (0.1, 0.3), (3.0, 3.0)):
            path = viterbi_path(tracks, np.arange(6), 240.0, weight, 0.0, accel)
            assert tuple(path) == brute_force(tracks, weight, 240.0, accel)


def test_path_with_the_depth_share_is_the_brute_force_minimum() -> None:
    rng = np.random.default_rng(8)
    for _ in range(3):
        tracks = [track(rng.uniform(0, 400, 6), reach) for reach in (0.0, 0.4, -0.2)]
        for tr in tracks:  # each track reads the person's depth differently
            tr.joints[:, :, 2] += rng.normal(0, 0.5, (6, 1))
        for weight, accel, share in ((3.0, 0.0, 1.0), (0.1, 0.3, 0.4), (3.0, 3.0, 0.05)):
            path = viterbi_path(tracks, np.arange(6), 240.0, weight, 0.0, accel, share)
            assert tuple(path) == brute_force(tracks, weight, 240.0, accel, share)


def test_the_acceleration_term_spans_unevenly_spaced_keyframes() -> None:
    """Keyframes 0, 3, 6, 7 (the last frame after a step of 3; or a frame no track fitted):
    the body moving at constant velocity in frames has no acceleration, one moving by equal
    steps per keyframe has. Before, the term took every gap as one step and chose the latter
    (P_7 − 2 P_6 + P_3 of the steady body is −2v)."""
    keys = np.array([0, 3, 6, 7])
    steady, stepped = track(np.zeros(8), 0.0), track(np.zeros(8), 0.0)
    velocity = np.array([0.05, 0.0, 0.0])  # m a frame, the right wrist (joint 21)
    for t in range(8):
        steady.joints[t, 21] += t * velocity
    for k, t in enumerate(keys):
        stepped.joints[t, 21] = steady.joints[0, 21] + 3 * k * velocity
    path = viterbi_path([stepped, steady], keys, 240.0, 0.0, 0.0, 1.0)
    assert path[-1] == 1, path
    # The brute force with the same rule, on random tracks and weights.
    rng = np.random.default_rng(5)
    keys = np.array([0, 3, 4, 7, 10, 11])
    for _ in range(3):
        tracks = [track(rng.uniform(0, 400, 12), reach) for reach in (0.0, 0.4, -0.2)]
        for tr in tracks:
            tr.joints[:, 21] += rng.normal(0, 0.1, (12, 3))
        for weight, accel in ((0.0, 1.0), (0.1, 0.3)):
            path = viterbi_path(tracks, keys, 240.0, weight, 0.0, accel)
            assert tuple(path) == brute_force(tracks, weight, 240.0, accel, keys=keys)


def test_a_state_without_a_fit_is_never_on_the_path_whatever_the_weights() -> None:
    """A track that could not fit a keyframe (data inf, joints NaN): 0 · inf must not turn
    into NaN in the path's cost (which np.argmin would take for the minimum)."""
    rng = np.random.default_rng(6)
    tracks = [track(rng.uniform(0, 400, 8), reach) for reach in (0.0, 0.4)]
    tracks[1].data[3], tracks[1].joints[3] = np.inf, np.nan
    tracks[0].data[5], tracks[0].joints[5] = np.inf, np.nan
    for weight, accel in ((0.0, 0.0), (0.0, 0.03), (3.0, 0.0), (3.0, 0.03)):
        path = viterbi_path(tracks, np.arange(8), 240.0, weight, 0.0, accel)
        assert path[3] == 0 and path[5] == 1, (weight, accel, path)


def test_one_better_frame_does_not_switch_a_stretch_does() -> None:
    a = np.full(T, 100.0)
    b = np.full(T, 110.0)
    b[5] = 60.0  # one frame where the other depth reading fits a little better
    tracks = [track(a, 0.0), track(b, 0.4)]
    assert viterbi_path(tracks, np.arange(T), 240.0, 3.0).tolist() == [0] * T
    b[4:9] = 0.0  # a stretch where it fits far better: the path moves there and back
    path = viterbi_path([track(a, 0.0), track(b, 0.4)], np.arange(T), 240.0, 0.01)
    assert path.tolist() == [0] * 4 + [1] * 5 + [0] * 3


def test_the_path_counts_a_depth_change_by_its_share() -> None:
    """Two tracks with the same pose: one stays at 7 m, the other follows another person to
    2.3 m for the last keyframes with a lower 2D error (bench_real_video's sports2d woman's
    track, the man landing from the box). Without the depth share the path takes the
    cheaper one; with it at share 1 (depth measured finer than a step moves it) it stays;
    a share that makes the change cheap (a far person, whose depth readings are the 2D
    scale's jitter) lets it go. (fit_sequence passes 0 where the share is 1:
    test_online_depth.py::test_fit_sequence_path_counts_depth_only_where_poorly_measured.)"""
    n = 10
    stays, leaves = track(np.full(n, 100.0), 0.0), track(np.full(n, 100.0), 0.0)
    stays.joints[:, :, 2] += 2.0
    leaves.joints[:, :, 2] += 2.0
    leaves.joints[6:, :, 2] -= 4.7
    leaves.data[6:] = 60.0
    tracks = [stays, leaves]
    assert viterbi_path(tracks, np.arange(n), 200.0, 3.0).tolist()[6:] == [1] * 4
    assert viterbi_path(tracks, np.arange(n), 200.0, 3.0, 0.0, 0.0, 1.0).tolist() == [0] * n
    assert viterbi_path(tracks, np.arange(n), 200.0, 3.0, 0.0, 0.0, 1e-3).tolist()[6:] == \
        [1] * 4


def test_frames_between_keyframes_are_labelled_from_the_interpolated_body() -> None:
    rng = np.random.default_rng(1)
    body = rng.uniform(100, 500, (17, 2))
    kp2d = np.repeat(body[None], 5, axis=0)
    fitted = np.array([True, False, False, False, True])
    mirror = np.array([0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15])
    xy = kp2d.copy()
    xy[2] = body[mirror]  # frame 2 reported left/right swapped
    conf = np.ones((5, 17))
    perm = np.tile(np.arange(17), (5, 1))
    perms = [np.arange(17), mirror]
    label_between(kp2d, fitted, xy, conf, np.ones(5, dtype=bool), perm, np.ones(17), perms,
                  20.0, 0.7)
    assert np.array_equal(perm[2], mirror)
    assert all(np.array_equal(perm[t], np.arange(17)) for t in (0, 1, 3, 4))
    assert np.array_equal(best_labelling(body, xy[2], conf[2], np.ones(17), perms, 20.0, 0.7),
                          mirror)


def test_reading_weight_moves_the_path_to_the_reading_the_initialiser_gives() -> None:
    """Equal 2D errors leave the path where the transitions hold it; a reading score that
    prefers the other track moves the whole path there once w_R outweighs its 2D deficit."""
    a, b = track(np.full(T, 100.0), 0.0), track(np.full(T, 120.0), 0.4)
    a.reading[:], b.reading[:] = 3.0, 1.0  # nats: b's body is the initialiser's reading
    assert viterbi_path([a, b], np.arange(T), 240.0, 3.0, 0.0).tolist() == [0] * T
    assert viterbi_path([a, b], np.arange(T), 240.0, 3.0, 5.0).tolist() == [0] * T  # 10 < 20
    assert viterbi_path([a, b], np.arange(T), 240.0, 3.0, 20.0).tolist() == [1] * T


def test_reading_scores_prefer_the_body_over_its_depth_mirror() -> None:
    """The learned initialiser reads which way a body faces and which limbs are nearer: the
    true keypoints score a lower R than the same keypoints mirrored in depth about the
    pelvis (nearly the same 2D) on most frames of a held-out clip."""
    model = smplify.load_model("open")
    video = sv.make_video(model, sv.load_sequences(SEQUENCES)[1], "coco17",
                          np.random.default_rng(2), errors=sv.NO_ERRORS, yaw=0.6,
                          frames=slice(0, 30))
    settings = fit_settings("coco17", video.image_size, video.focal_length, model)
    keys = np.arange(0, video.num_frames, 3)
    truth, mirror = track(np.zeros(video.num_frames), 0.0), track(np.zeros(video.num_frames), 0.0)
    for t in keys:
        out = model(video.betas, video.body_pose[t], video.global_orient[t], video.transl[t])
        points = settings.resolved.keypoint_positions(out.joints, out.vertices)
        truth.keypoints_3d[t] = points
        mirror.keypoints_3d[t] = points * [1, 1, -1] + [0, 0, 2 * out.joints[0, 2]]
    xy, conf = video.keypoints[..., :2], video.keypoints[..., 2]
    reading_scores([truth, mirror], keys, settings, xy, conf)
    assert np.all(np.isfinite(truth.reading[keys])) and np.all(truth.reading[keys] > 0)
    assert np.mean(truth.reading[keys] < mirror.reading[keys]) >= 0.8, \
        (truth.reading[keys].round(1), mirror.reading[keys].round(1))
    assert np.all(truth.reading[~np.isin(np.arange(video.num_frames), keys)] == 0.0)


def test_a_backward_track_needs_a_forward_tracks_last_fit() -> None:
    with pytest.raises(ValueError, match="backward"):
        run_track("backward", {}, np.zeros((3, 17, 2)), np.ones((3, 17)), np.arange(3),
                  np.ones(17), [np.arange(17)], 0.7, None)


def test_a_backward_track_keeps_the_labelling_its_start_fit_used() -> None:
    """A forward track's last fit made in a swapped labelling (the detections of that
    keyframe mirrored, the fit of the body as it is): the backward track starting from it
    scores it in that labelling (its perm and 2D error at that keyframe are the forward
    track's), not in the labels as given."""
    model = smplify.load_model("open")
    video = sv.make_video(model, sv.load_sequences(SEQUENCES)[0], "coco17",
                          np.random.default_rng(3), errors=sv.NO_ERRORS, frames=slice(0, 22))
    xy, conf = video.keypoints[..., :2], video.keypoints[..., 2]
    make_fitter = {"model": model, "format": "coco17", "image_size": video.image_size,
                   "focal_length": video.focal_length}
    keys, weights, perms = np.arange(0, 22, 3), np.ones(17), hypotheses("coco17")
    plain = run_track("plain", make_fitter, xy, conf, keys, weights, perms, 0.7,
                      first_fit(make_fitter, xy, conf, keys))
    t, res, _ = plain.last
    mirror = mirror_index("coco17")  # its own inverse
    swapped_xy, swapped_conf = xy.copy(), conf.copy()
    swapped_xy[t], swapped_conf[t] = xy[t, mirror], conf[t, mirror]
    back = run_track("backward", make_fitter, swapped_xy, swapped_conf, keys, weights, perms,
                     0.7, (t, res, mirror))
    assert np.array_equal(back.perm[t], mirror)
    assert back.data[t] == pytest.approx(plain.data[t])
    sigma = smplify.FitOptions().selection_sigma
    as_given = robust_error(res.keypoints_2d, swapped_xy[t], swapped_conf[t], sigma)
    assert back.data[t] < 0.5 * as_given, (back.data[t], as_given)
    assert back.fitted[keys].all()  # and it runs on back to the first keyframe


def test_hard_keyframes_are_where_the_tracks_disagree_or_strain_within_the_budget() -> None:
    """Two tracks agreeing except at keyframe 3 (the wrist 0.5 m apart: ~120 px at 240 px/m)
    and both fitting keyframe 8's detections 10x worse than elsewhere: those two are hard,
    the harder first when the budget allows one; a budget of 0 gives none."""
    data = np.ones(T)
    data[8] = 10.0
    reach = np.zeros(T)
    reach[3] = 0.5 * 24  # the mean over 24 joints of one joint's 0.5 m
    a, b = track(data, 0.0), track(data, 0.0)
    b.joints[:, 21, 2] += reach
    keys = np.arange(T)
    assert hard_keyframes([a, b], keys, 240.0, 5).tolist() == [3, 8]
    assert hard_keyframes([a, b], keys, 240.0, 1).tolist() == [3]  # 120 / 12 > 10 / 3
    assert hard_keyframes([a, b], keys, 240.0, 0).tolist() == []
    assert hard_keyframes([a], keys, 240.0, 5).tolist() == [8]  # one track: strain only


def test_a_scratch_track_fits_the_hard_keyframes_and_follows_each_warm() -> None:
    """Fits from scratch at keyframes 3 and 12, each followed over 2 keyframes: those
    keyframes fitted (as a fit from scratch fits them: the data near the plain track's), the
    others not."""
    model = smplify.load_model("open")
    video = sv.make_video(model, sv.load_sequences(SEQUENCES)[0], "coco17",
                          np.random.default_rng(3), errors=sv.NO_ERRORS, frames=slice(0, 22))
    xy, conf = video.keypoints[..., :2], video.keypoints[..., 2]
    make_fitter = {"model": model, "format": "coco17", "image_size": video.image_size,
                   "focal_length": video.focal_length}
    keys, weights, perms = np.arange(0, 22, 3), np.ones(17), hypotheses("coco17")
    scratch = scratch_track(make_fitter, xy, conf, keys, np.array([3, 12]), 2, weights,
                            perms, 0.7)
    assert np.flatnonzero(scratch.fitted).tolist() == [3, 6, 9, 12, 15, 18]
    plain = run_track("plain", make_fitter, xy, conf, keys, weights, perms, 0.7,
                      first_fit(make_fitter, xy, conf, keys))
    ok = scratch.fitted
    assert np.all(scratch.data[ok] < 4.0 * plain.data[ok] + 50.0), (scratch.data[ok],
                                                                    plain.data[ok])
    none = scratch_track(make_fitter, xy, conf, keys, np.zeros(0, dtype=int), 2, weights,
                         perms, 0.7)
    assert not none.fitted.any()


@pytest.mark.parametrize("kind", ["plain", "online"])
def test_a_track_records_the_relabelling_a_restart_made(monkeypatch, kind) -> None:
    """A fit within a track that relabelled the keypoints it was given itself (a restart
    with ``track_restart_readings``, which undoes a detector's swap as a first frame does:
    its ``label_permutation``, its "labelling" "as seen") is recorded in the track's
    labelling composed with the one the track gave it: the plain track's own choice (here
    the whole-body mirror) then the restart's (the arms)."""
    mirror, arms = mirror_index("coco17"), hypotheses("coco17")[2]
    predicted = np.random.default_rng(0).uniform(0, 200, (17, 2))
    xy = np.stack([predicted, predicted, predicted[mirror]])

    class Restarting:
        """A Fitter whose third fit relabels its keypoints by the arms' swap."""

        def __init__(self, **_: object) -> None:
            self.options = smplify.FitOptions()
            self.keypoint_format = smplify.keypoints.get_format("coco17")
            self.model = smplify.load_model("open")
            self.calls = 0

        def fit(self, keypoints: np.ndarray, keypoints_3d: object = None) -> object:
            self.calls += 1
            relabelled = self.calls == 3
            return SimpleNamespace(
                pose=np.zeros(72), transl=np.zeros(3), betas=np.zeros(self.model.num_betas),
                joints=np.zeros((24, 3)), keypoints_3d=np.zeros((17, 3)),
                keypoints_2d=predicted,
                summary={"labelling": "as seen",
                         "label_permutation": arms.tolist() if relabelled else None})

    monkeypatch.setattr("smplify.sequence_start.Fitter", Restarting)
    out = run_track(kind, {}, xy, np.ones((3, 17)), np.arange(3), np.ones(17),
                    hypotheses("coco17"), 0.7)
    given = mirror if kind == "plain" else np.arange(17)
    np.testing.assert_array_equal(out.perm[2], given[arms])
    np.testing.assert_array_equal(out.perm[1], np.arange(17))
