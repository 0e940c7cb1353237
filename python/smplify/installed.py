"""What this installation has: the open body model and the compiled fit, explained when absent.

Shared by the ``smplify`` command (`smplify.cli`) and the demo (`smplify.demo`).
"""

from __future__ import annotations

from typing import Any

from .errors import Unavailable
from .model import BodyModel, load_model
from .model_io import DATA_DIR


def load_model_or_explain(name_or_path: str, gender: str = "neutral",
                          num_betas: int = 10) -> BodyModel:
    """``load_model``, with a clear message when the shipped open model is not installed."""
    if name_or_path == "open":
        path = DATA_DIR / f"open_body_{gender}.npz"
        if not path.is_file():
            raise Unavailable(
                f"the open body model is not installed (no {path}); pass --model with the "
                "path of an SMPL .pkl/.npz file")
    return load_model(name_or_path, gender=gender, num_betas=num_betas)


def fit_function(reference: bool = False) -> Any:
    """``smplify.fit`` (or ``smplify.reference.fit``); Unavailable if it is not installed."""
    if reference:
        from .reference import fit as reference_fit

        return reference_fit
    import smplify

    fit = getattr(smplify, "fit", None)
    if not callable(fit):
        raise Unavailable("this installation of smplify has no smplify.fit (the pure NumPy "
                          "smplify.reference.fit runs with --reference)")
    return fit
