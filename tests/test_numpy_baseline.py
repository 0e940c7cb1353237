"""benchmarks/numpy_smplify.py, the NumPy fit with analytic Jacobians that the benchmarks
compare against: its Jacobian equals the oracle's complex-step one (every term, joint and
surface keypoints, with and without pose blend shapes). (bench_baselines.py shows its fits end
at the reference's energies.)"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from smplify.problem import build_problem
from smplify.synthetic import make_case

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import numpy_smplify  # noqa: E402


@pytest.mark.parametrize(("which", "format"), [("open", "mediapipe33"), ("open", "smpl24"),
                                               ("procedural", "coco17")])
def test_analytic_jacobian_equals_the_complex_step(open_model, open_prior, procedural_model,
                                                   which, format):
    model = open_model if which == "open" else procedural_model
    rng = np.random.default_rng(3)
    case = make_case(model, open_prior, format, rng, noise_px=3.0)
    # The baseline is SMPLify's single prior start (no learned initialiser's anchor).
    problem = build_problem(case.keypoints, format, case.image_size, case.focal_length, model,
                            open_prior, {"starts": "prior", "learned_init": False})
    pose = np.r_[case.global_orient, case.body_pose] + rng.normal(0.0, 0.1, 72)
    for stage in (0, 3):
        error = numpy_smplify.check_jacobian(problem, pose, 0.5 * case.betas,
                                             case.transl + 0.05, stage)
        assert error <= 1e-10, (stage, error)
    assert model is open_model or model.has_pose_blend_shapes



def test_the_fit_runs_on_the_oracle_s_residual_rows(open_model, open_prior):
    """The analytic Jacobian has a row for every one of the oracle's residuals (E_knee's two
    included): bench_baselines.py stopped at a Jacobian shape when it had not."""
    case = make_case(open_model, open_prior, "smpl24", np.random.default_rng(0), noise_px=1.0)
    res = numpy_smplify.fit(case.keypoints, "smpl24", case.image_size, case.focal_length,
                            open_model, open_prior, multi_start=False, starts="prior",
                            learned_init=False)
    assert np.isfinite(res.energy["total"]) and res.summary["solver"].find("analytic") >= 0
