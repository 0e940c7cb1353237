"""``track_function_tolerance``: the tracked warm fits' own Ceres function tolerance (the
other solves keep ``function_tolerance``)."""

from __future__ import annotations

import numpy as np
import pytest
import smplify
from smplify import synthetic_video as sv
from test_sequence import SEQUENCES

CLEAN = sv.DetectorErrors(swap_burst_rate=0.0, limb_swap_rate=0.0, drop_frame_rate=0.0,
                          occlusion_rate=0.0, drop_keypoint_rate=0.0)


def _track(model, video: sv.SyntheticVideo, **options) -> list[smplify.FitResult]:
    fitter = smplify.Fitter(model, format="coco17", image_size=video.image_size,
                            focal_length=video.focal_length, threads=1, **options)
    return [fitter.fit(kp) for kp in video.keypoints]


def test_a_looser_track_tolerance_stops_the_warm_fits_sooner_only(open_model) -> None:
    video = sv.make_video(open_model, sv.load_sequences(SEQUENCES)[0], "coco17",
                          np.random.default_rng(3), errors=CLEAN, frames=slice(0, 12))
    tight = _track(open_model, video)
    loose = _track(open_model, video, track_function_tolerance=1e-2)
    # The first frame is a fit from scratch: function_tolerance, the same fit.
    assert tight[0].summary["start"] == loose[0].summary["start"] == "cold"
    np.testing.assert_array_equal(tight[0].pose, loose[0].pose)

    def warm_iterations(results: list[smplify.FitResult]) -> int:
        return sum(r.summary["stages"][-1].iterations for r in results[1:]
                   if r.summary["start"] == "warm")

    assert warm_iterations(loose) < warm_iterations(tight)
    # Still the same track: a 1% stopping rule moves its joints by centimetres at most.
    moved = [np.abs(a.joints - b.joints).max() for a, b in zip(tight, loose, strict=True)]
    assert max(moved) < 0.03


@pytest.mark.parametrize("value", [0.0, -1e-4, float("nan"), float("inf")])
def test_track_tolerance_must_be_positive_and_finite(value: float) -> None:
    with pytest.raises(ValueError, match="track_function_tolerance"):
        smplify.FitOptions(track_function_tolerance=value)
