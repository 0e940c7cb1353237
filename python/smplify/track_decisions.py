"""A warm frame of the online :class:`smplify.Fitter` (the steps: :mod:`smplify.online`):
which readings of the keypoints' labels are fitted, the checks that say the track lost its
person, faces the wrong way, turned, jumped or spun, and what follows from them: a fit from
scratch (a restart), a refit from the learned initialiser's readings, a competing track and
its contest, a rival track from a fit from scratch.

These are the Fitter's own methods, kept in its base class :class:`TrackDecisions`; they read
and replace the track state that ``Fitter.__init__`` sets up (listed in the class).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from . import _core, online
from .core_fitter import _observation, _refit_core_fitter
from .errors import KeypointError
from .keypoints import KeypointFormat, validate_keypoints
from .left_right import depth_reflected
from .options import FitOptions
from .problem import FitProblem, FitSettings, check_torso, frame_problem

#: The words of a frame's ``how`` when the track lost the person it followed ("warm, lost the
#: person, then cold" / "..., held"); the restart after a cut is recognised by them.
LOST_THE_PERSON = "lost the person"


def _length(v: np.ndarray) -> float:
    """``float(np.linalg.norm(v))`` of a 1-D float64 array, to the bit: its arithmetic
    (sqrt of v · v) without its checks and dispatch (a warm frame calls it once)."""
    return math.sqrt(float(v.dot(v)))


class TrackDecisions:
    """The decisions of a :class:`smplify.Fitter`'s warm frames (module docstring): the base
    class of ``Fitter``, which holds the state below (``Fitter.__init__``, docs/video.md)."""

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

    # The Fitter's state these methods read and replace (set in Fitter.__init__).
    options: FitOptions
    keypoint_format: KeypointFormat
    _core: Any
    _refit_core: Any
    _track: online.TrackState
    _challenger: online.Challenger | None
    _labellings: np.ndarray
    _format_weights: np.ndarray
    _detector_3d: bool
    _frame: tuple[FitSettings, Any, Any, bool] | None
    _restart_problem: FitProblem | None
    _as_given: tuple[FitSettings, FitSettings] | None

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
            problem.focal_length, self.options.mirror_readings)
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
        best = int(scores.argmin())
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
        pose = np.concatenate([report.global_orient, report.body_pose])
        turn = online.pelvis_turn_degrees(pose, track.pose[-1])
        # The pelvis' step, its depth scaled down where depth is measured coarser than
        # track_max_jump (depth_limit): across missed frames the body may move that much more.
        reach = options.track_max_jump * gaps[1]
        step = np.asarray(report.transl) - track.transl[-1]
        step[2] *= reach / max(reach, depth_limit)
        jump = _length(step)
        # The floor: a 3 px error on every keypoint used (noise-free keypoints fit to ~0).
        floor = 10.0 * np.count_nonzero(problem.weights > 0)
        data = report.energy.data
        strained = data > self.LOST_TRACK_ENERGY_RATIO * track.typical_data(floor)
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
            data > options.track_refit_ratio * track.least_data(floor)
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
                pose, track.spin_reference(options.track_spin_frames)) > options.track_max_spin
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
