"""From an opened input (``smplify.sources``) to bodies on disk, person by person, frame by frame.

For each frame: decode, find the people (their keypoints from the file, or
``smplify.detection`` on the picture; on a video's frames its video mode,
``smplify.video_detection``), track them (``smplify.tracking``), fit each track with
its own warm-started ``smplify.Fitter``, draw, write. A person gets a track once seen on two
frames running (or in the first or last frame): their first frame is fitted then (its
overlay, already written, does not show them); a detection that never gets a track (a
one-frame false person, a duplicate) is not fitted and counted in ``RunSummary.untracked``.
Inputs of one frame, and those of unrelated photos (``Source.tracked`` False: a COCO
annotation file), are not tracked: every person gets their own id and is fitted from
scratch. Outputs, in ``out_dir``:

- per person and frame: ``<frame>_p<track>.obj`` (or ``.ply``/``.glb``: the mesh, camera
  frame, metres) and ``<frame>_p<track>_params.npz`` / ``.json`` (smplx-named parameters,
  camera, energies, ``track_id``, ``frame``; ``smplify.export``);
- per frame: ``<frame>_overlay.png``, every fitted body over the picture (or a white canvas
  for keypoint files) with the detected keypoints (red) and the model's (green);
- for one picture, per person: ``<frame>_p<track>_side.png``, the body from its side, whole
  (at the photo's scale, on a canvas grown past the photo's frame where the turned body leaves it);
- for a sequence: the per-frame files go to ``frames/``, and ``<input>_track<k>.npz`` stacks
  each track's parameters over the frames it was seen in (``frame`` (T,), ``betas``
  (T, B), ``global_orient`` (T, 3), ``body_pose`` (T, 69), ``transl`` (T, 3),
  ``focal_length`` (), ``camera_center`` (2,), ``energy_total`` (T,), ``keypoints`` (T, K, 3),
  ``keypoints_3d`` (T, K, 3) where the detector gave 3D keypoints (metres, NaN on frames
  without: the fit's ``keypoints_3d``), ``format``, ``image_size`` and the video's ``fps``:
  ``smplify fit`` reads a track file back, 3D keypoints and focal length included, and
  names its refit after it: ``<input>.npz`` in another folder, ``<input>_refit.npz`` in its
  own, ``_track_name``);
  a video also gets ``<input>_overlay.mp4`` (``smplify.overlay_video``): H.264 (browsers
  play it) where the ``imageio-ffmpeg`` package is installed (the ``render`` extra brings
  it: its own ffmpeg has libx264), else OpenCV's mp4v (MPEG-4 Part 2, which browsers do not
  play; OpenCV's wheels have no H.264 encoder); an encoder that fails is an error, raised
  once the track and motion files are written;
- with ``motion`` (``--motion glb bvh npz``), per track its motion at the input's frame rate:
  ``<input>_track<k>_motion.glb`` / ``.bvh`` / ``.npz`` (``smplify.track_motion``).

With ``overlap=True``, drawing and writing a frame run on a worker thread
(``smplify.frame_writer``) while the next frame is decoded, detected and fitted: the same
files, written in the same order, as the serial run (``overlap=False``, the default: on the
shared 2-core machine it was measured on, the wall time did not change; docs/video.md).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import KeypointError
from .frame_writer import FrameWriter
from .overlay_video import VideoOut
from .sources import InputError, Source, plausible_fps
from .track_motion import check_motion, write_track_motions

__all__ = ["RunSummary", "run", "STAGES"]

STAGES = ("decode", "detect", "fit", "render", "write")


@dataclass
class RunSummary:
    """What :func:`run` did.

    Attributes
    ----------
    frames : int
        Frames read.
    fits : int
        Bodies fitted (people x frames).
    tracks : int
        Distinct people (track ids).
    untracked : int
        Detections of a tracked sequence never given a track id, so not fitted (a one-frame
        false person, a duplicate, a weak one nobody's track took).
    skipped : list of str
        People that could not be fitted ("frame 12, track 3: ..."), and why.
    files : list of Path
        Everything written.
    seconds : dict
        Wall time per stage (``STAGES``) over the whole input.
    frame_seconds : list of dict
        Wall time per stage of each frame (with ``overlap``, render and write are timed on
        the writer thread, at the same time as the next frames' stages).
    frame_cpu_seconds : list of dict
        The process's CPU time per stage of each frame (OpenGL's and MediaPipe's threads
        included); serial runs only (``overlap=False``): empty otherwise, as two stages run
        at once then.
    last : list of (int, (K, 3) ndarray, FitResult)
        The last frame's fits: track id, keypoints, result (with those of people confirmed
        at the end, :meth:`smplify.tracking.Tracker.finish`).
    """

    frames: int = 0
    fits: int = 0
    tracks: int = 0
    untracked: int = 0
    skipped: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    frame_seconds: list[dict[str, float]] = field(default_factory=list)
    frame_cpu_seconds: list[dict[str, float]] = field(default_factory=list)
    last: list[tuple[int, NDArray[np.float64], Any]] = field(default_factory=list)


class _TrackStack:
    """One track's parameters over the frames it was fitted in."""

    def __init__(self) -> None:
        self.rows: dict[str, list[Any]] = {k: [] for k in (
            "frame", "betas", "global_orient", "body_pose", "transl", "energy_total",
            "keypoints", "keypoints_3d")}
        self.camera: tuple[float, NDArray[np.float64]] | None = None

    def add(self, frame: int, result: Any, keypoints: NDArray[np.float64],
            keypoints_3d: NDArray[np.float64] | None = None) -> None:
        for key in ("betas", "global_orient", "body_pose", "transl"):
            self.rows[key].append(np.asarray(getattr(result, key), dtype=np.float32))
        self.rows["frame"].append(frame)
        self.rows["energy_total"].append(float(result.energy.get("total", np.nan)))
        self.rows["keypoints"].append(keypoints)
        # the detector's 3D keypoints (MediaPipe's world landmarks), NaN where it gave none
        self.rows["keypoints_3d"].append(np.full(np.shape(keypoints), np.nan)
                                         if keypoints_3d is None else keypoints_3d)
        self.camera = (float(result.camera.focal_length),
                       np.asarray(result.camera.center, dtype=np.float64))

    def save(self, path: Path, track_id: int, format: str | None,
             image_size: Sequence[int], fps: float | None) -> Path:
        """Write the track file (``arrays``)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **self.arrays(track_id, format, image_size, fps))
        return path

    def arrays(self, track_id: int, format: str | None, image_size: Sequence[int],
               fps: float | None) -> dict[str, Any]:
        """The track file's arrays (module docstring)."""
        arrays = {k: np.asarray(v) for k, v in self.rows.items()}
        if np.isnan(arrays["keypoints_3d"]).all():  # no 3D keypoints given: none stored
            del arrays["keypoints_3d"]
        # what ``smplify fit`` needs to read the file back (``sources``: an .npz)
        if format is not None:
            arrays["format"] = np.str_(format)
        arrays["image_size"] = np.asarray(image_size, dtype=np.int64)
        if plausible_fps(fps) is not None:  # the online filter's time unit when fitted again
            arrays["fps"] = np.float64(fps)
        arrays["frame"] = arrays["frame"].astype(np.int64)
        assert self.camera is not None
        arrays["focal_length"] = np.float64(self.camera[0])
        arrays["camera_center"] = self.camera[1]
        arrays["track_id"] = np.int64(track_id)
        return arrays


def _crop_to_body(picture: NDArray[np.uint8], background: int = 255,
                  margin: float = 0.15) -> NDArray[np.uint8]:
    """The part of a plain-background picture around what was drawn on it."""
    drawn = np.any(picture != background, axis=2)
    if not drawn.any():
        return picture
    ys, xs = np.nonzero(drawn)
    pad = int(margin * max(ys.max() - ys.min(), xs.max() - xs.min())) + 4
    y0, y1 = max(ys.min() - pad, 0), min(ys.max() + pad + 1, picture.shape[0])
    x0, x1 = max(xs.min() - pad, 0), min(xs.max() + pad + 1, picture.shape[1])
    return picture[y0:y1, x0:x1]


def run(source: Source, out_dir: str | Path, *, model: Any = "open",
        focal_length: float | str | None = None, render: bool = True, mesh_suffix: str = ".obj",
        detector: Any = None, max_frames: int | None = None, write: bool = True,
        progress: Callable[[Any], Any] | None = None, overlap: bool = False,
        motion: Sequence[str] = (), motion_fit: str = "online", **options: Any) -> RunSummary:
    """Fit every person of every frame of ``source`` and write the results.

    Parameters
    ----------
    source : Source
        From ``smplify.sources.open_source``.
    out_dir : str or Path
        Output folder (created with the first file written: an input that fails before
        leaves none behind).
    model : str, Path or BodyModel
        As for ``smplify.fit``; loaded once.
    focal_length : float, "estimate" or None, optional
        Pixels; None: the input's own (``Source.focal_length``: a track file's camera) or
        else ``smplify.fit``'s default; "estimate": each track's first frame.
    render : bool
        Draw the overlays (and side views, overlay video); needs the ``render`` extra.
    mesh_suffix : str
        ".obj", ".ply" or ".glb".
    detector : smplify.detection.Detector, optional
        For inputs of pictures; default: one made on first use (the ``detect`` extra). A
        video (a tracked sequence) runs it in video mode
        (``smplify.video_detection.VideoDetector``: each person followed in a crop, the
        full scan spread over the frames and run whole when someone is lost); a
        ``VideoDetector`` given here is reset, then used as it is.
    max_frames : int, optional
        Stop after this many frames.
    write : bool
        Write files (False: fit and draw only, e.g. to time the stages).
    progress : callable, optional
        Wraps the frame iterator (``tqdm.tqdm`` partially applied), for a progress bar; it
        is started once the first frame is done (``_bar_after_first``).
    overlap : bool
        Draw and write frame t on a worker thread while frame t + 1 is detected and fitted
        (at most two frames waiting); False (default): one stage after another, here. The
        outputs are the same either way; an error while drawing or writing is raised here.
    motion : sequence of str
        Sequences: also write each track's motion, ``<input>_track<k>_motion.glb`` /
        ``.bvh`` / ``.npz`` for "glb", "bvh", "npz", at the input's frame rate
        (``smplify.track_motion``); () (default): none. Ignored for a photo.
    motion_fit : str
        Where the motion comes from: "online" (default: the track's own frames, as drawn) or
        "sequence" (``smplify.fit_sequence`` over the track's keypoints; slower).
    **options
        Fit options, as for ``smplify.fit``.

    Returns
    -------
    RunSummary

    Raises
    ------
    InputError
        Nobody was found in any frame (or a frame of the input is unreadable).
    """
    from .export import MESH_SUFFIXES, save_mesh, save_params
    from .fitter import Fitter, _model
    from .fitting import photo_options
    from .options import FitOptions
    from .tracking import Tracker

    if mesh_suffix not in MESH_SUFFIXES:
        raise ValueError(f"mesh_suffix: expected one of {MESH_SUFFIXES}, got {mesh_suffix!r}")
    motion = check_motion(motion, motion_fit)
    out = Path(out_dir)  # each file makes its folder: nothing written, no folder
    frames_dir = out / "frames" if source.is_sequence else out
    body_model = _model(model)
    if focal_length is None:  # a track file fitted again: the camera it was fitted with
        focal_length = source.focal_length
    fps = plausible_fps(source.fps)
    if fps is not None and "track_fps" not in options:
        # The online output filter's time unit: the video's own frame rate (vtest.avi is
        # 10 fps; FitOptions assumes 30). A container's rate outside 1-1000 fps (OpenCV
        # reports 0, negative or absurd rates for some files) keeps the default.
        options = {**options, "track_fps": fps}
    # Checked now, not at the first person's fit: that can come after minutes of detection.
    FitOptions.from_kwargs(**options)
    summary = RunSummary()
    # Lost people are kept for re-matching two seconds of the video's own time (vtest.avi:
    # 20 frames at 10 fps); a new person gets an id once seen on two frames running, and those
    # earlier frames are fitted then (``recent`` keeps them).
    tracker = Tracker(fps=fps if fps is not None else 30.0)
    recent: dict[int, tuple[Any, list[Any], list[Any]]] = {}
    fitters: dict[int, Any] = {}
    stacks: dict[int, _TrackStack] = {}
    tracked = source.tracked and source.is_sequence
    if not tracked:
        # Photos: every person a fit of one image from scratch (prune_starts "auto" as
        # smplify.fit's, not a Fitter's frames').
        options = photo_options(options, source.format)
    detections, given = 0, [0]  # people seen; people given a track id (fitted or tried)
    video = VideoOut(out / f"{source.path.stem}_overlay.mp4", source.fps) \
        if render and write and source.kind == "video" else None

    def fit_person(frame: Any, track: int, kp: Any, world: Any) -> Any:
        if track not in fitters:
            fitters[track] = Fitter(body_model, format=source.format,
                                    image_size=source.image_size,
                                    focal_length=focal_length, **options)
        try:
            return fitters[track].fit(kp, keypoints_3d=world)
        except KeypointError as err:
            summary.skipped.append(f"frame {frame.index} ({frame.name}), track {track}: {err}")
            return None

    def keep(frame: Any, fitted: list[tuple[int, Any, Any]], worlds: list[Any]) -> None:
        for (track, kp, result), world in zip(fitted, worlds, strict=True):
            stacks.setdefault(track, _TrackStack()).add(frame.index, result, kp, world)

    def write_bodies(frame: Any, fitted: list[tuple[int, Any, Any]],
                     clock: dict[str, float], cpu: dict[str, float]) -> None:
        """(On the writer.) Each body's mesh and parameter files."""
        t0, c0 = time.perf_counter(), time.process_time()
        for track, _, result in fitted if write else ():
            stem = frames_dir / f"{frame.name}_p{track}"
            summary.files += [
                save_mesh(stem.with_name(stem.name + mesh_suffix), result.vertices,
                          result.faces),
                *(save_params(stem.with_name(f"{stem.name}_params{s}"), result,
                              model=body_model, track_id=track, frame=frame.index)
                  for s in (".npz", ".json"))]
        clock["write"] += time.perf_counter() - t0
        cpu["write"] += time.process_time() - c0

    def finish_frame(frame: Any, fitted: list[tuple[int, Any, Any]],
                     clock: dict[str, float], cpu: dict[str, float]) -> None:
        """(On the writer.) Draw the frame's overlay, write its bodies and pictures."""
        t0, c0 = time.perf_counter(), time.process_time()
        pictures: dict[str, NDArray[np.uint8]] = {}
        if render and (fitted or video is not None):
            pictures.update(_draw(frame, fitted, source, side=not source.is_sequence))
        clock["render"] += time.perf_counter() - t0
        cpu["render"] += time.process_time() - c0
        write_bodies(frame, fitted, clock, cpu)
        t0, c0 = time.perf_counter(), time.process_time()
        if write:
            summary.files += _save_pictures(frames_dir, frame.name, pictures, video)
        clock["write"] += time.perf_counter() - t0
        cpu["write"] += time.process_time() - c0

    def fit_earlier(confirmed: dict[int, list[tuple[int, int]]]
                    ) -> list[tuple[int, int, Any, Any, Any]]:
        """Fit the frames a newly confirmed track was seen in before it had an id; returns
        the fits, (frame number, track, keypoints, result, frame)."""
        done = []
        for track, sightings in confirmed.items():
            for n, j in sightings:
                before, their, their_worlds = recent[n]
                given[0] += 1
                result = fit_person(before, track, their[j], their_worlds[j])
                if result is not None:
                    summary.fits += 1
                    keep(before, [(track, their[j], result)], [their_worlds[j]])
                    done.append((n, track, their[j], result, before))
        return done

    def write_earlier(done: list[tuple[int, int, Any, Any, Any]], clock: dict[str, float],
                      cpu: dict[str, float]) -> None:
        """Hand the earlier frames' bodies to the writer, in the order they were fitted."""
        for _, track, kp, result, before in done:
            writer.submit(f"frame {before.index} ({before.name})", write_bodies, before,
                          [(track, kp, result)], clock, cpu)

    finder: Any = None  # the detector as run on this input (its video mode for a video)
    frames = source.frames()
    if progress is not None:
        frames = _bar_after_first(frames, progress)
    iterator = iter(frames)
    writer = FrameWriter(threaded=overlap)
    clocks: list[dict[str, float]] = []  # wall, then CPU, per frame (and the end's)
    try:
        while max_frames is None or summary.frames < max_frames:
            clock, cpu = dict.fromkeys(STAGES, 0.0), dict.fromkeys(STAGES, 0.0)
            clocks += [clock, cpu]
            t0, c0 = time.perf_counter(), time.process_time()
            frame = next(iterator, None)
            clock["decode"] += time.perf_counter() - t0
            cpu["decode"] += time.process_time() - c0
            if frame is None:
                break
            summary.frames += 1
            people = frame.people
            # an .npz's own 3D keypoints (a track file's), else the detector's below
            worlds: list[Any] = list(frame.worlds) if frame.worlds is not None else \
                [None] * len(people or ())
            t0, c0 = time.perf_counter(), time.process_time()
            if people is None:
                if detector is None:
                    from .detection import _shared_detector

                    detector = _shared_detector(10, 0.5, True)
                if finder is None:
                    from .detection import Detector
                    from .video_detection import VideoDetector

                    # a video: its people followed in crops, the full scan every few frames
                    finder = VideoDetector(detector) if tracked and isinstance(
                        detector, Detector) else detector
                    if isinstance(finder, VideoDetector):
                        finder.reset()  # a VideoDetector given here: this input is new
                found = finder.detect(frame.image)
                # MediaPipe's world landmarks: the fit's keypoints_3d (SPEC §6 depth evidence).
                people, worlds = [p.keypoints for p in found], [p.world for p in found]
            number = tracker.frames
            detections += len(people)
            if tracked:
                ids = tracker.update(people)
                recent[number] = (frame, list(people), list(worlds))
                recent.pop(number - tracker.min_hits, None)
            else:  # photos: everyone their own body, fitted cold
                ids = list(range(summary.tracks, summary.tracks + len(people)))
                summary.tracks += len(people)
                fitters.clear()
            given[0] += sum(i >= 0 for i in ids)
            clock["detect"] += time.perf_counter() - t0
            cpu["detect"] += time.process_time() - c0

            t0, c0 = time.perf_counter(), time.process_time()
            earlier = fit_earlier(tracker.earlier)
            for track in tracker.unseen:  # lost for now: the track's Fitter skips the frame
                if track in fitters:
                    fitters[track].skip()
            for track in set(fitters) - set(tracker.live):  # ended
                del fitters[track]
            fitted, fitted_worlds = [], []
            for kp, world, track in zip(people, worlds, ids, strict=True):
                if track < 0:  # not (yet) a confirmed person
                    continue
                result = fit_person(frame, track, kp, world)
                if result is not None:
                    fitted.append((track, kp, result))
                    fitted_worlds.append(world)
            keep(frame, fitted, fitted_worlds)
            clock["fit"] += time.perf_counter() - t0
            cpu["fit"] += time.process_time() - c0
            summary.fits += len(fitted)
            summary.last = fitted
            summary.frame_seconds.append(clock)
            if not overlap:
                summary.frame_cpu_seconds.append(cpu)
            write_earlier(earlier, clock, cpu)
            # a copy: summary.last (this list) grows at the end while the writer may draw it
            writer.submit(f"frame {frame.index} ({frame.name})", finish_frame, frame,
                          list(fitted), clock, cpu)
        if hasattr(frames, "close"):  # the bar cleared before the summary (max_frames
            frames.close()  # stops it short of its end, where it would close itself)
        clock, cpu = dict.fromkeys(STAGES, 0.0), dict.fromkeys(STAGES, 0.0)  # the end's
        clocks += [clock, cpu]
        t0, c0 = time.perf_counter(), time.process_time()
        last = tracker.frames - 1
        # people who came into view on the last frames; those of the last frame are its fits
        earlier = fit_earlier(tracker.finish())
        summary.last += [(track, kp, result) for n, track, kp, result, _ in earlier
                         if n == last]
        clock["fit"] += time.perf_counter() - t0
        cpu["fit"] += time.process_time() - c0
        write_earlier(earlier, clock, cpu)
        writer.close()
    except BaseException as err:
        writer.abort(err)  # stop the writer; a job's error not yet raised is noted on err
        if hasattr(frames, "close"):  # a progress bar: cleared before the caller reports err
            frames.close()
        if video is not None:  # the video as far as it got; err is what is reported
            video.close(check=False)
        raise
    finally:
        writer.abort()  # stop the writer if it still runs (no-op once stopped)
    # The tracks' files before the video is closed: an encoder that failed (an OSError from
    # video.close) must not lose the finished fits.
    at = len(summary.files)  # the video's place among the files: before the tracks'
    try:
        for clock in clocks[::2]:  # the writer is done: every stage of every frame is timed
            for stage, seconds in clock.items():
                summary.seconds[stage] += seconds
        summary.tracks = len(stacks)
        summary.untracked = detections - given[0]
        if summary.fits == 0:
            what = "any frame" if source.is_sequence else "it"
            reasons = f" ({summary.skipped[0]})" if summary.skipped else ""
            untracked = f"; {summary.untracked} detections never tracked (seen on one frame " \
                "only, or duplicates)" if summary.untracked else ""
            raise InputError(f"{source.path}: no person found in {what}{reasons}{untracked}")
        if write and source.is_sequence:
            t0 = time.perf_counter()
            names = {track: out / _track_name(source, out, track) for track in stacks}
            for track, stack in sorted(stacks.items()):
                summary.files.append(stack.save(out / f"{names[track].name}.npz",
                                                track, source.format, source.image_size,
                                                source.fps))
            summary.seconds["write"] += time.perf_counter() - t0
            if motion:  # (a sequence's second fit is "fit" time)
                t0 = time.perf_counter()
                tracks = {track: stack.arrays(track, source.format, source.image_size, fps)
                          for track, stack in stacks.items()}
                files, skipped = write_track_motions(
                    tracks, names, motion, motion_fit, body_model,
                    source.format, source.image_size, fps, options)
                summary.files += files
                summary.skipped += skipped
                summary.seconds["fit" if motion_fit == "sequence" else "write"] += \
                    time.perf_counter() - t0
    except BaseException:
        if video is not None:  # the video as far as it got; the error is what is reported
            video.close(check=False)
        raise
    if video is not None:  # a failed encoder is an OSError naming the file (removed)
        written = video.close()
        if written is not None:
            summary.files.insert(at, written)
    return summary


def _bar_after_first(frames: Iterable[Any], progress: Callable[[Any], Any]) -> Iterator[Any]:
    """``frames``, the progress bar (``progress`` over them) started once the first frame is
    done. MediaPipe prints its log lines on stderr (native code, past Python and tqdm) when
    the detector is made (8 lines) and when it first finds a person (1): on the first frame,
    before the bar; printed over it, they break it (the bar's line glued to the first, the bar
    redrawn below). Closing this generator closes the bar."""
    iterator = iter(frames)
    first = next(iterator, None)
    if first is None:
        return
    yield first
    bar = progress(itertools.chain([first], iterator))
    try:
        shown = iter(bar)
        next(shown)  # the first frame, done: counted when the second is asked for
        yield from shown
    finally:
        if hasattr(bar, "close"):
            bar.close()


def _track_name(source: Source, out: Path, track: int) -> str:
    """The name of track ``track``'s files in ``out`` (its ``.npz``, ``_motion.*``):
    ``<input>_track<k>``. A track file fitted again (``Source.track_id``) keeps its name,
    ``<input>`` for its person (track 0) and ``<input>_track<k>`` for a further one, and
    gets ``_refit`` after it where ``<input>.npz`` would be the input itself (fitted again
    into its own folder): no ``_track0_track0``, no overwritten input."""
    stem = source.path.stem
    if source.track_id is None:
        return f"{stem}_track{track}"
    if (out / f"{stem}.npz").resolve() == source.path.resolve():
        stem += "_refit"
    return stem if track == 0 else f"{stem}_track{track}"


def _draw(frame: Any, fitted: list[tuple[int, NDArray, Any]], source: Source,
          side: bool) -> dict[str, NDArray[np.uint8]]:
    from . import pictures

    size = source.image_size
    picture = frame.image if frame.image is not None else \
        np.full((size[1], size[0], 3), 255, dtype=np.uint8)
    colors = pictures.TRACK_COLORS
    drawn = {"overlay": pictures.draw_fits(
        [r for _, _, r in fitted], picture, keypoints=[kp for _, kp, _ in fitted],
        colors=[colors[t % len(colors)] for t, _, _ in fitted])}
    if side:
        for track, _, result in fitted:
            drawn[f"p{track}_side"] = _crop_to_body(_draw_whole_side(result, size))
    return drawn


def _draw_whole_side(result: Any, size: tuple[int, int], margin: int = 8) -> NDArray[np.uint8]:
    """``pictures.draw_fit_side`` at the photo's scale on a canvas that holds the whole body.

    At the photo's place the side view can leave the picture (a foot at the photo's lower
    edge, turned, lands below it); here the camera's centre shifts and the canvas grows so
    every vertex is in view (by at most the photo's size on each side)."""
    from . import pictures
    from .render import side_camera
    from .result import Camera

    cam = side_camera(result.vertices, result.camera, size)
    depth = result.vertices @ cam.rotation[2] + cam.translation[2]
    if not np.all(depth > 1e-6):  # the body reaches behind the turned camera: as it is
        try:
            return pictures.draw_fit_side(result, size)
        except ValueError:  # none of it in the picture: an empty side view, not a failed run
            return np.full((size[1], size[0], 3), 255, dtype=np.uint8)
    turned = result.vertices @ cam.rotation.T + cam.translation
    uv = cam.focal_length * turned[:, :2] / turned[:, 2:3] + np.asarray(cam.center)
    limit = np.asarray(size, dtype=np.float64)
    low = np.clip(np.floor(uv.min(axis=0)) - margin, -limit, 0.0)
    high = np.clip(np.ceil(uv.max(axis=0)) + margin, limit, 2.0 * limit)
    canvas = (int(high[0] - low[0]), int(high[1] - low[1]))
    moved = SimpleNamespace(vertices=result.vertices, faces=result.faces, camera=Camera(
        float(result.camera.focal_length), np.asarray(result.camera.center) - low))
    return pictures.draw_fit_side(moved, canvas)


def _save_pictures(folder: Path, name: str, pictures: dict[str, NDArray[np.uint8]],
                   video: VideoOut | None) -> list[Path]:
    from .render import save_png

    files = []
    for kind, picture in pictures.items():
        path = folder / f"{name}_{kind}.png"
        save_png(path, picture)
        files.append(path)
    if video is not None and "overlay" in pictures:
        video.write(pictures["overlay"])
    return files

