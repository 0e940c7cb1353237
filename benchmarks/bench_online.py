"""Per-frame cost of the online Fitter (issue 11: ≤ 1 ms a frame median on one core), its
track options side by side, on bench_video.py's clips and detector.

Input as ``bench_video.py``: the four held-out CMU clips, frames ``--start``.. (default
120..240), the open model, COCO-17, a camera 5 m away, the synthetic detector's default
errors (noise, dropped frames and keypoints, swap bursts, limb swaps, occlusion), detector
seed ``--seed`` + clip.

One core: the Fitters run with ``threads=1`` and this script pins NumPy's BLAS to one thread
before importing it (OpenBLAS otherwise wakes a second thread for the initialiser's small
matrix products, which on a loaded machine costs more than the product; its spinning also
counts as CPU time of the process). CPU time per frame is ``time.process_time`` around each
``Fitter.fit`` (a frame that raises, e.g. a dropped frame, is timed too).

Per configuration: median and mean CPU ms a frame, CPU frames/s (frames / summed CPU), the
frames by how they went (``summary["start"]``, and "2 labellings" where a second reading of
the keypoints was fitted), median CPU ms of the plain warm frames (one fit, no check), and
PA-MPJPE / acceleration error over the clips (means; a frame without output shows the last).

    .venv/bin/python benchmarks/bench_online.py            # ~1 min; JSON in results/
    .venv/bin/python benchmarks/bench_online.py --clips 2 --frames 60   # quick

Runs against any build of the library (only the public Fitter API), so the same script
measures a branch before and after a change: run it with each build's Python.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads its BLAS

import argparse  # noqa: E402
import json  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import smplify  # noqa: E402
from bench_video import (  # noqa: E402
    SEQUENCES,
    accuracy,
    clip_arguments,
    clip_video,
    fitted,
    hold_last,
)
from smplify import synthetic_video as sv  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "bench_online.json"
FORMAT = "coco17"
#: Configurations side by side: Fitter options.
CONFIGS = {
    "plain warm (track=False)": {"track": False},
    "online (defaults)": {},
    "online, output unfiltered": {"track_smoothing": 0.0},
    "online, keypoint-speed cutoff": {"track_smoothing_keypoint_beta": 8.0,
                                      "track_smoothing_keypoint_floor": 2.5},
    "online, no refits": {"track_refit_every": 0, "track_refit_ratio": 0.0},
    "online, refits capped at 6 iterations": {"track_refit_iterations": 6},
}


def run(video: sv.SyntheticVideo, model: object, options: dict[str, object]) -> dict:
    """One configuration on one clip: per-frame CPU seconds, how each frame went, joints."""
    seconds: list[tuple[float, float]] = []
    kinds, joints = [], []
    for result in fitted(video, model, options, seconds):
        if result is None:
            kinds.append("no output")
        else:
            kind = result.summary["start"]
            if kind == "warm" and result.summary.get("labelling", "as seen") != "as seen":
                kind = "warm, other labelling"
            kinds.append(kind)
        joints.append(None if result is None else result.joints)
    joints = hold_last(joints)
    pa, accel_error = accuracy(joints, video)
    return {"cpu": [cpu for _, cpu in seconds], "kinds": kinds, "pa_mpjpe_mm": pa,
            "accel_error_mm": accel_error}


def clips(model: object, args: argparse.Namespace) -> list[sv.SyntheticVideo]:
    """The clips ``clip_arguments`` chose, through the synthetic detector."""
    return [clip_video(model, seq, args.seed + c, slice(args.start, args.start + args.frames),
                       args.confidence)
            for c, seq in enumerate(sv.load_sequences(SEQUENCES)[:args.clips])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    clip_arguments(parser)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=list(CONFIGS),
                        help="the configurations to run (an older build lacks some options)")
    args = parser.parse_args()

    model = smplify.load_model("open")
    videos = clips(model, args)
    summary = {}
    for name in args.configs:
        options = CONFIGS[name]
        runs = [run(video, model, options) for video in videos]
        cpu = 1000 * np.concatenate([r["cpu"] for r in runs])
        kinds = [k for r in runs for k in r["kinds"]]
        plain = cpu[[k == "warm" for k in kinds]]
        summary[name] = {
            "median_cpu_ms": float(np.median(cpu)), "mean_cpu_ms": float(np.mean(cpu)),
            "cpu_fps": float(1000 * len(cpu) / np.sum(cpu)),
            "plain_warm_median_cpu_ms": float(np.median(plain)) if len(plain) else None,
            "frames": dict(Counter(kinds)),
            "pa_mpjpe_mm": float(np.mean([r["pa_mpjpe_mm"] for r in runs])),
            "accel_error_mm": float(np.mean([r["accel_error_mm"] for r in runs]))}
    print(f"{len(videos)} clips x {args.frames} frames, one thread, CPU time per frame:")
    for name, s in summary.items():
        print(f"  {name:26s} median {s['median_cpu_ms']:5.2f} ms  mean {s['mean_cpu_ms']:5.2f} ms"
              f"  ({s['cpu_fps']:6.0f} frames/s of CPU)  plain warm frames "
              f"{s['plain_warm_median_cpu_ms'] or float('nan'):5.2f} ms  "
              f"PA-MPJPE {s['pa_mpjpe_mm']:5.1f} mm  accel error {s['accel_error_mm']:5.1f}")
        print("      frames: " + ", ".join(f"{k} {v}" for k, v in sorted(s["frames"].items())))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                       "version": getattr(smplify, "__version__", "?"),
                                       "summary": summary}, indent=1) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
