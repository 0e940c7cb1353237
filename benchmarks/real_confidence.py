"""Does REAL MediaPipe confidence fall with the keypoint's error (issue 10)?

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/real_confidence.py
        [--videos vtest sports2d] [--tracks 4] [--cases 2000] [--clips 6]

The learned initialiser was trained on the realistic error model (``smplify.detections``:
confidence = 0.95 − 4 × error/size + noise, so it falls with the error); the synthetic video
detector (``smplify.synthetic_video``) drew confidences uniform in 0.5-1, unrelated to the
error (``confidence_model="uniform"``), and now by default draws them error-linked, its
constants set from this benchmark's real rows (``synthetic_video.CONFIDENCE_LOGIT``...).
Which does real output follow?

Real: the cached detections and fits of ``benchmarks/bench_real_video.py`` (nothing is
fitted here; a track's fits are used when their provenance names this run's detections and
the track's first frame and length). A keypoint's error is proxied by its 2D residual
against the ``online`` and ``sequence`` (fit_sequence) fits' reprojected keypoint: both
smooth over time, so the residual is mostly the detector's. Synthetic: the residual against
the TRUE keypoints, on the realistic set (held-out poses, random cameras) and on
synthetic_video clips (held-out sequences, default errors, either confidence model). All
formats are mediapipe33;
residuals are in units of the person's 2D torso length (shoulder midpoint to hip midpoint:
the detection's for real video, the truth's for synthetic), over reported keypoints
(confidence > 0). Per source: the median residual in each confidence decile, Spearman's
rank correlation of confidence with residual, the ratio of the residual's median in the
lowest confidence decile to the highest's (d1/d10), the share of gross residuals
(> ``GROSS`` = 0.3 torso lengths: swaps, wild guesses) and of those the share at or above
the source's median confidence ("conf.": confidently wrong; 0.5 if unrelated).
JSON: ``benchmarks/results/real_confidence.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import smplify
from bench_real_video import OUTPUT_KEYS, fits_path
from initializer import POSE_SPLITS, POSES
from real_videos import FRAMES, detections, detections_key, tracks
from scipy.stats import spearmanr
from smplify import detections as det
from smplify import synthetic_video as sv
from smplify.keypoint_formats import get_format, resolve_format

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "real_confidence.json"
SEQUENCES = HERE.parent / "tests" / "data" / "heldout_sequences.npz"
FORMAT = "mediapipe33"
SHOULDERS, HIPS = (11, 12), (23, 24)  # mediapipe33 indices
FIT_METHODS = ("online", "sequence")
#: A residual this large (torso lengths) is a gross error (a swap, a wild guess), not noise.
GROSS = 0.3


def torso_length(xy: np.ndarray) -> np.ndarray:
    """(...,) 2D distance from the shoulders' midpoint to the hips' of (..., 33, 2) keypoints."""
    mid_s = xy[..., SHOULDERS, :].mean(axis=-2)
    mid_h = xy[..., HIPS, :].mean(axis=-2)
    return np.linalg.norm(mid_s - mid_h, axis=-1)


def statistics(conf: np.ndarray, residual: np.ndarray) -> dict[str, object]:
    """Residual (torso lengths) binned by confidence deciles, and Spearman's rho."""
    ok = np.isfinite(residual) & np.isfinite(conf) & (conf > 0)
    conf, residual = conf[ok], residual[ok]
    edges = np.quantile(conf, np.linspace(0, 1, 11))
    which = np.clip(np.searchsorted(edges, conf, side="right") - 1, 0, 9)
    bins = []
    for b in range(10):
        r = residual[which == b]
        bins.append({"conf_lo": float(edges[b]), "conf_hi": float(edges[b + 1]), "n": int(r.size),
                     "median": float(np.median(r)) if r.size else float("nan"),
                     "p90": float(np.quantile(r, 0.9)) if r.size else float("nan")})
    rho = spearmanr(conf, residual).statistic
    gross = residual > GROSS
    return {"keypoints": int(conf.size), "spearman": float(rho),
            "decile_ratio": bins[0]["median"] / bins[-1]["median"],
            "gross_share": float(gross.mean()),
            "gross_confident": float(np.mean(conf[gross] >= np.median(conf)))
            if gross.any() else float("nan"),
            "median_all": float(np.median(residual)),
            "confidence_quartiles": [float(q) for q in np.quantile(conf, [0.25, 0.5, 0.75])],
            "deciles": bins}


def jitter(keypoints: np.ndarray, torso: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A fit-free noise proxy: confidence at frame t and |x(t−1) − 2 x(t) + x(t+1)| / torso(t)
    of (T, K, 3) keypoints, where the keypoint is reported in all three frames."""
    xy, conf = keypoints[..., :2], keypoints[..., 2]
    second = np.linalg.norm(xy[:-2] - 2 * xy[1:-1] + xy[2:], axis=-1) / torso[1:-1, None]
    seen = (conf[:-2] > 0) & (conf[1:-1] > 0) & (conf[2:] > 0)
    return conf[1:-1][seen], second[seen]


def real_video(video: str, num_tracks: int) -> dict[str, object]:
    """Per fit method, the pooled statistics over the video's tracks with cached fits."""
    found = detections(video, quiet=True)
    key = detections_key(video)
    out: dict[str, object] = {}
    jit_c, jit_r = [], []
    for track in tracks(found)[:num_tracks]:
        torso = torso_length(track.keypoints[..., :2])
        torso[(track.keypoints[:, SHOULDERS + HIPS, 2] <= 0).any(axis=1)] = np.nan
        c, r = jitter(track.keypoints, torso)
        jit_c.append(c)
        jit_r.append(r)
    out["jitter"] = statistics(np.concatenate(jit_c), np.concatenate(jit_r))
    for method in FIT_METHODS:
        confs, resids, used = [], [], []
        for track in tracks(found)[:num_tracks]:
            path = fits_path(video, track.id, method)
            if not path.is_file():
                continue
            with np.load(path) as z:
                prov = json.loads(str(z["provenance"]))
                fit = {k: z[k] for k in OUTPUT_KEYS}
            if (prov["detections"], prov["first"], prov["length"]) != \
                    (key, int(track.first), len(track.seen)):
                continue  # fits of other detections or another track
            frames = track.seen & fit["valid"]
            kp = track.keypoints[frames]
            torso = torso_length(kp[..., :2])
            torso[(kp[:, SHOULDERS + HIPS, 2] <= 0).any(axis=1)] = np.nan
            resid = np.linalg.norm(kp[..., :2] - fit["keypoints_2d"][frames], axis=-1)
            confs.append(kp[..., 2].ravel())
            resids.append((resid / torso[:, None]).ravel())
            used.append({"track": track.id, "frames": int(frames.sum()),
                         "package": prov["package"]})
        if used:
            out[method] = {**statistics(np.concatenate(confs), np.concatenate(resids)),
                           "tracks": used}
    return out


def realistic_set(model: smplify.BodyModel, n: int, seed: int) -> dict[str, object]:
    """The initialiser's training error model on ``n`` held-out test poses."""
    rng = np.random.default_rng(seed)
    poses = np.load(POSES)["body_pose"].astype(np.float64)[POSE_SPLITS["test"]]
    pick = rng.choice(len(poses), n, replace=len(poses) < n)
    theta = np.concatenate([rng.normal(scale=0.1, size=(n, 3)), poses[pick]], axis=1)
    betas = np.clip(rng.normal(size=(n, model.num_betas)), -2.5, 2.5)
    resolved = resolve_format(FORMAT, model.keypoint_names, model.num_vertices,
                              model.keypoint_regressor)
    points, _ = det.body_points(model, {FORMAT: resolved}, theta, betas)
    views = det.random_views(rng, n)
    uv, _ = det.project(np.nan_to_num(points[FORMAT]), np.zeros((n, 3)), views)
    kp = det.detector_errors(uv, get_format(FORMAT).keypoint_names, views.image_size, rng,
                             resolved.available)
    resid = np.linalg.norm(kp[..., :2] - uv, axis=-1) / torso_length(uv)[:, None]
    return statistics(kp[..., 2].ravel(), resid.ravel())


def synthetic_video(model: smplify.BodyModel, clips: int, frames: int, seed: int,
                    errors: sv.DetectorErrors | None = None) -> dict[str, object]:
    """The synthetic video detector (``errors``, None: the default) on held-out sequences."""
    errors = errors or sv.DetectorErrors()
    confs, resids, jit_c, jit_r = [], [], [], []
    for c, seq in enumerate(sv.load_sequences(SEQUENCES)[:clips]):
        video = sv.make_video(model, seq, FORMAT, np.random.default_rng(seed + c),
                              errors=errors, frames=slice(0, frames))
        resid = np.linalg.norm(video.keypoints[..., :2] - video.clean, axis=-1)
        confs.append(video.keypoints[..., 2].ravel())
        resids.append((resid / torso_length(video.clean)[:, None]).ravel())
        c, r = jitter(video.keypoints, torso_length(video.clean))
        jit_c.append(c)
        jit_r.append(r)
    return {"truth": statistics(np.concatenate(confs), np.concatenate(resids)),
            "jitter": statistics(np.concatenate(jit_c), np.concatenate(jit_r))}


def print_table(rows: dict[str, dict[str, object]]) -> None:
    print("median residual (torso lengths) per confidence decile, lowest confidence first")
    print(f"{'source':42s} {'conf q25/50/75':>15s} {'rho':>6s} {'d1/d10':>6s} "
          f"{'gross':>6s} {'conf.':>5s} " + " ".join(f"d{b + 1:<5d}" for b in range(10)))
    for name, s in rows.items():
        meds = " ".join(f"{d['median']:<6.3f}" for d in s["deciles"])  # type: ignore[index]
        qs = "/".join(f"{q:.2f}" for q in s["confidence_quartiles"])  # type: ignore[attr-defined]
        print(f"{name:42s} {qs:>15s} {s['spearman']:6.2f} {s['decile_ratio']:6.2f} "
              f"{s['gross_share']:6.3f} {s['gross_confident']:5.2f} {meds}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", nargs="+", default=list(FRAMES))
    parser.add_argument("--tracks", type=int, default=4, help="longest tracks per video")
    parser.add_argument("--cases", type=int, default=2000, help="realistic-set cases")
    parser.add_argument("--clips", type=int, default=6, help="synthetic_video clips")
    parser.add_argument("--frames", type=int, default=200, help="frames per clip")
    parser.add_argument("--seed", type=int, default=1500)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    model = smplify.load_model("open")
    start = time.process_time()
    rows: dict[str, dict[str, object]] = {}
    for video in args.videos:
        for method, stats in real_video(video, args.tracks).items():
            name = "jitter" if method == "jitter" else f"vs {method} fit"
            rows[f"real {video} {name}"] = stats  # type: ignore[assignment]
    rows["realistic set vs truth"] = realistic_set(model, args.cases, args.seed)
    for conf_model in sv.CONFIDENCE_MODELS:
        errors = sv.DetectorErrors(confidence_model=conf_model)
        for name, stats in synthetic_video(model, args.clips, args.frames, args.seed,
                                           errors).items():
            rows[f"synthetic_video {conf_model} {'vs truth' if name == 'truth' else name}"] \
                = stats
    print_table(rows)
    doc = {"args": {k: str(v) for k, v in vars(args).items()},
           "date": time.strftime("%Y-%m-%d"), "cpu_s": time.process_time() - start,
           "rows": rows}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {args.output} ({doc['cpu_s']:.0f} s CPU)")


if __name__ == "__main__":
    main()
