"""The SMPLify fit on the C++ core: ``smplify.fit``, ``smplify.Fitter``, ``smplify.fit_batch``.

Python validates the input and assembles the problem (:mod:`smplify.problem`, shared with
the pure NumPy twin :mod:`smplify.reference`); the C++ ``_core.Fitter`` runs the camera
initialisation, torso fit, orientation test and the four dogleg stages with the GIL released.
"""

from __future__ import annotations

import dataclasses
import math
import os
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any, Literal

import numpy as np

from . import _core, online, pose_filter
from .core_fitter import _observation, _refit_core_fitter, _shared_core_fitter
from .errors import KeypointError
from .fit_report import _result, _smoothed
from .focal import focal_search
from .keypoints import KeypointFormat, validate_keypoints
from .left_right import depth_reflected
from .options import FitOptions
from .problem import (
    FitProblem,
    FitSettings,
    check_torso,
    fit_settings,
    frame_problem,
)
from .result import FitResult

#: The words of a frame's ``how`` when the track lost the person it followed ("warm, lost the
#: person, then cold" / "..., held"); the restart after a cut is recognised by them.
LOST_THE_PERSON = "lost the person"


@lru_cache(maxsize=8)
def _load_prior_cached(name_or_path: str) -> Any:
    """Priors are immutable data: load each file once per process."""
    from .prior import load_prior

    return load_prior(name_or_path)


@lru_cache(maxsize=8)
def _load_model_cached(name_or_path: str) -> Any:
    """Models too: ``fit(..., model="open")`` in a loop must not reload the file (and, since
    the C++ fitter cache keeps its model alive, pile up copies) on every call."""
    from .model import load_model

    return load_model(name_or_path)


def _prior(prior: Any) -> Any:
    if isinstance(prior, (str, os.PathLike)):
        return _load_prior_cached(os.fspath(prior))
    return prior


def _model(model: Any) -> Any:
    if isinstance(model, (str, os.PathLike)):
        return _load_model_cached(os.fspath(model))
    from .model import load_model

    return load_model(model)  # a loaded model is returned as is; anything else raises


FocalLength = float | Literal["estimate"] | None


def fit(keypoints: Any, format: str | KeypointFormat, image_size: Sequence[float],
        focal_length: FocalLength = None, model: Any = "open", prior: Any = "open",
        keypoints_3d: Any = None, **options: Any) -> FitResult:
    """Fit the body model to the 2D keypoints of one person (SMPLify, SPEC §3).

    Parameters
    ----------
    keypoints : (K, 3) array of x, y (pixels) and confidence, or (K, 2) x, y (confidence 1).
        K is the format's keypoint count; a missing keypoint has confidence 0.
    format : a keypoint format name, "smpl24", "coco17", "openpose25", "mediapipe33" or
        "lsp14", or a :class:`smplify.KeypointFormat` (e.g. ``keypoints.with_blended_hips``'s;
        its name decides which learned initialiser reads it: none for a new name).
    image_size : (width, height) in pixels.
    focal_length : pixels; None for ``default_focal_length`` (the image diagonal; 5000
        with ``preset="paper"``); or "estimate": searched from the keypoints' perspective
        (:mod:`smplify.focal`: ~14 quick fits before the fit, a few times its time).
        ``result.camera.focal_length`` and ``summary["focal_length"]`` give the focal length
        used, ``summary["focal_length_source"]`` where it came from ("given", "image
        diagonal", "default_focal_length" or "estimated").
    model : "open" (the shipped model), a path to an SMPL .pkl/.npz, or a loaded model.
    prior : "open", a path to a GMM prior (.npz or the authors' gmm_08.pkl), or a loaded prior.
    keypoints_3d : (K, 3) metres, or None. The detector's own 3D keypoints (depth evidence,
        SPEC §6) in camera-aligned axes: x right, y down, z away from the camera, any origin
        (MediaPipe's world landmarks are exactly this), NaN rows where unknown. They add the
        robust relative 3D term E_3D (``keypoints_3d_weight``, ``keypoints_3d_sigma``), which
        tells the fit which limb is nearer the camera where the 2D cannot.
    **options : fields of :class:`smplify.FitOptions` (stage weights, iterations, flip,
        threads, ...).

    Returns
    -------
    FitResult: betas (B,), global_orient (3,), body_pose (69,), transl (3,) in the camera
    frame, camera, joints (24, 3), vertices (N, 3), keypoints_3d (K, 3), keypoints_2d (K, 2),
    energy per term, and a summary of the solver stages.

    Raises
    ------
    ValueError / KeypointError : bad keypoints, format, image size or focal length.
    TypeError : non-numeric input or an unknown option.
    """
    return Fitter(model, format=format, image_size=image_size, focal_length=focal_length,
                  prior=prior, **photo_options(options, format)).fit(
        keypoints, warm_start=False, keypoints_3d=keypoints_3d)


def photo_options(options: Mapping[str, Any], format: str | KeypointFormat) -> dict[str, Any]:
    """Fit options (keywords, ``preset`` allowed) for a fit of one image of ``format``:
    ``prune_starts`` and ``start_scorer`` "auto" made concrete (:meth:`FitOptions.for_photo`;
    a Fitter's frames and fit_sequence keep "auto", 0 and "energy" there: ``_core_options``)."""
    return FitOptions.from_kwargs(**options).for_photo(format).to_dict()


class Fitter:
    """A reusable fit for many frames of one camera, model and keypoint format: an online
    tracker for video (causal: one frame in, one result out; docs/video.md).

    The C++ problem (targets, prior, capsules, options) is built once; each call to
    :meth:`fit` only converts the keypoints. The first frame (or a frame after :meth:`reset`,
    or with ``warm_start=False``) is fitted from scratch. Every later frame is warm-started
    from the track (:mod:`smplify.online`): no camera initialisation, no orientation test,
    only the last stage's weights, plus temporal rows on pose and translation against the
    last two frames (``track_*_weight``), a shape estimated over the first frames and then
    held, detector left/right-swap hypotheses judged by data + temporal energy, and a check
    against a fit from scratch when the track looks lost (2D error, a facing turn, a 3D
    jump, or a long run of frames read as swapped). ``summary["start"]`` says how a frame
    started, ``summary["labelling"]`` which reading of the keypoints it fitted. A frame
    without the person (every confidence 0 raises :class:`KeypointError`), any call of
    :meth:`fit` that raises, and :meth:`skip` count as frames the track missed: the next
    frame's prediction and temporal rows span them. ``result.vertices`` is posed when first
    read (the per-frame fit skips the mesh).

    The settings are checked here and fixed for the Fitter's life (make a new Fitter for
    another format, camera or options).

    A Fitter may be shared between threads: its fits take turns (a lock; the previous frame
    a warm start begins from is then whichever fit finished last). For fits in parallel,
    give each thread its own Fitter (cheap: the C++ problem is shared) or use
    :func:`fit_batch`.

    Parameters
    ----------
    model : "open", a path, or a loaded model.
    format : a keypoint format name or a :class:`smplify.KeypointFormat`, as :func:`fit`.
    image_size : (width, height), pixels.
    focal_length : pixels, None (the image diagonal) or "estimate" (see :func:`fit`): then
        estimated on the first frame fitted (and again after :meth:`reset`) and kept for the
        frames after it (one camera).
    prior : "open", a path, or a loaded prior.
    **options : fields of :class:`smplify.FitOptions`.

    Raises
    ------
    ValueError / TypeError : as :func:`fit`, for the format, camera, model, prior or options.
    """

    #: A warm-started fit whose median 2D keypoint error exceeds this fraction of the
    #: diagonal of the observed keypoints' bounding box is redone from scratch.
    LOST_TRACK_FRACTION = 0.1
    #: ... when it did so on this many frames in a row; on the first, the frame is held
    #: (the track's own fit returned, the frame spanned as a missed one): a detector's
    #: one-frame glitch, not a cut.
    LOST_TRACK_FRAMES = 2
    #: So is one whose data energy exceeds this multiple of the track's recent median (a
    #: track strained against keypoints it cannot follow: another person), if the fit from
    #: scratch explains the keypoints at least this many times better.
    LOST_TRACK_ENERGY_RATIO = 10.0
    #: Frames a refit that turns the torso faster than ``track_max_turn`` is tracked beside
    #: the track before it may replace it (as a competing track, ``track_switch_frames``,
    #: which it takes when that is not 0).
    TURN_CHECK_FRAMES = 3
    #: ... unless its robust data term is below this fraction of the track's.
    TURN_REFIT_RATIO = 0.5
    #: A frame's depth change counts as a jump (``track_max_jump``) only beyond this many
    #: standard deviations of how well depth is measured there (:func:`online.depth_jump_limit`:
    #: an error of SCALE_PIXELS in the person's 2D torso length; a far person's depth is
    #: known to metres), and the track's prediction carries on a depth step only as far as
    #: it is finer than that (:func:`online.depth_velocity_share`).
    DEPTH_JUMP_SIGMAS = 3.0
    #: Pixels: a detector's error in the person's 2D torso length (a keypoint's precision;
    #: chosen a priori, not tuned: the tuning clips' people are too near for it to matter).
    SCALE_PIXELS = 2.0
    #: A young track (``track_swapped_window``) faces the wrong way when more than this
    #: many of its frames, and the majority, read whole-body mirrored.
    YOUNG_SWAPPED_FRAMES = 2

    def __init__(self, model: Any = "open", *, format: str | KeypointFormat,
                 image_size: Sequence[float], focal_length: FocalLength = None,
                 prior: Any = "open", **options: Any):
        # Every setting is checked here, once; a frame checks only its keypoints.
        self._estimate = isinstance(focal_length, str) and focal_length == "estimate"
        self._settings = fit_settings(format, image_size,
                                      None if self._estimate else focal_length,
                                      _model(model), _prior(prior), options)
        self._focal_length: float | str | None = (
            "estimate" if self._estimate else
            None if focal_length is None else self._settings.focal_length)
        self._estimated: FitSettings | None = None
        self._core: Any = None
        self._refit_core: Any = None  # the refits' (track_refit_iterations), on first use
        self._track = online.TrackState()
        self._challenger: online.Challenger | None = None
        # (P, K): row 0 the keypoints as seen (online.LABELLING_NAMES).
        self._labellings = np.array(online.labellings(self._settings.format))
        opts = self._settings.options
        # The output filter (cpp/pose_filter.h; its NumPy twin is pose_filter.PoseOneEuro).
        self._filter = (_core.PoseFilter(opts.track_fps, opts.track_smoothing,
                                         opts.track_smoothing_beta,
                                         keypoint_beta=opts.track_smoothing_keypoint_beta,
                                         keypoint_floor=opts.track_smoothing_keypoint_floor)
                        if opts.track and opts.track_smoothing > 0 else None)
        # Its cutoff's 2D keypoint speeds (track_smoothing_keypoint_beta > 0), per joint.
        self._keypoint_speed = (self._make_keypoint_speed()
                                if self._filter is not None
                                and opts.track_smoothing_keypoint_beta > 0 else None)
        resolved = self._settings.resolved
        self._format_weights = np.where(resolved.available, resolved.weights, 0.0)
        self._confidences = online.ConfidenceMemory(opts.track_confidence_rate if opts.track
                                                    else 1.0)
        # One fit at a time: a fit reads and replaces the track.
        self._lock = threading.Lock()
        self._detector_3d = False  # this frame's E_3D targets are the caller's keypoints_3d
        # Frames since the output filter's last sample (its step): a held frame is filtered
        # but spanned by the track as a missed one, so the track's gap is not the filter's.
        self._filter_gap = 1
        # This frame's keypoints as given, (xy (K, 2), confidence (K,)), before the memory
        # and any relabelling: the keypoint speeds' input (None without them or the memory).
        self._given: tuple[np.ndarray, np.ndarray] | None = None
        # This frame's (settings, keypoints, keypoints_3d, checked) as the problem was built
        # from them (checked: keypoints is the validated (xy, conf) pair, frame_problem's
        # ``checked``), and the problem of its fit from scratch after the first frame, if
        # one was built (track_restart_readings: :meth:`_from_scratch`).
        self._frame: tuple[FitSettings, Any, Any, bool] | None = None
        self._restart_problem: FitProblem | None = None
        self._as_given: tuple[FitSettings, FitSettings] | None = None  # left_right="as_given"

    model = property(lambda self: self._settings.model, doc="The body model.")
    prior = property(lambda self: self._settings.prior, doc="The pose prior.")
    format = property(lambda self: self._settings.format.name,
                      doc="The keypoint format's name.")
    keypoint_format = property(lambda self: self._settings.format,
                               doc="The KeypointFormat itself (``format`` is its name).")
    image_size = property(lambda self: tuple(float(v) for v in self._settings.image_size),
                          doc="(width, height), pixels.")
    focal_length = property(lambda self: self._focal_length,
                            doc='Pixels, None for the default, or "estimate".')
    options = property(lambda self: self._settings.options, doc="The FitOptions of every frame.")

    def fit(self, keypoints: Any, warm_start: bool = True,
            keypoints_3d: Any = None) -> FitResult:
        """Fit one frame's keypoints ((K, 3) or (K, 2), pixels) and, optionally, the
        detector's 3D keypoints ((K, 3) metres); see :func:`smplify.fit`. ``warm_start``:
        continue the track (class docstring); False fits this frame from scratch and
        restarts the track from it. A call that raises (no person: every confidence 0;
        keypoints the frame cannot be fitted from) counts as a missed frame of the track."""
        with self._lock:
            try:
                return self._fit(keypoints, warm_start, keypoints_3d)
            except Exception:
                # No result for this frame (no person, or keypoints it cannot be fitted
                # from): the track continues across it as a missed frame.
                self._miss()
                raise

    def skip(self) -> None:
        """A frame without the person (the detector found nobody): the track continues
        across it, as across a :meth:`fit` call that raised. The next frame's prediction
        and temporal rows then span the frames missed (docs/video.md)."""
        with self._lock:
            self._miss()

    def _miss(self) -> None:
        """Count a frame without a result on the track (and on a competing track)."""
        self._track.miss()
        self._filter_gap += 1
        if self._challenger is not None:
            self._challenger.state.miss()

    def _fit(self, keypoints: Any, warm_start: bool, keypoints_3d: Any) -> FitResult:
        started = time.perf_counter()
        # A detector's own 3D keypoints are reflected in depth with a mirrored reading of
        # its labels (left_right.depth_reflected); the learned anchor's are not (on bench_video's
        # held-out clips reflecting it too measured 56.15 against 56.08 mm, unfiltered).
        self._detector_3d = keypoints_3d is not None
        warm = warm_start and self._track.frames > 0
        settings = self._settings
        if self._estimate:
            if self._estimated is None:
                self._estimated = _estimated_settings(settings, keypoints, keypoints_3d)
            settings = self._estimated
        given = None
        if self._confidences.rate < 1.0 or self._keypoint_speed is not None:
            given = validate_keypoints(keypoints, settings.format)
        if self._confidences.rate < 1.0:
            # The track weighs each keypoint by its confidence smoothed over its frames
            # (online.ConfidenceMemory; the data term, the anchor's input and the checks).
            # (Checked once: a convex mix of valid confidences, 0 where unseen, is valid.)
            keypoints = (given[0], self._confidences.smooth(given[1]))
        # The output filter's keypoint speeds read the keypoints as given: the confidences
        # as seen (a keypoint the memory holds up while it jumps at a low one must not open
        # the filter) and the labels as given (a cold frame's swap undone is not motion:
        # the speeds are swap-invariant, and the problem's keypoints are relabelled).
        self._given = given
        # A warm start needs no torso to place the camera (a frame with the hips hidden).
        every = settings.options.track_anchor
        checked = self._confidences.rate < 1.0  # keypoints: the (xy, conf) pair checked
        self._frame = (settings, keypoints, keypoints_3d, checked)
        self._restart_problem = None
        problem = frame_problem(settings, keypoints, place_camera=not warm,
                                keypoints_3d=keypoints_3d,
                                start_betas=self._track.betas if warm else None,
                                anchor_warm=every > 0 and self._track.frames % every == 0,
                                checked=checked)
        if self._core is None:
            self._core = _shared_core_fitter(problem)
        observation = _observation(problem)
        if not warm:
            report = self._core.fit(**observation)
            result = _result(problem, report, started, "cold")
            self._restart(result, problem=problem, report=report)
            self._track.measure(online.torso_length(problem))
            return self._output(problem, result)
        report, how, earlier_seconds, labelling = self._track_frame(problem, observation)
        if how.endswith("cold") and self._restart_problem is not None:
            problem = self._restart_problem  # the fit from scratch's own (its readings)
        result = _result(problem, report, started, how, earlier_seconds, labelling)
        if how.endswith("cold"):
            self._restart(result, after_cut=how.startswith(f"warm, {LOST_THE_PERSON}"),
                          problem=problem, report=report)
        elif how.endswith("held"):  # not the track's frame: spanned as a missed one
            self._track.miss()
            if self._challenger is not None:
                self._challenger.state.miss()
            # (nor is its 2D torso the person's, nor its keypoints' motion)
            return self._output(problem, result, track_frame=False)
        elif how.endswith("refitted"):
            # Another basin at once: its motion starts here (no velocity across the switch).
            self._track.restart_motion(result.pose, result.transl, result.keypoints_2d,
                                       result.energy["data"])
        else:  # "warm", or "warm, switched track" (the track took the challenger's history)
            held = self._track.holds_shape(self.options)
            self._track.push(result.pose, result.transl, result.keypoints_2d,
                             result.energy["data"])
            self._track.update_shape(result.betas, held, self.options)
            if not self.options.track:
                self._track.betas = result.betas  # the next frame starts from this one's
        self._track.measure(online.torso_length(problem))
        return self._output(problem, result)

    def _output(self, problem: FitProblem, result: FitResult,
                track_frame: bool = True) -> FitResult:
        """The frame's result as returned: through the output filter (``track_smoothing``;
        ``_restart`` restarts it), stepped over the frames since its last sample; its
        cutoff opened by the keypoints' speeds unless the frame is not the track's
        (``track_frame`` False: a held frame, whose keypoints' jump is no motion; the next
        frame's speeds start anew)."""
        if self._filter is None:
            return result
        gap, self._filter_gap = self._filter_gap, 1
        speeds = None
        if self._keypoint_speed is not None and not track_frame:
            self._keypoint_speed.reset()
        elif self._keypoint_speed is not None:
            xy, seen = self._given
            speeds = self._keypoint_speed(xy, seen, self._track.torso_pixels(), gap)
        pose, transl = self._filter(np.concatenate([result.global_orient, result.body_pose]),
                                    result.transl, gap, speeds)
        return _smoothed(problem, result, pose, transl, self._filter.lag)

    def reset(self) -> None:
        """Forget the track (its output filter, and its confidence memory, which a restart
        within the track keeps) and an estimated focal length: the next fit starts from
        scratch."""
        with self._lock:
            self._track = online.TrackState()
            self._challenger = None
            self._estimated = None
            self._confidences.reset()
            self._reset_filter()

    def _reset_filter(self) -> None:
        """The output filter (and its keypoint speeds) forgets the past."""
        if self._filter is not None:
            self._filter.reset()
        if self._keypoint_speed is not None:
            self._keypoint_speed.reset()

    def _make_keypoint_speed(self) -> Any:
        """The output filter's per-joint 2D keypoint speeds (cpp/keypoint_speed.h; twin:
        pose_filter.KeypointSpeed): the format's keypoints, the joints their regressors'
        vertices are skinned to, the whole-body mirror."""
        moved = pose_filter.format_moved_keypoints(self._settings.model,
                                                   self._settings.resolved)
        return _core.KeypointSpeed(
            moved.astype(np.int32),
            self._settings.torso_keypoints, self._labellings[1],
            self._settings.options.track_fps)

    def _restart(self, result: FitResult, after_cut: bool = False,
                 problem: FitProblem | None = None, report: Any = None) -> None:
        """Start the track (and its shape estimate, and the output filter) from a fit from
        scratch; ``after_cut``: the track lost the person it followed (:meth:`_refit`);
        ``problem`` and the fit's C++ ``report``: its other starts, of which one may run as
        a rival track (``track_rival_frames``, :meth:`_rival`)."""
        # A restart (a cut, a lost person, warm_start=False) may be another person or the
        # same one at another distance: the 2D scale is measured anew from this frame on.
        self._track = online.TrackState(after_cut=after_cut)
        self._challenger = None
        self._reset_filter()  # a new track: nothing to smooth across
        if after_cut and self.options.track_cut_resets_confidences and self._given is not None:
            # Nor are the confidences of the person lost this one's: the memory starts from
            # this frame's as seen (a first frame's; its fit weighed them smoothed).
            self._confidences.reset(self._given[1])
        self._track.push(result.pose, result.transl, result.keypoints_2d, result.energy["data"])
        self._track.update_shape(result.betas, False, self.options)
        if report is not None and self.options.track and self.options.track_rival_frames > 0:
            self._challenger = self._rival(problem, report)

    def _rival(self, problem: FitProblem, report: Any) -> online.Challenger | None:
        """A competing track from the fit from scratch ``report``'s best start in another
        basin (``track_rival_frames``): the lowest selection score S of the recorded starts
        whose joints lie ``track_basin_distance`` or more from the chosen fit's, if within
        ``track_rival_margin`` times the chosen start's S (the recorded start nearest the fit:
        the one chosen); None if there is none. It is tracked with its own shape, and wins
        on the lower summed energy (margin 1: neither of two starts of one frame is the
        incumbent). The track meanwhile refits as it would without it (a refit that starts a
        competing track of its own replaces the rival; one that replaces the track at once
        leaves the rival running against the track's new basin, its sums spanning both)."""
        options = self.options
        scores = np.asarray(report.start_total_scores if options.start_selection == "total"
                            else report.start_default_scores, dtype=np.float64)
        if len(scores) < 2:
            return None
        apart = np.array([online.basin_distance(j, report.joints) for j in report.start_joints])
        chosen = int(np.argmin(apart))
        others = np.flatnonzero((apart >= options.track_basin_distance) & np.isfinite(scores))
        if not len(others):
            return None
        rival = int(others[np.argmin(scores[others])])
        if not scores[rival] <= options.track_rival_margin * scores[chosen]:
            return None
        pose, betas, transl = report.start_parameters[rival]
        state = online.TrackState()
        # (Its data energies are never read: only the track's judge its strain.)
        state.push(pose, transl, online.projected_points(problem, report.start_keypoints[rival]),
                   float("nan"))
        state.update_shape(betas, False, options)
        return online.Challenger(state, frames=options.track_rival_frames, margin=1.0,
                                 from_scratch=True)

    def _warm_frame(self, problem: FitProblem,
                    observation: dict[str, Any]) -> tuple[Any, str, float, int]:
        """``track=False``: a warm start from the last result alone (β free), redone from
        scratch when its median 2D error says it lost the person; as :meth:`_track_frame`."""
        track = self._track
        report = self._core.fit(**observation, initial_pose=track.pose[-1],
                                initial_betas=track.betas, initial_transl=track.transl[-1])
        error = _core.median_error_fraction(report, problem.keypoints, problem.weights,
                                            problem.focal_length, problem.center)
        if error <= self.LOST_TRACK_FRACTION:
            return report, "warm", 0.0, 0
        check_torso(problem.keypoints[problem.torso_keypoints], problem.torso_confident)
        cold = self._from_scratch(problem, 0)
        return cold, f"warm, {LOST_THE_PERSON}, then cold", float(report.seconds), 0

    def _from_scratch(self, problem: FitProblem, keep: int) -> Any:
        """A warm frame's fit from scratch (a restart), the keypoints read with the
        labelling ``keep`` (an index of ``self._labellings``). With
        ``track_restart_readings`` as a first frame's: the problem built anew with the
        learned initialiser's readings (starts, anchor, reading scores) and, for ``keep`` 0,
        the detector's swaps undone (``left_right``); it is kept as ``_restart_problem``
        (the result's, its ``label_permutation``). Else the warm problem's fit from the
        prior's starts."""
        perm = self._labellings[keep]
        if not self.options.track_restart_readings:
            return self._core.fit(**online.permuted(_observation(problem), perm,
                                                    self._format_weights,
                                                    keep == 1 and self._detector_3d))
        self._restart_problem = self._first_frame_problem(None if keep == 0 else perm)
        return self._core.fit(**_observation(self._restart_problem))

    def _first_frame_problem(self, perm: np.ndarray | None) -> FitProblem:
        """This frame's problem as a first frame's (``place_camera``: the learned
        initialiser's readings as starts, anchor and scores, the detector's swaps undone),
        or, with ``perm``, of the keypoints relabelled by it (a reading the track chose:
        the detector's 3D reflected in depth for the whole-body mirror, as
        :func:`online.permuted`) and no swap undone."""
        settings, keypoints, keypoints_3d, checked = self._frame
        if perm is not None:
            xy, conf = keypoints if checked else validate_keypoints(keypoints, settings.format)
            keypoints, checked = (xy[perm], conf[perm]), True
            if keypoints_3d is not None:
                points = np.asarray(keypoints_3d, dtype=np.float64)[perm]
                mirrored = self._detector_3d and np.array_equal(perm, self._labellings[1])
                keypoints_3d = depth_reflected(points) if mirrored else points
            if self._as_given is None or self._as_given[0] is not settings:
                self._as_given = (settings, dataclasses.replace(
                    settings, options=dataclasses.replace(settings.options,
                                                          left_right="as_given")))
            settings = self._as_given[1]
        return frame_problem(settings, keypoints, keypoints_3d=keypoints_3d, checked=checked)

    def _refit(self, problem: FitProblem, observation: dict[str, Any],
               perm: np.ndarray | None = None) -> Any:
        """The periodic or strain refit's fit: warm fits (no E_track) from the learned
        initialiser's best readings, placed where the track is, the lowest robust data term
        kept; the full fit from scratch where no initialiser ships for the format or
        ``starts`` is "prior" (SMPLify's starts, as ``preset="paper"``). A new person's track
        (:meth:`_new_person`) also weighs the full fit from scratch: the readings placed
        where the track is keep the basin of its one first frame's fit (tests/test_online.py's
        cut: 140 mm there, per-frame fits 45-55 mm ten frames on). ``perm``: the labelling
        the frame is read with (``observation`` already relabelled by it; None: as seen)."""
        keypoints = problem.keypoints if perm is None else problem.keypoints[perm]
        starts = None if self.options.starts == "prior" else online.learned_starts(
            self.keypoint_format, keypoints, observation["confidence"], problem.image_size,
            problem.focal_length)
        return self._refit_from(problem, observation, starts, perm)

    def _refit_from(self, problem: FitProblem, observation: dict[str, Any],
                    starts: Any, perm: np.ndarray | None = None) -> Any:
        """:meth:`_refit` from the body poses ``starts`` (None: the full fit from scratch),
        the frame read with the labelling ``perm`` (None: as seen)."""
        if starts is None:
            return self._core.fit(**observation)
        track = self._track
        core = self._core
        if self.options.track_refit_iterations > 0:
            if self._refit_core is None:
                self._refit_core = _refit_core_fitter(problem)
            core = self._refit_core
        fits = [core.fit(**observation, initial_pose=pose, initial_betas=track.betas,
                         initial_transl=track.transl[-1]) for pose in starts]
        if self._new_person() and self.options.track_restart_readings:
            # As a first frame's, read as the refit reads the frame.
            fits.append(self._core.fit(**_observation(self._first_frame_problem(
                self._labellings[0] if perm is None else perm))))
        elif self._new_person():
            fits.append(self._core.fit(**observation))
        keypoints, weights = problem.keypoints, problem.weights
        if perm is not None:
            keypoints, weights = keypoints[perm], weights[perm]
        data = [online.robust_data(problem, keypoints, weights, r,
                                   self.options.selection_sigma) for r in fits]
        return fits[int(np.argmin(data))]

    def _consider_refit(self, problem: FitProblem, observation: dict[str, Any], report: Any,
                        labelling: int, share: float,
                        contest: bool = False) -> tuple[Any, float, int]:
        """The periodic or strain refit: a warm start keeps the basin it is in, so the
        learned initialiser's readings are fitted too (with ``starts="prior"``, or for a
        format without an initialiser, one fit from scratch from the prior's starts instead:
        :meth:`_refit`). One that explains the keypoints better
        replaces the track at once (``track_switch_frames`` = 0; its fit with the track's
        shape is returned) or, if in another basin, starts a competing track
        (:class:`online.Challenger`; None returned, as when the track stays); and the solver
        seconds of the refit's fits, and the labelling it read the frame with
        (``track_refit_reading``; an index of ``self._labellings``). ``share``: the depth
        velocity the track's prediction carries this frame
        (:func:`online.depth_velocity_share`, as :meth:`_track_frame`). ``contest``: a
        competing track runs (``track_contest_refits``): a refit that would start another
        is dropped (None returned), the running one goes on."""
        options = self.options
        immediate = options.track_switch_frames == 0
        try:
            check_torso(problem.keypoints[problem.torso_keypoints], problem.torso_confident)
        except KeypointError:
            return None, 0.0, labelling
        # The frame as the refit reads it (track_refit_reading): as seen; with the labelling
        # the track's own fit took this frame ("tracked"); or both, the one whose refit
        # explains its reading better (robust data, as the refit's starts are judged).
        perm = self._labellings[labelling]
        reads = {"as seen": [0], "tracked": [labelling],
                 "both": sorted({0, labelling})}[options.track_refit_reading]
        refits = []
        for read in reads:
            seen = observation if read == 0 else online.permuted(
                observation, perm, self._format_weights, read == 1 and self._detector_3d)
            fit = self._refit(problem, seen, perm if read != 0 else None)
            own = self._labellings[read]
            refits.append((online.robust_data(problem, problem.keypoints[own],
                                              problem.weights[own], fit,
                                              options.selection_sigma), read, seen, fit))
        extra = sum(float(r[3].seconds) for r in refits)
        fresh, read, observation, cold = min(refits, key=lambda r: r[0])
        extra -= float(cold.seconds)
        own = self._labellings[read]
        # 3D consistency: a refit whose pelvis or chest turned faster than a body turns
        # (track_max_turn a frame) since the track's last frame may be a 2D look-alike (a
        # spine twisted 70° that projects as the body does) as well as the track's way out
        # of a wrong reading: unless it explains the keypoints 1 / TURN_REFIT_RATIO times
        # better, it must win as a competing track over TURN_CHECK_FRAMES frames first.
        turned = online.torso_turn_degrees(np.concatenate([cold.global_orient, cold.body_pose]),
                                           self._track.pose[-1]) > \
            options.track_max_turn * self._track.gap
        # Judged as the fit from scratch judges its starts: the robust data term at
        # σ = selection_sigma (E_track and the priors would keep the track's basin).
        tracked = online.robust_data(problem, problem.keypoints[perm], problem.weights[perm],
                                     report, options.selection_sigma)
        seconds = float(cold.seconds) + extra
        near = online.basin_distance(cold.joints, report.joints) < options.track_basin_distance
        # (A refit near the track's joints, track_basin_distance, is the same basin: as
        # before, it replaces the track at once.)
        turned = turned and not near
        immediate = immediate and not (turned and fresh >= self.TURN_REFIT_RATIO * tracked)
        if fresh >= options.track_refit_margin * tracked or (near and not immediate):
            return None, seconds, read
        # A reading the track judged a detector's swap (read != labelling; a limb swap: one
        # of them reads the arms or the legs swapped) starts a competing track only as
        # track_swap_challengers allows; none starts during a contest (one at a time).
        swap = options.track_swap_challengers
        barred = read != labelling and (swap == "none" or (swap == "whole body" and max(
            read, labelling) >= online.LIMB_SWAPS))
        if not immediate and (contest or barred):
            return None, seconds, read
        # The other basin with the track's shape: refined from the refit with β held and
        # temporal rows holding it still (its motion starts here). Where depth is measured
        # coarser than track_max_jump, its translation is held on the track's instead: a
        # refit reads the pose anew, and its depth from the 2D alone is then the 2D scale's
        # jitter (metres a frame for bench_real_video's vtest people at ~17 m). Not a new
        # person's track: its own depth is one frame's reading from the 2D too.
        pose = np.concatenate([cold.global_orient, cold.body_pose])
        history_transl, gaps = np.stack([cold.transl] * 2), (1.0, 1.0)
        if share < 1.0 and not self._new_person():
            _, history_transl, gaps = self._track.history(share)
        held = self._core.fit(**observation, initial_pose=pose, initial_betas=self._track.betas,
                              initial_transl=cold.transl, track_pose=np.stack([pose, pose]),
                              track_transl=history_transl, track_gaps=gaps, hold_shape=True)
        if immediate:
            return held, seconds, read
        if online.robust_data(problem, problem.keypoints[own], problem.weights[own], held,
                              options.selection_sigma) >= options.track_refit_margin * tracked:
            return None, seconds + float(held.seconds), read
        state = online.TrackState()
        state.push(np.concatenate([held.global_orient, held.body_pose]), np.asarray(held.transl),
                   online.projected(problem, held), held.energy.data)
        self._challenger = online.Challenger(
            state, frames=options.track_switch_frames or self.TURN_CHECK_FRAMES,
            margin=options.track_switch_margin)
        return None, seconds + float(held.seconds), read

    def _spin_back(self, problem: FitProblem, observation: dict[str, Any], report: Any,
                   labelling: int, share: float) -> tuple[Any, float, int]:
        """A track whose facing turned more than ``track_max_spin`` over its last
        ``track_spin_frames`` frames, each under ``track_max_turn`` (``report`` this frame's
        fit, read with ``labelling``): the frame read the other way round (the keypoints as
        seen whole-body mirrored, or as seen when the track read them mirrored; the detector's
        3D reflected alike) is fitted warm from the pose
        before the spin, with temporal rows holding it there and the track's β held. When it
        stays within ``track_max_spin`` of that pose and explains its reading at least as
        well (robust data at ``selection_sigma``, within ``track_refit_margin``), the spin
        was the track following a detector's front/back confusion round a little each frame
        (bench_real_video's sports2d man, frames 68-72): it is returned (the track's
        motion restarts there) with its solver seconds and reading. Else None: the spin is
        the body's, and the turn counts anew from this frame."""
        options, track = self.options, self._track
        before = track.spin_reference(options.track_spin_frames)
        other = 0 if labelling == 1 else 1
        perm = self._labellings[other]
        seen = online.permuted(observation, perm, self._format_weights,
                               other == 1 and self._detector_3d)
        _, history_transl, gaps = track.history(share)
        back = self._core.fit(**seen, initial_pose=before, initial_betas=track.betas,
                              initial_transl=track.transl[-1],
                              track_pose=np.stack([before, before]),
                              track_transl=history_transl, track_gaps=gaps, hold_shape=True)
        track.forget_spin()
        own = self._labellings[labelling]
        sigma = options.selection_sigma
        turned = online.torso_turn_degrees(
            np.concatenate([back.global_orient, back.body_pose]), before)
        if turned <= options.track_max_spin and online.robust_data(
                problem, problem.keypoints[perm], problem.weights[perm], back, sigma) <= \
                options.track_refit_margin * online.robust_data(
                    problem, problem.keypoints[own], problem.weights[own], report, sigma):
            return back, float(back.seconds), other
        return None, float(back.seconds), labelling

    def _contest(self, problem: FitProblem, observation: dict[str, Any],
                 initial: dict[str, Any], report: Any, labelling: int,
                 earlier: float, share: float) -> tuple[Any, str, float, int]:
        """A frame with a competing track: fitted as the track is (same labelling, shape,
        temporal rows against its own history); after ``track_switch_frames`` frames the
        lower summed robust data + temporal energy keeps going (with a margin for the
        challenger), the other is dropped."""
        options, challenger = self.options, self._challenger
        # Its own reading of the keypoints: the one nearest its own prediction (a track
        # facing the other way reads a frame as swapped).
        scores = _core.labelling_scores(challenger.state.predicted_keypoints(),
                                        problem.keypoints,
                                        observation["confidence"] * self._format_weights,
                                        self._labellings, options.selection_sigma)
        own = int(np.argmin(scores)) if np.all(np.isfinite(scores)) else 0
        if scores[own] >= options.track_swap_margin * scores[0]:
            own = 0
        # The same person's depth, measured as well as the track's (``share``, as
        # :meth:`_track_frame`'s prediction carries it).
        history_pose, history_transl, gaps = challenger.state.history(share)
        # A rival track (track_rival_frames) estimates its own shape, as the track does.
        state = challenger.state
        shape = {} if state.betas is None else {"initial_betas": state.betas,
                                                "hold_shape": state.holds_shape(options)}
        other = self._core.fit(**online.permuted(observation, self._labellings[own],
                                                 self._format_weights,
                                                 own == 1 and self._detector_3d),
                               **{**initial, "initial_pose": state.pose[-1],
                                  "initial_transl": state.transl[-1],
                                  "track_pose": history_pose,
                                  "track_transl": history_transl, "track_gaps": gaps, **shape})
        mine, theirs = (online.robust_data(problem, problem.keypoints[p], problem.weights[p],
                                           r, options.selection_sigma) + float(r.track_energy)
                        for p, r in ((self._labellings[own], other),
                                     (self._labellings[labelling], report)))
        if not np.isfinite(mine):
            self._challenger = None
            return report, "warm", earlier + float(other.seconds), labelling
        challenger.add(mine, theirs)
        challenger.state.push(np.concatenate([other.global_orient, other.body_pose]),
                              np.asarray(other.transl), online.projected(problem, other),
                              other.energy.data)
        if challenger.age < challenger.frames:
            if shape:  # (on the deciding frame, the track that goes on adds it: _fit)
                state.update_shape(other.betas, shape["hold_shape"], options)
            return report, "warm", earlier + float(other.seconds), labelling
        self._challenger = None
        # Still another basin (tracked, it may have joined the track's) and lower energy.
        if challenger.energy < challenger.margin * challenger.rival and \
                online.basin_distance(other.joints, report.joints) >= \
                options.track_basin_distance:
            self._track.adopt(challenger.state)
            self._track.mirrored.clear()
            return other, "warm, switched track", earlier + float(report.seconds), own
        return report, "warm", earlier + float(other.seconds), labelling

    def _new_person(self) -> bool:
        """Whether the track was restarted after it lost the person it followed (a cut:
        someone else, or the person back elsewhere) at most ``track_refit_every`` frames
        ago: it stands on one frame's fit of a person it has not followed, pose and depth
        alike (:meth:`_refit`, :meth:`_consider_refit`)."""
        return self._track.after_cut and self._track.frames <= self.options.track_refit_every

    def _depth_limit(self) -> float:
        """Metres the track's depth may change in a frame before it counts as a jump: the
        larger of ``track_max_jump`` and how well depth is measured at the track's depth and
        2D size (:func:`online.depth_jump_limit`)."""
        track = self._track
        return online.depth_jump_limit(self.options.track_max_jump, track.transl[-1][2],
                                       track.torso_pixels(), self.SCALE_PIXELS,
                                       self.DEPTH_JUMP_SIGMAS)

    def _track_frame(self, problem: FitProblem,
                     observation: dict[str, Any]) -> tuple[Any, str, float, int]:
        """One warm-started frame (:mod:`smplify.online`): the fitted labellings' best
        report, how the frame started, the solver seconds of fits it discarded, and the
        index of the labelling fitted."""
        options, track = self.options, self._track
        if not options.track:
            return self._warm_frame(problem, observation)
        confidence = observation["confidence"]
        # (cpp/track_checks.h; NumPy twins online.labelling_scores, median_error_fraction)
        scores = _core.labelling_scores(track.predicted_keypoints(), problem.keypoints,
                                        confidence * self._format_weights, self._labellings,
                                        options.selection_sigma)
        candidates = [0]
        best = int(np.argmin(scores))
        if best != 0 and scores[best] < options.track_swap_margin * scores[0]:
            candidates.append(best)
        elif self._detector_3d and online.torso_mirrored(
                track.predicted_keypoints(), problem.keypoints,
                confidence * self._format_weights, self._labellings[1],
                problem.torso_keypoints, options.selection_sigma, options.track_swap_margin):
            # With the detector's 3D (reflected, online.permuted) the mirrored reading is
            # told apart from the seen one; without it the two fit the 2D alike, and trying
            # it on the torso's word measured no better (bench_real_video's sports2d man
            # without world landmarks: 41 frames facing away either way) and moved
            # fit_sequence's path onto a spinning track there.
            candidates.append(1)
        # How well depth is measured here (from the person's 2D torso length): a jump must be
        # larger, and a depth step no more than that is mostly jitter, not motion to carry on.
        depth_limit = self._depth_limit()
        share = track.depth_velocity(options.track_max_jump, depth_limit)
        history_pose, history_transl, gaps = track.history(share)
        initial = {"initial_pose": track.pose[-1], "initial_betas": track.betas,
                   "initial_transl": track.transl[-1], "track_pose": history_pose,
                   "track_transl": history_transl, "track_gaps": gaps,
                   "hold_shape": track.holds_shape(options)}
        reports = [self._core.fit(**(observation if c == 0 else online.permuted(
            observation, self._labellings[c], self._format_weights,
            c == 1 and self._detector_3d)), **initial)
            for c in candidates]
        pick = 0
        if len(reports) > 1:  # the lower data + temporal energy (the first of equals)
            energies = [r.energy.data + r.track_energy for r in reports]
            if all(map(math.isfinite, energies)):
                pick = energies.index(min(energies))
        report, labelling = reports[pick], candidates[pick]
        earlier = sum(float(r.seconds) for i, r in enumerate(reports) if i != pick)

        seen, weights = problem.keypoints, problem.weights
        if labelling != 0:
            perm = self._labellings[labelling]
            seen, weights = seen[perm], weights[perm]
        error = _core.median_error_fraction(report, seen, weights, problem.focal_length,
                                            problem.center)
        turn = online.turn_degrees(report.global_orient, track.pose[-1][:3])
        # The pelvis' step, its depth scaled down where depth is measured coarser than
        # track_max_jump (depth_limit): across missed frames the body may move that much more.
        reach = options.track_max_jump * gaps[1]
        step = np.asarray(report.transl) - track.transl[-1]
        step[2] *= reach / max(reach, depth_limit)
        jump = float(np.linalg.norm(step))
        # The floor: a 3 px error on every keypoint used (noise-free keypoints fit to ~0).
        floor = 10.0 * np.count_nonzero(problem.weights > 0)
        strained = report.energy.data > self.LOST_TRACK_ENERGY_RATIO * track.typical_data(floor)
        cut = error > self.LOST_TRACK_FRACTION
        track.lost_run = track.lost_run + 1 if cut else 0
        # The facing check counts the whole-body mirrored readings of the frames the track
        # explains: a frame it cannot explain (held as a glitch, or a cut, which restarts
        # the track) says nothing of which way the track faces.
        young = options.track_swapped_window
        if not cut:
            track.record_reading(labelling == 1,
                                 max(young, options.track_max_swapped_frames + 1))
        facing = track.mirrored_run() > options.track_max_swapped_frames
        if len(track.mirrored) < young:
            # A young track stands on one frame's fit from scratch (perhaps of a detector's
            # swap): the majority of its frames since, if more than YOUNG_SWAPPED_FRAMES,
            # read mirrored says the start was turned, not the detector.
            count = sum(track.mirrored)
            facing = facing or (count > self.YOUNG_SWAPPED_FRAMES
                                and 2 * count > len(track.mirrored))
        # Per frame: across missed frames the body may turn and move that much more.
        jumped = turn > options.track_max_turn * gaps[1] or jump > reach
        strains = options.track_refit_ratio > 0 and \
            report.energy.data > options.track_refit_ratio * track.least_data(floor)
        refit = strains or (options.track_refit_every > 0
                            and track.frames % options.track_refit_every == 0)
        if cut and track.lost_run < self.LOST_TRACK_FRAMES and not facing:
            # One frame the track cannot explain is more often the detector's glitch (a
            # skeleton spread over two people walking together, vtest.avi) than a cut: the
            # track's own fit is returned and the frame counted as missed; a cut shows
            # again on the next frame, and restarts the track then.
            return report, f"warm, {LOST_THE_PERSON}, held", earlier, labelling
        # Summed over the last frames (track_max_spin): a slow spin, each frame under
        # track_max_turn, may be a detector's front/back confusion the track followed round
        # a little each frame (bench_real_video's sports2d man, 68-72): _spin_back. The
        # pelvis' or the chest's facing (a turn the body pose carries shows in the chest).
        # Not while a competing track runs: its frames are the contest's (no refits then).
        spun = options.track_max_spin > 0 and self._challenger is None and \
            not (cut or strained or facing or jumped) and online.torso_turn_degrees(
                np.concatenate([report.global_orient, report.body_pose]),
                track.spin_reference(options.track_spin_frames)) > options.track_max_spin
        if spun:
            back, seconds, read = self._spin_back(problem, observation, report, labelling,
                                                  share)
            if back is not None:
                return back, "warm, spun back, refitted", \
                    earlier + float(report.seconds) + seconds, read
            earlier += seconds
        if not (cut or strained or facing or jumped):
            challenger = self._challenger
            if challenger is not None:
                if strains and options.track_contest_refits and not challenger.from_scratch:
                    # A strain refit while a competing track runs (else the track strains
                    # through the contest unrefitted): one that replaces the track at once
                    # ends the contest, which ran against the track's old basin.
                    held, seconds, read = self._consider_refit(
                        problem, observation, report, labelling, share, contest=True)
                    if held is not None:
                        self._challenger = None
                        return (held, "warm, refitted",
                                earlier + float(report.seconds) + seconds, read)
                    earlier += seconds
                contest = self._contest(problem, observation, initial, report, labelling,
                                        earlier, share)
                # A competing track from a refit holds the refits off while it runs; beside a
                # rival from the fit from scratch the track goes on as it would without it.
                if not challenger.from_scratch or contest[1] != "warm":
                    return contest
                earlier = contest[2]
            if not refit:
                return report, "warm", earlier, labelling
            held, seconds, read = self._consider_refit(problem, observation, report,
                                                       labelling, share)
            if held is None:
                return report, "warm", earlier + seconds, labelling
            return held, "warm, refitted", earlier + float(report.seconds) + seconds, read
        self._challenger = None
        # The torso check a cold start needs, skipped above for the warm one.
        check_torso(problem.keypoints[problem.torso_keypoints], problem.torso_confident)
        # A turn or jump alone does not say the track's reading of the labels is wrong: the
        # fit from scratch reads them as the track did (a frame the track read as mirrored
        # and that jumped, fitted as seen, turns the body round: the detector's front/back
        # confusion, bench_real_video's sports2d clip); a lost person (2D error) or a wrong
        # facing restarts from the labels as seen.
        keep = 0 if cut or facing else labelling
        cold = self._from_scratch(problem, keep)
        if strained and cold.energy.data * self.LOST_TRACK_ENERGY_RATIO < report.energy.data:
            cut = True  # another person, found by energy: restarted from the labels as seen
            if keep != 0:
                earlier += float(cold.seconds)
                keep, cold = 0, self._from_scratch(problem, 0)
        if cut or facing or (jumped and cold.energy.data < report.energy.data):
            why = LOST_THE_PERSON if cut else (
                "faced the wrong way" if facing else "turned or jumped")
            return cold, f"warm, {why}, then cold", earlier + float(report.seconds), keep
        return report, "warm", earlier + float(cold.seconds), labelling


def _estimated_settings(settings: FitSettings, keypoints: Any, keypoints_3d: Any) -> FitSettings:
    """Settings whose focal length is estimated from one frame's keypoints."""
    best = focal_search(settings, keypoints, keypoints_3d).best
    return dataclasses.replace(settings, focal_length=best, focal_source="estimated")


def fit_batch(list_of_keypoints: Sequence[Any], format: str | KeypointFormat,
              image_size: Sequence[float], focal_length: FocalLength = None,
              model: Any = "open", prior: Any = "open",
              threads: int | None = None, keypoints_3d: Sequence[Any] | None = None,
              **options: Any) -> list[FitResult]:
    """Fit many independent images in parallel (each from scratch).

    Parameters
    ----------
    list_of_keypoints : sequence of (K, 3) or (K, 2) arrays.
    format, image_size, focal_length, model, prior, **options : as :func:`fit`
        ("estimate" estimates each image's own focal length).
    threads : worker threads (None: the machine's cores), each running one fit at a time on
        one thread. Ceres releases the GIL, so fits run truly in parallel.
    keypoints_3d : None, or one (K, 3) array (or None) per image, as :func:`fit`'s.

    Returns
    -------
    list of FitResult, in input order.

    Raises
    ------
    As :func:`fit`. An error of one image (its keypoints, its focal-length search, its fit)
    stops the batch with that error's type, its message prefixed ``list_of_keypoints[i]: ``;
    an error of the shared arguments (format, image size, options) names no image.
    """
    body = _model(model)
    pose_prior = _prior(prior)
    if threads is not None and (isinstance(threads, bool)
                                or not isinstance(threads, (int, np.integer)) or threads < 1):
        raise ValueError(f"threads must be None or an integer >= 1, got {threads!r}")
    workers = (os.cpu_count() or 1) if threads is None else int(threads)

    if keypoints_3d is None:
        keypoints_3d = [None] * len(list_of_keypoints)
    elif len(keypoints_3d) != len(list_of_keypoints):
        raise ValueError(f"keypoints_3d: expected None or one entry per image "
                         f"({len(list_of_keypoints)}), got {len(keypoints_3d)}")

    # The arguments every image shares are checked once, so that their error names no image.
    Fitter(body, format=format, image_size=image_size, focal_length=focal_length,
           prior=pose_prior, **photo_options(options, format))

    def one(index: int, keypoints: Any, points_3d: Any) -> FitResult:
        # One thread per fit: the pool already keeps every core busy.
        try:
            return fit(keypoints, format, image_size, focal_length, body, pose_prior,
                       keypoints_3d=points_3d, threads=1, **options)
        except Exception as error:
            raise _naming_image(error, index) from error

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, range(len(list_of_keypoints)), list_of_keypoints,
                             keypoints_3d))


def _naming_image(error: Exception, index: int) -> Exception:
    """``error`` of fit_batch's image ``index``: the same type, its message prefixed with
    the image (the error itself where its type takes no single message)."""
    try:
        named = type(error)(f"list_of_keypoints[{index}]: {error}")
    except Exception:
        return error
    return named if str(named).startswith("list_of_keypoints[") else error

