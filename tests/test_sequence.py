"""smplify.fit_sequence on held-out mocap motion seen through a synthetic detector."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import smplify
from scipy.spatial.transform import Rotation
from smplify import synthetic_video as sv
from smplify.left_right import mirror_index
from smplify.sequence_options import MAX_SEQUENCE_RETRIES, sequence_keywords
from smplify.synthetic import pa_mpjpe

SEQUENCES = Path(__file__).parent / "data" / "heldout_sequences.npz"


@pytest.fixture(scope="module")
def model():
    return smplify.load_model("open")


@pytest.fixture(scope="module")
def sequences():
    return sv.load_sequences(SEQUENCES)


def facing_error_deg(global_orient: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(T,) angle between the fitted and true body's forward (+z) axes, degrees."""
    a = Rotation.from_rotvec(global_orient).as_matrix()[:, :, 2]
    b = Rotation.from_rotvec(truth).as_matrix()[:, :, 2]
    return np.degrees(np.arccos(np.clip(np.sum(a * b, axis=1), -1, 1)))


def test_result_fields_and_empty_frames_filled(model, sequences) -> None:
    video = sv.make_video(model, sequences[0], "coco17", np.random.default_rng(7),
                       errors=sv.DetectorErrors(drop_frame_rate=0.0), yaw=0.5,
                       frames=slice(100, 124))
    keypoints = video.keypoints.copy()
    keypoints[[5, 6, 7, 23], :, 2] = 0.0  # no person in three frames and the last
    res = smplify.fit_sequence(keypoints, "coco17", video.image_size, video.focal_length,
                               model=model)
    T, K = keypoints.shape[:2]
    assert res.betas.shape == (model.num_betas,)
    assert res.global_orient.shape == (T, 3) and res.body_pose.shape == (T, 69)
    assert res.transl.shape == (T, 3) and res.joints.shape == (T, 24, 3)
    assert res.keypoints_3d.shape == (T, K, 3) and res.keypoints_2d.shape == (T, K, 2)
    for key in ("data", "pose", "angle", "interpenetration", "temporal"):
        assert res.energy[key].shape == (T,) and np.all(np.isfinite(res.energy[key]))
    assert res.energy["data"][[5, 6, 7, 23]].tolist() == [0.0] * 4
    assert res.observed.sum() == T - 4
    # The empty frames are filled in between their neighbours, close to the truth.
    for t in (5, 6, 7, 23):
        assert pa_mpjpe(res.joints[t], video.joints[t]) < 0.15
        assert np.linalg.norm(res.joints[t, 0] - video.joints[t, 0]) < 0.5


def test_the_temporal_weights_scale_with_the_floor(model, sequences) -> None:
    """The temporal weights are (λ_R, λ_θ, λ_γ) · √((f / Z)² + s₀²): f / Z read back from
    the fit without a floor (s₀ = 0), the fit with s₀ = 100 px/m uses the larger factor,
    and the two fits' starts (the same Z) agree."""
    video = sv.make_video(model, sequences[0], "coco17", np.random.default_rng(7), yaw=0.5,
                          distance=20.0, frames=slice(100, 112))
    weights = np.array([0.5, 0.25, 0.5])
    scales = []
    for floor in (0.0, 100.0):
        res = smplify.fit_sequence(video.keypoints, "coco17", video.image_size,
                                   video.focal_length, model=model, sequence_iterations=1,
                                   temporal_scale_floor=floor)
        scales.append(np.asarray(res.summary["temporal_weights"]) / weights)
    pixels_per_metre = scales[0][0]
    assert np.allclose(scales[0], pixels_per_metre)
    assert pixels_per_metre == pytest.approx(video.focal_length / 20.0, rel=0.1)
    assert np.allclose(scales[1], np.hypot(pixels_per_metre, 100.0))


def test_bad_input_raises_clear_errors(model) -> None:
    fmt = dict(format="coco17", image_size=(640, 480), model=model)
    with pytest.raises(smplify.KeypointError, match=r"\(T, 17, 3\)"):
        smplify.fit_sequence(np.zeros((4, 16, 3)), **fmt)
    with pytest.raises(smplify.KeypointError, match=r"\(T, 17, 3\)"):
        smplify.fit_sequence(np.zeros((17, 3)), **fmt)
    with pytest.raises(smplify.KeypointError, match="T = 0"):
        smplify.fit_sequence(np.zeros((0, 17, 3)), **fmt)
    with pytest.raises(smplify.KeypointError, match="every frame"):
        smplify.fit_sequence(np.zeros((5, 17, 3)), **fmt)
    bad = np.ones((3, 17, 3))
    bad[1, 4, 0] = np.nan
    with pytest.raises(smplify.KeypointError, match="frame 1"):
        smplify.fit_sequence(bad, **fmt)
    with pytest.raises(ValueError, match="temporal_pose_weight"):
        smplify.fit_sequence(np.ones((3, 17, 3)), temporal_pose_weight=-1.0, **fmt)
    with pytest.raises(ValueError, match="reading_weight must be a finite number"):
        smplify.fit_sequence(np.ones((3, 17, 3)), reading_weight=-1.0, **fmt)
    with pytest.raises(ValueError, match="sequence_retries"):
        smplify.fit_sequence(np.ones((3, 17, 3)), sequence_retries=-1, **fmt)
    for name in ("sequence_iterations", "keyframe_step", "window", "swap_rounds"):
        # past the C++ core's int: a ValueError naming the option, not the binding's TypeError
        with pytest.raises(ValueError, match=rf"{name} must be an integer in \[\d, 2147483647\]"):
            smplify.fit_sequence(np.ones((3, 17, 3)), **{name: 2**40}, **fmt)
    # Bounded before the start runs: 2**40 reached _core.fit_sequence as a pybind TypeError.
    for retries in (2**40, MAX_SEQUENCE_RETRIES + 1):
        with pytest.raises(ValueError, match=r"sequence_retries must be an integer in \[0, 100"):
            smplify.fit_sequence(np.ones((3, 17, 3)), sequence_retries=retries, **fmt)
    with pytest.raises(ValueError, match="sequence_retries is the block-banded solver's"):
        smplify.fit_sequence(np.ones((3, 17, 3)), sequence_retries=3, linear_solver="iterative",
                             **fmt)
    for floor in (float("inf"), 1e300, True, "1", None):
        with pytest.raises(ValueError, match="temporal_scale_floor"):
            smplify.fit_sequence(np.ones((3, 17, 3)), temporal_scale_floor=floor, **fmt)
    with pytest.raises(ValueError, match="linear_solver must be 'auto' or 'iterative'"):
        smplify.fit_sequence(np.ones((3, 17, 3)), linear_solver="dense", **fmt)
    # frame_reading_weight is FitOptions' reading_weight (λ_R), checked as the Fitter does.
    with pytest.raises(ValueError, match=r"reading_weight must be a number in \[0"):
        smplify.fit_sequence(np.ones((3, 17, 3)), frame_reading_weight=-1.0, **fmt)
    for damping in (0.0, -1.0, float("nan"), float("inf"), True, 1e-20, 1e32, 1e40):
        with pytest.raises(ValueError, match="initial_damping"):
            smplify.fit_sequence(np.ones((3, 17, 3)), initial_damping=damping, **fmt)
    with pytest.raises(ValueError, match="initial_tracks"):
        smplify.fit_sequence(np.ones((3, 17, 3)), initial_tracks=("sideways",), **fmt)
    with pytest.raises(ValueError, match="forward track"):
        smplify.fit_sequence(np.ones((3, 17, 3)), initial_tracks=("reverse", "backward"), **fmt)
    with pytest.raises(ValueError, match="scratch_budget"):
        smplify.fit_sequence(np.ones((3, 17, 3)), scratch_budget=1.5, **fmt)
    with pytest.raises(ValueError, match="scratch_starts"):
        smplify.fit_sequence(np.ones((3, 17, 3)), scratch_starts="everywhere", **fmt)
    for prune in (-1, 2.0, True, "auto", 2**40):
        with pytest.raises(ValueError, match=r"start_prune_starts must be an integer in \[0"):
            smplify.fit_sequence(np.ones((3, 17, 3)), start_prune_starts=prune, **fmt)
    with pytest.raises(TypeError):
        smplify.fit_sequence(np.ones((3, 17, 3)), no_such_option=1, **fmt)


def test_beats_independent_per_frame_fits(model, sequences) -> None:
    """Held-out dance with the default detector errors: smaller 3D error and much smaller
    acceleration error than fitting every frame on its own."""
    video = sv.make_video(model, sequences[2], "coco17", np.random.default_rng(11), yaw=-0.4,
                       frames=slice(60, 100))
    seq = smplify.fit_sequence(video.keypoints, "coco17", video.image_size,
                               video.focal_length, model=model)
    fits = {}
    for t in np.flatnonzero(~video.dropped):
        try:
            fits[t] = smplify.fit(video.keypoints[t], "coco17", video.image_size,
                                  video.focal_length, model=model, threads=1).joints
        except smplify.KeypointError:
            pass  # too few torso keypoints to fit this frame alone: compared without it
    frames = np.array(sorted(fits))
    single = np.array([fits[t] for t in frames])
    runs = np.split(np.arange(len(frames)), np.flatnonzero(np.diff(frames) > 1) + 1)
    pa_single = np.mean([pa_mpjpe(single[i], video.joints[t]) for i, t in enumerate(frames)])
    pa_seq = np.mean([pa_mpjpe(seq.joints[t], video.joints[t]) for t in frames])
    acc_single = np.mean([sv.acceleration_error(single[r], video.joints[frames[r]])
                          for r in runs if len(r) > 2])
    acc_seq = sv.acceleration_error(seq.joints, video.joints)
    assert pa_seq < pa_single
    assert acc_seq < 0.5 * acc_single


def test_a_burst_of_swapped_frames_does_not_turn_the_body(model, sequences) -> None:
    errors = sv.DetectorErrors(swap_burst_rate=0.0, limb_swap_rate=0.0, drop_frame_rate=0.0,
                            occlusion_rate=0.0, drop_keypoint_rate=0.0)
    video = sv.make_video(model, sequences[3], "coco17", np.random.default_rng(5), yaw=0.2,
                       errors=errors, frames=slice(0, 40))
    keypoints = video.keypoints.copy()
    burst = np.arange(12, 18)
    keypoints[burst] = keypoints[burst][:, mirror_index("coco17")]
    seq = smplify.fit_sequence(keypoints, "coco17", video.image_size, video.focal_length,
                               model=model)
    facing = facing_error_deg(seq.global_orient, video.global_orient)
    assert facing.max() < 60, facing.round()
    assert set(burst) <= set(seq.summary["relabelled_frames"])
    assert np.mean([pa_mpjpe(seq.joints[t], video.joints[t]) for t in burst]) < 0.12


def test_a_backward_track_and_the_reading_judge(model, sequences) -> None:
    """The start's other candidates and judge (not the defaults: docs/video.md says why): a
    backward track from the online track's last fit, the path weighing the initialiser's
    reading score; both tracks ran (the backward one through every keyframe up to the
    online track's last), every keyframe is on the path once, and the fit follows the body."""
    # The uniform confidences (session 11): with the error-linked default the fit is 87 mm
    # PA-MPJPE over the 30 frames (the bound is 80).
    video = sv.make_video(model, sequences[0], "coco17", np.random.default_rng(9),
                          sv.DetectorErrors(confidence_model="uniform"), frames=slice(0, 30))
    seq = smplify.fit_sequence(video.keypoints, "coco17", video.image_size, video.focal_length,
                               model=model, initial_tracks=("online", "backward"),
                               reading_weight=2000.0)
    summary = seq.summary
    assert summary["initial_tracks"] == summary["tracks_run"] == ["online", "backward"]
    assert summary["track_keyframes"] == {"online": 10, "backward": 10}
    assert sum(summary["path_frames"].values()) == summary["keyframes"] == 10
    assert np.mean([pa_mpjpe(seq.joints[t], video.joints[t]) for t in range(30)]) < 0.08


def test_fits_from_scratch_at_hard_keyframes_join_the_path(model, sequences) -> None:
    """scratch_budget 0.2 on 30 frames (10 keyframes): at most 2 hard keyframes, each fitted
    from scratch and followed over 2 more; the "scratch" track is a candidate the path may
    take, every keyframe is on the path once, and the fit follows the body."""
    video = sv.make_video(model, sequences[3], "coco17", np.random.default_rng(51),
                          frames=slice(0, 30))
    seq = smplify.fit_sequence(video.keypoints, "coco17", video.image_size, video.focal_length,
                               model=model, scratch_budget=0.2)
    summary = seq.summary
    assert summary["tracks_run"] == ["plain", "online", "scratch"]
    hard = summary["scratch_keyframes"]
    assert 1 <= len(hard) <= 2
    assert len(hard) <= summary["track_keyframes"]["scratch"] <= 3 * len(hard)
    assert sum(summary["path_frames"].values()) == summary["keyframes"] == 10
    assert np.mean([pa_mpjpe(seq.joints[t], video.joints[t]) for t in range(30)]) < 0.12


def test_one_and_two_frames(model, sequences) -> None:
    """Too short for a temporal term: the frames refine the warm-started Fitter's track (the
    first frame the plain fit) with a shared shape, and end no worse than it."""
    video = sv.make_video(model, sequences[1], "coco17", np.random.default_rng(3),
                          errors=sv.NO_ERRORS, yaw=0.0, frames=slice(0, 2))
    for frames in (slice(0, 1), slice(0, 2)):
        res = smplify.fit_sequence(video.keypoints[frames], "coco17", video.image_size,
                                   video.focal_length, model=model)
        assert res.num_frames == len(video.keypoints[frames])
        assert np.all(res.energy["temporal"] == 0.0)
        fitter = smplify.Fitter(model, format="coco17", image_size=video.image_size,
                                focal_length=video.focal_length)
        for t in range(res.num_frames):
            tracked = fitter.fit(video.keypoints[t])
            assert pa_mpjpe(res.joints[t], video.joints[t]) < \
                pa_mpjpe(tracked.joints, video.joints[t]) + 0.01


def test_conjugate_gradients_reach_the_same_fit(model, sequences) -> None:
    """The solver a Ceres without a sparse back end runs (the wheel's) fits as well."""
    video = sv.make_video(model, sequences[2], "coco17", np.random.default_rng(21), yaw=0.3,
                          frames=slice(0, 30))
    fits = {how: smplify.fit_sequence(video.keypoints, "coco17", video.image_size,
                                      video.focal_length, model=model, linear_solver=how)
            for how in ("auto", "iterative")}
    assert "CGNR" in fits["iterative"].summary["solver"]
    pa = {how: np.mean([pa_mpjpe(f.joints[t], video.joints[t]) for t in range(30)])
          for how, f in fits.items()}
    acc = {how: sv.acceleration_error(f.joints, video.joints) for how, f in fits.items()}
    assert pa["iterative"] < pa["auto"] + 0.01
    assert acc["iterative"] < 1.5 * acc["auto"]


#: Three 30-frame stretches per held-out clip (bench_video scores 120..240 with other detector
#: seeds); stretch s of clip c uses detector seed 40 + 4 s + c. One stretch per clip (frames
#: 30..60 only) flipped with every change to the model or weights: one stretch's depth basin
#: moves it by up to 70 mm.
SEQUENCE_STRETCHES = ((30, 60), (105, 135), (195, 225))


def per_frame_fits(model, video: sv.SyntheticVideo) -> list[smplify.FitResult | None]:
    """Every frame of ``video`` fitted on its own (``smplify.fit``, one thread; None where it
    cannot be fitted: dropped, no torso). The frames run side by side on the machine's
    cores, as ``fit_batch`` runs them: the same fits as one after the other
    (test_fit.py::test_fit_batch_matches_sequential_fits), in about half the time on two."""
    def one(keypoints: np.ndarray) -> smplify.FitResult | None:
        try:
            return smplify.fit(keypoints, video.format, video.image_size, video.focal_length,
                               model=model, threads=1)
        except smplify.KeypointError:
            return None

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(one, video.keypoints))


@pytest.fixture(scope="module")
def stretch_scores(model, sequences) -> list[dict[str, float]]:
    """Per stretch: PA-MPJPE and acceleration error (m) of fit_sequence and of independent
    per-frame fits, default detector errors. Frames a per-frame fit cannot fit (dropped, no
    torso) show its last output, as bench_video scores them."""
    rows = []
    for s, (first, stop) in enumerate(SEQUENCE_STRETCHES):
        for c, seq in enumerate(sequences):
            video = sv.make_video(model, seq, "coco17", np.random.default_rng(40 + 4 * s + c),
                                  frames=slice(first, stop))
            fitted = smplify.fit_sequence(video.keypoints, "coco17", video.image_size,
                                          video.focal_length, model=model).joints
            single, last = [], None
            for fit in per_frame_fits(model, video):
                last = last if fit is None else fit.joints
                single.append(last)
            start = next(j for j in single if j is not None)
            single = np.array([start if j is None else j for j in single])
            row = {"clip": c, "first": first}
            for name, joints in (("sequence", fitted), ("per-frame", single)):
                row[name] = float(np.mean([pa_mpjpe(joints[t], video.joints[t])
                                           for t in range(video.num_frames)]))
                row[f"{name} accel"] = sv.acceleration_error(joints, video.joints)
            rows.append(row)
    return rows


def test_far_smoother_than_per_frame_fits_on_held_out_stretches(stretch_scores) -> None:
    """fit_sequence's acceleration error below per-frame fits' on every stretch (at most 0.34
    of theirs on the twelve, measured on both models; 0.30 with the acceleration judge)."""
    for row in stretch_scores:
        assert row["sequence accel"] < 0.5 * row["per-frame accel"], row


def test_beats_per_frame_fits_on_held_out_stretches(stretch_scores) -> None:
    """Issue 11's requirement: fit_sequence's PA-MPJPE below independent per-frame fits' on
    the mean over the held-out stretches: 70.4 mm against 74.7 (session 10, the start's path
    judged by acceleration, w_acc 0.03, instead of by change, w_tr 3: 77.7 before it, the
    martial clip's frames 195..225 153 -> 68 against 89 per-frame; the judge by change kept
    the plain track there, which moves least, though the online track's states were 50-110
    mm nearer the truth and fitted the 2D better; docs/video.md). Per stretch, sequence /
    per-frame: 50/50 84/69 104/95 56/81 78/57 60/66 78/75 92/92 46/62 75/99 55/61 68/89.
    Before the rebuild of the open model: 69.7 against 78.6; paired over the twelve, the
    rebuild moved fit_sequence by +7.9 +- 6.2 mm and per-frame fits by -3.9 +- 1.8."""
    pa = {m: np.mean([row[m] for row in stretch_scores]) for m in ("sequence", "per-frame")}
    assert pa["sequence"] < pa["per-frame"], pa


def test_frame_options_reach_the_per_frame_fits(model, sequences, monkeypatch) -> None:
    """fit_sequence's ``frame_reading_weight`` (FitOptions' reading_weight, whose name the
    path's w_R takes) and the size scaling reach every Fitter it builds; ``reading_weight``
    stays the path's."""
    import smplify.sequence as sequence
    import smplify.sequence_start as sequence_start

    seen = []

    class Recording(smplify.Fitter):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            seen.append(self.options)

    monkeypatch.setattr(sequence, "Fitter", Recording)
    monkeypatch.setattr(sequence_start, "Fitter", Recording)
    video = sv.make_video(model, sequences[0], "coco17", np.random.default_rng(1),
                          frames=slice(100, 106))
    smplify.fit_sequence(video.keypoints, "coco17", video.image_size, video.focal_length,
                         model=model, frame_reading_weight=123.0, reading_weight_size=350.0,
                         reading_weight=7.0)
    assert seen and all(o.reading_weight == 123.0 and o.reading_weight_size == 350.0
                        for o in seen)
    assert sequence_keywords({"reading_weight": 1.0, "data_sigma": 2.0}) == {
        "frame_reading_weight": 1.0, "data_sigma": 2.0}


def _fitter_options(monkeypatch, tracking_only: bool = True,
                    in_sequence: bool = True) -> list:
    """The options of every Fitter fit_sequence makes from now on (a list filled as they are
    made): only the tracking ones (``tracking_only``); the start's (sequence_start's) and,
    with ``in_sequence``, fit_sequence's own (the "online_frames" track)."""
    import smplify.sequence as sequence
    import smplify.sequence_start as sequence_start

    made = []

    class Recording(smplify.Fitter):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if self.options.track or not tracking_only:
                made.append(self.options)

    if in_sequence:
        monkeypatch.setattr(sequence, "Fitter", Recording)
    monkeypatch.setattr(sequence_start, "Fitter", Recording)
    return made


def test_the_start_tracks_run_without_the_spin_check(model, sequences, monkeypatch) -> None:
    """``track_max_spin`` (the online Fitter's summed facing check, on by default) is not run
    by fit_sequence's start tracks, which see keyframes only: with it, bench_video's held-out
    salsa @401 lost 1.8 mm (docs/video.md, "A slow spin"); whatever the caller asks."""
    tracked = _fitter_options(monkeypatch)
    video = sv.make_video(model, sequences[0], "coco17", np.random.default_rng(1),
                          frames=slice(100, 106))
    assert smplify.FitOptions().track_max_spin > 0
    smplify.fit_sequence(video.keypoints, "coco17", video.image_size, video.focal_length,
                         model=model, track_max_spin=45.0)
    assert tracked and all(o.track_max_spin == 0.0 for o in tracked)
    tracked.clear()  # start_max_spin: the start's own check, in keyframes
    smplify.fit_sequence(video.keypoints, "coco17", video.image_size, video.focal_length,
                         model=model, track_max_spin=45.0, start_max_spin=30.0)
    assert tracked and all(o.track_max_spin == 30.0 for o in tracked)


@pytest.mark.parametrize("option", ["track_restart_readings", "track_cut_resets_confidences"])
def test_the_start_tracks_run_without_the_restart_options(model, sequences, monkeypatch,
                                                          option) -> None:
    """Nor are ``track_restart_readings``' restarts or ``track_cut_resets_confidences``'
    memory reset run by the start's tracks, plain or online (held out +3.0 +- 1.9 and +1.6 +-
    1.2 mm, docs/video.md "Restarts with the readings", "The confidence memory across a
    cut")."""
    made = _fitter_options(monkeypatch, tracking_only=False, in_sequence=False)
    video = sv.make_video(model, sequences[0], "coco17", np.random.default_rng(1),
                          frames=slice(100, 106))
    smplify.fit_sequence(video.keypoints, "coco17", video.image_size, video.focal_length,
                         model=model, **{option: True})
    assert any(o.track for o in made) and any(not o.track for o in made)
    assert all(getattr(o, option) is False for o in made)


def test_start_weight_power_scales_the_online_tracks_temporal_weights(model, sequences,
                                                                      monkeypatch) -> None:
    """``start_weight_power`` p: the start's online track's temporal weights are the
    caller's divided by ``keyframe_step`` ** p (its rows span that many frames); 0, the
    default, keeps the caller's."""
    tracked = _fitter_options(monkeypatch)
    video = sv.make_video(model, sequences[0], "coco17", np.random.default_rng(1),
                          frames=slice(100, 109))
    caller = {"track_orient_weight": 0.8, "track_pose_weight": 0.4, "track_transl_weight": 0.2}
    for power, step in ((0.0, 3), (2.0, 3), (1.0, 2)):
        tracked.clear()
        smplify.fit_sequence(video.keypoints, "coco17", video.image_size, video.focal_length,
                             model=model, keyframe_step=step, start_weight_power=power,
                             **caller)
        assert tracked
        for o in tracked:
            for name, value in caller.items():
                assert getattr(o, name) == pytest.approx(value / step ** power, rel=1e-12)
    with pytest.raises(ValueError, match="start_weight_power"):
        smplify.fit_sequence(video.keypoints, "coco17", video.image_size, video.focal_length,
                             model=model, start_weight_power=-1.0)


def test_start_prune_starts_prunes_the_tracks_fits_from_scratch_not_the_first(
        model, sequences, monkeypatch) -> None:
    """``start_prune_starts``: the start's tracks' own fits from scratch (here the lost-track
    fits after a cut to another person) keep that many of the prior's starts per orientation
    after ``prune_stage``; the shared first fit, which every forward track starts from, keeps
    the caller's options (none pruned); 0, the default, prunes none anywhere."""
    import smplify.sequence as sequence
    import smplify.sequence_start as sequence_start

    made: list[tuple[Any, list]] = []

    class Recording(smplify.Fitter):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.results: list = []
            made.append((self.options, self.results))

        def fit(self, *args, **kwargs):
            result = super().fit(*args, **kwargs)
            self.results.append(result)
            return result

    monkeypatch.setattr(sequence, "Fitter", Recording)
    monkeypatch.setattr(sequence_start, "Fitter", Recording)
    # Another person from frame 9 on (another clip, elsewhere in the picture): a cut.
    one = sv.make_video(model, sequences[0], "coco17", np.random.default_rng(4),
                        errors=sv.NO_ERRORS, frames=slice(100, 109))
    two = sv.make_video(model, sequences[3], "coco17", np.random.default_rng(5),
                        errors=sv.NO_ERRORS, frames=slice(0, 9))
    assert one.focal_length == two.focal_length
    # One picture holding both crops side by side, the other person to the right.
    size = (one.image_size[0] + two.image_size[0], max(one.image_size[1], two.image_size[1]))
    other = two.keypoints.copy()
    other[..., 0] += one.image_size[0]
    keypoints = np.concatenate([one.keypoints, other])
    colds = {}
    for prune in (0, 2):
        made.clear()
        smplify.fit_sequence(keypoints, "coco17", size, one.focal_length, model=model,
                             start_prune_starts=prune)
        # Fitters made: the joint solve's (no fits), the first fit's, then the tracks'.
        first = [r for o, rs in made for r in rs if o.prune_starts == "auto"
                 and r.summary["start"] == "cold"]
        assert first and all(r.summary["pruned_starts"] == 0 for r in first)
        tracks = made[2:]
        assert tracks and all(o.prune_starts == (prune or "auto") for o, _ in tracks)
        colds[prune] = [r for _, rs in tracks for r in rs if r.summary["start"].endswith("cold")]
    assert colds[0] and colds[2], "the cut should restart a track from scratch"
    assert all(r.summary["pruned_starts"] == 0 for r in colds[0])
    assert all(r.summary["pruned_starts"] > 0 for r in colds[2])


def test_the_online_frames_track_is_the_online_fitters_own_fits(model, sequences,
                                                                monkeypatch) -> None:
    """``initial_tracks`` with "online_frames": the online Fitter itself (the caller's
    options, every frame) is a candidate of the path; its states at the keyframes are that
    Fitter's own fits (its output filter off), it has none between keyframes, and the path
    takes its keyframes among the others'."""
    import smplify.sequence as sequence
    import smplify.sequence_start as sequence_start

    seen = []

    def record(tracks, keys, *args, **kwargs):
        seen.append((tracks, keys))
        return sequence_start.viterbi_path(tracks, keys, *args, **kwargs)

    monkeypatch.setattr(sequence, "viterbi_path", record)
    video = sv.make_video(model, sequences[1], "coco17", np.random.default_rng(5),
                          frames=slice(0, 20))
    options = {"track_max_spin": 45.0, "track_refit_every": 4}
    seq = smplify.fit_sequence(video.keypoints, "coco17", video.image_size, video.focal_length,
                               model=model, threads=1,
                               initial_tracks=("plain", "online", "online_frames"), **options)
    summary = seq.summary
    assert summary["tracks_run"] == ["plain", "online", "online_frames"]
    assert sum(summary["path_frames"].values()) == summary["keyframes"]
    (tracks, keys), = seen
    frames = tracks[2]
    fitter = smplify.Fitter(model, format="coco17", image_size=video.image_size,
                            focal_length=video.focal_length, threads=1,
                            track_smoothing=0.0, **options)
    own = []
    for kp in video.keypoints:
        try:
            own.append(fitter.fit(kp))
        except smplify.KeypointError:
            own.append(None)
    keyframes = [t for t in range(video.num_frames) if frames.fitted[t]]
    assert summary["track_keyframes"]["online_frames"] == len(keyframes) > 0
    assert set(keyframes) <= set(keys.tolist())
    assert not frames.fitted[np.setdiff1d(np.arange(video.num_frames), keys)].any()
    for t in keyframes:
        assert own[t] is not None
        np.testing.assert_array_equal(frames.pose[t], own[t].pose)
        np.testing.assert_array_equal(frames.transl[t], own[t].transl)
    # The keyframe-rate online track (the start's refit and anchor counts, no spin check)
    # is another track: its fits differ.
    assert not np.allclose(tracks[1].pose[keyframes], frames.pose[keyframes])
