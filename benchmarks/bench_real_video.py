"""Video fitting on REAL videos, judged by what a user would see (issue 11), without 3D truth.

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/bench_real_video.py
        [--videos vtest sports2d] [--methods per-frame online sequence] [--tracks 4]
        [--sequence-without-3d] [--only] [--options JSON]

Videos (``benchmarks/real_videos.py``; fetched at run time, never committed): OpenCV's
``vtest.avi`` (pedestrians ~100 px tall, 10 fps; its first 200 frames) and the demo of the
``sports2d`` wheel (people walking and turning, side-on, 30 fps; 230 frames). Each is
detected once (MediaPipe Pose + HOG boxes, ``smplify.detection``; keypoints and world
landmarks cached outside the repository) and its people tracked as ``smplify fit VIDEO``
tracks them (``smplify.tracking``); the ``--tracks`` people seen longest (at least 30 frames)
are fitted, format mediapipe33, the image diagonal as focal length, one thread:

- ``per-frame``: ``smplify.fit`` on every frame the person is seen, independently;
- ``online``: one ``smplify.Fitter`` (the defaults, ``track_fps`` the video's) through the
  frames, ``skip()`` where the person is not seen (what ``smplify fit VIDEO`` runs per
  track);
- ``sequence``: ``smplify.fit_sequence`` on the track's frames (unseen ones at confidence 0).

Every method gets MediaPipe's world landmarks as ``keypoints_3d`` (as the front end passes
them; ``fit_sequence`` as (T, 33, 3), NaN on unseen frames); ``--sequence-without-3d`` fits
the sequence without them (as before fit_sequence took them).

Measures (``benchmarks/real_video_metrics.py``), per method, summed or pooled over the tracks:
facing turns > 90° between consecutive frames (per 100 frames), pelvis depth jumps > 0.5 m a
frame (per 100 frames), depth range (p5-p95, metres, median over tracks), depth against the
2D scale (p95/p5 of z × 2D torso length; 1 = the depth follows the person's size in the
picture), joint acceleration (mm/frame², pelvis-relative; at 10 fps a motion's is 9× what it
is at 30), 2D reprojection error against the sure detections (px and % of the person's
height), median knee flexion (degrees; a squat where the picture shows someone upright is a
misread depth), the facing against the nose direction (profiles; % of decisive frames) and
against the detector's own facing (% and longest run: a tracker that holds through the
detector's front/back confusions disagrees for a few frames; long runs need a look at the
strip) and CPU ms per frame (median; fit_sequence: its total over its
frames). fit_sequence gives a body on every frame (unseen ones interpolated); it is scored
on the frames the person was seen, as the others are (the interpolated ones are kept for
drawing). Fits are cached per method and option set (``fits_path``: runs of other
``--options`` at the same time keep their own files; ``--methods`` refits those; the others
are read back
when their provenance matches this run's: the package's files' and core's digest, the
digest of the data files the fit loads (initialiser and start scorer weights, pose prior,
wherever they are read from: ``with_weights.py`` patches the initialiser's), the model's
fingerprint, the options, ``sequence_3d`` for fit_sequence, the detections' key and the
track's first frame and length; else they are refitted) for ``tools/draw_video_strip.py
--real``. JSON: ``benchmarks/results/bench_real_video.json`` (with which fits were made this
run).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import time
from pathlib import Path

import numpy as np
import smplify
from real_video_metrics import all_metrics
from real_videos import FRAMES, Track, cache_dir, detections, detections_key, tracks
from smplify.initializer import model_fingerprint
from smplify.sequence_options import sequence_keywords

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "bench_real_video.json"
FORMAT = "mediapipe33"
METHODS = ("per-frame", "online", "sequence")
#: Keys of a method's cached output per track.
OUTPUT_KEYS = ("betas", "global_orient", "body_pose", "transl", "joints", "keypoints_2d",
               "valid", "cpu_ms", "camera")


def _empty(n: int) -> dict[str, np.ndarray]:
    return {"betas": np.zeros((n, 10)), "global_orient": np.zeros((n, 3)),
            "body_pose": np.zeros((n, 69)), "transl": np.zeros((n, 3)),
            "joints": np.zeros((n, 24, 3)), "keypoints_2d": np.full((n, 33, 2), np.nan),
            "valid": np.zeros(n, dtype=bool), "cpu_ms": np.full(n, np.nan),
            "camera": np.full(3, np.nan)}


def _store(out: dict[str, np.ndarray], t: int, res: object) -> None:
    for key in ("betas", "global_orient", "body_pose", "transl", "joints", "keypoints_2d"):
        value = np.asarray(getattr(res, key))
        out[key][t] = value[..., :2] if key == "keypoints_2d" else value[:out[key].shape[1]]
    out["valid"][t] = True
    out["camera"] = _camera(res)


def _camera(res: object) -> np.ndarray:
    """(3,) focal length and principal point of a result's camera, pixels."""
    camera = res.camera  # type: ignore[attr-defined]
    return np.array([camera.focal_length, *camera.center], dtype=np.float64)


def fit_frames(track: Track, image_size: tuple[int, int], fps: float, model: object,
               method: str, options: dict[str, object], sequence_3d: bool = True
               ) -> dict[str, np.ndarray]:
    """One method's output per frame of ``track`` (see the module docstring);
    ``sequence_3d``: fit_sequence gets the world landmarks."""
    n = len(track.seen)
    out = _empty(n)
    if method == "sequence":
        start = time.process_time()
        seq = smplify.fit_sequence(track.keypoints, FORMAT, image_size, model=model,
                                   keypoints_3d=track.world if sequence_3d else None,
                                   threads=1, **sequence_keywords(options))
        out["cpu_ms"][:] = 1000 * (time.process_time() - start) / n
        for key in ("global_orient", "body_pose", "transl", "joints"):
            out[key] = np.asarray(getattr(seq, key), dtype=np.float64)
        out["betas"][:] = np.asarray(seq.betas)[:10]
        out["keypoints_2d"] = np.asarray(seq.keypoints_2d, dtype=np.float64)
        out["valid"][:] = True
        out["camera"] = _camera(seq)
        return out
    # As smplify fit VIDEO (smplify.pipeline): the online filter at the video's frame rate.
    fitter = smplify.Fitter(model, format=FORMAT, image_size=image_size, threads=1,
                            **{"track_fps": fps, **options}) if method == "online" else None
    for t in range(n):
        if not track.seen[t]:
            if fitter is not None:
                fitter.skip()
            continue
        kp, world = track.keypoints[t], track.world[t]
        start = time.process_time()
        try:
            if fitter is None:
                res = smplify.fit(kp, FORMAT, image_size, model=model, keypoints_3d=world,
                                  threads=1, **options)
            else:
                res = fitter.fit(kp, keypoints_3d=world)
        except smplify.KeypointError:
            continue
        finally:
            out["cpu_ms"][t] = 1000 * (time.process_time() - start)
        _store(out, t, res)
    return out


def options_key(options: dict[str, object], sequence_3d: bool = True) -> str:
    """The part of a cached fit's file name that its run's options make: "" for the
    defaults (``options`` {} and fit_sequence with the world landmarks), else "_" and 8 hex
    digits of their SHA-256, so that runs of other options (e.g. an A/B of two option sets
    at the same time) keep files of their own."""
    if not options and sequence_3d:
        return ""
    text = json.dumps({"options": options, "sequence_3d": sequence_3d}, sort_keys=True)
    return "_" + hashlib.sha256(text.encode()).hexdigest()[:8]


def fits_path(video: str, track: int, method: str, options: dict[str, object] | None = None,
              sequence_3d: bool = True) -> Path:
    """Where a method's fits of one track with ``options`` (FitOptions as given by
    ``--options``; None: the defaults) are cached (read by tools/draw_video_strip.py);
    ``sequence_3d`` names fit_sequence's files only (the other methods fit no world
    landmarks' sequence term)."""
    key = options_key(options or {}, sequence_3d or method != "sequence")
    return cache_dir() / f"fits_{video}_track{track}_{method}{key}.npz"


def package_digest() -> str:
    """SHA-256 (16 hex digits) of the installed package's files (Python sources, the
    initialisers' weights and other data) and its compiled core: what a cached fit was
    computed with (edits need no commit to count)."""
    from smplify import _core

    root = Path(smplify.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()
                       and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".so")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    digest.update(Path(_core.__file__).read_bytes())
    return digest.hexdigest()[:16]


def data_digest(format: str = FORMAT) -> str:
    """SHA-256 (16 hex digits) of the data files a fit loads, read from wherever the package
    reads them now: the learned initialiser's weights for ``format``
    (``initializer._weights_file``, which ``benchmarks/with_weights.py`` points at another
    folder), the start scorer's weights and the open pose prior. :func:`package_digest`
    sees only the files inside the installed package, not weights patched in from
    elsewhere; a file that is missing counts as missing."""
    from smplify import initializer, prior, start_scorer

    files = {"initializer": initializer._weights_file(format),
             "start_scorer": start_scorer.WEIGHTS_FILE, "prior": prior._NAMED["open"]}
    digest = hashlib.sha256()
    for name, path in files.items():
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.is_file() else b"(missing)")
    return digest.hexdigest()[:16]


def provenance(run: dict[str, object], method: str, video: str, track: Track
               ) -> dict[str, object]:
    """What one track's fits by ``method`` depend on; ``run``: the package digest, the
    digest of the data files the fit loads, model fingerprint, options and ``sequence_3d``
    of this run."""
    return {"package": run["package"], "data": run["data"], "model": run["model"],
            "options": run["options"],
            "sequence_3d": bool(run["sequence_3d"]) if method == "sequence" else None,
            "detections": detections_key(video), "first": int(track.first),
            "length": len(track.seen)}


def cached_fits(path: Path, wanted: dict[str, object]) -> dict[str, np.ndarray] | None:
    """The cached fits at ``path`` if they were computed as ``wanted`` says, else None."""
    if not path.is_file():
        return None
    with np.load(path) as z:
        if "provenance" not in z or json.loads(str(z["provenance"])) != wanted:
            return None
        return {k: z[k] for k in OUTPUT_KEYS}


def summarise(per_track: list[dict[str, float]]) -> dict[str, float]:
    """One method over a video's tracks: counts per 100 frames, pooled; others the median
    over tracks (ratios, ranges, errors) or frame-weighted means (acceleration)."""
    frames = sum(r["frames"] for r in per_track)
    out = {"frames": frames, "tracks": len(per_track)}
    for key in ("turns_over_90", "depth_jumps"):
        out[f"{key}_per_100"] = 100.0 * sum(r[key] for r in per_track) / max(frames, 1)
    for key in ("depth_range_m", "depth_vs_2d_ratio", "reprojection_px", "reprojection_pct",
                "depth_step_median_m", "turn_median_deg", "cpu_ms_median", "knee_bend_deg"):
        out[key] = float(np.nanmedian([r[key] for r in per_track]))
    # A track too short for an acceleration (< 3 consecutive frames) has NaN: skipped.
    accel = np.array([r["accel_mm"] for r in per_track], dtype=float)
    weights = np.array([r["frames"] for r in per_track], dtype=float) * np.isfinite(accel)
    out["accel_mm"] = (float(np.average(np.nan_to_num(accel), weights=weights))
                       if weights.sum() > 0 else float("nan"))
    for cue in ("nose", "detector"):
        decisive = sum(r[f"{cue}_decisive"] for r in per_track)
        wrong = sum(r[f"{cue}_against_pct"] * r[f"{cue}_decisive"] / 100.0 for r in per_track)
        out[f"{cue}_against_pct"] = 100.0 * wrong / max(decisive, 1)
        out[f"{cue}_against_longest"] = max(r[f"{cue}_against_longest"] for r in per_track)
    return out


COLUMNS = (("turns_over_90_per_100", "turns>90°/100f", "{:.1f}"),
           ("depth_jumps_per_100", "z jumps/100f", "{:.1f}"),
           ("depth_range_m", "z range m", "{:.2f}"),
           ("depth_vs_2d_ratio", "z·h p95/p5", "{:.2f}"),
           ("accel_mm", "accel mm/f²", "{:.1f}"),
           ("reprojection_px", "reproj px", "{:.1f}"),
           ("knee_bend_deg", "knee °", "{:.0f}"),
           ("nose_against_pct", "vs nose %", "{:.1f}"),
           ("detector_against_pct", "vs det %", "{:.1f}"),
           ("detector_against_longest", "vs det run", "{:.0f}"),
           ("cpu_ms_median", "CPU ms/f", "{:.1f}"))


def print_table(video: str, summary: dict[str, dict[str, float]]) -> None:
    print(f"\n{video}: " + ", ".join(f"{m} {s['tracks']} tracks {s['frames']} frames"
                                     for m, s in list(summary.items())[:1]))
    print(f"  {'method':12s}" + "".join(f"{label:>16s}" for _, label, _ in COLUMNS))
    for method, s in summary.items():
        print(f"  {method:12s}" + "".join(f"{fmt.format(s[key]):>16s}"
                                          for key, _, fmt in COLUMNS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", nargs="+", default=list(FRAMES))
    parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=METHODS,
                        help="methods to fit now; the others are read from the cache")
    parser.add_argument("--tracks", type=int, default=4, help="longest tracks per video")
    parser.add_argument("--options", type=json.loads, default={},
                        help="extra FitOptions as JSON, for every method fitted now "
                             "(reading_weight reaches fit_sequence as frame_reading_weight)")
    parser.add_argument("--sequence-without-3d", action="store_true",
                        help="fit_sequence without the world landmarks")
    parser.add_argument("--only", action="store_true",
                        help="score only --methods (the others neither read nor refitted: "
                             "for comparing variants of one method)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    model = smplify.load_model("open")
    run = {"package": package_digest(), "data": data_digest(),
           "model": model_fingerprint(model),
           "options": json.loads(json.dumps(args.options, sort_keys=True)),
           "sequence_3d": not args.sequence_without_3d}
    doc: dict[str, object] = {"args": {k: str(v) for k, v in vars(args).items()},
                              "date": time.strftime("%Y-%m-%d"),
                              "machine": platform.platform(),
                              "provenance": {"package": run["package"],
                                             "data": run["data"],
                                             "model": run["model"][:16]},
                              "videos": {}}
    for video in args.videos:
        found = detections(video)
        people = tracks(found)[:args.tracks]
        rows: dict[str, list[dict[str, float]]] = {m: [] for m in METHODS}
        fitted: dict[str, list[int]] = {m: [] for m in METHODS}
        for track in people:
            for method in (args.methods if args.only else METHODS):
                path = fits_path(video, track.id, method, run["options"],
                                 bool(run["sequence_3d"]))
                wanted = provenance(run, method, video, track)
                out = None if method in args.methods else cached_fits(path, wanted)
                if out is None:
                    out = fit_frames(track, found.image_size, found.fps, model, method,
                                     args.options, not args.sequence_without_3d)
                    np.savez(path, provenance=json.dumps(wanted), **out)
                    fitted[method].append(track.id)
                # Scored where the person was seen: fit_sequence's interpolated frames
                # (valid for drawing) would be counted by no other method.
                metrics = all_metrics(out["global_orient"], out["joints"],
                                      out["keypoints_2d"], out["valid"] & track.seen,
                                      track.keypoints, track.world)
                metrics["cpu_ms_median"] = float(np.nanmedian(out["cpu_ms"]))
                metrics["track"] = track.id
                rows[method].append(metrics)
                print(f"  {video} track {track.id} ({int(track.seen.sum())} frames seen of "
                      f"{len(track.seen)}) {method}: " + ", ".join(
                          f"{k} {v:.3g}" for k, v in metrics.items() if k != "track"),
                      flush=True)
        summary = {m: summarise(r) for m, r in rows.items() if r}
        print_table(video, summary)
        doc["videos"][video] = {  # type: ignore[index]
            "frames": found.num_frames, "fps": found.fps, "image_size": found.image_size,
            "detections": len(found.frame), "tracks": [t.id for t in people],
            "summary": summary, "per_track": rows,
            "fitted_this_run": fitted}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(doc, indent=1, default=float) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
