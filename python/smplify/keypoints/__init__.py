"""Detector keypoints: formats, matching them to a body model, checking them, reading files.

- `formats`: the built-in formats (``format_names``, ``get_format``): per detector keypoint,
  its candidate model points (SMPL joints or surface keypoints) and default weights;
  ``format_table`` prints one;
- `resolve`: ``resolve_format``, a format matched against one model (joint, vertex regressor
  row, or unavailable per keypoint);
- `validate`: ``validate_keypoints``, the check of a (K, 3) / (K, 2) array before a fit;
- `readers`: OpenPose JSON, MediaPipe landmarks, smplify's keypoint JSON files.
"""

from __future__ import annotations

from .formats import (
    BLENDED_KEYPOINTS,
    JOINT_NAMES,
    MEDIAPIPE_HIP_SHARE,
    SMPL_NUM_VERTICES,
    SMPL_VERTEX_IDS,
    SURFACE_KEYPOINT_NAMES,
    KeypointFormat,
    KeypointTarget,
    format_names,
    format_table,
    get_format,
    with_blended_hips,
)
from .readers import (
    KeypointFile,
    keypoints_from_mediapipe,
    keypoints_from_openpose_json,
    read_keypoint_file,
)
from .resolve import ResolvedFormat, resolve_format
from .validate import MAX_CONFIDENCE, validate_keypoints, validate_keypoints_3d

__all__ = [
    "BLENDED_KEYPOINTS",
    "JOINT_NAMES",
    "MAX_CONFIDENCE",
    "MEDIAPIPE_HIP_SHARE",
    "with_blended_hips",
    "SMPL_NUM_VERTICES",
    "SMPL_VERTEX_IDS",
    "SURFACE_KEYPOINT_NAMES",
    "KeypointFile",
    "KeypointFormat",
    "KeypointTarget",
    "ResolvedFormat",
    "format_names",
    "format_table",
    "get_format",
    "keypoints_from_mediapipe",
    "keypoints_from_openpose_json",
    "read_keypoint_file",
    "resolve_format",
    "validate_keypoints",
    "validate_keypoints_3d",
]
