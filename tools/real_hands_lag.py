"""The online Fitter's hands' lag on REAL video: the fitted wrist's 2D error on fast frames.

    OPENBLAS_NUM_THREADS=1 XDG_CACHE_HOME=... python tools/real_hands_lag.py
        [--video sports2d] [--variants '{"name": {option: value}}']

``benchmarks/bench_real_video.py``'s video, its 4 longest tracks, MediaPipe's detections
(cached by that benchmark), mediapipe33, the online Fitter as it fits them (``fit_frames``,
``track_fps`` the video's) with each variant's options, and the per-frame fits (computed
once, cached beside the benchmark's as ``hands_lag_<video>_track<id>_per-frame.npz``).

Reference: MediaPipe's sure wrists (confidence ≥ 0.5 on this and the previous frame); each
fitted wrist against the nearer of the two detected ones (the track may read the labels
mirrored, docs/video.md). Fast frames: the fastest 10% of the (frame, wrist) samples by the
detected wrist's 2D speed (px/frame), pooled over the tracks. Per variant: the mean error
(px) there and its component along the wrist's motion (negative = behind), over all sure
samples too; the pelvis-relative joint acceleration (mm/frame², bench_real_video's), the
facing turns > 90° per 100 frames, and the CPU ms/frame (median).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import smplify

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_real_video import fit_frames  # noqa: E402  (the benchmark's own)
from real_video_metrics import acceleration, facing_turns  # noqa: E402
from real_videos import cache_dir, detections, tracks  # noqa: E402

WRISTS = (15, 16)  # mediapipe33 left, right wrist
SURE = 0.5


def wrist_samples(fit_2d: np.ndarray, valid: np.ndarray,
                  keypoints: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per (frame, fitted wrist) with both detected wrists sure on it and the frame
    before: the detected (matched) wrist's speed (px/frame), the error (px) and its
    component along that motion."""
    speed, error, along = [], [], []
    for t in range(1, len(valid)):
        if not (valid[t] and np.all(keypoints[t - 1:t + 1, WRISTS, 2] >= SURE)):
            continue
        seen = keypoints[t, WRISTS, :2]
        for w in WRISTS:
            diff = fit_2d[t, w] - seen
            k = int(np.argmin(np.linalg.norm(diff, axis=1)))
            motion = keypoints[t, WRISTS[k], :2] - keypoints[t - 1, WRISTS[k], :2]
            v = float(np.linalg.norm(motion))
            speed.append(v)
            error.append(float(np.linalg.norm(diff[k])))
            along.append(float(diff[k] @ motion / max(v, 1e-9)))
    return np.array(speed), np.array(error), np.array(along)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--video", default="sports2d")
    ap.add_argument("--tracks", type=int, default=4)
    ap.add_argument("--variants", default='{"default": {}, "unfiltered": '
                                          '{"track_smoothing": 0.0}}')
    args = ap.parse_args()
    model = smplify.load_model("open")
    found = detections(args.video)
    people = tracks(found)[:args.tracks]
    runs: dict[str, dict[int, dict[str, np.ndarray]]] = {"per-frame": {}}
    for track in people:
        path = cache_dir() / f"hands_lag_{args.video}_track{track.id}_per-frame.npz"
        if not path.is_file():
            np.savez(path, **fit_frames(track, found.image_size, found.fps, model,
                                        "per-frame", {}))
        runs["per-frame"][track.id] = dict(np.load(path))
    for name, options in json.loads(args.variants).items():
        runs[name] = {t.id: fit_frames(t, found.image_size, found.fps, model, "online",
                                       options) for t in people}
    pooled = {name: [wrist_samples(out[t.id]["keypoints_2d"], out[t.id]["valid"] & t.seen,
                                   t.keypoints) for t in people] for name, out in runs.items()}
    speed = np.concatenate([s for s, _, _ in pooled["per-frame"]])
    threshold = float(np.quantile(speed, 0.9))
    for name, out in runs.items():
        speed, error, along = (np.concatenate(x) for x in zip(*pooled[name], strict=True))
        fast = speed >= threshold
        accel = np.mean([acceleration(out[t.id]["joints"], out[t.id]["valid"] & t.seen)
                         for t in people])
        turns = 100 * sum(facing_turns(out[t.id]["global_orient"], out[t.id]["valid"] & t.seen)
                          ["turns_over_90"] for t in people) / sum(
            int((out[t.id]["valid"] & t.seen).sum()) for t in people)
        cpu = np.nanmedian(np.concatenate([out[t.id]["cpu_ms"] for t in people]))
        print(f"{args.video} {name:26s} fast wrist (> {threshold:.1f} px/f, {fast.sum()}) "
              f"{error[fast].mean():5.1f} px (along {along[fast].mean():+5.1f})  all "
              f"{error.mean():4.1f} px  accel {accel:5.1f} mm/f²  turns/100 {turns:.2f}  "
              f"CPU {cpu:.2f} ms/f", flush=True)


if __name__ == "__main__":
    main()
