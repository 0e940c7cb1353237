"""Which build of the C++ core this process runs (docs/design.md "CPU variants").

A wheel carries the core twice, from the same sources: ``_core`` for any x86-64 processor
(SSE2, the portable baseline) and ``_core_x86_64_v3`` for processors of the x86-64-v3 level
(AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE: Intel since Haswell, AMD since Excavator), each
linking a Ceres built the same way. Importing ``smplify`` imports this module first: it asks
``smplify._cpu`` (compiled for the baseline, so it runs anywhere) whether the processor
runs x86-64-v3 code, imports the fastest variant it can run and installs it as
``smplify._core``, the name the rest of the package imports. Other processors and builds
without the variant (a source build on Debian's Ceres) run the baseline.

The environment variable ``SMPLIFY_CPU`` chooses by hand (any case; ``x86_64_v3``, the
module's spelling, is accepted too): ``baseline`` forces the portable build, ``x86-64-v3``
insists on the other (ImportError where it is missing or cannot run), ``auto`` or unset picks.
An unknown value is an ImportError naming the variable and the accepted values. Under the
automatic choice, a v3 module present but failing to import (a damaged install) falls back to
the baseline with a warning. ``smplify.core_variant()`` says which one runs.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import warnings
from collections.abc import Iterable

#: The environment variable that chooses the variant by hand.
ENV = "SMPLIFY_CPU"
#: Variant -> module in this package, fastest first.
MODULES = {"x86-64-v3": "_core_x86_64_v3", "baseline": "_core"}

_loaded: str | None = None


def choose(requested: str | None, supports_x86_64_v3: bool, available: Iterable[str]) -> str:
    """The variant to load.

    Parameters
    ----------
    requested : the value of ``SMPLIFY_CPU`` (None or "" when unset: "auto").
    supports_x86_64_v3 : whether the processor and OS run x86-64-v3 code.
    available : the variants this installation has (names of ``MODULES``).

    Raises ImportError naming ``SMPLIFY_CPU`` for an unknown value (it is raised at
    ``import smplify``), or when it asks for a variant this installation lacks or this
    processor cannot run.
    """
    requested = normalise(requested)
    available = set(available)
    if requested == "x86-64-v3":
        if "x86-64-v3" not in available:
            raise ImportError(f"{ENV}=x86-64-v3, but this installation of smplify has no "
                              "x86-64-v3 build of its core (a wheel has it; a source build "
                              "needs SMPLIFY_CERES_X86_64_V3)")
        if not supports_x86_64_v3:
            raise ImportError(f"{ENV}=x86-64-v3, but this processor cannot run x86-64-v3 "
                              "code (AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE)")
        return "x86-64-v3"
    if requested == "auto" and supports_x86_64_v3 and "x86-64-v3" in available:
        return "x86-64-v3"
    return "baseline"


def normalise(requested: str | None) -> str:
    """``SMPLIFY_CPU``'s value as a variant name or "auto" (any case; ``_`` for ``-``).

    Raises ImportError naming the variable and the accepted values for anything else.
    """
    value = (requested or "auto").strip().lower()
    if value.replace("_", "-") in ("auto", *MODULES):
        return value.replace("_", "-")
    raise ImportError(f"{ENV}={requested!r}: expected one of auto, " + ", ".join(MODULES)
                      + " (any case; x86_64_v3 is accepted for x86-64-v3)")


def _import(variant: str):
    return importlib.import_module(f"{__package__}.{MODULES[variant]}")


def _available() -> list[str]:
    return [variant for variant, module in MODULES.items()
            if importlib.util.find_spec(f"{__package__}.{module}") is not None]


def _supports_x86_64_v3() -> bool:
    try:
        from . import _cpu
    except ImportError:  # a build from before the variants: baseline only
        return False
    return bool(_cpu.supports_x86_64_v3())


def load() -> str:
    """Imports the chosen variant as ``smplify._core`` (once) and returns its name."""
    global _loaded
    if _loaded is None:
        requested = os.environ.get(ENV)
        variant = choose(requested, _supports_x86_64_v3(), _available())
        try:
            module = _import(variant)
        except ImportError as error:
            if variant == "baseline" or normalise(requested) != "auto":
                raise
            # Chosen automatically, yet broken (a damaged or partial install): the baseline
            # runs everywhere, so the package still works, a little slower.
            warnings.warn(f"smplify: the x86-64-v3 build of the core failed to import "
                          f"({error}); running the baseline build ({ENV}=baseline silences "
                          "this)", RuntimeWarning, stacklevel=2)
            variant = "baseline"
            module = _import(variant)
        sys.modules[f"{__package__}._core"] = module
        sys.modules[__package__]._core = module
        _loaded = variant
    return _loaded


def core_variant() -> str:
    """The build of the C++ core this process runs: "x86-64-v3" or "baseline".

    Chosen when ``smplify`` is imported: the fastest this processor runs, or the one the
    environment variable ``SMPLIFY_CPU`` names (``baseline``, ``x86-64-v3``, ``auto``).
    """
    return load()


load()
