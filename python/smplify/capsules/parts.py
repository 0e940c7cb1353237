"""Body parts of the capsule approximation and the incompatible part pairs of E_sp (SPEC §2).

20 parts, one capsule each (fingers belong to the hands, toes to the feet), each rigidly attached
to an SMPL joint (docs/design.md, "Capsule file").
"""

from __future__ import annotations

import numpy as np

PART_NAMES: tuple[str, ...] = (
    "pelvis", "left_thigh", "right_thigh", "spine1", "left_calf", "right_calf", "spine2",
    "left_foot", "right_foot", "spine3", "neck", "left_collar", "right_collar", "head",
    "left_upper_arm", "right_upper_arm", "left_forearm", "right_forearm", "left_hand",
    "right_hand",
)
NUM_PARTS = 20
NUM_JOINTS = 24
# SMPL joint each capsule is attached to, in PART_NAMES order (docs/design.md).
PART_JOINTS = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21])
# Part of every SMPL joint's skinning region: toes (10, 11) go to the feet, fingers (22, 23) to
# the hands.
JOINT_TO_PART = np.array(
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 18, 19]
)
_P = {name: i for i, name in enumerate(PART_NAMES)}
# Incompatible part pairs of E_sp (docs/design.md), each unordered pair once.
INCOMPATIBLE_PART_PAIRS: tuple[tuple[int, int], ...] = tuple(
    [
        (_P[torso], _P[limb])
        for torso in ("pelvis", "spine1", "spine2", "spine3")
        for limb in ("left_forearm", "right_forearm", "left_hand", "right_hand")
    ]
    + [
        (_P["left_calf"], _P["right_calf"]),
        (_P["left_foot"], _P["right_calf"]),
        (_P["right_foot"], _P["left_calf"]),
        (_P["left_foot"], _P["right_foot"]),
        (_P["left_upper_arm"], _P["left_forearm"]),
        (_P["right_upper_arm"], _P["right_forearm"]),
        (_P["left_hand"], _P["right_hand"]),
    ]
)
SPHERE_SIGMA_SCALE = 1.0 / 3.0  # σ = r / 3 (docs/design.md `sphere_sigma_scale`)
