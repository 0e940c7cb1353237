"""λ_R scaled by the person's size (``FitOptions.reading_weight_size``) through the video
paths, paired with the defaults on the same detections: the online Fitter (its defaults, one
thread) and ``fit_sequence`` (its defaults; the variant's FitOptions reach its per-frame fits,
``reading_weight`` as ``frame_reading_weight``), and with
``--per-frame`` the independent per-frame fits (``reading_weight_by_size.py`` reads those
exactly offline, far cheaper).

Clips: ``--set heldout`` is ``bench_video.py``'s (its four held-out clips, frames
``--start``.. for ``--frames``, detector seed SEED + clip, as its rows with ``--seed SEED``);
``--set tuning`` the tuning clips (``tests/data/tuning_sequences.npz``, the same stretch and
seeds). Per row: PA-MPJPE (mm, mean over frames and clip-seeds, the last output held where
none) and acceleration error for the defaults and the variant, the paired difference over
the clip-seeds (mean ± s.e.), median CPU ms per frame. Any other option variants the same
way: ``--variants '{"name": {options}, ...}'`` (each paired with the base, ``--base``
options, default none), ``--rows online`` for the online Fitter's row alone.

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/reading_weight_size_video.py \\
        --seeds 100 300 400 [--variant '{"reading_weight": 200, "reading_weight_size": 400}']
    → benchmarks/results/reading_weight_size_video_<set>.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import bench_video as bv
import numpy as np
import smplify
from smplify import synthetic_video as sv
from smplify.sequence_options import sequence_keywords

HERE = Path(__file__).resolve().parent
TUNING = HERE.parent / "tests" / "data" / "tuning_sequences.npz"
VARIANT = {"reading_weight": 200.0, "reading_weight_size": 400.0}


def run(row: str, video: sv.SyntheticVideo, model: smplify.BodyModel,
        options: dict) -> tuple[np.ndarray, float]:
    """(T, 24, 3) joints of one row on one clip (the last output held), CPU ms per frame."""
    cpu = time.process_time()
    if row == "online Fitter":
        joints = bv.hold_last(bv.tracked(video, model, options))
    elif row == "fit_sequence":
        joints = smplify.fit_sequence(video.keypoints, bv.FORMAT, video.image_size,
                                      video.focal_length, model=model, threads=1,
                                      **sequence_keywords(options)).joints
    else:
        joints = bv.hold_last(bv.per_frame(video, model, options))
    return joints, 1000.0 * (time.process_time() - cpu) / video.num_frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=("heldout", "tuning"), default="heldout")
    parser.add_argument("--seeds", type=int, nargs="+", default=[100])
    parser.add_argument("--start", type=int, default=120)
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--per-frame", action="store_true")
    parser.add_argument("--variant", type=json.loads, default=VARIANT)
    parser.add_argument("--variants", type=json.loads, default=None,
                        help="JSON: name -> options, each paired with --base (instead of "
                             "--variant)")
    parser.add_argument("--base", type=json.loads, default={},
                        help="JSON: the options every variant is paired with (the defaults)")
    parser.add_argument("--rows", nargs="+", choices=("online", "fit_sequence"),
                        default=["online", "fit_sequence"])
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    model = smplify.load_model("open")
    sequences = sv.load_sequences(bv.SEQUENCES if args.set == "heldout" else TUNING)
    rows = (["per-frame"] if args.per_frame else []) + [
        {"online": "online Fitter"}.get(r, r) for r in args.rows]
    variants = args.variants or {"variant": args.variant}
    configs = {"defaults": args.base, **variants}
    per_clip = []
    for seed in args.seeds:
        for c, seq in enumerate(sequences[:args.clips]):
            video = sv.make_video(model, seq, bv.FORMAT, np.random.default_rng(seed + c),
                                  sv.DetectorErrors(),
                                  frames=slice(args.start, args.start + args.frames))
            entry = {"clip": seq["name"], "seed": seed + c}
            for row in rows:
                for name, options in configs.items():
                    joints, ms = run(row, video, model, options)
                    pa, accel = bv.accuracy(joints, video)
                    entry[f"{row}|{name}"] = {"pa_mpjpe_mm": pa, "accel_error_mm": accel,
                                              "cpu_ms_per_frame": ms}
                for name in variants:
                    d = entry[f"{row}|{name}"]["pa_mpjpe_mm"] - \
                        entry[f"{row}|defaults"]["pa_mpjpe_mm"]
                    print(f"{seq['name']} @{seed + c} {row:14s} {name}: "
                          f"{entry[f'{row}|defaults']['pa_mpjpe_mm']:6.1f} → "
                          f"{entry[f'{row}|{name}']['pa_mpjpe_mm']:6.1f} mm ({d:+.1f})",
                          flush=True)
            per_clip.append(entry)
    summary = {}
    print(f"\n{args.set}, seeds {args.seeds}, base {args.base}, variants {variants}:")
    for row in rows:
        pa = {n: np.array([e[f"{row}|{n}"]["pa_mpjpe_mm"] for e in per_clip]) for n in configs}
        acc = {n: np.array([e[f"{row}|{n}"]["accel_error_mm"] for e in per_clip])
               for n in configs}
        ms = {n: float(np.median([e[f"{row}|{n}"]["cpu_ms_per_frame"] for e in per_clip]))
              for n in configs}
        summary[row] = {"pa_mpjpe_mm": {n: float(v.mean()) for n, v in pa.items()},
                        "accel_error_mm": {n: float(v.mean()) for n, v in acc.items()},
                        "cpu_ms_per_frame_median": ms}
        for name in variants:
            d = pa[name] - pa["defaults"]
            se = float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else 0.0
            summary[row][f"{name}_minus_defaults_mm"] = {"mean": float(d.mean()), "se": se,
                                                         "max": float(d.max()),
                                                         "min": float(d.min())}
            print(f"  {row:14s} {name}: PA-MPJPE {pa['defaults'].mean():6.1f} → "
                  f"{pa[name].mean():6.1f} mm (paired {d.mean():+.1f} ± {se:.1f} over {len(d)} "
                  f"clip-seeds, {d.min():+.1f} .. {d.max():+.1f}), accel error "
                  f"{acc['defaults'].mean():.1f} → {acc[name].mean():.1f}, CPU ms/frame "
                  f"{ms['defaults']:.1f} → {ms[name]:.1f}")
    output = args.output or HERE / "results" / f"reading_weight_size_video_{args.set}.json"
    output.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                  "summary": summary, "clips": per_clip}, indent=1) + "\n")
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
