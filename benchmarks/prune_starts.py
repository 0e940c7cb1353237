"""Pruning the prior's starts (``FitOptions`` ``prune_starts``/``prune_stage``) against the
default fit on the realistic set, paired case by case.

Per format and (prune_stage, prune_starts) of ``--grid``: the mean PA-MPJPE, its paired
difference to the default (mean ± s.e.), the share of cases whose fit is the default's to
the digit (same joints), and the median ms per fit (wall, the default's threads; the
variants and the default alternate case by case, so load hits both alike). Choose the
constants on ``--split tune``, report on ``--split test``.

``--video SEED ...`` instead fits ``bench_video.py``'s held-out clips frame by frame (its
per-frame row: one thread, a frame without a fit showing the last) with the default and
each variant: per clip-seed the mean PA-MPJPE over the frames, the paired difference (mean
± s.e. over the clip-seeds) and the CPU ms per frame (median over the clip-seeds).

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/prune_starts.py --split tune \\
        --cases 60 --grid "[(1, 2), (2, 2), (2, 3)]" [--formats coco17 ...] \\
        [--output benchmarks/results/prune_starts_<split>.json]
    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/prune_starts.py --video 100 300 \\
        --grid "[(1, 3)]" [--output benchmarks/results/prune_starts_video.json]
"""

from __future__ import annotations

import argparse
import ast
import json
import time
from pathlib import Path

import numpy as np
import realistic
import smplify
from smplify.synthetic import pa_mpjpe

RESULTS = Path(__file__).resolve().parent / "results"


def fit_case(model: smplify.BodyModel, fmt: str, data, i: int, options: dict):
    """(joints root-relative, PA-MPJPE mm, ms) of case i, or None if the fit refuses it."""
    start = time.perf_counter()
    try:
        fit = smplify.fit(data.keypoints[i], fmt, tuple(data.image_size[i]),
                          float(data.focal[i]), model=model, **options)
    except smplify.KeypointError:
        return None
    ms = 1000.0 * (time.perf_counter() - start)
    joints = fit.joints - fit.joints[0]
    return joints, 1000.0 * pa_mpjpe(joints, data.joints[i]), ms


def paired(base: list[float], other: list[float]) -> tuple[float, float]:
    d = np.asarray(other) - np.asarray(base)
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))


def run(model: smplify.BodyModel, fmt: str, split: str, n: int,
        grid: list[tuple[int, int]]) -> dict:
    data = realistic.cases(model, fmt, n, split)
    variants = {"default": {}, **{f"stage {s}, keep {k}": {"prune_stage": s, "prune_starts": k}
                                  for s, k in grid}}
    rows: dict[str, list] = {name: [] for name in variants}
    names = list(variants)
    for i in range(len(data.keypoints)):
        order = names if i % 2 == 0 else names[::-1]  # alternated: load hits all alike
        got = {name: fit_case(model, fmt, data, i, variants[name]) for name in order}
        if got["default"] is None:
            continue
        for name in names:
            rows[name].append(got[name])
    base = rows["default"]
    out = {"cases": len(base)}
    for name in names:
        r = rows[name]
        mm = [x[1] for x in r]
        diff, se = paired([x[1] for x in base], mm)
        out[name] = {"pa_mpjpe_mm": float(np.mean(mm)),
                     "pa_mpjpe_se": float(np.std(mm, ddof=1) / np.sqrt(len(mm))),
                     "paired_mm": diff, "paired_se": se,
                     "same_fit": float(np.mean([np.array_equal(a[0], b[0])
                                                for a, b in zip(base, r, strict=True)])),
                     "ms_median": float(np.median([x[2] for x in r])),
                     "per_case_mm": [float(v) for v in mm]}
    return out


def video(model: smplify.BodyModel, seeds: list[int], grid: list[tuple[int, int]],
          clips: int, frames: int, start: int = 120) -> dict:
    """Per-frame fits of bench_video.py's held-out clips, default against each variant."""
    import bench_video as bv

    variants = {"default": {}, **{f"stage {s}, keep {k}": {"prune_stage": s, "prune_starts": k}
                                  for s, k in grid}}
    rows = []
    for seed in seeds:
        for c, seq in enumerate(bv.sv.load_sequences(bv.SEQUENCES)[:clips]):
            rng = np.random.default_rng(seed + c)
            clip = bv.sv.make_video(model, seq, bv.FORMAT, rng, bv.sv.DetectorErrors(),
                                    frames=slice(start, start + frames))
            row = {"clip": seq["name"], "seed": seed + c}
            names = list(variants) if c % 2 == 0 else list(variants)[::-1]
            for name in names:
                cpu = time.process_time()
                joints = bv.hold_last(bv.per_frame(clip, model, variants[name]))
                ms = 1000 * (time.process_time() - cpu) / clip.num_frames
                row[name] = {"pa_mpjpe_mm": bv.accuracy(joints, clip)[0], "cpu_ms": ms}
            rows.append(row)
            print(f"{row['clip']} @{row['seed']}: " + ", ".join(
                f"{n} {row[n]['pa_mpjpe_mm']:.1f} mm {row[n]['cpu_ms']:.0f} ms"
                for n in variants), flush=True)
    out = {"seeds": seeds, "frames": frames, "clips": rows, "summary": {}}
    for name in variants:
        mm = np.array([r[name]["pa_mpjpe_mm"] for r in rows])
        d = mm - np.array([r["default"]["pa_mpjpe_mm"] for r in rows])
        out["summary"][name] = {
            "pa_mpjpe_mm": float(mm.mean()), "paired_mm": float(d.mean()),
            "paired_se": float(d.std(ddof=1) / np.sqrt(len(d))),
            "cpu_ms_median": float(np.median([r[name]["cpu_ms"] for r in rows]))}
        v = out["summary"][name]
        print(f"  {name:16s} {v['pa_mpjpe_mm']:6.1f} mm  paired {v['paired_mm']:+5.2f} ± "
              f"{v['paired_se']:.2f}  CPU {v['cpu_ms_median']:.0f} ms a frame")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("tune", "test"), default="tune")
    parser.add_argument("--cases", type=int, default=60, help="cases per format")
    parser.add_argument("--formats", nargs="+", default=list(realistic.ALL_FORMATS),
                        choices=realistic.ALL_FORMATS)
    parser.add_argument("--grid", default="[(2, 3)]",
                        help="(prune_stage, prune_starts) pairs, a Python list")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--video", type=int, nargs="+", default=None, metavar="SEED",
                        help="bench_video.py's held-out clips with these seeds instead")
    parser.add_argument("--clips", type=int, default=4, help="with --video")
    parser.add_argument("--frames", type=int, default=120, help="with --video")
    parser.add_argument("--start", type=int, default=120, help="with --video: first frame")
    args = parser.parse_args()
    grid = [(int(s), int(k)) for s, k in ast.literal_eval(args.grid)]
    model = smplify.load_model("open")
    if args.video:
        out = video(model, args.video, grid, args.clips, args.frames, args.start)
        out["date"] = time.strftime("%Y-%m-%d")
        if args.output:
            args.output.write_text(json.dumps(out, indent=1) + "\n")
        return
    out = {"split": args.split, "cases_per_format": args.cases, "grid": grid,
           "date": time.strftime("%Y-%m-%d"), "formats": {}}
    for fmt in args.formats:
        r = out["formats"][fmt] = run(model, fmt, args.split, args.cases, grid)
        print(f"{fmt} ({r['cases']} cases)")
        for name, v in r.items():
            if name == "cases":
                continue
            print(f"  {name:16s} {v['pa_mpjpe_mm']:6.1f} ± {v['pa_mpjpe_se']:.1f} mm  "
                  f"paired {v['paired_mm']:+5.2f} ± {v['paired_se']:.2f}  "
                  f"same {100 * v['same_fit']:5.1f} %  {v['ms_median']:6.1f} ms", flush=True)
    names = [n for n in out["formats"][args.formats[0]] if n != "cases"]
    print("over formats (paired, mean ± s.e. of all cases):")
    for name in names:
        diffs = np.concatenate([np.asarray(out["formats"][f][name]["per_case_mm"])
                                - np.asarray(out["formats"][f]["default"]["per_case_mm"])
                                for f in args.formats])
        ms = [out["formats"][f][name]["ms_median"] for f in args.formats]
        out.setdefault("overall", {})[name] = {
            "paired_mm": float(diffs.mean()),
            "paired_se": float(diffs.std(ddof=1) / np.sqrt(len(diffs))),
            "ms_median_per_format": ms}
        print(f"  {name:16s} {diffs.mean():+5.2f} ± {diffs.std(ddof=1) / np.sqrt(len(diffs)):.2f}"
              f" mm  ms {' / '.join(f'{m:.0f}' for m in ms)}")
    if args.output:
        args.output.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
