"""``smplify.fit_image``: a photo in, one fitted body per person out (SMPLify's two stages).

Stage 1 is the detector (``smplify.detection``: MediaPipe Pose for every person, the
``detect`` extra), stage 2 the fit of each person's 33 keypoints (``smplify.fit``, format
"mediapipe33") with MediaPipe's world landmarks as the fit's ``keypoints_3d``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .detection import Detector, load_image
from .fitting import fit
from .result import FitResult

__all__ = ["fit_image"]

#: Where :func:`fit_image` keeps, in each result's ``summary``, the coarse content of the
#: picture it fitted (:func:`picture_signature`): ``smplify.pictures`` tells that picture from
#: the same photo turned 180° or mirrored (EXIF orientations 2–4, which keep the size: a
#: photo read without its orientation), which the picture's size cannot show.
SIGNATURE_KEY = "picture_signature"
#: The signature's blocks per side.
SIGNATURE_BLOCKS = 8


#: A picture larger than this many pixels on its shorter side is read at every s-th pixel
#: of every s-th row (a strided view, s = side // this) before its blocks are averaged: the
#: mean of ≥ 32 × 32 pixels of each block, not of all of them, and a 12 MP photo is neither
#: copied nor converted to floats whole (12 MP: median 88 → 1.3 ms, alternated, load ~4).
_SIGNATURE_SIDE = 256


def picture_signature(picture: ArrayLike) -> np.ndarray:
    """(8, 8) mean grey levels (0–255) of a picture's 8 × 8 blocks: its coarse content, the
    same under re-encoding and turned as the picture is turned.

    ``picture``: (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA, uint8 (anything else is a
    ValueError: a float picture in 0–1 or a 16-bit one would not read as its grey levels).
    """
    from PIL import Image

    pixels = np.asarray(picture)
    if pixels.dtype != np.uint8 or not (pixels.ndim == 2 or (
            pixels.ndim == 3 and pixels.shape[2] in (3, 4))):
        raise ValueError("picture: expected (H, W), (H, W, 3) or (H, W, 4) uint8, got "
                         f"{pixels.dtype} {pixels.shape}")
    step = max(1, min(pixels.shape[:2]) // _SIGNATURE_SIDE)
    grey = Image.fromarray(np.ascontiguousarray(pixels[::step, ::step])).convert("L")
    return np.asarray(grey.convert("F").resize((SIGNATURE_BLOCKS, SIGNATURE_BLOCKS),
                                               Image.Resampling.BOX), dtype=np.float64)


def fit_image(image: Any, *, focal_length: float | str | None = None, model: Any = "open",
              max_people: int = 10, min_confidence: float = 0.5,
              detector: Detector | None = None, world_landmarks: bool = True,
              **options: Any) -> list[FitResult]:
    """Detect every person in a photo and fit the body model to each.

    Parameters
    ----------
    image : str, Path, or (H, W, 3) uint8 array_like
        A photo file or RGB pixels (``smplify.detection.load_image``).
    focal_length : float, "estimate" or None, optional
        Pixels; None: the default of ``smplify.fit``; "estimate": from each person's keypoints.
    model : str, Path or BodyModel
        As for ``smplify.fit``.
    max_people : int
        At most this many people (ignored when ``detector`` is given).
    min_confidence : float
        The detector's threshold, in (0, 1) (ignored when ``detector`` is given).
    detector : Detector, optional
        A detector to reuse across calls.
    world_landmarks : bool
        Give the fit MediaPipe's world landmarks as ``keypoints_3d`` (the depth evidence of
        SPEC §6: which limb is nearer the camera). False: the 2D keypoints only, as SMPLify.
    **options
        Fit options, as for ``smplify.fit``.

    Returns
    -------
    list of FitResult
        One per person, in the detector's order (largest first); empty when nobody is found.
        ``result.keypoints_2d`` (33, 2) are the model's points; the detected ones are
        ``smplify.detect(image)`` in the same order. ``result.summary["picture_signature"]``
        is the fitted picture's coarse content (:func:`picture_signature`): the pictures of
        ``smplify.pictures`` refuse the photo turned 180° or mirrored with it (a photo read
        without its EXIF orientation).

    Raises
    ------
    DetectorUnavailable
        The ``detect`` extra is not installed.
    """
    from .detection import _shared_detector

    rgb = load_image(image)
    if detector is None:
        detector = _shared_detector(int(max_people), float(min_confidence), True)
    size = (rgb.shape[1], rgb.shape[0])
    results = [fit(person.keypoints, "mediapipe33", size, focal_length, model=model,
                   keypoints_3d=person.world if world_landmarks else None, **options)
               for person in detector.detect(rgb)]
    signature = picture_signature(rgb) if results else None
    for result in results:
        result.summary[SIGNATURE_KEY] = signature
    return results
