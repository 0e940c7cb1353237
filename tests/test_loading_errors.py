"""Bad model files fail at load with a ModelFileError naming the file and the key.

Every array of an SMPL file is checked when it is read: numeric, finite, of the SMPL shape;
faces and the kinematic tree hold whole numbers in range. Nothing is left for the C++ core
or the first forward pass to trip over.
"""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest
import scipy.sparse
import smplify
from smplify.errors import ModelFileError


def _nan_at(array: np.ndarray, value: float = np.nan) -> np.ndarray:
    out = np.array(array, dtype=np.float64)
    out.reshape(-1)[7] = value
    return out


def _half_face(faces: np.ndarray) -> np.ndarray:
    out = faces.astype(np.float64)
    out[3, 1] += 0.5
    return out


def _fractional_parent(kintree: np.ndarray) -> np.ndarray:
    out = kintree.astype(np.float64)
    out[0, 5] += 0.5
    return out


def _bad_parent(kintree: np.ndarray) -> np.ndarray:
    out = kintree.copy()
    out[0, 5] = 20  # a parent listed after its child
    return out


# key, how to spoil it, what the message must say (besides the file name and key)
BAD_ARRAYS = [
    ("J_regressor", _nan_at, "non-finite"),
    ("J_regressor", lambda a: _nan_at(a, np.inf), "non-finite"),
    ("posedirs", _nan_at, "non-finite"),
    ("v_template", _nan_at, "non-finite"),
    ("shapedirs", lambda a: _nan_at(a, -np.inf), "non-finite"),
    ("weights", _nan_at, "non-finite"),
    ("v_template", lambda a: a.astype(str), "numeric"),
    ("shapedirs", lambda a: a.astype(np.complex128), "numeric"),
    ("f", _half_face, "integer"),
    ("f", lambda f: f + 10**6, "below"),
    ("kintree_table", _fractional_parent, "integer"),
    ("kintree_table", _bad_parent, "parent"),
    ("weights", lambda a: a[:, :23], r"\(N, 24\)"),
    # Skinning weights: each row a convex combination (>= 0, summing to 1).
    ("weights", lambda a: a * 1.5, "summing to 1"),
    ("weights", lambda a: np.where(np.arange(24) == 3, a - 0.5, a + 0.5 / 23), ">= 0"),
    # A kinematic tree: a joint its own parent, or a cycle (5 -> 8 -> 5), is not one.
    ("kintree_table", lambda k: np.where(np.arange(24) == 5, [[5], [5]], k), "parent"),
    ("kintree_table", lambda k: np.where(np.arange(24) == 5, [[8], [5]], k), "parent"),
]


def _check_message(err: pytest.ExceptionInfo, name: str, key: str, what: str) -> None:
    message = str(err.value)
    assert name in message and key in message and re.search(what, message), message


@pytest.mark.parametrize(("key", "spoil", "what"), BAD_ARRAYS)
def test_bad_npz_array_is_named(tmp_path, procedural_arrays, key, spoil, what):
    path = tmp_path / f"bad_{key}.npz"
    np.savez(path, **{**procedural_arrays, key: spoil(procedural_arrays[key])})
    with pytest.raises(ModelFileError) as err:
        smplify.load_model(path)
    _check_message(err, path.name, key, what)


@pytest.mark.parametrize(("key", "spoil", "what"), BAD_ARRAYS)
def test_bad_pkl_array_is_named(tmp_path, procedural_arrays, key, spoil, what):
    path = tmp_path / f"bad_{key}.pkl"
    path.write_bytes(pickle.dumps({**procedural_arrays, key: spoil(procedural_arrays[key])},
                                  protocol=2))
    with pytest.raises(ModelFileError) as err:
        smplify.load_model(path)
    _check_message(err, path.name, key, what)


def test_nan_in_sparse_j_regressor_is_named(tmp_path, procedural_arrays):
    regressor = scipy.sparse.csc_matrix(procedural_arrays["J_regressor"])
    regressor.data[3] = np.nan
    path = tmp_path / "sparse_nan.pkl"
    path.write_bytes(pickle.dumps({**procedural_arrays, "J_regressor": regressor}, protocol=2))
    with pytest.raises(ModelFileError, match="sparse_nan.pkl: 'J_regressor' has non-finite"):
        smplify.load_model(path)


def test_non_array_value_is_named(tmp_path, procedural_arrays):
    path = tmp_path / "dict_value.pkl"
    path.write_bytes(pickle.dumps({**procedural_arrays, "weights": {"a": 1}}, protocol=2))
    with pytest.raises(ModelFileError, match="dict_value.pkl: 'weights' must be a numeric"):
        smplify.load_model(path)


def test_integer_valued_float_faces_still_load(tmp_path, procedural_arrays, procedural_model):
    path = tmp_path / "float_faces.npz"
    np.savez(path, **{**procedural_arrays, "f": procedural_arrays["f"].astype(np.float32),
                      "kintree_table": procedural_arrays["kintree_table"].astype(np.float64)})
    model = smplify.load_model(path)
    np.testing.assert_array_equal(model.faces, procedural_model.faces)
    assert model.faces.dtype == np.int64


@pytest.mark.parametrize("content", ["pickle", "npy", "object_array", "empty", "text"])
def test_unreadable_npz_is_our_error_not_numpys(tmp_path, procedural_arrays, content):
    path = tmp_path / "model.npz"
    if content == "pickle":
        path.write_bytes(pickle.dumps(dict(procedural_arrays), protocol=2))
    elif content == "npy":
        with path.open("wb") as handle:
            np.save(handle, procedural_arrays["v_template"])
    elif content == "object_array":
        with path.open("wb") as handle:
            np.savez(handle, **{**procedural_arrays,
                                "v_template": np.array([{}, None], dtype=object)})
    elif content == "empty":
        path.write_bytes(b"")
    else:
        path.write_text("v 0 0 0\n")
    with pytest.raises(ModelFileError, match="model.npz") as err:
        smplify.load_model(path)
    assert "allow_pickle" not in str(err.value)
    assert "pickle.load" not in str(err.value)
