"""CPU time of ``smplify fit VIDEO``'s overlay (``pipeline._draw``) and of its parts, and the
pictures, to compare two versions of the code.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_render.py [--video vtest] \
        [--frames 20] [--repeats 3] --out DIR [--python OTHER/python] [--against OTHER.json]

Fits the first ``--frames`` frames as ``smplify.pipeline.run`` does (render on, write off)
and keeps what each frame drew; then times per frame, with the process's CPU time
(llvmpipe's threads included): ``draw`` (``pipeline._draw``: the meshes through OpenGL with
4x multisampling, composited, the keypoints drawn), ``gl_samples4`` / ``gl_samples0``
(``smplify._gl.draw`` alone, with and without multisampling), ``normals``
(``_gl.vertex_normals``) and ``keypoints`` (``pictures._draw_keypoints``). Medians over
frames of the fastest of ``--repeats``. Each frame's overlay is saved to ``--out`` (and the
overlay without multisampling, ``*_samples0.png``, to look at).

``--python DIR``: import smplify from DIR (e.g. a ``git archive`` of another commit's
``python/`` with the built ``_core`` copied in) instead of this checkout.
``--against OTHER.json``: both runs side by side and their overlays compared pixel by pixel.
Writes ``benchmarks/results/bench_render.json`` (``--json``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent


def _drawn(smplify, video: Path, frames: int):
    """(source, [(frame, fitted)]) of the frames ``pipeline.run`` drew people in."""
    from smplify import pipeline
    from smplify.sources import open_source

    drawn, draw = [], pipeline._draw

    def keep(frame, fitted, source, side):
        drawn.append((frame, list(fitted)))
        return draw(frame, fitted, source, side)

    source = open_source(video)
    pipeline._draw = keep
    try:
        with tempfile.TemporaryDirectory() as out:
            pipeline.run(source, out, model=smplify.load_model("open"), max_frames=frames,
                         write=False)
    finally:
        pipeline._draw = draw
    return source, [(f, fitted) for f, fitted in drawn if fitted]


def measure(args: argparse.Namespace) -> dict:
    sys.path.insert(0, str(ROOT))
    from bench_cli import import_from, video_path

    smplify = import_from(args.python)
    from smplify import _gl, pictures, pipeline, render
    from smplify.meshes import merge_meshes

    source, drawn = _drawn(smplify, video_path(args.video), args.frames)
    size = source.image_size

    def gl_inputs(fitted):
        cam = render._as_camera(fitted[0][2].camera, None, size)
        v, f, col = merge_meshes([(r.vertices, r.faces) for _, _, r in fitted],
                                 colors=[pictures.TRACK_COLORS[t % len(pictures.TRACK_COLORS)]
                                         for t, _, _ in fitted])
        return v, f, col, render._clip_matrix(cam, v, size)

    def keypoints(frame, fitted):
        people = [(kp, r.keypoints_2d) for _, kp, r in fitted]
        if "people" in pictures._draw_keypoints.__code__.co_varnames[:2]:
            return pictures._draw_keypoints(frame.image.copy(), people)
        out = frame.image.copy()  # the version drawing one person a call
        for kp, model in people:
            out = pictures._draw_keypoints(out, kp, model)
        return out

    parts = {
        "draw": lambda frame, fitted, gl: pipeline._draw(frame, fitted, source, side=False),
        "gl_samples4": lambda frame, fitted, gl: _gl.draw(*gl, size, ambient=0.35,
                                                          samples=4),
        "gl_samples0": lambda frame, fitted, gl: _gl.draw(*gl, size, ambient=0.35,
                                                          samples=0),
        "normals": lambda frame, fitted, gl: _gl.vertex_normals(gl[0], gl[1]),
        "keypoints": lambda frame, fitted, gl: keypoints(frame, fitted),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    inputs = [gl_inputs(fitted) for _, fitted in drawn]
    parts["draw"](*drawn[0], inputs[0])  # the GL context and shader
    ms: dict[str, list[float]] = {k: [] for k in parts}
    for (frame, fitted), gl in zip(drawn, inputs, strict=True):
        for name, part in parts.items():
            best = np.inf
            for _ in range(args.repeats):
                c0 = time.process_time()
                part(frame, fitted, gl)
                best = min(best, time.process_time() - c0)
            ms[name].append(1000 * best)
        render.save_png(args.out / f"{frame.name}_overlay.png",
                        pipeline._draw(frame, fitted, source, side=False)["overlay"])
        render.save_png(args.out / f"{frame.name}_overlay_samples0.png", pictures.draw_fits(
            [r for _, _, r in fitted], frame.image, keypoints=[kp for _, kp, _ in fitted],
            colors=[pictures.TRACK_COLORS[t % len(pictures.TRACK_COLORS)]
                    for t, _, _ in fitted], samples=0))
    return {"video": args.video, "frames": len(drawn),
            "fits": sum(len(f) for _, f in drawn), "repeats": args.repeats,
            "cpu_ms_median": {k: float(np.median(v)) for k, v in ms.items()},
            "smplify": smplify.__file__, "out": str(args.out),
            "date": time.strftime("%Y-%m-%d %H:%M")}


def same_overlays(a: Path, b: Path) -> dict:
    """Pixels differing between the two folders' overlays (multisampled ones)."""
    from PIL import Image

    counts = {}
    for pa in sorted(a.glob("*_overlay.png")):
        pb = b / pa.name
        x, y = np.asarray(Image.open(pa)), np.asarray(Image.open(pb))
        counts[pa.name] = int(np.any(x != y, axis=2).sum())
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", default="vtest")
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--python", type=Path, default=None)
    parser.add_argument("--against", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=ROOT / "results" / "bench_render.json")
    args = parser.parse_args()
    result = measure(args)
    print(f"{result['smplify']}: {result['frames']} frames, {result['fits']} fits, CPU ms a "
          "frame (median): " + ", ".join(f"{k} {v:.1f}"
                                         for k, v in result["cpu_ms_median"].items()))
    if args.against is not None:
        other = json.loads(args.against.read_text())
        print(f"{'part':12s} {'other ms':>9s} {'this ms':>8s} {'ratio':>6s}")
        for part, ms in result["cpu_ms_median"].items():
            was = other["cpu_ms_median"][part]
            print(f"{part:12s} {was:9.1f} {ms:8.1f} {was / ms:5.2f}x")
        counts = same_overlays(Path(other["out"]), args.out)
        result["against"] = {"json": str(args.against), "cpu_ms_median": other["cpu_ms_median"],
                             "pixels_differing": counts}
        print(f"overlays: {len(counts)} compared, {sum(v > 0 for v in counts.values())} differ "
              f"({sum(counts.values())} pixels)")
    args.json.parent.mkdir(exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
