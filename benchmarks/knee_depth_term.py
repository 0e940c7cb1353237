"""The knee-depth term E_knee (``knee_depth_weight``; cpp/knee_depth_term.h) on the realistic
set: signed knee-bend error against the truth per truth bend bin, and how it depends on the
fitted leg's length error (docs/video.md, "Bent knees").

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/knee_depth_term.py \
        --split tune --cases 100 --weights 0 200 400 \
        [--sigma 0.05] [--straight 6] [--output benchmarks/results/knee_depth_tune.json]

Every case (``realistic.cases``: held-out mocap poses, random cameras of any yaw, the
initialiser's detector error model, true focal length) is fitted with the defaults plus
``knee_depth_weight`` = each of ``--weights`` (the same cases for every weight: the
differences are paired). Per knee: fitted bend − true bend (degrees; bend = the angle
between thigh and shin at the joints), binned by the true bend: straight < 15°, mid
15–60°, bent > 60°; the mean signed error, the mean absolute error and the share of knees
fitted > 10° more bent than the truth. Per leg the fitted length (hip → knee → ankle, joints)
over the true one: signed error by leg-length tercile. PA-MPJPE (mm) per weight, and the
paired difference to the first weight with its standard error.

``--straight N``: also the straight standing body of ``knee_bend_causes.py`` part 1 (N front
and N side views, perfect mediapipe33 keypoints, defaults): its median knee bend per weight.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import smplify
from smplify.synthetic import pa_mpjpe

sys.path.insert(0, str(Path(__file__).resolve().parent))
import realistic  # noqa: E402
from knee_bend_causes import standing_cases, standing_joints  # noqa: E402
from real_video_metrics import LEGS, knee_angles, knee_bend  # noqa: E402

BINS = (("straight <15", 0.0, 15.0), ("mid 15-60", 15.0, 60.0), ("bent >60", 60.0, 181.0))


def leg_lengths(joints: np.ndarray) -> np.ndarray:
    """(N, 2) hip → knee → ankle length of each leg, metres."""
    return np.stack([np.linalg.norm(joints[:, k] - joints[:, h], axis=1)
                     + np.linalg.norm(joints[:, a] - joints[:, k], axis=1)
                     for h, k, a in LEGS], axis=1)


def fit_cases(model: Any, fmt: str, data: Any, options: dict[str, Any]) -> dict[str, np.ndarray]:
    """Fitted joints (N, 24, 3; NaN where refused), PA-MPJPE (N,) mm and CPU s per fit."""
    joints, errors = [], []
    cpu = time.process_time()
    for i in range(len(data.keypoints)):
        try:
            fit = smplify.fit(data.keypoints[i], fmt, tuple(data.image_size[i]),
                              float(data.focal[i]), model=model, threads=1, **options)
        except smplify.KeypointError:
            joints.append(np.full((24, 3), np.nan))
            errors.append(np.nan)
            continue
        j = np.asarray(fit.joints) - np.asarray(fit.joints)[0]
        joints.append(j)
        errors.append(1000.0 * pa_mpjpe(j, data.joints[i]))
    return {"joints": np.asarray(joints), "pa_mpjpe": np.asarray(errors),
            "cpu_s": (time.process_time() - cpu) / max(len(data.keypoints), 1)}


def summarise(fitted: np.ndarray, truth: np.ndarray, leg_ratio: np.ndarray) -> dict[str, Any]:
    """Knee-bend error figures of fitted / true knee angles (M, 2) and leg-length ratios."""
    err = fitted - truth
    out: dict[str, Any] = {}
    for name, lo, hi in BINS:
        sel = (truth >= lo) & (truth < hi) & np.isfinite(err)
        e = err[sel]
        out[name] = {"knees": int(sel.sum()),
                     "signed": float(e.mean()) if e.size else float("nan"),
                     "abs": float(np.abs(e).mean()) if e.size else float("nan"),
                     "over_10": float((e > 10.0).mean()) if e.size else float("nan")}
    ok = np.isfinite(err) & np.isfinite(leg_ratio)
    edges = np.quantile(leg_ratio[ok], [1 / 3, 2 / 3]) if ok.any() else [np.nan, np.nan]
    for name, lo, hi in (("leg short", -np.inf, edges[0]), ("leg mid", edges[0], edges[1]),
                         ("leg long", edges[1], np.inf)):
        sel = ok & (leg_ratio >= lo) & (leg_ratio < hi)
        out[name] = {"knees": int(sel.sum()),
                     "leg_ratio": float(np.median(leg_ratio[sel])) if sel.any() else np.nan,
                     "signed": float(err[sel].mean()) if sel.any() else float("nan")}
    return out


def realistic_part(model: Any, args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for fmt in args.formats:
        data = realistic.cases(model, fmt, args.cases, args.split)
        truth = knee_angles(data.joints)
        true_legs = leg_lengths(data.joints)
        base = None
        results[fmt] = {}
        for w in args.weights:
            run = fit_cases(model, fmt, data, {"knee_depth_weight": w,
                                               "knee_depth_sigma": args.sigma})
            fitted = knee_angles(run["joints"])
            ratio = leg_lengths(run["joints"]) / true_legs
            s = summarise(fitted, truth, ratio)
            pa = run["pa_mpjpe"]
            s["pa_mpjpe"] = float(np.nanmean(pa))
            s["pa_mpjpe_se"] = float(np.nanstd(pa, ddof=1) / np.sqrt(np.isfinite(pa).sum()))
            s["cpu_ms"] = 1000.0 * run["cpu_s"]
            if base is None:
                base = pa
            d = pa - base
            s["paired_mm"] = float(np.nanmean(d))
            s["paired_se"] = float(np.nanstd(d, ddof=1) / np.sqrt(np.isfinite(d).sum()))
            results[fmt][str(w)] = s
            print(f"{fmt:11s} w={w:<5g} PA {s['pa_mpjpe']:6.1f}±{s['pa_mpjpe_se']:.1f} mm "
                  f"paired {s['paired_mm']:+5.1f}±{s['paired_se']:.1f}  "
                  + "  ".join(f"{b}: {s[b]['signed']:+5.1f}/{s[b]['abs']:4.1f}° "
                              f"(>10: {100 * s[b]['over_10']:3.0f}%, n {s[b]['knees']})"
                              for b, _, _ in BINS)
                  + "  by leg: " + " ".join(f"{s[k]['leg_ratio']:.3f}:{s[k]['signed']:+5.1f}"
                                            for k in ("leg short", "leg mid", "leg long"))
                  + f"  {s['cpu_ms']:.0f} ms", flush=True)
    return results


def straight_part(model: Any, cases: int, weights: list[float], sigma: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for view in ("front", "side"):
        made = standing_cases(model, view, cases)
        for w in weights:
            j = standing_joints(model, made, {"knee_depth_weight": w, "knee_depth_sigma": sigma})
            out[f"{view} {w:g}"] = knee_bend(j, np.ones(len(j), bool))
            print(f"straight body {view:5s} w={w:<5g} knee bend {out[f'{view} {w:g}']:5.1f}°",
                  flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("tune", "test"), default="tune")
    parser.add_argument("--cases", type=int, default=100, help="cases per format")
    parser.add_argument("--formats", nargs="+", default=list(realistic.FORMATS))
    parser.add_argument("--weights", nargs="+", type=float, default=[0.0, 200.0, 400.0])
    parser.add_argument("--sigma", type=float, default=0.05)
    parser.add_argument("--straight", type=int, default=0, metavar="N")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    model = smplify.load_model("open")
    out: dict[str, Any] = {"split": args.split, "cases": args.cases, "sigma": args.sigma,
                           "weights": args.weights}
    if args.straight:
        out["straight"] = straight_part(model, args.straight, args.weights, args.sigma)
    if args.cases:
        out["realistic"] = realistic_part(model, args)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
