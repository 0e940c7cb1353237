"""Synthetic recovery over many cases: the 3D and 2D accuracy of the default fit, with its
sampling error.

40 cases (8 front views per format) have a mean PA-MPJPE whose standard error is about 5 mm,
so one draw of them can sit 10 mm from another (the test suite uses 20 per format). This runs
the same kind of case (``smplify.synthetic.make_case``: a pose drawn from
the open prior, β ~ N(0, I), a camera 2.5–6 m away, f = 1000–5000 px, front views) for
``--cases`` per format, each on perfect 2D and with σ = 5 px noise plus 10% outliers at
confidence 0.3, and fits each with both ``start_selection`` rules ("data", the default, and
"total"). It prints, per format and overall, the mean ± standard error of PA-MPJPE (mm) and
of the reprojection error (px, over the keypoints the fit uses, against the clean
keypoints) and writes ``benchmarks/results/recovery.json``.

    .venv/bin/python benchmarks/recovery.py                 # 40 cases per format, ~1-2 min
    .venv/bin/python benchmarks/recovery.py --cases 20 --seed 0   # the test suite's set
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import smplify
from smplify.synthetic import make_case, pa_mpjpe, reprojection_error

RESULTS = Path(__file__).resolve().parent / "results" / "recovery.json"
NOISE = {"noise_px": 5.0, "outlier_fraction": 0.1, "outlier_confidence": 0.3}  # as the tests
RULES = ("total", "data")


def mean_and_error(values: list[float]) -> tuple[float, float]:
    """Mean and its standard error."""
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else 0.0


def case_arguments(description: str, cases: int, seed: int, output: Path) -> argparse.Namespace:
    """--cases (per format), --seed (case i of format f: seed + 100 f + i), --output, parsed."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--cases", type=int, default=cases, help="cases per format")
    parser.add_argument("--seed", type=int, default=seed,
                        help="case i of format f uses seed + 100 f + i (0: the tests' set)")
    parser.add_argument("--output", type=Path, default=output)
    args = parser.parse_args()
    if not 1 <= args.cases <= 100:
        parser.error("--cases must be in 1..100 (the seeds of two formats must not overlap)")
    return args


def main() -> None:
    args = case_arguments(__doc__.split("\n\n")[0], 40, 20000, RESULTS)

    model, prior = smplify.load_model("open"), smplify.load_prior("open")
    rows = []
    for f, format in enumerate(smplify.format_names()):
        for i in range(args.cases):
            seed = args.seed + 100 * f + i
            clean = make_case(model, prior, format, np.random.default_rng(seed))
            noisy = make_case(model, prior, format, np.random.default_rng(seed), **NOISE)
            row = {"format": format, "seed": seed}
            for kind, case in (("clean", clean), ("noisy", noisy)):
                for rule in RULES:
                    fit = smplify.fit(case.keypoints, format, case.image_size,
                                      case.focal_length, model=model, prior=prior,
                                      start_selection=rule)
                    row[f"{kind} {rule} pa"] = 1000.0 * pa_mpjpe(fit.joints, clean.joints)
                    row[f"{kind} {rule} reproj"] = reprojection_error(fit, clean)
            rows.append(row)

    columns = [f"{kind} {rule} {metric}" for kind in ("clean", "noisy") for rule in RULES
               for metric in ("pa", "reproj")]
    summary = {}
    print(f"{args.cases} front views per format, seeds from {args.seed}: mean ± standard error; "
          "PA-MPJPE mm, reprojection px")
    print(f"{'format':12s}" + "".join(f"{c:>22s}" for c in columns))
    for format in (*smplify.format_names(), "all"):
        sel = [r for r in rows if format in ("all", r["format"])]
        summary[format] = {c: mean_and_error([r[c] for r in sel]) for c in columns}
        print(f"{format:12s}" + "".join(
            f"{m:>14.2f} ± {e:5.2f}" for m, e in summary[format].values()))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"cases_per_format": args.cases, "seed": args.seed,
                                       "summary": summary, "rows": rows}, indent=1) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
