"""Capsule approximation of the body for the interpenetration term E_sp (SPEC §2).

The body is covered by 20 capsules, one per part (fingers belong to the hands, toes to the
feet), each rigidly attached to an SMPL joint. A capsule is the set of points within radius r
of a segment A→B of length l. In the shaped rest pose (docs/design.md, "Capsule file"):

    r(β) = radius_mean + radius_betas · β,     l(β) = length_mean + length_betas · β,
    A = J_joint(β) + offset + start · l(β) · axis,     B = A + l(β) · axis.

E_sp replaces each capsule by n = 2 + max(0, ⌊l / (2r) − 1⌋) spheres of radius r evenly spaced
from A to B, each carrying an isotropic Gaussian of σ = r / 3.

The regressor is built per body model (`fit_capsule_regressor`), as in the paper:

1. sample unposed bodies v(β_s) = v_template + shapedirs · β_s, β_0 = 0, β_s ~ N(0, I);
2. give every vertex to the part of its dominant skinning joint;
3. per part fit the axis and offset (shared by all shapes; start is fixed by the part's kind)
   and per shape the radius and length, minimising the bidirectional distance between the
   part's surface and the capsule's

       E = Σ_v w_v (‖v − seg(v)‖ − r)²  +  Σ_P w_P ρ(‖P − q(P)‖)

   (w_v: vertex area share of the part; P: points on the capsule surface with area shares w_P;
   q(P): the part's vertex or triangle centroid nearest P; ρ: Huber, δ = 1 cm). The first sum
   pulls the capsule surface onto every vertex of the part, from inside and from outside. The
   second, capsule → mesh, keeps the capsule from reaching beyond its part: without it the
   length of a part that is open at both ends (neck, thigh, calf) is free, since a longer
   capsule still passes through every ring of the part. Huber keeps the caps that must sit
   inside the body where two parts meet from dragging the fit;
4. make the shared geometry mirror-symmetric (left and right parts averaged);
5. learn the ridge regression β → (r, l) over the samples; refit every shape starting from the
   regressor's prediction and learn the regression again.

Minimisation: Levenberg–Marquardt with analytic Jacobians, alternating between the per-shape
(r, l) blocks (2 × 2 normal equations for every shape and part at once) and the shared
geometry of each part (offset and a turn of the axis: 5 × 5 per part), all vectorised in
NumPy; nearest targets come from one k-d tree over every (shape, part) group and are held
for a few steps at a time (ICP style). About 2 s of CPU for a 13,718-vertex model.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse

PART_NAMES: tuple[str, ...] = (
    "pelvis", "left_thigh", "right_thigh", "spine1", "left_calf", "right_calf", "spine2",
    "left_foot", "right_foot", "spine3", "neck", "left_collar", "right_collar", "head",
    "left_upper_arm", "right_upper_arm", "left_forearm", "right_forearm", "left_hand",
    "right_hand",
)
NUM_PARTS = 20
NUM_JOINTS = 24
# SMPL joint each capsule is attached to, in PART_NAMES order (docs/design.md).
PART_JOINTS = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21])
# Part of every SMPL joint's skinning region: toes (10, 11) go to the feet, fingers (22, 23) to
# the hands.
JOINT_TO_PART = np.array(
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 18, 19]
)
_P = {name: i for i, name in enumerate(PART_NAMES)}
# Incompatible part pairs of E_sp (docs/design.md), each unordered pair once.
INCOMPATIBLE_PART_PAIRS: tuple[tuple[int, int], ...] = tuple(
    [
        (_P[torso], _P[limb])
        for torso in ("pelvis", "spine1", "spine2", "spine3")
        for limb in ("left_forearm", "right_forearm", "left_hand", "right_hand")
    ]
    + [
        (_P["left_calf"], _P["right_calf"]),
        (_P["left_foot"], _P["right_calf"]),
        (_P["right_foot"], _P["left_calf"]),
        (_P["left_foot"], _P["right_foot"]),
        (_P["left_upper_arm"], _P["left_forearm"]),
        (_P["right_upper_arm"], _P["right_forearm"]),
        (_P["left_hand"], _P["right_hand"]),
    ]
)
SPHERE_SIGMA_SCALE = 1.0 / 3.0  # σ = r / 3 (docs/design.md `sphere_sigma_scale`)

# Axis choice per part. Limbs, neck, collars, hands and feet run from their joint towards the
# child joint (start = 0: A sits near the joint). Pelvis and the three spine parts lie left to
# right across the body and are centred on the part (start = −0.5), as SMPLify's torso
# capsules: the torso is wider than deep, so a horizontal capsule of radius ≈ half the depth
# and length ≈ width − depth covers it, where a vertical one would need the half-width as
# radius and bulge out in front and behind. The head runs along the neck → head bone (roughly
# vertical, the head's longest extent), centred.
_CHILD_JOINT = {1: 4, 2: 5, 4: 7, 5: 8, 7: 10, 8: 11, 12: 15, 13: 16, 14: 17, 16: 18, 17: 19,
                18: 20, 19: 21, 20: 22, 21: 23}
_LEFT_RIGHT_PARTS = (_P["pelvis"], _P["spine1"], _P["spine2"], _P["spine3"])
_CENTRED_START = -0.5

_ALGORITHM_VERSION = "capsules-2"  # part of every model hash: bump when the fit changes
_LOGGER = logging.getLogger(__name__)
_FILE_KEYS = ("joint", "axis", "offset", "start", "radius_mean", "radius_betas", "length_mean",
              "length_betas", "parts")
_MIN_RADIUS = 2e-3  # metres, floor for the per-shape fits
_MIN_LENGTH = 0.0


# ---------------------------------------------------------------------------------------------
# Capsules of one shape, and the regressor
# ---------------------------------------------------------------------------------------------


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
        from .errors import ModelFileError

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


def _vertex_areas(v: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(N,) a third of the area of every triangle around each vertex, m²."""
    tri = v[faces]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    return np.bincount(faces.ravel(), np.repeat(area / 3.0, 3), minlength=len(v))


def _orthonormal_frame(axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(…, 3) unit vectors e1, e2 completing unit ``axis`` to a right-handed frame."""
    helper = np.zeros_like(axis)
    idx = np.argmin(np.abs(axis), axis=-1)
    np.put_along_axis(helper, idx[..., None], 1.0, axis=-1)
    e1 = np.cross(axis, helper)
    e1 /= np.linalg.norm(e1, axis=-1, keepdims=True)
    return e1, np.cross(axis, e1)


def _rotate(vectors: np.ndarray, rotvec: np.ndarray) -> np.ndarray:
    """Rotate (K, 3) ``vectors`` by (K, 3) axis-angle ``rotvec`` (Rodrigues)."""
    angle = np.linalg.norm(rotvec, axis=1, keepdims=True)
    k = rotvec / np.maximum(angle, 1e-12)
    cos, sin = np.cos(angle), np.sin(angle)
    kv = np.sum(k * vectors, axis=1, keepdims=True)
    return vectors * cos + np.cross(k, vectors) * sin + k * kv * (1.0 - cos)


# ---------------------------------------------------------------------------------------------
# The fit
# ---------------------------------------------------------------------------------------------


def _surface_template(rings: int = 4, around: int = 8) -> dict[str, np.ndarray]:
    """Points on a capsule in its own coordinates, P = base + (start + t) l a + r n.

    n = c_a · a + c_1 · e1 + c_2 · e2. Region 0: the cap at A (t = 0), 1: the cylinder,
    2: the cap at B (t = 1).
    """
    phi = np.linspace(0.0, 2.0 * np.pi, around, endpoint=False)
    t, ca, c1, c2, region = [], [], [], [], []
    for tt in np.linspace(0.0, 1.0, rings):
        t += [np.full(around, tt)]
        ca += [np.zeros(around)]
        c1 += [np.cos(phi)]
        c2 += [np.sin(phi)]
        region += [np.ones(around, dtype=int)]
    for cap, tt, sign in ((0, 0.0, -1.0), (2, 1.0, 1.0)):
        for polar in (np.pi / 6.0, np.pi / 3.0):
            t += [np.full(around, tt)]
            ca += [np.full(around, sign * np.cos(polar))]
            c1 += [np.sin(polar) * np.cos(phi + polar)]
            c2 += [np.sin(polar) * np.sin(phi + polar)]
            region += [np.full(around, cap)]
        t += [[tt]]
        ca += [[sign]]
        c1 += [[0.0]]
        c2 += [[0.0]]
        region += [[cap]]
    return {key: np.concatenate(value).astype(float if key != "region" else int)
            for key, value in (("t", t), ("ca", ca), ("c1", c1), ("c2", c2),
                               ("region", region))}


@dataclass
class _Geometry:
    """Per-part geometry shared by all shapes: offset (20, 3), axis (20, 3), start (20,);
    e1 (20, 3) a unit vector normal to the axis that turns with it (with e2 = axis × e1 it
    places the surface template points); left_right (3,) the body's left-right direction
    (right hip → left hip at β = 0)."""

    offset: np.ndarray
    axis: np.ndarray
    start: np.ndarray
    e1: np.ndarray
    left_right: np.ndarray

    @property
    def e2(self) -> np.ndarray:
        return np.cross(self.axis, self.e1)

    def moved(self, shift: np.ndarray, rotvec: np.ndarray) -> _Geometry:
        """The geometry with offsets + ``shift`` (20, 3), frames turned by ``rotvec`` (20, 3)."""
        axis, e1 = _rotate(self.axis, rotvec), _rotate(self.e1, rotvec)
        axis /= np.linalg.norm(axis, axis=1, keepdims=True)
        e1 -= axis * np.sum(e1 * axis, axis=1, keepdims=True)
        e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
        return _Geometry(self.offset + shift, axis, self.start, e1, self.left_right)

    def where(self, mask: np.ndarray, other: _Geometry) -> _Geometry:
        """Per part: this geometry where ``mask`` (20,), else ``other``."""
        m = mask[:, None]
        return _Geometry(np.where(m, self.offset, other.offset), np.where(m, self.axis, other.axis),
                         self.start, np.where(m, self.e1, other.e1), self.left_right)


class _Hold(NamedTuple):
    """What a few LM steps hold fixed: nearest vertex (G·K,) and weight (G·K,) per point."""

    nearest: np.ndarray
    weight: np.ndarray


class _Problem:
    """Sampled shapes of one model, split into (shape, part) groups, g = s · 20 + p."""

    GAP = 1.0e3  # metres between groups in the k-d tree's 4th coordinate

    def __init__(self, v_template, shapedirs, J_regressor, weights, faces, betas,
                 max_vertices_per_part, rng):
        self.betas = betas  # (S, B)
        s = len(betas)
        part = JOINT_TO_PART[np.argmax(weights, axis=1)]  # (N,)
        area = _vertex_areas(v_template, faces)
        keep = []
        for p in range(NUM_PARTS):
            ids = np.flatnonzero(part == p)
            if len(ids) == 0:
                raise ValueError(f"weights: no vertex has part {PART_NAMES[p]!r} as its "
                                 "dominant skinning part")
            if len(ids) > max_vertices_per_part:
                ids = np.sort(rng.choice(ids, max_vertices_per_part, replace=False))
            keep.append(ids)
        keep = np.concatenate(keep)
        self.part_of_vertex = part[keep]  # (M,)
        # J(β) = J_regressor · v(β), linear in β.
        j_template = J_regressor @ v_template  # (24, 3)
        j_shapedirs = np.einsum("jn,nkb->jkb", J_regressor, shapedirs)  # (24, 3, B)
        self.joints = j_template[None] + np.einsum("jkb,sb->sjk", j_shapedirs, betas)
        # Targets of the capsule → mesh distance: the kept vertices and the centroids of (a
        # subset of) each part's triangles, so that a coarse mesh does not quantise it.
        face_part = part[faces]
        inner = np.flatnonzero(np.all(face_part == face_part[:, :1], axis=1))
        chosen = []
        for p in range(NUM_PARTS):
            ids = inner[face_part[inner, 0] == p]
            if len(ids) > 2 * max_vertices_per_part:
                ids = np.sort(rng.choice(ids, 2 * max_vertices_per_part, replace=False))
            chosen.append(ids)
        tri = faces[np.concatenate(chosen)]  # (T, 3)
        used = np.unique(np.concatenate([keep, tri.ravel()]))
        local = np.full(len(v_template), -1)
        local[used] = np.arange(len(used))
        shaped = v_template[used][None] + np.einsum("nkb,sb->snk", shapedirs[used], betas)
        self.points = shaped[:, local[keep]].reshape(-1, 3)  # (S·M, 3)
        centroids = shaped[:, local[tri]].mean(axis=2)  # (S, T, 3)
        w = area[keep] + 1e-12
        w /= np.bincount(self.part_of_vertex, w, minlength=NUM_PARTS)[self.part_of_vertex]
        self.vertex_weight = np.tile(w, s)  # sums to 1 per group
        self.vertex_group = (np.arange(s)[:, None] * NUM_PARTS + self.part_of_vertex).ravel()
        self.num_groups = s * NUM_PARTS
        self.group_part = np.tile(np.arange(NUM_PARTS), s)
        self.group_sample = np.repeat(np.arange(s), NUM_PARTS)
        tri_group = (np.arange(s)[:, None] * NUM_PARTS + part[tri[:, 0]][None, :]).ravel()
        self.targets = np.concatenate([self.points, centroids.reshape(-1, 3)])
        target_group = np.concatenate([self.vertex_group, tri_group])
        from scipy.spatial import cKDTree  # only a capsule fit needs it (import ~0.1 s)

        self.tree = cKDTree(np.concatenate([self.targets, self.GAP * target_group[:, None]], 1))
        self.template = _surface_template()
        k = len(self.template["t"])
        self.point_group = np.repeat(np.arange(self.num_groups), k)  # (G·K,)
        self.point_t = np.tile(self.template["t"], self.num_groups)

    def base(self, geom: _Geometry) -> np.ndarray:
        """(G, 3) reference point J_joint + offset of every group."""
        p = self.group_part
        return self.joints[self.group_sample, PART_JOINTS[p]] + geom.offset[p]

    def surface_points(self, geom: _Geometry, r: np.ndarray, l: np.ndarray):
        """Template points on every group's capsule: (G·K, 3) points, (G·K, 3) unit n."""
        p = self.group_part
        axis, start, e1, e2 = geom.axis[p], geom.start[p], geom.e1[p], geom.e2[p]
        t = self.template
        normal_dir = (t["ca"][None, :, None] * axis[:, None] + t["c1"][None, :, None] * e1[:, None]
                      + t["c2"][None, :, None] * e2[:, None])  # (G, K, 3)
        along = (start[:, None] + t["t"][None]) * l[:, None]  # (G, K)
        pts = (self.base(geom)[:, None] + along[..., None] * axis[:, None]
               + r[:, None, None] * normal_dir)
        return pts.reshape(-1, 3), normal_dir.reshape(-1, 3)

    def correspond(self, geom: _Geometry, r: np.ndarray, l: np.ndarray) -> _Hold:
        """Capsule → mesh correspondences and template point weights at (geom, r, l).

        For each template point (G·K) the nearest target (vertex or triangle centroid) of the
        same shape and part; and
        its weight, the area its point stands for over the capsule's area (cylinder 2πrl,
        caps 2πr² each). The fit holds both while it takes a few steps (ICP style).
        """
        pts, _ = self.surface_points(geom, r, l)
        query = np.concatenate([pts, self.GAP * self.point_group[:, None]], axis=1)
        nearest = self.tree.query(query)[1]
        region = self.template["region"]
        cyl = 2.0 * np.pi * r * np.maximum(l, 0.0)
        cap = 2.0 * np.pi * r**2
        region_area = np.stack([cap, cyl, cap], axis=1) / np.bincount(region, minlength=3)
        weight = region_area[:, region] / (cyl + 2.0 * cap)[:, None]  # (G, K), rows sum to 1
        return _Hold(nearest, weight.ravel())

    def evaluate(self, geom: _Geometry, r: np.ndarray, l: np.ndarray, hold: _Hold,
                 jacobian: bool):
        """Residual rows of both terms of E for all groups, with ``hold`` (`correspond`).

        Returns (res (R,), w (R,), group (R,), jac (R, 7) or None); the Jacobian columns are
        ∂/∂(r, l, offset_x, offset_y, offset_z, ω_1, ω_2) with ω a rotation of the capsule
        about its reference point, about e1 and e2 of the axis frame.
        """
        p = self.group_part
        axis, start = geom.axis[p], geom.start[p]  # (G, 3), (G,)
        base = self.base(geom)
        # Mesh → capsule: d = ‖v − c‖ − r, c the closest point of the segment.
        g = self.vertex_group
        x = self.points
        axis_g, start_g, l_g = axis[g], start[g], l[g]
        rel_a = x - base[g] - (start_g * l_g)[:, None] * axis_g
        tau = np.clip(np.einsum("ij,ij->i", rel_a, axis_g) / np.maximum(l_g, 1e-9), 0.0, 1.0)
        diff = rel_a - (tau * l_g)[:, None] * axis_g  # x − c
        dist = np.maximum(np.linalg.norm(diff, axis=1), 1e-12)
        res_v = dist - r[g]
        # Capsule → mesh: ‖P − q‖ (robust), q = the part vertex nearest P.
        pts, normal_dir = self.surface_points(geom, r, l)
        gap = pts - self.targets[hold.nearest]
        dist_p = np.maximum(np.linalg.norm(gap, axis=1), 1e-12)
        toward = gap / dist_p[:, None]  # ∂‖P − q‖/∂P
        # Huber on ‖P − q‖: ρ(d) = d² up to δ, 2δd − δ² beyond; the row is √ρ(d), whose
        # derivative is ρ'(d) / (2√ρ(d)) = δ / √ρ(d) beyond δ. Capsule surface that cannot
        # reach the part (the caps inside the body where two parts meet) then pulls linearly.
        far = dist_p > _HUBER_DELTA
        res_p = np.where(far, np.sqrt(np.maximum(2 * _HUBER_DELTA * dist_p - _HUBER_DELTA**2,
                                                 0.0)), dist_p)
        slope = np.where(far, _HUBER_DELTA / np.maximum(res_p, 1e-12), 1.0)
        res = np.concatenate([res_v, res_p])
        w = np.concatenate([self.vertex_weight, hold.weight])
        group = np.concatenate([g, self.point_group])
        if not jacobian:
            return res, w, group, None
        e1, e2 = geom.e1[p], geom.e2[p]
        u = diff / dist[:, None]
        rel = x - diff - base[g]  # c − base
        jac_v = np.empty((len(res_v), 7))
        jac_v[:, 0] = -1.0
        jac_v[:, 1] = -np.einsum("ij,ij->i", u, axis_g) * (start_g + tau)
        jac_v[:, 2:5] = -u
        rel_x_u = np.cross(rel, u)
        jac_v[:, 5] = -np.einsum("ij,ij->i", e1[g], rel_x_u)
        jac_v[:, 6] = -np.einsum("ij,ij->i", e2[g], rel_x_u)
        gk = self.point_group
        jac_p = np.empty((len(res_p), 7))
        jac_p[:, 0] = np.einsum("ij,ij->i", toward, normal_dir)
        jac_p[:, 1] = (start[gk] + self.point_t) * np.einsum("ij,ij->i", toward, axis[gk])
        jac_p[:, 2:5] = toward
        rel_p_x_t = np.cross(pts - base[gk], toward)
        jac_p[:, 5] = np.einsum("ij,ij->i", e1[gk], rel_p_x_t)
        jac_p[:, 6] = np.einsum("ij,ij->i", e2[gk], rel_p_x_t)
        jac_p *= slope[:, None]
        return res, w, group, np.concatenate([jac_v, jac_p])

    def group_cost(self, geom, r, l, hold: _Hold | None = None) -> np.ndarray:
        """(G,) E of every group (correspondences and weights recomputed unless held)."""
        if hold is None:
            hold = self.correspond(geom, r, l)
        res, w, group, _ = self.evaluate(geom, r, l, hold, jacobian=False)
        return np.bincount(group, w * res**2, minlength=self.num_groups)


def _normal_equations(jac, res, w, ids, num):
    """Per-id Gauss-Newton systems: H (num, k, k) = Σ w JᵀJ, grad (num, k) = Σ w J r."""
    k = jac.shape[1]
    hess = np.empty((num, k, k))
    for i in range(k):
        for j in range(i, k):
            hess[:, i, j] = hess[:, j, i] = np.bincount(ids, w * jac[:, i] * jac[:, j], num)
    grad = np.stack([np.bincount(ids, w * jac[:, i] * res, num) for i in range(k)], axis=1)
    return hess, grad


def _damped_step(hess, grad, lam):
    diag = np.einsum("gii->gi", hess)
    # Levenberg–Marquardt scaling; a column that is identically zero (a frozen direction)
    # gets a unit diagonal so the system stays solvable and its step is zero.
    damp = lam[:, None] * (diag + 1e-9) + (diag == 0.0)
    damped = hess + damp[:, :, None] * np.eye(hess.shape[1])
    return -np.linalg.solve(damped, grad[..., None])[..., 0]


def _refine_shapes(prob: _Problem, geom: _Geometry, r, l, iterations: int):
    """LM on every group's (r, l) with the shared geometry held."""
    lam = np.full(prob.num_groups, 1e-3)
    hold = prob.correspond(geom, r, l)
    for _ in range(iterations):
        res, w, group, jac = prob.evaluate(geom, r, l, hold, jacobian=True)
        cost = np.bincount(group, w * res**2, minlength=prob.num_groups)
        hess, grad = _normal_equations(jac[:, :2], res, w, group, prob.num_groups)
        step = _damped_step(hess, grad, lam)
        r_new = np.maximum(r + step[:, 0], _MIN_RADIUS)
        l_new = np.maximum(l + step[:, 1], _MIN_LENGTH)
        better = prob.group_cost(geom, r_new, l_new, hold) < cost
        r, l = np.where(better, r_new, r), np.where(better, l_new, l)
        lam = np.where(better, lam * 0.3, lam * 10.0)
    return r, l


def _rotation_basis(geom: _Geometry) -> np.ndarray:
    """(20, 2, 3) axes about which each part's capsule may turn (zero rows: frozen).

    Limbs turn freely (two directions normal to their axis). The midline parts keep the
    body's left-right mirror symmetry: the left-right torso capsules do not turn at all, the
    neck and head only pitch about the left-right direction. The collars keep the bone's
    direction: their parts are small patches on top of the shoulders (a few dozen vertices in
    the open model), too little surface to orient a capsule by.
    """
    basis = np.stack([geom.e1, geom.e2], axis=1)
    basis[list(_LEFT_RIGHT_PARTS) + [_P["left_collar"], _P["right_collar"]]] = 0.0
    for p in (_P["neck"], _P["head"]):
        pitch = geom.left_right - geom.axis[p] * (geom.left_right @ geom.axis[p])
        basis[p] = [pitch / max(np.linalg.norm(pitch), 1e-12), np.zeros(3)]
    return basis


def _refine_geometry(prob: _Problem, geom: _Geometry, r, l, iterations: int) -> _Geometry:
    """LM on every part's (offset, axis rotation) over all shapes with (r, l) held."""
    lam = np.full(NUM_PARTS, 1e-3)
    part_of = prob.group_part
    hold = prob.correspond(geom, r, l)
    for _ in range(iterations):
        res, w, group, jac = prob.evaluate(geom, r, l, hold, jacobian=True)
        part = part_of[group]
        cost = np.bincount(part, w * res**2, minlength=NUM_PARTS)
        # Columns 5, 6 turn about e1, e2; a turn about k ⊥ axis is (k·e1, k·e2) of them.
        basis = _rotation_basis(geom)
        mix = np.stack([basis @ geom.e1[:, :, None], basis @ geom.e2[:, :, None]], axis=2)
        jac_rot = np.einsum("rc,rkc->rk", jac[:, 5:7], mix[part, :, :, 0])
        hess, grad = _normal_equations(np.concatenate([jac[:, 2:5], jac_rot], axis=1), res, w,
                                       part, NUM_PARTS)
        step = _damped_step(hess, grad, lam)
        trial = geom.moved(step[:, :3], np.einsum("pk,pkc->pc", step[:, 3:], basis))
        new_cost = np.bincount(part_of, prob.group_cost(trial, r, l, hold), NUM_PARTS)
        better = new_cost < cost
        geom = trial.where(better, geom)
        lam = np.where(better, lam * 0.3, lam * 10.0)
    return geom


_MIRROR_PAIRS = tuple((i, PART_NAMES.index("right_" + name[5:]))
                      for i, name in enumerate(PART_NAMES) if name.startswith("left_"))
_MIDLINE_PARTS = tuple(i for i, name in enumerate(PART_NAMES)
                       if not name.startswith(("left_", "right_")))


def _symmetrise(geom: _Geometry) -> _Geometry:
    """Make the shared geometry mirror-symmetric about the body's midplane.

    The mirror is the reflection M v = v − 2 (v·n) n with n the left-right direction. Each
    left part and the mirror image of its right part are averaged (axis, offset) and the right
    part gets the mirror image of the result; midline parts lose the left-right component of
    their offset. The per-part fits of two mirrored parts differ only by noise (random vertex
    subsets, ill-determined turns of short capsules); left and right capsules should not.
    """
    n = geom.left_right

    def mirror(v: np.ndarray) -> np.ndarray:
        return v - 2.0 * np.outer(v @ n, n) if v.ndim == 2 else v - 2.0 * (v @ n) * n

    offset, axis, e1 = geom.offset.copy(), geom.axis.copy(), geom.e1.copy()
    for left, right in _MIRROR_PAIRS:
        a = axis[left] + mirror(axis[right])
        axis[left] = a / np.linalg.norm(a)
        offset[left] = 0.5 * (offset[left] + mirror(offset[right]))
        e1[left] = e1[left] - axis[left] * (e1[left] @ axis[left])
        e1[left] /= np.linalg.norm(e1[left])
        axis[right], offset[right], e1[right] = (mirror(axis[left]), mirror(offset[left]),
                                                 mirror(e1[left]))
    mid = list(_MIDLINE_PARTS)
    offset[mid] -= np.outer(offset[mid] @ n, n)
    return _Geometry(offset, axis, geom.start, e1, geom.left_right)


def _initial_geometry(prob: _Problem) -> tuple[_Geometry, np.ndarray, np.ndarray]:
    """Axes along the bones (torso left-right, head neck → head), radius and length guesses.

    Returns the geometry and per-group (r, l) from the β = 0 shape (sample 0).
    """
    joints = prob.joints[0]
    axis = np.zeros((NUM_PARTS, 3))
    start = np.zeros(NUM_PARTS)
    offset = np.zeros((NUM_PARTS, 3))
    left_right = joints[1] - joints[2]
    left_right = left_right / np.linalg.norm(left_right) if np.linalg.norm(left_right) > 0 else (
        np.array([1.0, 0.0, 0.0]))
    m = len(prob.part_of_vertex)
    pts0, w0 = prob.points[:m], prob.vertex_weight[:m]
    r0 = np.zeros(NUM_PARTS)
    l0 = np.zeros(NUM_PARTS)
    for p in range(NUM_PARTS):
        j = PART_JOINTS[p]
        sel = prob.part_of_vertex == p
        pts, w = pts0[sel], w0[sel]
        if p in _LEFT_RIGHT_PARTS:
            axis[p], start[p] = left_right, _CENTRED_START
        elif p == _P["head"]:
            axis[p], start[p] = joints[15] - joints[12], _CENTRED_START
        else:
            axis[p] = joints[_CHILD_JOINT[j]] - joints[j]
        norm = np.linalg.norm(axis[p])
        axis[p] = axis[p] / norm if norm > 1e-9 else np.array([0.0, 1.0, 0.0])
        if start[p] != 0.0:
            offset[p] = (w @ pts) / w.sum() - joints[j]
        rel = pts - joints[j] - offset[p]
        s = rel @ axis[p]
        radial = np.linalg.norm(rel - s[:, None] * axis[p], axis=1)
        r0[p] = max(float(np.median(radial)), 0.01)
        if start[p] == 0.0:
            l0[p] = max(float(np.percentile(s, 95)) - r0[p], 0.01)
        else:
            l0[p] = max(2.0 * (float(np.percentile(np.abs(s), 95)) - r0[p]), 0.01)
    geom = _Geometry(offset, axis, start, _orthonormal_frame(axis)[0], left_right)
    return geom, r0[prob.group_part], l0[prob.group_part]


# LM iterations: pass 1 per-shape start; pass 1 rounds; iterations per block and round;
# pass 2 geometry; pass 2 per-shape. Each block holds its correspondences (one k-d tree query).
_ITERATIONS = [4, 3, 3, 2, 4]
_HUBER_DELTA = 0.01  # metres, Huber threshold of the capsule → mesh distance


def _log(stage: str, prob: _Problem, geom: _Geometry, r: np.ndarray, l: np.ndarray) -> None:
    if _LOGGER.isEnabledFor(logging.DEBUG):
        cost = prob.group_cost(geom, r, l)
        _LOGGER.debug("capsule fit %s: rms distance %.2f mm", stage, 1e3 * np.sqrt(cost.mean()))


def _ridge(betas: np.ndarray, values: np.ndarray, ridge: float) -> tuple[np.ndarray, np.ndarray]:
    """Ridge regression values ≈ mean + coef · β with an unpenalised mean.

    betas (S, B), values (S, C) → mean (C,), coef (C, B).
    """
    x_mean, y_mean = betas.mean(axis=0), values.mean(axis=0)
    x, y = betas - x_mean, values - y_mean
    coef = np.linalg.solve(x.T @ x + ridge * np.eye(x.shape[1]), x.T @ y).T  # (C, B)
    return y_mean - coef @ x_mean, coef


@dataclass(frozen=True)
class ShapeFits:
    """Per-shape capsule fits behind a regressor.

    Attributes
    ----------
    betas : (S, B) the sampled shapes (row 0 is β = 0).
    radius, length : (S, 20) metres, fitted per shape with the shared geometry.
    cost : (S, 20) m², the bidirectional area-weighted mean squared distance E per shape/part.
    """

    betas: np.ndarray
    radius: np.ndarray
    length: np.ndarray
    cost: np.ndarray


def fit_capsule_regressor(v_template: Any, shapedirs: Any, J_regressor: Any, weights: Any,
                          faces: Any, *, num_samples: int = 32, seed: int = 0,
                          ridge: float = 1.0, max_vertices_per_part: int = 120,
                          return_fits: bool = False) -> Any:
    """Fit the β → capsule regressor of an SMPL-format body model (SPEC §2).

    Parameters
    ----------
    v_template : (N, 3) rest template, metres.
    shapedirs : (N, 3, B) shape blend shapes, metres per unit β (unit-variance betas).
    J_regressor : (24, N) joint regressor, dense or scipy sparse.
    weights : (N, 24) skinning weights; each vertex goes to the part of its largest weight.
    faces : (F, 3) int triangles (vertex areas; triangle centroids as extra targets).
    num_samples : number of random shapes β ~ N(0, I) besides β = 0 (>= B + 1 recommended).
    seed : seed of the shape samples and the vertex subsets.
    ridge : ridge penalty on the β coefficients (the sampled β are unit-variance, so this is
        in units of samples).
    max_vertices_per_part : parts with more vertices use a random subset of this size.
    return_fits : also return the per-shape fits of the final pass.

    Returns
    -------
    CapsuleRegressor, or (CapsuleRegressor, ShapeFits) if ``return_fits``.
    """
    v, sd, jr, w, f = _model_arrays(v_template, shapedirs, J_regressor, weights, faces)
    if isinstance(num_samples, bool) or int(num_samples) < 1:
        raise ValueError(f"num_samples must be a positive integer, got {num_samples!r}")
    if not ridge >= 0.0:
        raise ValueError(f"ridge must be >= 0, got {ridge!r}")
    rng = np.random.default_rng(seed)
    b = sd.shape[2]
    betas = np.concatenate([np.zeros((1, b)), rng.standard_normal((int(num_samples), b))])
    prob = _Problem(v, sd, jr, w, f, betas, int(max_vertices_per_part), rng)

    # Pass 1: from the bone-aligned guess; alternate per-shape (r, l) and shared geometry.
    geom, r, l = _initial_geometry(prob)
    r, l = _refine_shapes(prob, geom, r, l, iterations=_ITERATIONS[0])
    for _ in range(_ITERATIONS[1]):
        geom = _symmetrise(_refine_geometry(prob, geom, r, l, iterations=_ITERATIONS[2]))
        r, l = _refine_shapes(prob, geom, r, l, iterations=_ITERATIONS[2])
    _log("pass 1", prob, geom, r, l)
    s = len(betas)
    r_mean, r_coef = _ridge(betas, r.reshape(s, NUM_PARTS), ridge)
    l_mean, l_coef = _ridge(betas, l.reshape(s, NUM_PARTS), ridge)

    # Pass 2: restart every shape from the regressor's prediction, refit, regress again.
    r = np.maximum((r_mean + betas @ r_coef.T).ravel(), _MIN_RADIUS)
    l = np.maximum((l_mean + betas @ l_coef.T).ravel(), _MIN_LENGTH)
    _log("regressor 1", prob, geom, r, l)
    geom = _symmetrise(_refine_geometry(prob, geom, r, l, iterations=_ITERATIONS[3]))
    r, l = _refine_shapes(prob, geom, r, l, iterations=_ITERATIONS[4])
    _log("pass 2", prob, geom, r, l)
    r_mean, r_coef = _ridge(betas, r.reshape(s, NUM_PARTS), ridge)
    l_mean, l_coef = _ridge(betas, l.reshape(s, NUM_PARTS), ridge)

    regressor = CapsuleRegressor(
        joint=PART_JOINTS.copy(), axis=geom.axis, offset=geom.offset, start=geom.start,
        radius_mean=r_mean, radius_betas=r_coef, length_mean=l_mean, length_betas=l_coef,
        model_hash=model_hash(v, sd, jr, w, f))
    if not return_fits:
        return regressor
    cost = prob.group_cost(geom, r, l).reshape(s, NUM_PARTS)
    return regressor, ShapeFits(betas, r.reshape(s, NUM_PARTS), l.reshape(s, NUM_PARTS), cost)


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


# ---------------------------------------------------------------------------------------------
# Shipped files and the cache
# ---------------------------------------------------------------------------------------------

DATA_DIR = Path(__file__).resolve().parent / "data"


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


# ---------------------------------------------------------------------------------------------
# The shipped files (build command: python tools/build_capsules.py)
# ---------------------------------------------------------------------------------------------


def build_open_model_capsules(data_dir: str | os.PathLike[str] | None = None,
                              genders: tuple[str, ...] = ("neutral", "male", "female")
                              ) -> list[Path]:
    """Fit and write ``open_body_{gender}_capsules.npz`` next to each ``open_body_{gender}.npz``.

    Returns
    -------
    list of the written paths.
    """
    folder = Path(data_dir) if data_dir is not None else DATA_DIR
    written = []
    for gender in genders:
        source = folder / f"open_body_{gender}.npz"
        if not source.is_file():
            raise FileNotFoundError(f"open model not found: {source}")
        with np.load(source, allow_pickle=False) as data:
            arrays = [data["v_template"], data["shapedirs"], data["J_regressor"],
                      data["weights"], data["f"]]
        regressor = fit_capsule_regressor(*arrays)
        written.append(regressor.save(folder / f"open_body_{gender}_capsules.npz"))
    return written
