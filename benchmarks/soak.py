"""Memory over a long run (issue 14): RSS after 10³ … 10⁵ fits must stay within 5% of RSS
after 10³.

A video-like stream through one warm-starting ``smplify.Fitter``: synthetic people with
detector-like noise, a new person every few frames (lost track, cold refit), a cold fit every
``--cold-every`` frames and a garbage frame (NaN rows with confidence 1, which raise
KeypointError) every ``--garbage-every`` frames, so the solve, the result conversion and the
error paths all run 10⁵ times. RSS (VmRSS of /proc/self/status, after a garbage collection) is
sampled at each checkpoint and printed as a curve; the JSON goes to
``benchmarks/results/soak.json``. Exit status 1 if the last sample exceeds the first by more
than ``--tolerance``.

    nice .venv/bin/python benchmarks/soak.py                  # 10^5 fits
    nice .venv/bin/python benchmarks/soak.py --fits 20000     # shorter
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import time
from pathlib import Path

import numpy as np
import smplify
from smplify.synthetic import make_case

FORMAT = "coco17"


def rss_megabytes() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def checkpoints(total: int) -> list[int]:
    marks = [n for base in (1000, 2000, 5000) for n in (base, base * 10, base * 100)]
    return sorted({n for n in marks if n <= total} | {total})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fits", type=int, default=100_000)
    parser.add_argument("--max-iterations", type=int, default=10,
                        help="Ceres iterations per stage (fewer: more fits per minute)")
    parser.add_argument("--people", type=int, default=8)
    parser.add_argument("--frames-per-person", type=int, default=25)
    parser.add_argument("--cold-every", type=int, default=50)
    parser.add_argument("--garbage-every", type=int, default=20)
    parser.add_argument("--tolerance", type=float, default=0.05)
    parser.add_argument("--json", type=Path,
                        default=Path(__file__).resolve().parent / "results" / "soak.json")
    args = parser.parse_args()

    model, prior = smplify.load_model("open"), smplify.load_prior("open")
    cases = [make_case(model, prior, FORMAT, np.random.default_rng(seed))
             for seed in range(args.people)]
    size, focal = cases[0].image_size, cases[0].focal_length
    fitter = smplify.Fitter(model, format=FORMAT, image_size=size, focal_length=focal,
                            prior=prior, multi_start=False, threads=1,
                            max_iterations=args.max_iterations)
    rng = np.random.default_rng(0)
    marks = checkpoints(args.fits)
    curve, statuses, errors = [], {}, 0
    started = time.perf_counter()
    print(f"{'fits':>8} {'RSS MB':>8} {'vs 10^3':>8} {'s':>7}")
    for i in range(1, args.fits + 1):
        case = cases[(i // args.frames_per_person) % len(cases)]
        keypoints = case.keypoints + np.c_[rng.normal(0, 3, (len(case.keypoints), 2)),
                                           np.zeros(len(case.keypoints))]
        if i % args.garbage_every == 0:
            keypoints[rng.integers(len(keypoints))] = [np.nan, np.nan, 1.0]
        try:
            result = fitter.fit(keypoints, warm_start=i % args.cold_every != 0)
            status = result.summary["status"]
            statuses[status] = statuses.get(status, 0) + 1
        except smplify.SmplifyError:
            errors += 1
        if i in marks:
            gc.collect()
            rss = rss_megabytes()
            ratio = rss / curve[0]["rss_mb"] if curve else 1.0
            curve.append({"fits": i, "rss_mb": round(rss, 2), "ratio": round(ratio, 4),
                          "seconds": round(time.perf_counter() - started, 1)})
            print(f"{i:>8} {rss:>8.1f} {ratio:>8.4f} {curve[-1]['seconds']:>7.1f}", flush=True)
    growth = curve[-1]["rss_mb"] / curve[0]["rss_mb"] - 1.0
    ok = growth <= args.tolerance
    print(f"RSS after {curve[-1]['fits']} fits is {100 * growth:+.2f}% of RSS after "
          f"{curve[0]['fits']} (bound {100 * args.tolerance:.0f}%): {'PASS' if ok else 'FAIL'}; "
          f"statuses {statuses}, {errors} garbage frames raised")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "benchmark": "soak", "fits": args.fits, "max_iterations": args.max_iterations,
        "curve": curve, "growth": growth, "tolerance": args.tolerance, "pass": ok,
        "statuses": statuses, "garbage_errors": errors,
        "machine": platform.platform(), "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
