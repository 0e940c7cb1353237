"""Synthetic fitting cases made from a body model itself, and the accuracy metrics.

Used by the accuracy tests and ``benchmarks/bench_fit.py``: a random plausible pose (drawn
from the pose prior), a random shape β ~ N(0, I), a camera 2.5–6 m away with f = 1000–5000 px,
and the model's own keypoints of a format projected into an image that frames the person.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .keypoints import resolve_format

View = Literal["front", "side"]


@dataclass(frozen=True)
class SyntheticCase:
    """One synthetic image: keypoints (K, 3) in pixels with confidences, and the truth."""

    keypoints: np.ndarray
    format: str
    image_size: tuple[int, int]
    focal_length: float
    betas: np.ndarray
    global_orient: np.ndarray
    body_pose: np.ndarray
    transl: np.ndarray
    joints: np.ndarray  # (24, 3) true joints, camera frame, metres
    weights: np.ndarray  # (K,) the format's default weight per keypoint on this model


def _rotation(axis_angle: np.ndarray) -> np.ndarray:
    angle = float(np.linalg.norm(axis_angle))
    if angle < 1e-12:
        return np.eye(3)
    k = axis_angle / angle
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(angle) * K + (1 - np.cos(angle)) * K @ K


def _axis_angle(R: np.ndarray) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    return Rotation.from_matrix(R).as_rotvec()


def make_case(model: Any, prior: Any, format: str, rng: np.random.Generator,
              view: View = "front", noise_px: float = 0.0,
              outlier_fraction: float = 0.0, outlier_confidence: float = 0.3,
              max_pose_prior_energy: float | None = None,
              max_interpenetration: float | None = 0.02,
              poses: np.ndarray | None = None) -> SyntheticCase:
    """A random synthetic case.

    Parameters
    ----------
    model : a loaded BodyModel.
    prior : a loaded GMMPosePrior (poses are drawn from it).
    format : keypoint format name.
    rng : random generator.
    view : "front" (the person faces the camera, turned at most ±30°) or "side" (turned
        90° ± 15°, left or right).
    noise_px : σ of Gaussian noise added to every keypoint, pixels.
    outlier_fraction : fraction of keypoints replaced by uniform random image points with
        confidence ``outlier_confidence``.
    max_pose_prior_energy : redraw poses whose prior energy exceeds this (None: any).
    max_interpenetration : redraw bodies whose unweighted E_sp (SPEC §2) exceeds this (None:
        any). A Gaussian mixture also samples poses with an arm through the torso; a person
        cannot take them, so by default they are not "plausible".
    poses : optional (N, 69) body poses to draw from instead of the prior (e.g. held-out
        motion-capture poses); the filters above still apply.
    """
    while True:
        body_pose = prior.sample(1, rng)[0] if poses is None else \
            np.asarray(poses[rng.integers(len(poses))], dtype=np.float64)
        betas = rng.normal(size=model.num_betas)
        if max_pose_prior_energy is not None and prior.energy(body_pose) > max_pose_prior_energy:
            continue
        if max_interpenetration is None or \
                self_interpenetration(model, betas, body_pose) <= max_interpenetration:
            break
    if view == "front":
        yaw = rng.uniform(-np.pi / 6, np.pi / 6)
    else:
        yaw = rng.choice([-1.0, 1.0]) * (np.pi / 2 + rng.uniform(-np.pi / 12, np.pi / 12))
    # Upright facing the camera is R_x(π); turn about the body's vertical axis, tilt a little.
    R = _rotation(np.array([np.pi, 0.0, 0.0])) @ _rotation(np.array([0.0, yaw, 0.0])) @ \
        _rotation(rng.normal(scale=0.05, size=3))
    global_orient = _axis_angle(R)
    distance = rng.uniform(2.5, 6.0)
    focal = float(rng.uniform(1000.0, 5000.0))
    rest = model(betas=betas, body_pose=body_pose, global_orient=global_orient)
    centre = rest.joints[0]
    transl = np.array([0.0, 0.0, distance]) - centre + rng.normal(scale=0.1, size=3) * [1, 1, 0]
    out = model(betas=betas, body_pose=body_pose, global_orient=global_orient, transl=transl)
    resolved = resolve_format(format, model.keypoint_names, model.num_vertices,
                              model.keypoint_regressor)
    points = resolved.keypoint_positions(out.joints, out.vertices)
    uv = focal * points[:, :2] / points[:, 2:]
    visible = np.isfinite(uv).all(axis=1)
    lo, hi = uv[visible].min(axis=0), uv[visible].max(axis=0)
    margin = 0.1 * (hi - lo).max() + 20.0
    size = np.ceil(2 * np.maximum(np.abs(lo), np.abs(hi)) + 2 * margin).astype(int)
    center = size / 2.0
    uv = uv + center
    confidence = visible.astype(float)
    uv[~visible] = 0.0
    if noise_px > 0:
        uv[visible] += rng.normal(scale=noise_px, size=(int(visible.sum()), 2))
    if outlier_fraction > 0:
        idx = np.flatnonzero(visible)
        chosen = rng.choice(idx, size=int(round(outlier_fraction * len(idx))), replace=False)
        uv[chosen] = rng.uniform([0, 0], size, size=(len(chosen), 2))
        confidence[chosen] = outlier_confidence
    return SyntheticCase(
        keypoints=np.concatenate([uv, confidence[:, None]], axis=1), format=format,
        image_size=(int(size[0]), int(size[1])), focal_length=focal, betas=betas,
        global_orient=global_orient, body_pose=body_pose, transl=transl, joints=out.joints,
        weights=np.asarray(resolved.weights, dtype=np.float64).copy())


def self_interpenetration(model: Any, betas: np.ndarray, body_pose: np.ndarray) -> float:
    """Unweighted E_sp = Σ exp(−d² / (σ_i² + σ_j²)) over incompatible sphere pairs."""
    from .capsules import SPHERE_SIGMA_SCALE
    from .reference.body import BodyArrays, pose_body

    caps = model.capsule_regressor
    counts = caps.sphere_counts(None)
    rest = model.rest_joints(betas)
    spheres = caps.spheres(betas, rest, counts)
    posed = pose_body(BodyArrays.from_model(model), np.concatenate([np.zeros(3), body_pose]),
                      betas, np.zeros(3))
    # Each sphere rides rigidly on its joint: C = R_j (c_rest − J_j) + p_j.
    joint = spheres.joint_of_sphere
    centres = np.einsum("sab,sb->sa", posed.world_rot[joint],
                        spheres.centres - rest[joint]) + posed.joints[joint]
    sigma = SPHERE_SIGMA_SCALE * spheres.radii
    pairs = caps.incompatible_sphere_pairs(counts)
    i, j = pairs[:, 0], pairs[:, 1]
    d2 = np.sum((centres[i] - centres[j]) ** 2, axis=1)
    return float(np.sum(np.exp(-d2 / (sigma[i] ** 2 + sigma[j] ** 2))))


def procrustes_align(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """``predicted`` (N, 3) after the similarity transform that best fits it to ``truth``."""
    mu_p, mu_t = predicted.mean(axis=0), truth.mean(axis=0)
    p, t = predicted - mu_p, truth - mu_t
    U, S, Vt = np.linalg.svd(p.T @ t)
    d = np.sign(np.linalg.det(U @ Vt))
    D = np.diag([1.0, 1.0, d])
    R = U @ D @ Vt  # p @ R ≈ t (up to scale)
    scale = np.trace(np.diag(S) @ D) / np.sum(p * p)
    return scale * p @ R + mu_t


def pa_mpjpe(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Procrustes-aligned mean per-joint position error, in the inputs' units."""
    return float(np.linalg.norm(procrustes_align(predicted, truth) - truth, axis=1).mean())


def reprojection_error(result: Any, case: SyntheticCase) -> float:
    """Mean pixel distance between the fit's keypoints and the case's keypoints, over the
    keypoints the fit uses: confidence > 0 and format weight > 0. (A keypoint of weight 0,
    e.g. MediaPipe's thumbs or OpenPose's neck and mid-hip, is not part of the data term, so
    it says nothing about how well the fit matches its data.)"""
    mask = ((case.keypoints[:, 2] > 0) & (case.weights > 0)
            & np.isfinite(result.keypoints_2d).all(axis=1))
    return float(np.linalg.norm(result.keypoints_2d[mask] - case.keypoints[mask, :2],
                                axis=1).mean())
