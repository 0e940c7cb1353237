"""The C++ fit end to end: recovery on synthetic data, noise and outliers, the orientation
flip, agreement with the NumPy twin, bad input, the Fitter, fit_batch and the result fields.

Synthetic cases come from the open model itself (``smplify.synthetic.make_case``): a pose drawn
from the pose prior, β ~ N(0, I), a camera 2.5–6 m away, f = 1000–5000 px. Run with
``pytest -s`` to see the measured figures (the tables are the point of these tests; the
thresholds only guard against regressions and record the issue's targets).
"""

from __future__ import annotations

import gc
import importlib
import threading
import time
import weakref

import numpy as np
import pytest
import smplify
from scipy.spatial.transform import Rotation
from smplify.errors import KeypointError
from smplify.keypoints import resolve_format
from smplify.synthetic import make_case, pa_mpjpe, reprojection_error

FORMATS = tuple(smplify.format_names())
CASES_PER_FORMAT = 20
NOISE = {"noise_px": 5.0, "outlier_fraction": 0.1, "outlier_confidence": 0.3}
#: Mean PA-MPJPE (mm) and reprojection error (px) of the recovery set, measured 2026-12-05
#: (``pytest -s tests/test_fit.py -k recovery_table`` prints them), and the allowed margin.
#: Re-measured the same day on the open model rebuilt with the knee joints at the knee and a
#: neutral mean body (before: PA all 45.67, smpl24 29.63, coco17 57.65, openpose25 47.01,
#: mediapipe33 36.30, lsp14 57.75; the set's bodies are drawn from the model's shape prior,
#: so they changed too).
RECOVERY_MEASURED = {
    "pa": {"all": 45.77, "smpl24": 32.92, "coco17": 53.65, "openpose25": 46.98,
           "mediapipe33": 41.43, "lsp14": 53.85},
    "reproj": {"all": 1.21, "smpl24": 1.47, "coco17": 1.17, "openpose25": 1.23,
               "mediapipe33": 1.32, "lsp14": 0.84},
}
RECOVERY_MARGIN = 1.05
#: SMPLify's fit: the prior's starts alone, selected by the data term, the labels as given,
#: without the learned initialiser (the defaults use it for every format: swaps, starts,
#: anchor, reading score): for tests of the prior-start machinery
#: (selection among the nine starts, orientations, agreement with the NumPy twin).
PRIOR_STARTS = {"starts": "prior", "learned_init": False, "reading_weight": 0.0,
                "left_right": "as_given"}


# --- fixtures ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def model(open_model):
    return open_model


@pytest.fixture(scope="module")
def prior(open_prior):
    return open_prior


def fit_case(case, model, prior, **options):
    return smplify.fit(case.keypoints, case.format, case.image_size, case.focal_length,
                       model=model, prior=prior, **options)


def is_finite_result(result) -> bool:
    arrays = (result.betas, result.global_orient, result.body_pose, result.transl,
              result.joints, result.vertices)
    return (all(np.all(np.isfinite(a)) for a in arrays)
            and all(np.isfinite(v) for v in result.energy.values()))


@pytest.fixture(scope="module")
def recovery(model, prior):
    """Per case: format, PA-MPJPE (mm) and mean reprojection error (px) of the default fit
    with the prior's starts (``PRIOR_STARTS``: the learned initialiser's part of the
    defaults is chosen for detections with realistic errors; on these clean front views of
    prior-sampled poses the defaults measured 50.1 mm against 47.3 on coco17, openpose25 and
    mediapipe33, 80.9 against 81.8 with the noise; on smpl24 and lsp14, since their
    initialisers, 28.8 against 32.9 and 44.5 against 53.8) on perfect 2D and on the
    same image with noise σ = 5 px and 10% outliers at confidence 0.3 (its reprojection error
    measured against the clean keypoints)."""
    rows = []
    for f, format in enumerate(FORMATS):
        for i in range(CASES_PER_FORMAT):
            seed = 100 * f + i
            clean = make_case(model, prior, format, np.random.default_rng(seed))
            noisy = make_case(model, prior, format, np.random.default_rng(seed), **NOISE)
            assert np.array_equal(clean.joints, noisy.joints)  # same body, noise drawn after
            fit_clean = fit_case(clean, model, prior, **PRIOR_STARTS)
            fit_noisy = fit_case(noisy, model, prior, **PRIOR_STARTS)
            rows.append({
                "format": format,
                "pa": 1000.0 * pa_mpjpe(fit_clean.joints, clean.joints),
                "reproj": reprojection_error(fit_clean, clean),
                "pa_noisy": 1000.0 * pa_mpjpe(fit_noisy.joints, clean.joints),
                "reproj_noisy": reprojection_error(fit_noisy, clean),
                "finite": is_finite_result(fit_clean) and is_finite_result(fit_noisy),
                "seconds": fit_clean.summary["seconds"],
            })
    return rows


def summarise(rows, key):
    values = np.array([r[key] for r in rows])
    return values.mean(), np.median(values), np.percentile(values, 90)


def overall_mean(rows, key) -> float:
    return float(np.mean([r[key] for r in rows]))


# --- recovery ------------------------------------------------------------------------------------
def test_recovery_table_and_regression_bounds(recovery):
    print(f"\nrecovery on {CASES_PER_FORMAT} front-view cases per format (open model, default "
          "options): mean / median / 90th percentile")
    print(f"{'format':12s} {'PA-MPJPE mm':>22s} {'reprojection px':>20s} "
          f"{'noisy PA mm':>22s} {'noisy reproj px':>20s}")
    for format in (*FORMATS, "all"):
        rows = recovery if format == "all" else [r for r in recovery if r["format"] == format]
        cells = [" ".join(f"{v:6.2f}" for v in summarise(rows, key))
                 for key in ("pa", "reproj", "pa_noisy", "reproj_noisy")]
        print(f"{format:12s} {cells[0]:>22s} {cells[1]:>20s} {cells[2]:>22s} {cells[3]:>20s}")
    seconds = [r["seconds"] for r in recovery]
    print(f"seconds per default fit: mean {np.mean(seconds):.3f}, max {np.max(seconds):.3f}")
    assert all(r["finite"] for r in recovery)
    # Regression bounds: this fixed set's figures measured on 2026-12-05 (default options,
    # start_selection="data"; re-measured the same day for the rebuilt open model, whose shape
    # prior draws the set's bodies: `pytest tests/test_fit.py -k recovery_table -s`, means
    # column), plus a 5% margin for other BLAS/compilers. A change that makes
    # the mean or any format's mean more than 5% worse fails here; update MEASURED when a
    # change improves them.
    for key, measured in RECOVERY_MEASURED.items():
        assert overall_mean(recovery, key) <= RECOVERY_MARGIN * measured["all"], key
        for format in FORMATS:
            rows = [r for r in recovery if r["format"] == format]
            assert overall_mean(rows, key) <= RECOVERY_MARGIN * measured[format], (key, format)


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "issue target (40 mm) not met: mean PA-MPJPE over this fixed set (20 front cases x 5 "
    "formats) measured 45.8 mm (smpl24 32.9, coco17 53.7, openpose25 47.0, mediapipe33 41.4, "
    "lsp14 53.9). Before the open model's rebuild for adult ages and stature spread, on that "
    "model's bodies: 46.1 mm, 57.1 mm keeping the lowest total energy instead of the lowest "
    "robust data term; on its first 8 cases per format (39.1 mm), refits started at the true "
    "parameters reach 25.4 mm but end at a higher energy than the fit in 28 of 40: the energy "
    "(SPEC weights, open prior) prefers other readings of the unobserved depths, and the start "
    "selection can only choose among the readings the nine starts reach "
    "(benchmarks/recovery_floor.py)"))
def test_recovery_meets_the_issue_pa_mpjpe(recovery):
    assert overall_mean(recovery, "pa") <= 40.0


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "issue target (1 px) not met: mean reprojection error over this fixed set measured 1.2 px "
    "(smpl24 1.5, coco17 1.2, openpose25 1.2, mediapipe33 1.3, lsp14 0.8); refits started at "
    "the true parameters end 1.26 px off on average: at the last stage's weights the priors "
    "(λ_θ = 4.78, λ_β = 5, E_a on nearly straight knees) outweigh a pixel of data"))
def test_recovery_meets_the_issue_reprojection_error(recovery):
    assert overall_mean(recovery, "reproj") <= 1.0


def test_noise_and_outliers_stay_within_twice_the_noise_free_error(recovery):
    clean, noisy = overall_mean(recovery, "pa"), overall_mean(recovery, "pa_noisy")
    print(f"\nnoise σ = 5 px + 10% outliers at confidence 0.3: mean PA-MPJPE {noisy:.1f} mm vs "
          f"{clean:.1f} mm noise-free (ratio {noisy / clean:.2f}); per format:")
    for format in FORMATS:
        rows = [r for r in recovery if r["format"] == format]
        ratio = overall_mean(rows, "pa_noisy") / overall_mean(rows, "pa")
        print(f"  {format:12s} ratio {ratio:.2f}")
    assert noisy <= 2.0 * clean
    # against the clean keypoints the noisy fit stays within a few σ of the noise
    assert overall_mean(recovery, "reproj_noisy") <= 3.0 * NOISE["noise_px"]


# --- which start a fit keeps ---------------------------------------------------------------------
def selection_score(case, result, model, prior):
    """E_J of a result with the default selection_sigma (the default start selection's score)."""
    from smplify.problem import build_problem
    from smplify.reference.energy import data_residuals

    problem = build_problem(case.keypoints, case.format, case.image_size, case.focal_length,
                            model, prior, {})
    rows = data_residuals(problem, result.pose, result.betas, result.transl,
                          sigma=problem.options.selection_sigma)
    return float(rows @ rows)


def test_start_selection_keeps_the_lowest_robust_data_term_or_the_lowest_total(model, prior):
    """All rules choose among the same nine runs: "data" (the default) keeps the lowest data
    term at σ = selection_sigma, "total" the lowest total energy. In this MediaPipe case they
    choose different runs (the case was re-picked, 305 → 301 → 295, the first seed from 295
    where the rules part, each time the open model's rebuild changed the bodies the seeds
    draw)."""
    case = make_case(model, prior, "mediapipe33", np.random.default_rng(295))
    by_data = fit_case(case, model, prior, **PRIOR_STARTS)
    by_total = fit_case(case, model, prior, start_selection="total", **PRIOR_STARTS)
    assert by_total.energy["total"] < by_data.energy["total"]
    assert selection_score(case, by_data, model, prior) < \
        selection_score(case, by_total, model, prior)
    # selection_sigma = data_sigma: the data term as fitted decides
    as_fitted = fit_case(case, model, prior, selection_sigma=100.0, **PRIOR_STARTS)
    assert as_fitted.energy["data"] <= min(by_data.energy["data"], by_total.energy["data"])
    assert smplify.FitOptions().start_selection == "data"
    with pytest.raises(ValueError, match="start_selection"):
        fit_case(case, model, prior, start_selection="lowest")
    with pytest.raises(ValueError, match="selection_sigma"):
        fit_case(case, model, prior, selection_sigma=0.0)


def test_reference_start_selection_matches_the_rule(model, prior, monkeypatch):
    """The NumPy twin applies the same rules (short stages keep it cheap). Both fits run the
    same starts through the same stages, which only the choice after them tells apart: the
    second takes each stage's solve from the first (the same stage from the same point, and
    the solves are deterministic), so the two cost one; each choice is the twin's own."""
    reference_fit = importlib.import_module("smplify.reference.fit")
    solve, solved, calls = reference_fit.fit_stage, {}, []

    def solve_once(problem, pose, betas, transl, stage, jacobian=None):
        # The problems differ only by start_selection, which no stage reads.
        key = (stage, jacobian, pose.tobytes(), betas.tobytes(), transl.tobytes())
        calls.append(key)
        if key not in solved:
            solved[key] = solve(problem, pose, betas, transl, stage, jacobian)
        pose, betas, transl, summary = solved[key]
        return pose.copy(), betas.copy(), transl.copy(), summary

    monkeypatch.setattr(reference_fit, "fit_stage", solve_once)
    case = make_case(model, prior, "mediapipe33", np.random.default_rng(305))
    args = (case.keypoints, case.format, case.image_size, case.focal_length)
    options = {"model": model, "prior": prior, "max_iterations": 3, "threads": 1}
    by_data = smplify.reference.fit(*args, **options)
    by_total = smplify.reference.fit(*args, start_selection="total", **options)
    assert len(calls) == 2 * len(solved)  # the second fit solved nothing anew
    assert selection_score(case, by_data, model, prior) <= \
        selection_score(case, by_total, model, prior)
    assert by_total.energy["total"] <= by_data.energy["total"]


def test_selecting_starts_by_robust_data_term_beats_the_lowest_total(model, prior, recovery):
    """Why "data" is the default: on perfect 2D it recovers the 3D better than keeping the
    lowest total energy, and with noise and outliers it is no worse (σ = 20 px caps what an
    outlier can weigh). Measured on 100 other cases (seeds 20000-20019 per format, paired
    per case): 45.3 vs 54.6 mm clean (-9.3 +- 2.9), 73.7 vs 77.4 mm noisy (-3.6 +- 3.4)."""
    pa, pa_noisy = [], []
    for f, format in enumerate(FORMATS):
        for i in range(CASES_PER_FORMAT):
            seed = 100 * f + i
            clean = make_case(model, prior, format, np.random.default_rng(seed))
            noisy = make_case(model, prior, format, np.random.default_rng(seed), **NOISE)
            for case, out in ((clean, pa), (noisy, pa_noisy)):
                fit = fit_case(case, model, prior, start_selection="total", **PRIOR_STARTS)
                out.append(1000.0 * pa_mpjpe(fit.joints, clean.joints))
    default, default_noisy = overall_mean(recovery, "pa"), overall_mean(recovery, "pa_noisy")
    print(f"\nmean PA-MPJPE, default (lowest data term at σ = 20 px) vs lowest total energy: "
          f"perfect 2D {default:.1f} vs {np.mean(pa):.1f} mm; noisy {default_noisy:.1f} vs "
          f"{np.mean(pa_noisy):.1f} mm")
    assert default < np.mean(pa)
    assert default_noisy <= 1.1 * np.mean(pa_noisy)


# --- the orientation flip ------------------------------------------------------------------------
def facing(global_orient: np.ndarray) -> np.ndarray:
    """The body's facing direction (SMPL +z) in the camera frame."""
    return Rotation.from_rotvec(global_orient).as_matrix()[:, 2]


def test_side_views_try_both_orientations_and_face_the_right_way(model, prior):
    n = 10
    right_auto = right_fixed = resolved = sideways = 0
    for i in range(n):
        format = FORMATS[i % len(FORMATS)]
        case = make_case(model, prior, format, np.random.default_rng(5000 + i), view="side")
        auto = fit_case(case, model, prior, **PRIOR_STARTS)  # flip="auto" is the default
        fixed = fit_case(case, model, prior, flip=False, **PRIOR_STARTS)
        tried = auto.summary["tried"]
        sideways += auto.summary["sideways"]
        # flip="auto" tries the turned orientation exactly when the view looks sideways
        assert set(tried) == ({"initial", "flipped"} if auto.summary["sideways"] else
                              {"initial"})
        assert set(fixed.summary["tried"]) == {"initial"}
        assert fixed.summary["orientation"] == "initial"
        # the initial orientation's run is the flip=False fit; the lower data term wins
        assert tried["initial"] == pytest.approx(fixed.energy["data"], rel=1e-9)
        assert auto.energy["data"] == pytest.approx(min(tried.values()), rel=1e-12)
        assert auto.energy["data"] <= fixed.energy["data"] * (1 + 1e-9)
        truth = facing(case.global_orient)
        ok_auto = facing(auto.global_orient) @ truth > 0.0  # within 90° of the truth
        ok_fixed = facing(fixed.global_orient) @ truth > 0.0
        right_auto += ok_auto
        right_fixed += ok_fixed
        resolved += ok_auto and not ok_fixed
        assert is_finite_result(auto)
    print(f"\nside views: {sideways}/{n} detected as sideways; facing within 90° of the truth "
          f"in {right_auto}/{n} with flip='auto', {right_fixed}/{n} with flip=False ({resolved} "
          "resolved by the flip)")
    assert sideways >= 0.8 * n
    assert right_auto >= 0.8 * n
    assert right_auto >= right_fixed


def test_the_flip_resolves_a_side_view_whose_start_faces_away(model, prior):
    """A side view with the far shoulder unseen (confidence 0), as side-view detectors often
    report it: from the torso fit the person faces away from where they do, and flip=False
    ends mirrored with a large data term. flip="auto" also runs the orientation turned 180°;
    its lower data term wins and faces the right way. (Found by a sweep of 30 such side views,
    seeds 7000-7029: flip=False faced the right way in 26, flip="auto" in 30, on the open
    model rebuilt 2026-12-05; before it, 29 and 30, with seed 7016 the case. The rebuild with
    the knee joints at the knee kept 26 and 30; seed 7008 then ended flipped at a data term
    0.13x flip=False's, so the case is 7009, the first of the three that meet every check.)"""
    case = make_case(model, prior, "coco17", np.random.default_rng(7009), view="side")
    keypoints = case.keypoints.copy()
    far = "left" if facing(case.global_orient)[0] > 0 else "right"
    names = smplify.keypoints.get_format("coco17").keypoint_names
    keypoints[names.index(f"{far}_shoulder"), 2] = 0.0
    args = (keypoints, "coco17", case.image_size, case.focal_length)
    auto = smplify.fit(*args, model=model, prior=prior, **PRIOR_STARTS)
    fixed = smplify.fit(*args, model=model, prior=prior, flip=False, **PRIOR_STARTS)
    truth = facing(case.global_orient)
    cos_fixed, cos_auto = facing(fixed.global_orient) @ truth, facing(auto.global_orient) @ truth
    print(f"\nmirrored side view: flip=False facing·truth {cos_fixed:+.2f} (data "
          f"{fixed.energy['data']:.0f}); flip='auto' {cos_auto:+.2f} (data "
          f"{auto.energy['data']:.0f}, tried {auto.summary['tried']})")
    assert auto.summary["sideways"]
    assert cos_fixed < 0.0
    assert auto.summary["orientation"] == "flipped"
    assert cos_auto > 0.5
    assert auto.energy["data"] < 0.1 * fixed.energy["data"]


def test_flip_option_on_a_front_view(model, prior):
    case = make_case(model, prior, "smpl24", np.random.default_rng(9))
    auto = fit_case(case, model, prior, multi_start=False)
    forced = fit_case(case, model, prior, multi_start=False, flip=True)
    assert auto.summary["sideways"] is False and set(auto.summary["tried"]) == {"initial"}
    assert set(forced.summary["tried"]) == {"initial", "flipped"}
    assert forced.energy["data"] <= auto.energy["data"] * (1 + 1e-9)
    # facing the camera: the fit keeps the initial orientation and faces the truth's way
    assert facing(auto.global_orient) @ facing(case.global_orient) > 0.5


# --- C++ against the NumPy twin ------------------------------------------------------------------
REFERENCE_SEEDS = (4, 5)
#: Every other seed of the eight the 1.5% bound was measured on (the NumPy fits of all eight
#: took 112 s, the suite's slowest test), seed 4, the one that set it, among them.
AGREEMENT_SEEDS = (0, 2, 4, 6)


def near_mean_case(model, prior, seed):
    """An smpl24 case whose pose has a low prior energy (20th percentile of prior samples)."""
    energies = [prior.energy(p) for p in prior.sample(200, np.random.default_rng(0))]
    limit = float(np.percentile(energies, 20))
    return make_case(model, prior, "smpl24", np.random.default_rng(seed),
                     max_pose_prior_energy=limit)


def compare_with_reference(model, prior, seeds=REFERENCE_SEEDS, **options):
    out = []
    for seed in seeds:
        case = near_mean_case(model, prior, seed)
        args = (case.keypoints, "smpl24", case.image_size, case.focal_length)
        # The prior's starts: smpl24's initialiser readings and anchor are the fit's defaults,
        # but these tests compare the two solvers, not the starts.
        kwargs = {"model": model, "prior": prior, **PRIOR_STARTS, **options}
        cpp = smplify.fit(*args, **kwargs)
        ref = smplify.reference.fit(*args, **kwargs)
        assert ref.summary["implementation"] == "reference"
        rel = abs(cpp.energy["total"] - ref.energy["total"]) / ref.energy["total"]
        out.append((seed, cpp.energy["total"], ref.energy["total"], rel))
    print(f"\nC++ vs reference final total energy, options {options or 'default'}:")
    for seed, e_cpp, e_ref, rel in out:
        print(f"  seed {seed}: C++ {e_cpp:.2f}  reference {e_ref:.2f}  relative {rel:.2e}")
    rel = np.array([rel for *_, rel in out])
    print(f"  within 1%: {int((rel <= 0.01).sum())} of {rel.size}, median {np.median(rel):.2e}")
    return rel


def test_cpp_and_reference_reach_the_same_energy_from_one_start_without_interpenetration(
        model, prior):
    """Same problem, different trust-region solvers (Ceres dogleg, SciPy trf): with the smooth
    terms only, one start each reaches the same minimum."""
    rel = compare_with_reference(model, prior, multi_start=False, interpenetration_weight=0.0)
    assert rel.max() <= 0.01


def test_an_independent_solver_cannot_lower_the_energy_of_a_fit(model, prior):
    """From the C++ single-start fit, the reference's last stage (SciPy trf, complex-step
    Jacobians) lowers the reported energy by < 0.1%: the fit is a minimum of what it reports.
    Before the last stage ended with a solve over θ, γ at fixed β (docs/design.md, "E_sp and
    β"), Ceres stopped on E_sp's θ-only gradient with 3 of these 10 at 0.26–5.5%."""
    from smplify.problem import build_problem
    from smplify.reference.energy import StageWeights, energies
    from smplify.reference.fit import fit_stage

    gains = []
    for f, format in enumerate(FORMATS):
        for i in range(2):
            case = make_case(model, prior, format, np.random.default_rng(100 * f + i))
            fit = fit_case(case, model, prior, multi_start=False, **PRIOR_STARTS)
            problem = build_problem(case.keypoints, format, case.image_size, case.focal_length,
                                    model, prior, {"multi_start": False, **PRIOR_STARTS})
            last = problem.options.num_stages - 1
            polished = fit_stage(problem, fit.pose, fit.betas, fit.transl, last)[:3]
            after = energies(problem, *polished, StageWeights.for_stage(problem, last))
            gains.append((fit.energy["total"] - after["total"]) / fit.energy["total"])
            assert fit.summary["stages"][-1].fixed_shape_iterations >= 1
    print(f"\nreference last stage from the C++ fit: energy lower by median "
          f"{np.median(gains):.1e}, at most {max(gains):.1e}")
    assert max(gains) < 1e-3


def test_cpp_and_reference_reach_the_same_energy(model, prior):
    """Default options (the prior's starts, as smpl24 had before its initialiser shipped): the
    same final energy within 1.5% on the same input.

    From a single start the two solvers' paths part more often once E_sp is on (its gradient
    reaches θ only, so neither solver's model sees how a β step moves the spheres; measured
    4 of 8 within 1%, the C++ fit higher in the others); with the default starts both keep
    the lowest of the same nine runs, and they agree: within 1% on every seed until the open
    model's rebuild with the knee joints at the knee, 1.38% on one seed of eight (the fifth,
    seed 4; the others within 0.9%) since, hence the 1.5% bound, checked on four of them."""
    assert compare_with_reference(model, prior, seeds=AGREEMENT_SEEDS).max() <= 0.015


# --- bad input -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def good(model, prior):
    """A valid smpl24 case."""
    return make_case(model, prior, "smpl24", np.random.default_rng(21))


def _with(kp, rows, col, value):
    kp = kp.copy()
    kp[rows, col] = value
    return kp


BAD_INPUT = [
    # (id, keypoints transform, argument overrides, error type, message pattern)
    ("nan-x", lambda k: _with(k, 3, 0, np.nan), {}, KeypointError, "keypoints.*non-finite"),
    ("inf-y", lambda k: _with(k, 5, 1, np.inf), {}, KeypointError, "keypoints.*non-finite"),
    ("inf-confidence", lambda k: _with(k, 5, 2, np.inf), {}, KeypointError,
     "keypoints.*confidence"),
    ("negative-confidence", lambda k: _with(k, 7, 2, -0.5), {}, KeypointError,
     "keypoints.*confidence"),
    ("too-few-rows", lambda k: k[:23], {}, KeypointError, "keypoints.*shape"),
    ("four-columns", lambda k: np.c_[k, k[:, :1]], {}, KeypointError, "keypoints.*shape"),
    ("one-column", lambda k: k[:, :1], {}, KeypointError, "keypoints.*shape"),
    ("flat", lambda k: k.ravel(), {}, KeypointError, "keypoints.*shape"),
    ("batched", lambda k: k[None], {}, KeypointError, "keypoints.*shape"),
    ("text", lambda k: [["a", "b", "c"]] * 24, {}, TypeError, "keypoints"),
    ("unknown-format", lambda k: k, {"format": "coco18"}, ValueError, "format"),
    ("format-not-str", lambda k: k, {"format": 17}, TypeError, "format"),
    ("all-confidence-zero", lambda k: _with(k, slice(None), 2, 0.0), {}, KeypointError,
     "keypoints: no confidence is > 0"),
    ("no-torso", lambda k: _with(k, [1, 2, 16], 2, 0.0), {}, KeypointError,
     "keypoints.*torso"),
    ("focal-zero", lambda k: k, {"focal_length": 0.0}, ValueError, "focal_length"),
    ("focal-negative", lambda k: k, {"focal_length": -1000.0}, ValueError, "focal_length"),
    ("focal-nan", lambda k: k, {"focal_length": float("nan")}, ValueError, "focal_length"),
    ("focal-inf", lambda k: k, {"focal_length": float("inf")}, ValueError, "focal_length"),
    ("focal-text", lambda k: k, {"focal_length": "5000"}, TypeError, "focal_length"),
    ("image-zero", lambda k: k, {"image_size": (0, 800)}, ValueError, "image_size"),
    ("image-negative", lambda k: k, {"image_size": (800, -600)}, ValueError, "image_size"),
    ("image-nan", lambda k: k, {"image_size": (800, float("nan"))}, ValueError, "image_size"),
    ("image-one-number", lambda k: k, {"image_size": (800,)}, ValueError, "image_size"),
    ("image-none", lambda k: k, {"image_size": None}, TypeError, "image_size"),
    ("unknown-option", lambda k: k, {"not_an_option": 1}, TypeError, "not_an_option"),
    ("bad-option-value", lambda k: k, {"max_iterations": 0}, ValueError, "max_iterations"),
    ("overflowing-option", lambda k: k, {"data_sigma": 1e300}, ValueError, "data_sigma"),
    ("overflowing-weights", lambda k: k, {"pose_prior_weights": (1e300,) * 4}, ValueError,
     "pose_prior_weights"),
    ("overflowing-confidence", lambda k: _with(k, 5, 2, 1e300), {}, KeypointError,
     "confidence"),
    ("missing-model-file", lambda k: k, {"model": "/nonexistent/SMPL_NEUTRAL.npz"},
     FileNotFoundError, "SMPL_NEUTRAL"),
]


@pytest.mark.parametrize(("mutate", "overrides", "error", "match"),
                         [case[1:] for case in BAD_INPUT], ids=[case[0] for case in BAD_INPUT])
def test_bad_input_raises_a_clear_error(good, model, prior, mutate, overrides, error, match):
    args = {"format": "smpl24", "image_size": good.image_size,
            "focal_length": good.focal_length, "model": model, "prior": prior,
            "multi_start": False, **overrides}
    with pytest.raises(error, match=match):
        smplify.fit(mutate(good.keypoints), **args)


def test_missing_keypoints_are_accepted(good, model, prior):
    kp = good.keypoints.copy()
    kp[[10, 11, 22, 23]] = [np.nan, np.nan, 0.0]  # feet and hands missing: NaN, confidence 0
    kp[4, 2] = np.nan  # NaN confidence: missing too
    result = smplify.fit(kp, "smpl24", good.image_size, good.focal_length, model=model,
                         prior=prior, multi_start=False)
    assert is_finite_result(result)
    assert np.all(np.isfinite(result.keypoints_2d))
    # (K, 2) input: confidence 1 everywhere; rows with both x, y NaN are missing
    xy = good.keypoints[:, :2].copy()
    xy[[10, 11]] = np.nan
    result = smplify.fit(xy, "smpl24", good.image_size, good.focal_length, model=model,
                         prior=prior, multi_start=False)
    assert is_finite_result(result)
    assert reprojection_error(result, good) < 10.0


# --- Fitter --------------------------------------------------------------------------------------
def test_fitter_warm_start_and_reset(model, prior):
    case = make_case(model, prior, "coco17", np.random.default_rng(3))
    fitter = smplify.Fitter(model, format="coco17", image_size=case.image_size,
                            focal_length=case.focal_length, prior=prior, **PRIOR_STARTS)
    cold = fitter.fit(case.keypoints)
    names = [s.name for s in cold.summary["stages"]]
    num_stages = len(smplify.FitOptions().pose_prior_weights)
    assert names == ["torso"] + [f"stage {s + 1}" for s in range(num_stages)]
    assert cold.summary["num_starts"] == 1 + len(prior.weights)  # weighted mean + each mean

    warm = fitter.fit(case.keypoints)  # warm_start=True by default: from the last result
    print(f"\nFitter: cold total {cold.energy['total']:.2f} ({cold.summary['seconds']:.3f} s), "
          f"warm {warm.energy['total']:.2f} ({warm.summary['seconds']:.3f} s), stages "
          f"{[(s.name, s.iterations) for s in warm.summary['stages']]}")
    # no camera initialisation, no orientation test, one start, the last stage's weights only
    assert [s.name for s in warm.summary["stages"]] == [f"stage {num_stages}"]
    assert warm.summary["num_starts"] == 1 and len(warm.summary["tried"]) == 1
    assert warm.energy["total"] <= 1.01 * cold.energy["total"]
    assert np.abs(warm.joints - cold.joints).max() < 0.02  # metres

    fitter.reset()
    again = fitter.fit(case.keypoints)
    assert [s.name for s in again.summary["stages"]] == names
    np.testing.assert_allclose(again.pose, cold.pose, atol=1e-9)
    np.testing.assert_allclose(again.transl, cold.transl, atol=1e-9)
    explicit_cold = fitter.fit(case.keypoints, warm_start=False)
    np.testing.assert_allclose(explicit_cold.pose, cold.pose, atol=1e-9)


def test_fitter_follows_a_moving_person(model, prior):
    """Frame 2 = frame 1's body moved 3 cm sideways: the warm-started fit follows it (the
    fit itself: the output filter, ``track_smoothing``, would lag a step by design)."""
    case = make_case(model, prior, "smpl24", np.random.default_rng(8))
    fitter = smplify.Fitter(model, format="smpl24", image_size=case.image_size,
                            focal_length=case.focal_length, prior=prior, track_smoothing=0.0)
    first = fitter.fit(case.keypoints)
    moved = case.joints + [0.03, 0.0, 0.0]
    kp = np.c_[case.focal_length * moved[:, :2] / moved[:, 2:]
               + np.asarray(case.image_size) / 2.0, np.ones(24)]
    second = fitter.fit(kp)
    shift = second.joints.mean(axis=0) - first.joints.mean(axis=0)
    print(f"\nFitter follows a 3 cm move: fitted shift {np.round(shift * 100, 2)} cm")
    assert abs(shift[0] - 0.03) < 0.01 and abs(shift[1]) < 0.01
    assert np.median(np.linalg.norm(second.keypoints_2d - kp[:, :2], axis=1)) < 5.0
    assert (first.summary["start"], second.summary["start"]) == ("cold", "warm")


def test_fitter_redoes_a_frame_whose_warm_start_lost_the_person(model, prior):
    """A cut to another person: started from the last frame's body the fit ends far off (it
    once flew 5 km up, 'converged'); the Fitter sees that and fits the frame from scratch."""
    rng = np.random.default_rng(0)
    before, after = (make_case(model, prior, "coco17", rng) for _ in range(2))
    # The prior's starts: the Fitter's redo from scratch uses the frame's warm problem,
    # which has no initialiser hypotheses.
    fitter = smplify.Fitter(model, format="coco17", image_size=before.image_size,
                            focal_length=before.focal_length, prior=prior, **PRIOR_STARTS)
    fitter.fit(before.keypoints)
    cut = fitter.fit(after.keypoints)
    cold = smplify.fit(after.keypoints, "coco17", before.image_size, before.focal_length,
                       model=model, prior=prior, **PRIOR_STARTS)
    assert cut.summary["start"] == "warm, lost the person, then cold"
    np.testing.assert_array_equal(cut.pose, cold.pose)
    assert cut.energy == cold.energy
    assert fitter.fit(after.keypoints).summary["start"] == "warm"  # tracking again


def test_a_warm_start_does_not_need_the_torso_a_cold_fit_does(model, prior):
    """Hips hidden for a frame: tracking goes on from the last frame; from scratch the camera
    cannot be placed and the error says so."""
    case = make_case(model, prior, "coco17", np.random.default_rng(5))
    fitter = smplify.Fitter(model, format="coco17", image_size=case.image_size,
                            focal_length=case.focal_length, prior=prior)
    first = fitter.fit(case.keypoints)
    hidden = case.keypoints.copy()
    hidden[[11, 12], 2] = 0.0  # coco17 left_hip, right_hip
    tracked = fitter.fit(hidden)
    assert tracked.summary["start"] == "warm"
    seen = hidden[:, 2] > 0
    assert np.median(np.linalg.norm(tracked.keypoints_2d[seen] - hidden[seen, :2], axis=1)) < 2.0
    # The upper body (joints 12-23) stays put; without its 2D hips the pelvis may slide in depth.
    assert np.linalg.norm(tracked.joints[12:] - first.joints[12:], axis=1).max() < 0.03
    with pytest.raises(KeypointError, match="torso"):
        fitter.fit(hidden, warm_start=False)


def test_fitter_settings_are_checked_up_front_and_fixed(model, prior):
    with pytest.raises(ValueError, match="format"):
        smplify.Fitter(model, format="bogus", image_size=(640, 480))
    with pytest.raises(ValueError, match="image_size"):
        smplify.Fitter(model, format="coco17", image_size=(640, -1))
    with pytest.raises(ValueError, match="focal_length"):
        smplify.Fitter(model, format="coco17", image_size=(640, 480), focal_length=0.0)
    with pytest.raises(TypeError, match="unknown fit option"):
        smplify.Fitter(model, format="coco17", image_size=(640, 480), foo=1)
    fitter = smplify.Fitter(model, format="coco17", image_size=(640, 480), prior=prior,
                            multi_start=False)
    assert (fitter.format, fitter.image_size, fitter.options.multi_start) == \
        ("coco17", (640.0, 480.0), False)
    for name in ("format", "image_size", "focal_length", "options", "model", "prior"):
        with pytest.raises(AttributeError):
            setattr(fitter, name, None)


def test_fits_do_not_keep_a_model_alive(prior):
    """The per-model caches hold models weakly: fitting with a freshly loaded model per call
    must not pile up models (a loop grew by ~13 MB a call)."""
    case = make_case(smplify.load_model("open"), prior, "coco17", np.random.default_rng(4))
    body = smplify.load_model("open")
    smplify.fit(case.keypoints, "coco17", case.image_size, case.focal_length, model=body,
                prior=prior, multi_start=False)
    gone = weakref.ref(body)
    del body
    gc.collect()
    assert gone() is None


# --- fit_batch and the GIL -----------------------------------------------------------------------
def test_fit_batch_matches_sequential_fits(model, prior):
    case = make_case(model, prior, "openpose25", np.random.default_rng(31))
    rng = np.random.default_rng(32)
    batch = []
    for _ in range(4):  # same camera, slightly different detections
        kp = case.keypoints.copy()
        kp[:, :2] += rng.normal(0.0, 2.0, kp[:, :2].shape) * (kp[:, 2:] > 0)
        batch.append(kp)
    args = ("openpose25", case.image_size, case.focal_length)
    results = smplify.fit_batch(batch, *args, model=model, prior=prior, threads=2)
    assert len(results) == len(batch)
    for kp, got in zip(batch, results, strict=True):
        want = smplify.fit(kp, *args, model=model, prior=prior)
        np.testing.assert_allclose(got.pose, want.pose, atol=1e-8)
        np.testing.assert_allclose(got.betas, want.betas, atol=1e-8)
        np.testing.assert_allclose(got.transl, want.transl, atol=1e-8)
        assert got.energy["total"] == pytest.approx(want.energy["total"], rel=1e-9)
    for bad in (0, 2.5, "2", True):
        with pytest.raises(ValueError, match="threads"):
            smplify.fit_batch(batch, *args, model=model, prior=prior, threads=bad)


def test_fit_batch_names_the_image_that_failed(model, prior):
    """An unusable image stops the batch with its own error type, naming its index; an error
    of the arguments every image shares names none."""
    case = make_case(model, prior, "coco17", np.random.default_rng(34))
    hidden = case.keypoints.copy()
    hidden[:, 2] = np.nan  # every keypoint missing
    args = ("coco17", case.image_size, case.focal_length)
    quick = {"model": model, "prior": prior, "multi_start": False, "max_iterations": 2}
    for threads in (1, 2):
        with pytest.raises(KeypointError,
                           match=r"^list_of_keypoints\[2\]: keypoints: no confidence is > 0"):
            smplify.fit_batch([case.keypoints, case.keypoints, hidden], *args, threads=threads,
                              **quick)
    with pytest.raises(KeypointError, match=r"^list_of_keypoints\[1\]: keypoints: expected shape"):
        smplify.fit_batch([case.keypoints, case.keypoints[:5]], *args, threads=1, **quick)
    # focal_length="estimate" searches per image: its error names the image too.
    with pytest.raises(KeypointError, match=r"^list_of_keypoints\[0\]: keypoints: no confidence"
                       r" is > 0: 17 of 17 are NaN"):
        smplify.fit_batch([hidden], "coco17", case.image_size, "estimate", threads=1, **quick)
    for shared, error in (({"format": "coco18"}, ValueError), ({"foo": 1}, TypeError),
                          ({"image_size": (0, 480)}, ValueError)):
        given = {"format": "coco17", "image_size": case.image_size, **quick, **shared}
        with pytest.raises(error) as raised:
            smplify.fit_batch([hidden, hidden], focal_length=case.focal_length, threads=1,
                              **given)
        assert "list_of_keypoints" not in str(raised.value)


def test_no_confident_keypoint_says_what_was_found(model, prior):
    """NaN confidences are reported as NaN, not as zeros."""
    case = make_case(model, prior, "coco17", np.random.default_rng(35))
    kp = case.keypoints.copy()
    kp[:, 2] = 0.0
    kp[:5, 2] = np.nan
    build = {"model": model, "prior": prior}
    with pytest.raises(KeypointError, match=r"no confidence is > 0: 5 of 17 are NaN \(missing\),"
                       r" 12 are 0"):
        smplify.problem.build_problem(kp, "coco17", case.image_size, **build)
    with pytest.raises(KeypointError, match=r"every keypoint's x, y are NaN"):
        smplify.problem.build_problem(np.full((17, 2), np.nan), "coco17", case.image_size, **build)
    kp[:5, 2] = 0.0
    with pytest.raises(KeypointError, match=r"no confidence is > 0 \(each is 0 or NaN"):
        smplify.problem.build_problem(kp, "coco17", case.image_size, **build)


def test_threads_change_the_speed_not_the_result(model, prior):
    """The starts run on one thread, on three, or on one per core (the default): same fit."""
    case = make_case(model, prior, "coco17", np.random.default_rng(33), view="side")
    fits = [fit_case(case, model, prior, flip=True, **threads)
            for threads in ({"threads": 1}, {"threads": 3}, {})]
    for other in fits[1:]:
        np.testing.assert_array_equal(other.pose, fits[0].pose)
        np.testing.assert_array_equal(other.betas, fits[0].betas)
        assert other.energy == fits[0].energy
    assert smplify.FitOptions().threads is None
    with pytest.raises(ValueError, match="threads"):
        smplify.FitOptions(threads=0)


def test_the_gil_is_released_while_the_solver_runs(model, prior):
    """A Python thread keeps counting while the C++ solve runs in another thread.

    The count is taken over the C++ call alone (``_core.Fitter.fit``, what ``smplify.fit``
    runs after assembling the problem in Python): if the solve held the GIL, the counter
    would stand still for its whole duration."""
    from smplify import core_fitter
    from smplify.problem import build_problem

    case = make_case(model, prior, "mediapipe33", np.random.default_rng(41))
    problem = build_problem(case.keypoints, case.format, case.image_size, case.focal_length,
                            model, prior, {"flip": True, "starts": "prior", "learned_init": False})
    core, observation = core_fitter._core_fitter(problem), core_fitter._observation(problem)
    count = [0]
    stop = threading.Event()

    def counter():
        while not stop.is_set():
            count[0] += 1

    def counted(work) -> tuple[float, float]:
        """(counter increments per second during work(), work's duration in seconds)."""
        stop.clear()
        thread = threading.Thread(target=counter)
        thread.start()
        time.sleep(0.02)  # let the counter get going
        before, start = count[0], time.perf_counter()
        work()
        after, seconds = count[0], time.perf_counter() - start
        stop.set()
        thread.join()
        return (after - before) / seconds, seconds

    idle, _ = counted(lambda: time.sleep(0.3))
    busy, seconds = counted(lambda: core.fit(**observation))
    print(f"\nGIL: counter {idle:.3g}/s alone, {busy:.3g}/s during a {seconds:.2f} s C++ "
          f"solve: ratio {busy / idle:.2f}")
    assert seconds > 0.05
    assert busy >= 0.1 * idle  # a held GIL gives ~0.005x; 0.1 leaves room for a loaded machine


# --- the result ----------------------------------------------------------------------------------
def test_fit_result_fields(model, prior):
    case = make_case(model, prior, "mediapipe33", np.random.default_rng(51))
    res = fit_case(case, model, prior, multi_start=False)
    k = case.keypoints.shape[0]
    assert res.betas.shape == (10,)
    assert res.global_orient.shape == (3,) and res.body_pose.shape == (69,)
    assert res.transl.shape == (3,) and res.pose.shape == (72,)
    assert res.joints.shape == (24, 3)
    assert res.vertices.shape == (model.num_vertices, 3)
    assert res.faces.shape == np.asarray(model.faces).shape
    assert res.keypoints_3d.shape == (k, 3) and res.keypoints_2d.shape == (k, 2)
    assert res.camera.focal_length == case.focal_length
    np.testing.assert_allclose(res.camera.center, np.asarray(case.image_size) / 2.0)
    available = np.isfinite(res.keypoints_3d).all(axis=1)
    assert available.sum() >= k - 4
    np.testing.assert_allclose(res.keypoints_2d[available],
                               res.camera.project(res.keypoints_3d[available]), atol=1e-9)
    # joints and vertices are the model's at the fitted parameters, in the camera frame
    out = model(betas=res.betas, body_pose=res.body_pose, global_orient=res.global_orient,
                transl=res.transl)
    np.testing.assert_allclose(res.joints, out.joints, atol=1e-12)
    np.testing.assert_allclose(res.vertices, out.vertices, atol=1e-12)
    # ... and so are the keypoints (the C++ core's folded regressors against the plain ones)
    resolved = resolve_format("mediapipe33", model.keypoint_names, model.num_vertices,
                              model.keypoint_regressor)
    np.testing.assert_allclose(res.keypoints_3d[available],
                               resolved.keypoint_positions(out.joints, out.vertices)[available],
                               atol=1e-9)
    assert np.all(res.joints[:, 2] > 0)  # in front of the camera
    terms = ("data", "pose", "angle", "shape", "interpenetration", "keypoints_3d", "knee_depth",
             "anchor")
    assert set(res.energy) == {*terms, "total"}
    assert res.energy["knee_depth"] == 0.0  # E_knee is off by default
    # No 3D keypoints given: E_3D is the initialiser's anchor by default (mediapipe33 ships
    # one), reported as such (no depth evidence was given); none without learned_init.
    assert res.energy["anchor"] > 0.0 and res.energy["keypoints_3d"] == 0.0
    plain = fit_case(case, model, prior, multi_start=False, learned_init=False)
    assert plain.energy["keypoints_3d"] == 0.0 and plain.energy["anchor"] == 0.0
    assert all(res.energy[t] >= 0.0 for t in terms)
    assert res.energy["total"] == pytest.approx(sum(res.energy[t] for t in terms), rel=1e-12)
    for key in ("stages", "orientation", "seconds"):
        assert key in res.summary
    assert res.summary["orientation"] in ("initial", "flipped")
    assert res.summary["seconds"] > 0.0 and res.summary["implementation"] == "cpp"
    for stage in res.summary["stages"]:
        assert stage.iterations >= 0 and stage.final_cost <= stage.initial_cost + 1e-9
    # the reported energy is the one the last stage minimised (Ceres' cost is ½ Σ r²): E_sp's
    # spheres sit on the final body, not on the shape the stage started from
    assert 2.0 * res.summary["stages"][-1].final_cost == pytest.approx(res.energy["total"],
                                                                       rel=1e-9)
    params = res.smplx_params()
    assert params["body_pose"].shape == (1, 69) and params["betas"].dtype == np.float32
