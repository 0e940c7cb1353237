"""Two figures README.md and docs/design.md quote, rerun: a fifth, weaker stage, and what the
single-start fit costs with E_sp's one row per capsule pair.

On the recovery set (``smplify.synthetic.make_case`` front views, ``--cases`` per format,
seeds as ``recovery.py``'s: seed + 100 f + i; seed 0 is the tests' set), each case on perfect
2D and with σ = 5 px noise plus 10% outliers at confidence 0.3:

- ``default``: ``smplify.fit`` with the default four stages;
- ``fifth stage``: ``pose_prior_weights=(404, 404, 57.4, 4.78, 1.0),
  shape_prior_weights=(100, 50, 10, 5, 1)``;
- ``single start``: ``smplify.fit(..., multi_start=False, threads=1)`` on the clean keypoints,
  timed (the E_sp-rows figure of docs/design.md: median seconds, mean PA-MPJPE).

Per option: mean PA-MPJPE (mm, against the true joints) and mean reprojection error (px, over
the keypoints the fit uses, against the clean keypoints), with standard errors; the
single start's median and 90th-percentile time. JSON: ``benchmarks/results/recovery_options.json``
(``benchmarks/report.py`` puts it into the READMEs and docs/design.md).

    nice .venv/bin/python benchmarks/recovery_options.py      # 8 cases per format, ~1-2 min
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import smplify
from recovery import case_arguments, mean_and_error, recovery_cases
from smplify.synthetic import make_case, pa_mpjpe, reprojection_error

RESULTS = Path(__file__).resolve().parent / "results" / "recovery_options.json"
FIFTH_STAGE = {"pose_prior_weights": (404.0, 404.0, 57.4, 4.78, 1.0),
               "shape_prior_weights": (100.0, 50.0, 10.0, 5.0, 1.0)}
OPTIONS = {"default": {}, "fifth stage": FIFTH_STAGE}


def main() -> None:
    args = case_arguments(__doc__.split("\n\n")[0], 8, 0, RESULTS)

    model, prior = smplify.load_model("open"), smplify.load_prior("open")
    smplify.fit(*_args(make_case(model, prior, "coco17", np.random.default_rng(0))),
                model=model, prior=prior, multi_start=False)  # build the C++ problems once
    rows = []
    for format, seed, clean, noisy in recovery_cases(model, prior, args):
        row: dict[str, object] = {"format": format, "seed": seed}
        for kind, case in (("clean", clean), ("noisy", noisy)):
            for name, options in OPTIONS.items():
                fit = smplify.fit(*_args(case), model=model, prior=prior, **options)
                row[f"{kind} {name} pa"] = 1000.0 * pa_mpjpe(fit.joints, clean.joints)
                row[f"{kind} {name} reproj"] = reprojection_error(fit, clean)
        start = time.perf_counter()
        fit = smplify.fit(*_args(clean), model=model, prior=prior, multi_start=False,
                          threads=1)
        row["single start seconds"] = time.perf_counter() - start
        row["clean single start pa"] = 1000.0 * pa_mpjpe(fit.joints, clean.joints)
        row["clean single start reproj"] = reprojection_error(fit, clean)
        rows.append(row)

    summary: dict[str, object] = {}
    for key in rows[0]:
        if key.endswith((" pa", " reproj")):
            summary[key] = mean_and_error([float(r[key]) for r in rows])
    seconds = [float(r["single start seconds"]) for r in rows]
    summary["single start seconds median"] = float(np.median(seconds))
    summary["single start seconds p90"] = float(np.percentile(seconds, 90))
    for key, value in summary.items():
        text = (f"{value[0]:.2f} ± {value[1]:.2f}" if isinstance(value, tuple)
                else f"{1000 * value:.1f} ms")
        print(f"{key:32s} {text}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"cases_per_format": args.cases, "seed": args.seed,
                                       "date": time.strftime("%Y-%m-%d"),
                                       "summary": summary, "rows": rows}, indent=1) + "\n")
    print(f"wrote {args.output}")


def _args(case: object) -> tuple:
    return (case.keypoints, case.format, case.image_size, case.focal_length)


if __name__ == "__main__":
    main()
