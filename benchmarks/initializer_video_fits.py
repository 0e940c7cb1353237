"""Two sets of initialiser weights through per-frame default fits of synthetic video clips.

``initializer_weights.py`` pairs the weights on the realistic single-image set; this pairs
them on video frames (``smplify.synthetic_video``'s camera and detector, COCO-17): every
``--step``-th frame of each clip of ``--clips`` (default the tuning clips,
``tests/data/tuning_sequences.npz``; never bench_video's), detector seed ``--seed`` + clip.
Per clip: the default fit's mean PA-MPJPE (mm) with the ``--before`` and ``--after`` weights
(folders of ``initializer_coco17.npz``), the initialiser's own top-1 on the frames with at
least 6 keypoints, and how many frames each made more than 30 mm worse than the other.

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/initializer_video_fits.py \\
        --before /tmp/before --after python/smplify/data    (~3 min)
    → benchmarks/results/initializer_video_fits.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import smplify
from initializer_root_tilt import fit_mm, subset
from initializer_weights import use_weights
from smplify import initializer as init
from smplify import synthetic_video as sv
from smplify.initializer_metrics import evaluate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from start_pools import video_cases  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "initializer_video_fits.json"
FORMAT = "coco17"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, required=True)
    parser.add_argument("--clips", type=Path, default=ROOT / "tests" / "data"
                        / "tuning_sequences.npz")
    parser.add_argument("--seed", type=int, default=500, help="clip c uses seed + c")
    parser.add_argument("--step", type=int, default=3, help="every N-th frame")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    model = smplify.load_model("open")
    out: dict = {"clips": str(args.clips), "seed": args.seed, "step": args.step, "rows": {}}
    for c, seq in enumerate(sv.load_sequences(args.clips)):
        video = sv.make_video(model, seq, FORMAT, np.random.default_rng(args.seed + c))
        cases = video_cases(video)
        cases = subset(cases, np.arange(0, len(cases.keypoints), args.step))
        seen = np.flatnonzero((cases.keypoints[..., 2] > 0).sum(axis=1) >= 6)
        fits, top1 = {}, {}
        for name in ("before", "after"):
            use_weights(getattr(args, name))
            fits[name] = fit_mm(model, cases)
            ev = evaluate(init.load_initializer(FORMAT), model, subset(cases, seen))
            top1[name] = float(ev["top1_mm"].mean())
        d = fits["after"] - fits["before"]
        ok = np.isfinite(d)
        row = {"frames": int(ok.sum()),
               **{f"fit_{k}_mm": float(np.nanmean(v)) for k, v in fits.items()},
               **{f"top1_{k}_mm": v for k, v in top1.items()},
               "after_worse_by_30mm": int((d[ok] > 30).sum()),
               "after_better_by_30mm": int((d[ok] < -30).sum())}
        out["rows"][seq["name"]] = row
        print(f"{seq['name']:34s} fit {row['fit_before_mm']:6.1f} -> {row['fit_after_mm']:6.1f}"
              f"  top-1 {row['top1_before_mm']:6.1f} -> {row['top1_after_mm']:6.1f}  frames "
              f"30 mm worse / better {row['after_worse_by_30mm']} / "
              f"{row['after_better_by_30mm']} of {row['frames']}", flush=True)
    rows = out["rows"].values()
    out["mean_over_clips"] = {k: float(np.mean([r[k] for r in rows]))
                              for k in ("fit_before_mm", "fit_after_mm", "top1_before_mm",
                                        "top1_after_mm")}
    print("mean over clips: " + ", ".join(f"{k} {v:.1f}"
                                           for k, v in out["mean_over_clips"].items()))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
