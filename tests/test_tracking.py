"""Track ids across frames (smplify.tracking, smplify.box_motion)."""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from smplify.box_motion import BoxMotion
from smplify.tracking import Tracker, keypoint_box, track_all

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from tracker_before import TrackerBefore  # noqa: E402
from tracking_scenes import scenes, score  # noqa: E402


def _person(x, y, h=100.0, k=17, width=30.0, conf=1.0):
    """k keypoints of a person h px tall, its top-left at (x, y): two columns (left and
    right side) ``width`` apart, from head to feet."""
    half = k // 2
    xs = np.r_[np.full(k - half, x), np.full(half, x + width)]
    ys = np.r_[np.linspace(y, y + h, k - half), np.linspace(y, y + h, half)]
    return np.c_[xs, ys, np.full(k, conf)]


def test_ids_follow_people_whatever_their_order():
    tracker = Tracker()
    a, b = _person(10, 10), _person(300, 20)
    assert tracker.update([a, b]) == [0, 1]  # the first frame's people: ids at once
    assert tracker.update([_person(312, 22), _person(18, 10)]) == [1, 0]


def test_a_new_person_is_confirmed_on_the_second_frame_and_reports_the_first():
    tracker = Tracker(min_hits=2)
    tracker.update([_person(10, 10)])
    assert tracker.update([_person(14, 10), _person(300, 10)]) == [0, -1]
    assert tracker.update([_person(18, 10), _person(304, 10)]) == [0, 1]
    assert tracker.earlier == {1: [(1, 1)]}  # seen before as frame 1's person 1
    assert tracker.update([_person(22, 10), _person(308, 10)]) == [0, 1]
    assert tracker.earlier == {}


def test_a_one_frame_false_detection_gets_no_id_and_uses_none_up():
    tracker = Tracker()
    tracker.update([_person(10, 10)])
    assert tracker.update([_person(14, 10), _person(400, 300)]) == [0, -1]
    for t in range(3):
        assert tracker.update([_person(18 + 4 * t, 10)]) == [0]
    assert tracker.update([_person(40, 10), _person(400, 10)]) == [0, -1]
    assert tracker.update([_person(44, 10), _person(404, 10)]) == [0, 1]  # the next id: 1


def test_a_lost_person_is_taken_up_where_their_motion_predicts():
    """Walking 8 px a frame, unseen for 12 frames (96 px on: their boxes no longer overlap
    the last seen one), re-found as the same id; someone appearing where they were last
    seen is not them."""
    tracker = Tracker(fps=10.0, lost_seconds=2.0)
    for t in range(6):
        assert tracker.update([_person(100 + 8 * t, 50)]) == [0]
    for _ in range(12):
        assert tracker.update([]) == []
    assert tracker.unseen == [0] and tracker.live == [0]
    assert tracker.update([_person(100 + 8 * 18, 50), _person(140, 50)]) == [0, -1]
    old = TrackerBefore(max_missed=20)
    for t in range(6):
        old.update([_person(100 + 8 * t, 50)])
    for _ in range(12):
        old.update([])
    assert old.update([_person(100 + 8 * 18, 50), _person(140, 50)]) == [1, 0]  # swapped


def test_lost_tracks_last_a_time_scaled_to_the_frame_rate():
    for fps, frames in ((10.0, 20), (30.0, 60)):
        tracker = Tracker(fps=fps)  # two seconds by default
        assert tracker.max_missed == frames
        tracker.update([_person(10, 10)])
        for _ in range(frames):
            tracker.update([])
        assert tracker.live == [0]
        tracker.update([])
        assert tracker.live == []
    assert Tracker(max_missed=2, fps=30.0).max_missed == 2


def test_a_much_larger_person_does_not_take_over_a_lost_track():
    """The sports2d handover: someone twice the size (twice as near) where a person was
    lost starts a track of their own."""
    tracker = Tracker(fps=30.0)
    for t in range(5):
        tracker.update([_person(100 + 2 * t, 50)])
    tracker.update([])
    assert tracker.update([_person(90, 0, h=200, width=60)]) == [-1]
    assert tracker.update([_person(92, 0, h=200, width=60)]) == [1]
    size = Tracker(fps=30.0, max_size_ratio=3.0)  # the gate opened: taken over
    for t in range(5):
        size.update([_person(100 + 2 * t, 50)])
    size.update([])
    assert size.update([_person(90, 0, h=200, width=60)]) == [0]


def test_a_person_found_twice_gets_one_id():
    """The weaker of two detections on one person gets no id, and no track either: in the
    first frame (where the others get ids at once) and later (where it would otherwise be
    confirmed by Tracker.finish)."""
    twin = _person(11, 10)
    twin[::2, 2] = 0.0  # fewer keypoints: the weaker
    tracker = Tracker()
    assert tracker.update([twin, _person(10, 10)]) == [-1, 0]
    assert tracker.update([twin, _person(12, 10)]) == [-1, 0]
    assert tracker.finish() == {}
    assert Tracker(duplicate_distance=0.0).update([twin, _person(10, 10)]) == [0, 1]


def test_the_duplicate_rule_needs_three_shared_confident_keypoints():
    """A detection whose confident keypoints lie on another's is a duplicate only when they
    share 3 or more (two could be two people's touching hands)."""
    a = _person(10, 10)
    got = {}
    for shared in (2, 3):
        b = a.copy()
        b[shared:, 2] = 0.0
        got[shared] = Tracker().update([a, b])
    assert got == {2: [0, 1], 3: [0, -1]}


def test_the_reach_caps_how_far_a_lost_track_is_taken_up():
    """Unseen for 12 frames at 10 fps (uncertain enough for the Mahalanobis gate to let a
    person 1.2 box diagonals off the prediction in), a person that far away is someone else
    under the default reach (0.3 + 0.25 · 1.2 s = 0.6 diagonals) and the track under a long
    one."""
    got = {}
    for reach in (0.25, 5.0):
        tracker = Tracker(fps=10.0, reach=reach, gate=1e9)
        for _ in range(6):
            tracker.update([_person(100, 50)])
        for _ in range(12):
            tracker.update([])
        got[reach] = tracker.update([_person(100 + 125, 50)])
    assert got == {0.25: [-1], 5.0: [0]}


def test_the_mahalanobis_gate_keeps_a_lost_track_from_far_people():
    """A person within the reach but outside the filter's uncertainty is not the lost
    track (gate 5.99), and is with the gate opened."""
    got = {}
    for gate in (5.99, 1e9):
        tracker = Tracker(fps=10.0, reach=5.0, gate=gate)
        for _ in range(6):
            tracker.update([_person(100, 50)])
        tracker.update([])
        got[gate] = tracker.update([_person(100 + 60, 50)])
    assert got == {5.99: [-1], 1e9: [0]}


def test_a_weak_person_of_a_first_frame_gets_an_id_by_default():
    """min_score 0: a detector that is never sure (0.45) still has its people tracked."""
    assert Tracker().update([_person(10, 10, conf=0.45)]) == [0]
    assert Tracker(min_score=0.5).update([_person(10, 10, conf=0.45)]) == [-1]


def test_a_lost_box_keeps_its_size():
    """A box that grew 4 px a frame, then lost: its predicted size stops growing."""
    motion = BoxMotion(np.array([0.0, 0.0, 20.0, 40.0]))
    for t in range(1, 10):
        motion.predict()
        motion.update(np.array([0.0, 0.0, 20.0 + 4.0 * t, 40.0 + 4.0 * t]))
    motion.lose()
    for _ in range(10):
        box = motion.predict()
    assert box[2] - box[0] == pytest.approx(56.0, abs=2.0)
    assert box[3] - box[1] == pytest.approx(76.0, abs=2.0)


def test_box_motion_predicts_constant_velocity():
    motion = BoxMotion(np.array([0.0, 0.0, 20.0, 40.0]))
    for t in range(1, 10):
        motion.predict()
        motion.update(np.array([5.0 * t, 0.0, 20.0 + 5.0 * t, 40.0]))
    assert np.allclose(motion.predict(), [50.0, 0.0, 70.0, 40.0], atol=1.0)
    assert motion.distance(np.array([50.0, 0.0, 70.0, 40.0])) < 1.0
    assert motion.distance(np.array([150.0, 0.0, 170.0, 40.0])) > 100.0


def test_box_uses_confident_keypoints():
    kp = _person(10, 10, width=0.0)
    kp[0] = [500.0, 500.0, 0.1]
    assert np.allclose(keypoint_box(kp), [10, 10, 10, 110])  # not out to (500, 500)


@pytest.mark.parametrize("kwargs, name", [
    ({"max_missed": -1}, "max_missed"), ({"fps": 0.0}, "fps"), ({"min_hits": 0}, "min_hits"),
    ({"lost_seconds": float("nan")}, "lost_seconds"), ({"max_size_ratio": 0.5},
                                                        "max_size_ratio"),
    ({"gate": float("inf")}, "gate"), ({"min_score": -0.1}, "min_score")])
def test_bad_options_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Tracker(**kwargs)


@pytest.mark.parametrize("fps", [0.0, -1.0, float("nan"), float("inf"), "30", None, True])
def test_a_bad_frame_rate_is_named(fps):
    with pytest.raises(ValueError, match="fps"):
        Tracker(fps=fps)


def test_bad_people_are_named():
    with pytest.raises(ValueError, match=r"people\[1\]"):
        Tracker().update([_person(0, 0), np.zeros((17, 2))])
    with pytest.raises(ValueError, match=r"people\[0\].*K >= 1"):
        Tracker().update([np.zeros((0, 3))])
    tracker = Tracker()
    tracker.update([_person(0, 0)])
    with pytest.raises(ValueError, match=r"people\[0\].*17 keypoints"):
        tracker.update([_person(0, 0, k=25)])
    for bad in (np.nan, np.inf):
        kp = _person(0, 0)
        kp[3, 0] = bad
        with pytest.raises(ValueError, match=r"people\[1\].*NaN"):
            Tracker().update([_person(200, 0), kp])


def test_missing_keypoints_may_be_nan():
    kp = _person(10, 10)
    kp[3] = [np.nan, np.nan, 0.0]
    tracker = Tracker()
    assert tracker.update([kp]) == [0]
    assert tracker.update([kp]) == [0]


def test_earlier_is_read_only():
    tracker = Tracker()
    tracker.update([_person(10, 10)])
    tracker.update([_person(14, 10), _person(300, 10)])
    tracker.update([_person(18, 10), _person(304, 10)])
    tracker.earlier[1].append((9, 9))
    assert tracker.earlier == {1: [(1, 1)]}
    with pytest.raises(AttributeError):
        tracker.earlier = {}


def test_the_parameter_docstring_matches_the_signature():
    documented = re.findall(r"^    (\w+) : ", Tracker.__doc__, flags=re.M)
    assert documented == list(inspect.signature(Tracker).parameters)


def test_synthetic_scenes_fewer_switches_than_the_old_tracker():
    """On 6 held-out synthetic scenes (people crossing, occluded, dropping out, false and
    double detections) the tracker switches ids far less often than the one it replaced
    and keeps a better MOTA."""
    held_out = scenes("test", count=6, frames=90)
    new = score(held_out, lambda fps: lambda frames: track_all(frames, fps=fps))
    old = score(held_out, lambda fps: lambda frames: [tracker.update(p) for tracker in
                                                      [TrackerBefore()] for p in frames])
    assert new["idsw"] < 0.3 * old["idsw"]
    assert new["mota"] > old["mota"] and new["idf1"] > old["idf1"] + 0.2


def test_people_of_the_last_frame_get_ids_at_the_end():
    tracker = Tracker()
    tracker.update([_person(10, 10)])
    assert tracker.update([_person(14, 10), _person(300, 10)]) == [0, -1]
    assert tracker.finish() == {1: [(1, 1)]}
    assert tracker.live == [0, 1]
