"""Keypoint formats: which model point each detector keypoint is, and how much it counts.

A detector keypoint is matched to a *target* on the body model: one of the 24 SMPL joints
(docs/design.md) or a *surface keypoint*, a point on the skin that is not a joint (nose, ears,
heels, ...), given by a sparse vertex regressor (position = Σ w_v · posed vertex v). Each detector
keypoint lists candidate targets in order of preference, each with its own weight; the first
candidate the model has wins, and a keypoint with no candidate the model has is unavailable
(weight 0). The fit's data term then weights keypoint i by confidence_i · weight_i.

"Left" and "right" are always the person's own left and right, in every format (COCO, OpenPose,
MediaPipe and LSP all annotate that way; SMPL's left is +x of the body frame).

Surface keypoints
-----------------
Names (a model may carry regressors for them in ``keypoint_names``/``keypoint_regressor``; the
shipped open model carries all of them):

- face: ``nose`` (tip), ``left_eye``/``right_eye`` (eyeball centre), ``left_ear``/``right_ear``,
  ``head_top`` (top of the skull), ``left_eye_inner``, ``left_eye_outer``, ``right_eye_inner``,
  ``right_eye_outer`` (eye corners), ``mouth_left``, ``mouth_right`` (mouth corners);
- feet: ``left_big_toe``, ``left_small_toe`` (tips), ``left_heel`` (back of the heel), and the
  same for ``right_``;
- hands: ``left_pinky``, ``left_index``, ``left_thumb`` (fingertips), and the same for ``right_``;
- ``coco_<side>_<joint>`` for shoulder, elbow, wrist, hip, knee, ankle: where COCO's annotators put
  that joint. It is not the anatomical joint centre that SMPL's joints approximate: COCO's hips
  sit on the outside of the pelvis, several centimetres lateral of SMPL's hip joints, and its
  shoulders on top of the shoulder rather than at the centre of the humeral head.

For the official SMPL topology (6890 vertices, also SMPL-H's body), which carries no regressors,
``SMPL_VERTEX_IDS`` gives single vertices for the names whose ids are well established (the ones
smplx uses for SMPL/SMPL-H, and SMPLify's head-top vertex 411). Names without an id there are
unavailable on such a model.

Weights: why some are below 1
-----------------------------
- Detector hips → SMPL hip joint: 0. Every detector here is trained on human labels that put the
  hip on the outer side of the pelvis, not at the femoral head; SMPLify (fit_3d.py) gives LSP's
  hips weight 0 for that reason. A model with ``coco_*_hip`` regressors gets weight 1 instead,
  since those regressors are the labelled point itself.
- OpenPose ``neck`` and ``mid_hip``: 0. OpenPose's training labels define them as the midpoints of
  the two shoulders and of the two hips, so they add nothing to those keypoints; matched to SMPL's
  ``neck`` joint (inside the neck, several centimetres above the line through SMPL's shoulder
  joints) and ``pelvis`` joint (several centimetres above the line through its hip joints), they
  would only pull the spine and the shoulders out of place.
- LSP ``neck``: 0, as in SMPLify, which leaves LSP's neck out of the fit for the same mismatch.
- MediaPipe ``left/right_pinky`` and ``left/right_index``: BlazePose puts them on the knuckles, not
  at the fingertips, so they go to SMPL's ``left/right_hand`` joint (which sits at the knuckles),
  0.5 each so that the pair counts as one keypoint. MediaPipe's thumbs: 0 (no SMPL point matches
  them; SMPL's fingers do not bend).
Every other target has weight 1. The fit multiplies these by the detector's confidences, so a
caller can change a keypoint's influence through its confidence.

Formats
-------
Targets are listed in order of preference, each as ``name (weight)``.

``smpl24``: the 24 SMPL joints in SMPL order (docs/design.md), each to itself, weight 1.

``coco17`` (COCO keypoints; also what most 2D detectors output):

==  ==============  ===========================================
 #  keypoint        targets (weight)
==  ==============  ===========================================
 0  nose            nose (1)
 1  left_eye        left_eye (1)
 2  right_eye       right_eye (1)
 3  left_ear        left_ear (1)
 4  right_ear       right_ear (1)
 5  left_shoulder   coco_left_shoulder (1), left_shoulder (1)
 6  right_shoulder  coco_right_shoulder (1), right_shoulder (1)
 7  left_elbow      coco_left_elbow (1), left_elbow (1)
 8  right_elbow     coco_right_elbow (1), right_elbow (1)
 9  left_wrist      coco_left_wrist (1), left_wrist (1)
10  right_wrist     coco_right_wrist (1), right_wrist (1)
11  left_hip        coco_left_hip (1), left_hip (0)
12  right_hip       coco_right_hip (1), right_hip (0)
13  left_knee       coco_left_knee (1), left_knee (1)
14  right_knee      coco_right_knee (1), right_knee (1)
15  left_ankle      coco_left_ankle (1), left_ankle (1)
16  right_ankle     coco_right_ankle (1), right_ankle (1)
==  ==============  ===========================================

``openpose25`` (OpenPose BODY_25; its body keypoints are trained on COCO labels):

==  ===============  ===========================================
 #  keypoint         targets (weight)
==  ===============  ===========================================
 0  nose             nose (1)
 1  neck             neck (0)
 2  right_shoulder   coco_right_shoulder (1), right_shoulder (1)
 3  right_elbow      coco_right_elbow (1), right_elbow (1)
 4  right_wrist      coco_right_wrist (1), right_wrist (1)
 5  left_shoulder    coco_left_shoulder (1), left_shoulder (1)
 6  left_elbow       coco_left_elbow (1), left_elbow (1)
 7  left_wrist       coco_left_wrist (1), left_wrist (1)
 8  mid_hip          pelvis (0)
 9  right_hip        coco_right_hip (1), right_hip (0)
10  right_knee       coco_right_knee (1), right_knee (1)
11  right_ankle      coco_right_ankle (1), right_ankle (1)
12  left_hip         coco_left_hip (1), left_hip (0)
13  left_knee        coco_left_knee (1), left_knee (1)
14  left_ankle       coco_left_ankle (1), left_ankle (1)
15  right_eye        right_eye (1)
16  left_eye         left_eye (1)
17  right_ear        right_ear (1)
18  left_ear         left_ear (1)
19  left_big_toe     left_big_toe (1)
20  left_small_toe   left_small_toe (1)
21  left_heel        left_heel (1)
22  right_big_toe    right_big_toe (1)
23  right_small_toe  right_small_toe (1)
24  right_heel       right_heel (1)
==  ===============  ===========================================

``mediapipe33`` (MediaPipe Pose / BlazePose landmarks):

==  ==================  ===========================================
 #  keypoint            targets (weight)
==  ==================  ===========================================
 0  nose                nose (1)
 1  left_eye_inner      left_eye_inner (1)
 2  left_eye            left_eye (1)
 3  left_eye_outer      left_eye_outer (1)
 4  right_eye_inner     right_eye_inner (1)
 5  right_eye           right_eye (1)
 6  right_eye_outer     right_eye_outer (1)
 7  left_ear            left_ear (1)
 8  right_ear           right_ear (1)
 9  mouth_left          mouth_left (1)
10  mouth_right         mouth_right (1)
11  left_shoulder       coco_left_shoulder (1), left_shoulder (1)
12  right_shoulder      coco_right_shoulder (1), right_shoulder (1)
13  left_elbow          coco_left_elbow (1), left_elbow (1)
14  right_elbow         coco_right_elbow (1), right_elbow (1)
15  left_wrist          coco_left_wrist (1), left_wrist (1)
16  right_wrist         coco_right_wrist (1), right_wrist (1)
17  left_pinky          left_hand (0.5)
18  right_pinky         right_hand (0.5)
19  left_index          left_hand (0.5)
20  right_index         right_hand (0.5)
21  left_thumb          left_thumb (0)
22  right_thumb         right_thumb (0)
23  left_hip            coco_left_hip (1), left_hip (0)
24  right_hip           coco_right_hip (1), right_hip (0)
25  left_knee           coco_left_knee (1), left_knee (1)
26  right_knee          coco_right_knee (1), right_knee (1)
27  left_ankle          coco_left_ankle (1), left_ankle (1)
28  right_ankle         coco_right_ankle (1), right_ankle (1)
29  left_heel           left_heel (1)
30  right_heel          right_heel (1)
31  left_foot_index     left_big_toe (1)
32  right_foot_index    right_big_toe (1)
==  ==================  ===========================================

``lsp14`` (Leeds Sports Pose, SMPLify's input):

==  ==============  ===========================================
 #  keypoint        targets (weight)
==  ==============  ===========================================
 0  right_ankle     coco_right_ankle (1), right_ankle (1)
 1  right_knee      coco_right_knee (1), right_knee (1)
 2  right_hip       coco_right_hip (1), right_hip (0)
 3  left_hip        coco_left_hip (1), left_hip (0)
 4  left_knee       coco_left_knee (1), left_knee (1)
 5  left_ankle      coco_left_ankle (1), left_ankle (1)
 6  right_wrist     coco_right_wrist (1), right_wrist (1)
 7  right_elbow     coco_right_elbow (1), right_elbow (1)
 8  right_shoulder  coco_right_shoulder (1), right_shoulder (1)
 9  left_shoulder   coco_left_shoulder (1), left_shoulder (1)
10  left_elbow      coco_left_elbow (1), left_elbow (1)
11  left_wrist      coco_left_wrist (1), left_wrist (1)
12  neck            neck (0)
13  head_top        head_top (1)
==  ==============  ===========================================

LSP's labels follow the same conventions as COCO's (human-placed, hips on the outside of the
pelvis), so a model with COCO regressors uses them for LSP too; on the official SMPL model LSP
maps to SMPL's joints with the hips at 0, exactly SMPLify's setting.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from smplify.errors import KeypointError

__all__ = [
    "JOINT_NAMES",
    "SMPL_VERTEX_IDS",
    "SURFACE_KEYPOINT_NAMES",
    "KeypointFormat",
    "KeypointTarget",
    "ResolvedFormat",
    "format_names",
    "get_format",
    "keypoints_from_mediapipe",
    "keypoints_from_openpose_json",
    "resolve_format",
    "validate_keypoints",
]

#: The 24 SMPL joints, in SMPL order (docs/design.md).
JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hand", "right_hand",
)  # fmt: skip

#: Points on the skin that are not SMPL joints; the open model ships a regressor for each.
SURFACE_KEYPOINT_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "head_top",
    "left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe",
    "right_heel", "left_eye_inner", "left_eye_outer", "right_eye_inner", "right_eye_outer",
    "mouth_left", "mouth_right", "left_pinky", "left_index", "left_thumb", "right_pinky",
    "right_index", "right_thumb",
    "coco_left_shoulder", "coco_right_shoulder", "coco_left_elbow", "coco_right_elbow",
    "coco_left_wrist", "coco_right_wrist", "coco_left_hip", "coco_right_hip",
    "coco_left_knee", "coco_right_knee", "coco_left_ankle", "coco_right_ankle",
)  # fmt: skip

#: Number of vertices of the official SMPL (and SMPL-H) mesh.
SMPL_NUM_VERTICES = 6890

#: Single-vertex surface keypoints of the official SMPL topology: smplx's ``vertex_ids`` for
#: SMPL/SMPL-H, and SMPLify's head-top vertex.
SMPL_VERTEX_IDS: Mapping[str, int] = MappingProxyType({
    "nose": 332, "right_eye": 6260, "left_eye": 2800, "right_ear": 4071, "left_ear": 583,
    "left_big_toe": 3216, "left_small_toe": 3226, "left_heel": 3387,
    "right_big_toe": 6617, "right_small_toe": 6624, "right_heel": 6787,
    "left_thumb": 2746, "left_index": 2319, "left_pinky": 2673,
    "right_thumb": 6191, "right_index": 5782, "right_pinky": 6133,
    "head_top": 411,
})  # fmt: skip

_JOINT_INDEX = {name: i for i, name in enumerate(JOINT_NAMES)}
_TARGET_NAMES = frozenset(JOINT_NAMES) | frozenset(SURFACE_KEYPOINT_NAMES)


class KeypointTarget(NamedTuple):
    """One candidate model point for a detector keypoint.

    Attributes
    ----------
    name : str
        An SMPL joint name (``JOINT_NAMES``) or a surface keypoint name
        (``SURFACE_KEYPOINT_NAMES``).
    weight : float
        Default weight of the keypoint when this target is the one used (>= 0).
    """

    name: str
    weight: float


@dataclass(frozen=True)
class KeypointFormat:
    """A detector's keypoint layout and its mapping onto the body model.

    Attributes
    ----------
    name : str
        Format name, e.g. ``"coco17"``.
    keypoint_names : tuple of str, length K
        Detector keypoints in the detector's order; "left" is the person's own left.
    targets : tuple of tuple of KeypointTarget, length K
        Per keypoint, candidate model points in order of preference (at least one each).
    """

    name: str
    keypoint_names: tuple[str, ...]
    targets: tuple[tuple[KeypointTarget, ...], ...]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name: expected a non-empty str, got {self.name!r}")
        names = tuple(self.keypoint_names)
        if not names or not all(isinstance(n, str) for n in names):
            raise TypeError("keypoint_names: expected a non-empty tuple of str")
        if len(set(names)) != len(names):
            raise ValueError(f"keypoint_names: duplicate names in format {self.name!r}")
        if len(self.targets) != len(names):
            raise ValueError(
                f"targets: expected {len(names)} entries (one per keypoint), "
                f"got {len(self.targets)}"
            )
        targets = []
        for kp, cands in zip(names, self.targets, strict=True):
            if len(cands) == 0:
                raise ValueError(f"targets: keypoint {kp!r} has no candidate target")
            row = []
            for cand in cands:
                t = KeypointTarget(*cand)
                if t.name not in _TARGET_NAMES:
                    raise ValueError(
                        f"targets: keypoint {kp!r} maps to unknown model point {t.name!r}; "
                        "expected an SMPL joint name or a surface keypoint name"
                    )
                w = float(t.weight)
                if not math.isfinite(w) or w < 0:
                    raise ValueError(f"targets: keypoint {kp!r} has weight {t.weight!r} (< 0)")
                row.append(KeypointTarget(t.name, w))
            targets.append(tuple(row))
        object.__setattr__(self, "keypoint_names", names)
        object.__setattr__(self, "targets", tuple(targets))

    @property
    def num_keypoints(self) -> int:
        """K, the number of detector keypoints."""
        return len(self.keypoint_names)

    @property
    def weights(self) -> NDArray[np.float64]:
        """(K,) float64: the weight of each keypoint's preferred (first) target.

        The weight that applies to a given model is ``resolve_format(...).weights``.
        """
        return np.array([c[0].weight for c in self.targets], dtype=np.float64)

    def index(self, keypoint_name: str) -> int:
        """Position of a keypoint in this format; ValueError naming ``keypoint_name`` if absent."""
        try:
            return self.keypoint_names.index(keypoint_name)
        except ValueError:
            raise ValueError(
                f"keypoint_name: {keypoint_name!r} is not a keypoint of format {self.name!r}"
            ) from None


def _fmt(name: str, rows: Sequence[tuple[str, Sequence[tuple[str, float]]]]) -> KeypointFormat:
    return KeypointFormat(
        name=name,
        keypoint_names=tuple(kp for kp, _ in rows),
        targets=tuple(tuple(KeypointTarget(t, w) for t, w in cands) for _, cands in rows),
    )


# Default weights (module docstring, "Weights: why some are below 1").
_W = 1.0
_W_HIP_JOINT = 0.0  # detector hip (outside of the pelvis) → SMPL hip joint centre: SMPLify's 0
_W_MIDPOINT = 0.0  # OpenPose neck / mid-hip: midpoints of the shoulders / hips by definition
_W_LSP_NECK = 0.0  # SMPLify leaves LSP's neck out
_W_KNUCKLE = 0.5  # MediaPipe pinky + index knuckles → SMPL hand joint, the pair counting as one
_W_THUMB = 0.0  # MediaPipe thumb: no matching SMPL point


def _same(name: str) -> tuple[str, Sequence[tuple[str, float]]]:
    return name, ((name, _W),)


def _coco_joint(side: str, joint: str) -> tuple[str, Sequence[tuple[str, float]]]:
    fallback = _W_HIP_JOINT if joint == "hip" else _W
    name = f"{side}_{joint}"
    return name, ((f"coco_{name}", _W), (name, fallback))


_SMPL24 = _fmt("smpl24", [_same(j) for j in JOINT_NAMES])

_COCO17 = _fmt(
    "coco17",
    [_same("nose"), _same("left_eye"), _same("right_eye"), _same("left_ear"), _same("right_ear")]
    + [_coco_joint(s, j) for j in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
       for s in ("left", "right")],
)  # fmt: skip

_OPENPOSE25 = _fmt(
    "openpose25",
    [
        _same("nose"),
        ("neck", (("neck", _W_MIDPOINT),)),
        _coco_joint("right", "shoulder"), _coco_joint("right", "elbow"),
        _coco_joint("right", "wrist"),
        _coco_joint("left", "shoulder"), _coco_joint("left", "elbow"),
        _coco_joint("left", "wrist"),
        ("mid_hip", (("pelvis", _W_MIDPOINT),)),
        _coco_joint("right", "hip"), _coco_joint("right", "knee"), _coco_joint("right", "ankle"),
        _coco_joint("left", "hip"), _coco_joint("left", "knee"), _coco_joint("left", "ankle"),
        _same("right_eye"), _same("left_eye"), _same("right_ear"), _same("left_ear"),
        _same("left_big_toe"), _same("left_small_toe"), _same("left_heel"),
        _same("right_big_toe"), _same("right_small_toe"), _same("right_heel"),
    ],
)  # fmt: skip

_MEDIAPIPE33 = _fmt(
    "mediapipe33",
    [
        _same("nose"),
        _same("left_eye_inner"), _same("left_eye"), _same("left_eye_outer"),
        _same("right_eye_inner"), _same("right_eye"), _same("right_eye_outer"),
        _same("left_ear"), _same("right_ear"), _same("mouth_left"), _same("mouth_right"),
        _coco_joint("left", "shoulder"), _coco_joint("right", "shoulder"),
        _coco_joint("left", "elbow"), _coco_joint("right", "elbow"),
        _coco_joint("left", "wrist"), _coco_joint("right", "wrist"),
        ("left_pinky", (("left_hand", _W_KNUCKLE),)),
        ("right_pinky", (("right_hand", _W_KNUCKLE),)),
        ("left_index", (("left_hand", _W_KNUCKLE),)),
        ("right_index", (("right_hand", _W_KNUCKLE),)),
        ("left_thumb", (("left_thumb", _W_THUMB),)),
        ("right_thumb", (("right_thumb", _W_THUMB),)),
        _coco_joint("left", "hip"), _coco_joint("right", "hip"),
        _coco_joint("left", "knee"), _coco_joint("right", "knee"),
        _coco_joint("left", "ankle"), _coco_joint("right", "ankle"),
        _same("left_heel"), _same("right_heel"),
        ("left_foot_index", (("left_big_toe", _W),)),
        ("right_foot_index", (("right_big_toe", _W),)),
    ],
)  # fmt: skip

_LSP14 = _fmt(
    "lsp14",
    [
        _coco_joint("right", "ankle"), _coco_joint("right", "knee"), _coco_joint("right", "hip"),
        _coco_joint("left", "hip"), _coco_joint("left", "knee"), _coco_joint("left", "ankle"),
        _coco_joint("right", "wrist"), _coco_joint("right", "elbow"),
        _coco_joint("right", "shoulder"),
        _coco_joint("left", "shoulder"), _coco_joint("left", "elbow"),
        _coco_joint("left", "wrist"),
        ("neck", (("neck", _W_LSP_NECK),)),
        _same("head_top"),
    ],
)  # fmt: skip

_FORMATS: dict[str, KeypointFormat] = {
    f.name: f for f in (_SMPL24, _COCO17, _OPENPOSE25, _MEDIAPIPE33, _LSP14)
}


def format_names() -> tuple[str, ...]:
    """Names of the built-in keypoint formats.

    Returns
    -------
    tuple of str
        ``("smpl24", "coco17", "openpose25", "mediapipe33", "lsp14")``.
    """
    return tuple(_FORMATS)


def get_format(name: str | KeypointFormat) -> KeypointFormat:
    """Look up a built-in keypoint format by name (a ``KeypointFormat`` is returned as is).

    Parameters
    ----------
    name : str or KeypointFormat
        One of ``format_names()``.

    Returns
    -------
    KeypointFormat

    Raises
    ------
    ValueError
        Unknown name; the message lists the known formats.
    TypeError
        ``name`` is neither a str nor a KeypointFormat.
    """
    if isinstance(name, KeypointFormat):
        return name
    if not isinstance(name, str):
        raise TypeError(
            f"format: expected a format name (str), got {type(name).__name__}; "
            f"known formats: {', '.join(_FORMATS)}"
        )
    try:
        return _FORMATS[name]
    except KeyError:
        raise ValueError(
            f"format: unknown keypoint format {name!r}; known formats: {', '.join(_FORMATS)}"
        ) from None


@dataclass(frozen=True, eq=False)
class ResolvedFormat:
    """A keypoint format matched against one body model.

    Each keypoint k is exactly one of: an SMPL joint (``joint_index[k] >= 0``), a surface point
    given by a sparse vertex regressor row (``vertex_ids[k]``, ``vertex_weights[k]``; position =
    Σ vertex_weights · posed vertices[vertex_ids]), or unavailable (``target_names[k] is None``,
    weight 0). A keypoint may be resolved and still have weight 0 (e.g. hips on the official SMPL
    model): its model position is known, for camera initialisation and pictures, but it does
    not enter the data term by default.

    Attributes
    ----------
    format : KeypointFormat
    num_vertices : int
        N, the model's vertex count.
    target_names : tuple of (str or None), length K
        The target used for each keypoint.
    joint_index : (K,) int64
        SMPL joint 0..23, or -1 when the keypoint is not a joint.
    model_keypoint_index : (K,) int64
        Row of the model's own ``keypoint_regressor`` used, or -1.
    vertex_ids : tuple of (n_k,) int64 arrays, length K
        Vertices of the surface keypoint's regressor row (empty for joints and unavailable
        keypoints, and for model keypoints when no regressor was passed to ``resolve_format``).
    vertex_weights : tuple of (n_k,) float64 arrays, length K
        The matching regressor weights.
    weights : (K,) float64
        Default weight of each keypoint: the chosen target's weight, 0 if unavailable.
    """

    format: KeypointFormat
    num_vertices: int
    target_names: tuple[str | None, ...]
    joint_index: NDArray[np.int64]
    model_keypoint_index: NDArray[np.int64]
    vertex_ids: tuple[NDArray[np.int64], ...]
    vertex_weights: tuple[NDArray[np.float64], ...]
    weights: NDArray[np.float64]

    @property
    def available(self) -> NDArray[np.bool_]:
        """(K,) bool: the model has a point for this keypoint."""
        return np.array([t is not None for t in self.target_names], dtype=bool)

    @property
    def surface_vertex_ids(self) -> NDArray[np.int64]:
        """(U,) int64: sorted union of the vertices used by all surface keypoints."""
        if not any(len(v) for v in self.vertex_ids):
            return np.zeros(0, dtype=np.int64)
        return np.unique(np.concatenate(self.vertex_ids))

    def surface_regressor(self) -> NDArray[np.float64]:
        """(K, U) float64 regressor over ``surface_vertex_ids`` (zero rows for non-surface).

        Posed surface keypoints = ``surface_regressor() @ vertices[surface_vertex_ids]``, so only
        those U vertices need skinning.
        """
        used = self.surface_vertex_ids
        out = np.zeros((self.format.num_keypoints, used.size), dtype=np.float64)
        for k, (ids, w) in enumerate(zip(self.vertex_ids, self.vertex_weights, strict=True)):
            np.add.at(out[k], np.searchsorted(used, ids), w)
        return out

    def keypoint_positions(self, joints: ArrayLike, vertices: ArrayLike) -> NDArray[np.float64]:
        """Model positions of the format's keypoints.

        Parameters
        ----------
        joints : (24, 3) array
            Posed SMPL joints.
        vertices : (N, 3) array
            Posed mesh vertices (same frame and units as ``joints``).

        Returns
        -------
        (K, 3) float64
            One row per keypoint; NaN for unavailable keypoints.
        """
        j = np.asarray(joints, dtype=np.float64)
        v = np.asarray(vertices, dtype=np.float64)
        if j.shape != (len(JOINT_NAMES), 3):
            raise ValueError(f"joints: expected shape (24, 3), got {j.shape}")
        if v.shape != (self.num_vertices, 3):
            raise ValueError(f"vertices: expected shape ({self.num_vertices}, 3), got {v.shape}")
        out = np.full((self.format.num_keypoints, 3), np.nan)
        for k, target in enumerate(self.target_names):
            if target is None:
                continue
            if self.joint_index[k] >= 0:
                out[k] = j[self.joint_index[k]]
            elif len(self.vertex_ids[k]):
                out[k] = self.vertex_weights[k] @ v[self.vertex_ids[k]]
            else:
                raise ValueError(
                    f"keypoint {self.format.keypoint_names[k]!r} uses the model's keypoint "
                    f"{target!r}: pass keypoint_regressor to resolve_format to evaluate it"
                )
        return out


def _as_regressor(
    keypoint_regressor: Any, num_names: int, num_vertices: int
) -> NDArray[np.float64]:
    reg = keypoint_regressor
    if hasattr(reg, "toarray"):  # scipy sparse
        reg = reg.toarray()
    try:
        reg = np.asarray(reg, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError("keypoint_regressor: expected a numeric (M, N) array") from None
    if reg.shape != (num_names, num_vertices):
        raise ValueError(
            f"keypoint_regressor: expected shape ({num_names}, {num_vertices}) "
            f"(len(model_keypoint_names), num_vertices), got {reg.shape}"
        )
    if not np.all(np.isfinite(reg)):
        raise ValueError("keypoint_regressor: contains non-finite values")
    return reg


def resolve_format(
    fmt_name: str | KeypointFormat,
    model_keypoint_names: Sequence[str] = (),
    num_vertices: int = SMPL_NUM_VERTICES,
    keypoint_regressor: ArrayLike | None = None,
) -> ResolvedFormat:
    """Match a keypoint format to a body model.

    For each detector keypoint, the first candidate target the model has is used: an SMPL joint
    (every SMPL-format model has all 24), else a surface keypoint from the model's own
    regressors (``model_keypoint_names``), else, on the official SMPL topology only
    (``num_vertices == 6890``), a vertex of ``SMPL_VERTEX_IDS``. A keypoint with no such target is
    unavailable and gets weight 0.

    Parameters
    ----------
    fmt_name : str or KeypointFormat
        A name of ``format_names()`` or a custom format.
    model_keypoint_names : sequence of str, length M
        Names of the model's surface keypoint regressors (the model file's ``keypoint_names``);
        empty for a model without any.
    num_vertices : int
        N, the model's vertex count.
    keypoint_regressor : (M, N) array or scipy sparse matrix, optional
        The model's ``keypoint_regressor``; when given, the rows used become sparse vertex rows
        (``vertex_ids``, ``vertex_weights``). Without it, keypoints resolved to the model's
        regressors only carry ``model_keypoint_index``.

    Returns
    -------
    ResolvedFormat
    """
    fmt = get_format(fmt_name)
    if isinstance(num_vertices, bool) or not isinstance(num_vertices, (int, np.integer)):
        raise TypeError(f"num_vertices: expected an int, got {type(num_vertices).__name__}")
    if num_vertices <= 0:
        raise ValueError(f"num_vertices: expected a positive vertex count, got {num_vertices}")
    if isinstance(model_keypoint_names, str):
        raise TypeError("model_keypoint_names: expected a sequence of str, got one str")
    names = [str(n) if isinstance(n, (str, np.str_)) else n for n in model_keypoint_names]
    if not all(isinstance(n, str) for n in names):
        raise TypeError("model_keypoint_names: expected a sequence of str")
    if len(set(names)) != len(names):
        raise ValueError("model_keypoint_names: duplicate names")
    model_index = {n: i for i, n in enumerate(names)}
    reg = None
    if keypoint_regressor is not None:
        reg = _as_regressor(keypoint_regressor, len(names), int(num_vertices))
    official_smpl = num_vertices == SMPL_NUM_VERTICES

    K = fmt.num_keypoints
    target_names: list[str | None] = [None] * K
    joint_index = np.full(K, -1, dtype=np.int64)
    model_kp_index = np.full(K, -1, dtype=np.int64)
    empty_i = np.zeros(0, dtype=np.int64)
    empty_w = np.zeros(0, dtype=np.float64)
    vertex_ids = [empty_i] * K
    vertex_weights = [empty_w] * K
    weights = np.zeros(K, dtype=np.float64)
    for k, cands in enumerate(fmt.targets):
        for name, weight in cands:
            if name in _JOINT_INDEX:
                joint_index[k] = _JOINT_INDEX[name]
            elif name in model_index:
                m = model_index[name]
                model_kp_index[k] = m
                if reg is not None:
                    (nz,) = np.nonzero(reg[m])
                    if nz.size == 0:
                        raise ValueError(f"keypoint_regressor: row {m} ({name!r}) is all zero")
                    vertex_ids[k] = nz.astype(np.int64)
                    vertex_weights[k] = reg[m, nz].copy()
            elif official_smpl and name in SMPL_VERTEX_IDS:
                vertex_ids[k] = np.array([SMPL_VERTEX_IDS[name]], dtype=np.int64)
                vertex_weights[k] = np.ones(1, dtype=np.float64)
            else:
                continue
            target_names[k] = name
            weights[k] = weight
            break
    return ResolvedFormat(
        format=fmt,
        num_vertices=int(num_vertices),
        target_names=tuple(target_names),
        joint_index=joint_index,
        model_keypoint_index=model_kp_index,
        vertex_ids=tuple(vertex_ids),
        vertex_weights=tuple(vertex_weights),
        weights=weights,
    )


def _numeric_array(value: Any, arg: str) -> NDArray[np.float64]:
    """``value`` as float64, TypeError naming ``arg`` if it is not numeric."""
    try:
        arr = np.asarray(value)
    except ValueError as err:  # ragged nested sequences
        raise KeypointError(f"{arg}: expected a rectangular numeric array ({err})") from None
    if arr.dtype.kind in "fiu":
        return arr.astype(np.float64)
    if arr.dtype.kind == "O":
        try:
            return arr.astype(np.float64)
        except (TypeError, ValueError):
            pass
    raise TypeError(f"{arg}: expected numbers, got an array of dtype {arr.dtype}")


# Confidences weight squared residuals: far above any detector's scale (0..1) they only
# overflow the energy.
MAX_CONFIDENCE = 1e6


def validate_keypoints(
    keypoints: ArrayLike, fmt: str | KeypointFormat
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Check 2D keypoints against a format and split them into positions and confidences.

    Parameters
    ----------
    keypoints : (K, 3) or (K, 2) array-like
        x, y in pixels and, for (K, 3), a confidence >= 0 (a (K, 2) input has confidence 1).
        K is the format's keypoint count. A missing keypoint is a row with confidence 0 or NaN
        (any x, y), or for (K, 2) a row whose x and y are both NaN.
    fmt : str or KeypointFormat
        The keypoints' format.

    Returns
    -------
    xy : (K, 2) float64
        Pixels; 0 for missing keypoints whose x, y were not finite.
    conf : (K,) float64
        Confidence, 0 for missing keypoints.

    Raises
    ------
    KeypointError (a ValueError)
        Wrong shape, non-finite x or y where the confidence is > 0, or a negative or infinite
        confidence.
    TypeError
        Non-numeric input.
    """
    f = get_format(fmt)
    K = f.num_keypoints
    arr = _numeric_array(keypoints, "keypoints")
    if arr.ndim != 2 or arr.shape[0] != K or arr.shape[1] not in (2, 3):
        raise KeypointError(
            f"keypoints: expected shape ({K}, 3) or ({K}, 2) for format {f.name!r} "
            f"(x, y in pixels[, confidence]), got {arr.shape}"
        )
    xy = arr[:, :2].copy()
    if arr.shape[1] == 3:
        conf = arr[:, 2].copy()
        conf[np.isnan(conf)] = 0.0
    else:
        conf = np.where(np.isnan(xy).all(axis=1), 0.0, 1.0)
    bad = ~np.isfinite(conf) | (conf < 0) | (conf > MAX_CONFIDENCE)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise KeypointError(
            f"keypoints: confidence of keypoint {k} ({f.keypoint_names[k]!r}) is "
            f"{float(arr[k, 2]):g}; expected a value in [0, {MAX_CONFIDENCE:g}] "
            "(0 or NaN for missing)"
        )
    nonfinite = ~np.isfinite(xy).all(axis=1)
    bad = nonfinite & (conf > 0)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise KeypointError(
            f"keypoints: keypoint {k} ({f.keypoint_names[k]!r}) has confidence {conf[k]:g} "
            f"but non-finite x, y {tuple(xy[k])}; give it confidence 0 if it is missing"
        )
    xy[nonfinite] = 0.0
    return xy, conf


# OpenPose's COCO-18 model: its keypoint order as BODY_25 indices (mid_hip and feet are absent).
_OPENPOSE18_TO_25 = (0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18)


def keypoints_from_openpose_json(
    path_or_dict: str | os.PathLike[str] | Mapping[str, Any], person: int = 0
) -> NDArray[np.float64]:
    """Read one person's body keypoints from an OpenPose ``--write_json`` file.

    Parameters
    ----------
    path_or_dict : str, path-like or mapping
        The JSON file, or its parsed content (``{"people": [{"pose_keypoints_2d": [...]}]}``).
    person : int
        Index into ``people``.

    Returns
    -------
    (25, 3) float64
        ``openpose25`` keypoints: x, y in pixels, confidence (0 where OpenPose found nothing).
        Output of OpenPose's COCO-18 model is converted to BODY_25 order, with ``mid_hip`` and
        the feet missing (confidence 0).
    """
    if isinstance(path_or_dict, Mapping):
        doc: Any = path_or_dict
    elif isinstance(path_or_dict, (str, os.PathLike)):
        with open(path_or_dict, encoding="utf-8") as fh:
            try:
                doc = json.load(fh)
            except json.JSONDecodeError as err:
                raise ValueError(
                    f"path_or_dict: {path_or_dict} is not valid JSON ({err})"
                ) from None
    else:
        raise TypeError(
            "path_or_dict: expected a path to an OpenPose JSON file or its parsed dict, "
            f"got {type(path_or_dict).__name__}"
        )
    if isinstance(person, bool) or not isinstance(person, (int, np.integer)):
        raise TypeError(f"person: expected an int, got {type(person).__name__}")
    people = doc.get("people") if isinstance(doc, Mapping) else None
    if not isinstance(people, list):
        raise ValueError("path_or_dict: not an OpenPose JSON document (no 'people' list)")
    if not -len(people) <= person < len(people):
        raise ValueError(f"person: index {person} out of range; the file has {len(people)} people")
    entry = people[person]
    if not isinstance(entry, Mapping) or "pose_keypoints_2d" not in entry:
        raise ValueError(f"path_or_dict: person {person} has no 'pose_keypoints_2d'")
    flat = _numeric_array(entry["pose_keypoints_2d"], "path_or_dict")
    if flat.ndim != 1 or flat.size not in (75, 54):
        raise ValueError(
            "path_or_dict: pose_keypoints_2d must hold 75 numbers (BODY_25) or 54 (COCO-18), "
            f"got shape {flat.shape}"
        )
    rows = flat.reshape(-1, 3)
    if rows.shape[0] == 25:
        out = rows.copy()
    else:
        out = np.zeros((25, 3), dtype=np.float64)
        out[list(_OPENPOSE18_TO_25)] = rows
    # OpenPose writes (0, 0, 0) for keypoints it did not find; NaN must not survive either.
    missing = ~np.isfinite(out).all(axis=1)
    out[missing] = 0.0
    return out


def _landmark_rows(landmarks: Any) -> NDArray[np.float64]:
    """MediaPipe landmarks as a (33, 4 or 5) array: from an array or landmark objects."""
    seq = getattr(landmarks, "landmark", landmarks)  # legacy NormalizedLandmarkList
    if not isinstance(seq, (np.ndarray, str, bytes)):
        try:
            items = list(seq)
        except TypeError:
            items = []
        if items and all(hasattr(lm, "x") and hasattr(lm, "y") for lm in items):
            rows = []
            for lm in items:
                vis = getattr(lm, "visibility", None)  # None in the Tasks API when not computed
                rows.append([lm.x, lm.y, getattr(lm, "z", 0.0) or 0.0, 1.0 if vis is None else vis])
            return _numeric_array(rows, "landmarks")
    return _numeric_array(seq, "landmarks")


def keypoints_from_mediapipe(landmarks: Any, image_size: Sequence[float]) -> NDArray[np.float64]:
    """Convert MediaPipe Pose normalised landmarks to ``mediapipe33`` pixel keypoints.

    Parameters
    ----------
    landmarks : (33, 4) or (33, 5) array-like, or 33 landmark objects
        Per landmark x, y (normalised by image width and height), z, visibility[, presence];
        or MediaPipe's own landmark objects (attributes ``x``, ``y``, ``visibility``), e.g.
        ``results.pose_landmarks`` of the legacy solution or ``result.pose_landmarks[0]`` of
        the Tasks API.
    image_size : (2,) sequence
        (width, height) of the image in pixels.

    Returns
    -------
    (33, 3) float64
        x, y in pixels and confidence = visibility clipped to [0, 1]; a landmark with
        non-finite values gets confidence 0 and x, y = 0.
    """
    size = _numeric_array(image_size, "image_size")
    if size.shape != (2,) or not np.all(np.isfinite(size)) or np.any(size <= 0):
        raise ValueError(f"image_size: expected (width, height) > 0 in pixels, got {image_size!r}")
    arr = _landmark_rows(landmarks)
    if arr.ndim != 2 or arr.shape[0] != 33 or arr.shape[1] not in (4, 5):
        raise KeypointError(
            "landmarks: expected shape (33, 4) or (33, 5) (x, y normalised, z, visibility"
            f"[, presence]), got {arr.shape}"
        )
    out = np.empty((33, 3), dtype=np.float64)
    out[:, :2] = arr[:, :2] * size
    out[:, 2] = np.clip(arr[:, 3], 0.0, 1.0)
    missing = ~np.isfinite(arr[:, [0, 1, 3]]).all(axis=1)
    out[missing] = 0.0
    return out
