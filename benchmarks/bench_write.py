"""CPU time of the render and write stages of ``smplify fit VIDEO``, and their outputs.

    .venv/bin/python benchmarks/bench_write.py [--frames 40] [--repeats 3] --out DIR \
        [--json PATH] [--against OTHER.json]

Fits the first ``--frames`` frames of OpenCV's ``vtest.avi`` as ``smplify.pipeline.run``
does (render on, write off; the fits each frame drew are kept), then times, per frame, with
the process's CPU time (``time.process_time``: llvmpipe's threads included, so the figures
hold on a machine shared with other jobs): render (``pipeline._draw``, the overlay) and write
(per person the mesh ``.obj`` and parameters ``.npz``/``.json``, then the overlay PNG and
the overlay video frame, as ``pipeline.run`` writes them). Medians over frames of the median
over ``--repeats``. The last repeat's files are left in ``--out`` for comparison.

``--against OTHER.json``: print both runs' medians and the ratios side by side, and compare
the two ``--out`` folders: OBJ text and ``.json`` files byte for byte, ``.npz`` arrays exactly,
PNG decoded pixels exactly. To measure a branch against another, run this file under each
(e.g. with the other's ``python/`` first on the import path) with separate ``--out`` folders.
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
from smplify import pipeline
from smplify.export import save_mesh, save_params
from smplify.sources import open_source

ROOT = Path(__file__).resolve().parent
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


def _fits(video: Path, frames: int, model):
    """(source, [(frame, fitted)]) of the frames ``pipeline.run`` drew."""
    drawn = []
    draw = pipeline._draw

    def keep(frame, fitted, source, side):
        drawn.append((frame, list(fitted)))
        return draw(frame, fitted, source, side)

    source = open_source(video)
    pipeline._draw = keep
    try:
        with tempfile.TemporaryDirectory() as out:
            pipeline.run(source, out, model=model, max_frames=frames, write=False)
    finally:
        pipeline._draw = draw
    return source, [(f, fitted) for f, fitted in drawn if fitted]


def _write(folder: Path, frame, fitted, pictures, video, model) -> None:
    """What ``pipeline.run`` writes for one frame (its ``keep`` and ``_save_pictures``)."""
    for track, _, result in fitted:
        stem = folder / f"{frame.name}_p{track}"
        save_mesh(stem.with_name(stem.name + ".obj"), result.vertices, result.faces)
        for suffix in (".npz", ".json"):
            save_params(stem.with_name(f"{stem.name}_params{suffix}"), result, model=model,
                        track_id=track, frame=frame.index)
    pipeline._save_pictures(folder, frame.name, pictures, video)


def measure(args: argparse.Namespace) -> dict:
    model = smplify.load_model("open")
    source, drawn = _fits(args.video, args.frames, model)
    args.out.mkdir(parents=True, exist_ok=True)
    per_frame: dict[str, list[float]] = {"render": [], "write": []}
    for repeat in range(args.repeats):
        video = pipeline._VideoOut(args.out / "overlay.mp4", source.fps)
        for i, (frame, fitted) in enumerate(drawn):
            t0 = time.process_time()
            pictures = pipeline._draw(frame, fitted, source, side=False)
            t1 = time.process_time()
            _write(args.out, frame, fitted, pictures, video, model)
            t2 = time.process_time()
            if repeat == 0:
                per_frame["render"].append([])
                per_frame["write"].append([])
            per_frame["render"][i].append(t1 - t0)
            per_frame["write"][i].append(t2 - t1)
        video.close()
    stages = {s: 1000 * float(np.median([np.median(r) for r in rows]))
              for s, rows in per_frame.items()}
    people = sum(len(f) for _, f in drawn)
    return {"video": str(args.video), "frames": len(drawn), "fits": people,
            "repeats": args.repeats, "cpu_ms_median": stages, "smplify": smplify.__file__,
            "out": str(args.out), "machine": platform.platform(),
            "date": time.strftime("%Y-%m-%d")}


def same_outputs(a: Path, b: Path) -> list[str]:
    """Differences between two ``--out`` folders (empty: the same outputs)."""
    from PIL import Image

    names_a = {p.name for p in a.iterdir() if p.suffix != ".mp4"}
    names_b = {p.name for p in b.iterdir() if p.suffix != ".mp4"}
    diffs = [f"only in one folder: {n}" for n in sorted(names_a ^ names_b)]
    for name in sorted(names_a & names_b):
        pa, pb = a / name, b / name
        if pa.suffix in (".obj", ".json"):
            same = pa.read_bytes() == pb.read_bytes()
        elif pa.suffix == ".npz":
            with np.load(pa) as za, np.load(pb) as zb:
                same = za.files == zb.files and all(
                    np.array_equal(za[k], zb[k]) for k in za.files)
        elif pa.suffix == ".png":
            same = np.array_equal(np.asarray(Image.open(pa)), np.asarray(Image.open(pb)))
        else:
            continue
        if not same:
            diffs.append(f"differs: {name}")
    return diffs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=VTEST)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--json", type=Path, default=ROOT / "results" / "bench_write.json")
    parser.add_argument("--against", type=Path)
    args = parser.parse_args()
    if not args.video.is_file():
        print(f"{args.video} not found (apt-get install opencv-doc)")
        return 1
    result = measure(args)
    print(f"{result['smplify']}: {result['frames']} frames, {result['fits']} fits, "
          f"CPU ms a frame (median): " + ", ".join(
              f"{s} {ms:.1f}" for s, ms in result["cpu_ms_median"].items()))
    if args.against is not None:
        other = json.loads(args.against.read_text())
        print(f"{'stage':8s} {'other ms':>9s} {'this ms':>8s} {'speed-up':>9s}")
        for stage, ms in result["cpu_ms_median"].items():
            was = other["cpu_ms_median"][stage]
            print(f"{stage:8s} {was:9.1f} {ms:8.1f} {was / ms:8.2f}x")
        diffs = same_outputs(Path(other["out"]), args.out)
        result["against"] = {"json": str(args.against), "cpu_ms_median": other["cpu_ms_median"],
                             "differences": diffs}
        print("outputs: the same" if not diffs else f"outputs: {len(diffs)} differences, "
              f"e.g. {diffs[:3]}")
    args.json.parent.mkdir(exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
