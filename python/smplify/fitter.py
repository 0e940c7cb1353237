"""The online ``smplify.Fitter``: a reusable fit for many frames of one camera, model and
keypoint format, and a causal tracker for video (docs/video.md). Its settings are checked
once; each frame is fitted from scratch (the first, after a reset) or warm on the track
(:mod:`smplify.track_decisions` decides how), and comes out through the output filter.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Literal

import numpy as np

from . import _core, online, pose_filter
from .core_fitter import _observation, _shared_core_fitter
from .fit_report import _result, _smoothed
from .focal import focal_search
from .keypoints import KeypointFormat, validate_keypoints
from .problem import (
    FitProblem,
    FitSettings,
    fit_settings,
    frame_problem,
)
from .result import FitResult
from .track_decisions import LOST_THE_PERSON, TrackDecisions


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


class Fitter(TrackDecisions):
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


def _estimated_settings(settings: FitSettings, keypoints: Any, keypoints_3d: Any) -> FitSettings:
    """Settings whose focal length is estimated from one frame's keypoints."""
    best = focal_search(settings, keypoints, keypoints_3d).best
    return dataclasses.replace(settings, focal_length=best, focal_source="estimated")
