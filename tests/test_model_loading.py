"""Loading SMPL-format files: chumpy-style .pkl without chumpy, .npz, and refusing bad files."""

from __future__ import annotations

import pickle
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
import smplify
from smplify.errors import ModelFileError, UnsafePickleError


def _fake_chumpy_module():
    """A stand-in `chumpy.ch` module so the test can write the official layout."""
    chumpy = types.ModuleType("chumpy")
    ch = types.ModuleType("chumpy.ch")

    class Ch:  # pickles like chumpy's Ch: its __dict__ holds the array under 'x'
        def __init__(self, x):
            self.x = np.asarray(x)
            self._dirty_vars = set()

    Ch.__module__ = "chumpy.ch"
    Ch.__qualname__ = "Ch"
    ch.Ch = Ch
    chumpy.ch = ch
    return chumpy, ch


def write_official_layout_pkl(path: Path, arrays: dict) -> None:
    """Write a pickle in the official SMPL .pkl layout: chumpy arrays, sparse J_regressor,
    extra keys, protocol 2 (as the Python-2 originals)."""
    chumpy, ch = _fake_chumpy_module()
    sys.modules["chumpy"], sys.modules["chumpy.ch"] = chumpy, ch
    try:
        data = {
            "v_template": ch.Ch(arrays["v_template"]),
            "shapedirs": ch.Ch(arrays["shapedirs"]),
            "posedirs": arrays["posedirs"],
            "J_regressor": scipy.sparse.csc_matrix(arrays["J_regressor"]),
            "weights": ch.Ch(arrays["weights"]),
            "kintree_table": arrays["kintree_table"].astype(np.int64),
            "f": arrays["f"].astype(np.uint32),
            "J": arrays["J_regressor"] @ arrays["v_template"],
            "bs_type": "lrotmin",
            "bs_style": "lbs",
            "vert_sym_idxs": np.arange(len(arrays["v_template"])),
        }
        path.write_bytes(pickle.dumps(data, protocol=2))
    finally:
        del sys.modules["chumpy"], sys.modules["chumpy.ch"]


def test_chumpy_pkl_loads_without_chumpy(tmp_path, procedural_arrays, procedural_model):
    path = tmp_path / "basicModel_neutral_lbs_10_207_0_v1.0.0.pkl"
    write_official_layout_pkl(path, procedural_arrays)
    assert "chumpy" not in sys.modules
    model = smplify.load_model(path)
    np.testing.assert_array_equal(model.v_template, procedural_arrays["v_template"])
    np.testing.assert_array_equal(model.J_regressor, procedural_arrays["J_regressor"])
    rng = np.random.default_rng(0)
    pose, betas = rng.normal(scale=0.4, size=72), rng.normal(size=10)
    a = model(betas=betas, body_pose=pose[3:], global_orient=pose[:3])
    b = procedural_model(betas=betas, body_pose=pose[3:], global_orient=pose[:3])
    np.testing.assert_array_equal(a.vertices, b.vertices)
    # a folder with the official file name is found too
    assert smplify.load_model(tmp_path).v_template.shape == model.v_template.shape


def test_pkl_to_npz_round_trip(tmp_path, procedural_arrays):
    pkl = tmp_path / "SMPL_NEUTRAL.pkl"
    write_official_layout_pkl(pkl, procedural_arrays)
    model = smplify.load_model(pkl)
    npz = model.to_npz(tmp_path / "SMPL_NEUTRAL.npz")
    with np.load(npz) as data:  # the smplx layout, plain arrays
        assert set(data.files) >= {"v_template", "shapedirs", "posedirs", "J_regressor",
                                   "weights", "kintree_table", "f"}
        assert data["f"].dtype == np.uint32
    again = smplify.load_model(npz)
    for name in ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "faces"):
        np.testing.assert_array_equal(getattr(again, name), getattr(model, name))


def test_chumpy_pkl_to_plain_pkl_round_trip(tmp_path, procedural_arrays):
    """to_pkl converts an official chumpy pickle into the plain-NumPy pickle smplx.SMPL opens
    without chumpy: only NumPy classes inside, every array kept, and it loads back the same.
    (Checked by hand with smplx 0.1.28: smplx.SMPL(model_path=...) of the open model's
    to_pkl poses a fit's smplx_params() to within 2.3e-6 m of FitResult.vertices.)"""
    import pickle

    official = tmp_path / "official.pkl"
    write_official_layout_pkl(official, procedural_arrays)
    model = smplify.load_model(official, num_betas=None)
    plain = model.to_pkl(tmp_path / "SMPL_NEUTRAL")
    assert plain == tmp_path / "SMPL_NEUTRAL.pkl"
    globals_used = set()

    class Recording(pickle.Unpickler):  # every class the pickle names, whatever the opcode
        def find_class(self, module, name):
            globals_used.add(module)
            return super().find_class(module, name)

    with plain.open("rb") as handle:
        data = Recording(handle, encoding="latin1").load()  # as smplx's pickle.load does
    assert globals_used  # the recorder saw the ndarray reconstructors
    assert all(isinstance(v, np.ndarray) for v in data.values())
    assert all(m.startswith("numpy") for m in globals_used)
    for key in ("v_template", "shapedirs", "posedirs", "J_regressor", "weights",
                "kintree_table"):
        np.testing.assert_array_equal(data[key], procedural_arrays[key], err_msg=key)
    np.testing.assert_array_equal(data["f"], procedural_arrays["f"])
    again = smplify.load_model(plain, num_betas=None)
    pose, betas = np.random.default_rng(3).normal(scale=0.4, size=72), np.ones(10)
    np.testing.assert_array_equal(
        again(betas=betas, body_pose=pose[3:], global_orient=pose[:3]).vertices,
        model(betas=betas, body_pose=pose[3:], global_orient=pose[:3]).vertices)


def test_open_model_to_pkl_keeps_its_keypoint_regressor(tmp_path, open_model):
    again = smplify.load_model(open_model.to_pkl(tmp_path / "open.pkl"))
    assert again.keypoint_names == open_model.keypoint_names
    np.testing.assert_array_equal(again.keypoint_regressor.toarray(),
                                  open_model.keypoint_regressor.toarray())


@pytest.mark.parametrize(("num_betas", "expected_nonzero"), [(4, 4), (10, 10), (16, 10)])
def test_betas_truncated_or_padded(procedural_npz, num_betas, expected_nonzero):
    model = smplify.load_model(procedural_npz, num_betas=num_betas)
    assert model.num_betas == num_betas
    nonzero = np.any(model.shapedirs != 0, axis=(0, 1))
    assert nonzero.sum() == expected_nonzero


class _Exploit:
    def __reduce__(self):
        import os

        return (os.system, ("touch PWNED_BY_PICKLE",))


def test_malicious_pickle_is_refused_without_running(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"v_template": _Exploit()}, protocol=2))
    with pytest.raises(UnsafePickleError, match="posix.system|os.system"):
        smplify.load_model(path)
    assert not (tmp_path / "PWNED_BY_PICKLE").exists()


def test_eval_pickle_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (eval, ("__import__('os').getcwd()",))

    path = tmp_path / "evil2.pkl"
    path.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(UnsafePickleError, match="builtins.eval"):
        smplify.load_model(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        smplify.load_model(tmp_path / "nope.npz")


def test_wrong_layout_npz(tmp_path, procedural_arrays):
    path = tmp_path / "bad.npz"
    arrays = dict(procedural_arrays)
    del arrays["J_regressor"]
    np.savez(path, **arrays)
    with pytest.raises(ModelFileError, match="missing \\['J_regressor'\\]"):
        smplify.load_model(path)
    arrays = dict(procedural_arrays)
    arrays["weights"] = arrays["weights"][:, :20]
    np.savez(path, **arrays)
    with pytest.raises(ModelFileError, match="weights must be \\(N, 24\\)"):
        smplify.load_model(path)


def test_not_a_pickle(tmp_path):
    path = tmp_path / "garbage.pkl"
    path.write_bytes(b"this is not a pickle")
    with pytest.raises(ModelFileError, match="not a readable pickle"):
        smplify.load_model(path)


def test_bad_arguments(procedural_npz, tmp_path):
    with pytest.raises(ValueError, match="gender must be one of"):
        smplify.load_model(procedural_npz, gender="other")
    with pytest.raises(ValueError, match="num_betas"):
        smplify.load_model(procedural_npz, num_betas=0)
    (tmp_path / "model.obj").write_text("v 0 0 0\n")
    with pytest.raises(ValueError, match=".pkl or .npz"):
        smplify.load_model(tmp_path / "model.obj")
    with pytest.raises(TypeError, match="model must be"):
        smplify.load_model(3.5)


def write_plain_pkl(path: Path, arrays: dict, **overrides) -> None:
    """A plain (chumpy-free) protocol-2 pickle of the SMPL dict, with keys replaced."""
    path.write_bytes(pickle.dumps({**arrays, **overrides}, protocol=2))


@pytest.mark.parametrize("sparse_type", ["csc_matrix", "csr_matrix", "coo_matrix", "csc_array",
                                         "csr_array", "coo_array"])
def test_modern_scipy_sparse_j_regressor_loads(tmp_path, procedural_arrays, sparse_type):
    path = tmp_path / f"{sparse_type}.pkl"
    dense = procedural_arrays["J_regressor"]
    write_plain_pkl(path, procedural_arrays,
                    J_regressor=getattr(scipy.sparse, sparse_type)(dense))
    model = smplify.load_model(path)
    np.testing.assert_array_equal(model.J_regressor, dense)


def test_refused_class_message_lists_what_is_allowed(tmp_path, procedural_arrays):
    path = tmp_path / "dok.pkl"
    write_plain_pkl(path, procedural_arrays,
                    J_regressor=scipy.sparse.dok_matrix(procedural_arrays["J_regressor"]))
    with pytest.raises(UnsafePickleError, match="dok_matrix") as info:
        smplify.load_model(path)
    for allowed in ("csc_matrix", "csr_array", "coo_array", "chumpy"):
        assert allowed in str(info.value)


def test_sparse_indices_out_of_range_are_refused(tmp_path, procedural_arrays):
    regressor = scipy.sparse.csr_matrix(procedural_arrays["J_regressor"])
    regressor.indices = regressor.indices.copy()
    regressor.indices[0] = 10**6  # would read past the vertex array
    path = tmp_path / "crafted.pkl"
    write_plain_pkl(path, procedural_arrays, J_regressor=regressor)
    with pytest.raises(ModelFileError, match="crafted.pkl.*sparse csr_matrix"):
        smplify.load_model(path)


def test_to_npz_returns_the_path_it_wrote(tmp_path, procedural_model):
    written = procedural_model.to_npz(tmp_path / "noext")
    assert written == tmp_path / "noext.npz" and written.is_file()
    assert not (tmp_path / "noext").exists()
    assert procedural_model.to_npz(tmp_path / "UPPER.NPZ") == tmp_path / "UPPER.NPZ"
    assert smplify.load_model(tmp_path / "UPPER.NPZ").num_vertices == \
        procedural_model.num_vertices


def test_converting_a_pkl_keeps_all_its_betas(tmp_path):
    import procedural_model

    arrays = procedural_model.make_procedural_model(num_betas=30, seed=1)
    pkl = tmp_path / "SMPL_NEUTRAL.pkl"
    write_official_layout_pkl(pkl, arrays)
    model = smplify.load_model(pkl)  # fits with the default 10 betas ...
    assert model.num_betas == 10
    npz = model.to_npz(tmp_path / "SMPL_NEUTRAL.npz")  # ... converts all 30
    with np.load(npz) as data:
        np.testing.assert_array_equal(data["shapedirs"], arrays["shapedirs"])
    everything = smplify.load_model(pkl, num_betas=None)
    assert everything.num_betas == 30
    np.testing.assert_array_equal(everything.shapedirs, arrays["shapedirs"])
    betas = np.random.default_rng(2).normal(size=30)
    np.testing.assert_array_equal(everything(betas=betas).vertices,
                                  smplify.load_model(npz, num_betas=30)(betas=betas).vertices)
    # padding is not converted: a 4-beta file stays a 4-beta file
    few = procedural_model.make_procedural_model(num_betas=4, seed=1)
    write_official_layout_pkl(pkl, few)
    padded = smplify.load_model(pkl, num_betas=16)
    assert padded.num_betas == 16
    with np.load(padded.to_npz(tmp_path / "few.npz")) as data:
        assert data["shapedirs"].shape == (len(few["v_template"]), 3, 4)
