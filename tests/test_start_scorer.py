"""The learned start selection (``start_scorer``, cpp/start_scorer.h): the C++ features
against their NumPy twin, the fit keeping the start its scorer ranks first, and the shipped
weights. The scorer only compares finished starts (it enters no solve): no Jacobian."""

from __future__ import annotations

import numpy as np
import pytest
import smplify
from smplify import _core, start_scorer
from smplify.fitting import _core_fitter, _core_options, _observation
from smplify.problem import build_problem
from smplify.reference.selection import START_FEATURES, start_features
from test_hypotheses import FORMAT, cases


def _random_starts(rng, n):
    energies = np.exp(rng.normal(size=(n, 5)) * 3)
    hyp = rng.random(n) < 0.5
    return dict(default_score=rng.normal(size=n) * 1e3, selection_data=np.exp(rng.normal(size=n)),
                reading=rng.normal(size=n) * 10, energies=energies, hypothesis=hyp,
                log_score_gap=np.where(hyp, rng.random(n) * 4, 0.0),
                flipped=rng.random(n) < 0.3, joints=rng.normal(size=(n, 24, 3)) * 0.3)


def test_cpp_start_features_equal_the_numpy_twin():
    rng = np.random.default_rng(5)
    for n in (1, 2, 7, 15):
        starts = _random_starts(rng, n)
        if n > 2:  # a start whose reading score could not be evaluated
            starts["reading"][1] = np.inf
        cpp = _core._testing.start_features(
            starts["default_score"], starts["selection_data"], starts["reading"],
            starts["energies"], list(starts["hypothesis"]), starts["log_score_gap"],
            list(starts["flipped"]), list(starts["joints"]))
        twin = start_features(**starts)
        assert cpp.shape == twin.shape == (n, len(START_FEATURES))
        np.testing.assert_allclose(cpp, twin, rtol=1e-12, atol=1e-12)


def test_start_features_are_relative_to_the_pool():
    rng = np.random.default_rng(6)
    starts = _random_starts(rng, 9)
    f = start_features(**starts)
    assert np.all(f >= 0) and np.allclose(f[:, [0, 1, 2, 3, 4, 5, 6, 7, 11]].min(axis=0), 0)
    shifted = dict(starts, default_score=starts["default_score"] + 50.0,
                   joints=starts["joints"] + rng.normal(size=(9, 1, 3)))  # any placement
    np.testing.assert_allclose(start_features(**shifted), f, atol=1e-12)


def _problems(model, n, seed):
    """The problems of the first n cases the fit accepts (enough torso keypoints)."""
    data, out = cases(model, 2 * n + 2, seed), []
    for i in range(len(data.keypoints)):
        try:
            out.append(build_problem(data.keypoints[i], FORMAT, tuple(data.image_size[i]),
                                     float(data.focal[i]), model, "open", {"threads": 1}))
        except smplify.KeypointError:
            continue
        if len(out) == n:
            return out
    raise AssertionError("too few accepted cases")


def test_the_fit_keeps_the_start_its_scorer_ranks_first(open_model):
    rng = np.random.default_rng(7)
    for problem in _problems(open_model, 3, seed=61):
        core = _core_options(problem)
        core.record_starts = True
        recorded = _core_fitter(problem, core).fit(**_observation(problem))
        plain = _core_fitter(problem).fit(**_observation(problem))
        # Recording changes nothing; it keeps every start, the default's choice among them.
        np.testing.assert_array_equal(recorded.joints, plain.joints)
        assert len(plain.start_joints) == 0 and plain.chosen_start == -1
        joints = np.asarray(recorded.start_joints)
        features = np.asarray(recorded.start_features)
        assert len(joints) == len(features) > len(problem.hypotheses) > 0
        assert any(np.array_equal(j, plain.joints) for j in joints)
        assert sorted(h for h in recorded.start_hypotheses if h >= 0) == list(
            range(len(problem.hypotheses)))
        for _ in range(2):
            w = rng.normal(size=len(START_FEATURES))
            core.start_scorer = list(w)
            scored = _core_fitter(problem, core).fit(**_observation(problem))
            kept = int(np.argmin(features @ w))
            assert scored.chosen_start == kept
            np.testing.assert_allclose(scored.joints, joints[kept], atol=1e-12)
            assert scored.hypothesis == recorded.start_hypotheses[kept]


def test_start_scorer_weights_are_checked(open_model):
    problem = _problems(open_model, 1, seed=62)[0]
    core = _core_options(problem)
    core.start_scorer = [1.0, 2.0]
    with pytest.raises(ValueError, match="start_scorer"):
        _core_fitter(problem, core)
    core.start_scorer = [np.nan] * len(START_FEATURES)
    with pytest.raises(ValueError, match="start_scorer"):
        _core_fitter(problem, core)
    with pytest.raises(ValueError, match="start_scorer"):
        smplify.FitOptions(start_scorer="best")


def test_shipped_scorer_loads_and_runs(open_model):
    w = start_scorer.weights()
    assert len(w) == len(START_FEATURES) and np.all(np.isfinite(w))
    metrics = start_scorer.metrics()
    # Recorded by the build tool on training subjects' cases it did not fit w on.
    assert set(metrics["validation"]) >= {"coco17", "mediapipe33", "openpose25"}
    problem = _problems(open_model, 1, seed=63)[0]
    kp = np.c_[problem.keypoints, problem.confidence]
    fits = {kind: smplify.fit(kp, FORMAT, tuple(problem.image_size), problem.focal_length,
                              model=open_model, start_scorer=kind, threads=1)
            for kind in ("energy", "learned")}
    assert all(np.isfinite(f.joints).all() for f in fits.values())
