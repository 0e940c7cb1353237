"""A strip of frames of a fitted REAL video (``tools/draw_video_strip.py --real VIDEO``).

Reads the fits ``benchmarks/bench_real_video.py`` cached for one tracked person (per-frame
fits, the online Fitter, fit_sequence) and draws, for 8 frames, each method's body over the
video frame (cropped around the person, detected keypoints red, the model's green) and,
below, each method's body from its left (orthographic, centred on itself), labelled with the
frame, the pelvis depth (z, metres) and the facing's heading (degrees about the vertical:
0 = facing the camera, ±180 = its back to it). Frames: where a method's facing turned more
than 90° or its depth jumped more than 0.5 m (up to 4, earliest first), the rest evenly
spaced.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from bench_real_video import METHODS, OUTPUT_KEYS, fits_path  # noqa: E402
from real_video_metrics import DEPTH_JUMP, TURN_DEGREES, forward_axes  # noqa: E402
from real_videos import detections, tracks, video_path  # noqa: E402

COLORS = {"per-frame": (0.90, 0.59, 0.24), "online": (0.31, 0.71, 0.35),
          "sequence": (0.35, 0.55, 0.86)}
TILE = (180, 240)  # width, height of a tile, pixels
MAX_PICKS = 8  # tiles a row, as pick_frames' count and the synthetic strip's cap


def _load(video: str, track: int, options: dict[str, object] | None = None
          ) -> dict[str, dict[str, np.ndarray]]:
    fits = {}
    for method in METHODS:
        path = fits_path(video, track, method, options)
        if path.is_file():
            with np.load(path) as z:
                fits[method] = {k: z[k] for k in OUTPUT_KEYS}
    if not fits:
        raise SystemExit(f"no cached fits of {video} track {track}: run "
                         f"benchmarks/bench_real_video.py --videos {video} first")
    return fits


def _events(fits: dict[str, dict[str, np.ndarray]], seen: np.ndarray) -> list[int]:
    """Frames where a method's facing turned > 90° or its depth jumped, earliest first;
    only frames where the person was seen (``seen``, (T,) bool), as the benchmark scores
    them: fit_sequence's interpolated frames have no keypoints to crop around."""
    flagged: set[int] = set()
    for out in fits.values():
        f, z = forward_axes(out["global_orient"]), out["joints"][:, 0, 2]
        valid = out["valid"] & seen
        t = np.flatnonzero(valid[1:] & valid[:-1]) + 1
        turn = np.degrees(np.arccos(np.clip(np.sum(f[t] * f[t - 1], axis=1), -1, 1)))
        flagged |= set(t[(turn > TURN_DEGREES) | (np.abs(z[t] - z[t - 1]) > DEPTH_JUMP)]
                       .tolist())
    return sorted(flagged)


def pick_frames(fits: dict[str, dict[str, np.ndarray]], seen: np.ndarray,
                count: int = MAX_PICKS) -> list[int]:
    """Up to 4 event frames (spread out), the rest evenly spaced over the frames seen
    (``seen``, (T,) bool) that every method has a body for."""
    valid = np.flatnonzero(np.all([o["valid"] for o in fits.values()], axis=0) & seen)
    events = _events(fits, seen)
    shown = [events[i] for i in np.linspace(0, len(events) - 1, min(4, len(events)))
             .astype(int)] if events else []
    rest = valid[np.linspace(0, len(valid) - 1, count - len(shown)).astype(int)]
    return sorted(set(shown) | set(rest.tolist()))[:count]


def _label(picture: np.ndarray, text: str) -> np.ndarray:
    pil = Image.fromarray(picture)
    ImageDraw.Draw(pil).text((4, 2), text, fill=(0, 0, 0))
    return np.asarray(pil)


def _heading(orient: np.ndarray) -> float:
    """Degrees about the vertical of the facing: 0 toward the camera, ±180 away."""
    f = forward_axes(orient[None])[0]
    return float(np.degrees(np.arctan2(f[0], -f[2])))


def _crop(picture: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """The person's box (their sure keypoints, 40% margin), as a TILE-sized picture."""
    sure = keypoints[keypoints[:, 2] >= 0.5, :2]
    sure = sure if len(sure) >= 2 else keypoints[:, :2]
    centre = (sure.min(axis=0) + sure.max(axis=0)) / 2
    half = max(np.ptp(sure[:, 1]) * 0.7, np.ptp(sure[:, 0]) * 0.7 * TILE[1] / TILE[0], 20.0)
    y0, y1 = int(centre[1] - half), int(centre[1] + half)
    x0 = int(centre[0] - half * TILE[0] / TILE[1])
    x1 = int(centre[0] + half * TILE[0] / TILE[1])
    h, w = picture.shape[:2]
    pad = np.full((y1 - y0, x1 - x0, 3), 255, dtype=np.uint8)
    sy, sx = max(y0, 0), max(x0, 0)
    ey, ex = min(y1, h), min(x1, w)
    if ey > sy and ex > sx:
        pad[sy - y0:ey - y0, sx - x0:ex - x0] = picture[sy:ey, sx:ex]
    return np.asarray(Image.fromarray(pad).resize(TILE, Image.BILINEAR))


def draw(video: str, track_id: int, out: str, model: object,
         picks: list[int] | None = None, options: dict[str, object] | None = None
         ) -> list[int]:
    """Write the strip of ``video``'s track ``track_id`` to ``out``; returns its frames
    (track rows: ``picks``, the first ``MAX_PICKS`` of them, or :func:`pick_frames`' choice).
    ``options``: the fits of a ``bench_real_video.py --options`` run (None: the defaults').
    Raises ValueError naming a track or a pick the video does not have."""
    from smplify import pictures
    from smplify.render import render_mesh
    from smplify.result import Camera
    from smplify.sources import open_source

    found = detections(video)
    track = next((t for t in tracks(found) if t.id == track_id), None)
    if track is None:
        raise ValueError(f"--track: no track {track_id} in {video}")
    if picks is not None:
        bad = [t for t in picks if not 0 <= t < len(track.keypoints)]
        if not picks or bad:
            raise ValueError(f"--picks: expected track rows in [0, {len(track.keypoints)}), "
                             f"got {bad or 'none'}")
    fits = _load(video, track_id, options)
    picks = pick_frames(fits, track.seen) if picks is None else list(picks)[:MAX_PICKS]
    wanted = {track.first + t: t for t in picks}
    images = {}
    for frame in open_source(video_path(video)).frames():
        if frame.index in wanted:
            images[wanted[frame.index]] = frame.image
        if frame.index > max(wanted):
            break
    rows = []
    for view in ("camera", "left"):
        for method, o in fits.items():
            tiles = []
            for t in picks:
                params = {"betas": o["betas"][t], "global_orient": o["global_orient"][t],
                          "body_pose": o["body_pose"][t], "transl": o["transl"][t]}
                if not o["valid"][t]:
                    tiles.append(np.full((TILE[1], TILE[0], 3), 230, dtype=np.uint8))
                    continue
                body = model(**params)  # type: ignore[operator]
                if view == "camera":
                    camera = Camera(float(o["camera"][0]), o["camera"][1:])
                    result = SimpleNamespace(vertices=body.vertices, faces=model.faces,
                                             camera=camera, keypoints_2d=o["keypoints_2d"][t])
                    picture = pictures.draw_fits([result], images[t],
                                                 keypoints=[track.keypoints[t]],
                                                 colors=[COLORS[method]])
                    tile = _crop(picture, track.keypoints[t])
                else:
                    v = body.vertices
                    upright = (v - v.mean(axis=0)) * [1.0, -1.0, -1.0]
                    tile = render_mesh(upright, model.faces, view="left", image_size=TILE,
                                       color=COLORS[method])
                text = (f"{method} f{track.first + t}" if view == "camera" else
                        f"z {o['joints'][t, 0, 2]:.1f} m, {_heading(o['global_orient'][t]):+.0f}°")
                tiles.append(_label(np.ascontiguousarray(tile), text))
            rows.append(np.concatenate(tiles, axis=1))
    Image.fromarray(np.concatenate(rows, axis=0)).save(out)
    return picks
