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
