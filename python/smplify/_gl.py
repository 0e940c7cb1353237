"""Headless OpenGL rasterisation for ``smplify.render`` (moderngl on an EGL context).

The context is a standalone, windowless EGL context: on a machine without a GPU Mesa's
llvmpipe software rasteriser serves it (Debian ``libegl1 libgl1 libegl-mesa0``), no X server.

Cameras arrive as a 4 x 4 clip matrix built from the OpenCV intrinsics (:func:`perspective`,
:func:`orthographic`), so a vertex lands in the same pixel as ``u = f X / Z + cx``,
``v = f Y / Z + cy``; pixel ``(i, j)`` covers ``[i, i + 1) x [j, j + 1)``. Normalised device
y grows with the image row, so the framebuffer read back is already top row first.

Shading is Lambert with the light at the camera, two-sided (a back face is lit like a front
face), plus an ambient share: ``c = colour (a + (1 - a) |n . l|)``.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import SmplifyError

__all__ = ["RenderUnavailable", "draw", "orthographic", "perspective", "release_context"]

EGL_PACKAGES = "libegl1 libgl1 libegl-mesa0"


class RenderUnavailable(SmplifyError, RuntimeError):
    """The renderer's extra (moderngl) or the EGL/OpenGL libraries are not installed."""


_VERTEX_SHADER = """
#version 330
uniform mat4 clip_from_camera;
in vec3 in_position;   // camera frame (x right, y down, z forward), metres
in vec3 in_normal;
in vec3 in_color;
out vec3 position;
out vec3 normal;
out vec3 color;
void main() {
    position = in_position;
    normal = in_normal;
    color = in_color;
    gl_Position = clip_from_camera * vec4(in_position, 1.0);
}
"""

_FRAGMENT_SHADER = """
#version 330
uniform float ambient;
uniform vec3 light_direction;   // (0, 0, 0): a point light at the camera centre
in vec3 position;
in vec3 normal;
in vec3 color;
out vec4 frag;
void main() {
    vec3 to_light = length(light_direction) > 0.0 ? -light_direction : -position;
    float lambert = abs(dot(normalize(normal), normalize(to_light)));
    frag = vec4(color * (ambient + (1.0 - ambient) * lambert), 1.0);
}
"""


# Each thread's own EGL context: a context is current in the thread that made it, so a
# thread drawing (``smplify.pipeline``'s writer thread) makes and releases its own.
_local = threading.local()


def _context() -> Any:
    """This thread's EGL context and shader program (created on its first use)."""
    made = getattr(_local, "context", None)
    if made is None:
        made = _local.context = _create_context()
    return made


def release_context() -> None:
    """Release this thread's EGL context (if it made one); the next draw makes a new one.

    Every thread other than the main one that draws must call it before it ends
    (``smplify.frame_writer``'s worker does): moderngl does not free a context when it is
    garbage-collected, so a thread that ends without it leaks its context and its buffers.
    """
    made = getattr(_local, "context", None)
    _local.context = None
    if made is not None:
        ctx, program = made
        program.release()
        ctx.release()


def _create_context() -> Any:
    try:
        import moderngl
    except ImportError:
        raise RenderUnavailable(
            "rendering needs the 'render' extra: pip install 'smplify[render]' (moderngl), and "
            f"the EGL/OpenGL libraries (Debian: apt-get install {EGL_PACKAGES})") from None
    try:
        ctx = moderngl.create_context(standalone=True, backend="egl")
    except Exception as err:  # glcontext raises plain Exception when libEGL cannot be loaded
        raise RenderUnavailable(
            f"no headless OpenGL context ({err}); install the EGL/OpenGL libraries "
            f"(Debian: apt-get install {EGL_PACKAGES})") from None
    program = ctx.program(vertex_shader=_VERTEX_SHADER, fragment_shader=_FRAGMENT_SHADER)
    return ctx, program


def perspective(focal_length: float, center: tuple[float, float], image_size: tuple[int, int],
                near: float, far: float) -> NDArray[np.float32]:
    """Clip matrix of an OpenCV pinhole camera (camera frame in, clip coordinates out).

    ``x_ndc = 2 u / W - 1`` with ``u = f X / Z + cx`` (likewise y with v and H), and
    ``z_ndc = ((far + near) Z - 2 far near) / ((far - near) Z)``: -1 at ``near``, 1 at ``far``.

    Parameters
    ----------
    focal_length : float
        Pixels.
    center : (2,) tuple of float
        Principal point (cx, cy), pixels.
    image_size : (2,) tuple of int
        (W, H), pixels.
    near, far : float
        Clipping depths, metres, 0 < near < far.

    Returns
    -------
    (4, 4) float32 ndarray
    """
    w, h = image_size
    f, (cx, cy) = float(focal_length), center
    return np.array([
        [2 * f / w, 0.0, 2 * cx / w - 1.0, 0.0],
        [0.0, 2 * f / h, 2 * cy / h - 1.0, 0.0],
        [0.0, 0.0, (far + near) / (far - near), -2.0 * far * near / (far - near)],
        [0.0, 0.0, 1.0, 0.0],
    ], dtype=np.float32)


def orthographic(scale: float, center: tuple[float, float], image_size: tuple[int, int],
                 near: float, far: float) -> NDArray[np.float32]:
    """Clip matrix of ``u = scale X + cx``, ``v = scale Y + cy``, depth Z in [near, far].

    Returns
    -------
    (4, 4) float32 ndarray
    """
    w, h = image_size
    (cx, cy) = center
    return np.array([
        [2 * scale / w, 0.0, 0.0, 2 * cx / w - 1.0],
        [0.0, 2 * scale / h, 0.0, 2 * cy / h - 1.0],
        [0.0, 0.0, 2.0 / (far - near), -(far + near) / (far - near)],
        [0.0, 0.0, 0.0, 1.0],
    ], dtype=np.float32)


def vertex_normals(points: NDArray[np.float64], faces: NDArray[np.int64]) -> NDArray[np.float64]:
    """(N, 3) unit normals: the area-weighted sum of the normals of the faces around a vertex."""
    tri = points[faces]
    face_n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])  # F x 3, length 2 area
    # Summed per vertex by bincount over the corners in the order (all first corners, all
    # second, all third): the additions np.add.at made corner by corner, in the same order
    # (so the same bits), ~5x faster.
    index = faces.T.reshape(-1)
    weights = np.tile(face_n, (3, 1))
    n = np.stack([np.bincount(index, weights=weights[:, j], minlength=len(points))
                  for j in range(3)], axis=1)
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-30)


def _vertex_colors(faces: NDArray[np.int64], face_colors: NDArray[np.float64],
                   n_vertices: int) -> NDArray[np.float64] | None:
    """(N, 3) colour of each vertex if all the faces around it share one colour, else None."""
    colors = np.zeros((n_vertices, 3))
    corners = faces.reshape(-1)
    per_corner = np.repeat(face_colors, 3, axis=0)
    colors[corners] = per_corner
    return colors if np.array_equal(colors[corners], per_corner) else None


def draw(points: NDArray[np.float64], faces: NDArray[np.int64], face_colors: NDArray[np.float64],
         clip_from_camera: NDArray[np.float32], image_size: tuple[int, int], *,
         ambient: float = 0.3, smooth: bool = True, samples: int = 0,
         light_direction: tuple[float, float, float] = (0.0, 0.0, 0.0),
         region: tuple[int, int, int, int] | None = None) -> NDArray[np.uint8]:
    """Rasterise a triangle mesh given in the camera frame.

    Parameters
    ----------
    points : (N, 3) float64
        Vertices in the camera frame (x right, y down, z forward), metres.
    faces : (F, 3) int64
        Triangles.
    face_colors : (F, 3) float64
        RGB in [0, 1], one per face.
    clip_from_camera : (4, 4) float32
        From :func:`perspective` or :func:`orthographic`.
    image_size : (2,) tuple of int
        (W, H), pixels.
    ambient : float
        Ambient share of the shading, in [0, 1].
    smooth : bool
        Interpolate vertex normals (True) or light each face by its own normal.
    samples : int
        Multisampling (0 or 1: none; 4: 4x MSAA, anti-aliased edges).
    light_direction : (3,) tuple of float
        Direction the light travels, camera frame; zeros: a point light at the camera.
    region : (x0, y0, width, height) of int, optional
        Rasterise only this box of the image (pixels): a framebuffer of its size, the
        viewport moved by (-x0, -y0), so the clip matrix and every window coordinate are
        the whole image's, shifted. Whatever the mesh covers must lie inside it.

    Returns
    -------
    (H, W, 4) uint8 ndarray (``region``: (height, width, 4))
        Shaded colour premultiplied by coverage, and the coverage (alpha: 0 where no triangle,
        255 where one covers the whole pixel), top image row first.
    """
    ctx, program = _context()
    w, h = image_size
    x0, y0, bw, bh = (0, 0, w, h) if region is None else (int(a) for a in region)
    index = None
    shared = _vertex_colors(faces, face_colors, len(points)) if smooth else None
    if shared is not None:
        # Every vertex's faces have one colour (a body per colour, as pictures.draw_fits
        # draws): one GL vertex per mesh vertex and an index buffer. Each corner gets the
        # values it would get as its own vertex, so the pixels are the same, from a sixth of
        # the vertex data (vtest's 3 bodies: 44.6 -> 41.9 ms CPU a frame).
        data = np.empty((len(points), 9), dtype=np.float32)
        data[:, 0:3] = points
        data[:, 3:6] = vertex_normals(points, faces)
        data[:, 6:9] = shared
        index = ctx.buffer(np.ascontiguousarray(faces, dtype=np.int32))
    else:
        if smooth:
            normals = vertex_normals(points, faces)[faces]  # F x 3 x 3
        else:
            tri = points[faces]
            n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
            n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-30)
            normals = np.repeat(n[:, None], 3, axis=1)
        # One GL vertex per triangle corner, so that every face keeps its own colour; filled
        # in float32 directly (the same values as converting the float64 rows, without them).
        data = np.empty((len(faces), 3, 9), dtype=np.float32)
        data[:, :, 0:3] = points[faces]
        data[:, :, 3:6] = normals
        data[:, :, 6:9] = face_colors[:, None]

    samples = int(samples) if samples and samples > 1 else 0
    samples = min(samples, ctx.max_samples)
    color = ctx.renderbuffer((bw, bh), 4, samples=samples)
    depth = ctx.depth_renderbuffer((bw, bh), samples=samples)
    fbo = ctx.framebuffer(color_attachments=[color], depth_attachment=depth)
    resolved = resolved_fbo = None
    vbo = ctx.buffer(data)
    vao = ctx.vertex_array(program, [(vbo, "3f 3f 3f", "in_position", "in_normal", "in_color")],
                           index_buffer=index, index_element_size=4)
    try:
        program["clip_from_camera"].write(np.ascontiguousarray(clip_from_camera.T).tobytes())
        program["ambient"].value = float(ambient)
        program["light_direction"].value = tuple(float(x) for x in light_direction)
        fbo.use()
        fbo.viewport = (-x0, -y0, w, h)
        ctx.enable(ctx.DEPTH_TEST)
        ctx.disable(ctx.CULL_FACE | ctx.BLEND)
        fbo.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
        vao.render()
        target = fbo
        if samples:
            resolved = ctx.renderbuffer((bw, bh), 4)
            resolved_fbo = ctx.framebuffer(color_attachments=[resolved])
            ctx.copy_framebuffer(resolved_fbo, fbo)
            target = resolved_fbo
        raw = target.read(components=4, alignment=1)
    finally:
        for obj in (vao, vbo, index, fbo, color, depth, resolved_fbo, resolved):
            if obj is not None:
                obj.release()
    return np.frombuffer(raw, dtype=np.uint8).reshape(bh, bw, 4).copy()
