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

Blended keypoints
-----------------
A *blended keypoint* is a fixed blend of surface keypoints (``BLENDED_KEYPOINTS``: position =
Σ share · part's position, shares summing to 1). It resolves to one vertex regressor row, the
parts' rows blended, so the fit treats it as any other surface keypoint and the model files
need no extra row. It is available when the model has every part.

- ``mediapipe_<side>_hip``: where MediaPipe (BlazePose) puts the hip:
  ``MEDIAPIPE_HIP_SHARE`` of the way from ``coco_<side>_hip`` to ``coco_<side>_knee``.
  MediaPipe's hips sit lower than COCO's labels: on real detections (vtest and the sports2d
  demo, 9 people) the median person's hips sit 0.115 of the fitted body's COCO hip → knee
  below its COCO hips, fitted without the hips (``benchmarks/knee_bend_causes.py``, part 5).
  At COCO's hips, the fit reads MediaPipe's short 2D thighs as thighs bent toward the camera
  (docs/video.md, "Bent knees"). mediapipe33 keeps COCO's hips by default: measured with the
  blended hips, real videos' knees came out 1-5° straighter, but the online track on the
  sports2d man faced against the detector on 26% of frames instead of 13%;
  :func:`with_blended_hips` builds a format that uses them.

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


The tables below are generated from the format data (`format_table`) when this module loads.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

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

#: Where MediaPipe's hip sits between the model's COCO hip (0) and COCO knee (1): the median
#: over 9 people of vtest and the sports2d demo (``benchmarks/knee_bend_causes.py``, part 5).
MEDIAPIPE_HIP_SHARE = 0.115

#: Blended keypoints: name → ((surface keypoint, share), ...), shares summing to 1 (module
#: docstring, "Blended keypoints").
BLENDED_KEYPOINTS: Mapping[str, tuple[tuple[str, float], ...]] = MappingProxyType({
    f"mediapipe_{side}_hip": ((f"coco_{side}_hip", 1.0 - MEDIAPIPE_HIP_SHARE),
                              (f"coco_{side}_knee", MEDIAPIPE_HIP_SHARE))
    for side in ("left", "right")
})

_JOINT_INDEX = {name: i for i, name in enumerate(JOINT_NAMES)}
_TARGET_NAMES = (frozenset(JOINT_NAMES) | frozenset(SURFACE_KEYPOINT_NAMES)
                 | frozenset(BLENDED_KEYPOINTS))


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


def _mediapipe_hip(side: str) -> tuple[str, Sequence[tuple[str, float]]]:
    name = f"{side}_hip"
    return name, ((f"mediapipe_{name}", _W), (f"coco_{name}", _W), (name, _W_HIP_JOINT))


def with_blended_hips(fmt: KeypointFormat) -> KeypointFormat:
    """``fmt`` with its hips at MediaPipe's blended hip targets (``mediapipe_<side>_hip``,
    then COCO's, then SMPL's hip joint at weight 0); not the default of any format (session
    11: on the sports2d man the online track faced against the detector twice as often for
    knees 2° straighter; docs/video.md, "Bent knees"). It keeps ``fmt``'s name, so the
    initialiser shipped for it still reads its keypoints; fits cache by the format's
    targets, not its name."""
    return _fmt(fmt.name, [_mediapipe_hip(name.split("_")[0]) if name.endswith("_hip")
                           and name.split("_")[0] in ("left", "right")
                           else (name, tuple(targets))
                           for name, targets in zip(fmt.keypoint_names, fmt.targets,
                                                    strict=True)])


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



# Per format, the sentence that introduces its table in this module's docstring.
_DESCRIPTIONS = {
    "smpl24": "the 24 SMPL joints in SMPL order (docs/design.md), each to itself",
    "coco17": "COCO keypoints; also what most 2D detectors output",
    "openpose25": "OpenPose BODY_25; its body keypoints are trained on COCO labels",
    "mediapipe33": "MediaPipe Pose / BlazePose landmarks",
    "lsp14": "Leeds Sports Pose, SMPLify's input. LSP's labels follow the same conventions as "
             "COCO's (human-placed, hips on the outside of the pelvis), so a model with COCO "
             "regressors uses them for LSP too; on the official SMPL model LSP maps to SMPL's "
             "joints with the hips at 0, exactly SMPLify's setting",
}


def format_table(name: str | KeypointFormat) -> str:
    """A format's keypoints and their targets as a reStructuredText table.

    Parameters
    ----------
    name : str or KeypointFormat
        One of ``format_names()``.

    Returns
    -------
    str
        One row per keypoint: index, keypoint name, targets in order of preference, each as
        ``name (weight)``.
    """
    fmt = get_format(name)
    rows = [(f"{k:>2}", kp, ", ".join(f"{t.name} ({t.weight:g})" for t in cands))
            for k, (kp, cands) in enumerate(zip(fmt.keypoint_names, fmt.targets, strict=True))]
    head = ("#", "keypoint", "targets (weight)")
    widths = [max(len(r[i]) for r in [*rows, head]) for i in range(3)]
    rule = "  ".join("=" * w for w in widths)

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i == 0 else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return "\n".join([rule, line(head), rule, *(line(r) for r in rows), rule])


def _formats_doc() -> str:
    return "".join("\n" + textwrap.fill(f"``{name}`` ({_DESCRIPTIONS.get(name, name)}):", 96)
                   + f"\n\n{format_table(name)}\n" for name in _FORMATS)


__doc__ = (__doc__ or "") + _formats_doc()
