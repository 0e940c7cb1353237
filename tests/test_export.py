"""Export: meshes keep their vertices and faces; parameters are what smplx's SMPL layer takes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh
from smplify import Camera, FitResult
from smplify.export import SMPLX_KEYS, load_mesh, load_params, save_mesh, save_params


def rodrigues(rotvec: np.ndarray) -> np.ndarray:
    """(K, 3) axis-angle → (K, 3, 3) rotation matrices, R = I + sin t K + (1 − cos t) K²."""
    angle = np.linalg.norm(rotvec, axis=1)[:, None, None]
    axis = rotvec / np.maximum(angle[:, :, 0], 1e-300)
    x, y, z = axis.T
    zero = np.zeros_like(x)
    k = np.stack([zero, -z, y, z, zero, -x, -y, x, zero], axis=1).reshape(-1, 3, 3)
    return np.eye(3) + np.sin(angle) * k + (1.0 - np.cos(angle)) * (k @ k)


def smplx_style_lbs(arrays: dict[str, np.ndarray], betas: np.ndarray, global_orient: np.ndarray,
                    body_pose: np.ndarray, transl: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The SMPL forward pass as smplx's ``SMPL.forward``/``lbs`` computes it, for one body.

    Takes the smplx batch-of-one arrays (1, B), (1, 3), (1, 69), (1, 3) and the raw model
    arrays; returns vertices (N, 3) and the 24 joints (24, 3), metres.
    """
    v_template, shapedirs = arrays["v_template"], arrays["shapedirs"]
    n = len(v_template)
    parents = arrays["kintree_table"][0].copy()
    parents[0] = -1
    betas = betas[0].astype(np.float64)
    full_pose = np.concatenate([global_orient[0], body_pose[0]]).astype(np.float64)
    # 1. shape blend shapes: v_shaped[m, k] = v_template[m, k] + Σ_l shapedirs[m, k, l] β[l]
    v_shaped = v_template + np.einsum("mkl,l->mk", shapedirs[:, :, :len(betas)], betas)
    # 2. rest joints, 24 x 3
    joints = arrays["J_regressor"] @ v_shaped
    # 3. pose blend shapes: (R_j - I) of joints 1..23 flattened, times posedirs (207, 3N)
    rot_mats = rodrigues(full_pose.reshape(-1, 3))  # 24 x 3 x 3
    pose_feature = (rot_mats[1:] - np.eye(3)).reshape(-1)  # 207
    posedirs = arrays["posedirs"].reshape(-1, 207).T  # 207 x 3N, as smplx stores it
    v_posed = v_shaped + (pose_feature @ posedirs).reshape(n, 3)
    # 4. rigid transforms down the kinematic tree, 24 x 4 x 4
    rel_joints = joints.copy()
    rel_joints[1:] -= joints[parents[1:]]
    local = np.zeros((24, 4, 4))
    local[:, :3, :3] = rot_mats
    local[:, :3, 3] = rel_joints
    local[:, 3, 3] = 1.0
    chain = [local[0]]
    for i in range(1, 24):
        chain.append(chain[parents[i]] @ local[i])
    transforms = np.stack(chain)
    posed_joints = transforms[:, :3, 3].copy()
    # transforms with the rest joint removed: A_j = G_j · [I, -J_j]
    rel = transforms.copy()
    rel[:, :3, 3] -= np.einsum("jab,jb->ja", transforms[:, :3, :3], joints)
    # 5. skinning: T = Σ_j w_mj A_j, N x 4 x 4
    blended = np.einsum("mj,jab->mab", arrays["weights"], rel)
    homogeneous = np.concatenate([v_posed, np.ones((n, 1))], axis=1)
    verts = np.einsum("mab,mb->ma", blended, homogeneous)[:, :3]
    t = transl[0].astype(np.float64)
    return verts + t, posed_joints + t


@pytest.fixture(scope="module")
def fit_result(procedural_model) -> FitResult:
    """A FitResult assembled by hand from the procedural model at a random pose."""
    rng = np.random.default_rng(7)
    model = procedural_model
    betas = rng.normal(scale=0.8, size=model.num_betas)
    global_orient = np.array([np.pi, 0.0, 0.0]) + rng.normal(scale=0.1, size=3)
    body_pose = rng.normal(scale=0.25, size=69)
    transl = np.array([0.05, 0.2, 8.0])
    out = model(betas=betas, body_pose=body_pose, global_orient=global_orient, transl=transl)
    camera = Camera(focal_length=1200.0, center=np.array([320.0, 240.0]))
    keypoints_2d = camera.project(out.joints)
    detections = keypoints_2d + rng.normal(scale=2.0, size=keypoints_2d.shape)
    data = float(np.sum((keypoints_2d - detections) ** 2))
    shape = float(np.sum((5.0 * betas) ** 2))
    energy = {"data": data, "pose": 0.0, "angle": 0.0, "shape": shape,
              "interpenetration": 0.0, "total": data + shape}
    return FitResult(betas=betas, global_orient=global_orient, body_pose=body_pose,
                     transl=transl, camera=camera, joints=out.joints, vertices=out.vertices,
                     faces=model.faces, keypoints_3d=out.joints, keypoints_2d=keypoints_2d,
                     energy=energy, summary={"orientation": "flipped"})


@pytest.mark.parametrize("suffix", [".obj", ".ply", ".glb"])
def test_mesh_round_trip_keeps_vertices_and_faces_in_order(tmp_path, fit_result, suffix):
    path = save_mesh(tmp_path / f"body{suffix}", fit_result.vertices, fit_result.faces)
    vertices, faces = load_mesh(path)
    np.testing.assert_array_equal(faces, fit_result.faces)
    if suffix == ".obj":  # text, 8 decimals
        np.testing.assert_allclose(vertices, np.round(fit_result.vertices, 8), rtol=0, atol=1e-12)
    else:  # float32 in the file
        np.testing.assert_array_equal(vertices, fit_result.vertices.astype(np.float32))


def test_mesh_keeps_unreferenced_vertices(tmp_path):
    vertices = np.array([[0.0, 0, 0], [9, 9, 9], [1, 0, 0], [0, 1, 0]])
    faces = np.array([[0, 2, 3]])
    for suffix in (".obj", ".ply", ".glb"):
        loaded, loaded_faces = load_mesh(save_mesh(tmp_path / f"m{suffix}", vertices, faces))
        np.testing.assert_array_equal(loaded, vertices)
        np.testing.assert_array_equal(loaded_faces, faces)


def test_obj_text_is_trimesh_export_character_for_character(tmp_path, fit_result):
    """save_mesh's own OBJ writer (faster) writes the file trimesh's export_obj wrote."""
    vertices = fit_result.vertices.copy()
    vertices[:4] = [[-0.0, 0.0, 1e-9], [-4e-9, 5e-9, -5e-9], [123.456789125, -1e3, 2.5e-8],
                    [0.1, 0.2, 0.3]]  # signed zeros, rounding at the 8th decimal
    for faces in (fit_result.faces, fit_result.faces.astype(np.int32)):
        written = save_mesh(tmp_path / "body.obj", vertices, faces).read_text()
        mesh = trimesh.Trimesh(vertices=vertices, faces=faces.astype(np.int64), process=False)
        assert written == trimesh.exchange.obj.export_obj(
            mesh, include_normals=False, include_color=False, include_texture=False, digits=8,
            header="smplify")


def test_save_mesh_rejects_bad_input(tmp_path, fit_result):
    with pytest.raises(ValueError, match="path"):
        save_mesh(tmp_path / "body.stl", fit_result.vertices, fit_result.faces)
    with pytest.raises(ValueError, match="vertices"):
        save_mesh(tmp_path / "body.obj", fit_result.vertices[:, :2], fit_result.faces)
    with pytest.raises(ValueError, match="faces"):
        save_mesh(tmp_path / "body.obj", fit_result.vertices, fit_result.faces + 10_000)
    with pytest.raises(ValueError, match="faces"):
        save_mesh(tmp_path / "body.obj", fit_result.vertices, fit_result.faces.astype(float))


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_params_round_trip(tmp_path, fit_result, procedural_model, suffix):
    path = save_params(tmp_path / f"fit{suffix}", fit_result, model=procedural_model)
    params = load_params(path)
    expected = fit_result.smplx_params()
    for key in SMPLX_KEYS:
        assert params[key].dtype == np.float32
        np.testing.assert_array_equal(params[key], expected[key])
    assert params["betas"].shape == (1, procedural_model.num_betas)
    assert params["global_orient"].shape == (1, 3)
    assert params["body_pose"].shape == (1, 69)
    assert params["transl"].shape == (1, 3)
    assert params["focal_length"] == fit_result.camera.focal_length
    np.testing.assert_array_equal(params["camera_center"], fit_result.camera.center)
    assert params["energy"] == fit_result.energy
    assert params["orientation"] == "flipped"
    assert params["model"] == procedural_model.name
    assert params["gender"] == "neutral"


def test_npz_holds_the_smplx_forward_arguments_as_they_are(tmp_path, fit_result):
    path = save_params(tmp_path / "fit.npz", fit_result)
    with np.load(path, allow_pickle=False) as npz:
        for key in SMPLX_KEYS:  # what smplx.SMPL()(**{k: torch.tensor(npz[k])}) receives
            assert npz[key].dtype == np.float32 and npz[key].ndim == 2 and len(npz[key]) == 1
        assert float(npz["energy_total"]) == fit_result.energy["total"]
    doc = json.loads(save_params(tmp_path / "fit.json", fit_result).read_text())
    assert len(doc["body_pose"][0]) == 69 and doc["energy"]["data"] == fit_result.energy["data"]


def test_saved_params_pose_our_model_like_smplx_lbs(tmp_path, fit_result, procedural_model,
                                                    procedural_arrays):
    params = load_params(save_params(tmp_path / "fit.npz", fit_result))
    args = {key: params[key] for key in SMPLX_KEYS}
    ours = procedural_model(**args)
    vertices, joints = smplx_style_lbs(procedural_arrays, **args)
    np.testing.assert_allclose(ours.vertices, vertices, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.joints, joints, rtol=0, atol=1e-10)
    # and the float32 parameters reproduce the fit's mesh to float32 precision
    np.testing.assert_allclose(ours.vertices, fit_result.vertices, rtol=0, atol=1e-5)


def test_load_params_rejects_other_files(tmp_path, fit_result):
    with pytest.raises(FileNotFoundError):
        load_params(tmp_path / "missing.npz")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"betas": [[0.0] * 10]}))
    with pytest.raises(ValueError, match="global_orient"):
        load_params(bad)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, betas=np.zeros((1, 10)), global_orient=np.zeros((1, 3)),
             body_pose=np.zeros((1, 72)), transl=np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"body_pose.*\(1, 69\)"):
        load_params(wrong)
    with pytest.raises(ValueError, match="path"):
        save_params(tmp_path / "fit.pkl", fit_result)
    with pytest.raises(TypeError, match="result"):
        save_params(tmp_path / "fit.npz", {"betas": np.zeros(10)})


def test_submodules_are_attributes_of_the_package_loaded_on_first_use():
    import subprocess
    import sys

    code = (
        "import sys, smplify\n"
        "lazy = ('export', 'render', 'synthetic', 'reference', 'pictures', 'motion',\n"
        "        'tracking', 'pipeline', 'detection')\n"
        "assert not [m for m in lazy if f'smplify.{m}' in sys.modules], sys.modules\n"
        "heavy = ('moderngl', 'mediapipe', 'cv2', 'PIL', 'trimesh')\n"
        "loaded = [m for m in heavy if m in sys.modules]\n"
        "assert not loaded, loaded\n"
        "assert smplify.export.save_mesh and smplify.render and smplify.synthetic\n"
        "assert smplify.reference.fit\n"
        # The README's own imports (from smplify import pictures / motion) as attributes too.
        "assert smplify.pictures.draw_fits and smplify.motion.save_glb\n"
        "assert smplify.tracking.Tracker and smplify.pipeline.run and smplify.detection.detect\n"
        "assert not [m for m in ('moderngl', 'mediapipe') if m in sys.modules]\n"
        "assert set(lazy) <= set(dir(smplify)) and set(lazy) <= set(smplify.__all__)\n"
        "try:\n"
        "    smplify.no_such_module\n"
        "except AttributeError as err:\n"
        "    assert 'no_such_module' in str(err)\n"
        "else:\n"
        "    raise SystemExit('no AttributeError')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=False)
    assert run.returncode == 0, run.stderr


def test_glb_files_are_y_up_so_viewers_show_an_upright_fit_upright(tmp_path, open_model):
    """glTF's +y is up; a fit is in the OpenCV camera frame (y down). An upright person facing
    the camera (global_orient = (π, 0, 0)) must have its head at the file's largest y."""
    out = open_model(global_orient=np.array([np.pi, 0.0, 0.0]), transl=np.array([0, 0, 3.0]))
    path = save_mesh(tmp_path / "upright.glb", out.vertices, open_model.faces)
    raw = np.asarray(trimesh.load(path, force="mesh", process=False).vertices)
    head, foot = out.joints[15], out.joints[10]  # camera frame: head has the smaller y
    assert head[1] < foot[1]
    top = raw[np.argmax(raw[:, 1])]
    assert np.linalg.norm(top - head * [1, -1, -1]) < 0.3  # the top of the file is the head
    np.testing.assert_allclose(raw, (out.vertices * [1, -1, -1]).astype(np.float32))
    np.testing.assert_array_equal(load_mesh(path)[0], out.vertices.astype(np.float32))
