"""The learned initialiser's readings with the mirrored image's joined (test-time mirroring).

Each case is read twice: as given, and mirrored (x → width − x, left/right labels
exchanged), the second reading mapped back (``smplify.initializer.mirror_rotations``) and
joined by each of ``smplify.initializer.MIRROR_MODES`` ("all": 2M readings, "average": matched
pairs averaged on SO(3), "top": only the top reading averaged). Cases: the held-out mocap
poses of ``benchmarks/initializer.py`` (its ``tune`` / ``test`` halves, random betas and
cameras), with each of the build tool's confidence sets (the error model's, saturated,
uniform, near-exact: ``tools/build_initializer.py``'s ``HELDOUT_VARIANTS``). Prints per format,
half and set the top-1 and best-of-M PA-MPJPE (mm) per mode, and the paired top-1 difference
mode − off (mean ± s.e. over cases), and how far apart the pair "top" averages is: the
angle between the top reading's root rotation and its nearest mirrored-back reading's (median,
share above 45°).

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/initializer_mirror.py --cases 500
    → benchmarks/results/initializer_mirror.json
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/initializer_mirror.py --root-only \
        --cases 300 --splits test --formats coco17 openpose25 mediapipe33
    → benchmarks/results/initializer_mirror_root.json (the pair's root angle only)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import smplify
from initializer import POSE_SPLITS, SEED_ORDER, held_out_bodies
from smplify import detections
from smplify import initializer as init
from smplify.initializer import features
from smplify.initializer_metrics import evaluate
from smplify.keypoint_formats import get_format, resolve_format

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import initializer_mix  # noqa: E402  (tools/: the build tool's confidence models)

RESULTS = ROOT / "benchmarks" / "results" / "initializer_mirror.json"
ROOT_RESULTS = ROOT / "benchmarks" / "results" / "initializer_mirror_root.json"
#: The build tool's held-out sets: (near-exact share, confidence model shares).
SETS = {"error_model": (0.0, (1.0, 0.0, 0.0)), "saturated": (0.0, (0.0, 0.0, 1.0)),
        "uniform": (0.0, (0.0, 1.0, 0.0)), "near_exact": (1.0, (1.0, 0.0, 0.0))}


def case_sets(model: smplify.BodyModel, fmt: str, n: int, split: str,
              seed: int) -> dict[str, detections.Cases]:
    """``n`` bodies of the ``split`` half's poses seen by random cameras, with each of
    :data:`SETS`' detections."""
    theta, betas = held_out_bodies(model, n, np.random.default_rng(seed), split)
    resolved = resolve_format(fmt, model.keypoint_names, model.num_vertices,
                              model.keypoint_regressor)
    points, joints = detections.body_points(model, {fmt: resolved}, theta, betas)
    names = get_format(fmt).keypoint_names
    return {name: initializer_mix.mixed_cases(points[fmt], joints, theta, betas, names,
                                              np.random.default_rng(seed + 1 + i),
                                              resolved.available, low, shares)
            for i, (name, (low, shares)) in enumerate(SETS.items())}


def top_pair_root_degrees(ini: init.Initializer, cases: detections.Cases) -> np.ndarray:
    """(N,) degrees between the root rotation of each case's top reading and that of its
    nearest mirrored-back reading (:func:`smplify.initializer.top_partners`: the pair "top"
    averages)."""
    def decoded(keypoints: np.ndarray) -> init.Readings:
        return ini.decode(ini.raw(features(keypoints, cases.image_size, cases.focal)))

    (rot, _, scores), (rot_m, _, _) = init.mirrored_readings(
        decoded, cases.keypoints, ini.format, cases.image_size)
    top, partner = init.top_partners(rot, scores, rot_m)
    n = np.arange(len(top))
    rel = np.swapaxes(rot[n, top, 0], -1, -2) @ rot_m[n, partner, 0]
    cos = (np.trace(rel, axis1=-2, axis2=-1) - 1.0) / 2.0
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def root_figures(degrees: np.ndarray) -> dict[str, float]:
    return {"top_pair_root_deg_median": round(float(np.median(degrees)), 2),
            "top_pair_root_over_45_share": round(float(np.mean(degrees > 45.0)), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=500, help="per format, half and set")
    parser.add_argument("--formats", nargs="+", default=["coco17", "mediapipe33"])
    parser.add_argument("--splits", nargs="+", default=["tune", "test"], choices=list(POSE_SPLITS))
    parser.add_argument("--seed", type=int, default=7000)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--root-only", action="store_true",
                        help="only the top pair's root angle (→ initializer_mirror_root.json)")
    args = parser.parse_args()
    args.output = args.output or (ROOT_RESULTS if args.root_only else RESULTS)
    model = smplify.load_model("open")
    out: dict = {"cases": args.cases, "seed": args.seed, "formats": {}}
    for fmt in args.formats:
        ini = init.load_initializer(fmt)
        for split in args.splits:
            seed = args.seed + 1000 * SEED_ORDER.index(fmt) + (500 if split == "test" else 0)
            for name, cases in case_sets(model, fmt, args.cases, split, seed).items():
                root = root_figures(top_pair_root_degrees(ini, cases))
                if args.root_only:
                    out["formats"].setdefault(fmt, {}).setdefault(split, {})[name] = root
                    print(f"{fmt} {split} {name}: top pair's root "
                          f"{root['top_pair_root_deg_median']:.1f}° apart (median), > 45° in "
                          f"{100 * root['top_pair_root_over_45_share']:.1f} %", flush=True)
                    continue
                rows = {mode: evaluate(ini, model, cases, mode) for mode in init.MIRROR_MODES}
                off = rows["off"]["top1_mm"]
                fig = {}
                for mode, e in rows.items():
                    d = e["top1_mm"] - off
                    fig[mode] = {"top1_mm": round(e["pa_mpjpe_top1_mm"], 2),
                                 "best_mm": round(e["pa_mpjpe_best_of_m_mm"], 2),
                                 "facing_top1": round(e["facing_top1"], 4),
                                 "depth_reading_top1": round(e["depth_reading_top1"], 4),
                                 "top1_minus_off_mm": round(float(d.mean()), 2),
                                 "top1_minus_off_se_mm": round(
                                     float(d.std(ddof=1) / np.sqrt(len(d))), 2)}
                out["formats"].setdefault(fmt, {}).setdefault(split, {})[name] = fig | root
                print(f"{fmt} {split} {name}: " + "; ".join(
                    f"{mode} {f['top1_mm']:.1f} / {f['best_mm']:.1f}"
                    + ("" if mode == "off" else
                       f" ({f['top1_minus_off_mm']:+.2f} ± {f['top1_minus_off_se_mm']:.2f})")
                    for mode, f in fig.items()), flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
