"""The joint solve's Levenberg-Marquardt on the block-banded normal equations
(cpp/sequence_fitter.cc, cpp/block_banded.h): the normal equations it sums block by block are
those of Ceres' own Jacobian of the same energy (with and without E_3D), and the first damping
μ₀ it and Ceres accept. Its rejected steps at the start: tests/test_sequence_3d.py.

The solver's linear algebra against a dense NumPy solve: tests/test_block_banded.py; the
block-banded solve against Ceres' CGNR on a whole fit: tests/test_sequence_3d.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import smplify
from smplify import _core
from smplify import synthetic_video as sv
from smplify.core_fitter import _shared_core_fitter
from smplify.problem import build_problem
from smplify.reference.energy import pose_prior_component

SEQUENCES = Path(__file__).parent / "data" / "heldout_sequences.npz"
FORMAT = "mediapipe33"


def _normal_equations(model, frames: int, noise: float, seed: int, with_3d: bool = False,
                      solve_with_damping: tuple[float, bool] | None = None,
                      held_pose: int = 0, reuse_pose_prior_products: bool = True) -> dict:
    """The two assemblies at a start off the truth (each frame's pose and translation
    perturbed, β nonzero) of a held-out clip's first frames, with its detector errors;
    ``with_3d``: with the detector's 3D keypoints, E_3D at weight 100 in every frame.
    ``solve_with_damping`` (μ₀, iterative): instead, the joint solve's report from there
    ("start": the start itself, the core fit_sequence's first nine arguments).
    ``held_pose`` n: the first n frames' body pose the same (their pose prior's Jacobians
    then repeat bit for bit). ``reuse_pose_prior_products``: the assembly's cache of the pose
    prior's JᵀJ on (the fit's) or off. Also returned: "pose", the start's (T, 72) pose, and
    "problem"."""
    rng = np.random.default_rng(seed)
    video = sv.make_video(model, sv.load_sequences(SEQUENCES)[2], FORMAT, rng,
                          frames=slice(0, frames))
    xy, conf = video.keypoints[..., :2], video.keypoints[..., 2]
    problem = build_problem(np.column_stack([xy[0], np.ones(xy.shape[1])]), FORMAT,
                            video.image_size, video.focal_length, model,
                            smplify.load_prior("open"), smplify.FitOptions(),
                            place_camera=False)
    pose = np.column_stack([video.global_orient, video.body_pose])
    pose = pose + noise * rng.normal(size=pose.shape)
    pose[:held_pose, 3:] = pose[0, 3:]
    transl = video.transl + 0.05 * rng.normal(size=video.transl.shape)
    start = (_shared_core_fitter(problem), np.ascontiguousarray(xy.reshape(-1, 2)),
             conf * np.asarray(problem.weights), float(video.focal_length),
             np.asarray(problem.camera.center, dtype=np.float64), pose,
             0.5 * rng.normal(size=model.num_betas), transl, np.array([40.0, 20.0, 40.0]))
    if solve_with_damping == "start":
        return start
    if solve_with_damping is not None:
        return _core.fit_sequence(*start, 2, 1e-6, solve_with_damping[1],
                                  initial_damping=solve_with_damping[0])
    n = _core.sequence_normal_equations(
        *start, np.ascontiguousarray(sv.detector_3d(model, video, rng).reshape(-1, 3))
        if with_3d else None, 100.0 if with_3d else 0.0,
        reuse_pose_prior_products=reuse_pose_prior_products)
    return {**n, "pose": pose, "problem": problem}


@pytest.mark.parametrize("frames, noise, with_3d",
                         [(1, 0.1, False), (2, 0.1, False), (6, 0.1, False), (6, 0.4, False),
                          (6, 0.1, True)])
def test_the_normal_equations_are_those_of_ceres_jacobian(open_model, frames: int,
                                                          noise: float, with_3d: bool) -> None:
    """JᵀJ and −Jᵀr as the block-banded solve sums them (every term's blocks placed by
    address, θ per joint in the temporal term, β the border) equal the products of the
    Jacobian Ceres builds for the same energy (Problem::Evaluate, the temporal term one
    cost over 69-blocks): a missing, misplaced or transposed block, or a wrong sign of a
    gradient piece, shows here. 1 and 2 frames: no temporal term (it needs three); 0.4
    rad of noise: a start far from the truth; with_3d: E_3D's blocks (ω, θ, β, γ) too."""
    n = _normal_equations(open_model, frames, noise, seed=frames, with_3d=with_3d)
    j, r = n["jacobian"], n["residuals"]
    assert j.shape == (len(r), frames * 75 + open_model.num_betas)
    if with_3d:  # E_3D's rows are there (the same start without them: fewer rows)
        assert len(r) > len(_normal_equations(open_model, frames, noise, frames)["residuals"])
    h, g = j.T @ j, -j.T @ r
    scale = np.abs(h).max()
    np.testing.assert_allclose(n["hessian"], h, rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(n["gradient"], g, rtol=0, atol=1e-9 * np.abs(g).max())
    # Every block of the band is there (frames couple to t ± 2 through the temporal term).
    for t in range(frames if frames >= 3 else 0):
        for k in range(1, 3):
            if t + k < frames:
                block = n["hessian"][(t + k) * 75:(t + k + 1) * 75, t * 75:(t + 1) * 75]
                assert np.abs(block).max() > 0, (t, k)


def test_the_pose_prior_s_products_are_reused_and_change_nothing(open_model) -> None:
    """The assembly computes the pose prior's JᵀJ once per distinct Jacobian (one per mixture
    component: λ_θ [√½ L_kᵀ; 0], cpp/sequence_fitter.cc BandedAssembly::PosePriorGram) and
    reuses it in other frames: with the cache on, JᵀJ and −Jᵀr are those without it to the bit;
    it is hit by frames sharing a component (the first three share a body pose), missed
    once per distinct component (NumPy's choice, smplify.reference), and consulted for the
    pose prior only (one look-up a frame: no other term's residual goes through it). The
    sums still equal Ceres' JᵀJ, each frame's θθ block filled in its own place."""
    frames = 6
    on = _normal_equations(open_model, frames, 0.4, seed=7, held_pose=3)
    off = _normal_equations(open_model, frames, 0.4, seed=7, held_pose=3,
                            reuse_pose_prior_products=False)
    assert np.array_equal(on["hessian"], off["hessian"])
    assert np.array_equal(on["gradient"], off["gradient"])
    components = pose_prior_component(on["problem"], on["pose"])
    distinct = len(set(components.tolist()))
    assert 1 < distinct < frames  # the held pose's frames share one; the others differ
    assert (on["pose_prior_products_computed"], on["pose_prior_products_reused"]) == (
        distinct, frames - distinct)
    assert (off["pose_prior_products_computed"], off["pose_prior_products_reused"]) == (
        frames, 0)
    j = on["jacobian"]
    h = j.T @ j
    np.testing.assert_allclose(on["hessian"], h, rtol=0, atol=1e-9 * np.abs(h).max())
    theta = [on["hessian"][t * 75 + 3:t * 75 + 72, t * 75 + 3:t * 75 + 72]
             for t in range(frames)]
    assert all(np.abs(b).max() > 0 for b in theta)


@pytest.mark.parametrize("iterative", [False, True])
@pytest.mark.parametrize("damping", [0.0, -1.0, float("nan"), float("inf"), 1e-20, 1e32])
def test_the_core_refuses_a_first_damping_ceres_cannot_take(open_model, damping: float,
                                                            iterative: bool) -> None:
    """μ₀ outside [1e-16, 1e32) (Ceres' trust region radius 1/μ₀ outside [1e-32, 1e16]) is
    refused by name before either solver starts, not reported as an energy that could not
    be evaluated; the ends of the range (1e31: 1/1e32 rounds below 1e-32) are taken."""
    with pytest.raises(ValueError, match=r"initial_damping must be in \[1e-16, 1e32\)"):
        _normal_equations(open_model, 3, 0.1, 0, solve_with_damping=(damping, iterative))
    for edge in (1e-16, 1e31):
        report = _normal_equations(open_model, 3, 0.1, 0, solve_with_damping=(edge, iterative))
        assert np.isfinite(report["final_cost"])


@pytest.mark.parametrize("damping", [1e-4, 1e-9])
def test_the_solve_reports_each_step(open_model, damping: float) -> None:
    """The block-banded solve's "steps" (for benchmarks/sequence_stages.py): one per iteration,
    in order, each starting from the cost the last accepted step reached; a step is accepted
    exactly when Levenberg-Marquardt's gain ratio passes 1e-3; μ follows Nielsen's update
    (× ν ≥ 2 after a rejection, × max(1/3, 1 − (2ρ − 1)³) after an acceptance); only the
    last step's trial is evaluated without Jacobians; the rejected steps and the final cost
    are the report's own."""
    report = _normal_equations(open_model, 6, 0.4, 3, solve_with_damping=(damping, False))
    start = report["steps"]
    assert len(start) == report["iterations"] == 2
    more = _core.fit_sequence(*_normal_equations(open_model, 6, 0.4, 3, solve_with_damping="start"),
                              8, 1e-12, False,
                              initial_damping=damping)
    steps = more["steps"]
    assert len(steps) == more["iterations"]
    assert sum(not s["accepted"] for s in steps) == more["rejected_steps"] >= 1
    assert sum(s["accepted"] for s in steps) >= 1
    cost = more["initial_cost"]
    for k, s in enumerate(steps):
        assert s["cost"] == cost
        rho = (s["cost"] - s["trial_cost"]) / s["predicted"] if s["predicted"] > 0 else -np.inf
        assert s["accepted"] == bool(np.isfinite(s["trial_cost"]) and rho > 1e-3)
        assert s["jacobians"] == (k + 1 < len(steps))
        assert s["linear_cpu_seconds"] >= 0 and s["evaluation_cpu_seconds"] >= 0
        if k + 1 < len(steps):  # Nielsen's update (Ceres'): ν ≥ 2 after a rejection
            factor = max(1 / 3, 1 - (2 * rho - 1) ** 3) if s["accepted"] else None
            if factor is None:
                assert steps[k + 1]["damping"] >= 2 * s["damping"]
            else:
                assert np.isclose(steps[k + 1]["damping"], factor * s["damping"], rtol=1e-12)
        if s["accepted"]:
            cost = s["trial_cost"]
    assert more["final_cost"] == cost
    assert [s["damping"] for s in steps[:2]] == [s["damping"] for s in start]
    assert more["first_evaluation_cpu_seconds"] > 0 and more["finish_cpu_seconds"] > 0
