"""Capsule approximation of the body for the interpenetration term E_sp (SPEC §2).

The body is covered by 20 capsules, one per part, each rigidly attached to an SMPL joint; E_sp
replaces each capsule by spheres carrying isotropic Gaussians. One module per job:

- `parts`: part names, the joint each rides on, the incompatible part pairs of E_sp;
- `regressor`: `Capsules` of one shape, the β → capsule `CapsuleRegressor` and its `Spheres`,
  `model_hash`, `surface_distances`;
- `fit` (with `fit_steps`): the offline fit of a model's regressor (`fit_capsule_regressor`);
- `cache`: `capsules_for_model`, the shipped file, the per-user cache or a fit now.

The shipped files are built by ``tools/build_capsules.py``.
"""

from __future__ import annotations

from .cache import DATA_DIR, capsules_for_model, default_cache_dir
from .fit import ShapeFits, fit_capsule_regressor
from .parts import (
    INCOMPATIBLE_PART_PAIRS,
    JOINT_TO_PART,
    NUM_JOINTS,
    NUM_PARTS,
    PART_JOINTS,
    PART_NAMES,
    SPHERE_SIGMA_SCALE,
)
from .regressor import (
    CapsuleRegressor,
    Capsules,
    Spheres,
    model_hash,
    sphere_counts,
    surface_distances,
)

__all__ = [
    "DATA_DIR",
    "INCOMPATIBLE_PART_PAIRS",
    "JOINT_TO_PART",
    "NUM_JOINTS",
    "NUM_PARTS",
    "PART_JOINTS",
    "PART_NAMES",
    "SPHERE_SIGMA_SCALE",
    "CapsuleRegressor",
    "Capsules",
    "ShapeFits",
    "Spheres",
    "capsules_for_model",
    "default_cache_dir",
    "fit_capsule_regressor",
    "model_hash",
    "sphere_counts",
    "surface_distances",
]
