"""Where a video frame's time goes: decode, detect, fit, render, write (``smplify fit VIDEO``).

    .venv/bin/python benchmarks/bench_frontend.py [--frames 60] [--video PATH] \
        [--photo-detector] [--json PATH]

Runs ``smplify.pipeline.run`` (what ``smplify fit VIDEO --out DIR`` runs) on the first
``--frames`` frames of OpenCV's ``vtest.avi`` (Debian ``opencv-doc``; 768 x 576, pedestrians
~100 px tall) and prints, per stage, the median and mean milliseconds per frame, plus people
found per frame. Stages: decode (OpenCV), detect (MediaPipe + HOG people boxes, and the
tracker; for a video the detector's video mode, ``smplify.video_detection``, as the CLI
runs it; ``--photo-detector``: ``Detector.detect`` on every frame, the front end before it),
fit (one warm-started ``Fitter`` per track), render (OpenGL overlay), write (mesh,
parameters and overlay PNG per person and frame, the overlay video). Needs the ``render`` and
``detect`` extras. Writes ``benchmarks/results/bench_frontend.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import smplify
from smplify.pipeline import STAGES, run
from smplify.sources import open_source

ROOT = Path(__file__).resolve().parent
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


class _EveryFrame:
    """``Detector.detect`` alone (not a ``Detector``, so the pipeline does not run its video
    mode)."""

    def __init__(self) -> None:
        from smplify.detection import Detector

        self.detect = Detector().detect


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=VTEST)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--photo-detector", action="store_true",
                        help="the full detector on every frame (no video mode)")
    parser.add_argument("--json", type=Path, default=ROOT / "results" / "bench_frontend.json")
    args = parser.parse_args()
    if not args.video.is_file():
        print(f"{args.video} not found (apt-get install opencv-doc)")
        return 1
    model = smplify.load_model("open")
    source = open_source(args.video)
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        summary = run(source, out, model=model, max_frames=args.frames,
                      detector=_EveryFrame() if args.photo_detector else None)
        wall = time.perf_counter() - start
    per_frame = {s: 1000 * np.array([f[s] for f in summary.frame_seconds]) for s in STAGES}
    total = sum(per_frame.values())
    print(f"{args.video.name}: {summary.frames} frames of {source.image_size[0]} x "
          f"{source.image_size[1]}, {summary.fits} fits ({summary.fits / summary.frames:.1f} "
          f"people a frame), {summary.tracks} tracks, {wall:.1f} s")
    print(f"{'stage':8s} {'median ms':>10s} {'mean ms':>9s} {'share':>6s}")
    rows = {}
    for stage in STAGES:
        ms = per_frame[stage]
        rows[stage] = {"median_ms": float(np.median(ms)), "mean_ms": float(ms.mean())}
        print(f"{stage:8s} {np.median(ms):10.1f} {ms.mean():9.1f} "
              f"{ms.sum() / total.sum():6.1%}")
    print(f"{'frame':8s} {np.median(total):10.1f} {total.mean():9.1f}")
    result = {"video": str(args.video), "frames": summary.frames, "fits": summary.fits,
              "tracks": summary.tracks, "stages": rows,
              "frame_ms": {"median": float(np.median(total)), "mean": float(total.mean())},
              "detector": "photo" if args.photo_detector else "video",
              "machine": platform.platform(), "date": time.strftime("%Y-%m-%d")}
    path = args.json
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
