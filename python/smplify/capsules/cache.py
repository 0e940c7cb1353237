"""Where a body model's capsule regressor comes from: shipped, cached, or fitted and cached."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .fit import fit_capsule_regressor
from .regressor import CapsuleRegressor, _model_arrays, model_hash

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/smplify/capsules`` (``~/.cache/smplify/capsules`` by default)."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "smplify" / "capsules"


def _shipped_regressor(key: str, data_dir: Path) -> CapsuleRegressor | None:
    for path in sorted(data_dir.glob("*_capsules.npz")):
        try:
            with np.load(path, allow_pickle=False) as data:
                if "model_hash" not in data or str(data["model_hash"]) != key:
                    continue
            return CapsuleRegressor.load(path)
        except (OSError, ValueError):
            continue
    return None


PathLike = str | os.PathLike[str]


def capsules_for_model(model: Any = None, *, v_template: Any = None, shapedirs: Any = None,
                       J_regressor: Any = None, weights: Any = None, faces: Any = None,
                       cache_dir: PathLike | None = None,
                       data_dir: PathLike | None = None) -> CapsuleRegressor:
    """The capsule regressor of a body model: shipped, cached, or fitted now and cached.

    Looks, in order, for a shipped file in ``data_dir`` (the package's data folder) whose
    ``model_hash`` matches the model's arrays (the open models), then for
    ``<cache_dir>/<model_hash>.npz``; otherwise fits it (`fit_capsule_regressor`, a few
    seconds) and writes it to the cache. If the cache cannot be written the fitted regressor
    is returned all the same.

    Parameters
    ----------
    model : an object with attributes v_template, shapedirs, J_regressor, weights, faces
        (e.g. a loaded `smplify.BodyModel`), or None to pass the arrays by keyword.
    v_template, shapedirs, J_regressor, weights, faces : the SMPL arrays (see
        `fit_capsule_regressor`), used when ``model`` is None.
    cache_dir : folder of cached regressors; None: `default_cache_dir()`.
    data_dir : folder of shipped ``*_capsules.npz`` files; None: the package's data folder.

    Returns
    -------
    CapsuleRegressor
    """
    if model is not None:
        arrays = [getattr(model, name) for name in
                  ("v_template", "shapedirs", "J_regressor", "weights", "faces")]
    else:
        arrays = [v_template, shapedirs, J_regressor, weights, faces]
        for name, value in zip(("v_template", "shapedirs", "J_regressor", "weights", "faces"),
                               arrays, strict=True):
            if value is None:
                raise TypeError(f"capsules_for_model needs a model or {name}")
    arrays = list(_model_arrays(*arrays))
    key = model_hash(*arrays)
    shipped = _shipped_regressor(key, Path(data_dir) if data_dir is not None else DATA_DIR)
    if shipped is not None:
        return shipped
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cached = folder / f"{key}.npz"
    if cached.is_file():
        try:
            regressor = CapsuleRegressor.load(cached)
            if regressor.model_hash == key:
                return regressor
        except (OSError, ValueError):
            pass  # unreadable or stale: fit again and overwrite
    regressor = fit_capsule_regressor(*arrays)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".npz.tmp", delete=False) as tmp:
            tmp_path = Path(tmp.name)
        try:
            regressor.save(tmp_path)
            os.replace(tmp_path, cached)  # atomic: readers never see a partial file
        finally:
            tmp_path.unlink(missing_ok=True)
    except OSError:
        pass  # read-only or missing home: keep the fitted regressor in memory only
    return regressor

