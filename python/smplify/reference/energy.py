"""The SMPLify energy (SPEC §2) as residual rows, exactly as docs/design.md pins them.

E = Σ of the squares of all rows. Each term has one function returning its rows for raw
parameters (pose θ (72,), betas β (B,), transl γ (3,)) and a :class:`~smplify.problem.FitProblem`;
``weight`` is the λ that multiplies the term's rows (1 gives the unweighted rows). These are
the oracle the C++ cost functions are tested against, row for row.

Every function broadcasts over leading batch dimensions and works on complex input, so
:func:`term_jacobian` differentiates it by the complex step,
    ∂r/∂x_k = Im r(x + i h e_k) / h,  h = 1e-20,
which is exact to rounding (no subtraction, unlike finite differences) and shares no
derivation with the C++ analytic Jacobians. The price is that the code must stay analytic:
ρ(e) = σ e / √(σ² + e²) instead of sign(e)·√(…), squared norms as sums of products, and
choices (the GMM component) made on real parts only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..problem import LEG_KEYPOINT_NAMES
from .arrays import reference_arrays
from .body import PosedBody, pose_body

if TYPE_CHECKING:
    from ..problem import FitProblem

TERMS = ("data", "pose", "angle", "interpenetration", "shape", "keypoints_3d", "knee_depth")

# (pose index, sign) of the four bending angles of the angle prior: left elbow, right elbow,
# left knee, right knee (SPEC §2).
ANGLE_PRIOR_INDICES = np.array([55, 58, 12, 15])
ANGLE_PRIOR_SIGNS = np.array([1.0, -1.0, -1.0, -1.0])

_COMPLEX_STEP = 1e-20


@dataclass(frozen=True)
class StageWeights:
    """The λ of each term in one stage (they multiply residual rows; data is always 1)."""

    pose: float
    shape: float
    angle: float
    interpenetration: float
    data: float = 1.0
    keypoints_3d: float = 0.0
    knee_depth: float = 0.0

    @classmethod
    def for_stage(cls, problem: FitProblem, stage: int) -> StageWeights:
        """λ_θ, λ_β, λ_a = ratio · λ_θ and λ_sp of stage ``stage`` (0-based) of the options,
        the problem's λ_3D and the options' λ_k (E_knee, every stage)."""
        opts = problem.options
        lam_pose = opts.pose_prior_weights[stage]
        return cls(pose=lam_pose, shape=opts.shape_prior_weights[stage],
                   angle=opts.angle_prior_ratio * lam_pose,
                   interpenetration=opts.interpenetration_weight,
                   keypoints_3d=problem.keypoints_3d_weight,
                   knee_depth=opts.knee_depth_weight)

    def as_dict(self) -> dict[str, float]:
        """The weights keyed by term name."""
        return {t: float(getattr(self, t)) for t in TERMS}


# ---------------------------------------------------------------------------------------------
# Keypoints of the model and the data term E_J
# ---------------------------------------------------------------------------------------------

def model_keypoints(problem: FitProblem, pose: np.ndarray, betas: np.ndarray,
                    transl: np.ndarray, posed: PosedBody | None = None) -> np.ndarray:
    """The model's 3D keypoints in the input format.

    Keypoint i is posed joint ``keypoint_joint[i]`` when that is ≥ 0, else
    Σ_v keypoint_vertex_weights[i, v] · (posed vertex keypoint_vertex_ids[i, v]), evaluated
    through :class:`~smplify.reference.body.SurfaceBlend`. Keypoints with no target (weight
    row all zero) come out at 0 and carry data weight 0.

    Parameters
    ----------
    problem : FitProblem
    pose : (..., 72) radians.  betas : (..., B).  transl : (..., 3) metres.
    posed : PosedBody of the same parameters, to reuse one forward kinematics.

    Returns
    -------
    (..., K, 3) metres, camera frame.
    """
    if posed is None:
        posed = pose_body(reference_arrays(problem).body, pose, betas, transl)
    joint = problem.keypoint_joint
    out = posed.joints[..., np.maximum(joint, 0), :]  # (..., K, 3)
    from_vertices = np.flatnonzero(joint < 0)
    if from_vertices.size:
        blend = reference_arrays(problem).surface_blend
        surface = blend.points(posed, np.asarray(betas))  # (..., Kv, 3)
        out = out.copy() if out.dtype == surface.dtype else out.astype(surface.dtype)
        out[..., from_vertices, :] = surface
    return out


def project(problem: FitProblem, points: np.ndarray) -> np.ndarray:
    """Pinhole projection π(X) = (f X/Z + cx, f Y/Z + cy).

    Parameters
    ----------
    points : (..., 3) metres, camera frame.

    Returns
    -------
    (..., 2) pixels.
    """
    return problem.focal_length * points[..., :2] / points[..., 2:3] + problem.center


def geman_mcclure(e: np.ndarray, sigma: float) -> np.ndarray:
    """ρ(e) = sign(e) √(σ² e² / (σ² + e²)), written as σ e / √(σ² + e²) (analytic in e)."""
    return sigma * e / np.sqrt(sigma * sigma + e * e)


def data_residuals(problem: FitProblem, pose: np.ndarray, betas: np.ndarray,
                   transl: np.ndarray, weight: float = 1.0,
                   posed: PosedBody | None = None, sigma: float | None = None) -> np.ndarray:
    """E_J rows: w_i · ρ(π(X_i) − x̂_i) for u and v, interleaved [u0, v0, u1, v1, ...].

    Rows of keypoints with w_i = 0 are exactly 0 (whatever their projection). ``sigma``:
    the Geman-McClure σ, pixels (None: the fit's ``data_sigma``).

    Returns
    -------
    (..., 2K) pixels.
    """
    points = model_keypoints(problem, pose, betas, transl, posed)
    active = problem.weights > 0.0  # (K,)
    # Keep inactive keypoints away from Z = 0 so that nothing divides by zero.
    z_safe = np.where(active, points[..., 2], 1.0)
    points = np.concatenate([points[..., :2], z_safe[..., None]], axis=-1)
    err = project(problem, points) - problem.keypoints  # (..., K, 2)
    err = np.where(active[:, None], err, 0.0)
    sigma = problem.options.data_sigma if sigma is None else sigma
    rows = problem.weights[:, None] * geman_mcclure(err, sigma)
    return weight * rows.reshape(rows.shape[:-2] + (-1,))


def relative_keypoint_ids(problem: FitProblem) -> np.ndarray:
    """S of E_3D: keypoints with data weight > 0 and a finite 3D keypoint (empty without
    3D keypoints or with fewer than two such keypoints)."""
    if problem.keypoints_3d is None:
        return np.zeros(0, dtype=np.int64)
    ids = np.flatnonzero((problem.weights > 0.0) & np.isfinite(problem.keypoints_3d).all(axis=1))
    return ids if ids.size >= 2 else ids[:0]


def keypoints_3d_residuals(problem: FitProblem, pose: np.ndarray, betas: np.ndarray,
                           transl: np.ndarray, weight: float = 1.0,
                           posed: PosedBody | None = None) -> np.ndarray:
    """E_3D rows (SPEC §6): w_i · ρ((X_i − X̄) − (Ŷ_i − Ȳ)) for x, y, z, i ∈ S, centroids
    X̄, Ȳ over S, Geman-McClure σ = ``keypoints_3d_sigma`` (metres); interleaved
    [x0, y0, z0, x1, ...] over all K keypoints, rows outside S exactly 0.

    Returns
    -------
    (..., 3K) metres (robustified).
    """
    ids = relative_keypoint_ids(problem)
    K = problem.num_keypoints
    points = model_keypoints(problem, pose, betas, transl, posed)  # (..., K, 3)
    rows = np.zeros(points.shape[:-2] + (K, 3), dtype=points.dtype)
    if ids.size:
        model_rel = points[..., ids, :] - points[..., ids, :].mean(axis=-2, keepdims=True)
        target = problem.keypoints_3d[ids]
        target_rel = target - target.mean(axis=0)
        err = model_rel - target_rel
        rows[..., ids, :] = (problem.weights[ids, None]
                             * geman_mcclure(err, problem.options.keypoints_3d_sigma))
    return weight * rows.reshape(rows.shape[:-2] + (3 * K,))


def knee_depth(hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray) -> np.ndarray:
    """E_knee's d of legs (..., 3) each, camera frame: the knee's offset from the hip–ankle
    line, o = w − (w·u / u·u) u (u = A − H, w = K − H), its depth component o_z per leg
    length ‖u‖; 0 where the hip is on the ankle (as the C++ term).

    Returns
    -------
    (...,) dimensionless: < 0 knee toward the camera.
    """
    u, w = ankle - hip, knee - hip
    uu = np.sum(u * u, axis=-1)
    safe = np.where(np.real(uu) > 1e-12, uu, 1.0)
    o_z = w[..., 2] - np.sum(w * u, axis=-1) / safe * u[..., 2]
    return np.where(np.real(uu) > 1e-12, o_z / np.sqrt(safe), 0.0)


def knee_depth_residuals(problem: FitProblem, pose: np.ndarray, betas: np.ndarray,
                         transl: np.ndarray, weight: float = 1.0,
                         posed: PosedBody | None = None) -> np.ndarray:
    """E_knee rows (cpp/knee_depth_term.h), left leg then right: ρ(d), d = o_z / ‖u‖ with
    u = A − H, w = K − H, o = w − (w·u / u·u) u (the knee's offset from the hip–ankle line),
    Geman-McClure σ = ``knee_depth_sigma``; a leg the format lacks gives 0.

    Returns
    -------
    (..., 2) dimensionless (robustified).
    """
    names = list(problem.keypoint_names)
    points = model_keypoints(problem, pose, betas, transl, posed)  # (..., K, 3)
    rows = []
    for leg in range(2):
        legs = LEG_KEYPOINT_NAMES[3 * leg:3 * leg + 3]
        if weight == 0 or not all(n in names for n in legs):
            rows.append(np.zeros(points.shape[:-2], dtype=points.dtype))
            continue
        hip, knee, ankle = (points[..., names.index(n), :] for n in legs)
        rows.append(geman_mcclure(knee_depth(hip, knee, ankle), problem.options.knee_depth_sigma))
    return weight * np.stack(rows, axis=-1)


# ---------------------------------------------------------------------------------------------
# Priors
# ---------------------------------------------------------------------------------------------

def angle_residuals(problem: FitProblem, pose: np.ndarray, betas: np.ndarray | None = None,
                    transl: np.ndarray | None = None, weight: float = 1.0) -> np.ndarray:
    """E_a rows: λ_a · scale · exp(s_i θ[i]), (i, s) = (55,+1), (58,−1), (12,−1), (15,−1).

    Returns
    -------
    (..., 4)
    """
    pose = np.asarray(pose)
    angles = ANGLE_PRIOR_SIGNS * pose[..., ANGLE_PRIOR_INDICES]
    if weight == 0:  # as the C++ term: rows of 0 wherever θ is (not 0 · exp(θ) = NaN)
        return np.zeros_like(angles)
    return weight * problem.options.angle_prior_scale * np.exp(angles)


def pose_prior_components(problem: FitProblem, pose: np.ndarray) -> np.ndarray:
    """All components' rows r_k(x) = [√½ L_kᵀ (x − μ_k); √(−log c_k)], x = θ[3:72].

    Returns
    -------
    (..., M, 70)
    """
    arrays = reference_arrays(problem).prior
    x = np.asarray(pose)[..., 3:]
    diff = x[..., None, :] - arrays.means  # (..., M, 69)
    # (L_kᵀ d)_a = Σ_b L_k[b, a] d_b
    quad = np.sqrt(0.5) * np.einsum("mba,...mb->...ma", arrays.chol, diff)
    const = np.broadcast_to(np.sqrt(arrays.neg_log_c), quad.shape[:-1])[..., None]
    return np.concatenate([quad, const.astype(quad.dtype)], axis=-1)


def pose_prior_component(problem: FitProblem, pose: np.ndarray) -> np.ndarray:
    """k* = argmin_k ‖r_k(θ[3:72])‖² (on real parts), shape (...) int."""
    rows = pose_prior_components(problem, np.asarray(pose).real)
    return np.argmin(np.einsum("...mr,...mr->...m", rows, rows), axis=-1)


def pose_prior_residuals(problem: FitProblem, pose: np.ndarray,
                         betas: np.ndarray | None = None, transl: np.ndarray | None = None,
                         weight: float = 1.0) -> np.ndarray:
    """E_θ rows: λ_θ · r_k*(θ[3:72]), the component re-chosen at this point.

    Returns
    -------
    (..., 70)
    """
    rows = pose_prior_components(problem, pose)  # (..., M, 70)
    k = pose_prior_component(problem, pose)  # (...)
    chosen = np.take_along_axis(rows, k[..., None, None], axis=-2)[..., 0, :]
    return weight * chosen


def shape_residuals(problem: FitProblem, pose: np.ndarray | None, betas: np.ndarray,
                    transl: np.ndarray | None = None, weight: float = 1.0) -> np.ndarray:
    """E_β rows: λ_β · β (unit-variance betas). Returns (..., B)."""
    return weight * np.asarray(betas)


# ---------------------------------------------------------------------------------------------
# Interpenetration E_sp
# ---------------------------------------------------------------------------------------------

def sphere_centres(problem: FitProblem, pose: np.ndarray, betas: np.ndarray,
                   transl: np.ndarray,
                   posed: PosedBody | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Posed sphere centres and radii (docs/design.md, capsule file).

    Capsule c on joint j: r = radius_mean + radius_betas·β, l = length_mean + length_betas·β;
    sphere m of c sits at the rest point c_rest = J_j + offset + (start + f_m) l · axis, with
    f_m = m/(n_c − 1); posed C = R_j (c_rest − J_j) + p_j + γ
    = R_j (offset + (start + f_m) l axis) + p_j + γ.

    Returns
    -------
    centres : (..., S, 3) metres.  radii : (..., S) metres.
    """
    caps = problem.capsule_arrays
    if posed is None:
        posed = pose_body(reference_arrays(problem).body, pose, betas, transl)
    betas = np.asarray(betas)
    radius = caps["radius_mean"] + np.einsum("cb,...b->...c", caps["radius_betas"], betas)
    length = caps["length_mean"] + np.einsum("cb,...b->...c", caps["length_betas"], betas)
    arrays = reference_arrays(problem)
    c = arrays.sphere_capsule  # (S,)
    along = (caps["start"][c] + arrays.sphere_fraction) * length[..., c]  # (..., S)
    local = caps["offset"][c] + along[..., None] * caps["axis"][c]  # (..., S, 3)
    joint = caps["joint"][c]  # (S,)
    rot = posed.world_rot[..., joint, :, :]  # (..., S, 3, 3)
    centres = np.einsum("...sab,...sb->...sa", rot, local) + posed.joints[..., joint, :]
    return centres, radius[..., c]


def interpenetration_residuals(problem: FitProblem, pose: np.ndarray, betas: np.ndarray,
                               transl: np.ndarray, weight: float = 1.0,
                               posed: PosedBody | None = None) -> np.ndarray:
    """E_sp rows: one per incompatible capsule pair g,
    λ_sp · sqrt(Σ_{(i,j) in g} exp(−‖C_i − C_j‖² / (σ_i² + σ_j²))), σ = sphere_sigma_scale · r.

    Their squares sum to SPEC's λ_sp² E_sp. Computed as λ e^(m/2) sqrt(Σ e^(a − m)) with m the
    largest exponent a of the group, so that far-apart groups give 0, not sqrt(0) with an
    infinite derivative. The Jacobian holds β (see :func:`term_jacobian`).

    A shape whose regressed radius of a paired sphere is <= 0 has no spheres to test: every
    row is NaN there (an invalid point, as the C++ term reports it to Ceres).

    Returns
    -------
    (..., G)
    """
    centres, radii = sphere_centres(problem, pose, betas, transl, posed)
    arrays = reference_arrays(problem)
    i, j = arrays.sphere_pairs[:, 0], arrays.sphere_pairs[:, 1]
    no_sphere = np.any(~(radii.real[..., i] > 0) | ~(radii.real[..., j] > 0), axis=-1)
    d = centres[..., i, :] - centres[..., j, :]
    dist_sq = np.einsum("...pa,...pa->...p", d, d)
    sigma = problem.options.sphere_sigma_scale * radii
    exponent = -dist_sq / (sigma[..., i] ** 2 + sigma[..., j] ** 2)
    starts = arrays.sphere_pair_starts
    group = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(i))))
    # m from the real part: a constant shift, so complex-step derivatives stay exact.
    largest = np.maximum.reduceat(exponent.real, starts, axis=-1)
    scaled = np.add.reduceat(np.exp(exponent - largest[..., group]), starts, axis=-1)
    rows = weight * np.exp(0.5 * largest) * np.sqrt(scaled)
    return np.where(no_sphere[..., None], np.nan, rows)


# ---------------------------------------------------------------------------------------------
# All terms, energies, Jacobians
# ---------------------------------------------------------------------------------------------

TERM_FUNCTIONS: dict[str, Callable[..., np.ndarray]] = {
    "data": data_residuals,
    "pose": pose_prior_residuals,
    "angle": angle_residuals,
    "interpenetration": interpenetration_residuals,
    "shape": shape_residuals,
    "keypoints_3d": keypoints_3d_residuals,
    "knee_depth": knee_depth_residuals,
}


def term_residuals(problem: FitProblem, pose: np.ndarray, betas: np.ndarray,
                   transl: np.ndarray, weights: StageWeights) -> dict[str, np.ndarray]:
    """Every term's weighted rows at one point, keyed by term name (one kinematics pass)."""
    posed = pose_body(reference_arrays(problem).body, pose, betas, transl)
    out = {
        "data": data_residuals(problem, pose, betas, transl, weights.data, posed),
        "pose": pose_prior_residuals(problem, pose, weight=weights.pose),
        "angle": angle_residuals(problem, pose, weight=weights.angle),
        "interpenetration": np.zeros(np.shape(pose)[:-1] + (0,)),
        "shape": shape_residuals(problem, None, betas, weight=weights.shape),
        "keypoints_3d": keypoints_3d_residuals(problem, pose, betas, transl,
                                               weights.keypoints_3d, posed),
        "knee_depth": knee_depth_residuals(problem, pose, betas, transl, weights.knee_depth,
                                           posed),
    }
    if weights.interpenetration > 0.0 and len(reference_arrays(problem).sphere_pairs):
        out["interpenetration"] = interpenetration_residuals(
            problem, pose, betas, transl, weights.interpenetration, posed)
    return out


def residuals(problem: FitProblem, pose: np.ndarray, betas: np.ndarray, transl: np.ndarray,
              weights: StageWeights) -> np.ndarray:
    """All weighted rows, in the order data, pose, angle, interpenetration, shape."""
    rows = term_residuals(problem, pose, betas, transl, weights)
    return np.concatenate([rows[t] for t in TERMS], axis=-1)


def energies(problem: FitProblem, pose: np.ndarray, betas: np.ndarray, transl: np.ndarray,
             weights: StageWeights) -> dict[str, float]:
    """Sum of squares of each term's weighted rows, and ``total`` their sum."""
    rows = term_residuals(problem, np.asarray(pose, float), np.asarray(betas, float),
                          np.asarray(transl, float), weights)
    out = {t: float(np.sum(rows[t] ** 2)) for t in TERMS}
    out["total"] = float(sum(out[t] for t in TERMS))
    return out


def complex_step_jacobian(fn: Callable[[np.ndarray], np.ndarray],
                          x: np.ndarray) -> np.ndarray:
    """Jacobian of a batched analytic function by the complex step.

    Parameters
    ----------
    fn : maps (P', P) parameter vectors to (P', R) rows; must accept complex input.
    x : (P,) the point.

    Returns
    -------
    (R, P) with J[:, k] = Im fn(x + i h e_k) / h, h = 1e-20.
    """
    x = np.asarray(x, dtype=float)
    batch = x[None, :] + 1j * _COMPLEX_STEP * np.eye(x.size)  # (P, P)
    return np.ascontiguousarray((np.asarray(fn(batch)).imag / _COMPLEX_STEP).T)


def term_jacobian(problem: FitProblem, term: str, pose: np.ndarray, betas: np.ndarray,
                  transl: np.ndarray,
                  weight: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Jacobian of one term's rows w.r.t. pose, betas and transl.

    For "interpenetration" the β block is zero by definition (SPEC §2: the gradient reaches θ
    only); every other block is the true derivative.

    Returns
    -------
    d_pose : (R, 72).  d_betas : (R, B).  d_transl : (R, 3).
    """
    fn = TERM_FUNCTIONS[term]
    pose = np.asarray(pose, dtype=float)
    betas = np.asarray(betas, dtype=float)
    transl = np.asarray(transl, dtype=float)
    nb = betas.size
    x = np.concatenate([pose, betas, transl])

    def rows(batch: np.ndarray) -> np.ndarray:
        b = batch[:, 72:72 + nb]
        if term == "interpenetration":
            b = np.broadcast_to(betas, b.shape)  # β held
        return fn(problem, batch[:, :72], b, batch[:, 72 + nb:], weight=weight)

    jac = complex_step_jacobian(rows, x)
    return jac[:, :72], jac[:, 72:72 + nb], jac[:, 72 + nb:]
