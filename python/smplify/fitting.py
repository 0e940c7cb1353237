"""The SMPLify fit of photos on the C++ core: ``smplify.fit`` (one image) and
``smplify.fit_batch`` (many, in parallel), each a fit from scratch by a :class:`smplify.Fitter`
(:mod:`smplify.fitter`) with a photo's options.

Python validates the input and assembles the problem (:mod:`smplify.problem`, shared with
the pure NumPy twin :mod:`smplify.reference`); the C++ ``_core.Fitter``
(:mod:`smplify.core_fitter`) runs the camera initialisation, torso fit, orientation test and
the four dogleg stages with the GIL released.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from .fitter import Fitter, FocalLength, _model, _prior
from .keypoints import KeypointFormat
from .options import FitOptions
from .result import FitResult


def fit(keypoints: Any, format: str | KeypointFormat, image_size: Sequence[float],
        focal_length: FocalLength = None, model: Any = "open", prior: Any = "open",
        keypoints_3d: Any = None, **options: Any) -> FitResult:
    """Fit the body model to the 2D keypoints of one person (SMPLify, SPEC §3).

    Parameters
    ----------
    keypoints : (K, 3) array of x, y (pixels) and confidence, or (K, 2) x, y (confidence 1).
        K is the format's keypoint count; a missing keypoint has confidence 0.
    format : a keypoint format name, "smpl24", "coco17", "openpose25", "mediapipe33" or
        "lsp14", or a :class:`smplify.KeypointFormat` (e.g. ``keypoints.with_blended_hips``'s;
        its name decides which learned initialiser reads it: none for a new name).
    image_size : (width, height) in pixels.
    focal_length : pixels; None for ``default_focal_length`` (the image diagonal; 5000
        with ``preset="paper"``); or "estimate": searched from the keypoints' perspective
        (:mod:`smplify.focal`: ~14 quick fits before the fit, a few times its time).
        ``result.camera.focal_length`` and ``summary["focal_length"]`` give the focal length
        used, ``summary["focal_length_source"]`` where it came from ("given", "image
        diagonal", "default_focal_length" or "estimated").
    model : "open" (the shipped model), a path to an SMPL .pkl/.npz, or a loaded model.
    prior : "open", a path to a GMM prior (.npz or the authors' gmm_08.pkl), or a loaded prior.
    keypoints_3d : (K, 3) metres, or None. The detector's own 3D keypoints (depth evidence,
        SPEC §6) in camera-aligned axes: x right, y down, z away from the camera, any origin
        (MediaPipe's world landmarks are exactly this), NaN rows where unknown. They add the
        robust relative 3D term E_3D (``keypoints_3d_weight``, ``keypoints_3d_sigma``), which
        tells the fit which limb is nearer the camera where the 2D cannot.
    **options : fields of :class:`smplify.FitOptions` (stage weights, iterations, flip,
        threads, ...).

    Returns
    -------
    FitResult: betas (B,), global_orient (3,), body_pose (69,), transl (3,) in the camera
    frame, camera, joints (24, 3), vertices (N, 3), keypoints_3d (K, 3), keypoints_2d (K, 2),
    energy per term, and a summary of the solver stages.

    Raises
    ------
    ValueError / KeypointError : bad keypoints, format, image size or focal length.
    TypeError : non-numeric input or an unknown option.
    """
    return Fitter(model, format=format, image_size=image_size, focal_length=focal_length,
                  prior=prior, **photo_options(options, format)).fit(
        keypoints, warm_start=False, keypoints_3d=keypoints_3d)

def photo_options(options: Mapping[str, Any], format: str | KeypointFormat) -> dict[str, Any]:
    """Fit options (keywords, ``preset`` allowed) for a fit of one image of ``format``:
    ``prune_starts`` and ``start_scorer`` "auto" made concrete (:meth:`FitOptions.for_photo`;
    a Fitter's frames and fit_sequence keep "auto", 0 and "energy" there: ``_core_options``)."""
    return FitOptions.from_kwargs(**options).for_photo(format).to_dict()


def fit_batch(list_of_keypoints: Sequence[Any], format: str | KeypointFormat,
              image_size: Sequence[float], focal_length: FocalLength = None,
              model: Any = "open", prior: Any = "open",
              threads: int | None = None, keypoints_3d: Sequence[Any] | None = None,
              **options: Any) -> list[FitResult]:
    """Fit many independent images in parallel (each from scratch).

    Parameters
    ----------
    list_of_keypoints : sequence of (K, 3) or (K, 2) arrays.
    format, image_size, focal_length, model, prior, **options : as :func:`fit`
        ("estimate" estimates each image's own focal length).
    threads : worker threads (None: the machine's cores), each running one fit at a time on
        one thread. Ceres releases the GIL, so fits run truly in parallel.
    keypoints_3d : None, or one (K, 3) array (or None) per image, as :func:`fit`'s.

    Returns
    -------
    list of FitResult, in input order.

    Raises
    ------
    As :func:`fit`. An error of one image (its keypoints, its focal-length search, its fit)
    stops the batch with that error's type, its message prefixed ``list_of_keypoints[i]: ``;
    an error of the shared arguments (format, image size, options) names no image.
    """
    body = _model(model)
    pose_prior = _prior(prior)
    if threads is not None and (isinstance(threads, bool)
                                or not isinstance(threads, (int, np.integer)) or threads < 1):
        raise ValueError(f"threads must be None or an integer >= 1, got {threads!r}")
    workers = (os.cpu_count() or 1) if threads is None else int(threads)

    if keypoints_3d is None:
        keypoints_3d = [None] * len(list_of_keypoints)
    elif len(keypoints_3d) != len(list_of_keypoints):
        raise ValueError(f"keypoints_3d: expected None or one entry per image "
                         f"({len(list_of_keypoints)}), got {len(keypoints_3d)}")

    # The arguments every image shares are checked once, so that their error names no image.
    Fitter(body, format=format, image_size=image_size, focal_length=focal_length,
           prior=pose_prior, **photo_options(options, format))

    def one(index: int, keypoints: Any, points_3d: Any) -> FitResult:
        # One thread per fit: the pool already keeps every core busy.
        try:
            return fit(keypoints, format, image_size, focal_length, body, pose_prior,
                       keypoints_3d=points_3d, threads=1, **options)
        except Exception as error:
            raise _naming_image(error, index) from error

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, range(len(list_of_keypoints)), list_of_keypoints,
                             keypoints_3d))

def _naming_image(error: Exception, index: int) -> Exception:
    """``error`` of fit_batch's image ``index``: the same type, its message prefixed with
    the image (the error itself where its type takes no single message)."""
    try:
        named = type(error)(f"list_of_keypoints[{index}]: {error}")
    except Exception:
        return error
    return named if str(named).startswith("list_of_keypoints[") else error
