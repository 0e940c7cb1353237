"""The sequence fit's linear solver (cpp/block_banded.h) against a dense NumPy solve."""

from __future__ import annotations

import numpy as np
import pytest
from smplify import _core


def _banded(rng: np.random.Generator, frames: int, m: int, border: int) -> np.ndarray:
    """A random SPD matrix with the sequence's structure: frames couple to t ± 2, plus β."""
    n = frames * m + border
    j = np.zeros((4 * n, n))
    row = 0
    for t in range(frames):  # second-difference-like rows over frames t, t+1, t+2 and β
        cols = np.r_[t * m:min(t + 3, frames) * m, frames * m:n]
        j[row:row + 3 * m, cols] = rng.normal(size=(3 * m, len(cols)))
        row += 3 * m
    return j.T @ j + 1e-3 * np.eye(n)


@pytest.mark.parametrize("frames, m, border", [(1, 4, 0), (2, 3, 2), (7, 5, 3), (9, 4, 0)])
def test_solve_matches_dense(frames: int, m: int, border: int) -> None:
    rng = np.random.default_rng(frames * 10 + m)
    h = _banded(rng, frames, m, border)
    g = rng.normal(size=len(h))
    x = _core.block_banded_solve(h, g, frames, m, border)
    np.testing.assert_allclose(x, np.linalg.solve(h, g), rtol=1e-9, atol=1e-9)
    damped = h + 0.5 * np.diag(np.diag(h))
    x = _core.block_banded_solve(h, g, frames, m, border, damping=0.5)
    np.testing.assert_allclose(x, np.linalg.solve(damped, g), rtol=1e-9, atol=1e-9)


def test_fixed_parameters_stay_put() -> None:
    rng = np.random.default_rng(5)
    frames, m, border = 6, 4, 2
    h = _banded(rng, frames, m, border)
    g = rng.normal(size=len(h))
    fixed = [1, 9, 22, frames * m + 1]
    free = np.setdiff1d(np.arange(len(h)), fixed)
    x = _core.block_banded_solve(h, g, frames, m, border, fixed=fixed)
    assert np.all(x[fixed] == 0)
    np.testing.assert_allclose(x[free], np.linalg.solve(h[np.ix_(free, free)], g[free]),
                               rtol=1e-9, atol=1e-9)


def test_solves_through_one_workspace_are_each_a_fresh_solve() -> None:
    """The joint solve's steps reuse one workspace (L's blocks, the diagonal blocks' factors):
    each solve through it, at any damping and after any other, is bit for bit the solve of a
    fresh one; a workspace left stale by an earlier damping (a block not recomputed) shows
    here, where the solution depends on every block."""
    rng = np.random.default_rng(11)
    frames, m, border = 7, 5, 3
    h = _banded(rng, frames, m, border)
    g = rng.normal(size=len(h))
    dampings = [0.0, 0.5, 1e-4, 8.0, 0.5]
    rows = _core.block_banded_solve(h, g, frames, m, border, damping=dampings[0],
                                    then=dampings[1:])
    assert rows.shape == (len(dampings), len(h))
    for x, damping in zip(rows, dampings, strict=True):
        assert np.array_equal(x, _core.block_banded_solve(h, g, frames, m, border,
                                                          damping=damping))
        np.testing.assert_allclose(x, np.linalg.solve(h + damping * np.diag(np.diag(h)), g),
                                   rtol=1e-9, atol=1e-9)
    assert not np.array_equal(rows[0], rows[1])  # the dampings made different systems


def test_not_positive_definite_and_bad_shapes_raise() -> None:
    h = -np.eye(8)
    with pytest.raises(ValueError, match="positive definite"):
        _core.block_banded_solve(h, np.ones(8), 4, 2, 0)
    with pytest.raises(ValueError, match="expected h"):
        _core.block_banded_solve(np.eye(8), np.ones(8), 3, 2, 0)


def test_the_border_is_solved_through_the_forward_substitution_alone() -> None:
    """The border's Schur complement from W = L⁻¹ C (no A⁻¹ C formed): a border that
    dominates the system (β coupled to every frame, larger than the frames' own entries)
    and one with fixed β columns are solved as the dense solve, damped and not."""
    rng = np.random.default_rng(21)
    frames, m, border = 8, 4, 5
    h = _banded(rng, frames, m, border)
    n = len(h)
    c = 3.0 * rng.normal(size=(frames * m, border))
    h[:frames * m, frames * m:] += c
    h[frames * m:, :frames * m] += c.T
    h[frames * m:, frames * m:] += c.T @ c + 10 * np.eye(border)  # stays positive definite
    g = rng.normal(size=n)
    for damping in (0.0, 0.3):
        x = _core.block_banded_solve(h, g, frames, m, border, damping=damping)
        damped = h + damping * np.diag(np.diag(h))
        np.testing.assert_allclose(x, np.linalg.solve(damped, g), rtol=1e-9, atol=1e-9)
    fixed = [frames * m + 1, frames * m + 4, 3]
    free = np.setdiff1d(np.arange(n), fixed)
    x = _core.block_banded_solve(h, g, frames, m, border, fixed=fixed)
    assert np.all(x[fixed] == 0)
    np.testing.assert_allclose(x[free], np.linalg.solve(h[np.ix_(free, free)], g[free]),
                               rtol=1e-9, atol=1e-9)


def test_subnormal_numbers_count_as_zero_in_the_solve_and_only_there() -> None:
    """The solve flushes subnormal numbers (x86's FTZ and DAZ, block_banded.cc
    FlushSubnormals: their arithmetic runs on the CPU's slow path, 5x a factorisation on one
    of bench_video's clips): a subnormal gradient entry is read as zero, so its parameter does
    not move, where the exact solve moves it by a subnormal amount; the rest is the dense
    solve's; and the caller's floating-point mode is back after the call (NumPy's product
    below still gives a subnormal)."""
    rng = np.random.default_rng(4)
    frames, m, border = 3, 2, 1
    h = _banded(rng, frames, m, border)
    g = rng.normal(size=len(h))
    tiny = 1e-310
    g[2] = tiny
    h[2, :] = 0.0
    h[:, 2] = 0.0
    h[2, 2] = 1.0
    exact = np.linalg.solve(h, g)
    assert exact[2] == tiny  # (what a solve without the flush gives there)
    x = _core.block_banded_solve(h, g, frames, m, border)
    assert x[2] == 0.0
    free = np.setdiff1d(np.arange(len(h)), [2])
    np.testing.assert_allclose(x[free], exact[free], rtol=1e-9, atol=1e-9)
    assert np.float64(tiny) * np.float64(0.5) != 0.0
