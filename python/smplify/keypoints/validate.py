"""Checking 2D keypoints against a format before a fit."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import KeypointError
from .formats import KeypointFormat, get_format


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
        except OverflowError:  # Python ints beyond float64's range
            raise KeypointError(f"{arg}: a number is beyond float64's range") from None
    raise TypeError(f"{arg}: expected numbers, got an array of dtype {arr.dtype}")


# Confidences weight squared residuals: far above any detector's scale (0..1) they only
# overflow the energy.
MAX_CONFIDENCE = 1e6
# Pixels: no image is this large; beyond it a coordinate is garbage, and its squared error
# would overflow the solver's arithmetic (1e154 px and up) or swamp every other keypoint.
MAX_PIXELS = 1e15


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
        Wrong shape, non-finite x or y (or beyond ±1e15 px) where the confidence is > 0, or
        a negative or infinite confidence.
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
        # The usual detector output, every value finite and in range, passes every check
        # below unchanged (checked in a third of their time: an online frame's budget).
        if np.isfinite(arr).all() and conf.min() >= 0.0 and conf.max() <= MAX_CONFIDENCE \
                and np.abs(xy).max() <= MAX_PIXELS:
            return xy, conf
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
    far = ~nonfinite & (np.abs(xy) > MAX_PIXELS).any(axis=1) & (conf > 0)
    if far.any():
        k = int(np.flatnonzero(far)[0])
        raise KeypointError(
            f"keypoints: keypoint {k} ({f.keypoint_names[k]!r}) is at "
            f"{tuple(float(v) for v in xy[k])} px; expected x, y within ±{MAX_PIXELS:g} px "
            "(confidence 0 if it is missing)")
    xy[nonfinite] = 0.0
    return xy, conf


# Metres: a detector's relative 3D keypoints lie within a few metres of each other; beyond
# this a value is garbage (or another unit), and squared it would only overflow the energy.
MAX_KEYPOINT_3D_METRES = 1e3


def validate_keypoints_3d(keypoints_3d: ArrayLike,
                          fmt: str | KeypointFormat) -> NDArray[np.float64]:
    """Check a detector's 3D keypoints against a format (SPEC §6, depth evidence).

    Parameters
    ----------
    keypoints_3d : (K, 3) array-like
        Metres in camera-aligned axes (x right, y down, z away from the camera), any origin
        (MediaPipe's world landmarks are this). A row with any NaN is unknown.
    fmt : str or KeypointFormat

    Returns
    -------
    (K, 3) float64, NaN rows where unknown.

    Raises
    ------
    KeypointError (a ValueError)
        Wrong shape, an infinite value, or a coordinate beyond ±1000 m.
    TypeError
        Non-numeric input.
    """
    f = get_format(fmt)
    K = f.num_keypoints
    arr = _numeric_array(keypoints_3d, "keypoints_3d")
    if arr.shape != (K, 3):
        raise KeypointError(f"keypoints_3d: expected shape ({K}, 3) for format {f.name!r} "
                            f"(x, y, z in metres, NaN where unknown), got {arr.shape}")
    unknown = np.isnan(arr).any(axis=1)
    bad = ~unknown & (~np.isfinite(arr).all(axis=1)
                      | (np.abs(arr) > MAX_KEYPOINT_3D_METRES).any(axis=1))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise KeypointError(
            f"keypoints_3d: keypoint {k} ({f.keypoint_names[k]!r}) is {tuple(arr[k])}; "
            f"expected finite metres within ±{MAX_KEYPOINT_3D_METRES:g} (NaN where unknown)")
    arr[unknown] = np.nan
    return arr
