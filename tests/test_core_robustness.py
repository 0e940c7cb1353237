"""The C++ core (``smplify._core``) given input the Python layer normally screens out, and
failures inside a threaded multi-start fit: each must come back as a Python exception (or a
valid fit), never as a crash of the interpreter.

The public API cannot reach most of these (it validates first), so the tests call
``_core.Fitter`` with the arguments ``smplify.fitting`` would pass and then spoil one of them.
The thread tests run in a subprocess under an address-space limit (Linux only): a limit that
lets one extra thread stack in but not a second, and one that leaves room for the camera
initialisation but not for a start's stages.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from smplify import _core
from smplify.core_fitter import _core_capsules, _core_options, _observation
from smplify.problem import build_problem, start_poses
from smplify.synthetic import make_case

FORMAT = "coco17"


@pytest.fixture(scope="module")
def problem(open_model, open_prior):
    case = make_case(open_model, open_prior, FORMAT, np.random.default_rng(0))
    return build_problem(case.keypoints, FORMAT, case.image_size, case.focal_length,
                         open_model, open_prior, {"threads": 1})


def fitter_arguments(problem) -> dict:
    """The keyword arguments ``smplify.fitting`` gives ``_core.Fitter``, as fresh copies."""
    prior = problem.prior
    return {"model": problem.model.core,
            "joint": [int(j) for j in problem.keypoint_joint],
            "vertex_ids": [ids.copy() for ids in problem.keypoint_vertex_ids],
            "vertex_weights": [w.copy() for w in problem.keypoint_vertex_weights],
            "prior_means": np.asarray(prior.means, dtype=np.float64),
            "precision_cholesky": [np.asarray(L, dtype=np.float64)
                                   for L in prior.precision_cholesky],
            "neg_log_c": np.asarray(prior.neg_log_c, dtype=np.float64),
            "capsules": _core_capsules(problem), "options": _core_options(problem),
            "starts": start_poses(problem)}


@pytest.fixture(scope="module")
def core(problem):
    return _core.Fitter(**fitter_arguments(problem))


def term_arguments(problem, pose=None, betas=None) -> tuple:
    """evaluate_term's arguments after the term's name, at stage 3."""
    o = _observation(problem)
    pose = np.r_[np.pi, 0.0, 0.0, np.zeros(69)] if pose is None else pose
    betas = np.zeros(problem.model.num_betas) if betas is None else betas
    return (3, o["keypoints"], o["weights"], o["torso"], o["focal_length"], o["center"],
            np.asarray(pose, dtype=np.float64), np.asarray(betas, dtype=np.float64),
            np.array([0.0, 0.2, 3.0]))


# --- out-of-range indices and sizes --------------------------------------------------------------

@pytest.mark.parametrize("bad", [10**8, 17, -2])
def test_fit_rejects_a_torso_index_out_of_range(problem, core, bad):
    observation = _observation(problem)
    observation["torso"] = [5, 6, 11, bad]
    with pytest.raises(ValueError, match=r"torso keypoint indices must be in \[-1, 17\)"):
        core.fit(**observation)


def test_evaluate_term_checks_sizes_against_the_targets(problem, core):
    args = list(term_arguments(problem))
    extra = list(args)
    extra[1] = np.r_[args[1], np.zeros((5000, 2))]
    extra[2] = np.r_[args[2], np.ones(5000)]
    with pytest.raises(ValueError, match="one keypoint, weight and confidence per target"):
        core.evaluate_term("data", *extra)
    short = list(args)
    short[2] = args[2][:-1]
    with pytest.raises(ValueError, match="one keypoint, weight and confidence per target"):
        core.evaluate_term("data", *short)
    torso = list(args)
    torso[3] = [5, 6, 11, 10**8]
    with pytest.raises(ValueError, match="torso"):
        core.evaluate_term("data", *torso)
    betas = list(args)
    betas[7] = np.zeros(3)
    with pytest.raises(ValueError, match="betas must have 10 entries"):
        core.evaluate_term("shape", *betas)


def test_fitter_rejects_a_model_without_betas(problem):
    """β is a Ceres parameter block; an empty one used to abort the process in Ceres."""
    import scipy.sparse

    model = problem.model
    n = len(model.v_template)
    no_betas = _core.BodyModel(model.v_template, np.zeros((3 * n, 0)), np.zeros((0, 0)),
                               scipy.sparse.csr_matrix(model.J_regressor),
                               scipy.sparse.csr_matrix(model.weights), model.parents.tolist())
    args = fitter_arguments(problem)
    args["model"], args["capsules"] = no_betas, None
    with pytest.raises(ValueError, match="need at least one beta"):
        _core.Fitter(**args)


# --- pose prior: non-finite poses and constants ---------------------------------------------------

@pytest.mark.parametrize("value", [np.nan, 1e200])
def test_pose_prior_reports_a_point_no_component_can_evaluate(problem, core, value):
    """No component's energy is finite: the term cannot be evaluated (Ceres: invalid point)."""
    pose = np.r_[np.pi, 0.0, 0.0, np.zeros(69)]
    pose[10] = value
    with pytest.raises(RuntimeError, match="term pose could not be evaluated"):
        core.evaluate_term("pose", *term_arguments(problem, pose))
    residuals, _ = core.evaluate_term("pose", *term_arguments(problem))
    assert np.all(np.isfinite(residuals))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -1.0])
def test_fitter_rejects_a_bad_prior_constant(problem, bad):
    args = fitter_arguments(problem)
    args["neg_log_c"] = args["neg_log_c"].copy()
    args["neg_log_c"][3] = bad
    with pytest.raises(ValueError, match="neg_log_c must be finite and >= 0"):
        _core.Fitter(**args)


def test_fitter_rejects_non_finite_prior_arrays(problem):
    args = fitter_arguments(problem)
    args["prior_means"] = args["prior_means"].copy()
    args["prior_means"][2, 7] = np.nan
    with pytest.raises(ValueError, match="means must be finite"):
        _core.Fitter(**args)
    args = fitter_arguments(problem)
    args["precision_cholesky"][5] = args["precision_cholesky"][5].copy()
    args["precision_cholesky"][5][9, 3] = np.inf
    with pytest.raises(ValueError, match="precision factors must be finite"):
        _core.Fitter(**args)


@pytest.mark.parametrize("which", ["initial_pose", "initial_betas", "initial_transl"])
def test_warm_start_must_be_finite(problem, core, which):
    initial = {"initial_pose": np.r_[np.pi, 0.0, 0.0, np.zeros(69)],
               "initial_betas": np.zeros(problem.model.num_betas),
               "initial_transl": np.array([0.0, 0.2, 10.0])}
    initial[which][-1] = np.nan
    with pytest.raises(ValueError, match="initial: pose, betas and transl must be finite"):
        core.fit(**_observation(problem), **initial)


# --- capsules ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "value", "message"), [
    ("radius_mean", 0.0, "radius must be finite and > 0"),
    ("radius_mean", -0.02, "radius must be finite and > 0"),
    ("radius_mean", np.nan, "radius must be finite and > 0"),
    ("radius_mean", 1e-300, "more than 1000 spheres"),  # l/(2r) ~ 1e299: not an int
    ("length_mean", -0.1, "length must be finite and >= 0"),
    ("length_mean", np.inf, "length must be finite and >= 0"),
    ("offset", np.nan, "capsules: arrays must be finite"),
], ids=["radius 0", "radius < 0", "radius nan", "radius 1e-300", "length < 0", "length inf",
        "offset nan"])
def test_fitter_rejects_bad_capsules(problem, key, value, message):
    args = fitter_arguments(problem)
    capsules = dict(args["capsules"])
    capsules[key] = np.array(capsules[key], dtype=np.float64)
    capsules[key][4] = value
    args["capsules"] = capsules
    with pytest.raises(ValueError, match=message):
        _core.Fitter(**args)


def test_interpenetration_reports_a_shape_with_a_radius_at_or_below_zero(problem):
    """r(β) ≤ 0 for a capsule of an incompatible pair (here the left calf, at β_0 ≥ 1): E_sp
    cannot be evaluated, rather than giving the energy of spheres of radius |r|."""
    args = fitter_arguments(problem)
    capsules = dict(args["capsules"])
    calf = 4  # capsule 4 (left calf) is in the pairs left calf–right calf and –right foot
    assert any(calf in pair for pair in capsules["incompatible"])
    capsules["radius_betas"] = np.array(capsules["radius_betas"], dtype=np.float64)
    capsules["radius_betas"][calf] = 0.0
    capsules["radius_betas"][calf, 0] = -capsules["radius_mean"][calf]  # r = r_mean (1 − β_0)
    args["capsules"] = capsules
    core = _core.Fitter(**args)
    betas = np.zeros(problem.model.num_betas)
    for beta_0 in (0.0, 0.5):
        betas[0] = beta_0
        residuals, jacobian = core.evaluate_term("interpenetration",
                                                 *term_arguments(problem, betas=betas))
        assert len(residuals) == len(capsules["incompatible"])
        assert np.all(np.isfinite(residuals)) and np.all(np.isfinite(jacobian))
    for beta_0 in (1.0, 1.5):
        betas[0] = beta_0
        with pytest.raises(RuntimeError, match="term interpenetration could not be evaluated"):
            core.evaluate_term("interpenetration", *term_arguments(problem, betas=betas))


# --- Rodrigues' series ---------------------------------------------------------------------------

def test_rotation_series_is_exact_to_rounding_below_its_threshold(open_model):
    """Below 0.1 rad the C++ Rodrigues coefficients come from a Taylor series; just below the
    switch it must agree with the closed form (accurate there: a = sin t/t and
    b = 2 sin²(t/2)/t² lose no digits) to rounding. The series up to t⁶ alone is off by
    ~3e-14 in a at t ≈ 0.1, ~2e-15 in the posed joints here."""
    rng = np.random.default_rng(5)
    J = open_model.J_template
    offsets = J - J[0]  # with only the root rotated: joint k = R (J_k − J_0) + J_0 + γ
    worst = 0.0
    for t in np.linspace(0.09, 0.0999, 25):
        axis = rng.normal(size=3)
        omega = t * axis / np.linalg.norm(axis)
        K = np.array([[0.0, -omega[2], omega[1]], [omega[2], 0.0, -omega[0]],
                      [-omega[1], omega[0], 0.0]])
        R = np.eye(3) + np.sin(t) / t * K + 2.0 * np.sin(0.5 * t) ** 2 / t**2 * (K @ K)
        joints = np.asarray(open_model.core.joints(np.r_[omega, np.zeros(69)],
                                                   np.zeros(open_model.num_betas), np.zeros(3)))
        worst = max(worst, float(np.max(np.abs(joints - J[0] - offsets @ R.T))))
    assert worst < 5e-16, worst


# --- the threaded multi-start --------------------------------------------------------------------

SUBPROCESS_SETUP = """
import resource, sys
import numpy as np
import smplify
from smplify import _core
from smplify.core_fitter import _core_capsules, _core_fitter, _core_options, _observation
from smplify.problem import build_problem, start_poses
from smplify.synthetic import make_case

def limit_address_space(megabytes):
    # This much more address space than in use now (one thread stack is 8 MB here).
    for line in open("/proc/self/status"):
        if line.startswith("VmSize:"):
            in_use = int(line.split()[1]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (in_use + megabytes * 2**20, resource.RLIM_INFINITY))

model, prior = smplify.load_model("open"), smplify.load_prior("open")
"""


def run_limited(script: str) -> subprocess.CompletedProcess:
    """Runs SUBPROCESS_SETUP + script with 8 MB thread stacks and one malloc arena (so that
    address space goes where the limits above expect); fails the test on a crash."""
    import resource

    def stack_8mb():
        resource.setrlimit(resource.RLIMIT_STACK, (8 * 2**20, resource.RLIM_INFINITY))

    env = {**os.environ, "MALLOC_ARENA_MAX": "1", "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", SUBPROCESS_SETUP + textwrap.dedent(script)],
                         capture_output=True, text=True, env=env, preexec_fn=stack_8mb,
                         timeout=600, check=False)
    assert out.returncode == 0, (out.returncode, out.stdout, out.stderr[-2000:])
    return out


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="needs /proc and RLIMIT_AS")


@linux_only
def test_a_fit_whose_threads_cannot_all_be_created_runs_the_starts_on_those_that_exist():
    """4 threads asked for; with 12 MB spare one new thread stack fits but not a second (which
    used to call std::terminate), with 2 MB none does (which used to raise RuntimeError). Either
    way the nine starts run, and the result is bit for bit the one-thread fit's."""
    out = run_limited("""
        case = make_case(model, prior, "coco17", np.random.default_rng(0))
        def fitter(threads):
            p = build_problem(case.keypoints, "coco17", case.image_size, case.focal_length,
                              model, prior, {"threads": threads, "starts": "prior",
                                             "learned_init": False})
            return p, _core_fitter(p)
        p, one = fitter(1)
        _, four = fitter(4)
        reference = one.fit(**_observation(p))
        for spare in (12, 2):
            limit_address_space(spare)
            report = four.fit(**_observation(p))
            assert report.num_starts == 9
            for key in ("global_orient", "body_pose", "betas", "transl"):
                assert np.array_equal(getattr(report, key), getattr(reference, key)), key
            for term in ("data", "pose", "angle", "shape", "interpenetration"):
                assert getattr(report.energy, term) == getattr(reference.energy, term), term
            print("same fit with", spare, "MB spare")
    """)
    assert out.stdout.count("same fit") == 2, out.stdout


@linux_only
def test_an_exception_inside_a_threaded_start_comes_back_as_a_python_exception():
    """19,200 joint keypoints: the camera initialisation needs ~40 MB, each start's stages
    ~80 MB, so with 60 MB spare every start throws std::bad_alloc inside its worker thread.
    That used to call std::terminate; now the first start's exception is rethrown after every
    thread is joined and pybind11 turns it into MemoryError (the process lives on)."""
    out = run_limited("""
        case = make_case(model, prior, "smpl24", np.random.default_rng(0))
        p = build_problem(case.keypoints, "smpl24", case.image_size, case.focal_length,
                          model, prior, {"threads": 4})
        copies = 800
        joint = list(range(24)) * copies
        keypoints = np.ascontiguousarray(np.tile(case.keypoints[:, :2], (copies, 1)))
        weights = np.ones(len(joint))
        core = _core.Fitter(model.core, joint, [[] for _ in joint], [[] for _ in joint],
                            np.asarray(prior.means),
                            [np.asarray(L) for L in prior.precision_cholesky],
                            np.asarray(prior.neg_log_c), _core_capsules(p), _core_options(p),
                            start_poses(p))
        limit_address_space(60)
        try:
            core.fit(keypoints, weights, weights, [16, 17, 1, 2], float(p.focal_length),
                     np.asarray(p.center))
        except MemoryError:
            print("MemoryError")
        # With the limit lifted, fits go on in this process.
        resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY,) * 2)
        small = _core.Fitter(model.core, list(range(24)), [[] for _ in range(24)],
                             [[] for _ in range(24)],
                             np.asarray(prior.means),
                             [np.asarray(L) for L in prior.precision_cholesky],
                             np.asarray(prior.neg_log_c), _core_capsules(p), _core_options(p),
                             start_poses(p))
        report = small.fit(np.ascontiguousarray(case.keypoints[:, :2]), np.ones(24), np.ones(24),
                           [16, 17, 1, 2], float(p.focal_length), np.asarray(p.center))
        print("then fit", np.isfinite(report.energy.total))
    """)
    # The process survived (run_limited checks the exit code). The limit must have made the
    # starts throw: otherwise the worker-exception path was not reached and nothing was tested,
    # which is a failure of this test (e.g. the fit now needs less memory: raise `copies`).
    assert "MemoryError" in out.stdout, (
        "the 60 MB address-space limit did not make the threaded starts throw, so the "
        f"worker-exception path was not exercised: {out.stdout!r}")
    assert "then fit True" in out.stdout, out.stdout
