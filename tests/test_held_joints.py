"""``track_held_joints``: joints whose rotations the tracked warm fits hold (their columns
leave the solve; cpp/held_joints.h)."""

from __future__ import annotations

import numpy as np
import pytest
import smplify
from smplify import _core
from smplify import synthetic_video as sv
from test_sequence import SEQUENCES
from test_track_tolerance import CLEAN, _track

HELD = (10, 11, 22, 23)  # the toes and the hands: no COCO-17 keypoint moves with them


def _held_columns(joints) -> np.ndarray:
    return np.concatenate([np.arange(3 * (j - 1), 3 * j) for j in joints])


@pytest.mark.parametrize(("sizes", "pose_block"), [([3, 69, 10, 3], 1), ([69], 0),
                                                    ([3, 69], 1), ([69, 3], 0)])
@pytest.mark.parametrize("held", [(10, 11, 22, 23), (1,), (23,), (1, 5, 6, 7, 20)])
def test_split_cost_is_the_cost_with_theta_in_runs(sizes, pose_block, held) -> None:
    rng = np.random.default_rng(len(held) + 10 * pose_block)
    a = rng.normal(size=(7, sum(sizes)))
    x = rng.normal(size=sum(sizes))
    free = [j for j in range(1, 24) if j not in held]
    # The runs: consecutive joints of one kind, in joint order.
    runs, kinds = [], []
    for j in range(1, 24):
        kind = j in held
        if kinds and kinds[-1] == kind:
            runs[-1] += 3
        else:
            runs.append(3)
            kinds.append(kind)
    outer = [*sizes[:pose_block], *runs, *sizes[pose_block + 1:]]
    every = [True] * len(outer)
    r, blocks, got_sizes = _core._testing.split_pose_cost(a, sizes, pose_block, list(held), x,
                                                          every)
    assert list(got_sizes) == outer
    # x is laid out block by block and θ's runs are consecutive, so x is also the outer layout.
    np.testing.assert_allclose(r, a @ x, rtol=1e-12, atol=1e-12)  # A x, summed block by block
    starts = np.cumsum([0, *outer])
    for b, block in enumerate(blocks):
        np.testing.assert_array_equal(block, a[:, starts[b]:starts[b + 1]])
    # The held runs' Jacobians not asked for (Ceres asks none of a constant block).
    first = pose_block
    wanted = [True] * len(outer)
    for i, kind in enumerate(kinds):
        wanted[first + i] = not kind
    r2, blocks2, _ = _core._testing.split_pose_cost(a, sizes, pose_block, list(held), x, wanted)
    np.testing.assert_array_equal(r2, r)
    for b, block in enumerate(blocks2):
        if wanted[b]:
            np.testing.assert_array_equal(block, a[:, starts[b]:starts[b + 1]])
        else:
            assert block is None
    assert len(free) + len(held) == 23


def test_a_tracked_fit_holds_the_joints_and_fits_the_rest(open_model) -> None:
    video = sv.make_video(open_model, sv.load_sequences(SEQUENCES)[0], "coco17",
                          np.random.default_rng(3), errors=CLEAN, frames=slice(0, 10))
    # Unfiltered, no refits: every warm frame is one tracked fit from the last frame's.
    options = dict(track_smoothing=0.0, track_refit_every=0, track_refit_ratio=0.0)
    held = _track(open_model, video, track_held_joints=HELD, **options)
    free = _track(open_model, video, **options)
    assert held[0].summary["start"] == "cold"
    np.testing.assert_array_equal(held[0].pose, free[0].pose)  # a fit from scratch: all free
    columns = 3 + _held_columns(HELD)
    others = np.setdiff1d(np.arange(3, 72), columns)
    warm = [i for i, r in enumerate(held) if r.summary["start"] == "warm"]
    assert len(warm) >= 8
    for i in warm:
        # Exactly the last frame's rotations: the solve has no column for them.
        np.testing.assert_array_equal(held[i].pose[columns], held[i - 1].pose[columns])
        assert np.abs(held[i].pose[others] - held[i - 1].pose[others]).max() > 1e-4
    # Without the option the warm fits move them (the prior couples them to the rest).
    assert any(np.abs(free[i].pose[columns] - free[i - 1].pose[columns]).max() > 0 for i in warm)
    # The keypoints explained as well (the tracks themselves part by centimetres over the
    # frames: β is re-estimated every frame of the first ten, a chain that amplifies any
    # difference, with or without the option).
    def error(r: smplify.FitResult, kp: np.ndarray) -> float:
        return float(np.linalg.norm(r.keypoints_2d - kp[:, :2], axis=1).mean())

    for a, b, kp in zip(held, free, video.keypoints, strict=True):
        assert error(a, kp) < 1.1 * error(b, kp)


def test_held_joints_default_to_none_in_python_and_cpp() -> None:
    assert smplify.FitOptions().track_held_joints == ()
    assert _core.FitOptions().track_held_joints == []


def test_held_joints_are_normalised() -> None:
    assert smplify.FitOptions(track_held_joints=[23, np.int64(10)]).track_held_joints == (10, 23)
    # an array of joints: compared with "unseen" it would be an array of truth values
    assert smplify.FitOptions(track_held_joints=np.array([11, 10])).track_held_joints == (10, 11)


@pytest.mark.parametrize("value", [(0,), (24,), (10, 10), (True,), (1.0,), (-1,)])
def test_held_joints_must_be_distinct_smpl_joints(value) -> None:
    with pytest.raises(ValueError, match="track_held_joints"):
        smplify.FitOptions(track_held_joints=value)


@pytest.mark.parametrize("value", ["hands", 10, None, b"unseen"])
def test_held_joints_must_be_a_sequence(value) -> None:
    with pytest.raises(TypeError, match="track_held_joints"):
        smplify.FitOptions(track_held_joints=value)


def test_unseen_joints_are_those_no_keypoint_moves_with(open_model) -> None:
    from smplify.held_joints import unseen_joints

    assert unseen_joints("coco17", open_model) == (10, 11, 22, 23)
    assert unseen_joints("lsp14", open_model) == (10, 11, 22, 23)
    # Heel and toe keypoints follow the toes; no format has a point on the hands' subtree.
    assert unseen_joints("mediapipe33", open_model) == (22, 23)
    assert unseen_joints("openpose25", open_model) == (22, 23)
    # SMPL's own joints: a joint's position moves with its ancestors' rotations only.
    assert unseen_joints("smpl24", open_model) == (10, 11, 15, 22, 23)


@pytest.mark.parametrize("format", ["coco17", "mediapipe33"])
def test_unseen_reaches_the_core_as_the_formats_joints(open_model, open_prior, format) -> None:
    from smplify.core_fitter import _core_options
    from smplify.held_joints import unseen_joints
    from smplify.problem import build_problem
    from smplify.synthetic import make_case

    case = make_case(open_model, open_prior, format, np.random.default_rng(0))

    def core(held):
        return _core_options(build_problem(case.keypoints, format, case.image_size,
                                           case.focal_length, open_model, open_prior,
                                           {"track_held_joints": held}))

    assert smplify.FitOptions(track_held_joints="unseen").track_held_joints == "unseen"
    assert core("unseen").track_held_joints == list(unseen_joints(format, open_model))
    assert core((3, 1)).track_held_joints == [1, 3]


def test_a_track_iteration_cap_stops_the_tracked_fits_only(open_model) -> None:
    video = sv.make_video(open_model, sv.load_sequences(SEQUENCES)[0], "coco17",
                          np.random.default_rng(3), errors=CLEAN, frames=slice(0, 16))
    capped = _track(open_model, video, track_max_iterations=2)
    free = _track(open_model, video)
    # The first frame is a fit from scratch: max_iterations, the same fit.
    assert capped[0].summary["start"] == "cold"
    np.testing.assert_array_equal(capped[0].pose, free[0].pose)
    # From the third frame on a warm frame has a track (two frames before it).
    warm = [r for r in capped[2:] if r.summary["start"] == "warm"]
    assert warm
    for r in warm:
        stage = r.summary["stages"][-1]
        # Each solve of the stage (the first frames' stage adds one with β held): Ceres
        # counts its start as a successful step, so 2 iterations report 3 steps.
        assert stage.iterations - stage.fixed_shape_iterations <= 3
        assert stage.fixed_shape_iterations <= 3
        if stage.iterations == 2 and stage.termination == "NO_CONVERGENCE":
            assert r.summary["status"] == "iteration_limit"
    assert max(r.summary["stages"][-1].iterations - r.summary["stages"][-1].fixed_shape_iterations
               for r in free[2:]) > 3


@pytest.mark.parametrize("value", [-1, 1.5, True])
def test_track_iteration_cap_must_be_a_count(value) -> None:
    with pytest.raises(ValueError, match="track_max_iterations"):
        smplify.FitOptions(track_max_iterations=value)
