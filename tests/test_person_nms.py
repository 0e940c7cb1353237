"""One skeleton per person (smplify.person_nms): keypoint NMS and the one-body check.

Synthetic people: the open model standing at a few places in front of a camera, its 33
MediaPipe keypoints projected (tests/crowd.py), with detector-like noise. No detector.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from crowd import person_keypoints
from smplify.person_nms import (
    MEDIAPIPE_MIRROR,
    coinciding,
    keypoint_similarity,
    one_body,
    parts_of_others,
    same_person,
    strength,
    suppress_duplicates,
)

LEGS = np.arange(23, 33)  # MediaPipe's hips, knees, ankles, heels and toes


@pytest.fixture(scope="module")
def person(open_model):
    """Where (metres, camera frame) -> the model's (33, 3) MediaPipe keypoints there."""
    return lambda x, z=5.0, yaw=0.0: person_keypoints(open_model, "mediapipe33",
                                                      [x, 0.3, z], yaw=yaw)


def _detected(kp, rng, noise=2.0, dropped=0):
    """``kp`` as a detector gives it: pixel noise, visibilities 0.6-1, ``dropped`` of them
    (at random) below the confidence threshold."""
    out = kp.copy()
    out[:, :2] += rng.normal(0.0, noise, size=(len(kp), 2))
    out[:, 2] = rng.uniform(0.6, 1.0, size=len(kp))
    out[rng.choice(len(kp), size=dropped, replace=False), 2] = 0.1
    return out


def test_one_person_found_twice_keeps_the_stronger(person):
    rng = np.random.default_rng(0)
    whole = _detected(person(0.0), rng)
    tile = _detected(person(0.0), rng, noise=4.0, dropped=8)  # a weaker, less complete copy
    other = _detected(person(1.2, yaw=0.4), rng)
    assert keypoint_similarity(whole, tile) > 0.5
    assert keypoint_similarity(whole, other) < 0.2  # T-posed 1.2 m apart: fingers near
    assert strength(whole) > strength(tile)
    assert suppress_duplicates([tile, other, whole]) == [2, 1]
    assert suppress_duplicates([whole, tile]) == [0]


def test_same_person_is_the_nms_rule_with_its_threshold(person):
    """``same_person`` is the test the NMS drops by (and the detector's "found again")."""
    rng = np.random.default_rng(0)
    whole = _detected(person(0.0), rng)
    tile = _detected(person(0.0), rng, noise=4.0, dropped=8)
    other = _detected(person(1.2, yaw=0.4), rng)
    similarity = keypoint_similarity(whole, tile)
    assert same_person(whole, tile) and same_person(tile, whole) and not same_person(whole,
                                                                                     other)
    assert not same_person(whole, tile, threshold=similarity)  # strictly above
    assert suppress_duplicates([whole, tile], threshold=similarity) == [0, 1]
    assert suppress_duplicates([whole, tile], threshold=0.99 * similarity) == [0]


def test_an_upper_body_is_a_duplicate_of_the_whole_person(person):
    rng = np.random.default_rng(1)
    full = _detected(person(0.0), rng)
    upper = _detected(person(0.0), rng)
    upper[LEGS, 2] = 0.0
    assert suppress_duplicates([upper, full]) == [1]


def test_left_and_right_swapped_is_the_same_person(person):
    # MediaPipe's front/back confusion: one body, its left and right labels exchanged
    rng = np.random.default_rng(5)
    kp = person(0.0, yaw=0.3)
    a, swapped = _detected(kp, rng), _detected(kp, rng)[MEDIAPIPE_MIRROR]
    assert keypoint_similarity(a, swapped) > 0.9
    assert suppress_duplicates([a, swapped]) in ([0], [1])
    assert one_body(a, [swapped])
    # label for label the two lie far apart: only the swap makes them one person
    assert np.median(np.linalg.norm(a[:, :2] - swapped[:, :2], axis=1)) > 20.0


def test_people_shoulder_to_shoulder_are_not_duplicates(person):
    # 0.3 m apart at 5 m: boxes overlap by most of their area, keypoints ~0.15 diagonal apart
    rng = np.random.default_rng(2)
    a, b = _detected(person(0.0), rng), _detected(person(0.3, z=5.2), rng)
    box = lambda kp: np.r_[kp[:, :2].min(0), kp[:, :2].max(0)]  # noqa: E731
    (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = box(a), box(b)
    inter = (min(ax1, bx1) - max(ax0, bx0)) * (min(ay1, by1) - max(ay0, by0))
    assert inter > 0.5 * (bx1 - bx0) * (by1 - by0)
    assert keypoint_similarity(a, b) < 0.5
    assert sorted(suppress_duplicates([a, b])) == [0, 1]


def test_similarity_is_scale_free_and_symmetric(person):
    rng = np.random.default_rng(3)
    a, b = _detected(person(0.0), rng), _detected(person(0.05), rng)
    scaled_a, scaled_b = a.copy(), b.copy()
    scaled_a[:, :2] *= 3.0
    scaled_b[:, :2] *= 3.0
    assert keypoint_similarity(a, b) == pytest.approx(keypoint_similarity(b, a))
    assert keypoint_similarity(scaled_a, scaled_b) == pytest.approx(keypoint_similarity(a, b))
    few = a.copy()
    few[4:, 2] = 0.0  # 4 confident keypoints still compare, 3 do not
    assert keypoint_similarity(few, a) > 0.9
    few[3, 2] = 0.0
    assert keypoint_similarity(few, a) == 0.0


def test_a_skeleton_spread_over_two_people_is_not_one_body(person):
    # MediaPipe's failure on sports2d / vtest: upper body on one person, legs on the other
    rng = np.random.default_rng(4)
    near, far = person(-0.2, z=4.0), person(0.5, z=6.0)
    merged = _detected(near, rng)
    merged[LEGS, :2] = far[LEGS, :2] + rng.normal(0.0, 2.0, size=(len(LEGS), 2))
    # the landmarker, given the merged skeleton's box, finds one of the two people
    for refound in ([_detected(near, rng)], [_detected(far, rng)], []):
        assert not one_body(merged, refound)
    genuine = _detected(near, rng)
    assert one_body(genuine, [_detected(near, rng, noise=3.0, dropped=6)])
    assert one_body(genuine, [_detected(far, rng), _detected(near, rng)])


def _box(kp):
    seen = kp[kp[:, 2] >= 0.5, :2]
    return np.concatenate([seen.min(axis=0), seen.max(axis=0)])


def test_a_leg_half_found_as_a_small_person_is_a_piece(person):
    # sports2d frame 185: a small tile's skeleton laid over a jumping man's lower half, in
    # another pose (keypoint similarity ~0.2 to his whole skeleton), 1.49x smaller
    rng = np.random.default_rng(5)
    whole = _detected(person(0.0), rng)
    box = _box(whole)
    height = box[3] - box[1]
    piece = whole.copy()  # his skeleton at 60% of its size over his lower body, shifted
    bottom = np.array([(box[0] + box[2]) / 2 + 0.05 * height, box[3]])
    piece[:, :2] = bottom + 0.6 * (whole[:, :2] - bottom)
    assert keypoint_similarity(whole, piece) < 0.5  # NMS keeps both
    beside = _detected(person(0.9, z=6.5), rng)  # smaller and farther, half behind him
    assert parts_of_others([_box(whole), _box(piece), _box(beside)]) == {1}
    assert parts_of_others([_box(whole), _box(piece)], size=2.5) == set()
    assert parts_of_others([_box(piece), _box(piece)]) == set()  # one size: not a piece


def test_the_trackers_duplicates_are_the_weaker_of_coinciding_people(person):
    rng = np.random.default_rng(6)
    a = _detected(person(0.0), rng)
    b = _detected(person(0.0), rng, noise=3.0, dropped=10)
    c = _detected(person(1.0, yaw=0.3), rng)
    boxes = [_box(k) for k in (a, b, c)]
    assert coinciding([a, b, c], boxes, 0.1, 0.3) == {1}
    assert coinciding([b, a, c], [boxes[1], boxes[0], boxes[2]], 0.1, 0.3) == {0}
    assert coinciding([a, b, c], boxes, 0.0, 0.3) == set()  # 0: never


@pytest.mark.parametrize("call, name", [
    (lambda: parts_of_others([np.zeros(4)], size=1.0), "size"),
    (lambda: parts_of_others([np.zeros(4)], overlap=1.0), "overlap"),
    (lambda: parts_of_others([np.zeros(4), np.zeros(3)]), r"boxes\[1\]"),
    (lambda: keypoint_similarity(np.zeros((33, 2)), np.zeros((33, 3))), "a"),
    (lambda: keypoint_similarity(np.zeros((33, 3)), np.zeros((17, 3))), "b"),
    (lambda: suppress_duplicates([np.zeros((33, 3))], threshold=1.5), "threshold"),
    (lambda: suppress_duplicates([np.zeros((33, 3)), np.full((33, 3), np.nan)]),
     r"people\[1\]"),
    (lambda: one_body(np.zeros((33, 3)), [], threshold=0.0), "threshold"),
])
def test_bad_input_is_named(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_cached_detections_are_keyed_by_the_detectors_code(monkeypatch):
    """A video's detections cached by an older detector (other detection.py or person_nms.py)
    are not reused: the cache key names the detector's digest."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from real_videos import detections_key
    from smplify import detection

    digest = detection.detector_digest()
    assert len(digest) == 12 and detections_key("vtest", 200) == f"vtest_200_{digest}"
    read = Path.read_bytes
    for module in ("detection.py", "person_nms.py"):
        monkeypatch.setattr(Path, "read_bytes", lambda self, m=module: read(self) + (
            b"#" if self.name == m else b""))
        assert detection.detector_digest() != digest
        assert not detections_key("vtest", 200).endswith(digest)
