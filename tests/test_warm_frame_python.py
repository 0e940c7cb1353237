"""The online Fitter's Python around each warm fit made cheaper (docs/video.md, session 18):
each shortcut gives the values of the code it replaced, to the bit, and a cache that kept a
wrong value would fail here."""

from __future__ import annotations

import dataclasses
import gc
import math
import struct

import numpy as np
import pytest
from smplify import online
from smplify import problem as problem_module
from smplify.fit_report import _stage_summary
from smplify.problem import FitProblem, fit_settings, frame_problem
from smplify.synthetic import make_case


# The facing before the cache: the same float kernels (online._forward_of and
# _chest_forward_of, main's arithmetic moved unchanged), each fed the pose's floats by
# tolist() rather than by its cached bytes.
def _old_forward(orient: np.ndarray) -> tuple[float, float, float]:
    """The pelvis' forward axis as online computed it before the facing cache."""
    return online._forward_of(*np.asarray(orient).tolist())


def _old_chest_forward(pose: np.ndarray) -> tuple[float, float, float]:
    """The chest's forward axis as online computed it before the facing cache."""
    return online._chest_forward_of(np.asarray(pose)[:3 * online.CHEST_CHAIN[-1] + 3].tolist())


def _old_turn(orient_a: np.ndarray, orient_b: np.ndarray) -> float:
    """The pelvis' turn (the old online.turn_degrees) before the facing cache."""
    return online._angle_degrees(_old_forward(orient_a), _old_forward(orient_b))


def _old_torso_turn(pose_a: np.ndarray, pose_b: np.ndarray) -> float:
    """torso_turn_degrees as it was before the facing cache."""
    return max(_old_turn(pose_a[:3], pose_b[:3]),
               online._angle_degrees(_old_chest_forward(pose_a), _old_chest_forward(pose_b)))


def test_torso_turn_degrees_is_the_uncached_value_to_the_bit() -> None:
    rng = np.random.default_rng(3)
    poses = [rng.normal(scale=s, size=72) for s in (0.05, 0.5, 2.0) for _ in range(30)]
    poses.append(np.zeros(72))  # the angle < 1e-12 branches
    online._facing.cache_clear()
    for a, b in zip(poses, poses[7:] + poses[:7], strict=True):
        for _ in range(2):  # computed, then from the cache
            assert online.torso_turn_degrees(a, b) == _old_torso_turn(a, b)
    assert online._facing.cache_info().hits > 0


def test_pelvis_turn_degrees_is_the_old_turn_of_the_roots_to_the_bit() -> None:
    rng = np.random.default_rng(7)
    poses = [rng.normal(scale=s, size=72) for s in (1e-13, 0.05, 1.0, 4.0) for _ in range(20)]
    online._facing.cache_clear()
    for a, b in zip(poses, poses[1:] + poses[:1], strict=True):
        for _ in range(2):
            assert online.pelvis_turn_degrees(a, b) == _old_turn(a[:3], b[:3])
    moved = poses[5].copy()
    moved[1] += 0.2  # the root moved: its facing is not the cached one
    assert online.pelvis_turn_degrees(moved, poses[9]) == \
        _old_turn(moved[:3], poses[9][:3]) != \
        online.pelvis_turn_degrees(poses[5], poses[9])


def test_the_facing_cache_tells_poses_apart_by_every_value_it_reads() -> None:
    rng = np.random.default_rng(4)
    base, other = rng.normal(scale=0.4, size=72), rng.normal(scale=0.4, size=72)
    online.torso_turn_degrees(base, other)  # base's facing now cached

    def facing(pose: np.ndarray) -> tuple:
        return online._facing(online._chest_chain_bytes(pose))

    for i in (0, 2, 9, 20, 29):  # the root and each spine joint of the chest chain
        moved = base.copy()
        moved[i] += 0.3
        assert online.torso_turn_degrees(moved, other) == _old_torso_turn(moved, other)
        assert facing(moved) == (_old_forward(moved[:3]), _old_chest_forward(moved))
        assert facing(moved)[1] != facing(base)[1]
    # A value the facing does not read (the arms) leaves it, cached or not.
    arms = base.copy()
    arms[50] += 1.0
    assert online.torso_turn_degrees(arms, other) == _old_torso_turn(base, other)
    # A list and a float32 array read as their float64 values.
    assert online.torso_turn_degrees(list(base), other) == _old_torso_turn(base, other)
    f32 = base.astype(np.float32)
    assert online.torso_turn_degrees(f32, other) == _old_torso_turn(f32.astype(float), other)


def test_torso_length_is_torso_spans_value_to_the_bit(open_model, open_prior) -> None:
    case = make_case(open_model, open_prior, "coco17", np.random.default_rng(0))
    settings = fit_settings("coco17", case.image_size, case.focal_length, open_model,
                            open_prior)
    rng = np.random.default_rng(5)
    for scale in (1e-3, 1.0, 300.0, 1e7):
        kp = np.array(case.keypoints, dtype=float)
        kp[:, :2] = rng.normal(scale=scale, size=(len(kp), 2)) + 500.0
        p = frame_problem(settings, kp, place_camera=False)
        expected = float(online.torso_span(np.asarray(p.keypoints)[p.torso_keypoints]))
        assert online.torso_length(p) == expected
    kp[settings.torso_keypoints[1], 2] = 0.0  # a shoulder unseen
    assert math.isnan(online.torso_length(frame_problem(settings, kp, place_camera=False)))


def _settings(model, prior, focal: float, **options):
    return fit_settings("coco17", (640.0, 480.0), focal, model, prior, options)


def test_frame_problem_sets_every_field_and_each_settings_its_own(open_model,
                                                                 open_prior) -> None:
    case = make_case(open_model, open_prior, "coco17", np.random.default_rng(1))
    a = _settings(open_model, open_prior, 900.0)
    b = _settings(open_model, open_prior, 1500.0, data_sigma=50.0)
    for settings in (a, b, a, b):  # alternating: each frame's fields are its settings'
        p = frame_problem(settings, case.keypoints, place_camera=False)
        assert set(vars(p)) == {f.name for f in dataclasses.fields(FitProblem)}
        assert p.focal_length == settings.focal_length
        assert p.options is settings.options
        assert p.model is settings.model and p.prior is settings.prior
        assert p.keypoint_format is settings.format and p.format == "coco17"
        np.testing.assert_array_equal(p.center, settings.center)
        np.testing.assert_array_equal(p.image_size, settings.image_size)
        np.testing.assert_array_equal(p.keypoint_available, settings.resolved.available)
        conf = np.asarray(case.keypoints)[:, 2]
        np.testing.assert_array_equal(p.keypoints, np.asarray(case.keypoints)[:, :2])
        np.testing.assert_array_equal(
            p.weights, np.where(settings.resolved.available,
                                conf * settings.resolved.weights, 0.0))
        # The same problem through the dataclass's own __init__ (every field readable).
        again = dataclasses.replace(p)
        for f in dataclasses.fields(FitProblem):
            assert getattr(again, f.name) is getattr(p, f.name), f.name
        with pytest.raises(dataclasses.FrozenInstanceError):
            p.focal_length = 1.0  # still frozen
    # A frame's own arrays are its own: writing the caller's keypoints moves nothing.
    kp = np.array(case.keypoints, dtype=float)
    p = frame_problem(a, kp, place_camera=False)
    kp[:, :2] += 10.0
    np.testing.assert_array_equal(p.keypoints, np.asarray(case.keypoints)[:, :2])


def test_the_shared_fields_go_with_their_settings(open_model, open_prior) -> None:
    case = make_case(open_model, open_prior, "coco17", np.random.default_rng(2))
    settings = _settings(open_model, open_prior, 800.0)
    frame_problem(settings, case.keypoints, place_camera=False)
    assert settings in problem_module._SETTINGS_FIELDS
    count = len(problem_module._SETTINGS_FIELDS)
    del settings
    gc.collect()
    assert len(problem_module._SETTINGS_FIELDS) == count - 1


def test_stage_summaries_read_every_field_of_the_stage(open_model, open_prior) -> None:
    import smplify

    case = make_case(open_model, open_prior, "coco17", np.random.default_rng(6))
    fitter = smplify.Fitter(open_model, format="coco17", image_size=case.image_size,
                            focal_length=case.focal_length, threads=1)
    fitter.fit(case.keypoints)
    result = fitter.fit(case.keypoints)  # warm: one stage
    core_problem = frame_problem(fitter._settings, case.keypoints, place_camera=False)
    from smplify.core_fitter import _observation

    report = fitter._core.fit(**_observation(core_problem))
    for stage, summary in zip(report.stages, map(_stage_summary, report.stages), strict=True):
        assert summary.weights == {term: getattr(stage.weights, term)
                                   for term in ("pose", "shape", "angle", "interpenetration")}
        assert (summary.name, summary.iterations, summary.termination, summary.message) == \
            (stage.name, stage.iterations, stage.termination, stage.message)
        assert (summary.initial_cost, summary.final_cost, summary.seconds,
                summary.fixed_shape_iterations) == (stage.initial_cost, stage.final_cost,
                                                    stage.seconds, stage.fixed_shape_iterations)
    assert [s.name for s in result.summary["stages"]] == ["stage 4"]


def test_the_observations_torso_list_is_the_old_one_to_the_type(open_model,
                                                               open_prior) -> None:
    from smplify.core_fitter import _observation

    for name in ("coco17", "openpose25", "mediapipe33", "lsp14"):
        case = make_case(open_model, open_prior, name, np.random.default_rng(8))
        settings = fit_settings(name, case.image_size, case.focal_length, open_model,
                                open_prior)
        for unseen in range(16):  # every subset of the four torso keypoints unseen
            kp = np.array(case.keypoints, dtype=float)
            for bit, k in enumerate(settings.torso_keypoints):
                if unseen >> bit & 1:
                    kp[k, 2] = 0.0
            p = frame_problem(settings, kp, place_camera=False)
            old = [int(k) if ok else -1 for k, ok in zip(p.torso_keypoints, p.torso_confident,
                                                         strict=True)]
            torso = _observation(p)["torso"]
            assert torso == old and [type(k) for k in torso] == [int] * 4, (name, unseen)


def test_the_jump_is_np_linalg_norms_value_to_the_bit() -> None:
    from smplify.track_decisions import _length

    rng = np.random.default_rng(9)
    steps = [np.array(v, dtype=float) for v in
             ([0.0, 0.0, 0.0], [-0.0, -0.0, -0.0], [-0.0, 0.0, -0.0], [5e-324, 0.0, -5e-324],
              [1e-160, -1e-160, 1e-160], [1e-300, 2e-300, 3e-300], [1e154, 1e154, 1e154],
              [1e200, -1.0, 0.0], [-1.7e308, 1.7e308, 0.0], [np.inf, 0.0, 0.0],
              [-np.inf, 1.0, 1.0], [np.nan, 0.0, 0.0])]
    steps += list(rng.normal(size=(2000, 3)) * 10.0 ** rng.uniform(-200, 200, size=(2000, 1)))
    steps += list(rng.normal(size=(2000, 3)))
    for step in steps:
        assert struct.pack("d", _length(step)) == struct.pack("d", float(np.linalg.norm(step))), \
            step
