"""A track's rival from its fit from scratch (FitOptions ``track_rival_frames``,
``track_rival_margin``): the fit records its finished starts' parameters (cpp/fitter.h
FitReport ``start_parameters``, ``start_keypoints``), and the online Fitter runs the best
start in another basin beside the track as a competing track (``online.Challenger`` with
its own shape) while its output stays the track's."""

from __future__ import annotations

import numpy as np
import pytest
import smplify
from smplify import online
from smplify import synthetic_video as sv
from smplify.core_fitter import _core_fitter, _core_options, _observation
from smplify.problem import start_poses
from smplify.start_scorer import START_FEATURES
from smplify.start_scorer import weights as scorer_weights
from test_online import CLEAN, _fitter, cut_videos
from test_sequence import SEQUENCES
from test_start_scorer import _problems

#: Forces a rival whenever the fit from scratch has a finished start in another basin.
ANY_RIVAL = {"track_rival_margin": 1e6}


@pytest.fixture(scope="module")
def clips():
    return sv.load_sequences(SEQUENCES)


def test_a_fit_records_each_starts_parameters_and_keypoints(open_model):
    for problem in _problems(open_model, 2, seed=63):
        core = _core_options(problem)
        core.record_starts = True
        report = _core_fitter(problem, core).fit(**_observation(problem))
        plain = _core_fitter(problem).fit(**_observation(problem))
        assert plain.start_parameters == [] and plain.start_keypoints == []
        assert len(report.start_parameters) == len(report.start_keypoints) == \
            len(report.start_joints) > len(problem.hypotheses) > 0
        for (pose, betas, transl), joints in zip(report.start_parameters, report.start_joints,
                                                 strict=True):
            assert pose.shape == (72,) and transl.shape == (3,)
            np.testing.assert_allclose(open_model.core.joints(pose, betas, transl), joints,
                                       atol=1e-12)
        # The chosen start is among them, with the fit's own parameters and keypoints.
        chosen = [i for i, j in enumerate(report.start_joints)
                  if np.array_equal(j, report.joints)]
        assert chosen
        pose, betas, transl = report.start_parameters[chosen[0]]
        np.testing.assert_array_equal(pose, np.concatenate([report.global_orient,
                                                            report.body_pose]))
        np.testing.assert_array_equal(betas, report.betas)
        np.testing.assert_array_equal(transl, report.transl)
        np.testing.assert_array_equal(report.start_keypoints[chosen[0]], report.keypoints)


@pytest.mark.parametrize("options, message", [
    ({"track_rival_frames": -1}, "track_rival_frames"),
    ({"track_rival_frames": 2.5}, "track_rival_frames"),
    ({"track_rival_margin": 0.9}, "track_rival_margin"),
    ({"track_rival_margin": float("nan")}, "track_rival_margin"),
])
def test_track_rival_options_are_checked(options, message):
    with pytest.raises(ValueError, match=message):
        smplify.FitOptions(**options)


def _video(model, clips, clip, seed, frames):
    return sv.make_video(model, clips[clip], "coco17", np.random.default_rng(seed),
                         errors=CLEAN, frames=slice(0, frames))


def test_no_rival_by_default(open_model, clips):
    video = _video(open_model, clips, 3, 5, 1)
    fitter = _fitter(open_model, video)
    fitter._rival = lambda *_: pytest.fail("a rival looked for with the option off")
    fitter.fit(video.keypoints[0])
    assert fitter._challenger is None
    on = _fitter(open_model, video, track_rival_frames=1, **ANY_RIVAL)
    on.fit(video.keypoints[0])
    assert on._challenger is not None


# Clean keypoints, detector seed 5: on martial the track keeps its basin; on indian the
# rival wins (both ways are checked).
@pytest.mark.parametrize("clip, frames, switches", [(3, 2, False), (2, 3, True)])
def test_a_rival_runs_beside_the_track_and_the_output_stays_the_tracks(open_model, clips,
                                                                      clip, frames, switches):
    """The first frame's fit from scratch starts the track as before and its best start in
    another basin as a rival with its own shape; for ``track_rival_frames`` frames the
    output is the track's (the frames equal those of a Fitter without the option); on the
    last of them the lower summed robust data + E_track goes on."""
    video = _video(open_model, clips, clip, 5, frames + 2)
    plain = _fitter(open_model, video)
    fitter = _fitter(open_model, video, track_rival_frames=frames, **ANY_RIVAL)
    first, first_plain = fitter.fit(video.keypoints[0]), plain.fit(video.keypoints[0])
    np.testing.assert_array_equal(first.joints, first_plain.joints)
    rival = fitter._challenger
    assert rival is not None and rival.frames == frames and rival.margin == 1.0
    assert rival.state.betas is not None
    assert online.basin_distance(open_model.core.joints(rival.state.pose[-1], rival.state.betas,
                                                        rival.state.transl[-1]),
                                 first.joints) >= fitter.options.track_basin_distance
    for t in range(1, frames):
        out, out_plain = fitter.fit(video.keypoints[t]), plain.fit(video.keypoints[t])
        np.testing.assert_array_equal(out.joints, out_plain.joints)
        assert out.summary["start"] == out_plain.summary["start"]
        assert fitter._challenger is rival
        assert rival.age == t
    out, out_plain = fitter.fit(video.keypoints[frames]), plain.fit(video.keypoints[frames])
    assert fitter._challenger is None and rival.age == frames
    assert (rival.energy < rival.rival) is switches
    if switches:
        assert out.summary["start"] == "warm, switched track"
        assert online.basin_distance(out.joints, out_plain.joints) > 0.0
        # The track goes on with the rival's shape estimate.
        assert len(fitter._track.shape_samples) == frames + 1
    else:
        assert out.summary["start"] == out_plain.summary["start"]
        np.testing.assert_array_equal(out.joints, out_plain.joints)


def test_a_rival_needs_its_score_within_the_margin(open_model, clips):
    """The rival is the best-scored start in another basin, and runs only when its score is
    within ``track_rival_margin`` of the chosen start's."""
    video = _video(open_model, clips, 3, 5, 1)
    fitter = _fitter(open_model, video, track_rival_frames=3, **ANY_RIVAL)
    report = {}
    rival_of = fitter._rival

    def spy(problem, fit):
        report["fit"] = fit
        return rival_of(problem, fit)

    fitter._rival = spy
    fitter.fit(video.keypoints[0])
    fit = report["fit"]
    scores = np.asarray(fit.start_default_scores)
    apart = np.array([online.basin_distance(j, fit.joints) for j in fit.start_joints])
    other = np.flatnonzero(apart >= 0.05)
    best = other[np.argmin(scores[other])]
    np.testing.assert_allclose(fitter._challenger.state.pose[-1],
                               fit.start_parameters[best][0])
    ratio = scores[best] / scores[int(np.argmin(apart))]
    below = _fitter(open_model, video, track_rival_frames=3,
                    track_rival_margin=max(1.0, 0.99 * ratio))
    below.fit(video.keypoints[0])
    assert (below._challenger is None) == (ratio > 1.0)
    above = _fitter(open_model, video, track_rival_frames=3, track_rival_margin=1.01 * ratio)
    above.fit(video.keypoints[0])
    assert above._challenger is not None


def test_a_fit_without_readings_records_its_starts_too(open_model):
    """The online Fitter's restarts (a cut, a lost facing) fit from scratch without the
    learned readings: record_starts keeps their prior starts as well, and changes no fit
    (nor does a learned scorer choose where there are no readings)."""
    problem = _problems(open_model, 1, seed=64, starts="prior", flip=False)[0]
    assert not problem.hypotheses
    core = _core_options(problem)
    core.record_starts = True
    report = _core_fitter(problem, core).fit(**_observation(problem))
    plain = _core_fitter(problem).fit(**_observation(problem))
    np.testing.assert_array_equal(report.joints, plain.joints)
    assert len(report.start_parameters) == len(start_poses(problem)) > 1
    assert set(report.start_hypotheses) == {-1} and report.chosen_start == -1
    core.start_scorer = [float(len(START_FEATURES)), *scorer_weights()]
    scored = _core_fitter(problem, core).fit(**_observation(problem))
    np.testing.assert_array_equal(scored.joints, plain.joints)
    assert scored.chosen_start == -1


def test_a_restart_after_a_cut_gets_a_rival(open_model, clips):
    """A cut to another person restarts the track from a fit from scratch (without the
    readings): its best start in another basin runs as a rival too."""
    first, _, shifted = cut_videos(open_model, clips, 4)
    fitter = _fitter(open_model, first, track_rival_frames=2, **ANY_RIVAL)
    restarted = False
    for kp in np.concatenate([first.keypoints, shifted]):
        out = fitter.fit(kp)
        if out.summary["start"].endswith("then cold"):
            restarted = True
            assert fitter._challenger is not None and fitter._challenger.from_scratch
            assert fitter._challenger.age == 0
            break
    assert restarted
