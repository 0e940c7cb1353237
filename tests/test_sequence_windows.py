"""fit_sequence in overlapping windows (``window``): bounded memory, the same fit closely."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import smplify
from smplify import synthetic_video as sv
from smplify.sequence_windows import windows
from smplify.synthetic import pa_mpjpe

SEQUENCES = Path(__file__).parent / "data" / "heldout_sequences.npz"


def test_windows_cover_the_frames_and_overlap() -> None:
    observed = np.ones(100, dtype=bool)
    assert windows(100, 0, observed) == [(0, 100)]
    assert windows(100, 120, observed) == [(0, 100)]
    spans = windows(100, 40, observed)
    assert spans[0] == (0, 40) and spans[-1][1] == 100
    for (_, b0), (a1, b1) in zip(spans[:-1], spans[1:], strict=True):
        assert a1 == b0 - 10 and b1 > b0  # overlap W // 4, each window moves on
    # A window with nothing to fit past its two held frames is widened.
    observed[40:75] = False
    spans = windows(100, 40, observed)
    assert all(observed[a + (2 if i else 0):b].any() for i, (a, b) in enumerate(spans))
    observed[60:] = False
    spans = windows(100, 40, observed)
    assert spans[-1][1] == 100 and all(observed[a + (2 if i else 0):b].any()
                                       for i, (a, b) in enumerate(spans))


def test_windowed_solve_matches_the_single_solve() -> None:
    """Exact keypoints (with detector errors the solve's 2 LM steps are far from converged,
    and which frames share a step moves single frames by centimetres either way: 81 vs
    72 mm PA-MPJPE on this clip with the default errors, windows the better)."""
    model = smplify.load_model("open")
    video = sv.make_video(model, sv.load_sequences(SEQUENCES)[2], "coco17",
                          np.random.default_rng(9), errors=sv.NO_ERRORS, frames=slice(0, 72))
    args = (video.keypoints, "coco17", video.image_size, video.focal_length)
    whole = smplify.fit_sequence(*args, model=model, threads=1)
    parts = smplify.fit_sequence(*args, model=model, threads=1, window=32)
    assert parts.summary["windows"] == [[0, 32], [24, 56], [48, 72]]
    assert whole.summary["windows"] == [[0, 72]]
    for key in ("data", "pose", "angle", "interpenetration", "temporal"):
        assert parts.energy[key].shape == (72,) and np.all(np.isfinite(parts.energy[key]))
    rel = [r.joints - r.joints[:, :1] for r in (whole, parts)]
    gap = np.linalg.norm(rel[0] - rel[1], axis=-1).mean(axis=1)  # (T,) metres
    # The first window's own frames: the same start, nearly the same solve (the single
    # solve's feel the later frames through the temporal rows, and 2 LM steps are far from
    # converged): within 2 mm with the start's path judged by change, 12 mm by acceleration
    # (session 10), whose path switches tracks 4 times on this clip (5 before).
    assert np.all(gap[:24] < 0.015), gap[:24].round(3)
    assert np.mean(gap) < 0.02 and np.max(gap) < 0.08, gap.round(3)
    # Placement: β (fitted on the first window's frames) scales the body and so its depth.
    pelvis = np.linalg.norm(whole.joints[:, 0] - parts.joints[:, 0], axis=-1)
    assert np.all(pelvis < 0.05 * whole.joints[:, 0, 2]), (pelvis / whole.joints[:, 0, 2]).max()
    pa = [np.mean([pa_mpjpe(r.joints[t], video.joints[t]) for t in range(72)])
          for r in (whole, parts)]
    assert abs(pa[0] - pa[1]) < 0.005, pa
    # Smooth across the windows' seams; each window's 2 LM steps may leave more of the
    # start's kinks at keyframes than the single solve's did (docs/video.md, known limits).
    assert sv.acceleration_error(parts.joints, video.joints) < \
        2.0 * sv.acceleration_error(whole.joints, video.joints)


def test_bad_window_raises() -> None:
    with pytest.raises(ValueError, match="window"):
        smplify.fit_sequence(np.ones((3, 17, 3)), "coco17", (640, 480), window=4)


PEAK = textwrap.dedent("""
    import resource, sys
    import numpy as np, smplify
    from smplify import synthetic_video as sv
    model = smplify.load_model("open")
    video = sv.make_video(model, sv.load_sequences(sys.argv[1])[0], "coco17",
                          np.random.default_rng(3), frames=slice(0, 100))
    # 1000 frames: the clip forward and backward (continuous motion at each turn).
    order = np.concatenate([np.arange(100), np.arange(99, -1, -1)] * 5)
    keypoints = video.keypoints[order]
    smplify.fit_sequence(keypoints[:10], "coco17", video.image_size, video.focal_length,
                         model=model, threads=1, window=int(sys.argv[2]))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    res = smplify.fit_sequence(keypoints, "coco17", video.image_size, video.focal_length,
                               model=model, threads=1, window=int(sys.argv[2]))
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert res.num_frames == 1000 and np.all(np.isfinite(res.joints))
    print((after - before) / 1024)
""")


def test_a_long_video_in_windows_stays_under_a_memory_bound() -> None:
    """1000 frames in windows of 120: the peak resident memory grows by less than 100 MB
    (one solve over the 1000 frames keeps ~0.3 GB of normal equations and their factor)."""
    out = subprocess.run([sys.executable, "-c", PEAK, str(SEQUENCES), "120"], check=True,
                         capture_output=True, text=True, timeout=600)
    grown_mb = float(out.stdout.split()[-1])
    assert grown_mb < 100, grown_mb


@pytest.mark.parametrize("iterative", [False, True])
def test_the_core_solve_holds_fixed_frames_and_shape(iterative: bool) -> None:
    """The C++ solve's fixed_frames and hold_betas (both solvers) keep those parameters at
    their start while the other frames move."""
    from smplify import _core
    from smplify.core_fitter import _shared_core_fitter
    from smplify.problem import build_problem

    model = smplify.load_model("open")
    video = sv.make_video(model, sv.load_sequences(SEQUENCES)[1], "coco17",
                          np.random.default_rng(4), errors=sv.NO_ERRORS, frames=slice(0, 8))
    xy, conf = video.keypoints[..., :2], video.keypoints[..., 2]
    problem = build_problem(np.column_stack([xy[0], np.ones(17)]), "coco17", video.image_size,
                            video.focal_length, model, smplify.load_prior("open"),
                            smplify.FitOptions(), place_camera=False)
    core = _shared_core_fitter(problem)
    pose = np.tile(np.concatenate([video.global_orient[0], np.zeros(69)]), (8, 1))
    transl = np.tile(video.transl[0], (8, 1))
    betas = np.zeros(model.num_betas)
    report = _core.fit_sequence(
        core, np.ascontiguousarray(xy.reshape(-1, 2)), conf * np.asarray(problem.weights),
        float(video.focal_length), np.asarray(problem.camera.center, dtype=np.float64), pose,
        betas, transl, np.array([1.0, 1.0, 1.0]), 10, 1e-6, iterative, fixed_frames=[0, 1],
        hold_betas=True)
    assert np.array_equal(report["pose"][:2], pose[:2])
    assert np.array_equal(report["transl"][:2], transl[:2])
    assert np.array_equal(report["betas"], betas)
    assert np.abs(report["pose"][2:] - pose[2:]).max() > 1e-3
    assert report["final_cost"] < 0.5 * report["initial_cost"]
    with pytest.raises(ValueError, match="fixed_frames"):
        _core.fit_sequence(
            core, np.ascontiguousarray(xy.reshape(-1, 2)), conf * np.asarray(problem.weights),
            float(video.focal_length), np.asarray(problem.camera.center, dtype=np.float64),
            pose, betas, transl, np.array([1.0, 1.0, 1.0]), 3, 1e-6, iterative,
            fixed_frames=[8])
