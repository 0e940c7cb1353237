"""Write fitted bodies to disk: meshes through trimesh, parameters in the smplx SMPL layout.

Meshes (``save_mesh``/``load_mesh``): ``.obj``, ``.ply`` or ``.glb``, chosen by the suffix. The
vertex order and the faces are written as they are (trimesh with ``process=False``: no merging,
no reordering), so vertex ``i`` of the file is vertex ``i`` of the model. Precision is the
format's: OBJ text with 8 decimals (10 nm in metres), PLY and GLB float32. OBJ and PLY hold
the coordinates as given (a fit's are in the OpenCV camera frame: x right, y down, z forward).
glTF fixes +y up, so GLB files hold them turned 180° about x, (x, -y, -z): the OpenGL camera
frame, in which a viewer shows an upright person upright; ``load_mesh`` turns them back.

Parameters (``save_params``/``load_params``): ``.npz`` or ``.json``, chosen by the suffix, with
the keys and shapes of the smplx package's SMPL layer (a batch of one, float32, its default
dtype), so that::

    params = smplify.export.load_params("fit.npz")
    smplx.SMPL(model_path)(**{k: torch.tensor(params[k])
                              for k in ("betas", "global_orient", "body_pose", "transl")})

poses the same body (``model_path``: the SMPL ``.pkl`` the fit used, or for the open model
``smplify.load_model("open").to_pkl(...)``, a pickle without chumpy that ``smplx.SMPL`` opens
as it is; checked with smplx 0.1.28: its vertices match ``FitResult.vertices`` to float32
precision). Next to them: the camera (``focal_length``, ``camera_center``), the final
energies and, when known, the chosen orientation and the model used.

=================  ==========  =========  ===========================================
key                shape       dtype      meaning
=================  ==========  =========  ===========================================
betas              (1, B)      float32    shape coefficients
global_orient      (1, 3)      float32    root axis-angle, camera frame (radians)
body_pose          (1, 69)     float32    axis-angle of joints 1..23 (radians)
transl             (1, 3)      float32    translation, camera frame (metres)
focal_length       ()          float64    pixels
camera_center      (2,)        float64    principal point (cx, cy), pixels
energy_<term>      ()          float64    data, pose, angle, shape, interpenetration, keypoints_3d,
                                          knee_depth, anchor (E_3D to the learned readings), total
orientation        ()          str        "initial" or "flipped" (if the fit says)
model, gender      ()          str        the body model used (if given)
track_id, frame    ()          int64      person track and frame index (if given)
=================  ==========  =========  ===========================================

In ``.json`` the energies are one object ``"energy": {term: value}`` and the arrays are nested
lists; ``load_params`` returns the same dictionary for both.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import trimesh

__all__ = ["MESH_SUFFIXES", "SMPLX_KEYS", "load_mesh", "load_params", "save_mesh", "save_params"]

MESH_SUFFIXES = (".obj", ".ply", ".glb")
# OpenCV camera frame (y down, z forward) -> glTF's y-up frame: 180° about x.
_GLTF_FROM_CAMERA = np.array([1.0, -1.0, -1.0])
PARAM_SUFFIXES = (".npz", ".json")
# The keyword arguments of smplx.SMPL.forward that a fit determines, and their widths.
SMPLX_KEYS = ("betas", "global_orient", "body_pose", "transl")
_WIDTHS = {"global_orient": 3, "body_pose": 69, "transl": 3}
_OBJ_DIGITS = 8  # decimals of OBJ coordinates: 1e-8 m


def _suffix(path: Path, allowed: tuple[str, ...], arg: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise ValueError(f"{arg}: expected a file name ending in {', '.join(allowed)}, "
                         f"got {str(path)!r}")
    return suffix


def save_mesh(path: str | Path, vertices: Any, faces: Any) -> Path:
    """Write a triangle mesh, keeping the vertex order and the faces as given.

    Parameters
    ----------
    path : str or Path
        Output file; the suffix (``.obj``, ``.ply`` or ``.glb``) picks the format. Missing
        parent folders are created.
    vertices : (N, 3) array_like
        Vertex positions, metres.
    faces : (F, 3) array_like of int
        Triangles as indices into ``vertices``.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    suffix = _suffix(path, MESH_SUFFIXES, "path")
    v = np.asarray(vertices, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] != 3 or len(v) == 0:
        raise ValueError(f"vertices: expected shape (N, 3) with N > 0, got {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError("vertices: must be finite, got NaN or inf")
    f = np.asarray(faces)
    if f.ndim != 2 or f.shape[1] != 3 or not np.issubdtype(f.dtype, np.integer):
        raise ValueError(f"faces: expected an integer array of shape (F, 3), got "
                         f"{f.dtype} {f.shape}")
    if f.size and (f.min() < 0 or f.max() >= len(v)):
        raise ValueError(f"faces: indices must lie in [0, {len(v)}), got "
                         f"[{f.min()}, {f.max()}]")
    if suffix == ".glb":
        v = v * _GLTF_FROM_CAMERA
    path.parent.mkdir(parents=True, exist_ok=True)
    data: Any
    if suffix == ".obj" and len(f):
        data = _obj_text(v, f)
    else:
        mesh = trimesh.Trimesh(vertices=v, faces=f.astype(np.int64), process=False)
        if suffix == ".obj":
            data = trimesh.exchange.obj.export_obj(
                mesh, include_normals=False, include_color=False, include_texture=False,
                digits=_OBJ_DIGITS, header="smplify")
        else:
            data = mesh.export(file_type=suffix[1:])
    mode = "w" if isinstance(data, str) else "wb"
    with open(path, mode) as fh:
        fh.write(data)
    return path


def _obj_text(vertices: np.ndarray, faces: np.ndarray) -> str:
    """The OBJ text trimesh's ``export_obj`` writes (header "smplify", ``_OBJ_DIGITS``
    decimals, no normals), character for character, ~4x faster: one C-level ``%`` format
    over Python floats instead of ``str.format`` over NumPy scalars (a 6890-vertex body:
    ~6 ms instead of ~23 ms CPU), the faces' lines reused. ``faces`` must not be empty."""
    v = ("v" + f" %.{_OBJ_DIGITS}f" * 3 + "\n") * len(vertices)
    return ("# smplify\n" + v % tuple(vertices.ravel().tolist())
            + _obj_faces(np.ascontiguousarray(faces, dtype=np.int64).tobytes()) + "\n")


@functools.lru_cache(maxsize=4)
def _obj_faces(faces: bytes) -> str:
    """The ``f`` lines of an OBJ file for (F, 3) int64 faces given as bytes; kept for the
    next mesh with the same faces (every fit of a model has them: ~45% of the OBJ text's
    time)."""
    f = np.frombuffer(faces, dtype=np.int64)
    return ("f %d %d %d\n" * (len(f) // 3)) % tuple((f + 1).tolist())


def load_mesh(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a mesh written by :func:`save_mesh` (or any single-mesh file trimesh reads).

    Parameters
    ----------
    path : str or Path
        ``.obj``, ``.ply`` or ``.glb`` file.

    Returns
    -------
    vertices : (N, 3) float64
        Metres, in file order.
    faces : (F, 3) int64
    """
    path = Path(path)
    _suffix(path, MESH_SUFFIXES, "path")
    if not path.is_file():
        raise FileNotFoundError(f"path: no such mesh file: {path}")
    # maintain_order: trimesh's OBJ reader otherwise drops vertices no face uses.
    mesh = trimesh.load(path, force="mesh", process=False, maintain_order=True)
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    if path.suffix.lower() == ".glb":
        vertices = vertices * _GLTF_FROM_CAMERA  # its own inverse
    return vertices, np.asarray(mesh.faces, dtype=np.int64)


def _vector(result: Any, name: str, width: int | None) -> np.ndarray:
    value = getattr(result, name, None)
    if value is None:
        raise TypeError(f"result: expected a FitResult, it has no {name!r}")
    array = np.asarray(value, dtype=np.float64).reshape(-1)
    if width is not None and array.shape != (width,):
        raise ValueError(f"result.{name}: expected {width} values, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"result.{name}: must be finite")
    return array


def _params_dict(result: Any, model: Any) -> dict[str, Any]:
    """The fields of ``result`` in the layout of the module docstring."""
    params: dict[str, Any] = {}
    for key in SMPLX_KEYS:
        params[key] = _vector(result, key, _WIDTHS.get(key))[None].astype(np.float32)
    camera = getattr(result, "camera", None)
    if camera is None:
        raise TypeError("result: expected a FitResult, it has no 'camera'")
    params["focal_length"] = float(camera.focal_length)
    center = np.asarray(camera.center, dtype=np.float64).reshape(-1)
    if center.shape != (2,):
        raise ValueError(f"result.camera.center: expected 2 values, got shape {center.shape}")
    params["camera_center"] = center
    energy = getattr(result, "energy", None) or {}
    if not isinstance(energy, Mapping):
        raise TypeError(f"result.energy: expected a dict, got {type(energy).__name__}")
    params["energy"] = {str(k): float(v) for k, v in energy.items()}
    summary = getattr(result, "summary", None) or {}
    if isinstance(summary, Mapping) and summary.get("orientation") is not None:
        params["orientation"] = str(summary["orientation"])
    if model is not None:
        params["model"] = str(getattr(model, "name", model))
        gender = getattr(model, "gender", None)
        if gender is not None:
            params["gender"] = str(gender)
    return params


def save_params(path: str | Path, result: Any, *, model: Any = None,
                track_id: int | None = None, frame: int | None = None) -> Path:
    """Write a fit's parameters in the smplx SMPL layer's naming and shapes.

    Parameters
    ----------
    path : str or Path
        Output file; ``.npz`` or ``.json`` by suffix. Missing parent folders are created.
    result : FitResult
        The fit (anything with ``betas`` (B,), ``global_orient`` (3,), ``body_pose`` (69,),
        ``transl`` (3,), ``camera`` (``focal_length``, ``center``), ``energy`` and
        ``summary``).
    model : BodyModel or str, optional
        The model the fit used; its name and gender are recorded.
    track_id : int, optional
        The person's track in a video or folder (``smplify fit``), recorded.
    frame : int, optional
        The frame's index in its video or folder, recorded.

    Returns
    -------
    Path
        The file written. Layout: see the module docstring.
    """
    path = Path(path)
    suffix = _suffix(path, PARAM_SUFFIXES, "path")
    params = _params_dict(result, model)
    for key, value in (("track_id", track_id), ("frame", frame)):
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{key}: expected an int, got {type(value).__name__}")
            params[key] = int(value)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".json":
        doc: dict[str, Any] = {}
        for key, value in params.items():
            # float() of a float32 is exact, so the file reads back bit for bit.
            doc[key] = value.astype(np.float64).tolist() if isinstance(value, np.ndarray) \
                else value
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1)
            fh.write("\n")
    else:
        arrays: dict[str, Any] = {k: v for k, v in params.items() if k != "energy"}
        arrays["focal_length"] = np.float64(params["focal_length"])
        for term, value in params["energy"].items():
            arrays[f"energy_{term}"] = np.float64(value)
        for key in ("orientation", "model", "gender"):
            if key in arrays:
                arrays[key] = np.str_(arrays[key])
        for key in ("track_id", "frame"):
            if key in arrays:
                arrays[key] = np.int64(arrays[key])
        np.savez(path, **arrays)
    return path


def _array(doc: Mapping[str, Any], key: str, path: Path) -> np.ndarray:
    if key not in doc:
        raise ValueError(f"path: {path} has no {key!r}; not a smplify parameter file")
    try:
        array = np.asarray(doc[key], dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise ValueError(f"path: {key!r} in {path} is not numeric ({err})") from None
    width = _WIDTHS.get(key)
    if array.ndim != 2 or array.shape[0] != 1 or (width is not None and array.shape[1] != width):
        expected = f"(1, {width})" if width is not None else "(1, B)"
        raise ValueError(f"path: {key!r} in {path} must have shape {expected}, got {array.shape}")
    return array


def load_params(path: str | Path) -> dict[str, Any]:
    """Read parameters written by :func:`save_params`.

    Parameters
    ----------
    path : str or Path
        ``.npz`` or ``.json`` file.

    Returns
    -------
    dict
        ``betas`` (1, B), ``global_orient`` (1, 3), ``body_pose`` (1, 69), ``transl`` (1, 3)
        float32 arrays; ``focal_length`` float (pixels); ``camera_center`` (2,) float64
        (pixels); ``energy`` dict of float; and ``orientation``, ``model``, ``gender`` (str),
        ``track_id``, ``frame`` (int) when the file has them.
    """
    path = Path(path)
    suffix = _suffix(path, PARAM_SUFFIXES, "path")
    if not path.is_file():
        raise FileNotFoundError(f"path: no such parameter file: {path}")
    if suffix == ".json":
        with open(path, encoding="utf-8") as fh:
            try:
                doc: Mapping[str, Any] = json.load(fh)
            except json.JSONDecodeError as err:
                raise ValueError(f"path: {path} is not valid JSON ({err})") from None
        if not isinstance(doc, Mapping):
            raise ValueError(f"path: {path} does not hold a JSON object")
        energy = doc.get("energy", {})
        if not isinstance(energy, Mapping):
            raise ValueError(f"path: 'energy' in {path} must be an object")
    else:
        with np.load(path, allow_pickle=False) as npz:
            doc = {key: npz[key] for key in npz.files}
        energy = {k[len("energy_"):]: doc[k] for k in doc if k.startswith("energy_")}
    params: dict[str, Any] = {key: _array(doc, key, path) for key in SMPLX_KEYS}
    for key in ("focal_length", "camera_center"):
        if key not in doc:
            raise ValueError(f"path: {path} has no {key!r}; not a smplify parameter file")
    params["focal_length"] = float(np.asarray(doc["focal_length"], dtype=np.float64))
    params["camera_center"] = np.asarray(doc["camera_center"], dtype=np.float64).reshape(2)
    params["energy"] = {str(k): float(v) for k, v in energy.items()}
    if not all(math.isfinite(v) for v in (params["focal_length"], *params["camera_center"])):
        raise ValueError(f"path: camera values in {path} must be finite")
    for key in ("orientation", "model", "gender"):
        if key in doc:
            params[key] = str(doc[key])
    for key in ("track_id", "frame"):
        if key in doc:
            params[key] = int(np.asarray(doc[key]))
    return params
