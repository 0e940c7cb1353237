"""The keypoint formats' former home, kept so that ``smplify.keypoint_formats`` imports work.

The code lives in the `smplify.keypoints` package (formats, resolve, validate, readers).
"""

from __future__ import annotations

from . import keypoints as _keypoints
from .keypoints import *  # noqa: F403  (the package's public names, nothing else)

__all__ = list(_keypoints.__all__)
