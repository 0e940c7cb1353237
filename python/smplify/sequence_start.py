"""The start of ``smplify.fit_sequence``: candidate tracks, one path through them by Viterbi.

A warm-started track keeps the depth reading (which limb is nearer, which way the body
faces) of the basin it starts in; between basins the 2D fits about equally well, so one
track can spend a whole clip in a wrong reading. Offline, several tracks through the same
keyframes are cheap to run, and they land in different readings in different stretches:

- ``"plain"``: the plain warm-started Fitter (``track=False``), forward in time, each
  keyframe's labelling (as seen, left/right mirrored, arms or legs swapped) chosen against
  the previous fit's keypoints (:func:`best_labelling`);
- ``"reverse"``: the same, backward in time (it starts from the last frame's basin);
- ``"backward"``: the plain track backward in time from the forward tracks' last fit (the
  online track's if it runs): no fit from scratch of its own, so it costs what "plain" does;
- ``"online"``: the online Fitter (``smplify.online``: temporal rows, swap hypotheses,
  refits from the learned initialiser's readings), forward.
- ``"online_frames"`` (not the default): the online Fitter as a user runs it, through every
  observed frame with the caller's options (its own first fit from scratch, refit and anchor
  counts in frames, spin check); its fits at the keyframes are the candidate's states.
- ``"scratch"`` (``scratch_budget`` > 0; not the default): fits from scratch at the keyframes
  where the tracks above disagree or strain (:func:`hard_keyframes`), each followed warm
  over a few keyframes (:func:`scratch_track`).

Each track fits only every ``step``-th observed frame (the keyframes; the joint solve fills
the frames between). At every keyframe each track's fit is a state; the path minimises

    Σ_k [E_data(s_k) + w_R R(s_k)] + w_tr Σ_k mean_j ‖(f / Z) (P(s_k)_j − P(s_{k−1})_j)‖²
      + w_acc Σ_k mean_j ‖(f / Z) (P(s_k) − 2 P(s_{k−1}) + P(s_{k−2}))_j‖²

over the states s_k (written for evenly spaced keyframes; where they are not, the
acceleration is the deviation from constant velocity in frames, as the online track's
prediction: P(s_k) − P(s_{k−1}) − (h_k / h_{k−1}) (P(s_{k−1}) − P(s_{k−2})), h_k the frames
from keyframe k − 1 to k): E_data the robust 2D error Σ w ρ(‖x̂ − x‖; σ = ``selection_sigma``)
of the state's keypoints against its labelling of the detections (pixels²), P the 24 joints
relative to the pelvis in the camera frame (metres: a limb's depth reading and the body's
facing change them, a shift in depth does not), f / Z pixels per metre at the person, w_tr
``transition_weight`` (0 by default since session 10: a cost on the body's change between
keyframes favours the track that moves least, a stuck one, in fast motion; docs/video.md,
"The path's judge: acceleration, not change"); R the learned initialiser's reading score
(:func:`reading_scores`, nats) and w_R ``reading_weight`` (0 by default: measured in
docs/video.md, "A judge that reads depth"), w_acc ``accel_weight`` (0.03). Dynamic
programming (Viterbi) over the keyframes, O(K · S²) (O(K · S³) with w_acc > 0: over pairs
of states).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import anchor, initializer, online
from .errors import KeypointError
from .fitter import Fitter
from .keypoints import KeypointFormat
from .left_right import LIMB_PARTS, depth_reflected, limb_swap_index, mirror_index
from .result import FitResult

#: Kinds of candidate track (module docstring).
TRACK_KINDS = ("plain", "reverse", "online", "backward", "online_frames")


@dataclass
class Track:
    """One candidate track's fits at the keyframes (NaN / False where it has none).

    Attributes
    ----------
    pose : (T, 72).  transl : (T, 3).  betas : (T, B).
    joints : (T, 24, 3) camera frame, metres.
    keypoints_3d : (T, K, 3) the fit's keypoints, camera frame, metres (NaN where the model
        has none).
    keypoints_2d : (T, K, 2) the fit's keypoints projected, pixels.
    perm : (T, K) the labelling fitted (keypoint permutation).
    data : (T,) robust 2D error (module docstring), inf where not fitted.
    reading : (T,) the learned initialiser's reading score R of the fit (nats,
        :func:`reading_scores`; 0 until scored or where no initialiser ships).
    fitted : (T,) bool.
    last : (keyframe, FitResult, (K,) labelling) of the track's last fit in its direction of
        time (the labelling it fitted, as ``perm``), or None.
    """

    pose: np.ndarray
    transl: np.ndarray
    betas: np.ndarray
    joints: np.ndarray
    keypoints_3d: np.ndarray
    keypoints_2d: np.ndarray
    perm: np.ndarray
    data: np.ndarray
    reading: np.ndarray
    fitted: np.ndarray
    last: tuple[int, FitResult, np.ndarray] | None = None


def hypotheses(format: str | KeypointFormat) -> list[np.ndarray]:
    """Keypoint permutations a detector's left/right confusions amount to (identity first)."""
    out = [np.arange(len(mirror_index(format))), mirror_index(format)]
    out += [limb_swap_index(format, limb) for limb in LIMB_PARTS]
    unique: list[np.ndarray] = []
    for p in out:
        if not any(np.array_equal(p, q) for q in unique):
            unique.append(p)
    return unique


def robust_error(predicted: np.ndarray, xy: np.ndarray, w: np.ndarray, sigma: float) -> float:
    """Σ_k w_k ρ(‖x̂_k − x_k‖; σ) (Geman-McClure, pixels²) over the finite, weighted rows of
    predicted (K, 2) and xy (K, 2)."""
    e2 = np.sum((xy - predicted) ** 2, axis=1)
    ok = (w > 0) & np.isfinite(e2)
    return float(np.sum(w[ok] * sigma**2 * e2[ok] / (sigma**2 + e2[ok])))


def best_labelling(predicted: np.ndarray, xy: np.ndarray, conf: np.ndarray,
                   format_weights: np.ndarray, perms: list[np.ndarray], sigma: float,
                   margin: float) -> np.ndarray:
    """Of one frame's labellings (keypoint permutations), the one whose robust 2D error
    against the body's predicted keypoints (K, 2) is lowest; the labelled one (perms[0])
    unless another is below ``margin`` of its error."""
    costs = [robust_error(predicted, xy[h], conf[h] * format_weights, sigma) for h in perms]
    best = int(np.argmin(costs))
    return perms[best] if costs[best] < margin * costs[0] else perms[0]


def frame_3d(points_3d: np.ndarray | None, t: int, perm: np.ndarray | None = None,
             mirror: np.ndarray | None = None) -> np.ndarray | None:
    """Frame t's detector 3D keypoints (K, 3) relabelled by ``perm`` (K,) (None: as given),
    or None where the sequence has none or the frame fewer than two known (a fit then keeps
    the learned initialiser's anchor, as a frame without ``keypoints_3d``). A whole-body
    left/right mirror (``perm`` equal to ``mirror``, the format's
    :func:`smplify.left_right.mirror_index`) also reflects them in depth
    (:func:`smplify.left_right.depth_reflected`: a detector that swapped every label took the
    body's front for its back)."""
    if points_3d is None:
        return None
    points = points_3d[t]
    if np.count_nonzero(np.isfinite(points).all(axis=1)) < 2:
        return None
    if perm is None or np.array_equal(perm, np.arange(len(perm))):
        return points
    mirrored = mirror is not None and np.array_equal(perm, mirror)
    return depth_reflected(points[perm]) if mirrored else points[perm]


def first_fit(make_fitter: dict, xy: np.ndarray, conf: np.ndarray,
              keyframes: np.ndarray, points_3d: np.ndarray | None = None
              ) -> tuple[int, FitResult] | None:
    """The first keyframe a fit from scratch succeeds on, and that fit (None if none does).

    Every forward track starts with this same multi-start fit (a Fitter's first frame,
    ``track`` or not), which costs as much as ~30 warm fits: it is made once, with the
    caller's options, and handed to each forward track (:func:`run_track`). points_3d:
    (T, K, 3) the detector's 3D keypoints (NaN where unknown) or None."""
    fitter = Fitter(**{**make_fitter, "track": False})
    for t in keyframes:
        try:
            return int(t), fitter.fit(np.column_stack([xy[t], conf[t]]),
                                      keypoints_3d=frame_3d(points_3d, t))
        except KeypointError:
            continue  # no torso to place the camera
    return None


def run_track(kind: str, make_fitter: dict, xy: np.ndarray, conf: np.ndarray,
              keyframes: np.ndarray, format_weights: np.ndarray, perms: list[np.ndarray],
              margin: float, start: tuple[Any, ...] | None = None,
              points_3d: np.ndarray | None = None) -> Track:
    """One candidate track through ``keyframes`` (module docstring); ``make_fitter``: the
    :class:`smplify.Fitter` arguments (``track`` is set here). ``start``: a forward track's
    first fit (:func:`first_fit`; keyframes before it are not fitted), None to fit it here;
    for "backward", a forward track's last fit (its ``last``, with the labelling that fit
    used, which the backward track keeps at that keyframe; keyframes after it are not
    fitted). points_3d: (T, K, 3) the detector's 3D keypoints (NaN where unknown) or None,
    given to each fit relabelled as its 2D keypoints (:func:`frame_3d`; the online Fitter
    relabels them itself).

    The plain track's warm frames stay anchored to the learned initialiser (as the Fitter
    with ``track=False`` anchors them): unanchored, it was as good on the tuning clips
    (``tools/tune_sequence.py``: 78.4 / 69.5 mm on the short / long stretches against 78.1 /
    73.3) and faster (~1 ms a keyframe), better on bench_video's held-out clips (50.6 against
    56.7 mm) but far worse on tests/test_sequence.py's held-out short stretches (94.6 against
    73.6 mm; indian 155 against 103)."""
    if kind not in TRACK_KINDS:
        raise ValueError(f"initial_tracks: expected names from {TRACK_KINDS}, got {kind!r}")
    if kind == "backward" and start is None:
        raise ValueError("start: a backward track starts from a forward track's last fit, "
                         "got None")
    # The fits themselves: the online output filter (track_smoothing) would lag them.
    fitter = Fitter(**{**make_fitter, "track": kind == "online", "track_smoothing": 0.0})
    sigma = fitter.options.selection_sigma
    num_frames, num_keypoints = conf.shape
    labellings = online.labellings(fitter.keypoint_format)
    num_betas = fitter.model.num_betas
    track = Track(pose=np.full((num_frames, 72), np.nan), transl=np.full((num_frames, 3), np.nan),
                  betas=np.full((num_frames, num_betas), np.nan),
                  joints=np.full((num_frames, 24, 3), np.nan),
                  keypoints_3d=np.full((num_frames, num_keypoints, 3), np.nan),
                  keypoints_2d=np.full((num_frames, num_keypoints, 2), np.nan),
                  perm=np.tile(np.arange(num_keypoints), (num_frames, 1)),
                  data=np.full(num_frames, np.inf), reading=np.zeros(num_frames),
                  fitted=np.zeros(num_frames, dtype=bool))
    if kind == "reverse":
        keyframes, start = keyframes[::-1], None
    elif kind == "backward":
        keyframes = keyframes[keyframes <= start[0]][::-1]
    elif start is not None:
        keyframes = keyframes[keyframes >= start[0]]
    last, previous = None, None
    for t in keyframes:
        if kind == "online" and previous is not None:
            # The frames between keyframes: the online track's prediction, temporal rows and
            # per-frame turn and jump limits span them (Fitter.skip).
            for _ in range(abs(int(t) - previous) - 1):
                fitter.skip()
        previous = int(t)
        if last is not None and kind != "online":
            track.perm[t] = best_labelling(last.keypoints_2d, xy[t], conf[t], format_weights,
                                           perms, sigma, margin)
        if last is None:  # the first fit: from scratch, with the caller's options
            if start is None:  # this Fitter's first frame: a fit from scratch starts its track
                try:
                    res = fitter.fit(np.column_stack([xy[t], conf[t]]),
                                     keypoints_3d=frame_3d(points_3d, t))
                except KeypointError:
                    continue  # no torso to place the camera, and no frame to start from
            else:
                res = start[1]
                # Another Fitter's fit: the track starts there, as Fitter.fit starts it after
                # a fit from scratch.
                fitter._restart(res)
        else:
            try:
                p = track.perm[t]
                res = fitter.fit(np.column_stack([xy[t, p], conf[t, p]]),
                                 keypoints_3d=frame_3d(points_3d, t, p, labellings[1]))
            except KeypointError:
                continue  # e.g. a frame the warm fit could not follow nor restart
        if last is None and len(start or ()) > 2:  # another track's last fit ("backward"):
            track.perm[t] = start[2]  # the labelling that track recorded for it
        elif res.summary.get("label_permutation") is not None:
            # A fit from scratch (first_fit's, shared by the forward tracks, or a restart's
            # with track_restart_readings) that relabelled the keypoints it was given itself
            # (its summary's "labelling" then says "as seen").
            track.perm[t] = track.perm[t][res.summary["label_permutation"]]
        elif kind == "online":
            track.perm[t] = labellings[online.LABELLING_NAMES.index(res.summary["labelling"])]
        last = res
        p = track.perm[t]
        track.pose[t], track.transl[t], track.betas[t] = res.pose, res.transl, res.betas
        track.joints[t] = res.joints
        track.keypoints_3d[t] = res.keypoints_3d
        track.keypoints_2d[t] = res.keypoints_2d
        track.data[t] = robust_error(res.keypoints_2d, xy[t, p], conf[t, p] * format_weights,
                                     sigma)
        track.fitted[t] = True
        track.last = (int(t), res, track.perm[t].copy())
    return track


def reading_scores(tracks: list[Track], keyframes: np.ndarray, settings: Any,
                   xy: np.ndarray, conf: np.ndarray) -> None:
    """Fills each track's ``reading`` at the keyframes it fitted: R(X) of the fit's
    keypoints X against the learned initialiser's readings of the keypoints as given
    (:func:`smplify.reference.selection.reading_score`, τ = ``reading_sigma``;
    docs/design.md "Reading score"); left 0 where no initialiser ships for the format.
    ``settings``: the fits' :class:`smplify.problem.FitSettings`.

    The readings are of the labels as given, the same for every track: the initialiser was
    trained on detections with left/right swaps and reads the body through them, while
    readings of a track's own relabelling would agree with that track whichever it is."""
    # The NumPy twin of cpp/reading_score.h (R enters no solve); imported here so that
    # ``import smplify`` does not load smplify.reference (it loads on first use).
    from .reference.selection import reading_score

    if not initializer.ships_for(settings.format):
        return
    sigma = settings.options.reading_sigma
    for t in keyframes:
        if not any(tr.fitted[t] for tr in tracks):
            continue
        frame = anchor.frame_readings(settings, xy[t], conf[t])
        scores = np.array([h.score for h in frame.hypotheses])
        log_weights = np.log(np.maximum(scores, 1e-12))
        for tr in tracks:
            if tr.fitted[t]:
                score = reading_score(tr.keypoints_3d[t], frame.points, log_weights, sigma)
                tr.reading[t] = score if np.isfinite(score) else 0.0


def viterbi_path(tracks: list[Track], keyframes: np.ndarray, pixels_per_metre: float,
                 transition_weight: float, reading_weight: float = 0.0,
                 accel_weight: float = 0.0, depth_share: float = 0.0) -> np.ndarray:
    """(len(keyframes),) the index of the track chosen at each keyframe (module docstring);
    only keyframes some track fitted are given (the caller drops the others).

    ``accel_weight`` w_acc > 0 adds w_acc Σ_k mean_j ‖(f / Z)(P(s_k) − 2 P(s_{k−1}) +
    P(s_{k−2}))_j‖² (the body's 3D acceleration between keyframes, pixels²) to the path's
    cost: dynamic programming over pairs of consecutive states, O(K · S³). Keyframes
    unevenly spaced (a frame no track fitted, the last frame) take the acceleration against
    constant velocity in frames (module docstring).
    ``depth_share`` c in [0, 1] (0: off): the pelvis' depth change counts in the body's
    change between keyframes (and its acceleration) as a 25th point's, times c: w_tr ‖(f /
    Z) c (z(s_k) − z(s_{k−1}))‖² / 24 more: c = 1 where depth is measured finer than a step
    can move it, less where its reading is mostly the 2D scale's jitter
    (:func:`smplify.online.depth_velocity_share`). Without it a track that followed another
    person's 2D in depth (bench_real_video's sports2d, 7 → 2.3 m) was as cheap to switch to
    as one that stayed. ``fit_sequence`` passes the share only where it is below 1 (depth
    measured coarser than ``track_max_jump``) and 0 for a near person (share 1): counting
    the depth there too measured worse on the tuning clips (docs/video.md, session 12), so
    c falls from about 1 to 0 where L reaches ``track_max_jump``."""
    num = len(tracks)
    data = np.array([[tr.data[t] + reading_weight * tr.reading[t] for tr in tracks]
                     for t in keyframes])  # (K, S)
    rel = np.array([[tr.joints[t] - tr.joints[t, :1] for tr in tracks] for t in keyframes])
    if depth_share > 0:
        # The pelvis' depth, scaled, as a 25th point whose change the transition counts:
        # mean over 25 points × 25 / 24 keeps the joints' own term as it was.
        point = np.zeros(rel.shape[:2] + (1, 3))
        point[..., 0, 2] = depth_share * np.array([[tr.joints[t, 0, 2] for tr in tracks]
                                                   for t in keyframes])
        rel = np.concatenate([rel, point], axis=2)
        transition_weight *= rel.shape[2] / (rel.shape[2] - 1)
        accel_weight *= rel.shape[2] / (rel.shape[2] - 1)

    def squared(d: np.ndarray, weight: float) -> np.ndarray:
        """weight × the mean over joints of ‖d‖² in pixels (the last two axes: joints, xyz);
        inf where a state has no fit (NaN), but 0 for weight 0 (0 · inf would be NaN: an
        unfitted state's own data term, inf, keeps the path off it)."""
        if weight == 0:
            return np.zeros(d.shape[:-2])
        out = np.mean(np.sum(d**2, axis=-1), axis=-1) * pixels_per_metre**2
        return weight * np.where(np.isfinite(out), out, np.inf)

    if accel_weight > 0 and len(keyframes) > 2:
        return _viterbi_pairs(data, rel, squared, transition_weight, accel_weight,
                              np.asarray(keyframes, dtype=np.float64))
    cost = data[0].copy()
    back = np.zeros((len(keyframes), num), dtype=int)
    for k in range(1, len(keyframes)):
        # (S_prev, S_next) mean squared joint displacement in pixels.
        total = cost[:, None] + squared(rel[k - 1][:, None] - rel[k][None, :], transition_weight)
        back[k] = np.argmin(total, axis=0)
        cost = total[back[k], np.arange(num)] + data[k]
    path = np.empty(len(keyframes), dtype=int)
    path[-1] = int(np.argmin(cost))
    for k in range(len(keyframes) - 1, 0, -1):
        path[k - 1] = back[k, path[k]]
    return path


def _viterbi_pairs(data: np.ndarray, rel: np.ndarray, squared: Any, transition_weight: float,
                   accel_weight: float, keyframes: np.ndarray) -> np.ndarray:
    """:func:`viterbi_path` with the acceleration term: the DP's state at keyframe k is the
    pair (s_{k−1}, s_k). data (K, S), rel (K, S, 24, 3); ``squared(d, weight)`` the weighted
    mean squared joint difference (pixels²); keyframes (K,) their frames."""
    gaps = np.diff(keyframes)
    num_keys, num = data.shape
    # cost[i, j]: the best path ending in states i at k − 1 and j at k.
    cost = data[0][:, None] + data[1][None, :] + \
        squared(rel[0][:, None] - rel[1][None, :], transition_weight)
    back = np.zeros((num_keys, num, num), dtype=int)  # back[k][j, l]: the best i
    for k in range(2, num_keys):
        move = squared(rel[k - 1][:, None] - rel[k][None, :], transition_weight)  # (j, l)
        # Against constant velocity across the keyframes' gaps in frames (r = 1: even).
        r = gaps[k - 1] / gaps[k - 2]
        accel = squared(r * rel[k - 2][:, None, None] - (1 + r) * rel[k - 1][None, :, None]
                        + rel[k][None, None, :], accel_weight)  # (i, j, l)
        total = cost[:, :, None] + accel  # (i, j, l)
        back[k] = np.argmin(total, axis=0)
        best = np.take_along_axis(total, back[k][None], axis=0)[0]
        cost = best + move + data[k][None, :]
    path = np.empty(num_keys, dtype=int)
    path[-2], path[-1] = np.unravel_index(int(np.argmin(cost)), cost.shape)
    for k in range(num_keys - 1, 1, -1):
        path[k - 2] = back[k, path[k - 1], path[k]]
    return path


def label_between(keypoints_2d: np.ndarray, fitted: np.ndarray, xy: np.ndarray,
                  conf: np.ndarray, observed: np.ndarray, perm: np.ndarray,
                  format_weights: np.ndarray, perms: list[np.ndarray], sigma: float,
                  margin: float) -> None:
    """Labels the observed frames between keyframes (``perm`` (T, K), in place) by
    :func:`best_labelling` against the body's keypoints (T, K, 2, valid where ``fitted``)
    interpolated linearly in the image from the keyframes on either side."""
    idx = np.flatnonzero(fitted)
    frames = np.flatnonzero(observed & ~fitted)
    if len(idx) == 0 or len(frames) == 0:
        return
    flat = keypoints_2d[idx].reshape(len(idx), -1)
    between = np.stack([np.interp(frames, idx, flat[:, c]) for c in range(flat.shape[1])],
                       axis=1).reshape(len(frames), -1, 2)
    for t, predicted in zip(frames, between, strict=True):
        perm[t] = best_labelling(predicted, xy[t], conf[t], format_weights, perms, sigma,
                                 margin)


#: Keyframes further apart than this many frames are not smoothed across (a person lost for
#: a second may be anywhere in depth when found again).
DEPTH_BREAK_FRAMES = 30
#: σ_k of a keyframe whose depth is not measured (no 2D torso, or a depth ≤ 0: a fit at or
#: behind the camera), as a multiple of ``step``: its neighbours' course decides it.
UNKNOWN_DEPTH_SIGMAS = 1e3


def smooth_depth(pelvis: np.ndarray, torso_pixels: np.ndarray, scale_pixels: float,
                 step: float, frames: np.ndarray | None = None,
                 spacing: float = 1.0) -> np.ndarray:
    """(K,) the keyframes' pelvis depths smoothed where they are poorly measured: the least
    squares z of Σ_k ((z_k − Z_k) / σ_k)² + Σ_k (s² a_k / ``step``)², Z_k the depths read
    (``pelvis`` (K, 3), metres, camera frame), a_k the acceleration at keyframe k (metres /
    frame²) against the keyframes' frames t (``frames`` (K,), increasing; None: 0, 1, …),
    a_k = 2 ((z_{k+1} − z_k) / (t_{k+1} − t_k) − (z_k − z_{k−1}) / (t_k − t_{k−1})) /
    (t_{k+1} − t_{k−1}), and s = ``spacing`` the frames between evenly spaced keyframes
    (``keyframe_step``), so that there the second term is Σ ((z_{k+1} − 2 z_k + z_{k−1}) /
    ``step``)²; no a_k across a gap of more than ``DEPTH_BREAK_FRAMES`` frames.
    σ_k = Z_k · ``scale_pixels`` / h_k is how well depth is measured from a 2D torso length of
    h_k pixels (``torso_pixels`` (K,)), as the online track's
    :func:`smplify.online.depth_jump_limit`; where h_k is unknown (NaN) or Z_k ≤ 0,
    σ_k = ``UNKNOWN_DEPTH_SIGMAS`` · ``step`` (the neighbours' course decides; a Z_k ≤ 0
    is returned as read where no neighbour is within reach). A near person's depths (σ of
    centimetres) stay as read; a far one's (σ of metres: the path's keyframes jumped between
    tracks' readings of the 2D scale's jitter, and the joint solve's few iterations kept
    the ramps between them) follow a smooth course."""
    depth = np.asarray(pelvis, dtype=np.float64)[:, 2]
    num = len(depth)
    if num < 3:
        return depth.copy()
    t = np.arange(num, dtype=np.float64) if frames is None else \
        np.asarray(frames, dtype=np.float64)
    h = np.asarray(torso_pixels, dtype=np.float64)
    known = np.isfinite(h) & (h > 0) & (depth > 0)
    sigma = np.where(known, scale_pixels * np.abs(depth) / np.where(known, h, 1.0),
                     UNKNOWN_DEPTH_SIGMAS * step)
    # Normal equations (W + Σ_k r_k r_kᵀ) z = W Z, r_k the row of s² a_k / step (nonzero at
    # k − 1, k, k + 1): pentadiagonal, in the upper banded form of scipy's solveh_banded
    # (row 2 the diagonal, rows 1 and 0 the first and second superdiagonals).
    from scipy.linalg import solveh_banded

    banded = np.zeros((3, num))
    banded[2] = 1.0 / sigma**2
    gaps = np.diff(t)
    for k in range(1, num - 1):
        before, after = gaps[k - 1], gaps[k]
        if max(before, after) > DEPTH_BREAK_FRAMES:
            continue
        scale = 2.0 * spacing**2 / ((before + after) * step)
        row = scale * np.array([1.0 / before, -1.0 / before - 1.0 / after, 1.0 / after])
        for i in range(3):
            for j in range(i, 3):  # r_i r_j at (k − 1 + i, k − 1 + j)
                banded[2 - (j - i), k - 1 + j] += row[i] * row[j]
    smooth = solveh_banded(banded, depth / sigma**2)
    # A keyframe at or behind the camera no neighbour reached stays as read.
    return np.where(known | (smooth > 0), smooth, depth)


#: A keyframe is hard (:func:`hard_keyframes`) where the tracks' bodies differ by more than
#: this many pixels (the mean over joints of ‖(f / Z) (P_a − P_b)‖, pelvis-relative) ...
DISAGREE_PIXELS = 12.0
#: ... or where the best track's data energy is more than this many times its median over
#: the keyframes (every track strains to follow the detections).
STRAIN_RATIO = 3.0


def hard_keyframes(tracks: list[Track], keyframes: np.ndarray, pixels_per_metre: float,
                   budget: int) -> np.ndarray:
    """Up to ``budget`` keyframes where the candidate tracks disagree or strain (sorted).

    Per keyframe k fitted by some track: d_k the largest mean over joints of ‖(f / Z)
    (P(s_a) − P(s_b))_j‖ (pixels; P pelvis-relative joints, as :func:`viterbi_path`) over
    pairs of tracks that fitted it, e_k the lowest data energy over them, and the hardness
    h_k = max(d_k / ``DISAGREE_PIXELS``, e_k / (``STRAIN_RATIO`` · median_k e_k)). The
    keyframes with h_k > 1 are hard; the ``budget`` hardest are returned (a keyframe no
    track fitted is a candidate too: h = inf)."""
    if budget <= 0 or len(keyframes) == 0:
        return np.zeros(0, dtype=int)
    data = np.array([[tr.data[t] for tr in tracks] for t in keyframes])  # (K, S) inf: none
    best = data.min(axis=1)
    finite = np.isfinite(best)
    median = float(np.median(best[finite])) if finite.any() else 1.0
    hardness = np.where(finite, best / max(STRAIN_RATIO * median, 1e-9), np.inf)
    rel = np.array([[tr.joints[t] - tr.joints[t, :1] for tr in tracks] for t in keyframes])
    for a in range(len(tracks)):
        for b in range(a + 1, len(tracks)):
            d = np.mean(np.linalg.norm(rel[:, a] - rel[:, b], axis=-1), axis=-1)
            d = pixels_per_metre * np.where(np.isfinite(d), d, 0.0)
            hardness = np.maximum(hardness, d / DISAGREE_PIXELS)
    hard = np.flatnonzero(hardness > 1.0)
    hard = hard[np.argsort(-hardness[hard], kind="stable")[:budget]]
    return np.sort(np.asarray(keyframes)[hard])


def scratch_track(make_fitter: dict, xy: np.ndarray, conf: np.ndarray, keyframes: np.ndarray,
                  hard: np.ndarray, follow: int, format_weights: np.ndarray,
                  perms: list[np.ndarray], margin: float,
                  points_3d: np.ndarray | None = None, starts: str = "auto") -> Track:
    """The ``"scratch"`` candidate: at each ``hard`` keyframe (:func:`hard_keyframes`) a fit
    from scratch (the Fitter's multi-start, as a track's first frame), followed warm
    (:func:`run_track` "plain") over up to ``follow`` keyframes after it; a later hard
    keyframe's fit replaces an earlier one's followers. Keyframes no such fit reaches stay
    unfitted (the path cannot take this track there). ``starts``: the fits from scratch's
    (:class:`smplify.FitOptions`; "initializer": the learned initialiser's readings alone,
    cheaper where it ships). Costs about (30 + ``follow``) warm fits per hard keyframe with
    every start."""
    fitter = Fitter(**{**make_fitter, "track": False, "starts": starts})
    out: Track | None = None
    for t in hard:
        try:
            res = fitter.fit(np.column_stack([xy[t], conf[t]]), warm_start=False,
                             keypoints_3d=frame_3d(points_3d, t))
        except KeypointError:
            continue
        span = keyframes[keyframes >= t][:follow + 1]
        seg = run_track("plain", make_fitter, xy, conf, span, format_weights, perms, margin,
                        (int(t), res), points_3d)
        if out is None:
            out = seg
            continue
        for name in ("pose", "transl", "betas", "joints", "keypoints_3d", "keypoints_2d",
                     "perm", "data", "reading", "fitted"):
            getattr(out, name)[seg.fitted] = getattr(seg, name)[seg.fitted]
    if out is None:  # nothing hard, or no hard keyframe could be fitted
        out = run_track("plain", make_fitter, xy, conf, keyframes[:0], format_weights, perms,
                        margin, None, points_3d)
    return out
