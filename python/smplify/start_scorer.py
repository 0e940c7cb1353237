"""The learned start scorer's shipped weights (``FitOptions.start_scorer="learned"``).

A fit from scratch with the learned initialiser's readings finishes ~15 starts; the scorer
keeps the one with the lowest s = v · tanh(Wᵀ f + b) over the starts' features f
(``cpp/start_scorer.h``; NumPy twins :func:`smplify.reference.selection.start_features` and
``start_scores``). W, b, v are learned from training mocap subjects by
``tools/build_start_scorer.py`` and ship in ``smplify/data/start_scorer.npz``, with the
fingerprint of the body model they were learned on (:func:`smplify.initializer.model_fingerprint`,
as the initialisers' weights): weights learned on another model (the model rebuilt, the scorer
not) load with a warning.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import numpy as np

#: Features of a start (``cpp/start_scorer.h``), in order.
START_FEATURES = ("default score", "selection data", "reading score", "pose", "angle", "shape",
                  "E_3D against the observation's 3D", "interpenetration", "reading start",
                  "log-probability gap", "flipped", "agreement", "basin share",
                  "distance to the readings", "nearest start", "nearest reading's gap",
                  "depth order against the observation's 3D")

WEIGHTS_FILE = Path(__file__).resolve().parent / "data" / "start_scorer.npz"


@functools.cache
def weights() -> tuple[float, ...]:
    """The shipped scorer's [W (F, H) row by row, b (H,), v (H,)] (cached); the C++
    FitOptions.start_scorer takes them after the feature count F, [F, W, b, v], so that
    weights of another feature set are rejected, not misread (cpp/start_scorer.h).
    ValueError if it does not ship or its shapes are wrong. Warns
    (UserWarning, once) when it was learned on another body model than the shipped one."""
    if not WEIGHTS_FILE.is_file():
        raise ValueError(f"start_scorer='learned': {WEIGHTS_FILE} does not ship "
                         "(tools/build_start_scorer.py builds it)")
    with WEIGHTS_FILE.open("rb") as handle, np.load(handle) as z:
        w, b, v = (np.asarray(z[k], dtype=np.float64) for k in ("W", "b", "v"))
        fingerprint = str(z["model_fingerprint"]) if "model_fingerprint" in z.files else None
    f = len(START_FEATURES)
    if w.ndim != 2 or w.shape[0] != f or b.shape != (w.shape[1],) or \
            v.shape != (w.shape[1],) or not all(np.isfinite(a).all() for a in (w, b, v)):
        raise ValueError(f"{WEIGHTS_FILE}: need finite W ({f}, H), b (H,), v (H,); got "
                         f"{w.shape}, {b.shape}, {v.shape}")
    from .initializer import _warn_if_stale

    _warn_if_stale("start_scorer.npz was learned", fingerprint, "its choices may be off",
                   "tools/build_start_scorer.py")
    return tuple(float(x) for x in np.concatenate([w.ravel(), b, v]))


def metrics() -> dict[str, Any]:
    """The figures the build tool recorded with the weights (validation on training
    subjects' cases it did not fit w on)."""
    with WEIGHTS_FILE.open("rb") as handle, np.load(handle) as z:
        return json.loads(str(z["metrics"]))
