"""Fitting options: every constant of SPEC §3 as a default, settable by keyword."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin, get_type_hints

import numpy as np

if TYPE_CHECKING:
    from .keypoint_formats import KeypointFormat

#: Largest iteration or thread count (the C++ core's int).
MAX_COUNT = 2**31 - 1
#: ``prune_starts="auto"``'s value for a fit of one image (0 for a Fitter's frames and
#: fit_sequence): the prior's 2 best starts after stage 2 finish (docs/measurements.md, session 14).
PHOTO_PRUNE_STARTS = 2
#: ``start_scorer="auto"``'s value for a fit of one image with the initialiser's readings
#: ("energy" for a Fitter's frames and fit_sequence; an option, not the default:
#: docs/measurements.md, session 16).
PHOTO_START_SCORER = "learned"
#: Frames of a track's poses an online track keeps at most for its summed facing turn
#: (``track_spin_frames``; smplify.online.TrackState).
MAX_SPIN_FRAMES = 64


@dataclass(frozen=True)
class FitOptions:
    """Options of the SMPLify fit.

    Defaults: chosen on held-out mocap with realistic detector errors
    (``benchmarks/defaults_search.py``, tune split), kept because they also won on both
    held-out sets (``benchmarks/recovery.py --realistic``, test split, and
    ``benchmarks/bench_video.py``'s per-frame fits): where a learned initialiser ships for
    the format, its readings undo the detector's left/right swaps, join the pose prior's
    starts, anchor every start, and score the start selection (``reading_weight``); for
    other formats SMPLify's multi-start fit. The weights are the authors' release.
    ``preset="paper"`` gives SMPLify exactly as published.

    Weights act on residuals (SPEC §2): a term's energy is the squared norm of its
    weighted residual rows.

    Attributes
    ----------
    pose_prior_weights : tuple of float
        λ_θ per stage; its length is the number of stages.
    shape_prior_weights : tuple of float
        λ_β per stage, same length as ``pose_prior_weights``.
    angle_prior_ratio : float
        λ_a = angle_prior_ratio · λ_θ in every stage.
    angle_prior_scale : float
        The factor 10 in the angle prior's residual 10·exp(s·θ).
    interpenetration_weight : float
        λ_sp, constant over the stages; 0 disables the term.
    sphere_sigma_scale : float
        σ of a sphere's Gaussian as a fraction of its radius.
    data_sigma : float
        σ of the Geman-McClure robustifier of the joint term, pixels.
    depth_weight : float
        Weight on (t_z − t_z,init) in the torso fit, per metre.
    max_iterations : int
        Iteration cap per stage (and for the torso fit).
    function_tolerance : float
        Relative decrease of the cost below which a stage stops.
    flip : "auto", True or False
        Try the orientation turned 180° about the body's vertical axis: "auto" when
        the view looks sideways (see ``sideways_ratio``), always, or never.
    sideways_ratio : float
        The view is sideways when the 2D shoulder distance is below this fraction of
        the mean 2D shoulder–hip length (the release's fixed 25 px made relative to
        the person's size).
    threads : int or None
        Threads for one fit: its independent starts run concurrently, with the same result
        as one thread. None (the default): one per core, at most one per start. Pass 1 when
        you run fits in parallel yourself; ``fit_batch`` parallelises across images and runs
        each fit on one thread.
    refine_translation : bool
        Let the camera translation γ move during the stages. SMPLify keeps it fixed after the
        torso fit (False reproduces that); then any error of the similar-triangles depth can
        only be absorbed by shape and pose, which costs accuracy (docs/design.md).
    init_pose : "mean" or "rest"
        Body pose the fit starts from: the pose prior's weighted mean pose (the authors'
        release) or the rest T-pose.
    multi_start : bool
        Also start from every component mean of the pose prior and keep one of the results
        (``start_selection``; about M + 1 times the work of one start). Single-view fits have
        many local minima (a limb toward or away from the camera); on synthetic data this
        halves the 3D error. Warm-started frames (``Fitter``) use one start.
    start_selection : "data" or "total"
        Which start's result an orientation keeps. Every candidate is a minimum of the same
        energy; where the 2D cannot tell a limb's depth the prior prefers its own mode, and
        how well a candidate explains the keypoints is the better judge of which reading
        the image shows. "data" (default): the lowest data term E_J measured with the
        Geman-McClure σ = ``selection_sigma`` (tighter than ``data_sigma``, so that a few
        outlying keypoints cannot decide); "total": the lowest total energy. Between the two
        orientations the fitted data term decides either way (SPEC §3.3). docs/design.md
        has the measurements.
    selection_sigma : float
        σ of that selection's Geman-McClure robustifier, pixels.
    keypoints_3d_weight : float
        λ_3D of the relative 3D keypoint term E_3D (SPEC §6, depth evidence), constant over
        the stages; used only when a fit is given ``keypoints_3d``. 0 disables the term.
    keypoints_3d_sigma : float
        σ of E_3D's Geman-McClure robustifier, metres.
    knee_depth_weight : float
        λ_k of the knee-depth term E_knee (cpp/knee_depth_term.h; docs/video.md "Bent
        knees"), constant over the stages of a single-image fit and of fit_sequence's per-frame fits
        (not its joint solve): it costs a knee bent along
        the camera's depth axis (which the 2D cannot see), r = λ_k ρ(d) per leg, d the
        knee's depth offset from the hip–ankle line per leg length. 0 (default) disables it.
    knee_depth_sigma : float
        σ of E_knee's Geman-McClure robustifier (dimensionless: d of a leg bent by an angle a
        toward the camera is tan(a/2)/2, 0.1 ≈ 23°); deeper bends cost at most λ_k σ.
    learned_init : bool or "auto"
        Anchor the fit to the learned initialiser's reading of the keypoints
        (:mod:`smplify.anchor`; formats with a shipped initialiser: mediapipe33, coco17,
        openpose25): each hypothesis start to its own reading, the prior's starts to the
        top-scored one. "auto": where an initialiser ships for the format. Ignored for a
        frame given ``keypoints_3d``: a detector's own 3D is the better evidence.
    anchor_weight : float
        λ_3D of E_3D when its targets are the initialiser's reading (reported as
        ``FitResult.energy["anchor"]``, apart from ``energy["keypoints_3d"]``, the detector's).
    track : bool
        Online tracking for a ``Fitter``'s warm-started frames (the ``track_*`` options;
        docs/video.md). False: a frame only starts from the last one's result (β free) and
        is redone from scratch when its 2D error says it lost the person.
    track_anchor : int
        With ``track``, anchor every ``track_anchor``-th warm frame to the learned
        initialiser's reading too (``learned_init``; the initialiser runs on that frame).
        1: every frame (~5 ms a frame median instead of ~0.8 ms, docs/video.md); 0: only
        fits from scratch, the track's temporal rows hold the warm frames. True/False
        mean 1/0.
    warm_stages : int
        Stages a warm-started frame (``Fitter``) runs: the last this many of the schedule.
    track_orient_weight : float
        Online tracking (``Fitter``, warm-started frames; docs/video.md): weight of the
        acceleration rows of the global rotation matrix against the constant-velocity
        prediction from the two frames before, per pixel of a 1 m lever at the person's
        depth (multiplied by f / Z). 0 with the other three: no temporal term.
    track_pose_weight : float
        The same for the body pose (radians).
    track_transl_weight : float
        The same for the translation (metres).
    track_velocity_ratio : float
        Weight of the velocity rows (this frame against the last) as a ratio of the
        acceleration rows' weights.
    track_function_tolerance : float or None
        ``function_tolerance`` of the tracked warm fits (the frame starts where the last
        one's fit ended); ``function_tolerance`` applies to every other solve. None (the
        default): ``function_tolerance``, so a user's tolerance holds for every solve
        unless this is set apart.
    track_shape_frames : int
        The track's shape β is the median of the first this many frames' fits, then held
        (β constant in the solve); every this many frames after, one frame refines it.
    track_shape_rate : float
        How far a refining frame moves the held β toward its own fit (0: never).
    track_swap_margin : float
        A detector-swap hypothesis (left/right swapped for the whole body, or per limb) is
        fitted besides the keypoints as seen when its robust 2D error against the track's
        predicted keypoints is below this fraction of theirs; the lower data + temporal
        energy decides.
    track_max_swapped_frames : int
        After more than this many consecutive frames the track explained read as
        whole-body swapped, the track, not the detector, is taken to face the wrong way:
        the frame is fitted from scratch.
    track_swapped_window : int
        A track is young for this many frames after its start (a fit from scratch): while
        it is, it is also taken to face the wrong way when more than
        ``Fitter.YOUNG_SWAPPED_FRAMES`` (2) of its frames, and the majority of them, read
        as whole-body swapped (its start may have fitted a detector's swap). 0: never.
    track_max_turn : float
        Degrees per frame: a tracked body whose facing turns more than this, or whose
        ``track_max_jump`` is exceeded, is checked against a fit from scratch.
    track_max_jump : float
        Metres per frame of the pelvis (see ``track_max_turn``).
    track_max_spin : float
        Degrees: when a tracked body's pelvis' or chest's facing turned more than this over
        its last ``track_spin_frames`` frames (since its last fit from scratch, refit or
        spin check, if fewer), each frame under ``track_max_turn``, the frame is also fitted
        the other way round (the keypoints as seen whole-body mirrored, or as seen when the
        track read them mirrored) from the pose
        before the spin, held there; the track takes that fit when it stays within this
        of that pose and explains its reading as well (``track_refit_margin``): a track
        that followed a detector's front/back confusion round a little each frame
        (docs/video.md, "A slow spin"). One warm fit a check. 60 (the default since
        session 15: fewer turns on the real videos, the synthetic clips level); 0: off.
        A ``Fitter``'s frames only: ``fit_sequence``'s start tracks do not run it.
    track_spin_frames : int
        See ``track_max_spin`` (at most 64).
    track_refit_every : int
        Every this many frames the track is also refitted (warm fits from the learned
        initialiser's two best readings, ``smplify.initializer``; for a format without one,
        or with ``starts="prior"``, one fit from scratch from the prior's starts, which costs
        ~18x a warm refit: benchmarks/refit_prior_cost.py): a warm start alone keeps the
        basin it is in. A
        refit in another basin whose robust data term is below ``track_refit_margin`` of
        the track's starts a competing track (``track_basin_distance``). 0: never.
    track_refit_margin : float
        See ``track_refit_every``.
    track_refit_iterations : int
        Ceres iterations at most of each solve of a refit's warm fits from the learned
        initialiser's readings (``track_refit_every``; the chosen one is then refined with
        the held β as before, uncapped). 0 (the default): ``max_iterations``, as every
        other solve. They are most of a refit's cost (a median of ~20 dogleg steps
        against ~3 for a tracked frame). 6: a third less of their CPU, held out as
        accurate, but more turns on real video (docs/video.md, "Session 14").
    track_refit_ratio : float
        A frame is also refitted (as ``track_refit_every``) when its data energy
        exceeds this multiple of the least of the track's last ten frames' (the track strains
        against the keypoints). 0: never.
    track_refit_reading : "as seen", "tracked" or "both"
        The labels a periodic or strain refit reads the frame with: "as seen" (default), the
        detector's; "tracked", the labelling the track's own fit of the frame took (its
        detector-swap hypothesis, ``track_swap_margin``), so that a refit does not fit a
        reading the track judged a detector's swap and land in a turned or twisted basin
        that explains it; "both" (when the two differ), the reading whose refit explains it
        better (robust data at ``selection_sigma``, as a refit's starts are judged).
    track_contest_refits : bool
        Whether a frame is strain-refitted (``track_refit_ratio``) while a competing track
        runs (``track_switch_frames``). False (the default): no refits then, the behaviour
        before. True: a strain refit that would replace the track at once does so and ends
        the contest (the challenger ran against the track's old basin); one that would
        start a competing track of its own (a third basin, or the challenger's) is dropped:
        the running contest goes on. Why: one refit that read a detector's limb swap as
        seen started a competing track, and the track, strained, kept a wrong basin
        through the contest without a refit (docs/video.md, "Strain refits during a
        contest").
    track_restart_readings : bool
        Whether a ``Fitter``'s warm frame that goes cold (a cut or lost person, a wrong
        facing, a turn or jump; a new person's refit; ``track=False``'s lost track) is fitted
        from scratch as a first frame is: the problem built with the learned initialiser's
        readings (its hypothesis starts, anchor and reading scores, and, where the track
        restarts from the labels as seen, the detector's left/right swaps undone,
        ``left_right``). A turn or jump keeps the labelling the track read the frame with
        (no swap undone). False (the default): the fit from scratch of the warm frame's
        problem (the prior's starts and the warm anchor alone). Measured, not the default:
        held out level online, more turns on vtest (docs/video.md, "Restarts with the
        readings"). A ``Fitter``'s frames only: ``fit_sequence``'s start tracks, which lost
        with it, run without it.
    track_cut_resets_confidences : bool
        Whether a ``Fitter``'s track restarted after it lost the person (a cut: someone
        else, or the person re-found) forgets the smoothed confidences
        (``track_confidence_rate``) of the frames before: the restart frame's confidences
        as seen start the memory anew, as a first frame's do (a restart of the same person,
        a wrong facing or a turn or jump, keeps them either way). False (the default): the
        memory carries across every restart; only ``Fitter.reset`` clears it. Measured, not
        the default: level on synthetic cuts and held out online, fit_sequence's start
        tracks lost with it, so they run without it whatever the caller asks (docs/video.md,
        "The confidence memory across a cut").
    track_swap_challengers : "any", "whole body" or "none"
        Which refits that read the frame with labels the track's own fit judged a
        detector's swap (``track_refit_reading`` "as seen" on a frame the track read
        relabelled, ``track_swap_margin``) may start a competing track: "any" (the
        behaviour before session 15); "whole body" (the default), only where the track
        judged the whole body
        swapped (front and back look alike in 2D: which way the body faces is for a contest
        over frames to decide), not a limb swap (arms or legs: a body that explains one
        limb pair's swap as seen is turned or twisted against the rest); "none", neither.
        Such a refit may still replace the track at once.
    track_basin_distance : float
        Metres: a refit whose pelvis-relative joints are this far from the track's on
        average (and that explains the keypoints within ``track_refit_margin`` of the
        track) is another basin: it starts a competing track (``track_switch_frames``).
    track_switch_frames : int
        Frames a competing track is fitted beside the track (warm, with its own temporal
        rows) before it replaces the track or is dropped. 0: no competing track; a refit
        that explains the keypoints better replaces the track at once (its motion restarts).
    track_switch_margin : float
        The competing track replaces the track when its robust data + temporal energy,
        summed over ``track_switch_frames`` frames, is below this fraction of the track's.
    track_rival_frames : int
        A track's fit from scratch (its first frame, ``warm_start=False``, a restart after a
        cut or a lost facing) decides its basin for the frames after it. With n ≥ 1, the
        best of that fit's other finished starts (the lowest selection score S among those
        whose pelvis-relative joints lie ``track_basin_distance`` or more from the chosen
        one's), if its S is within ``track_rival_margin`` times the chosen start's, runs as a
        competing track (:class:`smplify.online.Challenger`, with its own shape) for the
        next n frames, while the output stays the track's (causal: the track goes on,
        refits included, as it would without the rival); then the one with the lower summed
        robust data + temporal energy keeps going (the fit records its starts for this:
        one with a single start, ``multi_start=False`` and no readings, has no rival).
        0 (the default): off; 3 with the
        default margin was chosen on the tuning clips, and held out it changed nothing
        that matters (docs/video.md, "A rival from a track's fit from scratch").
    track_rival_margin : float
        ≥ 1: see ``track_rival_frames`` (1.5: chosen on the tuning clips; 1.25-2 alike).
    track_confidence_rate : float
        In (0, 1]: with ``track``, each keypoint's confidence is smoothed over the frames it
        is seen in before a frame is fitted, c̃_t = α c_t + (1 − α) c̃ of its last frame
        (:class:`smplify.online.ConfidenceMemory`): a realistic detector's confidence
        scatters from frame to frame and the causal track shook with it. 1: as seen.
    track_smoothing : float
        Hz: with ``track``, a ``Fitter``'s output passes a causal One Euro filter on the
        rotations and the translation (:mod:`smplify.pose_filter`) with this cutoff at rest;
        0: the fits unfiltered. The track itself continues from the unfiltered fits; a fit
        from scratch restarts the filter. Lag at rest (1 − α)/α frames,
        α = 1 / (1 + fps / (2π f_c)): 0.6 frames at 8 Hz and 30 fps.
    track_smoothing_beta : float
        The filter's beta: s/rad (rotations) and s/m (translation); the cutoff rises by this
        times the speed, so fast motion lags less.
    track_smoothing_keypoint_beta : float
        Hz per (torso length / s), ≥ 0: the filter's cutoff also rises, per joint, with the
        2D speed of the keypoints that joint's rotation moves (relative to the torso's
        centre, weighted by their confidence, in the track's 2D torso lengths per second;
        :class:`smplify.pose_filter.KeypointSpeed`), which the detector sees at once while
        the filter's own speed estimate (``track_smoothing_beta``) rises late. 0: off.
    track_smoothing_keypoint_floor : float
        Torso lengths / s, ≥ 0: the part of that 2D speed ignored (the detector's jitter
        alone reads as speed): the cutoff rises by ``track_smoothing_keypoint_beta`` ·
        max(0, speed − floor). 2.5, chosen on the tuning clips (docs/video.md).
    track_fps : float
        Frames per second of the video a ``Fitter`` follows (the filter's time unit).
    starts : "auto", "prior", "initializer" or "both"
        Where a fit from scratch starts: the prior's starts (``init_pose``, ``multi_start``;
        SMPLify's), the learned initialiser's hypotheses (:mod:`smplify.initializer`, its M
        readings of the keypoints: orientation and pose, each placed by least squares on the
        keypoints and refined from stage ``hypothesis_first_stage``), or both. The start
        selection then keeps the lowest E_J(σ = ``selection_sigma``) +
        ``hypothesis_score_weight`` · (log p_max − log p) (p: the initialiser's probability of
        the reading, p_max the best-scored one's; 0 for the prior's starts) + ``reading_weight``
        · R. Formats with a shipped initialiser only; "auto" (default): both where one ships
        for the format, else the prior's (docs/design.md, "Defaults"). A ``Fitter``'s
        periodic and strain refits (``track_refit_every``) follow it too: with "prior", each
        is one fit from scratch from the prior's starts (all stages, ``multi_start``) instead
        of warm fits from the initialiser's readings.
    hypothesis_first_stage : int
        The stage (0-based) a hypothesis start begins with (the last if there are fewer): the
        earlier, strong-prior stages would pull a reading back to the prior's own.
    hypothesis_score_weight : float
        How much the initialiser's log probability of a reading counts against the data term
        (pixels² per nat) in the start selection. Default 0: the reading score
        (``reading_weight``) weighs the readings' probabilities already.
    reading_weight : float
        λ_R, how much the learned initialiser's likelihood of a finished start counts in
        every start selection (among the prior's starts, between orientations, among its
        hypotheses, between the two): the selection adds λ_R · R, R = −log Σ_m p_m
        exp(−D_m / 2τ²) with D_m the mean squared distance of the body's keypoints from
        reading m's, both relative to their centroid (nats; docs/design.md, "Reading
        score"). The data term cannot tell a sideways leg from a backward kick; the readings
        can. Default 300 (chosen on the tune half: 100, 300, 1000, 3000 tried); 0: off
        (SMPLify's selection). Formats with a shipped initialiser; no effect for others.
    reading_weight_size : float
        s₀, pixels: scale λ_R by the person's size in the image, λ_R = ``reading_weight`` ·
        (s / s₀)^a, s the diagonal of the box of the keypoints with data weight > 0
        (confidence · format weight; pixels) and a = ``reading_weight_exponent``; s₀ ≥ 1 px.
        E_sel is in px² (it grows as s²) and R in nats, so a fixed λ_R weighs the readings
        less the larger the person (docs/design.md, "Reading score"). 0 (default): off,
        λ_R = ``reading_weight`` whatever the size.
    reading_weight_exponent : float
        a of that scaling (2: E_sel's own px² scaling).
    reading_sigma : float
        τ, metres: how far a body may lie from a reading and still count as that reading.
    leg_flips : bool
        With a reading score (``reading_weight`` > 0, a fit from scratch): also try the
        chosen fit with each leg's depth reading mirrored about the image plane (a leg raised
        sideways ↔ kicked back: nearly the same 2D), refined by the last stage, and keep
        whichever the selection scores lower (``summary["legs_flipped"]``).
    prune_starts : int or "auto"
        0: every prior start of a fit from scratch runs every stage. k ≥ 1: each
        orientation's prior starts run the stages up to ``prune_stage`` and are ranked by the
        score that orientation's choice compares (E_J(σ = ``selection_sigma``) +
        ``reading_weight`` · R, or the total energy with ``start_selection="total"``, at the
        last stage's weights; ties to the earlier start); only the k best run the rest. The
        selection rule is unchanged, fewer starts reach it (``summary["pruned_starts"]``
        counts the others). With ``start_scorer="learned"`` the prior's starts are still
        pruned by this energy score, not by the scorer: it ranks only the kept starts and
        the readings. The initialiser's readings are not pruned; warm fits (one start) are
        not affected. "auto" (default): :data:`PHOTO_PRUNE_STARTS` (2) for a fit
        of one image (:func:`smplify.fit`, :func:`smplify.fit_batch`, the CLI's and
        ``fit_image``'s photos) whose starts include the initialiser's readings (``starts``
        "both", the default where one ships), where it kept the realistic test half's
        accuracy at ~0.6× the CPU (docs/measurements.md, session 14); 0 for the prior's starts
        alone (``starts="prior"``, ``preset="paper"``: not measured there, and it lost on
        clean views), and for a :class:`smplify.Fitter`'s frames and ``fit_sequence`` (their
        fits from scratch moved with it). An int applies everywhere.
    prune_stage : int
        ≥ 1: the stage (1-based, as ``summary["stages"]`` names them) after which
        ``prune_starts`` and ``prune_distance`` prune; no pruning unless it is before the
        last stage.
    prune_distance : float
        Metres, ≥ 0 (0, default: off): going down that ranking, a start whose joints lie
        within this mean distance (24 joints, camera frame) of a start already kept is
        dropped after ``prune_stage`` (the same basin); ``prune_starts`` (if > 0) then caps
        how many are kept.
    start_scorer : "energy", "learned" or "auto"
        How a fit from scratch with the initialiser's readings picks among its finished
        starts. "energy" (default): the selection score above (E_J(σ = ``selection_sigma``)
        + ``reading_weight`` · R + ``hypothesis_score_weight`` · gap), compared as described.
        "learned": all finished starts (the prior's in each orientation and the readings)
        are ranked at once by a tiny MLP over their features (energies, reading score,
        agreement with the other starts' 3D, which depth reading each took), learned from
        training mocap subjects with the realistic set's and the video benchmarks' detector
        errors (:mod:`smplify.start_scorer`, ``tools/build_start_scorer.py``;
        docs/design.md, "Start scorer"), among the starts within ``selection_sigma``² of the
        best E_J. "auto": :data:`PHOTO_START_SCORER` ("learned") for a fit of one image
        whose starts include the initialiser's readings (``starts`` "both"; as
        ``prune_starts="auto"``: :meth:`for_photo`), "energy" for a :class:`smplify.Fitter`'s
        frames and ``fit_sequence``. Held out the learned scorer gains on the realistic test
        half (−2.6 ± 1.3 mm PA-MPJPE paired, 60 cases per format, no format worse) but loses
        on ``bench_video.py``'s frames fitted one by one as photos (+6.7 ± 4.3 mm over its 4
        clips, martial +19), and in the online Fitter and ``fit_sequence`` (sessions 10 and
        14), so neither is the default (docs/measurements.md, session 16). No effect without
        readings (``starts="prior"``, ``preset="paper"``).
    left_right : "as_given", "body", "limbs" or "auto"
        Left/right label swaps of the detector, undone before a fit from scratch (the data
        term cannot tell a mirrored reading apart, so the learned initialiser decides):
        "body", the whole body's (a person seen from behind read as facing the camera),
        swapped back where the initialiser's readings (which read the facing from what a
        mirror does not preserve: the face, the confidences), placed on the keypoints and
        projected, lie nearer the mirrored labels with probability above ``swap_threshold``;
        "limbs", the arms' or the legs' labels, the same with the readings placed on the
        torso and face (:func:`smplify.left_right.swap_evidence`, ``limbs_to_swap``);
        "auto" (default), both (the body first); "as_given", neither. ``summary["left_right"]`` says
        what was done, ``summary["label_permutation"]`` how. Formats with a shipped
        initialiser; for others every mode takes the labels as given.
    swap_threshold : float
        In [0.5, 1]: the initialiser's probability of the other labelling needed to swap.
    mirror_readings : "off", "all", "average" or "top"
        Test-time mirroring of the learned initialiser: also read the keypoints as seen in
        the image mirrored about its vertical centre line (left/right labels exchanged), map
        those readings back (SMPL's sides exchanged, each rotation reflected) and join them
        to the image's own (:func:`smplify.initializer.combine_mirrored`): "all", both sets
        (2M readings, scores halved); "average", each reading averaged on SO(3), joint by
        joint, with its matched mirrored one; "top", only the best reading's rotations
        averaged. In every mode, "top" included, all readings take the mean of the two
        images' β (the network reads one β an image; a mirror leaves β as it is). Every
        use of the readings follows (starts, anchors, reading score, left/right swaps, the
        online Fitter's anchor and refits); the network runs twice and the joining runs in
        NumPy (~0.5 ms more a reading; the online Fitter's CPU median a frame 2.2 → 2.7 ms,
        from separate runs, not an A/B). "all" doubles the C++ fit's starts from the
        readings (2M): the median photo fit 108 → 171 ms (coco17) and 152 → 219 ms
        (mediapipe33) on the realistic tune half (benchmarks/results/
        mirror_readings_fits_tune.json). "off" (default): the readings as trained. The
        readings alone gain 1-3 mm top-1 PA-MPJPE held out, but the fits do not follow: "top"
        (chosen on the realistic tune half) is +0.8 ± 0.5 mm on its test half (openpose25
        +4.0 ± 1.5) and +1.6 ± 1.2 mm in the online Fitter (docs/measurements.md, session 18).
    default_focal_length : "diagonal" or float
        The focal length of a fit given none: "diagonal" (default), the image diagonal in
        pixels, a field of view of ~53° that fits phone and consumer photos (as CLIFF and
        recent regressors assume); or a number of pixels (SMPLify's 5000, ``preset="paper"``).
    track_held_joints : tuple of int or "unseen"
        SMPL joints (1..23: e.g. 10, 11 the toes, 22, 23 the hands) whose rotations the
        tracked warm fits hold where the frame starts (the last frame's): their columns
        leave the solve, whose dense normal equations cost ∝ columns². "unseen": the
        joints no keypoint of the format moves with (``smplify.held_joints``: COCO-17's
        and LSP-14's toes and hands, OpenPose-25's and MediaPipe-33's hands). Fits from
        scratch and refits still fit them. () (the default): none held. "unseen" took
        ~13% off a plain warm frame with the same synthetic accuracy but more turns on a
        real video (docs/video.md, "The warm frame's problem").
    track_max_iterations : int
        Ceres iterations at most of each tracked warm fit's solve (a frame starting where
        the last one's fit ended; its status is then "iteration_limit" where it stopped
        there). 0 (the default): ``max_iterations``, as every other solve. Ceres' last
        iteration of a converging fit only confirms it (its step is not taken), so 2 spares
        a third of a 3-step fit, but the capped tracks need more refits: the mean frame
        cost ~70% more (docs/video.md, "The warm frame's problem").
    track_stop_tolerance : float
        Ends each solve of a tracked warm fit after an accepted step when the next step's
        relative cost decrease is predicted below this (``stop_rule``), sparing Ceres' last
        iteration of a converging solve, whose step only confirms convergence: the fit keeps
        the accepted point and reads as converged (its stage message names the rule). 0
        (the default): off, Ceres' ``function_tolerance`` alone. 1e-5 (chosen on the tuning
        clips) took 3-5% off the median frame with the same synthetic accuracy but more
        turns on a real video (docs/video.md, "Stopping before the confirming solve").
    stop_tolerance : float
        The same for every other solve: fits from scratch (photos, a ``Fitter``'s cold
        frames and refits, ``fit_sequence``'s per-frame fits). 0 (the default): off.
    stop_rule : "predicted", "decrease" or "gradient"
        The prediction of those two tolerances, with d_k = cost decrease / cost before of
        the accepted step k: "predicted" (the default) stops when d_k² / d_{k−1} (linear
        convergence's next decrease; from the second accepted step) is at most the
        tolerance, "decrease" when d_k is, "gradient" when d_k · (g_k / g_{k−1})² is (g_k
        the cost gradient's norm after step k, g_0 the start's: a Gauss-Newton step's
        decrease ½ gᵀH⁻¹g with the curvature unchanged; from the first accepted step).
        "gradient" with ``track_stop_tolerance`` 1e-5 took ~7 % off the plain warm frame,
        the real videos unchanged, but the held-out acceleration error +0.17 mm: off.
    """

    pose_prior_weights: tuple[float, ...] = (404.0, 404.0, 57.4, 4.78)
    shape_prior_weights: tuple[float, ...] = (100.0, 50.0, 10.0, 5.0)
    angle_prior_ratio: float = 0.317
    angle_prior_scale: float = 10.0
    interpenetration_weight: float = 1000.0
    sphere_sigma_scale: float = 1.0 / 3.0
    data_sigma: float = 100.0
    depth_weight: float = 100.0
    max_iterations: int = 100
    function_tolerance: float = 1e-4
    flip: Literal["auto"] | bool = "auto"
    sideways_ratio: float = 0.4
    threads: int | None = None
    refine_translation: bool = True
    init_pose: Literal["mean", "rest"] = "mean"
    multi_start: bool = True
    start_selection: Literal["data", "total"] = "data"
    selection_sigma: float = 20.0
    keypoints_3d_weight: float = 300.0
    keypoints_3d_sigma: float = 0.2
    knee_depth_weight: float = 0.0
    knee_depth_sigma: float = 0.1
    learned_init: bool | Literal["auto"] = "auto"
    anchor_weight: float = 50.0
    track: bool = True
    track_anchor: int = 1
    warm_stages: int = 1
    track_orient_weight: float = 0.5
    track_pose_weight: float = 0.1
    track_transl_weight: float = 0.5
    track_velocity_ratio: float = 0.1
    track_function_tolerance: float | None = None
    track_shape_frames: int = 10
    track_shape_rate: float = 0.1
    track_swap_margin: float = 0.7
    track_max_swapped_frames: int = 10
    track_swapped_window: int = 10
    track_max_turn: float = 60.0
    track_max_jump: float = 0.3
    track_max_spin: float = 60.0
    track_spin_frames: int = 4
    track_refit_every: int = 10
    track_refit_margin: float = 1.0
    track_refit_iterations: int = 0
    track_refit_ratio: float = 2.5
    track_refit_reading: Literal["as seen", "tracked", "both"] = "as seen"
    track_contest_refits: bool = False
    track_restart_readings: bool = False
    track_cut_resets_confidences: bool = False
    track_swap_challengers: Literal["any", "whole body", "none"] = "whole body"
    track_basin_distance: float = 0.05
    track_switch_frames: int = 0
    track_switch_margin: float = 0.8
    track_rival_frames: int = 0
    track_rival_margin: float = 1.5
    track_confidence_rate: float = 0.3
    track_smoothing: float = 8.0
    track_smoothing_beta: float = 1.0
    track_smoothing_keypoint_beta: float = 0.0
    track_smoothing_keypoint_floor: float = 2.5
    track_fps: float = 30.0
    starts: Literal["auto", "prior", "initializer", "both"] = "auto"
    hypothesis_first_stage: int = 2
    hypothesis_score_weight: float = 0.0
    reading_weight: float = 300.0
    reading_weight_size: float = 0.0
    reading_weight_exponent: float = 2.0
    reading_sigma: float = 0.1
    leg_flips: bool = False
    prune_starts: int | Literal["auto"] = "auto"
    prune_stage: int = 2
    prune_distance: float = 0.0
    start_scorer: Literal["auto", "energy", "learned"] = "energy"
    left_right: Literal["as_given", "body", "limbs", "auto"] = "auto"
    swap_threshold: float = 0.8
    mirror_readings: Literal["off", "all", "average", "top"] = "off"
    default_focal_length: Literal["diagonal"] | float = "diagonal"
    track_held_joints: tuple[int, ...] | Literal["unseen"] = ()
    track_max_iterations: int = 0
    track_stop_tolerance: float = 0.0
    stop_tolerance: float = 0.0
    stop_rule: Literal["predicted", "decrease", "gradient"] = "predicted"

    def __post_init__(self) -> None:
        object.__setattr__(self, "pose_prior_weights", _weights("pose_prior_weights",
                                                                self.pose_prior_weights))
        object.__setattr__(self, "shape_prior_weights", _weights("shape_prior_weights",
                                                                 self.shape_prior_weights))
        if len(self.pose_prior_weights) != len(self.shape_prior_weights):
            raise ValueError(
                "pose_prior_weights and shape_prior_weights must have one entry per stage; got "
                f"{len(self.pose_prior_weights)} and {len(self.shape_prior_weights)}")
        for name in ("angle_prior_ratio", "angle_prior_scale", "interpenetration_weight",
                     "depth_weight", "keypoints_3d_weight", "anchor_weight",
                     "track_orient_weight", "track_pose_weight", "track_transl_weight",
                     "track_velocity_ratio", "track_shape_rate", "track_swap_margin",
                     "track_refit_margin", "track_refit_ratio", "hypothesis_score_weight",
                     "reading_weight", "track_switch_margin", "track_smoothing",
                     "track_smoothing_beta", "reading_weight_size", "reading_weight_exponent",
                     "track_smoothing_keypoint_beta", "track_smoothing_keypoint_floor",
                     "knee_depth_weight", "prune_distance", "track_max_spin",
                     "track_stop_tolerance", "stop_tolerance"):
            _non_negative(name, getattr(self, name))
        for name in ("sphere_sigma_scale", "data_sigma", "function_tolerance",
                     "track_function_tolerance", "sideways_ratio",
                     "selection_sigma", "keypoints_3d_sigma", "knee_depth_sigma",
                     "track_max_turn",
                     "track_max_jump", "reading_sigma", "track_basin_distance", "track_fps",
                     "track_confidence_rate"):
            if name == "track_function_tolerance" and self.track_function_tolerance is None:
                continue  # function_tolerance's, checked in this loop
            value = _non_negative(name, getattr(self, name))
            if value == 0.0:
                raise ValueError(f"{name} must be > 0, got {value}")
        if 0 < self.reading_weight_size < 1:
            # s / s₀ with s up to ~1.4e15 px (keypoints.validate.MAX_PIXELS) and a ≤ 4 stays
            # below 1e61 for s₀ ≥ 1 px; a smaller s₀ overflowed (a Python OverflowError, or
            # an inf reaching C++ as the observation's "reading_weight_scale").
            raise ValueError(f"reading_weight_size must be 0 (off) or >= 1 pixel, got "
                             f"{self.reading_weight_size}")
        if self.reading_weight_exponent > MAX_READING_EXPONENT:
            raise ValueError(f"reading_weight_exponent must be in [0, {MAX_READING_EXPONENT:g}], "
                             f"got {self.reading_weight_exponent}")
        if not _non_negative("track_rival_margin", self.track_rival_margin) >= 1.0:
            raise ValueError(f"track_rival_margin must be a ratio >= 1, got "
                             f"{self.track_rival_margin!r}")
        object.__setattr__(self, "track_rival_margin", float(self.track_rival_margin))
        if self.track_shape_rate > 1.0:
            raise ValueError(f"track_shape_rate must be in [0, 1], got {self.track_shape_rate}")
        if self.track_confidence_rate > 1.0:
            raise ValueError("track_confidence_rate must be in (0, 1], got "
                             f"{self.track_confidence_rate}")
        for name in ("max_iterations", "threads", "warm_stages", "track_shape_frames",
                     "track_max_swapped_frames", "track_swapped_window", "track_refit_every",
                     "track_switch_frames", "track_refit_iterations", "prune_starts",
                     "prune_stage", "track_spin_frames", "track_rival_frames",
                     "track_max_iterations"):
            value = getattr(self, name)
            if (name == "threads" and value is None) or \
                    (name == "prune_starts" and isinstance(value, str) and value == "auto"):
                continue
            low = 0 if name in ("track_refit_every", "track_switch_frames",
                                "track_swapped_window", "track_refit_iterations",
                                "prune_starts", "track_rival_frames",
                                "track_max_iterations") else 1
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or \
                    not low <= value <= MAX_COUNT:
                either = ' or "auto"' if name == "prune_starts" else ""
                raise ValueError(f"{name} must be an integer in [{low}, {MAX_COUNT}]{either}, "
                                 f"got {value!r}")
            object.__setattr__(self, name, int(value))
        if self.track_spin_frames > MAX_SPIN_FRAMES:
            raise ValueError(f"track_spin_frames must be an integer in [1, {MAX_SPIN_FRAMES}], "
                             f"got {self.track_spin_frames}")
        for name in ("refine_translation", "track", "multi_start", "leg_flips",
                     "track_contest_refits", "track_restart_readings",
                     "track_cut_resets_confidences"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
            object.__setattr__(self, name, bool(getattr(self, name)))
        if self.learned_init != "auto":
            if not isinstance(self.learned_init, (bool, np.bool_)):
                raise TypeError(f"learned_init must be True, False or 'auto', got "
                                f"{self.learned_init!r}")
            object.__setattr__(self, "learned_init", bool(self.learned_init))
        if isinstance(self.track_anchor, (bool, np.bool_)):
            object.__setattr__(self, "track_anchor", int(self.track_anchor))
        if not isinstance(self.track_anchor, (int, np.integer)):
            raise TypeError(f"track_anchor must be an int (or a bool), got "
                            f"{self.track_anchor!r}")
        if not 0 <= self.track_anchor <= MAX_COUNT:
            raise ValueError(f"track_anchor must be in [0, {MAX_COUNT}], got "
                             f"{self.track_anchor!r}")
        object.__setattr__(self, "track_anchor", int(self.track_anchor))
        check_choices(self, _CHOICES)
        if not 0.5 <= _non_negative("swap_threshold", self.swap_threshold) <= 1.0:
            raise ValueError(f"swap_threshold must be in [0.5, 1], got {self.swap_threshold!r}")
        object.__setattr__(self, "swap_threshold", float(self.swap_threshold))
        stage = self.hypothesis_first_stage
        if isinstance(stage, bool) or not isinstance(stage, (int, np.integer)) or stage < 0:
            raise ValueError(f"hypothesis_first_stage must be a stage index >= 0, got "
                             f"{stage!r}")
        object.__setattr__(self, "hypothesis_first_stage", int(stage))
        if self.default_focal_length != "diagonal":
            value = _non_negative("default_focal_length", self.default_focal_length)
            if value == 0.0:
                raise ValueError("default_focal_length must be 'diagonal' or pixels > 0, got 0")
            object.__setattr__(self, "default_focal_length", value)
        held = self.track_held_joints
        if isinstance(held, (str, bytes)) and held != "unseen" or \
                not isinstance(held, str) and not hasattr(held, "__iter__"):
            raise TypeError(f"track_held_joints must be a tuple of SMPL joint indices or "
                            f"'unseen', got {held!r}")
        held = () if isinstance(held, str) else tuple(held)
        if any(isinstance(j, (bool, np.bool_)) or not isinstance(j, (int, np.integer)) or
               not 1 <= j <= 23 for j in held) or len(set(held)) != len(held):
            raise ValueError(f"track_held_joints must be distinct SMPL joints in [1, 23], got "
                             f"{self.track_held_joints!r}")
        if not isinstance(self.track_held_joints, str):
            object.__setattr__(self, "track_held_joints", tuple(sorted(int(j) for j in held)))
        if self.flip not in ("auto", True, False):
            raise ValueError(f"flip must be 'auto', True or False, got {self.flip!r}")

    @property
    def num_stages(self) -> int:
        """Number of weight stages."""
        return len(self.pose_prior_weights)

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> FitOptions:
        """Build options from keyword arguments, naming any unknown keyword.

        ``preset="paper"`` starts from :data:`PRESETS`' values instead of the defaults (the
        other keywords still override them): SMPLify exactly as published.
        """
        preset = kwargs.pop("preset", None)
        if preset is not None and preset not in PRESETS:
            raise ValueError(f"preset must be one of {sorted(PRESETS)} or None, got {preset!r}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise TypeError(
                f"unknown fit option(s) {unknown}; known options: {sorted(known)} and preset")
        return cls(**{**(PRESETS[preset] if preset else {}), **kwargs})

    def for_format(self, format: str | KeypointFormat) -> FitOptions:
        """These options with each "auto" of ``starts``, ``learned_init`` and ``left_right``
        made concrete for a keypoint format (whether an initialiser ships for it:
        :func:`smplify.initializer.ships_for`)."""
        from .initializer import ships_for

        learned = ships_for(format)
        changes: dict[str, Any] = {}
        if self.starts == "auto":
            changes["starts"] = "both" if learned else "prior"
        if self.learned_init == "auto":
            changes["learned_init"] = learned
        if self.left_right != "as_given" and not learned:
            changes["left_right"] = "as_given"
        return replace(self, **changes) if changes else self

    def for_photo(self, format: str | KeypointFormat) -> FitOptions:
        """These options with ``prune_starts="auto"`` and ``start_scorer="auto"`` made
        concrete for a fit of one image of ``format``: :data:`PHOTO_PRUNE_STARTS` and
        :data:`PHOTO_START_SCORER` where the initialiser's readings run beside the prior's
        starts (``starts`` "both", as "auto" is where one ships: where both were measured),
        else 0 and "energy" (the prior's starts alone: pruning them lost on
        tests/test_fit.py's clean views; the scorer ranks only pools with readings).
        Elsewhere "auto" is 0 and "energy" (``_core_options``)."""
        both = self.for_format(format).starts == "both"
        changes: dict[str, Any] = {}
        if isinstance(self.prune_starts, str):
            changes["prune_starts"] = PHOTO_PRUNE_STARTS if both else 0
        if self.start_scorer == "auto":
            changes["start_scorer"] = PHOTO_START_SCORER if both else "energy"
        return replace(self, **changes) if changes else self

    def to_dict(self) -> dict[str, Any]:
        """The options as a plain dict."""
        return asdict(self)


#: SMPLify's focal length in pixels, whatever the image (SPEC §2).
PAPER_FOCAL_LENGTH = 5000.0

#: Named option sets for ``preset=``. "paper": SMPLify as published (Bogo et al. 2016 and the
#: authors' release): its stage weights and data σ, one start from the prior's mean pose, the
#: camera translation held after the torso fit, f = 5000 px when none is given, no learned
#: initialiser. "smooth_video": the online Fitter with competing tracks (docs/video.md): a
#: refit in another basin is tracked beside the track for a frame and replaces it only with
#: 20% less robust data + temporal energy, under stronger temporal weights; chosen on the
#: tuning clips (tools/tune_online.py), where it is far smoother than the default at about
#: the same PA-MPJPE; not the default because on the held-out clips its PA-MPJPE is worse
#: (docs/video.md).
PRESETS: dict[str, dict[str, Any]] = {
    "paper": {"pose_prior_weights": (404.0, 404.0, 57.4, 4.78),
              "shape_prior_weights": (100.0, 50.0, 10.0, 5.0), "data_sigma": 100.0,
              "multi_start": False, "refine_translation": False,
              "default_focal_length": PAPER_FOCAL_LENGTH, "init_pose": "mean",
              "learned_init": False, "starts": "prior", "left_right": "as_given",
              "reading_weight": 0.0, "start_scorer": "energy"},
    "smooth_video": {"track_switch_frames": 1, "track_switch_margin": 0.8,
                     "track_orient_weight": 1.0, "track_pose_weight": 0.3,
                     "track_velocity_ratio": 0.3},
}


def literal_choices(cls: type) -> dict[str, tuple[str, ...]]:
    """The fields of the dataclass ``cls`` with a fixed set of values (annotated
    ``Literal[...]`` alone, e.g. ``starts``; not ``flip``'s ``Literal["auto"] | bool``) and
    their values, read from the annotations, in field order."""
    return {name: get_args(hint) for name, hint in get_type_hints(cls).items()
            if get_origin(hint) is Literal}


def check_choices(options: Any, choices: dict[str, tuple[str, ...]]) -> None:
    """Raise ValueError naming the first field of ``options`` whose value is not among its
    ``choices`` (:func:`literal_choices`)."""
    for name, allowed in choices.items():
        if getattr(options, name) not in allowed:
            listed = ", ".join(map(repr, allowed[:-1])) + f" or {allowed[-1]!r}"
            raise ValueError(f"{name} must be {listed}, got {getattr(options, name)!r}")


#: FitOptions' fields with a fixed set of values (:func:`literal_choices`), checked in field
#: order (``FitOptions.__post_init__``).
_CHOICES: dict[str, tuple[str, ...]] = literal_choices(FitOptions)


def _weights(name: str, values: Any) -> tuple[float, ...]:
    try:
        out = tuple(float(v) for v in np.atleast_1d(np.asarray(values, dtype=float)))
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a sequence of numbers, got {values!r}") from err
    if not out:
        raise ValueError(f"{name} must have at least one stage")
    for v in out:
        _non_negative(name, v)
    return out


#: Largest ``reading_weight_exponent``: (s / s₀)^a beyond it only overflows λ_R.
MAX_READING_EXPONENT = 4.0

# Weights and scales enter squared (and multiplied together): beyond this they only overflow
# the energy to inf or NaN.
MAX_OPTION_VALUE = 1e12


def _non_negative(name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a number, got {value!r}") from err
    if not np.isfinite(v) or v < 0.0 or v > MAX_OPTION_VALUE:
        raise ValueError(f"{name} must be a number in [0, {MAX_OPTION_VALUE:g}], got {value!r}")
    return v
