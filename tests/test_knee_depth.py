"""The knee-depth term E_knee (``knee_depth_weight``, cpp/knee_depth_term.h; issue 10).

Its rows and Jacobian against the NumPy twin and central differences are in
tests/test_fit_terms.py; here: the geometry of d (0 for a straight leg in any direction and
for a bend the image shows, −tan(a/2)/2 for a bend by a toward the camera), its option
checks, and that it straightens the knees a front view of a straight body is fitted with
(benchmarks/knee_depth_term.py measures it on the realistic set).
"""

from __future__ import annotations

import numpy as np
import pytest
import smplify
from smplify.reference.energy import knee_depth
from smplify.synthetic import make_case

THIGH = 0.45  # metres, thigh = shin


def leg(bend_deg: float, plane: np.ndarray, direction: np.ndarray) -> tuple[np.ndarray, ...]:
    """Hip, knee, ankle of a leg along ``direction`` (unit) bent by ``bend_deg`` with the
    knee pushed along ``plane`` (unit, ⊥ direction), hip at (0.1, −0.2, 4)."""
    half = np.radians(bend_deg) / 2.0
    hip = np.array([0.1, -0.2, 4.0])
    knee = hip + THIGH * (np.cos(half) * direction + np.sin(half) * plane)
    ankle = hip + 2.0 * THIGH * np.cos(half) * direction
    return hip, knee, ankle


@pytest.mark.parametrize("direction", [(0.0, 1.0, 0.0), (0.6, 0.0, 0.8), (0.0, 0.0, 1.0)])
def test_a_straight_leg_has_no_depth_bend_in_any_direction(direction):
    d = np.asarray(direction)
    plane = np.cross(d, [1.0, 0.0, 0.0] if abs(d[0]) < 0.9 else [0.0, 1.0, 0.0])
    assert knee_depth(*leg(0.0, plane / np.linalg.norm(plane), d)) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("bend", [10.0, 30.0, 90.0])
def test_a_bend_toward_the_camera_counts_one_across_the_image_does_not(bend):
    down = np.array([0.0, 1.0, 0.0])
    toward = knee_depth(*leg(bend, np.array([0.0, 0.0, -1.0]), down))
    assert toward == pytest.approx(-np.tan(np.radians(bend) / 2.0) / 2.0, rel=1e-12)
    assert knee_depth(*leg(bend, np.array([0.0, 0.0, 1.0]), down)) == pytest.approx(-toward)
    assert knee_depth(*leg(bend, np.array([1.0, 0.0, 0.0]), down)) == pytest.approx(0.0, abs=1e-12)


def test_hip_on_the_ankle_gives_zero_not_nan():
    hip = np.array([0.0, 0.0, 4.0])
    assert knee_depth(hip, hip + [0.0, 0.0, -0.3], hip) == 0.0


@pytest.mark.parametrize("name, value", [("knee_depth_weight", -1.0),
                                         ("knee_depth_sigma", 0.0),
                                         ("knee_depth_sigma", float("nan"))])
def test_bad_options_name_the_argument(name, value):
    with pytest.raises(ValueError, match=name):
        smplify.FitOptions(**{name: value})


def test_the_term_straightens_a_straight_body_seen_from_the_front(open_model, open_prior):
    """The defaults bend a straight standing body's knees ~30° seen from the front
    (docs/video.md "Bent knees"); E_knee keeps them near straight, and is 0 when off."""
    rng = np.random.default_rng(0)
    case = make_case(open_model, open_prior, "mediapipe33", rng, view="front",
                     poses=np.zeros((1, 69)))
    bends = {}
    for weight in (0.0, 600.0):
        fit = smplify.fit(case.keypoints, "mediapipe33", case.image_size,
                          focal_length=case.focal_length, model=open_model, threads=1,
                          knee_depth_weight=weight, knee_depth_sigma=0.05)
        j = np.asarray(fit.joints)
        angles = []
        for hip, knee, ankle in ((1, 4, 7), (2, 5, 8)):
            thigh, shin = j[knee] - j[hip], j[ankle] - j[knee]
            angles.append(np.degrees(np.arccos(
                thigh @ shin / np.linalg.norm(thigh) / np.linalg.norm(shin))))
        bends[weight] = max(angles)
        if weight == 0.0:
            assert fit.energy["knee_depth"] == 0.0
        else:
            assert fit.energy["knee_depth"] > 0.0
    assert bends[0.0] > 20.0 and bends[600.0] < 12.0, bends
