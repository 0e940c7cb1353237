"""The learned initialiser's hypotheses as starts (``starts``) and the whole-body left/right
swap rule (``left_right``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import smplify
from smplify import core_fitter, detections
from smplify.initializer_metrics import same_depth_reading
from smplify.left_right import (
    limb_swap_index,
    limbs_to_swap,
    mirror_index,
    place_and_project,
    placed_readings,
    swap_evidence,
    swapped,
)
from smplify.problem import build_problem
from smplify.synthetic import _axis_angle, pa_mpjpe

FORMAT = "coco17"
POSES = Path(__file__).resolve().parent / "data" / "heldout_poses.npz"
#: Recorded by this file's depth-reading test at the defaults (20 cases, seed 31; 0.684 with
#: the defaults of 2026-12-05's second search, 0.68 with the hypothesis starts before, 0.63
#: with SMPLify's): the fitted body faces the way the truth does and has both shins' depth
#: order.
FITTED_DEPTH_READING = 0.68
MARGIN = 0.15
#: Recorded by the swap test (150 cases, seed 41): per kind of swap (whole body, arms, legs),
#: the share of the error model's swaps that ``left_right="auto"`` undid, and of the cases
#: without that swap it swapped.
#: (The facing rule it replaced undid 0.33 of the whole-body swaps, 0.016 false alarms.)
SWAPS_UNDONE = {"body": 0.56, "arms": 0.43, "legs": 0.57}
SWAP_FALSE_ALARMS = {"body": 0.0, "arms": 0.007, "legs": 0.015}


def cases(model: smplify.BodyModel, n: int, seed: int, noise: bool = True) -> detections.Cases:
    """Held-out poses, upright with a small tilt, random betas and cameras; detector errors
    (``smplify.detections``) or, with ``noise=False``, the exact projections."""
    rng = np.random.default_rng(seed)
    poses = np.load(POSES)["body_pose"].astype(np.float64)
    pick = rng.choice(len(poses), n, replace=False)
    theta = np.concatenate([rng.normal(scale=0.1, size=(n, 3)), poses[pick]], axis=1)
    betas = np.clip(rng.normal(size=(n, model.num_betas)), -2.0, 2.0)
    data = detections.render_cases(model, FORMAT, theta, betas, rng)
    if noise:
        return data
    # The same cameras, exact keypoints: project the posed keypoints.
    from smplify.keypoints import resolve_format

    resolved = resolve_format(FORMAT, model.keypoint_names, model.num_vertices,
                              model.keypoint_regressor)
    clean = []
    for i in range(n):
        body = model(betas=data.betas[i], body_pose=data.body_pose[i],
                     global_orient=_axis_angle(data.rotation[i]))
        points = (resolved.keypoint_positions(body.joints, body.vertices) - body.joints[0]
                  + data.transl[i])
        uv = data.focal[i] * points[:, :2] / points[:, 2:] + data.image_size[i] / 2.0
        clean.append(np.c_[uv, resolved.available.astype(float)])
    return detections.Cases(np.nan_to_num(np.asarray(clean)), data.image_size, data.focal,
                            data.rotation, data.joints, data.transl, data.body_pose,
                            data.betas)


def _fit(model, data, i, **options):
    return smplify.fit(data.keypoints[i], FORMAT, tuple(data.image_size[i]),
                       float(data.focal[i]), model=model, threads=1, **options)


def test_starts_choose_which_starts_run(open_model):
    data = cases(open_model, 1, seed=5)
    prior = _fit(open_model, data, 0, starts="prior")
    assert prior.summary["num_hypotheses"] == 0 and prior.summary["hypothesis"] == -1
    only = _fit(open_model, data, 0, starts="initializer")
    assert only.summary["num_starts"] == 0 and only.summary["num_hypotheses"] == 6
    assert 0 <= only.summary["hypothesis"] < 6
    both = _fit(open_model, data, 0, starts="both")
    assert both.summary["num_starts"] == 9 and both.summary["num_hypotheses"] == 6
    # "both" keeps the better-scored of the two fits above (same starts, same rule).
    assert both.energy["data"] in (pytest.approx(prior.energy["data"]),
                                   pytest.approx(only.energy["data"]))


def test_the_true_reading_as_the_only_start_is_kept_and_placed(open_model):
    """A hypothesis equal to the truth (pose and betas), on exact keypoints and without the
    priors: the translation placed by least squares is the truth's, so the start is a minimum
    (E_J = 0) and the fit stays there. (With the priors one Gauss-Newton step already trades
    β against depth: 17 keypoints hold the body's scale weakly.)"""
    data = cases(open_model, 3, seed=8, noise=False)
    for i in range(3):
        problem = build_problem(data.keypoints[i], FORMAT, tuple(data.image_size[i]),
                                float(data.focal[i]), open_model, "open",
                                {"starts": "initializer", "hypothesis_first_stage": 3,
                                 "threads": 1, "interpenetration_weight": 0.0,
                                 "learned_init": False,
                                 "pose_prior_weights": (0.0,) * 4, "angle_prior_ratio": 0.0,
                                 "shape_prior_weights": (0.0,) * 4})
        core = core_fitter._shared_core_fitter(problem)
        observation = core_fitter._observation(problem)
        truth = np.r_[_axis_angle(data.rotation[i]), data.body_pose[i]]
        observation["hypotheses"] = [(truth, data.betas[i], None, 0.0)]
        report = core.fit(**observation)
        assert report.hypothesis == 0 and report.num_starts == 0
        joints = np.asarray(report.joints)
        assert report.stages[-1].initial_cost < 1e-6
        assert 1000 * pa_mpjpe(joints - joints[0], data.joints[i]) < 1.0
        assert np.linalg.norm(joints[0] - data.transl[i]) < 1e-3


def test_bad_hypotheses_are_refused(open_model):
    data = cases(open_model, 1, seed=5)
    problem = build_problem(data.keypoints[0], FORMAT, tuple(data.image_size[0]),
                            float(data.focal[0]), open_model, "open", {"threads": 1})
    core, observation = core_fitter._shared_core_fitter(problem), core_fitter._observation(problem)
    bad_pose = np.zeros(72)
    bad_pose[5] = np.nan
    with pytest.raises(ValueError, match="hypotheses must have finite"):
        core.fit(**{**observation, "hypotheses": [(bad_pose, np.zeros(10), None, 0.0)]})
    with pytest.raises(ValueError, match="pose must have 72"):
        core.fit(**{**observation, "hypotheses": [(np.zeros(69), np.zeros(10), None, 0.0)]})
    with pytest.raises(ValueError, match="one row per target"):
        core.fit(**{**observation,
                    "hypotheses": [(np.zeros(72), np.zeros(10), np.zeros((3, 3)), 0.0)]})
    with pytest.raises(ValueError, match="expected \\(pose, betas"):
        core.fit(**{**observation, "hypotheses": [(np.zeros(72), None, 0.0)]})


def test_options_are_checked(open_model, without_initializer):
    without_initializer("lsp14")  # as for a format with no initialiser
    with pytest.raises(ValueError, match="starts must be"):
        smplify.FitOptions(starts="mocap")
    with pytest.raises(ValueError, match="hypothesis_first_stage must be a stage index"):
        smplify.FitOptions(hypothesis_first_stage=-1)
    with pytest.raises(ValueError, match="left_right must be"):
        smplify.FitOptions(left_right="mirror")
    with pytest.raises(ValueError, match="swap_threshold must be in"):
        smplify.FitOptions(swap_threshold=0.2)
    with pytest.raises(ValueError, match="starts='initializer': no learned initialiser"):
        smplify.Fitter(open_model, format="lsp14", image_size=(100, 100),
                       starts="initializer")
    # "auto" is the prior's starts where no initialiser ships, the initialiser's elsewhere.
    lsp = smplify.Fitter(open_model, format="lsp14", image_size=(100, 100))
    assert (lsp.options.starts, lsp.options.learned_init) == ("prior", False)
    coco = smplify.Fitter(open_model, format="coco17", image_size=(100, 100), starts="auto",
                          learned_init="auto")
    assert (coco.options.starts, coco.options.learned_init) == ("both", True)
    # The defaults: "auto", both kinds of starts, anchored, read and relabelled by the
    # initialiser where one ships; SMPLify's multi-start fit elsewhere.
    default = smplify.Fitter(open_model, format="coco17", image_size=(100, 100))
    assert (default.options.starts, default.options.learned_init,
            default.options.left_right) == ("both", True, "auto")
    assert default.options.reading_weight > 0
    assert (lsp.options.left_right, lsp.options.starts) == ("as_given", "prior")


def test_a_warm_start_runs_no_hypotheses(open_model):
    data = cases(open_model, 2, seed=5)
    fitter = smplify.Fitter(open_model, format=FORMAT, image_size=tuple(data.image_size[0]),
                            focal_length=float(data.focal[0]), starts="initializer", threads=1)
    assert fitter.fit(data.keypoints[0]).summary["num_hypotheses"] == 6
    warm = fitter.fit(data.keypoints[0])
    assert warm.summary["start"] == "warm" and warm.summary["num_hypotheses"] == 0


def _true_reading(model, data, i):
    """(K, 3) the truth's keypoints at the origin, as a reading of case i."""
    from smplify.keypoints import resolve_format

    resolved = resolve_format(FORMAT, model.keypoint_names, model.num_vertices,
                              model.keypoint_regressor)
    body = model(betas=data.betas[i], body_pose=data.body_pose[i],
                 global_orient=_axis_angle(data.rotation[i]))
    points = resolved.keypoint_positions(body.joints, body.vertices)
    points[~resolved.available] = np.nan
    return points


def test_a_reading_placed_and_projected_lands_on_exact_keypoints(open_model):
    data = cases(open_model, 2, seed=8, noise=False)
    for i in range(2):
        xy, conf = data.keypoints[i, :, :2], data.keypoints[i, :, 2]
        projected = place_and_project(_true_reading(open_model, data, i), xy, conf,
                                      float(data.focal[i]), data.image_size[i] / 2.0)
        seen = conf > 0
        np.testing.assert_allclose(projected[seen], xy[seen], atol=1e-6)
    # Too few points, or a body that would sit behind the camera: no placement.
    assert place_and_project(np.zeros((17, 3)), xy, np.eye(17)[0], 1000.0, np.zeros(2)) is None


def test_swap_evidence_follows_the_readings(open_model):
    """Readings equal to the truth say "swapped" for the labelling a detector swapped and
    "as given" otherwise, for the whole body and each limb; a limb rule that flags both limbs
    defers to the whole body."""
    data = cases(open_model, 1, seed=8, noise=False)
    xy, conf = data.keypoints[0, :, :2], data.keypoints[0, :, 2]
    reading = [_true_reading(open_model, data, 0)]
    f, c = float(data.focal[0]), data.image_size[0] / 2.0
    limbs = [limb_swap_index(FORMAT, "arms"), limb_swap_index(FORMAT, "legs")]
    fixed = (limbs[0] == np.arange(17)) & (limbs[1] == np.arange(17))
    for swap, place in ((mirror_index(FORMAT), conf), (limbs[0], np.where(fixed, conf, 0.0)),
                        (limbs[1], np.where(fixed, conf, 0.0))):
        assert not swapped(swap_evidence(reading, np.ones(1), xy, conf, swap, place, f, c), 0.8)
        detected = xy[swap]
        evidence = swap_evidence(reading, np.ones(1), detected, conf[swap], swap, place[swap],
                                 f, c)
        assert evidence[0] == 1.0 and evidence[1] > 0.5 and swapped(evidence, 0.8)
    assert limbs_to_swap({"arms": (1.0, 0.9), "legs": (0.5, 0.3)}, 0.8) == ("arms",)
    assert limbs_to_swap({"arms": (1.0, 0.9), "legs": (0.9, 0.3)}, 0.8) == ()
    assert limbs_to_swap({"arms": (0.7, 0.9), "legs": (1.0, 0.05)}, 0.8) == ()


def _evidence_placed_twice(readings, scores, xy, conf, swap, place, f, c):
    """swap_evidence as first written: every reading placed under both labellings."""
    moved = (swap != np.arange(len(swap))) & (conf > 0) & (conf[swap] > 0)
    probability = margin = total = 0.0
    for points, p in zip(readings, scores, strict=True):
        given = place_and_project(points, xy, place, f, c)
        other = place_and_project(points, xy[swap], place[swap], f, c)
        if given is None or other is None or not (np.all(np.isfinite(given[moved]))
                                                  and np.all(np.isfinite(other[moved]))):
            continue
        e = np.sum(conf[moved] * np.linalg.norm(given[moved] - xy[moved], axis=1))
        e_swap = np.sum(conf[swap][moved] * np.linalg.norm(other[moved] - xy[swap][moved],
                                                           axis=1))
        probability += p * (e_swap < e)
        margin += p * (e - e_swap) / max(e + e_swap, 1e-12)
        total += p
    return (probability / total, margin / total) if total > 0 else (0.0, 0.0)


def test_swap_evidence_places_a_reading_once_where_both_labellings_place_it_alike(open_model):
    """A limb's swap moves none of the keypoints that place the readings (torso, face): each
    reading is placed once (and once for both limbs, ``placed``), with the numbers of
    placing it under each labelling; the whole body's swap still places it twice."""
    data = cases(open_model, 3, seed=9)
    rng = np.random.default_rng(0)
    limbs = [limb_swap_index(FORMAT, "arms"), limb_swap_index(FORMAT, "legs")]
    fixed = (limbs[0] == np.arange(17)) & (limbs[1] == np.arange(17))
    for i in range(3):
        xy, conf = data.keypoints[i, :, :2], data.keypoints[i, :, 2]
        f, c = float(data.focal[i]), data.image_size[i] / 2.0
        truth = _true_reading(open_model, data, i)
        readings = [truth + rng.normal(0.0, 0.05, truth.shape) for _ in range(4)]
        scores = np.array([0.4, 0.3, 0.2, 0.1])
        place = np.where(fixed, conf, 0.0)
        placed = placed_readings(readings, xy, place, f, c)
        for swap in limbs:
            want = _evidence_placed_twice(readings, scores, xy, conf, swap, place, f, c)
            assert swap_evidence(readings, scores, xy, conf, swap, place, f, c) == want
            assert swap_evidence(readings, scores, xy, conf, swap, place, f, c, placed) == want
        mirror = mirror_index(FORMAT)
        assert swap_evidence(readings, scores, xy, conf, mirror, conf, f, c) == \
            _evidence_placed_twice(readings, scores, xy, conf, mirror, conf, f, c)


def test_detector_swaps_are_swapped_back_before_the_fit(open_model):
    """On the detector error model's own swaps (held-out poses), ``left_right="auto"`` swaps
    most whole-body and arm swaps back, some leg swaps, and few others (recorded figures)."""
    data = cases(open_model, 150, seed=41)
    kinds = ("body", "arms", "legs")
    back = np.full((150, 3), np.nan)
    for i in range(150):
        try:
            problem = build_problem(data.keypoints[i], FORMAT, tuple(data.image_size[i]),
                                    float(data.focal[i]), open_model, "open",
                                    {"left_right": "auto"})
        except smplify.KeypointError:
            continue
        undone = problem.left_right.split(", ")
        back[i] = ["swapped back" in undone, "arms swapped back" in undone,
                   "legs swapped back" in undone]
        if problem.relabelled:
            np.testing.assert_array_equal(
                problem.keypoints, data.keypoints[i][problem.label_permutation, :2])
    ok = np.isfinite(back[:, 0])
    for k, kind in enumerate(kinds):
        swapped_k = data.swaps[:, k]
        undone = np.mean(back[swapped_k & ok, k])
        false_alarms = np.mean(back[~swapped_k & ok, k])
        print(f"{kind}: undone {undone:.2f} of {np.sum(swapped_k & ok)}, false alarms "
              f"{false_alarms:.3f}")
        assert undone >= SWAPS_UNDONE[kind] - 0.25
        assert false_alarms <= SWAP_FALSE_ALARMS[kind] + 0.04


def test_fitted_depth_reading_on_held_out_cases(open_model):
    """The default fit keeps the truth's depth reading (facing and both shins' depth order)
    on most held-out cases with detector errors (recorded figure)."""
    data = cases(open_model, 20, seed=31)
    same = []
    for i in range(20):
        try:
            fit = _fit(open_model, data, i)
        except smplify.KeypointError:
            continue
        joints = fit.joints - fit.joints[0]
        rot = detections._rodrigues(fit.global_orient[None])[0]
        same.append(same_depth_reading(rot, joints, data.rotation[i], data.joints[i]))
    print(f"fitted depth reading {np.mean(same):.3f} over {len(same)} cases")
    assert np.mean(same) > FITTED_DEPTH_READING - MARGIN


def test_a_cold_frame_runs_the_initialiser_once_unless_it_swaps(open_model, monkeypatch):
    """With ``left_right`` on, the swap check's readings are the starts' when it swaps
    nothing (one inference, the same starts as a fresh one); after a swap the relabelled
    keypoints are read again."""
    from smplify import initializer

    data = cases(open_model, 40, seed=43)
    calls = []
    predict = initializer.predict

    def counted(*args, **kwargs):
        calls.append(1)
        return predict(*args, **kwargs)

    seen = set()
    for i in range(40):
        args = (data.keypoints[i], FORMAT, tuple(data.image_size[i]), float(data.focal[i]),
                open_model, "open")
        options = {"left_right": "auto", "starts": "both", "learned_init": True}
        try:
            fresh = build_problem(*args, {**options, "left_right": "as_given"})
        except smplify.KeypointError:
            continue
        monkeypatch.setattr(initializer, "predict", counted)
        calls.clear()
        problem = build_problem(*args, options)
        monkeypatch.setattr(initializer, "predict", predict)
        seen.add(problem.relabelled)
        assert len(calls) == (2 if problem.relabelled else 1)
        if not problem.relabelled:
            np.testing.assert_array_equal(problem.keypoints_3d, fresh.keypoints_3d)
            for mine, theirs in zip(problem.hypotheses, fresh.hypotheses, strict=True):
                for a, b in zip(mine, theirs, strict=True):
                    np.testing.assert_array_equal(a, b)
    assert seen == {False, True}  # both branches ran
