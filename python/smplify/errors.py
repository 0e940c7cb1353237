"""Exception types raised by smplify.

Every error smplify raises on bad input is a ``ValueError``, ``TypeError`` or
``FileNotFoundError`` naming the argument and what was expected; the ones
specific to smplify also derive from :class:`SmplifyError` so callers can catch
them all at once.
"""

from __future__ import annotations


class SmplifyError(Exception):
    """Base class of the errors specific to smplify."""


class ModelFileError(SmplifyError, ValueError):
    """A body-model, prior or capsule file has the wrong layout or unsafe content."""


class UnsafePickleError(ModelFileError):
    """A pickle asked for a class outside the allow-list; nothing in it was run."""


class KeypointError(SmplifyError, ValueError):
    """Keypoints have the wrong shape, non-finite values, or too few confident torso joints."""


class InputFileError(SmplifyError, ValueError):
    """A keypoint or image file cannot be used as it is (layout, shape, size)."""


class Unavailable(SmplifyError, RuntimeError):
    """Something this installation lacks (the open model file, ``smplify.fit``)."""
