"""The online Fitter's summed facing check (``track_max_spin``, docs/video.md "A slow spin"):
variants side by side, paired per clip, on tuning or held-out clips.

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/track_spin.py --set tuning \
        --variants '{"60/4": {"track_max_spin": 60, "track_spin_frames": 4}}'
    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/track_spin.py --set heldout \
        --seeds 100 300 --variants '{"60/4": {...}}' [--sequence]

``--set tuning``: the tuning clips (``tests/data/tuning_sequences.npz``, 2 × 72-frame
stretches each, detector seed ``--seeds`` + 10·clip + stretch, as ``tools/tune_online.py``)
seen as MediaPipe sees a person: mediapipe33 with the detector's 3D keypoints
(:func:`smplify.synthetic_video.detector_3d`, 3/3/6 cm noise) and the synthetic detector's
default errors, its whole-body swap bursts being front/back confusions (the 3D labels
swapped too and reflected in depth, as MediaPipe's on bench_real_video's sports2d man).
The checks need that 3D: a warm track follows such a burst round only when the reflected
3D pulls it. ``--set heldout``: bench_video's held-out clips (frames 120-240, COCO-17, no 3D,
seed + clip: ``bench_video.clip_video``), the online Fitter and, with ``--sequence``,
fit_sequence. ``--set heldout-3d``: the held-out clips as the tuning set sees the tuning clips.

Per variant and clip: PA-MPJPE and acceleration error (mm), frames whose facing is more than
90° off the truth's, CPU ms a frame (median, mean); each variant minus the first ("default"
unless given), mean ± s.e. over the clips. JSON: ``--output``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import smplify
from bench_video import SEQUENCES, accuracy, clip_video, hold_last
from smplify import synthetic_video as sv
from smplify.left_right import mirror_index
from smplify.sequence_options import sequence_keywords

HERE = Path(__file__).resolve().parent
TUNING = HERE.parent / "tests" / "data" / "tuning_sequences.npz"


def facing_off(orient: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(T,) degrees between the fitted and the true facing (body +z axes)."""
    from smplify.online import forward_axis

    dots = [float(np.dot(forward_axis(a), forward_axis(b))) for a, b in zip(orient, truth,
                                                                           strict=True)]
    return np.degrees(np.arccos(np.clip(dots, -1.0, 1.0)))


def confused_3d(model: object, video: sv.SyntheticVideo, rng: np.random.Generator) -> np.ndarray:
    """The detector's 3D keypoints, labelled as its 2D: on whole-body swapped frames swapped
    too and reflected in depth (a front/back confusion)."""
    world = sv.detector_3d(model, video, rng)
    mirror = mirror_index(video.format)
    world[video.swapped] = world[video.swapped][:, mirror] * [1.0, 1.0, -1.0]
    return world


def clips(model: object, which: str, seed: int) -> list[tuple[str, sv.SyntheticVideo,
                                                           np.ndarray | None]]:
    """(name, video, 3D keypoints or None) of the set's clips for one detector seed."""
    out = []
    if which == "heldout":
        for c, seq in enumerate(sv.load_sequences(SEQUENCES)):
            out.append((f"{seq['name']}@{seed + c}",
                        clip_video(model, seq, seed + c, slice(120, 240)), None))
        return out
    path, stretches = (TUNING, ((0, 72), (72, 144))) if which == "tuning" else \
        (SEQUENCES, ((120, 192), (192, 240)))
    for c, seq in enumerate(sv.load_sequences(path)):
        for s, (a, b) in enumerate(stretches):
            rng = np.random.default_rng(seed + 10 * c + s)
            video = sv.make_video(model, seq, "mediapipe33", rng, frames=slice(a, b))
            out.append((f"{seq['name']}[{a}:{b}]@{seed}", video,
                        confused_3d(model, video, rng)))
    return out


def online(model: object, video: sv.SyntheticVideo, world: np.ndarray | None,
           options: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The online Fitter's joints (T, 24, 3), global orientation (T, 3), CPU ms per frame
    and the frames it turned a spin back."""
    fitter = smplify.Fitter(model, format=video.format, image_size=video.image_size,
                            focal_length=video.focal_length, threads=1, **options)
    joints, orient, cpu, spun = [], [], [], 0
    for t, kp in enumerate(video.keypoints):
        start = time.process_time()
        try:
            r = fitter.fit(kp, keypoints_3d=None if world is None else world[t])
        except smplify.KeypointError:
            r = None
        cpu.append(1000 * (time.process_time() - start))
        joints.append(None if r is None else r.joints)
        orient.append(None if r is None else r.global_orient)
        spun += r is not None and "spun" in r.summary["start"]
    return hold_last(joints), hold_last(orient), np.array(cpu), spun


def paired(rows: list[dict], name: str, base: str, key: str) -> tuple[float, float]:
    """Mean ± s.e. over the clips of ``name``'s ``key`` minus ``base``'s."""
    d = np.array([r[name][key] - r[base][key] for r in rows])
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=("tuning", "heldout", "heldout-3d"), default="tuning")
    parser.add_argument("--seeds", type=int, nargs="+", default=[500])
    parser.add_argument("--variants", type=json.loads, required=True,
                        help="JSON: name -> FitOptions; a 'default' ({}) is added first")
    parser.add_argument("--sequence", action="store_true", help="also fit_sequence's rows")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    variants = {"default": {}, **args.variants}
    model = smplify.load_model("open")
    rows = []
    for seed in args.seeds:
        for name, video, world in clips(model, args.set, seed):
            row: dict = {"clip": name}
            for v, options in variants.items():
                joints, orient, cpu, spun = online(model, video, world, options)
                pa, acc = accuracy(joints, video)
                row[v] = {"pa_mpjpe_mm": pa, "accel_error_mm": acc, "spun_back": spun,
                          "facing_off_90": int(np.sum(facing_off(orient,
                                                                 video.global_orient) > 90)),
                          "cpu_ms_median": float(np.median(cpu)),
                          "cpu_ms_mean": float(np.mean(cpu))}
                if args.sequence:
                    seq = smplify.fit_sequence(video.keypoints, video.format,
                                               video.image_size, video.focal_length,
                                               model=model, keypoints_3d=world, threads=1,
                                               **sequence_keywords(options))
                    pa, acc = accuracy(seq.joints, video)
                    row[v].update({"sequence_pa_mpjpe_mm": pa, "sequence_accel_error_mm": acc})
            rows.append(row)
            print(f"{name:28s} " + "  ".join(
                f"{v} {row[v]['pa_mpjpe_mm']:6.1f}/{row[v]['facing_off_90']:2d}/"
                f"{row[v]['spun_back']}" + (f" seq {row[v]['sequence_pa_mpjpe_mm']:6.1f}"
                                            if args.sequence else "")
                for v in variants), flush=True)
    keys = ["pa_mpjpe_mm", "accel_error_mm", "facing_off_90", "cpu_ms_median"]
    if args.sequence:
        keys += ["sequence_pa_mpjpe_mm", "sequence_accel_error_mm"]
    summary = {}
    for v in variants:
        summary[v] = {k: float(np.mean([r[v][k] for r in rows])) for k in keys}
        summary[v]["spun_back"] = int(sum(r[v]["spun_back"] for r in rows))
        if v != "default":
            summary[v]["paired"] = {k: paired(rows, v, "default", k) for k in keys}
        print(f"{v:10s} " + "  ".join(f"{k} {summary[v][k]:.2f}" for k in keys)
              + f"  spun back {summary[v]['spun_back']}"
              + ("" if v == "default" else "  paired " + "  ".join(
                  f"{k} {m:+.2f}±{s:.2f}" for k, (m, s) in summary[v]["paired"].items())))
    if args.output:
        args.output.write_text(json.dumps({"args": {k: str(w) for k, w in vars(args).items()},
                                           "summary": summary, "clips": rows}, indent=1) + "\n")
        print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
