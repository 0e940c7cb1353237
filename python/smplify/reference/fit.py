"""The staged SMPLify fit (SPEC §3) in plain NumPy/SciPy: the test oracle and benchmark baseline.

Same problem, energy, stages, initialisation and result as the C++ ``smplify.fit``; only the
solver differs. Ceres runs a dogleg trust region; SciPy has no dogleg for nonlinear least
squares, so each stage here is ``scipy.optimize.least_squares(method="trf")`` — the same energy
minimised with a different trust-region step, so the two reach comparable (not identical)
minima. Jacobians come from the complex step (:mod:`smplify.reference.energy`), exact to
rounding and independent of the C++ analytic derivatives.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from ..problem import FitProblem, build_problem, start_poses
from ..result import FitResult, StageSummary, split_anchor
from .arrays import reference_arrays
from .body import model_output
from .energy import (
    StageWeights,
    complex_step_jacobian,
    data_residuals,
    energies,
    interpenetration_residuals,
    model_keypoints,
    project,
    term_residuals,
)
from .init import SOLVER_METHOD, fit_torso, flipped_orientation, is_sideways, termination_name

# Tolerances on the step and the gradient: small, so that the relative function tolerance of
# the options (SPEC §3: 1e-4) is what ends a stage, as in the C++ fit.
_XTOL = 1e-10
_GTOL = 1e-10


def fit(keypoints: Any, format: str, image_size: Any, focal_length: float | None = None,
        model: Any = "open", prior: Any = "open", keypoints_3d: Any = None,
        **options: Any) -> FitResult:
    """Fit the body model to 2D keypoints (SPEC §3), pure NumPy/SciPy.

    Parameters
    ----------
    keypoints : (K, 3) x, y, confidence, or (K, 2) x, y, pixels.
    format : str, keypoint format ("smpl24", "coco17", "openpose25", "mediapipe33", "lsp14").
    image_size : (2,) (width, height), pixels.
    focal_length : float or None, pixels (None: ``default_focal_length``, the diagonal).
    model : "open", a path, or a loaded ``smplify.BodyModel``.
    prior : "open", a path, or a loaded ``smplify.prior.GMMPosePrior``.
    keypoints_3d : (K, 3) metres or None, as :func:`smplify.fit`'s.
    **options : fields of :class:`smplify.FitOptions` (``threads`` is ignored here).

    Returns
    -------
    FitResult with ``summary["implementation"] == "reference"``.
    """
    problem = build_problem(keypoints, format, image_size, focal_length, model, prior,
                            options, keypoints_3d=keypoints_3d)
    return fit_problem(problem)


#: ``jacobian(problem, pose, betas, transl, weights, with_interpenetration)``: the (R, 72 + B + 3)
#: Jacobian of a stage's rows (data, pose, angle, shape, then E_sp's when asked) over
#: (θ, β, γ), E_sp's β columns zero. None: complex-step (the oracle's own).
StageJacobian = Callable[[FitProblem, np.ndarray, np.ndarray, np.ndarray, StageWeights, bool],
                         np.ndarray]


def fit_stage(problem: FitProblem, pose: np.ndarray, betas: np.ndarray, transl: np.ndarray,
              stage: int, jacobian: StageJacobian | None = None
              ) -> tuple[np.ndarray, np.ndarray, StageSummary]:
    """One stage: minimise E over (θ, β), and γ when ``options.refine_translation``.

    Parameters
    ----------
    problem : FitProblem
    pose : (72,) start θ, radians.  betas : (B,) start β.  transl : (3,) start γ, metres.
    stage : 0-based stage index (its λ from the options).
    jacobian : StageJacobian or None
        Another source of the rows' Jacobian (benchmarks/numpy_smplify.py's analytic one);
        None: complex-step.

    Returns
    -------
    pose : (72,).  betas : (B,).  transl : (3,).  summary : StageSummary "stage <stage+1>".
    """
    start = time.perf_counter()
    weights = StageWeights.for_stage(problem, stage)
    nb = problem.num_betas
    transl = np.asarray(transl, float)
    free_transl = problem.options.refine_translation
    use_sp = weights.interpenetration > 0.0 and len(reference_arrays(problem).sphere_pairs) > 0

    def gamma_of(x: np.ndarray) -> np.ndarray:
        if free_transl:
            return x[..., 72 + nb:]
        return np.broadcast_to(transl, x.shape[:-1] + (3,))

    def rows(x: np.ndarray, terms: tuple[str, ...]) -> np.ndarray:
        pose_x, betas_x = x[..., :72], x[..., 72:72 + nb]
        gamma = gamma_of(x)
        out = term_residuals(problem, pose_x, betas_x, gamma,
                             StageWeights(pose=weights.pose, shape=weights.shape,
                                          angle=weights.angle, interpenetration=0.0,
                                          keypoints_3d=weights.keypoints_3d,
                                          knee_depth=weights.knee_depth))
        return np.concatenate([out[t] for t in terms], axis=-1)

    smooth_terms = ("data", "pose", "angle", "shape", "keypoints_3d", "knee_depth")

    def fun(x: np.ndarray) -> np.ndarray:
        parts = [rows(x, smooth_terms)]
        if use_sp:
            parts.append(interpenetration_residuals(problem, x[:72], x[72:72 + nb], gamma_of(x),
                                                    weights.interpenetration))
        return np.concatenate(parts)

    def jac(x: np.ndarray) -> np.ndarray:
        if jacobian is not None:
            full = jacobian(problem, x[:72], x[72:72 + nb], np.array(gamma_of(x)), weights,
                            use_sp)
            return full if free_transl else full[:, :72 + nb]
        parts = [complex_step_jacobian(lambda b: rows(b, smooth_terms), x)]
        if use_sp:
            # E_sp: derivative w.r.t. θ only, β taken as a constant (SPEC §2): its columns
            # are zero.
            def sp(batch: np.ndarray) -> np.ndarray:
                return interpenetration_residuals(
                    problem, batch, np.broadcast_to(x[72:72 + nb], batch.shape[:-1] + (nb,)),
                    np.broadcast_to(gamma_of(x), batch.shape[:-1] + (3,)),
                    weights.interpenetration)
            d_pose = complex_step_jacobian(sp, x[:72])
            # (E_sp does not depend on γ: sphere distances are translation invariant.)
            held = np.zeros((d_pose.shape[0], x.size - 72))
            parts.append(np.concatenate([d_pose, held], axis=1))
        return np.concatenate(parts, axis=0)

    x0 = np.concatenate([np.asarray(pose, float), np.asarray(betas, float)]
                        + ([transl] if free_transl else []))
    f0 = fun(x0)
    opts = problem.options

    def solve(f, j, x_start):
        return least_squares(f, x_start, jac=j, method=SOLVER_METHOD,
                             ftol=opts.function_tolerance, xtol=_XTOL, gtol=_GTOL,
                             max_nfev=opts.max_iterations)

    res = solve(fun, jac, x0)
    x, iterations, fixed_shape_iterations = res.x, int(res.nfev), 0
    if use_sp and stage == problem.options.num_stages - 1:
        # The last stage ends over (θ, γ) with β held, where E_sp's Jacobian is exact (as the
        # C++ driver does; docs/design.md, "E_sp and β").
        free = np.r_[0:72, 72 + nb:x.size]
        held_betas = x[72:72 + nb].copy()

        def with_betas(y: np.ndarray) -> np.ndarray:
            return np.concatenate([y[:72], held_betas, y[72:]])

        res = solve(lambda y: fun(with_betas(y)), lambda y: jac(with_betas(y))[:, free], x[free])
        x, fixed_shape_iterations = with_betas(res.x), int(res.nfev)
        iterations += fixed_shape_iterations
    summary = StageSummary(
        name=f"stage {stage + 1}", weights=weights.as_dict(), iterations=iterations,
        termination=termination_name(res.status), initial_cost=0.5 * float(f0 @ f0),
        final_cost=float(res.cost), seconds=time.perf_counter() - start,
        fixed_shape_iterations=fixed_shape_iterations)
    new_transl = x[72 + nb:].copy() if free_transl else transl.copy()
    return x[:72].copy(), x[72:72 + nb].copy(), new_transl, summary


def fit_problem(problem: FitProblem, jacobian: StageJacobian | None = None) -> FitResult:
    """Run initialisation, torso fit, orientation choice and the stages on a built problem.

    Parameters
    ----------
    problem : FitProblem (from :func:`smplify.problem.build_problem`).
    jacobian : StageJacobian or None, for :func:`fit_stage` (None: complex-step).

    Returns
    -------
    FitResult
    """
    start = time.perf_counter()
    opts = problem.options
    orient, transl, torso_summary = fit_torso(problem)
    sideways = is_sideways(problem)
    try_flip = opts.flip is True or (opts.flip == "auto" and sideways)
    candidates = [("initial", orient)]
    if try_flip:
        candidates.append(("flipped", flipped_orientation(orient)))

    last = StageWeights.for_stage(problem, opts.num_stages - 1)
    runs = []
    starts = start_poses(problem)
    torso_transl = transl
    for name, start_orient in candidates:
        # Per orientation: the start with the lowest data term at σ = selection_sigma, or
        # with start_selection="total" the lowest total energy (docs/design.md).
        best = None
        for body_pose in starts:
            pose = np.concatenate([start_orient, body_pose])
            betas = np.zeros(problem.num_betas)
            transl = torso_transl.copy()
            stages = []
            for stage in range(opts.num_stages):
                pose, betas, transl, summary = fit_stage(problem, pose, betas, transl, stage,
                                                         jacobian)
                stages.append(summary)
            energy = energies(problem, pose, betas, transl, last)
            if opts.start_selection == "total":
                score = energy["total"]
            else:
                rows = data_residuals(problem, pose, betas, transl, sigma=opts.selection_sigma)
                score = float(rows @ rows)
            if best is None or score < best[7]:
                best = (energy["data"], name, pose, betas, stages, energy, transl, score)
        runs.append(best)
    tried = {name: data for data, name, *_ in runs}
    _, orientation, pose, betas, stages, energy, transl, _ = min(runs, key=lambda run: run[0])
    energy = split_anchor(energy, problem.anchored)  # E_3D named for its targets, as FitResult's

    body = reference_arrays(problem).body
    joints, vertices = model_output(body, pose, betas, transl)
    keypoints_3d = model_keypoints(problem, pose, betas, transl)
    keypoints_3d[~problem.keypoint_available] = np.nan
    return FitResult(
        betas=betas, global_orient=pose[:3].copy(), body_pose=pose[3:].copy(),
        transl=transl, camera=problem.camera, joints=joints, vertices=vertices,
        faces=body.faces.copy(), keypoints_3d=keypoints_3d,
        keypoints_2d=project(problem, keypoints_3d), energy=energy,
        summary={"stages": [torso_summary, *stages], "orientation": orientation,
                 "sideways": sideways, "tried": tried,
                 "focal_length": float(problem.focal_length),
                 "focal_length_source": problem.focal_source,
                 "seconds": time.perf_counter() - start, "implementation": "reference",
                 "solver": "scipy.optimize.least_squares trf, "
                           + ("complex-step" if jacobian is None else "analytic") + " Jacobians"})
