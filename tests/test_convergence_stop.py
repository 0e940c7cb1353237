"""``stop_tolerance`` / ``track_stop_tolerance`` (cpp/convergence_stop.h): a solve ends after
an accepted step when the next step's relative decrease is predicted below the tolerance,
keeping that accepted point, and reads as converged."""

from __future__ import annotations

import numpy as np
import pytest
import smplify
from smplify import _core
from smplify import synthetic_video as sv
from smplify.core_fitter import _STOP_RULES
from smplify.problem import build_problem
from smplify.synthetic import make_case
from test_core_robustness import fitter_arguments
from test_sequence import SEQUENCES
from test_track_tolerance import CLEAN, _track

# b·exp(a·t) − y with residuals left at the optimum: Ceres converges linearly on it.
T = np.linspace(0.0, 1.0, 20)
Y = 2.0 * np.exp(1.3 * T) + 0.3 * np.sin(11.0 * T)
START = np.array([0.0, 1.0])


def _expected_stop(rows: list[list[float]], tolerance: float, rule: str) -> int | None:
    """The iteration at which the rule stops, computed from an unstopped solve's history."""
    previous = None
    gradient = None  # g at the last accepted point (iteration 0: the start)
    for iteration, successful, cost, change, g, *_ in rows:
        if iteration == 0:
            gradient = g
            continue
        if not successful:
            continue
        d = change / (cost + change)
        if rule == "decrease" and d <= tolerance:
            return int(iteration)
        if rule == "predicted" and previous is not None and d * d / previous <= tolerance:
            return int(iteration)
        if rule == "gradient" and d * (g / gradient) ** 2 <= tolerance:
            return int(iteration)
        previous, gradient = d, g
    return None


@pytest.mark.parametrize(("rule", "tolerance"), [("predicted", 0.7), ("predicted", 0.01),
                                                 ("decrease", 0.1), ("gradient", 0.05),
                                                 ("gradient", 1e-4)])
def test_the_rule_stops_where_it_says_with_the_accepted_point(rule, tolerance) -> None:
    code = _STOP_RULES[rule]
    x_full, stopped, _, termination, full = _core._testing.stop_rule_solve(T, Y, START, 0.0,
                                                                           code)
    assert not stopped and termination == "CONVERGENCE"
    assert any(not r[1] for r in full[1:])  # rejected steps on the way: the rule skips them
    expected = _expected_stop(full, tolerance, rule)
    assert expected is not None and expected < full[-1][0]  # before Ceres' own stop
    x, stopped, message, termination, rows = _core._testing.stop_rule_solve(T, Y, START,
                                                                            tolerance, code)
    assert stopped and termination == "USER_SUCCESS"
    assert f"after iteration {expected}" in message
    # The same iterations up to the stop, none after, and the output is that accepted point.
    assert rows == full[:expected + 1]
    np.testing.assert_array_equal(x, rows[-1][5:])
    assert not np.array_equal(x, x_full)


def test_a_tolerance_never_met_changes_nothing() -> None:
    x_off, *_, rows_off = _core._testing.stop_rule_solve(T, Y, START, 0.0, 0)
    x_tiny, stopped, *_, rows_tiny = _core._testing.stop_rule_solve(T, Y, START, 1e-300, 0)
    assert not stopped and rows_tiny == rows_off
    np.testing.assert_array_equal(x_tiny, x_off)


def _video(model, frames: int = 12) -> sv.SyntheticVideo:
    return sv.make_video(model, sv.load_sequences(SEQUENCES)[0], "coco17",
                         np.random.default_rng(3), errors=CLEAN, frames=slice(0, frames))


def _warm(results: list[smplify.FitResult]) -> list[smplify.FitResult]:
    return [r for r in results[2:] if r.summary["start"] == "warm"]


def test_a_track_stop_tolerance_stops_the_tracked_fits_only_as_converged(open_model) -> None:
    video = _video(open_model)
    plain = _track(open_model, video)
    stopped = _track(open_model, video, track_stop_tolerance=1e-3)
    # The first frame is a fit from scratch: stop_tolerance (off), the same fit.
    assert stopped[0].summary["start"] == "cold"
    np.testing.assert_array_equal(stopped[0].pose, plain[0].pose)
    by_rule = [s for r in _warm(stopped) for s in r.summary["stages"]
               if "stop rule" in s.message]
    assert by_rule and all(s.termination == "CONVERGENCE" for s in by_rule)
    assert all(r.summary["status"] == "converged" for r in _warm(stopped))

    def iterations(results):
        return sum(r.summary["stages"][-1].iterations for r in _warm(results))

    assert iterations(stopped) < iterations(plain)
    moved = [np.abs(a.joints - b.joints).max() for a, b in zip(plain, stopped, strict=True)]
    assert max(moved) < 0.03


def test_a_tolerance_that_never_stops_leaves_the_track_bit_identical(open_model) -> None:
    """The callback installed but never met: the same frames bit for bit (off, 0, does not
    install it at all: main's path)."""
    video = _video(open_model, frames=8)
    plain = _track(open_model, video)
    tiny = _track(open_model, video, track_stop_tolerance=1e-300, stop_tolerance=1e-300)
    for a, b in zip(plain, tiny, strict=True):
        for name in ("pose", "betas", "transl", "joints"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_a_stop_tolerance_stops_a_fit_from_scratch(open_model) -> None:
    video = _video(open_model, frames=1)
    args = (video.keypoints[0], "coco17", video.image_size, video.focal_length)
    plain = smplify.fit(*args, model=open_model, threads=1)
    stopped = smplify.fit(*args, model=open_model, threads=1, stop_tolerance=1e-3)
    by_rule = [s for s in stopped.summary["stages"] if "stop rule" in s.message]
    assert by_rule and all(s.termination == "CONVERGENCE" for s in by_rule)
    assert stopped.summary["status"] == "converged"
    assert sum(s.iterations for s in stopped.summary["stages"]) < \
        sum(s.iterations for s in plain.summary["stages"])
    # track_stop_tolerance leaves a fit from scratch alone.
    tracked_only = smplify.fit(*args, model=open_model, threads=1, track_stop_tolerance=1e-3)
    np.testing.assert_array_equal(tracked_only.pose, plain.pose)


@pytest.mark.parametrize("name", ["stop_tolerance", "track_stop_tolerance"])
@pytest.mark.parametrize("value", [-1e-4, float("nan"), float("inf"), "x"])
def test_stop_tolerances_must_be_finite_and_non_negative(name, value) -> None:
    with pytest.raises((ValueError, TypeError), match=name):
        smplify.FitOptions(**{name: value})


def test_the_gradient_rule_keeps_the_last_accepted_points_gradient() -> None:
    """Ceres repeats the last gradient in a rejected iteration's summary and reports the
    start's at iteration 0: the twin's g_{k-1} is the last accepted point's."""
    *_, rows = _core._testing.stop_rule_solve(T, Y, START, 0.0, 2)
    assert rows[0][0] == 0 and rows[0][4] > 0  # g_0 at the start
    accepted = rows[0][4]
    for row in rows[1:]:
        if not row[1]:
            assert row[4] == accepted
        accepted = row[4] if row[1] else accepted


def test_the_gradient_rule_can_stop_after_the_first_accepted_step() -> None:
    *_, rows = _core._testing.stop_rule_solve(T, Y, START, 0.0, 2)
    first = next(r for r in rows[1:] if r[1])
    d = first[3] / (first[2] + first[3])
    tolerance = 1.01 * d * (first[4] / rows[0][4]) ** 2
    _, stopped, message, _, stopped_rows = _core._testing.stop_rule_solve(T, Y, START,
                                                                         tolerance, 2)
    assert stopped and f"after iteration {int(first[0])}" in message
    assert "g_k" in message
    assert stopped_rows[-1][0] == first[0]
    # "predicted" cannot stop there (it needs d_{k-1}).
    _, _, message_p, *_ = _core._testing.stop_rule_solve(T, Y, START, tolerance, 0)
    assert not message_p.endswith(f"after iteration {int(first[0])}")


def test_stop_rule_is_one_of_its_choices() -> None:
    assert smplify.FitOptions(stop_rule="decrease").stop_rule == "decrease"
    assert smplify.FitOptions(stop_rule="gradient").stop_rule == "gradient"
    with pytest.raises(ValueError, match="stop_rule"):
        smplify.FitOptions(stop_rule="plain")


@pytest.mark.parametrize(("name", "value"), [("stop_tolerance", -1.0),
                                           ("track_stop_tolerance", float("nan")),
                                           ("stop_rule", 3), ("stop_rule", -1)])
def test_the_core_refuses_a_bad_stop_option(open_model, open_prior, name, value) -> None:
    case = make_case(open_model, open_prior, "coco17", np.random.default_rng(0))
    problem = build_problem(case.keypoints, "coco17", case.image_size, case.focal_length,
                            open_model, open_prior, {"threads": 1})
    args = fitter_arguments(problem)
    setattr(args["options"], name, value)
    with pytest.raises(ValueError, match="stop_"):
        _core.Fitter(**args)
