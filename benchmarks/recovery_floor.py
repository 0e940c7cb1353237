"""How close can a minimiser of SMPLify's energy get to the truth on the recovery set?

For the first 8 front views per format of the test recovery set (tests/test_fit.py: perfect
2D, open model, default options) this compares
  * ``fit``: the default fit from scratch;
  * ``truth basin``: the last stage run from the true parameters (the energy's minimum next to
    the truth);
  * ``lower``: per case whichever of the two has the lower total energy, i.e. what an optimiser
    that never misses the truth's basin when that basin is the lower one would return.
If ``lower`` is above a target, no minimiser of this energy (weights, prior) meets it.

    .venv/bin/python benchmarks/recovery_floor.py        # ~10 s
"""

from __future__ import annotations

import numpy as np
import smplify
from smplify.core_fitter import _core_fitter, _observation
from smplify.fit_report import _result
from smplify.problem import build_problem
from smplify.synthetic import make_case, pa_mpjpe, reprojection_error

CASES_PER_FORMAT = 8  # the first 8 per format of tests/test_fit.py's set


def truth_basin(case, model, prior):
    """The last stage's weights, started at the true parameters (a warm start)."""
    args = (case.keypoints, case.format, case.image_size, case.focal_length)
    problem = build_problem(*args, model, prior, {"threads": 1})
    report = _core_fitter(problem).fit(
        **_observation(problem), initial_pose=np.concatenate([case.global_orient,
                                                              case.body_pose]),
        initial_betas=case.betas, initial_transl=case.transl)
    return _result(problem, report, 0.0)


def main() -> None:
    model, prior = smplify.load_model("open"), smplify.load_prior("open")
    rows = []
    for f, format in enumerate(smplify.format_names()):
        for i in range(CASES_PER_FORMAT):
            case = make_case(model, prior, format, np.random.default_rng(100 * f + i))
            fit = smplify.fit(case.keypoints, format, case.image_size, case.focal_length,
                              model=model, prior=prior)
            basin = truth_basin(case, model, prior)
            lower = basin if basin.energy["total"] < fit.energy["total"] else fit
            rows.append((format, *[1000 * pa_mpjpe(r.joints, case.joints)
                                   for r in (fit, basin, lower)],
                         *[reprojection_error(r, case) for r in (fit, basin, lower)],
                         lower is basin))
    print(f"{'format':12s} {'PA-MPJPE mm: fit':>17s} {'truth basin':>12s} {'lower':>7s}   "
          f"{'reprojection px: fit':>21s} {'truth basin':>12s} {'lower':>7s}")
    for format in (*smplify.format_names(), "all"):
        sel = np.array([r[1:7] for r in rows if format in ("all", r[0])])
        m = sel.mean(axis=0)
        print(f"{format:12s} {m[0]:17.1f} {m[1]:12.1f} {m[2]:7.1f}   {m[3]:21.2f} {m[4]:12.2f} "
              f"{m[5]:7.2f}")
    print(f"truth basin lower than the fit in {sum(r[7] for r in rows)} of {len(rows)} cases")


if __name__ == "__main__":
    main()
