"""The learned initialiser's readings in a fit (SPEC §6): anchors (3D keypoints) and starts.

The learned initialiser (:mod:`smplify.initializer`) reads one person's 2D keypoints as a few
3D bodies. SMPLify started from such a reading drifts back to the prior's own reading of the
unobserved depths; the anchor keeps it near: the top-scored hypothesis, posed by the fit's
model, gives the format's keypoints in camera-aligned axes, and the fit's relative 3D term
E_3D (``relative_keypoint_term``, weight ``anchor_weight``) pulls the model's keypoints
toward them, robustly and relative to their centroid, as it does with a detector's own 3D.

With ``starts="initializer"`` or ``"both"`` every hypothesis also becomes a start of the C++
fit (``hypothesis_starts``): its orientation and pose, its log score for the start selection,
and, with ``learned_init``, its own keypoints as that start's anchor.

The hypotheses' betas are the shipped open model's (:func:`smplify.initializer.
shares_shape_space`). With any other model (a user's SMPL file, another gender) only their
poses are used: starts and anchors take the fit's own β start instead (0 from scratch, the
track's β in a warm ``Fitter`` frame).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import initializer
from .left_right import (
    LIMB_PARTS,
    limb_swap_index,
    limbs_to_swap,
    mirror_index,
    swap_evidence,
    swapped,
)


def start_betas(settings: Any, hypothesis: initializer.Hypothesis,
                own: np.ndarray | None = None) -> np.ndarray:
    """(B,) the betas a hypothesis is posed with in ``settings.model``: its own where the
    model shares the initialiser's shape space (further betas 0), else the fit's own β start
    ``own`` ((B,); None: zeros, a fit from scratch's)."""
    model = settings.model
    if not initializer.shares_shape_space(model):
        return np.zeros(model.num_betas) if own is None else np.array(own, dtype=np.float64)
    betas = np.zeros(model.num_betas)
    shared = min(len(betas), len(hypothesis.betas))
    betas[:shared] = hypothesis.betas[:shared]
    return betas


def _posed_keypoints(settings: Any, hypothesis: initializer.Hypothesis,
                     own_betas: np.ndarray | None = None) -> np.ndarray:
    """(K, 3) metres: the format's keypoints of one hypothesis posed by ``settings.model`` at
    the origin with :func:`start_betas`; NaN where the model has no point for a keypoint."""
    model = settings.model
    body = model(betas=start_betas(settings, hypothesis, own_betas), body_pose=hypothesis.body_pose,
                 global_orient=hypothesis.global_orient)
    points = settings.resolved.keypoint_positions(body.joints, body.vertices)
    points[~settings.resolved.available] = np.nan
    return points


def _hypotheses(settings: Any, xy: np.ndarray,
                confidence: np.ndarray) -> list[initializer.Hypothesis]:
    # The fit accepts any confidence >= 0; the initialiser was trained on [0, 1].
    return initializer.predict(np.c_[xy, np.clip(confidence, 0.0, 1.0)], settings.format.name,
                               settings.image_size, settings.focal_length)


def hypothesis_starts(settings: Any, xy: np.ndarray, confidence: np.ndarray,
                      with_anchors: bool, own_betas: np.ndarray | None = None
                      ) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray | None, float], ...]:
    """The initialiser's hypotheses of one frame as the C++ fit's starts, best score first.

    Parameters
    ----------
    settings : smplify.problem.FitSettings.  xy : (K, 2) pixels.  confidence : (K,).
    with_anchors : give each start its own E_3D targets (its posed keypoints).
    own_betas : (B,) or None
        The fit's own β start, used instead of the hypotheses' betas where the model does not
        share the initialiser's shape space (:func:`start_betas`); None: zeros.

    Returns
    -------
    tuple of (pose (72,) axis-angle in the camera frame, betas (B,) of ``settings.model``
    (:func:`start_betas`), keypoints (K, 3) metres or None, log score).
    """
    out = []
    for h in _hypotheses(settings, xy, confidence):
        betas = start_betas(settings, h, own_betas)
        points = _posed_keypoints(settings, h, own_betas) if with_anchors else None
        out.append((np.r_[h.global_orient, h.body_pose], betas, points,
                    float(np.log(max(h.score, 1e-12)))))
    return tuple(out)


def swapped_back(settings: Any, xy: np.ndarray, confidence: np.ndarray,
                 mode: str) -> tuple[np.ndarray | None, tuple[str, ...]]:
    """The permutation undoing the left/right swaps a detector most likely made in one frame,
    and what it undoes ("body", "arms", "legs"); (None, ()) if nothing.

    ``mode`` ("body", "limbs" or "auto": both) says which swaps to look for. Each is judged by
    :func:`smplify.left_right.swap_evidence` from the initialiser's readings of the frame:
    the whole body's labels with the readings placed on all keypoints under each labelling
    (:func:`smplify.left_right.swapped`), then, on the labels that gives, each limb's with
    the readings placed on the keypoints no limb swap moves (torso, face;
    :func:`smplify.left_right.limbs_to_swap`).

    Parameters
    ----------
    settings : smplify.problem.FitSettings.  xy : (K, 2) pixels.  confidence : (K,).
    mode : "body", "limbs" or "auto".
    """
    name = settings.format.name
    threshold = settings.options.swap_threshold
    identity = np.arange(len(xy))
    readings = _hypotheses(settings, xy, confidence)
    points = [_posed_keypoints(settings, h) for h in readings]
    scores = np.array([h.score for h in readings])
    seen = np.where(settings.resolved.available, confidence, 0.0)

    def evidence(perm: np.ndarray, conf: np.ndarray, place: np.ndarray,
                 labels: np.ndarray) -> tuple[float, float]:
        return swap_evidence(points, scores, xy[labels], conf, perm, place,
                             settings.focal_length, settings.center)

    perm, done = identity, []
    if mode in ("body", "auto"):
        mirror = mirror_index(name)
        if swapped(evidence(mirror, confidence, seen, identity), threshold):
            perm, done = mirror, ["body"]
    if mode in ("limbs", "auto"):
        swaps = {limb: limb_swap_index(name, limb) for limb in LIMB_PARTS}
        fixed = np.logical_and.reduce([s == identity for s in swaps.values()])
        conf = confidence[perm]
        limbs = limbs_to_swap({limb: evidence(s, conf, np.where(fixed, seen[perm], 0.0), perm)
                               for limb, s in swaps.items()}, threshold)
        for limb in limbs:
            perm = perm[swaps[limb]]
        done += list(limbs)
    return (perm, tuple(done)) if done else (None, ())


def anchor_keypoints(settings: Any, xy: np.ndarray, confidence: np.ndarray,
                     own_betas: np.ndarray | None = None) -> np.ndarray:
    """(K, 3) metres: the format's keypoints of the initialiser's top hypothesis for one
    frame, posed by ``settings.model`` at the origin (E_3D ignores the origin); NaN where the
    model has no point for a keypoint.

    Parameters
    ----------
    settings : smplify.problem.FitSettings (format, model, camera).
    xy : (K, 2) pixels.  confidence : (K,).
    own_betas : (B,) or None: the fit's own β start (:func:`start_betas`).
    """
    return _posed_keypoints(settings, _hypotheses(settings, xy, confidence)[0], own_betas)
