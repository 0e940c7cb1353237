"""FitProblem's arrays are read-only, and one frame's problem cannot unfreeze another's: the
arrays the frames share (the settings', the format's) are handed out as views."""

from __future__ import annotations

import numpy as np
import pytest
from smplify.problem import fit_settings, frame_problem
from smplify.synthetic import make_case


def test_no_problem_can_make_a_shared_array_writeable(open_model, open_prior) -> None:
    case = make_case(open_model, open_prior, "coco17", np.random.default_rng(0))
    settings = fit_settings("coco17", case.image_size, case.focal_length, open_model,
                            open_prior)
    first = frame_problem(settings, case.keypoints)
    second = frame_problem(settings, case.keypoints)
    for name in ("image_size", "center", "torso_keypoints", "keypoint_available"):
        array = getattr(first, name)
        assert not array.flags.writeable, name
        with pytest.raises(ValueError):
            array.flags.writeable = True  # a view of a read-only owner: refused
        assert not getattr(second, name).flags.writeable, name
    assert not settings.image_size.flags.writeable
