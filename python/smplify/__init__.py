"""smplify: SMPLify body fitting from 2D keypoints, with a C++/Ceres core.

    import smplify
    res = smplify.fit(keypoints, format="coco17", image_size=(w, h))
    res.vertices, res.joints, res.betas, res.body_pose

See ``smplify.fit``, ``smplify.Fitter``, ``smplify.load_model`` and ``smplify.load_prior``;
``smplify.reference`` is the same fit in plain NumPy/SciPy, ``smplify.export`` writes meshes
and parameters, ``smplify.render`` draws fits and ``smplify.synthetic`` makes test cases
(these four load on first use).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import KeypointError, ModelFileError, SmplifyError, UnsafePickleError
from .fitting import Fitter, fit, fit_batch
from .keypoints import format_names
from .model import JOINT_NAMES, BodyModel, ModelOutput, load_model
from .options import FitOptions
from .prior import GMMPosePrior, load_prior
from .result import Camera, FitResult
from .sequence import SequenceResult, fit_sequence

if TYPE_CHECKING:
    from . import export, reference, render, synthetic

__version__ = "0.1.0"


# Submodules loaded on first attribute access (PEP 562), so `import smplify` stays fast:
# reference pulls in scipy.optimize (~0.4 s), export trimesh, render Pillow.
_LAZY_SUBMODULES = ("export", "reference", "render", "synthetic")


def __getattr__(name: str) -> Any:
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))


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
    "SequenceResult",
    "SmplifyError",
    "UnsafePickleError",
    "export",
    "fit",
    "fit_batch",
    "fit_sequence",
    "format_names",
    "load_model",
    "load_prior",
    "reference",
    "render",
    "synthetic",
]
