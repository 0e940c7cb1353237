"""Optional dependencies in tests: skip when absent on a developer's machine, fail in CI.

CI (``CI=true``, as ``.ci/run`` is started) installs every extra through ``make test``, so a
missing one there is a broken install, not a reason to skip.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(what: str) -> None:
    """Skip (developer machine) or fail (CI) a test that needs ``what``."""
    if in_ci():
        pytest.fail(f"{what} is missing in CI: `make test` should have installed it")
    pytest.skip(f"{what} is not installed")


def need_module(name: str, extra: str) -> ModuleType:
    """Import ``name`` (a dependency of ``smplify[extra]``) or skip/fail."""
    try:
        return importlib.import_module(name)
    except ImportError:
        unavailable(f"{name} (smplify[{extra}])")
        raise AssertionError("unreachable") from None


def need_renderer() -> None:
    """The GL renderer works here (moderngl and the EGL libraries), or skip/fail."""
    need_module("moderngl", "render")
    from smplify import _gl

    try:
        _gl._context()
    except _gl.RenderUnavailable as err:
        unavailable(f"a headless OpenGL context ({err})")


#: Where Debian's opencv-doc puts its sample photo and video (``make test`` installs it).
OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")


def opencv_sample(name: str) -> Path:
    """A sample file of Debian's opencv-doc (messi5.jpg, vtest.avi), or skip/fail."""
    path = OPENCV_DATA / name
    if not path.is_file():
        unavailable(f"{path} (Debian package opencv-doc)")
    return path
