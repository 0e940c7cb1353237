"""What a user sees go wrong in a fitted real video, measured without 3D truth.

Each function takes one method's output on one tracked person, frame by frame (``valid``:
the frames the method gave a body for), and the detections it was fitted to:

- :func:`facing_turns`: the pelvis' facing (the body's +z axis, R(ω) e_z, camera frame)
  turning more than 90° between consecutive frames: a body flipping round.
- :func:`depth`: the pelvis' depth (camera z): jumps between consecutive frames, its spread
  over the track, and how far it strays from what the person's 2D size says (z · h, h the
  2D shoulder-to-hip length in pixels, is constant for a person of constant size walking
  upright; its p95/p5 ratio is 1 when the depth follows the 2D scale).
- :func:`acceleration`: mean ‖j_{t-1} − 2 j_t + j_{t+1}‖ of the pelvis-relative joints
  (mm/frame², as ``smplify.synthetic_video.mean_acceleration``; over runs of frames with
  output): jitter.
- :func:`reprojection`: the median 2D distance between the fit's keypoints and the detected
  ones the detector is sure of (visibility ≥ 0.5), pixels and per cent of the person's 2D
  height.
- :func:`mirrored`: frames where the fit faces the other way from a cue of the picture:
  the *nose direction* (the nose left or right of the ears' midpoint in the image: a
  profile, whose facing has that sign along the image x axis; it does not depend on which
  ear the detector calls left), and the *detector's own facing* (its labels and world
  landmarks). MediaPipe's visibility of the face is no cue: it is ~1 for people walking
  away from the camera too (vtest.avi).
- :func:`knee_bend`: the median knee flexion of the fit (degrees): people walking or
  standing bend them ~5-30°; a body squatting where the picture shows someone upright is a
  depth misreading of the legs.
"""

from __future__ import annotations

import numpy as np

# MediaPipe Pose landmark indices (smplify's "mediapipe33").
NOSE, LEFT_EAR, RIGHT_EAR = 0, 7, 8
LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP, RIGHT_HIP = 11, 12, 23, 24
#: A nose this far (in shoulder-to-hip lengths) left or right of the ears' midpoint is a
#: profile; a body facing more than 30° off the camera axis (|f_x| > 0.5) points a side.
NOSE_PROFILE = 0.08
SIDEWAYS = 0.5
#: A fit (or the detector) faces the camera when f_z < -FACING (f_z > FACING: away).
FACING = 0.5
TURN_DEGREES = 90.0
DEPTH_JUMP = 0.5  # metres per frame: ~5-15 m/s at 10-30 fps, beyond any walk


def forward_axes(global_orient: np.ndarray) -> np.ndarray:
    """(T, 3) each frame's facing R(ω) e_z (camera frame) of a (T, 3) axis-angle array."""
    w = np.asarray(global_orient, dtype=np.float64)
    angle = np.linalg.norm(w, axis=1, keepdims=True)
    k = np.where(angle > 1e-12, w / np.maximum(angle, 1e-12), [0.0, 0.0, 1.0])
    c, s = np.cos(angle), np.sin(angle)
    ez = np.array([0.0, 0.0, 1.0])
    return ez * c + np.cross(k, ez) * s + k * k[:, 2:3] * (1.0 - c)


def _pairs(valid: np.ndarray) -> np.ndarray:
    """(M,) frames t with output at t - 1 and t."""
    return np.flatnonzero(valid[1:] & valid[:-1]) + 1


def facing_turns(global_orient: np.ndarray, valid: np.ndarray) -> dict[str, float]:
    """Turns of the facing between consecutive frames: count > 90°, and the median."""
    f = forward_axes(global_orient)
    t = _pairs(valid)
    if len(t) == 0:
        return {"turns_over_90": 0, "turn_median_deg": float("nan")}
    degrees = np.degrees(np.arccos(np.clip(np.sum(f[t] * f[t - 1], axis=1), -1.0, 1.0)))
    return {"turns_over_90": int(np.sum(degrees > TURN_DEGREES)),
            "turn_median_deg": float(np.median(degrees))}


def torso_pixels(keypoints: np.ndarray) -> np.ndarray:
    """(T,) the 2D shoulder-midpoint to hip-midpoint length, pixels."""
    kp = np.asarray(keypoints)
    shoulders = (kp[:, LEFT_SHOULDER, :2] + kp[:, RIGHT_SHOULDER, :2]) / 2
    hips = (kp[:, LEFT_HIP, :2] + kp[:, RIGHT_HIP, :2]) / 2
    return np.linalg.norm(shoulders - hips, axis=1)


def depth(joints: np.ndarray, valid: np.ndarray, keypoints: np.ndarray) -> dict[str, float]:
    """Pelvis depth: jumps over DEPTH_JUMP, median |Δz|, p5-p95 range, and the p95/p5
    ratio of z × (2D torso length) on frames whose torso the detector is sure of."""
    z = np.asarray(joints)[:, 0, 2]
    t = _pairs(valid)
    dz = np.abs(z[t] - z[t - 1])
    sure = valid & (np.min(keypoints[:, [LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP, RIGHT_HIP],
                                     2], axis=1) >= 0.5)
    scale = z[sure] * torso_pixels(keypoints)[sure]
    scale = scale[scale > 0]
    p5, p95 = np.percentile(z[valid], [5, 95]) if valid.any() else (np.nan, np.nan)
    return {"depth_jumps": int(np.sum(dz > DEPTH_JUMP)),
            "depth_step_median_m": float(np.median(dz)) if len(dz) else float("nan"),
            "depth_median_m": float(np.median(z[valid])) if valid.any() else float("nan"),
            "depth_range_m": float(p95 - p5),
            "depth_vs_2d_ratio": float(np.percentile(scale, 95) / np.percentile(scale, 5))
            if len(scale) > 1 else float("nan")}


def acceleration(joints: np.ndarray, valid: np.ndarray) -> float:
    """Mean ‖a‖ of the pelvis-relative joints over frames with output on both sides, mm/f²."""
    rel = np.asarray(joints) - np.asarray(joints)[:, :1]
    t = np.flatnonzero(valid[:-2] & valid[1:-1] & valid[2:]) + 1
    if len(t) == 0:
        return float("nan")
    a = rel[t - 1] - 2 * rel[t] + rel[t + 1]
    return 1000.0 * float(np.mean(np.linalg.norm(a, axis=2)))


def reprojection(keypoints_2d: np.ndarray, valid: np.ndarray,
                 keypoints: np.ndarray) -> dict[str, float]:
    """Median over frames of the median pixel error over the sure keypoints, and the same
    as per cent of the person's 2D height (the sure keypoints' vertical extent)."""
    px, pct = [], []
    for t in np.flatnonzero(valid):
        sure = (keypoints[t, :, 2] >= 0.5) & np.all(np.isfinite(keypoints_2d[t]), axis=1)
        if sure.sum() < 4:
            continue
        e = np.linalg.norm(keypoints_2d[t, sure] - keypoints[t, sure, :2], axis=1)
        px.append(np.median(e))
        pct.append(100.0 * np.median(e) / max(np.ptp(keypoints[t, sure, 1]), 1.0))
    return {"reprojection_px": float(np.median(px)) if px else float("nan"),
            "reprojection_pct": float(np.median(pct)) if pct else float("nan")}


def nose_direction(keypoints: np.ndarray) -> np.ndarray:
    """(T,) per frame, from the 2D detections alone: +1 when the nose is right of the ears'
    midpoint in the image by more than NOSE_PROFILE torso lengths (a profile facing image
    right), -1 left, 0 not decisive (or the nose or an ear unsure). Which ear the detector
    calls left does not matter."""
    kp = np.asarray(keypoints)
    ears = (kp[:, LEFT_EAR, :2] + kp[:, RIGHT_EAR, :2]) / 2
    offset = (kp[:, NOSE, 0] - ears[:, 0]) / np.maximum(torso_pixels(kp), 1.0)
    sure = np.min(kp[:, [NOSE, LEFT_EAR, RIGHT_EAR], 2], axis=1) >= 0.5
    return np.where(sure & (np.abs(offset) > NOSE_PROFILE), np.sign(offset), 0.0)


def detector_facing(world: np.ndarray) -> np.ndarray:
    """(T, 3) the facing the detector's own labels and 3D say: (left − right) × (up) of its
    world landmarks' shoulders and hips (camera-aligned axes; NaN where it has none). A
    detector that takes a body for its back swaps every label and reflects its 3D in depth
    (on both videos the nose points along this facing in ~98% of detections), so this is
    the detector's belief, not the truth."""
    w = np.asarray(world)
    left = (w[:, LEFT_SHOULDER] + w[:, LEFT_HIP] - w[:, RIGHT_SHOULDER] - w[:, RIGHT_HIP]) / 2
    up = (w[:, LEFT_SHOULDER] + w[:, RIGHT_SHOULDER] - w[:, LEFT_HIP] - w[:, RIGHT_HIP]) / 2
    return np.cross(left, up)


def _longest_run(wrong: np.ndarray, decisive: np.ndarray) -> int:
    """Longest run of wrong frames; decisive frames that are right break a run, the others
    do not."""
    run = best = 0
    for t in range(len(wrong)):
        if wrong[t]:
            run += 1
        elif decisive[t]:
            run = 0
        best = max(best, run)
    return best


def mirrored(global_orient: np.ndarray, valid: np.ndarray, keypoints: np.ndarray,
             world: np.ndarray) -> dict[str, float]:
    """The fit's facing against two cues: the nose direction (label-free; decisive frames
    are profiles where the fit points a side, |f_x| > SIDEWAYS), and the detector's own
    facing (:func:`detector_facing`; decisive where both point off the image plane's
    normal by less than 60°, f_z and the detector's z beyond FACING). Per cue: the share of
    decisive frames against it, and the longest run. Against the detector for a frame or
    two is a tracker holding through the detector's front/back confusion; for long runs,
    either the tracker locked on a mirrored body or the detector stayed confused (look at
    the strip: tools/draw_video_strip.py --real)."""
    f = forward_axes(global_orient)
    profile = nose_direction(keypoints)
    side = valid & (profile != 0) & (np.abs(f[:, 0]) > SIDEWAYS)
    side_wrong = side & (np.sign(f[:, 0]) != profile)
    d = detector_facing(world)
    d = d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-9)
    seen = np.all(np.isfinite(d), axis=1)
    dz = np.where(seen, d[:, 2], 0.0)
    front = valid & seen & (np.abs(dz) > FACING) & (np.abs(f[:, 2]) > FACING)
    front_wrong = front & (np.sign(f[:, 2]) != np.sign(dz))
    return {"nose_against_pct": 100.0 * float(side_wrong.sum()) / max(int(side.sum()), 1),
            "nose_against_longest": _longest_run(side_wrong, side),
            "nose_decisive": int(side.sum()),
            "detector_against_pct": 100.0 * float(front_wrong.sum()) / max(int(front.sum()),
                                                                             1),
            "detector_against_longest": _longest_run(front_wrong, front),
            "detector_decisive": int(front.sum())}


#: SMPL joints: (hip, knee, ankle) of each leg.
LEGS = ((1, 4, 7), (2, 5, 8))


def knee_angles(joints: np.ndarray) -> np.ndarray:
    """(N, 2) knee flexion of joints (N, 24, 3), left then right leg, degrees (0: straight):
    the angle between the thigh (hip → knee) and the shin (knee → ankle)."""
    j = np.asarray(joints)
    angles = []
    for hip, knee, ankle in LEGS:
        thigh, shin = j[:, knee] - j[:, hip], j[:, ankle] - j[:, knee]
        cos = np.sum(thigh * shin, axis=1) / np.maximum(
            np.linalg.norm(thigh, axis=1) * np.linalg.norm(shin, axis=1), 1e-9)
        angles.append(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
    return np.stack(angles, axis=1)


def knee_bend(joints: np.ndarray, valid: np.ndarray) -> float:
    """Median over frames and both legs of the knee's flexion (:func:`knee_angles`)."""
    j = np.asarray(joints)[valid]
    return float(np.median(knee_angles(j))) if len(j) else float("nan")


def all_metrics(global_orient: np.ndarray, joints: np.ndarray, keypoints_2d: np.ndarray,
                valid: np.ndarray, keypoints: np.ndarray, world: np.ndarray) -> dict[str, float]:
    """Every measure of this module for one method on one track."""
    out: dict[str, float] = {"frames": int(valid.sum())}
    out.update(facing_turns(global_orient, valid))
    out.update(depth(joints, valid, keypoints))
    out["accel_mm"] = acceleration(joints, valid)
    out["knee_bend_deg"] = knee_bend(joints, valid)
    out.update(reprojection(keypoints_2d, valid, keypoints))
    out.update(mirrored(global_orient, valid, keypoints, world))
    return out
