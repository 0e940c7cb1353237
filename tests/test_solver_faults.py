"""Solver faults end in ``FitResult.summary`` (status + message), never in a crash (issue 14).

A NaN inside a cost evaluation is injected through the test-only hook
``smplify._core._testing.with_fault``: a copy of a C++ fitter whose given stage gets one
more residual block that goes bad on its n-th evaluation (a NaN residual, a NaN Jacobian,
or the cost reporting that it cannot evaluate). Iteration limits and a fit that cannot be
evaluated at all are reached through the public API.
"""

from __future__ import annotations

import numpy as np
import pytest
import smplify
from fuzzing import assert_finite_fit
from smplify import _core
from smplify.synthetic import make_case

FORMAT = "coco17"
# One start from the prior: the stages the faults are injected into run once.
OPTIONS = {"multi_start": False, "threads": 1, "starts": "prior", "learned_init": False}


@pytest.fixture(scope="module")
def case(open_model, open_prior):
    return make_case(open_model, open_prior, FORMAT, np.random.default_rng(3))


def _fitter(open_model, case, **options) -> smplify.Fitter:
    return smplify.Fitter(open_model, format=FORMAT, image_size=case.image_size,
                          focal_length=case.focal_length, **{**OPTIONS, **options})


def _faulty_fit(open_model, case, kind: str, stage: int, evaluation: int) -> smplify.FitResult:
    """A cold fit of ``case`` whose stage ``stage`` (0-based) has the injected fault."""
    fitter = _fitter(open_model, case)
    fitter.fit(case.keypoints)  # builds the fitter's C++ problem
    fitter._core = _core._testing.with_fault(fitter._core, kind, stage, evaluation)
    return fitter.fit(case.keypoints, warm_start=False)


def _stage(result: smplify.FitResult, stage: int):
    return result.summary["stages"][1 + stage]  # after the torso fit


@pytest.mark.parametrize("kind", ["nan_jacobian", "fail"])
@pytest.mark.parametrize("stage", [0, 3])
def test_a_fault_at_a_stage_start_is_reported_and_the_fit_goes_on(open_model, case, kind,
                                                                  stage):
    """Evaluation 0 of the stage: the stage cannot start (fail: our own start check; a NaN
    Jacobian: Ceres' first Jacobian). The stage is reported as failed, its parameters are
    those it started from, and the other stages run as usual."""
    clean = _fitter(open_model, case).fit(case.keypoints)
    result = _faulty_fit(open_model, case, kind, stage, 0)
    assert_finite_fit(result)
    assert result.summary["status"] == "evaluation_failed"
    failed = _stage(result, stage)
    assert failed.termination == "FAILURE"
    assert f"stage {stage + 1}: FAILURE" in result.summary["message"]
    assert failed.message and failed.message in result.summary["message"]
    for other in range(4):
        if other != stage:
            assert _stage(result, other).termination != "FAILURE"
    # The stages before the fault ran exactly as without it.
    for earlier in range(stage):
        assert _stage(result, earlier).final_cost == _stage(clean, earlier).final_cost


@pytest.mark.parametrize("kind", ["nan_jacobian", "fail"])
def test_a_fault_after_accepted_steps_keeps_the_last_good_point(open_model, case, kind):
    """Evaluation 3 of stage 1 (after Ceres accepted steps): the stage stops where it was;
    its final cost is below its initial one and the result is finite."""
    result = _faulty_fit(open_model, case, kind, 0, 3)
    assert_finite_fit(result)
    first = _stage(result, 0)
    if first.termination == "FAILURE":
        assert result.summary["status"] == "evaluation_failed"
        assert first.final_cost <= first.initial_cost
        assert first.iterations >= 1
    else:  # Ceres met the tolerance before the third evaluation
        assert first.termination == "CONVERGENCE"


def test_a_nan_residual_at_a_trial_point_is_a_rejected_step(open_model, case):
    """A NaN cost at a point Ceres only tries: the step is rejected (the trust region
    shrinks) and the solve carries on to a finite result."""
    result = _faulty_fit(open_model, case, "nan_residual", 1, 2)
    assert_finite_fit(result)
    assert _stage(result, 1).termination in ("CONVERGENCE", "NO_CONVERGENCE")


def test_the_iteration_limit_is_the_status(open_model, case):
    result = _fitter(open_model, case, max_iterations=1).fit(case.keypoints)
    assert_finite_fit(result)
    assert result.summary["status"] == "iteration_limit"
    assert "NO_CONVERGENCE" in result.summary["message"]
    assert "iterations" in result.summary["message"].lower()


def test_a_converged_fit_says_so(open_model, case):
    result = _fitter(open_model, case, max_iterations=200,
                     function_tolerance=1e-3).fit(case.keypoints)
    assert result.summary["status"] == "converged"
    assert result.summary["message"] == "every stage converged"


def test_a_fit_that_cannot_be_evaluated_anywhere_raises_a_named_error(open_model, case):
    """Keypoints that put the body at or behind the camera at every stage: no finite result
    exists, so the documented SmplifyError (naming focal_length and image_size) is raised."""
    far = case.keypoints * [1e9, 1e9, 1.0]
    with pytest.raises(smplify.SmplifyError, match="focal_length") as err:
        _fitter(open_model, case).fit(far)
    assert "image_size" in str(err.value)


@pytest.mark.parametrize("starts", ["prior", "initializer", "both"])
def test_a_camera_the_torso_cannot_place_raises_whichever_the_starts(open_model, open_prior,
                                                                     starts):
    """Keypoints 1e9 px out: at the similar-triangles depth the torso is behind the camera.
    The prior's starts cannot be evaluated from there; the initialiser's readings, placed on
    their own, used to give a body 10⁶ m away with β ~ 10⁸ that explained no keypoint, as
    "evaluation_failed". The README's rule holds for both: no finite point, SmplifyError."""
    case = make_case(open_model, open_prior, FORMAT, np.random.default_rng(0))
    far = case.keypoints * [1e9, 1e9, 1.0]
    with pytest.raises(smplify.SmplifyError, match="torso: not finite.*focal_length"):
        _fitter(open_model, case, starts=starts).fit(far)


@pytest.mark.parametrize("kind", ["fail", "nan_jacobian"])
def test_a_stage_fault_is_the_same_outcome_from_the_initialisers_starts(open_model, case,
                                                                        kind):
    """The same fault in the stage the hypotheses start at (hypothesis_first_stage): every
    reading fails there, so the fit falls back on the prior's start and reports the failed
    stage, exactly as the prior's path does: a finite result, never an error."""
    stage = smplify.FitOptions().hypothesis_first_stage
    results = {}
    for starts in ("prior", "initializer"):
        fitter = _fitter(open_model, case, starts=starts)
        fitter.fit(case.keypoints)  # builds the fitter's C++ problem
        fitter._core = _core._testing.with_fault(fitter._core, kind, stage, 0)
        results[starts] = fitter.fit(case.keypoints, warm_start=False)
    for result in results.values():
        assert_finite_fit(result)
        assert result.summary["status"] == "evaluation_failed"
        assert _stage(result, stage).termination == "FAILURE"
    prior, learned = results["prior"], results["initializer"]
    assert learned.summary["hypothesis"] == -1  # no reading chosen
    np.testing.assert_array_equal(learned.pose, prior.pose)
    np.testing.assert_array_equal(learned.transl, prior.transl)


def test_the_fault_hook_checks_its_arguments(open_model, case):
    fitter = _fitter(open_model, case)
    fitter.fit(case.keypoints)
    with pytest.raises(ValueError, match="kind must be"):
        _core._testing.with_fault(fitter._core, "segfault", 0, 0)
    with pytest.raises(ValueError, match=">= 0"):
        _core._testing.with_fault(fitter._core, "fail", -1, 0)
    with pytest.raises(TypeError):
        _core._testing.with_fault(object(), "fail", 0, 0)
