"""FitOptions variants (e.g. ``stop_tolerance``) through the default photo fit, paired on the
realistic set.

Fits each case of ``realistic.py``'s ``--split`` half with the defaults and with each of
``--variants`` (a JSON dict: name -> FitOptions over the defaults), alternated case by case so
that load hits every variant alike, one thread, and prints per format and variant the mean
PA-MPJPE (mm ± s.e.), the paired difference variant − default (mean ± s.e.), the median CPU
ms per fit, and the Ceres iterations of the chosen start's stages (mean per fit, and per stage
name: what the stage reports carry; Ceres' confirming last iteration is not among them) and
how many of them the stop rule ended. The CPU times are for side-by-side use only (one process,
variants alternated); instruction counts and solves are the load-independent figures
(docs/measurements.md, session 19).

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/stop_tolerance_fits.py \
        --split tune --variants '{"stop 1e-3": {"stop_tolerance": 1e-3}}'
    → benchmarks/results/stop_tolerance_fits_<split>.json
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import realistic
import smplify
from initializer_weights import mean_se
from smplify.synthetic import pa_mpjpe

RESULTS = Path(__file__).resolve().parent / "results"


def one_fit(model: smplify.BodyModel, fmt: str, data: realistic.detections.Cases, i: int,
            options: dict) -> tuple[float, float, dict[str, int]] | None:
    """PA-MPJPE (mm), CPU ms and the chosen run's iterations per stage of case ``i``."""
    t = time.process_time()
    try:
        fit = smplify.fit(data.keypoints[i], fmt, tuple(data.image_size[i]),
                          float(data.focal[i]), model=model, threads=1, **options)
    except smplify.KeypointError:
        return None
    ms = 1000.0 * (time.process_time() - t)
    steps = {s.name: s.iterations for s in fit.summary["stages"]}
    steps["stopped by the rule"] = sum(s.message.startswith("stop rule")
                                       for s in fit.summary["stages"])
    return 1000.0 * pa_mpjpe(fit.joints - fit.joints[0], data.joints[i]), ms, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    realistic.split_arguments(parser)
    parser.add_argument("--variants", type=json.loads, default={},
                        help="JSON: variant name -> FitOptions over the defaults")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    configs = {"default": {}, **args.variants}
    names = list(configs)
    model = smplify.load_model("open")
    out: dict = {"split": args.split, "cases": args.cases, "variants": args.variants,
                 "formats": {}}
    every: dict[str, list[np.ndarray]] = {n: [] for n in names[1:]}
    for fmt in args.formats:
        data = realistic.cases(model, fmt, args.cases, args.split)
        err = {n: np.full(args.cases, np.nan) for n in names}
        ms = {n: np.full(args.cases, np.nan) for n in names}
        steps: dict[str, dict[str, list[int]]] = {n: defaultdict(list) for n in names}
        for i in range(args.cases):
            for name in names[i % len(names):] + names[:i % len(names)]:
                got = one_fit(model, fmt, data, i, configs[name])
                if got is None:
                    continue
                err[name][i], ms[name][i], per_stage = got
                for stage, k in per_stage.items():
                    steps[name][stage].append(k)
                steps[name]["all"].append(sum(k for stage, k in per_stage.items()
                                              if stage.startswith(("torso", "stage"))))
        row = {}
        for name in names:
            m, se = mean_se(err[name])
            row[name] = {"pa_mpjpe_mm": round(m, 2), "se": round(se, 2),
                         "ms_median": round(float(np.nanmedian(ms[name])), 2),
                         "chosen_run_iterations": {
                             stage: round(float(np.mean(k)), 2)
                             for stage, k in sorted(steps[name].items())},
                         "per_case_mm": [round(float(v), 3) for v in err[name]],
                         "per_case_ms": [round(float(v), 2) for v in ms[name]]}
            if name != "default":
                every[name].append(realistic.add_paired(row[name], err[name], err["default"],
                                                        "default", 3))
                ratio = ms[name] / ms["default"]
                row[name]["ms_ratio_median"] = round(float(np.nanmedian(ratio)), 3)
        out["formats"][fmt] = row
        for name, r in row.items():
            print(f"{fmt} {args.split} {name}: {r['pa_mpjpe_mm']:.2f} ± {r['se']:.2f}"
                  + (f" ({r['minus_default_mm']:+.2f} ± {r['minus_default_se']:.2f};"
                     f" ms ×{r['ms_ratio_median']:.3f})" if name != "default" else "")
                  + f" {r['ms_median']:.1f} ms, iterations {r['chosen_run_iterations']}",
                  flush=True)
    realistic.write_paired(out, every, "default", 3, args.output
                           or RESULTS / f"stop_tolerance_fits_{args.split}.json")


if __name__ == "__main__":
    main()
