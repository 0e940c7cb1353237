"""Camera initialisation, torso fit and orientation flip (SPEC §3 steps 1–3), plain NumPy/SciPy.

All of it works on the 4 torso keypoints of the problem (left shoulder, right shoulder, left
hip, right hip) and only those with confidence > 0 ("confident"; build_problem guarantees at
least 3). Definitions, exactly (docs/design.md, "Camera initialisation"):

- 3D torso points X_t: the model's torso keypoint targets at rest (θ = 0, β = 0, γ = 0).
- Shoulder–hip pairs: (left shoulder, left hip) and (right shoulder, right hip), each used
  when both ends are confident. L3 and L2: the mean 3D and 2D pair lengths.
- Depth of the torso centre Z_c = f · L3 / L2.
- Initial orientation ω_0 = (π, 0, 0). Torso centres: c3 = mean of the confident torso
  points posed with ω_0 (θ_body = 0, β = 0, γ = 0); ĉ = mean of their 2D observations.
- Initial translation γ_0 = (Z_c (ĉ_x − c_x)/f − c3_x, Z_c (ĉ_y − c_y)/f − c3_y, Z_c − c3_z),
  which puts the posed torso centre at depth Z_c on the ray through ĉ.
- Torso fit over (ω, γ), body pose and β held at 0: 9 rows, for torso keypoint t in order
  conf_t · (π(X_t(ω, γ)) − x̂_t) (u then v; 0 for a non-confident one), then
  depth_weight · (γ_z − γ_0,z).
- Sideways: ‖x̂_ls − x̂_rs‖ < sideways_ratio · L2, or either shoulder not confident.
- Flipped orientation: R(ω) · R_y(π).
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import least_squares
from scipy.spatial.transform import Rotation

from ..problem import FitProblem
from ..result import StageSummary
from .body import rodrigues
from .energy import complex_step_jacobian, model_keypoints, project

INITIAL_ORIENTATION = np.array([np.pi, 0.0, 0.0])

# scipy.optimize.least_squares method of the torso fit and the stages (see smplify.reference.fit).
SOLVER_METHOD = "trf"

# Torso keypoint slots (problem.torso_keypoints order) of the shoulder–hip pairs.
_PAIRS = ((0, 2), (1, 3))
_TERMINATION = {-1: "FAILURE", 0: "NO_CONVERGENCE", 1: "CONVERGENCE", 2: "CONVERGENCE",
                3: "CONVERGENCE", 4: "CONVERGENCE"}


def termination_name(status: int) -> str:
    """Ceres-style name of a ``scipy.optimize.least_squares`` status."""
    return _TERMINATION.get(int(status), "FAILURE")


def _torso_points_3d(problem: FitProblem, orient: np.ndarray) -> np.ndarray:
    """(4, 3) torso targets posed with global orientation ``orient``, θ_body = β = γ = 0."""
    pose = np.zeros(72)
    pose[:3] = orient
    points = model_keypoints(problem, pose, np.zeros(problem.num_betas), np.zeros(3))
    return points[problem.torso_keypoints]


def shoulder_hip_lengths(problem: FitProblem) -> tuple[float, float]:
    """Mean 3D (rest, β = 0, metres) and 2D (pixels) shoulder–hip length over confident pairs."""
    ok = problem.torso_confident
    rest = _torso_points_3d(problem, np.zeros(3))
    obs = problem.keypoints[problem.torso_keypoints]
    pairs = [(a, b) for a, b in _PAIRS if ok[a] and ok[b]]
    l3 = np.mean([np.linalg.norm(rest[a] - rest[b]) for a, b in pairs])
    l2 = np.mean([np.linalg.norm(obs[a] - obs[b]) for a, b in pairs])
    return float(l3), float(l2)


def initial_translation(problem: FitProblem) -> np.ndarray:
    """γ_0 (3,) metres: torso centre at depth f · L3 / L2 on the ray through the 2D centre."""
    l3, l2 = shoulder_hip_lengths(problem)
    depth = problem.focal_length * l3 / l2
    ok = problem.torso_confident
    c3 = _torso_points_3d(problem, INITIAL_ORIENTATION)[ok].mean(axis=0)
    c2 = problem.keypoints[problem.torso_keypoints][ok].mean(axis=0)
    ray = (c2 - problem.center) / problem.focal_length
    return np.array([depth * ray[0] - c3[0], depth * ray[1] - c3[1], depth - c3[2]])


def torso_residuals(problem: FitProblem, params: np.ndarray,
                    transl_init: np.ndarray) -> np.ndarray:
    """The torso fit's 9 rows for params (..., 6) = (ω, γ) (module docstring)."""
    params = np.asarray(params)
    batch = params.shape[:-1]
    pose = np.concatenate([params[..., :3], np.zeros(batch + (69,))], axis=-1)
    betas = np.zeros(batch + (problem.num_betas,))
    transl = params[..., 3:6]
    points = model_keypoints(problem, pose, betas, transl)[..., problem.torso_keypoints, :]
    conf = np.where(problem.torso_confident, problem.confidence[problem.torso_keypoints], 0.0)
    err = conf[:, None] * (project(problem, points) - problem.keypoints[problem.torso_keypoints])
    depth = problem.options.depth_weight * (transl[..., 2:3] - transl_init[2])
    return np.concatenate([err.reshape(batch + (8,)), depth], axis=-1)


def fit_torso(problem: FitProblem, orient: np.ndarray | None = None,
              transl: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, StageSummary]:
    """Torso fit over global orientation and translation (SPEC §3 step 2).

    Parameters
    ----------
    problem : FitProblem
    orient : (3,) start orientation, default (π, 0, 0).
    transl : (3,) start translation (metres), default :func:`initial_translation`; the depth
        row pulls γ_z towards it.

    Returns
    -------
    orient : (3,) axis-angle.  transl : (3,) metres.  summary : StageSummary "torso".
    """
    start = time.perf_counter()
    transl_init = initial_translation(problem) if transl is None else np.asarray(transl, float)
    orient0 = INITIAL_ORIENTATION if orient is None else np.asarray(orient, float)
    x0 = np.concatenate([orient0, transl_init])

    def fun(x: np.ndarray) -> np.ndarray:
        return torso_residuals(problem, x, transl_init)

    def jac(x: np.ndarray) -> np.ndarray:
        return complex_step_jacobian(fun, x)

    opts = problem.options
    res = least_squares(fun, x0, jac=jac, method=SOLVER_METHOD, ftol=opts.function_tolerance,
                        xtol=1e-10, gtol=1e-10, max_nfev=opts.max_iterations)
    summary = StageSummary(
        name="torso", weights={"depth": opts.depth_weight}, iterations=int(res.nfev),
        termination=termination_name(res.status), initial_cost=0.5 * float(fun(x0) @ fun(x0)),
        final_cost=float(res.cost), seconds=time.perf_counter() - start)
    return res.x[:3].copy(), res.x[3:].copy(), summary


def is_sideways(problem: FitProblem) -> bool:
    """2D shoulder distance < sideways_ratio · L2, or a shoulder not confident."""
    ok = problem.torso_confident
    if not (ok[0] and ok[1]):
        return True
    obs = problem.keypoints[problem.torso_keypoints]
    _, l2 = shoulder_hip_lengths(problem)
    return bool(np.linalg.norm(obs[0] - obs[1]) < problem.options.sideways_ratio * l2)


def flipped_orientation(orient: np.ndarray) -> np.ndarray:
    """Axis-angle of R(ω) · R_y(π): the body turned half round its own vertical axis."""
    r = rodrigues(np.asarray(orient, float)) @ rodrigues(np.array([0.0, np.pi, 0.0]))
    return Rotation.from_matrix(r).as_rotvec()
