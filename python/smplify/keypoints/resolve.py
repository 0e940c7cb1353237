"""Resolving a keypoint format against one body model: which joint, vertex regressor row or
nothing each keypoint becomes, and its default weight."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .formats import (
    _JOINT_INDEX,
    BLENDED_KEYPOINTS,
    JOINT_NAMES,
    SMPL_NUM_VERTICES,
    SMPL_VERTEX_IDS,
    KeypointFormat,
    get_format,
)


@dataclass(frozen=True, eq=False)
class ResolvedFormat:
    """A keypoint format matched against one body model.

    Each keypoint k is exactly one of: an SMPL joint (``joint_index[k] >= 0``), a surface point
    given by a sparse vertex regressor row (``vertex_ids[k]``, ``vertex_weights[k]``; position =
    Σ vertex_weights · posed vertices[vertex_ids]), or unavailable (``target_names[k] is None``,
    weight 0). A keypoint may be resolved and still have weight 0 (e.g. hips on the official SMPL
    model): its model position is known, for camera initialisation and pictures, but it does
    not enter the data term by default.

    Attributes
    ----------
    format : KeypointFormat
    num_vertices : int
        N, the model's vertex count.
    target_names : tuple of (str or None), length K
        The target used for each keypoint.
    joint_index : (K,) int64
        SMPL joint 0..23, or -1 when the keypoint is not a joint.
    model_keypoint_index : (K,) int64
        Row of the model's own ``keypoint_regressor`` used, or -1 (also for a blended
        keypoint, which blends several rows).
    vertex_ids : tuple of (n_k,) int64 arrays, length K
        Vertices of the surface keypoint's regressor row (empty for joints and unavailable
        keypoints, and for model keypoints when no regressor was passed to ``resolve_format``).
    vertex_weights : tuple of (n_k,) float64 arrays, length K
        The matching regressor weights.
    weights : (K,) float64
        Default weight of each keypoint: the chosen target's weight, 0 if unavailable.
    """

    format: KeypointFormat
    num_vertices: int
    target_names: tuple[str | None, ...]
    joint_index: NDArray[np.int64]
    model_keypoint_index: NDArray[np.int64]
    vertex_ids: tuple[NDArray[np.int64], ...]
    vertex_weights: tuple[NDArray[np.float64], ...]
    weights: NDArray[np.float64]

    @cached_property
    def available(self) -> NDArray[np.bool_]:
        """(K,) bool, read-only: the model has a point for this keypoint (computed once: a
        fit reads it every frame)."""
        out = np.array([t is not None for t in self.target_names], dtype=bool)
        out.flags.writeable = False
        return out

    @property
    def surface_vertex_ids(self) -> NDArray[np.int64]:
        """(U,) int64: sorted union of the vertices used by all surface keypoints."""
        if not any(len(v) for v in self.vertex_ids):
            return np.zeros(0, dtype=np.int64)
        return np.unique(np.concatenate(self.vertex_ids))

    def surface_regressor(self) -> NDArray[np.float64]:
        """(K, U) float64 regressor over ``surface_vertex_ids`` (zero rows for non-surface).

        Posed surface keypoints = ``surface_regressor() @ vertices[surface_vertex_ids]``, so only
        those U vertices need skinning.
        """
        used = self.surface_vertex_ids
        out = np.zeros((self.format.num_keypoints, used.size), dtype=np.float64)
        for k, (ids, w) in enumerate(zip(self.vertex_ids, self.vertex_weights, strict=True)):
            np.add.at(out[k], np.searchsorted(used, ids), w)
        return out

    def keypoint_positions(self, joints: ArrayLike, vertices: ArrayLike) -> NDArray[np.float64]:
        """Model positions of the format's keypoints.

        Parameters
        ----------
        joints : (24, 3) array
            Posed SMPL joints.
        vertices : (N, 3) array
            Posed mesh vertices (same frame and units as ``joints``).

        Returns
        -------
        (K, 3) float64
            One row per keypoint; NaN for unavailable keypoints.
        """
        j = np.asarray(joints, dtype=np.float64)
        v = np.asarray(vertices, dtype=np.float64)
        if j.shape != (len(JOINT_NAMES), 3):
            raise ValueError(f"joints: expected shape (24, 3), got {j.shape}")
        if v.shape != (self.num_vertices, 3):
            raise ValueError(f"vertices: expected shape ({self.num_vertices}, 3), got {v.shape}")
        out = np.full((self.format.num_keypoints, 3), np.nan)
        for k, target in enumerate(self.target_names):
            if target is None:
                continue
            if self.joint_index[k] >= 0:
                out[k] = j[self.joint_index[k]]
            elif len(self.vertex_ids[k]):
                # einsum, not BLAS: the same bits whatever BLAS's thread count (fixed_order)
                out[k] = np.einsum("v,vc->c", self.vertex_weights[k], v[self.vertex_ids[k]])
            else:
                raise ValueError(
                    f"keypoint {self.format.keypoint_names[k]!r} uses the model's keypoint "
                    f"{target!r}: pass keypoint_regressor to resolve_format to evaluate it"
                )
        return out


def _as_regressor(
    keypoint_regressor: Any, num_names: int, num_vertices: int
) -> NDArray[np.float64]:
    reg = keypoint_regressor
    if hasattr(reg, "toarray"):  # scipy sparse
        reg = reg.toarray()
    try:
        reg = np.asarray(reg, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError("keypoint_regressor: expected a numeric (M, N) array") from None
    if reg.shape != (num_names, num_vertices):
        raise ValueError(
            f"keypoint_regressor: expected shape ({num_names}, {num_vertices}) "
            f"(len(model_keypoint_names), num_vertices), got {reg.shape}"
        )
    if not np.all(np.isfinite(reg)):
        raise ValueError("keypoint_regressor: contains non-finite values")
    return reg


def _sparse_row(reg: NDArray[np.float64], m: int, name: str
                ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    (nz,) = np.nonzero(reg[m])
    if nz.size == 0:
        raise ValueError(f"keypoint_regressor: row {m} ({name!r}) is all zero")
    return nz.astype(np.int64), reg[m, nz].copy()


def _blended_row(parts: Sequence[tuple[str, float]], model_index: dict[str, int],
                 reg: NDArray[np.float64] | None
                 ) -> tuple[NDArray[np.int64], NDArray[np.float64]] | None:
    """A blended keypoint's regressor row (Σ share · part's row) as sparse vertex ids and
    weights; None when the model lacks a part; empty arrays when it has them all but no
    regressor was passed."""
    if not all(part in model_index for part, _ in parts):
        return None
    if reg is None:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    rows = [_sparse_row(reg, model_index[part], part) for part, _ in parts]
    ids = np.unique(np.concatenate([i for i, _ in rows]))
    weights = np.zeros(ids.size, dtype=np.float64)
    for (part_ids, part_w), (_, share) in zip(rows, parts, strict=True):
        np.add.at(weights, np.searchsorted(ids, part_ids), share * part_w)
    return ids, weights


def resolve_format(
    fmt_name: str | KeypointFormat,
    model_keypoint_names: Sequence[str] = (),
    num_vertices: int = SMPL_NUM_VERTICES,
    keypoint_regressor: ArrayLike | None = None,
) -> ResolvedFormat:
    """Match a keypoint format to a body model.

    For each detector keypoint, the first candidate target the model has is used: an SMPL joint
    (every SMPL-format model has all 24), else a surface keypoint from the model's own
    regressors (``model_keypoint_names``), else a blended keypoint whose parts are all among
    them (``BLENDED_KEYPOINTS``: one row, the parts' rows blended), else, on the official SMPL
    topology only
    (``num_vertices == 6890``), a vertex of ``SMPL_VERTEX_IDS``. A keypoint with no such target is
    unavailable and gets weight 0.

    Parameters
    ----------
    fmt_name : str or KeypointFormat
        A name of ``format_names()`` or a custom format.
    model_keypoint_names : sequence of str, length M
        Names of the model's surface keypoint regressors (the model file's ``keypoint_names``);
        empty for a model without any.
    num_vertices : int
        N, the model's vertex count.
    keypoint_regressor : (M, N) array or scipy sparse matrix, optional
        The model's ``keypoint_regressor``; when given, the rows used become sparse vertex rows
        (``vertex_ids``, ``vertex_weights``). Without it, keypoints resolved to the model's
        regressors only carry ``model_keypoint_index``.

    Returns
    -------
    ResolvedFormat
    """
    fmt = get_format(fmt_name)
    if isinstance(num_vertices, bool) or not isinstance(num_vertices, (int, np.integer)):
        raise TypeError(f"num_vertices: expected an int, got {type(num_vertices).__name__}")
    if num_vertices <= 0:
        raise ValueError(f"num_vertices: expected a positive vertex count, got {num_vertices}")
    if isinstance(model_keypoint_names, str):
        raise TypeError("model_keypoint_names: expected a sequence of str, got one str")
    names = [str(n) if isinstance(n, (str, np.str_)) else n for n in model_keypoint_names]
    if not all(isinstance(n, str) for n in names):
        raise TypeError("model_keypoint_names: expected a sequence of str")
    if len(set(names)) != len(names):
        raise ValueError("model_keypoint_names: duplicate names")
    model_index = {n: i for i, n in enumerate(names)}
    reg = None
    if keypoint_regressor is not None:
        reg = _as_regressor(keypoint_regressor, len(names), int(num_vertices))
    official_smpl = num_vertices == SMPL_NUM_VERTICES

    K = fmt.num_keypoints
    target_names: list[str | None] = [None] * K
    joint_index = np.full(K, -1, dtype=np.int64)
    model_kp_index = np.full(K, -1, dtype=np.int64)
    empty_i = np.zeros(0, dtype=np.int64)
    empty_w = np.zeros(0, dtype=np.float64)
    vertex_ids = [empty_i] * K
    vertex_weights = [empty_w] * K
    weights = np.zeros(K, dtype=np.float64)
    for k, cands in enumerate(fmt.targets):
        for name, weight in cands:
            if name in _JOINT_INDEX:
                joint_index[k] = _JOINT_INDEX[name]
            elif name in model_index:
                m = model_index[name]
                model_kp_index[k] = m
                if reg is not None:
                    vertex_ids[k], vertex_weights[k] = _sparse_row(reg, m, name)
            elif name in BLENDED_KEYPOINTS:
                row = _blended_row(BLENDED_KEYPOINTS[name], model_index, reg)
                if row is None:
                    continue
                vertex_ids[k], vertex_weights[k] = row
            elif official_smpl and name in SMPL_VERTEX_IDS:
                vertex_ids[k] = np.array([SMPL_VERTEX_IDS[name]], dtype=np.int64)
                vertex_weights[k] = np.ones(1, dtype=np.float64)
            else:
                continue
            target_names[k] = name
            weights[k] = weight
            break
    return ResolvedFormat(
        format=fmt,
        num_vertices=int(num_vertices),
        target_names=tuple(target_names),
        joint_index=joint_index,
        model_keypoint_index=model_kp_index,
        vertex_ids=tuple(vertex_ids),
        vertex_weights=tuple(vertex_weights),
        weights=weights,
    )

