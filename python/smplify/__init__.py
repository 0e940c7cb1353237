"""smplify: SMPLify body fitting from 2D keypoints, with a C++/Ceres core.

    import smplify
    res = smplify.fit(keypoints, format="coco17", image_size=(w, h))
    res.vertices, res.joints, res.betas, res.body_pose

See ``smplify.fit``, ``smplify.Fitter``, ``smplify.load_model`` and ``smplify.load_prior``;
``smplify.reference`` is the same fit in plain NumPy/SciPy, ``smplify.export`` writes meshes
and parameters, ``smplify.motion`` animated glTF/BVH of a sequence, ``smplify.render`` and
``smplify.pictures`` draw fits, ``smplify.synthetic`` makes test cases, ``smplify.tracking``
and ``smplify.pipeline`` follow people through a video (these load on first use).
``smplify.core_variant()`` says which build of the C++ core runs (``smplify.cpu_variant``).
``smplify.detect`` and ``smplify.fit_image`` find the people of a photo and fit each (the
``detect`` extra; ``smplify.detection`` its module).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# First: loads the build of the C++ core this processor runs as smplify._core.
from .cpu_variant import core_variant
from .errors import KeypointError, ModelFileError, SmplifyError, UnsafePickleError
from .fitter import Fitter
from .fitting import fit, fit_batch
from .keypoints import format_names
from .model import JOINT_NAMES, BodyModel, ModelOutput, load_model
from .options import FitOptions
from .prior import GMMPosePrior, load_prior
from .result import Camera, FitResult
from .sequence import SequenceResult, fit_sequence

if TYPE_CHECKING:
    from . import (
        detection,
        export,
        motion,
        pictures,
        pipeline,
        reference,
        render,
        synthetic,
        tracking,
    )

__version__ = "0.1.0"


# Submodules loaded on first attribute access (PEP 562), so `import smplify` stays fast and
# needs no extra: reference pulls in scipy.optimize (~0.4 s), export trimesh, render and
# pictures Pillow (and moderngl when they draw), detection MediaPipe when it detects.
_LAZY_SUBMODULES = ("detection", "export", "motion", "pictures", "pipeline", "reference",
                    "render", "synthetic", "tracking")


# Functions of optional parts, imported on first use: detect needs the ``detect`` extra.
_LAZY_FUNCTIONS = {"detect": "detection", "fit_image": "image_fit"}


def __getattr__(name: str) -> Any:
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY_FUNCTIONS:
        return getattr(importlib.import_module(f".{_LAZY_FUNCTIONS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_SUBMODULES) | set(_LAZY_FUNCTIONS))


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
    "core_variant",
    "detect",
    "detection",
    "export",
    "fit",
    "fit_batch",
    "fit_image",
    "fit_sequence",
    "format_names",
    "load_model",
    "load_prior",
    "motion",
    "pictures",
    "pipeline",
    "reference",
    "render",
    "synthetic",
    "tracking",
]
