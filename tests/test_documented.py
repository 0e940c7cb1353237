"""Docstrings and defaults a test keeps true: FitOptions' attributes and defaults (Python and
C++), FitResult.summary's keys, and pyproject.toml's extras agreeing on NumPy."""

from __future__ import annotations

import dataclasses
import re
from importlib import metadata

import numpy as np
import pytest
import smplify
from extras import unavailable
from packaging.requirements import Requirement
from smplify import _core
from smplify.core_fitter import _FLIP_CODES, _SHARED_OPTIONS, _STOP_RULES, _core_options
from smplify.problem import LEG_KEYPOINT_NAMES, build_problem


def _documented_attributes(doc: str) -> list[str]:
    block = doc.split("Attributes\n    ----------\n", 1)[1]
    return re.findall(r"^    (\w+) :", block, flags=re.M)


def test_fit_options_docstring_lists_every_field_in_order():
    names = [f.name for f in dataclasses.fields(smplify.FitOptions)]
    assert _documented_attributes(smplify.FitOptions.__doc__) == names


def test_cpp_option_defaults_equal_the_python_ones():
    """cpp/fit_inputs.h and options.py both state the defaults: they must agree."""
    python, cpp = smplify.FitOptions(), _core.FitOptions()
    for name in _SHARED_OPTIONS:
        assert np.array_equal(np.asarray(getattr(cpp, name)),
                              np.asarray(getattr(python, name))), name
    assert cpp.flip == _FLIP_CODES[python.flip]
    assert cpp.stop_rule == _STOP_RULES[python.stop_rule]
    assert cpp.select_start_by_data == (python.start_selection == "data")
    assert cpp.prior_starts == (python.starts != "initializer")
    # prune_starts "auto": C++'s 0 except for a fit of one image (FitOptions.for_photo).
    assert python.prune_starts == "auto" and cpp.prune_starts == 0
    # The learned scorer's weights come from Python (smplify.start_scorer); C++'s default,
    # none, is the energy's selection. record_starts is C++ only (tools/start_pools.py).
    assert python.start_scorer == "energy" and cpp.start_scorer == []
    assert cpp.record_starts is False
    # track_function_tolerance: None in Python (function_tolerance's), as C++'s default.
    assert python.track_function_tolerance is None
    assert cpp.track_function_tolerance == cpp.function_tolerance
    # leg_keypoints: the format's, set by _core_options (none by default: no E_knee).
    assert cpp.leg_keypoints == []
    # track_held_joints: () in Python, none held in C++ ("unseen" is resolved per format).
    assert python.track_held_joints == () and cpp.track_held_joints == []
    # Every C++ field is one of those, or threads (None in Python: one per core).
    cpp_fields = {n for n in dir(cpp) if not n.startswith("_")}
    assert cpp_fields == {*_SHARED_OPTIONS, "flip", "stop_rule", "select_start_by_data",
                          "prior_starts",
                          "prune_starts",
                          "start_scorer", "record_starts", "threads",
                          "track_function_tolerance", "leg_keypoints", "track_held_joints"}
    assert python.threads is None and cpp.threads == 1


def test_core_options_carry_every_field(problem_factory):
    problem = problem_factory({"flip": True, "start_selection": "total", "threads": 3,
                               "max_iterations": 7, "pose_prior_weights": (1.0, 2.0),
                               "shape_prior_weights": (3.0, 4.0)})
    core = _core_options(problem)
    assert (core.flip, core.select_start_by_data, core.threads) == (1, False, 3)
    assert core.max_iterations == 7 and core.pose_prior_weights == [1.0, 2.0]
    # track_function_tolerance None: the user's function_tolerance for the tracked fits too.
    inherited = _core_options(problem_factory({"function_tolerance": 1e-3}))
    assert inherited.track_function_tolerance == 1e-3
    # E_knee's legs: the format's hip, knee and ankle indices, by name.
    names = list(problem.keypoint_names)
    assert core.leg_keypoints == [names.index(n) for n in LEG_KEYPOINT_NAMES]
    apart = _core_options(problem_factory({"function_tolerance": 1e-3,
                                           "track_function_tolerance": 1e-5}))
    assert (apart.function_tolerance, apart.track_function_tolerance) == (1e-3, 1e-5)


def _documented_summary_keys(part: int = 0) -> set[str]:
    """The summary keys FitResult's docstring lists: of every fit (``part`` 0) or of
    fit_image's fits only (1)."""
    doc = smplify.FitResult.__doc__.split("summary :", 1)[1]
    doc = doc.split("Key of :func:`smplify.fit_image`'s fits only", 1)[part]
    keys = set()
    for names in re.findall(r"^\s+- (.+?):", doc, flags=re.M):
        keys |= set(re.findall(r"``(\w+)``", names))
    return keys


def test_summary_docstring_names_the_key_fit_image_adds():
    from smplify.image_fit import SIGNATURE_KEY

    assert _documented_summary_keys(1) == {SIGNATURE_KEY}


def test_summary_docstring_names_the_keys_the_fit_writes(open_model, open_prior):
    from smplify.synthetic import make_case

    case = make_case(open_model, open_prior, "coco17", np.random.default_rng(0))
    result = smplify.fit(case.keypoints, "coco17", case.image_size, case.focal_length,
                         model=open_model, prior=open_prior, multi_start=False, threads=1)
    documented = _documented_summary_keys()
    assert set(result.summary) == documented


@pytest.fixture
def problem_factory(open_model, open_prior):
    from smplify.synthetic import make_case

    case = make_case(open_model, open_prior, "coco17", np.random.default_rng(0))

    def make(options):
        return build_problem(case.keypoints, "coco17", case.image_size, case.focal_length,
                             open_model, open_prior, options)
    return make


def _requires(package: str, extra: str, name: str) -> list[Requirement]:
    """What the installed ``package`` requires of ``name`` with ``extra`` installed (its
    metadata: pyproject.toml as built into the wheel or the editable install)."""
    out = []
    for r in map(Requirement, metadata.requires(package) or []):
        if r.name == name and (r.marker is None or r.marker.evaluate({"extra": extra})):
            out.append(r)
    return out


def test_the_test_extra_takes_the_numpy_the_detect_extra_allows():
    """``make test`` installs the test extra with render, detect and dask, and the detect
    extra's mediapipe pins NumPy < 2; the test extra alone must pick the same NumPy (the
    synthetic clips differ by ~1e-12 px between 1.26 and 2.x), and this suite runs on it."""
    ours = [r.specifier for r in _requires("smplify", "test", "numpy")]
    assert ours, "the test extra names no NumPy (an editable install's metadata is rebuilt "\
        "by reinstalling)"
    (pinned,) = _requires("smplify", "detect", "mediapipe")
    try:
        installed = metadata.version("mediapipe")
    except metadata.PackageNotFoundError:
        unavailable("mediapipe (smplify[detect])")
    assert installed in pinned.specifier
    theirs = [r.specifier for r in _requires("mediapipe", "", "numpy")]
    assert theirs, "mediapipe no longer constrains NumPy: the test extra's pin may go"
    for version in ("1.25.0", "1.26.4", "2.0.0", "2.4.6"):
        assert all(version in s for s in ours) == all(version in s for s in theirs), version
    assert all(np.__version__ in s for s in ours)


def test_every_entry_point_without_a_focal_length_uses_the_image_diagonal(open_model):
    """fit, fit_batch, Fitter and fit_sequence given no focal length all fit with
    FitOptions.default_focal_length's ("diagonal": √(w² + h²) px; 5000 only with
    preset="paper"), and each docstring says so (fit_sequence's said 5000)."""
    from crowd import IMAGE_SIZE, person_keypoints

    kp = np.stack([person_keypoints(open_model, "coco17", [0.02 * t, 0.3, 5.0])
                   for t in range(3)])
    diagonal = float(np.hypot(*IMAGE_SIZE))
    cameras = {
        "fit": smplify.fit(kp[0], "coco17", IMAGE_SIZE, model=open_model).camera,
        "fit_batch": smplify.fit_batch(kp[:1], "coco17", IMAGE_SIZE, model=open_model)[0].camera,
        "Fitter": smplify.Fitter(open_model, format="coco17",
                                 image_size=IMAGE_SIZE).fit(kp[0]).camera,
        "fit_sequence": smplify.fit_sequence(kp, "coco17", IMAGE_SIZE, model=open_model,
                                             sequence_iterations=2).camera}
    assert {k: c.focal_length for k, c in cameras.items()} == dict.fromkeys(cameras, diagonal)
    paper = smplify.fit_sequence(kp, "coco17", IMAGE_SIZE, model=open_model, preset="paper",
                                 sequence_iterations=2)
    assert paper.camera.focal_length == smplify.options.PAPER_FOCAL_LENGTH
    for entry in (smplify.fit, smplify.fit_batch, smplify.Fitter, smplify.fit_sequence):
        said = entry.__doc__.split("focal_length", 1)[1].split("\n    model", 1)[0]
        said = said if "as :func:`fit`" not in said else smplify.fit.__doc__
        assert "diagonal" in said and "default 5000" not in said, entry.__name__
