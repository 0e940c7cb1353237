"""The online Fitter across synthetic cuts: ``--frames`` frames of one clip, then as many of
another (another person, another heading, 3.5-8 m away, drawn into the first clip's image),
through the synthetic detector's default errors (error-linked confidences), COCO-17, one
thread. Every ordered pair of the set's clips (``--set tuning``: tests/data/tuning_sequences.npz;
``heldout``: bench_video.py's clips) per seed; the base options (``--base``) paired with
``--variant`` on the same keypoints. Per cut: mean PA-MPJPE (mm) of the frames from the cut
on against the second clip's truth (a frame without output showing the last one), and the
fits from scratch from the frame before the cut on. Then the paired difference
(variant - base, mean +- s.e.) and how many cuts moved.

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python tools/synthetic_cuts.py --set tuning \\
        --seeds 1 --variant '{"track_cut_resets_confidences": true}' [--output JSON]
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import smplify
from smplify import synthetic_video as sv
from smplify.synthetic import pa_mpjpe

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SETS = {"tuning": DATA / "tuning_sequences.npz", "heldout": DATA / "heldout_sequences.npz"}


def cut(model: Any, first: dict, second: dict, rng: np.random.Generator,
        frames: int) -> tuple[sv.SyntheticVideo, np.ndarray, np.ndarray]:
    """The first clip's video, the keypoints across the cut (2·frames, K, 3) and the second
    clip's joints (frames, 24, 3)."""
    a = sv.make_video(model, first, "coco17", rng, frames=slice(0, frames))
    b = sv.make_video(model, second, "coco17", rng, frames=slice(60, 60 + frames),
                      distance=float(rng.uniform(3.5, 8.0)))
    shifted = b.keypoints.copy()
    shifted[..., :2] += (np.array(a.image_size) - np.array(b.image_size)) / 2.0
    return a, np.concatenate([a.keypoints, shifted]), b.joints


def tracked(model: Any, video: sv.SyntheticVideo, keypoints: np.ndarray, frames: int,
            truth: np.ndarray, options: dict) -> tuple[float, list]:
    """Mean PA-MPJPE (mm) from the cut on, and the (frame, start) of the fits from scratch."""
    fitter = smplify.Fitter(model, format="coco17", image_size=video.image_size,
                            focal_length=video.focal_length, threads=1, **options)
    results = []
    for kp in keypoints:
        try:
            results.append(fitter.fit(kp))
        except smplify.KeypointError:
            results.append(None)
    errors, last = [], None
    for t in range(frames, 2 * frames):
        last = results[t] if results[t] is not None else last
        if last is not None:
            errors.append(pa_mpjpe(last.joints, truth[t - frames]))
    starts = [(t, r.summary["start"]) for t, r in enumerate(results)
              if r is not None and t >= frames - 1 and "cold" in r.summary["start"]]
    return 1000.0 * float(np.mean(errors)), starts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=tuple(SETS), default="tuning")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--clips", type=int, default=None)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--base", type=json.loads, default={})
    parser.add_argument("--variant", type=json.loads, required=True)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    model = smplify.load_model("open")
    clips = sv.load_sequences(SETS[args.set])[:args.clips]
    rows = []
    for seed in args.seeds:
        for i, j in itertools.permutations(range(len(clips)), 2):
            rng = np.random.default_rng(seed * 100 + 10 * i + j)
            video, keypoints, truth = cut(model, clips[i], clips[j], rng, args.frames)
            row: dict[str, Any] = {"seed": seed, "first": i, "second": j}
            for name, options in (("base", args.base), ("variant", {**args.base,
                                                                    **args.variant})):
                row[name], row[name + "_starts"] = tracked(model, video, keypoints,
                                                           args.frames, truth, options)
            rows.append(row)
            print(f"seed {seed} clips {i}->{j}: {row['base']:.1f} -> {row['variant']:.1f} mm "
                  f"{row['variant_starts'][:2]}", flush=True)
    base, variant = (np.array([r[k] for r in rows]) for k in ("base", "variant"))
    d = variant - base
    lost = sum(any("lost the person, then cold" in s for _, s in r["variant_starts"])
               for r in rows)
    print(f"{args.set}, seeds {args.seeds}, {len(rows)} cuts ({lost} restarted after a lost "
          f"person): base {base.mean():.1f} -> variant {variant.mean():.1f} mm, paired "
          f"{d.mean():+.2f} +- {d.std(ddof=1) / np.sqrt(len(d)):.2f}, moved "
          f"{np.count_nonzero(np.abs(d) > 0.05)} (better {np.count_nonzero(d < -0.05)}, worse "
          f"{np.count_nonzero(d > 0.05)}), {d.min():+.1f} .. {d.max():+.1f}")
    if args.output is not None:
        args.output.write_text(json.dumps({"args": {k: str(v) if isinstance(v, Path) else v
                                                    for k, v in vars(args).items()},
                                           "cuts": rows}, indent=1))
        print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
