"""The online Fitter's hands' lag on synthetic video: the wrist's 2D error on fast frames.

    python tools/hands_lag.py [--set tuning|heldout] [--seeds 500,600]
        [--variants '{"name": {option: value}}']

``--set tuning`` (default, to choose options): tools/tune_online.py's clips and stretches
(tests/data/tuning_sequences.npz, frames 0:72 and 72:144, seed + 10·clip + stretch).
``--set heldout`` (to report): bench_video.py's (tests/data/heldout_sequences.npz, frames
120:240, seed + clip). COCO-17, the synthetic detector's default errors, one thread.

Per variant: mean PA-MPJPE (mm) and acceleration error (mm/frame²) as the benchmarks score
them; the wrist's 2D error (px) pelvis-relative (the fitted keypoints_2d less their hips'
midpoint against the true projected keypoints less theirs) on the fastest 10% of the
(frame, wrist) samples by the true wrist's pelvis-relative 2D speed, and its component
along that motion ("along", negative = behind); and the CPU ms/frame (median).

The keypoint cutoff's floor is set against the "jitter" row: the keypoint speeds
(``pose_filter.KeypointSpeed``, person sizes / s) that the synthetic detector's errors alone
read on the wrists (joints 18/19, the elbows: the speed of the wrist keypoints below them),
the errors (detected less true, on the keypoints it sees) added to each stretch's first
true frame held still; the median and 90th percentile over the frames and both wrists.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import smplify
from smplify import online, pose_filter
from smplify import synthetic_video as sv

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "tools"))
import tune_online  # noqa: E402  (the tuning clips)
from bench_video import (  # noqa: E402  (the benchmark's own)
    FORMAT,
    SEQUENCES,
    accuracy,
    clip_video,
    fitted,
    hold_last,
)

WRISTS, HIPS = (9, 10), (11, 12)  # COCO-17
#: per set: the stretches of its clips (tune_online's tuning clips, bench_video's held-out)
SETS = {"tuning": [(0, 72), (72, 144)], "heldout": [(120, 240)]}


def videos(model, which: str, seed: int) -> list[sv.SyntheticVideo]:
    """The set's stretches through the detector's default errors: tune_online's for
    "tuning", bench_video's for "heldout"."""
    if which == "tuning":
        return tune_online.videos(model, SETS[which], seed)
    return [clip_video(model, seq, seed + c, slice(*stretch))
            for c, seq in enumerate(sv.load_sequences(SEQUENCES)) for stretch in SETS[which]]


def run(model, video: sv.SyntheticVideo, options: dict) -> tuple[np.ndarray, np.ndarray,
                                                                  np.ndarray]:
    """The Fitter's joints (T, 24, 3), keypoints_2d (T, K, 2) (the last shown where it
    raised) and CPU ms per frame."""
    seconds: list[tuple[float, float]] = []
    joints, kp2d = [], []
    for r in fitted(video, model, options, seconds):
        joints.append(None if r is None else r.joints)
        kp2d.append(None if r is None else np.array(r.keypoints_2d))
    return hold_last(joints), hold_last(kp2d), 1000 * np.array([cpu for _, cpu in seconds])


def wrist_errors(kp2d: np.ndarray, clean: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per (frame ≥ 1, wrist): the true pelvis-relative wrist speed (px/frame), the error
    (px) and its component along the true motion."""
    def rel(k: np.ndarray) -> np.ndarray:
        return k[:, WRISTS] - k[:, HIPS].mean(axis=1, keepdims=True)
    truth, fit = rel(clean), rel(kp2d)
    motion = truth[1:] - truth[:-1]
    speed = np.linalg.norm(motion, axis=-1)
    error = fit[1:] - truth[1:]
    along = np.sum(error * motion, axis=-1) / np.maximum(speed, 1e-9)
    return speed.ravel(), np.linalg.norm(error, axis=-1).ravel(), along.ravel()


def jitter(model, vids: list[sv.SyntheticVideo]) -> np.ndarray:
    """The wrists' keypoint speeds (person sizes / s) the detector's errors alone read: the
    errors on each stretch's first true frame held still (module docstring)."""
    fitter = smplify.Fitter(model, format=FORMAT, image_size=vids[0].image_size)
    settings = fitter._settings  # the format's keypoints matched to the model, as the Fitter
    speed = pose_filter.KeypointSpeed(
        pose_filter.format_moved_keypoints(model, settings.resolved),
        settings.torso_keypoints, online.labellings(settings.format)[1],
        settings.options.track_fps)
    out = []
    for v in vids:
        seen = v.keypoints[:, :, 2] > 0
        still = v.clean[0] + np.where(seen[..., None], v.keypoints[:, :, :2] - v.clean, 0.0)
        size = float(np.max(online.torso_span(v.clean[:, settings.torso_keypoints])))
        speed.reset()
        read = [speed(xy, c, size)[[18, 19]] for xy, c in zip(still, v.keypoints[:, :, 2],
                                                                strict=True)]
        out.extend(read[1:])  # (the first frame reads none)
    return np.concatenate(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", choices=sorted(SETS), default="tuning")
    ap.add_argument("--seeds", default="500,600")
    ap.add_argument("--variants", default='{"default": {}, "unfiltered": '
                                          '{"track_smoothing": 0.0}}')
    ap.add_argument("--output", type=Path, help="JSON of the rows")
    args = ap.parse_args()
    model = smplify.load_model("open")
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        vids = videos(model, args.set, seed)
        noise = jitter(model, vids)
        rows.append({"seed": seed, "variant": "jitter",
                     "wrist_speed_median": float(np.median(noise)),
                     "wrist_speed_p90": float(np.quantile(noise, 0.9))})
        print(f"seed {seed} the detector's jitter alone reads as wrist keypoint speed "
              f"{rows[-1]['wrist_speed_median']:.2f} median, {rows[-1]['wrist_speed_p90']:.2f} "
              "p90 torso lengths / s", flush=True)
        for name, options in json.loads(args.variants).items():
            runs = [run(model, v, options) for v in vids]
            scores = [accuracy(j, v) for (j, _, _), v in zip(runs, vids, strict=True)]
            lag = [wrist_errors(k, v.clean) for (_, k, _), v in zip(runs, vids, strict=True)]
            speed, error, along = (np.concatenate(x) for x in zip(*lag, strict=True))
            fast = speed >= np.quantile(speed, 0.9)
            row = {"seed": seed, "variant": name, "options": options,
                   "pa_mpjpe_mm": float(np.mean([s[0] for s in scores])),
                   "accel_error_mm": float(np.mean([s[1] for s in scores])),
                   "fast_px_per_frame": float(np.quantile(speed, 0.9)),
                   "fast_wrist_px": float(np.mean(error[fast])),
                   "fast_wrist_along_px": float(np.mean(along[fast])),
                   "all_wrist_px": float(np.mean(error)),
                   "cpu_ms_median": float(np.median(np.concatenate([c for *_, c in runs])))}
            rows.append(row)
            print(f"seed {seed} {name:28s} PA-MPJPE {row['pa_mpjpe_mm']:5.1f} mm  accel error "
                  f"{row['accel_error_mm']:5.1f}  fast wrist (> {row['fast_px_per_frame']:.1f} "
                  f"px/f) {row['fast_wrist_px']:5.1f} px (along {row['fast_wrist_along_px']:+5.1f})"
                  f"  all {row['all_wrist_px']:4.1f} px  CPU {row['cpu_ms_median']:.2f} ms/f",
                  flush=True)
    if args.output:
        args.output.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
