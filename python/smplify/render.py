"""Pictures of bodies and fits: OpenGL rendering (moderngl, headless EGL) plus 2D drawing.

Meshes are rasterised by OpenGL (``smplify._gl``) in a windowless EGL context: on a machine
without a GPU, Mesa's llvmpipe does it in software. This needs the ``render`` extra
(``pip install 'smplify[render]'``: moderngl) and the EGL libraries (Debian: ``libegl1
libgl1 libegl-mesa0``); without them rendering raises ``RenderUnavailable`` saying so.
Shading is Lambert with the light at the camera plus an ambient share, two-sided.

Two kinds of camera:

- perspective, OpenCV convention (what ``smplify.fit`` returns): the camera at the origin,
  x right, y down, z forward; ``u = f X / Z + cx``, ``v = f Y / Z + cy``. Anything with
  ``focal_length`` and ``center`` (attributes or dict keys) works, with optional ``rotation``
  (3, 3) and ``translation`` (3,) applied first: ``X_cam = R X + t``. The GL projection is
  built from exactly these intrinsics, so a vertex lands on the pixel the formula gives
  (pixel ``(i, j)`` covers ``[i, i + 1) x [j, j + 1)``).
- orthographic, from a named view in SMPL's frame (y up, the body faces +z): ``camera=None``
  frames the mesh from ``view`` ("front", "back", "left", "right", "side" = "left", "top").

``side_camera`` turns a fit's camera to see the body from its side; ``smplify.pictures``
draws fits over their photos with this module. Sphere and capsule meshes to draw joints or
capsules along with a body (``sphere_mesh``, ``capsule_mesh``, ``merge_meshes``) come from
``smplify.meshes``. Helpers draw 2D points (``draw_points``) and write PNG files
(``save_png``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from PIL import Image, ImageDraw

from . import _gl
from ._gl import RenderUnavailable

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
    "side_camera",
    "RenderUnavailable",
    "draw_points",
    "sphere_mesh",
    "capsule_mesh",
    "merge_meshes",
    "save_png",
]

# zlib level of save_png. Pillow's default, 6, spends 3.5x the time of 1 on a 768 x 576 video
# frame overlay (72 vs 20 ms CPU) for a file 9% smaller (474 vs 521 KiB); the pixels are the
# same at every level (benchmarks/bench_frontend.py's write stage: smplify fit VIDEO).
PNG_COMPRESS_LEVEL = 1

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


def _check_faces(faces: ArrayLike, n_vertices: int) -> NDArray[np.int64]:
    f = np.asarray(faces)
    if f.ndim != 2 or f.shape[1] != 3 or not np.issubdtype(f.dtype, np.integer):
        raise ValueError(f"faces: expected integer array of shape (F, 3), got {f.dtype} {f.shape}")
    if f.size and (f.min() < 0 or f.max() >= n_vertices):
        raise ValueError("faces: indices out of range of vertices")
    return f.astype(np.int64, copy=False)


def _background(image: ArrayLike | None, image_size: tuple[int, int] | None,
                background: tuple[int, int, int]) -> NDArray[np.uint8]:
    if image is not None:
        img = np.asarray(image)
        if img.ndim == 2:
            img = np.repeat(img[:, :, None], 3, axis=2)
        if img.ndim != 3 or img.shape[2] not in (3, 4) or img.dtype != np.uint8:
            raise ValueError(f"image: expected (H, W, 3) uint8, got {img.dtype} {img.shape}")
        return np.array(img[:, :, :3], dtype=np.uint8)
    w, h = _check_size(image_size if image_size is not None else (512, 512))
    out = np.empty((h, w, 3), dtype=np.uint8)
    out[:] = np.asarray(background, dtype=np.uint8)
    return out


def _clip_matrix(cam: Camera, cam_pts: NDArray[np.float64],
                 size: tuple[int, int]) -> NDArray[np.float32] | None:
    """The GL clip matrix of ``cam``; None when nothing lies in front of a perspective camera."""
    z = cam_pts[:, 2]
    if isinstance(cam, OrthoCamera):
        pad = 0.01 + 0.01 * float(np.ptp(z)) if z.size else 1.0
        lo, hi = (float(z.min()), float(z.max())) if z.size else (0.0, 0.0)
        return _gl.orthographic(cam.scale, cam.center, size, lo - pad, hi + pad)
    ahead = z[z > 0]
    if ahead.size == 0:
        return None
    near = max(0.5 * float(ahead.min()), 1e-4)
    far = 2.0 * float(ahead.max()) + 1.0
    return _gl.perspective(cam.focal_length, cam.center, size, near, far)


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
    opacity: float = 1.0,
    samples: int = 0,
    smooth: bool = False,
) -> NDArray[np.uint8]:
    """Render a triangle mesh into an RGB image (OpenGL through moderngl, headless EGL).

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
    opacity : float
        In (0, 1]: the mesh's share of a covered pixel (below 1 the picture shows through).
    samples : int
        Multisampling per pixel (0: none, exact coverage; 4: anti-aliased edges).
    smooth : bool
        Shade with interpolated vertex normals instead of one normal per face.

    Returns
    -------
    (H, W, 3) ndarray of uint8

    Raises
    ------
    RenderUnavailable
        moderngl (``smplify[render]``) or the EGL libraries are not installed.
    """
    v = _check_points(vertices, "vertices")
    f = _check_faces(faces, len(v))
    if not 0.0 < float(opacity) <= 1.0:
        raise ValueError(f"opacity: expected a value in (0, 1], got {opacity}")
    out = _background(image, image_size, background)
    size = (out.shape[1], out.shape[0])
    cam = view_camera(v, view, size) if camera is None else camera
    if not isinstance(cam, OrthoCamera):
        cam = _as_camera(cam, focal_length, size)
    colors = _face_colors(color, len(f))
    cam_pts = v @ cam.rotation.T
    if isinstance(cam, PerspectiveCamera):
        cam_pts = cam_pts + cam.translation
    clip = _clip_matrix(cam, cam_pts, size)
    if clip is not None and len(f):
        x0, y0, bw, bh = region = _covered_box(cam, cam_pts, size)
        if bw > 0 and bh > 0:
            rgba = _gl.draw(cam_pts, f, colors, clip, size, ambient=ambient, smooth=smooth,
                            samples=samples, region=region)
            _composite(out[y0:y0 + bh, x0:x0 + bw], rgba, float(opacity))
    if keypoints_2d is not None:
        out = draw_points(out, keypoints_2d, color=keypoint_color, radius=keypoint_radius)
    return out


def _covered_box(cam: Camera, cam_pts: NDArray[np.float64],
                 size: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x0, y0, width, height): the pixels the mesh can cover, 2 px of margin, in the image.

    Every triangle's projection lies within the projected vertices' bounds when all of them
    are in front of a perspective camera (``_clip_matrix`` puts the near plane at half the
    nearest depth) or the camera is orthographic; otherwise the whole image. Rasterising
    only this box (vtest's people: ~16% of the frame) spends less on the multisampled
    buffers' clearing, resolving and reading; the window coordinates are the whole image's
    shifted, rounded in float32 at the box's scale: a few edge pixels a frame differ by a
    sample of coverage (bench_render.py).
    """
    w, h = size
    if isinstance(cam, PerspectiveCamera):
        z = cam_pts[:, 2]
        if not np.all(z > 0):
            return 0, 0, w, h
        uv = cam.focal_length * cam_pts[:, :2] / z[:, None] + np.asarray(cam.center)
    else:
        uv = cam.scale * cam_pts[:, :2] + np.asarray(cam.center)
    if not np.all(np.isfinite(uv)):
        return 0, 0, w, h
    lo = np.clip(np.floor(uv.min(axis=0)) - 2, 0, (w, h)).astype(int)
    hi = np.clip(np.ceil(uv.max(axis=0)) + 2, 0, (w, h)).astype(int)
    return int(lo[0]), int(lo[1]), int(hi[0] - lo[0]), int(hi[1] - lo[1])


def _composite(out: NDArray[np.uint8], rgba: NDArray[np.uint8], opacity: float) -> None:
    """"Over" compositing of a premultiplied (H, W, 4) rendering onto ``out``, in place.

    ``out = round(out (1 - o a / 255) + o rgb)`` with ``o`` the opacity, computed within the
    box of the covered pixels only: elsewhere colour and coverage are 0 and the formula gives
    ``out`` back, so the pixels are those of the whole-frame formula (a 768 x 576 frame with
    people 100 px tall: a few percent of it).
    """
    rows = np.flatnonzero(rgba[:, :, 3].any(axis=1))
    if not rows.size:
        return
    cols = np.flatnonzero(rgba[rows[0]:rows[-1] + 1, :, 3].any(axis=0))
    box = np.s_[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    part = rgba[box].astype(np.float32)
    alpha = opacity * part[:, :, 3:] / 255.0
    mixed = out[box] * (1.0 - alpha) + opacity * part[:, :, :3]
    out[box] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


def side_camera(vertices: ArrayLike, camera: Any, image_size: tuple[int, int],
                angle: float = np.pi / 2) -> PerspectiveCamera:
    """The fit's camera turned about the vertical through the body's centre.

    The camera keeps its intrinsics and its distance to the body and swings by ``angle``
    (radians, about the camera frame's y axis, the image vertical, through the centre of the
    vertices' bounding box): with the default 90° the body is seen from its side at the place
    and scale it has in the photo.

    Parameters
    ----------
    vertices : (N, 3) array_like
        The body in the camera frame, metres.
    camera : camera-like
        ``FitResult.camera`` or anything with ``focal_length`` and ``center``.
    image_size : (2,) tuple of int
        (width, height), pixels.
    angle : float
        Radians; positive turns the camera toward the body's left for a person facing it.

    Returns
    -------
    PerspectiveCamera
        With ``X_cam = R X + t`` mapping the fit's camera frame to the turned camera's.
    """
    v = _check_points(vertices, "vertices")
    cam = _as_camera(camera, None, _check_size(image_size))
    centre = (v.min(axis=0) + v.max(axis=0)) / 2.0
    c, s = float(np.cos(angle)), float(np.sin(angle))
    turn = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])  # rotation about y
    rot = turn @ cam.rotation
    tr = turn @ cam.translation + centre - turn @ centre
    return PerspectiveCamera(cam.focal_length, cam.center, rot, tr)


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
    pts = _points(points)
    if labels is not None and len(labels) != len(pts):
        raise ValueError(f"labels: expected {len(pts)} labels, got {len(labels)}")
    pil = Image.fromarray(np.ascontiguousarray(img, dtype=np.uint8))
    _discs(ImageDraw.Draw(pil), pts, color, radius, labels)
    return np.asarray(pil, dtype=np.uint8).copy()


def _points(points: ArrayLike) -> NDArray[np.float64]:
    """:func:`draw_points`' ``points`` as a (K, 2) or (K, 3) float64 array (ValueError
    naming ``points`` otherwise)."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] not in (2, 3):
        raise ValueError(f"points: expected (K, 2) or (K, 3), got {pts.shape}")
    return pts


def _discs(draw: ImageDraw.ImageDraw, pts: NDArray[np.float64], color: tuple[int, int, int],
           radius: float, labels: Sequence[str] | None = None) -> None:
    """:func:`draw_points`'s discs (and labels), drawn on a Pillow picture in place."""
    for k, p in enumerate(pts):
        if not np.all(np.isfinite(p[:2])) or (pts.shape[1] == 3 and p[2] <= 0):
            continue
        x, y = float(p[0]), float(p[1])
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=tuple(color))
        if labels is not None:
            draw.text((x + radius + 1, y - radius), str(labels[k]), fill=tuple(color))


def save_png(path: str | os.PathLike[str], array: ArrayLike, *,
             compress_level: int = PNG_COMPRESS_LEVEL) -> None:
    """Write an (H, W, 3) or (H, W) uint8 array as a PNG file.

    Parameters
    ----------
    path : str or path-like
        Output file; parent directories are created.
    array : (H, W, 3) or (H, W) array_like of uint8
    compress_level : int
        zlib level, 0-9. PNG is lossless at every level: the level trades encoding time
        against file size only. Default ``PNG_COMPRESS_LEVEL`` (1).
    """
    if isinstance(compress_level, bool) or not isinstance(compress_level, int) \
            or not 0 <= compress_level <= 9:
        raise ValueError(f"compress_level: expected an int in 0-9, got {compress_level!r}")
    a = np.asarray(array)
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ValueError(f"array: expected (H, W, 3) or (H, W), got {a.shape}")
    if a.dtype != np.uint8:
        raise TypeError(f"array: expected uint8, got {a.dtype}")
    parent = os.path.dirname(os.fspath(path))
    if parent:
        os.makedirs(parent, exist_ok=True)
    Image.fromarray(a).save(path, compress_level=compress_level)
