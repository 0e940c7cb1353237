"""How bent the mocap's knees are, and how pose priors explain held-out standing and
crouching (docs/video.md, "Bent knees": the session-11 prior kept by time).

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python tools/build_pose_prior.py \
        --model OLD_MODEL.npz --out /tmp/prior_time.npz --heldout-out /tmp/heldout.npz \
        --keep time --n-init 3 --fits-out /tmp/fits.npz
    .venv/bin/python benchmarks/pose_prior_knees.py /tmp/fits.npz \
        python/smplify/data/open_pose_prior.npz /tmp/prior_time.npz

(OLD_MODEL.npz: ``git show 2aa90c8:python/smplify/data/open_body_neutral.npz``, the skeleton
the shipped prior was built on.) Reads the builder's IK of every clip (``--fits-out``: θ at
30 fps, held-out clips tagged ``heldout:``) and prints:

1. per clip, the straighter knee's angle (degrees, 0 straight; from the IK's joints, the
   angle between thigh and shin) as median and 10th percentile, the share of frames under
   15°, and how many frames the 2 cm rule keeps;
2. per prior file: each component's weight, knee and hip flexion (its mean's x rotations),
   the mean log-likelihood of the held-out clips' frames (all IK frames, 30 fps) by kind
   (standing/walking, dance/martial/jumping, sports, knees over 60°), and E_θ of a straight
   body whose knees are bent by 0-60°.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import smplify
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import build_pose_prior as bpp  # noqa: E402

KINDS = {"stand/walk": ("walking", "washwindow", "49_"),
         "dance/martial/jumping": ("salsa", "martial", "indian", "jumping")}


def kind_of(clip: str) -> str:
    return next((k for k, words in KINDS.items() if any(w in clip for w in words)), "sports")


def knee_flexion(body_pose: np.ndarray) -> np.ndarray:
    """(N,) mean x rotation of both knees, degrees (as knee_bend_causes.prior_means)."""
    return np.degrees(body_pose[:, [9, 12]].mean(axis=1))


def straighter_knee(theta: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """(F,) the straighter knee's thigh-shin angle of θ (F, 72) on rest joints, degrees."""
    th = theta.reshape(-1, 24, 3).copy()
    th[:, 0] = 0
    _, p = bpp.forward(th, rest)
    angles = []
    for hip, knee, ankle in ((1, 4, 7), (2, 5, 8)):
        u, v = p[:, hip] - p[:, knee], p[:, ankle] - p[:, knee]
        cos = np.sum(u * v, axis=1) / np.linalg.norm(u, axis=1) / np.linalg.norm(v, axis=1)
        angles.append(180.0 - np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
    return np.minimum(*angles)


def log_likelihood(path: str, x: np.ndarray) -> np.ndarray:
    with np.load(path) as z:
        m, c, w = z["means"], z["covars"], z["weights"]
    return logsumexp(np.stack([np.log(w[k]) + multivariate_normal(m[k], c[k]).logpdf(x)
                               for k in range(len(w))]), axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("fits", help="tools/build_pose_prior.py --fits-out file")
    parser.add_argument("priors", nargs="*", help="pose prior .npz files to compare")
    args = parser.parse_args()
    z = np.load(args.fits)
    clips = sorted({k.rsplit(":", 1)[0] for k in z.files})
    print("1. per clip: the straighter knee (°) median, p10, share < 15°; frames, kept by 2 cm")
    held = {}
    for clip in clips:
        theta, rest = z[f"{clip}:theta"], z[f"{clip}:rest"]
        knee = straighter_knee(theta, rest)
        kept = len(bpp.spread_frames(theta, rest, bpp.SPREAD_M))
        print(f"  {clip:46s} median {np.median(knee):5.1f}  p10 {np.percentile(knee, 10):5.1f}"
              f"  <15° {np.mean(knee < 15):4.2f}  frames {len(theta):4d}  kept {kept:4d}")
        if ":heldout:" in clip:
            held[clip] = theta[:, 3:]
    every = np.concatenate(list(held.values()))
    groups = {k: np.concatenate([p for c, p in held.items() if kind_of(c) == k])
              for k in (*KINDS, "sports")}
    groups["knees > 60°"] = every[knee_flexion(every) > 60]
    groups["all held-out"] = every
    for path in args.priors:
        prior = smplify.load_prior(path)
        knee, hip = knee_flexion(prior.means), -np.degrees(prior.means[:, [0, 3]].mean(axis=1))
        print(f"2. {path}\n  components (weight: knee/hip °): " + ", ".join(
            f"{w:.3f}: {a:.0f}/{b:.0f}" for w, a, b in zip(prior.weights, knee, hip,
                                                          strict=True))
              + f"; weighted mean {np.average(knee, weights=prior.weights):.1f}/"
              f"{np.average(hip, weights=prior.weights):.1f}")
        for name, x in groups.items():
            ll = log_likelihood(path, x)
            print(f"  held-out {name:22s} frames {len(x):5d}  log-likelihood mean "
                  f"{ll.mean():6.1f}  median {np.median(ll):6.1f}")
        bent = np.zeros((7, 69))
        bent[:, [9, 12]] = np.radians(np.arange(0, 61, 10))[:, None]
        print("  E_θ of a straight body, knees bent 0..60° by 10: "
              + " ".join(f"{e:.1f}" for e in prior.energies(bent)))


if __name__ == "__main__":
    main()
