"""Finding and reading SMPL-format model files (.pkl, .npz) into checked arrays."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse

from .errors import ModelFileError
from .safe_pickle import load_pickle

DATA_DIR = Path(__file__).resolve().parent / "data"
GENDERS = ("neutral", "male", "female")
NUM_JOINTS = 24
NUM_POSE_FEATURES = 9 * (NUM_JOINTS - 1)
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


def read_model_file(path: Path) -> dict[str, Any]:
    """Read the raw arrays of an SMPL ``.pkl`` (chumpy or plain) or ``.npz`` file."""
    if path.suffix.lower() == ".pkl":
        data = load_pickle(path)
        if not isinstance(data, dict):
            raise ModelFileError(f"{path}: expected a pickled dict of arrays, got "
                                 f"{type(data).__name__}")
        return data
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except (OSError, ValueError) as err:
        raise ModelFileError(f"{path}: not a readable .npz model ({err})") from err


def _dense(value: Any) -> np.ndarray:
    if scipy.sparse.issparse(value):
        return np.asarray(value.toarray(), dtype=np.float64)
    return np.asarray(value, dtype=np.float64)


def model_arrays(raw: dict[str, Any], path: Path | str, num_betas: int) -> dict[str, Any]:
    """Check the SMPL layout of ``raw`` and return float64 arrays.

    Betas are truncated or zero-padded to ``num_betas``. A missing ``posedirs`` means
    no pose blend shapes (``posedirs`` is ``None`` in the result).
    """
    missing = [key for key in REQUIRED_KEYS if key not in raw]
    if missing:
        raise ModelFileError(f"{path}: not an SMPL-format model, missing {missing} "
                             f"(has {sorted(raw)})")
    v_template = _dense(raw["v_template"])
    if v_template.ndim != 2 or v_template.shape[1] != 3 or len(v_template) == 0:
        raise ModelFileError(f"{path}: v_template must be (N, 3), got {v_template.shape}")
    n = len(v_template)
    shapedirs = _dense(raw["shapedirs"])
    if shapedirs.ndim != 3 or shapedirs.shape[:2] != (n, 3):
        raise ModelFileError(f"{path}: shapedirs must be (N, 3, B) with N = {n}, got "
                             f"{shapedirs.shape}")
    have = shapedirs.shape[2]
    if have >= num_betas:
        shapedirs = shapedirs[:, :, :num_betas]
    else:
        shapedirs = np.concatenate([shapedirs, np.zeros((n, 3, num_betas - have))], axis=2)
    posedirs = None
    if "posedirs" in raw and raw["posedirs"] is not None:
        posedirs = _dense(raw["posedirs"])
        if posedirs.shape != (n, 3, NUM_POSE_FEATURES):
            raise ModelFileError(f"{path}: posedirs must be (N, 3, 207), got {posedirs.shape}")
        if not np.any(posedirs):
            posedirs = None
    J_regressor = raw["J_regressor"]
    J_regressor = (J_regressor.tocsr().astype(np.float64) if scipy.sparse.issparse(J_regressor)
                   else scipy.sparse.csr_matrix(_dense(J_regressor)))
    if J_regressor.shape != (NUM_JOINTS, n):
        raise ModelFileError(f"{path}: J_regressor must be (24, N), got {J_regressor.shape}")
    weights = _dense(raw["weights"])
    if weights.shape != (n, NUM_JOINTS):
        raise ModelFileError(f"{path}: weights must be (N, 24), got {weights.shape}")
    kintree = np.asarray(raw["kintree_table"]).astype(np.int64)
    if kintree.shape != (2, NUM_JOINTS):
        raise ModelFileError(f"{path}: kintree_table must be (2, 24), got {kintree.shape}")
    faces = np.asarray(raw["f"]).astype(np.int64)
    if faces.ndim != 2 or faces.shape[1] != 3 or faces.min(initial=0) < 0 or \
            faces.max(initial=0) >= n:
        raise ModelFileError(f"{path}: f must be (F, 3) vertex indices below {n}")
    for name, array in (("v_template", v_template), ("shapedirs", shapedirs),
                        ("weights", weights)):
        if not np.all(np.isfinite(array)):
            raise ModelFileError(f"{path}: {name} has non-finite values")
    out: dict[str, Any] = {
        "v_template": v_template, "shapedirs": shapedirs, "posedirs": posedirs,
        "J_regressor": J_regressor, "weights": weights, "kintree_table": kintree, "f": faces,
        "keypoint_names": (), "keypoint_regressor": None,
    }
    if "keypoint_names" in raw and "keypoint_regressor" in raw:
        names = tuple(str(name) for name in np.asarray(raw["keypoint_names"]).tolist())
        regressor = scipy.sparse.csr_matrix(_dense(raw["keypoint_regressor"]))
        if regressor.shape != (len(names), n):
            raise ModelFileError(f"{path}: keypoint_regressor must be ({len(names)}, N), got "
                                 f"{regressor.shape}")
        out["keypoint_names"], out["keypoint_regressor"] = names, regressor
    return out
