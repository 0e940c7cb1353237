"""The C++ energy terms against the NumPy twin, central differences and a brute-force GMM.

Every C++ term (``smplify.core_fitter.evaluate_terms``) must give the same residual rows and
Jacobian as ``smplify.reference.energy`` (complex-step Jacobians, an independent derivation)
to 1e-9 relative, and its analytic Jacobian must match central differences of its own
residuals to 1e-6 relative, on two problems:

- the open model with "mediapipe33" keypoints (surface keypoints from dense regressor rows of
  up to ~4000 vertices, no pose blend shapes);
- the procedural model WITH pose blend shapes plus a sparse random keypoint regressor
  (surface keypoints of ~20 vertices, one row not summing to 1) with "coco17".

Relative error everywhere: max|a − b| / max(1, max|b|), b the oracle. Run with ``pytest -s``
to see the worst errors.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import smplify
from smplify import core_fitter
from smplify.problem import build_problem
from smplify.reference import energy as E
from smplify.reference.arrays import reference_arrays

TERMS = ("data", "pose", "angle", "shape", "interpenetration", "keypoints_3d", "knee_depth")
STAGES = (0, 3)

#: Surface keypoints given to the procedural model: coco17's face points and some coco_* body
#: points (the other coco17 keypoints fall back to SMPL joints, the ears are unavailable).
SURFACE_NAMES = ("nose", "left_eye", "right_eye", "coco_left_shoulder", "coco_right_shoulder",
                 "coco_left_hip", "coco_right_hip", "coco_left_knee", "coco_right_ankle",
                 "coco_left_wrist")


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max|a − b| / max(1, max|b|)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape, (a.shape, b.shape)
    if b.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))


# --- fixtures ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def surface_model(procedural_arrays, tmp_path_factory):
    """The procedural model (with posedirs) plus a sparse random keypoint regressor.

    Rows of 20 random vertices with Dirichlet weights (sum 1); the right eye's row is scaled
    to sum to 0.97, so γ enters it as 0.97·γ (docs/design.md) in both implementations. Its
    capsule regressor is fitted into a private cache.
    """
    rng = np.random.default_rng(41)
    n = len(procedural_arrays["v_template"])
    reg = np.zeros((len(SURFACE_NAMES), n))
    for row in reg:
        row[rng.choice(n, 20, replace=False)] = rng.dirichlet(np.ones(20))
    reg[SURFACE_NAMES.index("right_eye")] *= 0.97
    path = tmp_path_factory.mktemp("surface_model") / "surface.npz"
    np.savez(path, **procedural_arrays, keypoint_names=np.array(SURFACE_NAMES),
             keypoint_regressor=reg)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        model = smplify.load_model(path)
        _ = model.capsule_regressor  # fitted now, inside the private cache
    assert model.has_pose_blend_shapes
    return model


def random_parameters(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A body in front of the camera (z 3–5 m) in one of four kinds of pose.

    seed % 4: 0 general, with global_orient exactly (π, 0, 0) (a rotation of angle π);
    1 half the joints exactly at zero rotation; 2 three joints within 1e-4 of angle π;
    3 a few joints with tiny (1e-9) rotations and the rest exactly zero. In kinds 0 and 1 one
    forearm is folded across the chest, so that E_sp rows have large pose derivatives.
    """
    rng = np.random.default_rng(seed)
    pose = np.concatenate([[np.pi, 0.2, -0.1], rng.normal(0.0, 0.35, 69)])
    kind = seed % 4
    if kind == 0:
        pose[:3] = [np.pi, 0.0, 0.0]
        pose[48:51], pose[54:57] = [0.0, -0.6, 0.0], [0.0, -2.4, 0.0]  # left arm across
    elif kind == 1:
        for j in rng.choice(np.arange(1, 24), 12, replace=False):
            pose[3 * j:3 * j + 3] = 0.0
        pose[51:54], pose[57:60] = [0.05, 0.6, 0.0], [0.0, 2.4, 0.1]  # right arm across
    elif kind == 2:
        for j in (4, 18, 21):  # left knee, left elbow, right wrist
            axis = rng.normal(size=3)
            pose[3 * j:3 * j + 3] = (np.pi - 1e-4) * axis / np.linalg.norm(axis)
    else:
        pose[3:] = 0.0
        for j in (5, 13, 19):
            pose[3 * j:3 * j + 3] = rng.normal(0.0, 1e-9, 3)
    betas = rng.normal(size=10)
    transl = np.array([rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3), rng.uniform(3.0, 5.0)])
    return pose, betas, transl


def make_problem(model, prior, format, pose, betas, transl, seed):
    """A problem whose keypoints are the model's own at the parameters, then moved off target
    (10–150 px, so both the near-quadratic and the robust regime of ρ occur), with random
    confidences and one keypoint missing (confidence 0)."""
    rng = np.random.default_rng(1000 + seed)
    focal, size = 1500.0, (1200, 1400)
    out = model(betas=np.zeros(10), global_orient=np.array([np.pi, 0.0, 0.0]),
                transl=np.array([0.0, 0.2, 4.0]))
    from smplify.keypoints import resolve_format

    resolved = resolve_format(format, model.keypoint_names, model.num_vertices,
                              model.keypoint_regressor)
    # a placeholder problem (rest body) to get at the model keypoints of the format
    xyz = resolved.keypoint_positions(out.joints, out.vertices)
    kp = np.c_[focal * xyz[:, :2] / xyz[:, 2:] + np.array(size) / 2, np.ones(len(xyz))]
    unavailable = ~np.isfinite(kp).all(axis=1)
    kp[unavailable] = [0.0, 0.0, 0.0]
    placeholder = build_problem(kp, format, size, focal, model, prior)
    points = E.model_keypoints(placeholder, pose, betas, transl)
    with np.errstate(invalid="ignore", divide="ignore"):  # unavailable keypoints sit at 0
        uv = E.project(placeholder, points)
    offset = rng.normal(size=uv.shape)
    offset *= rng.uniform(10.0, 150.0, (len(uv), 1)) / np.linalg.norm(offset, axis=1,
                                                                       keepdims=True)
    kp = np.c_[uv + offset, rng.uniform(0.2, 1.0, len(uv))]
    torso = set(placeholder.torso_keypoints.tolist())
    missing = rng.choice([k for k in range(len(kp)) if k not in torso])
    kp[missing] = [np.nan, np.nan, 0.0]  # a missing keypoint: NaN with confidence 0
    kp[~placeholder.keypoint_available, :2] = 0.0
    # The detector's 3D keypoints: the model's own moved 5–40 cm (both regimes of ρ at
    # σ = 0.2 m), in another origin (the relative term must not see it), one row unknown.
    points_3d = points + rng.normal(size=points.shape) * rng.uniform(0.05, 0.4, (len(uv), 1))
    points_3d += np.array([0.3, -1.0, -4.0])
    unknown = rng.choice([k for k in range(len(kp)) if k != missing and k not in torso])
    points_3d[unknown] = np.nan
    problem = build_problem(kp, format, size, focal, model, prior, keypoints_3d=points_3d)
    # E_knee on (off by default): σ = 0.1 puts the random legs' depth bends in both regimes
    return dataclasses.replace(problem, options=dataclasses.replace(
        problem.options, knee_depth_weight=3.0, knee_depth_sigma=0.1))


CASES = ("open-mediapipe33", "procedural-coco17")


@pytest.fixture(scope="module")
def problems(open_model, open_prior, surface_model):
    """{case: [(problem, pose, betas, transl), ...]} over four parameter seeds each."""
    out = {}
    for case, model, format in (("open-mediapipe33", open_model, "mediapipe33"),
                                ("procedural-coco17", surface_model, "coco17")):
        out[case] = []
        for seed in range(4):
            pose, betas, transl = random_parameters(seed)
            problem = make_problem(model, open_prior, format, pose, betas, transl, seed)
            out[case].append((problem, pose, betas, transl))
    return out


# --- C++ against the NumPy twin ------------------------------------------------------------------
def test_angle_prior_where_exp_overflows(problems):
    """A bend of 800 rad (a fuzzed fit without priors got there): exp(800) overflows. With
    λ_a = 0 the rows are 0, as the twin's, not 0 · ∞ = NaN (which Ceres logged to stderr);
    with λ_a > 0 the point cannot be evaluated (Ceres rejects it quietly)."""
    problem, pose, betas, transl = problems["open-mediapipe33"][0]
    bent = pose.copy()
    bent[55] = 800.0  # left elbow, sign +1
    off = dataclasses.replace(problem, options=dataclasses.replace(
        problem.options, pose_prior_weights=(0.0, 0.0, 0.0, 0.0)))
    rows, jacobian = core_fitter.evaluate_terms(off, bent, betas, transl, 0)["angle"]
    assert np.all(rows == 0.0) and np.all(jacobian == 0.0)
    np.testing.assert_array_equal(E.angle_residuals(off, bent, weight=0.0), rows)
    with pytest.raises(RuntimeError, match="angle could not be evaluated"):
        core_fitter.evaluate_terms(problem, bent, betas, transl, 0)



@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("before", ["nan", "huge"])
def test_body_evaluation_writes_every_keypoint_row(problems, case, before):
    """BodyEvaluation sizes its keypoints and their Jacobians without zero-filling them
    (cpp/body_evaluation.cc): every row must be written at every evaluation. One evaluation
    evaluated first at a NaN or huge point, then at a finite one, gives the finite point's
    keypoints and Jacobians bit for bit as a fresh evaluation does, for joint, surface and
    unavailable keypoints alike (a row not written again would keep the NaN or huge values).
    A row never written at all reads whatever the heap held, which this test catches only by
    chance; test_terms_equal_the_reference's comparison with the NumPy twin catches it (both
    checked by dropping the joint keypoints' β rows: the twin comparison failed in both cases,
    this test on open-mediapipe33 when run alone)."""
    problem, pose, betas, transl = problems[case][0]
    core = core_fitter._shared_core_fitter(problem)
    fill = np.nan if before == "nan" else 1e150
    bad = (np.full(72, fill), np.full(betas.size, fill), np.full(3, fill))
    turn = smplify._core._testing.body_keypoints_in_turn
    fresh = turn(core, [pose], [betas], [transl])
    again = turn(core, [bad[0], pose], [bad[1], betas], [bad[2], transl])
    first = turn(core, [bad[0]], [bad[1]], [bad[2]])
    # the first point leaves other values behind: every available keypoint's row differs
    differs = [np.any(~(f == w), axis=1) for f, w in zip(first, fresh, strict=True)]
    assert differs[0][problem.keypoint_available].all() and differs[1].any() and differs[2].any()
    joint = problem.keypoint_joint >= 0
    assert joint.any() and (~joint & problem.keypoint_available).any()  # joints and surface
    # ... and unavailable keypoints (coco17's ears on the procedural model; the open model
    # has all of mediapipe33)
    assert (~problem.keypoint_available).any() == (case == "procedural-coco17")
    for got, want in zip(again, fresh, strict=True):
        assert np.isfinite(want).all()
        np.testing.assert_array_equal(got, want)


def test_problems_exercise_surface_keypoints_and_all_terms(problems):
    for case, entries in problems.items():
        problem = entries[0][0]
        surface = np.flatnonzero((problem.keypoint_joint < 0) & problem.keypoint_available)
        assert len(surface) >= 5, case
        assert np.any(problem.keypoint_joint >= 0), case  # joints and surface points mixed
        assert np.any(problem.weights == 0.0) and np.any(problem.weights > 0.0)
        assert len(reference_arrays(problem).sphere_pairs) > 0
    opened = problems["open-mediapipe33"][0][0]
    assert max(len(ids) for ids in opened.keypoint_vertex_ids) > 1000  # dense regressor rows
    proc = problems["procedural-coco17"][0][0]
    assert proc.model.has_pose_blend_shapes
    sums = np.array([w.sum() for w in proc.keypoint_vertex_weights])[proc.keypoint_joint < 0]
    assert np.any(np.abs(sums - 1.0) > 0.01)  # one row does not sum to 1


@pytest.mark.parametrize("case", CASES)
def test_terms_equal_the_reference(problems, case):
    worst = {t: [0.0, 0.0] for t in TERMS}
    largest = {t: 0.0 for t in TERMS}
    for problem, pose, betas, transl in problems[case]:
        nb = problem.num_betas
        for stage in STAGES:
            cpp = core_fitter.evaluate_terms(problem, pose, betas, transl, stage)
            weights = E.StageWeights.for_stage(problem, stage)
            ref = E.term_residuals(problem, pose, betas, transl, weights)
            for term in TERMS:
                r_cpp, j_cpp = cpp[term]
                assert j_cpp.shape == (len(ref[term]), 72 + nb + 3), (term, j_cpp.shape)
                d_pose, d_betas, d_transl = E.term_jacobian(problem, term, pose, betas, transl,
                                                            getattr(weights, term))
                j_ref = np.concatenate([d_pose, d_betas, d_transl], axis=1)
                errors = (relative_error(r_cpp, ref[term]), relative_error(j_cpp, j_ref))
                worst[term] = [max(w, e) for w, e in zip(worst[term], errors, strict=True)]
                largest[term] = max(largest[term], float(np.abs(j_ref).max(initial=0.0)))
            # rows of keypoints with weight 0 are exactly zero
            dead = np.repeat(problem.weights == 0.0, 2)
            assert np.all(cpp["data"][0][dead] == 0.0) and np.all(cpp["data"][1][dead] == 0.0)
            # ... and E_3D's rows of keypoints without a 3D keypoint too
            unknown = np.repeat(~np.isfinite(problem.keypoints_3d).all(axis=1), 3)
            assert unknown.any() and np.all(cpp["keypoints_3d"][0][unknown] == 0.0)
    print(f"\n{case}: worst relative error vs reference (residuals, Jacobian), stages {STAGES}:")
    for term in TERMS:
        print(f"  {term:17s} {worst[term][0]:.2e} {worst[term][1]:.2e}"
              f"   (max |J| {largest[term]:.3g})")
    for term in TERMS:
        assert largest[term] > 0.0, f"{term}: Jacobian identically zero, nothing was compared"
        assert max(worst[term]) <= 1e-9, (term, worst[term])


# --- C++ against its own central differences -----------------------------------------------------
def central_difference_columns(problem, pose, betas, transl, stage, h=1e-5):
    """{term: (R, 72 + B + 3)} central differences of the C++ residuals, column by column.

    h = 1e-5: the E_sp rows reach λ_sp·exp(…) ~ 10–1000 while some of their Jacobian blocks
    stay below 1, so the rounding noise of the rows (~1e-12 absolute) over 2h dominates the
    central difference at h = 1e-6 (error ∝ 1/h, measured 1.6e-6 at h = 1e-6, 1.2e-7 at
    h = 1e-5); the truncation error (∝ h²) is still below 1e-10 at h = 1e-5."""
    x = np.concatenate([pose, betas, transl])
    nb = problem.num_betas
    columns: dict[str, list[np.ndarray]] = {t: [] for t in TERMS}
    for k in range(x.size):
        hi, lo = x.copy(), x.copy()
        hi[k] += h
        lo[k] -= h
        r_hi = core_fitter.evaluate_terms(problem, hi[:72], hi[72:72 + nb], hi[72 + nb:], stage)
        r_lo = core_fitter.evaluate_terms(problem, lo[:72], lo[72:72 + nb], lo[72 + nb:], stage)
        for t in TERMS:
            columns[t].append((r_hi[t][0] - r_lo[t][0]) / (2.0 * h))
    return {t: np.stack(columns[t], axis=1) for t in TERMS}


@pytest.mark.parametrize("case", CASES)
def test_jacobians_equal_central_differences(problems, case):
    worst = {t: 0.0 for t in TERMS}
    stage = 3
    for problem, pose, betas, transl in problems[case]:
        nb = problem.num_betas
        cpp = core_fitter.evaluate_terms(problem, pose, betas, transl, stage)
        fd = central_difference_columns(problem, pose, betas, transl, stage)
        for term in TERMS:
            jac, numeric = cpp[term][1], fd[term]
            if term == "interpenetration":
                # SPEC §2: the gradient reaches θ only; β is held, so FD over β is not compared
                assert np.all(jac[:, 72:72 + nb] == 0.0)
                keep = np.r_[0:72, 72 + nb:72 + nb + 3]
                jac, numeric = jac[:, keep], numeric[:, keep]
            worst[term] = max(worst[term], relative_error(jac, numeric))
    print(f"\n{case}: worst relative error of the C++ Jacobian vs central differences "
          f"(h = 1e-5, stage {stage + 1}):")
    for term in TERMS:
        print(f"  {term:17s} {worst[term]:.2e}")
    for term in TERMS:
        assert worst[term] <= 1e-6, (term, worst[term])


@pytest.mark.parametrize("case", CASES)
def test_interpenetration_term_is_active(problems, case):
    """Some sphere pairs are close enough that E_sp rows and their pose derivatives matter
    (so the comparisons above are not of near-zero numbers)."""
    largest_row, largest_derivative = 0.0, 0.0
    for problem, pose, betas, transl in problems[case]:
        r, j = core_fitter.evaluate_terms(problem, pose, betas, transl, 3)["interpenetration"]
        largest_row = max(largest_row, float(r.max()))
        largest_derivative = max(largest_derivative, float(np.abs(j[:, :72]).max()))
    print(f"\n{case}: largest weighted E_sp row {largest_row:.3g}, largest pose derivative "
          f"{largest_derivative:.3g}")
    assert largest_row > 10.0 and largest_derivative > 10.0


# --- the GMM component against a brute-force argmin ----------------------------------------------
def brute_force_prior_rows(prior, body_pose: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """(k*, rows (70,), d rows / d body_pose (70, 69)) computed directly from
    prior.means/covars/weights, independently of smplify.prior and smplify.reference."""
    means = np.asarray(prior.means, float)
    covars = np.asarray(prior.covars, float)
    weights = np.asarray(prior.weights, float)
    dim = means.shape[1]
    half_logdet = np.array([0.5 * np.linalg.slogdet(c)[1] for c in covars])
    neg_log_c = (-np.log(weights) + 0.5 * dim * np.log(2.0 * np.pi) + half_logdet
                 - half_logdet.min())
    candidates = []
    for k in range(len(weights)):
        L = np.linalg.cholesky(np.linalg.inv(covars[k]))
        quad = np.sqrt(0.5) * L.T @ (body_pose - means[k])
        rows = np.r_[quad, np.sqrt(neg_log_c[k])]
        jac = np.r_[np.sqrt(0.5) * L.T, np.zeros((1, dim))]
        candidates.append((float(rows @ rows), k, rows, jac))
    _, k, rows, jac = min(candidates, key=lambda c: c[0])
    return k, rows, jac


def test_pose_prior_picks_the_brute_force_component(problems, open_prior):
    problem, _, betas, transl = problems["open-mediapipe33"][0]
    rng = np.random.default_rng(77)
    means = np.asarray(open_prior.means)
    covars = np.asarray(open_prior.covars)
    body_poses = []
    for k in range(len(means)):  # near each component's mean
        noise = rng.multivariate_normal(np.zeros(69), covars[k])
        body_poses += [means[k] + 0.05 * noise, means[k] + 0.3 * noise]
    body_poses += list(open_prior.sample(22, rng))
    body_poses += list(rng.normal(0.0, 0.3, (12, 69)))
    assert len(body_poses) == 50
    chosen, worst = [], 0.0
    for i, body_pose in enumerate(body_poses):
        stage = STAGES[i % 2]
        lam = problem.options.pose_prior_weights[stage]
        pose = np.concatenate([[np.pi, 0.0, 0.0], body_pose])
        r, j = core_fitter.evaluate_terms(problem, pose, betas, transl, stage)["pose"]
        k, rows, jac = brute_force_prior_rows(open_prior, body_pose)
        chosen.append(k)
        expected_j = np.zeros_like(j)
        expected_j[:, 3:72] = lam * jac
        worst = max(worst, relative_error(r, lam * rows), relative_error(j, expected_j))
    distinct = sorted(set(chosen))
    print(f"\nGMM: 50 poses, components chosen {np.bincount(chosen, minlength=len(means))}, "
          f"worst relative error vs brute force {worst:.2e}")
    assert len(distinct) >= 4  # several components actually compete
    assert worst <= 1e-9


def test_pose_prior_constant_decides_the_cpp_component(problems):
    """The C++ choice of component minimises ½‖L_kᵀ(x − μ_k)‖² − log c_k, constant included.

    The open prior's components rarely let −log c_k decide, so this uses a random prior whose
    components differ in scale (½ log det Σ_k spans tens of units) and weight, and poses
    between two means, where the constant flips the argmin. The C++ rows (and so its
    component) must equal the NumPy twin's and the brute force's; a choice without the
    constant gives other rows on most of these poses."""
    from smplify.prior import GMMPosePrior

    rng = np.random.default_rng(16)
    a = rng.normal(size=(6, 69, 69)) / np.sqrt(69)
    scales = np.geomspace(0.08, 0.5, 6)
    covars = np.einsum("kij,klj->kil", a, a) * scales[:, None, None] ** 2 + 1e-3 * np.eye(69)
    prior = GMMPosePrior(rng.normal(0.0, 0.3, (6, 69)), covars, rng.uniform(0.05, 1.0, 6))
    base, _, betas, transl = problems["open-mediapipe33"][0]
    keypoints = np.c_[np.nan_to_num(base.keypoints), base.confidence]
    problem = build_problem(keypoints, base.format, base.image_size, base.focal_length,
                            base.model, prior)
    chol = np.asarray(prior.precision_cholesky)
    neg_log_c = np.asarray(prior.neg_log_c)

    def quad(m: int, x: np.ndarray) -> float:
        return 0.5 * float(np.sum((chol[m].T @ (x - prior.means[m])) ** 2))

    decided_by_constant = 0
    for i in range(60):
        # On the segment between two means (plus a little noise), the point where the
        # quadratic terms differ by half the constants' difference, the other way round: there
        # the quadratic alone prefers one component and the full energy the other.
        j, k = rng.choice(6, 2, replace=False)
        noise = rng.normal(0.0, 0.01, 69)
        target = -0.5 * (neg_log_c[j] - neg_log_c[k])
        lo, hi = 0.0, 1.0
        for _ in range(60):  # bisection: quad_j − quad_k grows along the segment
            t = 0.5 * (lo + hi)
            x = (1 - t) * prior.means[j] + t * prior.means[k] + noise
            lo, hi = (t, hi) if quad(j, x) - quad(k, x) < target else (lo, t)
        body_pose = x if i % 4 else x + rng.normal(0.0, 0.1, 69)  # every 4th: elsewhere
        quads = [quad(m, body_pose) for m in range(6)]
        stage = STAGES[i % 2]
        lam = problem.options.pose_prior_weights[stage]
        pose = np.concatenate([[np.pi, 0.0, 0.0], body_pose])
        r, _ = core_fitter.evaluate_terms(problem, pose, betas, transl, stage)["pose"]
        k_true, rows, _ = brute_force_prior_rows(prior, body_pose)
        k_ref = int(E.pose_prior_component(problem, pose))
        assert k_ref == k_true
        decided_by_constant += int(np.argmin(quads)) != k_true
        np.testing.assert_allclose(r, lam * rows, rtol=1e-9, atol=1e-9 * lam,
                                   err_msg=f"pose {i}: component {k_true} expected")
        np.testing.assert_allclose(r, E.pose_prior_residuals(problem, pose, weight=lam),
                                   rtol=1e-9, atol=1e-9 * lam)
    print(f"\n−log c_k decided the component on {decided_by_constant} of 60 poses")
    assert decided_by_constant >= 15


# --- folded vertex combinations ------------------------------------------------------------------
def test_folded_vertex_combination_equals_the_weighted_vertex_sum(procedural_model):
    """Σ c_v · (posed vertex v), folded per joint in C++, equals the weighted sum of the
    individually posed vertices (pose blend shapes included) for weights that are negative
    and do not sum to 1, with a repeated vertex."""
    core = procedural_model.core
    assert procedural_model.has_pose_blend_shapes
    worst = {"value": 0.0, "d_pose": 0.0, "d_betas": 0.0}
    for seed in range(4):
        pose, betas, transl = random_parameters(seed)
        rng = np.random.default_rng(500 + seed)
        ids = rng.choice(procedural_model.num_vertices, 30, replace=False).tolist()
        ids.append(ids[0])  # a vertex listed twice
        coeffs = rng.normal(0.0, 0.5, len(ids))
        assert np.any(coeffs < 0) and abs(coeffs.sum() - 1.0) > 0.05
        x, d_pose, d_betas = core.vertex_combination_and_jacobian(
            pose, betas, transl, list(zip(ids, coeffs.tolist(), strict=True)))
        v, dv_pose, dv_betas, _ = core.vertices_and_jacobian(pose, betas, transl, ids)
        n = len(ids)
        expected = coeffs @ v
        expected_pose = np.einsum("i,icp->cp", coeffs, dv_pose.reshape(n, 3, 72))
        expected_betas = np.einsum("i,icb->cb", coeffs, dv_betas.reshape(n, 3, -1))
        worst["value"] = max(worst["value"], relative_error(np.ravel(x), expected))
        worst["d_pose"] = max(worst["d_pose"], relative_error(d_pose, expected_pose))
        worst["d_betas"] = max(worst["d_betas"], relative_error(d_betas, expected_betas))
    print(f"\nfolded vertex combination vs weighted vertex sum, worst relative error: {worst}")
    assert max(worst.values()) <= 1e-10, worst


# --- the camera's depth start ---------------------------------------------------------------
def test_initial_depth_is_the_references_similar_triangles_depth(open_model, open_prior):
    """summary["initial_depth"] (C++) equals the reference's t_z = f · L3 / L2 (SPEC §3.1) to
    1e-9 relative: every format, front and side views, noisy keypoints, one torso side
    missing (then L3 and L2 come from the other side alone) and a low-confidence shoulder."""
    from smplify.reference.init import shoulder_hip_lengths
    from smplify.synthetic import make_case

    rng = np.random.default_rng(31)
    worst, depths = 0.0, []
    for i, format in enumerate(("smpl24", "coco17", "openpose25", "mediapipe33", "lsp14") * 2):
        case = make_case(open_model, open_prior, format, rng, view=("front", "side")[i % 2],
                         noise_px=2.0)
        keypoints = case.keypoints.copy()
        problem = build_problem(keypoints, format, case.image_size, case.focal_length,
                                open_model, open_prior)
        left_shoulder, right_shoulder = problem.torso_keypoints[:2]
        if i % 3 == 1:
            keypoints[left_shoulder, 2] = 0.0  # only the right side's pair remains
        elif i % 3 == 2:
            keypoints[right_shoulder, 2] = 0.2
        problem = build_problem(keypoints, format, case.image_size, case.focal_length,
                                open_model, open_prior)
        l3, l2 = shoulder_hip_lengths(problem)
        expected = problem.focal_length * l3 / l2
        result = smplify.fit(keypoints, format, case.image_size, case.focal_length, open_model,
                             open_prior, multi_start=False, max_iterations=1)
        depths.append(expected)
        worst = max(worst, abs(result.summary["initial_depth"] - expected) / expected)
    print(f"\ninitial depth vs f·L3/L2 over {len(depths)} cases ({min(depths):.2f}–"
          f"{max(depths):.2f} m): worst relative error {worst:.1e}")
    assert worst <= 1e-9


def test_pose_prior_term_drops_a_priors_tiny_values(problems):
    """A prior with tiny couplings and subnormal means (tests/test_prior.py): the C++ E_θ rows
    and Jacobian hold no value in (0, 1e-150) (L_k's tiny entries and μ_k's are exactly 0,
    smplify.prior.TINY_ENTRY), where the factor is 0 so is the Jacobian, and rows and
    Jacobian equal the NumPy twin's (which drops the same entries of its own factor)."""
    from smplify.prior import GMMPosePrior
    from test_prior import tiny_coupled_prior

    prior = GMMPosePrior(**tiny_coupled_prior(5))
    base, _, betas, transl = problems["open-mediapipe33"][0]
    keypoints = np.c_[np.nan_to_num(base.keypoints), base.confidence]
    problem = build_problem(keypoints, base.format, base.image_size, base.focal_length,
                            base.model, prior)
    rng = np.random.default_rng(17)
    for i in range(8):
        body_pose = prior.means[i] + rng.normal(0.0, 0.1, 69)
        body_pose[63:] = 0.0  # held hands, at the means' (dropped) subnormal values
        pose = np.concatenate([[np.pi, 0.0, 0.0], body_pose])
        stage = STAGES[i % 2]
        lam = problem.options.pose_prior_weights[stage]
        r, j = core_fitter.evaluate_terms(problem, pose, betas, transl, stage)["pose"]
        values = np.abs(np.concatenate([r, j.ravel()]))
        assert not np.any((values > 0.0) & (values < 1e-150)), i
        k = int(E.pose_prior_component(problem, pose))
        np.testing.assert_array_equal(j[:69, 3:72] == 0.0, prior.precision_cholesky[k].T == 0.0)
        assert np.all(r[63:69] == 0.0)  # the held hands' rows: no coupling left, d = 0
        np.testing.assert_allclose(r, E.pose_prior_residuals(problem, pose, weight=lam),
                                   rtol=1e-9, atol=1e-9 * lam)
        d_pose, d_betas, d_transl = E.term_jacobian(problem, "pose", pose, betas, transl, lam)
        np.testing.assert_allclose(j, np.concatenate([d_pose, d_betas, d_transl], axis=1),
                                   rtol=1e-9, atol=1e-9 * lam)
