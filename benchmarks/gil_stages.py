"""Which stages of ``smplify fit VIDEO`` let another Python thread run (release the GIL).

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/gil_stages.py [--video PATH] \
        [--seconds 3] [--json PATH]

A probe thread counts turns of a pure-Python loop while the main thread repeats one stage
for ``--seconds``. The switch interval is set to 1 s, so the main thread keeps the GIL
while it runs Python (or C that keeps it) and the probe only runs while the main thread
has released it (C that releases the GIL, I/O, sleep); the probe gives the GIL back every 100
turns (``time.sleep(0)``), so the main thread gets it back at once. The probe's turns per
second, as a share of its rate while the main thread sleeps, is the share of the stage's
time another Python thread can run. Calibration rows: ``sleep`` (100% by definition) and a
pure-Python loop (~0%). The machine's load slows the probe in every row alike.

The probe also needs a core: a stage that releases the GIL but keeps the cores busy
(MediaPipe's and llvmpipe's own threads, on 2 cores) slows it by contention, not by the
GIL. So the shares are lower bounds of the time the GIL is free, and two more calibration
rows measure that contention with the GIL released: ``sha256 1 thread`` (hashlib on 32 MB,
GIL released, one core busy) and ``sha256 2 threads`` (two at once, both cores busy). A
stage's share near the second row's is not evidence that it holds the GIL.

Stages on frame 40 of ``vtest.avi``: detect (``VideoDetector.detect``, MediaPipe), fit (one
warm ``Fitter.fit`` of a detected person), render (``pipeline._draw``: the OpenGL overlay),
png (``save_png`` of the overlay, zlib), obj (``save_mesh``), params (``save_params``
.npz and .json). Writes ``benchmarks/results/gil_stages.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


class _Probe:
    """A thread counting turns of a Python loop, read before and after a stage."""

    def __init__(self) -> None:
        self.turns, self._stop = 0, False
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        while not self._stop:
            self.turns += 1
            if self.turns % 100 == 0:
                time.sleep(0)  # gives the GIL back to the main thread

    def rate_during(self, stage, seconds: float) -> tuple[float, int]:
        """Probe turns per second while ``stage()`` repeats for ``seconds``; the repeats."""
        start, t0, n = self.turns, time.perf_counter(), 0
        while time.perf_counter() - t0 < seconds:
            stage()
            n += 1
        return (self.turns - start) / (time.perf_counter() - t0), n

    def stop(self) -> None:
        self._stop = True
        self._thread.join()


def _stages(video: Path, out: Path) -> dict:
    import cv2
    import smplify
    from smplify import pipeline
    from smplify.detection import _shared_detector
    from smplify.export import save_mesh, save_params
    from smplify.render import save_png
    from smplify.sources import open_source
    from smplify.video_detection import VideoDetector

    capture = cv2.VideoCapture(str(video))
    for _ in range(40):
        ok, bgr = capture.read()
    capture.release()
    image = bgr[:, :, ::-1].copy()
    source = open_source(video)
    finder = VideoDetector(_shared_detector(10, 0.5, True))
    people = finder.detect(image)
    model = smplify.load_model("open")
    fitter = smplify.Fitter(model, format=source.format, image_size=source.image_size)
    result = fitter.fit(people[0].keypoints)
    frame = type("Frame", (), {"image": image})()
    fitted = [(0, people[0].keypoints, result)]
    overlay = pipeline._draw(frame, fitted, source, side=False)["overlay"]

    def python_loop():
        x = 0
        for i in range(200_000):
            x += i

    data = os.urandom(32 << 20)

    def sha256() -> None:  # hashlib releases the GIL for buffers over 2 kB
        hashlib.sha256(data).digest()

    def sha256_two() -> None:
        other = threading.Thread(target=sha256)
        other.start()
        sha256()
        other.join()

    return {
        "sleep": lambda: time.sleep(0.05),
        "python loop": python_loop,
        "sha256 1 thread": sha256,
        "sha256 2 threads": sha256_two,
        "detect": lambda: finder.detect(image),
        "fit": lambda: fitter.fit(people[0].keypoints),
        "render": lambda: pipeline._draw(frame, fitted, source, side=False),
        "png": lambda: save_png(out / "o.png", overlay),
        "obj": lambda: save_mesh(out / "m.obj", result.vertices, result.faces),
        "params": lambda: (save_params(out / "p.npz", result, model=model),
                           save_params(out / "p.json", result, model=model)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=VTEST)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--json", type=Path, default=ROOT / "results" / "gil_stages.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        stages = _stages(args.video, Path(out))
        for stage in stages.values():  # warm: the GL context, the detector's crops
            stage()
        interval = sys.getswitchinterval()
        sys.setswitchinterval(1.0)
        probe = _Probe()
        rows = {}
        try:
            for name, stage in stages.items():
                rate, n = probe.rate_during(stage, args.seconds)
                rows[name] = {"probe_turns_per_s": rate, "repeats": n}
        finally:
            probe.stop()
            sys.setswitchinterval(interval)
    free = rows["sleep"]["probe_turns_per_s"]
    print(f"{'stage':16s} {'GIL free':>9s} {'repeats':>8s}")
    for name, row in rows.items():
        row["share_of_sleep"] = row["probe_turns_per_s"] / free
        print(f"{name:16s} {row['share_of_sleep']:9.0%} {row['repeats']:8d}")
    result = {"video": str(args.video), "seconds": args.seconds, "stages": rows,
              "load_average": list(os.getloadavg()), "machine": platform.platform(),
              "date": time.strftime("%Y-%m-%d %H:%M")}
    args.json.parent.mkdir(exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
