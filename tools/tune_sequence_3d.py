"""fit_sequence with the detector's 3D keypoints: PA-MPJPE without them and at each
``keypoints_3d_weight``, on side-on 30-frame stretches of the tuning or held-out clips.

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python tools/tune_sequence_3d.py \
        [--set tuning|heldout] [--weights 100 300]

Each clip (``tests/data/{tuning,heldout}_sequences.npz``) at frames 0–30 and 60–90, seen from
its side (yaw π/2 + 0.3 c for clip c), mediapipe33, the synthetic detector without
left/right swaps; 3D keypoints from :func:`smplify.synthetic_video.detector_3d` (true
keypoints relative to the pelvis + 3/3/6 cm noise). Tune on ``tuning``, report ``heldout``
(different detector seeds too). Prints per clip and the mean and median over the stretches.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import smplify
from smplify import synthetic_video as sv
from smplify.synthetic import pa_mpjpe

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
SEEDS = {"tuning": 300, "heldout": 500}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=tuple(SEEDS), default="tuning")
    parser.add_argument("--weights", type=float, nargs="+", default=[100.0, 300.0])
    args = parser.parse_args()
    model = smplify.load_model("open")
    errors = sv.DetectorErrors(swap_burst_rate=0.0, limb_swap_rate=0.0)
    seed = SEEDS[args.set]
    rows: dict[str, list[float]] = {"none": [], **{f"{w:g}": [] for w in args.weights}}
    for c, sequence in enumerate(sv.load_sequences(DATA / f"{args.set}_sequences.npz")):
        for start in (0, 60):
            video = sv.make_video(model, sequence, "mediapipe33", np.random.default_rng(seed + c),
                                  yaw=np.pi / 2 + 0.3 * c, frames=slice(start, start + 30),
                                  errors=errors)
            points = sv.detector_3d(model, video, np.random.default_rng(seed + 1 + c))
            for name in rows:
                extra = {} if name == "none" else {"keypoints_3d": points,
                                                   "keypoints_3d_weight": float(name)}
                res = smplify.fit_sequence(video.keypoints, "mediapipe33", video.image_size,
                                           video.focal_length, model=model, **extra)
                rows[name].append(1000 * float(np.mean(
                    [pa_mpjpe(res.joints[t], video.joints[t]) for t in range(30)])))
        print(sequence["name"], {k: np.round(v[-2:], 1).tolist() for k, v in rows.items()},
              flush=True)
    for stat in (np.mean, np.median):
        print(f"{stat.__name__} PA-MPJPE mm:",
              {k: round(float(stat(v)), 1) for k, v in rows.items()})


if __name__ == "__main__":
    main()
