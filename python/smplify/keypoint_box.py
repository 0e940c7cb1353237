"""The diagonal of the bounding box of a person's keypoints: the person's size in pixels.

One helper for every reader of that size: the size-scaled λ_R (:func:`smplify.problem
.reading_weight_scale`), the online fit's error as a fraction of the person
(:func:`smplify.online.median_error_fraction`), the OKS-like similarity of two skeletons
(:mod:`smplify.person_nms`) and the synthetic detectors' noise (:mod:`smplify.synthetic_video`,
:mod:`smplify.detections`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["keypoint_diagonal"]


def keypoint_diagonal(xy: NDArray[np.float64],
                      used: NDArray[np.bool_] | None = None) -> NDArray[np.float64] | float:
    """Diagonal of the box of the keypoints ``used`` (pixels; 0 with fewer than two).

    Parameters
    ----------
    xy : (K, 2) or (T, K, 2) pixels.
    used : (K,) or (T, K) bool, the keypoints the box spans; None: all of them (then a
        (T, K, 2) input gives one diagonal per frame).

    Returns
    -------
    float for (K, 2); (T,) array for (T, K, 2) with ``used`` None.
    """
    xy = np.asarray(xy, dtype=np.float64)
    if used is None:
        return_array = xy.ndim == 3
        diag = np.linalg.norm(xy.max(axis=-2) - xy.min(axis=-2), axis=-1)
        return diag if return_array else float(diag)
    seen = xy[np.asarray(used, dtype=bool)]
    if len(seen) < 2:
        return 0.0
    return float(np.hypot(*(seen.max(axis=0) - seen.min(axis=0))))
