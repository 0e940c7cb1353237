"""Left/right structure of a keypoint format: the mirror permutation and the limbs.

Detectors confuse a person's left and right, for the whole body (a person seen from behind
read as facing the camera) or for one limb. Both the synthetic video generator and the
sequence fit's swap hypotheses need the permutation that exchanges the two sides.
"""

from __future__ import annotations

import numpy as np

from .keypoints import get_format

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


def mirror_index(format: str) -> np.ndarray:
    """(K,) int: keypoint k of the format exchanged with its other side (itself if central).

    ``keypoints[mirror_index(f)]`` is what a detector reports when it swaps left and right
    for the whole body.
    """
    names = get_format(format).keypoint_names
    return np.array([names.index(_other_side(n)) if _other_side(n) in names else i
                     for i, n in enumerate(names)], dtype=np.int64)


def limb_swap_index(format: str, limb: str) -> np.ndarray:
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


#: The 2D torso must be at least this wide (shoulder and hip spans over the shoulder–hip
#: height) for its left/right order to say which way the body faces; narrower is sideways.
MIN_TORSO_WIDTH_RATIO = 0.3


def labels_facing(xy: np.ndarray, confidence: np.ndarray, torso: np.ndarray) -> float | None:
    """Which way the keypoints' left/right labels say the body faces, from the 2D order of the
    shoulders and hips: the signed ratio (L − R) × (shoulders − hips) / |shoulders − hips|²
    of the summed left-to-right spans and the hips-to-shoulders axis (z of the 2D cross
    product; image y down). Negative: facing the camera (the person's left on the image's
    right). None if a torso keypoint is missing.

    Parameters
    ----------
    xy : (K, 2) pixels.  confidence : (K,).
    torso : (4,) indices of left shoulder, right shoulder, left hip, right hip.
    """
    ls, rs, lh, rh = (int(k) for k in torso)
    if np.any(confidence[[ls, rs, lh, rh]] <= 0):
        return None
    span = (xy[ls] - xy[rs]) + (xy[lh] - xy[rh])
    axis = (xy[ls] + xy[rs]) - (xy[lh] + xy[rh])
    height = float(axis @ axis)
    if height <= 0:
        return None
    return float(span[0] * axis[1] - span[1] * axis[0]) / height


def whole_body_swapped(xy: np.ndarray, confidence: np.ndarray, torso: np.ndarray,
                       facing_probability: float, threshold: float) -> bool:
    """Whether a detector most likely swapped the whole body's left and right labels.

    The labels' 2D order (:func:`labels_facing`) and a mirrored reading explain the 2D
    equally well, so the data term cannot tell them apart; the learned initialiser, trained
    on detections with such swaps, reads the facing from what the mirror does not preserve
    (the face, the confidences). The labels are swapped when the torso is clearly frontal or
    dorsal in 2D (``MIN_TORSO_WIDTH_RATIO``) and the initialiser's probability that the body
    faces the other way than the labels say exceeds ``threshold``.

    Parameters
    ----------
    xy, confidence, torso : as :func:`labels_facing`.
    facing_probability : the initialiser's probability that the body faces the camera.
    threshold : in (0.5, 1].
    """
    ratio = labels_facing(xy, confidence, torso)
    if ratio is None or abs(ratio) < MIN_TORSO_WIDTH_RATIO:
        return False
    against = 1.0 - facing_probability if ratio < 0 else facing_probability
    return bool(against > threshold)
