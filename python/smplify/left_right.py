"""Left/right structure of a keypoint format: the mirror permutation and the limbs.

Detectors confuse a person's left and right, for the whole body (a person seen from behind
read as facing the camera) or for one limb. Both the synthetic video generator and the
sequence fit's swap hypotheses need the permutation that exchanges the two sides; a fit from
scratch (``left_right``) decides whether to swap labels back from how a learned initialiser's
readings project (:func:`swap_evidence`).
"""

from __future__ import annotations

import numpy as np

from .keypoints import KeypointFormat, get_format

#: Keypoint-name parts that make up each limb (a per-limb swap exchanges these only).
LIMB_PARTS = {
    "arms": ("elbow", "wrist", "pinky", "index", "thumb", "hand"),
    "legs": ("knee", "ankle", "heel", "foot", "toe"),
}


def _other_side(name: str) -> str:
    if "left" in name:
        return name.replace("left", "right")
    if "right" in name:
        return name.replace("right", "left")
    return name


def mirror_index(format: str | KeypointFormat) -> np.ndarray:
    """(K,) int: keypoint k of the format exchanged with its other side (itself if central).

    ``keypoints[mirror_index(f)]`` is what a detector reports when it swaps left and right
    for the whole body.
    """
    names = get_format(format).keypoint_names
    return np.array([names.index(_other_side(n)) if _other_side(n) in names else i
                     for i, n in enumerate(names)], dtype=np.int64)


def limb_swap_index(format: str | KeypointFormat, limb: str) -> np.ndarray:
    """(K,) int: the permutation that swaps only ``limb`` ("arms" or "legs") left and right."""
    if limb not in LIMB_PARTS:
        raise ValueError(f"limb: expected one of {sorted(LIMB_PARTS)}, got {limb!r}")
    names = get_format(format).keypoint_names
    mirror = mirror_index(format)
    index = np.arange(len(names))
    for i, name in enumerate(names):
        if any(part in name for part in LIMB_PARTS[limb]):
            index[i] = mirror[i]
    return index


#: Labels are swapped back only when the initialiser's readings agree with the swapped
#: labelling by at least this mean relative margin (:func:`swap_evidence`).
SWAP_MARGIN = 0.1


def place_and_project(points: np.ndarray, xy: np.ndarray, weights: np.ndarray,
                      focal_length: float, center: np.ndarray) -> np.ndarray | None:
    """(K, 2) pixels: ``points`` translated by the γ that best projects them onto ``xy``, then
    projected; None if γ is undetermined or puts a weighted point < 0.1 m before the camera.

    The projection condition f (X + γ_x) = (u − c_x)(Z + γ_z) (and y) is linear in γ: the
    2K rows w_k [f, 0, −(u_k − c_x)] γ = w_k ((u_k − c_x) Z_k − f X_k) are solved by least
    squares (the C++ core's PlaceTranslation, without its surface-keypoint scale).

    Parameters
    ----------
    points : (K, 3) metres, camera axes, any origin (non-finite rows get weight 0).
    xy : (K, 2) pixels.  weights : (K,) ≥ 0.  focal_length : pixels.  center : (2,) pixels.
    """
    ok = np.isfinite(points).all(axis=1) & np.isfinite(xy).all(axis=1) & (weights > 0)
    if ok.sum() < 2:
        return None
    p, w, d = points[ok], weights[ok], xy[ok] - center
    rows = np.zeros((2 * len(p), 3))
    rows[0::2, 0] = focal_length
    rows[1::2, 1] = focal_length
    rows[:, 2] = -d.reshape(-1)
    rhs = (d * p[:, 2:] - focal_length * p[:, :2]).reshape(-1)
    ww = np.repeat(w, 2)
    gamma, _, rank, _ = np.linalg.lstsq(rows * ww[:, None], rhs * ww, rcond=None)
    if rank < 3 or not np.all(np.isfinite(gamma)):
        return None
    q = np.where(np.isfinite(points), points, 0.0) + gamma
    if np.any(q[ok, 2] < 0.1):
        return None
    z = np.where(q[:, 2:] > 1e-9, q[:, 2:], np.nan)
    return focal_length * q[:, :2] / z + center


def placed_readings(readings: list[np.ndarray], xy: np.ndarray, place_weights: np.ndarray,
                    focal_length: float, center: np.ndarray) -> list[np.ndarray | None]:
    """Each reading placed on ``xy`` with ``place_weights`` and projected
    (:func:`place_and_project`): :func:`swap_evidence`'s ``placed``, shared by the
    labellings that move no keypoint of ``place_weights`` (the per-limb swaps)."""
    return [place_and_project(points, xy, place_weights, focal_length, center)
            for points in readings]


def swap_evidence(readings: list[np.ndarray], scores: np.ndarray, xy: np.ndarray,
                  confidence: np.ndarray, swap: np.ndarray, place_weights: np.ndarray,
                  focal_length: float, center: np.ndarray,
                  placed: list[np.ndarray | None] | None = None) -> tuple[float, float]:
    """How strongly a learned initialiser's readings say a detector swapped some labels.

    A detector that swaps left and right labels (the whole body's, or one limb's: the
    person's left knee reported where the right one is) leaves the 2D fittable, so the data
    term cannot tell which labelling is right. The initialiser, trained on detections with
    such swaps, reads the body from the whole picture (the face, the confidences); each
    reading, placed on the keypoints (:func:`place_and_project`, weights ``place_weights``
    under each labelling) and projected, lies nearer the true labelling's points. Per reading
    m, over the keypoints ``swap`` moves (seen under both labellings):
    e_m = Σ c_k ‖π_m,k − x_k‖ with the labels as given, e'_m the same with them swapped.

    Parameters
    ----------
    readings : M arrays (K, 3), the readings' keypoints in metres, camera axes, any origin.
    scores : (M,) the initialiser's probabilities of the readings.
    xy : (K, 2) pixels.  confidence : (K,).
    swap : (K,) int, the labelling to test (:func:`mirror_index`, :func:`limb_swap_index`).
    place_weights : (K,) weights of the keypoints that place a reading (as given).
    focal_length : pixels.  center : (2,) pixels.
    placed : None, or the readings already placed with these ``xy`` and ``place_weights``
        (:func:`placed_readings`). When ``swap`` moves no keypoint that places a reading
        (weighted under either labelling: a limb's swap, placed on the torso and face),
        both labellings place a reading alike, so it is placed once, not twice.

    Returns
    -------
    (probability, margin): Σ_m p_m [e'_m < e_m] and Σ_m p_m (e_m − e'_m) / (e_m + e'_m),
    normalised over the readings that could be placed (0, 0 if none or no moved point is
    seen).
    """
    unmoved = swap == np.arange(len(swap))
    moved = ~unmoved & (confidence > 0) & (confidence[swap] > 0)
    if not moved.any():
        return 0.0, 0.0
    # The same rows place a reading under both labellings: one placement serves both.
    alike = bool(np.all(unmoved[(place_weights > 0) | (place_weights[swap] > 0)]))
    if placed is None:
        placed = [None] * len(readings)
    probability = margin = total = 0.0
    for points, p, given in zip(readings, scores, placed, strict=True):
        if given is None:
            given = place_and_project(points, xy, place_weights, focal_length, center)
        other = given if alike else place_and_project(points, xy[swap], place_weights[swap],
                                                      focal_length, center)
        if given is None or other is None or not (np.all(np.isfinite(given[moved]))
                                                  and np.all(np.isfinite(other[moved]))):
            continue
        e = float(np.sum(confidence[moved] * np.linalg.norm(given[moved] - xy[moved], axis=1)))
        e_swap = float(np.sum(confidence[swap][moved]
                              * np.linalg.norm(other[moved] - xy[swap][moved], axis=1)))
        probability += p * (e_swap < e)
        margin += p * (e - e_swap) / max(e + e_swap, 1e-12)
        total += p
    if total <= 0:
        return 0.0, 0.0
    return probability / total, margin / total


def swapped(evidence: tuple[float, float], threshold: float) -> bool:
    """Whether :func:`swap_evidence` says swap: probability above ``threshold`` (in
    [0.5, 1]) and margin above ``SWAP_MARGIN``."""
    return evidence[0] > threshold and evidence[1] > SWAP_MARGIN


def limbs_to_swap(evidence: dict[str, tuple[float, float]], threshold: float) -> tuple[str, ...]:
    """The limbs ("arms", "legs") to swap back, from each limb's :func:`swap_evidence` (the
    readings placed on the keypoints no limb swap moves): those :func:`swapped` says, unless
    that is every limb: both at once is what readings of a body facing the other way than
    its labels look like, a whole-body question.
    """
    flagged = tuple(limb for limb in LIMB_PARTS if swapped(evidence[limb], threshold))
    return () if len(flagged) == len(LIMB_PARTS) else flagged


def depth_reflected(points: np.ndarray) -> np.ndarray:
    """(K, 3) 3D keypoints with z negated: the reading of a detector that took a body facing
    the camera for its back (or the reverse) undone. Such a detector swaps every left/right
    label and reflects the body in depth (MediaPipe's world landmarks put the nose ~13 cm
    behind the ears in those frames of bench_real_video's sports2d clip, ~13 cm in front in
    the others), so relabelling alone leaves a 3D target facing the wrong way. E_3D is
    relative to the keypoints' centroid: negating z reflects about the centroid's depth."""
    out = np.array(points, dtype=np.float64)
    out[:, 2] = -out[:, 2]
    return out
