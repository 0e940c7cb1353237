"""A fitted video as a strip of frames: truth, the plain warm-started Fitter (before online
tracking), the online Fitter and (with --sequence) fit_sequence, from the camera and from the
body's left.

    python tools/draw_video_strip.py OUT.png [--clip 3] [--start 120] [--frames 120] [--sequence]
        [--seed 43] [--picks 0,3,5]
        [--sequence-options '{"keyframe_step": 1}']
        [--preset smooth_video] [--options '{"track_refit_iterations": 6}']
    python tools/draw_video_strip.py OUT.png --real vtest|sports2d --track ID

With ``--real``: a tracked person of a real video, the fits ``benchmarks/bench_real_video.py``
cached (per-frame, online Fitter, fit_sequence) over the video frames and from the left
(``tools/real_video_strip.py``; no truth).

The clip is one of ``tests/data/heldout_sequences.npz`` (held-out CMU mocap) seen through the
synthetic detector with its default errors (``smplify.synthetic_video``; seed 100 + clip, as
``benchmarks/bench_video.py``). Columns: 8 frames, chosen to include swapped and dropped
frames when there are any, swapped first (marked in the printout). Rows: truth (grey), the
plain warm Fitter (orange; ``benchmarks/bench_video.py``'s PLAIN_WARM options), the online
Fitter (green; ``--preset`` / ``--options``: with that preset / those options) and
fit_sequence (blue) from the camera, then the same from the body's left (each frame's mesh
centred on its own mean).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import smplify
from PIL import Image
from smplify import synthetic_video as sv
from smplify.render import render_mesh

TRUTH, WARM, ONLINE, SEQUENCE = (150, 150, 160), (230, 150, 60), (80, 180, 90), (90, 140, 220)
#: The Fitter without its online tracking (as bench_video's "warm Fitter" row).
PLAIN_WARM = {"track": False}
TILE = (160, 220)
SEQUENCES = Path(__file__).resolve().parents[1] / "tests" / "data" / "heldout_sequences.npz"


def tile(model, params: tuple[np.ndarray, ...], view: str, color) -> np.ndarray:
    betas, orient, pose, transl = params
    v = model(betas=betas, body_pose=pose, global_orient=orient, transl=transl).vertices
    upright = (v - v.mean(axis=0)) * [1.0, -1.0, -1.0]  # camera frame -> y up, toward viewer
    return render_mesh(upright, model.faces, view=view, image_size=TILE, color=color)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--clip", type=int, default=3)
    parser.add_argument("--start", type=int, default=120)
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--seed", type=int, default=None,
                        help="the detector's seed (default 100 + clip, as bench_video; "
                        "tests/test_online.py's stretch s of clip c: 40 + 4 s + c)")
    parser.add_argument("--picks", default=None,
                        help="comma-separated frames (from --start; with --real: the track's "
                        "rows) to draw instead of the chosen 8")
    parser.add_argument("--sequence", action="store_true", help="add fit_sequence's rows")
    parser.add_argument("--sequence-options", type=json.loads, default={},
                        help="fit_sequence's options as JSON (e.g. to draw an earlier start)")
    parser.add_argument("--preset", default=None,
                        help="the online Fitter's option preset (e.g. smooth_video)")
    parser.add_argument("--options", type=json.loads, default={},
                        help="the online Fitter's options, JSON (after --preset); with "
                        "--real: the bench_real_video.py --options run whose fits to draw")
    parser.add_argument("--real", default=None,
                        help="a real video of benchmarks/real_videos.py (vtest, sports2d)")
    parser.add_argument("--track", type=int, default=None, help="with --real: its track id")
    args = parser.parse_args()
    model = smplify.load_model("open")
    if args.real is not None:
        from real_video_strip import draw

        picks = draw(args.real, args.track, args.out, model,
                     None if args.picks is None else [int(p) for p in args.picks.split(",")],
                     args.options)
        print(f"wrote {args.out}: track rows {picks}; rows per-frame, online, sequence over "
              "the video, then the same from the left")
        return
    seq = sv.load_sequences(SEQUENCES)[args.clip]
    seed = 100 + args.clip if args.seed is None else args.seed
    video = sv.make_video(model, seq, "coco17", np.random.default_rng(seed),
                          frames=slice(args.start, args.start + args.frames))
    fit = smplify.fit_sequence(video.keypoints, "coco17", video.image_size, video.focal_length,
                               model=model, **args.sequence_options) if args.sequence else None
    tracks = {}
    online = {**({} if args.preset is None else {"preset": args.preset}), **args.options}
    for name, options in (("warm", PLAIN_WARM), ("online", online)):
        fitter = smplify.Fitter(model, format="coco17", image_size=video.image_size,
                                focal_length=video.focal_length, **options)
        out, last = [], None
        for kp in video.keypoints:
            try:
                last = fitter.fit(kp)
            except smplify.KeypointError:
                pass
            out.append(last)
        tracks[name] = out
    warm = tracks["warm"]
    special = np.flatnonzero(video.swapped).tolist() + np.flatnonzero(video.dropped).tolist()
    shown = special[:4]
    picks = sorted(set(shown) | set(np.linspace(0, video.num_frames - 1, 8 - len(shown))
                                    .astype(int).tolist()))
    if args.picks is not None:
        picks = [int(p) for p in args.picks.split(",")]
    picks = [p for p in picks if warm[p] is not None][:8]
    for t in picks:
        print(f"frame {t}: {'swapped ' if video.swapped[t] else ''}"
              f"{'dropped ' if video.dropped[t] else ''}")
    rows = []
    sources = [("truth", TRUTH), ("warm", WARM), ("online", ONLINE)]
    sources += [("sequence", SEQUENCE)] if fit is not None else []
    for view in ("front", "left"):
        for source, color in sources:
            tiles = []
            for t in picks:
                if source == "truth":
                    p = (video.betas, video.global_orient[t], video.body_pose[t],
                         video.transl[t])
                elif source == "sequence":
                    p = (fit.betas, fit.global_orient[t], fit.body_pose[t], fit.transl[t])
                else:
                    w = tracks[source][t]
                    p = (w.betas, w.global_orient, w.body_pose, w.transl)
                tiles.append(tile(model, p, view, color))
            rows.append(np.concatenate(tiles, axis=1))
    Image.fromarray(np.concatenate(rows, axis=0)).save(args.out)
    print(f"wrote {args.out}: rows {', '.join(s for s, _ in sources)} from the camera, then "
          "the same from the left")


if __name__ == "__main__":
    main()
