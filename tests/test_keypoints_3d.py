"""The detector's 3D keypoints (``keypoints_3d``, the relative 3D term E_3D, SPEC §6).

The term's rows and Jacobian against the NumPy twin and central differences are in
tests/test_fit_terms.py and tests/test_reference.py; here: its input checks, its invariance to
the target's origin, and that it fixes the depth readings a single view leaves open, on
held-out mocap poses with detector-like 2D errors (benchmarks/depth_evidence.py measures the
same over more cases and formats).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import smplify
from smplify import core_fitter, detections
from smplify.errors import KeypointError
from smplify.problem import build_problem
from smplify.synthetic import pa_mpjpe

FORMAT = "mediapipe33"
HELDOUT_POSES = Path(__file__).resolve().parent / "data" / "heldout_poses.npz"


@pytest.fixture(scope="module")
def cases(open_model):
    rng = np.random.default_rng(7100)
    poses = np.load(HELDOUT_POSES)["body_pose"].astype(np.float64)
    n = 12
    theta = np.concatenate([rng.normal(scale=0.1, size=(n, 3)),
                            poses[rng.choice(len(poses), n, replace=False)]], axis=1)
    betas = np.clip(rng.normal(size=(n, open_model.num_betas)), -2.5, 2.5)
    found = detections.render_cases(open_model, FORMAT, theta, betas, rng)
    return found, detections.detector_3d(open_model, FORMAT, found, np.random.default_rng(7101))


def test_keypoints_3d_settle_the_depth_a_single_view_leaves_open(open_model, cases):
    found, points_3d = cases
    errors = {"without": [], "with": []}
    for i in range(len(found.keypoints)):
        args = (found.keypoints[i], FORMAT, tuple(found.image_size[i]), float(found.focal[i]))
        try:
            plain = smplify.fit(*args, model=open_model, learned_init=False)
        except KeypointError:
            continue  # fewer than 3 torso keypoints
        with_3d = smplify.fit(*args, model=open_model, keypoints_3d=points_3d[i])
        assert with_3d.energy["keypoints_3d"] > 0.0 and plain.energy["keypoints_3d"] == 0.0
        for name, res in (("without", plain), ("with", with_3d)):
            errors[name].append(1000 * pa_mpjpe(res.joints - res.joints[0], found.joints[i]))
    without, with_3d = np.mean(errors["without"]), np.mean(errors["with"])
    print(f"\nPA-MPJPE over {len(errors['with'])} held-out cases: {without:.1f} mm without "
          f"3D keypoints, {with_3d:.1f} mm with")
    assert len(errors["with"]) >= 10
    # Measured when written: 20+ mm better on this set (benchmarks/depth_evidence.py); with
    # the initialiser in the defaults (2026-12-05) 69.0 → 57.6 mm.
    assert with_3d < without - 10.0


def test_the_target_origin_does_not_matter(open_model, open_prior, cases):
    found, points_3d = cases
    i = 0
    problems = [build_problem(found.keypoints[i], FORMAT, tuple(found.image_size[i]),
                              float(found.focal[i]), open_model, open_prior,
                              keypoints_3d=points_3d[i] + shift)
                for shift in (np.zeros(3), np.array([5.0, -2.0, 30.0]))]
    pose = np.r_[np.pi, 0.0, 0.0, np.zeros(69)]
    rows = [core_fitter.evaluate_terms(p, pose, np.zeros(10), np.array([0, 0, 4.0]), 3)
            ["keypoints_3d"] for p in problems]
    assert np.abs(rows[0][0]).max() > 0.0
    np.testing.assert_allclose(rows[0][0], rows[1][0], atol=1e-9)
    np.testing.assert_allclose(rows[0][1], rows[1][1], atol=1e-9)


def test_fitter_and_batch_take_keypoints_3d(open_model, cases):
    found, points_3d = cases
    i = 1
    args = (FORMAT, tuple(found.image_size[i]), float(found.focal[i]))
    # Every start finished, as a Fitter's frames do (a photo's default prunes the prior's
    # starts: prune_starts="auto").
    one = smplify.fit(found.keypoints[i], *args, model=open_model, keypoints_3d=points_3d[i],
                      threads=1, prune_starts=0)
    fitter = smplify.Fitter(open_model, format=FORMAT, image_size=args[1],
                            focal_length=args[2], threads=1)
    np.testing.assert_allclose(fitter.fit(found.keypoints[i], keypoints_3d=points_3d[i]).pose,
                               one.pose, atol=1e-9)
    batch = smplify.fit_batch([found.keypoints[i]] * 2, *args, model=open_model,
                              keypoints_3d=[points_3d[i], None], threads=1, learned_init=False,
                              prune_starts=0)
    np.testing.assert_allclose(batch[0].pose, one.pose, atol=1e-9)
    # Without 3D keypoints (and without the initialiser's anchor, which a frame with them
    # ignores anyway) the second image has no E_3D.
    assert batch[0].energy["keypoints_3d"] > 0.0 and batch[1].energy["keypoints_3d"] == 0.0
    with pytest.raises(ValueError, match="keypoints_3d: expected None or one entry per image"):
        smplify.fit_batch([found.keypoints[i]] * 2, *args, model=open_model,
                          keypoints_3d=[points_3d[i]])


@pytest.mark.parametrize("bad, error, message", [
    (np.zeros((33, 2)), KeypointError, r"keypoints_3d: expected shape \(33, 3\)"),
    (np.zeros((32, 3)), KeypointError, r"keypoints_3d: expected shape \(33, 3\)"),
    (np.full((33, 3), np.inf), KeypointError, "expected finite metres"),
    (np.full((33, 3), 5e3), KeypointError, "expected finite metres"),
    (np.full((33, 3), "a"), TypeError, "keypoints_3d: expected numbers"),
])
def test_bad_keypoints_3d_are_refused_by_name(open_model, cases, bad, error, message):
    found, _ = cases
    with pytest.raises(error, match=message):
        smplify.fit(found.keypoints[0], FORMAT, tuple(found.image_size[0]),
                    float(found.focal[0]), model=open_model, keypoints_3d=bad)


def test_unknown_rows_are_nan_and_too_few_known_disable_the_term(open_model, cases):
    found, points_3d = cases
    one_known = np.full_like(points_3d[0], np.nan)
    one_known[0] = points_3d[0][0]
    res = smplify.fit(found.keypoints[0], FORMAT, tuple(found.image_size[0]),
                      float(found.focal[0]), model=open_model, keypoints_3d=one_known)
    assert res.energy["keypoints_3d"] == 0.0  # one point has no relative position
