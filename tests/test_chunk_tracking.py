"""A dataset video unit's tracks (smplify.dataset.chunk_fit): a lost person's Fitter skips
the frame, the unit's frame rate times the tracker, ended tracks' Fitters are let go."""

from __future__ import annotations

import math

import numpy as np
import pytest
from crowd import person_keypoints, write_npz
from smplify import fitter, tracking
from smplify.dataset.chunk_fit import FitSpec, _fit_unit, loaded
from smplify.dataset.inputs import Unit


def test_a_video_unit_skips_lost_frames_at_its_own_frame_rate(tmp_path, monkeypatch):
    calls = {"skip": [], "fps": []}

    class Spy(fitter.Fitter):
        def skip(self) -> None:
            calls["skip"].append(self)
            super().skip()

    real_track_all = tracking.track_all

    def track_all(frames, **options):
        calls["fps"].append(options.get("fps"))
        return real_track_all(frames, **options)

    monkeypatch.setattr(fitter, "Fitter", Spy)
    monkeypatch.setattr(tracking, "track_all", track_all)
    model, prior = loaded(FitSpec())
    seen = (0, 1, 3)  # unseen on frame 2 (lost), and 4, 5 (the track has ended)
    seq = [{"walker": person_keypoints(model, "coco17", [-1.0 + 0.05 * t, 0.3, 5.0])}
           if t in seen else {} for t in range(6)]
    path = write_npz(tmp_path / "seq.npz", seq, "coco17")
    with np.load(path) as z:
        np.savez(path, **dict(z), fps=10.0)
    rows = _fit_unit(Unit("npz", str(path), "seq.npz", 0, 6, True), FitSpec(), model, prior)
    assert [(r["frame"], r["track"], r["message"]) for r in rows] == \
        [(t, 0, "") for t in seen]
    assert calls["fps"] == [10.0]
    assert len(calls["skip"]) == 1


def test_a_track_files_3d_keypoints_focal_and_rate_reach_the_units_fits(tmp_path):
    """A ``smplify fit`` track file (the detector's 3D keypoints, the camera's focal length,
    the video's rate) fitted by ``smplify dataset`` gives the rows ``smplify fit`` gives it:
    the unit's fits take the file's keypoints_3d, focal length and frame rate."""
    from crowd import IMAGE_SIZE, person_points
    from smplify.pipeline import run
    from smplify.sources import open_source

    model, prior = loaded(FitSpec())
    fmt, frames = "mediapipe33", 4
    kp = np.stack([person_keypoints(model, fmt, [0.05 * t, 0.3, 5.0]) for t in range(frames)])
    # 3D keypoints of a turned body (NaN on frame 2): they pull the fit away from the 2D's
    world = np.stack([person_points(model, fmt, yaw=0.6) + 0.01 * t for t in range(frames)])
    world[2] = np.nan
    path = tmp_path / "clip_track0.npz"
    np.savez(path, keypoints=kp, keypoints_3d=world, frame=np.arange(frames),
             format=np.str_(fmt), image_size=np.array(IMAGE_SIZE), fps=np.float64(12.0),
             focal_length=np.float64(700.0))
    run(open_source(path), tmp_path / "fit", model=model, render=False)
    fitted = np.load(tmp_path / "fit" / "clip_track0_track0.npz")
    rows = _fit_unit(Unit("npz", str(path), "clip", 0, frames, True), FitSpec(), model, prior)
    assert [r["status"] for r in rows] == ["converged"] * frames
    assert [r["focal_length"] for r in rows] == [700.0] * frames
    np.testing.assert_allclose([r["body_pose"] for r in rows], fitted["body_pose"], atol=1e-6)
    np.testing.assert_allclose([r["transl"] for r in rows], fitted["transl"], atol=1e-6)
    # the 3D keypoints count: without them the body is another
    path = tmp_path / "plain.npz"  # (a unit's file is read once: another name)
    np.savez(path, keypoints=kp, frame=np.arange(frames), format=np.str_(fmt),
             image_size=np.array(IMAGE_SIZE), fps=np.float64(12.0),
             focal_length=np.float64(700.0))
    plain = _fit_unit(Unit("npz", str(path), "plain", 0, frames, True), FitSpec(), model, prior)
    assert np.abs(np.subtract([r["body_pose"] for r in plain],
                              [r["body_pose"] for r in rows])).max() > 0.05


@pytest.mark.parametrize("rate", [0.5, 12.0, 5000.0])
def test_smplify_fit_and_dataset_believe_the_same_frame_rates(tmp_path, monkeypatch, rate):
    """A file's frame rate times the tracker and the online filter (track_fps) only where it
    is plausible (1-1000 fps), in ``smplify fit`` and ``smplify dataset`` alike (the dataset
    took any rate > 0: a file saying 0.5 fps kept a lost person 1 frame, not ``smplify
    fit``'s 60, and timed the online filter in other units)."""
    from smplify.errors import KeypointError
    from smplify.pipeline import run
    from smplify.sources import InputError, open_source, plausible_fps

    seen: dict[str, list[float | None]] = {"track_fps": [], "max_missed": []}

    class Recording:  # stands in for Fitter: records the options, fits nobody (fast)
        def __init__(self, *args, **options):
            seen["track_fps"].append(options.get("track_fps"))

        def fit(self, *args, **kwargs):
            raise KeypointError("not fitted in this test")

        def skip(self) -> None:
            pass

    class Tracker(tracking.Tracker):  # records the frames a lost person is kept for
        def __init__(self, *args, **options):
            super().__init__(*args, **options)
            seen["max_missed"].append(self.max_missed)

    monkeypatch.setattr(fitter, "Fitter", Recording)
    monkeypatch.setattr(tracking, "Tracker", Tracker)
    model, _ = loaded(FitSpec())
    seq = [{"walker": person_keypoints(model, "coco17", [-1.0 + 0.05 * t, 0.3, 5.0])}
           for t in range(3)]
    path = write_npz(tmp_path / "seq.npz", seq, "coco17")
    with np.load(path) as z:
        np.savez(path, **dict(z), fps=rate)
    with pytest.raises(InputError, match="no person found"):
        run(open_source(path), tmp_path / "fit", model=model, render=False)
    by_fit = {k: set(v) for k, v in seen.items()}
    for values in seen.values():
        values.clear()
    rows = _fit_unit(Unit("npz", str(path), "seq", 0, 3, True), FitSpec(), model, None)
    assert [r["status"] for r in rows] == ["bad_keypoints"] * 3
    by_dataset = {k: set(v) for k, v in seen.items()}
    believed = plausible_fps(rate)
    assert believed == (rate if 1.0 <= rate <= 1000.0 else None)
    assert by_dataset == by_fit
    assert by_fit == {"track_fps": {believed},  # 2 s at the rate, or at 30 fps
                      "max_missed": {math.ceil(2.0 * (believed or 30.0))}}
