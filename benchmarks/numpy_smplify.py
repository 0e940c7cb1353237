"""SMPLify in NumPy with analytic Jacobians: the fair NumPy baseline of ``bench_fit.py``.

``smplify.reference`` is the test oracle: it differentiates every term by the complex step
(72 + B + 3 complex evaluations of the whole energy per Jacobian), which is exact but no way
to write a fast NumPy solver. This module gives the same fit (``smplify.reference``'s problem,
energy, initialisation, stages and ``scipy.optimize.least_squares`` trust region) the analytic
Jacobians a NumPy implementation would use, written with the same formulas as the C++ core:

- a point attached to the body, x = Σ_j (R_j m_j + s_j p_j) (a joint: m = 0, s = 1 on its
  joint; a surface keypoint: skinning folded per joint, ``SurfaceBlend``; a sphere centre: its
  capsule's offset on its joint), moves with θ_k as
  ∂x/∂θ_k = −[Σ_{j ∈ subtree(k)} (R_j m_j + s_j (p_j − p_k))]× R_k J_r(θ_k);
  pose blend shapes add Σ_j R_j P_j ∂f/∂θ with ∂R_k/∂θ_k,c = R_k [J_r(θ_k) e_c]×;
- ∂p_j/∂β down the tree, ∂p_j/∂β = ∂p_parent/∂β + R_parent (J^S_j − J^S_parent);
- the projection, Geman-McClure ρ'(e) = σ³ / (σ² + e²)^{3/2}, the chosen GMM component's
  constant L_kᵀ, the angle prior's exponentials, E_sp with β held (SPEC §2).

``check_jacobian`` compares it with the oracle's complex-step Jacobian; ``bench_fit.py`` runs
that check before timing anything. Usage: ``fit(keypoints, format, image_size, focal_length,
model, prior, **options)``, like ``smplify.reference.fit``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from bench_model import right_jacobian  # J_r of SO(3), shared with bench_model
from smplify.problem import FitProblem, build_problem
from smplify.reference.arrays import reference_arrays
from smplify.reference.body import NUM_JOINTS, PosedBody, pose_body, skew
from smplify.reference.energy import (
    ANGLE_PRIOR_INDICES,
    ANGLE_PRIOR_SIGNS,
    StageWeights,
    interpenetration_residuals,
    model_keypoints,
    pose_prior_component,
    project,
    relative_keypoint_ids,
    sphere_centres,
    term_jacobian,
)
from smplify.reference.fit import fit_problem
from smplify.result import FitResult


def _subtree(parents: np.ndarray) -> np.ndarray:
    """(24, 24) A[k, j] = 1 when j is k or below k in the tree."""
    a = np.eye(NUM_JOINTS)
    for j in range(1, NUM_JOINTS):  # parents come before children
        k = parents[j]
        while k >= 0:
            a[k, j] = 1.0
            k = parents[k]
    return a


class _Kinematics:
    """One point's kinematic quantities that every attached point's Jacobian reads."""

    def __init__(self, problem: FitProblem, pose: np.ndarray, betas: np.ndarray,
                 transl: np.ndarray) -> None:
        body = reference_arrays(problem).body
        self.posed: PosedBody = pose_body(body, pose, betas, transl)
        self.rot = self.posed.world_rot  # (24, 3, 3)
        self.p = self.posed.joints - transl  # (24, 3), without γ
        self.M = self.rot @ right_jacobian(pose.reshape(NUM_JOINTS, 3))  # R_k J_r(θ_k)
        self.subtree = _subtree(body.parents)
        jsd = body.J_shapedirs  # (24, 3, B)
        d = np.empty_like(jsd)
        d[0] = jsd[0]
        for j in range(1, NUM_JOINTS):
            a = body.parents[j]
            d[j] = d[a] + self.rot[a] @ (jsd[j] - jsd[a])
        self.d_joints_betas = d  # ∂p_j/∂β (24, 3, B)

    def pose_jacobian(self, vectors: np.ndarray, scales: np.ndarray) -> np.ndarray:
        """(P, 3, 72) ∂x/∂θ of P points x = Σ_j (R_j m_j + s_j p_j), given R_j m_j (P, 24, 3)
        and s_j (P, 24)."""
        contribution = vectors + scales[..., None] * self.p  # v_j = R_j m_j + s_j p_j
        summed = np.einsum("kj,pja->pka", self.subtree, contribution)
        summed -= np.einsum("kj,pj->pk", self.subtree, scales)[..., None] * self.p
        block = -skew(summed) @ self.M  # (P, 24, 3, 3): [point, k, xyz, c]
        return block.transpose(0, 2, 1, 3).reshape(len(vectors), 3, 3 * NUM_JOINTS)


def _keypoint_jacobians(problem: FitProblem, kin: _Kinematics, pose: np.ndarray,
                        betas: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """∂X/∂θ (K, 3, 72), ∂X/∂β (K, 3, B), ∂X/∂γ (K, 3, 3) of the model keypoints."""
    k_all, nb = problem.num_keypoints, problem.num_betas
    d_pose = np.zeros((k_all, 3, 72))
    d_betas = np.zeros((k_all, 3, nb))
    d_transl = np.zeros((k_all, 3, 3))
    joint = problem.keypoint_joint
    on_joint = np.flatnonzero(joint >= 0)
    if on_joint.size:
        scales = np.zeros((on_joint.size, NUM_JOINTS))
        scales[np.arange(on_joint.size), joint[on_joint]] = 1.0
        d_pose[on_joint] = kin.pose_jacobian(np.zeros((on_joint.size, NUM_JOINTS, 3)), scales)
        d_betas[on_joint] = kin.d_joints_betas[joint[on_joint]]
        d_transl[on_joint] = np.eye(3)
    surface = np.flatnonzero(joint < 0)
    if surface.size:
        blend = reference_arrays(problem).surface_blend
        rest = kin.posed.rest_joints  # J(β) (24, 3)
        local = blend.rest + np.einsum("kjab,b->kja", blend.shape, betas)
        if blend.pose is not None:
            feature = (kin.posed.rot_mats[1:] - np.eye(3)).reshape(207)
            local = local + np.einsum("kjap,p->kja", blend.pose, feature)
        m = local - blend.skin[..., None] * rest  # m_j = local_j − s_j J_j
        vectors = np.einsum("jab,kjb->kja", kin.rot, m)
        d_pose[surface] = kin.pose_jacobian(vectors, blend.skin)
        if blend.pose is not None:
            # ∂f/∂θ_k,c = vec(R_k [J_r(θ_k) e_c]×), k = 1..23, row-major as the feature
            jr = right_jacobian(pose.reshape(NUM_JOINTS, 3))[1:]  # (23, 3, 3)
            d_rot = kin.posed.rot_mats[1:, None] @ skew(np.swapaxes(jr, 1, 2))  # (23, c, 3, 3)
            d_feature = d_rot.reshape(23, 3, 9)
            pose_dirs = blend.pose.reshape(len(surface), NUM_JOINTS, 3, 23, 9)
            d_local = np.einsum("kjaqn,qcn->kjaqc", pose_dirs, d_feature)
            d_pose[surface, :, 3:] += np.einsum("jab,kjbqc->kaqc", kin.rot,
                                                d_local).reshape(len(surface), 3, 69)
        jsd = reference_arrays(problem).body.J_shapedirs
        shape_part = blend.shape - blend.skin[..., None, None] * jsd  # (Kv, 24, 3, B)
        d_betas[surface] = (np.einsum("jab,kjbc->kac", kin.rot, shape_part)
                            + np.einsum("kj,jac->kac", blend.skin, kin.d_joints_betas))
        d_transl[surface] = blend.total[:, None, None] * np.eye(3)
    return d_pose, d_betas, d_transl


def _data_jacobian(problem: FitProblem, kin: _Kinematics, pose: np.ndarray,
                   betas: np.ndarray, transl: np.ndarray, weight: float) -> np.ndarray:
    """(2K, 72 + B + 3) of w_i ρ(π(X_i) − x̂_i), rows interleaved u, v."""
    points = model_keypoints(problem, pose, betas, transl, kin.posed)
    active = problem.weights > 0.0
    z = np.where(active, points[:, 2], 1.0)
    x, y = points[:, 0], points[:, 1]
    f = problem.focal_length
    d_proj = np.zeros((problem.num_keypoints, 2, 3))  # ∂π/∂X
    d_proj[:, 0, 0] = d_proj[:, 1, 1] = f / z
    d_proj[:, 0, 2], d_proj[:, 1, 2] = -f * x / z**2, -f * y / z**2
    err = project(problem, np.c_[x, y, z]) - problem.keypoints
    sigma = problem.options.data_sigma
    d_rho = sigma**3 / (sigma**2 + err**2) ** 1.5  # (K, 2)
    scale = np.where(active[:, None], weight * problem.weights[:, None] * d_rho, 0.0)
    d_pose, d_betas, d_transl = _keypoint_jacobians(problem, kin, pose, betas)
    d_point = np.concatenate([d_pose, d_betas, d_transl], axis=2)  # (K, 3, P)
    rows = scale[..., None] * np.einsum("kab,kbp->kap", d_proj, d_point)
    return rows.reshape(2 * problem.num_keypoints, -1)


def _interpenetration_jacobian(problem: FitProblem, kin: _Kinematics, pose: np.ndarray,
                               betas: np.ndarray, transl: np.ndarray,
                               weight: float) -> np.ndarray:
    """(G, 72 + B + 3) of E_sp's rows, β and γ columns zero (SPEC §2)."""
    caps = problem.capsule_arrays
    centres, radii = sphere_centres(problem, pose, betas, transl, kin.posed)
    arrays = reference_arrays(problem)
    c = arrays.sphere_capsule
    joint = caps["joint"][c]
    offsets = centres - transl - kin.p[joint]  # R_j local_s
    vectors = np.zeros((len(c), NUM_JOINTS, 3))
    scales = np.zeros((len(c), NUM_JOINTS))
    vectors[np.arange(len(c)), joint] = offsets
    scales[np.arange(len(c)), joint] = 1.0
    d_centre = kin.pose_jacobian(vectors, scales)  # (S, 3, 72)
    i, j = arrays.sphere_pairs[:, 0], arrays.sphere_pairs[:, 1]
    d = centres[i] - centres[j]
    sigma = problem.options.sphere_sigma_scale * radii
    denominator = sigma[i] ** 2 + sigma[j] ** 2
    exponent = -np.einsum("pa,pa->p", d, d) / denominator
    d_exponent = -2.0 * np.einsum("pa,pax->px", d, d_centre[i] - d_centre[j]) \
        / denominator[:, None]
    starts = arrays.sphere_pair_starts
    group = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(i))))
    largest = np.maximum.reduceat(exponent, starts)
    scaled = np.exp(exponent - largest[group])  # e^(a − m)
    total = np.add.reduceat(scaled, starts)  # ≥ 1
    # r_g = λ e^(m/2) √(Σ e^(a − m)): ∂r_g = λ e^(m/2) / (2 √Σ) Σ e^(a − m) ∂a
    d_rows = np.add.reduceat(scaled[:, None] * d_exponent, starts, axis=0)
    d_rows *= (weight * np.exp(0.5 * largest) / (2.0 * np.sqrt(total)))[:, None]
    out = np.zeros((len(starts), 72 + problem.num_betas + 3))
    out[:, :72] = d_rows
    return out


def stage_jacobian(problem: FitProblem, pose: np.ndarray, betas: np.ndarray,
                   transl: np.ndarray, weights: StageWeights,
                   with_interpenetration: bool) -> np.ndarray:
    """The Jacobian of a stage's rows (data, pose, angle, shape[, E_sp]) over (θ, β, γ):
    ``smplify.reference.fit.StageJacobian``."""
    pose, betas, transl = (np.asarray(a, float) for a in (pose, betas, transl))
    nb = problem.num_betas
    kin = _Kinematics(problem, pose, betas, transl)
    parts = [_data_jacobian(problem, kin, pose, betas, transl, weights.data)]
    prior = np.zeros((70, 72 + nb + 3))
    k = int(pose_prior_component(problem, pose))
    prior[:69, 3:72] = weights.pose * np.sqrt(0.5) * reference_arrays(problem).prior.chol[k].T
    angle = np.zeros((4, 72 + nb + 3))
    angle[np.arange(4), ANGLE_PRIOR_INDICES] = (
        weights.angle * problem.options.angle_prior_scale * ANGLE_PRIOR_SIGNS
        * np.exp(ANGLE_PRIOR_SIGNS * pose[ANGLE_PRIOR_INDICES]))
    shape = np.zeros((nb, 72 + nb + 3))
    shape[:, 72:72 + nb] = weights.shape * np.eye(nb)
    # E_3D's 3K rows (the reference's order: data, pose, angle, shape, E_3D, E_sp): exactly 0
    # without the detector's 3D keypoints, which this baseline does not take.
    if relative_keypoint_ids(problem).size:
        raise NotImplementedError("numpy_smplify: keypoints_3d is not supported")
    if problem.options.knee_depth_weight > 0:
        raise NotImplementedError("numpy_smplify: knee_depth_weight is not supported")
    # E_knee's 2 rows after E_3D (reference/fit.py's order), exactly 0 when off.
    parts += [prior, angle, shape, np.zeros((3 * problem.num_keypoints + 2, 72 + nb + 3))]
    if with_interpenetration:
        parts.append(_interpenetration_jacobian(problem, kin, pose, betas, transl,
                                                weights.interpenetration))
    return np.concatenate(parts, axis=0)


def check_jacobian(problem: FitProblem, pose: np.ndarray, betas: np.ndarray,
                   transl: np.ndarray, stage: int = 3) -> float:
    """Largest relative difference, max|A − C| / max(1, max|C|), between ``stage_jacobian``
    and the oracle's complex-step Jacobian (``smplify.reference.energy.term_jacobian``)."""
    weights = StageWeights.for_stage(problem, stage)
    terms = ["data", "pose", "angle", "shape", "keypoints_3d", "knee_depth"]
    use_sp = weights.interpenetration > 0.0 and len(reference_arrays(problem).sphere_pairs) > 0
    if use_sp:
        terms.append("interpenetration")
    oracle = np.concatenate([np.concatenate(term_jacobian(problem, t, pose, betas, transl,
                                                          getattr(weights, t)), axis=1)
                             for t in terms], axis=0)
    analytic = stage_jacobian(problem, pose, betas, transl, weights, use_sp)
    assert np.isfinite(interpenetration_residuals(problem, pose, betas, transl)).all()
    return float(np.abs(analytic - oracle).max() / max(1.0, np.abs(oracle).max()))


def fit(keypoints: Any, format: str, image_size: Any, focal_length: float | None = None,
        model: Any = "open", prior: Any = "open", **options: Any) -> FitResult:
    """``smplify.reference.fit`` with analytic Jacobians (same arguments and result;
    ``summary["solver"]`` says "analytic")."""
    problem = build_problem(keypoints, format, image_size, focal_length, model, prior,
                            options)
    return fit_problem(problem, jacobian=stage_jacobian)
