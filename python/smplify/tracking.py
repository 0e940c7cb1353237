"""Who is who from frame to frame: people's keypoints matched to tracks.

A SORT / ByteTrack-style tracker on the boxes of people's confident keypoints. Each track's
box moves at constant velocity (``smplify.box_motion``, a Kalman filter); every frame the
tracks are predicted one frame ahead and the people matched to them by the Hungarian
algorithm on

    cost(track, person) = (1 - IoU(b̂_t, b_p)) + min(1, d / s)

with ``b̂_t`` the track's predicted box, ``b_p`` the person's, ``d`` the median distance
between the keypoints both have (the track's last seen keypoints moved with its predicted
box) and ``s`` the diagonal of the predicted box. A pair may match when

- the skeletons are of one size: on the keypoints both have confidently (when there are
  ``min_size_points`` or more), the RMS spread about their centroid differs by at most
  ``max_size_ratio`` (a person twice as near the camera, passing where someone was lost,
  does not take their track over), and
- the person is near the prediction: IoU >= ``min_iou``, or d < ``max_distance`` · s, or
  the box's centre within the filter's uncertainty (squared Mahalanobis distance <
  ``gate``; the uncertainty grows while a track goes unseen) and within
  (``max_distance`` + ``reach`` · seconds unseen) · s of the predicted centre (the filter's
  uncertainty alone, after a second unseen, would let a track jump across the picture).

A person whose keypoints lie on a stronger person's (on the keypoints both have confidently,
when there are 3 or more: with fewer, two people side by side could share them by chance;
median distance under ``duplicate_distance`` of the smaller box's diagonal: a detector
finding one person twice, in the whole picture and in a tile) is a duplicate: no id, no
track (``smplify.person_nms.coinciding``, where the detector's own rules live too).

People whose mean keypoint confidence is below ``min_score`` are matched in a second round,
to the tracks the others left (ByteTrack: a weak detection continues a track but never
starts one; the default 0 makes everyone strong, one round). A person left unmatched starts
a *tentative* track; it gets an id when it has been seen ``min_hits`` frames running (a
one-frame false detection gets none) and is dropped if it misses a frame before that. The
strong, non-duplicate people of the tracker's first frame get ids at once (a video's people
already in view), and so do the tentative tracks seen on its last frame
(:meth:`Tracker.finish`). Keypoints are (K, 3) arrays of one K throughout; a missing
keypoint has confidence 0 (its coordinates, even NaN, are then ignored). A confirmed track
unseen for more than ``max_missed`` frames (default: ``lost_seconds`` at the video's
``fps``) ends; ids count up from 0 in order of confirmation and are never reused. While a
track is unseen its box's size rates are held at 0 (ByteTrack): only its centre moves on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from .box_motion import BoxMotion
from .person_nms import coinciding

__all__ = ["Tracker", "keypoint_box", "skeleton_spread", "track_all"]

MIN_CONFIDENCE = 0.3  # keypoints below this do not shape a person's box or size
_NO_MATCH = 1e6


def keypoint_box(keypoints: NDArray[np.float64]) -> NDArray[np.float64]:
    """(4,) x0, y0, x1, y1 of the confident keypoints of a (K, 3) array (all if too few)."""
    kp = np.asarray(keypoints, dtype=np.float64)
    seen = kp[kp[:, 2] >= MIN_CONFIDENCE, :2]
    if len(seen) < 2:
        seen = kp[kp[:, 2] > 0, :2]
    if len(seen) == 0:
        seen = kp[:, :2]
    return np.concatenate([seen.min(axis=0), seen.max(axis=0)])


def skeleton_spread(points: NDArray[np.float64]) -> float:
    """RMS distance (pixels) of (N, 2) points from their centroid: a skeleton's size."""
    return float(np.sqrt(np.mean(np.sum((points - points.mean(axis=0)) ** 2, axis=1))))


def _iou(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(w, 0.0) * max(h, 0.0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _score(kp: NDArray[np.float64]) -> float:
    """A person's detection score: the mean confidence of the keypoints it has."""
    c = kp[:, 2]
    return float(c[c > 0].mean()) if (c > 0).any() else 0.0


@dataclass
class _Track:
    keypoints: NDArray[np.float64]  # (K, 3) last seen
    box: NDArray[np.float64]  # (4,) last seen
    motion: BoxMotion
    id: int = -1  # -1 while tentative
    hits: int = 1  # sightings so far (while tentative: frames running, as a miss ends it)
    missed: int = 0  # frames unseen since last seen
    predicted: NDArray[np.float64] = field(default_factory=lambda: np.zeros(4))
    # while tentative: (frame number, person index) of its sightings
    sightings: list[tuple[int, int]] = field(default_factory=list)


class Tracker:
    """Track ids for the people of successive frames (see the module docstring).

    After each :meth:`update`, ``earlier`` maps the id of every track confirmed in that
    frame to its sightings while tentative, ``(frame number, person index)`` (frame number:
    0 for the first ``update``), so a caller can fit those frames too.

    Parameters
    ----------
    max_missed : int, optional
        Frames a confirmed track may go unseen (occluded, missed by the detector) and
        still continue; default ``ceil(lost_seconds · fps)``.
    min_iou : float
        Overlap of a person's box with a track's predicted box above which they may match.
    max_distance : float
        Median keypoint distance from the track's predicted keypoints, over the predicted
        box's diagonal, below which they may match.
    fps : float
        The video's frame rate (frames per second); sets the default ``max_missed``.
    lost_seconds : float
        Seconds a lost track is kept for re-matching (when ``max_missed`` is not given).
    min_hits : int
        Frames running a new person must be seen before their track gets an id (1: at once).
    max_size_ratio : float
        Largest ratio of skeleton sizes (either way) between a track and a person it takes.
    gate : float
        Squared Mahalanobis distance of a box centre from the track's prediction within
        which a person may match (χ², 2 degrees of freedom: 5.99 is its 95% point).
    min_score : float
        People whose mean keypoint confidence (over the keypoints they have) is below this
        are matched second and never start a track (0: one round, everyone may start one).
    reach : float
        How far beyond its predicted box a lost track may be taken up, in box diagonals per
        second unseen.
    duplicate_distance : float
        Median keypoint distance, over the smaller box's diagonal, below which two people of
        a frame are one person found twice (0: never).
    min_size_points : int
        Keypoints a track and a person must both have confidently for their sizes to be
        compared (fewer: a few limbs' spread changes with the pose, not the distance).

    Notes
    -----
    The defaults were chosen on the tune half of ``benchmarks/tracking_scenes.py``
    (``benchmarks/tune_tracker.py``); ``benchmarks/bench_tracker.py`` scores them on the
    test half and on two real videos (benchmarks/README.md). Before (one round, no motion
    model): ``max_missed`` 5 frames at any frame rate, ``max_distance`` 0.5, every person
    an id at once. ``min_score`` is 0 (one round): on the test half 0 scores IDF1 0.967
    against 0.960 for 0.5, which sat on the scene generator's own confidence boundary, and
    with 0.5 a person a detector is never sure of (OpenPose on small people; 0.45 in a
    photo) never started a track and was never fitted.
    """

    def __init__(self, max_missed: int | None = None, min_iou: float = 0.3,
                 max_distance: float = 0.3, *, fps: float = 30.0, lost_seconds: float = 2.0,
                 min_hits: int = 2, max_size_ratio: float = 1.5, gate: float = 5.99,
                 min_score: float = 0.0, reach: float = 0.25,
                 duplicate_distance: float = 0.1, min_size_points: int = 6):
        if isinstance(fps, bool) or not isinstance(fps, (int, float, np.integer, np.floating)) \
                or not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"fps: expected a frame rate > 0, got {fps!r}")
        if not (math.isfinite(lost_seconds) and lost_seconds >= 0):
            raise ValueError(f"lost_seconds: expected seconds >= 0, got {lost_seconds!r}")
        if max_missed is None:
            max_missed = math.ceil(lost_seconds * fps)
        if int(max_missed) < 0:
            raise ValueError(f"max_missed: expected an integer >= 0, got {max_missed!r}")
        if int(min_hits) < 1:
            raise ValueError(f"min_hits: expected an integer >= 1, got {min_hits!r}")
        for name, value in (("min_iou", min_iou), ("max_distance", max_distance),
                            ("gate", gate), ("min_score", min_score), ("reach", reach),
                            ("duplicate_distance", duplicate_distance)):
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}")
        if not max_size_ratio >= 1.0:
            raise ValueError(f"max_size_ratio: expected a ratio >= 1, got {max_size_ratio!r}")
        self.max_missed = int(max_missed)
        self.min_iou = float(min_iou)
        self.max_distance = float(max_distance)
        self.min_hits = int(min_hits)
        self.max_size_ratio = float(max_size_ratio)
        self.gate = float(gate)
        self.min_score = float(min_score)
        self.fps = float(fps)
        self.reach = float(reach)
        self.duplicate_distance = float(duplicate_distance)
        self.min_size_points = int(min_size_points)
        self._tracks: list[_Track] = []
        self._next_id = 0
        self._frames = 0
        self._points: int | None = None  # keypoints per person (K), fixed by the first
        self._earlier: dict[int, list[tuple[int, int]]] = {}

    def _cost(self, track: _Track, kp: NDArray[np.float64],
              box: NDArray[np.float64]) -> float:
        """The pair's cost, or ``_NO_MATCH`` when it may not match."""
        both = (track.keypoints[:, 2] > 0) & (kp[:, 2] > 0)
        if not both.any():
            return _NO_MATCH
        sure = (track.keypoints[:, 2] >= MIN_CONFIDENCE) & (kp[:, 2] >= MIN_CONFIDENCE)
        if sure.sum() >= self.min_size_points:
            old, new = skeleton_spread(track.keypoints[sure, :2]), skeleton_spread(kp[sure, :2])
            if max(old, new) > self.max_size_ratio * max(min(old, new), 1e-9):
                return _NO_MATCH
        pred = track.predicted
        shift = (pred[:2] + pred[2:] - track.box[:2] - track.box[2:]) / 2
        diag = float(np.hypot(*(pred[2:] - pred[:2]))) or 1.0
        near = float(np.median(np.linalg.norm(track.keypoints[both, :2] + shift
                                              - kp[both, :2], axis=1))) / diag
        iou = _iou(pred, box)
        if iou >= self.min_iou or near < self.max_distance:
            return (1.0 - iou) + min(1.0, near)
        centre = float(np.hypot(*((box[:2] + box[2:] - pred[:2] - pred[2:]) / 2)))
        reach = self.max_distance + self.reach * track.missed / self.fps
        if centre < reach * diag and track.motion.distance(box) < self.gate:
            return (1.0 - iou) + min(1.0, near)
        return _NO_MATCH

    def _match(self, tracks: list[int], people: list[int], kps: list[NDArray[np.float64]],
               boxes: list[NDArray[np.float64]]) -> list[tuple[int, int]]:
        """Hungarian matching of ``tracks`` to ``people`` (indices); the accepted pairs."""
        if not tracks or not people:
            return []
        cost = np.array([[self._cost(self._tracks[i], kps[j], boxes[j]) for j in people]
                         for i in tracks])
        rows, cols = linear_sum_assignment(cost)
        return [(tracks[r], people[c]) for r, c in zip(rows, cols, strict=True)
                if cost[r, c] < _NO_MATCH]

    def update(self, people: Sequence[NDArray[np.float64]]) -> list[int]:
        """Assign a track id to each person of a frame.

        Parameters
        ----------
        people : sequence of (K, 3) float64
            One frame's keypoints per person (pixels, confidence), all of one format.

        Returns
        -------
        list of int
            Track id per person, in the order given; -1 for a person not (yet) on a
            confirmed track (seen fewer than ``min_hits`` frames running, a weak detection
            nobody's track took, a duplicate). The tracks confirmed by this frame are in
            :attr:`earlier`, with their sightings before it.
        """
        kps = [np.asarray(p, dtype=np.float64) for p in people]
        for j, kp in enumerate(kps):
            if kp.ndim != 2 or kp.shape[1] != 3 or kp.shape[0] == 0:
                raise ValueError(f"people[{j}]: expected a (K, 3) array with K >= 1, got shape "
                                 f"{kp.shape}")
            if self._points is None:
                self._points = kp.shape[0]
            elif kp.shape[0] != self._points:
                raise ValueError(f"people[{j}]: expected {self._points} keypoints (the format of "
                                 f"the earlier people), got {kp.shape[0]}")
            if not np.all(np.isfinite(kp[kp[:, 2] != 0])):
                raise ValueError(f"people[{j}]: a keypoint with confidence other than 0 has a "
                                 "NaN or infinite coordinate or confidence (give a missing "
                                 "keypoint confidence 0)")
            if not np.all(np.isfinite(kp)):  # missing keypoints (confidence 0) may be NaN
                kps[j] = kp = np.where(np.isfinite(kp), kp, 0.0)
        boxes = [keypoint_box(kp) for kp in kps]
        first = self._frames == 0
        frame = self._frames
        self._frames += 1
        self._earlier = {}
        for track in self._tracks:
            track.predicted = track.motion.predict()
        twice = coinciding(kps, boxes, self.duplicate_distance, MIN_CONFIDENCE)
        strong = [j for j, kp in enumerate(kps)
                  if j not in twice and _score(kp) >= self.min_score]
        weak = [j for j in range(len(kps)) if j not in twice and j not in strong]
        pairs = self._match(list(range(len(self._tracks))), strong, kps, boxes)
        left = sorted(set(range(len(self._tracks))) - {i for i, _ in pairs})
        pairs += self._match([i for i in left if self._tracks[i].id >= 0], weak, kps, boxes)

        ids = [-1] * len(kps)
        matched = set()
        for i, j in pairs:
            track = self._tracks[i]
            matched.add(i)
            track.keypoints, track.box, track.missed = kps[j], boxes[j], 0
            track.motion.update(boxes[j])
            track.hits += 1
            if track.id < 0:
                if track.hits >= self.min_hits:
                    track.id, self._next_id = self._next_id, self._next_id + 1
                    self._earlier[track.id] = track.sightings
                else:
                    track.sightings.append((frame, j))
            ids[j] = track.id
        kept = []
        for i, track in enumerate(self._tracks):
            if i not in matched:
                track.missed += 1
                if track.missed == 1:
                    track.motion.lose()
            if track.id >= 0 and track.missed <= self.max_missed or \
                    track.id < 0 and track.missed == 0:
                kept.append(track)
        self._tracks = kept
        taken = {j for _, j in pairs}
        for j in strong:
            if j in taken:
                continue
            track = _Track(kps[j], boxes[j], BoxMotion(boxes[j]), sightings=[(frame, j)])
            if first or self.min_hits <= 1:
                track.id, self._next_id = self._next_id, self._next_id + 1
                ids[j] = track.id
            self._tracks.append(track)
        return ids

    def finish(self) -> dict[int, list[tuple[int, int]]]:
        """End of the input: the tentative tracks seen on its last frames get ids (a person
        who came into view at the very end is not left out, as those of the first frame
        are not); returns their sightings, as :attr:`earlier`."""
        out = {}
        for track in self._tracks:
            if track.id < 0 and track.missed == 0:
                track.id, self._next_id = self._next_id, self._next_id + 1
                out[track.id] = track.sightings
        return out

    @property
    def earlier(self) -> dict[int, list[tuple[int, int]]]:
        """The tracks the last :meth:`update` confirmed: id -> their sightings while tentative,
        ``(frame number, person index)`` (read-only: a copy)."""
        return {k: list(v) for k, v in self._earlier.items()}

    @property
    def frames(self) -> int:
        """Frames seen so far (``update`` calls); a frame's number is the count before it."""
        return self._frames

    @property
    def live(self) -> list[int]:
        """Ids of the confirmed tracks still going (seen this frame or lost for now)."""
        return [t.id for t in self._tracks if t.id >= 0]

    @property
    def unseen(self) -> list[int]:
        """Ids of the confirmed tracks still going that were not seen this frame."""
        return [t.id for t in self._tracks if t.id >= 0 and t.missed > 0]


def track_all(frames: Sequence[Sequence[NDArray[np.float64]]], **options: object
              ) -> list[list[int]]:
    """Track ids for every person of a whole sequence at once (offline): as
    :meth:`Tracker.update` frame by frame, with the frames a track was seen in before it was
    confirmed given its id too, and the last frames' new people theirs (:meth:`Tracker.finish`).

    Parameters
    ----------
    frames : sequence of sequences of (K, 3) float64
        Per frame, its people's keypoints (pixels, confidence).
    **options
        :class:`Tracker`'s options (``fps`` above all).

    Returns
    -------
    list of list of int
        Per frame, the track id of each person (-1: none: a false or duplicate detection).
    """
    tracker = Tracker(**options)  # type: ignore[arg-type]
    ids: list[list[int]] = []
    confirmed: list[dict[int, list[tuple[int, int]]]] = []
    for people in frames:
        ids.append(tracker.update(people))
        confirmed.append(tracker.earlier)
    confirmed.append(tracker.finish())
    for earlier in confirmed:
        for track, sightings in earlier.items():
            for n, j in sightings:
                ids[n][j] = track
    return ids
