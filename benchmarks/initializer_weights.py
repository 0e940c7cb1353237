"""Two sets of initialiser weights through the default fit, paired on the realistic-error set.

A better initialiser on its own held-out cases need not make a better fit. This fits the same
cases of ``realistic.py`` (tune and/or test half) with the default options twice, once with the
weights in ``--before`` and once with those in ``--after`` (folders of
``initializer_<format>.npz``; a format without a file there has no initialiser), and prints
each mean PA-MPJPE (mm ± s.e.) and the paired difference after − before (mean ± s.e.).

    git show REV:python/smplify/data/initializer_coco17.npz > /tmp/before/initializer_coco17.npz
    .venv/bin/python benchmarks/initializer_weights.py --before /tmp/before \\
        --after python/smplify/data --formats coco17 --cases 150
    → benchmarks/results/initializer_weights.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import realistic
import smplify
from smplify import initializer

RESULTS = Path(__file__).resolve().parent / "results" / "initializer_weights.json"


def use_weights(folder: Path) -> None:
    """Make ``smplify.initializer`` load every format's weights from ``folder``."""
    initializer._weights_file = lambda format: folder / f"initializer_{format}.npz"
    initializer.ships_for.cache_clear()
    initializer.load_initializer.cache_clear()


def mean_se(values: np.ndarray) -> tuple[float, float]:
    v = values[np.isfinite(values)]
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(len(v)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, required=True)
    parser.add_argument("--formats", nargs="+", default=list(realistic.FORMATS),
                        choices=realistic.ALL_FORMATS)
    parser.add_argument("--cases", type=int, default=150, help="per format and half (≤ 150)")
    parser.add_argument("--splits", nargs="+", default=["tune", "test"],
                        choices=["tune", "test"])
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    model = smplify.load_model("open")
    out: dict = {"cases": args.cases, "before": str(args.before), "after": str(args.after),
                 "formats": {}}
    for fmt in args.formats:
        for split in args.splits:
            data = realistic.cases(model, fmt, args.cases, split)
            per = {}
            for name in ("before", "after"):
                use_weights(getattr(args, name))
                per[name] = np.array(realistic.score(model, fmt, data, {})["per_case_mm"])
            diff = mean_se(per["after"] - per["before"])
            row = {"before_mm": mean_se(per["before"]), "after_mm": mean_se(per["after"]),
                   "after_minus_before_mm": diff}
            out["formats"].setdefault(fmt, {})[split] = row
            print(f"{fmt:12s} {split:5s} before {row['before_mm'][0]:6.1f} ± "
                  f"{row['before_mm'][1]:4.1f}  after {row['after_mm'][0]:6.1f} ± "
                  f"{row['after_mm'][1]:4.1f}  after − before {diff[0]:+5.1f} ± {diff[1]:.1f} mm",
                  flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
