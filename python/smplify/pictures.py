"""Pictures of a fit: the photo it was fitted on, and the mesh drawn over it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputFileError


def load_photo(path: Path, image_size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    if not path.is_file():
        raise FileNotFoundError(f"image not found: {path}")
    with Image.open(path) as img:
        photo = np.asarray(img.convert("RGB"))
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
    from .render import draw_points, render_mesh

    picture = render_mesh(result.vertices, result.faces, camera=result.camera, image=photo,
                          image_size=image_size, keypoints_2d=keypoints)
    model_points = np.asarray(result.keypoints_2d, dtype=np.float64)
    available = np.all(np.isfinite(model_points), axis=1)
    return draw_points(picture, model_points[available], color=(30, 170, 60), radius=2.0)
