"""The online Fitter's hands' lag on REAL video: the fitted wrist's 2D error on fast frames.

    OPENBLAS_NUM_THREADS=1 XDG_CACHE_HOME=... python tools/real_hands_lag.py
        [--video sports2d] [--variants '{"name": {option: value}}'] [--output rows.json]

``benchmarks/bench_real_video.py``'s video, its 4 longest tracks, MediaPipe's detections
(cached by that benchmark), mediapipe33, the online Fitter as it fits them (``fit_frames``,
``track_fps`` the video's) with each variant's options, and the per-frame fits (computed
once, cached beside the benchmark's as ``hands_lag_<detections key>_track<id>_per-frame.npz``:
keyed by the detections, so a new detector's are fitted anew).

The samples are the same for every variant: the (frame, wrist) pairs of the frames every run
fitted with both detected wrists sure (confidence ≥ 0.5) on it and the frame before. Each
frame's pairing of fitted and detected wrists is chosen once for every variant, two ways
(each a row): "per-frame", from the per-frame fit (its two wrists against the detected two,
as given or swapped: the nearer; the track may read the labels mirrored, docs/video.md), and
"as given", the detector's labels. Fast samples: the fastest 10% by the detected wrist's 2D
speed (px/frame: the shorter of its step from its own and from the other wrist's last place,
a swap being no motion), from the detections alone. Per variant: the mean error (px) there
and its component along the wrist's motion (negative = behind), over all samples too; the
pelvis-relative joint acceleration (mm/frame², bench_real_video's), the facing turns > 90°
per 100 frames, the CPU ms/frame (median); the share of the samples whose frame the variant
reads mirrored (its wrists nearer the other pairing) and the fast error without them.
``--output``: the rows as JSON.
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
from real_videos import cache_dir, detections, detections_key, tracks  # noqa: E402

WRISTS = np.array([15, 16])  # mediapipe33 left, right wrist
SURE = 0.5


def samples(per_frame_2d: np.ndarray | None, fitted: np.ndarray,
            keypoints: np.ndarray) -> dict[str, np.ndarray]:
    """The (frame, wrist) samples of one track, the same for every variant: per sample the
    frame, the fitted wrist's and its paired detected wrist's keypoint, the detected wrist's
    speed (px/frame) and step (2,). ``fitted``: (T,) the frames every run fitted;
    ``per_frame_2d``: the per-frame fit's keypoints that choose the pairing (None: as
    given)."""
    out: dict[str, list] = {"frame": [], "fit": [], "seen": [], "speed": [], "step": []}
    for t in range(1, len(fitted)):
        if not (fitted[t] and np.all(keypoints[t - 1:t + 1, WRISTS, 2] >= SURE)):
            continue
        seen, last = keypoints[t, WRISTS, :2], keypoints[t - 1, WRISTS, :2]
        pair = [0, 1]
        if per_frame_2d is not None:
            fit = per_frame_2d[t, WRISTS]
            if (np.linalg.norm(fit - seen[::-1], axis=1).sum()
                    < np.linalg.norm(fit - seen, axis=1).sum()):
                pair = [1, 0]
        for w in range(2):
            d = pair[w]
            steps = seen[d] - last[[d, 1 - d]]  # from its own, from the other's last place
            step = steps[int(np.argmin(np.linalg.norm(steps, axis=1)))]
            out["frame"].append(t)
            out["fit"].append(WRISTS[w])
            out["seen"].append(WRISTS[d])
            out["speed"].append(float(np.linalg.norm(step)))
            out["step"].append(step)
    return {"frame": np.array(out["frame"], dtype=int), "fit": np.array(out["fit"], dtype=int),
            "seen": np.array(out["seen"], dtype=int),
            "speed": np.array(out["speed"], dtype=float),
            "step": np.array(out["step"], dtype=float).reshape(-1, 2)}


def errors(fit_2d: np.ndarray, keypoints: np.ndarray,
           s: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per sample: the fitted wrist's error (px), its component along the step, and whether
    the fit reads the frame mirrored (its two wrists nearer the other pairing)."""
    diff = fit_2d[s["frame"], s["fit"]] - keypoints[s["frame"], s["seen"], :2]
    along = np.sum(diff * s["step"], axis=1) / np.maximum(s["speed"], 1e-9)
    other = fit_2d[s["frame"], s["fit"]] - keypoints[s["frame"], WRISTS.sum() - s["seen"], :2]
    near, far = np.linalg.norm(diff, axis=1), np.linalg.norm(other, axis=1)
    # (samples come in pairs: a frame's two wrists)
    mirrored = np.repeat((far[0::2] + far[1::2]) < (near[0::2] + near[1::2]), 2)
    return near, along, mirrored


def row(video: str, name: str, options: dict, pairing: str, people: list, out: dict,
        threshold: float, fast: np.ndarray, error: np.ndarray, along: np.ndarray) -> dict:
    """One variant's scores under one pairing, printed."""
    accel = np.mean([acceleration(out[t.id]["joints"], out[t.id]["valid"] & t.seen)
                     for t in people])
    turns = 100 * sum(facing_turns(out[t.id]["global_orient"], out[t.id]["valid"] & t.seen)
                      ["turns_over_90"] for t in people) / sum(
        int((out[t.id]["valid"] & t.seen).sum()) for t in people)
    cpu = np.nanmedian(np.concatenate([out[t.id]["cpu_ms"] for t in people]))
    print(f"{video} {pairing:9s} {name:18s} fast wrist (> {threshold:.1f} px/f, {fast.sum()} "
          f"of {fast.size}) {error[fast].mean():5.1f} px (along {along[fast].mean():+5.1f})  "
          f"all {error.mean():4.1f} px  accel {accel:5.1f} mm/f²  turns/100 {turns:.2f}  "
          f"CPU {cpu:.2f} ms/f", flush=True)
    return {"video": video, "variant": name, "options": options, "pairing": pairing,
            "tracks": [int(t.id) for t in people], "fast_px_per_frame": threshold,
            "fast_samples": int(fast.sum()), "samples": int(fast.size),
            "fast_wrist_px": float(error[fast].mean()),
            "fast_wrist_along_px": float(along[fast].mean()), "all_wrist_px": float(error.mean()),
            "accel_mm": float(accel), "turns_over_90_per_100": float(turns),
            "cpu_ms_median": float(cpu)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--video", default="sports2d")
    ap.add_argument("--tracks", type=int, default=4)
    ap.add_argument("--variants", default='{"default": {}, "unfiltered": '
                                          '{"track_smoothing": 0.0}}')
    ap.add_argument("--output", type=Path, help="JSON of the rows")
    args = ap.parse_args()
    model = smplify.load_model("open")
    found = detections(args.video)
    people = tracks(found)[:args.tracks]
    runs: dict[str, dict[int, dict[str, np.ndarray]]] = {"per-frame": {}}
    for track in people:
        path = (cache_dir()
                / f"hands_lag_{detections_key(args.video)}_track{track.id}_per-frame.npz")
        if not path.is_file():
            np.savez(path, **fit_frames(track, found.image_size, found.fps, model,
                                        "per-frame", {}))
        runs["per-frame"][track.id] = dict(np.load(path))
    variants = {"per-frame": {}, **json.loads(args.variants)}
    for name, options in variants.items():
        if name != "per-frame":
            runs[name] = {t.id: fit_frames(t, found.image_size, found.fps, model, "online",
                                           options) for t in people}
    fitted = {t.id: t.seen & np.all([out[t.id]["valid"] for out in runs.values()], axis=0)
              for t in people}
    rows = []
    for pairing in ("per-frame", "as given"):
        picked = {t.id: samples(runs["per-frame"][t.id]["keypoints_2d"] if pairing
                                == "per-frame" else None, fitted[t.id], t.keypoints)
                  for t in people}
        speed = np.concatenate([picked[t.id]["speed"] for t in people])
        threshold = float(np.quantile(speed, 0.9))
        fast = speed >= threshold
        for name, out in runs.items():
            error, along, mirrored = (np.concatenate(x) for x in zip(
                *(errors(out[t.id]["keypoints_2d"], t.keypoints, picked[t.id])
                  for t in people), strict=True))
            rows.append(row(args.video, name, variants[name], pairing, people, out,
                            threshold, fast, error, along))
            rows[-1]["mirrored_share"] = float(mirrored.mean())
            rows[-1]["fast_mirrored_share"] = float(mirrored[fast].mean())
            rows[-1]["fast_wrist_px_unmirrored"] = float(error[fast & ~mirrored].mean())
            print(f"    read mirrored: {mirrored.mean():.2f} of the samples, "
                  f"{mirrored[fast].mean():.2f} of the fast; the fast not mirrored "
                  f"{error[fast & ~mirrored].mean():5.1f} px", flush=True)
    if args.output:
        args.output.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
