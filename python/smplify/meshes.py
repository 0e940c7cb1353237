"""Meshes to draw along with a body: spheres (joints), capsules, and merging several into one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

DEFAULT_COLOR = (0.72, 0.74, 0.80)


def _check_points(points: ArrayLike, name: str) -> NDArray[np.float64]:
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 3:
        raise ValueError(f"{name}: expected shape (N, 3), got {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError(f"{name}: contains non-finite values")
    return p


def _face_colors(color: Any, n_faces: int) -> NDArray[np.float64]:
    c = np.asarray(color, dtype=np.float64)
    if c.ndim == 1 and c.shape == (3,):
        c = np.broadcast_to(c, (n_faces, 3))
    if c.shape != (n_faces, 3):
        raise ValueError(f"color: expected (3,) or (F, 3) = ({n_faces}, 3), got {c.shape}")
    if c.max(initial=0.0) > 1.0:  # 0-255 colours
        c = c / 255.0
    return np.clip(c, 0.0, 1.0)


def sphere_mesh(
    center: ArrayLike, radius: float, subdivisions: int = 2
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Icosphere triangle mesh.

    Parameters
    ----------
    center : (3,) array_like
        Centre, metres.
    radius : float
        Radius, metres.
    subdivisions : int
        Loop-free midpoint subdivisions of the icosahedron (0: 20 faces, 2: 320 faces).

    Returns
    -------
    vertices : (V, 3) ndarray
    faces : (F, 3) ndarray of int64
    """
    c = np.asarray(center, dtype=np.float64).reshape(3)
    if not radius > 0:
        raise ValueError(f"radius: must be > 0, got {radius}")
    v, f = _unit_icosphere(int(subdivisions))
    return c + radius * v, f.copy()


def _unit_icosphere(subdivisions: int) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    t = (1.0 + 5.0**0.5) / 2.0
    v = np.array(
        [[-1, t, 0], [1, t, 0], [-1, -t, 0], [1, -t, 0], [0, -1, t], [0, 1, t],
         [0, -1, -t], [0, 1, -t], [t, 0, -1], [t, 0, 1], [-t, 0, -1], [-t, 0, 1]],
        dtype=np.float64,
    )  # fmt: skip
    f = np.array(
        [[0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11], [1, 5, 9], [5, 11, 4],
         [11, 10, 2], [10, 7, 6], [7, 1, 8], [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8],
         [3, 8, 9], [4, 9, 5], [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1]],
        dtype=np.int64,
    )  # fmt: skip
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    for _ in range(max(subdivisions, 0)):
        edges = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)
        uniq, inv = np.unique(edges, axis=0, return_inverse=True)
        mid = v[uniq[:, 0]] + v[uniq[:, 1]]
        mid /= np.linalg.norm(mid, axis=1, keepdims=True)
        m = len(v) + inv.reshape(3, -1).T  # F x 3: midpoints of edges 01, 12, 20
        v = np.concatenate([v, mid])
        f = np.concatenate(
            [
                np.stack([f[:, 0], m[:, 0], m[:, 2]], axis=1),
                np.stack([f[:, 1], m[:, 1], m[:, 0]], axis=1),
                np.stack([f[:, 2], m[:, 2], m[:, 1]], axis=1),
                m,
            ]
        )
    return v, f


def capsule_mesh(
    a: ArrayLike, b: ArrayLike, radius: float, segments: int = 16, rings: int = 4
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Closed capsule (cylinder with hemispherical caps) from ``a`` to ``b``.

    Parameters
    ----------
    a, b : (3,) array_like
        Axis end points, metres.
    radius : float
        Radius, metres.
    segments : int
        Vertices around the axis.
    rings : int
        Latitude rings per hemispherical cap.

    Returns
    -------
    vertices : (V, 3) ndarray
    faces : (F, 3) ndarray of int64
    """
    pa = np.asarray(a, dtype=np.float64).reshape(3)
    pb = np.asarray(b, dtype=np.float64).reshape(3)
    if not radius > 0:
        raise ValueError(f"radius: must be > 0, got {radius}")
    axis = pb - pa
    length = float(np.linalg.norm(axis))
    z = axis / length if length > 1e-12 else np.array([0.0, 0.0, 1.0])
    helper = np.array([1.0, 0.0, 0.0]) if abs(z[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    # Latitudes from the bottom pole (at a) to the top pole (at b); the equator rings repeat
    # at both ends of the cylinder.
    lat = np.linspace(-np.pi / 2, 0.0, rings + 1)
    lats = np.concatenate([lat, -lat[::-1]])
    offs = np.concatenate([np.zeros(rings + 1), np.full(rings + 1, length)])
    phi = np.linspace(0.0, 2 * np.pi, segments, endpoint=False)
    rows = []
    for la, off in zip(lats, offs, strict=True):
        ring = (
            np.cos(la) * (np.cos(phi)[:, None] * x + np.sin(phi)[:, None] * y)
            + np.sin(la) * z
        )
        rows.append(pa + off * z + radius * ring)
    v = np.concatenate(rows)
    n_rows = len(rows)
    faces = []
    for r in range(n_rows - 1):
        for s in range(segments):
            i0 = r * segments + s
            i1 = r * segments + (s + 1) % segments
            faces.append([i0, i1, i0 + segments])
            faces.append([i1, i1 + segments, i0 + segments])
    return v, np.asarray(faces, dtype=np.int64)


def merge_meshes(
    meshes: Sequence[tuple[ArrayLike, ArrayLike]],
    colors: Sequence[Any] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
    """Concatenate meshes into one, with one colour per face.

    Parameters
    ----------
    meshes : sequence of (vertices (V_i, 3), faces (F_i, 3))
    colors : sequence of (3,) colours, optional
        One RGB colour in [0, 1] per mesh; default ``DEFAULT_COLOR``.

    Returns
    -------
    vertices : (sum V_i, 3) ndarray
    faces : (sum F_i, 3) ndarray of int64
    face_colors : (sum F_i, 3) ndarray
    """
    if colors is not None and len(colors) != len(meshes):
        raise ValueError(f"colors: expected {len(meshes)} colours, got {len(colors)}")
    vs, fs, cs = [], [], []
    base = 0
    for k, (v, f) in enumerate(meshes):
        v = _check_points(v, f"meshes[{k}] vertices")
        f = np.asarray(f, dtype=np.int64)
        vs.append(v)
        fs.append(f + base)
        col = DEFAULT_COLOR if colors is None else colors[k]
        cs.append(_face_colors(col, len(f)))
        base += len(v)
    return np.concatenate(vs), np.concatenate(fs), np.concatenate(cs)
