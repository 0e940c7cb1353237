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

import weakref
from typing import Any, NamedTuple

import numpy as np

from . import _core, initializer
from ._owner_cache import OwnerCache
from .left_right import (
    LIMB_PARTS,
    limb_swap_index,
    limbs_to_swap,
    mirror_index,
    placed_readings,
    swap_evidence,
    swapped,
)


def start_betas(settings: Any, hypothesis: initializer.Hypothesis,
                own: np.ndarray | None = None) -> np.ndarray:
    """(B,) the betas a hypothesis is posed with in ``settings.model``: its own where the
    model shares the initialiser's shape space (further betas 0), else the fit's own β start
    ``own`` ((B,); None: zeros, a fit from scratch's)."""
    model = settings.model
    if not initializer.shares_shape_space(model, settings.format.name):
        return np.zeros(model.num_betas) if own is None else np.array(own, dtype=np.float64)
    betas = np.zeros(model.num_betas)
    shared = min(len(betas), len(hypothesis.betas))
    betas[:shared] = hypothesis.betas[:shared]
    return betas


_POSERS = OwnerCache(16)


def _poser(settings: Any) -> Any:
    """The C++ keypoint poser (``cpp/keypoint_poser.h``) of the settings' model and format
    (cached per model object and format, by the format's value, not its name): the
    format's keypoints without posing the whole mesh."""
    resolved = settings.resolved

    def build() -> Any:
        return _core.KeypointPoser(settings.model.core, [int(j) for j in resolved.joint_index],
                                   list(resolved.vertex_ids), list(resolved.vertex_weights))

    return _POSERS.get((settings.model,), settings.format, build)


def _posed_keypoints(settings: Any, hypothesis: initializer.Hypothesis,
                     own_betas: np.ndarray | None = None) -> np.ndarray:
    """(K, 3) metres: the format's keypoints of one hypothesis posed by ``settings.model`` at
    the origin with :func:`start_betas`; NaN where the model has no point for a keypoint.
    (Its NumPy twin: ``settings.resolved.keypoint_positions`` of the posed model's joints
    and vertices.)"""
    points = _poser(settings).pose(np.r_[hypothesis.global_orient, hypothesis.body_pose],
                                   start_betas(settings, hypothesis, own_betas))
    points[~settings.resolved.available] = np.nan
    return points


def _hypotheses(settings: Any, xy: np.ndarray, confidence: np.ndarray,
                count: int | None = None) -> list[initializer.Hypothesis]:
    # The fit accepts any confidence >= 0; the initialiser was trained on [0, 1].
    return initializer.predict(np.c_[xy, np.clip(confidence, 0.0, 1.0)], settings.format.name,
                               settings.image_size, settings.focal_length, count=count,
                               mirror=settings.options.mirror_readings)


class FrameReadings(NamedTuple):
    """The initialiser's readings of one frame's keypoints (best score first) and each one's
    keypoints posed as a fit from scratch poses them (:func:`_posed_keypoints` with no own
    β start): computed once per frame and shared by the swap check (:func:`swapped_back`)
    and the starts (:func:`hypothesis_starts`) when no swap was undone."""

    hypotheses: list[initializer.Hypothesis]
    points: list[np.ndarray]


def frame_readings(settings: Any, xy: np.ndarray, confidence: np.ndarray) -> FrameReadings:
    """:class:`FrameReadings` of one frame. xy : (K, 2) pixels.  confidence : (K,)."""
    hypotheses = _hypotheses(settings, xy, confidence)
    return FrameReadings(hypotheses, [_posed_keypoints(settings, h) for h in hypotheses])


def hypothesis_starts(settings: Any, xy: np.ndarray, confidence: np.ndarray,
                      with_anchors: bool, own_betas: np.ndarray | None = None,
                      readings: FrameReadings | None = None
                      ) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray | None, float], ...]:
    """The initialiser's hypotheses of one frame as the C++ fit's starts, best score first.

    Parameters
    ----------
    settings : smplify.problem.FitSettings.  xy : (K, 2) pixels.  confidence : (K,).
    with_anchors : give each start its own E_3D targets (its posed keypoints).
    own_betas : (B,) or None
        The fit's own β start, used instead of the hypotheses' betas where the model does not
        share the initialiser's shape space (:func:`start_betas`); None: zeros.
    readings : FrameReadings or None
        These keypoints' readings if already computed (:func:`frame_readings`); used only
        with ``own_betas`` None (they were posed with no own β start).

    Returns
    -------
    tuple of (pose (72,) axis-angle in the camera frame, betas (B,) of ``settings.model``
    (:func:`start_betas`), keypoints (K, 3) metres or None, log score).
    """
    if readings is None or own_betas is not None:
        hypotheses = _hypotheses(settings, xy, confidence)
        points = [_posed_keypoints(settings, h, own_betas) if with_anchors else None
                  for h in hypotheses]
    else:
        hypotheses = readings.hypotheses
        points = [p.copy() if with_anchors else None for p in readings.points]
    return tuple((np.r_[h.global_orient, h.body_pose], start_betas(settings, h, own_betas), p,
                  float(np.log(max(h.score, 1e-12))))
                 for h, p in zip(hypotheses, points, strict=True))


def swapped_back(settings: Any, xy: np.ndarray, confidence: np.ndarray, mode: str,
                 readings: FrameReadings | None = None
                 ) -> tuple[np.ndarray | None, tuple[str, ...]]:
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
    readings : FrameReadings or None: these keypoints' (:func:`frame_readings`), if computed.
    """
    name = settings.format.name
    threshold = settings.options.swap_threshold
    identity = np.arange(len(xy))
    readings = frame_readings(settings, xy, confidence) if readings is None else readings
    points = readings.points
    scores = np.array([h.score for h in readings.hypotheses])
    seen = np.where(settings.resolved.available, confidence, 0.0)

    def evidence(perm: np.ndarray, conf: np.ndarray, place: np.ndarray, labels: np.ndarray,
                 placed: list[np.ndarray | None] | None = None) -> tuple[float, float]:
        return swap_evidence(points, scores, xy[labels], conf, perm, place,
                             settings.focal_length, settings.center, placed)

    perm, done = identity, []
    if mode in ("body", "auto"):
        mirror = mirror_index(name)
        if swapped(evidence(mirror, confidence, seen, identity), threshold):
            perm, done = mirror, ["body"]
    if mode in ("limbs", "auto"):
        swaps = {limb: limb_swap_index(name, limb) for limb in LIMB_PARTS}
        fixed = np.logical_and.reduce([s == identity for s in swaps.values()])
        conf, place = confidence[perm], np.where(fixed, seen[perm], 0.0)
        # No limb swap moves the keypoints that place the readings: placed once for all.
        placed = placed_readings(points, xy[perm], place, settings.focal_length,
                                 settings.center)
        limbs = limbs_to_swap({limb: evidence(s, conf, place, perm, placed)
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
    if settings.options.mirror_readings != "off":  # readings joined in NumPy
        return _posed_keypoints(settings, _hypotheses(settings, xy, confidence, 1)[0],
                                own_betas)
    # One C++ call (the online Fitter's per-frame anchor): its twin is _posed_keypoints of
    # the first of _hypotheses, with start_betas.
    poser, network, shared, unavailable = _anchor_inputs(settings)
    betas = None  # the reading's own
    if not shared:
        betas = np.zeros(settings.model.num_betas) if own_betas is None else \
            np.asarray(own_betas, dtype=np.float64)
    keypoints = np.empty((len(xy), 3))
    keypoints[:, :2] = xy
    # The fit accepts any confidence >= 0; the initialiser was trained on [0, 1].
    keypoints[:, 2] = np.clip(confidence, 0.0, 1.0)
    points = poser.pose_top_reading(network, keypoints, settings.image_size,
                                    settings.focal_length, betas)
    points[unavailable] = np.nan
    return points


_ANCHOR_INPUTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _anchor_inputs(settings: Any) -> tuple[Any, Any, bool, np.ndarray]:
    """What :func:`anchor_keypoints` needs of ``settings`` besides the frame: the C++ poser
    and initialiser, whether the model shares the initialiser's shape space, and the
    keypoints the model has no point for ((K,) bool). Kept per settings object (a Fitter's,
    asked on every warm frame: ~5 us of look-ups otherwise)."""
    inputs = _ANCHOR_INPUTS.get(settings)
    if inputs is None:
        name = settings.format.name
        inputs = (_poser(settings), initializer.load_initializer(name).core,
                  initializer.shares_shape_space(settings.model, name),
                  ~np.asarray(settings.resolved.available, dtype=bool))
        _ANCHOR_INPUTS[settings] = inputs
    return inputs
