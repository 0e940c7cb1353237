"""Video fitting on held-out mocap: independent per-frame fits, the plain warm-started Fitter
(no tracking terms), a Savitzky-Golay smoothing of its joints (non-causal), the One Euro
filter (causal) on the per-frame and on the warm fits' joints, the online Fitter (temporal
rows, held shape, swap hypotheses, lost-track checks: smplify.online) with its defaults and
with ``preset="smooth_video"`` (competing tracks), and
``smplify.fit_sequence``, side by side.

Input: the four held-out CMU clips of ``tests/data/heldout_sequences.npz`` (jumping, two
dances, martial arts; never seen by the pose prior), frames ``--start``.. of each (default
120..240 at 30 fps), through the open neutral model, COCO-17 keypoints, a camera 5 m away
at a random heading (f = 1200 px), with the synthetic detector's default errors
(``smplify.synthetic_video.DetectorErrors``: noise σ = 1% of the person's 2D size, 3%
dropped frames, 5% dropped keypoints, bursts of whole-body left/right swaps, one-frame limb
swaps, limb occlusions). fit_sequence's temporal weights and swap margin were chosen on
another stretch (the salsa clip's frames 0..90, another detector seed): not on these.

Per method and clip: frames/s (all frames of the clip over the method's wall time, one
thread), PA-MPJPE (mm, mean over frames), acceleration error (mm/frame², mean ‖a − a_true‖
of pelvis-relative joints) and the output's own mean acceleration (the truth's beside it).
A frame a method gives no output for (no person, or no torso for a fit from scratch) shows
its last output, as a player would. Medians over clips for frames/s; means for the errors.

    .venv/bin/python benchmarks/bench_video.py            # ~2-4 min; JSON in results/
    .venv/bin/python benchmarks/bench_video.py --frames 60 --clips 2   # quick
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import smplify
from scipy.signal import savgol_filter
from smplify import synthetic_video as sv
from smplify.filters import one_euro
from smplify.sequence_options import sequence_keywords
from smplify.synthetic import pa_mpjpe

HERE = Path(__file__).resolve().parent
SEQUENCES = HERE.parent / "tests" / "data" / "heldout_sequences.npz"
RESULTS = HERE / "results" / "bench_video.json"
FORMAT = "coco17"
#: The causal baselines: the One Euro filter (smplify.filters; min_cutoff Hz, beta s/m) on
#: the per-frame and on the plain warm fits' joints, its parameters chosen on the tuning clips
#: (tools/tune_online.py --one-euro; never these): the least PA-MPJPE there, and ("heavy")
#: the least PA-MPJPE + accel error, which smooths far more.
ONE_EURO = {"per-frame + One Euro": ("per-frame", (4.0, 0.0)),
            "per-frame + One Euro, heavy": ("per-frame", (0.5, 0.3)),
            "warm Fitter + One Euro": ("warm Fitter", (6.0, 0.0)),
            "warm Fitter + One Euro, heavy": ("warm Fitter", (0.5, 0.3))}
METHODS = ("per-frame", "per-frame + One Euro", "per-frame + One Euro, heavy", "warm Fitter",
           "warm Fitter + One Euro", "warm Fitter + One Euro, heavy",
           "warm Fitter + Savitzky-Golay", "online Fitter", "online Fitter, unsmoothed",
           "online Fitter, smooth_video",
           "fit_sequence, one warm track (before)", "fit_sequence")
#: The rows ``--sequence-only`` fits.
SEQUENCE_METHODS = METHODS[-2:]
#: The online Fitter's rows: its defaults, without its output filter (``track_smoothing``),
#: and the competing-track preset (docs/video.md).
ONLINE = {"online Fitter": {}, "online Fitter, unsmoothed": {"track_smoothing": 0.0},
          "online Fitter, smooth_video": {"preset": "smooth_video"}}
#: The Fitter as it was before online tracking: warm starts only (no temporal rows, no swap
#: hypotheses, shape re-fitted every frame, only the 2D lost-track check).
PLAIN_WARM = {"track": False}
#: fit_sequence as it was before its Viterbi start: one plain warm track through every
#: frame, two rounds of swap hypotheses at σ = 20 px, 4 iterations a solve.
SEQUENCE_BEFORE = {"initial_tracks": ("plain",), "keyframe_step": 1, "swap_rounds": 2,
                   "sequence_iterations": 4}


def clip_arguments(parser: argparse.ArgumentParser) -> None:
    """The clips' stretch, count and detector seed (shared with bench_online.py)."""
    parser.add_argument("--start", type=int, default=120)
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--seed", type=int, default=100, help="clip c uses seed + c")
    confidence_argument(parser)


def confidence_argument(parser: argparse.ArgumentParser,
                        help: str = "the detector's confidence model (DetectorErrors)") -> None:
    """--confidence: the synthetic detector's confidence model (the benchmarks' and tuning
    tools' one option; default DetectorErrors')."""
    parser.add_argument("--confidence", choices=sv.CONFIDENCE_MODELS,
                        default=sv.DetectorErrors().confidence_model, help=help)


def hold_last(joints: list[np.ndarray | None]) -> np.ndarray:
    """(T, 24, 3): each missing frame shows the last output (the first one before any)."""
    first = next(j for j in joints if j is not None)
    out, last = [], first
    for j in joints:
        last = j if j is not None else last
        out.append(last)
    return np.array(out)


def per_frame(video: sv.SyntheticVideo, model: object,
              extra: dict[str, object] | None = None) -> list[np.ndarray | None]:
    out: list[np.ndarray | None] = []
    for kp in video.keypoints:
        try:
            out.append(smplify.fit(kp, FORMAT, video.image_size, video.focal_length,
                                   model=model, threads=1, **(extra or {})).joints)
        except smplify.KeypointError:
            out.append(None)
    return out


def clip_video(model: object, sequence: dict, seed: int, frames: slice,
               confidence: str = sv.DetectorErrors().confidence_model) -> sv.SyntheticVideo:
    """A held-out clip's ``frames`` through the synthetic detector (seed ``seed``, the
    confidence model ``confidence``): what every video benchmark here fits."""
    return sv.make_video(model, sequence, FORMAT, np.random.default_rng(seed),
                         sv.DetectorErrors(confidence_model=confidence), frames=frames)


def fitted(video: sv.SyntheticVideo, model: object, options: dict[str, object],
           seconds: list[tuple[float, float]] | None = None) -> Iterator[Any]:
    """The online Fitter's result per frame, in turn (None where it raised); ``seconds``
    collects each frame's wall and CPU (process) time: on a shared machine the CPU time is
    the one that does not count other jobs' time slices."""
    fitter = smplify.Fitter(model, format=FORMAT, image_size=video.image_size,
                            focal_length=video.focal_length, threads=1, **options)
    for kp in video.keypoints:
        start, cpu = time.perf_counter(), time.process_time()
        try:
            result = fitter.fit(kp)
        except smplify.KeypointError:
            result = None
        if seconds is not None:
            seconds.append((time.perf_counter() - start, time.process_time() - cpu))
        yield result


def tracked(video: sv.SyntheticVideo, model: object, options: dict[str, object],
            seconds: list[tuple[float, float]] | None = None) -> list[np.ndarray | None]:
    """The Fitter's joints per frame (None where it raised); ``seconds`` as :func:`fitted`."""
    return [None if r is None else r.joints for r in fitted(video, model, options, seconds)]


def one_euro_joints(joints: np.ndarray, fps: float, params: tuple[float, float]) -> np.ndarray:
    """The causal One Euro filter (smplify.filters) on the pelvis and, apart, on the
    pelvis-relative joints (T, 24, 3); the frames/s shown are the fits' (the filter's
    cost is negligible)."""
    pelvis = one_euro(joints[:, :1], fps, *params)
    return pelvis + one_euro(joints - joints[:, :1], fps, *params)


def since(start: tuple[float, float]) -> tuple[float, float]:
    """(wall, CPU) seconds since ``start`` = (perf_counter, process_time) taken then."""
    return time.perf_counter() - start[0], time.process_time() - start[1]


def now() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def accuracy(joints: np.ndarray, video: sv.SyntheticVideo) -> tuple[float, float]:
    """(mean PA-MPJPE over the frames, acceleration error against the truth), both mm."""
    return (1000 * float(np.mean([pa_mpjpe(joints[t], video.joints[t])
                                  for t in range(video.num_frames)])),
            1000 * sv.acceleration_error(joints, video.joints))


def score(joints: np.ndarray, video: sv.SyntheticVideo,
          seconds: tuple[float, float]) -> dict[str, float]:
    """Accuracy and speed of one method on one clip; ``seconds``: (wall, CPU of the whole
    process, i.e. summed over its threads)."""
    pa, accel_error = accuracy(joints, video)
    return {"fps": video.num_frames / seconds[0], "cpu_fps": video.num_frames / seconds[1],
            "pa_mpjpe_mm": pa, "accel_error_mm": accel_error,
            "accel_mm": 1000 * sv.mean_acceleration(joints)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    clip_arguments(parser)
    parser.add_argument("--window", type=int, default=9, help="Savitzky-Golay window (odd)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--options", type=json.loads, default={},
                        help="FitOptions fields (JSON) added to every method's, e.g. "
                             "'{\"knee_depth_weight\": 400}'")
    parser.add_argument("--sequence-only", action="store_true",
                        help="fit only the fit_sequence rows (a quick speed or accuracy "
                             "figure of fit_sequence; the other rows are left out)")
    args = parser.parse_args()
    methods = SEQUENCE_METHODS if args.sequence_only else METHODS

    model = smplify.load_model("open")
    sequences = sv.load_sequences(SEQUENCES)[:args.clips]
    rows = []
    for c, seq in enumerate(sequences):
        video = clip_video(model, seq, args.seed + c, slice(args.start, args.start + args.frames),
                           args.confidence)
        row = {"clip": seq["name"], "frames": video.num_frames,
               "swapped_frames": int(video.swapped.sum()),
               "dropped_frames": int(video.dropped.sum()),
               "truth_accel_mm": 1000 * sv.mean_acceleration(video.joints)}
        if not args.sequence_only:
            frame_methods(row, video, model, args)
        sequence_methods(row, video, model, args)
        rows.append(row)
        print(f"{seq['name']}: {video.num_frames} frames, {row['swapped_frames']} swapped, "
              f"{row['dropped_frames']} dropped, truth accel {row['truth_accel_mm']:.1f} mm/f²")
        for m in methods:
            r = row[m]
            print(f"  {m:38s} {r['fps']:7.1f} fps  PA-MPJPE {r['pa_mpjpe_mm']:6.1f} mm  "
                  f"accel error {r['accel_error_mm']:6.1f}  accel {r['accel_mm']:6.1f} mm/f²")
    report(rows, methods, args)


def frame_methods(row: dict[str, Any], video: sv.SyntheticVideo, model: object,
                  args: argparse.Namespace) -> None:
    """The per-frame, warm Fitter (and their filters') and online Fitter rows of a clip."""
    start = now()
    single = hold_last(per_frame(video, model, args.options))
    seconds = since(start)
    row["per-frame"] = score(single, video, seconds)
    start = now()
    warm = hold_last(tracked(video, model, {**PLAIN_WARM, **args.options}))
    warm_seconds = since(start)
    row["warm Fitter"] = score(warm, video, warm_seconds)
    for name, (source, params) in ONE_EURO.items():
        joints, spent = (single, seconds) if source == "per-frame" else (warm, warm_seconds)
        row[name] = score(one_euro_joints(joints, video.fps, params), video, spent)
    smoothed = savgol_filter(warm, args.window, 2, axis=0)  # start: the warm fits' too
    row["warm Fitter + Savitzky-Golay"] = score(smoothed, video, since(start))
    for name, options in ONLINE.items():
        frame_seconds: list[tuple[float, float]] = []
        start = now()
        online = hold_last(tracked(video, model, {**options, **args.options},
                                   frame_seconds))
        row[name] = score(online, video, since(start))
        wall, cpu = 1000 * np.array(frame_seconds).T
        row[name].update({"median_ms_per_frame": float(np.median(wall)),
                          "median_cpu_ms_per_frame": float(np.median(cpu)),
                          "mean_cpu_ms_per_frame": float(np.mean(cpu))})



def sequence_methods(row: dict[str, Any], video: sv.SyntheticVideo, model: object,
                     args: argparse.Namespace) -> None:
    """The fit_sequence rows of a clip (SEQUENCE_METHODS)."""
    for method, options in (("fit_sequence, one warm track (before)", SEQUENCE_BEFORE),
                            ("fit_sequence", {})):
        start = now()
        seq_fit = smplify.fit_sequence(video.keypoints, FORMAT, video.image_size,
                                       video.focal_length, model=model, threads=1,
                                       **{**options, **sequence_keywords(args.options)})
        row[method] = score(seq_fit.joints, video, since(start))
        row[method]["summary"] = {
            k: seq_fit.summary[k] for k in ("init_seconds", "solve_seconds",
                                            "linear_solver_seconds", "evaluation_seconds",
                                            "iterations", "solves", "relabelled_frames",
                                            "path_frames", "path_switches")}


def report(rows: list[dict[str, Any]], methods: tuple[str, ...],
           args: argparse.Namespace) -> None:
    """The summary over clips, printed and written to ``args.output``."""
    summary = {m: {"fps_median": float(np.median([r[m]["fps"] for r in rows])),
                   "cpu_fps_median": float(np.median([r[m]["cpu_fps"] for r in rows])),
                   "pa_mpjpe_mm": float(np.mean([r[m]["pa_mpjpe_mm"] for r in rows])),
                   "accel_error_mm": float(np.mean([r[m]["accel_error_mm"] for r in rows])),
                   "accel_mm": float(np.mean([r[m]["accel_mm"] for r in rows]))}
               for m in methods}
    for name in ONLINE if methods is METHODS else ():
        for key in ("median_ms_per_frame", "median_cpu_ms_per_frame", "mean_cpu_ms_per_frame"):
            summary[name][key] = float(np.median([r[name][key] for r in rows]))
    truth = float(np.mean([r["truth_accel_mm"] for r in rows]))
    print(f"\nover {len(rows)} clips (truth's own accel {truth:.1f} mm/frame²):")
    for m in methods:
        s = summary[m]
        print(f"  {m:38s} {s['fps_median']:7.1f} fps ({s['cpu_fps_median']:7.1f} of CPU)  "
              f"PA-MPJPE {s['pa_mpjpe_mm']:6.1f} mm  "
              f"accel error {s['accel_error_mm']:6.1f}  accel {s['accel_mm']:6.1f} mm/f²")
    for name in ONLINE if methods is METHODS else ():
        online = summary[name]
        print(f"  {name}: median {online['median_ms_per_frame']:.2f} ms/frame wall, "
              f"{online['median_cpu_ms_per_frame']:.2f} ms CPU (mean CPU "
              f"{online['mean_cpu_ms_per_frame']:.2f} ms, with the refits and checks); "
              "medians over clips")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                       "truth_accel_mm": truth, "summary": summary,
                                       "clips": rows}, indent=1, default=float) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
