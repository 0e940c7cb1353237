"""Pruning a fit from scratch's prior starts (FitOptions ``prune_starts``/``prune_stage``,
cpp/fitter.cc RunStartsPruned): the kept starts are the ones the selection score ranks best
after ``prune_stage`` stages, each finishes exactly as a fit from those starts alone would,
and the selection among them is unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import smplify
from smplify import _core
from smplify import synthetic_video as sv
from smplify.core_fitter import _core_fitter, _core_options, _observation
from smplify.options import PHOTO_PRUNE_STARTS
from smplify.problem import start_poses
from test_hypotheses import FORMAT, cases
from test_start_scorer import _problems

SEQUENCES = Path(__file__).parent / "data" / "heldout_sequences.npz"


def _fit(problem, core=None, starts=None):
    return _core_fitter(problem, core, starts).fit(**_observation(problem))


def _kept_after(problem, stage, keep, distance=0.0):
    """Indices of the prior starts kept after the first `stage` stages: their heads run as a
    pruned fit runs them (``_testing.with_end_stage``: the energies at the last stage's
    weights, and no β-held solve, which only the last stage ends with), ranked by the score
    the orientation's choice compares (the recorded default score of a prior start, E_sel +
    λ_R R, or with start_selection="total" E_total + λ_R R), going down, one within
    `distance` (mean joint distance, m) of a kept one dropped, at most `keep` (0: any
    number)."""
    core = _core_options(problem)
    core.record_starts = True
    core.flip = 0
    heads = _core._testing.with_end_stage(_core_fitter(problem, core), stage)
    report = heads.fit(**_observation(problem))
    assert report.num_pruned == 0
    prior = [i for i, h in enumerate(report.start_hypotheses) if h < 0]
    assert len(prior) == len(start_poses(problem))
    by_total = problem.options.start_selection == "total"
    scores = np.asarray(report.start_total_scores if by_total
                        else report.start_default_scores)[prior]
    joints = np.asarray(report.start_joints)[prior]
    kept: list[int] = []
    for i in np.argsort(scores, kind="stable"):
        if keep and len(kept) == keep:
            break
        if distance and any(np.linalg.norm(joints[i] - joints[j], axis=1).mean() < distance
                            for j in kept):
            continue
        kept.append(int(i))
    return sorted(kept)


#: (prune_stage, prune_starts, prune_distance) of the pruned fits compared with the fits
#: from their kept starts alone.
PRUNINGS = ((1, 2, 0.0), (3, 1, 0.0), (2, 2, 0.05), (1, 0, 100.0))


def _assert_pruned_equals_the_kept_alone(problem, prunings=PRUNINGS):
    starts = start_poses(problem)
    for stage, keep, distance in prunings:
        core = _core_options(problem)
        core.prune_starts, core.prune_stage, core.prune_distance = keep, stage, distance
        pruned = _fit(problem, core)
        kept = _kept_after(problem, stage, keep, distance)
        alone = _fit(problem, starts=[starts[i] for i in kept])
        assert pruned.num_pruned == len(starts) - len(kept)
        assert alone.num_pruned == 0 and alone.num_starts == len(kept)
        np.testing.assert_array_equal(pruned.joints, alone.joints)
        assert pruned.hypothesis == alone.hypothesis
        # The report's stages: the torso fit, then every stage of the chosen start.
        assert [s.name for s in pruned.stages] == [s.name for s in alone.stages]
        assert [s.final_cost for s in pruned.stages] == [s.final_cost for s in alone.stages]


@pytest.mark.parametrize("options", [{}, {"reading_weight": 0.0}])
def test_pruned_fit_equals_the_fit_from_the_kept_starts(open_model, options):
    for problem in _problems(open_model, 1, seed=71, flip=False, **options):
        _assert_pruned_equals_the_kept_alone(problem)


def test_pruning_ranks_by_the_total_energy_with_start_selection_total(open_model):
    """start_selection="total": the heads are ranked by E_total + λ_R R, the score that
    rule's choice compares. On this case the two rules keep different starts, whose fits
    differ, so a pruning by E_sel would not finish as the fit from the kept starts alone."""
    (by_total,) = _problems(open_model, 1, seed=74, flip=False, start_selection="total")
    (by_data,) = _problems(open_model, 1, seed=74, flip=False)
    prunings = ((1, 2, 0.0), (2, 2, 0.05))
    starts = start_poses(by_total)
    kept = [_kept_after(problem, *prunings[0]) for problem in (by_total, by_data)]
    assert kept[0] != kept[1]
    fits = [_fit(by_total, starts=[starts[i] for i in k]) for k in kept]
    assert not np.array_equal(fits[0].joints, fits[1].joints)
    _assert_pruned_equals_the_kept_alone(by_total, prunings)


def test_the_learned_scorer_gets_the_starts_the_energy_kept(open_model):
    """start_scorer="learned": the prior's starts are still pruned by the energy's score
    (E_sel + λ_R R); the scorer chooses among the kept ones and the readings."""
    (problem,) = _problems(open_model, 1, seed=71, flip=False, start_scorer="learned")
    _assert_pruned_equals_the_kept_alone(problem, ((2, 2, 0.0),))


def test_a_head_stops_where_a_pruned_start_stops(open_model):
    """The hook the rankings above run (``_testing.with_end_stage``): a start's first stages
    without the β-held solve that a fit cut to those stages ends with (the rankings' reference
    ran that solve before, which a pruned start's head does not)."""
    (problem,) = _problems(open_model, 1, seed=71, flip=False, starts="prior")
    fitter = _core_fitter(problem)
    for bad in (0, len(problem.options.pose_prior_weights)):
        with pytest.raises(ValueError, match="end_stage"):
            _core._testing.with_end_stage(fitter, bad)
    for stage in (1, 2):
        head = _core._testing.with_end_stage(fitter, stage).fit(**_observation(problem))
        assert [s.name for s in head.stages] == ["torso"] + [f"stage {k + 1}"
                                                             for k in range(stage)]
        assert all(s.fixed_shape_iterations == 0 for s in head.stages)
        cut = _core_options(problem)
        cut.pose_prior_weights = list(cut.pose_prior_weights)[:stage]
        cut.shape_prior_weights = list(cut.shape_prior_weights)[:stage]
        assert _fit(problem, cut).stages[-1].fixed_shape_iterations >= 1


def test_pruning_that_keeps_every_start_changes_nothing(open_model):
    for problem in _problems(open_model, 1, seed=72):
        plain = _fit(problem)
        n = len(start_poses(problem))
        for keep, stage in ((n, 2), (2, 4), (2, 9)):  # 4: the last stage
            core = _core_options(problem)
            core.prune_starts, core.prune_stage = keep, stage
            same = _fit(problem, core)
            np.testing.assert_array_equal(same.joints, plain.joints)
            assert same.num_pruned == 0


def test_pruning_runs_per_orientation_and_is_counted(open_model):
    problem = _problems(open_model, 1, seed=73, flip=True, prune_starts=2)[0]
    fit = _fit(problem)
    assert fit.num_pruned == 2 * (len(start_poses(problem)) - 2)
    assert len(fit.tried) == 2
    data = cases(open_model, 1, seed=74)
    for keep, pruned in ((0, 0), (3, len(start_poses(problem)) - 3)):
        result = smplify.fit(data.keypoints[0], FORMAT, tuple(data.image_size[0]),
                             float(data.focal[0]), model=open_model, flip=False,
                             prune_starts=keep)
        assert result.summary["pruned_starts"] == pruned


def test_auto_prunes_a_photo_and_no_video_fit(open_model):
    """prune_starts="auto": PHOTO_PRUNE_STARTS for smplify.fit and fit_batch (a fit of one
    image, with the initialiser's readings among its starts; 0 with the prior's alone), 0
    for a Fitter's fits from scratch and fit_sequence (each the same fit as with
    prune_starts=0); an int applies to the Fitter too."""
    data = cases(open_model, 2, seed=76)
    kp, size, focal = data.keypoints[0], tuple(data.image_size[0]), float(data.focal[0])
    photo = smplify.fit(kp, FORMAT, size, focal, model=open_model)
    forced = smplify.fit(kp, FORMAT, size, focal, model=open_model,
                         prune_starts=PHOTO_PRUNE_STARTS)
    assert photo.summary["pruned_starts"] > 0
    prior_only = smplify.fit(kp, FORMAT, size, focal, model=open_model, starts="prior")
    assert prior_only.summary["pruned_starts"] == 0
    np.testing.assert_array_equal(photo.joints, forced.joints)
    batch = smplify.fit_batch([kp], FORMAT, size, focal, model=open_model, threads=1)
    assert batch[0].summary["pruned_starts"] == photo.summary["pruned_starts"]
    np.testing.assert_array_equal(batch[0].joints, photo.joints)

    def frames(**options):
        fitter = smplify.Fitter(open_model, format=FORMAT, image_size=size,
                                focal_length=focal, **options)
        return [fitter.fit(k, warm_start=False) for k in data.keypoints]

    for auto, unpruned in zip(frames(), frames(prune_starts=0), strict=True):
        assert auto.summary["pruned_starts"] == 0
        np.testing.assert_array_equal(auto.joints, unpruned.joints)
    assert all(r.summary["pruned_starts"] > 0 for r in frames(prune_starts=2))

    video = sv.make_video(open_model, sv.load_sequences(SEQUENCES)[0], FORMAT,
                          np.random.default_rng(7), yaw=0.5, frames=slice(100, 108))
    runs = [smplify.fit_sequence(video.keypoints, FORMAT, video.image_size, video.focal_length,
                                 model=open_model, **options)
            for options in ({}, {"prune_starts": 0})]
    for name in ("betas", "global_orient", "body_pose", "transl", "joints"):
        np.testing.assert_array_equal(getattr(runs[0], name), getattr(runs[1], name))


def test_prune_options_are_checked(open_model):
    assert smplify.FitOptions().prune_starts == "auto"
    assert smplify.FitOptions().for_photo(FORMAT).prune_starts == PHOTO_PRUNE_STARTS
    assert smplify.FitOptions(prune_starts=0).for_photo(FORMAT).prune_starts == 0
    # The prior's starts alone (no readings beside them): not pruned unless asked.
    for prior_only in ({"starts": "prior"}, {"preset": "paper"}):
        assert smplify.FitOptions.from_kwargs(**prior_only).for_photo(FORMAT).prune_starts == 0
    names = ("prune_starts", "prune_stage", "prune_distance")

    def others_in(message: str, name: str) -> list[str]:
        return [other for other in names if other != name and other in message]

    # Each message names the option at fault and no other.
    for bad in ({"prune_starts": -1}, {"prune_starts": "some"}, {"prune_stage": 0},
                {"prune_starts": 1.5}, {"prune_stage": True}, {"prune_distance": -0.1},
                {"prune_distance": float("nan")}):
        name = next(iter(bad))
        with pytest.raises(ValueError, match=name) as raised:
            smplify.FitOptions(**bad)
        assert not others_in(str(raised.value), name), raised.value
    problem = _problems(open_model, 1, seed=75)[0]
    for name, value in (("prune_starts", -1), ("prune_stage", 0), ("prune_distance", -1.0),
                        ("prune_distance", float("nan"))):
        core = _core_options(problem)
        setattr(core, name, value)
        with pytest.raises(ValueError, match=name) as raised:
            _core_fitter(problem, core)
        assert not others_in(str(raised.value), name), raised.value
