"""Choose ``smplify.fit_sequence``'s options on TUNING clips only.

    python tools/tune_sequence.py [--variants '{"name": {option: value}}'] \
        [--stretches 0:30,60:90,90:120] [--long 0:120]

The clips are ``tests/data/tuning_sequences.npz`` (as ``tools/tune_online.py``: held-out CMU
clips and fast clips of the pose prior's training set that no test or benchmark scores), each
cut into the short ``--stretches`` (issue 11: offline must beat per-frame fits on short
stretches too) and the ``--long`` ones, seen through the synthetic detector with its default
errors (seed ``--seed`` + 10·clip + stretch), COCO-17, one thread. Per variant and per set
(short, long): mean PA-MPJPE (mm), mean acceleration error (mm/frame²), the number of
stretches on which it is worse than independent per-frame fits, and frames/s of CPU time
(median over stretches). Per-frame fits are cached in ``--cache``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import smplify

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tune_online import cached_per_frame, score, videos  # noqa: E402  (same clips, same scores)

FORMAT = "coco17"


def run(model, vids, options: dict) -> tuple[list[tuple[float, float]], list[float]]:
    """Per video: (PA-MPJPE mm, accel error mm/frame²) of fit_sequence and its CPU frames/s."""
    scores, fps = [], []
    for v in vids:
        start = time.process_time()
        res = smplify.fit_sequence(v.keypoints, FORMAT, v.image_size, v.focal_length,
                                   model=model, threads=1, **options)
        fps.append(v.num_frames / (time.process_time() - start))
        scores.append(score(res.joints, v))
    return scores, fps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variants", default='{"default": {}}',
                    help="JSON: variant name -> fit_sequence options")
    ap.add_argument("--stretches", default="0:30,60:90,110:140")
    ap.add_argument("--long", default="0:120")
    ap.add_argument("--seed", type=int, default=700)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/smplify_tune_sequence"))
    args = ap.parse_args()
    model = smplify.load_model("open")
    args.cache.mkdir(parents=True, exist_ok=True)
    sets = {}
    for name, spec in (("short", args.stretches), ("long", args.long)):
        if not spec:
            continue
        stretches = [tuple(int(v) for v in s.split(":")) for s in spec.split(",")]
        vids = videos(model, stretches, args.seed)
        base = [score(cached_per_frame(model, v, args.cache / f"pf_{args.seed}_{spec}_{i}.npy"),
                      v) for i, v in enumerate(vids)]
        sets[name] = (vids, base)
        print(f"{name:5s} per-frame: PA-MPJPE {np.mean([b[0] for b in base]):6.1f} mm  accel "
              f"error {np.mean([b[1] for b in base]):6.1f}  ({len(vids)} stretches)",
              flush=True)
    for variant, options in json.loads(args.variants).items():
        for name, (vids, base) in sets.items():
            s, fps = run(model, vids, options)
            worse = sum(x[0] >= b[0] for x, b in zip(s, base, strict=True))
            print(f"{variant:24s} {name:5s} PA-MPJPE {np.mean([x[0] for x in s]):6.1f} mm  "
                  f"accel error {np.mean([x[1] for x in s]):6.1f}  worse than per-frame on "
                  f"{worse}/{len(s)}  CPU frames/s median {np.median(fps):6.1f}  per stretch "
                  f"{' '.join(f'{x[0]:.0f}' for x in s)}", flush=True)


if __name__ == "__main__":
    main()
