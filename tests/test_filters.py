"""The One Euro filter (smplify.filters): causal, a plain low-pass at rest, less lag when fast."""

from __future__ import annotations

import math

import numpy as np
import pytest
from smplify.filters import one_euro


def test_each_output_depends_only_on_the_frames_up_to_it() -> None:
    x = np.random.default_rng(0).normal(size=(40, 5, 3))
    full = one_euro(x, 30.0, 1.0, 0.5)
    for t in (0, 7, 39):
        changed = x.copy()
        changed[t + 1:] += 10.0
        np.testing.assert_array_equal(one_euro(changed, 30.0, 1.0, 0.5)[:t + 1], full[:t + 1])


def test_beta_zero_is_a_first_order_low_pass() -> None:
    x = np.random.default_rng(1).normal(size=50)
    fps, cutoff = 30.0, 2.0
    alpha = 1.0 / (1.0 + fps / (2.0 * math.pi * cutoff))
    expected = [x[0]]
    for value in x[1:]:
        expected.append(alpha * value + (1.0 - alpha) * expected[-1])
    np.testing.assert_allclose(one_euro(x, fps, cutoff, 0.0), expected, rtol=1e-12)
    np.testing.assert_array_equal(one_euro(np.full((9, 2), 3.5), fps, cutoff, 0.0), 3.5)


def test_a_larger_beta_lags_less_behind_a_ramp() -> None:
    ramp = np.linspace(0.0, 3.0, 60)  # 1.5 units/s at 30 fps
    lag = [float(np.abs(one_euro(ramp, 30.0, 0.5, beta) - ramp)[-1]) for beta in (0.0, 1.0, 10.0)]
    assert lag[0] > lag[1] > lag[2] > 0.0


@pytest.mark.parametrize("kwargs, match", [
    ({"fps": 0.0}, "fps"), ({"min_cutoff": -1.0}, "min_cutoff"),
    ({"d_cutoff": math.nan}, "d_cutoff"), ({"beta": -0.1}, "beta"),
    ({"signal": np.zeros((0, 3))}, "signal"),
    ({"signal": np.array([0.0, math.inf])}, "signal")])
def test_bad_arguments_are_named(kwargs, match) -> None:
    args = {"signal": np.zeros((4, 3)), "fps": 30.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        one_euro(**args)
