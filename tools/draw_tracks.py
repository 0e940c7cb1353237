"""A strip of frames of a real video with its people's track ids, old tracker above the new.

    .venv/bin/python tools/draw_tracks.py vtest /tmp/vtest_tracks.png [--frames 0 25 ...]
        [--step 3 --start 40] [--detections OLD.npz]

Each person the detector found (bench_real_video's cached detections,
``benchmarks/real_videos.py``) is drawn as the box of their confident keypoints, coloured by
their track id and labelled with it; a person without an id (the new tracker's unconfirmed,
weak or duplicate detections) is a thin grey box. Row 1: the tracker before issue 11's
rework (``benchmarks/tracker_before.py``); row 2: ``smplify.tracking.track_all`` at the
video's frame rate. Frames: ``--frames``, else 8 from ``--start`` every ``--step`` frames
(default: spread over the video's benchmarked frames); ``--crop`` shows part of each;
``--detections`` draws another detector's cached detections (e.g. an older detector's
``real_videos.py`` cache file) instead of the current detector's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from real_videos import detections, load_detections, video_path  # noqa: E402
from smplify.tracking import keypoint_box  # noqa: E402
from tracker_runs import TRACKERS  # noqa: E402

PALETTE = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
           (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212),
           (0, 128, 128), (170, 110, 40), (128, 0, 0), (0, 0, 128), (128, 128, 0)]
TILE_WIDTH = 384


def _tile(image: np.ndarray, boxes: list[np.ndarray], ids: list[int], text: str,
          crop: list[int] | None) -> Image.Image:
    pil = Image.fromarray(image)
    draw = ImageDraw.Draw(pil)
    width = max(2, image.shape[1] // 300)
    for box, track in zip(boxes, ids, strict=True):
        x0, y0, x1, y1 = (float(v) for v in box)
        if track < 0:
            draw.rectangle([x0, y0, x1, y1], outline=(160, 160, 160), width=1)
            continue
        color = PALETTE[track % len(PALETTE)]
        draw.rectangle([x0, y0, x1, y1], outline=color, width=width)
        draw.rectangle([x0, y0 - 12 * width, x0 + 10 * width * len(str(track)), y0],
                       fill=color)
        draw.text((x0 + width, y0 - 12 * width), str(track), fill=(0, 0, 0),
                  font_size=10 * width)
    if crop:
        pil = pil.crop(tuple(crop))
    scale = TILE_WIDTH / pil.width
    pil = pil.resize((TILE_WIDTH, int(pil.height * scale)), Image.BILINEAR)
    ImageDraw.Draw(pil).rectangle([0, 0, TILE_WIDTH, 14], fill=(255, 255, 255))
    ImageDraw.Draw(pil).text((3, 1), text, fill=(0, 0, 0))
    return pil


def main() -> None:
    from smplify.sources import open_source

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("video", choices=["vtest", "sports2d"])
    parser.add_argument("out")
    parser.add_argument("--frames", type=int, nargs="*")
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--step", type=int)
    parser.add_argument("--crop", type=int, nargs=4, metavar=("X0", "Y0", "X1", "Y1"),
                        help="show this part of each frame (pixels)")
    parser.add_argument("--detections", type=Path,
                        help="a cached detections .npz to draw (default: the current "
                        "detector's)")
    args = parser.parse_args()
    found = detections(args.video) if args.detections is None else \
        load_detections(args.video, args.detections)
    people = [[found.keypoints[i] for i in found.people(t)] for t in range(found.num_frames)]
    if args.frames:
        frames = args.frames
    else:
        step = args.step or (found.num_frames - 1 - args.start) // 7
        frames = [args.start + k * step for k in range(8)]
    ids = {name: make(found.fps)(people) for name, make in TRACKERS.items()}
    images = {}
    for frame in open_source(video_path(args.video)).frames():
        if frame.index in frames:
            images[frame.index] = frame.image
        if frame.index >= max(frames):
            break
    rows = []
    for name, per_frame in ids.items():
        tiles = [_tile(images[t], [keypoint_box(kp) for kp in people[t]], per_frame[t],
                       f"{name}: frame {t}", args.crop) for t in frames]
        row = Image.new("RGB", (TILE_WIDTH * len(tiles), tiles[0].height), (255, 255, 255))
        for k, tile in enumerate(tiles):
            row.paste(tile, (k * TILE_WIDTH, 0))
        rows.append(row)
    strip = Image.new("RGB", (rows[0].width, sum(r.height for r in rows)), (255, 255, 255))
    for k, row in enumerate(rows):
        strip.paste(row, (0, k * rows[0].height))
    strip.save(args.out)
    print(f"wrote {args.out}: frames {frames}")


if __name__ == "__main__":
    main()
