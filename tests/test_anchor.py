"""``learned_init``: the fit anchored to the learned initialiser's reading (smplify.anchor)."""

from __future__ import annotations

import numpy as np
import pytest
import smplify
from smplify import initializer
from smplify.anchor import anchor_keypoints
from smplify.keypoints import resolve_format
from smplify.problem import build_problem, fit_settings, frame_problem
from smplify.synthetic import make_case

FORMAT = "coco17"


@pytest.fixture(scope="module")
def case(open_model, open_prior):
    return make_case(open_model, open_prior, FORMAT, np.random.default_rng(3), noise_px=2.0)


def test_anchor_is_the_top_hypothesis_posed_by_the_model(open_model, open_prior, case):
    settings = fit_settings(FORMAT, case.image_size, case.focal_length, open_model, open_prior,
                            {"learned_init": True})
    xy, conf = case.keypoints[:, :2], case.keypoints[:, 2]
    points = anchor_keypoints(settings, xy, conf)
    best = initializer.predict(case.keypoints, FORMAT, case.image_size, case.focal_length)[0]
    body = open_model(betas=best.betas, body_pose=best.body_pose,
                      global_orient=best.global_orient)
    resolved = resolve_format(FORMAT, open_model.keypoint_names, open_model.num_vertices,
                              open_model.keypoint_regressor)
    expected = resolved.keypoint_positions(body.joints, body.vertices)
    np.testing.assert_allclose(points[resolved.available], expected[resolved.available],
                               atol=1e-12)
    problem = build_problem(case.keypoints, FORMAT, case.image_size, case.focal_length,
                            open_model, open_prior, {"learned_init": True, "anchor_weight": 7.0})
    assert problem.keypoints_3d_weight == 7.0
    np.testing.assert_allclose(problem.keypoints_3d, points, atol=0.0)


def test_a_learned_start_fit_reports_the_anchor_energy(open_model, case):
    args = (case.keypoints, FORMAT, case.image_size, case.focal_length)
    plain = smplify.fit(*args, model=open_model, threads=1, learned_init=False)
    anchored = smplify.fit(*args, model=open_model, threads=1, learned_init=True)
    # E_3D to the readings is the anchor, not depth evidence the caller gave.
    assert plain.energy["anchor"] == 0.0 < anchored.energy["anchor"]
    assert plain.energy["keypoints_3d"] == anchored.energy["keypoints_3d"] == 0.0
    assert not np.allclose(plain.pose, anchored.pose)
    # A detector's own 3D keypoints replace the anchor (and weigh keypoints_3d_weight).
    given = np.random.default_rng(0).normal(size=(len(case.keypoints), 3))
    problem = build_problem(*args, open_model, "open", {"learned_init": True},
                            keypoints_3d=given)
    assert problem.keypoints_3d_weight == smplify.FitOptions().keypoints_3d_weight
    assert not problem.anchored
    np.testing.assert_allclose(problem.keypoints_3d, given)
    with_3d = smplify.fit(*args, model=open_model, threads=1, learned_init=True,
                          keypoints_3d=given)
    assert with_3d.energy["anchor"] == 0.0 < with_3d.energy["keypoints_3d"]
    for res in (anchored, with_3d):
        parts = sum(v for k, v in res.energy.items() if k != "total")
        assert res.energy["total"] == pytest.approx(parts, rel=1e-12)


@pytest.mark.parametrize("options, anchored", [
    ({}, True),                         # by default every frame is anchored
    ({"track_anchor": False}, False),   # the fast mode: the temporal rows hold a warm frame
    ({"track": False, "track_anchor": False}, True),  # an untracked one has nothing else
])
def test_tracked_warm_frames_are_unanchored_only_in_the_fast_mode(open_model, open_prior,
                                                                    case, options, anchored):
    settings = fit_settings(FORMAT, case.image_size, case.focal_length, open_model, open_prior,
                            {"learned_init": True, **options})
    warm = frame_problem(settings, case.keypoints, place_camera=False)
    assert (warm.keypoints_3d is not None) == anchored
    assert frame_problem(settings, case.keypoints).keypoints_3d is not None  # from scratch


def test_track_anchor_n_anchors_every_nth_warm_frame(open_model, case):
    fitter = smplify.Fitter(open_model, format=FORMAT, image_size=case.image_size,
                            focal_length=case.focal_length, threads=1, learned_init=True,
                            track_anchor=3, track_refit_every=0, track_refit_ratio=0.0)
    results = [fitter.fit(case.keypoints) for _ in range(7)]
    assert [r.summary["start"] for r in results] == ["cold"] + ["warm"] * 6
    anchored = [r.energy["anchor"] > 0 for r in results]
    assert anchored == [True, False, False, True, False, False, True], anchored
    with pytest.raises(ValueError, match="track_anchor"):
        smplify.FitOptions(track_anchor=-1)
    with pytest.raises(TypeError, match="track_anchor"):
        smplify.FitOptions(track_anchor=2.5)


def test_online_learned_init_gives_way_to_a_detectors_3d(open_model, case):
    """Why ``Fitter(learned_init=False)`` ran bit-identical on the sports2d man (session 11):
    the pipeline gives MediaPipe's world landmarks as ``keypoints_3d``, and a frame with them
    is never anchored (they are the better evidence), so only the anchor-free frames feel
    the option; it reaches the Fitter's cold and warm frames alike."""
    # A detector's 3D stand-in: the true keypoints, pelvis-relative.
    resolved = resolve_format(FORMAT, open_model.keypoint_names, open_model.num_vertices,
                              open_model.keypoint_regressor)
    body = open_model(betas=case.betas, body_pose=case.body_pose,
                      global_orient=case.global_orient, transl=case.transl)
    points_3d = resolved.keypoint_positions(body.joints, body.vertices) - body.joints[0]

    def track(learned_init: bool, keypoints_3d) -> list[np.ndarray]:
        fitter = smplify.Fitter(open_model, format=FORMAT, image_size=case.image_size,
                                focal_length=case.focal_length, threads=1,
                                learned_init=learned_init)
        return [fitter.fit(case.keypoints, keypoints_3d=keypoints_3d).pose for _ in range(3)]

    for a, b in zip(track(True, points_3d), track(False, points_3d), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(track(True, None), track(False, None), strict=True):
        assert not np.allclose(a, b, atol=1e-6)


def test_learned_init_needs_a_shipped_initialiser(open_model, case, without_initializer):
    without_initializer("lsp14")
    with pytest.raises(ValueError, match="learned_init: no learned initialiser ships for "
                                         "format 'lsp14'; available: "):
        smplify.Fitter(open_model, format="lsp14", image_size=case.image_size,
                       learned_init=True)
    with pytest.raises(TypeError, match="learned_init must be True, False or 'auto'"):
        smplify.FitOptions(learned_init="yes")


@pytest.fixture(scope="module")
def foreign_model(open_model, tmp_path_factory):
    """A user's own SMPL-format file whose shape space is not the initialiser's: the shipped
    model with its shape blend shapes reversed in order and scaled by 1.3."""
    path = tmp_path_factory.mktemp("foreign") / "model.npz"
    open_model.to_npz(path)
    with np.load(path) as z:
        arrays = {key: z[key] for key in z.files}
    arrays["shapedirs"] = arrays["shapedirs"][..., ::-1] * 1.3
    np.savez(path, **arrays)
    return smplify.load_model(path)


def test_only_the_shipped_neutral_model_shares_the_initialisers_shape_space(open_model,
                                                                            foreign_model):
    assert initializer.shares_shape_space(open_model)
    assert initializer.shares_shape_space(open_model, "coco17")
    assert initializer.shares_shape_space(smplify.load_model("open", num_betas=16))
    assert not initializer.shares_shape_space(foreign_model)
    assert not initializer.shares_shape_space(foreign_model, "coco17")
    assert not initializer.shares_shape_space(smplify.load_model("open", gender="female"))


def test_a_model_with_one_vertex_moved_does_not_share_the_shape_space(open_model, tmp_path):
    """The fingerprint reads the template itself: a rebuilt model (here one vertex 1 mm off)
    is another model for the weights."""
    path = tmp_path / "moved.npz"
    open_model.to_npz(path)
    with np.load(path) as z:
        arrays = {key: z[key] for key in z.files}
    arrays["v_template"][100, 1] += 0.001
    np.savez(path, **arrays)
    moved = smplify.load_model(path)
    assert initializer.model_fingerprint(moved) != initializer.model_fingerprint(open_model)
    assert not initializer.shares_shape_space(moved, "coco17")


def _scaled_betas(monkeypatch):
    """Make the initialiser predict other betas (its poses and scores unchanged)."""
    predict = initializer.predict

    def other_betas(*args, **kwargs):
        return [initializer.Hypothesis(h.global_orient, h.body_pose, 2.0 * h.betas + 1.0,
                                       h.score) for h in predict(*args, **kwargs)]

    monkeypatch.setattr(initializer, "predict", other_betas)


def test_another_models_starts_and_anchor_use_only_the_initialisers_poses(
        open_model, foreign_model, open_prior, case, monkeypatch):
    """With a model of another shape space, every hypothesis start has the fit's own β start
    (0 from scratch) and the anchor is the top pose posed with it; the open model keeps the
    predicted betas. So another model's fit does not change when the predicted betas do."""
    options = {"learned_init": True, "starts": "initializer"}
    args = (case.keypoints, FORMAT, case.image_size, case.focal_length)
    hyps = initializer.predict(*args)
    foreign = build_problem(*args, foreign_model, open_prior, options)
    assert len(foreign.hypotheses) == len(hyps)
    for (pose, betas, _, _), h in zip(foreign.hypotheses, hyps, strict=True):
        np.testing.assert_array_equal(pose, np.r_[h.global_orient, h.body_pose])
        np.testing.assert_array_equal(betas, np.zeros(foreign_model.num_betas))
    body = foreign_model(body_pose=hyps[0].body_pose, global_orient=hyps[0].global_orient)
    resolved = resolve_format(FORMAT, foreign_model.keypoint_names,
                              foreign_model.num_vertices, foreign_model.keypoint_regressor)
    expected = resolved.keypoint_positions(body.joints, body.vertices)
    np.testing.assert_allclose(foreign.keypoints_3d[resolved.available],
                               expected[resolved.available], atol=1e-12)
    own = build_problem(*args, open_model, open_prior, options)
    np.testing.assert_array_equal(own.hypotheses[0][1], hyps[0].betas)

    fit_options = {**options, "threads": 1}
    before = smplify.fit(*args, model=foreign_model, **fit_options)
    before_open = smplify.fit(*args, model=open_model, **fit_options)
    _scaled_betas(monkeypatch)
    after = smplify.fit(*args, model=foreign_model, **fit_options)
    after_open = smplify.fit(*args, model=open_model, **fit_options)
    np.testing.assert_array_equal(after.betas, before.betas)
    np.testing.assert_array_equal(after.pose, before.pose)
    assert not np.array_equal(after_open.betas, before_open.betas)


def test_a_warm_frame_anchors_another_model_with_the_tracks_shape(foreign_model, open_prior,
                                                                  case):
    """In a warm Fitter frame the fit's β start is the track's shape: another model's anchor
    is the initialiser's top pose with those betas, not with the predicted ones."""
    settings = fit_settings(FORMAT, case.image_size, case.focal_length, foreign_model,
                            open_prior, {"learned_init": True})
    track_betas = np.linspace(-1.0, 1.0, foreign_model.num_betas)
    problem = frame_problem(settings, case.keypoints, place_camera=False,
                            start_betas=track_betas)
    best = initializer.predict(case.keypoints, FORMAT, case.image_size, case.focal_length)[0]
    body = foreign_model(betas=track_betas, body_pose=best.body_pose,
                         global_orient=best.global_orient)
    expected = settings.resolved.keypoint_positions(body.joints, body.vertices)
    available = settings.resolved.available
    np.testing.assert_allclose(problem.keypoints_3d[available], expected[available],
                               atol=1e-12)


def test_another_models_fitter_frames_do_not_depend_on_the_predicted_betas(
        foreign_model, open_prior, case, monkeypatch):
    def two_frames():
        fitter = smplify.Fitter(foreign_model, format=FORMAT, image_size=case.image_size,
                                focal_length=case.focal_length, prior=open_prior,
                                learned_init=True, starts="initializer", threads=1)
        first = fitter.fit(case.keypoints)
        second = fitter.fit(case.keypoints + np.r_[3.0, -2.0, 0.0])
        assert second.summary["start"] != "cold"
        return np.r_[first.pose, first.betas, second.pose, second.betas]

    before = two_frames()
    _scaled_betas(monkeypatch)
    np.testing.assert_array_equal(two_frames(), before)


@pytest.mark.parametrize("which", ["open", "open, 4 betas", "foreign"])
def test_the_one_call_anchor_equals_its_twin(open_model, open_prior, foreign_model, case,
                                             which):
    """anchor_keypoints (initialiser and poser in one C++ call) = the top reading of
    initializer.predict posed by _posed_keypoints with start_betas (the track's β where the
    model does not share the initialiser's shape space); confidences above 1 read as 1."""
    from smplify.anchor import _hypotheses, _posed_keypoints

    model = {"open": open_model, "open, 4 betas": smplify.load_model("open", num_betas=4),
             "foreign": foreign_model}[which]
    settings = fit_settings(FORMAT, case.image_size, case.focal_length, model, open_prior,
                            {"learned_init": True})
    xy, conf = case.keypoints[:, :2], case.keypoints[:, 2] * 1.7
    own = np.linspace(-1.0, 1.0, model.num_betas)
    for betas in (None, own):
        expected = _posed_keypoints(settings, _hypotheses(settings, xy, conf)[0], betas)
        got = anchor_keypoints(settings, xy, conf, betas)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
        np.testing.assert_allclose(got, expected, atol=1e-12)
