"""A C++ fit's ``FitReport`` as the :class:`~smplify.FitResult` it returns (``_result``):
the parameters, the stages' summaries and status, the energies with E_3D named for its targets
(:func:`smplify.result.split_anchor`), the mesh posed only when first read; and a frame's
result through the online Fitter's output filter (``_smoothed``, ``track_smoothing``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from . import online
from .errors import SmplifyError
from .problem import FitProblem
from .result import FitResult, StageSummary, split_anchor


def _result(problem: FitProblem, report: Any, started: float, start: str,
            earlier_solver_seconds: float = 0.0, labelling: int = 0) -> FitResult:
    """The FitResult of a C++ ``FitReport`` (``started``: perf_counter when the frame came in;
    ``start``: how the frame started; ``earlier_solver_seconds``: of fits this one replaced;
    ``labelling``: index into ``online.LABELLING_NAMES`` of the keypoints' reading fitted)."""
    betas, global_orient = np.asarray(report.betas), np.asarray(report.global_orient)
    body_pose, transl = np.asarray(report.body_pose), np.asarray(report.transl)
    joints, vertices = np.asarray(report.joints), np.asarray(report.vertices)
    if not report.finite:  # energy, parameters, joints, vertices (a mesh left to pose later
        # comes from finite parameters: it is too)
        failed = [s.name for s in report.stages if s.termination == "FAILURE"]
        raise SmplifyError(
            f"fit failed: the energy could not be evaluated ({', '.join(failed) or 'result'}: "
            "not finite). Usually the body could not be placed in front of the camera "
            f"(keypoints at or behind it): check focal_length ({problem.focal_length:g} px) "
            f"and image_size ({problem.image_size[0]:g} x {problem.image_size[1]:g} px) "
            f"against the keypoints (x {problem.keypoints[:, 0].min():.3g}.."
            f"{problem.keypoints[:, 0].max():.3g}, y {problem.keypoints[:, 1].min():.3g}.."
            f"{problem.keypoints[:, 1].max():.3g} px); otherwise the option weights.")
    keypoints_3d = np.asarray(report.keypoints)
    keypoints_3d[~problem.keypoint_available] = np.nan
    camera = problem.camera
    stages = [_stage_summary(s) for s in report.stages]
    energy = split_anchor(report.energy.as_dict(), problem.anchored)
    tried = report.tried
    names = ["initial", "flipped"][:len(tried)]
    mesh: Any = vertices
    if not len(vertices):  # not posed by the fit: posed when first read
        mesh = functools.partial(_posed_vertices, problem.model.core,
                                 np.concatenate([global_orient, body_pose]), betas, transl)
    keypoints_2d = camera.project(keypoints_3d)
    summary = {"stages": stages, "orientation": "flipped" if report.flipped else "initial",
               "sideways": bool(report.sideways),
               "tried": dict(zip(names, map(float, tried), strict=True)),
               # The frame's wall time: its checks, solves and this conversion.
               "seconds": time.perf_counter() - started,
               "solver_seconds": float(report.seconds) + earlier_solver_seconds,
               "initial_depth": float(report.initial_depth),
               "num_starts": int(report.num_starts),
               "num_hypotheses": int(report.num_hypotheses),
               "pruned_starts": int(report.num_pruned),
               "hypothesis": int(report.hypothesis),
               "legs_flipped": int(report.legs_flipped),
               "left_right": problem.left_right,
               "label_permutation": (None if problem.label_permutation is None
                                     else problem.label_permutation.tolist()),
               "num_spheres": int(report.num_spheres),
               "num_sphere_pairs": int(report.num_sphere_pairs), "implementation": "cpp",
               "solver": "Ceres TRADITIONAL_DOGLEG, DENSE_NORMAL_CHOLESKY, analytic Jacobians",
               "start": start, "labelling": online.LABELLING_NAMES[labelling],
               "track_energy": float(report.track_energy),
               "unsmoothed": None, "smoothing_lag_frames": 0.0,  # the output filter's
               "focal_length": float(problem.focal_length),
               "focal_length_source": problem.focal_source, **_status(stages)}
    return FitResult(
        betas=betas, global_orient=global_orient, body_pose=body_pose, transl=transl,
        camera=camera, joints=joints, vertices=mesh, faces=problem.model.faces,
        keypoints_3d=keypoints_3d, keypoints_2d=keypoints_2d, energy=energy, summary=summary)


def _stage_summary(stage: Any) -> StageSummary:
    """The StageSummary of a C++ ``StageReport``."""
    weights = stage.weights  # (each read of the bound field makes a new Python object)
    return StageSummary(name=stage.name,
                        weights={term: float(getattr(weights, term)) for term in _STAGE_WEIGHTS},
                        iterations=int(stage.iterations), termination=stage.termination,
                        initial_cost=float(stage.initial_cost),
                        final_cost=float(stage.final_cost), seconds=float(stage.seconds),
                        fixed_shape_iterations=int(stage.fixed_shape_iterations),
                        message=str(stage.message))


def _posed_vertices(core_model: Any, pose: np.ndarray, betas: np.ndarray,
                    transl: np.ndarray) -> np.ndarray:
    """(N, 3) the mesh of a fitted body (FitResult.vertices, posed on first read)."""
    return np.asarray(core_model.vertices(pose, betas, transl))


def _smoothed(problem: FitProblem, result: FitResult, pose: np.ndarray,
              transl: np.ndarray, lag: float) -> FitResult:
    """``result`` with the filtered (72,) ``pose`` and (3,) ``transl`` (Fitter's
    ``track_smoothing``): joints posed from them, the mesh and keypoints too when first read
    (a surface keypoint needs the mesh); energies and the rest of the summary stay the
    fit's, whose own parameters go to ``summary["unsmoothed"]``."""
    core, betas = problem.model.core, result.betas
    joints = np.asarray(core.joints(pose, betas, transl))
    mesh = _once(functools.partial(_posed_vertices, core, pose, betas, transl))

    def posed_keypoints() -> np.ndarray:
        out = np.full((problem.num_keypoints, 3), np.nan)
        for k in np.flatnonzero(problem.keypoint_available):
            j = int(problem.keypoint_joint[k])
            out[k] = joints[j] if j >= 0 else problem.keypoint_vertex_weights[k] @ \
                mesh()[problem.keypoint_vertex_ids[k]]
        return out

    keypoints_3d = _once(posed_keypoints)
    summary = {**result.summary, "smoothing_lag_frames": lag,
               "unsmoothed": {"global_orient": result.global_orient,
                              "body_pose": result.body_pose, "transl": result.transl}}
    # As dataclasses.replace(result, ...), built directly (a frame's budget: ~5 us less).
    return FitResult(
        betas=betas, global_orient=pose[:3], body_pose=pose[3:], transl=transl,
        camera=result.camera, joints=joints, vertices=mesh, faces=result.faces,
        keypoints_3d=keypoints_3d, keypoints_2d=lambda: result.camera.project(keypoints_3d()),
        energy=result.energy, summary=summary)


def _once(compute: Callable[[], np.ndarray]) -> Callable[[], np.ndarray]:
    """``compute``, called on the first call only and its value kept (as functools.cache
    of a function without arguments, at a tenth of its set-up cost)."""
    value: list[np.ndarray] = []

    def get() -> np.ndarray:
        if not value:
            value.append(compute())
        return value[0]

    return get


def _status(stages: list[StageSummary]) -> dict[str, str]:
    """``summary["status"]`` and ``["message"]`` from the stages' Ceres terminations."""
    terminations = {s.termination for s in stages}
    status = ("evaluation_failed" if "FAILURE" in terminations else
              "iteration_limit" if "NO_CONVERGENCE" in terminations else "converged")
    lines = [f"{s.name}: {s.termination}: {s.message}" for s in stages
             if s.termination != "CONVERGENCE"]
    return {"status": status, "message": "; ".join(lines) or "every stage converged"}


# Fields of the C++ StageWeights, in FitResult's order (TermEnergies' come as_dict).
_STAGE_WEIGHTS = ("pose", "shape", "angle", "interpenetration")
