"""Hostile but well-formed input: every fit either returns finite parameters or raises a clear
smplify error, and nothing is written to stderr (no solver logging leaks out of the library)."""

from __future__ import annotations

import numpy as np
import pytest
import smplify
from smplify.synthetic import make_case

TORSO = [5, 6, 11, 12]  # COCO-17 shoulders and hips


@pytest.fixture(scope="module")
def base():
    model = smplify.load_model("open")
    case = make_case(model, smplify.load_prior("open"), "coco17", np.random.default_rng(0))
    return model, case


def _keep(kp, rows):
    """Confidence 0 for every keypoint outside ``rows``."""
    out = kp.copy()
    out[~np.isin(np.arange(len(kp)), rows), 2] = 0.0
    return out


CASES = {
    # name: (keypoints transform, option overrides, expected outcome: None = a finite fit)
    # The torso puts the camera where no term can be evaluated: an error naming the camera,
    # from the prior's starts and the learned initialiser's alike (test_solver_faults.py).
    "keypoints 1e9 px away": (lambda k: k * [1e9, 1e9, 1],
                              {"starts": "prior", "learned_init": False}, smplify.SmplifyError),
    "keypoints 1e9 px away, hypotheses": (lambda k: k * [1e9, 1e9, 1],
                                          {"starts": "auto", "learned_init": "auto"},
                                          smplify.SmplifyError),
    "focal length 1e-6 px": (lambda k: k, {"focal_length": 1e-6}, smplify.SmplifyError),
    "focal length 1e12 px": (lambda k: k, {"focal_length": 1e12}, None),
    "image 1e9 px": (lambda k: k, {"image_size": (1e9, 1e9)}, None),
    "only the torso": (lambda k: _keep(k, TORSO), {}, None),
    "three torso keypoints": (lambda k: _keep(k, TORSO[:3]), {}, None),
    "every limb on one point": (lambda k: np.where(np.isin(np.arange(17), TORSO)[:, None], k,
                                                   np.tile(k[0], (17, 1))), {}, None),
    "upside down": (lambda k: k * [1, -1, 1] + [0, 2 * k[:, 1].max(), 0], {}, None),
    "confidences 1e6": (lambda k: k * [1, 1, 1e6], {}, None),
    "one iteration": (lambda k: k, {"max_iterations": 1}, None),
    "no priors": (lambda k: k, {"pose_prior_weights": (0, 0, 0, 0),
                                "shape_prior_weights": (0, 0, 0, 0), "angle_prior_ratio": 0,
                                "interpenetration_weight": 0}, None),
    "flip always, 4 threads": (lambda k: k, {"flip": True, "threads": 4}, None),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_input_gives_a_finite_fit_or_a_clear_error(base, name, capfd):
    model, case = base
    transform, overrides, expected = CASES[name]
    kwargs = {"format": "coco17", "image_size": case.image_size,
              "focal_length": case.focal_length, "model": model, "multi_start": False,
              **overrides}
    keypoints = transform(case.keypoints)
    if expected is not None:
        with pytest.raises(expected, match="focal_length"):
            smplify.fit(keypoints, **kwargs)
    else:
        res = smplify.fit(keypoints, **kwargs)
        for value in (res.betas, res.global_orient, res.body_pose, res.transl, res.vertices,
                      res.joints):
            assert np.all(np.isfinite(value)), name
        assert np.isfinite(res.energy["total"]), name
    assert capfd.readouterr().err == ""

