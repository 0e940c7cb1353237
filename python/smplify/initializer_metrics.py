"""Held-out figures of the learned initialiser (``smplify.initializer``) on rendered cases.

Shared by its build tool, its tests and ``benchmarks/initializer.py``: every hypothesis is
posed by forward kinematics of the model's rest joints J(β) (the model's own joints, without
the mesh), aligned to the truth by Procrustes, and its depth reading compared with the truth's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .detections import Cases, facing_camera, shin_depth_order
from .initializer import Initializer, Readings, features, joined_readings
from .synthetic import pa_mpjpe

#: A shin whose ankle and knee depths differ by less than this (metres) has no depth reading.
SHIN_DEPTH_TOLERANCE_M = 0.05


def posed_joints(model: Any, rotations: np.ndarray, betas: np.ndarray) -> np.ndarray:
    """Joints relative to the pelvis (..., 24, 3) of local rotations (..., 24, 3, 3) (root in
    the camera frame) and betas (..., B), by the model's kinematic tree."""
    rest = model.J_template + np.einsum("jcb,...b->...jc", model.J_shapedirs, betas)
    rest = np.broadcast_to(rest, rotations.shape[:-2] + (3,))
    parents = model.kintree_table[0]
    g = [rotations[..., 0, :, :]]
    p = [np.zeros(rotations.shape[:-3] + (3,))]
    for j in range(1, 24):
        par = int(parents[j])
        bone = rest[..., j, :] - rest[..., par, :]
        p.append(p[par] + np.einsum("...ab,...b->...a", g[par], bone))
        g.append(g[par] @ rotations[..., j, :, :])
    return np.stack(p, axis=-2)


def same_depth_reading(rot: np.ndarray, joints: np.ndarray, true_rot: np.ndarray,
                       true_joints: np.ndarray) -> bool:
    """Whether a reading faces the same way as the truth and has both shins' depth order
    (where the truth's shin is not parallel to the image plane)."""
    d_true, d_hyp = shin_depth_order(true_joints), shin_depth_order(joints)
    same_shins = (np.sign(d_true) == np.sign(d_hyp)) | (np.abs(d_true) < SHIN_DEPTH_TOLERANCE_M)
    return bool(facing_camera(rot) == facing_camera(true_rot) and same_shins.all())


def evaluate(initializer: Initializer, model: Any, cases: Cases,
             mirror: str = "off") -> dict[str, Any]:
    """Figures over N cases (module docstring); ``mirror``: the readings joined with the
    mirrored image's (:data:`smplify.initializer.MIRROR_MODES`).

    Returns
    -------
    dict with ``cases``; ``pa_mpjpe_top1_mm`` (mean), ``..._median_mm`` and
    ``pa_mpjpe_best_of_m_mm`` (mean over cases of the best hypothesis); ``facing_top1`` and
    ``facing_any`` (fraction of cases whose top / any hypothesis faces the way the truth does);
    ``depth_reading_top1`` and ``depth_reading_any`` (the same for facing and both shins'
    depth order); per-case arrays ``top1_mm`` and ``best_mm``.
    """
    def decoded(keypoints: np.ndarray) -> Readings:
        return initializer.decode(initializer.raw(
            features(keypoints, cases.image_size, cases.focal)))

    rot, betas, scores = joined_readings(decoded, cases.keypoints, initializer.format,
                                         cases.image_size, mirror)
    joints = posed_joints(model, rot, betas[:, None])
    n, m = scores.shape
    err = np.array([[pa_mpjpe(joints[i, h], cases.joints[i]) for h in range(m)]
                    for i in range(n)])
    facing = facing_camera(rot[:, :, 0]) == facing_camera(cases.rotation)[:, None]
    depth = np.array([[same_depth_reading(rot[i, h, 0], joints[i, h], cases.rotation[i],
                                          cases.joints[i]) for h in range(m)]
                      for i in range(n)])
    top = np.argmax(scores, axis=1)
    rows = np.arange(n)
    return {"cases": n,
            "pa_mpjpe_top1_mm": 1000 * float(err[rows, top].mean()),
            "pa_mpjpe_top1_median_mm": 1000 * float(np.median(err[rows, top])),
            "pa_mpjpe_best_of_m_mm": 1000 * float(err.min(axis=1).mean()),
            "facing_top1": float(facing[rows, top].mean()),
            "facing_any": float(facing.any(axis=1).mean()),
            "depth_reading_top1": float(depth[rows, top].mean()),
            "depth_reading_any": float(depth.any(axis=1).mean()),
            "top1_mm": 1000 * err[rows, top], "best_mm": 1000 * err.min(axis=1)}
