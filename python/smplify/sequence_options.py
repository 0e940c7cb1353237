"""The options of :func:`smplify.fit_sequence` besides the per-frame
:class:`smplify.FitOptions`: :class:`SequenceOptions` (the temporal weights, the joint
solve, the detector-swap rounds, the start's tracks and path, windows), each checked with a
``ValueError`` naming it; and :func:`sequence_keywords`, FitOptions fields as fit_sequence's
keywords.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .options import MAX_COUNT, MAX_OPTION_VALUE, check_choices, literal_choices
from .sequence_start import TRACK_KINDS

#: Ceres' trust region radii: its LM starts from the radius 1/μ₀ (``SequenceOptions``'
#: ``initial_damping``) and rejects one outside [1e-32, 1e16], i.e. μ₀ outside [1e-16, 1e32)
#: (1/1e32 rounds below 1e-32).
TRUST_REGION_RADII = (1e-32, 1e16)


#: fit_sequence's keywords for the FitOptions fields whose names SequenceOptions takes.
FRAME_OPTION_NAMES = {"frame_reading_weight": "reading_weight"}


def sequence_keywords(fit_options: dict[str, Any]) -> dict[str, Any]:
    """FitOptions fields as :func:`fit_sequence` keywords for its per-frame fits (a field
    whose name :class:`SequenceOptions` takes, ``reading_weight``, as ``frame_reading_weight``)."""
    names = {v: k for k, v in FRAME_OPTION_NAMES.items()}
    return {names.get(k, k): v for k, v in fit_options.items()}


@dataclass(frozen=True)
class SequenceOptions:
    """Options of :func:`fit_sequence` besides the per-frame :class:`smplify.FitOptions`.

    Attributes
    ----------
    temporal_orient_weight : λ_R on the second difference of the global rotation matrices,
        per pixel of a 1 m lever at the person's depth (module docstring).
    temporal_pose_weight : λ_θ on the second difference of the body pose (radians).
    temporal_transl_weight : λ_γ on the second difference of the translation (metres).
    temporal_scale_floor : s₀, pixels per metre: the temporal weights are multiplied by
        √((f / Z)² + s₀²) instead of f / Z (module docstring). 0: f / Z alone.
    sequence_iterations : iteration cap of each sequence solve.
    initial_damping : μ₀, the first Levenberg-Marquardt damping of each sequence solve
        (relative to diag(JᵀJ); Ceres' default 1e-4), in [1e-16, 1e32). The start is a
        per-frame fit near the joint optimum: from it the nearly undamped step overshoots
        into the interpenetration term's wall and is rejected (docs/video.md, "The joint solve's
        stall").
    sequence_retries : rejected Levenberg-Marquardt steps of each sequence solve not counted
        against ``sequence_iterations``, up to this many (``linear_solver`` "auto" only; the
        "iterative" one counts every step: > 0 with it is an error), at most
        ``MAX_SEQUENCE_RETRIES`` (100). 0: every step counts.
    swap_rounds : rounds of detector-swap hypotheses (0: take the keypoints as labelled).
    swap_margin : a swapped reading replaces the labelled one when its robust 2D error is
        below this fraction of the labelled one's.
    linear_solver : "auto": Levenberg-Marquardt on the block-banded normal equations
        (``cpp/block_banded.h``); "iterative": Ceres' Levenberg-Marquardt with conjugate
        gradients (CGNR), ~10× slower, kept to compare.
    initial_tracks : the candidate tracks of the start, names from
        ``smplify.sequence_start.TRACK_KINDS`` ("plain", "reverse", "online", "backward",
        "online_frames"). "online_frames" is the online Fitter itself (the caller's options,
        every observed frame, as ``smplify.Fitter`` fits a video), its fits at the keyframes
        a candidate: not in the default, a trade (docs/video.md, "The online Fitter's own
        fits as a candidate"): bench_video's 12 held-out clip-seeds with ("plain", "online",
        "online_frames") -3.3 +- 1.8 mm PA-MPJPE, acceleration error level, ~1.8x the CPU.
    keyframe_step : the tracks fit every this many observed frames (and the last one).
    transition_weight : w_tr of the path's cost on the body's change between keyframes
        (``smplify.sequence_start``; 0: off, the default since session 10: a cost on the
        change favours the track that moves least, docs/video.md; 0.2 beside
        ``accel_weight`` 0.03 lowered the acceleration error but lost most of the
        PA-MPJPE gain held out: not adopted).
    reading_weight : w_R of the path's cost on the learned initialiser's reading score of
        each keyframe's fit (pixels² per nat; ``smplify.sequence_start.reading_scores``):
        the 2D error cannot tell a limb's or the body's depth readings apart, the
        initialiser's readings can. 0: off.
    accel_weight : w_acc of the path's cost on the body's 3D acceleration between keyframes
        (``smplify.sequence_start.viterbi_path``). 0: off (the default before session
        11, with ``transition_weight`` 3).
    start_refit_every : the start's online track refits from the learned initialiser's
        readings every this many keyframes (its ``track_refit_every``: the track sees only
        keyframes; 3 keyframes = 9 frames at ``keyframe_step`` 3); 0: never.
    start_anchor_every : the start's online track anchors every this many warm keyframes
        to the learned initialiser's reading (its ``track_anchor``); 0: never.
    start_max_spin : the start's online track's summed facing check (its
        ``track_max_spin``, degrees over ``track_spin_frames`` keyframes); 0 (the default):
        off (docs/video.md, "A slow spin" and "The keyframe track closer to the Fitter").
    start_weight_power : the start's online track's temporal weights (``track_orient_weight``,
        ``track_pose_weight``, ``track_transl_weight``) divided by ``keyframe_step`` to this
        power: its acceleration rows span ``keyframe_step`` frames, where a body's steady
        acceleration leaves ``keyframe_step``² times a frame's residual (2: a frame's
        balance). 0 (the default): the caller's weights (docs/video.md, "The keyframe
        track closer to the Fitter").
    scratch_budget : the share of keyframes (0 to 1) at which the start fits from scratch
        where its tracks disagree or strain (``smplify.sequence_start.hard_keyframes``),
        each fit followed warm over ``scratch_follow`` keyframes: one more candidate
        ("scratch") for the path there. 0: off.
    scratch_follow : keyframes each fit from scratch is followed warm after it.
    scratch_starts : the ``starts`` of those fits from scratch (:class:`smplify.FitOptions`:
        "auto", "prior", "initializer", "both").
    start_prune_starts : the start's tracks' own fits from scratch (a lost-track check's, a
        new person's refit's, the "scratch" track's, a "reverse" track's first) keep this
        many of the prior's starts per orientation after stage ``prune_stage``
        (:class:`smplify.FitOptions`' ``prune_starts``: the rest are ranked by the selection
        score there and dropped); the shared first fit of the forward tracks keeps the
        caller's. 0 (the default): the caller's ``prune_starts`` for every fit ("auto": none
        pruned). A trade: bench_video's held-out clips ran at 1.2-1.4x the CPU frames/s
        with 2, but +3.2 +- 2.2 mm (docs/video.md, "Fewer fits from scratch in the start").
    window : 0: one joint solve over every frame (memory ∝ T, ~0.28 MB a frame); n ≥ 8:
        overlapping windows of n frames, β fitted in the first and held after
        (:mod:`smplify.sequence_windows`), memory bounded by the window.
    """

    temporal_orient_weight: float = 0.5
    temporal_pose_weight: float = 0.25
    temporal_transl_weight: float = 0.5
    temporal_scale_floor: float = 0.0
    sequence_iterations: int = 2
    initial_damping: float = 1e-4
    sequence_retries: int = 0
    swap_rounds: int = 0
    swap_margin: float = 0.7
    linear_solver: Literal["auto", "iterative"] = "auto"
    initial_tracks: tuple[str, ...] = ("plain", "online")
    keyframe_step: int = 3
    transition_weight: float = 0.0
    reading_weight: float = 0.0
    accel_weight: float = 0.03
    start_refit_every: int = 10
    start_anchor_every: int = 3
    start_max_spin: float = 0.0
    start_weight_power: float = 0.0
    scratch_budget: float = 0.0
    scratch_follow: int = 2
    scratch_starts: Literal["auto", "prior", "initializer", "both"] = "auto"
    start_prune_starts: int = 0
    window: int = 0

    def __post_init__(self) -> None:
        for name in ("temporal_orient_weight", "temporal_pose_weight", "temporal_transl_weight",
                     "temporal_scale_floor", "swap_margin", "transition_weight", "reading_weight",
                     "accel_weight", "scratch_budget", "start_max_spin",
                     "start_weight_power"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
                    or not np.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if self.temporal_scale_floor > MAX_OPTION_VALUE:
            raise ValueError(f"temporal_scale_floor must be a number in [0, "
                             f"{MAX_OPTION_VALUE:g}] pixels per metre, got "
                             f"{self.temporal_scale_floor!r}")
        if self.scratch_budget > 1:
            raise ValueError(f"scratch_budget must be a share of keyframes in [0, 1], got "
                             f"{self.scratch_budget!r}")
        if isinstance(self.initial_damping, bool) \
                or not isinstance(self.initial_damping, (int, float, np.number)) \
                or not self.initial_damping > 0 \
                or not TRUST_REGION_RADII[0] <= 1.0 / self.initial_damping <= TRUST_REGION_RADII[1]:
            raise ValueError(f"initial_damping must be a number in [1e-16, 1e32) (Ceres' trust "
                             f"region radius 1/initial_damping in [1e-32, 1e16]), got "
                             f"{self.initial_damping!r}")
        check_choices(self, _CHOICES)
        tracks = self.initial_tracks
        if isinstance(tracks, str) or not isinstance(tracks, (tuple, list)) or not tracks \
                or any(k not in TRACK_KINDS for k in tracks):
            raise ValueError(f"initial_tracks: expected a non-empty tuple of names from "
                             f"{TRACK_KINDS}, got {tracks!r}")
        if "backward" in tracks and not {"plain", "online"} & set(tracks):
            raise ValueError(f"initial_tracks: 'backward' starts from the last fit of a "
                             f"forward track ('plain' or 'online'), got {tracks!r}")
        for name in ("sequence_iterations", "sequence_retries", "swap_rounds", "keyframe_step",
                     "start_refit_every", "start_anchor_every", "scratch_follow", "window",
                     "start_prune_starts"):
            value = getattr(self, name)
            low = 1 if name in ("sequence_iterations", "keyframe_step") else 0
            # (MAX_COUNT: the C++ core's int)
            high = MAX_SEQUENCE_RETRIES if name == "sequence_retries" else MAX_COUNT
            if (isinstance(value, bool) or not isinstance(value, (int, np.integer))
                    or not low <= value <= high):
                raise ValueError(f"{name} must be an integer in [{low}, {high}], got "
                                 f"{value!r}")
        if self.sequence_retries > 0 and self.linear_solver == "iterative":
            raise ValueError(f"sequence_retries is the block-banded solver's (linear_solver "
                             f"'auto'); the 'iterative' one counts every step: got "
                             f"sequence_retries={self.sequence_retries!r} with "
                             f"linear_solver='iterative'")
        if 0 < self.window < 8:
            raise ValueError(f"window must be 0 (no windows) or >= 8 frames, got "
                             f"{self.window!r}")


#: Largest ``sequence_retries``. A run of rejected steps ends the solve by itself once the
#: damping μ passes Ceres' 1e32 (μ grows as μ₀ · 2^(k(k+1)/2) over k rejections in a row:
#: ≤ 18 from μ₀ ≥ 1e-16), so retries beyond a few dozen only count rejections between
#: accepted steps; each costs one evaluation of the whole sequence (about a step's time).
#: The measured settings are 3 and 8 (docs/video.md, "Retries"); 100 leaves room above them
#: and keeps the option far inside C++'s int.
MAX_SEQUENCE_RETRIES = 100


#: SequenceOptions' fields with a fixed set of values (``linear_solver``, ``scratch_starts``),
#: read from their ``Literal`` annotations as FitOptions' are.
_CHOICES: dict[str, tuple[str, ...]] = literal_choices(SequenceOptions)
