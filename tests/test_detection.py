"""The person detector (smplify.detection, MediaPipe Pose from its wheel) on real photos, and
its video mode (smplify.video_detection: people followed in crops, the full scan every few
frames and when someone is lost).

The photos are OpenCV's samples from Debian's ``opencv-doc`` (``make test`` installs it):
``messi5.jpg`` (one player, 548 x 342) and ``vtest.avi`` (pedestrians ~100 px tall).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from extras import need_module, opencv_sample

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def detection():
    need_module("mediapipe", "detect")
    from smplify import detection

    return detection


@pytest.fixture(scope="module")
def detector(detection):
    return detection.Detector(max_people=6)


@pytest.fixture(scope="module")
def messi5(detection):
    return detection.load_image(opencv_sample("messi5.jpg"))


def test_finds_the_player_where_the_legacy_solution_did(detector, messi5):
    people = detector.detect(messi5)
    assert len(people) == 1 and people[0].source == "image"
    # examples/messi5_mediapipe33.json came from mediapipe.solutions.pose (the legacy graph)
    # on the same photo: the Tasks bundle assembled from the wheel's files agrees with it.
    example = np.asarray(json.loads((EXAMPLES / "messi5_mediapipe33.json").read_text())
                         ["keypoints"])
    kp = people[0].keypoints
    assert kp.shape == (33, 3)
    assert np.median(np.linalg.norm(kp[:, :2] - example[:, :2], axis=1)) < 2.0
    assert np.all((kp[:, 2] >= 0) & (kp[:, 2] <= 1))
    assert np.all(np.isfinite(people[0].world)) and np.ptp(people[0].world[:, 1]) > 1.0


def test_two_people_side_by_side(detector, messi5):
    twice = np.concatenate([messi5, messi5], axis=1)
    people = sorted(detector.detect(twice), key=lambda p: p.box[0])
    assert len(people) == 2
    shift = people[1].keypoints[:, :2] - people[0].keypoints[:, :2]
    assert np.median(shift[:, 0]) == pytest.approx(messi5.shape[1], abs=3)
    assert np.median(np.abs(shift[:, 1])) < 3


def test_distant_pedestrians_are_found_in_small_tiles_and_people_boxes(detection, detector):
    cv2 = need_module("cv2", "detect")
    capture = cv2.VideoCapture(str(opencv_sample("vtest.avi")))
    for _ in range(41):
        ok, frame = capture.read()
    assert ok
    rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    boxes_only = detection.Detector(max_people=6, small_tiles=())
    whole_only = detection.Detector(max_people=6, people_boxes=False, small_tiles=())
    in_boxes = boxes_only.detect(rgb)
    people = detector.detect(rgb)
    assert whole_only.detect(rgb) == []  # why the small tiles and HOG boxes are there
    assert len(in_boxes) >= 2 and all(p.source == "hog" for p in in_boxes)
    assert len(people) >= len(in_boxes) and "small_tile" in {p.source for p in people}
    for p in people + in_boxes:  # upright pedestrians: head above ankles, 60-200 px tall
        assert p.keypoints[0, 1] < p.keypoints[27:29, 1].min()
        assert 60 < p.box[3] - p.box[1] < 200
    for d in (boxes_only, whole_only):
        d.close()


def test_no_skeleton_spread_over_two_pedestrians(detector):
    # vtest.avi frames 44 and 90: the old detector's tile landmarker laid one skeleton over
    # two people side by side (a box wider than tall, its torso lying across them)
    from smplify.person_nms import keypoint_similarity

    cv2 = need_module("cv2", "detect")
    capture = cv2.VideoCapture(str(opencv_sample("vtest.avi")))
    for index in range(91):
        ok, frame = capture.read()
        assert ok
        if index not in (44, 90):
            continue
        people = detector.detect(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        assert len(people) >= 2
        for k, p in enumerate(people):
            width, height = p.box[2:] - p.box[:2]
            assert height > 1.5 * width, (index, p.source, p.box)
            assert all(keypoint_similarity(p.keypoints, q.keypoints) <= 0.5
                       for q in people[k + 1:])


def test_nobody_in_a_blank_picture(detector):
    assert detector.detect(np.full((240, 320, 3), 128, dtype=np.uint8)) == []


def test_detect_and_fit_image_on_the_photo(detection, messi5):
    import smplify

    people = smplify.detect(opencv_sample("messi5.jpg"))
    assert len(people) == 1 and people[0].shape == (33, 3)
    results = smplify.fit_image(messi5)
    assert len(results) == 1
    gap = np.linalg.norm(results[0].keypoints_2d - people[0][:, :2], axis=1)
    confident = people[0][:, 2] > 0.5
    assert np.median(gap[confident]) < 12.0  # pixels, on a 342 px tall photo
    # MediaPipe's world landmarks reach the fit as keypoints_3d (SPEC §6), unless declined.
    assert results[0].energy["keypoints_3d"] > 0.0
    # Declined (and without the learned initialiser's anchor, an option), no E_3D.
    plain = smplify.fit_image(messi5, world_landmarks=False, learned_init=False)
    assert plain[0].energy["keypoints_3d"] == 0.0


def test_a_phone_photo_turned_180_is_fitted_and_drawn_upright(detection, messi5, tmp_path):
    """messi5 stored upside down with EXIF orientation 3: fit_image fits the photo as shown
    (the same body as the upright photo's), keeps its signature, and the overlay refuses the
    stored pixels (read without the orientation) while the path draws it upright."""
    import smplify
    from PIL import Image
    from smplify import pictures

    path = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[0x0112] = 3
    Image.fromarray(messi5).transpose(Image.Transpose.ROTATE_180).save(path, exif=exif,
                                                                   quality=95)
    results = smplify.fit_image(path)
    assert len(results) == 1
    upright = smplify.fit_image(messi5)[0]
    assert np.median(np.linalg.norm(results[0].keypoints_2d - upright.keypoints_2d,
                                    axis=1)) < 5.0
    stored = np.asarray(Image.open(path).convert("RGB"))
    with pytest.raises(ValueError, match="turned 180°"):
        pictures.draw_fits(results, stored)
    assert pictures.draw_fits(results, path).shape == stored.shape


def test_bad_images_are_named(detection, tmp_path):
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture")
    with pytest.raises(ValueError, match="notes.jpg"):
        detection.load_image(text)
    with pytest.raises(FileNotFoundError, match="missing.png"):
        detection.load_image(tmp_path / "missing.png")
    with pytest.raises(ValueError, match="image: expected"):
        detection.load_image(np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="max_people"):
        detection.Detector(max_people=0)


@pytest.mark.parametrize("reader", ["load_image", "load_photo"])
@pytest.mark.parametrize("mode, suffix", [("I;16", ".png"), ("I", ".tif")])
def test_sixteen_bit_greyscale_is_read_to_eight_bits(tmp_path, mode, suffix, reader):
    """A 16-bit PNG's or TIFF's greys, not Pillow's clip at 255 (a white picture: nobody
    found), by the detector's reader and by the photo behind a drawn fit (``--render``)."""
    from PIL import Image
    from smplify.detection import load_image
    from smplify.pictures import load_photo

    grey = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (8, 1))
    path = tmp_path / f"grey16{suffix}"
    Image.fromarray(grey).convert(mode).save(path)
    with Image.open(path) as img:
        assert img.mode == mode
    pixels = load_image(path) if reader == "load_image" else load_photo(path, (64, 8))
    assert pixels.shape == (8, 64, 3) and pixels.dtype == np.uint8
    np.testing.assert_allclose(pixels[..., 0], grey / 257.0, atol=0.51)
    assert np.array_equal(pixels[..., 0], pixels[..., 2])


def test_missing_mediapipe_names_the_extra(monkeypatch):
    from smplify import detection

    detection._task_bundle.cache_clear()
    detection._shared_detector.cache_clear()
    monkeypatch.setitem(sys.modules, "mediapipe", None)
    try:
        with pytest.raises(detection.DetectorUnavailable, match=r"smplify\[detect\]"):
            detection.detect(np.zeros((8, 8, 3), dtype=np.uint8))
    finally:
        detection._task_bundle.cache_clear()
        detection._shared_detector.cache_clear()


def test_small_tiles_cover_the_picture_and_gate_cut_people():
    from smplify import detection

    tiles = detection._small_tiles(768, 576, 1 / 3)
    assert len(tiles) == 35 and {side for _, _, side in tiles} == {192}
    covered = np.zeros((576, 768), dtype=bool)
    for x0, y0, side in tiles:
        assert 0 <= x0 <= 768 - side and 0 <= y0 <= 576 - side
        covered[y0:y0 + side, x0:x0 + side] = True
    assert covered.all()
    # any person up to ~half a tile (less the edge gaps) lies whole inside some tile
    for x, y in np.random.default_rng(0).uniform([0, 0], [768 - 85, 576 - 85], (200, 2)):
        box = np.array([x, y, x + 85, y + 85])
        assert any(detection._clear_of_edges(box, t, (768, 576)) for t in tiles)
    tile, size = (192, 96, 192), (768, 576)
    assert detection._clear_of_edges(np.array([230.0, 120, 300, 250]), tile, size)
    assert not detection._clear_of_edges(np.array([193.0, 120, 300, 250]), tile, size)
    assert not detection._clear_of_edges(np.array([230.0, 120, 300, 290]), tile, size)
    # a tile's edge on the picture's border cuts nobody
    assert detection._clear_of_edges(np.array([0.0, 0, 100, 150]), (0, 0, 192), size)
    for bad in ((1.5,), 1.5, "a third", object()):  # out of range, not fractions
        with pytest.raises(ValueError, match="small_tiles"):
            detection.Detector(small_tiles=bad)


def test_a_partial_skeleton_is_found_again_whole(detection, detector, messi5):
    # sports2d frames 98-116: a small tile found the man on the box from the waist up, his
    # legs guessed (not visible) below; a crop of all his keypoints finds him whole
    (player,) = detector.detect(messi5)
    kp = player.keypoints.copy()
    kp[25:33, 2] = 0.1  # knees, ankles, heels, toes: not seen
    upper = detection.Person(kp, player.world, detection._box(kp[:, :2], kp[:, 2]),
                             "small_tile")
    assert detection.box_diagonal(upper.box) < detection.PARTIAL * detection.box_diagonal(
        player.box)
    again = detector._whole_again(messi5, upper)
    assert again.source == "small_tile"
    assert detection.box_diagonal(again.box) > 0.9 * detection.box_diagonal(player.box)
    assert np.median(np.linalg.norm(again.keypoints[:, :2] - player.keypoints[:, :2],
                                    axis=1)) < 0.05 * detection.box_diagonal(player.box)
    assert detector._whole_again(messi5, player) is player  # whole: left as it is


def test_where_a_partial_skeletons_whole_body_would_lie():
    from smplify import detection

    kp = np.asarray(json.loads((EXAMPLES / "messi5_mediapipe33.json").read_text())
                    ["keypoints"], dtype=np.float64)
    kp[:, 2] = 0.9
    box = detection._box(kp[:, :2], kp[:, 2])
    assert detection._whole_extent(kp, box) is None  # whole
    hidden = kp.copy()
    hidden[25:33, 2] = 0.1  # knees to toes not seen, and guessed short: just below the hips
    hidden[25:33, 1] = kp[23:25, 1].max() + 0.1 * (kp[25:33, 1] - kp[23:25, 1].max())
    upper = detection._box(hidden[:, :2], hidden[:, 2])
    extent = detection._whole_extent(hidden, upper)
    # it holds the whole body (a running player's bent legs: an over-estimate, more context)
    assert extent is not None and extent[1] == pytest.approx(box[1])
    assert np.all(extent[:2] <= box[:2] + 1) and np.all(extent[2:] >= box[2:] - 1)
    assert detection.box_diagonal(extent) < 2 * detection.box_diagonal(box)
    # the knees seen: no legs assumed, the guesses alone (here close to the seen box)
    hidden[25:27, 2] = 0.9
    assert detection._whole_extent(hidden, detection._box(hidden[:, :2], hidden[:, 2])) is None


def test_a_box_off_the_picture_finds_nobody(detector):
    image = np.full((120, 160, 3), 90, dtype=np.uint8)
    assert detector._in_box(image, np.array([400.0, 300, 460, 420])) == []
    assert detector._in_box(image, np.array([10.0, 10, 10, 10])) == []


def _walking(messi5: np.ndarray, steps: int, shift: int) -> list[np.ndarray]:
    """The player pasted on a grey canvas, ``shift`` px further right each frame."""
    h, w = messi5.shape[:2]
    frames = []
    for t in range(steps):
        canvas = np.full((h + 40, w + shift * steps + 40, 3), 128, dtype=np.uint8)
        canvas[20:20 + h, 20 + shift * t:20 + shift * t + w] = messi5
        frames.append(canvas)
    return frames


def test_a_moving_person_is_followed_without_full_scans(detection, detector, messi5):
    from smplify.video_detection import VideoDetector

    # (confirm_within 4 = full_every: the spread scan's whole picture, every 2nd frame,
    # sees him again; a stricter confirm_within would drop him at frame 4)
    video = VideoDetector(detector, full_every=4, confirm_within=4)
    frames = _walking(messi5, 6, 12)
    (first,) = detector.detect(frames[0])
    tracks = [video.detect(f) for f in frames]
    assert video.frames == 6 and video.scans == 1  # the first frame only
    assert list(video.unconfirmed) == [] and video.dropped == 0
    assert [len(p) for p in tracks] == [1] * 6
    assert tracks[0][0].source == "image"
    assert {p[0].source for p in tracks[1:]} == {"follow"}
    for t, (person,) in enumerate(tracks):  # the same skeleton, moved with the player
        moved = first.keypoints[:, :2] + [12 * t, 0]
        gap = np.linalg.norm(person.keypoints[:, :2] - moved, axis=1)
        assert np.median(gap) < 0.03 * detection.box_diagonal(first.box), t


def test_a_lost_person_and_the_schedule_call_the_full_scan(detector, messi5):
    from smplify.video_detection import VideoDetector

    video = VideoDetector(detector, full_every=3, spread=False, search_lost=False)
    frames = _walking(messi5, 4, 5)
    for f in frames:
        video.detect(f)
    assert video.scans == 2  # frames 0 and 3
    blank = np.full_like(frames[0], 128)
    assert video.detect(blank) == [] and video.scans == 3  # lost: looked for everywhere
    for _ in range(2):  # someone new, nobody to follow: not seen before the next scan ...
        assert video.detect(frames[0]) == [] and video.scans == 3
    # ... 3 frames after the last one (frame 7)
    assert len(video.detect(frames[0])) == 1 and video.scans == 4
    video.reset()
    assert video.frames == 0 and len(video.detect(frames[1])) == 1 and video.scans == 1
    for bad in (0, 2.5, True, "3"):
        with pytest.raises(ValueError, match="full_every"):
            VideoDetector(detector, full_every=bad)


def test_the_spread_scan_finds_someone_new_without_a_full_scan(detector, messi5):
    from smplify.video_detection import VideoDetector

    video = VideoDetector(detector, full_every=10, spread=True)
    frames = _walking(messi5, 4, 5)
    assert video.detect(np.full_like(frames[0], 128)) == [] and video.scans == 1
    video.detect(frames[0])  # frame 1: a tenth of the small tiles (he is too large for them)
    (found,) = video.detect(frames[1])  # frame 2: the whole picture too
    assert found.source in ("image", "tile") and video.scans == 1  # (a wide canvas)
    (followed,) = video.detect(frames[2])
    assert followed.source == "follow" and video.scans == 1
    assert video.detect(np.full_like(frames[0], 128)) == [] and video.scans == 2  # lost


class _OnlyFarCrops:
    """A stand-in detector that finds ``person`` moved by ``shift`` only in a crop of
    SEARCH_MARGIN (a pedestrian MediaPipe misses in a tight crop), counting full scans."""

    max_people = 10

    def __init__(self, person, shift):
        self.person, self.shift, self.full = person, np.asarray(shift, dtype=float), 0

    def detect(self, rgb):
        self.full += 1
        return [self.person]

    def look_in_box(self, rgb, box, margin, source):
        from dataclasses import replace

        from smplify.video_detection import SEARCH_MARGIN

        if margin != SEARCH_MARGIN:
            return []
        moved = self.person.keypoints.copy()
        moved[:, :2] += self.shift
        return [replace(self.person, keypoints=moved, box=self.person.box
                        + np.tile(self.shift, 2), source=source)]

    def small_tile_grid(self, width, height):
        return []


def test_a_lost_person_is_searched_near_before_the_full_scan(detector, messi5):
    from smplify.video_detection import VideoDetector

    (player,) = detector.detect(messi5)
    for search, scans in ((True, 1), (False, 2)):
        stand_in = _OnlyFarCrops(player, (4.0, 0.0))
        video = VideoDetector(stand_in, full_every=10, spread=False,
                              search_lost=search)
        video.detect(messi5)
        (again,) = video.detect(messi5)
        assert stand_in.full == scans == video.scans
        assert again.source == ("follow" if search else player.source)
    with pytest.raises(ValueError, match="full_every"):
        VideoDetector(detector, full_every=0, spread=True)


def test_followed_pedestrians_are_those_of_the_full_scan(detection, detector):
    # vtest.avi frames 40-45: 1 full scan, then each pedestrian followed in a crop lies on
    # a pedestrian the full detector finds on that frame
    from smplify.person_nms import keypoint_similarity
    from smplify.video_detection import VideoDetector

    cv2 = need_module("cv2", "detect")
    capture = cv2.VideoCapture(str(opencv_sample("vtest.avi")))
    video = VideoDetector(detector, full_every=10)
    for index in range(46):
        ok, frame = capture.read()
        assert ok
        if index < 40:
            continue
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        people = video.detect(rgb)
    assert video.frames == 6 and video.scans < 6
    followed = [p for p in people if p.source == "follow"]
    assert len(followed) >= 2
    full = detector.detect(rgb)
    for p in followed:
        assert max(keypoint_similarity(p.keypoints, q.keypoints) for q in full) > 0.5
    for k, p in enumerate(people):  # one skeleton per person
        assert all(keypoint_similarity(p.keypoints, q.keypoints) <= 0.5
                   for q in people[k + 1:])


def test_a_scan_share_reports_known_people_and_skips_hog_at_max_people(detector, messi5,
                                                                         monkeypatch):
    (player,) = detector.detect(messi5)
    new, seen = detector._scan(messi5, [player], small_tiles=[])
    assert new == [] and seen == {0}  # found again: not new, seen
    full = [player] * detector.max_people  # max_people known: no HOG boxes looked at

    def no_hog(rgb):
        raise AssertionError("HOG at max_people")

    monkeypatch.setattr(detector, "people_boxes", no_hog)
    assert detector._scan(messi5, full, whole=False, small_tiles=[]) == ([], set())


def test_a_wide_frames_small_tile_grid_has_no_extra_row():
    # sports2d's 1768 x 994: 663 px of height over half-tiles of 165.5 px is 4.006 steps;
    # rounding that up gave a sixth row of tiles (60, not 50), overlapping the fifth by 99%
    from smplify import detection

    for width, height, count in ((1768, 994, 50), (1920, 1080, 50), (768, 576, 35)):
        tiles = detection._small_tiles(width, height, 1 / 3)
        assert len(tiles) == count
        covered = np.zeros((height, width), dtype=bool)
        for x0, y0, side in tiles:
            covered[y0:y0 + side, x0:x0 + side] = True
        assert covered.all()
        ys = sorted({y for _, y, _ in tiles})
        side = tiles[0][2]
        assert max(np.diff(ys)) <= 0.51 * side and min(np.diff(ys)) >= 0.45 * side


def _person(x0: float, y0: float, side: float):
    """A made-up skeleton: 33 sure keypoints on a grid filling the square box at (x0, y0)."""
    from smplify.detection import Person

    u = np.linspace(0.0, 1.0, 33)
    keypoints = np.column_stack([x0 + side * u, y0 + side * ((u * 7) % 1.0), np.ones(33)])
    box = np.array([x0, y0, x0 + side, y0 + side])
    return Person(keypoints=keypoints, world=np.zeros((33, 3)), box=box, source="image")


class _Scene:
    """A stand-in detector over a made-up scene: ``now`` is who is in the frame; a crop finds
    the person of ``now`` nearest its centre, if inside it; full scans are counted."""

    max_people = 10

    def __init__(self, now):
        self.now, self.full = now, 0

    scanned = None  # who the full scan finds (None: everyone of ``now``)

    def detect(self, rgb):
        self.full += 1
        return list(self.now if self.scanned is None else self.scanned)

    def look_in_box(self, rgb, box, margin, source):
        from dataclasses import replace

        centre, half = (box[:2] + box[2:]) / 2, margin * max(box[2:] - box[:2]) / 2
        inside = [p for p in self.now
                  if np.all(np.abs((p.box[:2] + p.box[2:]) / 2 - centre) < half)]
        if not inside:
            return []
        near = min(inside, key=lambda p: np.linalg.norm((p.box[:2] + p.box[2:]) / 2 - centre))
        return [replace(near, source=source)]


def test_a_followed_person_who_becomes_a_piece_of_another_is_scanned_for():
    """A small person walking into a larger one's box (a child passing in front of an adult)
    is dropped by the piece rule: that counts as not found, so the full scan looks for them,
    instead of their being forgotten until the next scheduled scan."""
    from smplify.video_detection import VideoDetector

    big, small = _person(0.0, 0.0, 200.0), _person(190.0, 20.0, 40.0)  # a quarter inside
    scene = _Scene([big, small])
    video = VideoDetector(scene, full_every=10, spread=False, search_lost=False)
    frame = np.zeros((240, 320, 3), dtype=np.uint8)
    assert len(video.detect(frame)) == 2 and scene.full == 1
    assert len(video.detect(frame)) == 2 and scene.full == 1  # both followed
    scene.now = [big, _person(175.0, 20.0, 40.0)]  # 15 px left: now mostly inside
    video.detect(frame)
    assert scene.full == 2  # lost as a piece: looked for everywhere


def test_frames_of_another_size_start_a_new_video():
    from smplify.video_detection import VideoDetector

    scene = _Scene([_person(20.0, 20.0, 100.0)])
    video = VideoDetector(scene, full_every=10, spread=False, search_lost=False)
    video.detect(np.zeros((240, 320, 3), dtype=np.uint8))
    (followed,) = video.detect(np.zeros((240, 320, 3), dtype=np.uint8))
    assert followed.source == "follow" and scene.full == 1
    (found,) = video.detect(np.zeros((480, 640, 3), dtype=np.uint8))  # another video
    assert found.source == "image" and scene.full == 2 and video.frames == 1


def test_look_in_box_names_a_bad_box_or_margin(detector, messi5):
    for bad in ([1.0, 2.0, 3.0], [0.0, 0.0, np.nan, 10.0], "box", [[0, 0, 1, 1]]):
        with pytest.raises(ValueError, match="box"):
            detector.look_in_box(messi5, bad)
    for bad in (0, -1.0, np.inf, True, "2"):
        with pytest.raises(ValueError, match="margin"):
            detector.look_in_box(messi5, [10.0, 10.0, 100.0, 200.0], margin=bad)


def test_a_followed_person_no_scan_sees_is_dropped():
    """A false skeleton the first scan found and the crop keeps finding (a sign panel) is
    followed only until ``confirm_within`` frames have passed without a scan seeing it; it is
    then forgotten, not searched for (no full scan called for it)."""
    from smplify.video_detection import VideoDetector

    ghost, real = _person(20.0, 20.0, 100.0), _person(180.0, 20.0, 100.0)
    frame = np.zeros((240, 320, 3), dtype=np.uint8)
    for within, kept in ((4, [1, 1, 1]), (None, [2, 2, 2])):
        scene = _Scene([ghost, real])
        video = VideoDetector(scene, full_every=3, spread=False, search_lost=False,
                              confirm_within=within)
        assert len(video.detect(frame)) == 2
        scene.scanned = [real]  # from now on the full scan sees the real person only
        counts = [len(video.detect(frame)) for _ in range(6)]  # frames 1-6, scans at 3, 6
        assert counts == [2, 2, 2] + kept and scene.full == 3
        assert [(t, list(box)) for t, box in video.unconfirmed] == (
            [(4, list(ghost.box))] if within else [])
        assert video.dropped == (1 if within else 0)
    with pytest.raises(ValueError, match="confirm_within"):
        VideoDetector(scene, confirm_within=0)
    # below the scan cycle: a person only the small tiles find would be dropped between
    # their tiles' turns
    with pytest.raises(ValueError, match=r"confirm_within: .*>= full_every \(10"):
        VideoDetector(scene, confirm_within=5)
    assert VideoDetector(scene, full_every=5, confirm_within=5).confirm_within == 5
