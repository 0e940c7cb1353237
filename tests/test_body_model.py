"""The C++ body model against a NumPy transcription of SPEC §1, and its Jacobians against
central finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import smplify


# --- NumPy transcription of SPEC §1, independent of the library ---------------------------
def rodrigues(axis_angle: np.ndarray) -> np.ndarray:
    angle = np.linalg.norm(axis_angle)
    if angle < 1e-12:
        return np.eye(3)
    k = axis_angle / angle
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(angle) * K + (1 - np.cos(angle)) * K @ K


def numpy_smpl(arrays, pose, betas, transl):
    """Vertices (N,3) and joints (24,3): blend shapes, FK with 4x4 matrices, LBS."""
    v_shaped = arrays["v_template"] + arrays["shapedirs"] @ betas
    J = arrays["J_regressor"] @ v_shaped
    rots = [rodrigues(pose[3 * k:3 * k + 3]) for k in range(24)]
    feature = np.concatenate([(R - np.eye(3)).ravel() for R in rots[1:]])
    v_posed = v_shaped + arrays["posedirs"] @ feature
    parents = arrays["kintree_table"][0]
    G = []
    for k in range(24):
        local = np.eye(4)
        local[:3, :3] = rots[k]
        local[:3, 3] = J[k] - (J[parents[k]] if k else 0)
        G.append(local if k == 0 else G[parents[k]] @ local)
    joints = np.array([g[:3, 3] for g in G]) + transl
    A = np.array([g - np.pad((g[:3, :3] @ J[k])[:, None], ((0, 1), (3, 0)))
                  for k, g in enumerate(G)])
    T = np.einsum("nk,kij->nij", arrays["weights"], A)
    homo = np.concatenate([v_posed, np.ones((len(v_posed), 1))], axis=1)
    verts = np.einsum("nij,nj->ni", T, homo)[:, :3] + transl
    return verts, joints


def random_parameters(rng, i):
    """Poses including θ = 0 exactly and rotations near π."""
    pose = rng.normal(scale=0.6, size=72)
    if i == 0:
        pose[:] = 0.0
    elif i == 1:
        axes = rng.normal(size=(24, 3))
        axes /= np.linalg.norm(axes, axis=1, keepdims=True)
        pose = (axes * (np.pi - 1e-3)).ravel()
    elif i == 2:
        pose[::2] = 0.0  # many joints exactly at zero rotation
        pose[3:6] = 0.0
    elif i == 3:
        pose *= 1e-9  # tiny rotations: the series branch
    betas = rng.normal(size=10)
    transl = rng.normal(size=3)
    return pose, betas, transl


def test_forward_matches_numpy(procedural_arrays, procedural_model):
    rng = np.random.default_rng(0)
    for i in range(10):
        pose, betas, transl = random_parameters(rng, i)
        verts, joints = numpy_smpl(procedural_arrays, pose, betas, transl)
        out = procedural_model(betas=betas, body_pose=pose[3:], global_orient=pose[:3],
                               transl=transl)
        np.testing.assert_allclose(out.joints, joints, atol=1e-10, rtol=0)
        np.testing.assert_allclose(out.vertices, verts, atol=1e-10, rtol=0)


def central_difference(f, x, h=1e-6):
    columns = []
    for i in range(len(x)):
        step = np.zeros_like(x)
        step[i] = h
        columns.append((f(x + step) - f(x - step)) / (2 * h))
    return np.stack(columns, axis=-1)


def relative_error(analytic, numeric):
    return np.max(np.abs(analytic - numeric)) / max(1.0, np.max(np.abs(numeric)))


def jacobian_errors(evaluate, pose, betas, transl):
    """Relative error of each analytic Jacobian block against central differences."""
    _, d_pose, d_betas, d_transl = evaluate(pose, betas, transl)

    def value(p, b, t):
        return np.asarray(evaluate(p, b, t)[0]).ravel()

    return {
        "pose": relative_error(d_pose, central_difference(lambda p: value(p, betas, transl),
                                                          pose)),
        "betas": relative_error(d_betas, central_difference(lambda b: value(pose, b, transl),
                                                            betas)),
        "transl": relative_error(d_transl, central_difference(lambda t: value(pose, betas, t),
                                                              transl)),
    }


@pytest.mark.parametrize("what", ["joints", "vertices"])
def test_jacobians_match_finite_differences(procedural_model, what):
    core = procedural_model.core
    rng = np.random.default_rng(1)
    ids = rng.choice(procedural_model.num_vertices, size=12, replace=False).tolist()

    def evaluate(pose, betas, transl):
        if what == "joints":
            return core.joints_and_jacobian(pose, betas, transl)
        return core.vertices_and_jacobian(pose, betas, transl, ids)

    worst = {"pose": 0.0, "betas": 0.0, "transl": 0.0}
    for i in range(50):
        errors = jacobian_errors(evaluate, *random_parameters(rng, i))
        worst = {key: max(worst[key], errors[key]) for key in worst}
    print(f"\n{what}: worst relative Jacobian error over 50 poses: {worst}")
    assert max(worst.values()) <= 1e-6, worst


def test_vertex_jacobian_includes_pose_blend_shapes(procedural_arrays, procedural_model,
                                                    tmp_path):
    """The model's vertex pose Jacobian is that of the blend-shaped mesh: it equals central
    differences of the independent NumPy forward (posedirs included), and the same model
    without posedirs has a Jacobian that differs from it by far more than the tolerance (so
    a Jacobian that left the blend shapes out would fail)."""
    assert procedural_model.has_pose_blend_shapes and np.any(procedural_arrays["posedirs"])
    path = tmp_path / "no_blend.npz"
    np.savez(path, **{**procedural_arrays,
                      "posedirs": np.zeros_like(procedural_arrays["posedirs"])})
    no_blend = smplify.load_model(path).core
    rng = np.random.default_rng(5)
    ids = rng.choice(procedural_model.num_vertices, size=40, replace=False).tolist()
    worst, blend_part = 0.0, 0.0
    for i in range(4, 10):  # general poses (random_parameters' kinds 0-3 are special)
        pose, betas, transl = random_parameters(rng, i)
        _, d_pose, _, _ = procedural_model.core.vertices_and_jacobian(pose, betas, transl, ids)
        numeric = central_difference(
            lambda p, b=betas, t=transl: numpy_smpl(procedural_arrays, p, b, t)[0][ids].ravel(),
            pose)
        _, d_pose_rigid, _, _ = no_blend.vertices_and_jacobian(pose, betas, transl, ids)
        worst = max(worst, relative_error(d_pose, numeric))
        blend_part = max(blend_part, relative_error(d_pose_rigid, numeric))
    print(f"\nvertex pose Jacobian vs NumPy differences: {worst:.1e}; without posedirs "
          f"{blend_part:.1e}")
    assert worst <= 1e-6
    assert blend_part >= 1e-2


def test_model_api(procedural_model):
    m = procedural_model
    assert m.v_template.shape == (m.num_vertices, 3)
    assert m.shapedirs.shape == (m.num_vertices, 3, 10)
    assert m.posedirs.shape == (m.num_vertices, 3, 207)
    assert m.J_regressor.shape == (24, m.num_vertices)
    assert m.weights.shape == (m.num_vertices, 24)
    assert m.kintree_table.shape == (2, 24)
    assert m.parents[0] == -1 and len(m.joint_names) == 24
    np.testing.assert_allclose(m.J_template, m.J_regressor @ m.v_template, atol=1e-12)
    betas = np.linspace(-1, 1, 10)
    np.testing.assert_allclose(m.rest_joints(betas),
                               m.J_regressor @ (m.v_template + m.shapedirs @ betas), atol=1e-12)
    out = m()
    np.testing.assert_allclose(out.vertices, m.v_template, atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"betas": np.zeros(3)}, "betas must have shape"),
        ({"body_pose": np.zeros(72)}, "body_pose must have shape"),
        ({"global_orient": [np.nan, 0, 0]}, "global_orient must be finite"),
        ({"transl": np.zeros((2, 3))}, "transl must have shape"),
    ],
)
def test_bad_pose_input_is_named(procedural_model, kwargs, message):
    with pytest.raises(ValueError, match=message):
        procedural_model(**kwargs)


def test_non_numeric_input_is_a_type_error(procedural_model):
    with pytest.raises(TypeError, match="betas"):
        procedural_model(betas="tall")


def test_core_rejects_wrong_sizes_without_crashing(procedural_model):
    with pytest.raises(ValueError, match="72"):
        procedural_model.core.joints(np.zeros(5), np.zeros(10), np.zeros(3))
    with pytest.raises(ValueError, match="betas"):
        procedural_model.core.joints(np.zeros(72), np.zeros(4), np.zeros(3))
    with pytest.raises(ValueError, match="vertex id"):
        procedural_model.core.vertices_and_jacobian(np.zeros(72), np.zeros(10), np.zeros(3),
                                                    [10**7])


def test_loaded_model_is_a_smplify_model(procedural_model):
    assert smplify.load_model(procedural_model) is procedural_model
