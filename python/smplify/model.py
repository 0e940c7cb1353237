"""The body model: SMPL-format arrays plus the C++ core that poses them (SPEC §1, §5)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse

from . import _core
from .keypoints import JOINT_NAMES
from .model_io import (
    NUM_JOINTS,
    NUM_POSE_FEATURES,
    check_gender,
    model_arrays,
    read_model_file,
    resolve_model_path,
)

if TYPE_CHECKING:
    from .capsules import Capsules

NUM_BODY_JOINTS = NUM_JOINTS - 1  # body_pose covers joints 1..23; global_orient is joint 0


@dataclass(frozen=True)
class ModelOutput:
    """A posed body: ``vertices`` (N, 3) and ``joints`` (24, 3), metres."""

    vertices: np.ndarray
    joints: np.ndarray


def as_vector(value: Any, size: int, name: str) -> np.ndarray:
    """``value`` as a finite float64 vector of ``size`` entries (None → zeros)."""
    if value is None:
        return np.zeros(size)
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a numeric array of shape ({size},), got "
                        f"{type(value).__name__}") from err
    if array.shape == (1, size):  # accept smplx-style batch of one
        array = array[0]
    if array.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},), got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got NaN or inf")
    return array


class BodyModel:
    """An SMPL-format body model (24 joints) ready to pose and fit.

    Build it with :func:`load_model`. Calling it poses the mesh::

        out = model(betas=None, body_pose=None, global_orient=None, transl=None)
        out.vertices  # (N, 3) metres
        out.joints    # (24, 3) metres

    Attributes
    ----------
    v_template : (N, 3) rest-pose template.
    shapedirs : (N, 3, B) shape blend shapes.
    posedirs : (N, 3, 207) pose blend shapes (zeros when the model has none).
    J_regressor : (24, N) joint regressor (dense).
    weights : (N, 24) skinning weights.
    kintree_table : (2, 24) kinematic tree; row 0 holds the parents.
    faces : (F, 3) triangles.
    """

    def __init__(self, arrays: dict[str, Any], *, name: str = "", gender: str = "neutral"):
        self.name = name
        self.gender = gender
        self.v_template: np.ndarray = arrays["v_template"]
        self.shapedirs: np.ndarray = arrays["shapedirs"]
        # The source file's whole shape space (N, 3, B_file), written by to_npz; from
        # model_arrays it shares memory with shapedirs (one is a view of the other).
        self._file_shapedirs: np.ndarray | None = arrays.get("file_shapedirs")
        self._posedirs: np.ndarray | None = arrays["posedirs"]
        self._J_regressor_sparse: scipy.sparse.csr_matrix = arrays["J_regressor"]
        self.weights: np.ndarray = arrays["weights"]
        self.kintree_table: np.ndarray = arrays["kintree_table"]
        self.faces: np.ndarray = arrays["f"]
        self.keypoint_names: tuple[str, ...] = tuple(arrays.get("keypoint_names", ()))
        self.keypoint_regressor: scipy.sparse.csr_matrix | None = arrays.get(
            "keypoint_regressor")
        parents = self.kintree_table[0].copy()
        parents[0] = -1
        if np.any(parents[1:] < 0) or np.any(parents[1:] >= np.arange(1, NUM_JOINTS)):
            raise ValueError(f"{name}: kintree_table must list each joint after its parent")
        self.parents: np.ndarray = parents
        n = len(self.v_template)
        posedirs = (np.zeros((0, 0)) if self._posedirs is None
                    else self._posedirs.reshape(3 * n, NUM_POSE_FEATURES))
        self._core = _core.BodyModel(
            self.v_template, self.shapedirs.reshape(3 * n, -1), posedirs,
            self._J_regressor_sparse, scipy.sparse.csr_matrix(self.weights), self.parents.tolist())

    # --- SMPL-format arrays ---------------------------------------------------------
    @property
    def posedirs(self) -> np.ndarray:
        """(N, 3, 207) pose blend shapes; zeros for a model without them."""
        if self._posedirs is None:
            return np.zeros((len(self.v_template), 3, NUM_POSE_FEATURES))
        return self._posedirs

    @property
    def has_pose_blend_shapes(self) -> bool:
        """Whether the model has non-zero pose blend shapes."""
        return self._posedirs is not None

    @cached_property
    def J_regressor(self) -> np.ndarray:
        """(24, N) joint regressor, dense."""
        return self._J_regressor_sparse.toarray()

    @property
    def num_betas(self) -> int:
        """Number of shape coefficients B."""
        return int(self.shapedirs.shape[2])

    @property
    def num_vertices(self) -> int:
        """Number of mesh vertices N."""
        return int(len(self.v_template))

    @property
    def joint_names(self) -> tuple[str, ...]:
        """Names of the 24 joints, SMPL order."""
        return JOINT_NAMES

    @cached_property
    def J_template(self) -> np.ndarray:
        """(24, 3) rest joints at β = 0."""
        return np.asarray(self._core.J_template)

    @cached_property
    def J_shapedirs(self) -> np.ndarray:
        """(24, 3, B) rest-joint shape blend shapes: J(β) = J_template + J_shapedirs · β."""
        return np.asarray(self._core.J_shapedirs).reshape(NUM_JOINTS, 3, self.num_betas)

    @property
    def core(self) -> Any:
        """The C++ model (``smplify._core.BodyModel``)."""
        return self._core

    # --- posing -----------------------------------------------------------------------
    def __call__(self, betas: Any = None, body_pose: Any = None, global_orient: Any = None,
                 transl: Any = None) -> ModelOutput:
        """Pose the model.

        Parameters
        ----------
        betas : (B,) shape coefficients, or None for zeros.
        body_pose : (69,) axis-angle of joints 1..23, or None for zeros.
        global_orient : (3,) axis-angle of the root, or None for zeros.
        transl : (3,) translation in metres, or None for zeros.

        Returns
        -------
        ModelOutput with ``vertices`` (N, 3) and ``joints`` (24, 3), metres.
        """
        betas = as_vector(betas, self.num_betas, "betas")
        pose = np.concatenate([as_vector(global_orient, 3, "global_orient"),
                               as_vector(body_pose, 3 * NUM_BODY_JOINTS, "body_pose")])
        transl = as_vector(transl, 3, "transl")
        return ModelOutput(vertices=np.asarray(self._core.vertices(pose, betas, transl)),
                           joints=np.asarray(self._core.joints(pose, betas, transl)))

    def rest_joints(self, betas: Any = None) -> np.ndarray:
        """(24, 3) joints of the shaped body in the rest pose, J(β)."""
        return np.asarray(self._core.rest_joints(as_vector(betas, self.num_betas, "betas")))

    def capsules(self, betas: Any = None) -> Capsules:
        """The 20 interpenetration capsules for shape ``betas`` (SPEC §2)."""
        return self.capsule_regressor.evaluate(as_vector(betas, self.num_betas, "betas"),
                                               self.rest_joints(betas))

    @cached_property
    def capsule_regressor(self) -> Any:
        """β → capsule regressor of this model (shipped, cached, or fitted on first use)."""
        from .capsules import capsules_for_model
        return capsules_for_model(self)

    # --- export -------------------------------------------------------------------------
    def _file_arrays(self) -> dict[str, np.ndarray]:
        """The model as an SMPL file holds it: every shape coefficient of the file it came
        from (not the zero columns of padding), dense posedirs, and the keypoint extras."""
        shapedirs = self.shapedirs if self._file_shapedirs is None else self._file_shapedirs
        arrays = {"v_template": self.v_template, "shapedirs": shapedirs,
                  "posedirs": self.posedirs, "J_regressor": self.J_regressor,
                  "weights": self.weights, "kintree_table": self.kintree_table,
                  "f": self.faces.astype(np.uint32)}
        if self.keypoint_regressor is not None:
            arrays["keypoint_names"] = np.asarray(self.keypoint_names)
            arrays["keypoint_regressor"] = self.keypoint_regressor.toarray()
        return arrays

    def to_npz(self, path: str | Path) -> Path:
        """Write the model in the smplx ``.npz`` layout (the arrays smplx's body models take).

        A conversion, not a truncation: ``shapedirs`` holds all the shape coefficients of
        the file the model was loaded from (e.g. 300), whatever ``num_betas`` it was loaded
        with (the zero columns of padding are not written). smplx's ``SMPL`` class itself
        opens only pickles: for ``smplx.SMPL(model_path=...)`` write :meth:`to_pkl`.

        Parameters
        ----------
        path : str or Path
            Output file; ``.npz`` is appended when the name does not end in it.

        Returns
        -------
        Path
            The file written.
        """
        path = _with_suffix(path, ".npz")
        with path.open("wb") as handle:
            np.savez_compressed(handle, **self._file_arrays())
        return path

    def to_pkl(self, path: str | Path) -> Path:
        """Write the model as an SMPL ``.pkl`` of plain NumPy arrays, without chumpy.

        ``smplx.SMPL(model_path=path)`` loads it as it is (the official files pickle chumpy
        arrays, which smplx cannot read without chumpy installed), and so does
        :func:`load_model`. The same arrays as :meth:`to_npz`.

        Parameters
        ----------
        path : str or Path
            Output file; ``.pkl`` is appended when the name does not end in it.

        Returns
        -------
        Path
            The file written.
        """
        import pickle

        path = _with_suffix(path, ".pkl")
        with path.open("wb") as handle:
            pickle.dump(self._file_arrays(), handle, protocol=4)
        return path

    def __repr__(self) -> str:
        return (f"BodyModel(name={self.name!r}, gender={self.gender!r}, "
                f"vertices={self.num_vertices}, betas={self.num_betas})")


def _with_suffix(path: str | Path, suffix: str) -> Path:
    """``path`` with ``suffix`` appended unless it already ends in it (any case), as
    ``np.savez`` would name it, so that the writer can return the name."""
    path = Path(path)
    return path if path.suffix.lower() == suffix else path.with_name(path.name + suffix)


def load_model(name_or_path: str | Path | BodyModel = "open", gender: str = "neutral",
               num_betas: int | None = 10) -> BodyModel:
    """Load a body model.

    Parameters
    ----------
    name_or_path : "open", a path to an SMPL ``.pkl``/``.npz`` file, a folder holding
        SMPL files under their usual names, or an already loaded model (returned as is).
    gender : "neutral", "male" or "female".
    num_betas : number of shape coefficients; the file's are truncated or zero-padded.
        None keeps all of the file's (e.g. 300). :meth:`BodyModel.to_npz` writes all of
        them either way.

    Returns
    -------
    BodyModel

    Raises
    ------
    FileNotFoundError : the file does not exist.
    ModelFileError : the file is not an SMPL-format model, or is an unsafe pickle.
    """
    if isinstance(name_or_path, BodyModel):
        return name_or_path
    gender = check_gender(gender)
    if num_betas is not None and (isinstance(num_betas, bool) or
                                  not isinstance(num_betas, (int, np.integer)) or num_betas < 1):
        raise ValueError(f"num_betas must be a positive integer or None, got {num_betas!r}")
    path = resolve_model_path(name_or_path, gender)
    arrays = model_arrays(read_model_file(path), path,
                          None if num_betas is None else int(num_betas))
    name = "open" if name_or_path == "open" else str(path)
    return BodyModel(arrays, name=name, gender=gender)
