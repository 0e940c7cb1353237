"""Hostile files (issue 14): what a crafted or damaged model, prior or keypoint file can do.

Headers announcing absurd sizes are refused before anything is allocated or decompressed;
object arrays are never unpickled; pickles run nothing; damaged files of every kind end in
the library's errors naming the file. (Bad arrays inside well-formed model files are
tests/test_loading_errors.py; the allow-list itself is tests/test_safe_pickle.py.)
"""

from __future__ import annotations

import io
import json
import os
import pickle
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
import smplify
from smplify.errors import InputFileError, ModelFileError, UnsafePickleError
from smplify.safe_npz import read_npz_arrays
from smplify.sources import open_source


def _npy_header(shape: tuple, descr: str = "<f8") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def _zip(path: Path, members: dict[str, bytes], compress: bool = False) -> Path:
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _peak_megabytes(call) -> float:
    """Peak traced memory (NumPy's array buffers included) while ``call`` runs."""
    tracemalloc.start()
    try:
        call()
    except (ModelFileError, InputFileError):
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak / 2**20


@pytest.mark.parametrize("shape", [(10**12, 3), (2**40,), (6890, 3, 2**30)])
def test_a_header_announcing_terabytes_is_refused_before_allocating(tmp_path, shape):
    """np.load would allocate the announced array (or fail with MemoryError) before finding
    that the data is missing; the size is checked against the member first."""
    path = _zip(tmp_path / "bomb.npz", {"v_template.npy": _npy_header(shape) + b"\0" * 64})
    with pytest.raises(ModelFileError, match=r"bomb.npz: 'v_template' announces") as err:
        smplify.load_model(path)
    assert "not read" in str(err.value)
    assert _peak_megabytes(lambda: smplify.load_model(path)) < 5
    with pytest.raises(InputFileError, match="'keypoints' announces"):
        open_source(_zip(tmp_path / "kp.npz",
                         {"keypoints.npy": _npy_header(shape) + b"\0" * 64}))


def test_a_compressed_member_beyond_the_limit_is_not_inflated(tmp_path):
    """A zip member of compressed zeros (a zip bomb): its declared size is checked against
    the limit before a byte is decompressed."""
    zeros = np.zeros(4 * 2**20 // 8)  # 4 MB of zeros deflate to ~4 KB
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, zeros)
    path = _zip(tmp_path / "zeros.npz", {"means.npy": buffer.getvalue()}, compress=True)
    assert path.stat().st_size < 64 * 2**10
    with pytest.raises(ModelFileError, match="1,000,000-byte limit"):
        read_npz_arrays(path, "a test", ModelFileError, max_bytes=10**6)
    assert _peak_megabytes(
        lambda: read_npz_arrays(path, "a test", ModelFileError, max_bytes=10**6)) < 1
    assert read_npz_arrays(path, "a test", ModelFileError)["means"].shape == zeros.shape


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch {self.marker}",))


def test_object_arrays_are_never_unpickled(tmp_path, procedural_arrays):
    marker = tmp_path / "ran"
    evil = np.array([_Evil(marker)], dtype=object)
    model = tmp_path / "model.npz"
    np.savez(model, **{**procedural_arrays, "weights": evil})
    keypoints = tmp_path / "keypoints.npz"
    np.savez(keypoints, keypoints=evil, format="coco17")
    prior = tmp_path / "prior.npz"
    np.savez(prior, means=evil, covars=evil, weights=evil)
    for load, path in ((smplify.load_model, model), (open_source, keypoints),
                       (smplify.load_prior, prior)):
        with pytest.raises((ModelFileError, InputFileError), match="object arrays") as err:
            load(path)
        assert "allow_pickle" not in str(err.value) and path.name in str(err.value)
    assert not marker.exists()
    # The payload is real: NumPy with allow_pickle=True would run it.
    with np.load(model, allow_pickle=True) as data:
        data["weights"]
    assert marker.exists()


@pytest.mark.parametrize("suffix", [".pkl", ".pickle"])
def test_a_pickle_calling_anything_runs_nothing_and_names_the_file(tmp_path, suffix,
                                                                    procedural_arrays):
    marker = tmp_path / "ran"
    path = tmp_path / f"model{suffix}"
    path.write_bytes(pickle.dumps({**procedural_arrays, "f": _Evil(marker)}, protocol=2))
    loaders = [smplify.load_prior] if suffix == ".pickle" else [smplify.load_model,
                                                                 smplify.load_prior]
    for load in loaders:
        with pytest.raises(UnsafePickleError, match=f"{path.name}: refusing to load "
                                                    "posix.system"):
            load(path)
    assert not marker.exists()


def _truncations(data: bytes, count: int = 40) -> list[bytes]:
    cuts = np.unique(np.linspace(0, len(data) - 1, count).astype(int))
    return [data[:cut] for cut in cuts]


def test_every_truncation_of_a_model_file_is_a_named_error(tmp_path, procedural_arrays):
    arrays = {k: v for k, v in procedural_arrays.items() if k != "posedirs"}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    for suffix, data in ((".npz", buffer.getvalue()),
                         (".pkl", pickle.dumps(arrays, protocol=2))):
        path = tmp_path / f"cut{suffix}"
        for cut in _truncations(data):
            path.write_bytes(cut)
            with pytest.raises(ModelFileError, match="cut"):
                smplify.load_model(path)


def test_every_truncation_of_a_keypoint_file_is_a_named_error(tmp_path):
    doc = {"people": [{"pose_keypoints_2d": np.arange(75.0).tolist()}]}
    text = json.dumps(doc).encode()
    buffer = io.BytesIO()
    np.savez(buffer, keypoints=np.ones((3, 17, 3)), format="coco17", image_size=[640, 480])
    for suffix, data in ((".json", text), (".npz", buffer.getvalue())):
        path = tmp_path / f"cut{suffix}"
        for cut in _truncations(data):
            path.write_bytes(cut)
            with pytest.raises(InputFileError, match="cut"):
                source = open_source(path, image_size=(640, 480))
                list(source.frames())
