"""The camera default (the image diagonal) and ``preset="paper"`` (SMPLify as published)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import smplify
from smplify.options import PAPER_FOCAL_LENGTH, PRESETS
from smplify.synthetic import make_case


@pytest.fixture(scope="module")
def case(open_model, open_prior):
    return make_case(open_model, open_prior, "coco17", np.random.default_rng(11))


def test_without_a_focal_length_the_fit_uses_the_image_diagonal(open_model, case):
    res = smplify.fit(case.keypoints, "coco17", case.image_size, model=open_model,
                      multi_start=False, threads=1)
    assert res.camera.focal_length == pytest.approx(np.hypot(*case.image_size))
    fixed = smplify.fit(case.keypoints, "coco17", case.image_size, model=open_model,
                        multi_start=False, threads=1, default_focal_length=1234.0)
    assert fixed.camera.focal_length == 1234.0


def test_paper_preset_is_smplify_as_published(open_model, case):
    res = smplify.fit(case.keypoints, "coco17", case.image_size, model=open_model,
                      preset="paper", threads=1)
    assert res.camera.focal_length == PAPER_FOCAL_LENGTH == 5000.0
    assert res.summary["num_starts"] == 1
    options = smplify.FitOptions.from_kwargs(preset="paper")
    assert not options.multi_start and not options.refine_translation
    assert options.pose_prior_weights == (404.0, 404.0, 57.4, 4.78)  # the authors' release
    assert options.shape_prior_weights == (100.0, 50.0, 10.0, 5.0)
    # other keywords still override the preset
    assert smplify.FitOptions.from_kwargs(preset="paper", multi_start=True).multi_start
    assert set(PRESETS["paper"]) <= {f for f in smplify.FitOptions.__dataclass_fields__}


def test_bad_presets_and_focal_defaults_are_refused(open_model, case):
    with pytest.raises(ValueError,
                       match="preset must be one of \\['paper', 'smooth_video'\\] or None"):
        smplify.fit(case.keypoints, "coco17", case.image_size, model=open_model,
                    preset="spin")
    with pytest.raises(ValueError, match="default_focal_length"):
        smplify.FitOptions(default_focal_length=-1.0)
    with pytest.raises(TypeError, match="default_focal_length"):
        smplify.FitOptions(default_focal_length="wide")


def test_paper_preset_online_never_reads_the_learned_initializer(open_model, monkeypatch):
    """SMPLify's starts (``starts="prior"``) hold for a Fitter's refits too: a periodic refit
    (every ``track_refit_every`` frames) fits from scratch from the prior's starts, as for a
    format without an initialiser, instead of from the initialiser's readings."""
    from smplify import initializer
    from smplify import synthetic_video as sv

    clips = sv.load_sequences(Path(__file__).parent / "data" / "heldout_sequences.npz")
    clean = sv.DetectorErrors(swap_burst_rate=0.0, limb_swap_rate=0.0, drop_frame_rate=0.0,
                              occlusion_rate=0.0, drop_keypoint_rate=0.0)
    video = sv.make_video(open_model, clips[0], "coco17", np.random.default_rng(5),
                          errors=clean, frames=slice(0, 12))

    def refused(*args, **kwargs):
        raise AssertionError("the learned initialiser was read under starts='prior'")

    monkeypatch.setattr(initializer, "predict", refused)
    refits = []
    refit = smplify.Fitter._refit

    def counted(self, *args, **kwargs):
        refits.append(len(refits))
        return refit(self, *args, **kwargs)

    monkeypatch.setattr(smplify.Fitter, "_refit", counted)
    fitter = smplify.Fitter(open_model, format="coco17", image_size=video.image_size,
                            focal_length=video.focal_length, preset="paper", threads=1)
    starts = [fitter.fit(kp).summary["start"] for kp in video.keypoints]
    assert starts[0] == "cold" and all(s.startswith("warm") for s in starts[1:])
    assert fitter.options.starts == "prior" and fitter.options.track_refit_every == 10
    assert refits  # the frame-10 refit ran (without it the test would pass vacuously)


def test_choice_options_take_exactly_their_annotated_values():
    """The options annotated ``Literal[...]`` alone are checked against their annotation's
    values (``options._CHOICES`` is read from it): each listed value is taken, another is
    refused with a message naming the option and its values."""
    import typing

    from smplify import options

    hints = typing.get_type_hints(smplify.FitOptions)
    assert set(options._CHOICES) == {"init_pose", "start_selection", "starts", "start_scorer",
                                     "left_right", "track_refit_reading",
                                     "track_swap_challengers", "mirror_readings", "stop_rule"}
    for name, choices in options._CHOICES.items():
        assert choices == typing.get_args(hints[name])
        for value in choices:
            assert getattr(smplify.FitOptions(**{name: value}), name) == value
        with pytest.raises(ValueError, match=f"{name} must be .*{choices[-1]!r}, got 'other'"):
            smplify.FitOptions(**{name: "other"})
