"""A small software renderer for body meshes (NumPy + Pillow only).

Triangles are rasterised with a z-buffer, vectorised over all candidate pixels of all triangles,
and flat-shaded with a Lambert term plus ambient light (the light sits at the camera).

Two kinds of camera:

- perspective, OpenCV convention (what ``smplify.fit`` returns): the camera at the origin,
  x right, y down, z forward; ``u = f X / Z + cx``, ``v = f Y / Z + cy``. Anything with
  ``focal_length`` and ``center`` (attributes or dict keys) works, with optional ``rotation``
  (3, 3) and ``translation`` (3,) applied first: ``X_cam = R X + t``.
- orthographic, from a named view in SMPL's frame (y up, the body faces +z): ``camera=None``
  frames the mesh from ``view`` ("front", "back", "left", "right", "side" = "left", "top").

Sphere and capsule meshes to draw joints or capsules along with a body (``sphere_mesh``,
``capsule_mesh``, ``merge_meshes``) come from `smplify.meshes`. Helpers draw 2D points
(``draw_points``) and write PNG files (``save_png``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from PIL import Image, ImageDraw

# Meshes to draw along with a body live in smplify.meshes; they stay importable from here.
from .meshes import (
    DEFAULT_COLOR,
    _check_points,
    _face_colors,
    capsule_mesh,
    merge_meshes,
    sphere_mesh,
)

__all__ = [
    "OrthoCamera",
    "PerspectiveCamera",
    "view_camera",
    "project_points",
    "render_mesh",
    "draw_points",
    "sphere_mesh",
    "capsule_mesh",
    "merge_meshes",
    "save_png",
]

# View name -> (direction the camera looks along, image-up direction), SMPL frame.
_VIEWS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "front": ((0.0, 0.0, -1.0), (0.0, 1.0, 0.0)),  # camera at +z, facing the body
    "back": ((0.0, 0.0, 1.0), (0.0, 1.0, 0.0)),
    "left": ((-1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),  # camera on the body's left (+x)
    "side": ((-1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
    "right": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
    "top": ((0.0, -1.0, 0.0), (0.0, 0.0, -1.0)),
}


@dataclass(frozen=True)
class PerspectiveCamera:
    """Pinhole camera, OpenCV convention (x right, y down, z forward).

    Attributes
    ----------
    focal_length : float
        Focal length in pixels.
    center : (2,) tuple of float
        Principal point (cx, cy) in pixels.
    rotation : (3, 3) ndarray
        World-to-camera rotation R (``X_cam = R X + t``).
    translation : (3,) ndarray
        World-to-camera translation t, metres.
    """

    focal_length: float
    center: tuple[float, float]
    rotation: NDArray[np.float64]
    translation: NDArray[np.float64]


@dataclass(frozen=True)
class OrthoCamera:
    """Orthographic camera: ``u = scale * (R X)_x + cx``, ``v = scale * (R X)_y + cy``.

    Attributes
    ----------
    rotation : (3, 3) ndarray
        World-to-camera rotation; camera axes x right, y down, z away from the viewer.
    scale : float
        Pixels per metre.
    center : (2,) tuple of float
        Pixel position of the world origin's projection.
    """

    rotation: NDArray[np.float64]
    scale: float
    center: tuple[float, float]


Camera = PerspectiveCamera | OrthoCamera


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _as_camera(camera: Any, focal_length: float | None, image_size: tuple[int, int]) -> Camera:
    """Turn a user camera (dataclass, FitResult.camera-like object or dict) into a Camera."""
    if isinstance(camera, (PerspectiveCamera, OrthoCamera)):
        return camera
    f = _get(camera, "focal_length", focal_length)
    if f is None:
        raise ValueError("camera: needs a focal_length (attribute or key), or pass focal_length")
    f = float(np.asarray(f, dtype=np.float64).reshape(-1)[0])
    center = _get(camera, "center")
    if center is None:
        center = (image_size[0] / 2.0, image_size[1] / 2.0)
    c = np.asarray(center, dtype=np.float64).reshape(-1)
    if c.shape != (2,):
        raise ValueError(f"camera: center must have 2 values, got shape {c.shape}")
    rot = _get(camera, "rotation")
    rot = np.eye(3) if rot is None else np.asarray(rot, dtype=np.float64)
    if rot.shape != (3, 3):
        raise ValueError(f"camera: rotation must be (3, 3), got {rot.shape}")
    tr = _get(camera, "translation")
    tr = np.zeros(3) if tr is None else np.asarray(tr, dtype=np.float64).reshape(-1)
    if tr.shape != (3,):
        raise ValueError(f"camera: translation must be (3,), got {tr.shape}")
    return PerspectiveCamera(f, (float(c[0]), float(c[1])), rot, tr)


def _view_rotation(view: str) -> NDArray[np.float64]:
    if view not in _VIEWS:
        raise ValueError(f"view: expected one of {sorted(_VIEWS)}, got {view!r}")
    forward, up = (np.asarray(a, dtype=np.float64) for a in _VIEWS[view])
    right = np.cross(forward, up)
    # Rows: camera x (right), camera y (down), camera z (forward), in world coordinates.
    return np.stack([right, -up, forward])


def view_camera(
    vertices: ArrayLike,
    view: str = "front",
    image_size: tuple[int, int] = (512, 512),
    margin: float = 0.05,
) -> OrthoCamera:
    """Orthographic camera that frames ``vertices`` from a named view.

    Parameters
    ----------
    vertices : (N, 3) array_like
        Points to frame, SMPL frame (y up, body facing +z), metres.
    view : str
        "front", "back", "left" (= "side", seen from the body's left), "right" or "top".
    image_size : (2,) tuple of int
        (width, height) in pixels.
    margin : float
        Fraction of the image left free on each side.

    Returns
    -------
    OrthoCamera
    """
    v = _check_points(vertices, "vertices")
    w, h = _check_size(image_size)
    rot = _view_rotation(view)
    p = v @ rot.T
    lo, hi = p[:, :2].min(axis=0), p[:, :2].max(axis=0)
    extent = np.maximum(hi - lo, 1e-9)
    scale = float(min(w * (1 - 2 * margin) / extent[0], h * (1 - 2 * margin) / extent[1]))
    mid = (lo + hi) / 2.0
    center = (w / 2.0 - scale * mid[0], h / 2.0 - scale * mid[1])
    return OrthoCamera(rot, scale, (float(center[0]), float(center[1])))


def _check_size(image_size: Sequence[int]) -> tuple[int, int]:
    if len(image_size) != 2 or min(int(image_size[0]), int(image_size[1])) < 1:
        raise ValueError(f"image_size: expected (width, height) > 0, got {image_size!r}")
    return int(image_size[0]), int(image_size[1])


def project_points(points: ArrayLike, camera: Any) -> tuple[NDArray[np.float64], NDArray]:
    """Project 3D points with a camera.

    Parameters
    ----------
    points : (N, 3) array_like
        World points, metres.
    camera : PerspectiveCamera, OrthoCamera, or an object/dict with focal_length and center
        The camera (see the module docstring for the conventions).

    Returns
    -------
    uv : (N, 2) ndarray
        Pixel coordinates.
    depth : (N,) ndarray
        Distance along the viewing axis (camera z), metres.
    """
    p = _check_points(points, "points")
    cam = camera if isinstance(camera, OrthoCamera) else _as_camera(camera, None, (0, 0))
    if isinstance(cam, OrthoCamera):
        q = p @ cam.rotation.T
        uv = cam.scale * q[:, :2] + np.asarray(cam.center)
        return uv, q[:, 2]
    q = p @ cam.rotation.T + cam.translation
    z = q[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = cam.focal_length * q[:, :2] / z[:, None] + np.asarray(cam.center)
    return uv, z


def render_mesh(
    vertices: ArrayLike,
    faces: ArrayLike,
    *,
    camera: Any = None,
    image: ArrayLike | None = None,
    image_size: tuple[int, int] | None = None,
    focal_length: float | None = None,
    view: str = "front",
    color: Any = DEFAULT_COLOR,
    keypoints_2d: ArrayLike | None = None,
    keypoint_color: tuple[int, int, int] = (220, 30, 30),
    keypoint_radius: float = 3.0,
    background: tuple[int, int, int] = (255, 255, 255),
    ambient: float = 0.3,
) -> NDArray[np.uint8]:
    """Render a triangle mesh into an RGB image.

    Parameters
    ----------
    vertices : (N, 3) array_like
        Vertex positions, metres (world frame; the camera frame if the camera has no pose).
    faces : (F, 3) array_like of int
        Triangle vertex indices.
    camera : camera-like or None
        Perspective camera (``PerspectiveCamera`` or anything with ``focal_length`` and
        ``center``, e.g. ``FitResult.camera``), an ``OrthoCamera``, or None: orthographic,
        framing the mesh from ``view``.
    image : (H, W, 3) or (H, W) array_like of uint8, optional
        Background picture to draw over; sets the image size.
    image_size : (2,) tuple of int, optional
        (width, height) when no ``image`` is given; default (512, 512).
    focal_length : float, optional
        Focal length in pixels if ``camera`` lacks one.
    view : str
        Named view used when ``camera`` is None (see ``view_camera``).
    color : (3,) or (F, 3) array_like
        Base colour, RGB in [0, 1] (or 0-255), one for the mesh or one per face.
    keypoints_2d : (K, 2) or (K, 3) array_like, optional
        Pixel points drawn on top; a third column is a confidence (points with 0 are skipped).
    keypoint_color : (3,) tuple of int
        RGB of the points.
    keypoint_radius : float
        Radius of the points, pixels.
    background : (3,) tuple of int
        RGB of the empty image.
    ambient : float
        Ambient share of the shading, in [0, 1].

    Returns
    -------
    (H, W, 3) ndarray of uint8
    """
    v = _check_points(vertices, "vertices")
    f = np.asarray(faces)
    if f.ndim != 2 or f.shape[1] != 3 or not np.issubdtype(f.dtype, np.integer):
        raise ValueError(f"faces: expected integer array of shape (F, 3), got {f.dtype} {f.shape}")
    if f.size and (f.min() < 0 or f.max() >= len(v)):
        raise ValueError("faces: indices out of range of vertices")
    if image is not None:
        img = np.asarray(image)
        if img.ndim == 2:
            img = np.repeat(img[:, :, None], 3, axis=2)
        if img.ndim != 3 or img.shape[2] not in (3, 4):
            raise ValueError(f"image: expected (H, W, 3), got {img.shape}")
        out = np.array(img[:, :, :3], dtype=np.uint8)
        size = (out.shape[1], out.shape[0])
    else:
        size = _check_size(image_size if image_size is not None else (512, 512))
        out = np.empty((size[1], size[0], 3), dtype=np.uint8)
        out[:] = np.asarray(background, dtype=np.uint8)
    cam = view_camera(v, view, size) if camera is None else camera
    if not isinstance(cam, OrthoCamera):
        cam = _as_camera(cam, focal_length, size)
    colors = _face_colors(color, len(f))

    uv, depth = project_points(v, cam)
    if isinstance(cam, OrthoCamera):
        cam_pts = v @ cam.rotation.T
    else:
        cam_pts = v @ cam.rotation.T + cam.translation
    _rasterise(out, uv, depth, cam_pts, f, colors, isinstance(cam, OrthoCamera), ambient)
    if keypoints_2d is not None:
        out = draw_points(out, keypoints_2d, color=keypoint_color, radius=keypoint_radius)
    return out


def _rasterise(
    out: NDArray[np.uint8],
    uv: NDArray[np.float64],
    depth: NDArray[np.float64],
    cam_pts: NDArray[np.float64],
    faces: NDArray,
    colors: NDArray[np.float64],
    orthographic: bool,
    ambient: float,
    chunk: int = 2_000_000,
) -> None:
    h, w = out.shape[:2]
    # 1. Drop triangles behind a perspective camera or off-screen.
    tri_uv = uv[faces]  # F x 3 x 2
    tri_z = depth[faces]  # F x 3
    keep = np.all(np.isfinite(tri_uv), axis=(1, 2))
    if not orthographic:
        keep &= np.all(tri_z > 1e-6, axis=1)
    lo = np.floor(tri_uv.min(axis=1) - 0.5).astype(np.int64) + 1  # first pixel centre >= min
    hi = np.floor(tri_uv.max(axis=1) - 0.5).astype(np.int64)  # last pixel centre <= max
    lo = np.maximum(lo, 0)
    hi = np.minimum(hi, [w - 1, h - 1])
    keep &= np.all(hi >= lo, axis=1)
    idx = np.nonzero(keep)[0]
    if idx.size == 0:
        return

    # 2. Flat Lambert shading from the face normal in the camera frame (light at the camera).
    p = cam_pts[faces[idx]]
    n = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-30)
    if orthographic:
        view_dir = np.array([0.0, 0.0, 1.0])
        lambert = np.abs(n @ view_dir)
    else:
        centre = p.mean(axis=1)
        centre /= np.maximum(np.linalg.norm(centre, axis=1, keepdims=True), 1e-30)
        lambert = np.abs(np.einsum("fi,fi->f", n, centre))
    shade = colors[idx] * (ambient + (1.0 - ambient) * lambert)[:, None]

    # 3. Candidate pixels of every triangle's bounding box, in chunks of bounded size.
    counts = (hi[idx, 0] - lo[idx, 0] + 1) * (hi[idx, 1] - lo[idx, 1] + 1)
    zbuf = np.full(h * w, np.inf)
    fbuf = np.full(h * w, -1, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)])
    first = 0
    while first < idx.size:
        last = int(np.searchsorted(starts, starts[first] + chunk, side="right")) - 1
        last = max(last, first + 1)
        sel = np.arange(first, min(last, idx.size))
        _raster_chunk(sel, idx, counts, lo, hi, tri_uv, tri_z, orthographic, w, zbuf, fbuf)
        first = sel[-1] + 1
    hit = fbuf >= 0
    flat = out.reshape(-1, 3)
    flat[hit] = np.clip(shade[fbuf[hit]] * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _raster_chunk(
    sel: NDArray[np.int64],
    idx: NDArray[np.int64],
    counts: NDArray[np.int64],
    lo: NDArray[np.int64],
    hi: NDArray[np.int64],
    tri_uv: NDArray[np.float64],
    tri_z: NDArray[np.float64],
    orthographic: bool,
    width: int,
    zbuf: NDArray[np.float64],
    fbuf: NDArray[np.int64],
) -> None:
    c = counts[sel]
    owner = np.repeat(sel, c)  # position in idx of the triangle of each candidate
    offset = np.arange(owner.size) - np.repeat(np.cumsum(c) - c, c)
    t = idx[owner]
    bw = hi[t, 0] - lo[t, 0] + 1
    px = lo[t, 0] + offset % bw
    py = lo[t, 1] + offset // bw
    # Barycentric coordinates of the pixel centre.
    a, b, cc = tri_uv[t, 0], tri_uv[t, 1], tri_uv[t, 2]
    x = px + 0.5
    y = py + 0.5
    det = (b[:, 1] - cc[:, 1]) * (a[:, 0] - cc[:, 0]) + (cc[:, 0] - b[:, 0]) * (a[:, 1] - cc[:, 1])
    ok = np.abs(det) > 1e-12
    det = np.where(ok, det, 1.0)
    l0 = ((b[:, 1] - cc[:, 1]) * (x - cc[:, 0]) + (cc[:, 0] - b[:, 0]) * (y - cc[:, 1])) / det
    l1 = ((cc[:, 1] - a[:, 1]) * (x - cc[:, 0]) + (a[:, 0] - cc[:, 0]) * (y - cc[:, 1])) / det
    l2 = 1.0 - l0 - l1
    eps = -1e-9
    inside = ok & (l0 >= eps) & (l1 >= eps) & (l2 >= eps)
    z = tri_z[t]
    if orthographic:
        d = l0 * z[:, 0] + l1 * z[:, 1] + l2 * z[:, 2]
    else:  # perspective-correct: 1/z is linear in screen space
        d = 1.0 / (l0 / z[:, 0] + l1 / z[:, 1] + l2 / z[:, 2])
    pix = (py * width + px)[inside]
    d = d[inside]
    tri = owner[inside]
    if pix.size == 0:
        return
    # Nearest candidate per pixel, then merge with the buffer.
    order = np.lexsort((d, pix))
    pix, d, tri = pix[order], d[order], tri[order]
    first = np.ones(pix.size, dtype=bool)
    first[1:] = pix[1:] != pix[:-1]
    pix, d, tri = pix[first], d[first], tri[first]
    closer = d < zbuf[pix]
    zbuf[pix[closer]] = d[closer]
    fbuf[pix[closer]] = tri[closer]


def draw_points(
    image: ArrayLike,
    points: ArrayLike,
    *,
    color: tuple[int, int, int] = (220, 30, 30),
    radius: float = 3.0,
    labels: Sequence[str] | None = None,
) -> NDArray[np.uint8]:
    """Draw filled discs (and optional text labels) at pixel positions.

    Parameters
    ----------
    image : (H, W, 3) array_like of uint8
        Picture to draw on (not modified).
    points : (K, 2) or (K, 3) array_like
        Pixel coordinates; a third column is a confidence, points with confidence <= 0 or
        non-finite coordinates are skipped.
    color : (3,) tuple of int
        RGB.
    radius : float
        Disc radius in pixels.
    labels : sequence of str, optional
        One label per point, drawn beside it.

    Returns
    -------
    (H, W, 3) ndarray of uint8
    """
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"image: expected (H, W, 3), got {img.shape}")
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] not in (2, 3):
        raise ValueError(f"points: expected (K, 2) or (K, 3), got {pts.shape}")
    if labels is not None and len(labels) != len(pts):
        raise ValueError(f"labels: expected {len(pts)} labels, got {len(labels)}")
    pil = Image.fromarray(np.ascontiguousarray(img, dtype=np.uint8))
    draw = ImageDraw.Draw(pil)
    for k, p in enumerate(pts):
        if not np.all(np.isfinite(p[:2])) or (pts.shape[1] == 3 and p[2] <= 0):
            continue
        x, y = float(p[0]), float(p[1])
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=tuple(color))
        if labels is not None:
            draw.text((x + radius + 1, y - radius), str(labels[k]), fill=tuple(color))
    return np.asarray(pil, dtype=np.uint8).copy()


def save_png(path: str | os.PathLike[str], array: ArrayLike) -> None:
    """Write an (H, W, 3) or (H, W) uint8 array as a PNG file.

    Parameters
    ----------
    path : str or path-like
        Output file; parent directories are created.
    array : (H, W, 3) or (H, W) array_like of uint8
    """
    a = np.asarray(array)
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ValueError(f"array: expected (H, W, 3) or (H, W), got {a.shape}")
    if a.dtype != np.uint8:
        raise TypeError(f"array: expected uint8, got {a.dtype}")
    parent = os.path.dirname(os.fspath(path))
    if parent:
        os.makedirs(parent, exist_ok=True)
    Image.fromarray(a).save(path)
