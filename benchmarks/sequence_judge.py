"""fit_sequence's start judge on held-out clips: the path chosen against the best one, variants
side by side.

    .venv/bin/python benchmarks/sequence_judge.py [--variants '{"name": {option: value}}']

Clips: bench_video's (the four held-out clips of ``tests/data/heldout_sequences.npz``,
frames 120..240, detector seed 100 + clip) and tests/test_sequence.py's short stretches
(frames 30..60, seed 40 + clip), COCO-17, one thread, 5 m away (``--distance``: far people,
with ``--noise-pixels`` the detector noise's floor). Per variant and set: fit_sequence's
PA-MPJPE and acceleration error (mm, bench_video's scores), median CPU frames/s, and at the
start's keyframes the PA-MPJPE of the states the Viterbi judge picks beside the oracle's
(at each keyframe the candidate nearest the truth) and each candidate track alone. The
variants' options are chosen on the tuning clips (tools/tune_sequence.py), never here.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import smplify
from bench_video import SEQUENCES, accuracy, confidence_argument
from smplify import sequence
from smplify import synthetic_video as sv
from smplify.sequence_start import viterbi_path
from smplify.synthetic import pa_mpjpe

FORMAT = "coco17"
#: The defaults beside the judges measured in session 9 (tuning-clip figures: docs/video.md).
VARIANTS = {"defaults": {},
            "reading score": {"reading_weight": 2000.0},
            "acceleration": {"transition_weight": 0.0, "accel_weight": 0.03},
            "online + backward": {"initial_tracks": ("online", "backward")},
            "online + backward, reading score": {"initial_tracks": ("online", "backward"),
                                                 "reading_weight": 2000.0}}
#: (first frame, last frame + 1, detector seed of clip 0) of each set: bench_video's, the
#: tests' short stretches, and (``--sets``) the same clips under other detector seeds.
SETS = {"bench_video": (120, 240, 100), "short stretches": (30, 60, 40),
        "frames 0-120 seed 200": (0, 120, 200), "frames 120-240 seed 300": (120, 240, 300),
        "bench_video seed 200": (120, 240, 200), "bench_video seed 400": (120, 240, 400)}


def recorded(model, video: sv.SyntheticVideo, options: dict, choose=None
             ) -> tuple[np.ndarray, tuple]:
    """fit_sequence's joints on one video and its start's (tracks, keyframes, pixels per
    metre, path): the
    path is the one the fit took, as the judge returned it with every weight fit_sequence
    passed; ``choose(tracks, keys)``: a path to use instead of the Viterbi judge's."""
    seen: list[tuple] = []

    def record(tracks, keys, pixels_per_metre, *weights, **named):
        if choose is not None:
            path = choose(tracks, keys)
        else:
            path = viterbi_path(tracks, keys, pixels_per_metre, *weights, **named)
        seen.append((tracks, keys, pixels_per_metre, np.asarray(path)))
        return path

    sequence.viterbi_path = record  # the judge is swapped in this process only
    try:
        res = smplify.fit_sequence(video.keypoints, FORMAT, video.image_size,
                                   video.focal_length, model=model, threads=1, **options)
    finally:
        sequence.viterbi_path = viterbi_path
    return res.joints, seen[0]


def state_errors(video: sv.SyntheticVideo, tracks: list, keys: np.ndarray) -> np.ndarray:
    """(keyframes, tracks) PA-MPJPE (mm) of each track's fit against the truth (inf where
    it has none)."""
    return np.array([[1000 * pa_mpjpe(tr.joints[t], video.joints[t]) if tr.fitted[t]
                      else np.inf for tr in tracks] for t in keys])


def keyframe_scores(errors: np.ndarray, path: np.ndarray) -> dict[str, object]:
    """Mean keyframe PA-MPJPE (mm) of the path, of the oracle and of each track alone."""
    alone = [float(np.mean(e[np.isfinite(e)])) for e in errors.T]
    return {"chosen": float(np.mean(errors[np.arange(len(path)), path])),
            "oracle": float(np.mean(errors.min(axis=1))), "alone": alone}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variants", default=None, help="JSON: name -> fit_sequence options")
    ap.add_argument("--sets", default="bench_video,short stretches",
                    help=f"comma-separated, of: {', '.join(SETS)}")
    ap.add_argument("--output", type=Path,
                    default=Path(__file__).resolve().parent / "results" / "sequence_judge.json")
    ap.add_argument("--distance", type=float, default=5.0,
                    help="metres from the camera to the motion (e.g. 20: far people)")
    ap.add_argument("--noise-pixels", type=float, default=0.0,
                    help="the detector noise's floor in pixels (DetectorErrors.noise_pixels)")
    confidence_argument(ap)
    args = ap.parse_args()
    errors = sv.DetectorErrors(confidence_model=args.confidence,
                               noise_pixels=args.noise_pixels)
    variants = json.loads(args.variants) if args.variants else VARIANTS
    model = smplify.load_model("open")
    sequences = sv.load_sequences(SEQUENCES)
    out: dict[str, dict] = {}
    for set_name in args.sets.split(","):
        a, b, seed = SETS[set_name]
        videos = [sv.make_video(model, s, FORMAT, np.random.default_rng(seed + c),
                                errors, distance=args.distance, frames=slice(a, b))
                  for c, s in enumerate(sequences)]
        for name, options in variants.items():
            rows = []
            for video in videos:
                start = time.process_time()
                joints, (tracks, keys, _, path) = recorded(model, video, options)
                cpu = time.process_time() - start
                pa, acc = accuracy(joints, video)
                rows.append({"pa_mpjpe_mm": pa, "accel_error_mm": acc,
                             "cpu_fps": video.num_frames / cpu,
                             "keyframes": keyframe_scores(state_errors(video, tracks, keys),
                                                          path)})
            summary = {"pa_mpjpe_mm": float(np.mean([r["pa_mpjpe_mm"] for r in rows])),
                       "accel_error_mm": float(np.mean([r["accel_error_mm"] for r in rows])),
                       "cpu_fps_median": float(np.median([r["cpu_fps"] for r in rows])),
                       "keyframes_chosen_mm": float(np.mean([r["keyframes"]["chosen"]
                                                             for r in rows])),
                       "keyframes_oracle_mm": float(np.mean([r["keyframes"]["oracle"]
                                                             for r in rows]))}
            out.setdefault(set_name, {})[name] = {"options": options, "summary": summary,
                                                  "clips": rows}
            print(f"{set_name:15s} {name:34s} PA-MPJPE {summary['pa_mpjpe_mm']:6.1f} mm  "
                  f"accel error {summary['accel_error_mm']:5.1f}  CPU frames/s "
                  f"{summary['cpu_fps_median']:6.1f}  keyframes: chosen "
                  f"{summary['keyframes_chosen_mm']:5.1f} oracle "
                  f"{summary['keyframes_oracle_mm']:5.1f}  per clip "
                  f"{' '.join(f'{pa:.0f}' for pa in (r['pa_mpjpe_mm'] for r in rows))}", flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    # The arguments beside the sets' results (as bench_video and bench_online record theirs).
    doc = {"args": {k: str(v) for k, v in vars(args).items()}, **out}
    args.output.write_text(json.dumps(doc, indent=1, default=list) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
