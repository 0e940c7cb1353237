"""mediapipe33's hip target, old (COCO's hips) against new (the blended hips,
``smplify.keypoints.BLENDED_KEYPOINTS``), PAIRED: the same bodies, cameras and error draws,
only the hips' keypoints and target differ. docs/video.md, "Bent knees ...", session 11.

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/hip_target_paired.py old
    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/hip_target_paired.py new
    .venv/bin/python benchmarks/hip_target_paired.py compare

Each of ``old`` / ``new`` fits, in its own process, with mediapipe33 registered as that
definition (process-wide: the realistic set and the recovery cases look the format up by
its name; the fits themselves cache by the format's value, not its name):

- the realistic set's test half (``realistic.cases``, ``--realistic`` cases) with the
  defaults, without the initialiser (``realistic.NO_INITIALIZER``) and ``preset="paper"``;
- test_fit's recovery cases for mediapipe33 (``make_case`` front views of prior poses,
  seeds 300 + i, ``--front`` cases), clean and with test_fit's noise, with the prior's
  starts (test_fit's ``PRIOR_STARTS``) and with the defaults.

and writes per-case PA-MPJPE (mm) to ``--work``; ``compare`` prints the paired mean
difference new − old ± its standard error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import smplify
from smplify.keypoints import formats as kf
from smplify.synthetic import make_case, pa_mpjpe

sys.path.insert(0, str(Path(__file__).resolve().parent))

NOISE = {"noise_px": 5.0, "outlier_fraction": 0.1, "outlier_confidence": 0.3}
PRIOR_STARTS = {"starts": "prior", "learned_init": False, "reading_weight": 0.0,
                "left_right": "as_given"}
COLUMNS = ("realistic defaults", "realistic no initialiser", "realistic paper",
           "front prior's starts clean", "front prior's starts noisy", "front defaults clean",
           "front defaults noisy")


def blended_format() -> kf.KeypointFormat:
    """mediapipe33 with MediaPipe's blended hips (not the default: keypoints.with_blended_hips)."""
    return kf.with_blended_hips(kf.get_format("mediapipe33"))


def run(which: str, n_realistic: int, n_front: int) -> np.ndarray:
    if which == "new":
        kf._FORMATS["mediapipe33"] = blended_format()
    import realistic

    model, prior = smplify.load_model("open"), smplify.load_prior("open")
    out = np.full((max(n_realistic, n_front), len(COLUMNS)), np.nan)
    data = realistic.cases(model, "mediapipe33", n_realistic, "test")
    for j, options in enumerate(({}, realistic.NO_INITIALIZER, {"preset": "paper"})):
        out[:n_realistic, j] = realistic.score(model, "mediapipe33", data, options)["per_case_mm"]
    for j, options in ((3, PRIOR_STARTS), (5, {})):
        for i in range(n_front):
            for k, noise in enumerate(({}, NOISE)):
                case = make_case(model, prior, "mediapipe33", np.random.default_rng(300 + i),
                                 **noise)
                fit = smplify.fit(case.keypoints, "mediapipe33", case.image_size,
                                  case.focal_length, model=model, prior=prior, threads=1,
                                  **options)
                out[i, j + k] = 1000 * pa_mpjpe(fit.joints, case.joints)
    return out


def compare(work: Path) -> None:
    old, new = (np.load(work / f"hip_target_{w}.npy") for w in ("old", "new"))
    for j, name in enumerate(COLUMNS):
        ok = np.isfinite(old[:, j]) & np.isfinite(new[:, j])
        d = new[ok, j] - old[ok, j]
        print(f"{name:28s} old {old[ok, j].mean():6.1f}  new {new[ok, j].mean():6.1f}  "
              f"new − old {d.mean():+5.2f} ± {d.std(ddof=1) / np.sqrt(ok.sum()):4.2f} mm "
              f"({int(ok.sum())} cases)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("which", choices=("old", "new", "compare"))
    parser.add_argument("--realistic", type=int, default=150)
    parser.add_argument("--front", type=int, default=60)
    parser.add_argument("--work", type=Path, default=Path("/tmp/smplify_hip_target"))
    args = parser.parse_args()
    if args.which == "compare":
        compare(args.work)
        return
    args.work.mkdir(parents=True, exist_ok=True)
    np.save(args.work / f"hip_target_{args.which}.npy",
            run(args.which, args.realistic, args.front))


if __name__ == "__main__":
    main()
