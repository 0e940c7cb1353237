"""The learned start selection (``start_scorer``, cpp/start_scorer.h): the C++ features
against their NumPy twin, the fit keeping the start its scorer ranks first, and the shipped
weights. The scorer only compares finished starts (it enters no solve): no Jacobian."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import smplify
from smplify import _core, start_scorer
from smplify import synthetic_video as sv
from smplify.core_fitter import _core_fitter, _core_options, _observation
from smplify.options import PHOTO_START_SCORER
from smplify.problem import build_problem
from smplify.reference.selection import (
    START_FEATURES,
    depth_order_disagreement,
    kept_start,
    start_features,
    start_scores,
)
from test_hypotheses import FORMAT, cases

SEQUENCES = Path(__file__).parent / "data" / "heldout_sequences.npz"


def _random_starts(rng, n):
    energies = np.exp(rng.normal(size=(n, 5)) * 3)
    hyp = rng.random(n) < 0.5
    return dict(default_score=rng.normal(size=n) * 1e3, selection_data=np.exp(rng.normal(size=n)),
                reading=rng.normal(size=n) * 10, energies=energies, hypothesis=hyp,
                log_score_gap=np.where(hyp, rng.random(n) * 4, 0.0),
                flipped=rng.random(n) < 0.3, joints=rng.normal(size=(n, 24, 3)) * 0.3,
                depth_disorder=rng.random(n))


def test_cpp_start_features_equal_the_numpy_twin():
    rng = np.random.default_rng(5)
    for n in (1, 2, 7, 15):
        starts = _random_starts(rng, n)
        if n > 2:  # a start whose reading score could not be evaluated
            starts["reading"][1] = np.inf
        cpp = _core._testing.start_features(
            starts["default_score"], starts["selection_data"], starts["reading"],
            starts["energies"], list(starts["hypothesis"]), starts["log_score_gap"],
            list(starts["flipped"]), list(starts["joints"]), starts["depth_disorder"])
        twin = start_features(**starts)
        assert cpp.shape == twin.shape == (n, len(START_FEATURES))
        np.testing.assert_allclose(cpp, twin, rtol=1e-12, atol=1e-12)


def test_cpp_start_scores_equal_the_numpy_twin():
    rng = np.random.default_rng(8)
    f = len(START_FEATURES)
    for hidden in (1, 4, 8):
        features = np.abs(rng.normal(size=(11, f)))
        weights = rng.normal(size=hidden * (f + 2))
        np.testing.assert_allclose(_core._testing.start_scores(features, weights),
                                   start_scores(features, weights), rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="weights"):
        _core._testing.start_scores(features, weights[:-1])
    with pytest.raises(ValueError, match="weights"):
        start_scores(features, weights[:-1])


def test_nearest_reading_gap_is_the_reading_a_start_took():
    """f15: a prior's start takes the gap of the reading whose start lies nearest in 3D; a
    reading's start its own; without readings' starts 0."""
    rng = np.random.default_rng(12)
    starts = _random_starts(rng, 5)
    starts["hypothesis"] = np.array([False, False, True, True, False])
    starts["log_score_gap"] = np.array([0.0, 0.0, 0.0, 2.5, 0.0])
    starts["joints"][0] = starts["joints"][3] + 1e-3  # near reading 3
    starts["joints"][1] = starts["joints"][2] - 1e-3  # near reading 2
    f = start_features(**starts)
    np.testing.assert_allclose(f[:4, 15], [2.5, 0.0, 0.0, 2.5])
    starts["hypothesis"] = np.zeros(5, dtype=bool)
    np.testing.assert_array_equal(start_features(**starts)[:, 15], 0.0)


def test_cpp_depth_order_disagreement_equals_the_numpy_twin():
    rng = np.random.default_rng(13)
    for k in (2, 5, 17, 33):
        x = rng.normal(size=(k, 3)) * 0.3
        ref = x + rng.normal(size=(k, 3)) * 0.1
        ref[rng.random(k) < 0.2] = np.nan
        w = np.where(rng.random(k) < 0.2, 0.0, rng.random(k))
        assert _core._testing.depth_order_disagreement(x, ref, w) == pytest.approx(
            depth_order_disagreement(x, ref, w), abs=1e-15)
    assert depth_order_disagreement(x, np.zeros((0, 3)), w) == 0.0
    assert _core._testing.depth_order_disagreement(x, np.zeros((0, 3)), w) == 0.0
    # Mirrored in depth: every pair ordered by 10 cm or more disagrees; none nearer counts.
    ref = np.c_[np.zeros((3, 2)), [0.0, 0.2, 0.25]]
    x = ref * np.array([1, 1, -1])
    assert depth_order_disagreement(x, ref, np.ones(3)) == 1.0
    assert _core._testing.depth_order_disagreement(x, ref, np.ones(3)) == 1.0
    assert depth_order_disagreement(ref, ref, np.ones(3)) == 0.0


def test_the_scorer_never_keeps_a_start_far_off_in_2d():
    f = np.zeros((4, len(START_FEATURES)))
    f[:, 1] = np.log1p([0.0, 399.0, 401.0, 1e5])  # ΔE_sel, px² at σ_sel = 20 px
    scores = np.array([0.0, -1.0, -2.0, -3.0])
    assert kept_start(f, scores, 20.0) == 1
    assert kept_start(f, scores, 30.0) == 2
    assert kept_start(f, np.zeros(4), 20.0) == 0  # the first of equals


def test_start_features_are_relative_to_the_pool():
    rng = np.random.default_rng(6)
    starts = _random_starts(rng, 9)
    f = start_features(**starts)
    assert np.all(f >= 0) and np.allclose(
        f[:, [0, 1, 2, 3, 4, 5, 6, 7, 11, 13, 16]].min(axis=0), 0)
    assert np.all(f[:, 12] <= 1)
    shifted = dict(starts, default_score=starts["default_score"] + 50.0,
                   joints=starts["joints"] + rng.normal(size=(9, 1, 3)))  # any placement
    np.testing.assert_allclose(start_features(**shifted), f, atol=1e-12)


def _problems(model, n, seed, **options):
    """The problems of the first n cases the fit accepts (enough torso keypoints)."""
    data, out = cases(model, 2 * n + 2, seed), []
    for i in range(len(data.keypoints)):
        try:
            out.append(build_problem(data.keypoints[i], FORMAT, tuple(data.image_size[i]),
                                     float(data.focal[i]), model, "open",
                                     {"threads": 1, **options}))
        except smplify.KeypointError:
            continue
        if len(out) == n:
            return out
    raise AssertionError("too few accepted cases")


def test_the_fit_keeps_the_start_its_scorer_ranks_first(open_model):
    rng = np.random.default_rng(7)
    for problem in _problems(open_model, 3, seed=61, start_scorer="energy"):
        core = _core_options(problem)
        core.record_starts = True
        recorded = _core_fitter(problem, core).fit(**_observation(problem))
        plain = _core_fitter(problem).fit(**_observation(problem))
        # Recording changes nothing; it keeps every start, the energy's choice among them.
        np.testing.assert_array_equal(recorded.joints, plain.joints)
        assert len(plain.start_joints) == 0 and plain.chosen_start == -1
        assert np.shape(plain.start_features) == (0, len(START_FEATURES))
        joints = np.asarray(recorded.start_joints)
        features = np.asarray(recorded.start_features)
        assert len(joints) == len(features) > len(problem.hypotheses) > 0
        assert any(np.array_equal(j, plain.joints) for j in joints)
        assert sorted(h for h in recorded.start_hypotheses if h >= 0) == list(
            range(len(problem.hypotheses)))
        for hidden in (1, 3):
            w = rng.normal(size=hidden * (len(START_FEATURES) + 2))
            core.start_scorer = [float(len(START_FEATURES)), *w]
            scored = _core_fitter(problem, core).fit(**_observation(problem))
            kept = kept_start(features, start_scores(features, w),
                              problem.options.selection_sigma)
            assert scored.chosen_start == kept
            np.testing.assert_allclose(scored.joints, joints[kept], atol=1e-12)
            assert scored.hypothesis == recorded.start_hypotheses[kept]


def test_start_scorer_weights_are_checked(open_model):
    problem = _problems(open_model, 1, seed=62)[0]
    core = _core_options(problem)
    core.start_scorer = [1.0, 2.0]
    with pytest.raises(ValueError, match="start_scorer"):
        _core_fitter(problem, core)
    core.start_scorer = [float(len(START_FEATURES))] + [np.nan] * (len(START_FEATURES) + 2)
    with pytest.raises(ValueError, match="start_scorer"):
        _core_fitter(problem, core)
    # A scorer learned on 15 features with H = 19 has 19 * 17 weights, a multiple of F + 2 =
    # 19 too: read as H = 17 it would be misread. The raw form's leading F rejects it, and
    # so it does the bare [W, b, v] without the count.
    f, other = len(START_FEATURES), 15
    assert (19 * (other + 2)) % (f + 2) == 0
    other_weights = list(np.random.default_rng(3).normal(size=19 * (other + 2)))
    for raw in ([float(other), *other_weights], other_weights):
        core.start_scorer = raw
        with pytest.raises(ValueError, match=f"start_scorer.*F = {f}"):
            _core_fitter(problem, core)
    with pytest.raises(ValueError, match="start_scorer"):
        smplify.FitOptions(start_scorer="best")


def test_shipped_scorer_loads_and_runs(open_model):
    w = start_scorer.weights()
    assert len(w) % (len(START_FEATURES) + 2) == 0 and np.all(np.isfinite(w))
    metrics = start_scorer.metrics()
    # Recorded by the build tool on training subjects' cases it did not fit w on.
    assert set(metrics["validation"]) >= {f"{kind} {fmt}" for kind in ("image", "video")
                                          for fmt in ("coco17", "mediapipe33", "openpose25")}
    problem = _problems(open_model, 1, seed=63)[0]
    kp = np.c_[problem.keypoints, problem.confidence]
    fits = {kind: smplify.fit(kp, FORMAT, tuple(problem.image_size), problem.focal_length,
                              model=open_model, start_scorer=kind, threads=1)
            for kind in ("energy", "learned")}
    assert all(np.isfinite(f.joints).all() for f in fits.values())
    # "learned" hands the shipped weights to the core, which then ranks the starts itself.
    learned = _problems(open_model, 1, seed=63, start_scorer="learned")[0]
    assert list(_core_options(learned).start_scorer) == [float(len(START_FEATURES)), *w]
    report = _core_fitter(learned).fit(**_observation(learned))
    assert 0 <= report.chosen_start < len(report.start_joints)
    np.testing.assert_allclose(report.joints, fits["learned"].joints, atol=1e-12)


def test_auto_is_the_learned_scorer_for_a_photo_and_the_energy_for_video(open_model):
    """start_scorer="auto" (an option; "energy" is the default): PHOTO_START_SCORER
    ("learned") for smplify.fit and fit_batch (a fit of one image with the initialiser's
    readings among its starts; "energy" with the prior's starts alone and under
    preset="paper"), the energy's selection for a Fitter's fits from scratch and
    fit_sequence. Each case below is one where the two selections keep different starts,
    so a wrong resolution shows."""
    assert smplify.FitOptions().start_scorer == "energy"
    auto = {"start_scorer": "auto"}
    assert smplify.FitOptions(**auto).for_photo(FORMAT).start_scorer == PHOTO_START_SCORER
    assert PHOTO_START_SCORER == "learned"
    for options in ({"starts": "prior"}, {"preset": "paper"}):  # no readings: energy
        photo_options = smplify.FitOptions.from_kwargs(**auto, **options).for_photo(FORMAT)
        assert photo_options.start_scorer == "energy"
    assert smplify.FitOptions().for_photo(FORMAT).start_scorer == "energy"
    # The core of a Fitter's frames and of fit_sequence gets no weights from "auto".
    (problem,) = _problems(open_model, 1, seed=63, **auto)
    assert problem.options.start_scorer == "auto"
    assert list(_core_options(problem).start_scorer) == []
    data = cases(open_model, 8, 90)
    kp, size, focal = data.keypoints[2], tuple(data.image_size[2]), float(data.focal[2])
    photo = {kind: smplify.fit(kp, FORMAT, size, focal, model=open_model, threads=1,
                               start_scorer=kind) for kind in ("auto", "energy", "learned")}
    np.testing.assert_array_equal(photo["auto"].joints, photo["learned"].joints)
    assert not np.array_equal(photo["auto"].joints, photo["energy"].joints)
    batch = smplify.fit_batch([kp], FORMAT, size, focal, model=open_model, threads=1, **auto)
    np.testing.assert_array_equal(batch[0].joints, photo["learned"].joints)

    def frame(kind):
        return smplify.Fitter(open_model, format=FORMAT, image_size=size, focal_length=focal,
                              threads=1, start_scorer=kind).fit(kp, warm_start=False).joints

    np.testing.assert_array_equal(frame("auto"), frame("energy"))
    assert not np.array_equal(frame("auto"), frame("learned"))
    video = sv.make_video(open_model, sv.load_sequences(SEQUENCES)[1], FORMAT,
                          np.random.default_rng(8), yaw=0.5, frames=slice(100, 108))
    runs = {kind: smplify.fit_sequence(video.keypoints, FORMAT, video.image_size,
                                       video.focal_length, model=open_model, threads=1,
                                       start_scorer=kind)
            for kind in ("auto", "energy", "learned")}
    np.testing.assert_array_equal(runs["auto"].joints, runs["energy"].joints)
    assert not np.array_equal(runs["auto"].joints, runs["learned"].joints)


def test_the_build_tool_learns_a_ranking_the_features_carry():
    """On pools where one feature tracks each start's error and the default's choice does
    not, the tool's training (tools/build_start_scorer.py) finds the near-best starts."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import build_start_scorer as bss
    from start_pools import Pools

    rng = np.random.default_rng(9)
    cases, per = 300, 8
    mm = rng.uniform(40, 140, size=(cases, per))
    f = np.abs(rng.normal(size=(cases, per, len(START_FEATURES))))
    f[:, :, 11] = (mm - mm.min(axis=1, keepdims=True)) / 20 + rng.normal(scale=0.3,
                                                                          size=(cases, per))
    default = np.zeros((cases, per), dtype=bool)
    default[np.arange(cases), rng.integers(per, size=cases)] = True
    pools = Pools(f.reshape(-1, len(START_FEATURES)), mm.ravel(),
                  np.repeat(np.arange(cases), per), default.ravel(),
                  np.zeros((cases * per, 24, 3), dtype=np.float32))
    train, held = bss.split(pools, 0.3)
    w = bss.train(train, 10.0, 1e-3, hidden=4)
    again = bss.train(train, 10.0, 1e-3, hidden=4)
    np.testing.assert_array_equal(w, again)  # deterministic
    figures = bss.figures(held, w)
    assert figures["scorer_mm"] < figures["best_of_starts_mm"] + 15
    assert figures["paired_mm"] < -20  # a random pick averages ~40 mm above the best


def test_shipped_scorer_records_the_model_and_stale_weights_warn(tmp_path, monkeypatch):
    """The weights record the model they were learned on (as the initialisers' do); weights
    learned on another model, or recording none, load with a warning."""
    import warnings

    from smplify.initializer import _shipped_fingerprint

    with np.load(start_scorer.WEIGHTS_FILE) as z:
        arrays = {k: z[k] for k in z.files}
    assert str(arrays["model_fingerprint"]) == _shipped_fingerprint()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        start_scorer.weights.cache_clear()
        shipped = start_scorer.weights()
    for fingerprint in ("0" * 32, None):
        stale = dict(arrays)
        if fingerprint is None:
            del stale["model_fingerprint"]
        else:
            stale["model_fingerprint"] = np.array(fingerprint)
        path = tmp_path / "start_scorer.npz"
        np.savez(path, **stale)
        monkeypatch.setattr(start_scorer, "WEIGHTS_FILE", path)
        start_scorer.weights.cache_clear()
        try:
            with pytest.warns(UserWarning, match="another body model"):
                assert start_scorer.weights() == shipped
        finally:
            start_scorer.weights.cache_clear()


def test_video_training_cases_are_frames_of_the_video_error_model(open_model):
    """The build tool's video cases: synthetic_video's camera (f = 1200 px) and detector
    errors on the given poses, one case per frame, the truth pelvis-relative, each frame's
    heading drawn apart (not one per pseudo-clip)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import build_start_scorer as bss

    rng = np.random.default_rng(14)
    theta = np.concatenate([rng.normal(scale=0.2, size=(200, 3)),
                            rng.normal(scale=0.2, size=(200, 69))], axis=1)
    cases = bss.video_training_cases(open_model, theta, "coco17", 0)
    assert cases.keypoints.shape == (bss.CHUNK, 17, 3) and np.all(cases.focal == 1200.0)
    np.testing.assert_allclose(cases.joints[:, 0], 0.0, atol=1e-12)
    forward = cases.rotation[:, :, 2]  # the body's forward axis in the camera frame
    assert np.ptp(np.arctan2(forward[:, 0], forward[:, 2])[:bss.VIDEO_CLIP]) > 1.0
    # Missing keypoints (dropped frames and keypoints, occlusions) have confidence 0 at 0, 0.
    missing = cases.keypoints[..., 2] == 0
    assert missing.any() and np.all(cases.keypoints[missing][:, :2] == 0)


def _e3d_and_disorder(problem, joints_list, reference):
    """E_3D (NumPy twin of its rows, smpl24: the keypoints are the joints) and the
    depth-order disagreement of each start's joints against the 3D keypoints `reference`."""
    from smplify.reference.energy import geman_mcclure, relative_keypoint_ids

    ids = relative_keypoint_ids(problem)
    target = reference[ids] - reference[ids].mean(axis=0)
    e3d, disorder = [], []
    for joints in joints_list:
        x = np.asarray(joints)[ids] - np.asarray(joints)[ids].mean(axis=0)
        rows = problem.keypoints_3d_weight * problem.weights[ids, None] * geman_mcclure(
            x - target, problem.options.keypoints_3d_sigma)
        e3d.append(np.sum(rows ** 2))
        disorder.append(depth_order_disagreement(joints, reference, problem.weights))
    return np.array(e3d), np.array(disorder)


def test_fit_records_e3d_and_depth_order_against_the_anchor(open_model):
    """With the learned anchor and no caller 3D, every reading start was fitted to its own
    reading's 3D; f6 and f16 still measure every start against the observation's 3D, the
    anchor (problem.keypoints_3d), not against the 3D that start was fitted to."""
    from smplify import detections

    rng = np.random.default_rng(16)
    poses = np.load(Path(__file__).resolve().parent / "data" / "heldout_poses.npz")["body_pose"]
    theta = np.concatenate([rng.normal(scale=0.1, size=(3, 3)), poses[3:6]], axis=1)
    data = detections.render_cases(open_model, "smpl24", theta,
                                   np.zeros((3, open_model.num_betas)), rng)
    checked, own_differs = 0, False
    for i in range(3):
        try:
            problem = build_problem(data.keypoints[i], "smpl24", tuple(data.image_size[i]),
                                    float(data.focal[i]), open_model, "open",
                                    {"threads": 1, "learned_init": True})
        except smplify.KeypointError:
            continue
        assert problem.keypoints_3d is not None and problem.keypoints_3d_weight > 0
        readings = [h[2] for h in problem.hypotheses]
        assert readings and all(r is not None for r in readings)
        core = _core_options(problem)
        core.record_starts = True
        report = _core_fitter(problem, core).fit(**_observation(problem))
        features = np.asarray(report.start_features)
        e3d, disorder = _e3d_and_disorder(problem, report.start_joints, problem.keypoints_3d)
        np.testing.assert_allclose(features[:, 6], np.log1p(e3d - e3d.min()), rtol=1e-8,
                                   atol=1e-8)
        np.testing.assert_allclose(features[:, 16], disorder - disorder.min(), atol=1e-12)
        # Against each reading start's own reading instead, E_3D differs (this test can tell
        # the anchor from the start's own 3D).
        for joints, h in zip(report.start_joints, report.start_hypotheses, strict=True):
            if h < 0:
                continue
            own, _ = _e3d_and_disorder(problem, [joints], np.asarray(readings[h]))
            anchor, _ = _e3d_and_disorder(problem, [joints], problem.keypoints_3d)
            own_differs = own_differs or abs(own[0] - anchor[0]) > 1e-6 * (1 + anchor[0])
        checked += 1
    assert checked >= 2 and own_differs


def test_fit_records_e3d_and_depth_order_against_the_observations_3d(open_model):
    """f6 and f16 of a real fit's starts, recomputed from each start's body: for smpl24 the
    keypoints are the joints, so E_3D (against the caller's keypoints_3d, whichever 3D the
    start was fitted to: NumPy twin of E_3D's rows) and the depth-order disagreement follow
    from the recorded joints alone."""
    from smplify import detections

    rng = np.random.default_rng(15)
    poses = np.load(Path(__file__).resolve().parent / "data" / "heldout_poses.npz")["body_pose"]
    theta = np.concatenate([rng.normal(scale=0.1, size=(3, 3)), poses[:3]], axis=1)
    data = detections.render_cases(open_model, "smpl24", theta,
                                   np.zeros((3, open_model.num_betas)), rng)
    points_3d = detections.detector_3d(open_model, "smpl24", data, rng)
    checked, reversed_some = 0, False
    for i in range(3):
        try:
            problem = build_problem(data.keypoints[i], "smpl24", tuple(data.image_size[i]),
                                    float(data.focal[i]), open_model, "open",
                                    {"threads": 1}, keypoints_3d=points_3d[i])
        except smplify.KeypointError:
            continue
        core = _core_options(problem)
        core.record_starts = True
        report = _core_fitter(problem, core).fit(**_observation(problem))
        features = np.asarray(report.start_features)
        e3d, disorder = _e3d_and_disorder(problem, report.start_joints, problem.keypoints_3d)
        assert problem.keypoints_3d_weight > 0 and np.ptp(e3d) > 1.0  # the starts differ
        np.testing.assert_allclose(features[:, 6], np.log1p(e3d - e3d.min()), rtol=1e-8,
                                   atol=1e-8)
        np.testing.assert_allclose(features[:, 16], disorder - disorder.min(), atol=1e-12)
        checked += 1
        reversed_some = reversed_some or np.ptp(disorder) > 0
    assert checked >= 2 and reversed_some


def test_the_gate_keeps_the_energys_choice_unless_the_scorer_prefers_another_by_its_margin():
    """benchmarks/start_scorer_shift.py's gate is two more hidden units of the same MLP: the
    C++ scorer runs it as its NumPy twin does; a start other than the lowest-S one (f0 = 0) is
    kept only when its learned score is lower by more than the margin, and never above the
    cap on ℓ(ΔS)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from start_scorer_shift import gated

    rng = np.random.default_rng(21)
    f = len(START_FEATURES)
    w = rng.normal(size=4 * (f + 2))
    features = np.abs(rng.normal(size=(9, f)))
    features[:, 1] = 0.0  # every start within the selection gate
    features[:, 0] = [0.0, 0.5, 1.0, 2.0, 2.9, 3.1, 4.0, 6.0, 8.0]  # ℓ(ΔS)
    base = start_scores(features, w)
    for margin, cap in ((0.0, None), (0.5, None), (0.0, 3.0), (1.0, 3.0), (50.0, None)):
        g = gated(w, margin, cap)
        assert len(g) == (4 + (margin > 0) + (cap is not None)) * (f + 2)
        scores = _core._testing.start_scores(features, g)
        np.testing.assert_allclose(scores, start_scores(features, g), rtol=1e-12, atol=1e-12)
        allowed = np.ones(9, dtype=bool) if cap is None else features[:, 0] <= cap
        adjusted = np.where(allowed, base + np.where(features[:, 0] > 0, margin, 0.0), np.inf)
        assert kept_start(features, scores, 20.0) == int(np.argmin(adjusted))
    # A large margin gives the energy's choice back; no gate is the scorer itself.
    assert kept_start(features, start_scores(features, gated(w, 50.0, None)), 20.0) == 0
    np.testing.assert_array_equal(gated(w, 0.0, None), w)
