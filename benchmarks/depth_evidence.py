"""What 3D evidence buys the fit: the detector's own 3D keypoints (``keypoints_3d``), or,
without them, the anchor to the learned initialiser's reading (``learned_init``); both are
the relative 3D term E_3D.

Held-out mocap poses (``tests/data/heldout_poses.npz``) through the shipped model, random
cameras of any yaw and the 2D detector errors of ``smplify.detections`` (the initialiser's
training model). The 3D keypoints a detector such as MediaPipe gives with them are modelled
as the true keypoints relative to the pelvis, in camera-aligned axes, scaled by a per-case
factor (0.9–1.1: the detector's own idea of the body's size), with per-keypoint noise of
3 cm across and 6 cm along the camera axis (depth is what a single view knows least), and
unknown (NaN) where the 2D keypoint was dropped.

For each format: PA-MPJPE (mm) of the default fit without 3D keypoints, with them at
``--weights`` (``keypoints_3d_weight``), and with ``learned_init`` at ``--anchor-weights``;
facing accuracy, ms per fit (median). Two disjoint
case sets: ``--split tune`` (seeds from 500) to choose the weight, ``--split test`` (seeds
from 900) to report it.

    .venv/bin/python benchmarks/depth_evidence.py --split test      # → results/depth_evidence.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import smplify
from initializer import cases_for  # benchmarks/initializer.py: the same held-out cases
from smplify import detections
from smplify.synthetic import pa_mpjpe

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "depth_evidence.json"
FORMATS = ("mediapipe33", "coco17", "openpose25")
SEEDS = {"tune": 500, "test": 900}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=40, help="cases per format")
    parser.add_argument("--split", choices=tuple(SEEDS), default="test")
    parser.add_argument("--weights", type=float, nargs="*", default=[300.0],
                        help="keypoints_3d_weight values to try with the detector's 3D")
    parser.add_argument("--anchor-weights", type=float, nargs="*", default=[300.0],
                        help="anchor_weight values to try with learned_init (no 3D given)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    model = smplify.load_model("open")
    configs = ([("without", None)] + [(f"3D weight {w:g}", w) for w in args.weights]
               + [(f"learned {w:g}", -w) for w in args.anchor_weights])
    summary: dict[str, dict[str, dict[str, float]]] = {}
    for f, fmt in enumerate(FORMATS):
        seed = SEEDS[args.split] + f
        cases = cases_for(model, fmt, args.cases, seed)
        points_3d = detections.detector_3d(model, fmt, cases,
                                           np.random.default_rng(seed + 50))
        rows: dict[str, list[tuple[float, bool, float]]] = {name: [] for name, _ in configs}
        for i in range(args.cases):
            for name, weight in configs:
                if weight is None:
                    extra = {}
                elif weight > 0:  # the detector's 3D keypoints
                    extra = {"keypoints_3d": points_3d[i], "keypoints_3d_weight": weight}
                else:  # no 3D keypoints: anchored to the learned initialiser's reading
                    extra = {"learned_init": True, "anchor_weight": -weight}
                start = time.perf_counter()
                try:
                    res = smplify.fit(cases.keypoints[i], fmt, tuple(cases.image_size[i]),
                                      float(cases.focal[i]), model=model, **extra)
                except smplify.KeypointError:
                    continue  # fewer than 3 torso keypoints: refused either way
                ms = 1000.0 * (time.perf_counter() - start)
                joints = res.joints - res.joints[0]
                facing = bool(detections.facing_camera(
                    detections._rodrigues(res.global_orient[None])[0])
                    == detections.facing_camera(cases.rotation[i]))
                rows[name].append((1000.0 * pa_mpjpe(joints, cases.joints[i]), facing, ms))
        summary[fmt] = {}
        for name, _ in configs:
            r = np.array(rows[name], dtype=float)
            summary[fmt][name] = {"cases": int(len(r)), "pa_mpjpe_mm": float(r[:, 0].mean()),
                                  "pa_mpjpe_se": float(r[:, 0].std(ddof=1) / np.sqrt(len(r))),
                                  "facing": float(r[:, 1].mean()),
                                  "ms_median": float(np.median(r[:, 2]))}
            s = summary[fmt][name]
            print(f"{fmt:12s} {name:15s} PA-MPJPE {s['pa_mpjpe_mm']:6.1f} ± "
                  f"{s['pa_mpjpe_se']:4.1f} mm  facing {s['facing']:.2f}  "
                  f"{s['ms_median']:6.1f} ms  ({s['cases']} cases)", flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"split": args.split, "cases_per_format": args.cases,
                                       "summary": summary}, indent=1) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
