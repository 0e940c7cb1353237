"""People in the frames of a video: each person followed from frame to frame in a crop, the
whole-picture scan only now and then (``smplify[detect]``).

:class:`smplify.detection.Detector` looks for people everywhere in a picture: the whole
image, its square halves, a grid of small tiles, HOG people boxes, and re-looks at each
skeleton; ~0.5 s of CPU for a 768 x 576 frame, ~1 s for a 1768 x 994 one. In a video most
of that finds again the people of the frame before. :class:`VideoDetector` does what
MediaPipe's own tracking mode and top-down video pipelines do instead:

1. every person of the last frame is looked for again with the one-person landmarker in a
   square crop around where they should now be: their last box (of confident keypoints)
   moved by their last frame-to-frame motion of its centre, the crop ``FOLLOW_MARGIN``
   times the box's longer side (:meth:`smplify.detection.Detector.look_in_box`). The
   person found there continues them when their skeleton lies where the last one, moved
   the same way, lay (median keypoint distance under ``FOLLOW_DISTANCE`` of its box
   diagonal) and is of a like size (box diagonal within ``FOLLOW_SIZE`` times either way);
   its source is "follow";
2. the full scan (``Detector.detect``) runs on the first frame, every ``full_every`` frames
   after it, and on any frame where a followed person is not found again (lost: occluded,
   out of the picture, or merged into a neighbour's crop), so a new person appears within
   ``full_every`` frames and a lost one is looked for everywhere at once. Its people and the
   followed ones are merged by the detector's keypoint NMS and piece rule
   (``smplify.person_nms``): a person the scan misses on that frame but the crop finds is
   kept.

Two options, on by default (``spread``, ``search_lost``; see :class:`VideoDetector`), change
step 2: the full scan's parts are spread over the frames (a tenth of the small tiles each
frame, the whole picture every 2nd, the HOG boxes every 10th) instead of the scan every
``full_every`` frames, and a lost person is looked for near where they should be (a 3x crop,
a small tile centred on them) before the full scan is called for them. Held-out
(docs/video.md): the share of the photo detector's people kept frame by frame 85 -> 90%
(vtest) at the same mean CPU, 93 -> 95% (sports2d) at 1.3x; recall unchanged.

People are returned largest first, as ``Detector.detect``'s. Photos (unrelated pictures)
want ``Detector.detect``: the follow step assumes each frame continues the last.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .detection import Detector, Person, load_image, merge_people
from .person_nms import MEDIAPIPE_MIRROR, box_diagonal, box_inside, same_person

__all__ = ["FULL_EVERY", "VideoDetector"]

#: frames between full scans (a new person is found within this many frames)
FULL_EVERY = 10
#: a followed person's crop: this many times their box's longer side
FOLLOW_MARGIN = 1.5
#: the person found in the crop continues the followed one when the median distance of the
#: keypoints both see confidently, from the last frame's moved by the predicted motion, is
#: under this share of the last box's diagonal ...
FOLLOW_DISTANCE = 0.3
#: ... and their box diagonals are within this factor of each other
FOLLOW_SIZE = 1.5
#: not found in that crop: looked for again in one this many times the box's side
RETRY_MARGIN = 2.0
#: a followed person not found this many frames running is lost: searched for near where
#: they should be (``search_lost``), then the full scan runs
LOST_AFTER = 1
#: the spread scan (``spread``): the whole picture (and a long one's square tiles) every
#: this many frames
WHOLE_EVERY = 2
#: the local search for a lost person (``search_lost``): the one-person landmarker in a crop
#: this many times their predicted box's longer side, ...
SEARCH_MARGIN = 3.0
#: ... then the multi-person landmarker in a small tile (the grid's side) centred on it when
#: their box's longer side is at most this share of the tile's side
SEARCH_TILE_FILL = 0.8
#: ... and one whose predicted box lies less than this share inside the picture is gone
GONE_INSIDE = 0.5
#: ``VideoDetector.unconfirmed`` keeps the last this many people dropped (``dropped`` counts
#: them all), so a long video does not grow it without limit
UNCONFIRMED_KEPT = 1000
_SURE = 0.5  # keypoints at least this visible are compared


def _centre(box: NDArray[np.float64]) -> NDArray[np.float64]:
    return (box[:2] + box[2:]) / 2


def _continues(last: Person, motion: NDArray[np.float64], found: Person) -> bool:
    """Whether ``found`` is ``last`` moved by ``motion`` (pixels): near and of a like size."""
    diagonal = box_diagonal(last.box)
    if not 1.0 / FOLLOW_SIZE <= box_diagonal(found.box) / max(diagonal, 1e-9) <= FOLLOW_SIZE:
        return False
    moved = last.keypoints[:, :2] + motion
    for labelled in (found.keypoints, found.keypoints[MEDIAPIPE_MIRROR]):  # as labelled,
        # and left/right swapped (MediaPipe confuses a walker's front and back)
        both = (last.keypoints[:, 2] >= _SURE) & (labelled[:, 2] >= _SURE)
        if both.sum() >= 2 and float(np.median(np.linalg.norm(
                moved[both] - labelled[both, :2], axis=1))) < FOLLOW_DISTANCE * diagonal:
            return True
    return False


class VideoDetector:
    """Every person of each frame of one video, in order (see the module docstring).

    Parameters
    ----------
    detector : Detector, optional
        The full scan and the one-person landmarker; default ``Detector()``.
    full_every : int
        With ``spread=False``: frames from one full scan to the next at the most (1: every
        frame, ``Detector.detect`` plus the follow step). With ``spread`` (the default) the
        period over which the spread scan's parts go round once (a tenth of the small tiles
        each frame for 10); the full scan then runs on the first frame and for lost people.
    lost_after : int
        A followed person not found on this many frames running is lost: looked for near
        where they should be (``search_lost``), then by the full scan (1: on the first
        frame they are missed).
    spread : bool
        (Default True.) Spread the full scan over the frames instead of running it every
        ``full_every`` frames: frame ``t`` after the first looks in every
        ``full_every``-th small tile (from the ``t % full_every``-th), the whole picture
        every ``WHOLE_EVERY`` frames and the HOG boxes once every ``full_every`` frames;
        new people found there are checked as the full scan's are (one body, whole again).
        The full scan then runs on the first frame and for lost people only.
    search_lost : bool
        (Default True.) Look for a lost person near where they should be first (a crop
        ``SEARCH_MARGIN`` times their box, then a small tile centred on them); the full
        scan runs only when that fails. A person whose predicted box lies less than
        ``GONE_INSIDE`` inside the picture has left it: forgotten, no full scan.
    confirm_within : int or None
        A followed person whom no scan (the full scan, or with ``spread`` the frame's share
        of it) has seen again (a scanned skeleton with keypoint similarity above
        ``person_nms.DUPLICATE_SIMILARITY`` to theirs) for this many frames is dropped and
        forgotten (not searched for): a false skeleton (a sign panel) the crop keeps
        finding is not followed for ever. None (the default): never (the crop alone keeps a
        person). At least ``full_every``: a person whom only the small tiles find gets a
        scan look once every ``full_every`` frames (their tiles' turn, with ``spread``; the
        full scan, without), so fewer frames drop real people between their turns (N = 5,
        below vtest's cycle of 10, dropped 28 real pedestrians held out: docs/video.md).
        Only a skeleton similar to theirs counts as seen: a scanned piece of them (inside
        their box) does not, as a large false skeleton spread over several real people
        would be confirmed by their pieces.

    Attributes
    ----------
    frames : int
        Frames seen.
    scans : int
        Of them, those given the full scan.
    unconfirmed : deque of (int, (4,) ndarray)
        The frame and box of each person dropped by ``confirm_within``, the last
        ``UNCONFIRMED_KEPT`` of them.
    dropped : int
        People dropped by ``confirm_within`` since the video began (all of them).

    Raises
    ------
    DetectorUnavailable
        mediapipe (``smplify[detect]``) is not installed.
    """

    def __init__(self, detector: Detector | None = None, full_every: int = FULL_EVERY,
                 lost_after: int = LOST_AFTER, spread: bool = True,
                 search_lost: bool = True, confirm_within: int | None = None):
        for name, value in (("full_every", full_every), ("lost_after", lost_after)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                    or value < 1:
                raise ValueError(f"{name}: expected an integer >= 1, got {value!r}")
        self.detector = detector if detector is not None else Detector()
        self.full_every = int(full_every)
        self.lost_after = int(lost_after)
        self.spread = bool(spread)
        self.search_lost = bool(search_lost)
        if confirm_within is not None and (
                isinstance(confirm_within, bool)
                or not isinstance(confirm_within, (int, np.integer))
                or confirm_within < self.full_every):
            raise ValueError(
                f"confirm_within: expected None or an integer >= full_every "
                f"({self.full_every}; a person only the small tiles find is scanned once "
                f"every full_every frames, so fewer drops real people), got "
                f"{confirm_within!r}")
        self.confirm_within = None if confirm_within is None else int(confirm_within)
        self.frames = 0
        self.scans = 0
        self._since_scan = self.full_every  # frames since the last full scan
        self._shape: tuple[int, ...] | None = None  # the frames' (H, W, 3): another is a new video
        # the people to follow: each one's last sighting, last frame-to-frame motion
        # (pixels), frames missed since and frames since a scan last saw them
        self._last: list[tuple[Person, NDArray[np.float64], int, int]] = []
        self.unconfirmed: deque[tuple[int, NDArray[np.float64]]] = deque(
            maxlen=UNCONFIRMED_KEPT)
        self.dropped = 0

    def reset(self) -> None:
        """Forget the people followed: the next frame starts a new video."""
        self.frames, self.scans, self._last, self.dropped = 0, 0, [], 0
        self.unconfirmed.clear()
        self._since_scan = self.full_every
        self._shape = None

    def detect(self, image: Any) -> list[Person]:
        """The people of the video's next frame (a path or RGB pixels, see
        :func:`smplify.detection.load_image`).

        Returns
        -------
        list of Person
            Largest (keypoint box area) first; source "follow" for people found in their
            crop (the others' as ``Detector.detect``'s).
        """
        rgb = load_image(image)
        if self._shape is not None and rgb.shape != self._shape:
            self.reset()  # frames of another size: another video, nobody to follow
        self._shape = rgb.shape
        followed: list[tuple[Person, NDArray[np.float64], int]] = []  # found, motion, of
        for k, (last, motion, missed, _) in enumerate(self._last):
            moved = motion * (missed + 1)
            found = self._follow(rgb, last, moved)
            if found is None and self.search_lost and missed + 1 >= self.lost_after:
                found = self._search(rgb, last, moved)
            if found is not None:
                followed.append((found, (_centre(found.box) - _centre(last.box))
                                 / (missed + 1), k))
        # Two followed people on one skeleton, or one a piece of another (passing in front
        # of them): the one dropped is missing, as if not found (so the search or scan runs).
        survivors = {id(p) for p in merge_people([p for p, _, _ in followed])}
        followed = [f for f in followed if id(f[0]) in survivors]
        kept = {k for _, _, k in followed}
        missing = [(last, motion, missed + 1, unseen + 1) for k, (last, motion, missed, unseen)
                   in enumerate(self._last) if k not in kept]
        people = [p for p, _, _ in followed]
        # frames since a scan (the full one, or the spread one's share) last saw each person
        unseen = {id(p): self._last[k][3] + 1 for p, _, k in followed}
        if self.search_lost:  # gone out of the picture: no scan to find them
            picture = np.array([0.0, 0.0, rgb.shape[1], rgb.shape[0]])
            missing = [m for m in missing
                       if box_inside(picture, m[0].box + np.tile(m[1] * m[2], 2))
                       >= GONE_INSIDE]
        lost = any(missed >= self.lost_after for _, _, missed, _ in missing)
        if lost or self.frames == 0 or (not self.spread
                                        and self._since_scan >= self.full_every):
            self.scans, self._since_scan = self.scans + 1, 0
            scanned = self.detector.detect(rgb)
            for person in people:  # seen again by the scan as `_scan` sees its `known`
                if any(same_person(person.keypoints, s.keypoints) for s in scanned):
                    unseen[id(person)] = 0
            people = merge_people(scanned + people)[:self.detector.max_people]
            missing = []  # looked for everywhere: found, or gone
        else:
            if self.spread:
                new, seen = self._scan_share(rgb, people)
                for k in seen:
                    unseen[id(people[k])] = 0
                people = people + new
            people = merge_people(people)[:self.detector.max_people]
        if self.confirm_within is not None:  # followed, but no scan has seen them lately
            gone = [p for p in people if unseen.get(id(p), 0) >= self.confirm_within]
            self.unconfirmed.extend((self.frames, p.box) for p in gone)
            self.dropped += len(gone)
            people = [p for p in people if unseen.get(id(p), 0) < self.confirm_within]
        self.frames, self._since_scan = self.frames + 1, self._since_scan + 1
        motions = [(p, m) for p, m, _ in followed]
        self._last = [(p, _motion_of(p, motions), 0, unseen.get(id(p), 0))
                      for p in people] + missing
        return people

    def _follow(self, rgb: NDArray[np.uint8], last: Person, motion: NDArray[np.float64]
                ) -> Person | None:
        """``last`` found again in a crop around their box moved by ``motion`` (pixels):
        FOLLOW_MARGIN, then RETRY_MARGIN; None when not."""
        box = last.box + np.tile(motion, 2)
        for margin in (FOLLOW_MARGIN, RETRY_MARGIN):
            for found in self.detector.look_in_box(rgb, box, margin=margin, source="follow"):
                if _continues(last, motion, found):
                    return found
        return None

    def _search(self, rgb: NDArray[np.uint8], last: Person, motion: NDArray[np.float64]
                ) -> Person | None:
        """``last``, not found by :meth:`_follow`, looked for near where they should be: a
        crop SEARCH_MARGIN times their moved box, then (small enough) the multi-person
        landmarker in a small tile centred on it; None when not found."""
        detector = self.detector
        box = last.box + np.tile(motion, 2)
        for found in detector.look_in_box(rgb, box, margin=SEARCH_MARGIN, source="follow"):
            if _continues(last, motion, found):
                return found
        height, width = rgb.shape[:2]
        grid = detector.small_tile_grid(width, height)
        if not grid or max(box[2] - box[0], box[3] - box[1]) > SEARCH_TILE_FILL * grid[0][2]:
            return None
        side = grid[0][2]
        x0, y0 = np.clip(_centre(box) - side / 2, 0, [max(width - side, 0),
                                                       max(height - side, 0)]).round()
        for found in detector._small_tile_people(rgb, [(int(x0), int(y0), side)]):
            if _continues(last, motion, found):
                return replace(found, source="follow")
        return None

    def _scan_share(self, rgb: NDArray[np.uint8], people: list[Person]
                    ) -> tuple[list[Person], set[int]]:
        """This frame's share of the spread full scan (see ``spread``): the new people it
        finds (not one of ``people`` found again, nor a piece of one), checked as
        ``Detector.detect`` checks its own (``Detector._scan``; not yet merged with each
        other: the caller's ``merge_people`` does), and the indices of the ``people`` it
        saw again."""
        detector = self.detector
        phase = self.frames % self.full_every
        grid = detector.small_tile_grid(rgb.shape[1], rgb.shape[0])
        return detector._scan(rgb, people, whole=phase % WHOLE_EVERY == 0,
                              small_tiles=grid[phase::self.full_every],
                              hog=phase == self.full_every // 2)

    def close(self) -> None:
        """Free the detector's MediaPipe graphs."""
        self.detector.close()


def _motion_of(person: Person, followed: list[tuple[Person, NDArray[np.float64]]]
               ) -> NDArray[np.float64]:
    """The last motion of ``person``: theirs if followed into this frame, else that of the
    followed person they coincide with (a scan's skeleton of them kept by the NMS), else 0."""
    for found, motion in followed:
        if found is person:
            return motion
    for found, motion in followed:
        if same_person(found.keypoints, person.keypoints):
            return motion
    return np.zeros(2)
