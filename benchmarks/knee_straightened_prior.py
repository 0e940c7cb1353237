"""What-if: a pose prior from mocap whose standing knees are straight (docs/video.md, "Bent
knees"). NOT a shippable prior: it edits the data to test how much the prior's bent knees
cost standing people on real video.

    .venv/bin/python benchmarks/knee_straightened_prior.py /tmp/fits.npz /tmp/prior_straight.npz

Reads the IK dump of ``tools/build_pose_prior.py --fits-out`` (the same run that built the prior
being compared), takes every training clip as the builder does (the 2 cm rule, mirrors added),
but first takes off each knee's own flexion floor in that clip: the knee's rotation angle minus
the clip's 1st percentile of it (clamped at 0, the axis kept), as if each subject's straightest
knee in the clip were straight. The raw CMU joint centres never straighten in many clips (the
straighter knee's 1st percentile 10-30° in walking, directing traffic, salsa, soccer;
``benchmarks/knee_raw_vs_ik.py``), which a calibration offset would explain and real bent
stances (Indian dance, martial arts) would too: this treats every clip as the first case.
Fits the GMM as the builder does and writes the prior.

    .venv/bin/python benchmarks/knee_straightened_prior.py --initializer OUT_DIR [--formats F]

instead trains the learned initialiser (``tools/build_initializer.py``, needs torch, ~550 CPU s
a format) on the training clips' poses straightened the same way (held-out poses as they are),
writing ``OUT_DIR/initializer_<format>.npz`` (its body cache under ``OUT_DIR/cache``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import build_pose_prior as bpp  # noqa: E402

KNEES = (4, 5)
FLOOR_PERCENTILE = 1.0


def straighten_knees(theta: np.ndarray) -> np.ndarray:
    """(F, 72) θ with each knee's angle lowered by its own 1st percentile over the frames."""
    out = theta.reshape(-1, 24, 3).copy()
    for j in KNEES:
        angle = np.linalg.norm(out[:, j], axis=1)
        floor = np.percentile(angle, FLOOR_PERCENTILE)
        scale = np.maximum(angle - floor, 0.0) / np.maximum(angle, 1e-12)
        out[:, j] *= scale[:, None]
    return out.reshape(-1, 72)


def train_initializer(out_dir: Path, formats: list[str]) -> None:
    """The initialiser trained on straightened training poses (see the module docstring)."""
    import build_initializer
    import initializer_poses

    build_initializer.CACHE = out_dir / "cache"
    plain = initializer_poses.clip_poses

    def straightened(kind: str, path: Path, asf: Path | None, skel: bpp.Skeleton,
                     model: Path) -> np.ndarray:
        theta = plain(kind, path, asf, skel, model)
        return theta if bpp.is_heldout(path.name, path) else straighten_knees(theta)

    initializer_poses.clip_poses = straightened
    build_initializer.main(["--formats", *formats, "--out-dir", str(out_dir)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("fits", nargs="?", help="tools/build_pose_prior.py --fits-out file")
    parser.add_argument("out", nargs="?", type=Path, help="the what-if prior (.npz) to write")
    parser.add_argument("--initializer", type=Path, default=None, metavar="OUT_DIR",
                        help="train the initialiser on straightened poses instead")
    parser.add_argument("--formats", nargs="+", default=["mediapipe33"])
    args = parser.parse_args()
    if args.initializer is not None:
        train_initializer(args.initializer, args.formats)
        return
    if args.fits is None or args.out is None:
        parser.error("give FITS and OUT (or --initializer OUT_DIR)")
    z = np.load(args.fits)
    clips = sorted({k.rsplit(":", 1)[0] for k in z.files if ":heldout:" not in k})
    train, before, after = [], [], []
    for clip in clips:
        theta, rest = z[f"{clip}:theta"], z[f"{clip}:rest"]
        keep = bpp.spread_frames(theta, rest, bpp.SPREAD_M)
        straight = straighten_knees(theta)
        train.append(straight[keep, 3:])
        before.append(np.degrees(np.linalg.norm(theta.reshape(-1, 24, 3)[keep][:, KNEES],
                                                axis=2)))
        after.append(np.degrees(np.linalg.norm(straight.reshape(-1, 24, 3)[keep][:, KNEES],
                                               axis=2)))
    x = np.concatenate(train)
    x = np.concatenate([x, bpp.mirror_pose(x)])
    print(f"training poses {len(x)} (half mirrored); knee angle median "
          f"{np.median(np.concatenate(before)):.1f}° -> {np.median(np.concatenate(after)):.1f}°")
    means, covars, weights = bpp.fit_gmm(x)
    bpp.write_npz(args.out, {"means": means, "covars": covars, "weights": weights})
    print(f"wrote {args.out}; components' knee x rotation (°): "
          + ", ".join(f"{w:.2f}: {k:.0f}" for w, k in
                      zip(weights, np.degrees(means[:, [9, 12]].mean(axis=1)), strict=True)))


if __name__ == "__main__":
    main()
