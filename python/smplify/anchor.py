"""The anchor of a learned start (SPEC §6): the initialiser's reading as 3D keypoints.

The learned initialiser (:mod:`smplify.initializer`) reads one person's 2D keypoints as a few
3D bodies. SMPLify started from such a reading drifts back to the prior's own reading of the
unobserved depths; the anchor keeps it near: the top-scored hypothesis, posed by the fit's
model, gives the format's keypoints in camera-aligned axes, and the fit's relative 3D term
E_3D (``relative_keypoint_term``, weight ``anchor_weight``) pulls the model's keypoints
toward them, robustly and relative to their centroid, as it does with a detector's own 3D.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import initializer


def anchor_keypoints(settings: Any, xy: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    """(K, 3) metres: the format's keypoints of the initialiser's top hypothesis for one
    frame, posed by ``settings.model`` at the origin (E_3D ignores the origin); NaN where the
    model has no point for a keypoint.

    Parameters
    ----------
    settings : smplify.problem.FitSettings (format, model, camera).
    xy : (K, 2) pixels.  confidence : (K,).
    """
    keypoints = np.c_[xy, confidence]
    best = initializer.predict(keypoints, settings.format.name, settings.image_size,
                               settings.focal_length)[0]
    model = settings.model
    betas = np.zeros(model.num_betas)
    shared = min(len(betas), len(best.betas))
    betas[:shared] = best.betas[:shared]
    body = model(betas=betas, body_pose=best.body_pose, global_orient=best.global_orient)
    points = settings.resolved.keypoint_positions(body.joints, body.vertices)
    points[~settings.resolved.available] = np.nan
    return points
