"""Keypoint formats: orders, left/right symmetry, resolution against models, input checks."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from smplify import keypoints as kf
from smplify.errors import KeypointError

ROOT = Path(__file__).resolve().parents[1]

# The detectors' own orders, written out from their documentation (not from the module).
COCO17 = (
    "nose left_eye right_eye left_ear right_ear left_shoulder right_shoulder left_elbow "
    "right_elbow left_wrist right_wrist left_hip right_hip left_knee right_knee left_ankle "
    "right_ankle"
).split()
OPENPOSE25 = (
    "nose neck right_shoulder right_elbow right_wrist left_shoulder left_elbow left_wrist "
    "mid_hip right_hip right_knee right_ankle left_hip left_knee left_ankle right_eye left_eye "
    "right_ear left_ear left_big_toe left_small_toe left_heel right_big_toe right_small_toe "
    "right_heel"
).split()
MEDIAPIPE33 = (
    "nose left_eye_inner left_eye left_eye_outer right_eye_inner right_eye right_eye_outer "
    "left_ear right_ear mouth_left mouth_right left_shoulder right_shoulder left_elbow "
    "right_elbow left_wrist right_wrist left_pinky right_pinky left_index right_index "
    "left_thumb right_thumb left_hip right_hip left_knee right_knee left_ankle right_ankle "
    "left_heel right_heel left_foot_index right_foot_index"
).split()
LSP14 = (
    "right_ankle right_knee right_hip left_hip left_knee left_ankle right_wrist right_elbow "
    "right_shoulder left_shoulder left_elbow left_wrist neck head_top"
).split()


def _design_joint_names() -> list[str]:
    text = (ROOT / "docs" / "design.md").read_text()
    section = text.split("## Joints (SMPL order, 24)", 1)[1].split("\n\n", 1)[0]
    pairs = re.findall(r"(\d+) ([a-z0-9_]+)[,.]", section)
    assert [int(i) for i, _ in pairs] == list(range(24))
    return [name for _, name in pairs]


def _mirror(name: str) -> str:
    if "left" in name:
        return name.replace("left", "right")
    return name.replace("right", "left")


# ---------------------------------------------------------------- formats themselves


def test_format_names_orders_and_lengths():
    assert kf.format_names() == ("smpl24", "coco17", "openpose25", "mediapipe33", "lsp14")
    assert list(kf.JOINT_NAMES) == _design_joint_names()
    expected = {
        "smpl24": _design_joint_names(),
        "coco17": COCO17,
        "openpose25": OPENPOSE25,
        "mediapipe33": MEDIAPIPE33,
        "lsp14": LSP14,
    }
    for name, order in expected.items():
        fmt = kf.get_format(name)
        assert fmt.name == name
        assert list(fmt.keypoint_names) == order
        assert fmt.num_keypoints == len(order) == len(fmt.targets) == fmt.weights.shape[0]
        assert fmt.index(order[-1]) == len(order) - 1
    assert kf.get_format(kf.get_format("coco17")) is kf.get_format("coco17")


def test_docstring_tables_match_the_formats():
    doc = kf.formats.__doc__
    for name in kf.format_names():
        block = doc.split(f"``{name}``", 1)[1].split("==\n\n", 1)[0]
        rows = re.findall(r"^\s*(\d+)  (\w+)\s+(.+)$", block, flags=re.M)
        fmt = kf.get_format(name)
        assert [int(i) for i, _, _ in rows] == list(range(fmt.num_keypoints)), name
        for (_, kp, targets), k_name, cands in zip(
            rows, fmt.keypoint_names, fmt.targets, strict=True
        ):
            assert kp == k_name
            listed = re.findall(r"(\w+) \(([\d.]+)\)", targets)
            assert [(t, float(w)) for t, w in listed] == [(c.name, c.weight) for c in cands]


def test_every_target_is_a_joint_or_a_surface_keypoint():
    known = set(kf.JOINT_NAMES) | set(kf.SURFACE_KEYPOINT_NAMES) | set(kf.BLENDED_KEYPOINTS)
    assert len(kf.SURFACE_KEYPOINT_NAMES) == 36
    for parts in kf.BLENDED_KEYPOINTS.values():  # blends of surface keypoints, shares sum to 1
        assert all(p in kf.SURFACE_KEYPOINT_NAMES and 0 < w < 1 for p, w in parts)
        assert sum(w for _, w in parts) == pytest.approx(1.0)
    assert not set(kf.JOINT_NAMES) & set(kf.SURFACE_KEYPOINT_NAMES)
    for name in kf.format_names():
        for cands in kf.get_format(name).targets:
            assert cands and all(c.name in known and c.weight >= 0 for c in cands)
    assert set(kf.SMPL_VERTEX_IDS) <= set(kf.SURFACE_KEYPOINT_NAMES)
    ids = list(kf.SMPL_VERTEX_IDS.values())
    assert len(set(ids)) == len(ids) and all(0 <= i < 6890 for i in ids)


@pytest.mark.parametrize("name", ["smpl24", "coco17", "openpose25", "mediapipe33", "lsp14"])
def test_left_right_consistency(name):
    fmt = kf.get_format(name)
    for kp, cands in zip(fmt.keypoint_names, fmt.targets, strict=True):
        sides = {s for s in ("left", "right") if s in kp}
        for c in cands:
            # a left keypoint goes to left targets only, a central one to central targets
            assert {s for s in ("left", "right") if s in c.name} == sides, (kp, c)
        if sides:
            other = fmt.targets[fmt.index(_mirror(kp))]
            assert [(_mirror(c.name), c.weight) for c in cands] == list(other)
    for side in ("left", "right"):  # the SMPL vertex table: each side has its mirror
        for surf in kf.SMPL_VERTEX_IDS:
            if side in surf:
                assert _mirror(surf) in kf.SMPL_VERTEX_IDS


def test_smplify_lsp_hips_and_neck_weights():
    """On the official model, LSP maps as SMPLify does: hips and neck at 0, head top at 1."""
    res = kf.resolve_format("lsp14", (), 6890)
    w = dict(zip(LSP14, res.weights, strict=True))
    assert w["left_hip"] == w["right_hip"] == w["neck"] == 0.0
    assert w["head_top"] == 1.0 and res.vertex_ids[13].tolist() == [411]
    assert all(w[k] == 1.0 for k in LSP14 if k not in ("left_hip", "right_hip", "neck"))


def test_custom_format_is_checked():
    good = kf.KeypointFormat("mine", ("a", "b"), ((("nose", 1.0),), (("head", 0.5),)))
    res = kf.resolve_format(good, (), 6890)
    assert res.target_names == ("nose", "head") and res.weights.tolist() == [1.0, 0.5]
    with pytest.raises(ValueError, match="unknown model point"):
        kf.KeypointFormat("mine", ("a",), ((("elbow", 1.0),),))
    with pytest.raises(ValueError, match="weight"):
        kf.KeypointFormat("mine", ("a",), ((("nose", -1.0),),))
    with pytest.raises(ValueError, match="targets"):
        kf.KeypointFormat("mine", ("a", "b"), ((("nose", 1.0),),))
    with pytest.raises(ValueError, match="duplicate"):
        kf.KeypointFormat("mine", ("a", "a"), ((("nose", 1.0),), (("nose", 1.0),)))
    with pytest.raises(ValueError, match="no candidate"):
        kf.KeypointFormat("mine", ("a",), ((),))
    with pytest.raises(ValueError, match="keypoint_name"):
        good.index("c")


def test_unknown_format_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"format.*'coco18'.*smpl24, coco17, openpose25"):
        kf.get_format("coco18")
    with pytest.raises(TypeError, match="format"):
        kf.get_format(17)
    with pytest.raises(ValueError, match="lsp14"):
        kf.resolve_format("body25", (), 6890)


# ---------------------------------------------------------------- resolution


def test_resolve_on_the_official_smpl_topology():
    res = kf.resolve_format("coco17", (), 6890)
    t = dict(zip(COCO17, res.target_names, strict=True))
    assert t["nose"] == "nose" and res.vertex_ids[0].tolist() == [332]
    assert res.vertex_ids[1].tolist() == [2800] and res.vertex_ids[2].tolist() == [6260]
    assert t["left_shoulder"] == "left_shoulder" and res.joint_index[5] == 16
    assert res.joint_index[6] == 17 and res.weights[5] == res.weights[6] == 1.0
    assert t["left_hip"] == "left_hip" and res.joint_index[11] == 1 and res.weights[11] == 0.0
    assert res.available.all()
    assert (res.model_keypoint_index == -1).all()
    # each keypoint is exactly one of: joint, vertex row
    is_joint = res.joint_index >= 0
    has_rows = np.array([len(v) > 0 for v in res.vertex_ids])
    assert (is_joint ^ has_rows).all()

    mp = kf.resolve_format("mediapipe33", (), 6890)
    t = dict(zip(MEDIAPIPE33, mp.target_names, strict=True))
    w = dict(zip(MEDIAPIPE33, mp.weights, strict=True))
    for missing in ("left_eye_inner", "right_eye_outer", "mouth_left", "mouth_right"):
        assert t[missing] is None and w[missing] == 0.0
    assert mp.vertex_ids[MEDIAPIPE33.index("left_heel")].tolist() == [3387]
    assert mp.vertex_ids[MEDIAPIPE33.index("right_foot_index")].tolist() == [6617]
    assert t["left_pinky"] == t["left_index"] == "left_hand" and w["left_pinky"] == 0.5
    assert mp.joint_index[MEDIAPIPE33.index("right_index")] == 23
    assert t["left_thumb"] == "left_thumb" and w["left_thumb"] == 0.0
    assert mp.available.sum() == 33 - 6


def test_resolve_without_regressors_on_another_topology():
    """A non-SMPL mesh without regressors: joints only; surface keypoints unavailable."""
    res = kf.resolve_format("openpose25", (), 5000)
    for k, name in enumerate(OPENPOSE25):
        if name in ("nose",) or "eye" in name or "ear" in name or "toe" in name or "heel" in name:
            assert res.target_names[k] is None and res.weights[k] == 0.0
        else:
            assert res.joint_index[k] >= 0
    assert res.surface_vertex_ids.size == 0
    assert res.surface_regressor().shape == (25, 0)
    pos = res.keypoint_positions(np.zeros((24, 3)), np.zeros((5000, 3)))
    assert np.isnan(pos[0]).all() and np.isfinite(pos[1]).all()


def _fake_regressor(names, n, seed=0):
    rng = np.random.default_rng(seed)
    reg = np.zeros((len(names), n))
    for m in range(len(names)):
        ids = rng.choice(n, size=3, replace=False)
        w = rng.random(3) + 0.1
        reg[m, ids] = w / w.sum()
    return reg


def test_resolve_on_a_model_carrying_the_names():
    names = list(kf.SURFACE_KEYPOINT_NAMES)[::-1]  # any order
    n = 120
    reg = _fake_regressor(names, n)
    res = kf.resolve_format("coco17", names, n, keypoint_regressor=reg)
    assert res.available.all() and (res.weights == 1.0).all()  # COCO hips: weight 1 now
    assert (res.joint_index == -1).all()
    for k, name in enumerate(COCO17):
        target = name if k < 5 else f"coco_{name}"
        m = names.index(target)
        assert res.target_names[k] == target and res.model_keypoint_index[k] == m
        np.testing.assert_array_equal(res.vertex_ids[k], np.flatnonzero(reg[m]))
        np.testing.assert_allclose(res.vertex_weights[k], reg[m, res.vertex_ids[k]])

    rng = np.random.default_rng(1)
    joints, verts = rng.normal(size=(24, 3)), rng.normal(size=(n, 3))
    pos = res.keypoint_positions(joints, verts)
    rows = [names.index(t) for t in res.target_names]
    np.testing.assert_allclose(pos, reg[rows] @ verts)
    ids = res.surface_vertex_ids
    np.testing.assert_allclose(res.surface_regressor() @ verts[ids], pos)

    # scipy sparse input gives the same rows; a model name wins over SMPL's vertex table
    from scipy import sparse  # a dependency of smplify: never a skip
    big = _fake_regressor(["nose", "coco_left_hip"], 6890)
    res2 = kf.resolve_format("coco17", ("nose", "coco_left_hip"), 6890, sparse.csr_matrix(big))
    assert res2.model_keypoint_index[0] == 0
    np.testing.assert_array_equal(res2.vertex_ids[0], np.flatnonzero(big[0]))
    assert res2.target_names[11] == "coco_left_hip" and res2.weights[11] == 1.0
    assert res2.target_names[12] == "right_hip" and res2.weights[12] == 0.0  # fallback
    assert res2.vertex_ids[1].tolist() == [2800]  # left_eye still from the vertex table


def test_mediapipe_hips_are_one_blended_row():
    """MediaPipe's blended hips (with_blended_hips): one regressor row, MEDIAPIPE_HIP_SHARE of
    the way from the COCO hip's row to the COCO knee's; the COCO hip when the model has no
    COCO knee; SMPL's hip joint (weight 0) on the official topology; every built-in format,
    mediapipe33 included, keeps COCO's hip."""
    names = list(kf.SURFACE_KEYPOINT_NAMES)
    n = 120
    reg = _fake_regressor(names, n)
    blended = kf.with_blended_hips(kf.get_format("mediapipe33"))
    assert blended.keypoint_names == kf.get_format("mediapipe33").keypoint_names
    res = kf.resolve_format(blended, names, n, keypoint_regressor=reg)
    s = kf.MEDIAPIPE_HIP_SHARE
    assert 0.05 < s < 0.2
    rng = np.random.default_rng(2)
    verts = rng.normal(size=(n, 3))
    pos = res.keypoint_positions(rng.normal(size=(24, 3)), verts)
    for side in ("left", "right"):
        k = MEDIAPIPE33.index(f"{side}_hip")
        assert res.target_names[k] == f"mediapipe_{side}_hip" and res.weights[k] == 1.0
        assert res.model_keypoint_index[k] == -1
        row = (1 - s) * reg[names.index(f"coco_{side}_hip")] \
            + s * reg[names.index(f"coco_{side}_knee")]
        np.testing.assert_array_equal(res.vertex_ids[k], np.flatnonzero(row))
        np.testing.assert_allclose(res.vertex_weights[k], row[res.vertex_ids[k]])
        np.testing.assert_allclose(pos[k], row @ verts)
    surface = res.available & (res.joint_index < 0)
    ids = res.surface_vertex_ids
    np.testing.assert_allclose((res.surface_regressor() @ verts[ids])[surface], pos[surface])
    for fmt in ("coco17", "openpose25", "lsp14", "mediapipe33"):
        other = kf.resolve_format(fmt, names, n, keypoint_regressor=reg)
        assert "coco_left_hip" in other.target_names
        assert not any(t and t.startswith("mediapipe_") for t in other.target_names)

    no_knees = [x for x in names if x != "coco_left_knee"]
    part = kf.resolve_format(blended, no_knees, n, _fake_regressor(no_knees, n))
    assert part.target_names[MEDIAPIPE33.index("left_hip")] == "coco_left_hip"
    assert part.target_names[MEDIAPIPE33.index("right_hip")] == "mediapipe_right_hip"
    unrowed = kf.resolve_format(blended, names, n)
    k = MEDIAPIPE33.index("left_hip")
    assert unrowed.available[k] and unrowed.model_keypoint_index[k] == -1
    with pytest.raises(ValueError, match="pass keypoint_regressor"):
        unrowed.keypoint_positions(np.zeros((24, 3)), np.zeros((n, 3)))
    smpl = kf.resolve_format(blended, (), 6890)
    assert smpl.target_names[k] == "left_hip" and smpl.weights[k] == 0.0


def test_resolve_with_names_but_no_regressor():
    res = kf.resolve_format("lsp14", ["head_top"], 300)
    assert res.target_names[13] == "head_top" and res.model_keypoint_index[13] == 0
    assert res.vertex_ids[13].size == 0
    with pytest.raises(ValueError, match="keypoint_regressor"):
        res.keypoint_positions(np.zeros((24, 3)), np.zeros((300, 3)))


def test_resolve_rejects_bad_arguments():
    with pytest.raises(ValueError, match="num_vertices"):
        kf.resolve_format("coco17", (), 0)
    with pytest.raises(TypeError, match="num_vertices"):
        kf.resolve_format("coco17", (), 6890.0)
    with pytest.raises(TypeError, match="model_keypoint_names"):
        kf.resolve_format("coco17", "nose", 6890)
    with pytest.raises(TypeError, match="model_keypoint_names"):
        kf.resolve_format("coco17", ["nose", 3], 6890)
    with pytest.raises(ValueError, match="model_keypoint_names"):
        kf.resolve_format("coco17", ["nose", "nose"], 6890)
    with pytest.raises(ValueError, match=r"keypoint_regressor.*\(1, 50\)"):
        kf.resolve_format("coco17", ["nose"], 50, keypoint_regressor=np.zeros((1, 49)))
    with pytest.raises(ValueError, match="keypoint_regressor.*non-finite"):
        kf.resolve_format("coco17", ["nose"], 2, keypoint_regressor=[[np.nan, 1.0]])
    with pytest.raises(ValueError, match="keypoint_regressor.*all zero"):
        kf.resolve_format("coco17", ["nose"], 2, keypoint_regressor=[[0.0, 0.0]])
    res = kf.resolve_format("coco17", (), 6890)
    with pytest.raises(ValueError, match="joints"):
        res.keypoint_positions(np.zeros((23, 3)), np.zeros((6890, 3)))
    with pytest.raises(ValueError, match="vertices"):
        res.keypoint_positions(np.zeros((24, 3)), np.zeros((6889, 3)))


# ---------------------------------------------------------------- keypoint input


def test_validate_keypoints_accepts_and_normalises():
    rng = np.random.default_rng(2)
    kp = np.column_stack([rng.uniform(0, 500, (17, 2)), rng.uniform(0, 1, 17)])
    xy, conf = kf.validate_keypoints(kp.tolist(), "coco17")
    assert xy.dtype == conf.dtype == np.float64 and xy.shape == (17, 2) and conf.shape == (17,)
    np.testing.assert_array_equal(xy, kp[:, :2])
    np.testing.assert_array_equal(conf, kp[:, 2])

    xy, conf = kf.validate_keypoints(kp[:, :2].astype(np.int32), kf.get_format("coco17"))
    assert (conf == 1.0).all() and xy.dtype == np.float64

    missing = kp.copy()
    missing[3] = [np.nan, np.nan, 0.0]  # NaN row, confidence 0
    missing[4, 2] = np.nan  # NaN confidence
    missing[5, :2] = np.inf
    missing[5, 2] = 0.0
    xy, conf = kf.validate_keypoints(missing, "coco17")
    assert conf[3] == conf[4] == conf[5] == 0.0
    assert xy[3].tolist() == [0.0, 0.0] and xy[5].tolist() == [0.0, 0.0]
    np.testing.assert_array_equal(xy[4], kp[4, :2])  # finite x, y are kept
    assert np.isnan(missing[3, 0])  # the input is not modified

    two = kp[:, :2].copy()
    two[7] = np.nan
    xy, conf = kf.validate_keypoints(two, "coco17")
    assert conf[7] == 0.0 and xy[7].tolist() == [0.0, 0.0] and conf.sum() == 16


@pytest.mark.parametrize(
    ("keypoints", "exc", "pattern"),
    [
        (np.zeros((16, 3)), ValueError, r"keypoints.*\(17, 3\) or \(17, 2\)"),
        (np.zeros((17, 4)), ValueError, r"keypoints.*\(17, 3\)"),
        (np.zeros(51), ValueError, r"keypoints.*\(17, 3\)"),
        (np.zeros((1, 17, 3)), ValueError, r"keypoints.*\(17, 3\)"),
        ([[1.0, 2.0, 1.0]] * 16 + [[1.0, 2.0]], ValueError, "keypoints"),
        (np.full((17, 3), "a"), TypeError, "keypoints"),
        ([["1", "2", "3"]] * 17, TypeError, "keypoints"),
        (np.ones((17, 3), dtype=bool), TypeError, "keypoints"),
        (np.ones((17, 3), dtype=complex), TypeError, "keypoints"),
        ([[object(), 1, 1]] * 17, TypeError, "keypoints"),
    ],
)
def test_validate_keypoints_rejects_bad_input(keypoints, exc, pattern):
    with pytest.raises(exc, match=pattern):
        kf.validate_keypoints(keypoints, "coco17")


def test_validate_keypoints_rejects_bad_values():
    kp = np.ones((14, 3))
    bad = kp.copy()
    bad[2, 0] = np.nan
    with pytest.raises(KeypointError, match=r"keypoints.*2 \('right_hip'\).*non-finite"):
        kf.validate_keypoints(bad, "lsp14")
    bad = kp.copy()
    bad[13, 1] = np.inf
    with pytest.raises(ValueError, match="head_top"):
        kf.validate_keypoints(bad, "lsp14")
    bad = kp.copy()
    bad[0, 2] = -0.1
    with pytest.raises(ValueError, match=r"keypoints.*confidence.*right_ankle"):
        kf.validate_keypoints(bad, "lsp14")
    bad = kp.copy()
    bad[0, 2] = np.inf
    with pytest.raises(ValueError, match="confidence"):
        kf.validate_keypoints(bad, "lsp14")
    bad = kp[:, :2].copy()
    bad[1, 0] = np.nan  # only one coordinate NaN in a (K, 2) input: an error, not "missing"
    with pytest.raises(ValueError, match="right_knee"):
        kf.validate_keypoints(bad, "lsp14")
    with pytest.raises(ValueError, match="format"):
        kf.validate_keypoints(kp, "lsp15")


# ---------------------------------------------------------------- converters


def _openpose_doc(rng, n_people=2, n=25):
    return {
        "version": 1.3,
        "people": [
            {
                "person_id": [-1],
                "pose_keypoints_2d": np.column_stack(
                    [rng.uniform(0, 640, (n, 2)), rng.uniform(0, 1, n)]
                )
                .ravel()
                .tolist(),
                "face_keypoints_2d": [],
            }
            for _ in range(n_people)
        ],
    }


def test_openpose_json(tmp_path):
    rng = np.random.default_rng(3)
    doc = _openpose_doc(rng)
    path = tmp_path / "frame_000000_keypoints.json"
    path.write_text(json.dumps(doc))
    want = np.asarray(doc["people"][1]["pose_keypoints_2d"]).reshape(25, 3)
    for source in (path, str(path), doc):
        got = kf.keypoints_from_openpose_json(source, person=1)
        assert got.shape == (25, 3) and got.dtype == np.float64
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(kf.keypoints_from_openpose_json(doc, person=-1), want)
    xy, conf = kf.validate_keypoints(kf.keypoints_from_openpose_json(doc), "openpose25")
    assert xy.shape == (25, 2)


def test_openpose_json_coco18_model():
    rng = np.random.default_rng(4)
    doc = _openpose_doc(rng, n_people=1, n=18)
    rows = np.asarray(doc["people"][0]["pose_keypoints_2d"]).reshape(18, 3)
    got = kf.keypoints_from_openpose_json(doc)
    names18 = (
        "nose neck right_shoulder right_elbow right_wrist left_shoulder left_elbow left_wrist "
        "right_hip right_knee right_ankle left_hip left_knee left_ankle right_eye left_eye "
        "right_ear left_ear"
    ).split()
    for i, name in enumerate(names18):
        np.testing.assert_array_equal(got[OPENPOSE25.index(name)], rows[i])
    absent = [OPENPOSE25.index(n) for n in OPENPOSE25 if n not in names18]
    assert len(absent) == 7 and (got[absent] == 0).all()


def test_openpose_json_errors(tmp_path):
    rng = np.random.default_rng(5)
    doc = _openpose_doc(rng)
    with pytest.raises(ValueError, match=r"person.*2 people"):
        kf.keypoints_from_openpose_json(doc, person=2)
    with pytest.raises(TypeError, match="person"):
        kf.keypoints_from_openpose_json(doc, person="0")
    with pytest.raises(ValueError, match="person.*0 people"):
        kf.keypoints_from_openpose_json({"people": []})
    with pytest.raises(ValueError, match="people"):
        kf.keypoints_from_openpose_json({"version": 1.3})
    with pytest.raises(ValueError, match="pose_keypoints_2d"):
        kf.keypoints_from_openpose_json({"people": [{"face_keypoints_2d": []}]})
    with pytest.raises(ValueError, match="75 numbers"):
        kf.keypoints_from_openpose_json({"people": [{"pose_keypoints_2d": [0.0] * 60}]})
    with pytest.raises(TypeError, match="path_or_dict"):
        kf.keypoints_from_openpose_json({"people": [{"pose_keypoints_2d": ["a"] * 75}]})
    with pytest.raises(TypeError, match="path_or_dict"):
        kf.keypoints_from_openpose_json(42)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        kf.keypoints_from_openpose_json(bad)
    with pytest.raises(FileNotFoundError):
        kf.keypoints_from_openpose_json(tmp_path / "absent.json")


def test_mediapipe_conversion():
    rng = np.random.default_rng(6)
    lm = np.column_stack([rng.uniform(0, 1, (33, 2)), rng.normal(size=33), rng.uniform(0, 1, 33)])
    got = kf.keypoints_from_mediapipe(lm, (640, 480))
    np.testing.assert_allclose(got[:, 0], lm[:, 0] * 640)
    np.testing.assert_allclose(got[:, 1], lm[:, 1] * 480)
    np.testing.assert_array_equal(got[:, 2], lm[:, 3])
    with_presence = np.column_stack([lm, np.ones(33)])
    np.testing.assert_array_equal(kf.keypoints_from_mediapipe(with_presence, [640, 480]), got)

    objects = [SimpleNamespace(x=a, y=b, z=c, visibility=v) for a, b, c, v in lm]
    np.testing.assert_array_equal(kf.keypoints_from_mediapipe(objects, (640, 480)), got)
    np.testing.assert_array_equal(
        kf.keypoints_from_mediapipe(SimpleNamespace(landmark=objects), (640, 480)), got
    )

    odd = lm.copy()
    odd[0, 3] = 1.2  # visibility outside [0, 1] is clipped
    odd[1, 0] = np.nan  # a broken landmark is missing
    out = kf.keypoints_from_mediapipe(odd, (640, 480))
    assert out[0, 2] == 1.0 and out[1].tolist() == [0.0, 0.0, 0.0]
    kf.validate_keypoints(out, "mediapipe33")


def test_mediapipe_conversion_errors():
    lm = np.full((33, 4), 0.5)
    for size in ((640,), (0, 480), (640, np.nan), (-1, 2)):
        with pytest.raises(ValueError, match="image_size"):
            kf.keypoints_from_mediapipe(lm, size)
    with pytest.raises(TypeError, match="image_size"):
        kf.keypoints_from_mediapipe(lm, ("640", "480"))
    with pytest.raises(ValueError, match=r"landmarks.*\(33, 4\)"):
        kf.keypoints_from_mediapipe(np.zeros((33, 3)), (640, 480))
    with pytest.raises(ValueError, match="landmarks"):
        kf.keypoints_from_mediapipe(np.zeros((32, 4)), (640, 480))
    with pytest.raises(TypeError, match="landmarks"):
        kf.keypoints_from_mediapipe("nose", (640, 480))


# ---------------------------------------------------------------- the shipped example


def test_shipped_example_keypoints():
    doc = json.loads((ROOT / "examples" / "messi5_mediapipe33.json").read_text())
    assert doc["format"] == "mediapipe33" and doc["image"] == "messi5.jpg"
    w, h = doc["image_size"]
    xy, conf = kf.validate_keypoints(doc["keypoints"], doc["format"])
    assert (conf > 0.5).all() and (conf <= 1).all()
    assert (xy[:, 0] >= 0).all() and (xy[:, 0] < w).all()
    assert (xy[:, 1] >= 0).all() and (xy[:, 1] < h).all()
    i = MEDIAPIPE33.index
    # upright: head above shoulders above hips above ankles (image y grows downwards)
    assert xy[i("nose"), 1] < xy[[i("left_shoulder"), i("right_shoulder")], 1].min()
    assert xy[[i("left_shoulder"), i("right_shoulder")], 1].max() < xy[i("right_hip"), 1]
    assert xy[i("right_hip"), 1] < xy[i("right_ankle"), 1]
    # he faces the camera, so his own left side is on the right of the picture
    for part in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"):
        assert xy[i(f"left_{part}"), 0] > xy[i(f"right_{part}"), 0], part


def test_a_format_under_a_built_in_name_is_fitted_with_its_own_targets(open_model, open_prior,
                                                                        monkeypatch):
    """Fits cache the C++ fitter and the anchor's keypoint poser by the format's targets, not
    its name: mediapipe33 with blended hips (its name kept, so its initialiser still reads
    the keypoints), given as a format or put in place of the built-in, fits as it does in a
    fresh process even after a fit with the built-in one (it used to get the built-in's)."""
    import smplify
    from smplify import anchor, core_fitter
    from smplify.keypoints import formats
    from smplify.synthetic import make_case

    case = make_case(open_model, open_prior, "mediapipe33", np.random.default_rng(4))
    builtin = kf.get_format("mediapipe33")
    blended = kf.with_blended_hips(builtin)
    assert blended.name == builtin.name and blended != builtin

    def pose(fmt) -> np.ndarray:
        return smplify.fit(case.keypoints, fmt, case.image_size, case.focal_length,
                           model=open_model, prior=open_prior, threads=1,
                           multi_start=False).pose

    def fresh(fmt) -> np.ndarray:
        core_fitter._CORE_CACHE.clear()
        anchor._POSERS.clear()
        return pose(fmt)

    alone, built_in = fresh(blended), fresh(builtin)
    assert not np.allclose(alone, built_in, atol=1e-4)  # the hips' targets matter here
    np.testing.assert_array_equal(pose(blended), alone)
    monkeypatch.setitem(formats._FORMATS, "mediapipe33", blended)
    np.testing.assert_array_equal(pose("mediapipe33"), alone)
    monkeypatch.undo()
    np.testing.assert_array_equal(pose("mediapipe33"), built_in)
    cached = len(core_fitter._CORE_CACHE), len(anchor._POSERS)
    pose(kf.with_blended_hips(builtin))  # an equal format: the same cached fitter and poser
    assert (len(core_fitter._CORE_CACHE), len(anchor._POSERS)) == cached == (2, 2)


def test_frames_of_one_setting_share_one_core_fitter(open_model, open_prior):
    """Two frames of one setting (other keypoints, other confidences) are fitted by one
    cached C++ fitter, keyed on the format's value, not on the identity of any array the
    problem hands out: a copy of the targets' joint array (as a frozen view would be) or an
    equal format object built anew still finds it; other options get their own."""
    import copy

    from smplify import core_fitter
    from smplify.problem import fit_settings, frame_problem
    from smplify.synthetic import make_case

    rng = np.random.default_rng(8)
    cases = [make_case(open_model, open_prior, "coco17", rng) for _ in range(2)]
    settings = fit_settings("coco17", cases[0].image_size, cases[0].focal_length,
                            open_model, open_prior)
    first, second = (frame_problem(settings, case.keypoints) for case in cases)
    assert not np.array_equal(first.keypoints, second.keypoints)
    core = core_fitter._shared_core_fitter(first)
    assert core_fitter._shared_core_fitter(second) is core
    copied = dataclasses.replace(second, keypoint_joint=second.keypoint_joint.copy())
    assert core_fitter._shared_core_fitter(copied) is core
    anew = dataclasses.replace(second, keypoint_format=copy.deepcopy(second.keypoint_format))
    assert anew.keypoint_format is not second.keypoint_format
    assert core_fitter._shared_core_fitter(anew) is core
    other = frame_problem(fit_settings("coco17", cases[0].image_size, cases[0].focal_length,
                                       open_model, open_prior,
                                       {"pose_prior_weights": (1.0, 1.0, 1.0, 1.0)}),
                          cases[0].keypoints)
    assert core_fitter._shared_core_fitter(other) is not core


def test_a_format_of_a_new_name_fits_as_the_built_in_it_copies(open_model, open_prior):
    """fit, Fitter, fit_batch and fit_sequence take a KeypointFormat as well as a name: one
    of a new name with coco17's keypoints and targets fits as coco17 does (the initialiser
    left out, as it reads formats by name) instead of being looked up by its name."""
    import smplify
    from smplify.synthetic import make_case

    mine = dataclasses.replace(kf.get_format("coco17"), name="mine17")
    case = make_case(open_model, open_prior, "coco17", np.random.default_rng(6))
    options = {"starts": "prior", "learned_init": False, "reading_weight": 0.0,
               "left_right": "as_given", "threads": 1, "model": open_model}
    camera = (case.image_size, case.focal_length)

    def poses(fmt) -> list[np.ndarray]:
        fitter = smplify.Fitter(format=fmt, image_size=case.image_size,
                                focal_length=case.focal_length, prior=open_prior, **options)
        clip = np.stack([case.keypoints] * 3)
        return [smplify.fit(case.keypoints, fmt, *camera, prior=open_prior, **options).pose,
                *(fitter.fit(kp).pose for kp in clip),
                *(r.pose for r in smplify.fit_batch(clip[:2], fmt, *camera, prior=open_prior,
                                                    **options)),
                smplify.fit_sequence(clip, fmt, *camera, prior=open_prior, **options).pose]

    for got, want in zip(poses(mine), poses("coco17"), strict=True):
        np.testing.assert_array_equal(got, want)


def test_a_layout_that_borrows_a_built_in_name_is_not_read_by_its_initialiser(open_model,
                                                                             open_prior,
                                                                             monkeypatch):
    """The initialiser ships per built-in format and reads its keypoints by their order: a
    custom KeypointFormat named "coco17" with another layout (here coco17's keypoints in
    reverse order) fits without it, exactly as the same layout under a new name does, while
    one with the built-in's keypoints (other targets allowed) is still read by it."""
    import smplify
    from smplify.initializer import ships_for
    from smplify.synthetic import make_case

    coco = kf.get_format("coco17")
    reversed_coco = dataclasses.replace(coco, keypoint_names=coco.keypoint_names[::-1],
                                        targets=coco.targets[::-1])
    assert ships_for(coco) and ships_for(dataclasses.replace(coco)) and ships_for("coco17")
    assert ships_for(kf.with_blended_hips(kf.get_format("mediapipe33")))  # same layout
    assert not ships_for(reversed_coco)
    case = make_case(open_model, open_prior, "coco17", np.random.default_rng(7))
    keypoints = case.keypoints[::-1]

    def poses(fmt) -> list[np.ndarray]:
        camera = (case.image_size, case.focal_length)
        clip = np.stack([keypoints] * 3)
        return [smplify.fit(keypoints, fmt, *camera, model=open_model, prior=open_prior,
                            threads=1).pose,
                smplify.fit_sequence(clip, fmt, *camera, model=open_model, prior=open_prior,
                                     threads=1).pose]

    for got, want in zip(poses(reversed_coco),
                         poses(dataclasses.replace(reversed_coco, name="mine17")), strict=True):
        np.testing.assert_array_equal(got, want)
    # fit_sequence's path reads the initialiser at the keyframes only where it ships.
    from smplify import anchor

    def never(*args, **kwargs):
        raise AssertionError("the initialiser read a custom layout")

    monkeypatch.setattr(anchor, "frame_readings", never)
    smplify.fit_sequence(np.stack([keypoints] * 3), reversed_coco, case.image_size,
                         case.focal_length, model=open_model, prior=open_prior, threads=1,
                         reading_weight=1.0)
    with pytest.raises(ValueError, match="learned_init: .*custom layout under a built-in"):
        smplify.fit(keypoints, reversed_coco, case.image_size, case.focal_length,
                    model=open_model, prior=open_prior, learned_init=True)
