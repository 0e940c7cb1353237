"""The core's CPU variants side by side (docs/design.md "CPU variants"): the same install run
with ``SMPLIFY_CPU=baseline`` and ``SMPLIFY_CPU=x86-64-v3``, in alternated processes.

Each process (``--worker VARIANT``) times, in CPU time (``time.process_time``, one thread):

- the online Fitter (defaults, ``threads=1``) over bench_video's first two held-out clips,
  frames 120..240, detector seeds 100 and 101: median ms a frame, and of the plain warm frames;
- the default photo fit of 8 synthetic coco17 cases (1 px noise, every fourth from the side,
  seed 7): median ms a fit;
- ``fit_sequence`` on the first clip, frames 120..240, detector seed 300: frames/s.

The parent runs ``--rounds`` rounds of both variants in turn (the order alternating between
rounds) and prints each side's median and the per-round ratios x86-64-v3 / baseline (median,
mean ± s.e.): pairing keeps the ratio meaningful while the machine's load drifts.

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/cpu_variants.py --rounds 6

Needs an install with both builds (a wheel from ``make wheel``, or a build with CMake's
``SMPLIFY_CERES_X86_64_V3``) on a processor that runs x86-64-v3.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads its BLAS

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "cpu_variants.json"
VARIANTS = ("baseline", "x86-64-v3")
#: figure -> True where larger is better
FIGURES = {"online_median_ms": False, "online_warm_median_ms": False,
           "photo_median_ms": False, "sequence_fps": True}


def worker() -> dict:
    """One process's figures, with the variant its environment chose."""
    import smplify
    from bench_video import SEQUENCES, clip_video, fitted
    from smplify import synthetic_video as sv
    from smplify.synthetic import make_case

    model = smplify.load_model("open")
    sequences = sv.load_sequences(SEQUENCES)
    out: dict = {"variant": smplify.core_variant()}
    cpu, kinds = [], []
    for c, sequence in enumerate(sequences[:2]):
        video = clip_video(model, sequence, 100 + c, slice(120, 240))
        seconds: list[tuple[float, float]] = []
        kinds += [None if r is None else r.summary["start"]
                  for r in fitted(video, model, {}, seconds)]
        cpu += [s[1] for s in seconds]
    ms = 1000 * np.array(cpu)
    out["online_median_ms"] = float(np.median(ms))
    out["online_warm_median_ms"] = float(np.median(ms[[k == "warm" for k in kinds]]))

    prior = smplify.load_prior("open")
    rng = np.random.default_rng(7)
    photo = []
    for i in range(8):
        case = make_case(model, prior, "coco17", rng, view="side" if i % 4 == 3 else "front",
                         noise_px=1.0)
        start = time.process_time()
        smplify.fit(case.keypoints, "coco17", case.image_size, case.focal_length, model=model,
                    threads=1)
        photo.append(1000 * (time.process_time() - start))
    out["photo_median_ms"] = float(np.median(photo))

    video = clip_video(model, sequences[0], 300, slice(120, 240))
    start = time.process_time()
    smplify.fit_sequence(video.keypoints, "coco17", video.image_size, video.focal_length,
                         model=model, threads=1)
    out["sequence_fps"] = len(video.keypoints) / (time.process_time() - start)
    return out


def run_worker(variant: str) -> dict:
    command = [sys.executable, *(["-S"] if sys.flags.no_site else []), __file__,
               "--worker", variant]
    out = subprocess.run(command, check=True, capture_output=True, text=True,
                         env={**os.environ, "SMPLIFY_CPU": variant})
    row = json.loads(out.stdout.strip().splitlines()[-1])
    if row["variant"] != variant:
        raise SystemExit(f"asked for {variant}, ran {row['variant']}")
    return row


def summary(rows: list[dict]) -> dict:
    """Per figure: each variant's median over rounds, and the per-round ratios v3 / baseline."""
    out = {}
    for name in FIGURES:
        by = {v: [r[name] for r in rows if r["variant"] == v] for v in VARIANTS}
        ratios = [b / a for a, b in zip(by["baseline"], by["x86-64-v3"], strict=True)]
        se = statistics.stdev(ratios) / math.sqrt(len(ratios)) if len(ratios) > 1 else None
        out[name] = {**{v: statistics.median(by[v]) for v in VARIANTS},
                     "ratio_median": statistics.median(ratios),
                     "ratio_mean": statistics.mean(ratios), "ratio_se": se,
                     "ratios": ratios}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--worker", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        sys.path.insert(0, str(HERE))
        print(json.dumps(worker()))
        return
    rows, loads = [], []
    for r in range(args.rounds):
        for variant in (VARIANTS if r % 2 == 0 else VARIANTS[::-1]):
            rows.append(run_worker(variant))
        loads.append(os.getloadavg()[0])
    result = summary(rows)
    for name, s in result.items():
        se = f" ± {s['ratio_se']:.3f}" if s["ratio_se"] is not None else ""
        print(f"{name:22s} baseline {s['baseline']:8.3f}  x86-64-v3 {s['x86-64-v3']:8.3f}  "
              f"ratio median {s['ratio_median']:.3f}, mean {s['ratio_mean']:.3f}{se}")
    print(f"load (1 min) over the rounds: {min(loads):.1f}–{max(loads):.1f}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "what": "the core's CPU variants side by side, alternated processes (cpu_variants.py)",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "rounds": args.rounds,
        "load_1min": loads, "summary": result, "rows": rows}, indent=1) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
