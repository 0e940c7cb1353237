"""The Viterbi path through candidate tracks that starts smplify.fit_sequence."""

from __future__ import annotations

import numpy as np
from smplify.sequence_start import Track, best_labelling, label_between, viterbi_path

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


def brute_force(tracks: list[Track], weight: float, scale: float) -> tuple[int, ...]:
    """The lowest-cost path by enumerating every one (2^n paths)."""
    n = len(tracks[0].data)
    rel = [tr.joints - tr.joints[:, :1] for tr in tracks]
    best, arg = np.inf, None
    for code in range(2 ** n):
        path = [(code >> t) & 1 for t in range(n)]
        cost = sum(tracks[s].data[t] for t, s in enumerate(path))
        for t in range(1, n):
            d = rel[path[t - 1]][t - 1] - rel[path[t]][t]
            cost += weight * np.mean(np.sum(d**2, axis=-1)) * scale**2
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


def test_one_better_frame_does_not_switch_a_stretch_does() -> None:
    a = np.full(T, 100.0)
    b = np.full(T, 110.0)
    b[5] = 60.0  # one frame where the other depth reading fits a little better
    tracks = [track(a, 0.0), track(b, 0.4)]
    assert viterbi_path(tracks, np.arange(T), 240.0, 3.0).tolist() == [0] * T
    b[4:9] = 0.0  # a stretch where it fits far better: the path moves there and back
    path = viterbi_path([track(a, 0.0), track(b, 0.4)], np.arange(T), 240.0, 0.01)
    assert path.tolist() == [0] * 4 + [1] * 5 + [0] * 3


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
