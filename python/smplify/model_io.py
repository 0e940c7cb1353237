"""Finding and reading SMPL-format model files (.pkl, .npz) into checked arrays."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse

from .errors import ModelFileError
from .safe_npz import read_npz_arrays
from .safe_pickle import load_pickle

DATA_DIR = Path(__file__).resolve().parent / "data"
GENDERS = ("neutral", "male", "female")
NUM_JOINTS = 24
NUM_POSE_FEATURES = 9 * (NUM_JOINTS - 1)
#: How far a row of skinning weights may sum from 1 (or a weight dip below 0).
SKINNING_WEIGHT_TOLERANCE = 1e-3
REQUIRED_KEYS = ("v_template", "shapedirs", "J_regressor", "weights", "kintree_table", "f")

# File names under which SMPL is distributed, tried when load_model is given a folder.
_FOLDER_NAMES = {
    "neutral": ("SMPL_NEUTRAL.npz", "SMPL_NEUTRAL.pkl",
                "basicmodel_neutral_lbs_10_207_0_v1.1.0.pkl",
                "basicModel_neutral_lbs_10_207_0_v1.0.0.pkl"),
    "male": ("SMPL_MALE.npz", "SMPL_MALE.pkl", "basicmodel_m_lbs_10_207_0_v1.1.0.pkl",
             "basicModel_m_lbs_10_207_0_v1.0.0.pkl"),
    "female": ("SMPL_FEMALE.npz", "SMPL_FEMALE.pkl", "basicmodel_f_lbs_10_207_0_v1.1.0.pkl",
               "basicModel_f_lbs_10_207_0_v1.0.0.pkl"),
}


def check_gender(gender: str) -> str:
    """Return ``gender`` lower-cased, or raise ValueError naming the allowed values."""
    if not isinstance(gender, str) or gender.lower() not in GENDERS:
        raise ValueError(f"gender must be one of {GENDERS}, got {gender!r}")
    return gender.lower()


def resolve_model_path(name_or_path: str | Path, gender: str) -> Path:
    """Where the model named ``name_or_path`` lives.

    ``"open"`` is the package's own model; otherwise a ``.pkl``/``.npz`` file, or a
    folder holding SMPL files under their usual names (``SMPL_NEUTRAL.pkl``,
    ``basicmodel_m_lbs_10_207_0_v1.1.0.pkl``, ...).
    """
    gender = check_gender(gender)
    if isinstance(name_or_path, str) and name_or_path == "open":
        return DATA_DIR / f"open_body_{gender}.npz"
    if not isinstance(name_or_path, (str, Path)):
        raise TypeError(f"model must be 'open', a path or a loaded model, got "
                        f"{type(name_or_path).__name__}")
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        for candidate in _FOLDER_NAMES[gender]:
            if (path / candidate).is_file():
                return path / candidate
        raise FileNotFoundError(
            f"no {gender} SMPL model in folder {path}; looked for {list(_FOLDER_NAMES[gender])}")
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    if path.suffix.lower() not in (".pkl", ".npz"):
        raise ValueError(f"model file must be .pkl or .npz, got {path.name!r}")
    return path


def read_npz(path: Path, what: str) -> dict[str, np.ndarray]:
    """The arrays of the ``.npz`` archive ``path``, read without unpickling anything.

    ``what`` names the expected content for error messages ("an SMPL-format model"). A pickle,
    a single ``.npy`` array, a damaged archive, an object array or a header announcing more
    data than the archive holds raise ModelFileError naming the file (NumPy's own advice to
    load pickles unsafely is not passed on; :mod:`smplify.safe_npz` checks sizes before
    allocating).
    """
    return read_npz_arrays(path, what, ModelFileError)


def read_model_file(path: Path) -> dict[str, Any]:
    """Read the raw arrays of an SMPL ``.pkl`` (chumpy or plain) or ``.npz`` file."""
    if path.suffix.lower() == ".pkl":
        data = load_pickle(path)
        if not isinstance(data, dict):
            raise ModelFileError(f"{path}: expected a pickled dict of arrays, got "
                                 f"{type(data).__name__}")
        return data
    return read_npz(path, "an SMPL-format model (v_template, shapedirs, J_regressor, ...)")


def _as_array(value: Any, key: str, path: Path | str) -> np.ndarray:
    try:
        return np.asarray(value)
    except (TypeError, ValueError) as err:  # e.g. ragged nested lists
        raise ModelFileError(f"{path}: '{key}' is not an array ({err})") from None


def _numeric(raw: dict[str, Any], key: str, path: Path | str) -> np.ndarray:
    """``raw[key]`` as a dense finite float64 array, or ModelFileError naming file and key."""
    value = raw[key]
    array = _as_array(value.toarray() if scipy.sparse.issparse(value) else value, key, path)
    if array.dtype.kind not in "biuf":  # bool, int, uint, float: no strings/objects/complex
        raise ModelFileError(f"{path}: '{key}' must be a numeric array, got dtype "
                             f"{array.dtype}")
    array = array.astype(np.float64, copy=False)
    if not np.all(np.isfinite(array)):
        raise ModelFileError(f"{path}: '{key}' has non-finite values (NaN or inf)")
    _check_magnitude(array, key, path)
    return array


#: Metres, blend-shape offsets, regressor and skinning weights: a body model's numbers are
#: of order 1. Far beyond that a file is garbage, and posing it overflows to NaN.
MAX_MODEL_VALUE = 1e6


def _check_magnitude(values: np.ndarray, key: str, path: Path | str) -> None:
    if values.size and np.max(np.abs(values)) > MAX_MODEL_VALUE:
        raise ModelFileError(f"{path}: '{key}' has values beyond ±{MAX_MODEL_VALUE:g} (max "
                             f"|value| {float(np.max(np.abs(values))):.3g}); not a body model")


def _indices(raw: dict[str, Any], key: str, path: Path | str) -> np.ndarray:
    """``raw[key]`` as int64; float arrays must hold whole numbers (2.5 is not an index)."""
    array = _as_array(raw[key], key, path)
    if array.dtype.kind in "biu":
        return array.astype(np.int64)
    array = _numeric(raw, key, path)
    if not np.array_equal(array, np.round(array)) or np.any(np.abs(array) >= 2.0**62):
        raise ModelFileError(f"{path}: '{key}' must hold integer indices, got fractional or "
                             "huge values")
    return array.astype(np.int64)


def _sparse(raw: dict[str, Any], key: str, path: Path | str) -> scipy.sparse.csr_matrix:
    """``raw[key]`` (dense or any SciPy sparse format) as a finite float64 (M, N) CSR matrix."""
    value = raw[key]
    if not scipy.sparse.issparse(value):
        value = _numeric(raw, key, path)
    elif value.dtype.kind not in "biuf":
        raise ModelFileError(f"{path}: '{key}' must be numeric, got dtype {value.dtype}")
    if value.ndim != 2:
        raise ModelFileError(f"{path}: '{key}' must be a 2-D matrix, got shape {value.shape}")
    matrix = scipy.sparse.csr_matrix(value, dtype=np.float64)
    if not np.all(np.isfinite(matrix.data)):
        raise ModelFileError(f"{path}: '{key}' has non-finite values (NaN or inf)")
    _check_magnitude(matrix.data, key, path)
    return matrix


def model_arrays(raw: dict[str, Any], path: Path | str,
                 num_betas: int | None) -> dict[str, Any]:
    """Check the SMPL layout of ``raw`` and return float64 arrays.

    Every array must be numeric, finite and of the SMPL shape; faces and the kinematic
    tree must hold integers in range. Errors are ModelFileError naming ``path`` and the key.

    Betas are truncated or zero-padded to ``num_betas`` (None: all of the file's). The
    file's own shape space is kept too, as ``file_shapedirs`` (N, 3, B_file), for
    :meth:`BodyModel.to_npz`; when truncating, ``shapedirs`` is a view of it (no copy).
    A missing ``posedirs`` means no pose blend shapes (``posedirs`` is ``None``).
    """
    missing = [key for key in REQUIRED_KEYS if key not in raw]
    if missing:
        raise ModelFileError(f"{path}: not an SMPL-format model, missing {missing} "
                             f"(has {sorted(raw)})")
    v_template = _numeric(raw, "v_template", path)
    if v_template.ndim != 2 or v_template.shape[1] != 3 or len(v_template) == 0:
        raise ModelFileError(f"{path}: v_template must be (N, 3), got {v_template.shape}")
    n = len(v_template)
    file_shapedirs = _numeric(raw, "shapedirs", path)
    if file_shapedirs.ndim != 3 or file_shapedirs.shape[:2] != (n, 3):
        raise ModelFileError(f"{path}: shapedirs must be (N, 3, B) with N = {n}, got "
                             f"{file_shapedirs.shape}")
    have = file_shapedirs.shape[2]
    keep = max(have, 1) if num_betas is None else num_betas
    if have >= keep:
        shapedirs = file_shapedirs[:, :, :keep]  # a view: the file's betas are not copied
    else:
        shapedirs = np.concatenate([file_shapedirs, np.zeros((n, 3, keep - have))], axis=2)
        file_shapedirs = shapedirs[:, :, :have]
    posedirs = None
    if "posedirs" in raw and raw["posedirs"] is not None:
        posedirs = _numeric(raw, "posedirs", path)
        if posedirs.shape != (n, 3, NUM_POSE_FEATURES):
            raise ModelFileError(f"{path}: posedirs must be (N, 3, 207), got {posedirs.shape}")
        if not np.any(posedirs):
            posedirs = None
    J_regressor = _sparse(raw, "J_regressor", path)
    if J_regressor.shape != (NUM_JOINTS, n):
        raise ModelFileError(f"{path}: J_regressor must be (24, N), got {J_regressor.shape}")
    weights = _numeric(raw, "weights", path)
    if weights.shape != (n, NUM_JOINTS):
        raise ModelFileError(f"{path}: weights must be (N, 24), got {weights.shape}")
    # Linear blend skinning: each vertex a convex combination of its joints' transforms. Rows
    # off 1 scale (or, < 0, mirror) vertices as the pose moves; stored as float32 they sum to 1
    # within ~1e-7.
    sums = weights.sum(axis=1)
    bad = (np.abs(sums - 1.0) > SKINNING_WEIGHT_TOLERANCE) | np.any(
        weights < -SKINNING_WEIGHT_TOLERANCE, axis=1)
    if bad.any():
        v = int(np.flatnonzero(bad)[0])
        raise ModelFileError(f"{path}: weights must be >= 0 with rows summing to 1 (skinning "
                             f"weights); row {v} sums to {sums[v]:.6g}, min "
                             f"{weights[v].min():.6g}")
    kintree = _indices(raw, "kintree_table", path)
    if kintree.shape != (2, NUM_JOINTS):
        raise ModelFileError(f"{path}: kintree_table must be (2, 24), got {kintree.shape}")
    parents = kintree[0, 1:]  # joint 0's parent is a placeholder (-1 or 2**32 - 1)
    if np.any(parents < 0) or np.any(parents >= np.arange(1, NUM_JOINTS)):
        raise ModelFileError(f"{path}: kintree_table row 0 must give each joint a parent "
                             f"listed before it, got {kintree[0].tolist()}")
    faces = _indices(raw, "f", path)
    if faces.ndim != 2 or faces.shape[1] != 3 or faces.min(initial=0) < 0 or \
            faces.max(initial=0) >= n:
        raise ModelFileError(f"{path}: f must be (F, 3) vertex indices below {n}")
    out: dict[str, Any] = {
        "v_template": v_template, "shapedirs": shapedirs, "file_shapedirs": file_shapedirs,
        "posedirs": posedirs, "J_regressor": J_regressor, "weights": weights,
        "kintree_table": kintree, "f": faces, "keypoint_names": (), "keypoint_regressor": None,
    }
    if "keypoint_names" in raw and "keypoint_regressor" in raw:
        names = _as_array(raw["keypoint_names"], "keypoint_names", path)
        if names.ndim != 1 or names.dtype.kind not in "US":
            raise ModelFileError(f"{path}: keypoint_names must be a 1-D array of strings, got "
                                 f"dtype {names.dtype}, shape {names.shape}")
        names = tuple(name.decode("latin1") if isinstance(name, bytes) else str(name)
                      for name in names.tolist())
        regressor = _sparse(raw, "keypoint_regressor", path)
        if regressor.shape != (len(names), n):
            raise ModelFileError(f"{path}: keypoint_regressor must be ({len(names)}, N), got "
                                 f"{regressor.shape}")
        out["keypoint_names"], out["keypoint_regressor"] = names, regressor
    return out
