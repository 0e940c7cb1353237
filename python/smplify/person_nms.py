"""One skeleton per person: keypoint non-maximum suppression and a one-body check.

The detector (``smplify.detection``) finds people several ways (whole image, square tiles,
HOG people boxes) and so finds some people twice; its landmarker also sometimes lays one
skeleton over two people standing close (a head on one, the feet on the other). Both are
judged here by an OKS-like keypoint similarity (COCO's object keypoint similarity with one
falloff for every keypoint):

    sim(a, b) = mean_{k in C} exp(-|p_a,k - p_b,k|^2 / (2 (kappa s)^2))

over the keypoints ``C`` confident (visibility >= ``MIN_VISIBILITY``) in both skeletons,
``p`` in pixels, ``s`` the diagonal of the smaller of the two skeletons' boxes (of their
confident keypoints) and ``kappa`` = ``KAPPA``: two skeletons whose keypoints lie ~0.1 of a
diagonal apart score exp(-1/2) = 0.61. Fewer than ``MIN_COMMON`` shared keypoints: 0. For
MediaPipe's 33 keypoints ``b`` is also compared with its left and right labels swapped
(``MEDIAPIPE_MIRROR``) and the better of the two counts: MediaPipe confuses a person's front
and back, and the same body labelled the other way round is still the same person.

- :func:`same_person`: ``sim`` above ``threshold`` (``DUPLICATE_SIMILARITY``): one person
  found twice.
- :func:`suppress_duplicates`: of each such pair the weaker (sum of visibilities: confident
  and complete) is dropped, strongest first (greedy NMS).
- :func:`one_body`: a skeleton is one person when the landmarker, given the skeleton's own
  box as a person crop, finds it again: ``sim`` above ``threshold`` on the upper body
  (MediaPipe's keypoints 0-22) and on the legs (23-32) each, so that a skeleton with its
  head and arms on one person and its legs on another is not passed by its upper body's
  majority of the keypoints. A skeleton spread over two people is re-found as one of them,
  or as nobody.
- :func:`parts_of_others`: a skeleton whose box lies mostly (more than ``PART_OVERLAP`` of
  its area) inside the box of a skeleton ``PART_SIZE`` times larger (box diagonal) is a
  piece of that person (a leg half a small tile found as a small crouching "person", a
  waist-up crop), whatever found either; no keypoint similarity is needed, the piece's
  skeleton is often laid over the part in another pose (similarity ~0.2).
- :func:`coinciding`: the tracker's duplicate rule, for any keypoint format: two skeletons
  whose shared confident keypoints lie within a share of the smaller box's diagonal of each
  other (median distance) are one person found twice.

Pure NumPy, no detector needed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from .keypoint_box import keypoint_diagonal

__all__ = ["box_diagonal", "box_inside", "coinciding", "keypoint_similarity", "one_body",
           "parts_of_others", "same_person", "strength", "suppress_duplicates"]

MIN_VISIBILITY = 0.5  # keypoints below this are not compared
KAPPA = 0.1  # the similarity's falloff, a share of the smaller skeleton's box diagonal
MIN_COMMON = 4  # fewer shared confident keypoints: no evidence, similarity 0
DUPLICATE_SIMILARITY = 0.5  # above: one person found twice
ONE_BODY_SIMILARITY = 0.5  # re-found in its own box at least this well: one body
#: a box more than this share inside a PART_SIZE times larger one is a piece of that person
PART_OVERLAP = 0.5
#: (box diagonal; sports2d frame 185's leg half is 1.49x smaller than the man it is part
#: of; benchmarks/detector_recall.py's tune frames score the same from 1.2 to 1.5)
PART_SIZE = 1.3
#: MediaPipe33's upper body (face, shoulders, arms, hands) and legs (hips to toes)
MEDIAPIPE_PARTS = (np.arange(0, 23), np.arange(23, 33))
#: MediaPipe33's keypoint k of a person labelled the other way round (left <-> right)
MEDIAPIPE_MIRROR = np.array([0, 4, 5, 6, 1, 2, 3, 8, 7, 10, 9]
                            + [k + 1 if k % 2 else k - 1 for k in range(11, 33)])


def _skeleton(keypoints: object, name: str) -> NDArray[np.float64]:
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.ndim != 2 or kp.shape[1] != 3 or len(kp) < 1:
        raise ValueError(f"{name}: expected a (K, 3) array of x, y, visibility, got shape "
                         f"{kp.shape}")
    if not (np.isfinite(kp[:, 2]).all() and np.isfinite(kp[kp[:, 2] >= MIN_VISIBILITY]).all()):
        raise ValueError(f"{name}: visibilities and confident keypoints must be finite")
    return kp


def _diagonal(kp: NDArray[np.float64]) -> float:
    return float(keypoint_diagonal(kp[:, :2], kp[:, 2] >= MIN_VISIBILITY))


def keypoint_similarity(a: object, b: object) -> float:
    """OKS-like similarity of two skeletons (see the module docstring), in [0, 1].

    Parameters
    ----------
    a, b : (K, 3) array_like
        x, y (pixels) and visibility in [0, 1] of the same K keypoints.

    Returns
    -------
    float
        1: the confident keypoints coincide; ~0: they lie far apart, or the skeletons share
        fewer than ``MIN_COMMON`` confident keypoints.
    """
    ka, kb = _skeleton(a, "a"), _skeleton(b, "b")
    if ka.shape != kb.shape:
        raise ValueError(f"b: expected the shape of a {ka.shape}, got {kb.shape}")
    return max(_similarity(ka, labelled, np.arange(len(ka)), too_few=0.0)
               for labelled in _labellings(kb))


def _labellings(kp: NDArray[np.float64]) -> list[NDArray[np.float64]]:
    """``kp`` as labelled, and (33 MediaPipe keypoints) with left and right swapped."""
    return [kp, kp[MEDIAPIPE_MIRROR]] if len(kp) == len(MEDIAPIPE_MIRROR) else [kp]


def _similarity(a: NDArray[np.float64], b: NDArray[np.float64], part: NDArray[np.intp],
                too_few: float) -> float:
    """The similarity on the keypoints ``part`` (scaled by the whole skeletons' boxes);
    ``too_few`` when they share fewer than ``MIN_COMMON`` confident ones."""
    both = (a[part, 2] >= MIN_VISIBILITY) & (b[part, 2] >= MIN_VISIBILITY)
    scale = KAPPA * min(_diagonal(a), _diagonal(b))
    if both.sum() < MIN_COMMON:
        return too_few
    if scale <= 0.0:
        return 0.0
    d2 = np.sum((a[part][both, :2] - b[part][both, :2]) ** 2, axis=1)
    return float(np.mean(np.exp(-d2 / (2.0 * scale * scale))))


def same_person(a: object, b: object, threshold: float = DUPLICATE_SIMILARITY) -> bool:
    """Whether two skeletons of one picture are one person found twice: their
    :func:`keypoint_similarity` above ``threshold`` (the rule of :func:`suppress_duplicates`,
    and of a scan finding a person already known again)."""
    return keypoint_similarity(a, b) > threshold


def strength(keypoints: object) -> float:
    """How confident and complete a skeleton is: the sum of its keypoints' visibilities."""
    return float(_skeleton(keypoints, "keypoints")[:, 2].sum())


def suppress_duplicates(people: Sequence[object],
                        threshold: float = DUPLICATE_SIMILARITY) -> list[int]:
    """Keypoint NMS: the indices of ``people`` to keep, strongest first.

    Parameters
    ----------
    people : sequence of (K, 3) array_like
        Skeletons of one image (x, y pixels, visibility), from any mix of sources.
    threshold : float
        In (0, 1): a person whose :func:`keypoint_similarity` to a stronger kept person
        exceeds it is the same person found again and is dropped.

    Returns
    -------
    list of int
        Kept indices, by decreasing :func:`strength` (ties: input order).
    """
    if not 0.0 < float(threshold) < 1.0:
        raise ValueError(f"threshold: expected a value in (0, 1), got {threshold!r}")
    kps = [_skeleton(p, f"people[{i}]") for i, p in enumerate(people)]
    order = sorted(range(len(kps)), key=lambda i: (-strength(kps[i]), i))
    kept: list[int] = []
    for i in order:
        if not any(same_person(kps[i], kps[j], threshold) for j in kept):
            kept.append(i)
    return kept


def one_body(keypoints: object, refound: Sequence[object],
             threshold: float = ONE_BODY_SIMILARITY) -> bool:
    """Whether a skeleton is one person: re-found in its own box by a one-person landmarker.

    Parameters
    ----------
    keypoints : (K, 3) array_like
        The skeleton (x, y pixels, visibility).
    refound : sequence of (K, 3) array_like
        What the landmarker found in a crop of the skeleton's own box (image pixels); empty
        when it found nobody.
    threshold : float
        In (0, 1): the least :func:`keypoint_similarity` to one of ``refound``.

    Returns
    -------
    bool
        False for a skeleton spread over two people: the crop shows the landmarker one of
        them (or nobody), far from the skeleton's other half. For 33 (MediaPipe) keypoints
        the upper body and the legs must each agree (``MEDIAPIPE_PARTS``).
    """
    if not 0.0 < float(threshold) < 1.0:
        raise ValueError(f"threshold: expected a value in (0, 1), got {threshold!r}")
    kp = _skeleton(keypoints, "keypoints")
    parts = MEDIAPIPE_PARTS if len(kp) == 33 else (np.arange(len(kp)),)
    whole = np.arange(len(kp))
    for other in refound:
        ko = _skeleton(other, "refound")
        if ko.shape != kp.shape:
            raise ValueError(f"refound: expected skeletons of shape {kp.shape}, got {ko.shape}")
        for labelled in _labellings(ko):
            # a part the two share too few keypoints of is no evidence against
            if _similarity(kp, labelled, whole, too_few=0.0) >= threshold and all(
                    _similarity(kp, labelled, part, too_few=1.0) >= threshold
                    for part in parts):
                return True
    return False


def box_inside(outer: NDArray[np.float64], inner: NDArray[np.float64]) -> float:
    """The share of box ``inner``'s area (x0, y0, x1, y1) that box ``outer`` covers."""
    w = min(outer[2], inner[2]) - max(outer[0], inner[0])
    h = min(outer[3], inner[3]) - max(outer[1], inner[1])
    area = max((inner[2] - inner[0]) * (inner[3] - inner[1]), 1e-9)
    return max(w, 0.0) * max(h, 0.0) / area


def box_diagonal(box: NDArray[np.float64]) -> float:
    """The length of an (x0, y0, x1, y1) box's diagonal."""
    return float(np.hypot(box[2] - box[0], box[3] - box[1]))


def parts_of_others(boxes: Sequence[object], size: float = PART_SIZE,
                    overlap: float = PART_OVERLAP) -> set[int]:
    """The people of one image who are a piece of another (see the module docstring).

    Parameters
    ----------
    boxes : sequence of (4,) array_like
        x0, y0, x1, y1 of each skeleton's confident keypoints, pixels.
    size : float
        > 1: the least ratio of box diagonals (larger over smaller).
    overlap : float
        In (0, 1): the least share of the smaller box inside the larger.

    Returns
    -------
    set of int
        Indices of the pieces: each mostly inside a person ``size`` times larger.
    """
    if not float(size) > 1.0:
        raise ValueError(f"size: expected a ratio > 1, got {size!r}")
    if not 0.0 < float(overlap) < 1.0:
        raise ValueError(f"overlap: expected a value in (0, 1), got {overlap!r}")
    bx = [np.asarray(b, dtype=np.float64) for b in boxes]
    for i, b in enumerate(bx):
        if b.shape != (4,) or not np.isfinite(b).all():
            raise ValueError(f"boxes[{i}]: expected 4 finite numbers x0, y0, x1, y1, got "
                             f"{b.tolist()}")
    diag = [box_diagonal(b) for b in bx]
    return {i for i in range(len(bx)) for j in range(len(bx))
            if i != j and diag[j] >= size * diag[i] and box_inside(bx[j], bx[i]) > overlap}


def coinciding(people: Sequence[NDArray[np.float64]], boxes: Sequence[NDArray[np.float64]],
               distance: float, min_confidence: float, min_common: int = 3) -> set[int]:
    """People of one image found twice: the weaker (sum of confidences) of each pair.

    Parameters
    ----------
    people : sequence of (K, 3) ndarray
        x, y (pixels) and confidence of each person's keypoints (any one format).
    boxes : sequence of (4,) ndarray
        Each person's box, x0, y0, x1, y1 (its size is the diagonal).
    distance : float
        A pair is one person when the median distance between the keypoints both have with
        confidence >= ``min_confidence`` is below this share of the smaller box's diagonal.
    min_common : int
        Fewer shared confident keypoints: two people side by side could share them by
        chance, no evidence.

    Returns
    -------
    set of int
        Indices of the weaker of each coinciding pair.
    """
    out: set[int] = set()
    weight = [float(kp[:, 2].sum()) for kp in people]
    for a in range(len(people)):
        for b in range(a + 1, len(people)):
            both = (people[a][:, 2] >= min_confidence) & (people[b][:, 2] >= min_confidence)
            if both.sum() < min_common:
                continue
            diag = min(box_diagonal(boxes[a]), box_diagonal(boxes[b]))
            d = float(np.median(np.linalg.norm(people[a][both, :2] - people[b][both, :2],
                                               axis=1)))
            if d < distance * max(diag, 1e-9):
                out.add(b if weight[b] <= weight[a] else a)
    return out
