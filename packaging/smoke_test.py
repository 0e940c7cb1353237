"""Smoke test of an installed smplify wheel: import it and fit the shipped example.

Run by ``packaging/check_wheel.sh`` with the python of a fresh venv that holds only the wheel
and its PyPI dependencies, from outside the source tree. Exits non-zero, saying why, when the
package is not the installed one, the C++ core does not load, or the fit does not converge
onto the keypoints, or the core's variant (``SMPLIFY_CPU``) is not the one asked for.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path

import numpy as np


def main() -> int:
    import smplify
    from smplify import _core
    from smplify.cli import read_keypoint_file
    from smplify.demo import EXAMPLE_KEYPOINTS

    site = Path(sysconfig.get_paths()["platlib"]).resolve()
    core = Path(_core.__file__).resolve()
    if site not in core.parents:
        print(f"smoke test: smplify._core is {core}, not from the venv's {site}")
        return 1
    # The variant asked for (check_wheel.sh runs this once per variant) is the one loaded.
    variant = smplify.core_variant()
    module = smplify.cpu_variant.MODULES[variant]
    if os.environ.get("SMPLIFY_CPU", variant) != variant or not core.name.startswith(module + "."):
        print(f"smoke test: SMPLIFY_CPU={os.environ.get('SMPLIFY_CPU')!r}, variant "
              f"{variant!r}, but smplify._core is {core.name}")
        return 1

    kp = read_keypoint_file(EXAMPLE_KEYPOINTS)
    result = smplify.fit(kp.keypoints, format=kp.format, image_size=kp.image_size)
    stages = result.summary["stages"]
    problems = []
    if result.summary["implementation"] != "cpp":
        problems.append(f"implementation {result.summary['implementation']!r}, not 'cpp'")
    if not all(np.isfinite(value) for value in result.energy.values()):
        problems.append(f"non-finite energy {result.energy}")
    failed = [s.name for s in stages if s.termination not in ("CONVERGENCE", "NO_CONVERGENCE")]
    if failed:
        problems.append(f"solver failed in {failed}")
    confident = kp.keypoints[:, 2] > 0.5
    error_px = np.linalg.norm(result.keypoints_2d - kp.keypoints[:, :2], axis=1)[confident]
    # The example's confident keypoints fit to ~3 px median (make demo); 10 px means the fit
    # did not reach the person at all.
    if not np.median(error_px) < 10.0:
        problems.append(f"median reprojection error {np.median(error_px):.1f} px")
    for problem in problems:
        print(f"smoke test: {problem}")
    print(f"smoke test: smplify {smplify.__version__} from {core.name} ({variant}), "
          f"{len(stages)} stages, median reprojection {np.median(error_px):.2f} px over "
          f"{confident.sum()} keypoints, {result.summary['seconds'] * 1e3:.0f} ms: "
          + ("FAILED" if problems else "ok"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
