"""Capsule regressor (SPEC §2 E_sp, docs/design.md "Capsule file") on the procedural model."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
from smplify import capsules as caps
from smplify.capsules import (
    INCOMPATIBLE_PART_PAIRS,
    PART_JOINTS,
    PART_NAMES,
    CapsuleRegressor,
    capsules_for_model,
    fit_capsule_regressor,
    fit_steps,
    model_hash,
    surface_distances,
)
from smplify.capsules import cache as capsule_cache
from smplify.errors import ModelFileError

DATA_DIR = caps.DATA_DIR


def _arrays(model: dict) -> tuple:
    return (model["v_template"], model["shapedirs"], model["J_regressor"], model["weights"],
            model["f"])


@pytest.fixture(scope="module")
def model(procedural_arrays) -> dict:
    return procedural_arrays


@pytest.fixture(scope="module")
def fitted(model):
    t0 = time.perf_counter()
    regressor, fits = fit_capsule_regressor(*_arrays(model), return_fits=True)
    return regressor, fits, time.perf_counter() - t0


def _shaped(model: dict, betas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    v = model["v_template"] + model["shapedirs"] @ betas
    return v, model["J_regressor"] @ v



def test_capsules_cover_the_mesh_for_random_shapes(model, fitted):
    regressor, _, _ = fitted
    rng = np.random.default_rng(7)
    for _ in range(10):
        betas = rng.standard_normal(regressor.num_betas)
        v, joints = _shaped(model, betas)
        dist = surface_distances(regressor.evaluate(betas, joints), v)
        assert np.mean(dist < 0.03) >= 0.90, f"β={betas}: {np.mean(dist < 0.03):.3f} within 3 cm"
        assert np.median(dist) < 0.01


def test_every_part_is_covered_by_its_own_capsule(model, fitted):
    regressor, _, _ = fitted
    v, joints = _shaped(model, np.zeros(regressor.num_betas))
    capsules = regressor.evaluate(None, joints)
    part = caps.JOINT_TO_PART[np.argmax(model["weights"], axis=1)]
    for p in range(20):
        one = caps.Capsules(capsules.radius[p:p + 1], capsules.length[p:p + 1],
                            capsules.a[p:p + 1], capsules.b[p:p + 1], capsules.joint[p:p + 1])
        dist = surface_distances(one, v[part == p])
        assert np.median(dist) < 0.02, f"{PART_NAMES[p]}: median {dist.mean():.3f} m"


def test_capsule_geometry_follows_the_file_layout(model, fitted):
    regressor, _, _ = fitted
    betas = np.random.default_rng(1).standard_normal(regressor.num_betas)
    _, joints = _shaped(model, betas)
    c = regressor.evaluate(betas, joints)
    r = regressor.radius_mean + regressor.radius_betas @ betas
    length = regressor.length_mean + regressor.length_betas @ betas
    np.testing.assert_allclose(c.radius, r)
    np.testing.assert_allclose(c.length, length)
    np.testing.assert_allclose(np.linalg.norm(c.b - c.a, axis=1), length, atol=1e-12)
    expected_a = (joints[regressor.joint] + regressor.offset
                  + (regressor.start * length)[:, None] * regressor.axis)
    np.testing.assert_allclose(c.a, expected_a, atol=1e-12)
    np.testing.assert_array_equal(c.joint, PART_JOINTS)
    assert c.parts == PART_NAMES
    np.testing.assert_allclose(np.linalg.norm(regressor.axis, axis=1), 1.0, atol=1e-12)
    assert np.all(c.radius > 0.005) and np.all(c.length >= 0.0)


def test_left_and_right_capsules_mirror(fitted):
    regressor, _, _ = fitted
    for p, name in enumerate(PART_NAMES):
        if not name.startswith("left_"):
            continue
        q = PART_NAMES.index("right_" + name[5:])
        assert abs(regressor.radius_mean[p] - regressor.radius_mean[q]) < 0.003, name
        assert abs(regressor.length_mean[p] - regressor.length_mean[q]) < 0.01, name
        np.testing.assert_allclose(regressor.axis[p] * [-1, 1, 1], regressor.axis[q], atol=0.03)


def test_torso_capsules_run_left_to_right(fitted):
    regressor, _, _ = fitted
    for name in ("pelvis", "spine1", "spine2", "spine3"):
        axis = regressor.axis[PART_NAMES.index(name)]
        assert abs(axis[0]) > 0.99, f"{name} axis {axis}"


def test_regressor_reproduces_the_per_shape_fits(fitted):
    regressor, fits, _ = fitted
    pred_r = regressor.radius_mean + fits.betas @ regressor.radius_betas.T
    pred_l = regressor.length_mean + fits.betas @ regressor.length_betas.T
    rms_r = np.sqrt(np.mean((pred_r - fits.radius) ** 2))
    rms_l = np.sqrt(np.mean((pred_l - fits.length) ** 2))
    assert rms_r < 0.002, f"radius rms {rms_r * 1e3:.2f} mm"
    assert rms_l < 0.006, f"length rms {rms_l * 1e3:.2f} mm"
    # The fits follow the designed shape space: girth (β1, +10 % radius per unit) widens every
    # limb; leg length (β3, about +2.7 cm per unit on thigh and calf) lengthens thighs and
    # calves, arm length (β2, about +1.8 cm) upper arms and forearms. A capsule takes up only
    # part of a stretch (the tubes' rounded ends lengthen too), hence the loose bounds.
    assert np.all(regressor.radius_betas[[1, 2, 4, 5, 14, 15, 16, 17], 1] > 0.002)
    assert np.all(regressor.length_betas[[1, 2, 4, 5], 3] > 0.005)
    assert np.all(regressor.length_betas[[14, 15, 16, 17], 2] > 0.005)
    torso_head = [0, 3, 6, 9, 10, 13]  # not stretched by either
    assert np.abs(regressor.length_betas[torso_head][:, [2, 3]]).max() < 0.005


def test_sphere_count_rule():
    radius = np.full(20, 0.05)
    length = np.array([0.0, 0.05, 0.1, 0.19, 0.2, 0.21, 0.31, 0.4, 0.5, 1.0] * 2)
    counts = caps.sphere_counts(radius, length)
    # n = 2 + max(0, floor(l / 2r − 1)), l / 2r = 0, .5, 1, 1.9, 2, 2.1, 3.1, 4, 5, 10
    np.testing.assert_array_equal(counts, [2, 2, 2, 2, 3, 3, 4, 5, 6, 11] * 2)


def test_spheres_are_evenly_spaced_from_a_to_b(model, fitted):
    regressor, _, _ = fitted
    betas = np.random.default_rng(3).standard_normal(regressor.num_betas)
    _, joints = _shaped(model, betas)
    c = regressor.evaluate(betas, joints)
    spheres = regressor.spheres(betas, joints)
    counts = regressor.sphere_counts(betas)
    assert len(spheres.centres) == counts.sum()
    for p in range(20):
        sel = spheres.capsule_of_sphere == p
        centres = spheres.centres[sel]
        assert len(centres) == counts[p] >= 2
        np.testing.assert_allclose(centres[0], c.a[p], atol=1e-12)
        np.testing.assert_allclose(centres[-1], c.b[p], atol=1e-12)
        steps = np.diff(centres, axis=0)
        np.testing.assert_allclose(steps - steps[0], 0.0, atol=1e-12)
        np.testing.assert_allclose(spheres.radii[sel], c.radius[p])
        assert np.all(spheres.joint_of_sphere[sel] == PART_JOINTS[p])
    # Fixed counts (a problem built at another β) are kept as given.
    fixed = regressor.spheres(betas, joints, counts=np.full(20, 3))
    assert len(fixed.centres) == 60


def test_incompatible_pairs_follow_the_design():
    expected_names = {
        *[(t, l) for t in ("pelvis", "spine1", "spine2", "spine3")
          for l in ("left_forearm", "right_forearm", "left_hand", "right_hand")],
        ("left_calf", "right_calf"), ("left_foot", "right_calf"), ("right_foot", "left_calf"),
        ("left_foot", "right_foot"), ("left_upper_arm", "left_forearm"),
        ("right_upper_arm", "right_forearm"), ("left_hand", "right_hand"),
    }
    names = {(PART_NAMES[p], PART_NAMES[q]) for p, q in INCOMPATIBLE_PART_PAIRS}
    assert names == expected_names and len(INCOMPATIBLE_PART_PAIRS) == 23


def test_incompatible_sphere_pairs(fitted):
    regressor, _, _ = fitted
    counts = np.arange(2, 22)
    pairs = regressor.incompatible_sphere_pairs(counts)
    capsule, _ = regressor.sphere_layout(counts)
    assert pairs.shape == (sum(counts[p] * counts[q] for p, q in INCOMPATIBLE_PART_PAIRS), 2)
    got = {(int(capsule[i]), int(capsule[j])) for i, j in pairs}
    assert got == set(INCOMPATIBLE_PART_PAIRS)
    assert len({tuple(p) for p in pairs.tolist()}) == len(pairs)  # no duplicates
    for p, q in INCOMPATIBLE_PART_PAIRS:  # every sphere of p meets every sphere of q
        sel = (capsule[pairs[:, 0]] == p) & (capsule[pairs[:, 1]] == q)
        assert sel.sum() == counts[p] * counts[q]
    with pytest.raises(ValueError, match="counts"):
        regressor.incompatible_sphere_pairs(np.ones(20, dtype=int))


def test_save_load_round_trip(tmp_path, fitted):
    regressor, _, _ = fitted
    path = regressor.save(tmp_path / "caps.npz")
    loaded = CapsuleRegressor.load(path)
    for key, value in regressor.arrays().items():
        np.testing.assert_array_equal(loaded.arrays()[key], value)
    assert loaded.model_hash == regressor.model_hash and loaded.parts == PART_NAMES
    with np.load(path) as data:  # the documented layout, nothing pickled
        assert {"joint", "axis", "offset", "start", "radius_mean", "radius_betas",
                "length_mean", "length_betas", "parts"} <= set(data.files)
        assert data["radius_betas"].shape == (20, regressor.num_betas)
    arrays = regressor.arrays()
    del arrays["offset"]
    np.savez(tmp_path / "broken.npz", **arrays)
    with pytest.raises(ModelFileError, match="offset"):
        CapsuleRegressor.load(tmp_path / "broken.npz")
    with pytest.raises(FileNotFoundError):
        CapsuleRegressor.load(tmp_path / "missing.npz")


def test_bad_input_is_named(model, fitted):
    regressor, _, _ = fitted
    _, joints = _shaped(model, np.zeros(10))
    with pytest.raises(ValueError, match="rest_joints"):
        regressor.evaluate(None, joints[:23])
    with pytest.raises(ValueError, match="betas"):
        regressor.evaluate(np.zeros(11), joints)
    with pytest.raises(ValueError, match="shapedirs"):
        fit_capsule_regressor(model["v_template"], model["shapedirs"][:10], model["J_regressor"],
                              model["weights"], model["f"])
    with pytest.raises(ValueError, match="faces"):
        fit_capsule_regressor(*_arrays(model)[:4], model["f"].astype(float))
    # Fewer betas than the regressor's are zero-padded.
    short = regressor.evaluate(np.ones(3), joints)
    padded = regressor.evaluate(np.r_[np.ones(3), np.zeros(7)], joints)
    np.testing.assert_array_equal(short.radius, padded.radius)


def test_model_hash_ignores_dtype_and_sparsity(model):
    a = model_hash(*_arrays(model))
    b = model_hash(model["v_template"], model["shapedirs"],
                   scipy.sparse.csr_matrix(model["J_regressor"]), model["weights"],
                   model["f"].astype(np.int32))
    assert a == b
    v32 = model["v_template"].astype(np.float32)  # a float32 file hashes as its float64 copy
    assert model_hash(v32, *_arrays(model)[1:]) == model_hash(v32.astype(np.float64),
                                                              *_arrays(model)[1:])
    changed = dict(model, v_template=model["v_template"] + 1e-6)
    assert model_hash(*_arrays(changed)) != a


def test_cache_is_written_then_reused(tmp_path, monkeypatch, model):
    kwargs = dict(zip(("v_template", "shapedirs", "J_regressor", "weights", "faces"),
                      _arrays(model), strict=True))
    cache = tmp_path / "cache"
    empty_data = tmp_path / "data"
    empty_data.mkdir()
    first = capsules_for_model(**kwargs, cache_dir=cache, data_dir=empty_data)
    key = model_hash(*_arrays(model))
    assert (cache / f"{key}.npz").is_file() and first.model_hash == key

    def no_fit(*args, **kw):
        raise AssertionError("fitted again although the cache holds the regressor")

    monkeypatch.setattr(capsule_cache, "fit_capsule_regressor", no_fit)
    again = capsules_for_model(**kwargs, cache_dir=cache, data_dir=empty_data)
    np.testing.assert_array_equal(again.radius_betas, first.radius_betas)

    # A shipped file with a matching hash wins over the cache and needs no fit.
    first.save(empty_data / "some_model_capsules.npz")
    shipped = capsules_for_model(**kwargs, cache_dir=tmp_path / "unused", data_dir=empty_data)
    np.testing.assert_array_equal(shipped.length_mean, first.length_mean)
    assert not (tmp_path / "unused").exists()


def test_unwritable_cache_falls_back_to_fitting(tmp_path, model, fitted):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("a file where the cache folder should be")
    empty_data = tmp_path / "data"
    empty_data.mkdir()

    class Model:  # any object with the SMPL attributes, like smplify.BodyModel
        v_template, shapedirs, J_regressor, weights, faces = _arrays(model)

    regressor = capsules_for_model(Model(), cache_dir=blocker / "capsules", data_dir=empty_data)
    np.testing.assert_allclose(regressor.radius_mean, fitted[0].radius_mean)


def test_default_cache_dir_respects_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert caps.default_cache_dir() == tmp_path / "smplify" / "capsules"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert caps.default_cache_dir() == Path.home() / ".cache" / "smplify" / "capsules"


def test_fit_jacobian_matches_finite_differences(model):
    """The analytic gradient of E (per group) against central differences."""
    v, sd, jr, w, f = caps.regressor._model_arrays(*_arrays(model))
    rng = np.random.default_rng(0)
    betas = np.concatenate([np.zeros((1, 10)), rng.standard_normal((2, 10))])
    prob = fit_steps._Problem(v, sd, jr, w, f, betas, 250, rng)
    geom, r, l = fit_steps._initial_geometry(prob)
    r, l = r * 1.1, l * 0.9  # off the optimum, some capsule points outside the body
    hold = prob.correspond(geom, r, l)
    res, wt, group, jac = prob.evaluate(geom, r, l, hold, jacobian=True)
    grad = np.stack([np.bincount(group, wt * res * jac[:, k], prob.num_groups)
                     for k in range(7)], axis=1)  # ½ ∂E/∂x per group
    eps = 1e-6

    def cost(geom_, r_, l_):
        return prob.group_cost(geom_, r_, l_, hold)

    fd = np.zeros_like(grad)
    fd[:, 0] = (cost(geom, r + eps, l) - cost(geom, r - eps, l)) / (4 * eps)
    fd[:, 1] = (cost(geom, r, l + eps) - cost(geom, r, l - eps)) / (4 * eps)
    for k in range(3):
        shift = np.zeros((20, 3))
        shift[:, k] = eps
        fd[:, 2 + k] = (cost(geom.moved(shift, 0 * shift), r, l)
                        - cost(geom.moved(-shift, 0 * shift), r, l)) / (4 * eps)
    for k, e in enumerate((geom.e1, geom.e2)):  # turns about e1, e2 (template turns along)
        fd[:, 5 + k] = (cost(geom.moved(0 * e, eps * e), r, l)
                        - cost(geom.moved(0 * e, -eps * e), r, l)) / (4 * eps)
    scale = np.abs(grad).max(axis=0)
    np.testing.assert_allclose(grad[:, :5], fd[:, :5], atol=1e-3 * scale[:5].max())
    np.testing.assert_allclose(grad[:, 5:], fd[:, 5:], atol=1e-3 * scale[5:].max())


def test_body_model_capsules(procedural_model, monkeypatch, tmp_path):
    """SPEC §5: model.capsules(betas) → 20 capsules with .radius (20,) and .length (20,)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    betas = np.linspace(-1.0, 1.0, procedural_model.num_betas)
    c = procedural_model.capsules(betas)
    assert c.radius.shape == (20,) and c.length.shape == (20,)
    v = procedural_model(betas=betas).vertices
    assert np.mean(surface_distances(c, v) < 0.03) >= 0.90
    assert len(list((tmp_path / "smplify" / "capsules").glob("*.npz"))) == 1


@pytest.mark.parametrize("gender", ["neutral", "male", "female"])
def test_shipped_open_model_capsules(gender):
    """The shipped models and their capsules (a missing one is a failure: they ship)."""
    model_path = DATA_DIR / f"open_body_{gender}.npz"
    caps_path = DATA_DIR / f"open_body_{gender}_capsules.npz"
    with np.load(model_path) as data:
        arrays = [data[k] for k in ("v_template", "shapedirs", "J_regressor", "weights", "f")]
    regressor = CapsuleRegressor.load(caps_path)
    assert regressor.model_hash == model_hash(*arrays), "rebuild: python tools/build_capsules.py"
    v_template, shapedirs, j_regressor = arrays[0], arrays[1], arrays[2]
    rng = np.random.default_rng(11)
    for _ in range(5):
        betas = rng.standard_normal(regressor.num_betas)
        v = v_template + shapedirs @ betas
        dist = surface_distances(regressor.evaluate(betas, j_regressor @ v), v)
        assert np.mean(dist < 0.03) >= 0.90 and np.median(dist) < 0.015
