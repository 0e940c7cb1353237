"""A warm online frame's checks in C++ (cpp/track_checks.h) against their NumPy twins
(smplify.online.labelling_scores, median_error_fraction), value for value."""

from __future__ import annotations

import numpy as np
import pytest
import smplify
from smplify import _core, core_fitter, online
from smplify import synthetic_video as sv
from smplify.problem import frame_problem
from test_sequence import SEQUENCES


@pytest.fixture(scope="module")
def frames(open_model):
    """A clip's frames with the synthetic detector's errors (swaps, dropped keypoints), each
    with its problem and a fit's C++ report."""
    video = sv.make_video(open_model, sv.load_sequences(SEQUENCES)[1], "coco17",
                          np.random.default_rng(5), frames=slice(0, 12))
    fitter = smplify.Fitter(open_model, format="coco17", image_size=video.image_size,
                            focal_length=video.focal_length, threads=1)
    out = []
    for kp in video.keypoints:
        try:
            problem = frame_problem(fitter._settings, kp)
        except smplify.KeypointError:
            continue
        report = core_fitter._shared_core_fitter(problem).fit(**core_fitter._observation(problem))
        out.append((problem, report))
    assert len(out) >= 8
    return out


def test_labelling_scores_equal_their_twin(frames) -> None:
    """Every labelling of each frame's keypoints against the last frame's fit projected (a
    prediction with NaN where the model has no keypoint), with keypoints the detector
    dropped (weight 0) far out at 1e300 px, and one prediction not finite."""
    perms = np.array(online.labellings("coco17"))
    for (last, last_report), (problem, _) in zip(frames, frames[1:], strict=False):
        predicted = online.projected(last, last_report)
        predicted[3] = np.inf
        xy = problem.keypoints.copy()
        weights = problem.weights.copy()
        weights[[0, 5]] = 0.0
        xy[0] = 1e300
        for sigma in (5.0, 20.0, 100.0):
            want = online.labelling_scores(predicted, xy, weights, list(perms), sigma)
            got = _core.labelling_scores(predicted, xy, weights, perms, sigma)
            assert np.all(np.isfinite(got))
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)


def test_median_error_fraction_equals_its_twin(frames) -> None:
    """Odd and even counts of keypoints used, relabelled keypoints, no keypoint used."""
    rng = np.random.default_rng(1)
    swap = online.labellings("coco17")[1]
    for problem, report in frames:
        for trial in range(4):
            xy, weights = problem.keypoints, problem.weights.copy()
            if trial % 2:
                xy, weights = xy[swap], weights[swap]
            weights[rng.random(len(weights)) < 0.2 * trial] = 0.0
            want = online.median_error_fraction(problem, xy, weights, report)
            got = _core.median_error_fraction(report, xy, weights, problem.focal_length,
                                              problem.center)
            assert np.isfinite(want)
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)
        none = np.zeros_like(problem.weights)
        assert _core.median_error_fraction(report, problem.keypoints, none,
                                           problem.focal_length, problem.center) == np.inf
        assert online.median_error_fraction(problem, problem.keypoints, none, report) == np.inf


def test_the_checks_refuse_mismatched_sizes(frames) -> None:
    problem, report = frames[0]
    xy, weights = problem.keypoints, problem.weights
    with pytest.raises(ValueError, match="K = 17"):
        _core.labelling_scores(xy[:5], xy, weights, np.array(online.labellings("coco17")), 20.0)
    with pytest.raises(ValueError, match="out of range"):
        _core.labelling_scores(xy, xy, weights, np.full((1, 17), 17), 20.0)
    for sigma in (0.0, -1.0, np.nan):  # an exact match would give 0/0
        with pytest.raises(ValueError, match="sigma must be a finite number of pixels > 0"):
            _core.labelling_scores(xy, xy, weights, np.array(online.labellings("coco17")),
                                   sigma)
    with pytest.raises(ValueError, match="K = 16"):
        _core.median_error_fraction(report, xy[:16], weights[:16], 1000.0, problem.center)
