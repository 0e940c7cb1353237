"""Pictures of a fit: the photo it was fitted on, and the mesh drawn over it.

``draw_fit`` / ``draw_fits`` put fits over their photo through their camera (shaded,
semi-transparent meshes rendered by ``smplify.render``, one colour per person; detected
keypoints red, the model's green, a yellow line joining each pair); ``draw_fit_side`` shows a
fit from its side (``smplify.render.side_camera``). They need the ``render`` extra.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from PIL import Image, ImageDraw

from .errors import InputFileError
from .meshes import merge_meshes
from .render import (
    PerspectiveCamera,
    _background,
    _discs,
    _points,
    project_points,
    render_mesh,
    side_camera,
)

__all__ = ["DETECTED_COLOR", "FIT_COLOR", "MODEL_COLOR", "TRACK_COLORS", "draw_fit",
           "draw_fit_side", "draw_fits", "load_photo", "render_fit"]

FIT_COLOR = (0.45, 0.62, 0.95)  # the fitted body in draw_fit / draw_fit_side
# One colour per person in draw_fits (tracks of a video keep theirs).
TRACK_COLORS = (FIT_COLOR, (0.95, 0.60, 0.30), (0.45, 0.85, 0.55), (0.85, 0.45, 0.85),
                (0.95, 0.85, 0.35), (0.40, 0.85, 0.90), (0.90, 0.45, 0.45), (0.65, 0.65, 0.70))
DETECTED_COLOR = (220, 30, 30)  # keypoints from the detector or the keypoint file
MODEL_COLOR = (30, 170, 60)  # the fitted model's keypoints


def load_photo(path: Path, image_size: tuple[int, int]) -> np.ndarray:
    """The photo behind a fit's picture, read as the detector reads it
    (:func:`smplify.detection.load_image`: EXIF orientation, 16-bit greys to 8 bits), and
    checked against the keypoints' image size."""
    from .detection import load_image

    photo = load_image(path, "photo")
    if (photo.shape[1], photo.shape[0]) != tuple(image_size):
        raise InputFileError(f"{path}: the image is {photo.shape[1]} x {photo.shape[0]} px but the "
                        f"keypoints are for {image_size[0]} x {image_size[1]} px")
    return photo


def render_fit(result: Any, keypoints: np.ndarray, image_size: tuple[int, int],
               photo: np.ndarray | None = None) -> np.ndarray:
    """Picture of a fit: the mesh through the fit's camera over ``photo`` (or white).

    Parameters
    ----------
    result : FitResult
    keypoints : (K, 3) detected keypoints (pixels, confidence), drawn in red.
    image_size : (width, height) in pixels.
    photo : (H, W, 3) uint8, optional background.

    Returns
    -------
    (H, W, 3) uint8; the model's keypoints (``result.keypoints_2d``) are drawn in green.
    """
    return draw_fit(result, photo, keypoints=keypoints, image_size=image_size)


def draw_fit(result: Any, image: ArrayLike | str | os.PathLike[str] | None = None, *,
             keypoints: ArrayLike | None = None, image_size: tuple[int, int] | None = None,
             opacity: float = 0.6, samples: int = 4) -> NDArray[np.uint8]:
    """A fit over its photo: the shaded, semi-transparent mesh and the 2D keypoints.

    Parameters
    ----------
    result : FitResult
        Needs ``vertices`` (N, 3), ``faces`` (F, 3), ``camera`` and ``keypoints_2d`` (K, 2).
    image : (H, W, 3) uint8, or str / Path, optional
        The photo or video frame, upright as the fit saw it (a path is read so:
        :func:`smplify.detection.load_image`, EXIF orientation applied); None: a white canvas
        of ``image_size``. The photo turned (read without its EXIF orientation) is a
        ValueError: by its size when turned a quarter; turned 180° or mirrored (and, for a
        square photo, whose size no turn changes, turned a quarter or transposed) when the
        fit kept its picture's signature (``smplify.fit_image``'s).
    keypoints : (K, 2) or (K, 3) array_like, optional
        The detected keypoints (pixels, confidence), drawn red; the model's
        (``result.keypoints_2d``) are drawn green.
    image_size : (2,) tuple of int, optional
        (width, height) when there is no ``image``.
    opacity : float
        The mesh's share of a covered pixel.
    samples : int
        Multisampling (4: anti-aliased silhouette).

    Returns
    -------
    (H, W, 3) uint8 ndarray
    """
    return draw_fits([result], image, keypoints=None if keypoints is None else [keypoints],
                     image_size=image_size, opacity=opacity, samples=samples)


#: A picture turned as a photo read without its EXIF orientation 3, 2 or 4 is (the same
#: size): each turn of a picture signature (``image_fit.picture_signature``, (8, 8)).
_SAME_SIZE_TURNS = {"turned 180°": lambda s: s[::-1, ::-1],
                    "mirrored left to right": lambda s: s[:, ::-1],
                    "mirrored top to bottom": lambda s: s[::-1]}
#: A SQUARE picture keeps its size under EXIF orientations 5–8 too (a quarter turn, read
#: raw), so the size check cannot see them: these turns are tried as well when width ==
#: height.
_SQUARE_TURNS = {**_SAME_SIZE_TURNS,
                 "turned 90° clockwise": lambda s: np.rot90(s, -1),
                 "turned 90° anticlockwise": lambda s: np.rot90(s, 1),
                 "transposed": lambda s: s.T,
                 "transposed across its other diagonal": lambda s: s[::-1, ::-1].T}
#: Signatures this close (mean grey levels, 0–255) are one picture (re-encoding moves a
#: block's mean by ~1).
_SAME_PICTURE = 4.0
_READ_UPRIGHT = ("read without its EXIF orientation? Read it as smplify.detect does: "
                 "smplify.detection.load_image(path), or pass the path")


def _check_turned(picture: NDArray[np.uint8], result: Any) -> None:
    """A ValueError when ``picture`` is the fits' picture turned: a phone photo read without
    its EXIF orientation, where the fit was of the photo as shown. Turned a quarter (EXIF 5–8)
    its width is the fits' height and its height their width (the camera's centre is the
    picture's); turned 180° or mirrored (EXIF 2–4) it keeps its size, and only a fit that
    kept its picture's signature (``smplify.fit_image``'s ``summary["picture_signature"]``)
    can tell: the picture is refused where a turn of that signature matches it and the
    signature itself does not. A square picture keeps its size under every orientation, so
    there the quarter turns and both transposes (EXIF 5–8) are tried by the signature too."""
    height, width = picture.shape[:2]
    fitted = 2.0 * np.asarray(result.camera.center, dtype=np.float64)  # (width, height)
    if width != height and np.allclose(fitted, (height, width), atol=1.0):
        raise ValueError(f"image: {width} x {height} px, but the fits are of a {height} x "
                         f"{width} px picture: the photo turned, {_READ_UPRIGHT}")
    from .image_fit import SIGNATURE_KEY, picture_signature

    signature = (getattr(result, "summary", None) or {}).get(SIGNATURE_KEY)
    if signature is None or not np.allclose(fitted, (width, height), atol=1.0):
        return
    signature = np.asarray(signature, dtype=np.float64)
    seen = picture_signature(picture)
    here = float(np.abs(seen - signature).mean())
    for name, turn in (_SQUARE_TURNS if width == height else _SAME_SIZE_TURNS).items():
        if float(np.abs(seen - turn(signature)).mean()) < min(_SAME_PICTURE, here / 4.0):
            raise ValueError(f"image: the fits' picture {name}, {_READ_UPRIGHT}")


def draw_fits(results: Sequence[Any], image: ArrayLike | str | os.PathLike[str] | None = None, *,
              keypoints: Sequence[ArrayLike | None] | None = None,
              image_size: tuple[int, int] | None = None,
              colors: Sequence[Any] | None = None, opacity: float = 0.6,
              samples: int = 4) -> NDArray[np.uint8]:
    """Several people's fits over one picture, in one pass (so the nearer hides the farther).

    Parameters
    ----------
    results : sequence of FitResult
        Fits of the people of one picture; they must share the camera.
    image : (H, W, 3) uint8, or str / Path, optional
        The picture, upright as the fits saw it (a path is read so, as by
        :func:`draw_fit`; a turned photo is refused as there); None: a white canvas of
        ``image_size``.
    keypoints : sequence of (K, 2) / (K, 3) array_like or None, optional
        Each person's detected keypoints (red); the model's are drawn green.
    image_size : (2,) tuple of int, optional
        (width, height) when there is no ``image``.
    colors : sequence of (3,) colours, optional
        One RGB in [0, 1] per person; default ``TRACK_COLORS`` in turn.
    opacity : float
        The meshes' share of a covered pixel.
    samples : int
        Multisampling.

    Returns
    -------
    (H, W, 3) uint8 ndarray
    """
    results = list(results)
    if keypoints is not None and len(keypoints) != len(results):
        raise ValueError(f"keypoints: expected {len(results)} arrays (one per result), got "
                         f"{len(keypoints)}")
    if colors is not None and len(colors) != len(results):
        raise ValueError(f"colors: expected {len(results)} colours, got {len(colors)}")
    if isinstance(image, (str, os.PathLike)):
        from .detection import load_image

        image = load_image(image)
    picture = _background(image, image_size, (255, 255, 255))
    if not results:
        return picture
    camera = results[0].camera
    for r in results[1:]:
        if not (np.isclose(float(r.camera.focal_length), float(camera.focal_length)) and
                np.allclose(r.camera.center, camera.center)):
            raise ValueError("results: the fits of one picture must share the camera "
                             "(focal_length, center)")
    _check_turned(picture, results[0])
    colors = colors or [TRACK_COLORS[i % len(TRACK_COLORS)] for i in range(len(results))]
    vertices, faces, face_colors = merge_meshes(
        [(r.vertices, r.faces) for r in results], colors=list(colors))
    picture = render_mesh(vertices, faces, camera=camera, image=picture, color=face_colors,
                          opacity=opacity, samples=samples, smooth=True, ambient=0.35)
    return _draw_keypoints(picture, [(None if keypoints is None else keypoints[i],
                                      r.keypoints_2d) for i, r in enumerate(results)])


def draw_fit_side(result: Any, image_size: tuple[int, int], *, samples: int = 4,
                  background: tuple[int, int, int] = (255, 255, 255),
                  frame: str = "photo") -> NDArray[np.uint8]:
    """The fit seen from its side (:func:`side_camera`), opaque, on a plain background.

    Parameters
    ----------
    result : FitResult
    image_size : (2,) tuple of int
        (width, height), pixels.
    samples : int
        Multisampling.
    background : (3,) tuple of int
        RGB.
    frame : {"photo", "body"}
        "photo": at the place and scale the body has in the photo (pass the photo's size; a
        ``ValueError`` if no part of the body lands in the picture, e.g. a thumbnail's size
        with a large photo's camera). "body": the same view zoomed and centred so the whole
        body fills 90 % of the picture, at any size.

    Returns
    -------
    (H, W, 3) uint8 ndarray
    """
    if frame not in ("photo", "body"):
        raise ValueError(f"draw_fit_side: frame must be 'photo' or 'body', got {frame!r}")
    cam = side_camera(result.vertices, result.camera, image_size)
    uv, depth = project_points(result.vertices, cam)
    ahead = depth > 1e-6
    if frame == "body":
        if not np.all(ahead):
            raise ValueError("draw_fit_side: the body reaches behind the side view's camera; "
                             "frame='body' needs it wholly in front (use frame='photo')")
        cam = _framing_body(cam, (uv - np.asarray(cam.center)) / cam.focal_length, image_size)
    else:
        width, height = image_size
        uv = uv[ahead]
        inside = (uv[:, 0] >= 0) & (uv[:, 0] < width) & (uv[:, 1] >= 0) & (uv[:, 1] < height)
        if not inside.any():
            raise ValueError(
                f"draw_fit_side: no part of the body lands in a {width} x {height} picture at "
                "the photo's place and scale; pass the photo's (width, height) as image_size, "
                "or frame='body' for a picture of any size")
    return render_mesh(result.vertices, result.faces, camera=cam, image_size=image_size,
                       color=FIT_COLOR, samples=samples, smooth=True, ambient=0.35,
                       background=background)


def _framing_body(cam: PerspectiveCamera, rays: NDArray[np.float64],
                  image_size: tuple[int, int], fill: float = 0.9) -> PerspectiveCamera:
    """``cam`` with its focal length and centre set so the points whose rays (x/z, y/z) are
    given fill ``fill`` of the picture and sit at its centre (the same view, zoomed)."""
    low, high = rays.min(axis=0), rays.max(axis=0)
    size = np.asarray(image_size, dtype=np.float64)
    focal = fill * float(np.min(size / np.maximum(high - low, 1e-9)))
    centre = size / 2.0 - focal * (low + high) / 2.0
    return PerspectiveCamera(focal, (float(centre[0]), float(centre[1])), cam.rotation,
                             cam.translation)


def _draw_keypoints(picture: NDArray[np.uint8],
                    people: Sequence[tuple[ArrayLike | None, ArrayLike | None]]
                    ) -> NDArray[np.uint8]:
    """Each person's (detected, model) keypoints in turn: detected red, the model's green, a
    line from each detected point to its twin; on one Pillow copy of the picture."""
    pil = Image.fromarray(picture)
    draw = ImageDraw.Draw(pil)
    for detected, model in people:
        det = None if detected is None else _points(detected)
        mod = None if model is None else np.asarray(model, dtype=np.float64)[:, :2]
        # Dots scale with the person (a pedestrian 100 px tall gets 1.5 px dots), up to 1/200
        # of the picture.
        spread = mod[np.all(np.isfinite(mod), axis=1)] if mod is not None else np.zeros((0, 2))
        height = float(np.ptp(spread[:, 1])) if len(spread) else float(picture.shape[0])
        radius = float(np.clip(height / 60.0, 1.5, max(2.0, min(picture.shape[:2]) / 200.0)))
        if det is not None and mod is not None and len(det) == len(mod):
            for d, m in zip(det, mod, strict=True):
                if np.all(np.isfinite(d[:2])) and np.all(np.isfinite(m)) and \
                        (det.shape[1] < 3 or d[2] > 0):
                    draw.line([tuple(d[:2]), tuple(m)], fill=(250, 230, 60), width=1)
        if det is not None:
            _discs(draw, det, DETECTED_COLOR, radius)
        if mod is not None:
            keep = np.all(np.isfinite(mod), axis=1)
            _discs(draw, mod[keep], MODEL_COLOR, radius * 0.75)
    return np.asarray(pil, dtype=np.uint8).copy()
