"""``learned_init``: the fit anchored to the learned initialiser's reading (smplify.anchor)."""

from __future__ import annotations

import numpy as np
import pytest
import smplify
from smplify import initializer
from smplify.anchor import anchor_keypoints
from smplify.keypoints import resolve_format
from smplify.problem import build_problem, fit_settings
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
    assert plain.energy["keypoints_3d"] == 0.0 < anchored.energy["keypoints_3d"]
    assert not np.allclose(plain.pose, anchored.pose)
    # A detector's own 3D keypoints replace the anchor (and weigh keypoints_3d_weight).
    given = np.random.default_rng(0).normal(size=(len(case.keypoints), 3))
    problem = build_problem(*args, open_model, "open", {"learned_init": True},
                            keypoints_3d=given)
    assert problem.keypoints_3d_weight == smplify.FitOptions().keypoints_3d_weight
    np.testing.assert_allclose(problem.keypoints_3d, given)


def test_learned_init_needs_a_shipped_initialiser(open_model, case):
    with pytest.raises(ValueError, match="learned_init: no learned initialiser ships for "
                                         "format 'lsp14'; available: "):
        smplify.Fitter(open_model, format="lsp14", image_size=case.image_size,
                       learned_init=True)
    with pytest.raises(TypeError, match="learned_init must be True, False or 'auto'"):
        smplify.FitOptions(learned_init="yes")
