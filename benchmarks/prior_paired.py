"""Two pose prior files, PAIRED on the realistic set's test half: the same bodies, cameras and
detector errors fitted with either prior (``smplify.fit(..., prior=PATH)``), so that the
difference is measured without the set's case-to-case spread (docs/video.md, "Bent knees").

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/prior_paired.py OLD.npz NEW.npz \
        [--cases 100] [--formats mediapipe33 coco17 openpose25 smpl24 lsp14]

Per format and overall, for the defaults, the defaults without the initialiser
(``realistic.NO_INITIALIZER``) and ``preset="paper"``: mean PA-MPJPE (mm) with each prior and
the paired mean difference new − old ± its standard error (over the cases both fitted).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import smplify

sys.path.insert(0, str(Path(__file__).resolve().parent))
import realistic  # noqa: E402

CONFIGS = {"defaults": {}, "no initialiser": realistic.NO_INITIALIZER,
           "paper": {"preset": "paper"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path, help="pose prior .npz")
    parser.add_argument("new", type=Path, help="pose prior .npz")
    parser.add_argument("--cases", type=int, default=100, help="cases per format (≤ 150)")
    parser.add_argument("--formats", nargs="+", default=list(realistic.ALL_FORMATS),
                        choices=realistic.ALL_FORMATS)
    args = parser.parse_args()
    model = smplify.load_model("open")
    pooled: dict[str, list[np.ndarray]] = {name: [] for name in CONFIGS}
    print(f"realistic test half, {args.cases} cases per format: PA-MPJPE mm old | new | "
          "new − old ± s.e. (paired)")
    for fmt in args.formats:
        data = realistic.cases(model, fmt, args.cases, "test")
        cols = []
        for name, options in CONFIGS.items():
            per = [np.array(realistic.score(model, fmt, data, {**options, "prior": str(p)})
                            ["per_case_mm"]) for p in (args.old, args.new)]
            pair = np.stack(per, axis=1)
            pair = pair[np.isfinite(pair).all(axis=1)]
            pooled[name].append(pair)
            d = pair[:, 1] - pair[:, 0]
            cols.append(f"{name} {pair[:, 0].mean():6.1f} | {pair[:, 1].mean():6.1f} | "
                        f"{d.mean():+5.1f} ± {d.std(ddof=1) / np.sqrt(len(d)):3.1f}")
        print(f"  {fmt:12s} " + "   ".join(cols), flush=True)
    cols = []
    for name, parts in pooled.items():
        pair = np.concatenate(parts)
        d = pair[:, 1] - pair[:, 0]
        cols.append(f"{name} {pair[:, 0].mean():6.1f} | {pair[:, 1].mean():6.1f} | "
                    f"{d.mean():+5.1f} ± {d.std(ddof=1) / np.sqrt(len(d)):3.1f}")
    print(f"  {'all':12s} " + "   ".join(cols))


if __name__ == "__main__":
    main()
