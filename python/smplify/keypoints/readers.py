"""Readers of keypoint files: OpenPose ``--write_json`` files, MediaPipe landmarks, and smplify's
own keypoint JSON files (`read_keypoint_file`)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import InputFileError, KeypointError
from .validate import _numeric_array

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
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
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


# --- reading keypoints -----------------------------------------------------------------------
class KeypointFile:
    """Keypoints read from a file, with what the file says about them.

    Attributes
    ----------
    keypoints : (K, 3) float64
        x, y in pixels, confidence.
    format : str or None
        Keypoint format named by the file (``openpose25`` for OpenPose files).
    image_size : (width, height) or None
        Image size in pixels named by the file.
    """

    def __init__(self, keypoints: np.ndarray, format: str | None,
                 image_size: tuple[int, int] | None):
        self.keypoints = keypoints
        self.format = format
        self.image_size = image_size


def parse_image_size(value: Any, where: str) -> tuple[int, int]:
    """``value`` as (width, height) in whole pixels; InputFileError naming ``where`` if not."""
    try:
        size = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        size = np.zeros(0)
    if size.shape != (2,) or not np.all(np.isfinite(size)) or np.any(size <= 0) or \
            np.any(size != np.round(size)):
        raise InputFileError(f"{where}: image size must be two positive integers (width height), "
                        f"got {value!r}")
    return int(size[0]), int(size[1])


def read_keypoint_file(path: str | Path, person: int = 0) -> KeypointFile:
    """Read a keypoint JSON file: smplify's layout or OpenPose's.

    Parameters
    ----------
    path : str or Path
        JSON file: ``{"keypoints": [[x, y, c], ...], "format": ..., "image_size": [w, h]}``
        (``format`` and ``image_size`` optional), or OpenPose's ``{"people": [...]}``.
    person : int
        Which person of an OpenPose file.

    Returns
    -------
    KeypointFile
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"keypoint file not found: {path}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        raise InputFileError(f"{path}: not a JSON file ({err})") from None
    if isinstance(doc, Mapping) and "people" in doc:
        try:
            keypoints = keypoints_from_openpose_json(doc, person=person)
        except ValueError as err:  # its messages name path_or_dict: name the file instead
            raise InputFileError(f"{path}: {err}") from None
        return KeypointFile(keypoints, "openpose25", None)
    if not isinstance(doc, Mapping) or "keypoints" not in doc:
        raise InputFileError(f"{path}: expected an object with 'keypoints' (smplify layout) or "
                        "'people' (OpenPose)")
    try:
        keypoints = np.asarray(doc["keypoints"], dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as err:
        raise InputFileError(f"{path}: 'keypoints' must be a list of [x, y, confidence] rows "
                        f"({err})") from None
    if keypoints.ndim != 2 or keypoints.shape[1] not in (2, 3):
        raise InputFileError(f"{path}: 'keypoints' must be (K, 3) or (K, 2) rows, got shape "
                        f"{keypoints.shape}")
    fmt = doc.get("format")
    if fmt is not None and not isinstance(fmt, str):
        raise InputFileError(f"{path}: 'format' must be a string, got {fmt!r}")
    size = doc.get("image_size")
    return KeypointFile(keypoints, fmt,
                        None if size is None else parse_image_size(size, f"{path}: image_size"))
