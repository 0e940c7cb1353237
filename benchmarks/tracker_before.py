"""The front end's tracker before issue 11's rework, kept as bench_tracker's baseline.

Hungarian matching on (1 - IoU) + keypoint distance of the last seen boxes, no motion model,
every unmatched person a new id at once, a track ended after ``max_missed`` = 5 unseen
frames whatever the frame rate (smplify.tracking at commit 18cd79c).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from smplify.tracking import _iou, keypoint_box


@dataclass
class _Track:
    id: int
    keypoints: NDArray[np.float64]
    box: NDArray[np.float64]
    missed: int = 0


class TrackerBefore:
    """The old tracker (module docstring).

    Parameters
    ----------
    max_missed : int
        Frames a track may go unseen (occluded, missed by the detector) and still continue.
    min_iou : float
        Box overlap above which a person may continue a track.
    max_distance : float
        Median keypoint distance, over the track's box diagonal, below which a person may
        continue a track (for fast movers whose boxes no longer overlap).
    """

    def __init__(self, max_missed: int = 5, min_iou: float = 0.3, max_distance: float = 0.5):
        if int(max_missed) < 0:
            raise ValueError(f"max_missed: expected an integer >= 0, got {max_missed!r}")
        self.max_missed = int(max_missed)
        self.min_iou = float(min_iou)
        self.max_distance = float(max_distance)
        self._tracks: list[_Track] = []
        self._next_id = 0

    def _cost(self, track: _Track, kp: NDArray[np.float64],
              box: NDArray[np.float64]) -> tuple[float, bool]:
        iou = _iou(track.box, box)
        both = (track.keypoints[:, 2] > 0) & (kp[:, 2] > 0)
        diag = float(np.hypot(*(track.box[2:] - track.box[:2]))) or 1.0
        if both.any():
            d = float(np.median(np.linalg.norm(track.keypoints[both, :2] - kp[both, :2],
                                               axis=1)))
        else:
            d = np.inf
        near = d / diag
        return (1.0 - iou) + min(1.0, near), (iou >= self.min_iou or near < self.max_distance)

    def update(self, people: Sequence[NDArray[np.float64]]) -> list[int]:
        """Track id per person of a frame ((K, 3) keypoints each), in the order given."""
        kps = [np.asarray(p, dtype=np.float64) for p in people]
        boxes = [keypoint_box(kp) for kp in kps]
        ids = [-1] * len(kps)
        if self._tracks and kps:
            cost = np.full((len(self._tracks), len(kps)), 1e6)
            for i, track in enumerate(self._tracks):
                for j, (kp, box) in enumerate(zip(kps, boxes, strict=True)):
                    c, ok = self._cost(track, kp, box)
                    if ok:
                        cost[i, j] = c
            rows, cols = linear_sum_assignment(cost)
            for i, j in zip(rows, cols, strict=True):
                if cost[i, j] < 1e6:
                    ids[j] = self._tracks[i].id
                    self._tracks[i].keypoints, self._tracks[i].box = kps[j], boxes[j]
                    self._tracks[i].missed = -1  # incremented back to 0 below
        for track in self._tracks:
            track.missed += 1
        self._tracks = [t for t in self._tracks if t.missed <= self.max_missed]
        for j, (kp, box) in enumerate(zip(kps, boxes, strict=True)):
            if ids[j] < 0:
                ids[j] = self._next_id
                self._tracks.append(_Track(self._next_id, kp, box))
                self._next_id += 1
        return ids

    @property
    def live(self) -> list[int]:
        """Ids of the tracks still going."""
        return [t.id for t in self._tracks]
