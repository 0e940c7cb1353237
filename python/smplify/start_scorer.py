"""The learned start scorer's shipped weights (``FitOptions.start_scorer="learned"``).

A fit from scratch with the learned initialiser's readings finishes ~15 starts; the scorer
keeps the one with the lowest w · f over the starts' features (``cpp/start_scorer.h``; NumPy
twin :func:`smplify.reference.selection.start_features`). w is learned from training mocap
subjects by ``tools/build_start_scorer.py`` and ships in ``smplify/data/start_scorer.npz``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import numpy as np

from .reference.selection import START_FEATURES

WEIGHTS_FILE = Path(__file__).resolve().parent / "data" / "start_scorer.npz"


@functools.cache
def weights() -> tuple[float, ...]:
    """w (F,) of the shipped scorer (cached); ValueError if it does not ship."""
    if not WEIGHTS_FILE.is_file():
        raise ValueError(f"start_scorer='learned': {WEIGHTS_FILE} does not ship "
                         "(tools/build_start_scorer.py builds it)")
    with WEIGHTS_FILE.open("rb") as handle, np.load(handle) as z:
        w = np.asarray(z["weights"], dtype=np.float64)
    if w.shape != (len(START_FEATURES),) or not np.isfinite(w).all():
        raise ValueError(f"{WEIGHTS_FILE}: weights must be {len(START_FEATURES)} finite "
                         f"values, got shape {w.shape}")
    return tuple(float(v) for v in w)


def metrics() -> dict[str, Any]:
    """The figures the build tool recorded with the weights (validation on training
    subjects' cases it did not fit w on)."""
    with WEIGHTS_FILE.open("rb") as handle, np.load(handle) as z:
        return json.loads(str(z["metrics"]))
