"""Wall and CPU time a frame of ``smplify fit VIDEO``, serial against overlapped, same outputs.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_cli.py [--video vtest|sports2d|PATH] \
        [--frames 40] [--repeats 3] [--replay] [--python OTHER/python] --out DIR [--json PATH]

Runs ``smplify.pipeline.run`` (what ``smplify fit VIDEO --out DIR`` runs: detect in video
mode, track, fit, draw the overlay, write meshes, parameters, PNGs, the overlay video and
the track files) on the first ``--frames`` frames, ``--repeats`` times each way, the two
ways taking turns: ``overlap=False`` (every stage on one thread, one after the other: the
default, and the pipeline before the option) and ``overlap=True`` (drawing and writing of
frame t on the pipeline's writer thread while frame t + 1 is detected and fitted). Prints,
per way, the
wall and the process's CPU time a frame (the run's totals over its frames; medians over the
repeats), and the serial run's per-stage medians over frames (wall and CPU; the CPU of
llvmpipe's and MediaPipe's threads included). The two ways' last output folders are
compared: the same files in the same order in ``RunSummary.files``, OBJ and JSON bytes,
``.npz`` arrays and PNG pixels equal (the mp4 is not compared: OpenCV's encoder is not
bit-reproducible across runs).

A first run, not timed, loads the detector and records its detections; ``--replay``
feeds these to the timed runs instead of detecting again (fit, render and write only: the
stages the former bench_write.py re-implemented; here timed inside the pipeline itself).
``--python DIR``: import smplify from DIR (another commit's ``python/``, as for
bench_render.py); a pipeline without ``overlap`` (before it) is timed serial only, without
the per-stage figures.
``--video``: ``vtest`` (OpenCV's ``vtest.avi``, Debian opencv-doc), ``sports2d`` (fetched by
``real_videos.video_path`` into ``$XDG_CACHE_HOME``) or a path. Writes
``benchmarks/results/bench_cli_<video>.json``.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent


class _Recorder:
    """The detector the pipeline would make, with each frame's people kept."""

    def __init__(self) -> None:
        from smplify.detection import _shared_detector
        from smplify.video_detection import VideoDetector

        self._video = VideoDetector(_shared_detector(10, 0.5, True))
        self._video.reset()
        self.frames: list[list] = []

    def detect(self, image):
        found = self._video.detect(image)
        self.frames.append(found)
        return found


class _Replay:
    """The recorded people again, frame by frame (not a ``Detector``: used as it is)."""

    def __init__(self, frames: list[list]) -> None:
        self._frames, self._next = frames, 0

    def detect(self, image):
        found = self._frames[self._next]
        self._next += 1
        return found


def import_from(folder: Path | None):
    """``smplify`` imported from ``folder`` (another version's checkout) when given."""
    if folder is not None:  # ahead of the editable install's own finder
        sys.meta_path[:] = [f for f in sys.meta_path
                            if not type(f).__module__.startswith("_editable")]
        sys.path.insert(0, str(folder))
    import smplify

    return smplify


def video_path(name: str) -> Path:
    """``vtest``, ``sports2d`` or a path."""
    if name in ("vtest", "sports2d"):
        from real_videos import video_path as fetch

        return fetch(name)
    return Path(name)


def same_outputs(a: Path, b: Path) -> list[str]:
    """Differences between two output folders, subfolders included (empty: the same)."""
    from PIL import Image

    names_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file() and p.suffix != ".mp4"}
    names_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file() and p.suffix != ".mp4"}
    diffs = [f"only in one folder: {n}" for n in sorted(names_a ^ names_b)]
    for name in sorted(names_a & names_b):
        pa, pb = a / name, b / name
        if pa.suffix == ".npz":
            with np.load(pa) as za, np.load(pb) as zb:
                same = za.files == zb.files and all(
                    np.array_equal(za[k], zb[k]) for k in za.files)
        elif pa.suffix == ".png":
            same = np.array_equal(np.asarray(Image.open(pa)), np.asarray(Image.open(pb)))
        else:
            same = pa.read_bytes() == pb.read_bytes()
        if not same:
            diffs.append(f"differs: {name}")
    return diffs


def _one_run(path: Path, out: Path, model, frames: int, overlap: bool | None,
             detector) -> dict:
    """One timed run (``overlap`` None: a pipeline before the option, serial)."""
    from smplify.pipeline import STAGES, run
    from smplify.sources import open_source

    shutil.rmtree(out, ignore_errors=True)
    way = {} if overlap is None else {"overlap": overlap}
    wall, cpu = time.perf_counter(), time.process_time()
    summary = run(open_source(path), out, model=model, max_frames=frames, detector=detector,
                  **way)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    row = {"wall_ms_frame": 1000 * wall / summary.frames,
           "cpu_ms_frame": 1000 * cpu / summary.frames, "frames": summary.frames,
           "fits": summary.fits, "files": [str(f.relative_to(out)) for f in summary.files]}
    if overlap is False:
        row["stages_wall_ms"] = {s: 1000 * float(np.median([f[s] for f in
                                                            summary.frame_seconds]))
                                 for s in STAGES}
        row["stages_cpu_ms"] = {s: 1000 * float(np.median([f[s] for f in
                                                           summary.frame_cpu_seconds]))
                                for s in STAGES}
    return row


def measure(args: argparse.Namespace) -> dict:
    smplify = import_from(args.python)
    from smplify.pipeline import STAGES, run

    before = "overlap" not in inspect.signature(run).parameters
    model = smplify.load_model("open")
    path = video_path(args.video)
    recorder = _Recorder()
    with_detections = _one_run(path, args.out / "first", model, args.frames,
                               None if before else False, recorder)
    runs: dict[str, list[dict]] = {"serial": []} if before else {"serial": [], "overlap": []}
    for _ in range(args.repeats):
        for way in runs:
            detector = _Replay(recorder.frames) if args.replay else None
            overlap = None if before else way == "overlap"
            runs[way].append(_one_run(path, args.out / way, model, args.frames, overlap,
                                      detector))
    result: dict = {"video": str(path), "frames": with_detections["frames"],
                    "fits": with_detections["fits"], "repeats": args.repeats,
                    "detections": "replayed" if args.replay else "detected"}
    for way, rows in runs.items():
        result[way] = {k: statistics.median(r[k] for r in rows)
                       for k in ("wall_ms_frame", "cpu_ms_frame")}
        result[way]["runs"] = [{k: r[k] for k in ("wall_ms_frame", "cpu_ms_frame")}
                               for r in rows]
    if not before:
        result["serial_stages"] = {
            kind: {s: statistics.median(r[f"stages_{kind}_ms"][s] for r in runs["serial"])
                   for s in STAGES} for kind in ("wall", "cpu")}
        order_same = runs["serial"][-1]["files"] == runs["overlap"][-1]["files"]
        diffs = same_outputs(args.out / "serial", args.out / "overlap")
        result["outputs"] = {"files": len(runs["serial"][-1]["files"]),
                             "same_order": order_same, "differences": diffs}
    result.update(smplify=smplify.__file__, machine=platform.platform(),
                  load_average=list(os.getloadavg()),
                  date=time.strftime("%Y-%m-%d %H:%M"))
    return result


def report(result: dict) -> None:
    from smplify.pipeline import STAGES

    print(f"{Path(result['video']).name}: {result['frames']} frames, {result['fits']} fits, "
          f"{result['repeats']} repeats, detections {result['detections']}")
    if "overlap" not in result:  # a pipeline before the option
        print("serial only: " + ", ".join(f"{label} {result['serial'][key]:.1f} ms a frame"
                                          for key, label in (("wall_ms_frame", "wall"),
                                                             ("cpu_ms_frame", "CPU"))))
        return
    print(f"{'ms a frame':12s} {'serial':>8s} {'overlap':>8s} {'ratio':>6s}")
    for key, label in (("wall_ms_frame", "wall"), ("cpu_ms_frame", "CPU")):
        was, now = result["serial"][key], result["overlap"][key]
        print(f"{label:12s} {was:8.1f} {now:8.1f} {was / now:5.2f}x")
    print("serial run, median over frames (ms): " + ", ".join(
        f"{s} {result['serial_stages']['wall'][s]:.1f} wall / "
        f"{result['serial_stages']['cpu'][s]:.1f} CPU" for s in STAGES))
    out = result["outputs"]
    print(f"outputs: {out['files']} files, order {'the same' if out['same_order'] else 'DIFFERS'}"
          f", {'contents the same' if not out['differences'] else out['differences'][:3]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", default="vtest")
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--replay", action="store_true",
                        help="replay the first run's detections (no detector in the timing)")
    parser.add_argument("--python", type=Path, default=None,
                        help="import smplify from this folder (another version)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    result = measure(args)
    report(result)
    name = Path(args.video).stem + ("_replay" if args.replay else "")
    path = args.json or ROOT / "results" / f"bench_cli_{name}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
