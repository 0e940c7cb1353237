"""``focal_length="estimate"`` against the true focal length and the default (image diagonal).

Held-out mocap poses (``tests/data/heldout_poses.npz``) through the shipped model, random
cameras of ``smplify.detections`` (any yaw, 2–8 m, true focal 500–5,000 px log-uniform, the
person 35–90% of the image height, so the diagonal is off from the truth by ×0.3–×5) and its
2D detector errors (noise, drops, left/right swaps, outliers). Per format: the focal error of
the diagonal and of the estimate (median and 90th percentile of |ln(f / f_true)|, and the
share within ×1.5 of the truth), PA-MPJPE (mm) of the default fit at the true focal, at the
diagonal and with the estimate, and median ms per fit. Cases whose torso cannot place the
camera are skipped (all three fits refuse them alike).

Two disjoint case sets: ``--split tune`` (seeds from 500) to choose ``--prior-weights``
(smplify.focal.PRIOR_WEIGHT), ``--split test`` (seeds from 900) to report.

    .venv/bin/python benchmarks/focal_estimate.py --split test   # → results/focal_estimate.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import smplify
from initializer import cases_for  # benchmarks/initializer.py: the same held-out cases
from smplify import focal
from smplify.errors import KeypointError
from smplify.synthetic import pa_mpjpe

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "focal_estimate.json"
FORMATS = ("mediapipe33", "coco17", "openpose25")
SEEDS = {"tune": 500, "test": 900}


def one_case(model: smplify.BodyModel, fmt: str, cases, i: int,
             prior_weights: list[float]) -> dict | None:
    kp, size, truth = cases.keypoints[i], cases.image_size[i], float(cases.focal[i])
    row: dict = {"focal_true": truth, "focal_diagonal": float(np.hypot(*size))}
    try:
        for name, f in (("true", truth), ("diagonal", None)):
            t = time.perf_counter()
            result = smplify.fit(kp, fmt, size, f, model=model)
            row[f"ms {name}"] = 1e3 * (time.perf_counter() - t)
            row[f"pa {name}"] = 1e3 * pa_mpjpe(result.joints, cases.joints[i])
        for w in prior_weights:
            saved = focal.PRIOR_WEIGHT
            focal.PRIOR_WEIGHT = w  # the module constant the search reads as its default
            try:
                t = time.perf_counter()
                result = smplify.fit(kp, fmt, size, "estimate", model=model)
                row[f"ms estimate {w:g}"] = 1e3 * (time.perf_counter() - t)
            finally:
                focal.PRIOR_WEIGHT = saved
            row[f"pa estimate {w:g}"] = 1e3 * pa_mpjpe(result.joints, cases.joints[i])
            row[f"focal estimate {w:g}"] = float(result.camera.focal_length)
            assert result.summary["focal_length_source"] == "estimated"
    except KeypointError:
        return None
    return row


def focal_stats(rows: list[dict], key: str) -> dict[str, float]:
    err = np.abs(np.log([r[key] / r["focal_true"] for r in rows]))
    return {"median_abs_log": float(np.median(err)), "p90_abs_log": float(np.percentile(err, 90)),
            "within_1.5x": float(np.mean(err < np.log(1.5)))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=30, help="cases per format")
    parser.add_argument("--split", choices=tuple(SEEDS), default="test")
    parser.add_argument("--prior-weights", type=float, nargs="*",
                        default=[focal.PRIOR_WEIGHT], help="PRIOR_WEIGHT values to try")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    model = smplify.load_model("open")
    summary: dict = {}
    all_rows: list[dict] = []
    for k, fmt in enumerate(FORMATS):
        cases = cases_for(model, fmt, args.cases, SEEDS[args.split] + k)
        rows = [r for i in range(args.cases)
                if (r := one_case(model, fmt, cases, i, args.prior_weights)) is not None]
        all_rows += [{"format": fmt, **r} for r in rows]
        summary[fmt] = summarise(rows, args.prior_weights)
    summary["all"] = summarise(all_rows, args.prior_weights)
    for fmt, s in summary.items():
        print(f"{fmt} ({s['cases']} cases): PA-MPJPE mm true {s['pa true']:.1f}, diagonal "
              f"{s['pa diagonal']:.1f}; ms true {s['ms true']:.0f}, diagonal "
              f"{s['ms diagonal']:.0f}; focal diagonal {fmt_focal(s['focal diagonal'])}")
        for w in args.prior_weights:
            print(f"    estimate (prior {w:g}): PA-MPJPE {s[f'pa estimate {w:g}']:.1f} mm, "
                  f"{s[f'ms estimate {w:g}']:.0f} ms, focal "
                  f"{fmt_focal(s[f'focal estimate {w:g}'])}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"split": args.split, "cases_per_format": args.cases,
                                       "search": {"grid_range": focal.GRID_RANGE,
                                                  "grid_steps": focal.GRID_STEPS,
                                                  "golden_steps": focal.GOLDEN_STEPS},
                                       "summary": summary, "rows": all_rows}, indent=1) + "\n")
    print(f"wrote {args.output}")


def fmt_focal(s: dict[str, float]) -> str:
    return (f"|ln f/f_true| median {s['median_abs_log']:.2f}, p90 {s['p90_abs_log']:.2f}, "
            f"within x1.5 {100 * s['within_1.5x']:.0f}%")


def summarise(rows: list[dict], prior_weights: list[float]) -> dict:
    out: dict = {"cases": len(rows)}
    for name in ("true", "diagonal", *(f"estimate {w:g}" for w in prior_weights)):
        out[f"pa {name}"] = float(np.mean([r[f"pa {name}"] for r in rows]))
        out[f"ms {name}"] = float(np.median([r[f"ms {name}"] for r in rows]))
    out["focal diagonal"] = focal_stats(rows, "focal_diagonal")
    for w in prior_weights:
        out[f"focal estimate {w:g}"] = focal_stats(rows, f"focal estimate {w:g}")
    return out


if __name__ == "__main__":
    main()
