"""smplify.reference (the NumPy/SciPy twin of the fit) and smplify.problem.

The NumPy SMPL against a naive 4x4 composition and the C++ model, each energy term against
values worked out by hand, the complex-step Jacobians against central differences, the GMM
component against a brute-force argmin, the torso fit on a synthetic camera, one end-to-end
reference fit, and every kind of bad input.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import smplify
from scipy.spatial.transform import Rotation
from smplify.capsules import INCOMPATIBLE_PART_PAIRS
from smplify.errors import KeypointError
from smplify.prior import GMMPosePrior, load_prior
from smplify.problem import build_problem
from smplify.reference import energy as E
from smplify.reference.arrays import reference_arrays
from smplify.reference.body import BodyArrays, model_output, pose_body, rodrigues
from smplify.reference.fit import fit as reference_fit
from smplify.reference.init import (
    INITIAL_ORIENTATION,
    fit_torso,
    flipped_orientation,
    initial_translation,
    is_sideways,
    shoulder_hip_lengths,
)

IMAGE_SIZE = (1000, 800)
FOCAL = 5000.0


# --- fixtures -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def model(procedural_npz, tmp_path_factory):
    """The procedural model with its capsule regressor fitted into a private cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        m = smplify.load_model(procedural_npz)
        _ = m.capsule_regressor  # fit now, inside the private cache
    return m


@pytest.fixture(scope="module")
def body(model):
    return BodyArrays.from_model(model)


@pytest.fixture(scope="module")
def prior():
    """A random 8-component GMM whose components differ in scale, so the min matters."""
    rng = np.random.default_rng(7)
    a = rng.normal(size=(8, 69, 69)) / np.sqrt(69)
    scales = np.linspace(0.05, 0.4, 8)
    covars = np.einsum("kij,klj->kil", a, a) * scales[:, None, None] ** 2 \
        + 0.01 * np.eye(69)
    return GMMPosePrior(rng.normal(0, 0.15, (8, 69)), covars, rng.uniform(0.2, 1.0, 8))


def posed_params(rng, scale=0.3, orient=(np.pi, 0.2, -0.1), transl=(0.1, -0.05, 9.0)):
    pose = np.concatenate([orient, rng.normal(0, scale, 69)])
    return pose, rng.normal(0, 0.7, 10), np.asarray(transl, float)


def synthetic_keypoints(body, pose, betas, transl, focal=FOCAL, size=IMAGE_SIZE):
    """smpl24 keypoints: the model's own joints projected, confidence 1."""
    joints, _ = model_output(body, pose, betas, transl)
    xy = focal * joints[:, :2] / joints[:, 2:] + np.asarray(size) / 2.0
    return np.c_[xy, np.ones(24)]


@pytest.fixture(scope="module")
def problem(model, body, prior):
    rng = np.random.default_rng(3)
    kp = synthetic_keypoints(body, *posed_params(rng))
    kp[:, :2] += rng.normal(0, 15, (24, 2))  # off target, so every data row is non-zero
    kp[:, 2] = rng.uniform(0.5, 1.0, 24)
    return build_problem(kp, "smpl24", IMAGE_SIZE, FOCAL, model, prior)


# --- the NumPy body model ------------------------------------------------------------------
def test_rodrigues_matches_scipy_including_tiny_and_zero_angles():
    rng = np.random.default_rng(0)
    vecs = np.concatenate([rng.normal(size=(20, 3)), 1e-5 * rng.normal(size=(5, 3)),
                           np.zeros((1, 3)), [[np.pi, 0, 0]]])
    np.testing.assert_allclose(rodrigues(vecs), Rotation.from_rotvec(vecs).as_matrix(),
                               atol=1e-14)


def naive_joints_and_transforms(body, pose, betas, transl):
    """Rest joints from the dense regressor, world 4x4 transforms composed one by one."""
    j_rest = body.J_template + body.J_shapedirs @ betas
    g = []
    for i in range(24):
        local = np.eye(4)
        local[:3, :3] = Rotation.from_rotvec(pose[3 * i:3 * i + 3]).as_matrix()
        parent = body.parents[i]
        local[:3, 3] = j_rest[i] - (j_rest[parent] if parent >= 0 else 0.0)
        g.append(local if parent < 0 else g[parent] @ local)
    return np.array([m[:3, 3] for m in g]) + transl, np.array(g), j_rest


def test_joints_match_naive_4x4_composition(body, procedural_arrays):
    rng = np.random.default_rng(1)
    pose, betas, transl = posed_params(rng, scale=0.8)
    joints, _, j_rest = naive_joints_and_transforms(body, pose, betas, transl)
    # J_template / J_shapedirs are J_regressor · (v_template + shapedirs · β)
    v_shaped = procedural_arrays["v_template"] + procedural_arrays["shapedirs"] @ betas
    np.testing.assert_allclose(j_rest, procedural_arrays["J_regressor"] @ v_shaped, atol=1e-12)
    posed = pose_body(body, pose, betas, transl)
    np.testing.assert_allclose(posed.joints, joints, atol=1e-12)


def test_vertices_match_naive_lbs_and_the_cpp_model(body, model, procedural_arrays):
    rng = np.random.default_rng(2)
    pose, betas, transl = posed_params(rng, scale=0.5)
    _, g, j_rest = naive_joints_and_transforms(body, pose, betas, transl)
    ids = rng.choice(body.num_vertices, 25, replace=False)
    a = procedural_arrays
    rots = Rotation.from_rotvec(pose.reshape(24, 3)).as_matrix()
    feature = (rots[1:] - np.eye(3)).ravel()
    expected = []
    for v in ids:
        rest = a["v_template"][v] + a["shapedirs"][v] @ betas + a["posedirs"][v] @ feature
        t = sum(a["weights"][v, j] * (g[j] @ np.block([[np.eye(3), -j_rest[j][:, None]],
                                                         [np.zeros((1, 3)), np.ones((1, 1))]]))
                for j in range(24))
        expected.append((t @ np.append(rest, 1.0))[:3] + transl)
    joints, vertices = model_output(body, pose, betas, transl)
    np.testing.assert_allclose(vertices[ids], expected, atol=1e-12)
    out = model(betas=betas, body_pose=pose[3:], global_orient=pose[:3], transl=transl)
    np.testing.assert_allclose(vertices, out.vertices, atol=1e-10)
    np.testing.assert_allclose(joints, out.joints, atol=1e-10)


# --- terms by hand ---------------------------------------------------------------------------
def test_keypoints_on_target_give_zero_data_rows(model, body, prior):
    rng = np.random.default_rng(4)
    pose, betas, transl = posed_params(rng)
    kp = synthetic_keypoints(body, pose, betas, transl)
    kp[5, 2] = 0.0  # one missing keypoint: its rows are 0 too
    p = build_problem(kp, "smpl24", IMAGE_SIZE, FOCAL, model, prior)
    rows = E.data_residuals(p, pose, betas, transl)
    assert rows.shape == (48,)
    np.testing.assert_allclose(rows, 0.0, atol=1e-8)


def test_geman_mcclure_at_sigma_gives_sigma_over_sqrt2(model, body, prior):
    sigma = 100.0
    assert E.geman_mcclure(np.array(sigma), sigma) == pytest.approx(sigma / np.sqrt(2))
    assert E.geman_mcclure(np.array(-3.0), sigma) == pytest.approx(
        -np.sqrt(sigma**2 * 9 / (sigma**2 + 9)))
    rng = np.random.default_rng(5)
    pose, betas, transl = posed_params(rng)
    kp = synthetic_keypoints(body, pose, betas, transl)
    kp[7, 0] -= sigma  # prediction − observation = +σ in u
    kp[7, 2] = 0.6
    p = build_problem(kp, "smpl24", IMAGE_SIZE, FOCAL, model, prior,
                      {"data_sigma": sigma})
    rows = E.data_residuals(p, pose, betas, transl)
    assert rows[14] == pytest.approx(0.6 * sigma / np.sqrt(2), rel=1e-9)
    assert abs(rows[15]) < 1e-8 and np.abs(np.delete(rows, [14, 15])).max() < 1e-8


def test_angle_prior_at_zero_is_weight_times_ten(problem):
    rows = E.angle_residuals(problem, np.zeros(72), weight=128.0)
    np.testing.assert_allclose(rows, 128.0 * 10.0)
    pose = np.zeros(72)
    pose[[55, 58, 12, 15]] = [0.5, 0.5, 0.5, 0.5]  # left elbow wrong way, others natural
    np.testing.assert_allclose(E.angle_residuals(problem, pose),
                               10.0 * np.exp([0.5, -0.5, -0.5, -0.5]))


def test_pose_prior_component_is_brute_force_argmin(problem, prior):
    rng = np.random.default_rng(6)
    for _ in range(20):
        pose = np.concatenate([np.zeros(3), rng.normal(0, 0.3, 69)])
        x = pose[3:]
        brute = []
        for k in range(8):
            d = x - prior.means[k]
            quad = 0.5 * d @ np.linalg.inv(prior.covars[k]) @ d
            log_norm = 0.5 * np.linalg.slogdet(2 * np.pi * prior.covars[k])[1]
            brute.append(quad - np.log(prior.weights[k]) + log_norm)
        brute = np.array(brute)
        # c_k is relative to the smallest normaliser: −min_j ½ log det Σ_j (design.md)
        half_logdets = [0.5 * np.linalg.slogdet(c)[1] for c in prior.covars]
        k_star = int(E.pose_prior_component(problem, pose))
        assert k_star == int(np.argmin(brute))
        rows = E.pose_prior_residuals(problem, pose, weight=2.0)
        assert rows.shape == (70,)
        assert rows @ rows == pytest.approx(4.0 * (brute.min() - min(half_logdets)), rel=1e-9)
        assert rows @ rows / 4.0 == pytest.approx(prior.energy(x), rel=1e-9)


def test_prior_arrays_match_the_prior_module(problem, prior):
    arrays = reference_arrays(problem).prior
    np.testing.assert_allclose(arrays.chol, prior.precision_cholesky, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(arrays.neg_log_c, prior.neg_log_c, rtol=1e-9, atol=1e-9)
    assert arrays.neg_log_c.min() >= 0.0


def test_interpenetration_rows_from_the_capsule_spheres(problem, body, model):
    rng = np.random.default_rng(8)
    pose, betas, transl = posed_params(rng, scale=0.4)
    caps = model.capsule_regressor
    spheres = reference_arrays(problem)
    j_rest = body.J_template + body.J_shapedirs @ betas
    rest = caps.spheres(betas, j_rest, counts=spheres.sphere_counts)
    _, g, _ = naive_joints_and_transforms(body, pose, betas, transl)
    centres = np.array([g[j][:3, :3] @ (c - j_rest[j]) + g[j][:3, 3] + transl
                        for c, j in zip(rest.centres, rest.joint_of_sphere, strict=True)])
    sigma = rest.radii / 3.0
    pair_energy = [np.exp(-np.sum((centres[i] - centres[j]) ** 2)
                          / (sigma[i] ** 2 + sigma[j] ** 2))
                   for i, j in spheres.sphere_pairs]
    # one row per incompatible capsule pair: sqrt of its sphere pairs' summed Gaussians
    ends = [*spheres.sphere_pair_starts[1:], len(spheres.sphere_pairs)]
    expected = [np.sqrt(np.sum(pair_energy[a:b]))
                for a, b in zip(spheres.sphere_pair_starts, ends, strict=True)]
    rows = E.interpenetration_residuals(problem, pose, betas, transl, weight=1000.0)
    assert rows.shape == (len(INCOMPATIBLE_PART_PAIRS),) and len(rows) > 0
    np.testing.assert_allclose(rows, 1000.0 * np.array(expected), rtol=1e-9, atol=1e-300)
    for a, b in zip(spheres.sphere_pair_starts, ends, strict=True):  # groups = capsule pairs
        parts = {tuple(spheres.sphere_capsule[spheres.sphere_pairs[p]]) for p in range(a, b)}
        assert len(parts) == 1
    # the spheres of two touching parts overlap at rest (the rows are not all ~0)
    assert rows.max() > 1.0


def test_shape_rows_and_energy_sum(problem):
    rng = np.random.default_rng(9)
    pose, betas, transl = posed_params(rng)
    np.testing.assert_allclose(E.shape_residuals(problem, pose, betas, weight=5.0), 5 * betas)
    w = E.StageWeights.for_stage(problem, 2)
    assert w.pose == 57.4 and w.shape == 10.0 and w.angle == pytest.approx(0.317 * 57.4)
    energy = E.energies(problem, pose, betas, transl, w)
    rows = E.residuals(problem, pose, betas, transl, w)
    assert energy["total"] == pytest.approx(rows @ rows, rel=1e-12)
    assert energy["shape"] == pytest.approx(100.0 * betas @ betas, rel=1e-12)
    assert set(energy) == {"data", "pose", "angle", "interpenetration", "shape", "keypoints_3d",
                           "knee_depth", "total"}


@pytest.mark.parametrize("term", E.TERMS)
def test_jacobians_match_central_differences(problem, term):
    rng = np.random.default_rng(10)
    pose, betas, transl = posed_params(rng, scale=0.4)
    if term == "keypoints_3d":  # the detector's 3D keypoints: the model's own, moved
        points = E.model_keypoints(problem, pose, betas, transl)
        problem = dataclasses.replace(
            problem, keypoints_3d=points + rng.normal(scale=0.2, size=points.shape))
    d_pose, d_betas, d_transl = E.term_jacobian(problem, term, pose, betas, transl)
    jac = np.concatenate([d_pose, d_betas, d_transl], axis=1)
    fn = E.TERM_FUNCTIONS[term]
    x = np.concatenate([pose, betas, transl])
    h = 1e-6
    cols = []
    for k in range(x.size):
        step = np.zeros(x.size)
        step[k] = h
        hi, lo = x + step, x - step
        cols.append((fn(problem, hi[:72], hi[72:82], hi[82:])
                     - fn(problem, lo[:72], lo[72:82], lo[82:])) / (2 * h))
    fd = np.array(cols).T
    if term == "interpenetration":
        assert np.all(d_betas == 0.0)  # β held (SPEC §2)
        fd[:, 72:82] = 0.0
    scale = max(1.0, np.abs(fd).max())
    assert np.abs(jac - fd).max() <= 1e-6 * scale
    assert np.abs(jac).max() > 0.0


# --- surface keypoints (a model with its own keypoint regressor) ------------------------------
@pytest.fixture(scope="module")
def surface_model(procedural_arrays, tmp_path_factory):
    """The procedural model plus a regressor (3 vertices each) for every surface keypoint."""
    from smplify.keypoints import SURFACE_KEYPOINT_NAMES

    rng = np.random.default_rng(12)
    n = len(procedural_arrays["v_template"])
    reg = np.zeros((len(SURFACE_KEYPOINT_NAMES), n))
    for row in reg:
        row[rng.choice(n, 3, replace=False)] = rng.dirichlet(np.ones(3))
    path = tmp_path_factory.mktemp("surface") / "surface.npz"
    np.savez(path, **procedural_arrays, keypoint_names=np.array(SURFACE_KEYPOINT_NAMES),
             keypoint_regressor=reg)
    return smplify.load_model(path), reg


def test_surface_keypoints_from_posed_vertices(surface_model, model, prior):
    from smplify.keypoints import SURFACE_KEYPOINT_NAMES

    smodel, reg = surface_model
    sbody = BodyArrays.from_model(smodel)
    rng = np.random.default_rng(13)
    pose, betas, transl = posed_params(rng)
    _, vertices = model_output(sbody, pose, betas, transl)
    names = ["nose", "left_eye", "right_eye", "left_ear", "right_ear"] + [
        f"coco_{side}_{j}" for j in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
        for side in ("left", "right")]
    points = reg[[SURFACE_KEYPOINT_NAMES.index(nm) for nm in names]] @ vertices  # (17, 3)
    kp = np.c_[FOCAL * points[:, :2] / points[:, 2:] + np.array(IMAGE_SIZE) / 2, np.ones(17)]
    p = build_problem(kp, "coco17", IMAGE_SIZE, FOCAL, smodel, prior,
                      capsule_regressor=model.capsule_regressor)
    assert np.all(p.keypoint_joint == -1)
    assert [len(ids) for ids in p.keypoint_vertex_ids] == [3] * 17
    np.testing.assert_allclose([w.sum() for w in p.keypoint_vertex_weights], 1.0)
    assert np.all(p.weights == 1.0)  # coco_*_hip points exist: hips count fully
    np.testing.assert_allclose(E.model_keypoints(p, pose, betas, transl), points, atol=1e-12)
    np.testing.assert_allclose(E.data_residuals(p, pose, betas, transl), 0.0, atol=1e-8)
    # Jacobian through skinning and pose blend shapes, against central differences
    kp[:, :2] += rng.normal(0, 20, (17, 2))
    p = build_problem(kp, "coco17", IMAGE_SIZE, FOCAL, smodel, prior,
                      capsule_regressor=model.capsule_regressor)
    d_pose, d_betas, d_transl = E.term_jacobian(p, "data", pose, betas, transl)
    x = np.concatenate([pose, betas, transl])
    h = 1e-6
    for k in rng.choice(x.size, 12, replace=False):
        hi, lo = x.copy(), x.copy()
        hi[k] += h
        lo[k] -= h
        fd = (E.data_residuals(p, hi[:72], hi[72:82], hi[82:])
              - E.data_residuals(p, lo[:72], lo[72:82], lo[82:])) / (2 * h)
        col = np.concatenate([d_pose, d_betas, d_transl], axis=1)[:, k]
        assert np.abs(col - fd).max() <= 1e-6 * max(1.0, np.abs(fd).max())


# --- initialisation ----------------------------------------------------------------------------
def test_torso_fit_recovers_a_known_camera(model, body, prior):
    orient = np.array([np.pi, 0.25, 0.05])
    transl = np.array([0.3, -0.2, 12.0])
    pose = np.concatenate([orient, np.zeros(69)])
    kp = synthetic_keypoints(body, pose, np.zeros(10), transl)
    p = build_problem(kp, "smpl24", IMAGE_SIZE, FOCAL, model, prior)
    l3, l2 = shoulder_hip_lengths(p)
    assert l2 == pytest.approx(FOCAL * l3 / transl[2], rel=0.05)
    t0 = initial_translation(p)
    assert t0[2] == pytest.approx(transl[2], rel=0.05)  # similar triangles
    # the initial translation puts the torso centre on the 2D torso centre
    pose0 = np.concatenate([INITIAL_ORIENTATION, np.zeros(69)])
    centre = E.model_keypoints(p, pose0, np.zeros(10), t0)[p.torso_keypoints].mean(0)
    np.testing.assert_allclose(E.project(p, centre), kp[p.torso_keypoints, :2].mean(0),
                               atol=1e-9)
    # default options: the depth row holds γ_z near the estimate, the rest follows
    got_orient, got_transl, summary = fit_torso(p)
    assert summary.name == "torso" and summary.final_cost < summary.initial_cost
    assert abs(got_transl[2] - transl[2]) < abs(t0[2] - transl[2])
    torso_pose = np.concatenate([got_orient, np.zeros(69)])
    reproj = E.project(p, E.model_keypoints(p, torso_pose, np.zeros(10), got_transl))
    assert np.abs(reproj[p.torso_keypoints] - kp[p.torso_keypoints, :2]).max() < 2.0
    # without the depth row the 4 torso points determine the camera: exact recovery
    free = build_problem(kp, "smpl24", IMAGE_SIZE, FOCAL, model, prior,
                         {"depth_weight": 0.0, "function_tolerance": 1e-12})
    got_orient, got_transl, _ = fit_torso(free)
    np.testing.assert_allclose(got_transl, transl, atol=1e-6)
    angle = Rotation.from_matrix(rodrigues(got_orient).T @ rodrigues(orient)).magnitude()
    assert angle < 1e-6
    assert not is_sideways(p)


def test_sideways_view_and_flipped_orientation(model, body, prior):
    pose = np.concatenate([[np.pi, 0.0, 0.0], np.zeros(69)])
    pose[1] = 0.0
    turned = Rotation.from_rotvec([np.pi, 0, 0]) * Rotation.from_rotvec([0, np.pi / 2, 0])
    pose[:3] = turned.as_rotvec()  # profile view: shoulders on top of each other in 2D
    kp = synthetic_keypoints(body, pose, np.zeros(10), np.array([0.0, 0.0, 10.0]))
    p = build_problem(kp, "smpl24", IMAGE_SIZE, FOCAL, model, prior)
    assert is_sideways(p)
    flipped = flipped_orientation(np.array([np.pi, 0.0, 0.0]))
    expected = Rotation.from_rotvec([np.pi, 0, 0]).as_matrix() @ np.diag([-1.0, 1.0, -1.0])
    np.testing.assert_allclose(rodrigues(flipped), expected, atol=1e-12)
    # the body's own vertical axis is unchanged by the flip; it now faces away (+z camera)
    omega = np.array([2.9, 0.3, -0.2])
    r, rf = rodrigues(omega), rodrigues(flipped_orientation(omega))
    np.testing.assert_allclose(rf[:, 1], r[:, 1], atol=1e-12)
    np.testing.assert_allclose(rf[:, 2], -r[:, 2], atol=1e-12)


# --- end to end -----------------------------------------------------------------------------
def test_reference_fit_end_to_end(model, body):
    rng = np.random.default_rng(11)
    pose = np.concatenate([[np.pi, 0.15, 0.0], np.zeros(69)])
    pose[[55, 58]] = [0.6, -0.6]  # elbows bent the natural way
    pose[[12, 15]] = [0.3, 0.2]  # knees
    pose[3 * 16 + 2] = -0.4  # left shoulder down
    betas = rng.normal(0, 0.5, 10)
    transl = np.array([0.05, 0.1, 10.0])
    kp = synthetic_keypoints(body, pose, betas, transl)
    result = reference_fit(kp, "smpl24", IMAGE_SIZE, model=model, prior=load_prior("open"),
                           max_iterations=30)
    assert result.summary["implementation"] == "reference"
    names = [s.name for s in result.summary["stages"]]
    assert names == ["torso", "stage 1", "stage 2", "stage 3", "stage 4"]
    assert result.summary["orientation"] in ("initial", "flipped")
    err = np.linalg.norm(result.keypoints_2d - kp[:, :2], axis=1)
    # on its own model, the fit lands within a few pixels of a ~400 px tall body
    assert np.median(err) < 5.0 and err.max() < 25.0, err
    assert result.betas.shape == (10,) and result.body_pose.shape == (69,)
    assert result.vertices.shape == (body.num_vertices, 3) and result.joints.shape == (24, 3)
    assert result.camera.focal_length == pytest.approx(np.hypot(*IMAGE_SIZE))  # the default
    np.testing.assert_allclose(result.camera.center, np.array(IMAGE_SIZE) / 2)
    last = E.StageWeights.for_stage(build_problem(kp, "smpl24", IMAGE_SIZE, None, model,
                                                  load_prior("open")), 3)
    assert last.pose == 4.78
    for values in (result.betas, result.pose, result.transl, result.vertices):
        assert np.all(np.isfinite(values))
    # E_3D named for its targets as FitResult's (the readings' anchor here: no detector 3D).
    assert set(result.energy) == {*E.TERMS, "anchor", "total"}
    assert result.energy["keypoints_3d"] == 0.0 and result.energy["anchor"] > 0.0
    assert result.energy["total"] == pytest.approx(
        sum(v for k, v in result.energy.items() if k != "total"), rel=1e-12)


# --- bad input ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def good_keypoints(body):
    pose = np.concatenate([[np.pi, 0.0, 0.0], np.zeros(69)])
    return synthetic_keypoints(body, pose, np.zeros(10), np.array([0.0, 0.0, 10.0]))


def _nan_at(kp, i, col):
    kp = kp.copy()
    kp[i, col] = np.nan
    return kp


def _inf_at(kp, i, col):
    kp = kp.copy()
    kp[i, col] = np.inf
    return kp


def _conf(kp, rows, value=0.0):
    kp = kp.copy()
    kp[rows, 2] = value
    return kp


@pytest.mark.parametrize("mutate, kwargs, error, match", [
    (lambda k: _nan_at(k, 3, 0), {}, KeypointError, "non-finite"),
    (lambda k: _inf_at(k, 3, 1), {}, KeypointError, "non-finite"),
    (lambda k: _inf_at(k, 3, 2), {}, KeypointError, "confidence"),
    (lambda k: _conf(k, [4], -1.0), {}, KeypointError, "confidence"),
    (lambda k: k[:20], {}, KeypointError, "shape"),
    (lambda k: k[:, :1], {}, KeypointError, "shape"),
    (lambda k: k[None], {}, KeypointError, "shape"),
    (lambda k: k, {"format": "coco18"}, ValueError, "known formats"),
    (lambda k: _conf(k, slice(None)), {}, KeypointError, "no confidence is > 0"),
    (lambda k: _conf(k, [16, 1]), {}, KeypointError, r"missing \['left_shoulder', 'left_hip'\]"),
    (lambda k: k, {"focal_length": 0.0}, ValueError, "focal_length"),
    (lambda k: k, {"focal_length": -5.0}, ValueError, "focal_length"),
    (lambda k: k, {"focal_length": float("nan")}, ValueError, "focal_length"),
    (lambda k: k, {"focal_length": float("inf")}, ValueError, "focal_length"),
    (lambda k: k, {"focal_length": "5000"}, TypeError, "focal_length"),
    (lambda k: k, {"image_size": (0, 800)}, ValueError, "image_size"),
    (lambda k: k, {"image_size": (1000, -1)}, ValueError, "image_size"),
    (lambda k: k, {"image_size": (1000,)}, ValueError, "image_size"),
    (lambda k: k, {"image_size": (1000, float("nan"))}, ValueError, "image_size"),
    (lambda k: k, {"image_size": None}, TypeError, "image_size"),
    (lambda k: k, {"image_size": ("a", "b")}, TypeError, "image_size"),
    (lambda k: k, {"not_an_option": 1}, TypeError, "not_an_option"),
])
def test_bad_input_raises_a_clear_error(model, prior, good_keypoints, mutate, kwargs, error,
                                        match):
    args = {"format": "smpl24", "image_size": IMAGE_SIZE, "model": model, "prior": prior}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        reference_fit(mutate(good_keypoints), **args)


def test_missing_keypoints_are_fine_and_collapsed_torso_is_not(model, prior, good_keypoints):
    kp = _conf(good_keypoints, [17, 3, 10])  # one torso keypoint missing: still fits
    p = build_problem(kp, "smpl24", IMAGE_SIZE, None, model, prior)
    assert p.torso_confident.sum() == 3 and p.weights[17] == 0.0
    assert np.all(E.data_residuals(p, np.zeros(72), np.zeros(10), np.array([0, 0, 10.0]))
                  [[34, 35]] == 0.0)
    kp = good_keypoints.copy()
    kp[[1, 2, 16, 17], :2] = kp[1, :2]  # all torso keypoints at one pixel
    with pytest.raises(KeypointError, match="apart"):
        build_problem(kp, "smpl24", IMAGE_SIZE, None, model, prior)
