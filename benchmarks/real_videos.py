"""Real videos for bench_real_video.py and tools/draw_video_strip.py: fetched at run time,
detected once, cached outside the repository, tracked into people.

Videos (never committed; each fetched from where a package puts it):

- ``vtest``: OpenCV's ``vtest.avi`` (Debian ``opencv-doc``, BSD-licensed OpenCV samples):
  a surveillance view of pedestrians ~100 px tall, 768 x 576 at 10 fps.
- ``sports2d``: ``Sports2D/Demo/demo.mp4`` inside the ``sports2d==0.8.34`` wheel on PyPI
  (BSD-3-Clause): people walking and turning, filmed side-on, 1768 x 994 at 30 fps. The
  wheel is fetched with ``pip download --no-deps`` into the cache.

Detection (:func:`detections`) runs ``smplify.video_detection.VideoDetector`` (as ``smplify
fit VIDEO`` does: each person followed in a crop, ``smplify.detection.Detector``'s full scan
of MediaPipe Pose, tiles and HOG people boxes every ``FULL_EVERY`` frames and when someone
is lost) over the frames once and caches each person's 33 keypoints, MediaPipe's world
landmarks, box and source in ``$XDG_CACHE_HOME/smplify-bench/real_video/`` (``~/.cache``),
keyed by the video, the frame count and ``smplify.detection.detector_digest()`` (the
detector's code, its video mode's included, and mediapipe's version: detections of an
older detector are not reused).
People are tracked afterwards (:func:`tracks`, ``smplify.tracking.Tracker`` as ``smplify fit
VIDEO`` does), so a change to the tracker needs no new detection.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SPORTS2D = ("sports2d", "0.8.34", "Sports2D/Demo/demo.mp4")
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
#: Frames of each video the benchmark uses (vtest.avi has 795 at 10 fps; the demo 230 at 30).
FRAMES = {"vtest": 200, "sports2d": 230}


def cache_dir() -> Path:
    """Where fetched videos and detections are kept (outside the repository)."""
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    path = root / "smplify-bench" / "real_video"
    path.mkdir(parents=True, exist_ok=True)
    return path


def video_path(name: str) -> Path:
    """The video ``name`` ("vtest" or "sports2d") on disk, fetched if needed.

    Raises
    ------
    FileNotFoundError
        vtest.avi without Debian's opencv-doc; the sports2d wheel could not be fetched.
    """
    if name == "vtest":
        if not VTEST.is_file():
            raise FileNotFoundError(f"{VTEST} (apt-get install opencv-doc)")
        return VTEST
    if name != "sports2d":
        raise ValueError(f"video: expected 'vtest' or 'sports2d', got {name!r}")
    package, version, member = SPORTS2D
    out = cache_dir() / f"{package}-{version}-demo.mp4"
    if out.is_file():
        return out
    wheels = cache_dir() / "wheels"
    wheel = wheels / f"{package}-{version}-py3-none-any.whl"
    if not wheel.is_file():
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d",
                        str(wheels), f"{package}=={version}"], check=True)
    with zipfile.ZipFile(wheel) as archive:
        out.write_bytes(archive.read(member))
    return out


@dataclass
class Detections:
    """Every person the detector found in a video's first ``num_frames`` frames (N rows).

    Attributes
    ----------
    name : str
    frame : (N,) int
    keypoints : (N, 33, 3) float64
        MediaPipe keypoints, pixels and visibility.
    world : (N, 33, 3) float64
        MediaPipe's world landmarks, metres (x right, y down, z away, hip-centred).
    source : (N,) str
        "image", "tile", "small_tile", "hog", "crop" or "follow"
        (``smplify.detection.Person.source``).
    num_frames : int
    fps : float
    image_size : (width, height)
    """

    name: str
    frame: np.ndarray
    keypoints: np.ndarray
    world: np.ndarray
    source: np.ndarray
    num_frames: int
    fps: float
    image_size: tuple[int, int]

    def people(self, t: int) -> np.ndarray:
        """Row indices of frame ``t``'s people."""
        return np.flatnonzero(self.frame == t)


def detections_key(name: str, num_frames: int | None = None) -> str:
    """What the video's cached detections are keyed by: the video, its frame count and the
    detector's digest (the cache file's stem)."""
    from smplify.detection import detector_digest

    num_frames = FRAMES[name] if num_frames is None else num_frames
    return f"{name}_{num_frames}_{detector_digest()}"


def load_detections(name: str, path: Path) -> Detections:
    """Video ``name``'s detections from a cache file (:func:`detections` writes them; an
    older detector's file for before/after comparisons)."""
    with np.load(path) as z:
        return Detections(name, z["frame"], z["keypoints"], z["world"], z["source"],
                          int(z["num_frames"]), float(z["fps"]),
                          (int(z["image_size"][0]), int(z["image_size"][1])))


def detect_video(name: str, num_frames: int, *, start: int = 0, full_every: int | None = None,
                 lost_after: int | None = None, spread: bool | None = None,
                 search_lost: bool | None = None, full: bool = False,
                 only: Collection[int] | None = None, quiet: bool = False,
                 confirm_within: int | None | str = "default",
                 unconfirmed: list | None = None
                 ) -> tuple[Detections, list[float], int]:
    """Detect frames ``start`` to ``num_frames - 1`` of the video now, in order.

    ``full_every``, ``lost_after``, ``spread``, ``search_lost``, ``confirm_within``:
    ``smplify.video_detection.VideoDetector``'s (None, "default" for ``confirm_within``: its
    defaults; ``unconfirmed``, a list, gets its ``unconfirmed`` people), as
    ``smplify fit VIDEO`` runs it; ``full``: ``Detector.detect`` on each frame alone (the
    photo detector), on the frames ``only`` (None: all). Returns the detections
    (``num_frames``: the last frame read + 1), each detected frame's CPU seconds
    (``time.process_time``: MediaPipe's threads included) and the number of full scans.
    """
    import time

    from smplify.detection import Detector
    from smplify.sources import open_source
    from smplify.video_detection import FULL_EVERY, LOST_AFTER, VideoDetector

    source = open_source(video_path(name))
    detector = Detector()
    options = {k: v for k, v in (("spread", spread), ("search_lost", search_lost))
               if v is not None}
    if confirm_within != "default":
        options["confirm_within"] = confirm_within
    video = VideoDetector(detector, FULL_EVERY if full_every is None else full_every,
                          LOST_AFTER if lost_after is None else lost_after, **options)
    find = detector.detect if full else video.detect
    rows: list[tuple[int, np.ndarray, np.ndarray, str]] = []
    cpu: list[float] = []
    seen = 0
    for frame in source.frames():
        if frame.index >= num_frames:
            break
        seen = frame.index + 1
        if frame.index < start or full and only is not None and frame.index not in only:
            continue
        clock = time.process_time()
        people = find(frame.image)
        cpu.append(time.process_time() - clock)
        for person in people:
            rows.append((frame.index, person.keypoints, person.world, person.source))
        if not quiet and seen % 20 == 0:
            print(f"  {name}: detected {seen} frames, {len(rows)} people", flush=True)
    detector.close()
    if unconfirmed is not None:
        unconfirmed += video.unconfirmed
    found = Detections(name, np.array([r[0] for r in rows], dtype=np.int64),
                       np.array([r[1] for r in rows]).reshape(-1, 33, 3),
                       np.array([r[2] for r in rows]).reshape(-1, 33, 3),
                       np.array([r[3] for r in rows], dtype=str), seen,
                       float(source.fps or 30.0), source.image_size)
    return found, cpu, len(cpu) if full else video.scans


def save_detections(found: Detections, path: Path) -> None:
    """Write ``found`` where :func:`load_detections` reads it."""
    np.savez(path, frame=found.frame, keypoints=found.keypoints, world=found.world,
             source=found.source, num_frames=found.num_frames, fps=found.fps,
             image_size=np.array(found.image_size))


def detections(name: str, num_frames: int | None = None, quiet: bool = False) -> Detections:
    """The video's detections, from the cache or detected now in video mode
    (:func:`detect_video`, ~0.1-0.3 s a frame)."""
    num_frames = FRAMES[name] if num_frames is None else num_frames
    path = cache_dir() / f"{detections_key(name, num_frames)}.npz"
    if path.is_file():
        return load_detections(name, path)
    found, _, _ = detect_video(name, num_frames, quiet=quiet)
    save_detections(found, path)
    return found


@dataclass
class Track:
    """One tracked person: the frames from its first to its last sighting.

    Attributes
    ----------
    id : int
    first : int
        Video frame of row 0.
    keypoints : (T, 33, 3)
        Confidence 0 on frames the person was not seen.
    world : (T, 33, 3)
        NaN on frames the person was not seen.
    seen : (T,) bool
    """

    id: int
    first: int
    keypoints: np.ndarray
    world: np.ndarray
    seen: np.ndarray

    @property
    def frames(self) -> np.ndarray:
        """(T,) video frame of each row."""
        return self.first + np.arange(len(self.seen))


def tracks(found: Detections, min_frames: int = 30) -> list[Track]:
    """People tracked through the video (``smplify.tracking.track_all``: the front end's
    tracker at the video's frame rate, each person from their first sighting), those seen
    in at least ``min_frames`` frames, longest first."""
    from smplify.tracking import track_all

    frames = [[found.keypoints[i] for i in found.people(t)] for t in range(found.num_frames)]
    rows: dict[int, list[tuple[int, int]]] = {}
    for t, ids in enumerate(track_all(frames, fps=found.fps)):
        for i, track in zip(found.people(t), ids, strict=True):
            if track >= 0:  # -1: a false or duplicate detection
                rows.setdefault(track, []).append((t, int(i)))
    out = []
    for track, seen in rows.items():
        if len(seen) < min_frames:
            continue
        first, last = seen[0][0], seen[-1][0]
        kp = np.zeros((last - first + 1, 33, 3))
        world = np.full((last - first + 1, 33, 3), np.nan)
        mask = np.zeros(last - first + 1, dtype=bool)
        for t, i in seen:
            kp[t - first], world[t - first], mask[t - first] = (found.keypoints[i],
                                                                 found.world[i], True)
        out.append(Track(track, first, kp, world, mask))
    out.sort(key=lambda tr: -int(tr.seen.sum()))
    return out
