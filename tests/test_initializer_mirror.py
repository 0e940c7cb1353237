"""Test-time mirroring of the learned initialiser (smplify.initializer: mirror_keypoints,
mirror_rotations, combine_mirrored, the ``mirror`` argument of predict / readings)."""

from __future__ import annotations

import numpy as np
import pytest
import smplify
from scipy.spatial.transform import Rotation
from smplify import detections
from smplify import initializer as init
from smplify.keypoint_formats import resolve_format

FORMATS = ("coco17", "mediapipe33")
REFLECT = np.diag([-1.0, 1.0, 1.0])


def case(model: smplify.BodyModel, fmt: str, seed: int) -> detections.Cases:
    """A few held-out-like bodies (random pose near the prior's scale) seen through ``fmt``
    with detector errors, off-centre in the image (the mirror must move the box)."""
    rng = np.random.default_rng(seed)
    theta = np.concatenate([rng.normal(scale=0.1, size=(4, 3)),
                            rng.normal(scale=0.3, size=(4, 69))], axis=1)
    return detections.render_cases(model, fmt, theta, rng.normal(size=(4, 10)), rng)


def matrices(h: init.Hypothesis) -> np.ndarray:
    return Rotation.from_rotvec(np.r_[h.global_orient, h.body_pose].reshape(24, 3)).as_matrix()


def test_the_mirrors_are_their_own_inverses() -> None:
    rng = np.random.default_rng(0)
    kp = np.c_[rng.uniform(0, 640, (17, 2)), rng.uniform(0, 1, 17)]
    kp[3] = np.nan
    once = init.mirror_keypoints(kp, "coco17", np.array([640.0, 480.0]))
    assert not np.allclose(once, kp, equal_nan=True)
    assert np.isnan(once[4]).all()  # left_ear's NaN is right_ear's now
    np.testing.assert_allclose(init.mirror_keypoints(once, "coco17", (640.0, 480.0)), kp,
                               rtol=0, atol=1e-12)
    rot = Rotation.random(24, random_state=2).as_matrix()
    np.testing.assert_allclose(init.mirror_rotations(init.mirror_rotations(rot)), rot, atol=1e-15)
    # Axis-angle (a, b, c) → (a, −b, −c), joints exchanged with their other side.
    aa = Rotation.from_matrix(init.mirror_rotations(rot)).as_rotvec()
    want = Rotation.from_matrix(rot).as_rotvec()[init.SMPL_MIRROR] * [1, -1, -1]
    np.testing.assert_allclose(aa, want, atol=1e-12)


def test_a_mirrored_pose_poses_the_reflected_body(open_model: smplify.BodyModel) -> None:
    """The model's own symmetry: the body posed at the mirrored rotations has the reflected
    joints, to the model's own left/right asymmetry (its rest joints against theirs)."""
    model = open_model
    rest = model().joints
    asymmetry = np.abs((rest @ REFLECT)[init.SMPL_MIRROR] - rest).max()
    assert asymmetry < 0.01
    rng = np.random.default_rng(1)
    for _ in range(5):
        pose = rng.normal(scale=0.5, size=72)
        rot = Rotation.from_rotvec(pose.reshape(24, 3)).as_matrix()
        mirrored = Rotation.from_matrix(init.mirror_rotations(rot)).as_rotvec().reshape(-1)
        a = model(global_orient=pose[:3], body_pose=pose[3:]).joints
        b = model(global_orient=mirrored[:3], body_pose=mirrored[3:]).joints
        got = b - b[0]
        want = ((a - a[0]) @ REFLECT)[init.SMPL_MIRROR]
        # Each joint's error is at most the summed asymmetry of its chain (≤ 8 bones).
        assert np.abs(got - want).max() < 8 * asymmetry + 1e-9
        # Without the joints exchanged (only reflected) the body is another.
        wrong = Rotation.from_matrix(REFLECT @ rot @ REFLECT).as_rotvec().reshape(-1)
        c = model(global_orient=wrong[:3], body_pose=wrong[3:]).joints
        assert np.abs(c - c[0] - want).max() > 0.1


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_mirrored_pose_projects_to_the_mirrored_keypoints(open_model: smplify.BodyModel,
                                                              fmt: str) -> None:
    """The keypoint mirror and the rotation mirror are one mirror: the body posed at the
    mirrored rotations, its translation's x negated, projects (principal point at the image
    centre) to the mirrored keypoints, to the model's asymmetry (millimetres at 4 m)."""
    model = open_model
    resolved = resolve_format(fmt, model.keypoint_names, model.num_vertices,
                              model.keypoint_regressor)
    size, focal = np.array([1000.0, 1200.0]), 1500.0

    def keypoints(pose: np.ndarray, transl: np.ndarray) -> np.ndarray:
        out = model(global_orient=pose[:3], body_pose=pose[3:], transl=transl)
        p = resolved.keypoint_positions(out.joints, out.vertices)
        return np.c_[focal * p[:, :2] / p[:, 2:] + size / 2, np.ones(len(p))][
            resolved.available]

    rng = np.random.default_rng(7)
    pose = np.r_[np.pi + rng.normal(scale=0.2), rng.normal(scale=0.2, size=2),
                 rng.normal(scale=0.4, size=69)]
    rot = Rotation.from_rotvec(pose.reshape(24, 3)).as_matrix()
    mirrored = Rotation.from_matrix(init.mirror_rotations(rot)).as_rotvec().reshape(-1)
    transl = np.array([0.4, 0.2, 4.0])
    full = np.zeros((len(resolved.available), 3))
    full[resolved.available] = keypoints(pose, transl)
    want = init.mirror_keypoints(full, fmt, size)[resolved.available]
    got = keypoints(mirrored, transl * [-1, 1, 1])
    assert np.abs(got - want).max() < 4.0  # pixels, of a body ~450 px tall
    assert np.abs(keypoints(pose, transl) - want).max() > 50.0  # the mirror moved them


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("mode", init.MIRROR_MODES)
def test_cpp_readings_equal_the_numpy_twin(open_model: smplify.BodyModel, fmt: str,
                                           mode: str) -> None:
    ini = init.load_initializer(fmt)
    c = case(open_model, fmt, 3)
    for kp, size, focal in zip(c.keypoints, c.image_size, c.focal, strict=True):
        got = ini.readings(kp, size, float(focal), mirror=mode)
        want = ini.predict(kp, size, float(focal), mirror=mode)
        assert len(got) == len(want) == ini.num_hypotheses * (2 if mode == "all" else 1)
        np.testing.assert_allclose([h.score for h in got], [h.score for h in want], atol=1e-5)
        assert sum(h.score for h in got) == pytest.approx(1.0)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(matrices(g), matrices(w), atol=1e-4)
            np.testing.assert_allclose(g.betas, w.betas, atol=1e-4)
        assert len(ini.readings(kp, size, float(focal), count=2, mirror=mode)) == 2


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_mirrored_back_readings_of_a_mirrored_input_join_the_readings(
        open_model: smplify.BodyModel, fmt: str) -> None:
    """"all": the input's readings (C++) and those of the mirrored input mapped back (the
    NumPy twin's network), every score halved."""
    ini = init.load_initializer(fmt)
    c = case(open_model, fmt, 4)
    kp, size, focal = c.keypoints[0], c.image_size[0], float(c.focal[0])
    plain = ini.readings(kp, size, focal)
    back = [(init.mirror_rotations(matrices(h)), h.score)
            for h in ini.predict(init.mirror_keypoints(kp, fmt, size), size, focal)]
    joined = ini.readings(kp, size, focal, mirror="all")
    want = sorted([(matrices(h), h.score) for h in plain] + back, key=lambda r: -r[1])
    for h, (rot, score) in zip(joined, want, strict=True):
        assert h.score == pytest.approx(score / 2, abs=1e-6)
        np.testing.assert_allclose(matrices(h), rot, atol=1e-4)
    # The mirror is no copy of the input: its mapped-back readings differ from them.
    assert np.abs(back[0][0] - matrices(plain[0])).max() > 1e-3


@pytest.mark.parametrize("mode", ["average", "all"])
def test_joined_readings_are_mirror_symmetric(open_model: smplify.BodyModel, mode: str) -> None:
    """The joined readings of the mirrored input have the joined readings' scores, and the
    mirror of the input's top joined reading is among them with its β (which fails if the
    mapping back is not the mirror's exact inverse). Only the top reading is compared; the
    matching itself is checked by the two tests after this one."""
    ini = init.load_initializer("coco17")
    c = case(open_model, "coco17", 5)
    for kp, size, focal in zip(c.keypoints, c.image_size, c.focal, strict=True):
        a = ini.readings(kp, size, float(focal), mirror=mode)
        b = ini.readings(init.mirror_keypoints(kp, "coco17", size), size, float(focal),
                         mirror=mode)
        key = sorted(range(len(a)), key=lambda i: -a[i].score)
        np.testing.assert_allclose(sorted(h.score for h in a), sorted(h.score for h in b),
                                   atol=1e-6)
        for h in (a[i] for i in key[:1]):
            nearest = min(b, key=lambda g: np.abs(matrices(g) - init.mirror_rotations(
                matrices(h))).sum())
            np.testing.assert_allclose(matrices(nearest), init.mirror_rotations(matrices(h)),
                                       atol=1e-4)
            np.testing.assert_allclose(nearest.betas, h.betas, atol=1e-4)


def about_z(degrees: np.ndarray) -> np.ndarray:
    """(M,) angles → (1, M, 24, 3, 3): every joint of reading i turned by degrees[i] about a
    joint's own axis (so readings are ordered by angle, and averages are angle means)."""
    axes = Rotation.random(24, random_state=11).as_rotvec()
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    return np.stack([Rotation.from_rotvec(axes * np.radians(d)).as_matrix()
                     for d in degrees])[None]


def test_average_of_permuted_readings_is_the_readings() -> None:
    """``mirrored`` = ``plain`` with its readings permuted: the Hungarian match finds each
    reading's copy, so "average" returns ``plain``'s rotations, each score averaged with its
    copy's (pairing by slot index would average different readings)."""
    rng = np.random.default_rng(12)
    m = 6
    rot = Rotation.random(m * 24, random_state=13).as_matrix().reshape(1, m, 24, 3, 3)
    scores = rng.dirichlet(np.ones(m))[None]
    scores_m = rng.dirichlet(np.ones(m))[None]
    perm = np.array([3, 0, 5, 1, 4, 2])  # mirrored slot j holds plain reading perm[j]
    betas, betas_m = rng.normal(size=(1, 10)), rng.normal(size=(1, 10))
    got_rot, _, got_scores = init.combine_mirrored(
        (rot, betas, scores), (rot[:, perm], betas_m, scores_m), "average")
    np.testing.assert_allclose(got_rot, rot, atol=1e-12)
    partner = np.argsort(perm)  # plain reading i sits in mirrored slot partner[i]
    np.testing.assert_allclose(got_scores[0], (scores[0] + scores_m[0, partner]) / 2,
                               rtol=0, atol=1e-15)
    assert got_scores.sum() == pytest.approx(1.0)


def test_average_matches_readings_as_computed_by_hand() -> None:
    """Two readings at 0° and 10°, two mirrored-back ones at 30° and 6° (every joint about
    its own axis). Each reading's nearest is the 6° one; the least total is 0°↔6°, 10°↔30°
    (cost ∝ 1 − cos: 6° and 20° apart against 30° and 4°), so the averages are 3° and 20°,
    and the scores pair 0.7 with the 6° reading's 0.6 and 0.3 with the 30° one's 0.4."""
    plain = (about_z(np.array([0.0, 10.0])), np.zeros((1, 10)), np.array([[0.7, 0.3]]))
    mirrored = (about_z(np.array([30.0, 6.0])), np.ones((1, 10)), np.array([[0.4, 0.6]]))
    rot, _, scores = init.combine_mirrored(plain, mirrored, "average")
    np.testing.assert_allclose(rot, about_z(np.array([3.0, 20.0])), atol=1e-12)
    np.testing.assert_allclose(scores, [[(0.7 + 0.6) / 2, (0.3 + 0.4) / 2]], atol=1e-15)
    # "top": the best reading (0°) with its nearest (6°), the other kept.
    rot, _, scores = init.combine_mirrored(plain, mirrored, "top")
    np.testing.assert_allclose(rot, about_z(np.array([3.0, 10.0])), atol=1e-12)
    np.testing.assert_array_equal(scores, plain[2])


@pytest.mark.parametrize("mode", init.MIRROR_MODES[1:])
def test_every_mode_gives_all_readings_the_mean_beta(open_model: smplify.BodyModel,
                                                      mode: str) -> None:
    """β (one an image) is the mean of the image's and the mirrored image's in every mode,
    "top" included (as measured in session 18), for every reading."""
    ini = init.load_initializer("coco17")
    c = case(open_model, "coco17", 10)
    kp, size, focal = c.keypoints[0], c.image_size[0], float(c.focal[0])
    plain = ini.predict(kp, size, focal)[0].betas
    mirrored = ini.predict(init.mirror_keypoints(kp, "coco17", size), size, focal)[0].betas
    assert np.abs(plain - mirrored).max() > 1e-3  # the mirror reads another β
    for h in ini.readings(kp, size, focal, mirror=mode):
        np.testing.assert_allclose(h.betas, (plain + mirrored) / 2, atol=1e-5)
    rng = np.random.default_rng(14)
    rot = Rotation.random(2 * 24, random_state=15).as_matrix().reshape(1, 2, 24, 3, 3)
    betas, betas_m = rng.normal(size=(1, 10)), rng.normal(size=(1, 10))
    _, got, _ = init.combine_mirrored((rot, betas, np.array([[0.6, 0.4]])),
                                      (rot[:, ::-1], betas_m, np.array([[0.5, 0.5]])), mode)
    np.testing.assert_allclose(got, (betas + betas_m) / 2, rtol=0, atol=1e-15)


def test_top_replaces_only_the_best_reading(open_model: smplify.BodyModel) -> None:
    ini = init.load_initializer("coco17")
    c = case(open_model, "coco17", 6)
    kp, size, focal = c.keypoints[0], c.image_size[0], float(c.focal[0])
    off, top = ini.predict(kp, size, focal), ini.predict(kp, size, focal, mirror="top")
    avg = ini.predict(kp, size, focal, mirror="average")
    assert [h.score for h in off] == [h.score for h in top]
    for a, b in zip(off[1:], top[1:], strict=True):
        np.testing.assert_allclose(matrices(a), matrices(b), atol=1e-9)
    assert np.abs(matrices(off[0]) - matrices(top[0])).max() > 1e-3
    # The averaged reading lies between the two: half-way on SO(3), joint by joint.
    back = init.mirror_rotations(matrices(
        min(ini.predict(init.mirror_keypoints(kp, "coco17", size), size, focal),
            key=lambda h: np.sum((init.mirror_rotations(matrices(h)) - matrices(off[0])) ** 2))))
    half = Rotation.from_matrix(matrices(off[0])).inv() * Rotation.from_matrix(matrices(top[0]))
    full = Rotation.from_matrix(matrices(off[0])).inv() * Rotation.from_matrix(back)
    np.testing.assert_allclose(half.magnitude(), full.magnitude() / 2, atol=1e-6)
    assert len(avg) == len(off)


def test_a_bad_mirror_is_refused() -> None:
    ini = init.load_initializer("coco17")
    kp = np.c_[np.random.default_rng(0).uniform(100, 400, (17, 2)), np.ones(17)]
    for bad in ("on", True, None):
        with pytest.raises(ValueError, match="mirror"):
            ini.readings(kp, (500, 500), 1000.0, mirror=bad)
        with pytest.raises(ValueError, match="mirror"):
            ini.predict(kp, (500, 500), 1000.0, mirror=bad)
    with pytest.raises(ValueError, match="count"):
        ini.readings(kp, (500, 500), 1000.0, count=7)
    assert len(ini.readings(kp, (500, 500), 1000.0, count=12, mirror="all")) == 12
    with pytest.raises(ValueError, match="mirror"):
        init.combine_mirrored((None,) * 3, (None,) * 3, "off")


def test_bad_shapes_are_refused_by_name() -> None:
    kp = np.c_[np.random.default_rng(0).uniform(100, 400, (17, 2)), np.ones(17)]
    for bad in (kp[:5], kp[:, :2], kp[0], np.ones((2, 33, 3))):
        with pytest.raises(smplify.KeypointError,
                           match=r"keypoints: expected shape \(\.\.\., 17, 3\)"):
            init.mirror_keypoints(bad, "coco17", (640.0, 480.0))
    for bad in (640.0, (640.0,), np.ones((2, 2)), (640.0, 480.0, 1.0)):
        with pytest.raises(ValueError, match=r"image_size: expected shape \(2,\)"):
            init.mirror_keypoints(kp, "coco17", bad)
    with pytest.raises(ValueError, match=r"image_size: expected shape \(3, 2\)"):
        init.mirror_keypoints(np.stack([kp] * 3), "coco17", (640.0, 480.0))
    rot = Rotation.random(24, random_state=0).as_matrix()
    for bad in (rot[:10], rot[:, :2], rot[0], np.eye(3)):
        with pytest.raises(ValueError, match=r"rotations: expected shape \(\.\.\., 24, 3, 3\)"):
            init.mirror_rotations(bad)


def test_the_option_is_validated() -> None:
    assert smplify.FitOptions().mirror_readings == "off"
    with pytest.raises(ValueError, match="mirror_readings"):
        smplify.FitOptions(mirror_readings="on")


@pytest.mark.parametrize("mode", ["top", "average", "all"])
def test_the_fit_reads_with_the_mirror(open_model: smplify.BodyModel, open_prior,
                                       mode: str) -> None:
    """The anchor (one C++ call without a mirror), the starts and the online Fitter's
    refit starts all take the joined readings."""
    from smplify import online
    from smplify.anchor import anchor_keypoints, hypothesis_starts
    from smplify.problem import fit_settings

    c = case(open_model, "coco17", 8)
    kp, size, focal = c.keypoints[0], tuple(c.image_size[0]), float(c.focal[0])
    xy, conf = kp[:, :2], kp[:, 2]
    points = {}
    for m in ("off", mode):
        settings = fit_settings("coco17", size, focal, open_model, open_prior,
                                {"learned_init": True, "mirror_readings": m})
        points[m] = anchor_keypoints(settings, xy, conf)
        best = init.predict(kp, "coco17", size, focal, mirror=m)[0]
        body = open_model(betas=best.betas, body_pose=best.body_pose,
                          global_orient=best.global_orient)
        resolved = resolve_format("coco17", open_model.keypoint_names, open_model.num_vertices,
                                  open_model.keypoint_regressor)
        want = resolved.keypoint_positions(body.joints, body.vertices)
        ok = resolved.available
        np.testing.assert_allclose(points[m][ok], want[ok], atol=1e-6)
        starts = hypothesis_starts(settings, xy, conf, with_anchors=True)
        np.testing.assert_allclose(starts[0][0], np.r_[best.global_orient, best.body_pose],
                                   atol=1e-9)
        refit = online.learned_starts("coco17", xy, conf, size, focal, mirror=m)
        np.testing.assert_allclose(refit[0], starts[0][0], atol=1e-9)
    assert np.nanmax(np.abs(points[mode] - points["off"])) > 1e-3
    fits = [smplify.fit(kp, "coco17", size, focal, model=open_model, threads=1,
                        mirror_readings=m) for m in ("off", mode)]
    assert not np.allclose(fits[0].pose, fits[1].pose)



def test_the_online_fitter_reads_every_frame_with_the_mirror(open_model, monkeypatch) -> None:
    """Its first frame, its warm frames' anchors and a refit all ask for the mirror."""
    asked = []
    readings = init.Initializer.readings

    def spy(self, *args, **kwargs):
        asked.append(kwargs.get("mirror", args[4] if len(args) > 4 else "off"))
        return readings(self, *args, **kwargs)

    monkeypatch.setattr(init.Initializer, "readings", spy)
    c = case(open_model, "coco17", 9)
    rng = np.random.default_rng(0)
    fitter = smplify.Fitter(open_model, format="coco17", image_size=tuple(c.image_size[0]),
                            focal_length=float(c.focal[0]), mirror_readings="top",
                            track_refit_every=3)
    for _ in range(4):
        frame = c.keypoints[0].copy()
        frame[:, :2] += rng.normal(scale=1.0, size=(len(frame), 2))
        assert np.isfinite(fitter.fit(frame).joints).all()
    assert len(asked) >= 4 and set(asked) == {"top"}
