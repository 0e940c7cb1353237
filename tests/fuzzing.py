"""What the fuzz tests (tests/test_fuzz.py) share: the hypothesis profiles, a per-call time
bound, and the one rule every call is held to.

The rule: a call either returns a finite result or raises one of the documented exceptions
(ValueError, TypeError, FileNotFoundError and smplify's own errors, which derive from them or
from :class:`smplify.SmplifyError`) with a message naming the argument or file. Anything
else (IndexError, OverflowError, RecursionError, a RuntimeError from the C++ core, a NaN in
a result, a call over its time bound, a crash of the process) is a finding.

A call that writes to the process's stderr (file descriptor 2: Ceres' own logging, such as
its warning about a non-finite residual, which a library must not print) is a finding too:
its inputs and what it wrote are saved under ``SMPLIFY_FUZZ_FAILURES`` (default
``build/fuzz-failures``) as ``<test>-first.pkl`` / ``.stderr`` (the first such call) and
``<test>.pkl`` / ``.stderr`` (the latest: hypothesis's shrunk example), to be replayed. Under
``make fuzz`` each call's inputs are written to ``last-call.pkl`` there before it runs, and
its stderr (a watchdog's stack dump included) goes to ``last-call.stderr``: a call that
crashes or hangs the process leaves them behind.

Profiles: ``suite`` (the default: few examples, derandomised, so the normal suite stays
short and deterministic) and ``fuzz`` (``SMPLIFY_FUZZ=1``, what ``make fuzz`` runs: many
random examples per test; ``SMPLIFY_FUZZ_SCALE`` multiplies them).
"""

from __future__ import annotations

import contextlib
import faulthandler
import math
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import smplify
from hypothesis import HealthCheck, settings
from smplify.errors import SmplifyError

ALLOWED = (ValueError, TypeError, FileNotFoundError, SmplifyError)

FUZZ = os.environ.get("SMPLIFY_FUZZ", "") not in ("", "0")
SCALE = float(os.environ.get("SMPLIFY_FUZZ_SCALE", "1"))

#: A single call (one fit, one file read) longer than this is a hang.
CALL_SECONDS = float(os.environ.get("SMPLIFY_FUZZ_CALL_SECONDS", "20"))

#: Where the inputs of a call that wrote to stderr (or, under make fuzz, the last call) go.
FAILURES = Path(os.environ.get("SMPLIFY_FUZZ_FAILURES", "build/fuzz-failures"))

settings.register_profile(
    "suite", derandomize=True, deadline=None, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
settings.register_profile(
    "fuzz", deadline=None, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])


def examples(suite: int, fuzz: int) -> settings:
    """Settings for one fuzz test: ``suite`` examples normally, ``fuzz`` under make fuzz."""
    if FUZZ:
        return settings(settings.get_profile("fuzz"), max_examples=max(1, int(fuzz * SCALE)))
    return settings(settings.get_profile("suite"), max_examples=suite)


@contextlib.contextmanager
def time_bound(seconds: float = CALL_SECONDS) -> Iterator[None]:
    """Fails a call that takes longer than ``seconds``. A watchdog thread (faulthandler) dumps
    every thread's stack and ends the process if the call has not returned after twice that:
    a hang inside C++ with the GIL released would never return to Python to be timed."""
    faulthandler.dump_traceback_later(2 * seconds, exit=True, file=sys.stderr)
    started = time.perf_counter()
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
    elapsed = time.perf_counter() - started
    assert elapsed < seconds, f"one call took {elapsed:.1f} s (bound {seconds:g} s)"


def _save(inputs: Mapping[str, Any] | None, stem: str) -> Path:
    """Pickle ``inputs`` (what the call was given) to ``FAILURES / stem.pkl``."""
    FAILURES.mkdir(parents=True, exist_ok=True)
    path = FAILURES / f"{stem}.pkl"
    path.write_bytes(pickle.dumps(dict(inputs or {})))
    return path


@contextlib.contextmanager
def silent(inputs: Mapping[str, Any] | None = None) -> Iterator[None]:
    """Fails a call that writes to file descriptor 2 (the C++ core's logging reaches it, not
    ``sys.stderr``), after saving ``inputs`` and what it wrote (module docstring)."""
    sys.stderr.flush()
    if FUZZ:
        _save(inputs, "last-call")
        sink = open(FAILURES / "last-call.stderr", "w+b")  # noqa: SIM115 - closed below
    else:
        sink = tempfile.TemporaryFile()
    saved = os.dup(2)
    os.dup2(sink.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        sink.seek(0)
        written = sink.read().decode(errors="replace")
        sink.close()
        if written:
            # <test>-first: the first such call; <test>: the latest, which after hypothesis
            # has shrunk the example is the minimal one it reports.
            test = os.environ.get("PYTEST_CURRENT_TEST", "call").split("::")[-1].split(" ")[0]
            stems = [test] if (FAILURES / f"{test}-first.pkl").is_file() else \
                [f"{test}-first", test]
            for stem in stems:
                path = _save(inputs, stem)
                path.with_suffix(".stderr").write_text(written)
            raise AssertionError(f"the call wrote to stderr (a library prints nothing); its "
                                 f"inputs are in {path}:\n{written[:2000]}")


def outcome(call: Callable[[], Any], names: Sequence[str],
            inputs: Mapping[str, Any] | None = None) -> Any:
    """``call()`` under the time bound; returns its result, or None if it raised an allowed
    exception whose message names one of ``names`` (argument names, file names). Given
    ``inputs`` (what a fit was given), the call also fails if it writes to stderr
    (:func:`silent`, which saves them); file readers are not held to that, as OpenCV's
    decoders may log about a hostile video (README: out of scope)."""
    try:
        with time_bound(), (silent(inputs) if inputs is not None else
                            contextlib.nullcontext()):
            return call()
    except ALLOWED as err:
        message = str(err)
        assert any(name in message for name in names), (
            f"{type(err).__name__} does not name any of {list(names)}: {message}")
        return None


def assert_finite_fit(result: smplify.FitResult) -> None:
    """Every number of a FitResult is finite and its summary says how the solve ended."""
    for name in ("betas", "global_orient", "body_pose", "transl", "vertices", "joints"):
        value = getattr(result, name)
        assert np.all(np.isfinite(value)), f"{name} is not finite"
    for term, energy in result.energy.items():
        assert math.isfinite(energy), f"energy {term} = {energy}"
    assert result.summary["status"] in ("converged", "iteration_limit", "evaluation_failed")
    assert isinstance(result.summary["message"], str) and result.summary["message"]


def assert_finite_arrays(value: Any) -> None:
    """Every float array reachable in ``value`` (lists, dicts, attributes of a few types)."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            assert np.all(np.isfinite(value)), "an array read from the file is not finite"
    elif isinstance(value, (list, tuple)):
        for item in value:
            assert_finite_arrays(item)
    elif isinstance(value, dict):
        for item in value.values():
            assert_finite_arrays(item)
