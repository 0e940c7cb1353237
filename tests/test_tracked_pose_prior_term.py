"""A warm tracked frame's pose prior joined to the track's body-pose rows
(cpp/tracked_pose_prior_term.h) and the track's remaining rows (cpp/track_term.h
TrackRootCost): against the blocks they replace (their NumPy twins), and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from smplify import _core
from smplify.prior import load_prior
from smplify.reference.track import track_residuals, tracked_pose_prior

WEIGHTS = (3.0, 2.0, 5.0)
RATIO = 0.1


@pytest.fixture(scope="module")
def prior() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The shipped prior's means (M, 69), lower precision factors (M, 69, 69), −log c (M,)."""
    p = load_prior("open")
    return (np.asarray(p.means, dtype=np.float64),
            np.stack([np.asarray(L, dtype=np.float64) for L in p.precision_cholesky]),
            np.asarray(p.neg_log_c, dtype=np.float64))


def _joined(prior: tuple, weight: float, track_weight: float, target: np.ndarray,
            x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    means, chol, neg_log_c = prior
    return _core.tracked_pose_prior_term(means, list(chol), neg_log_c, weight, track_weight,
                                         target, x)


@pytest.mark.parametrize("weight, track_weight", [(4.78, 300.0), (4.78, 0.5), (0.0, 2.0)])
def test_joined_block_is_the_two_blocks_to_the_solver(prior: tuple, weight: float,
                                                      track_weight: float) -> None:
    """Same energy, gradient Jᵀr and Gauss-Newton matrix JᵀJ as E_θ's 70 rows plus the
    track's 69 body-pose rows, at poses near and far from the prior's components."""
    rng = np.random.default_rng(3)
    means = prior[0]
    for x in (means[2] + rng.normal(scale=0.05, size=69), rng.normal(scale=0.5, size=69),
              np.zeros(69)):
        target = x + rng.normal(scale=0.1, size=69)
        residuals, jacobian = _joined(prior, weight, track_weight, target, x)
        assert residuals.shape == (70,) and jacobian.shape == (70, 69)
        energy, gradient, gauss_newton = tracked_pose_prior(*prior, weight, track_weight,
                                                            target, x)
        assert float(residuals @ residuals) == pytest.approx(energy, rel=1e-11)
        scale = np.abs(gauss_newton).max()
        np.testing.assert_allclose(jacobian.T @ jacobian, gauss_newton, rtol=0,
                                   atol=1e-11 * scale)
        np.testing.assert_allclose(jacobian.T @ residuals, gradient, rtol=0,
                                   atol=1e-10 * np.abs(gradient).max())
        assert not jacobian[69].any()  # the constant row


def test_joined_block_jacobian_matches_finite_differences(prior: tuple) -> None:
    rng = np.random.default_rng(8)
    x = prior[0][5] + rng.normal(scale=0.05, size=69)
    target = x + rng.normal(scale=0.1, size=69)
    residuals, jacobian = _joined(prior, 4.78, 30.0, target, x)
    h = 1e-6
    central = np.stack([(_joined(prior, 4.78, 30.0, target, x + h * e)[0]
                         - _joined(prior, 4.78, 30.0, target, x - h * e)[0]) / (2 * h)
                        for e in np.eye(69)], axis=1)
    np.testing.assert_allclose(jacobian, central, rtol=0, atol=1e-6 * np.abs(jacobian).max())


def test_joined_block_follows_the_prior_component(prior: tuple) -> None:
    """The component is the prior's own choice at each point (the track's rows do not move
    it): across the switch between two components the energy stays the two blocks'."""
    means = prior[0]
    target = 0.5 * (means[0] + means[1])
    for t in np.linspace(0.0, 1.0, 9):
        x = (1 - t) * means[0] + t * means[1]
        residuals, _ = _joined(prior, 4.78, 10.0, target, x)
        energy, _, _ = tracked_pose_prior(*prior, 4.78, 10.0, target, x)
        assert float(residuals @ residuals) == pytest.approx(energy, rel=1e-11)


def test_joined_block_reads_the_factors_lower_triangles(prior: tuple) -> None:
    """PosePriorCost reads L_k's lower triangle only (L_kᵀ as its upper view): entries above
    the diagonal of a custom prior's factor change nothing here either (they did: L_k's
    lower triangle times the full L_kᵀ)."""
    means, chol, neg_log_c = prior
    rng = np.random.default_rng(21)
    noisy = chol + np.triu(rng.normal(scale=0.5, size=chol.shape), k=1)
    x = means[1] + rng.normal(scale=0.05, size=69)
    target = x + rng.normal(scale=0.1, size=69)
    clean = _joined(prior, 4.78, 3.0, target, x)
    upper = _joined((means, noisy, neg_log_c), 4.78, 3.0, target, x)
    np.testing.assert_allclose(upper[0], clean[0], rtol=0, atol=1e-9 * np.abs(clean[0]).max())
    np.testing.assert_allclose(upper[1], clean[1], rtol=0, atol=1e-9 * np.abs(clean[1]).max())
    energy, _, _ = tracked_pose_prior(means, noisy, neg_log_c, 4.78, 3.0, target, x)
    assert float(upper[0] @ upper[0]) == pytest.approx(energy, rel=1e-10)


def test_joined_block_rejects_bad_input(prior: tuple) -> None:
    means, chol, neg_log_c = prior
    # w = 0, and a w > 0 whose square underflows (the block divides by s² = λ²/2 Λ + w²).
    for track_weight in (0.0, 1e-170, -1.0, np.inf):
        with pytest.raises(ValueError, match="track_weight"):
            _core.tracked_pose_prior_term(means, list(chol), neg_log_c, 1.0, track_weight,
                                          np.zeros(69), np.zeros(69))
    bad_chol = chol.copy()
    bad_chol[0, 3, 1] = np.nan
    with pytest.raises(ValueError, match="precision factors must be finite"):
        _core.tracked_pose_prior_term(means, list(bad_chol), neg_log_c, 1.0, 1.0, np.zeros(69),
                                      np.zeros(69))
    with pytest.raises(ValueError, match="neg_log_c"):
        _core.tracked_pose_prior_term(means, list(chol), neg_log_c - neg_log_c.max() - 1.0, 1.0,
                                      1.0, np.zeros(69), np.zeros(69))
    bad_means = means.copy()
    bad_means[0, 0] = np.inf
    with pytest.raises(ValueError, match="means must be finite"):
        _core.tracked_pose_prior_term(bad_means, list(chol), neg_log_c, 1.0, 1.0, np.zeros(69),
                                      np.zeros(69))
    with pytest.raises(ValueError, match="weight must be finite"):
        _core.tracked_pose_prior_term(means, list(chol), neg_log_c, np.nan, 1.0, np.zeros(69),
                                      np.zeros(69))
    with pytest.raises(ValueError, match="track_target"):
        _core.tracked_pose_prior_term(means, list(chol), neg_log_c, 1.0, 1.0,
                                      np.full(69, np.nan), np.zeros(69))
    with pytest.raises(ValueError, match="69"):
        _core.tracked_pose_prior_term(means, list(chol), neg_log_c, 1.0, 1.0, np.zeros(68),
                                      np.zeros(69))
    with pytest.raises(RuntimeError, match="cannot be evaluated"):
        _core.tracked_pose_prior_term(means, list(chol), neg_log_c, 1.0, 1.0, np.zeros(69),
                                      np.full(69, np.nan))


@pytest.mark.parametrize("gaps", [(1.0, 1.0), (2.0, 3.0)])
def test_track_root_rows_are_the_track_rows_without_the_body_pose(gaps: tuple) -> None:
    """TrackRootCost's 13 rows: E_track's rotation, translation and constant rows (the
    NumPy twin's 0..8, 78..80, 81) with their Jacobian, and finite differences."""
    rng = np.random.default_rng(17)
    before, last, x = (np.concatenate([rng.normal(scale=0.3, size=3) + [np.pi - 0.1, 0, 0],
                                       rng.normal(scale=0.4, size=69), rng.normal(size=3)])
                       for _ in range(3))
    residuals, jacobian = _core.track_root_term(before, last, x, np.array(WEIGHTS), RATIO, gaps)
    rows = list(range(9)) + [78, 79, 80, 81]
    np.testing.assert_allclose(residuals, track_residuals(before, last, x, WEIGHTS, RATIO,
                                                          gaps)[rows], rtol=0, atol=1e-12)
    full_residuals, full_jacobian = _core.track_term(before, last, x, np.array(WEIGHTS), RATIO,
                                                     gaps)
    np.testing.assert_array_equal(residuals, full_residuals[rows])
    np.testing.assert_array_equal(jacobian, full_jacobian[rows][:, [0, 1, 2, 72, 73, 74]])
    # The body-pose rows left out are the joined block's w (x − m): the energies add up.
    body = full_residuals[9:78]
    assert float(residuals @ residuals + body @ body) == pytest.approx(
        float(full_residuals @ full_residuals), rel=1e-13)
    h = 1e-6
    columns = [0, 1, 2, 72, 73, 74]
    central = np.stack([(_core.track_root_term(before, last, x + h * e, np.array(WEIGHTS),
                                               RATIO, gaps)[0]
                         - _core.track_root_term(before, last, x - h * e, np.array(WEIGHTS),
                                                 RATIO, gaps)[0]) / (2 * h)
                        for e in np.eye(75)[columns]], axis=1)
    np.testing.assert_allclose(jacobian, central, rtol=0, atol=1e-6)


@pytest.fixture(scope="module")
def core_fitter():
    """A C++ fitter of the open model and prior (its prior's eigendecompositions built)."""
    import smplify
    from smplify import core_fitter
    from smplify.problem import build_problem

    keypoints = np.column_stack([np.random.default_rng(0).uniform(200, 400, size=(17, 2)),
                                 np.ones(17)])
    problem = build_problem(keypoints, "coco17", (640, 480), model=smplify.load_model("open"),
                            place_camera=False)
    return core_fitter._shared_core_fitter(problem)


def test_the_pose_priors_component_choice_is_best_components_to_the_bit(prior: tuple,
                                                                        core_fitter) -> None:
    """A solve's run of points (small steps, a jump to another component's mean, a NaN
    point, far points): the choice that skips components provably above the least
    (cpp/pose_prior_term.h ComponentChoice) gives BestComponent's k* and rows to the bit,
    and computes fewer of the M triangular products."""
    means = prior[0]
    rng = np.random.default_rng(7)
    x = means[1] + rng.normal(scale=0.2, size=69)
    poses = []
    for step in range(60):
        if step in (20, 40):  # a jump: near another component's mean
            x = means[(step // 20 + 4) % len(means)] + rng.normal(scale=0.05, size=69)
        x = x + rng.normal(scale=(0.3 if step % 7 == 0 else 0.01), size=69)
        poses.append(x.copy())
    poses[30] = np.full(69, np.nan)  # no component: −1, as BestComponent
    poses += [rng.normal(scale=2.0, size=69), 1e160 * np.ones(69)]  # far; overflowing
    chosen, chosen_rows, best, best_rows, computed = _core._testing.pose_prior_choice(
        core_fitter, np.array(poses))
    np.testing.assert_array_equal(chosen, best)
    np.testing.assert_array_equal(chosen_rows, best_rows)
    assert best[30] == -1 and best[-1] == -1 and len(set(best[:-1]) - {-1}) >= 2
    assert computed < 0.5 * len(poses) * len(means)
