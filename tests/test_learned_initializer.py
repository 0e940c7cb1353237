"""The C++ initialiser inference (cpp/learned_initializer.h) against its NumPy twin
(smplify.initializer.Initializer.predict) and the build tool's stored outputs, for the shipped
weights and for networks of other depths and widths; the C++ keypoint poser
(cpp/keypoint_poser.h) against the NumPy model's keypoints; bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import smplify
from smplify import _core
from smplify import initializer as init
from smplify.keypoint_formats import resolve_format

FORMATS = init.available_formats()


def _cases(fmt: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with np.load(init._weights_file(fmt)) as z:
        return z["test_keypoints"], z["test_image_size"], z["test_focal"]


def _assert_same_readings(fast: list, reference: list, atol: float = 1e-5) -> None:
    assert len(fast) == len(reference)
    for a, b in zip(fast, reference, strict=True):
        assert a.score == pytest.approx(b.score, abs=1e-6)
        np.testing.assert_allclose(a.global_orient, b.global_orient, atol=atol)
        np.testing.assert_allclose(a.body_pose, b.body_pose, atol=atol)
        np.testing.assert_allclose(a.betas, b.betas, atol=atol)


@pytest.mark.parametrize("fmt", FORMATS)
def test_cpp_inference_equals_the_numpy_twin_and_the_stored_outputs(fmt: str) -> None:
    ini = init.load_initializer(fmt)
    keypoints, sizes, focals = _cases(fmt)
    with np.load(init._weights_file(fmt)) as z:
        raw_ref, rot_ref = z["test_raw"], z["test_rotations"]
    for i, (kp, size, focal) in enumerate(zip(keypoints, sizes, focals, strict=True)):
        features = ini.core.features(kp, size, float(focal))
        # The features are computed in double and rounded once: the same float32 values.
        np.testing.assert_array_equal(features,
                                      init.features(kp[None], size[None], focal[None])[0])
        raw = ini.core.raw(features)
        np.testing.assert_allclose(raw, raw_ref[i], atol=2e-4 * max(1.0, np.abs(raw_ref).max()))
        np.testing.assert_allclose(raw, ini.raw(features[None])[0], rtol=1e-5, atol=1e-5)
        index, scores, poses, betas, rotations = ini.core.predict(kp, size, float(focal), 0)
        assert sorted(index) == list(range(ini.num_hypotheses))
        np.testing.assert_allclose(rotations.reshape(-1, 24, 3, 3), rot_ref[i, index],
                                   atol=1e-4)
        assert list(scores) == sorted(scores, reverse=True)
        _assert_same_readings(ini.readings(kp, size, float(focal)),
                              ini.predict(kp, size, float(focal)))


@pytest.mark.parametrize("fmt", FORMATS)
def test_count_decodes_only_the_best_readings(fmt: str) -> None:
    ini = init.load_initializer(fmt)
    keypoints, sizes, focals = _cases(fmt)
    every = ini.readings(keypoints[1], sizes[1], float(focals[1]))
    for count in (1, 2, ini.num_hypotheses):
        best = ini.readings(keypoints[1], sizes[1], float(focals[1]), count)
        _assert_same_readings(best, every[:count], atol=0.0)
    # The module's predict is the C++ inference.
    _assert_same_readings(init.predict(keypoints[1], fmt, sizes[1], float(focals[1]), 2),
                          every[:2], atol=0.0)


def _random_network(depth: int, width: int, k: int = 17, m: int = 3,
                    seed: int = 0) -> dict[str, np.ndarray]:
    """An initialiser file's arrays with ``depth`` layers of ``width`` (random weights)."""
    rng = np.random.default_rng(seed)
    sizes = [3 * k + 3] + [width] * (depth - 1) + [m * (6 * 24 + 1) + 10]
    arrays = {"format": np.array(["coco17"]), "num_keypoints": np.array([k]),
              "num_hypotheses": np.array([m]), "num_layers": np.array([depth]),
              "metrics": np.array([json.dumps({})])}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        arrays[f"w{i}"] = (rng.normal(size=(n_out, n_in)) / np.sqrt(n_in)).astype(np.float16)
        arrays[f"b{i}"] = (0.1 * rng.normal(size=n_out)).astype(np.float16)
    return arrays


@pytest.mark.parametrize("depth, width", [(2, 64), (3, 32), (5, 96)])
def test_any_depth_and_width_loads_and_matches_the_numpy_twin(depth: int, width: int) -> None:
    ini = init.Initializer(_random_network(depth, width))
    keypoints, sizes, focals = _cases("coco17")
    for kp, size, focal in zip(keypoints[:4], sizes[:4], focals[:4], strict=True):
        _assert_same_readings(ini.readings(kp, size, float(focal)),
                              ini.predict(kp, size, float(focal)), atol=1e-4)


def test_a_network_that_does_not_fit_its_format_is_refused() -> None:
    arrays = _random_network(3, 32)
    arrays["w1"] = arrays["w1"][:, :16]  # 32 outputs feed a layer taking 16
    with pytest.raises(ValueError, match="layer 1"):
        init.Initializer(arrays)
    arrays = _random_network(3, 32)
    arrays["num_hypotheses"] = np.array([4])
    with pytest.raises(ValueError, match="output width"):
        init.Initializer(arrays)
    arrays = _random_network(3, 32)
    arrays["num_keypoints"] = np.array([16])
    with pytest.raises(ValueError, match="input width"):
        init.Initializer(arrays)


def test_bad_input_is_refused_by_the_core() -> None:
    ini = init.load_initializer("coco17")
    kp, size, focal = (a[0] for a in _cases("coco17"))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ini.core.predict(kp * [1, 1, 2], size, float(focal), 1)
    with pytest.raises(ValueError, match="no keypoint"):
        ini.core.predict(kp * [1, 1, 0], size, float(focal), 1)
    with pytest.raises(ValueError, match="shape"):
        ini.core.predict(kp[:-1], size, float(focal), 1)
    with pytest.raises(ValueError, match="focal_length"):
        ini.core.predict(kp, size, float("nan"), 1)
    with pytest.raises(ValueError, match="image_size"):
        ini.core.predict(kp, np.array([0.0, 10.0]), float(focal), 1)
    with pytest.raises(ValueError, match="count"):
        ini.readings(kp, size, float(focal), 0)
    # A row with a non-finite entry is a missing keypoint, as in the NumPy twin.
    holes = kp.copy()
    holes[3] = np.nan
    _assert_same_readings(ini.readings(holes, size, float(focal)),
                          ini.predict(holes, size, float(focal)))


@pytest.mark.parametrize("fmt", ["coco17", "openpose25", "mediapipe33", "smpl24"])
def test_keypoint_poser_equals_the_numpy_model(open_model: smplify.BodyModel, fmt: str) -> None:
    model = open_model
    resolved = resolve_format(fmt, model.keypoint_names, model.num_vertices,
                              model.keypoint_regressor)
    poser = _core.KeypointPoser(model.core, [int(j) for j in resolved.joint_index],
                                list(resolved.vertex_ids), list(resolved.vertex_weights))
    rng = np.random.default_rng(3)
    for _ in range(3):
        pose, betas = 0.4 * rng.normal(size=72), rng.normal(size=model.num_betas)
        body = model(betas=betas, body_pose=pose[3:], global_orient=pose[:3])
        expected = resolved.keypoint_positions(body.joints, body.vertices)
        got = poser.pose(pose, betas)
        np.testing.assert_allclose(got[resolved.available], expected[resolved.available],
                                   atol=1e-12)
    # Fewer betas than the model has: the rest are 0.
    np.testing.assert_allclose(poser.pose(pose, betas[:4]),
                               poser.pose(pose, np.r_[betas[:4], np.zeros(len(betas) - 4)]))
    with pytest.raises(ValueError, match="betas"):
        poser.pose(pose, np.zeros(model.num_betas + 1))
    with pytest.raises(ValueError, match="pose"):
        poser.pose(pose[:70], betas)
    with pytest.raises(ValueError, match="finite"):
        poser.pose(np.full(72, np.nan), betas)
