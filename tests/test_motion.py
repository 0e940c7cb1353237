"""Motion export: the animated .glb parses back consistently and skins to the model's mesh,
the BVH reproduces the joints by forward kinematics, the .npz holds smplx's keys."""

from __future__ import annotations

import json
import struct
from types import SimpleNamespace

import numpy as np
import pytest
import smplify
from scipy.spatial.transform import Rotation
from smplify.motion import save_bvh, save_glb, save_npz

FLIP = np.diag([1.0, -1.0, -1.0])
COMPONENT = {5126: np.float32, 5123: np.uint16, 5125: np.uint32}
WIDTH = {"SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16}


@pytest.fixture(scope="module")
def model():
    return smplify.load_model("open")


@pytest.fixture(scope="module")
def motion(model):
    """Five frames of a moving, turning body (the fields of a SequenceResult that export
    reads)."""
    rng = np.random.default_rng(2)
    T = 5
    body_pose = 0.3 * rng.normal(size=(T, 69))
    global_orient = np.stack([(Rotation.from_rotvec([np.pi, 0, 0])
                               * Rotation.from_rotvec([0, 0.4 * t, 0])).as_rotvec()
                              for t in range(T)])
    transl = np.array([[0.1 * t, 0.2, 4.0] for t in range(T)])
    betas = rng.normal(size=model.num_betas)
    joints = np.stack([model(betas=betas, body_pose=body_pose[t], global_orient=global_orient[t],
                             transl=transl[t]).joints for t in range(T)])
    return SimpleNamespace(betas=betas, body_pose=body_pose, global_orient=global_orient,
                           transl=transl, joints=joints,
                           camera=smplify.Camera(1000.0, np.array([320.0, 240.0])))


def read_glb(path):
    data = path.read_bytes()
    magic, version, length = struct.unpack_from("<III", data)
    assert (magic, version, length) == (0x46546C67, 2, len(data))
    json_len, json_type = struct.unpack_from("<II", data, 12)
    assert json_type == 0x4E4F534A and json_len % 4 == 0
    doc = json.loads(data[20:20 + json_len])
    bin_len, bin_type = struct.unpack_from("<II", data, 20 + json_len)
    assert bin_type == 0x004E4942 and bin_len % 4 == 0
    binary = data[28 + json_len:28 + json_len + bin_len]
    assert doc["buffers"][0]["byteLength"] <= bin_len

    def accessor(i):
        a = doc["accessors"][i]
        view = doc["bufferViews"][a["bufferView"]]
        dtype = COMPONENT[a["componentType"]]
        n = a["count"] * WIDTH[a["type"]]
        assert n * np.dtype(dtype).itemsize <= view["byteLength"]
        assert view["byteOffset"] % np.dtype(dtype).itemsize == 0
        arr = np.frombuffer(binary, dtype, n, view["byteOffset"])
        return arr.reshape(a["count"], -1) if WIDTH[a["type"]] > 1 else arr

    return doc, accessor


def node_matrix(node, rotation=None, translation=None):
    m = np.eye(4)
    q = node.get("rotation", [0, 0, 0, 1]) if rotation is None else rotation
    m[:3, :3] = Rotation.from_quat(q).as_matrix()
    m[:3, 3] = node.get("translation", [0, 0, 0]) if translation is None else translation
    return m


def test_glb_is_consistent_and_skins_to_the_model_mesh(model, motion, tmp_path) -> None:
    path = save_glb(tmp_path / "fit.glb", motion, model, fps=30)
    doc, accessor = read_glb(path)
    import trimesh

    scene = trimesh.load(path, process=False)  # an independent glTF reader opens it
    assert sum(len(g.vertices) for g in scene.geometry.values()) == model.num_vertices
    prim = doc["meshes"][0]["primitives"][0]
    positions = accessor(prim["attributes"]["POSITION"])
    n = model.num_vertices
    assert positions.shape == (n, 3)
    a = doc["accessors"][prim["attributes"]["POSITION"]]
    np.testing.assert_allclose(a["min"], positions.min(axis=0))
    assert accessor(prim["attributes"]["JOINTS_0"]).shape == (n, 4)
    weights = accessor(prim["attributes"]["WEIGHTS_0"])
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-6)
    assert accessor(prim["attributes"]["JOINTS_0"]).max() < 24
    assert accessor(prim["indices"]).max() < n and accessor(prim["indices"]).size % 3 == 0
    skin = doc["skins"][0]
    assert skin["joints"] == list(range(24))
    ibm = accessor(skin["inverseBindMatrices"]).reshape(24, 4, 4).transpose(0, 2, 1)
    anim = doc["animations"][0]
    assert len(anim["channels"]) == 25
    times = accessor(anim["samplers"][0]["input"])
    np.testing.assert_allclose(times, np.arange(5) / 30, atol=1e-7)
    for s in anim["samplers"]:
        assert doc["accessors"][s["output"]]["count"] == 5

    # Skin frame 3 from the file alone and compare with the model's posed mesh (y-up).
    t = 3
    local = {}
    for ch in anim["channels"]:
        value = accessor(anim["samplers"][ch["sampler"]]["output"])[t]
        local.setdefault(ch["target"]["node"], {})[ch["target"]["path"]] = value
    world = [None] * 24
    parents = np.asarray(model.parents)
    for j in range(24):
        m = node_matrix(doc["nodes"][j], local[j].get("rotation"), local[j].get("translation"))
        world[j] = m if j == 0 else world[parents[j]] @ m
    top = accessor(prim["attributes"]["JOINTS_0"]).astype(int)
    skinning = np.stack([world[j] @ ibm[j] for j in range(24)])  # (24, 4, 4)
    homogeneous = np.column_stack([positions, np.ones(n)])
    skinned = np.einsum("vk,vkab,vb->va", weights, skinning[top], homogeneous)[:, :3]
    expected = model(betas=motion.betas, body_pose=motion.body_pose[t],
                     global_orient=motion.global_orient[t], transl=motion.transl[t]).vertices
    # Only the 4 largest skinning weights are kept: compare where they hold nearly all.
    full = np.asarray(model.weights)
    kept = np.take_along_axis(full, top, axis=1).sum(axis=1) > 0.999
    assert kept.mean() > 0.5
    np.testing.assert_allclose(skinned[kept], (expected @ FLIP)[kept], atol=2e-4)
    joints_world = np.stack([w[:3, 3] for w in world])
    np.testing.assert_allclose(joints_world, motion.joints[t] @ FLIP, atol=1e-5)


def read_bvh(path):
    lines = path.read_text().split("\n")
    names, offsets, parents, stack = [], [], [], []
    i = 0
    while lines[i].strip() != "MOTION":
        word = lines[i].split()
        if word and word[0] in ("ROOT", "JOINT"):
            parents.append(stack[-1] if stack else -1)
            names.append(word[1])
            stack.append(len(offsets))
            offsets.append(None)
        elif word and word[0] == "OFFSET" and offsets and offsets[-1] is None:
            offsets[-1] = np.array(word[1:4], float)
        elif word and word[0] == "End":
            stack.append(-2)
        elif word and word[0] == "}":
            stack.pop()
        i += 1
    frames = int(lines[i + 1].split()[1])
    motion = np.array([line.split() for line in lines[i + 3:i + 3 + frames]], float)
    return names, np.array(offsets), np.array(parents), motion


def test_bvh_reproduces_the_joints(model, motion, tmp_path) -> None:
    names, offsets, parents, data = read_bvh(save_bvh(tmp_path / "fit.bvh", motion, model))
    assert len(offsets) == 24 and data.shape == (5, 3 + 72)
    smpl = [smplify.JOINT_NAMES.index(n) for n in names]  # file order -> SMPL index
    np.testing.assert_array_equal([smpl[p] for p in parents[1:]],
                                  np.asarray(model.parents)[smpl[1:]])
    for t in range(5):
        rot = Rotation.from_euler("ZXY", data[t, 3:].reshape(24, 3), degrees=True).as_matrix()
        g, p = [None] * 24, [None] * 24
        for j in range(24):
            if j == 0:
                g[0], p[0] = rot[0], data[t, :3]
            else:
                g[j] = g[parents[j]] @ rot[j]
                p[j] = p[parents[j]] + g[parents[j]] @ offsets[j]
        np.testing.assert_allclose(np.array(p), motion.joints[t][smpl] @ FLIP, atol=1e-5)


def test_npz_holds_the_smplx_batch(motion, tmp_path) -> None:
    with np.load(save_npz(tmp_path / "fit.npz", motion, fps=25)) as z:
        assert z["betas"].shape == (5, len(motion.betas)) and z["betas"].dtype == np.float32
        np.testing.assert_allclose(z["body_pose"], motion.body_pose, atol=1e-6)
        np.testing.assert_allclose(z["transl"], motion.transl, atol=1e-6)
        assert float(z["fps"]) == 25.0 and z["joints"].shape == (5, 24, 3)
        # the rate as np.load gives it back (a 0-d array) is taken as it is
        assert "Frame Time: 0.04000000" in save_bvh(tmp_path / "fit.bvh", motion, "open",
                                                     fps=z["fps"]).read_text()


@pytest.mark.parametrize("fps", [0, -1.0, float("nan"), float("inf"), "30", True, None,
                                 np.array([30.0]), np.array(True)])
def test_a_rate_that_is_not_a_positive_number_is_refused(model, motion, tmp_path, fps) -> None:
    for save in (lambda p: save_glb(p, motion, model, fps=fps),
                 lambda p: save_bvh(p, motion, model, fps=fps),
                 lambda p: save_npz(p, motion, fps=fps)):
        with pytest.raises(ValueError, match="fps: expected a positive number"):
            save(tmp_path / "fit")
    assert not list(tmp_path.iterdir())  # nothing written (a glb's times were NaN or inf)


@pytest.mark.parametrize("change, fragment", [
    (lambda m: {"body_pose": m.body_pose[0], "global_orient": m.global_orient[0],
                "transl": m.transl[0]}, "a photo's fit is one body"),
    (lambda m: {"transl": m.transl[:3]}, r"transl must be \(5, 3\) for 5 frames"),
    (lambda m: {"betas": np.tile(m.betas, (5, 1))}, "one shape for the sequence"),
    (lambda m: {"body_pose": np.where(np.arange(69) == 4, np.nan, m.body_pose)},
     "body_pose must be finite"),
])
def test_parameters_that_are_not_a_sequence_are_refused(model, motion, tmp_path, change,
                                                         fragment) -> None:
    bad = SimpleNamespace(**{**vars(motion), **change(motion)})
    for save in (lambda p: save_glb(p, bad, model), lambda p: save_bvh(p, bad, model),
                 lambda p: save_npz(p, bad)):
        with pytest.raises(ValueError, match=fragment):
            save(tmp_path / "fit")


def test_the_model_by_name_as_fit_takes_it(model, motion, tmp_path) -> None:
    for save, name in ((save_glb, "fit.glb"), (save_bvh, "fit.bvh")):
        by_name = save(tmp_path / f"named_{name}", motion, "open").read_bytes()
        assert by_name == save(tmp_path / name, motion, model).read_bytes()
