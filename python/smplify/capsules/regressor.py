"""Capsules of one shape and the β → capsule regressor with its spheres (SPEC §2 E_sp).

A capsule is the set of points within radius r of a segment A→B of length l. In the shaped rest
pose (docs/design.md, "Capsule file"):

    r(β) = radius_mean + radius_betas · β,     l(β) = length_mean + length_betas · β,
    A = J_joint(β) + offset + start · l(β) · axis,     B = A + l(β) · axis.

E_sp replaces each capsule by n = 2 + max(0, ⌊l / (2r) − 1⌋) spheres of radius r evenly spaced
from A to B, each carrying an isotropic Gaussian of σ = r / 3. Also here: `model_hash`, the key
under which a model's regressor is shipped or cached, and `surface_distances`.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse

from .parts import (
    INCOMPATIBLE_PART_PAIRS,
    NUM_JOINTS,
    NUM_PARTS,
    PART_NAMES,
)

_ALGORITHM_VERSION = "capsules-2"  # part of every model hash: bump when the fit changes
_FILE_KEYS = ("joint", "axis", "offset", "start", "radius_mean", "radius_betas", "length_mean",
              "length_betas", "parts")


@dataclass(frozen=True)
class Capsules:
    """The 20 capsules of one shape in the shaped rest (T-pose) frame, metres.

    Attributes
    ----------
    radius : (20,) capsule radii r.
    length : (20,) axis lengths l = ‖B − A‖.
    a : (20, 3) axis start points A.
    b : (20, 3) axis end points B.
    joint : (20,) int, the SMPL joint each capsule is rigidly attached to.
    parts : tuple of 20 part names.
    """

    radius: np.ndarray
    length: np.ndarray
    a: np.ndarray
    b: np.ndarray
    joint: np.ndarray
    parts: tuple[str, ...] = PART_NAMES


class Spheres(NamedTuple):
    """Spheres replacing the capsules (rest frame); unpacks as a 4-tuple.

    Attributes
    ----------
    centres : (S, 3) metres.
    radii : (S,) metres; each sphere's Gaussian has σ = SPHERE_SIGMA_SCALE · radius.
    capsule_of_sphere : (S,) int, the capsule (part index) of each sphere.
    joint_of_sphere : (S,) int, the SMPL joint each sphere is rigidly attached to.
    """

    centres: np.ndarray
    radii: np.ndarray
    capsule_of_sphere: np.ndarray
    joint_of_sphere: np.ndarray


@dataclass(frozen=True)
class CapsuleRegressor:
    """Linear regressor β → 20 capsules of a body model (docs/design.md, "Capsule file").

    Attributes
    ----------
    joint : (20,) int, SMPL joint of each capsule.
    axis : (20, 3) unit axis directions in the rest frame.
    offset : (20, 3) metres, from the joint to the capsule's reference point.
    start : (20,) fraction of l from the reference point to A along the axis.
    radius_mean : (20,) metres.  radius_betas : (20, B) metres per unit β.
    length_mean : (20,) metres.  length_betas : (20, B) metres per unit β.
    parts : tuple of 20 part names.
    model_hash : str, `model_hash` of the model it was fitted to ("" if unknown).
    """

    joint: np.ndarray
    axis: np.ndarray
    offset: np.ndarray
    start: np.ndarray
    radius_mean: np.ndarray
    radius_betas: np.ndarray
    length_mean: np.ndarray
    length_betas: np.ndarray
    parts: tuple[str, ...] = PART_NAMES
    model_hash: str = ""

    def __post_init__(self) -> None:
        b = np.asarray(self.radius_betas).shape[-1] if np.ndim(self.radius_betas) == 2 else -1
        expected = {
            "joint": (NUM_PARTS,), "axis": (NUM_PARTS, 3), "offset": (NUM_PARTS, 3),
            "start": (NUM_PARTS,), "radius_mean": (NUM_PARTS,), "radius_betas": (NUM_PARTS, b),
            "length_mean": (NUM_PARTS,), "length_betas": (NUM_PARTS, b),
        }
        for name, shape in expected.items():
            value = np.asarray(getattr(self, name))
            if value.shape != shape or b < 0:
                raise ValueError(f"{name} must have shape {shape} (B = number of betas), "
                                 f"got {value.shape}")
            if not np.all(np.isfinite(value)):
                raise ValueError(f"{name} must be finite")
            dtype = np.int64 if name == "joint" else np.float64
            object.__setattr__(self, name, np.array(value, dtype=dtype))
        if len(tuple(self.parts)) != NUM_PARTS:
            raise ValueError(f"parts must name {NUM_PARTS} parts, got {len(tuple(self.parts))}")
        object.__setattr__(self, "parts", tuple(str(p) for p in self.parts))
        if np.any(self.joint < 0) or np.any(self.joint >= NUM_JOINTS):
            raise ValueError("joint must hold SMPL joint indices 0..23")

    @property
    def num_betas(self) -> int:
        """Number of shape coefficients B the regressor was fitted with."""
        return int(self.radius_betas.shape[1])

    def _betas(self, betas: Any) -> np.ndarray:
        """(B,) betas: None → zeros, fewer than B → zero-padded, more → ValueError."""
        if betas is None:
            return np.zeros(self.num_betas)
        try:
            betas = np.asarray(betas, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise TypeError(f"betas must be a numeric array, got {type(betas).__name__}") from err
        if betas.ndim != 1 or len(betas) > self.num_betas:
            raise ValueError(f"betas must have shape (B,) with B <= {self.num_betas}, "
                             f"got {betas.shape}")
        if not np.all(np.isfinite(betas)):
            raise ValueError("betas must be finite")
        return np.pad(betas, (0, self.num_betas - len(betas)))

    def radius_length(self, betas: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Radii and lengths for shape ``betas``.

        Parameters
        ----------
        betas : (B',) with B' <= B, or None for zeros.

        Returns
        -------
        radius, length : (20,) metres each.
        """
        betas = self._betas(betas)
        return (self.radius_mean + self.radius_betas @ betas,
                self.length_mean + self.length_betas @ betas)

    def evaluate(self, betas: Any, rest_joints: Any) -> Capsules:
        """The capsules of shape ``betas`` in the shaped rest pose.

        Parameters
        ----------
        betas : (B',) shape coefficients, B' <= B (zero-padded), or None for zeros.
        rest_joints : (24, 3) rest joints J(β) of the same shape, metres.

        Returns
        -------
        Capsules
        """
        radius, length = self.radius_length(betas)
        joints = _check_array(rest_joints, (NUM_JOINTS, 3), "rest_joints")
        base = joints[self.joint] + self.offset
        a = base + (self.start * length)[:, None] * self.axis
        b = a + length[:, None] * self.axis
        return Capsules(radius=radius, length=length, a=a, b=b, joint=self.joint.copy(),
                        parts=self.parts)

    def sphere_counts(self, betas: Any = None) -> np.ndarray:
        """Spheres per capsule, n = 2 + max(0, ⌊l / (2r) − 1⌋), for shape ``betas``.

        Returns
        -------
        (20,) int
        """
        radius, length = self.radius_length(betas)
        return sphere_counts(radius, length)

    def sphere_layout(self, counts: Any) -> tuple[np.ndarray, np.ndarray]:
        """Which capsule each sphere belongs to and where along it, for fixed ``counts``.

        Parameters
        ----------
        counts : (20,) int >= 2, spheres per capsule (`sphere_counts`).

        Returns
        -------
        capsule_of_sphere : (S,) int.
        fraction : (S,) m / (n − 1) in [0, 1]: the centre is A + fraction · (B − A).
        """
        counts = _check_counts(counts)
        capsule = np.repeat(np.arange(NUM_PARTS), counts)
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])
        m = np.arange(len(capsule)) - first[capsule]
        return capsule, m / (counts[capsule] - 1.0)

    def spheres(self, betas: Any, rest_joints: Any, counts: Any = None) -> Spheres:
        """Spheres replacing the capsules of shape ``betas`` (rest frame).

        Parameters
        ----------
        betas : (B',) shape coefficients, or None for zeros.
        rest_joints : (24, 3) rest joints J(β), metres.
        counts : (20,) int spheres per capsule, or None for ``sphere_counts(betas)``. A fit
            fixes the counts when its problem is built and keeps them while β changes.

        Returns
        -------
        Spheres (centres (S, 3), radii (S,), capsule_of_sphere (S,), joint_of_sphere (S,)).
        """
        caps = self.evaluate(betas, rest_joints)
        if counts is None:
            counts = sphere_counts(caps.radius, caps.length)
        capsule, fraction = self.sphere_layout(counts)
        centres = caps.a[capsule] + fraction[:, None] * (caps.b - caps.a)[capsule]
        return Spheres(centres, caps.radius[capsule], capsule, self.joint[capsule])

    def incompatible_sphere_pairs(self, counts: Any) -> np.ndarray:
        """Sphere index pairs of E_sp for spheres laid out with ``counts``.

        Every sphere of the first part against every sphere of the second, for each pair of
        INCOMPATIBLE_PART_PAIRS in order (each unordered pair of spheres once).

        Parameters
        ----------
        counts : (20,) int >= 2, spheres per capsule.

        Returns
        -------
        (P, 2) int indices into the spheres of `spheres` / `sphere_layout`.
        """
        counts = _check_counts(counts)
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])
        pairs = []
        for p, q in INCOMPATIBLE_PART_PAIRS:
            i, j = np.meshgrid(first[p] + np.arange(counts[p]), first[q] + np.arange(counts[q]),
                               indexing="ij")
            pairs.append(np.stack([i.ravel(), j.ravel()], axis=1))
        return np.concatenate(pairs).astype(np.int64)

    def arrays(self) -> dict[str, np.ndarray]:
        """The capsule-file arrays (docs/design.md) as a dict of NumPy arrays."""
        out = {key: np.array(getattr(self, key)) for key in _FILE_KEYS if key != "parts"}
        out["parts"] = np.array(self.parts)
        return out

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the capsule file (``.npz``, docs/design.md layout plus ``model_hash``).

        The zip entries carry a fixed timestamp, so the same regressor gives the same bytes.
        """
        path = Path(path)
        arrays = {**self.arrays(), "model_hash": np.array(self.model_hash),
                  "version": np.array(_ALGORITHM_VERSION)}
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for key, value in arrays.items():
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, np.asarray(value),
                                          allow_pickle=False)
                info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, buffer.getvalue())
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CapsuleRegressor:
        """Read a capsule file written by `save` (docs/design.md layout).

        Raises
        ------
        FileNotFoundError : no such file.
        ModelFileError : a key is missing or has the wrong shape.
        """
        from ..errors import ModelFileError

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"capsule file not found: {path}")
        try:
            with np.load(path, allow_pickle=False) as data:
                missing = [key for key in _FILE_KEYS if key not in data]
                if missing:
                    raise ModelFileError(f"{path}: capsule file lacks {', '.join(missing)}")
                fields = {key: data[key] for key in _FILE_KEYS}
                model_hash = str(data["model_hash"]) if "model_hash" in data else ""
            fields["parts"] = tuple(str(p) for p in fields["parts"])
            return cls(**fields, model_hash=model_hash)
        except (ValueError, OSError, KeyError) as err:
            if isinstance(err, ModelFileError):
                raise
            raise ModelFileError(f"{path}: not a capsule file ({err})") from err


def sphere_counts(radius: Any, length: Any) -> np.ndarray:
    """Spheres per capsule: n = 2 + max(0, ⌊l / (2r) − 1⌋) (docs/design.md).

    Parameters
    ----------
    radius, length : (C,) metres.

    Returns
    -------
    (C,) int >= 2
    """
    radius = np.asarray(radius, dtype=np.float64)
    length = np.asarray(length, dtype=np.float64)
    if radius.shape != length.shape or np.any(radius <= 0):
        raise ValueError("radius must be positive and have the shape of length")
    return 2 + np.maximum(0, np.floor(length / (2.0 * radius) - 1.0)).astype(np.int64)


def _check_counts(counts: Any) -> np.ndarray:
    counts = np.asarray(counts)
    if counts.shape != (NUM_PARTS,) or not np.issubdtype(counts.dtype, np.integer):
        raise ValueError(f"counts must be an int array of shape ({NUM_PARTS},), "
                         f"got {counts.dtype} {counts.shape}")
    if np.any(counts < 2):
        raise ValueError("counts must be >= 2 (both ends of every capsule)")
    return counts.astype(np.int64)


def _check_array(value: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a numeric array of shape {shape}") from err
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite")
    return array


# ---------------------------------------------------------------------------------------------
# Model arrays, hashing, vertex areas
# ---------------------------------------------------------------------------------------------


def _model_arrays(v_template: Any, shapedirs: Any, J_regressor: Any, weights: Any,
                  faces: Any) -> tuple[np.ndarray, ...]:
    """Validate and normalise the SMPL arrays the capsule fit reads (float64 / int64)."""
    v = _check_array(v_template, np.shape(v_template), "v_template")
    if v.ndim != 2 or v.shape[1] != 3 or len(v) < 3:
        raise ValueError(f"v_template must have shape (N, 3), got {v.shape}")
    n = len(v)
    sd = np.asarray(shapedirs, dtype=np.float64)
    if sd.ndim != 3 or sd.shape[:2] != (n, 3) or sd.shape[2] < 1:
        raise ValueError(f"shapedirs must have shape ({n}, 3, B), got {sd.shape}")
    jr = J_regressor.toarray() if scipy.sparse.issparse(J_regressor) else J_regressor
    jr = np.asarray(jr, dtype=np.float64)
    if jr.shape != (NUM_JOINTS, n):
        raise ValueError(f"J_regressor must have shape ({NUM_JOINTS}, {n}), got {jr.shape}")
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n, NUM_JOINTS):
        raise ValueError(f"weights must have shape ({n}, {NUM_JOINTS}), got {w.shape}")
    f = np.asarray(faces)
    if f.ndim != 2 or f.shape[1] != 3 or not np.issubdtype(f.dtype, np.integer):
        raise ValueError(f"faces must be an int array of shape (F, 3), got {f.dtype} {f.shape}")
    f = f.astype(np.int64)
    if f.size and (f.min() < 0 or f.max() >= n):
        raise ValueError(f"faces must index vertices 0..{n - 1}")
    for name, arr in (("shapedirs", sd), ("J_regressor", jr), ("weights", w)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite")
    return (np.ascontiguousarray(v), np.ascontiguousarray(sd), np.ascontiguousarray(jr),
            np.ascontiguousarray(w), np.ascontiguousarray(f))


def model_hash(v_template: Any, shapedirs: Any, J_regressor: Any, weights: Any,
               faces: Any) -> str:
    """Key of a body model's capsule regressor: SHA-256 of its arrays and the fit version.

    The arrays are cast to float64 (faces int64, J_regressor dense) first, so the same model
    read as float32, or with a sparse regressor, gets the same key.

    Returns
    -------
    str, 64 hex digits.
    """
    digest = hashlib.sha256(_ALGORITHM_VERSION.encode())
    for array in _model_arrays(v_template, shapedirs, J_regressor, weights, faces):
        digest.update(str(array.shape).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()



def surface_distances(capsules: Capsules, points: Any) -> np.ndarray:
    """Unsigned distance from each point to the nearest capsule surface.

    Parameters
    ----------
    capsules : Capsules in the frame of ``points``.
    points : (N, 3) metres.

    Returns
    -------
    (N,) metres, min over capsules of |‖x − seg(x)‖ − r|.
    """
    x = _check_array(points, np.shape(points), "points")
    if x.ndim != 2 or x.shape[1] != 3:
        raise ValueError(f"points must have shape (N, 3), got {x.shape}")
    ab = capsules.b - capsules.a  # (C, 3)
    rel = x[:, None, :] - capsules.a[None]  # (N, C, 3)
    denom = np.maximum(np.einsum("cj,cj->c", ab, ab), 1e-18)
    tau = np.clip(np.einsum("ncj,cj->nc", rel, ab) / denom, 0.0, 1.0)
    dist = np.linalg.norm(rel - tau[..., None] * ab[None], axis=2)
    return np.min(np.abs(dist - capsules.radius[None]), axis=1)

