"""Choose the online Fitter's track options (and the One Euro baseline's) on TUNING clips only.

    python tools/tune_online.py [--variants '{"name": {option: value}}'] [--one-euro]

The clips are ``tests/data/tuning_sequences.npz`` (``tools/build_heldout_sequences.py --set
tuning --frames 144``: the held-out CMU clips basketball, soccer, washwindow and 49_20 and four
fast clips of the pose prior's training set, jumping, salsa, indian, martial; no test or
benchmark scores any of them), each split into two 72-frame stretches seen through the synthetic
detector with its default errors (seed 500 + 10·clip + stretch; ``--confidence uniform``: the
confidence model the defaults before session 11 were chosen with), COCO-17, one thread. Per
variant: mean PA-MPJPE (mm), mean acceleration error (mm/frame²), the number of stretches on
which it is worse than independent per-frame fits, and CPU ms/frame (median, mean).
Independent per-frame fits are cached in ``--cache`` (they are the slow part).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import smplify
from smplify import synthetic_video as sv

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_video import accuracy as score  # noqa: E402  (the benchmark's own)
from bench_video import confidence_argument, hold_last, one_euro_joints, per_frame  # noqa: E402

TUNING = REPO / "tests" / "data" / "tuning_sequences.npz"
FORMAT = "coco17"


def videos(model, stretches: list[tuple[int, int]], seed: int,
           confidence: str = sv.DetectorErrors().confidence_model, distance: float = 5.0,
           noise_pixels: float = 0.0) -> list[sv.SyntheticVideo]:
    """The tuning clips' stretches through the detector's default errors with the confidence
    model ``confidence`` (and the noise floor ``noise_pixels``), the camera ``distance``
    metres from the motion."""
    errors = sv.DetectorErrors(confidence_model=confidence, noise_pixels=noise_pixels)
    out = []
    for c, seq in enumerate(sv.load_sequences(TUNING)):
        for s, (a, b) in enumerate(stretches):
            out.append(sv.make_video(model, seq, FORMAT,
                                     np.random.default_rng(seed + 10 * c + s), errors,
                                     distance=distance, frames=slice(a, b)))
    return out


def cache_suffix(confidence: str) -> str:
    """The per-frame cache's name suffix: none for the uniform model (the caches made before
    the error-linked one), else the model's name."""
    return "" if confidence == "uniform" else f"_{confidence}"


def cached_per_frame(model, video: sv.SyntheticVideo, cache: Path) -> np.ndarray:
    """(T, 24, 3) independent per-frame fits' joints (bench_video's), saved in ``cache``."""
    if cache.exists():
        return np.load(cache)
    joints = hold_last(per_frame(video, model))
    np.save(cache, joints)
    return joints


class CountingCore:
    """The C++ fitter, counting its fits (CPU time swings with the machine's load; the
    number of solves a frame does not)."""

    def __init__(self, core) -> None:
        self.core, self.fits = core, 0

    def fit(self, **kwargs):
        self.fits += 1
        return self.core.fit(**kwargs)


def tracked(model, video: sv.SyntheticVideo,
            options: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Fitter's joints per frame, CPU ms per frame and solves per warm frame."""
    fitter = smplify.Fitter(model, format=FORMAT, image_size=video.image_size,
                            focal_length=video.focal_length, threads=1, **options)
    out, cpu, fits = [], [], []
    for kp in video.keypoints:
        start = time.process_time()
        counting = fitter._core if isinstance(fitter._core, CountingCore) else None
        before = counting.fits if counting else 0
        try:
            out.append(fitter.fit(kp).joints)
        except smplify.KeypointError:
            out.append(None)
        cpu.append(time.process_time() - start)
        if counting is not None:
            fits.append(counting.fits - before)
        elif fitter._core is not None:
            fitter._core = CountingCore(fitter._core)
    return hold_last(out), 1000 * np.array(cpu), np.array(fits)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variants", default='{"default": {}}',
                    help="JSON: variant name -> Fitter options")
    ap.add_argument("--stretches", default="0:72,72:144")
    ap.add_argument("--seed", type=int, default=500)
    ap.add_argument("--one-euro", action="store_true",
                    help="also grid the One Euro filter on per-frame and plain warm fits")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/smplify_tune_online"))
    confidence_argument(ap)
    args = ap.parse_args()
    model = smplify.load_model("open")
    stretches = [tuple(int(v) for v in s.split(":")) for s in args.stretches.split(",")]
    vids = videos(model, stretches, args.seed, args.confidence)
    args.cache.mkdir(parents=True, exist_ok=True)
    single = [cached_per_frame(model, v, args.cache / f"per_frame_{args.seed}_{i}_"
                               f"{args.stretches}{cache_suffix(args.confidence)}.npy")
              for i, v in enumerate(vids)]
    base = [score(j, v) for j, v in zip(single, vids, strict=True)]
    print(f"per-frame: PA-MPJPE {np.mean([b[0] for b in base]):6.1f} mm  accel error "
          f"{np.mean([b[1] for b in base]):6.1f}  per stretch "
          f"{' '.join(f'{b[0]:.1f}' for b in base)}")
    if args.one_euro:
        warm = [tracked(model, v, {"track": False})[0] for v in vids]
        for name, source in (("per-frame", single), ("warm", warm)):
            for min_cutoff in (0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0):
                for beta in (0.0, 0.3, 1.0, 3.0):
                    s = [score(one_euro_joints(j, v.fps, (min_cutoff, beta)), v)
                         for j, v in zip(source, vids, strict=True)]
                    pa, acc = np.mean([x[0] for x in s]), np.mean([x[1] for x in s])
                    print(f"  One Euro on {name:9s} min_cutoff {min_cutoff:3.1f} beta "
                          f"{beta:4.1f}: PA-MPJPE {pa:6.1f}  accel error {acc:6.1f}  "
                          f"sum {pa + acc:6.1f}")
    for name, options in json.loads(args.variants).items():
        runs = [tracked(model, v, options) for v in vids]
        s = [score(j, v) for (j, _, _), v in zip(runs, vids, strict=True)]
        cpu = np.concatenate([c for _, c, _ in runs])
        fits = np.concatenate([f for _, _, f in runs])
        worse = sum(x[0] >= b[0] for x, b in zip(s, base, strict=True))
        print(f"{name:24s} PA-MPJPE {np.mean([x[0] for x in s]):6.1f} mm  accel error "
              f"{np.mean([x[1] for x in s]):6.1f}  worse than per-frame on {worse}/{len(s)}  "
              f"CPU ms/frame median {np.median(cpu):.2f} mean {np.mean(cpu):.2f}  solves/frame "
              f"mean {np.mean(fits):.2f} (>1 on {100 * np.mean(fits > 1):.0f}%)  per stretch "
              f"{' '.join(f'{x[0]:.1f}' for x in s)}", flush=True)


if __name__ == "__main__":
    main()
