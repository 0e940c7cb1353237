"""smplify: SMPLify body fitting from 2D keypoints, with a C++/Ceres core.

    import smplify
    res = smplify.fit(keypoints, format="coco17", image_size=(w, h))
    res.vertices, res.joints, res.betas, res.body_pose

See ``smplify.fit``, ``smplify.Fitter``, ``smplify.load_model`` and ``smplify.load_prior``;
``smplify.reference`` is the same fit in plain NumPy/SciPy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import KeypointError, ModelFileError, SmplifyError, UnsafePickleError
from .fitting import Fitter, fit, fit_batch
from .keypoint_formats import format_names
from .model import JOINT_NAMES, BodyModel, ModelOutput, load_model
from .options import FitOptions
from .prior import GMMPosePrior, load_prior
from .result import Camera, FitResult

if TYPE_CHECKING:
    from . import reference

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # smplify.reference pulls in scipy.optimize (~0.4 s): load it on first use (PEP 562).
    if name == "reference":
        return importlib.import_module(".reference", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "JOINT_NAMES",
    "BodyModel",
    "Camera",
    "FitOptions",
    "FitResult",
    "Fitter",
    "GMMPosePrior",
    "KeypointError",
    "ModelFileError",
    "ModelOutput",
    "SmplifyError",
    "UnsafePickleError",
    "fit",
    "fit_batch",
    "format_names",
    "load_model",
    "load_prior",
    "reference",
]
