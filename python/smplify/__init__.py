"""smplify: SMPLify body fitting from 2D keypoints, with a C++/Ceres core.

See ``smplify.fit`` and ``smplify.load_model``.
"""

from __future__ import annotations

from .errors import KeypointError, ModelFileError, SmplifyError, UnsafePickleError
from .model import JOINT_NAMES, BodyModel, ModelOutput, load_model
from .options import FitOptions
from .result import Camera, FitResult

__version__ = "0.1.0"

__all__ = [
    "JOINT_NAMES",
    "BodyModel",
    "Camera",
    "FitOptions",
    "FitResult",
    "KeypointError",
    "ModelFileError",
    "ModelOutput",
    "SmplifyError",
    "UnsafePickleError",
    "load_model",
]
