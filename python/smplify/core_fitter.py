"""A fitting problem as the C++ core takes it: its options as the bound ``_core.FitOptions``,
the ``_core.Fitter`` of its model, keypoint targets, prior, capsules and options (built once and
shared by every image that has them), and one image's observation (keypoints, weights, camera).

:mod:`smplify.fitting` (``fit``, ``fit_batch``), :mod:`smplify.fitter` (the online ``Fitter``),
:mod:`smplify.focal` and :mod:`smplify.sequence` run their C++ fits on these;
:func:`evaluate_terms` gives each C++ term's rows for the tests against
:mod:`smplify.reference`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from . import _core, start_scorer
from ._owner_cache import OwnerCache
from .capsules import INCOMPATIBLE_PART_PAIRS
from .held_joints import core_held_joints
from .problem import LEG_KEYPOINT_NAMES, FitProblem, start_poses

_FLIP_CODES = {"auto": -1, False: 0, True: 1}
_STOP_RULES = {"predicted": 0, "decrease": 1, "gradient": 2}  # cpp/convergence_stop.h StopRule


# FitOptions fields the C++ FitOptions has under the same name, meaning and default
# (tests/test_documented.py keeps the defaults equal); flip, start_selection, threads and
# track_function_tolerance (None: function_tolerance's) and prune_starts ("auto": 0) are
# converted below, init_pose and
# multi_start choose the start poses in Python, and keypoints_3d_weight, learned_init and
# anchor_weight choose each frame's E_3D targets and λ (smplify.problem), which reach C++
# with the frame, as do the initialiser's hypotheses
# (``starts``; prior_starts says whether the prior's starts run too); stop_rule is coded
# (_STOP_RULES); start_scorer becomes
# the shipped scorer's weights (smplify.start_scorer) or none; the other track_*
# options steer the online tracking in Python (smplify.online).
_SHARED_OPTIONS = ("pose_prior_weights", "shape_prior_weights", "angle_prior_ratio",
                   "angle_prior_scale", "interpenetration_weight", "sphere_sigma_scale",
                   "data_sigma", "depth_weight", "max_iterations", "function_tolerance",
                   "sideways_ratio", "refine_translation", "selection_sigma",
                   "keypoints_3d_sigma", "track_orient_weight", "track_pose_weight",
                   "track_transl_weight", "track_velocity_ratio", "warm_stages",
                   "hypothesis_first_stage", "hypothesis_score_weight", "reading_weight",
                   "reading_sigma", "leg_flips", "knee_depth_weight", "knee_depth_sigma",
                   "prune_stage", "prune_distance", "track_max_iterations",
                   "track_stop_tolerance", "stop_tolerance")


def _leg_keypoints(problem: FitProblem) -> list[int]:
    """The format's hip, knee and ankle indices of each leg (−1 where it has none)."""
    names = list(problem.keypoint_names)
    return [names.index(n) if n in names else -1 for n in LEG_KEYPOINT_NAMES]


def _core_options(problem: FitProblem) -> Any:
    """The problem's FitOptions as the C++ core's bound ``_core.FitOptions``."""
    options = problem.options
    core = _core.FitOptions()
    for name in _SHARED_OPTIONS:
        setattr(core, name, getattr(options, name))
    core.flip = _FLIP_CODES[options.flip]
    core.stop_rule = _STOP_RULES[options.stop_rule]
    # "auto": 0 here, every start (a Fitter's frames, fit_sequence); smplify.fit makes it
    # PHOTO_PRUNE_STARTS before this (FitOptions.for_photo).
    core.prune_starts = 0 if isinstance(options.prune_starts, str) else options.prune_starts
    core.leg_keypoints = _leg_keypoints(problem)
    core.track_held_joints = core_held_joints(problem)
    core.select_start_by_data = options.start_selection == "data"
    core.prior_starts = options.starts != "initializer"
    # A Fitter's rival track goes on from a start its fit from scratch did not keep.
    core.record_starts = options.track and options.track_rival_frames > 0
    core.threads = options.threads if options.threads is not None else (os.cpu_count() or 1)
    core.track_function_tolerance = (options.function_tolerance
                                     if options.track_function_tolerance is None
                                     else options.track_function_tolerance)
    # start_scorer "auto": the energy's selection here (a Fitter's frames, fit_sequence);
    # smplify.fit makes it PHOTO_START_SCORER before this (FitOptions.for_photo).
    if options.start_scorer == "learned":
        # The C++ raw form carries the feature count first (cpp/start_scorer.h).
        core.start_scorer = [float(len(start_scorer.START_FEATURES)), *start_scorer.weights()]
    return core


def _core_capsules(problem: FitProblem) -> dict[str, Any]:
    arrays = dict(problem.capsule_arrays)
    arrays["joint"] = [int(j) for j in arrays["joint"]]
    arrays["incompatible"] = [(int(a), int(b)) for a, b in INCOMPATIBLE_PART_PAIRS]
    return arrays


def _core_fitter(problem: FitProblem, options: Any = None,
                 starts: list[np.ndarray] | None = None) -> Any:
    """The C++ fitter for a problem's model, targets, prior, capsules and options (or
    ``options``, a ``_core.FitOptions``), starting from :func:`start_poses` (or ``starts``,
    body poses (69,))."""
    prior = problem.prior
    return _core.Fitter(
        problem.model.core, [int(j) for j in problem.keypoint_joint],
        list(problem.keypoint_vertex_ids), list(problem.keypoint_vertex_weights),
        np.asarray(prior.means, dtype=np.float64),
        [np.asarray(L, dtype=np.float64) for L in prior.precision_cholesky],
        np.asarray(prior.neg_log_c, dtype=np.float64), _core_capsules(problem),
        _core_options(problem) if options is None else options,
        start_poses(problem) if starts is None else starts)


def _observation(problem: FitProblem) -> dict[str, Any]:
    """The per-image arrays the C++ fit takes."""
    torso = [k if ok else -1 for k, ok in zip(problem.torso_keypoints.tolist(),
                                              problem.torso_confident.tolist(), strict=True)]
    confidence = np.where(problem.keypoint_available, problem.confidence, 0.0)
    return {"keypoints": np.ascontiguousarray(problem.keypoints, dtype=np.float64),
            "weights": np.asarray(problem.weights, dtype=np.float64),
            "confidence": confidence, "torso": torso,
            "focal_length": float(problem.focal_length),
            "center": np.asarray(problem.center, dtype=np.float64),
            "keypoints_3d": problem.keypoints_3d,
            "keypoints_3d_weight": float(problem.keypoints_3d_weight),
            "hypotheses": list(problem.hypotheses),
            "readings": None if problem.readings is None else (list(problem.readings[0]),
                                                               problem.readings[1]),
            "reading_weight_scale": float(problem.reading_weight_scale),
            # The mesh is posed when the result's vertices are first read (_result).
            "vertices": False}


# Building a C++ fitter folds the format's surface keypoints into per-joint terms: ~4-6 ms on
# the open model (its keypoint regressors average up to 4105 vertices), well under 1 MB kept
# besides the model it refers to. 32 entries cover every format x model x a few option sets
# without evicting in a loop; an entry goes when its model, prior or capsules are collected.
_CORE_CACHE = OwnerCache(32)


def _shared_core_fitter(problem: FitProblem) -> Any:
    """The C++ fitter of a problem's model, prior, keypoint targets and options, shared by
    every image that has them (only the observation differs: keypoints, weights, camera).
    The targets are known by the format's value (``problem.keypoint_format``, resolved on
    the model, an owner), as the anchor's posers are (``smplify.anchor._poser``), not by its
    name: a format of a built-in's name with other targets (e.g.
    ``keypoints.with_blended_hips``) is another key and gets its own fitter."""
    return _cached_core_fitter(problem, "", lambda: _core_fitter(problem))


def _cached_core_fitter(problem: FitProblem, kind: str, build: Callable[[], Any]) -> Any:
    """``build()``'s C++ fitter for the problem's model, prior, targets and options, kept
    in the shared cache under ``kind`` ("" the problem's own fitter)."""
    options = tuple(sorted((k, repr(v)) for k, v in problem.options.to_dict().items()))
    owners = (problem.model, problem.prior, problem.capsule_regressor)
    return _CORE_CACHE.get(owners, (problem.keypoint_format, options, kind), build)


def _refit_core_fitter(problem: FitProblem) -> Any:
    """The C++ fitter of a Fitter's refits from the learned readings: the problem's, its
    solves capped at ``track_refit_iterations`` (> 0) iterations."""
    cap = problem.options.track_refit_iterations

    def build() -> Any:
        options = _core_options(problem)
        options.max_iterations = min(cap, problem.options.max_iterations)
        return _core_fitter(problem, options)

    return _cached_core_fitter(problem, "refit", build)


def evaluate_terms(problem: FitProblem, pose: np.ndarray, betas: np.ndarray,
                   transl: np.ndarray, stage: int) -> Mapping[str, tuple[np.ndarray, np.ndarray]]:
    """Each C++ term's residuals and Jacobian over [global_orient, body_pose, betas, transl]
    at stage ``stage``'s weights (for tests against :mod:`smplify.reference`).

    The data term's and E_3D's rows are scattered back to the reference layout (2K and 3K
    rows, zeros for the keypoints a term does not use).
    """
    from .reference.energy import relative_keypoint_ids

    core = _shared_core_fitter(problem)
    obs = _observation(problem)
    args = (stage, obs["keypoints"], obs["weights"], obs["torso"], obs["focal_length"],
            obs["center"], np.asarray(pose, float), np.asarray(betas, float),
            np.asarray(transl, float), obs["keypoints_3d"], obs["keypoints_3d_weight"])
    out = {}
    for term in ("data", "pose", "angle", "shape", "interpenetration", "keypoints_3d",
                 "knee_depth"):
        residuals, jacobian = core.evaluate_term(term, *args)
        if term in ("data", "keypoints_3d"):
            # Rows of the keypoints the term uses, scattered to one block per keypoint
            # (E_3D has no rows at all when its λ is 0).
            if term == "data":
                used, dim = np.flatnonzero(problem.weights > 0), 2
            else:
                used = relative_keypoint_ids(problem) if residuals.size else []
                used, dim = np.asarray(used, dtype=np.int64), 3
            rows = np.ravel(dim * used[:, None] + np.arange(dim))
            full_r = np.zeros(dim * problem.num_keypoints)
            full_j = np.zeros((dim * problem.num_keypoints, jacobian.shape[1]))
            full_r[rows], full_j[rows] = residuals, jacobian
            residuals, jacobian = full_r, full_j
        if term == "knee_depth" and np.size(residuals) == 0:  # off: the reference's 2 rows of 0
            residuals, jacobian = np.zeros(2), np.zeros((2, np.shape(jacobian)[1]))
        out[term] = (np.asarray(residuals), np.asarray(jacobian))
    return out
