"""Run a benchmark or tuning tool with other ``FitOptions`` defaults.

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python benchmarks/with_defaults.py \\
        '{"reading_weight": 100}' tools/tune_sequence.py --cache /tmp/seq

Every ``FitOptions`` made without the option named (the library's own fits, the Fitter's,
``fit_sequence``'s keyframe and per-frame fits) gets the value given instead of its default;
an option a caller passes explicitly keeps that value. For options no tool can pass: e.g.
``fit_sequence(reading_weight=…)`` is ``SequenceOptions``' path weight w_R, so FitOptions' λ_R
of its frames' fits from scratch is reachable only as a default.
"""

from __future__ import annotations

import functools
import json
import runpy
import sys
from dataclasses import fields

import smplify
from smplify.options import FitOptions


def override(defaults: dict) -> None:
    """Make ``defaults`` FitOptions' defaults for this process."""
    names = {f.name for f in fields(FitOptions)}
    unknown = sorted(set(defaults) - names)
    if unknown:
        raise ValueError(f"defaults: not FitOptions fields: {unknown}")
    init = FitOptions.__init__

    @functools.wraps(init)
    def patched(self, *args, **kwargs):
        for key, value in defaults.items():
            kwargs.setdefault(key, value)
        init(self, *args, **kwargs)

    FitOptions.__init__ = patched  # type: ignore[method-assign]
    assert all(getattr(smplify.FitOptions(), k) == v for k, v in defaults.items())


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    override(json.loads(sys.argv[1]))
    script = sys.argv[2]
    sys.argv = [script, *sys.argv[3:]]
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
