"""Track ids across frames (smplify.tracking)."""

from __future__ import annotations

import numpy as np
import pytest
from smplify.tracking import Tracker, keypoint_box


def _person(x, y, h=100.0, k=17):
    """A column of k keypoints h px tall with its top at (x, y)."""
    return np.c_[np.full(k, x), np.linspace(y, y + h, k), np.ones(k)]


def test_ids_follow_people_whatever_their_order():
    tracker = Tracker()
    a, b = _person(10, 10), _person(300, 20)
    assert tracker.update([a, b]) == [0, 1]
    assert tracker.update([_person(312, 22), _person(18, 10)]) == [1, 0]


def test_entering_leaving_and_gaps():
    tracker = Tracker(max_missed=2)
    assert tracker.update([_person(10, 10)]) == [0]
    assert tracker.update([_person(14, 10), _person(200, 10)]) == [0, 1]
    assert tracker.update([_person(204, 10)]) == [1]  # 0 unseen for one frame
    assert tracker.update([_person(22, 10), _person(208, 10)]) == [0, 1]  # 0 resumes
    for _ in range(3):
        tracker.update([_person(210, 10)])
    assert tracker.live == [1]  # 0 unseen for 3 frames > max_missed: ended
    assert tracker.update([_person(24, 10), _person(212, 10)]) == [2, 1]  # new id, never 0


def test_fast_mover_continues_by_keypoint_distance():
    tracker = Tracker()
    tracker.update([_person(10, 10, h=100, k=17)])
    # moved 40 px right: boxes (zero width columns) do not overlap, keypoints are close
    assert tracker.update([_person(50, 10)]) == [0]
    assert tracker.update([_person(400, 10)]) == [1]  # too far: someone else


def test_box_uses_confident_keypoints():
    kp = _person(10, 10)
    kp[0] = [500.0, 500.0, 0.1]
    assert np.allclose(keypoint_box(kp), [10, 10 + 100 / 16, 10, 110])
    with pytest.raises(ValueError, match="max_missed"):
        Tracker(max_missed=-1)
