"""``FitOptions.mirror_readings`` through the default photo fit, paired on the realistic set.

Fits each case of ``realistic.py``'s ``--split`` half with the defaults and each of
``--modes`` of ``mirror_readings`` (alternated case by case, so load hits every mode alike),
and prints per format the mean PA-MPJPE (mm ± s.e.), the paired difference mode − "off"
(mean ± s.e.), the median ms per fit, and how often the fit swapped labels back.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/mirror_readings_fits.py --split tune
    → benchmarks/results/mirror_readings_fits_<split>.json
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import realistic
import smplify
from initializer_weights import mean_se
from smplify.initializer import MIRROR_MODES
from smplify.synthetic import pa_mpjpe

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    realistic.split_arguments(parser)
    parser.add_argument("--modes", nargs="+", default=list(MIRROR_MODES),
                        choices=MIRROR_MODES)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    modes = ["off", *[m for m in args.modes if m != "off"]]
    model = smplify.load_model("open")
    out: dict = {"split": args.split, "cases": args.cases, "formats": {}}
    every: dict[str, list[np.ndarray]] = {m: [] for m in modes[1:]}
    for fmt in args.formats:
        data = realistic.cases(model, fmt, args.cases, args.split)
        err = {m: np.full(args.cases, np.nan) for m in modes}
        ms = {m: np.full(args.cases, np.nan) for m in modes}
        swapped = {m: np.zeros(args.cases) for m in modes}
        for i in range(args.cases):
            order = modes[i % len(modes):] + modes[:i % len(modes)]
            for mode in order:
                t = time.perf_counter()
                try:
                    fit = smplify.fit(data.keypoints[i], fmt, tuple(data.image_size[i]),
                                      float(data.focal[i]), model=model,
                                      mirror_readings=mode)
                except smplify.KeypointError:
                    continue
                ms[mode][i] = 1000.0 * (time.perf_counter() - t)
                err[mode][i] = 1000.0 * pa_mpjpe(fit.joints - fit.joints[0], data.joints[i])
                swapped[mode][i] = fit.summary.get("left_right", "").startswith("swapped")
        row = {}
        for mode in modes:
            m, se = mean_se(err[mode])
            row[mode] = {"pa_mpjpe_mm": round(m, 2), "se": round(se, 2),
                         "ms_median": round(float(np.nanmedian(ms[mode])), 1),
                         "swapped_back": int(swapped[mode].sum()),
                         "per_case_mm": [round(float(v), 3) for v in err[mode]]}
            if mode != "off":
                every[mode].append(realistic.add_paired(row[mode], err[mode], err["off"],
                                                        "off", 2))
        out["formats"][fmt] = row
        print(f"{fmt} {args.split}: " + "; ".join(
            f"{mode} {r['pa_mpjpe_mm']:.1f} ± {r['se']:.1f}"
            + (f" ({r['minus_off_mm']:+.2f} ± {r['minus_off_se']:.2f})" if mode != "off" else "")
            + f" {r['ms_median']:.0f} ms" for mode, r in row.items()), flush=True)
    realistic.write_paired(out, every, "off", 2, args.output
                           or RESULTS / f"mirror_readings_fits_{args.split}.json")


if __name__ == "__main__":
    main()
