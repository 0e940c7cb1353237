"""The pose prior builder's check for uncaptured mocap limbs (tools/build_pose_prior.py,
``uncaptured_limbs``): a limb whose rotation relative to its parent never changes is a channel
the source never captured, not a pose (CMU exp-map basketball_signal_3/4's right leg)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import build_pose_prior as bpp  # noqa: E402
from mocap_io import Clip, rodrigues  # noqa: E402


def clip_with_locals(local: np.ndarray) -> Clip:
    """A clip whose SMPL bones have the local rotations ``local`` (F, 24, 3, 3)."""
    world = np.empty_like(local)
    world[:, 0] = local[:, 0]
    for j in range(1, 24):
        world[:, j] = world[:, bpp.PARENTS[j]] @ local[:, j]
    eye = np.eye(3)
    return Clip("synthetic", "test", {"pelvis": np.zeros((len(local), 3))},
                {j: world[:, j] for j in range(24)}, {}, {j: eye for j in range(24)})


def test_a_frozen_leg_is_found_and_a_moving_body_is_not() -> None:
    rng = np.random.default_rng(0)
    local = rodrigues(rng.normal(scale=0.4, size=(30, 24, 3)))
    assert bpp.uncaptured_limbs(clip_with_locals(local)) == []
    # The right leg frozen at the rest pose (identity) while the root and spine move: the
    # world rotations of the leg still change every frame, its local ones do not.
    local[:, [2, 5, 8]] = np.eye(3)
    assert bpp.uncaptured_limbs(clip_with_locals(local)) == [2, 5, 8]
    # A knee held at a constant non-zero bend is as uncaptured as one at zero.
    local[:, 4] = rodrigues(np.array([0.5, 0.0, 0.0]))
    assert bpp.uncaptured_limbs(clip_with_locals(local)) == [2, 4, 5, 8]
