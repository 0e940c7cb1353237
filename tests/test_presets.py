"""The camera default (the image diagonal) and ``preset="paper"`` (SMPLify as published)."""

from __future__ import annotations

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
