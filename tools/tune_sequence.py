"""Choose ``smplify.fit_sequence``'s options on TUNING clips only.

    python tools/tune_sequence.py [--variants '{"name": {option: value}}'] \
        [--stretches 0:30,60:90,90:120] [--long 0:120] [--distances 5,20] [--noise-pixels 2]

The clips are ``tests/data/tuning_sequences.npz`` (as ``tools/tune_online.py``: held-out CMU
clips and fast clips of the pose prior's training set that no test or benchmark scores), each
cut into the short ``--stretches`` (issue 11: offline must beat per-frame fits on short
stretches too) and the ``--long`` ones, seen through the synthetic detector with its default
errors (seed ``--seed`` + 10·clip + stretch; ``--confidence`` as ``tools/tune_online.py``),
COCO-17, one thread, the camera ``--distances`` metres away (one set of each per distance:
near and far people; ``--noise-pixels`` the detector noise's floor). Per variant and per set
(short, long): mean PA-MPJPE (mm), mean acceleration error (mm/frame²), the number of
stretches on which it is worse than independent per-frame fits, and frames/s of CPU time
(median over stretches). Per-frame fits are cached in ``--cache``.

``--judge``: the start's path judge alone. Each stretch's candidate tracks are recorded once
(the first variant's options, reading scores on); then per (transition_weight,
reading_weight) of the grid, the mean PA-MPJPE at the keyframes of the states the Viterbi
path picks, beside the oracle (at each keyframe the candidate nearest the truth) and each
track alone. ``--oracle-solve`` also runs the joint solve from the oracle's path.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from dataclasses import fields
from pathlib import Path

import numpy as np
import smplify
from smplify import sequence
from smplify.keypoints import get_format
from smplify.sequence_start import reading_scores, viterbi_path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tune_online import (  # noqa: E402  (same clips, same scores)
    cache_suffix,
    cached_per_frame,
    score,
    videos,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_video import confidence_argument  # noqa: E402  (the benchmarks' one option)
from sequence_judge import recorded, state_errors  # noqa: E402  (the held-out judge's own)

FORMAT = "coco17"


def run(model, vids, options: dict) -> tuple[list[tuple[float, float]], list[float]]:
    """Per video: (PA-MPJPE mm, accel error mm/frame²) of fit_sequence and its CPU frames/s."""
    scores, fps = [], []
    for v in vids:
        start = time.process_time()
        res = smplify.fit_sequence(v.keypoints, FORMAT, v.image_size, v.focal_length,
                                   model=model, threads=1, **options)
        fps.append(v.num_frames / (time.process_time() - start))
        scores.append(score(res.joints, v))
    return scores, fps


def rescore(model, runs: list, options: dict) -> None:
    """Each recorded run's reading scores again with ``options`` (e.g. another τ)."""
    fit_options = {k: v for k, v in options.items()
                   if k not in {f.name for f in fields(sequence.SequenceOptions)}}
    for tracks, keys, _, _, v in runs:
        settings = smplify.Fitter(model, format=FORMAT, image_size=v.image_size,
                                  focal_length=v.focal_length, **fit_options)._settings
        xy, conf = sequence._validate(v.keypoints, get_format(FORMAT))
        reading_scores(tracks, keys, settings, xy, conf)


def judge(model, sets: dict, options: dict, transition: list[float], reading: list[float],
          accels: list[float], taus: list[float], oracle_solve: bool) -> None:
    """The --judge report (module docstring)."""
    options = {"reading_weight": 1e-9, **options}  # the tracks' reading scores computed
    for name, (vids, _) in sets.items():
        runs = []
        for v in vids:
            _, (tracks, keys, ppm, _) = recorded(model, v, options)
            runs.append((tracks, keys, ppm, state_errors(v, tracks, keys), v))
        oracle = np.mean([np.mean(e.min(axis=1)) for *_, e, _ in runs])
        alone = [np.mean([np.mean(e[:, s][np.isfinite(e[:, s])]) for *_, e, _ in runs])
                 for s in range(runs[0][3].shape[1])]
        print(f"{name:5s} keyframe PA-MPJPE: oracle {oracle:6.1f} mm  tracks alone "
              f"{' '.join(f'{a:.1f}' for a in alone)}", flush=True)
        for tau, tw, rw, aw in itertools.product(taus, transition, reading, accels):
            if (tw, rw, aw) == (transition[0], reading[0], accels[0]) and len(taus) > 1:
                rescore(model, runs, {**options, "reading_sigma": tau})
            chosen = [e[np.arange(len(keys)), viterbi_path(tracks, keys, ppm, tw, rw, aw)]
                      for tracks, keys, ppm, e, _ in runs]
            print(f"  tau {tau:4.2f} transition {tw:5.2f} reading {rw:6.0f} accel {aw:5.2f}: "
                  f"chosen "
                  f"{np.mean([np.mean(c) for c in chosen]):6.1f} mm  per stretch "
                  f"{' '.join(f'{np.mean(c):.0f}' for c in chosen)}", flush=True)
        if oracle_solve:
            end = []
            for v in vids:
                def best(tracks, keys, v=v):
                    return np.argmin(state_errors(v, tracks, keys), axis=1)
                end.append(score(recorded(model, v, options, best)[0], v))
            print(f"  joint solve from the oracle's path: PA-MPJPE "
                  f"{np.mean([x[0] for x in end]):6.1f} mm  accel error "
                  f"{np.mean([x[1] for x in end]):6.1f}  per stretch "
                  f"{' '.join(f'{x[0]:.0f}' for x in end)}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variants", default='{"default": {}}',
                    help="JSON: variant name -> fit_sequence options")
    ap.add_argument("--stretches", default="0:30,60:90,110:140")
    ap.add_argument("--long", default="0:120")
    ap.add_argument("--seed", type=int, default=700)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/smplify_tune_sequence"))
    ap.add_argument("--judge", action="store_true", help="the path judge alone (docstring)")
    ap.add_argument("--transition", default="3", help="--judge: transition weights")
    ap.add_argument("--reading", default="0,30,100,300,1000,3000",
                    help="--judge: reading weights")
    ap.add_argument("--accel", default="0", help="--judge: acceleration weights")
    ap.add_argument("--tau", default="0.1", help="--judge: reading_sigma values (metres)")
    ap.add_argument("--oracle-solve", action="store_true")
    ap.add_argument("--clips", default=None,
                    help="tuning clips to use (0-3: CMU clips no model of the library was "
                         "trained on; 4-7: clips of the pose prior's and the learned "
                         "initialiser's training set, where a judge reading the "
                         "initialiser looks better than it is). Default: 0-3 when a variant "
                         "(or --judge's grid) gives reading_weight > 0, else 0-7; asking "
                         "for 4-7 with such a run is refused")
    ap.add_argument("--distances", default="5",
                    help="metres from the camera to the motion, one set of clips per value "
                         "(e.g. 5,20: near and far people)")
    ap.add_argument("--noise-pixels", type=float, default=0.0,
                    help="the detector noise's floor in pixels (DetectorErrors.noise_pixels)")
    ap.add_argument("--no-per-frame", action="store_true",
                    help="skip the per-frame fits (their baseline and 'worse than' count): "
                         "variants compared with each other only")
    ap.add_argument("--output", type=Path, default=None,
                    help="JSON of every variant's per-stretch PA-MPJPE, accel error and "
                         "CPU frames/s (for paired differences)")
    confidence_argument(ap)
    args = ap.parse_args()
    variants = json.loads(args.variants)
    reads = any(o.get("reading_weight", 0) > 0 for o in variants.values()) or (
        args.judge and any(float(x) > 0 for x in args.reading.split(",")))
    clips = ({int(c) for c in args.clips.split(",")} if args.clips
             else set(range(4) if reads else range(8)))
    if reads and clips - set(range(4)):
        ap.error(f"--clips {sorted(clips)}: clips 4-7 are in the learned initialiser's "
                 "training split, and a judge with reading_weight > 0 reads that initialiser "
                 "(it would look better there than on unseen clips): use clips of 0,1,2,3")
    model = smplify.load_model("open")
    args.cache.mkdir(parents=True, exist_ok=True)
    sets = {}
    for (name, spec), distance in itertools.product(
            (("short", args.stretches), ("long", args.long)),
            [float(d) for d in args.distances.split(",")]):
        if not spec:
            continue
        stretches = [tuple(int(v) for v in s.split(":")) for s in spec.split(",")]
        # Stretch i is clip i // len(stretches) (its detector seed and cache name kept).
        every = videos(model, stretches, args.seed, args.confidence, distance,
                       args.noise_pixels)
        keep = [i for i in range(len(every)) if i // len(stretches) in clips]
        vids = [every[i] for i in keep]
        # The near clips without a noise floor keep the caches' old names.
        where = "" if (distance, args.noise_pixels) == (5.0, 0.0) \
            else f"_{distance:g}m_{args.noise_pixels:g}px"
        if distance != 5.0:
            name = f"{name}@{distance:g}m"
        if args.no_per_frame:
            sets[name] = (vids, [])
            continue
        base = [score(cached_per_frame(model, v, args.cache / f"pf_{args.seed}_{spec}_{i}"
                                       f"{cache_suffix(args.confidence)}{where}.npy"),
                      v) for i, v in zip(keep, vids, strict=True)]
        sets[name] = (vids, base)
        print(f"{name:5s} per-frame: PA-MPJPE {np.mean([b[0] for b in base]):6.1f} mm  accel "
              f"error {np.mean([b[1] for b in base]):6.1f}  ({len(vids)} stretches)",
              flush=True)
    if args.judge:
        judge(model, sets, next(iter(variants.values())),
              [float(x) for x in args.transition.split(",")],
              [float(x) for x in args.reading.split(",")],
              [float(x) for x in args.accel.split(",")],
              [float(x) for x in args.tau.split(",")], args.oracle_solve)
        return
    out: dict = {}
    for variant, options in variants.items():
        for name, (vids, base) in sets.items():
            s, fps = run(model, vids, options)
            out.setdefault(variant, {})[name] = {"pa_mpjpe_mm": [x[0] for x in s],
                                                 "accel_error_mm": [x[1] for x in s],
                                                 "cpu_fps": fps}
            worse = "n/a" if args.no_per_frame else \
                f"{sum(x[0] >= b[0] for x, b in zip(s, base, strict=True))}/{len(s)}"
            print(f"{variant:24s} {name:9s} PA-MPJPE {np.mean([x[0] for x in s]):6.1f} mm  "
                  f"accel error {np.mean([x[1] for x in s]):6.1f}  worse than per-frame on "
                  f"{worse}  CPU frames/s median {np.median(fps):6.1f}  per stretch "
                  f"{' '.join(f'{x[0]:.0f}' for x in s)}", flush=True)
    if args.output is not None:
        args.output.write_text(json.dumps({"args": vars(args), "variants": variants,
                                           "results": out}, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
