"""A dataset video unit's tracks (smplify.dataset.chunk_fit): a lost person's Fitter skips
the frame, the unit's frame rate times the tracker, ended tracks' Fitters are let go."""

from __future__ import annotations

import numpy as np
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
