"""The synthetic video detector's confidence models (smplify.synthetic_video): error-linked,
saturated near 1 with confidently wrong swaps (as real MediaPipe visibility,
benchmarks/real_confidence.py), or the earlier uniform one; either leaves every other draw
as it was."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr
from smplify import synthetic_video as sv
from test_sequence import SEQUENCES

UNIFORM = sv.DetectorErrors(confidence_model="uniform")
#: More swaps than the default, so that the swapped keypoints are many.
SWAPPY = {"swap_burst_rate": 0.1, "limb_swap_rate": 0.1}


@pytest.fixture(scope="module")
def clip():
    return sv.load_sequences(SEQUENCES)[1]


def _video(model, clip, errors: sv.DetectorErrors, seed: int = 3) -> sv.SyntheticVideo:
    return sv.make_video(model, clip, "coco17", np.random.default_rng(seed), errors=errors,
                         yaw=0.5, frames=slice(0, 80))


def _error(video: sv.SyntheticVideo) -> tuple[np.ndarray, np.ndarray]:
    """Confidence and error (pixels) of the reported keypoints."""
    seen = video.keypoints[..., 2] > 0
    err = np.linalg.norm(video.keypoints[..., :2] - video.clean, axis=-1)
    return video.keypoints[..., 2][seen], err[seen]


def test_the_models_differ_only_in_the_confidences(open_model, clip) -> None:
    linked, uniform = _video(open_model, clip, sv.DetectorErrors()), _video(open_model, clip,
                                                                            UNIFORM)
    np.testing.assert_array_equal(linked.keypoints[..., :2], uniform.keypoints[..., :2])
    np.testing.assert_array_equal(linked.keypoints[..., 2] > 0, uniform.keypoints[..., 2] > 0)
    np.testing.assert_array_equal(linked.swapped, uniform.swapped)
    np.testing.assert_array_equal(linked.dropped, uniform.dropped)
    assert not np.array_equal(linked.keypoints[..., 2], uniform.keypoints[..., 2])


def test_same_seed_same_confidences_and_the_callers_stream_left_alone(open_model, clip) -> None:
    np.testing.assert_array_equal(_video(open_model, clip, sv.DetectorErrors()).keypoints,
                                  _video(open_model, clip, sv.DetectorErrors()).keypoints)
    after = []
    for errors in (sv.DetectorErrors(), UNIFORM):
        rng = np.random.default_rng(3)
        sv.make_video(open_model, clip, "coco17", rng, errors=errors, yaw=0.5,
                      frames=slice(0, 80))
        after.append(rng.random(4))
    np.testing.assert_array_equal(*after)


def test_error_linked_confidence_falls_with_the_error_and_saturates(open_model, clip) -> None:
    conf, err = _error(_video(open_model, clip, sv.DetectorErrors()))
    assert spearmanr(conf, err).statistic < -0.25
    assert np.median(conf) > 0.95  # saturated near 1, as real visibility
    assert np.all((conf >= 1e-3) & (conf <= 1.0))
    conf, err = _error(_video(open_model, clip, UNIFORM))
    assert abs(spearmanr(conf, err).statistic) < 0.1
    assert np.all((conf >= 0.5) & (conf <= 1.0))


def test_confidently_wrong_swaps(open_model, clip) -> None:
    """A swapped keypoint's confidence is an unswapped one's when it is confidently wrong,
    and low otherwise."""
    medians = {}
    for share in (0.0, 1.0):
        video = _video(open_model, clip, sv.DetectorErrors(**SWAPPY, confident_wrong=share))
        conf, err = _error(video)
        size = np.linalg.norm(np.ptp(video.clean, axis=1), axis=-1).min()
        gross = err > 0.1 * size  # beyond what 1% noise reaches: a swap
        assert gross.sum() > 50
        medians[share] = (np.median(conf[gross]), np.median(conf[~gross]))
    assert medians[0.0][0] < 0.05 < 0.95 < medians[0.0][1]
    assert medians[1.0][0] > 0.9


def test_the_perfect_detector_is_fully_confident(open_model, clip) -> None:
    assert np.all(_video(open_model, clip, sv.NO_ERRORS).keypoints[..., 2] == 1.0)


def test_the_noise_floor_in_pixels(open_model, clip) -> None:
    """σ = √((noise_fraction · size)² + noise_pixels²): a floor alone gives that σ per axis
    on a far person, and a floor of 0 leaves every draw as it was."""
    quiet = {"noise_fraction": 0.0, "drop_frame_rate": 0.0, "drop_keypoint_rate": 0.0,
             "swap_burst_rate": 0.0, "limb_swap_rate": 0.0, "occlusion_rate": 0.0}
    far = sv.make_video(open_model, clip, "coco17", np.random.default_rng(3),
                        sv.DetectorErrors(noise_pixels=2.0, **quiet), yaw=0.5, distance=20.0,
                        frames=slice(0, 80))
    offset = far.keypoints[..., :2] - far.clean
    assert np.std(offset) == pytest.approx(2.0, rel=0.05)
    # A floor of 0 draws what the formula before the floor drew (session 12's
    # ``xy += rng.normal(size=xy.shape) * (noise_fraction * size)[:, None, None]``, replayed
    # with the same generator): the same noise, bit for bit, from the same number of draws,
    # so every later draw of the detector is unchanged too.
    near = _video(open_model, clip, sv.NO_ERRORS)
    detected, _, _ = sv._detect(near.clean, "coco17", np.random.default_rng(11),
                                sv.DetectorErrors(noise_fraction=0.01, noise_pixels=0.0,
                                                  **{k: v for k, v in quiet.items()
                                                     if k != "noise_fraction"}))
    replay = np.random.default_rng(11)
    size = np.linalg.norm(near.clean.max(axis=1) - near.clean.min(axis=1), axis=1)
    old = near.clean + replay.normal(size=near.clean.shape) * (0.01 * size)[:, None, None]
    assert np.array_equal(detected[..., :2], old)
    # Against a floor that is not 0 the replay does fail: the check can tell them apart.
    floored, _, _ = sv._detect(near.clean, "coco17", np.random.default_rng(11),
                               sv.DetectorErrors(noise_fraction=0.01, noise_pixels=0.5,
                                                 **{k: v for k, v in quiet.items()
                                                    if k != "noise_fraction"}))
    assert not np.array_equal(floored[..., :2], old)


@pytest.mark.parametrize("bad", [{"confidence_model": "gaussian"}, {"confident_wrong": 1.5},
                                 {"noise_pixels": -1.0}, {"noise_pixels": float("nan")},
                                 {"noise_pixels": "2"}, {"noise_pixels": None},
                                 {"noise_pixels": True}, {"noise_pixels": float("inf")}])
def test_bad_confidence_options_are_refused(bad) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        sv.DetectorErrors(**bad)
