"""A learned 2D→3D initialiser: several SMPL readings of one person's 2D keypoints.

    hyps = smplify.initializer.predict(keypoints, "coco17", image_size=(w, h), focal_length=f)
    hyps[0].global_orient, hyps[0].body_pose, hyps[0].betas, hyps[0].score

A small MLP per keypoint format (weights in ``smplify/data/initializer_<format>.npz``, built
by ``tools/build_initializer.py`` from CMU mocap rendered through the open model with random
cameras and detector-like errors, ``smplify.detections``) maps the keypoints, normalised by
their 2D bounding box, and the box's place in the image (CLIFF's camera features) to M
hypotheses of pose and shape plus a score each. Several hypotheses, because one view leaves
depth open: a limb toward or away from the camera, a body facing toward or away. Inference runs
in C++ (``cpp/learned_initializer.h``: :meth:`Initializer.readings`, :func:`predict`, ~50 us);
:meth:`Initializer.predict` is its plain NumPy twin (no torch), the reference the tests hold
the C++ to.

Conventions: the camera is OpenCV's (x right, y down, z forward, principal point at the image
centre), as in ``smplify.fit``; ``global_orient`` is the body's rotation in the camera frame,
so an upright person facing the camera has ``global_orient ≈ (π, 0, 0)``. No translation is
predicted (place the body by the fit's own camera initialisation).

The betas are those of the model the networks were trained on (the shipped open neutral model);
they mean nothing for another model (a user's SMPL file, another gender, a rebuilt open model).
Each weights file records that model's :func:`model_fingerprint`; :func:`shares_shape_space`
compares a model's with it, and a fit with any other model uses only the hypotheses' poses
(``smplify.anchor``). Shipped weights whose fingerprint is not the shipped open model's (the
model rebuilt and the initialisers not retrained) load with a warning, and their betas are used
only with the model they were trained on.
"""

from __future__ import annotations

import functools
import hashlib
import json
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from . import _core, fixed_order
from ._owner_cache import OwnerCache
from .errors import KeypointError
from .keypoint_formats import KeypointFormat, format_names, get_format
from .left_right import mirror_index

__all__ = ["Hypothesis", "Initializer", "MIRROR_MODES", "SMPL_MIRROR", "available_formats",
           "combine_mirrored", "features", "load_initializer", "mirror_keypoints",
           "mirror_rotations", "model_fingerprint", "predict", "shares_shape_space",
           "rotation_6d_to_matrix", "matrix_to_axis_angle"]

NUM_BODY_JOINTS = 23
NUM_BETAS = 10
#: Per hypothesis: root 6D, 23 body joints 6D, one score logit; then the shared betas.
HYPOTHESIS_WIDTH = 6 + 6 * NUM_BODY_JOINTS + 1

#: SMPL joint j's other side (itself if central): hips 1/2, knees 4/5, ankles 7/8, feet
#: 10/11, collars 13/14, shoulders 16/17, elbows 18/19, wrists 20/21, hands 22/23 — the
#: smpl24 format's keypoints are SMPL's joints in order, so its left/right exchange is it.
SMPL_MIRROR = mirror_index("smpl24")
#: The reflection x → −x: the camera's x axis, and the SMPL body frame's lateral axis.
_REFLECT = np.diag([-1.0, 1.0, 1.0])
#: How the readings of the mirrored image join the image's own (:meth:`Initializer.predict`):
#: "off" (not computed), "all" (2M readings, each score halved), "average" (each reading
#: averaged on SO(3), joint by joint, with the mirrored-back reading matched to it, scores
#: averaged), "top" (only the best-scored reading's rotations averaged with its nearest
#: mirrored-back one). Every mode gives all readings the mean of the two images' β.
MIRROR_MODES = ("off", "all", "average", "top")


@dataclass(frozen=True)
class Hypothesis:
    """One reading of the keypoints.

    Attributes
    ----------
    global_orient : (3,) axis-angle, the body's rotation in the camera frame (OpenCV axes).
    body_pose : (69,) axis-angle of joints 1..23 (SMPL order).
    betas : (10,) shape coefficients of the model the weights were trained on
        (:func:`shares_shape_space`).
    score : probability the network gives this hypothesis of being the closest (sums to 1).
    """

    global_orient: np.ndarray
    body_pose: np.ndarray
    betas: np.ndarray
    score: float


def rotation_6d_to_matrix(x: np.ndarray) -> np.ndarray:
    """(..., 6) → (..., 3, 3): Gram–Schmidt of the two columns (Zhou et al., CVPR 2019)."""
    a1, a2 = x[..., 0:3], x[..., 3:6]
    b1 = a1 / np.maximum(np.linalg.norm(a1, axis=-1, keepdims=True), 1e-8)
    a2 = a2 - np.sum(b1 * a2, axis=-1, keepdims=True) * b1
    b2 = a2 / np.maximum(np.linalg.norm(a2, axis=-1, keepdims=True), 1e-8)
    return np.stack([b1, b2, np.cross(b1, b2)], axis=-1)


def matrix_to_axis_angle(r: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation matrices → (..., 3) axis-angle (angle in [0, π])."""
    r = np.asarray(r, dtype=np.float64)
    # Quaternion by Shepperd's method: the largest of w², x², y², z² gives a stable division.
    t = np.stack([1 + r[..., 0, 0] + r[..., 1, 1] + r[..., 2, 2],
                  1 + r[..., 0, 0] - r[..., 1, 1] - r[..., 2, 2],
                  1 - r[..., 0, 0] + r[..., 1, 1] - r[..., 2, 2],
                  1 - r[..., 0, 0] - r[..., 1, 1] + r[..., 2, 2]], axis=-1)
    i = np.argmax(t, axis=-1)
    s = 2.0 * np.sqrt(np.maximum(np.take_along_axis(t, i[..., None], -1)[..., 0], 1e-12))
    d = {"zy": r[..., 2, 1] - r[..., 1, 2], "xz": r[..., 0, 2] - r[..., 2, 0],
         "yx": r[..., 1, 0] - r[..., 0, 1], "xy": r[..., 0, 1] + r[..., 1, 0],
         "xz+": r[..., 0, 2] + r[..., 2, 0], "yz": r[..., 1, 2] + r[..., 2, 1]}
    q = np.stack([
        np.choose(i, [s / 4, d["zy"] / s, d["xz"] / s, d["yx"] / s]),
        np.choose(i, [d["zy"] / s, s / 4, d["xy"] / s, d["xz+"] / s]),
        np.choose(i, [d["xz"] / s, d["xy"] / s, s / 4, d["yz"] / s]),
        np.choose(i, [d["yx"] / s, d["xz+"] / s, d["yz"] / s, s / 4]),
    ], axis=-1)
    q = q * np.where(q[..., :1] < 0, -1.0, 1.0)  # w >= 0: angle in [0, π]
    v = q[..., 1:]
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    angle = 2.0 * np.arctan2(norm, q[..., :1])
    return np.where(norm > 1e-12, v * angle / np.maximum(norm, 1e-12), 2.0 * v)


def features(keypoints: np.ndarray, image_size: np.ndarray, focal: np.ndarray) -> np.ndarray:
    """Network input of N cases: (N, K, 3), (N, 2), (N,) → (N, 3K + 3) float32.

    Per keypoint ((x, y) − c) / s and the confidence, where c is the centre and s the larger
    side of the bounding box of the keypoints with confidence > 0 (dropped keypoints: zeros);
    then CLIFF's box features ((c − image centre) / f, s / f).
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    conf = kp[..., 2]
    seen = conf > 0
    big = np.where(seen[..., None], kp[..., :2], np.inf)
    lo = big.min(axis=1)
    hi = np.where(seen[..., None], kp[..., :2], -np.inf).max(axis=1)
    none = ~seen.any(axis=1)[:, None]  # no keypoint at all: centre 0, scale 1 (no NaN)
    lo, hi = np.where(none, 0.0, lo), np.where(none, 0.0, hi)
    centre = (lo + hi) / 2.0
    scale = np.maximum((hi - lo).max(axis=1), 1.0)
    xy = (kp[..., :2] - centre[:, None]) / scale[:, None, None]
    xy = np.where(seen[..., None], xy, 0.0)
    per_kp = np.concatenate([xy, np.where(seen, conf, 0.0)[..., None]], axis=2)
    f = np.asarray(focal, dtype=np.float64)
    box = np.concatenate([(centre - np.asarray(image_size, dtype=np.float64) / 2.0) / f[:, None],
                          (scale / f)[:, None]], axis=1)
    return np.concatenate([per_kp.reshape(len(kp), -1), box], axis=1).astype(np.float32)


def mirror_keypoints(keypoints: np.ndarray, format: str | KeypointFormat,
                     image_size: np.ndarray) -> np.ndarray:
    """(..., K, 3) keypoints as seen in the image mirrored about its vertical centre line
    (x → width − x, the principal point's column: the camera's x → −x), each keypoint's
    label exchanged with its other side's (:func:`smplify.left_right.mirror_index`).

    image_size : (..., 2) (width, height) in pixels, the keypoints' leading shape. Its own
    inverse.
    """
    index = mirror_index(format)
    kp = np.array(keypoints, dtype=np.float64)
    if kp.ndim < 2 or kp.shape[-2:] != (len(index), 3):
        raise KeypointError(f"keypoints: expected shape (..., {len(index)}, 3) for "
                            f"{getattr(format, 'name', format)}, got {kp.shape}")
    size = np.asarray(image_size, dtype=np.float64)
    if size.shape != kp.shape[:-2] + (2,):
        raise ValueError(f"image_size: expected shape {kp.shape[:-2] + (2,)} (width, height "
                         f"per image of the keypoints), got {size.shape}")
    out = kp[..., index, :]
    out[..., 0] = size[..., 0, None] - out[..., 0]
    return out


def mirror_rotations(rotations: np.ndarray) -> np.ndarray:
    """(..., 24, 3, 3) SMPL rotations (root in the camera frame, then joints 1..23) of the
    body mirrored in the camera's x: each joint takes its other side's rotation (
    :data:`SMPL_MIRROR`) reflected, R → S R S with S = diag(−1, 1, 1) (axis-angle (a, b, c)
    → (a, −b, −c)); the root likewise. Its own inverse. The mirrored body's joints are the
    body's reflected, as far as the model is left/right symmetric."""
    rot = np.asarray(rotations)
    if rot.ndim < 3 or rot.shape[-3:] != (len(SMPL_MIRROR), 3, 3):
        raise ValueError(f"rotations: expected shape (..., {len(SMPL_MIRROR)}, 3, 3), "
                         f"got {rot.shape}")
    return _REFLECT @ rot[..., SMPL_MIRROR, :, :] @ _REFLECT


def _nearest_rotation(m: np.ndarray) -> np.ndarray:
    """(..., 3, 3) → the nearest rotations (Frobenius): for the mean of two rotations less
    than π apart, their geodesic midpoint."""
    u, _, vt = np.linalg.svd(m)
    d = np.sign(np.linalg.det(u @ vt))
    return u @ (np.concatenate([np.ones(d.shape + (2,)), d[..., None]], axis=-1)[..., None]
                * vt)


def _pair_cost(rot: np.ndarray, rot_m: np.ndarray) -> np.ndarray:
    """cost[n, i, j]: Σ_joints ‖R_i − R'_j‖²_F of reading i and mirrored-back reading j."""
    return np.sum((rot[:, :, None] - rot_m[:, None]) ** 2, axis=(3, 4, 5))


def top_partners(rot: np.ndarray, scores: np.ndarray,
                 rot_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per image, the best-scored reading (N,) and its nearest mirrored-back reading (N,)
    (the pair "top" averages); arrays as :func:`combine_mirrored`'s."""
    top = np.argmax(scores, axis=1)
    return top, np.argmin(_pair_cost(rot, rot_m)[np.arange(len(top)), top], axis=1)


Readings = tuple[np.ndarray, np.ndarray, np.ndarray]


def mirrored_readings(decoded: Callable[[np.ndarray], Readings], keypoints: np.ndarray,
                      format: str | KeypointFormat,
                      image_size: np.ndarray) -> tuple[Readings, Readings]:
    """The readings (rotations, betas, scores, as :meth:`Initializer.decode`) that
    ``decoded`` gives of the keypoints, and of the mirrored keypoints
    (:func:`mirror_keypoints`) mapped back (:func:`mirror_rotations`)."""
    rot_m, betas_m, scores_m = decoded(mirror_keypoints(keypoints, format, image_size))
    return decoded(keypoints), (mirror_rotations(rot_m), betas_m, scores_m)


def joined_readings(decoded: Callable[[np.ndarray], Readings], keypoints: np.ndarray,
                    format: str | KeypointFormat, image_size: np.ndarray,
                    mirror: str) -> Readings:
    """The readings ``decoded`` gives of the keypoints, joined by ``mirror``
    (:data:`MIRROR_MODES`) with those of the mirrored keypoints (:func:`combine_mirrored`)."""
    if mirror == "off":
        return decoded(keypoints)
    return combine_mirrored(*mirrored_readings(decoded, keypoints, format, image_size),
                            mirror)


def combine_mirrored(plain: tuple[np.ndarray, np.ndarray, np.ndarray],
                     mirrored: tuple[np.ndarray, np.ndarray, np.ndarray],
                     mode: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The readings of N images joined with those of the mirrored images, mapped back
    (:func:`mirror_rotations`), by ``mode`` (:data:`MIRROR_MODES`, not "off").

    Parameters
    ----------
    plain, mirrored : rotations (N, M, 24, 3, 3), betas (N, B), scores (N, M), as
        :meth:`Initializer.decode` gives them; ``mirrored`` already mapped back.
    mode : "all", "average" or "top".

    Returns
    -------
    rotations (N, M', 24, 3, 3), betas (N, B) (the two images' mean in every mode, "top"
    included: β has no side and is one an image, shared by its readings),
    scores (N, M') summing to 1; M' = 2M for "all", else M. Readings are paired by the
    least summed squared distance of their 24 rotations (Hungarian matching; "top": the
    best-scored reading's nearest).
    """
    from scipy.optimize import linear_sum_assignment

    if mode not in MIRROR_MODES[1:]:
        raise ValueError(f"mirror: expected one of {MIRROR_MODES[1:]}, got {mode!r}")
    (rot, betas, scores), (rot_m, betas_m, scores_m) = plain, mirrored
    betas = (betas + betas_m) / 2.0
    if mode == "all":
        return (np.concatenate([rot, rot_m], axis=1), betas,
                np.concatenate([scores, scores_m], axis=1) / 2.0)
    rot, scores = rot.copy(), scores.copy()
    if mode == "top":
        top, partner = top_partners(rot, scores, rot_m)
        rows = np.arange(len(rot))
        rot[rows, top] = _nearest_rotation((rot[rows, top] + rot_m[rows, partner]) / 2.0)
        return rot, betas, scores
    cost = _pair_cost(rot, rot_m)
    for n in range(len(rot)):
        rows, cols = linear_sum_assignment(cost[n])
        scores[n, rows] = (scores[n, rows] + scores_m[n, cols]) / 2.0
        rot[n, rows] = _nearest_rotation((rot[n, rows] + rot_m[n, cols]) / 2.0)
    return rot, betas, scores


class Initializer:
    """The initialiser of one keypoint format (see the module docstring).

    Attributes
    ----------
    format : str
    num_keypoints : int
        K.
    num_hypotheses : int
        M.
    metrics : dict
        The held-out figures recorded when the weights were built.
    model_fingerprint : str or None
        :func:`model_fingerprint` of the body model the weights were trained on (None: the
        arrays carry none, as weights built before it was recorded; their betas are not used).
    """

    def __init__(self, arrays: dict[str, np.ndarray]):
        def scalar(key: str) -> Any:  # 0-d or (1,): the build tool writes 1-d
            return np.asarray(arrays[key]).reshape(-1)[0]

        self.format = str(scalar("format"))
        self.num_keypoints = int(scalar("num_keypoints"))
        self.num_hypotheses = int(scalar("num_hypotheses"))
        n = int(scalar("num_layers"))
        self._layers = [(np.asarray(arrays[f"w{i}"], dtype=np.float32),
                         np.asarray(arrays[f"b{i}"], dtype=np.float32)) for i in range(n)]
        self.metrics: dict[str, Any] = json.loads(str(scalar("metrics")))
        self.model_fingerprint: str | None = (str(scalar("model_fingerprint"))
                                              if "model_fingerprint" in arrays else None)
        # The C++ inference (checks that the layers chain and fit K and M).
        self.core = _core.Initializer([w for w, _ in self._layers], [b for _, b in self._layers],
                                      self.num_keypoints, self.num_hypotheses)

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Network output (N, M·HYPOTHESIS_WIDTH + 10) of features (N, 3K + 3).

        Input layer and ReLU; residual ReLU blocks; a linear output layer.
        """
        # Products in a fixed summation order (smplify.fixed_order): a BLAS's vary in the
        # last bits with its thread count, and so would the fits started from the readings.
        (w, b), *hidden, (w_out, b_out) = self._layers
        h = np.maximum(fixed_order.rows_times(x, w) + b, 0.0)
        for w, b in hidden:
            h = h + np.maximum(fixed_order.rows_times(h, w) + b, 0.0)
        return fixed_order.rows_times(h, w_out) + b_out

    def decode(self, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Raw output (N, D) → rotations (N, M, 24, 3, 3), betas (N, 10), scores (N, M)."""
        m = self.num_hypotheses
        per = raw[:, :m * HYPOTHESIS_WIDTH].reshape(len(raw), m, HYPOTHESIS_WIDTH)
        six = per[..., :-1].reshape(len(raw), m, NUM_BODY_JOINTS + 1, 6).astype(np.float64)
        six = six + np.array([1.0, 0.0, 0.0, 0.0, 1.0, 0.0])  # zero output = identity
        logits = per[..., -1].astype(np.float64)
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (rotation_6d_to_matrix(six), raw[:, m * HYPOTHESIS_WIDTH:].astype(np.float64),
                e / e.sum(axis=1, keepdims=True))

    def predict(self, keypoints: Any, image_size: Sequence[float],
                focal_length: float, mirror: str = "off") -> list[Hypothesis]:
        """Hypotheses for one person, best score first: the NumPy twin of :meth:`readings`
        (same arguments and result, up to float32 summation order).

        Parameters
        ----------
        keypoints : (K, 3) x, y in pixels and confidence in [0, 1] (0 or NaN: missing), or
            (K, 2) all with confidence 1.
        image_size : (width, height) in pixels.
        focal_length : pixels.
        mirror : one of :data:`MIRROR_MODES`
            Also read the keypoints mirrored (:func:`mirror_keypoints`), map those readings
            back (:func:`mirror_rotations`) and join them to these (:func:`combine_mirrored`);
            "off": not.

        Returns
        -------
        list of Hypothesis, length M (2M with ``mirror="all"``), sorted by score
        (descending).
        """
        kp = self._check(keypoints, image_size, focal_length)
        self._check_mirror(mirror)
        size = np.asarray(image_size, dtype=np.float64)[None]
        focal = np.array([float(focal_length)])

        def decoded(points: np.ndarray) -> Readings:
            return self.decode(self.raw(features(points[None], size, focal)))

        rot, betas, scores = joined_readings(decoded, kp, self.format, size[0], mirror)
        return _hypotheses_of(rot[0], betas[0], scores[0], None)

    def readings(self, keypoints: Any, image_size: Sequence[float], focal_length: float,
                 count: int | None = None, mirror: str = "off") -> list[Hypothesis]:
        """Hypotheses for one person, best score first, by the C++ inference.

        Parameters
        ----------
        keypoints, image_size, focal_length, mirror : as :meth:`predict` (with a mirror,
            the network runs in C++ on both images, the readings are joined in NumPy).
        count : int or None
            How many of the best readings to decode (only their output rows are computed,
            without a mirror); None: all (M, or 2M with ``mirror="all"``).

        Returns
        -------
        list of Hypothesis, length ``count`` (all if None), sorted by score (descending).
        """
        kp = self._check(keypoints, image_size, focal_length)
        self._check_mirror(mirror)
        most = self.num_hypotheses * (2 if mirror == "all" else 1)
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)
                                  or not 1 <= count <= most):
            raise ValueError(f"count: expected an int in [1, {most}] or None, got {count!r}")
        size = np.asarray(image_size, dtype=float)
        if mirror == "off":
            _, scores, poses, betas, _ = self.core.predict(kp, size, float(focal_length),
                                                           count or 0)
            return [Hypothesis(pose[:3], pose[3:], betas.copy(), float(score))
                    for pose, score in zip(poses, scores, strict=True)]

        def decoded(points: np.ndarray) -> Readings:
            index, scores, _, betas, flat = self.core.predict(points, size,
                                                              float(focal_length), 0)
            rot, by_index = np.empty((1, len(index), 24, 3, 3)), np.empty((1, len(index)))
            rot[0, index] = flat.reshape(-1, 24, 3, 3)
            by_index[0, index] = scores
            return rot, betas[None], by_index

        rot, betas, scores = joined_readings(decoded, kp, self.format, size, mirror)
        return _hypotheses_of(rot[0], betas[0], scores[0], count)

    @staticmethod
    def _check_mirror(mirror: str) -> None:
        if not isinstance(mirror, str) or mirror not in MIRROR_MODES:
            raise ValueError(f"mirror: expected one of {MIRROR_MODES}, got {mirror!r}")

    def _check(self, keypoints: Any, image_size: Sequence[float],
               focal_length: float) -> np.ndarray:
        try:
            kp = np.array(keypoints, dtype=np.float64)
        except (TypeError, ValueError):
            raise KeypointError("keypoints: expected a numeric (K, 3) or (K, 2) array") from None
        k = self.num_keypoints
        if kp.ndim != 2 or kp.shape[0] != k or kp.shape[1] not in (2, 3):
            raise KeypointError(f"keypoints: expected shape ({k}, 3) or ({k}, 2) for format "
                                f"{self.format!r}, got {kp.shape}")
        if kp.shape[1] == 2:
            kp = np.concatenate([kp, np.ones((k, 1))], axis=1)
        bad = ~np.isfinite(kp).all(axis=1)
        kp[bad] = 0.0
        if np.any(kp[:, 2] < 0) or np.any(kp[:, 2] > 1):
            raise KeypointError("keypoints: confidences (column 2) must lie in [0, 1]")
        if not np.any(kp[:, 2] > 0):
            raise KeypointError("keypoints: no keypoint has a confidence above 0")
        size = np.asarray(image_size, dtype=np.float64)
        if size.shape != (2,) or not np.all(np.isfinite(size)) or np.any(size <= 0):
            raise ValueError(f"image_size: expected (width, height) > 0 in pixels, "
                             f"got {image_size!r}")
        if isinstance(focal_length, bool) or not isinstance(focal_length, (int, float,
                                                                          np.number)) \
                or not np.isfinite(focal_length) or focal_length <= 0:
            raise ValueError(f"focal_length: expected a positive number of pixels, "
                             f"got {focal_length!r}")
        return kp


def _hypotheses_of(rot: np.ndarray, betas: np.ndarray, scores: np.ndarray,
                   count: int | None) -> list[Hypothesis]:
    """Hypotheses of one person's decoded readings (rotations (M, 24, 3, 3), betas (B,),
    scores (M,)), best score first (ties: lower index first), the first ``count`` (None:
    all)."""
    aa = matrix_to_axis_angle(rot)
    order = np.argsort(-scores, kind="stable")[:count]
    return [Hypothesis(aa[i, 0].copy(), aa[i, 1:].reshape(-1).copy(), betas.copy(),
                       float(scores[i])) for i in order]


def _weights_file(format: str) -> Any:
    return resources.files("smplify") / "data" / f"initializer_{format}.npz"


def available_formats() -> tuple[str, ...]:
    """The keypoint formats an initialiser ships for."""
    return tuple(f for f in format_names() if _weights_file(f).is_file())


@functools.cache
def ships_for(format: str | KeypointFormat) -> bool:
    """Whether an initialiser ships for ``format`` (cached: asked once per frame).

    A :class:`KeypointFormat` counts when its keypoints are those of the built-in format of
    its name, in the same order (the layout the initialiser reads; its targets may differ,
    e.g. :func:`smplify.keypoints.with_blended_hips`): a custom layout that borrows a
    built-in's name is not read by that format's initialiser (its keypoints would be taken
    for others)."""
    if isinstance(format, KeypointFormat):
        if (format.name not in format_names()
                or get_format(format.name).keypoint_names != format.keypoint_names):
            return False
        format = format.name
    return format in available_formats()


@functools.cache
def load_initializer(format: str) -> Initializer:
    """The shipped initialiser of ``format`` (cached); ValueError if none ships for it.

    Warns (UserWarning) when the weights were not trained on the shipped open neutral model
    (their recorded :func:`model_fingerprint` is another's, or missing): the model was rebuilt
    and ``tools/build_initializer.py`` not rerun. Such weights still give poses; their betas
    are used only with the model they were trained on (:func:`shares_shape_space`).
    """
    if not isinstance(format, str) or not _weights_file(format).is_file():
        raise ValueError(f"format: no initialiser ships for {format!r}; "
                         f"available: {', '.join(available_formats())}")
    with _weights_file(format).open("rb") as handle, np.load(handle) as z:
        loaded = Initializer({key: z[key] for key in z.files})
    _warn_if_stale(f"initializer_{format}.npz was trained", loaded.model_fingerprint,
                   "its betas are not used", "tools/build_initializer.py")
    return loaded


def _warn_if_stale(what: str, fingerprint: str | None, consequence: str, tool: str) -> None:
    """Warn (UserWarning, pointing at the loader's caller) when shipped weights recorded
    another body model's :func:`model_fingerprint` than the shipped open model's (or none):
    the model was rebuilt and ``tool`` not rerun. ``what``: "<file> was trained" (or
    "learned"); ``consequence``: what that means for their use."""
    if fingerprint != _shipped_fingerprint():
        warnings.warn(f"{what} on another body model than the shipped open model (fingerprint "
                      f"{fingerprint}, the model's {_shipped_fingerprint()}): {consequence}; "
                      f"rebuild it with {tool}", UserWarning, stacklevel=3)


def predict(keypoints: Any, format: str, image_size: Sequence[float],
            focal_length: float, count: int | None = None,
            mirror: str = "off") -> list[Hypothesis]:
    """Hypotheses of SMPL pose and shape for one person's keypoints, best score first
    (:meth:`Initializer.readings`: the C++ inference).

    Parameters
    ----------
    keypoints : (K, 3) x, y (pixels), confidence; or (K, 2).
    format : keypoint format name with a shipped initialiser (``available_formats()``).
    image_size : (width, height) in pixels.
    focal_length : pixels.
    count : how many of the best readings (None: all).
    mirror : one of :data:`MIRROR_MODES`: also read the mirrored image
        (:meth:`Initializer.predict`); "off": not.

    Returns
    -------
    list of Hypothesis (global_orient in the camera frame, body_pose, betas, score).
    """
    return load_initializer(format).readings(keypoints, image_size, focal_length, count,
                                             mirror)


#: Bumped whenever model_fingerprint reads other arrays or reads them differently.
_FINGERPRINT_VERSION = "smplify-initializer-model-2"


def _fingerprint(model: Any) -> str:
    """``body:shape_0:…:shape_{n-1}``: a digest of everything but the shape blend shapes, then
    one per shape blend shape (the first ``NUM_BETAS``; further ones are never predicted)."""
    def digest(*arrays: np.ndarray, text: str = "") -> Any:
        h = hashlib.sha256((_FINGERPRINT_VERSION + text).encode())
        for array in arrays:
            array = np.ascontiguousarray(array, dtype=np.float64)
            h.update(str(array.shape).encode())
            h.update(array.tobytes())
        return h

    arrays = [model.v_template, model.J_regressor, model.weights,
              np.asarray(model.parents, dtype=np.float64)]
    if model.has_pose_blend_shapes:
        arrays.append(model.posedirs)
    names = ""
    if model.keypoint_regressor is not None:
        arrays.append(model.keypoint_regressor.toarray())
        names = "|".join(model.keypoint_names)
    shapes = [digest(model.shapedirs[:, :, i]).hexdigest()[:16]
              for i in range(min(model.num_betas, NUM_BETAS))]
    return ":".join([digest(*arrays, text=names).hexdigest()[:32], *shapes])


_FINGERPRINTS = OwnerCache(16)


def model_fingerprint(model: Any) -> str:
    """What an initialiser learns from a body model, as SHA-256 digests joined by ":": one
    (32 hex digits) of its template, joint regressor, skinning weights, kinematic tree, pose
    blend shapes (if any) and keypoint regressor (if any), then one (16 hex digits) per shape
    blend shape, the first 10 (fewer if the model has fewer; further ones are never
    predicted). ``tools/build_initializer.py`` records it in the weights it writes. Cached per
    model object.

    Parameters
    ----------
    model : smplify.BodyModel

    Returns
    -------
    str
    """
    return str(_FINGERPRINTS.get((model,), "fingerprint", lambda: _fingerprint(model)))


@functools.cache
def _shipped_fingerprint() -> str:
    """The shipped open neutral model's :func:`model_fingerprint`."""
    from .model import load_model

    return model_fingerprint(load_model("open"))


def shares_shape_space(model: Any, format: str | None = None) -> bool:
    """Whether the initialiser's betas mean the same body in ``model``: the model is the one
    the weights were trained on (:func:`model_fingerprint`), up to its number of betas.

    The trained-on model loaded with fewer betas (the first ones shared) or more (zero
    padding, or further blend shapes that are not predicted and start at 0) shares it;
    another gender, a user's SMPL file or a rebuilt open model does not.

    Parameters
    ----------
    model : smplify.BodyModel
    format : the initialiser's keypoint format; None: every shipped initialiser's (True only
        if the model is each one's).

    Returns
    -------
    bool
    """
    formats = available_formats() if format is None else (format,)
    body, *shapes = model_fingerprint(model).split(":")

    def trained_on(fingerprint: str | None) -> bool:
        their_body, *theirs = (fingerprint or "").split(":")
        return their_body == body and theirs[:len(shapes)] == shapes

    return bool(formats) and all(trained_on(load_initializer(f).model_fingerprint)
                                 for f in formats)
