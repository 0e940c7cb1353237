"""One fitting problem: validated observations, resolved targets, camera, model, prior, options.

``build_problem`` is shared by the C++ fit (``smplify.fit``) and the pure NumPy twin
(``smplify.reference.fit``), so both fit exactly the same thing and reject bad input with the
same errors. Conventions are those of docs/design.md. What only the reference reads (the model
and prior as float64 arrays, the sphere layout of E_sp) it derives itself
(`smplify.reference.arrays`).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ._owner_cache import OwnerCache
from .anchor import anchor_keypoints, frame_readings, hypothesis_starts, swapped_back
from .errors import KeypointError
from .initializer import available_formats, ships_for
from .keypoint_box import keypoint_diagonal
from .keypoints import (
    KeypointFormat,
    get_format,
    resolve_format,
    validate_keypoints,
    validate_keypoints_3d,
)
from .keypoints.validate import MAX_PIXELS
from .left_right import depth_reflected
from .options import FitOptions
from .result import Camera

#: Focal length (pixels) when the caller gives none (SPEC §2).

#: The torso keypoints of the camera initialisation, by keypoint name, in this order.
TORSO_KEYPOINT_NAMES = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")

#: The knee-depth term's legs (cpp/knee_depth_term.h), by keypoint name, in the C++
#: FitOptions.leg_keypoints order.
LEG_KEYPOINT_NAMES = ("left_hip", "left_knee", "left_ankle",
                      "right_hip", "right_knee", "right_ankle")

#: Torso keypoints that must be confident (of the 4) for a fit to start.
MIN_TORSO_KEYPOINTS = 3

#: Smallest mean 2D shoulder–hip length (pixels) from which the camera depth is estimated.
MIN_TORSO_LENGTH = 1.0


@dataclass(frozen=True, eq=False)
class FitProblem:
    """Everything a fit needs, validated (docs/design.md conventions).

    Attributes
    ----------
    format : str
        Keypoint format name.
    keypoint_names : tuple of K str
        The format's keypoints.
    keypoints : (K, 2) float64
        Observed x, y in pixels (0 where missing).
    confidence : (K,) float64
        Detector confidence, 0 where missing.
    weights : (K,) float64
        Data-term weight w_i = confidence_i · format weight_i (0 where the model has no
        point for the keypoint).
    keypoint_joint : (K,) int64
        SMPL joint of each keypoint, −1 where it comes from vertices (or is unavailable).
    keypoint_vertex_ids : tuple of K (n_k,) int64 arrays
        Vertex ids of each surface keypoint (empty for joints and unavailable keypoints).
    keypoint_vertex_weights : tuple of K (n_k,) float64 arrays
        Their regressor weights; a surface keypoint is Σ_v weight · posed vertex.
    keypoint_available : (K,) bool
        Whether the model has a point for the keypoint.
    image_size : (2,) float64
        (width, height), pixels.
    focal_length : float
        f, pixels.
    center : (2,) float64
        Principal point (w/2, h/2), pixels.
    torso_keypoints : (4,) int64
        Indices into the keypoints of left shoulder, right shoulder, left hip, right hip.
    torso_confident : (4,) bool
        Which of them have confidence > 0 and a model point (at least 3 do).
    model : smplify.BodyModel
    prior : smplify.prior.GMMPosePrior
    capsule_regressor : smplify.capsules.CapsuleRegressor
    options : FitOptions
    keypoint_format : KeypointFormat
        The format itself (``format`` is its name): with the model, what the keypoint
        targets above are resolved from; the C++ fitter cache is keyed on its value
        (``smplify.core_fitter._shared_core_fitter``).
    keypoints_3d : (K, 3) float64 or None
        E_3D's targets (SPEC §6): the detector's 3D keypoints or the learned initialiser's
        anchor (``options.learned_init``), metres in camera-aligned axes, any origin; NaN rows
        unknown. None: no relative 3D term.
    keypoints_3d_weight : float
        E_3D's λ for this frame (``options.keypoints_3d_weight`` or ``anchor_weight``).
    anchored : bool
        Whether ``keypoints_3d`` is the learned initialiser's anchor (not the detector's 3D):
        the result then reports E_3D as ``energy["anchor"]``, not ``energy["keypoints_3d"]``.
        Never both: given 3D keypoints turn the anchor off.
    hypotheses : tuple of (pose (72,), betas (B,), keypoints (K, 3) or None, log score)
        The learned initialiser's readings as starts of a fit from scratch
        (``options.starts``; :func:`smplify.anchor.hypothesis_starts`; their betas are 0
        unless the model shares the initialiser's shape space); empty: none.
    readings : (list of (K, 3) arrays, (M,) log probabilities) or None
        The learned initialiser's readings for the start selection's reading score
        (``options.reading_weight``; fits from scratch of formats with an initialiser), or
        the frame's ``keypoints_3d`` alone when it has them.
    reading_weight_scale : float
        The factor on ``options.reading_weight`` for this frame's reading score:
        :func:`reading_weight_scale` (1 without readings or with ``reading_weight_size`` 0).
    relabelled : bool
        Whether the keypoints (and keypoints_3d) are the given ones with left/right labels
        swapped back (``options.left_right``): the whole body's, a limb's or both.
    left_right : str
        What was swapped back: "as given", "swapped back" (the whole body), "arms swapped
        back", "legs swapped back", or a comma-separated combination.
    label_permutation : (K,) int64 or None
        keypoints = the given keypoints[label_permutation] when relabelled; None otherwise.
    focal_source : str
        Where ``focal_length`` came from: "given", "image diagonal" or "default_focal_length"
        (the caller gave none), "estimated" (``focal_length="estimate"``).
    """

    format: str
    keypoint_names: tuple[str, ...]
    keypoints: np.ndarray
    confidence: np.ndarray
    weights: np.ndarray
    keypoint_joint: np.ndarray
    keypoint_vertex_ids: tuple[np.ndarray, ...]
    keypoint_vertex_weights: tuple[np.ndarray, ...]
    keypoint_available: np.ndarray
    image_size: np.ndarray
    focal_length: float
    center: np.ndarray
    torso_keypoints: np.ndarray
    torso_confident: np.ndarray
    model: Any
    prior: Any
    capsule_regressor: Any
    options: FitOptions
    keypoint_format: KeypointFormat
    keypoints_3d: np.ndarray | None = None
    keypoints_3d_weight: float = 0.0
    anchored: bool = False
    hypotheses: tuple[tuple[np.ndarray, np.ndarray, np.ndarray | None, float], ...] = ()
    readings: tuple[tuple[np.ndarray, ...], np.ndarray] | None = None
    reading_weight_scale: float = 1.0
    relabelled: bool = False
    left_right: str = "as given"
    label_permutation: np.ndarray | None = None
    focal_source: str = "given"

    @property
    def num_keypoints(self) -> int:
        """K."""
        return int(self.keypoints.shape[0])

    @property
    def num_betas(self) -> int:
        """B, the model's number of shape coefficients."""
        return int(np.asarray(self.model.shapedirs).shape[2])

    @property
    def camera(self) -> Camera:
        """The pinhole camera (focal length, principal point)."""
        return Camera(focal_length=self.focal_length, center=self.center.copy())

    @cached_property
    def capsule_arrays(self) -> dict[str, np.ndarray]:
        """The capsule-file arrays (docs/design.md) of the capsule regressor."""
        caps = self.capsule_regressor
        return {name: np.asarray(getattr(caps, name)) for name in
                ("joint", "axis", "offset", "start", "radius_mean", "radius_betas",
                 "length_mean", "length_betas")}


@dataclass(frozen=True, eq=False)
class FitSettings:
    """What stays fixed over a Fitter's frames, checked once: the format resolved against the
    model, the camera, the model, prior, capsules and options.

    Attributes
    ----------
    format : KeypointFormat
    resolved : ResolvedFormat
        The format matched against the model (target, vertex row and weight per keypoint).
    image_size : (2,) float64
        (width, height), pixels.
    focal_length : float
        f, pixels.
    center : (2,) float64
        Principal point (w/2, h/2), pixels.
    torso_keypoints : (4,) int64
        Indices of left shoulder, right shoulder, left hip, right hip.
    model, prior, capsule_regressor, options, focal_source : as in :class:`FitProblem`.
    """

    format: Any
    resolved: Any
    image_size: np.ndarray
    focal_length: float
    center: np.ndarray
    torso_keypoints: np.ndarray
    model: Any
    prior: Any
    capsule_regressor: Any
    options: FitOptions
    focal_source: str = "given"


def fit_settings(format: str | KeypointFormat, image_size: Any, focal_length: float | None = None,
                 model: Any = "open", prior: Any = "open",
                 options: FitOptions | Mapping[str, Any] | None = None, *,
                 capsule_regressor: Any = None) -> FitSettings:
    """Check a fit's settings (everything but the keypoints) and resolve the format.

    Parameters are those of :func:`build_problem` without ``keypoints``.

    Raises
    ------
    ValueError
        Unknown format (the message lists them), bad image_size or focal_length.
    TypeError
        Non-numeric input, unknown option, a model or prior of the wrong type.
    """
    fmt = get_format(format)  # ValueError listing the formats for an unknown name
    opts = _options(options).for_format(fmt)
    size = _image_size(image_size)
    focal = _focal_length(focal_length, size, opts)

    from . import load_model
    from .prior import load_prior

    body_model = load_model(model) if isinstance(model, (str, Path)) else model
    if not hasattr(body_model, "shapedirs"):
        raise TypeError("model: expected 'open', a path or a loaded smplify.BodyModel, got "
                        f"{type(model).__name__}")
    pose_prior = load_prior(prior) if isinstance(prior, (str, Path)) else prior
    if not all(hasattr(pose_prior, a) for a in ("means", "covars", "weights")):
        raise TypeError("prior: expected 'open', a path or a loaded GMMPosePrior, got "
                        f"{type(prior).__name__}")
    torso = np.array([fmt.index(name) for name in TORSO_KEYPOINT_NAMES], dtype=np.int64)
    # (for_format already turned left_right off where no initialiser ships)
    if opts.learned_init or opts.starts != "prior":
        if not ships_for(fmt):
            name = "learned_init" if opts.learned_init else f"starts={opts.starts!r}"
            custom = (" (a custom layout under a built-in's name: the initialiser reads "
                      "the built-in layout only)" if fmt.name in available_formats() else "")
            raise ValueError(f"{name}: no learned initialiser ships for format "
                             f"{fmt.name!r}{custom}; available: "
                             f"{', '.join(available_formats())}")
    caps = capsule_regressor if capsule_regressor is not None else body_model.capsule_regressor
    return FitSettings(format=fmt, resolved=_targets(fmt, body_model), image_size=_frozen(size),
                       focal_length=focal, center=_frozen(size / 2.0),
                       torso_keypoints=_frozen(torso), model=body_model, prior=pose_prior,
                       capsule_regressor=caps, options=opts,
                       focal_source=_focal_source(focal_length, opts))


def _nothing_confident(keypoints: Any) -> str:
    """What a frame with no confident keypoint holds, for its error (a Fitter may pass its
    keypoints with NaN confidences already made 0: then "0 or NaN")."""
    arr = np.asarray(keypoints, dtype=float)
    if arr.shape[1] == 2:
        return "every keypoint's x, y are NaN (missing)"
    nan = int(np.isnan(arr[:, 2]).sum())
    if nan == 0:
        return "no confidence is > 0 (each is 0 or NaN: missing)"
    return f"no confidence is > 0: {nan} of {len(arr)} are NaN (missing), {len(arr) - nan} are 0"


def frame_problem(settings: FitSettings, keypoints: Any, *, place_camera: bool = True,
                  keypoints_3d: Any = None, start_betas: Any = None,
                  anchor_warm: bool | None = None, checked: bool = False) -> FitProblem:
    """One frame's problem: check its keypoints against settings checked before.

    Parameters
    ----------
    settings : FitSettings from :func:`fit_settings`.
    keypoints, place_camera, keypoints_3d : as :func:`build_problem`.
    start_betas : (B,) or None
        The fit's β start (a warm frame's track shape; None: zeros). The learned
        initialiser's anchor uses it instead of its own betas when the model does not share
        the initialiser's shape space (:func:`smplify.anchor.start_betas`).
    anchor_warm : bool or None
        Whether a warm tracked frame (``place_camera=False``) carries the learned anchor
        (the ``Fitter`` decides by ``options.track_anchor`` and its frame count); None:
        whenever ``options.track_anchor`` is not 0.
    checked : bool
        ``keypoints`` is the (xy (K, 2), conf (K,)) pair :func:`validate_keypoints` returned
        for the format (the ``Fitter``'s, its confidences smoothed): not checked again.

    Raises
    ------
    KeypointError (a ValueError), TypeError : as :func:`build_problem`, for the keypoints.
    """
    xy, conf = keypoints if checked else validate_keypoints(keypoints, settings.format)
    if not (conf > 0).any():  # before the initialiser reads them: one message for every format
        given = np.column_stack([xy, conf]) if checked else keypoints
        raise KeypointError(f"keypoints: {_nothing_confident(given)}; nothing to fit")
    mirror, relabelled, readings, undone = None, "", None, ()
    if place_camera and settings.options.left_right != "as_given":
        readings = frame_readings(settings, xy, conf)
        mirror, undone = swapped_back(settings, xy, conf, settings.options.left_right, readings)
        relabelled = ", ".join("swapped back" if what == "body" else f"{what} swapped back"
                               for what in undone)
        if mirror is not None:  # the detector swapped left and right labels: undo it
            xy, conf, readings = xy[mirror], conf[mirror], None
    resolved = settings.resolved
    available = resolved.available
    weights = np.where(available, conf * resolved.weights, 0.0)
    torso = settings.torso_keypoints
    torso_ok = (conf[torso] > 0) & available[torso]
    if place_camera:
        check_torso(xy[torso], torso_ok)
    if not (weights > 0).any():
        raise KeypointError("keypoints: no keypoint has a positive data weight "
                            "(confidence · format weight); nothing to fit")
    return _problem({
        **_settings_fields(settings),
        "keypoints": _frozen(xy), "confidence": _frozen(conf), "weights": _frozen(weights),
        "torso_confident": _frozen(torso_ok), "relabelled": mirror is not None,
        "left_right": relabelled or "as given",
        "label_permutation": None if mirror is None else _frozen(mirror),
        **_learned_and_3d(settings, xy, conf, keypoints_3d, place_camera, mirror,
                          start_betas, anchor_warm, readings, "body" in undone)})


#: FitProblem's fields with defaults, and those values.
_PROBLEM_DEFAULTS = {f.name: f.default for f in fields(FitProblem) if f.default is not MISSING}

#: Per FitSettings, the FitProblem fields every frame of it shares (:func:`_settings_fields`).
_SETTINGS_FIELDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _settings_fields(settings: FitSettings) -> dict[str, Any]:
    """The FitProblem fields a frame takes from its settings (read-only views of their
    arrays, :func:`_frozen`) and the defaults of the per-frame ones: built on the settings'
    first frame and kept while the settings live (a Fitter's frames share one settings
    object; settings are frozen, so the fields cannot go stale)."""
    shared = _SETTINGS_FIELDS.get(settings)
    if shared is None:
        fmt, resolved = settings.format, settings.resolved
        shared = {**_PROBLEM_DEFAULTS,
                  "format": fmt.name, "keypoint_names": fmt.keypoint_names,
                  "keypoint_joint": resolved.joint_index,
                  "keypoint_vertex_ids": resolved.vertex_ids,
                  "keypoint_vertex_weights": resolved.vertex_weights,
                  "keypoint_available": _frozen(resolved.available),
                  "image_size": _frozen(settings.image_size),
                  "focal_length": settings.focal_length, "center": _frozen(settings.center),
                  "torso_keypoints": _frozen(settings.torso_keypoints),
                  "model": settings.model, "prior": settings.prior,
                  "capsule_regressor": settings.capsule_regressor,
                  "options": settings.options, "keypoint_format": fmt,
                  "focal_source": settings.focal_source}
        _SETTINGS_FIELDS[settings] = shared
    return shared


def _problem(values: dict[str, Any]) -> FitProblem:
    """``FitProblem(**values)`` for ``values`` naming every field, without the frozen
    dataclass's ``__init__`` (one ``object.__setattr__`` per field: ~4 us of a warm
    frame's budget): the same instance state, still frozen against assignment."""
    problem = object.__new__(FitProblem)
    problem.__dict__.update(values)
    return problem


def _learned_and_3d(settings: FitSettings, xy: np.ndarray, conf: np.ndarray,
                    keypoints_3d: Any, cold: bool, mirror: np.ndarray | None,
                    start_betas: Any = None, anchor_warm: bool | None = None,
                    computed: Any = None, body_mirrored: bool = False) -> dict[str, Any]:
    """E_3D's targets and weight of a frame (the detector's 3D keypoints if given, relabelled
    by ``mirror`` as the 2D were, and reflected in depth when ``body_mirrored``, the whole
    body's labels undone: ``smplify.left_right.depth_reflected``; else the learned initialiser's
    anchor if enabled, else none)
    and, for a fit from scratch with ``starts`` other than "prior", the initialiser's
    hypotheses as starts (``computed``: these keypoints' :class:`smplify.anchor.
    FrameReadings` if the swap check computed them, else None)."""
    options = settings.options
    out: dict[str, Any] = {}
    if keypoints_3d is not None:
        points = validate_keypoints_3d(keypoints_3d, settings.format)
        if mirror is not None:
            points = points[mirror]
        if body_mirrored:
            points = depth_reflected(points)
        out = {"keypoints_3d": _frozen(points),
               "keypoints_3d_weight": options.keypoints_3d_weight}
    anchored = (options.learned_init and keypoints_3d is None
                and (cold or not options.track
                     or (options.track_anchor > 0 if anchor_warm is None else anchor_warm)))
    as_starts = options.starts != "prior" and cold
    scored = (options.reading_weight > 0 and cold
              and ships_for(settings.format))
    if not (anchored or as_starts or scored):
        return out
    own_betas = None if cold else start_betas
    if not (as_starts or scored):  # the anchor alone: only the top reading is posed
        points = (computed.points[0].copy() if computed is not None and own_betas is None
                  else anchor_keypoints(settings, xy, conf, own_betas))
        points.flags.writeable = False  # a fresh array (a copy, or the C++ poser's)
        return {"keypoints_3d": points, "keypoints_3d_weight": options.anchor_weight,
                "anchored": True}
    readings = hypothesis_starts(settings, xy, conf, with_anchors=anchored or scored,
                                 own_betas=own_betas, readings=computed)
    if anchored:
        out = {"keypoints_3d": _frozen(readings[0][2]),
               "keypoints_3d_weight": options.anchor_weight, "anchored": True}
    if as_starts:
        # Each start's own anchor only with learned_init (the points are there for scoring).
        out["hypotheses"] = readings if anchored else tuple(
            (pose, betas, None, score) for pose, betas, _, score in readings)
    if scored and keypoints_3d is not None:
        # A detector's own 3D is the better evidence: it alone scores the selection.
        out["readings"] = ((out["keypoints_3d"],), _frozen(np.zeros(1)))
    elif scored:
        out["readings"] = (tuple(_frozen(r[2]) for r in readings),
                           _frozen(np.array([r[3] for r in readings])))
    if scored:
        resolved = settings.resolved
        out["reading_weight_scale"] = reading_weight_scale(
            options, xy, np.where(resolved.available, conf * resolved.weights, 0.0))
    return out


def reading_weight_scale(options: FitOptions, xy: np.ndarray, weights: np.ndarray) -> float:
    """The factor (s / s₀)^a on λ_R (``options.reading_weight``) for one person: s the
    diagonal of the box of the keypoints with data weight > 0 (pixels; a keypoint the
    format gives no weight, however confident, does not size the person, as in
    :func:`smplify.online.median_error_fraction`), s₀ ``options.reading_weight_size``
    (≥ 1 px when on), a ``options.reading_weight_exponent``; 1 when ``reading_weight_size``
    is 0 (off).

    Parameters
    ----------
    options : FitOptions.  xy : (K, 2) pixels.
    weights : (K,) data weights, confidence · format weight (0 where the model has no point).
    """
    if options.reading_weight_size <= 0:
        return 1.0
    size = float(keypoint_diagonal(xy, weights > 0))
    return (size / options.reading_weight_size) ** options.reading_weight_exponent


def build_problem(keypoints: Any, format: str | KeypointFormat, image_size: Any,
                  focal_length: float | None = None, model: Any = "open",
                  prior: Any = "open", options: FitOptions | Mapping[str, Any] | None = None,
                  *, capsule_regressor: Any = None, place_camera: bool = True,
                  keypoints_3d: Any = None) -> FitProblem:
    """Validate a fit's input and assemble its problem (:func:`fit_settings`, then
    :func:`frame_problem`).

    Parameters
    ----------
    keypoints : (K, 3) x, y, confidence, or (K, 2) x, y (confidence 1), pixels.
        K is the format's keypoint count; a missing keypoint has confidence 0 (or NaN).
    format : str or KeypointFormat
        One of ``smplify.keypoints.format_names()``, or a format itself.
    image_size : (2,) (width, height), pixels, both > 0.
    focal_length : float or None
        Pixels, > 0; None for ``options.default_focal_length`` (the image diagonal).
    model : "open", a path to an SMPL file, or a loaded ``smplify.BodyModel``.
    prior : "open", a path to a prior file, or a loaded ``smplify.prior.GMMPosePrior``.
    options : FitOptions, a mapping of its fields, or None for the defaults.
    capsule_regressor : CapsuleRegressor, optional
        Defaults to ``model.capsule_regressor`` (shipped, cached or fitted for the model).
    place_camera : bool
        Whether the fit places the camera from the torso (a fit from scratch: then the torso
        keypoints are required, :func:`check_torso`). A warm start does not.
    keypoints_3d : (K, 3) metres or None
        The detector's 3D keypoints in camera-aligned axes (x right, y down, z away from the
        camera), any origin, NaN where unknown (SPEC §6); they add the relative 3D term.

    Returns
    -------
    FitProblem

    Raises
    ------
    ValueError
        Unknown format (the message lists them), bad image_size or focal_length.
    KeypointError (a ValueError)
        Wrong keypoints shape, non-finite coordinates of a confident keypoint, no confidence
        > 0, or fewer than 3 of the 4 torso keypoints confident (the message names them).
    TypeError
        Non-numeric input, unknown option.
    """
    settings = fit_settings(format, image_size, focal_length, model, prior, options,
                            capsule_regressor=capsule_regressor)
    return frame_problem(settings, keypoints, place_camera=place_camera,
                         keypoints_3d=keypoints_3d)


def _frozen(a: Any) -> np.ndarray:
    """A read-only copy of ``a`` (an array that owns its data and is read-only already,
    e.g. a setting's, is shared as a view instead: its owner is never handed out, so no
    FitProblem can make it writeable again for the others)."""
    if isinstance(a, np.ndarray) and a.base is None and not a.flags.writeable:
        return a.view()
    a = np.array(a)
    a.flags.writeable = False
    return a


def check_torso(torso_xy: np.ndarray, torso_ok: np.ndarray) -> None:
    """Raise KeypointError unless the torso keypoints can place the camera (SPEC §3.1): at
    least 3 of the 4 (shoulders, hips) confident, and a confident shoulder–hip pair whose
    mean 2D length sets the depth f · L3 / L2, so it must not vanish.

    Parameters
    ----------
    torso_xy : (4, 2) pixels, in TORSO_KEYPOINT_NAMES order.  torso_ok : (4,) bool.
    """
    if torso_ok.sum() < MIN_TORSO_KEYPOINTS:
        missing = [TORSO_KEYPOINT_NAMES[i] for i in range(4) if not torso_ok[i]]
        raise KeypointError(
            f"keypoints: need at least {MIN_TORSO_KEYPOINTS} of the 4 torso keypoints "
            f"{TORSO_KEYPOINT_NAMES} with confidence > 0 to place the camera; missing "
            f"{missing}")
    lengths = [np.linalg.norm(torso_xy[a] - torso_xy[b]) for a, b in ((0, 2), (1, 3))
               if torso_ok[a] and torso_ok[b]]
    if float(np.mean(lengths)) < MIN_TORSO_LENGTH:
        raise KeypointError(
            f"keypoints: the confident shoulders and hips are {float(np.mean(lengths)):.3g} px "
            f"apart on average; need at least {MIN_TORSO_LENGTH:g} px to place the camera")


def start_poses(problem: FitProblem) -> list[np.ndarray]:
    """Body poses the stages start from (docs/design.md "Starts").

    The first is the prior's weighted mean pose (as the authors' release starts) or the rest
    pose (``init_pose="rest"``); with ``multi_start`` every component mean of the prior
    follows, and the fit keeps one start's result per orientation (``start_selection``).
    """
    prior = problem.prior
    means = np.asarray(prior.means, dtype=np.float64)
    first = (np.zeros(69) if problem.options.init_pose == "rest"
             else np.asarray(prior.weights, dtype=np.float64) @ means)
    return [first, *means] if problem.options.multi_start else [first]


# Model-derived parts of a problem, the same for every image: computed once per model (and
# dropped with it).
_DERIVED = OwnerCache(32)


def _targets(fmt: Any, model: Any) -> Any:
    """The format resolved against the model (once per model and format)."""
    def compute() -> Any:
        resolved = resolve_format(fmt, tuple(getattr(model, "keypoint_names", ()) or ()),
                                  int(np.asarray(model.v_template).shape[0]),
                                  getattr(model, "keypoint_regressor", None))
        if any(ok and joint < 0 and not len(ids) for ok, joint, ids in
               zip(resolved.available, resolved.joint_index, resolved.vertex_ids, strict=True)):
            raise ValueError("model: a surface keypoint has no vertex regressor row")
        for array in (resolved.joint_index, *resolved.vertex_ids,
                      *resolved.vertex_weights):
            array.flags.writeable = False
        return resolved

    return _DERIVED.get((model,), ("targets", fmt), compute)


def _options(options: FitOptions | Mapping[str, Any] | None) -> FitOptions:
    if options is None:
        return FitOptions()
    if isinstance(options, FitOptions):
        return options
    if isinstance(options, Mapping):
        return FitOptions.from_kwargs(**options)
    raise TypeError(f"options: expected FitOptions or a mapping, got {type(options).__name__}")


def _image_size(image_size: Any) -> np.ndarray:
    message = f"image_size: expected (width, height), two positive pixel counts, got {image_size!r}"
    if isinstance(image_size, (str, bytes)) or not isinstance(image_size, (Sequence, np.ndarray)):
        raise TypeError(message)
    if any(isinstance(v, bool) for v in image_size):
        raise TypeError(message)
    try:
        size = np.asarray(image_size, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(message) from err
    if size.shape != (2,) or not np.all(np.isfinite(size)) or np.any(size <= 0) or \
            np.any(size > MAX_PIXELS):
        raise ValueError(f"{message} (at most {MAX_PIXELS:g})")
    return size


def default_focal_length(image_size: np.ndarray, options: FitOptions) -> float:
    """The focal length of a fit given none: ``options.default_focal_length`` pixels, or, for
    "diagonal", the image diagonal √(w² + h²)."""
    if options.default_focal_length == "diagonal":
        return float(np.hypot(image_size[0], image_size[1]))
    return float(options.default_focal_length)


def _focal_source(focal_length: Any, options: FitOptions) -> str:
    if focal_length is not None:
        return "given"
    return ("image diagonal" if options.default_focal_length == "diagonal"
            else "default_focal_length")


def _focal_length(focal_length: Any, image_size: np.ndarray, options: FitOptions) -> float:
    if focal_length is None:
        return default_focal_length(image_size, options)
    if isinstance(focal_length, str) and focal_length == "estimate":
        raise ValueError("focal_length: 'estimate' is taken by smplify.fit, Fitter, fit_batch "
                         "and fit_image, not here; give pixels or None")
    if isinstance(focal_length, bool) or not isinstance(focal_length, (int, float, np.number)):
        raise TypeError(f"focal_length: expected a number of pixels, None or 'estimate', got "
                        f"{type(focal_length).__name__}")
    try:
        value = float(focal_length)
    except OverflowError:
        value = math.inf
    # Beyond MAX_PIXELS the camera's depth and projections overflow the solver's arithmetic.
    if not math.isfinite(value) or value <= 0 or value > MAX_PIXELS:
        raise ValueError(f"focal_length: expected a finite number of pixels in (0, "
                         f"{MAX_PIXELS:g}], got {value!r}")
    return value
